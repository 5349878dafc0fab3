import { parseClusterListen, parseRouteUrl, RouteUrlError, splitRoutes } from '../cluster/url.js';
import { parseDuration } from '../conf/index.js';
import type { ServerConfig } from '../server/options.js';
import {
  type ClusterOptions,
  defaultClusterOptions,
  type StreamingOptions,
  TLS_TIMEOUT,
} from '../server/options.js';

/**
 * nats-server's command line, parsed the way Go's flag package does: `-f value`, `-f=value`, `--f value`
 * are all the same flag; booleans take no value but accept `-f=false`.
 */

/** What the command line asks for besides server options. */
export interface CommandLine {
  config: ServerConfig;
  /** Keys of `config` that were set on the command line (they override a config file). */
  explicit: Set<string>;
  help: boolean;
  version: boolean;
  helpTls: boolean;
  /** `-c FILE` */
  configFile: string;
  /** `-t`: check the configuration and exit. */
  checkConfig: boolean;
  /** `--signal CMD[=PID]` */
  signal: string;
}

export class FlagError extends Error {}

type Kind = 'string' | 'int' | 'bool' | 'duration' | 'size';

interface FlagSpec {
  names: string[];
  kind: Kind;
  /** Apply the parsed value. */
  set: (cl: CommandLine, value: string | number | boolean) => void;
}

function opt<K extends keyof ServerConfig>(key: K) {
  return (cl: CommandLine, v: string | number | boolean): void => {
    (cl.config as Record<string, unknown>)[key] = v;
    cl.explicit.add(key);
  };
}

/**
 * A cluster flag: fills `config.cluster` (created with nats-server's defaults) and records both `cluster`
 * and `cluster.<field>` as explicit, so a config file's `cluster {}` can be merged field by field.
 */
function clusterOpt(field: string, apply: (c: ClusterOptions, v: string | number | boolean) => void) {
  return (cl: CommandLine, v: string | number | boolean): void => {
    cl.config.cluster ??= defaultClusterOptions();
    try {
      apply(cl.config.cluster, v);
    } catch (e) {
      if (e instanceof RouteUrlError) throw new FlagError(e.message);
      throw e;
    }
    cl.explicit.add('cluster');
    cl.explicit.add(`cluster.${field}`);
  };
}

/** `--cluster`/`--cluster_listen nats://[user:pass@]host:port` (port -1: random). */
const clusterListen = clusterOpt('listen', (c, v) => {
  const l = parseClusterListen(v as string);
  c.host = l.host;
  c.port = l.port;
  c.user = l.user;
  c.password = l.password;
});

/** Flags of later features: recognised, so the message is clear, but refused until they exist. */
const NOT_YET: [string[], Kind, string][] = [
  [['s', 'syslog'], 'bool', 'syslog'],
  [['r', 'remote_syslog'], 'string', 'syslog'],
  [['profile'], 'int', 'profiling'],
  [['log_size_limit'], 'size', 'log rotation'],
];

