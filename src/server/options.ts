import { type AuthorizationConfig, emptyAuthorization, type SubjectPermission } from '../auth/types.js';
import type { MappingConfig } from '../routing/mapping.js';

/** TLS for client connections (config `tls {}`, flags `--tls --tlscert --tlskey --tlscacert --tlsverify`). */
export interface TlsOptions {
  certFile: string;
  keyFile: string;
  /** CA bundle used to verify client certificates. */
  caFile: string;
  /** Require and verify client certificates. */
  verify: boolean;
  /** Verify client certificates and map their subject (or SAN email) to a user. */
  verifyAndMap: boolean;
  /** Handshake timeout in ms (nats-server default 2s; config value in seconds). */
  timeout: number;
  /** Optional list of cipher suites (OpenSSL names). */
  ciphers?: string[];
  /** Optional key exchange groups in order of preference (OpenSSL names: `X25519`, `P-256`, ...). */
  curves?: string[];
}

/** Clustering (`--cluster`, `--routes`, config `cluster {}`), as nats-server's ClusterOpts. */
export interface ClusterOptions {
  /** Cluster name; servers with different names do not form routes. '' = dynamic (generated). */
  name: string;
  /** Route listener address and port (`--cluster nats://host:port`, default port 6222). */
  host: string;
  port: number;
  /** Route URL advertised to other servers (`--cluster_advertise`). */
  advertise: string;
  /** Do not tell clients about the other servers (`--no_advertise`). */
  noAdvertise: boolean;
  /** Routes to solicit (`--routes url,url`). */
  routes: string[];
  /** Retries for implicit (gossiped) routes (`--connect_retries`). */
  connectRetries: number;
  /** Route authorization (`cluster { authorization { user, password, timeout } }`). */
  user: string;
  password: string;
  authTimeout: number;
  /** TLS for routes. */
  tls: TlsOptions | undefined;
  /**
   * Route permissions (`cluster { permissions { import, export } }`, nats-server's RoutePermissions):
   * `import` = the subjects whose local interest is sent to routes (messages we take from them);
   * `export` = the subjects a route's interest is accepted for (messages we send them).
   */
  permissions?: RoutePermissions;
}

/** nats-server's RoutePermissions. */
export interface RoutePermissions {
  import?: SubjectPermission;
  export?: SubjectPermission;
}

export const DEFAULT_ROUTE_PORT = 6222;
/** nats-server's DEFAULT_CONNECT_ERROR_REPORTS and DEFAULT_RECONNECT_ERROR_REPORTS. */
export const DEFAULT_CONNECT_ERROR_REPORTS = 3600;
export const DEFAULT_RECONNECT_ERROR_REPORTS = 1;

/**
 * Websocket clients (config `websocket {}`), as nats-server's WebsocketOpts: browsers and other websocket
 * clients speak the NATS protocol in binary frames on their own port.
 */
export interface WebsocketOptions {
  /** Bind address (`host`/`net`/`listen`; default 0.0.0.0) and port (0 or -1 in a file: a free port). */
  host: string;
  port: number;
  /** `host:port` offered to websocket clients of the cluster (`ws_connect_urls`) instead of the listener's. */
  advertise: string;
  /** Serve plain `ws://` without a `tls {}` block (nats-server refuses to start otherwise). */
  noTls: boolean;
  /** `wss://`: the HTTP upgrade and every frame over TLS. */
  tls: TlsOptions | undefined;
  /** The `Origin` header, when present, must be the request's own host and port. */
  sameOrigin: boolean;
  /** When not empty, the `Origin` header, when present, must be one of these (scheme, host and port). */
  allowedOrigins: string[];
  /** Negotiate `permessage-deflate` with clients that offer it. */
  compression: boolean;
  /** Time allowed for the HTTP upgrade (and TLS handshake), in ms; 0 = no limit. */
  handshakeTimeout: number;
  /**
   * `authorization { user, password, token, timeout }` of the block: when any of user, token or
   * `no_auth_user` is set, websocket clients authenticate with these instead of the server's single
   * user or token (the server's users still apply).
   */
  user: string;
  password: string;
  token: string;
  /** Time a websocket client has to send CONNECT, in ms; 0 = the server's `auth_timeout`. */
  authTimeout: number;
  /** User that websocket clients without credentials are logged in as (overrides `no_auth_user`). */
  noAuthUser: string;
  /** Cookie of the HTTP upgrade whose value is used as the user JWT when CONNECT has none. */
  jwtCookie: string;
}

