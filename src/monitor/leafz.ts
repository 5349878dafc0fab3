/** /leafz: the leaf node connections, accepted and solicited, with nats-server's LeafInfo fields. */
import { decodeBool, goDurationMs, rfc3339 } from './format.js';
import type { MonitoredServer } from './state.js';

/** One leafnode connection (nats-server's LeafInfo). */
export interface LeafInfo {
  account: string;
  ip: string;
  port: number;
  rtt?: string;
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
  subscriptions: number;
  subscriptions_list?: string[];
}

export interface Leafz {
  server_id: string;
  now: string;
  leafnodes: number;
  /** `null` when there are none, as nats-server encodes its empty list. */
  leafs: LeafInfo[] | null;
}

export interface LeafzOptions {
  subs: boolean;
  acc: string;
}

export function parseLeafzQuery(q: URLSearchParams): LeafzOptions {
  return { subs: decodeBool(q, 'subs'), acc: q.get('acc') ?? '' };
}

export function leafz(server: MonitoredServer, opts: Partial<LeafzOptions> = {}): Leafz {
  const list = server.leafnodes?.status(opts.acc ?? '') ?? [];
  const leafs: LeafInfo[] = list.map((l) => ({
    account: l.account,
    ip: l.ip,
    port: l.port,
    rtt: goDurationMs(l.rtt),
    in_msgs: l.inMsgs,
    out_msgs: l.outMsgs,
    in_bytes: l.inBytes,
    out_bytes: l.outBytes,
    subscriptions: l.subscriptions.length,
    ...(opts.subs === true ? { subscriptions_list: l.subscriptions } : {}),
  }));
  return {
    server_id: server.id,
    now: rfc3339(Date.now()),
    leafnodes: leafs.length,
    leafs: leafs.length > 0 ? leafs : null,
  };
}
