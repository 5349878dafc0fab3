/**
 * nats-server configuration files for tsnats: `loadConfigFile` parses a file (includes and variables
 * resolved by the conf module) and maps it onto a ServerConfig with nats-server's key names, aliases,
 * defaults and error wording (server/opts.go processConfigFileLine). Anything invalid, unknown or not
 * supported by tsnats is refused with `file:line:column: reason` naming the key; nothing is ignored.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { emptyAuthorization } from '../auth/types.js';
import { parseClusterBlock } from '../cluster/config.js';
import { ConfError, type ConfMap, parseConf, parseConfFile } from '../conf/index.js';
import { parseJetStreamKey, parseStoreDirKey } from '../jetstream/config-file.js';
import { leafNodeOptionsProblem, parseLeafNodesBlock } from '../leafnode/config.js';
import {
  DEFAULT_HOST,
  DEFAULT_LAME_DUCK_DURATION,
  DEFAULT_LAME_DUCK_GRACE_PERIOD,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_PORT,
  defaultLeafNodeOptions,
  defaultRemoteLeafOptions,
  defaultWebsocketOptions,
  MAX_PAYLOAD_SIZE,
  MAX_PENDING_SIZE,
  type ServerConfig,
  type ServerOptions,
} from '../server/options.js';
import { parseStreamingBlock } from '../streaming/config-file.js';
import { parseWebsocketBlock, websocketOptionsProblem } from '../websocket/config.js';
import {
  AuthState,
  finishAuthorization,
  parseAccounts,
  parseAuthorization,
  parseNoAuthUser,
  setAuthTimeout,
} from './auth.js';
import { ConfigError, makeIssue } from './errors.js';
import { parseMappings } from './mappings.js';
import {
  finishOperator,
  OPERATOR_KEYS,
  OperatorState,
  parseOperatorKey,
  parsePinnedAccounts,
  parseResolverKey,
  parseResolverPreload,
  parseTrustedKeys,
  RESOLVER_KEYS,
} from './operator.js';
import { type ConfigField, ConfigReader, describeValue } from './reader.js';
import { registeredAccountConfigKeys, registeredConfigKeys } from './registry.js';
import { parseTls } from './tls.js';
import { findUsedVariables } from './variables.js';

/** A loaded configuration: the options it sets, and nats-server-style warnings (e.g. durations as numbers). */
export interface LoadedConfig {
  /** Only the options the file sets; `resolveOptions` / the Server fill in the defaults. */
  config: ServerConfig;
  /** `file:line:column: invalid use of field "x": ...` */
  warnings: string[];
}

export interface LoadOptions {
  /** Environment for `$VARIABLES` not defined in the file (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface MapOptions {
  /**
   * Positions (`file:line:column`) of keys used as `$variables` (see findUsedVariables): such keys may be
   * unknown to the server, as in nats-server. Without it every unknown key is an error.
   */
  usedVariables?: ReadonlySet<string>;
}

/** Largest delay Node's timers take (2^31-1 ms); longer durations are clamped to it. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** nats-server refuses max_payload / max_control_line above this. */
const MAX_INT32 = 2 ** 31 - 1;
/** nats-server's minimum lame_duck_duration. */
const MIN_LAME_DUCK_DURATION = 30 * 1000;

/**
 * Top-level keys of nats-server that tsnats does not implement yet, by feature. They are refused with
 * `<key>: not supported by tsnats yet (<feature>)` unless a handler is registered (registerConfigKey).
 */
export const NOT_SUPPORTED_YET: Readonly<Record<string, string>> = {
  default_js_domain: 'JetStream',
  gateway: 'gateways',
  mqtt: 'MQTT',
  resolver_tls: 'JWT/operator mode',
  system: 'the system account',
  ocsp: 'OCSP stapling',
  syslog: 'syslog',
  remote_syslog: 'syslog',
  logfile_size_limit: 'log rotation',
  log_size_limit: 'log rotation',
  prof_port: 'Go profiling; profile with node --cpu-prof instead',
  no_header_support: 'turning headers off',
};

