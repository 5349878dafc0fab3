/** /leafz: the leaf node connections, accepted and solicited, with nats-server's LeafInfo fields. */

import { wireToText } from '../routing/subject-text.js';
import { decodeBool, goDurationMs, rfc3339 } from './format.js';
import type { MonitoredServer } from './state.js';

/** nats-server 2.10's CompressionNotSupported: what it reports for a peer that cannot compress. */
export const COMPRESSION_NOT_SUPPORTED = 'not supported';

/** One leafnode connection (nats-server's LeafInfo). */
export interface LeafInfo {
  /** 2.10: the remote server's name, and whether this server is the spoke of the connection. */
  name: string;
  is_spoke: boolean;
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
  /** 2.10: the connection's compression mode; tsnats does not compress leaf connections. */
  compression?: string;
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
    name: l.name,
    is_spoke: l.isSpoke,
    account: l.account,
    ip: l.ip,
    port: l.port,
    rtt: goDurationMs(l.rtt),
    in_msgs: l.inMsgs,
    out_msgs: l.outMsgs,
    in_bytes: l.inBytes,
    out_bytes: l.outBytes,
    subscriptions: l.subscriptions.length,
    ...(opts.subs === true ? { subscriptions_list: l.subscriptions.map(wireToText) } : {}),
    compression: COMPRESSION_NOT_SUPPORTED,
  }));
  return {
    server_id: server.id,
    now: rfc3339(Date.now()),
    leafnodes: leafs.length,
    leafs: leafs.length > 0 ? leafs : null,
  };
}
