import type { IntervalHistogram } from 'node:perf_hooks';
import type { RouteManager } from '../cluster/routes.js';
import type { JetStream } from '../jetstream/jetstream.js';
import type { LeafNodeManager } from '../leafnode/leafnodes.js';
import type { Account } from '../server/account.js';
import type { ServerCore } from '../server/core.js';
import type { Streaming } from '../streaming/streaming.js';
import type { CpuSampler } from './varz.js';

/** A named readiness check for /healthz: returns an error text when unhealthy, '' when fine. */
export type HealthCheck = () => string;

/** What the endpoints need from the monitor besides the server itself. */
export interface MonitorState {
  /** The address the monitor listens on (`http_host` in /varz). */
  httpHost: string;
  /** Requests served per endpoint path, as nats-server counts them (`http_req_stats`). */
  readonly httpReqStats: Record<string, number>;
  readonly cpu: CpuSampler;
  /** Extra readiness checks; the first failing one makes /healthz answer 503. */
  readonly healthChecks: Map<string, HealthCheck>;
  /** True once shutdown began: /healthz answers 503. */
  stopping: boolean;
  /** Event loop delay since the last /metrics scrape (how long ready work waited for the loop). */
  readonly loopDelay: IntervalHistogram;
}

/** What monitoring sees of a server: its core and the modules it reports on. */
export interface MonitoredServer extends ServerCore {
  readonly cluster: RouteManager | undefined;
  readonly jetstream: JetStream | undefined;
  readonly leafnodes: LeafNodeManager | undefined;
  readonly streaming: Streaming | undefined;
}

/** The server's accounts, the global account included. */
export function accountsOf(server: MonitoredServer): Account[] {
  return server.accounts.size > 0 ? [...server.accounts.values()] : [server.globalAccount];
}