/** Reads, parses and maps a configuration file. Throws ConfigError (with file:line:column) when invalid. */
export function loadConfigFile(file: string, opts: LoadOptions = {}): LoadedConfig {
  let map: ConfMap;
  try {
    map = parseConfFile(file, opts.env === undefined ? {} : { env: opts.env });
  } catch (err) {
    throw toConfigError(err);
  }
  let used: Set<string>;
  try {
    used = findUsedVariables(readFileSync(file, 'utf8'), file);
  } catch {
    used = new Set();
  }
  const loaded = configFromMap(map, file, { usedVariables: used });
  loaded.config.configFile = path.resolve(file);
  return loaded;
}

/** Like loadConfigFile for configuration text; `file` names it in messages and anchors includes. */
export function loadConfigText(text: string, file = '', opts: LoadOptions = {}): LoadedConfig {
  let map: ConfMap;
  try {
    map = parseConf(text, { file, ...(opts.env === undefined ? {} : { env: opts.env }) });
  } catch (err) {
    throw toConfigError(err);
  }
  return configFromMap(map, file, { usedVariables: findUsedVariables(text, file) });
}

function toConfigError(err: unknown): unknown {
  if (!(err instanceof ConfError)) return err;
  return new ConfigError(
    [makeIssue({ file: err.file, line: err.line, column: err.column }, '', err.reason)],
    {
      cause: err,
    },
  );
}

/**
 * Maps a parsed configuration onto tsnats' ServerConfig. `file` is used in messages. Throws a
 * ConfigError listing every problem found.
 */
export function configFromMap(map: ConfMap, file: string, opts: MapOptions = {}): LoadedConfig {
  const r = new ConfigReader(file, opts.usedVariables);
  const auth = new AuthState();
  const seen = new Map<keyof ServerOptions, ConfigField>();
  const op = new OperatorState();
  const handlers = { ...builtinHandlers(r, auth, seen), ...operatorHandlers(r, op) };
  for (const [key, feature] of Object.entries(NOT_SUPPORTED_YET)) {
    handlers[key] ??= (f) => r.fail(f, `${f.path}: not supported by tsnats yet (${feature})`);
  }
  for (const [key, handler] of registeredConfigKeys()) handlers[key] = (f) => handler(f, r);

  r.forEachKey(map, '', handlers);
  crossChecks(r, seen);
  const authz = finishOperator(r, op, finishAuthorization(r, auth));
  if (authz !== undefined) r.config.authorization = authz;
  const ws = r.config.websocket;
  const wsField = seen.get('websocket');
  if (ws !== undefined && wsField !== undefined) {
    const problem = websocketOptionsProblem(
      { ...defaultWebsocketOptions(), ...ws },
      authz ?? emptyAuthorization(),
    );
    if (problem !== undefined) r.error(wsField, problem);
  }
  const leaf = r.config.leafnodes;
  const leafField = seen.get('leafnodes');
  if (leaf !== undefined && leafField !== undefined) {
    const accounts = new Set((authz?.accounts ?? []).map((a) => a.name));
    const sys = r.config.noSystemAccount === true ? undefined : (r.config.systemAccount ?? '$SYS');
    const full = {
      ...defaultLeafNodeOptions(),
      ...leaf,
      remotes: (leaf.remotes ?? []).map((x) => ({ ...defaultRemoteLeafOptions(), ...x })),
    };
    const problem = leafNodeOptionsProblem(full, accounts, sys);
    if (problem !== undefined) r.error(leafField, problem);
  }

  if (r.errors.length > 0) throw new ConfigError(r.errors);
  return { config: r.config, warnings: r.warnings.map((w) => w.message) };
}

// ---------------------------------------------------------------------------------------------------

interface HostPort {
  host: string;
  port: number;
}