/** A user of `leafnodes { authorization { users } }`: the leaf connection is bound to its account. */
export interface LeafUserConfig {
  user: string;
  password: string;
  /** The account the leaf connection binds to; the global account when absent. */
  account?: string;
}

/** A solicited leaf connection (`leafnodes { remotes [ ... ] }`), as nats-server's RemoteLeafOpts. */
export interface RemoteLeafOptions {
  /** Hub URLs (`nats-leaf://`, `nats://`, `tls://`, `ws://`, `wss://`), with credentials if any. */
  urls: string[];
  /** Local account the connection binds to (`account`/`local`); '' = the global account. */
  account: string;
  /** A `.creds` file (user JWT and NKey seed) for a hub in operator mode. */
  credentials: string;
  /** TLS to the hub (`tls {}` of the remote); a `tls://` URL turns it on with the system's CAs. */
  tls: TlsOptions | undefined;
  /** This server is the hub of that connection (`hub: true`). */
  hub: boolean;
  /** Subjects not accepted from (imports) / not sent to (exports) the hub. */
  denyImports: string[];
  denyExports: string[];
  /** Use the URLs in the order given instead of shuffled (`no_randomize`). */
  noRandomize: boolean;
  /** `ws_compression`: ask for permessage-deflate on websocket URLs. */
  wsCompression: boolean;
  /** `ws_no_masking`: ask the hub not to expect masked frames. */
  wsNoMasking: boolean;
}

/** Leaf nodes (`leafnodes {}`), as nats-server's LeafNodeOpts. */
export interface LeafNodeOptions {
  /** Where leaf connections are accepted (the hub side); port 0 = no listener (remotes only). */
  host: string;
  port: number;
  /** host:port advertised to leafs (`advertise`), instead of the listener's. */
  advertise: string;
  /** Do not tell leafs about the other servers of the cluster (`leafnode_urls`). */
  noAdvertise: boolean;
  /** `authorization { user, password, account, users, timeout }` for accepted leafs. */
  user: string;
  password: string;
  /** Account for the single user (or for leafs that need no credentials); '' = the global account. */
  account: string;
  users: LeafUserConfig[];
  /** Time an accepted leaf has to send CONNECT, ms; 0 = the default. */
  authTimeout: number;
  /** TLS for accepted leafs. */
  tls: TlsOptions | undefined;
  /** Time between attempts to reach a hub (`reconnect`), ms. */
  reconnectInterval: number;
  /** Leafs older than this version are refused (`min_version`). */
  minVersion: string;
  remotes: RemoteLeafOptions[];
}

export const DEFAULT_LEAFNODE_PORT = 7422;
/** nats-server's DEFAULT_LEAF_NODE_RECONNECT. */
export const DEFAULT_LEAF_RECONNECT = 1000;

export function defaultLeafNodeOptions(): LeafNodeOptions {
  return {
    host: DEFAULT_HOST,
    port: 0,
    advertise: '',
    noAdvertise: false,
    user: '',
    password: '',
    account: '',
    users: [],
    authTimeout: 0,
    tls: undefined,
    reconnectInterval: DEFAULT_LEAF_RECONNECT,
    minVersion: '',
    remotes: [],
  };
}

export function defaultRemoteLeafOptions(): RemoteLeafOptions {
  return {
    urls: [],
    account: '',
    credentials: '',
    tls: undefined,
    hub: false,
    denyImports: [],
    denyExports: [],
    noRandomize: false,
    wsCompression: false,
    wsNoMasking: false,
  };
}

export function defaultWebsocketOptions(): WebsocketOptions {
  return {
    host: DEFAULT_HOST,
    port: 0,
    advertise: '',
    noTls: false,
    tls: undefined,
    sameOrigin: false,
    allowedOrigins: [],
    compression: false,
    handshakeTimeout: 0,
    user: '',
    password: '',
    token: '',
    authTimeout: 0,
    noAuthUser: '',
    jwtCookie: '',
  };
}

/** JetStream (`-js`, `-sd`, config `jetstream {}`), as nats-server's JetStream options. */
export interface JetStreamOptions {
  /** Parent of the `jetstream` data directory (`-sd`, `store_dir`); '' = `<tmp>/nats`. */
  storeDir: string;
  /** Memory storage limit in bytes (`max_memory_store`); -1 or absent = 75% of system memory. */
  maxMemory?: number;
  /** File storage limit in bytes (`max_file_store`); -1 or absent = 75% of the disk space available. */
  maxFile?: number;
  /** How often file stores flush to disk, in ms (`sync_interval`); absent = the file store's default. */
  syncInterval?: number;
  /** JetStream domain (`domain`), echoed in PubAcks and account info. */
  domain?: string;
}

