/**
 * The embedding API's options: `new Server({...})` takes tsnats' camelCase options (ServerConfig) and also
 * any key of a nats-server configuration file, written as in the file (`max_payload: '1MB'`,
 * `jetstream: { store_dir, max_mem }`, `accounts: {...}`). The file-style keys go through the same loader as
 * `-c FILE`, so they get the same checks and the same messages as `tsnats -t`; the camelCase keys are put on
 * top, as command-line flags are put on top of a file.
 *
 * Which form a key is in: a key only the file has (`max_payload`, `listen`, `accounts`, ...) is file form.
 * A key both have (`jetstream`, `cluster`, `tls`, `websocket`, `leafnodes`, `streaming`, `authorization`, ...)
 * is camelCase when its value fits tsnats' type: a block whose field names are all camelCase field names of
 * that block (`jetstream: { storeDir }`), a complete AuthorizationConfig, a MappingConfig array. Anything
 * else (`jetstream: true`, `jetstream: { store_dir }`, `authorization: { users: [...] }`) is file form.
 */
import { emptyAuthorization } from '../auth/types.js';
import type { ConfMap, ConfValue } from '../conf/index.js';
import {
  type ClusterOptions,
  defaultOptions,
  type JetStreamOptions,
  type LeafNodeOptions,
  type ServerConfig,
  type StreamingOptions,
  type TlsOptions,
  type WebsocketOptions,
} from '../server/options.js';
import { configFromMap, loadConfigFile } from './load.js';

/** A value as a configuration file holds it once parsed: sizes are numbers of bytes (`1MB` unquoted in a file), durations strings (`'2m'`). */
export type ConfigFileValue =
  | string
  | number
  | boolean
  | Date
  | readonly ConfigFileValue[]
  | { readonly [key: string]: ConfigFileValue };

/** Top-level configuration file keys that are plain words (every snake_case key is allowed by its shape). */
type PlainFileKey =
  | 'listen'
  | 'net'
  | 'http'
  | 'https'
  | 'maps'
  | 'logfile'
  | 'pidfile'
  | 'accounts'
  | 'ws'
  | 'leaf'
  | 'storedir'
  | 'operator'
  | 'operators'
  | 'root'
  | 'roots'
  | 'resolver';

/** Keys both forms have, whose values differ in shape: either form is accepted. */
type SharedBlockKey =
  | 'jetstream'
  | 'cluster'
  | 'tls'
  | 'websocket'
  | 'leafnodes'
  | 'streaming'
  | 'authorization'
  | 'mappings';

/** camelCase options mixed with configuration file keys in their own names. */
export type MixedServerOptions = Omit<ServerConfig, SharedBlockKey> & {
  [K in SharedBlockKey]?: ServerConfig[K] | ConfigFileValue;
} & { [K in PlainFileKey]?: ConfigFileValue } & {
  [snakeCaseKey: `${string}_${string}`]: ConfigFileValue | undefined;
};

/**
 * What `new Server()` and `tsnats/testing` accept: ServerConfig (camelCase, typed) and configuration file
 * keys in their own names (`max_payload`, `jetstream: { store_dir }`), checked as `-c FILE` checks them.
 */
export type ServerInput = ServerConfig | MixedServerOptions;

/** What a label the messages of file-style embedded options carry instead of `file:line:column`. */
const SOURCE = 'Server options';

const CAMEL_KEYS = new Set<string>([
  ...Object.keys(defaultOptions()),
  'user',
  'password',
  'token',
  'authorization',
]);

/**
 * The camelCase field names of each block, complete (the `satisfies` makes the compiler say when a field is
 * added to an options type and not here), to tell `jetstream: { storeDir }` from `jetstream: { store_dir }`.
 */