/** nats-server's parseListen: a port, or "host:port" (Go's net.SplitHostPort, so IPv6 in brackets). */
function parseListen(r: ConfigReader, f: ConfigField): HostPort {
  const v = f.value;
  if (typeof v === 'number' && Number.isInteger(v)) return { host: '', port: v };
  if (typeof v !== 'string') return r.fail(f, `expected port or host:port, got ${describeValue(v)}`);
  const bad = (): never => r.fail(f, `could not parse address string ${JSON.stringify(v)}`);
  let host: string;
  let port: string;
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    if (end < 0 || v[end + 1] !== ':') return bad();
    host = v.slice(1, end);
    port = v.slice(end + 2);
  } else {
    const i = v.lastIndexOf(':');
    if (i < 0) return bad();
    host = v.slice(0, i);
    port = v.slice(i + 1);
    if (host.includes(':')) return bad();
  }
  if (host.includes('[') || host.includes(']') || port.includes('[') || port.includes(']')) return bad();
  if (!/^[+-]?[0-9]+$/.test(port)) r.fail(f, `could not parse port ${JSON.stringify(port)}`);
  return { host, port: Number(port) };
}

function checkPort(r: ConfigReader, f: ConfigField, port: number): void {
  if (port < -1 || port > 65535)
    r.fail(f, `${f.path}: invalid port ${port} (0-65535, or -1 for a random port)`);
}

/** nats-server's setBaselineOptions: client port 0 means the default, -1 a random port (tsnats' 0). */
function clientPort(port: number): number {
  if (port === 0) return DEFAULT_PORT;
  return port === -1 ? 0 : port;
}