/**
 * NATS Streaming (`-cid`, config `streaming {}`): the legacy streaming protocol served on JetStream
 * storage (streaming/). Limits are nats-streaming-server's: 0 = unlimited; durations in ms.
 */
export interface StreamingOptions {
  /** `cluster_id`: clients discover the server on `_STAN.discover.<cluster_id>`. */
  clusterId: string;
  /** `store`: storage of the channels' streams and of the state; undefined = file when JetStream has a store_dir. */
  store: 'file' | 'memory' | undefined;
  /** `dir`: JetStream's store directory when JetStream is not given one (as nats-streaming-server's `--dir`). */
  dir: string;
  maxChannels: number;
  maxMsgs: number;
  maxBytes: number;
  maxAge: number;
  maxSubs: number;
  maxInactivity: number;
  /** Interval of the server's heartbeats to each client. */
  hbInterval: number;
  /** How long the server waits for a heartbeat's answer. */
  hbTimeout: number;
  /** Heartbeats a client may miss in a row before the server closes it. */
  hbFailCount: number;
}

/** nats-streaming-server's defaults (DefaultStoreLimits, DefaultHeartBeatInterval, ...). */
export function defaultStreamingOptions(clusterId = 'test-cluster'): StreamingOptions {
  return {
    clusterId,
    store: undefined,
    dir: '',
    maxChannels: 100,
    maxMsgs: 1_000_000,
    maxBytes: 1_000_000 * 1024,
    maxAge: 0,
    maxSubs: 1000,
    maxInactivity: 0,
    hbInterval: 30_000,
    hbTimeout: 10_000,
    hbFailCount: 10,
  };
}

export function defaultClusterOptions(): ClusterOptions {
  return {
    name: '',
    host: '0.0.0.0',
    port: DEFAULT_ROUTE_PORT,
    advertise: '',
    noAdvertise: false,
    routes: [],
    connectRetries: 0,
    user: '',
    password: '',
    authTimeout: 2000,
    tls: undefined,
  };
}

/**
 * Server options, named and defaulted as nats-server names and defaults them (server/opts.go, const.go).
 * Durations are in milliseconds, sizes in bytes.
 */
