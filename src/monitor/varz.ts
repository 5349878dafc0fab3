/**
 * /varz: server identity, configuration limits and runtime counters, with nats-server 2.9's `Varz` field
 * names, types and units (durations in nanoseconds, timeouts in seconds, times in RFC 3339).
 */

import { availableParallelism } from 'node:os';
import type { OperatorClaims } from '../auth/jwt.js';
import type { SlowConsumerStats } from '../server/stats.js';
import { VERSION } from '../server/version.js';
import { myUptime, rfc3339 } from './format.js';
import { type JetStreamConfigJson, type JetStreamStatsJson, jetStreamStats } from './jsz.js';
import type { MonitoredServer, MonitorState } from './state.js';

/** nats-server's default TLS handshake timeout in seconds (reported even without TLS). */
const DEFAULT_TLS_TIMEOUT = 2;

/**
 * Gateway, leafnode and MQTT settings: every field of these is `omitempty` in nats-server, so with none
 * of those configured (tsnats has none of them yet) each is `{}`.
 */
export type EmptyOptsVarz = Record<string, never>;

/** Leaf node settings (nats-server's LeafNodeOptsVarz, every field `omitempty`); `{}` without leaf nodes. */
export interface LeafNodeOptsVarz {
  host?: string;
  port?: number;
  /** Seconds. */
  auth_timeout?: number;
  tls_timeout?: number;
  tls_required?: boolean;
  tls_verify?: boolean;
  remotes?: {
    local_account?: string;
    tls_timeout?: number;
    urls?: string[];
    deny?: { exports?: string[]; imports?: string[] };
  }[];
}

/** Websocket settings (nats-server's WebsocketOptsVarz, every field `omitempty`); `{}` without websocket. */
export interface WebsocketOptsVarz {
  host?: string;
  port?: number;
  advertise?: string;
  no_auth_user?: string;
  jwt_cookie?: string;
  /** Nanoseconds. */
  handshake_timeout?: number;
  /** Seconds. */
  auth_timeout?: number;
  no_tls?: boolean;
  tls_map?: boolean;
  same_origin?: boolean;
  allowed_origins?: string[];
  compression?: boolean;
}

/**
 * nats-server's JetStreamVarz: `{}` without JetStream; with it, the limits and store directory
 * (`config`) and the usage and API counters (`stats`, as in /jsz). nats-server adds `meta` (the meta
 * group's leader and peers) only with clustered JetStream, which tsnats does not have: a single server
 * has no `meta` either.
 */
export interface JetStreamVarz {
  config?: JetStreamConfigJson;
  stats?: JetStreamStatsJson;
}

/** Cluster settings (nats-server's ClusterOptsVarz); `{}` without clustering. */
export interface ClusterOptsVarz {
  name?: string;
  addr?: string;
  cluster_port?: number;
  /** Seconds. */
  auth_timeout?: number;
  /** host:port of the configured routes. */
  urls?: string[];
  tls_timeout?: number;
  tls_required?: boolean;
  tls_verify?: boolean;
}

export interface Varz {
  server_id: string;
  server_name: string;
  version: string;
  proto: number;
  go: string;
  host: string;
  port: number;
  auth_required?: boolean;
  tls_required?: boolean;
  tls_verify?: boolean;
  /** The cluster's client URLs, once learned from the routes. */
  connect_urls?: string[];
  /** The cluster's websocket URLs, once learned from the routes. */
  ws_connect_urls?: string[];
  max_connections: number;
  max_subscriptions?: number;
  /** Nanoseconds. */
  ping_interval: number;
  ping_max: number;
  http_host: string;
  http_port: number;
  http_base_path: string;
  https_port: number;
  /** Seconds. */
  auth_timeout: number;
  max_control_line: number;
  max_payload: number;
  max_pending: number;
  cluster: ClusterOptsVarz;
  gateway: EmptyOptsVarz;
  leaf: LeafNodeOptsVarz;
  mqtt: EmptyOptsVarz;
  websocket: WebsocketOptsVarz;
  jetstream: JetStreamVarz;
  /** Seconds. */
  tls_timeout: number;
  /** Nanoseconds. */
  write_deadline: number;
  start: string;
  now: string;
  uptime: string;
  /** Resident set size in bytes. */
  mem: number;
  cores: number;
  gomaxprocs: number;
  /** Percent of one core over the last sampling interval. */
  cpu: number;
  connections: number;
  total_connections: number;
  routes: number;
  remotes: number;
  leafnodes: number;
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
  slow_consumers: number;
  subscriptions: number;
  http_req_stats: Record<string, number>;
  /** When the configuration was last loaded: the start, then each successful reload. */
  config_load_time: string;
  /** `server_tags`. */
  tags?: string[];
  /** Operator mode: the trusted operators' JWTs and their claims. */
  trusted_operators_jwt?: string[];
  trusted_operators_claim?: Record<string, unknown>[];
  system_account?: string;
  /** Logins refused by `resolver_pinned_accounts`. */
  pinned_account_fails?: number;
  /** 2.10: slow consumers by kind of connection. */
  slow_consumer_stats: SlowConsumerStats;
}