function builtinHandlers(
  r: ConfigReader,
  auth: AuthState,
  seen: Map<keyof ServerOptions, ConfigField>,
): Record<string, (field: ConfigField) => void> {
  const c = r.config;
  /** Set an option (undefined: back to the default), remembering which key set it. */
  const set = <K extends keyof ServerOptions>(
    f: ConfigField,
    key: K,
    value: ServerOptions[K] | undefined,
  ): void => {
    if (value === undefined) delete c[key];
    else c[key] = value;
    seen.set(key, f);
  };
  const str =
    (
      key: keyof ServerOptions &
        ('host' | 'serverName' | 'clientAdvertise' | 'logFile' | 'pidFile' | 'portsFileDir'),
    ) =>
    (f: ConfigField) =>
      set(f, key, r.string(f));
  const bool = (key: 'debug' | 'trace' | 'logtime') => (f: ConfigField) => set(f, key, r.bool(f));
  /** A size in bytes; 0 means nats-server's default. */
  const size =
    (key: 'maxPayload' | 'maxControlLine' | 'maxPending', name: string, max: number) => (f: ConfigField) => {
      const n = r.integer(f);
      if (n > max) r.fail(f, `${name} value is too big`);
      if (n < 0) r.fail(f, `${name} value can not be negative`);
      set(f, key, n === 0 ? undefined : n);
    };
  /** A duration (string, or seconds with a warning); 0 means the default. */
  const timer = (key: 'pingInterval' | 'writeDeadline') => (f: ConfigField) => {
    const ms = r.duration(f);
    set(f, key, ms === 0 ? undefined : Math.min(ms, MAX_TIMER_MS));
  };
  const httpPort = (f: ConfigField): void => {
    const port = r.integer(f);
    checkPort(r, f, port);
    set(f, 'httpPort', port);
  };
  const maxConnections = (f: ConfigField): void => {
    const n = r.integer(f);
    // 0 is nats-server's default; a negative value means unlimited.
    set(f, 'maxConnections', n === 0 ? DEFAULT_MAX_CONNECTIONS : n);
  };
  const maxSubscriptions = (f: ConfigField): void => set(f, 'maxSubscriptions', r.integer(f));
  const noSystemAccount = (f: ConfigField): void => set(f, 'noSystemAccount', r.bool(f));
  const noSublistCache = (f: ConfigField): void => set(f, 'noSublistCache', r.bool(f));
  const maxSubTokens = (f: ConfigField): void => {
    // nats-server keeps it in a uint8.
    const n = r.integer(f);
    if (n > 255) r.fail(f, `${String(f.key)} value is too big`);
    if (n <= 0) r.fail(f, `${String(f.key)} value can not be negative`);
    set(f, 'maxSubTokens', n);
  };
  return {
    listen: (f) => {
      const hp = parseListen(r, f);
      checkPort(r, f, hp.port);
      set(f, 'host', hp.host === '' ? DEFAULT_HOST : hp.host);
      set(f, 'port', clientPort(hp.port));
    },
    host: str('host'),
    net: str('host'),
    port: (f) => {
      const port = r.integer(f);
      checkPort(r, f, port);
      set(f, 'port', clientPort(port));
    },
    server_name: str('serverName'),
    server_tags: (f) => {
      // nats-server's TagList.Add: a string or a list of strings.
      if (typeof f.value !== 'string' && !Array.isArray(f.value)) {
        r.fail(f, `error parsing tags: unsupported type ${describeValue(f.value)}`);
      }
      const list = typeof f.value === 'string' ? [f] : r.elements(f, f.value);
      set(
        f,
        'tags',
        addTags(
          [],
          list.map((e) => r.string(e)),
        ),
      );
    },
    client_advertise: str('clientAdvertise'),
    http: (f) => {
      const hp = parseListen(r, f);
      checkPort(r, f, hp.port);
      set(f, 'httpHost', hp.host);
      set(f, 'httpPort', hp.port);
    },
    http_port: httpPort,
    https: (f) => {
      const hp = parseListen(r, f);
      checkPort(r, f, hp.port);
      set(f, 'httpHost', hp.host);
      set(f, 'httpsPort', hp.port);
    },
    https_port: (f) => {
      const port = r.integer(f);
      checkPort(r, f, port);
      set(f, 'httpsPort', port);
    },
    monitor_port: httpPort,
    max_payload: size('maxPayload', 'max_payload', MAX_INT32),
    max_control_line: size('maxControlLine', 'max_control_line', MAX_INT32),
    max_pending: size('maxPending', 'max_pending', Number.MAX_SAFE_INTEGER),
    max_connections: maxConnections,
    max_conn: maxConnections,
    max_subscriptions: maxSubscriptions,
    max_sub_tokens: maxSubTokens,
    max_subscription_tokens: maxSubTokens,
    max_traced_msg_len: (f) => set(f, 'maxTracedMsgLen', Math.max(0, r.integer(f))),
    disable_sublist_cache: noSublistCache,
    no_sublist_cache: noSublistCache,
    connect_error_reports: (f) => {
      const n = r.integer(f);
      set(f, 'connectErrorReports', n === 0 ? undefined : n);
    },
    reconnect_error_reports: (f) => {
      const n = r.integer(f);
      set(f, 'reconnectErrorReports', n === 0 ? undefined : n);
    },
    http_base_path: (f) => set(f, 'httpBasePath', r.string(f)),
    mappings: (f) => set(f, 'mappings', parseMappings(r, f)),
    maps: (f) => set(f, 'mappings', parseMappings(r, f)),
    max_subs: maxSubscriptions,
    ping_interval: timer('pingInterval'),
    write_deadline: timer('writeDeadline'),
    ping_max: (f) => {
      const n = r.integer(f);
      set(f, 'pingMax', n === 0 ? undefined : n);
    },
    debug: bool('debug'),
    trace: bool('trace'),
    // Verbose tracing adds the system account's traffic; tsnats has none, so it is plain tracing.
    trace_verbose: bool('trace'),
    logtime: bool('logtime'),
    log_file: str('logFile'),
    logfile: str('logFile'),
    pid_file: str('pidFile'),
    pidfile: str('pidFile'),
    ports_file_dir: str('portsFileDir'),
    lame_duck_duration: (f) => {
      const ms = r.durationString(f);
      if (ms < MIN_LAME_DUCK_DURATION) {
        r.fail(f, `invalid lame_duck_duration of ${String(f.value)}, minimum is 30 seconds`);
      }
      set(f, 'lameDuckDuration', Math.min(ms, MAX_TIMER_MS));
    },
    lame_duck_grace_period: (f) => {
      const ms = r.durationString(f);
      if (ms < 0) r.fail(f, 'invalid lame_duck_grace_period, needs to be positive');
      set(f, 'lameDuckGracePeriod', ms === 0 ? undefined : Math.min(ms, MAX_TIMER_MS));
    },
    // tsnats extension: nats-server only takes `authorization { timeout }`.
    auth_timeout: (f) => setAuthTimeout(r, f),
    authorization: (f) => parseAuthorization(r, f, auth),
    accounts: (f) => parseAccounts(r, f, auth, registeredAccountConfigKeys()),
    no_auth_user: (f) => parseNoAuthUser(r, f, auth),
    tls: (f) => set(f, 'tls', parseTls(r, f)),
    allow_non_tls: (f) => set(f, 'allowNonTls', r.bool(f)),
    no_system_account: noSystemAccount,
    system_account: (f) => set(f, 'systemAccount', r.string(f)),
    no_system: noSystemAccount,
    no_sys_acc: noSystemAccount,
    // Features with their own modules: cluster/config.ts, websocket/config.ts and jetstream/config-file.ts.
    cluster: (f) => {
      const cluster = parseClusterBlock(r, f);
      if (cluster !== undefined) c.cluster = cluster;
    },
    websocket: (f) => set(f, 'websocket', parseWebsocketBlock(r, f)),
    ws: (f) => set(f, 'websocket', parseWebsocketBlock(r, f)),
    leafnodes: (f) => set(f, 'leafnodes', parseLeafNodesBlock(r, f)),
    leaf: (f) => set(f, 'leafnodes', parseLeafNodesBlock(r, f)),
    jetstream: (f) => parseJetStreamKey(r, f),
    streaming: (f) => parseStreamingBlock(r, f),
    store_dir: (f) => parseStoreDirKey(r, f),
    storedir: (f) => parseStoreDirKey(r, f),
  };
}