const FLAGS: FlagSpec[] = [
  { names: ['a', 'addr', 'net'], kind: 'string', set: opt('host') },
  {
    names: ['p', 'port'],
    kind: 'int',
    set: (cl, v) => {
      // -1 picks a random free port, as in nats-server.
      cl.config.port = (v as number) < 0 ? 0 : (v as number);
      cl.explicit.add('port');
    },
  },
  { names: ['n', 'name', 'server_name'], kind: 'string', set: opt('serverName') },
  { names: ['P', 'pid'], kind: 'string', set: opt('pidFile') },
  { names: ['client_advertise'], kind: 'string', set: opt('clientAdvertise') },
  { names: ['ports_file_dir'], kind: 'string', set: opt('portsFileDir') },
  // Monitoring: 0 = off, -1 = a random free port.
  { names: ['m', 'http_port'], kind: 'int', set: opt('httpPort') },
  { names: ['ms', 'https_port'], kind: 'int', set: opt('httpsPort') },
  { names: ['max_traced_msg_len'], kind: 'int', set: opt('maxTracedMsgLen') },
  { names: ['l', 'log'], kind: 'string', set: opt('logFile') },
  { names: ['T', 'logtime'], kind: 'bool', set: opt('logtime') },
  { names: ['D', 'debug'], kind: 'bool', set: opt('debug') },
  { names: ['V', 'trace'], kind: 'bool', set: opt('trace') },
  {
    names: ['VV'],
    kind: 'bool',
    set: (cl, v) => opt('trace')(cl, v),
  },
  {
    names: ['DV', 'DVV'],
    kind: 'bool',
    set: (cl, v) => {
      opt('debug')(cl, v);
      opt('trace')(cl, v);
    },
  },
  // TLS: --tls turns it on; --tlsverify also requires and verifies client certificates.
  { names: ['tls'], kind: 'bool', set: (cl, v) => tlsFlag(cl, (t) => (t.enabled = v as boolean)) },
  { names: ['tlscert'], kind: 'string', set: (cl, v) => tlsFlag(cl, (t) => (t.certFile = v as string)) },
  { names: ['tlskey'], kind: 'string', set: (cl, v) => tlsFlag(cl, (t) => (t.keyFile = v as string)) },
  { names: ['tlscacert'], kind: 'string', set: (cl, v) => tlsFlag(cl, (t) => (t.caFile = v as string)) },
  {
    names: ['tlsverify'],
    kind: 'bool',
    set: (cl, v) =>
      tlsFlag(cl, (t) => {
        t.verify = v as boolean;
        if (v) t.enabled = true;
      }),
  },
  { names: ['user'], kind: 'string', set: opt('user') },
  { names: ['pass'], kind: 'string', set: opt('password') },
  { names: ['auth'], kind: 'string', set: opt('token') },
  // Limits (tsnats extras: nats-server sets these in the config file only).
  { names: ['max_payload'], kind: 'size', set: opt('maxPayload') },
  { names: ['max_control_line'], kind: 'size', set: opt('maxControlLine') },
  { names: ['max_connections'], kind: 'int', set: opt('maxConnections') },
  { names: ['max_subscriptions'], kind: 'int', set: opt('maxSubscriptions') },
  { names: ['max_pending'], kind: 'size', set: opt('maxPending') },
  { names: ['ping_interval'], kind: 'duration', set: opt('pingInterval') },
  { names: ['ping_max'], kind: 'int', set: opt('pingMax') },
  { names: ['write_deadline'], kind: 'duration', set: opt('writeDeadline') },
  // Clustering (nats-server's cluster flags).
  {
    names: ['routes'],
    kind: 'string',
    set: clusterOpt('routes', (c, v) => {
      c.routes = splitRoutes(v as string);
      for (const r of c.routes) parseRouteUrl(r);
    }),
  },
  { names: ['cluster', 'cluster_listen'], kind: 'string', set: clusterListen },
  { names: ['cluster_name'], kind: 'string', set: clusterOpt('name', (c, v) => (c.name = v as string)) },
  {
    names: ['cluster_advertise'],
    kind: 'string',
    set: clusterOpt('advertise', (c, v) => (c.advertise = v as string)),
  },
  {
    names: ['no_advertise'],
    kind: 'bool',
    set: clusterOpt('no_advertise', (c, v) => (c.noAdvertise = v as boolean)),
  },
  {
    names: ['connect_retries'],
    kind: 'int',
    set: clusterOpt('connect_retries', (c, v) => (c.connectRetries = v as number)),
  },
  // JetStream: -js turns it on; -sd alone does not (as in nats-server).
  { names: ['js', 'jetstream'], kind: 'bool', set: (cl, v) => jsFlag(cl, (j) => (j.enabled = v as boolean)) },
  {
    names: ['sd', 'store_dir'],
    kind: 'string',
    set: (cl, v) => jsFlag(cl, (j) => (j.storeDir = v as string)),
  },
  // NATS Streaming (nats-streaming-server's flags): -cid or -st turns it on.
  { names: ['cid', 'cluster_id'], kind: 'string', set: stanOpt('clusterId') },
  {
    names: ['st', 'store'],
    kind: 'string',
    set: (cl, v) => {
      const t = (v as string).toLowerCase();
      if (t !== 'file' && t !== 'memory') {
        throw new FlagError(
          `unsupported store type "${v as string}" (tsnats stores in JetStream: file or memory)`,
        );
      }
      stanOpt('store')(cl, t);
    },
  },
  { names: ['dir'], kind: 'string', set: stanOpt('dir') },
  { names: ['mc', 'max_channels'], kind: 'int', set: stanOpt('maxChannels') },
  { names: ['msu', 'max_subs'], kind: 'int', set: stanOpt('maxSubs') },
  { names: ['mm', 'max_msgs'], kind: 'int', set: stanOpt('maxMsgs') },
  { names: ['mb', 'max_bytes'], kind: 'size', set: stanOpt('maxBytes') },
  { names: ['ma', 'max_age'], kind: 'duration', set: stanOpt('maxAge') },
  { names: ['mi', 'max_inactivity'], kind: 'duration', set: stanOpt('maxInactivity') },
  { names: ['hbi', 'hb_interval'], kind: 'duration', set: stanOpt('hbInterval') },
  { names: ['hbt', 'hb_timeout'], kind: 'duration', set: stanOpt('hbTimeout') },
  { names: ['hbf', 'hb_fail_count'], kind: 'int', set: stanOpt('hbFailCount') },
  { names: ['h', 'help'], kind: 'bool', set: (cl, v) => (cl.help = v as boolean) },
  { names: ['v', 'version'], kind: 'bool', set: (cl, v) => (cl.version = v as boolean) },
  { names: ['help_tls'], kind: 'bool', set: (cl, v) => (cl.helpTls = v as boolean) },
  { names: ['c', 'config'], kind: 'string', set: (cl, v) => (cl.configFile = v as string) },
  { names: ['t'], kind: 'bool', set: (cl, v) => (cl.checkConfig = v as boolean) },
  { names: ['sl', 'signal'], kind: 'string', set: (cl, v) => (cl.signal = v as string) },
];

