/**
 * /healthz (nats-server 2.10's healthz): `{"status":"ok"}` while the server accepts clients; otherwise
 * `status` "unavailable" (or "error" for a bad request or a server not ready) with the reason in `error`,
 * or, with `details`, every reason in `errors` (typed: CONNECTION, BAD_REQUEST, JETSTREAM, ACCOUNT, STREAM,
 * CONSUMER). `account`, `stream` and `consumer` ask about one JetStream asset: 404 when it is not there.
 * `status_code` is the HTTP status; the HTTP answer carries it as its status and leaves it out of the body,
 * the system request (`$SYS.REQ.SERVER.PING.HEALTHZ`) includes it.
 */
import { publicConsumers } from '../jetstream/consumer/registry.js';
import { decodeBool } from './format.js';
import type { MonitoredServer, MonitorState } from './state.js';

/** nats-server's HealthZErrorType, as it marshals it. */
export type HealthzErrorType = 'CONNECTION' | 'BAD_REQUEST' | 'JETSTREAM' | 'ACCOUNT' | 'STREAM' | 'CONSUMER';

/** One reason for ill health (nats-server's HealthzError). */
export interface HealthzError {
  type: HealthzErrorType;
  account?: string;
  stream?: string;
  consumer?: string;
  error?: string;
}

export interface HealthStatus {
  status: 'ok' | 'unavailable' | 'error';
  status_code?: number;
  error?: string;
  errors?: HealthzError[];
}

export interface HealthzOptions {
  jsEnabledOnly: boolean;
  jsServerOnly: boolean;
  /** One JetStream account (and stream, and consumer) to check. */
  account: string;
  stream: string;
  consumer: string;
  /** Every reason, typed, in `errors` instead of the first one in `error`. */
  details: boolean;
}

export function parseHealthzQuery(q: URLSearchParams): HealthzOptions {
  const jsEnabled = decodeBool(q, 'js-enabled');
  const jsEnabledOnly = decodeBool(q, 'js-enabled-only');
  const jsServerOnly = decodeBool(q, 'js-server-only');
  return {
    jsEnabledOnly: jsEnabled || jsEnabledOnly,
    jsServerOnly,
    account: q.get('account') ?? '',
    stream: q.get('stream') ?? '',
    consumer: q.get('consumer') ?? '',
    details: decodeBool(q, 'details'),
  };
}

/** The options of a system request (nats-server's HealthzOptions JSON). */
export function healthzOptionsFromJson(o: Record<string, unknown>): HealthzOptions {
  const text = (k: string): string => (typeof o[k] === 'string' ? (o[k] as string) : '');
  return {
    jsEnabledOnly: o['js-enabled'] === true || o['js-enabled-only'] === true,
    jsServerOnly: o['js-server-only'] === true,
    account: text('account'),
    stream: text('stream'),
    consumer: text('consumer'),
    details: o.details === true,
  };
}

/** A failed check: its HTTP status, its status text without details, and the error. */
interface Failure {
  code: number;
  status: 'unavailable' | 'error';
  error: HealthzError & { error: string };
}

function failure(
  code: number,
  type: HealthzErrorType,
  error: string,
  asset: Partial<HealthzError> = {},
): Failure {
  return {
    code,
    status: code === 400 || code === 500 ? 'error' : 'unavailable',
    error: { type, ...asset, error },
  };
}

export function healthz(
  server: MonitoredServer,
  state: MonitorState,
  opts: Partial<HealthzOptions> = {},
): HealthStatus {
  const f = firstFailure(server, state, opts);
  if (f === undefined) return { status: 'ok', status_code: 200 };
  if (opts.details === true) return { status: 'error', status_code: f.code, errors: [f.error] };
  return { status: f.status, status_code: f.code, error: f.error.error };
}

/** The checks in nats-server's order; the first that fails decides. */
function firstFailure(
  server: MonitoredServer,
  state: MonitorState,
  opts: Partial<HealthzOptions>,
): Failure | undefined {
  const account = opts.account ?? '';
  const stream = opts.stream ?? '';
  const consumer = opts.consumer ?? '';
  if (account === '' && stream !== '')
    return failure(400, 'BAD_REQUEST', '"account" must not be empty when checking stream health');
  if (stream === '' && consumer !== '')
    return failure(400, 'BAD_REQUEST', '"stream" must not be empty when checking consumer health');
  if (state.stopping) return failure(503, 'CONNECTION', 'server is shutting down');
  if (server.port === 0) return failure(500, 'CONNECTION', 'server is not ready for connections');
  for (const check of state.healthChecks.values()) {
    const err = check();
    if (err !== '') return failure(503, 'JETSTREAM', err);
  }
  const js = server.jetstream;
  if (js === undefined || opts.jsEnabledOnly === true) return undefined;
  const cluster = js.cluster;
  if (cluster !== undefined) {
    // Clustered JetStream: a meta leader, current with it, and current replicas (the first that is not).
    const err = cluster.health(opts.jsServerOnly === true);
    if (err === '') return undefined;
    const [acc, name] = /^JetStream stream '(.*) > (.*)' is not current/.exec(err)?.slice(1) ?? [];
    if (acc !== undefined && name !== undefined)
      return failure(503, 'STREAM', err, { account: acc, stream: name });
    return failure(503, 'JETSTREAM', err);
  }
  if (account === '') return undefined;
  // A single server: the asset asked about must be there.
  const jsa = js.accounts.get(account);
  if (jsa === undefined)
    return failure(404, 'ACCOUNT', `JetStream account ${JSON.stringify(account)} not found`, { account });
  if (stream === '') return undefined;
  const st = jsa.streams.get(stream);
  if (st === undefined) {
    const err = `JetStream stream ${JSON.stringify(stream)} not found on account ${JSON.stringify(account)}`;
    return failure(404, 'STREAM', err, { account, stream });
  }
  if (consumer !== '' && !publicConsumers(st).some((c) => c.name === consumer)) {
    const err = `JetStream consumer ${JSON.stringify(consumer)} not found for stream ${JSON.stringify(stream)} on account ${JSON.stringify(account)}`;
    return failure(404, 'CONSUMER', err, { account, stream, consumer });
  }
  return undefined;
}
