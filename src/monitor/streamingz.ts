/**
 * nats-streaming-server's monitoring endpoints (server/monitor.go), with its JSON:
 *
 *   /streaming/serverz                         cluster ID, state, uptime, clients, channels, totals, counters
 *   /streaming/storez                          store type and limits, totals
 *   /streaming/clientsz[?subs=1][&client=ID]   clients (offset, limit), their subscriptions by channel
 *   /streaming/channelsz[?subs=1][&channel=N]  channel names, or channels with state and subscriptions
 *
 * Durations are nanoseconds and times RFC 3339, as Go's encoding/json writes them. `store` is "FILE" or
 * "MEMORY" (the JetStream storage of the channels); `go` carries the Node.js version.
 */

import { TSNATS_VERSION } from '../server/version.js';
import type { Channel } from '../streaming/channel.js';
import type { Streaming } from '../streaming/streaming.js';
import type { SubState } from '../streaming/subscription.js';
import { BadRequest, decodeInt, myUptime, rfc3339 } from './format.js';

/** nats-streaming-server's defaultMonitorListLimit. */
const LIST_LIMIT = 1024;

export class NotFound extends Error {}

export interface Subscriptionz {
  client_id: string;
  inbox: string;
  ack_inbox: string;
  durable_name?: string;
  queue_name?: string;
  is_durable: boolean;
  is_offline: boolean;
  max_inflight: number;
  ack_wait: number;
  last_sent: number;
  pending_count: number;
  is_stalled: boolean;
}

export interface Clientz {
  id: string;
  hb_inbox: string;
  subs_count: number;
  subscriptions?: Record<string, Subscriptionz[]>;
}

export interface Channelz {
  name: string;
  msgs: number;
  bytes: number;
  first_seq: number;
  last_seq: number;
  subs_count: number;
  subscriptions?: Subscriptionz[];
}

function totals(st: Streaming): { msgs: number; bytes: number } {
  let msgs = 0;
  let bytes = 0;
  for (const ch of st.channels.values()) {
    const b = ch.bounds();
    msgs += b.msgs;
    bytes += b.bytes;
  }
  return { msgs, bytes };
}

export function serverz(st: Streaming): Record<string, unknown> {
  const now = new Date();
  const t = totals(st);
  return {
    cluster_id: st.clusterId,
    server_id: st.serverId,
    version: TSNATS_VERSION,
    go: `node ${process.version}`,
    state: 'STANDALONE',
    now: rfc3339(now),
    start_time: rfc3339(st.startTime),
    uptime: myUptime(now.getTime() - st.startTime.getTime()),
    clients: st.clients.size,
    subscriptions: st.subscriptionCount(),
    channels: st.channels.size,
    total_msgs: t.msgs,
    total_bytes: t.bytes,
    in_msgs: st.stats.inMsgs,
    in_bytes: st.stats.inBytes,
    out_msgs: st.stats.outMsgs,
    out_bytes: st.stats.outBytes,
  };
}

export function storez(st: Streaming): Record<string, unknown> {
  const o = st.options;
  const t = totals(st);
  return {
    cluster_id: st.clusterId,
    server_id: st.serverId,
    now: rfc3339(new Date()),
    type: st.storeType.toUpperCase(),
    limits: {
      max_channels: o.maxChannels,
      max_msgs: o.maxMsgs,
      max_bytes: o.maxBytes,
      max_age: o.maxAge * 1e6,
      max_subscriptions: o.maxSubs,
      max_inactivity: o.maxInactivity * 1e6,
    },
    total_msgs: t.msgs,
    total_bytes: t.bytes,
  };
}

function offsetAndLimit(q: URLSearchParams): [number, number] {
  const offset = Math.max(decodeInt(q, 'offset'), 0);
  const limit = decodeInt(q, 'limit');
  return [offset, limit > 0 ? limit : LIST_LIMIT];
}

function subsOption(q: URLSearchParams): boolean {
  const v = q.get('subs') ?? '';
  if (v === '') return false;
  if (!/^[+-]?\d+$/.test(v)) throw new BadRequest(`invalid subs option ${JSON.stringify(v)}`);
  return Number(v) === 1;
}