/**
 * A NATS Streaming flag: fills `config.streaming` with only the fields given (the rest take their
 * defaults, or a config file's `streaming {}` values: mergeCommandLine) and records `streaming` and
 * `streaming.<field>` as explicit.
 */
function stanOpt(field: keyof StreamingOptions) {
  return (cl: CommandLine, v: string | number | boolean): void => {
    cl.config.streaming ??= {};
    (cl.config.streaming as Record<string, unknown>)[field] = v;
    cl.explicit.add('streaming');
    cl.explicit.add(`streaming.${field}`);
  };
}

/** TLS flags as given; turned into options.tls by tlsFromFlags once all flags are read. */
interface TlsFlags {
  enabled: boolean;
  certFile: string;
  keyFile: string;
  caFile: string;
  verify: boolean;
}

const tlsFlagState = new WeakMap<CommandLine, TlsFlags>();

function tlsFlag(cl: CommandLine, set: (t: TlsFlags) => void): void {
  let t = tlsFlagState.get(cl);
  if (t === undefined) {
    t = { enabled: false, certFile: '', keyFile: '', caFile: '', verify: false };
    tlsFlagState.set(cl, t);
  }
  set(t);
}

/** nats-server: --tls or --tlsverify with --tlscert and --tlskey turn client TLS on. */
function tlsFromFlags(cl: CommandLine): void {
  const t = tlsFlagState.get(cl);
  if (t === undefined || !t.enabled) return;
  if (t.certFile === '' || t.keyFile === '') throw new FlagError('TLS requires --tlscert and --tlskey');
  cl.config.tls = {
    certFile: t.certFile,
    keyFile: t.keyFile,
    caFile: t.caFile,
    verify: t.verify,
    verifyAndMap: false,
    timeout: TLS_TIMEOUT,
  };
  cl.explicit.add('tls');
}

/** JetStream flags as given; turned into options.jetstream once all flags are read. */
interface JsFlags {
  enabled: boolean;
  storeDir: string;
}

const jsFlagState = new WeakMap<CommandLine, JsFlags>();

function jsFlag(cl: CommandLine, set: (j: JsFlags) => void): void {
  let j = jsFlagState.get(cl);
  if (j === undefined) {
    j = { enabled: false, storeDir: '' };
    jsFlagState.set(cl, j);
  }
  set(j);
}

/**
 * -js enables JetStream, -sd sets its store directory. As with nats-server, they override only those
 * settings: a config file's `jetstream` block keeps its domain and limits (mergeCommandLine).
 */