const fields = <T>(f: Record<keyof T, true>): ReadonlySet<string> => new Set(Object.keys(f));
const BLOCK_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  jetstream: fields<JetStreamOptions>({
    storeDir: true,
    maxMemory: true,
    maxFile: true,
    syncInterval: true,
    domain: true,
  }),
  cluster: fields<ClusterOptions>({
    name: true,
    host: true,
    port: true,
    advertise: true,
    noAdvertise: true,
    routes: true,
    connectRetries: true,
    user: true,
    password: true,
    authTimeout: true,
    tls: true,
    permissions: true,
  }),
  tls: fields<TlsOptions>({
    certFile: true,
    keyFile: true,
    caFile: true,
    verify: true,
    verifyAndMap: true,
    timeout: true,
    ciphers: true,
    curves: true,
  }),
  websocket: fields<WebsocketOptions>({
    host: true,
    port: true,
    advertise: true,
    noTls: true,
    tls: true,
    sameOrigin: true,
    allowedOrigins: true,
    compression: true,
    handshakeTimeout: true,
    user: true,
    password: true,
    token: true,
    authTimeout: true,
    noAuthUser: true,
    jwtCookie: true,
  }),
  leafnodes: fields<LeafNodeOptions>({
    host: true,
    port: true,
    advertise: true,
    noAdvertise: true,
    user: true,
    password: true,
    account: true,
    users: true,
    authTimeout: true,
    tls: true,
    reconnectInterval: true,
    minVersion: true,
    remotes: true,
  }),
  streaming: fields<StreamingOptions>({
    clusterId: true,
    store: true,
    dir: true,
    maxChannels: true,
    maxMsgs: true,
    maxBytes: true,
    maxAge: true,
    maxSubs: true,
    maxInactivity: true,
    hbInterval: true,
    hbTimeout: true,
    hbFailCount: true,
  }),
};
/** The fields every camelCase AuthorizationConfig has (a file's `authorization {}` never has them all). */
const AUTHORIZATION_REQUIRED = Object.keys(emptyAuthorization());

/** Whether a key anywhere inside `v` is snake_case (file form: camelCase blocks have none). */
function hasSnakeKey(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasSnakeKey);
  if (!isPlainObject(v)) return false;
  return Object.entries(v).some(([k, x]) => k.includes('_') || hasSnakeKey(x));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Whether `value` under top-level `key` is in tsnats' camelCase form (see the module comment). */
function isCamelForm(key: string, value: unknown): boolean {
  if (!CAMEL_KEYS.has(key)) return false;
  if (key === 'mappings') return Array.isArray(value);
  if (key === 'authorization') {
    return isPlainObject(value) && AUTHORIZATION_REQUIRED.every((k) => k in value);
  }
  const known = BLOCK_FIELDS[key];
  if (known === undefined || value === undefined) return true;
  return isPlainObject(value) && Object.keys(value).every((k) => known.has(k)) && !hasSnakeKey(value);
}

/** Configurations built by tsnats itself (command line, configuration file): camelCase throughout. */
const BUILT = new WeakSet<object>();

/** Mark a ServerConfig built from flags or a file, so that `new Server()` takes it as it is. */
export function builtConfig(config: ServerConfig): ServerConfig {
  BUILT.add(config);
  return config;
}

/** Whether any key of `input` is written as in a configuration file. */
export function hasFileStyleKeys(input: ServerInput): boolean {
  for (const [key, value] of Object.entries(input)) {
    if (value !== undefined && !isCamelForm(key, value)) return true;
  }
  return false;
}

/**
 * The ServerConfig for embedded options: file-style keys loaded as a configuration file would be (throws
 * ConfigError with every problem, as `-t` reports them), camelCase keys on top.
 */
export function configFromInput(input: ServerInput): ServerConfig {
  if (BUILT.has(input)) return input as ServerConfig;
  const file: ConfMap = {};
  const camel: Record<string, unknown> = {};
  let fileKeys = 0;
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    if (isCamelForm(key, value)) {
      camel[key] = value;
    } else {
      file[key] = value as ConfValue;
      fileKeys++;
    }
  }
  if (fileKeys === 0) return input as ServerConfig;
  const loaded = configFromMap(file, SOURCE);
  return { ...loaded.config, ...(camel as ServerConfig) };
}

/**
 * `Server.fromConfigFile`'s configuration: the file (throws ConfigError as `-t` would report it), with
 * `overrides` on top as command-line flags would be, and `configFile` set so that `reload()` re-reads it.
 */
export function configFromFile(path: string, overrides: ServerInput = {}): ServerConfig {
  const loaded = loadConfigFile(path);
  const over = configFromInput(overrides);
  return builtConfig({ ...loaded.config, ...over, configFile: loaded.config.configFile ?? '' });
}
