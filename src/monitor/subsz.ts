/**
 * /subsz (alias /subscriptionsz): the subscription index's statistics, optionally with the subscriptions
 * themselves (`subs=1`), paginated and filtered by a publish subject (`test=`), as nats-server 2.9 does.
 */
import { isValidLiteralSubject, matchLiteral } from '../routing/subject.js';
import { wireToText } from '../routing/subject-text.js';
import type { SubDetail } from './connz.js';
import { BadRequest, decodeBool, decodeInt, rfc3339 } from './format.js';
import { accountsOf, type MonitoredServer } from './state.js';

/** nats-server's DefaultSubListSize. */
export const DEFAULT_SUB_LIST_SIZE = 1024;

/** nats-server's SublistStats, summed over accounts. */
export interface SublistStatsJson {
  num_subscriptions: number;
  num_cache: number;
  num_inserts: number;
  num_removes: number;
  num_matches: number;
  cache_hit_rate: number;
  max_fanout: number;
  avg_fanout: number;
}

export interface Subsz extends SublistStatsJson {
  server_id: string;
  now: string;
  /** Number of subscriptions in this page (nats-server's meaning). */
  total: number;
  offset: number;
  limit: number;
  subscriptions_list?: SubDetail[];
}

export interface SubszOptions {
  subs: boolean;
  offset: number;
  limit: number;
  /** Only subscriptions a message published on this literal subject would reach. */
  test: string;
  /** Only this account. */
  acc: string;
}

export function parseSubszQuery(q: URLSearchParams): SubszOptions {
  const subs = decodeBool(q, 'subs');
  const offset = decodeInt(q, 'offset');
  const limit = decodeInt(q, 'limit');
  return { subs, offset, limit, test: q.get('test') ?? '', acc: q.get('acc') ?? '' };
}

/** Sum of the accounts' sublist stats, combined as nats-server's SublistStats.add does. */
export function sublistStats(server: MonitoredServer, acc = ''): SublistStatsJson {
  const out: SublistStatsJson = {
    num_subscriptions: 0,
    num_cache: 0,
    num_inserts: 0,
    num_removes: 0,
    num_matches: 0,
    cache_hit_rate: 0,
    max_fanout: 0,
    avg_fanout: 0,
  };
  let hits = 0;
  let totFanout = 0;
  for (const a of accountsOf(server)) {
    if (acc !== '' && a.name !== acc) continue;
    const s = a.sublist.stats();
    // The server's own subscriptions (system requests, JetStream) are not clients' interest.
    out.num_subscriptions += s.numSubscriptions - a.internalSubs;
    out.num_cache += s.numCache;
    out.num_inserts += s.numInserts;
    out.num_removes += s.numRemoves;
    out.num_matches += s.numMatches;
    hits += s.cacheHitRate * s.numMatches;
    totFanout += s.avgFanout * s.numCache;
    if (s.maxFanout > out.max_fanout) out.max_fanout = s.maxFanout;
  }
  if (out.num_matches > 0) out.cache_hit_rate = Math.round(hits) / out.num_matches;
  if (totFanout > 0) out.avg_fanout = Math.round(totFanout) / out.num_cache;
  return out;
}

/**
 * Compute /subsz. Without `subs`, or when the page is empty, nats-server answers with the bare stats (no
 * server_id, no paging fields); this returns the same.
 */
export function subsz(server: MonitoredServer, opts: Partial<SubszOptions> = {}): Subsz | SublistStatsJson {
  const o: SubszOptions = { subs: false, offset: 0, limit: 0, test: '', acc: '', ...opts };
  const offset = o.offset < 0 ? 0 : o.offset;
  const limit = o.limit <= 0 ? DEFAULT_SUB_LIST_SIZE : o.limit;
  if (o.test !== '' && !isValidLiteralSubject(o.test)) {
    throw new BadRequest(`invalid test subject, must be valid publish subject: ${o.test}`);
  }
  const stats = sublistStats(server, o.acc);
  if (!o.subs) return stats;
  const details: SubDetail[] = [];
  for (const a of accountsOf(server)) {
    if (o.acc !== '' && a.name !== o.acc) continue;
    for (const sub of a.sublist.all()) {
      // Client subscriptions only: a route's interest has no client (nats-server's localSubs).
      if (sub.client === undefined) continue;
      if (o.test !== '' && !matchLiteral(o.test, sub.subject)) continue;
      details.push({
        account: a.name,
        subject: wireToText(sub.subject),
        ...(sub.queue !== undefined && sub.queue !== '' ? { qgroup: wireToText(sub.queue) } : {}),
        sid: sub.sid,
        msgs: sub.nm,
        ...(sub.max > 0 ? { max: sub.max } : {}),
        cid: sub.client.cid,
      });
    }
  }
  const page = details.slice(Math.min(offset, details.length), Math.min(offset + limit, details.length));
  if (page.length === 0) return stats;
  return {
    server_id: server.id,
    now: rfc3339(Date.now()),
    ...stats,
    total: page.length,
    offset,
    limit,
    subscriptions_list: page,
  };
}
