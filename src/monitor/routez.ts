/** /routez: cluster routes, as nats-server's Routez. */

import { wireToText } from '../routing/subject-text.js';
import type { SubDetail } from './connz.js';
import { decodeSubs, goDurationMs, myUptime, rfc3339 } from './format.js';
import { COMPRESSION_NOT_SUPPORTED } from './leafz.js';
import type { MonitoredServer } from './state.js';

/** One route (nats-server's RouteInfo). */
export interface RouteInfo {
  rid: number;
  remote_id: string;
  /** 2.10: the remote server's name. */
  remote_name: string;
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
  /** 2.10: the route's compression mode; tsnats does not compress routes. */
  compression?: string;
}

export interface Routez {
  server_id: string;
  /** 2.10. */
  server_name: string;
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

export function routez(server: MonitoredServer, opts: Partial<RoutezOptions> = {}): Routez {
  const now = Date.now();
  const statuses =
    server.cluster?.routez({ subs: opts.subs ?? false, subsDetail: opts.subsDetail ?? false }) ?? [];
  const routes = statuses.map((r): RouteInfo => {
    const info: RouteInfo = {
      rid: r.rid,
      remote_id: r.remoteId,
      remote_name: r.remoteName,
      did_solicit: r.didSolicit,
      is_configured: r.isConfigured,
      ip: r.ip,
      port: r.port,
      start: rfc3339(r.start),
      last_activity: rfc3339(r.lastActivity),
      uptime: myUptime(now - r.start.getTime()),
      idle: myUptime(now - r.lastActivity.getTime()),
      pending_size: r.pendingSize,
      in_msgs: r.inMsgs,
      out_msgs: r.outMsgs,
      in_bytes: r.inBytes,
      out_bytes: r.outBytes,
      subscriptions: r.subscriptions,
    };
    if (r.rtt > 0) info.rtt = goDurationMs(r.rtt);
    if (opts.subsDetail && r.subscriptionsDetail !== undefined) {
      info.subscriptions_list_detail = r.subscriptionsDetail.map((d) => ({
        account: d.account,
        subject: wireToText(d.subject),
        ...(d.queue !== undefined ? { qgroup: wireToText(d.queue) } : {}),
        sid: d.sid,
        msgs: 0,
        cid: r.rid,
      }));
    } else if (opts.subs && r.subscriptionsList !== undefined) {
      info.subscriptions_list = r.subscriptionsList.map(wireToText);
    }
    info.compression = COMPRESSION_NOT_SUPPORTED;
    return info;
  });
  return {
    server_id: server.id,
    server_name: server.name,
    now: rfc3339(now),
    num_routes: routes.length,
    routes,
  };
}