export interface ServerOptions {
  /** Bind address for clients (`-a/--addr`, config `host`/`net`). */
  host: string;
  /** Client port (`-p/--port`); 0 picks a free port, as does -1 on the command line. */
  port: number;
  /** Server name (`-n/--name`); defaults to the server id. */
  serverName: string;
  /**
   * Server tags (`server_tags`): lowercased, trimmed, without duplicates, as nats-server keeps them. Shown in
   * /varz and the system events, used by JetStream placement (`placement.tags`).
   */
  tags: string[];
  /** Client URL advertised to other servers and clients (`--client_advertise`). */
  clientAdvertise: string;
  /** Maximum payload a client may publish (`--max_payload`, config `max_payload`). */
  maxPayload: number;
  /** Maximum control line length (`max_control_line`). */
  maxControlLine: number;
  /** Maximum number of client connections (`max_connections`), 0 = unlimited. */
  maxConnections: number;
  /** Maximum subscriptions per connection (`max_subscriptions`), 0 = unlimited. */
  maxSubscriptions: number;
  /** Maximum tokens of a client's subscription subject (`max_sub_tokens`), 0 = unlimited. */
  maxSubTokens: number;
  /** Payloads in traces are cut to this many bytes (`max_traced_msg_len`), 0 = whole. */
  maxTracedMsgLen: number;
  /** Accounts' subscription indexes keep no match cache (`disable_sublist_cache`, `no_sublist_cache`). */
  noSublistCache: boolean;
  /** Route connect errors are logged at the first attempt and every this many (`connect_error_reports`). */
  connectErrorReports: number;
  /** The same once a route was connected before (`reconnect_error_reports`). */
  reconnectErrorReports: number;
  /** A prefix for every monitoring path (`http_base_path`), '' = none. */
  httpBasePath: string;
  /** Subject mappings of the global account (top-level `mappings {}`). */
  mappings: MappingConfig[];
  /** Maximum pending outbound bytes per connection before it is a slow consumer (`max_pending`). */
  maxPending: number;
  /** Interval between server PINGs (`ping_interval`). */
  pingInterval: number;
  /** Outstanding PINGs before the connection is closed as stale (`ping_max`). */
  pingMax: number;
  /** How long a blocked write may last before the client is a slow consumer (`write_deadline`). */
  writeDeadline: number;
  /** Time a new client has to send CONNECT when auth is required (`auth_timeout`), in ms. */
  authTimeout: number;
  /** Enable debug logging (`-D`). */
  debug: boolean;
  /** Enable protocol tracing (`-V`). */
  trace: boolean;
  /** Prefix log lines with a timestamp (`-T`, default true). */
  logtime: boolean;
  /** Log to this file instead of stderr (`-l/--log`). */
  logFile: string;
  /** Write the PID to this file (`-P/--pid`). */
  pidFile: string;
  /** Write `<exe>_<pid>.ports` into this directory (`--ports_file_dir`). */
  portsFileDir: string;
  /** Monitoring HTTP port (`-m/--http_port`); 0 = off, -1 = random. */
  httpPort: number;
  /**
   * Monitoring over HTTPS with the server's `tls {}` (`-ms/--https_port`, config `https`, `https_port`);
   * 0 = off, -1 = random. Not together with `httpPort`.
   */
  httpsPort: number;
  /** Monitoring bind address (config `http: host:port`); defaults to `host`. */
  httpHost: string;
  /** The system account (config `system_account`, default `$SYS`): `$SYS.REQ.SERVER...` requests live there. */
  systemAccount: string;
  /** No system account at all (config `no_system_account`). */
  noSystemAccount: boolean;
  /** Closed connections remembered for /connz (nats-server's DEFAULT_MAX_CLOSED_CLIENTS). */
  maxClosedClients: number;
  /** Clustering; undefined when this server has no route listener and no routes. */
  cluster: ClusterOptions | undefined;
  /** JetStream; undefined when off. */
  jetstream: JetStreamOptions | undefined;
  /** NATS Streaming clients (streaming/); needs JetStream. */
  streaming: StreamingOptions | undefined;
  /** Client TLS; undefined when off. */
  tls: TlsOptions | undefined;
  /**
   * `allow_non_tls`: with `tls`, clients may also connect without TLS on the same port (INFO says
   * `tls_available`; a client that starts a TLS handshake gets TLS).
   */
  allowNonTls: boolean;
  /** Websocket clients; undefined when off. */
  websocket: WebsocketOptions | undefined;
  /** Leaf nodes (accepted, solicited or both); undefined when off. */
  leafnodes: LeafNodeOptions | undefined;
  /** Lame duck mode: time over which clients are closed (`lame_duck_duration`). */
  lameDuckDuration: number;
  /** Lame duck mode: wait before closing the first client (`lame_duck_grace_period`). */
  lameDuckGracePeriod: number;
  /** The configuration file the options came from ('' when none), for reload. */
  configFile: string;
  /** Suppress all logging (embedded use in tests). */
  noLog: boolean;
  /** Do not install SIGINT/SIGTERM handlers (embedded use). */
  noSigs: boolean;
}

/** nats-server defaults (server/const.go). */
export const DEFAULT_PORT = 4222;
export const DEFAULT_HOST = '0.0.0.0';
export const MAX_PAYLOAD_SIZE = 1024 * 1024;
export const MAX_CONTROL_LINE_SIZE = 4096;
export const MAX_PENDING_SIZE = 64 * 1024 * 1024;
export const DEFAULT_PING_INTERVAL = 2 * 60 * 1000;
export const DEFAULT_PING_MAX_OUT = 2;
export const DEFAULT_WRITE_DEADLINE = 10 * 1000;
export const AUTH_TIMEOUT = 2 * 1000;
export const TLS_TIMEOUT = 2 * 1000;
export const DEFAULT_LAME_DUCK_DURATION = 2 * 60 * 1000;
export const DEFAULT_LAME_DUCK_GRACE_PERIOD = 10 * 1000;
/** Connections are not limited by default in nats-server 2.9 (DEFAULT_MAX_CONNECTIONS = 64K). */
export const DEFAULT_MAX_CONNECTIONS = 64 * 1024;