function subscriptionz(sub: SubState): Subscriptionz {
  const z: Subscriptionz = {
    client_id: sub.clientId !== '' ? sub.clientId : sub.savedClientId,
    inbox: sub.inbox,
    ack_inbox: sub.ackInbox,
    is_durable: sub.isDurable,
    is_offline: sub.clientId === '',
    max_inflight: sub.maxInFlight,
    ack_wait: sub.ackWaitSecs,
    last_sent: sub.lastSent,
    pending_count: sub.pending.size,
    is_stalled: sub.stalled,
  };
  if (sub.durableName !== '') z.durable_name = sub.durableName;
  if (sub.qgroup !== '') z.queue_name = sub.qgroup;
  // Keep Go's field order: durable_name and queue_name come after ack_inbox.
  return {
    client_id: z.client_id,
    inbox: z.inbox,
    ack_inbox: z.ack_inbox,
    ...(z.durable_name !== undefined ? { durable_name: z.durable_name } : {}),
    ...(z.queue_name !== undefined ? { queue_name: z.queue_name } : {}),
    is_durable: z.is_durable,
    is_offline: z.is_offline,
    max_inflight: z.max_inflight,
    ack_wait: z.ack_wait,
    last_sent: z.last_sent,
    pending_count: z.pending_count,
    is_stalled: z.is_stalled,
  };
}

function clientz(st: Streaming, id: string, subs: boolean): Clientz | undefined {
  const c = st.clients.get(id);
  if (c === undefined) return undefined;
  const z: Clientz = { id: c.id, hb_inbox: c.hbInbox, subs_count: c.subs.size };
  if (subs && c.subs.size > 0) {
    const by: Record<string, Subscriptionz[]> = {};
    for (const sub of c.subs) {
      by[sub.channel.name] ??= [];
      by[sub.channel.name]!.push(subscriptionz(sub));
    }
    z.subscriptions = by;
  }
  return z;
}

export function clientsz(st: Streaming, q: URLSearchParams): unknown {
  const subs = subsOption(q);
  const one = q.get('client') ?? '';
  if (one !== '') {
    const z = clientz(st, one, subs);
    if (z === undefined) throw new NotFound(`Client ${one} not found`);
    return z;
  }
  const [offset, limit] = offsetAndLimit(q);
  const ids = [...st.clients.keys()].sort();
  const page = ids.slice(Math.min(offset, ids.length), Math.min(offset + limit, ids.length));
  const clients = page.map((id) => clientz(st, id, subs)!);
  return {
    cluster_id: st.clusterId,
    server_id: st.serverId,
    now: rfc3339(new Date()),
    offset,
    limit,
    count: clients.length,
    total: ids.length,
    clients,
  };
}

/** nats-streaming-server's getMonitorChannelSubs: online subscribers, offline durables, queue shadows. */
function channelSubs(ch: Channel): SubState[] {
  const out = [...ch.psubs];
  for (const d of ch.durables.values()) if (d.clientId === '') out.push(d);
  for (const qs of ch.qsubs.values()) {
    out.push(...qs.subs);
    if (qs.shadow !== undefined) out.push(qs.shadow);
  }
  return out;
}

function channelz(ch: Channel, subs: boolean): Channelz {
  const b = ch.bounds();
  const list = channelSubs(ch);
  const z: Channelz = {
    name: ch.name,
    msgs: b.msgs,
    bytes: b.bytes,
    first_seq: b.first,
    last_seq: b.last,
    subs_count: list.length,
  };
  if (subs) z.subscriptions = list.map(subscriptionz);
  return z;
}

export function channelsz(st: Streaming, q: URLSearchParams): unknown {
  const subs = subsOption(q);
  const one = q.get('channel') ?? '';
  if (one !== '') {
    const ch = st.channels.get(one);
    if (ch === undefined) throw new NotFound(`Channel ${one} not found`);
    return channelz(ch, subs);
  }
  const [offset, limit] = offsetAndLimit(q);
  const names = [...st.channels.keys()].sort();
  const page = names.slice(Math.min(offset, names.length), Math.min(offset + limit, names.length));
  const out: Record<string, unknown> = {
    cluster_id: st.clusterId,
    server_id: st.serverId,
    now: rfc3339(new Date()),
    offset,
    limit,
    count: page.length,
    total: names.length,
  };
  if (subs) out.channels = page.map((n) => channelz(st.channels.get(n)!, true));
  else if (page.length > 0) out.names = page;
  return out;
}
