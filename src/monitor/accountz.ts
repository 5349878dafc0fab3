/**
 * /accountz: the server's accounts, or one account's detail with `acc=`; /accstatz: per-account traffic.
 * `system_account` names the system account (left out with `no_system_account`, as nats-server omits it).
 */
import type { AccountClaims } from '../auth/jwt.js';
import type { MappingDestination } from '../routing/mapping.js';
import type { Account } from '../server/account.js';
import {
  type ExtExport,
  type ExtImport,
  exportsOf,
  importsOf,
  mappingsOf,
  responsesOf,
} from './accountz-detail.js';
import { BadRequest, decodeBool, rfc3339 } from './format.js';
import { accountsOf, type MonitoredServer } from './state.js';
import { type SublistStatsJson, sublistStats } from './subsz.js';

/**
 * nats-server's AccountInfo. Not shown: `validation_result_jwt` (jwt's validation issues) and the
 * system service imports and exports nats-server wires into every account (tsnats has none).
 */
export interface AccountInfo {
  account_name: string;
  update_time: string;
  is_system?: boolean;
  expired: boolean;
  complete: boolean;
  jetstream_enabled: boolean;
  leafnode_connections: number;
  client_connections: number;
  subscriptions: number;
  mappings?: Record<string, MappingDestination[]>;
  exports?: ExtExport[];
  imports?: ExtImport[];
  /**
   * Operator mode: the account JWT, its signer, name and tags, its claims decoded, and the revoked
   * users (RFC 3339 times).
   */
  jwt?: string;
  issuer_key?: string;
  name_tag?: string;
  tags?: string[];
  decoded_jwt?: AccountClaims;
  revoked_user?: Record<string, string>;
  sublist_stats: SublistStatsJson;
  /** Reply mappings of requests that crossed into this account (accountz-detail.ts). */
  responses?: Record<string, ExtImport>;
}

export interface Accountz {
  server_id: string;
  now: string;
  system_account?: string;
  accounts?: string[];
  account_detail?: AccountInfo;
}

export interface AccountzOptions {
  account: string;
}

export function parseAccountzQuery(q: URLSearchParams): AccountzOptions {
  return { account: q.get('acc') ?? '' };
}

function clientCount(server: MonitoredServer, acc: Account): number {
  let n = 0;
  for (const c of server.clients.values()) if (c.account === acc) n++;
  return n;
}

export function accountz(server: MonitoredServer, opts: Partial<AccountzOptions> = {}): Accountz {
  const now = rfc3339(Date.now());
  const name = opts.account ?? '';
  const accounts = accountsOf(server);
  if (name === '') {
    const sys = server.options.noSystemAccount ? {} : { system_account: server.options.systemAccount };
    return { server_id: server.id, now, ...sys, accounts: accounts.map((a) => a.name) };
  }
  const acc = accounts.find((a) => a.name === name);
  if (acc === undefined) throw new BadRequest(`Account ${name} does not exist`);
  const sys = server.systemAccount === acc;
  const detail: AccountInfo = {
    account_name: acc.name,
    update_time: rfc3339(acc.updateTime ?? server.startTime),
    ...(sys ? { is_system: true } : {}),
    expired: false,
    complete: true,
    jetstream_enabled: server.jetstream?.lookupAccount(acc.name) !== undefined,
    leafnode_connections: 0,
    client_connections: clientCount(server, acc),
    subscriptions: acc.sublist.count(),
    ...defined({
      mappings: mappingsOf(acc),
      exports: exportsOf(acc, server.authorizationConfig),
      imports: importsOf(acc, accounts),
    }),
    ...jwtDetail(acc),
    sublist_stats: sublistStats(server, acc.name),
    ...defined({ responses: responsesOf(acc) }),
  };
  return {
    server_id: server.id,
    now,
    ...(server.options.noSystemAccount ? {} : { system_account: server.options.systemAccount }),
    account_detail: detail,
  };
}

/** An account made from a JWT: the fields nats-server's AccountInfo adds for it. */
function jwtDetail(acc: Account): Partial<AccountInfo> {
  const t = acc.jwt;
  if (t === undefined) return {};
  const out: Partial<AccountInfo> = { jwt: t.jwt, issuer_key: t.claims.iss };
  if (t.claims.name !== undefined && t.claims.name !== '') out.name_tag = t.claims.name;
  if ((t.claims.nats.tags?.length ?? 0) > 0) out.tags = [...t.claims.nats.tags!];
  // The claims as the JWT has them (nats-server decodes and encodes them again: the same fields).
  out.decoded_jwt = t.claims;
  // Go writes a map's keys sorted.
  const revs = Object.entries(t.claims.nats.revocations ?? {}).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  if (revs.length > 0) {
    out.revoked_user = Object.fromEntries(revs.map(([k, ts]) => [k, rfc3339(new Date(ts * 1000))]));
  }
  return out;
}

/** `o` without its undefined fields (Go's omitempty). */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Messages and bytes (nats-server's DataStats). */
export interface DataStats {
  msgs: number;
  bytes: number;
}

/** One account's traffic (nats-server's AccountStat). */
export interface AccountStat {
  acc: string;
  conns: number;
  leafnodes: number;
  total_conns: number;
  /** nats-server 2.10 (Account.numSubscriptionsReported). */
  num_subscriptions: number;
  sent: DataStats;
  received: DataStats;
  slow_consumers: number;
}

export interface AccountStatz {
  server_id: string;
  now: string;
  account_statz: AccountStat[];
}

export interface AccountStatzOptions {
  /** Include accounts without connections. */
  unused: boolean;
}

export function parseAccountStatzQuery(q: URLSearchParams): AccountStatzOptions {
  return { unused: decodeBool(q, 'unused') };
}

/**
 * /accstatz (nats-server's Account.statz): each account's connections and leafs, what its clients and
 * leafs published (`received`) and the deliveries those messages made (`sent`), counted by the server
 * as they happen. Slow consumers are not counted per account: they are the account's open and recently
 * closed connections cut off as such.
 */
export function accountStatz(server: MonitoredServer, opts: Partial<AccountStatzOptions> = {}): AccountStatz {
  const accounts = accountsOf(server);
  const out: AccountStat[] = [];
  for (const acc of accounts) {
    const conns = clientCount(server, acc);
    const leafs = server.leafsOf(acc);
    if (!opts.unused && conns === 0) continue;
    const m = acc.msgStats;
    const st: AccountStat = {
      acc: acc.name,
      conns,
      leafnodes: leafs,
      total_conns: conns + leafs,
      num_subscriptions: acc.numSubscriptionsReported(),
      sent: { msgs: m.outMsgs, bytes: m.outBytes },
      received: { msgs: m.inMsgs, bytes: m.inBytes },
      slow_consumers: server.closedClients.filter(
        (x) => x.accountName === acc.name && x.closeReason.startsWith('Slow Consumer'),
      ).length,
    };
    out.push(st);
  }
  return { server_id: server.id, now: rfc3339(Date.now()), account_statz: out };
}