/**
 * Process CPU usage as nats-server's pse reports it: percent of one core, averaged over the last interval
 * of at least `minIntervalMs` (the first reading averages over the process' life).
 */
export class CpuSampler {
  private lastUsage = process.cpuUsage();
  private lastTime = performance.now();
  private value: number;

  constructor(private readonly minIntervalMs = 1000) {
    const u = this.lastUsage;
    const upMs = process.uptime() * 1000;
    this.value = upMs > 0 ? round2(((u.user + u.system) / 1000 / upMs) * 100) : 0;
  }

  /** Current percentage; recomputed once the interval has passed. */
  sample(): number {
    const now = performance.now();
    const elapsed = now - this.lastTime;
    if (elapsed >= this.minIntervalMs) {
      const u = process.cpuUsage(this.lastUsage);
      this.value = round2(((u.user + u.system) / 1000 / elapsed) * 100);
      this.lastUsage = process.cpuUsage();
      this.lastTime = now;
    }
    return this.value;
  }
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Logical CPUs this process may use (Go's runtime.NumCPU). */
export const CORES = availableParallelism();

export function varz(server: MonitoredServer, state: MonitorState): Varz {
  const o = server.options;
  const now = Date.now();
  const st = server.stats;
  const subscriptions = server.numSubscriptions();
  return {
    server_id: server.id,
    server_name: server.name,
    version: VERSION,
    proto: 1,
    go: `node${process.versions.node}`,
    host: o.host,
    port: server.port,
    ...(server.auth.required ? { auth_required: true } : {}),
    ...(o.tls !== undefined ? { tls_required: true } : {}),
    ...(o.tls !== undefined && (o.tls.verify || o.tls.verifyAndMap) ? { tls_verify: true } : {}),
    ...nonEmpty('connect_urls', server.cluster?.clientConnectURLs(false) ?? []),
    ...nonEmpty('ws_connect_urls', server.cluster?.clientConnectURLs(true) ?? []),
    max_connections: o.maxConnections,
    ...(o.maxSubscriptions > 0 ? { max_subscriptions: o.maxSubscriptions } : {}),
    ping_interval: o.pingInterval * 1e6,
    ping_max: o.pingMax,
    http_host: state.httpHost,
    http_port: o.httpPort,
    http_base_path: '',
    https_port: 0,
    auth_timeout: o.authTimeout / 1000,
    max_control_line: o.maxControlLine,
    max_payload: o.maxPayload,
    max_pending: o.maxPending,
    cluster: clusterVarz(server),
    gateway: {},
    leaf: leafVarz(server),
    mqtt: {},
    websocket: websocketVarz(server),
    jetstream: jetStreamVarz(server),
    tls_timeout: o.tls !== undefined ? o.tls.timeout / 1000 : DEFAULT_TLS_TIMEOUT,
    write_deadline: o.writeDeadline * 1e6,
    start: rfc3339(server.startTime),
    now: rfc3339(now),
    uptime: myUptime(now - server.startTime.getTime()),
    mem: process.memoryUsage.rss(),
    cores: CORES,
    // One JavaScript thread runs the server (Go's GOMAXPROCS: threads executing server code at once).
    gomaxprocs: 1,
    cpu: state.cpu.sample(),
    connections: server.clients.size,
    total_connections: st.totalConnections,
    routes: server.cluster?.numRoutes() ?? 0,
    remotes: server.cluster?.numRoutes() ?? 0,
    leafnodes: server.leafnodes?.connections().length ?? 0,
    in_msgs: st.inMsgs,
    out_msgs: st.outMsgs,
    in_bytes: st.inBytes,
    out_bytes: st.outBytes,
    slow_consumers: st.slowConsumers,
    subscriptions,
    http_req_stats: { ...state.httpReqStats },
    config_load_time: rfc3339(server.configLoadTime),
    ...nonEmpty('tags', [...o.tags]),
    ...operatorFields(server),
    ...(o.noSystemAccount ? {} : { system_account: o.systemAccount }),
    ...nonEmpty('pinned_account_fails', server.auth.operator?.pinnedFails ?? 0),
    slow_consumer_stats: { ...st.slowConsumersByKind },
  };
}

/** Operator mode's /varz fields, the claims in the order Go marshals jwt.OperatorClaims. */
function operatorFields(
  server: MonitoredServer,
): Pick<Varz, 'trusted_operators_jwt' | 'trusted_operators_claim'> {
  const trust = server.auth.operator;
  const jwts = server.authorizationConfig.operator?.operators ?? [];
  if (trust === undefined || jwts.length === 0) return {};
  return {
    trusted_operators_jwt: [...jwts],
    trusted_operators_claim: trust.operators.map(operatorClaimJson),
  };
}

const CLAIMS_ORDER = ['aud', 'exp', 'jti', 'iat', 'iss', 'name', 'nbf', 'sub'];
const OPERATOR_ORDER = [
  'signing_keys',
  'account_server_url',
  'operator_service_urls',
  'system_account',
  'assert_server_version',
  'strict_signing_key_usage',
  'tags',
  'type',
  'version',
];

function operatorClaimJson(c: OperatorClaims): Record<string, unknown> {
  const out = pickNonEmpty(c as unknown as Record<string, unknown>, CLAIMS_ORDER);
  out.nats = pickNonEmpty(c.nats as Record<string, unknown>, OPERATOR_ORDER);
  return out;
}

/** The given keys of `o` in that order, empty values left out (Go's omitempty). */
function pickNonEmpty(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = o[k];
    if (v === undefined || v === null || v === '' || v === 0 || v === false) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out;
}

/** `{ [key]: value }` unless value is empty (Go's omitempty). */
function nonEmpty<K extends string, V>(key: K, value: V): { [P in K]?: V } {
  const empty =
    value === '' || value === 0 || value === false || (Array.isArray(value) && value.length === 0);
  return empty ? {} : ({ [key]: value } as { [P in K]?: V });
}

/** The host:port of a route URL (nats-server's urlsToStrings). */
function routeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function jetStreamVarz(server: MonitoredServer): JetStreamVarz {
  const js = server.jetstream;
  if (js === undefined) return {};
  return { config: js.configInfo(), stats: jetStreamStats(js) };
}

function leafVarz(server: MonitoredServer): LeafNodeOptsVarz {
  const l = server.options.leafnodes;
  if (l === undefined) return {};
  const port = server.leafnodes?.port ?? 0;
  const authTimeout = l.authTimeout > 0 ? l.authTimeout : l.tls !== undefined ? l.tls.timeout + 1000 : 2000;
  const remotes = l.remotes.map((r) => {
    const deny = { ...nonEmpty('exports', r.denyExports), ...nonEmpty('imports', r.denyImports) };
    return {
      local_account: r.account === '' ? '$G' : r.account,
      ...nonEmpty('tls_timeout', r.tls !== undefined ? r.tls.timeout / 1000 : 0),
      urls: r.urls.map(urlHostPort),
      ...(Object.keys(deny).length > 0 ? { deny } : {}),
    };
  });
  return {
    ...(port !== 0 ? { host: l.host, port, auth_timeout: authTimeout / 1000 } : {}),
    ...(port !== 0 ? { tls_timeout: l.tls !== undefined ? l.tls.timeout / 1000 : DEFAULT_TLS_TIMEOUT } : {}),
    ...nonEmpty('tls_required', l.tls !== undefined),
    ...nonEmpty('tls_verify', l.tls !== undefined && (l.tls.verify || l.tls.verifyAndMap)),
    ...nonEmpty('remotes', remotes),
  };
}

/** host:port of a remote's URL, without scheme and credentials (nats-server's urlsToStrings). */
function urlHostPort(u: string): string {
  try {
    const url = new URL(u.includes('://') ? u : `nats-leaf://${u}`);
    return `${url.hostname}:${url.port !== '' ? url.port : '7422'}`;
  } catch {
    return u;
  }
}

function websocketVarz(server: MonitoredServer): WebsocketOptsVarz {
  const w = server.options.websocket;
  if (w === undefined) return {};
  return {
    ...nonEmpty('host', w.host),
    ...nonEmpty('port', server.websocketPort),
    ...nonEmpty('advertise', w.advertise),
    ...nonEmpty('no_auth_user', w.noAuthUser),
    ...nonEmpty('jwt_cookie', w.jwtCookie),
    ...nonEmpty('handshake_timeout', w.handshakeTimeout * 1e6),
    ...nonEmpty('auth_timeout', w.authTimeout / 1000),
    ...nonEmpty('no_tls', w.noTls),
    ...nonEmpty('tls_map', w.tls?.verifyAndMap ?? false),
    ...nonEmpty('same_origin', w.sameOrigin),
    ...nonEmpty('allowed_origins', w.allowedOrigins),
    ...nonEmpty('compression', w.compression),
  };
}

function clusterVarz(server: MonitoredServer): ClusterOptsVarz {
  const c = server.options.cluster;
  if (c === undefined) return {};
  return {
    ...nonEmpty('name', c.name),
    ...nonEmpty('addr', c.host),
    ...nonEmpty('cluster_port', c.port),
    ...nonEmpty('auth_timeout', c.authTimeout / 1000),
    ...nonEmpty('urls', c.routes.map(routeHost)),
    ...nonEmpty('tls_timeout', c.tls !== undefined ? c.tls.timeout / 1000 : 0),
    ...nonEmpty('tls_required', c.tls !== undefined),
    ...nonEmpty('tls_verify', c.tls !== undefined),
  };
}