function jetstreamFromFlags(cl: CommandLine): void {
  const j = jsFlagState.get(cl);
  if (j === undefined || !j.enabled) return;
  cl.config.jetstream = { storeDir: j.storeDir };
  cl.explicit.add('jetstream');
  if (j.storeDir !== '') cl.explicit.add('jetstream.storeDir');
}

const BY_NAME = new Map<string, FlagSpec>();
for (const f of FLAGS) for (const n of f.names) BY_NAME.set(n, f);
const NOT_YET_BY_NAME = new Map<string, [Kind, string]>();
for (const [names, kind, what] of NOT_YET) for (const n of names) NOT_YET_BY_NAME.set(n, [kind, what]);

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1024,
  ki: 1024,
  kib: 1024,
  m: 1000 ** 2,
  mb: 1024 ** 2,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1024 ** 3,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
};

/** A byte size: a number with an optional k/kb/m/mb/g/gb suffix (as in the config file). */
export function parseSizeValue(s: string): number {
  const m = /^(\d+)\s*([a-zA-Z]*)$/.exec(s.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new FlagError(`invalid size "${s}"`);
  return Number(m[1]) * unit;
}

/** A Go duration ("2m", "1h30m", "500ms") or a bare number of seconds; returns milliseconds. */
export function parseDurationValue(s: string): number {
  const t = s.trim();
  try {
    return parseDuration(/^\d+(\.\d+)?$/.test(t) ? Number(t) : t);
  } catch {
    throw new FlagError(`invalid duration "${s}"`);
  }
}

function parseValue(name: string, kind: Kind, raw: string): string | number | boolean {
  switch (kind) {
    case 'string':
      return raw;
    case 'int': {
      if (!/^-?\d+$/.test(raw)) throw new FlagError(`invalid value "${raw}" for flag -${name}: parse error`);
      return Number(raw);
    }
    case 'bool': {
      const v = raw.toLowerCase();
      if (['1', 't', 'true'].includes(v)) return true;
      if (['0', 'f', 'false'].includes(v)) return false;
      throw new FlagError(`invalid boolean value "${raw}" for -${name}: parse error`);
    }
    case 'duration':
      return parseDurationValue(raw);
    case 'size':
      return parseSizeValue(raw);
  }
}

/** Parse argv (without node and the script). Throws FlagError with a message for the user. */
export function parseCommandLine(argv: string[]): CommandLine {
  const cl: CommandLine = {
    config: {},
    explicit: new Set(),
    help: false,
    version: false,
    helpTls: false,
    configFile: '',
    checkConfig: false,
    signal: '',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-') {
      throw new FlagError(`unexpected argument "${arg}" (flags start with -; see -h)`);
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    const spec = BY_NAME.get(name);
    if (spec === undefined) {
      const later = NOT_YET_BY_NAME.get(name);
      if (later !== undefined) {
        throw new FlagError(`flag -${name} (${later[1]}) is not supported by this version of tsnats yet`);
      }
      throw new FlagError(`flag provided but not defined: -${name} (see -h for the supported flags)`);
    }
    if (value === undefined) {
      if (spec.kind === 'bool') {
        value = 'true';
      } else {
        if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: -${name}`);
        value = argv[++i]!;
      }
    }
    spec.set(cl, parseValue(name, spec.kind, value));
  }
  tlsFromFlags(cl);
  jetstreamFromFlags(cl);
  // As in nats-server, clustering needs a listen address: without --cluster (and without a config file
  // that may give one) the other cluster flags change nothing.
  if (cl.config.cluster !== undefined && !cl.explicit.has('cluster.listen') && cl.configFile === '') {
    delete cl.config.cluster;
    for (const k of [...cl.explicit]) if (k === 'cluster' || k.startsWith('cluster.')) cl.explicit.delete(k);
  }
  return cl;
}

export const USAGE = `Usage: tsnats [options]

Server Options:
    -a, --addr, --net <host>         Bind to host address (default: 0.0.0.0)
    -p, --port <port>                Use port for clients (default: 4222; -1 picks a random free port)
    -n, --name
        --server_name <server_name>  Server name (default: auto)
    -P, --pid <file>                 File to store PID
        --client_advertise <string>  Client URL to advertise to other servers
        --ports_file_dir <dir>       Creates a ports file in the specified directory (<executable_name>_<pid>.ports).
    -m, --http_port <port>           Use port for http monitoring (-1 picks a random free port)
    -ms,--https_port <port>          Use port for https monitoring (needs --tls or tls {})

Logging Options:
    -l, --log <file>                 File to redirect log output
    -T, --logtime                    Timestamp log entries (default: true)
    -D, --debug                      Enable debugging output
    -V, --trace                      Trace the raw protocol
    -VV                              Verbose trace (same as -V)
    -DV                              Debug and trace
    -DVV                             Debug and verbose trace
        --max_traced_msg_len <len>   Maximum printable length for traced messages (0 for unlimited)

Authorization Options:
        --user <user>                User required for connections
        --pass <password>            Password required for connections
        --auth <token>               Authorization token required for connections

TLS Options:
        --tls                        Enable TLS, do not verify clients (default: false)
        --tlscert <file>             Server certificate file
        --tlskey <file>              Private key for server certificate
        --tlsverify                  Enable TLS, verify client certificates
        --tlscacert <file>           Client certificate CA for verification

Limits (tsnats; nats-server sets these in its config file):
        --max_payload <size>         Maximum message payload (default: 1MB)
        --max_control_line <size>    Maximum control line (default: 4KB)
        --max_connections <n>        Maximum client connections (default: 65536)
        --max_subscriptions <n>      Maximum subscriptions per connection (default: 0, unlimited)
        --max_pending <size>         Maximum pending bytes per connection before it is a slow consumer (default: 64MB)
        --ping_interval <duration>   Interval between server PINGs (default: 2m)
        --ping_max <n>               Outstanding PINGs before a connection is stale (default: 2)
        --write_deadline <duration>  Time a blocked write may take before the client is a slow consumer (default: 10s)

JetStream Options:
    -js, --jetstream                 Enable JetStream functionality
    -sd, --store_dir <dir>           Set the storage directory (data goes to <dir>/jetstream)

NATS Streaming Options (the streaming protocol on JetStream storage):
    -cid, --cluster_id <string>      Serve NATS Streaming clients of this cluster ID
    -st, --store <string>            Store type: file or memory (turns JetStream on when -js is not given)
        --dir <string>               JetStream store directory when -sd is not given
    -mc, --max_channels <int>        Max number of channels (0 for unlimited; default: 100)
    -msu, --max_subs <int>           Max number of subscriptions per channel (0 for unlimited; default: 1000)
    -mm, --max_msgs <int>            Max number of messages per channel (0 for unlimited; default: 1000000)
    -mb, --max_bytes <size>          Max messages total size per channel (0 for unlimited; default: 1000000KB)
    -ma, --max_age <duration>        Max duration a message can be stored ("0s" for unlimited)
    -mi, --max_inactivity <duration> Max inactivity (no new message, no subscription) after which a channel is deleted
    -hbi, --hb_interval <duration>   Interval at which the server sends heartbeats to a client (default: 30s)
    -hbt, --hb_timeout <duration>    How long the server waits for a heartbeat response (default: 10s)
    -hbf, --hb_fail_count <int>      Failed heartbeats before the server closes a client (default: 10)

Cluster Options:
        --routes <rurl-1, rurl-2>    Routes to solicit and connect
        --cluster <cluster-url>      Cluster URL for solicited routes (nats://[user:pass@]host:port; port -1 picks a random free port)
        --cluster_listen <url>       Same as --cluster
        --cluster_name <string>      Cluster Name, if not set one will be dynamically generated
        --no_advertise <bool>        Do not advertise known cluster information to clients
        --cluster_advertise <string> Cluster URL to advertise to other servers
        --connect_retries <number>   For implicit routes, number of connect retries

Configuration Options:
    -c, --config <file>              Configuration file (command-line flags override it)
    -t                               Test configuration and exit
    -sl,--signal <signal>[=<pid>]    Send signal to a tsnats process (ldm, stop, quit, term, reopen, reload);
                                     <pid> can be a PID or the path to a PID file

Common Options:
    -h, --help                       Show this message
    -v, --version                    Show version
`;
