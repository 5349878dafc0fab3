/** /routez: cluster routes. tsnats has no clustering yet, so this is nats-server's answer with no routes. */
import type { Server } from '../server/server.js';
import type { SubDetail } from './connz.js';
import { decodeSubs, rfc3339 } from './format.js';

/** One route (nats-server's RouteInfo); none exist until clustering does. */
export interface RouteInfo {
  rid: number;
  remote_id: string;
  did_solicit: boolean;
  is_configured: boolean;
  ip: string;
  port: number;
  start: string;
  last_activity: string;
  rtt?: string;
  uptime: string;
  idle: string;
  pending_size: number;
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
  subscriptions: number;
  subscriptions_list?: string[];
  subscriptions_list_detail?: SubDetail[];
}

export interface Routez {
  server_id: string;
  now: string;
  num_routes: number;
  routes: RouteInfo[];
}

export interface RoutezOptions {
  subs: boolean;
  subsDetail: boolean;
}

export function parseRoutezQuery(q: URLSearchParams): RoutezOptions {
  const { subs, detail } = decodeSubs(q);
  return { subs, subsDetail: detail };
}

export function routez(server: Server, _opts: Partial<RoutezOptions> = {}): Routez {
  return { server_id: server.id, now: rfc3339(Date.now()), num_routes: 0, routes: [] };
}