export function defaultOptions(): ServerOptions {
  return {
    host: DEFAULT_HOST,
    port: DEFAULT_PORT,
    serverName: '',
    tags: [],
    clientAdvertise: '',
    maxPayload: MAX_PAYLOAD_SIZE,
    maxControlLine: MAX_CONTROL_LINE_SIZE,
    maxConnections: DEFAULT_MAX_CONNECTIONS,
    maxSubscriptions: 0,
    maxSubTokens: 0,
    maxTracedMsgLen: 0,
    noSublistCache: false,
    connectErrorReports: DEFAULT_CONNECT_ERROR_REPORTS,
    reconnectErrorReports: DEFAULT_RECONNECT_ERROR_REPORTS,
    httpBasePath: '',
    mappings: [],
    maxPending: MAX_PENDING_SIZE,
    pingInterval: DEFAULT_PING_INTERVAL,
    pingMax: DEFAULT_PING_MAX_OUT,
    writeDeadline: DEFAULT_WRITE_DEADLINE,
    authTimeout: AUTH_TIMEOUT,
    debug: false,
    trace: false,
    logtime: true,
    logFile: '',
    pidFile: '',
    portsFileDir: '',
    httpPort: 0,
    httpsPort: 0,
    httpHost: '',
    maxClosedClients: 10000,
    systemAccount: '$SYS',
    noSystemAccount: false,
    cluster: undefined,
    jetstream: undefined,
    streaming: undefined,
    tls: undefined,
    allowNonTls: false,
    websocket: undefined,
    leafnodes: undefined,
    lameDuckDuration: DEFAULT_LAME_DUCK_DURATION,
    lameDuckGracePeriod: DEFAULT_LAME_DUCK_GRACE_PERIOD,
    configFile: '',
    noLog: false,
    noSigs: false,
  };
}

/** Fill in defaults for every option not given. */
export function resolveOptions(partial: OptionsInput = {}): ServerOptions {
  const opts = defaultOptions();
  for (const key of Object.keys(partial) as (keyof ServerOptions)[]) {
    const value = partial[key];
    if (value !== undefined) (opts as unknown as Record<string, unknown>)[key] = value;
  }
  // Blocks given in part take the rest from their defaults.
  if (partial.websocket !== undefined)
    opts.websocket = { ...defaultWebsocketOptions(), ...partial.websocket };
  if (partial.streaming !== undefined) {
    const st = { ...defaultStreamingOptions(), ...partial.streaming };
    opts.streaming = st;
    // As nats-streaming-server's -st/--dir: asking for a store turns JetStream on, in --dir.
    if (opts.jetstream === undefined && st.store !== undefined) opts.jetstream = { storeDir: st.dir };
  }
  if (partial.leafnodes !== undefined) {
    const { remotes, ...rest } = partial.leafnodes;
    opts.leafnodes = {
      ...defaultLeafNodeOptions(),
      ...rest,
      remotes: (remotes ?? []).map((r) => ({ ...defaultRemoteLeafOptions(), ...r })),
    };
  }
  return opts;
}

/** Options as the embedding API takes them: any of them, and blocks such as `websocket` in part. */
export type OptionsInput = Partial<Omit<ServerOptions, 'websocket' | 'leafnodes' | 'streaming'>> & {
  /** NATS Streaming clients; fields left out take nats-streaming-server's defaults. */
  streaming?: Partial<StreamingOptions> | undefined;
  /** Websocket clients; fields left out take their defaults (host 0.0.0.0, no compression, ...). */
  websocket?: Partial<WebsocketOptions> | undefined;
  /** Leaf nodes; fields left out take their defaults, remotes too. */
  leafnodes?:
    | (Partial<Omit<LeafNodeOptions, 'remotes'>> & { remotes?: Partial<RemoteLeafOptions>[] })
    | undefined;
};

/** Options accepted by the embedding API, plus credentials for the simple auth methods. */
export interface ServerConfig extends OptionsInput {
  /** Shorthands for a single user (`--user/--pass`) or a token (`--auth`). */
  user?: string;
  password?: string;
  token?: string;
  /** Users, NKeys, permissions and accounts (config `authorization {}` and `accounts {}`). */
  authorization?: AuthorizationConfig;
}

/** The authorization a config describes, with the user/password/token shorthands folded in. */
export function authorizationOf(config: ServerConfig): AuthorizationConfig {
  const authz = config.authorization !== undefined ? { ...config.authorization } : emptyAuthorization();
  if (config.user !== undefined) authz.user = config.user;
  if (config.password !== undefined) authz.password = config.password;
  if (config.token !== undefined) authz.token = config.token;
  return authz;
}
