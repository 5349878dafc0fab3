/** /leafz: leafnode connections. None exist in tsnats yet: nats-server's answer with no leafnodes. */
import { decodeBool, rfc3339 } from './format.js';
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

export function leafz(server: MonitoredServer, _opts: Partial<LeafzOptions> = {}): Leafz {
  return { server_id: server.id, now: rfc3339(Date.now()), leafnodes: 0, leafs: null };
}
