/**
 * /healthz: 200 `{"status":"ok"}` while the server accepts clients; 503 with `status` "unavailable" and
 * the reason otherwise (shutting down, or a failing registered check).
 */
import { decodeBool } from './format.js';
import type { MonitoredServer, MonitorState } from './state.js';

export interface HealthStatus {
  status: 'ok' | 'unavailable';
  error?: string;
}

export interface HealthzOptions {
  jsEnabledOnly: boolean;
  jsServerOnly: boolean;
}

export function parseHealthzQuery(q: URLSearchParams): HealthzOptions {
  const jsEnabled = decodeBool(q, 'js-enabled');
  const jsEnabledOnly = decodeBool(q, 'js-enabled-only');
  const jsServerOnly = decodeBool(q, 'js-server-only');
  return { jsEnabledOnly: jsEnabled || jsEnabledOnly, jsServerOnly };
}

export function healthz(
  server: MonitoredServer,
  state: MonitorState,
  opts: Partial<HealthzOptions> = {},
): HealthStatus {
  if (state.stopping) return { status: 'unavailable', error: 'server is shutting down' };
  if (server.port === 0) return { status: 'unavailable', error: 'server is not ready for connections' };
  for (const check of state.healthChecks.values()) {
    const err = check();
    if (err !== '') return { status: 'unavailable', error: err };
  }
  // Clustered JetStream (nats-server's healthz): a meta leader, current with it, and current replicas.
  const cluster = server.jetstream?.cluster;
  if (cluster !== undefined && opts.jsEnabledOnly !== true) {
    const err = cluster.health(opts.jsServerOnly === true);
    if (err !== '') return { status: 'unavailable', error: err };
  }
  return { status: 'ok' };
}