/** `operator` (and aliases), `resolver` (and aliases), `resolver_preload` (config/operator.ts). */
function operatorHandlers(r: ConfigReader, op: OperatorState): Record<string, (f: ConfigField) => void> {
  const h: Record<string, (f: ConfigField) => void> = {};
  for (const k of OPERATOR_KEYS) h[k] = (f) => parseOperatorKey(r, f, op);
  for (const k of RESOLVER_KEYS) h[k] = (f) => parseResolverKey(r, f, op);
  h.resolver_preload = (f) => parseResolverPreload(r, f, op);
  h.resolver_pinned_accounts = (f) => parsePinnedAccounts(r, f, op);
  h.trusted = (f) => parseTrustedKeys(r, f, op);
  h.trusted_keys = (f) => parseTrustedKeys(r, f, op);
  return h;
}

/** Checks between options that nats-server makes when the server starts (validateOptions). */
function crossChecks(r: ConfigReader, seen: Map<keyof ServerOptions, ConfigField>): void {
  const c = r.config;
  const payload = c.maxPayload ?? MAX_PAYLOAD_SIZE;
  const pending = c.maxPending ?? MAX_PENDING_SIZE;
  if (payload > pending) {
    const at = seen.get('maxPayload') ?? seen.get('maxPending')!;
    r.error(at, `max_payload (${payload}) cannot be higher than max_pending (${pending})`);
  }
  const ld = c.lameDuckDuration ?? DEFAULT_LAME_DUCK_DURATION;
  const grace = c.lameDuckGracePeriod ?? DEFAULT_LAME_DUCK_GRACE_PERIOD;
  if (grace >= ld) {
    const at = seen.get('lameDuckGracePeriod') ?? seen.get('lameDuckDuration')!;
    r.error(
      at,
      `lame duck grace period (${grace / 1000}s) should be strictly lower than lame duck duration (${ld / 1000}s)`,
    );
  }
  // With TLS the default authentication timeout leaves room for the handshake (getDefaultAuthTimeout).
  if (c.tls !== undefined && c.authTimeout === undefined) c.authTimeout = c.tls.timeout + 1000;
}

/** nats-server's TagList.Add: each tag lowercased and trimmed; empty ones and repeats are dropped. */
export function addTags(into: string[], tags: readonly string[]): string[] {
  for (const t of tags) {
    const v = t.trim().toLowerCase();
    if (v !== '' && !into.includes(v)) into.push(v);
  }
  return into;
}
