/**
 * The configuration file's `streaming {}` block, with nats-streaming-server's key names and aliases
 * (server/conf.go). Limits may be written at the top of the block, as tsnats documents them, or inside
 * `store_limits {}` as nats-streaming-server writes them:
 *
 *   streaming {
 *     cluster_id: my-cluster      # also `id`, `cid`
 *     store: file                 # file | memory (also `store_type`, `st`)
 *     dir: /data/stan             # JetStream's store directory when jetstream {} gives none (`datastore`)
 *     max_channels: 100           # (also inside store_limits {})
 *     max_msgs: 1000000
 *     max_bytes: 1GB
 *     max_age: "24h"
 *     max_subs: 1000
 *     max_inactivity: "1h"
 *     hb_interval: "30s"
 *     hb_timeout: "10s"
 *     hb_fail_count: 10
 *   }
 */
import type { ConfigField, ConfigReader } from '../config/reader.js';
import { defaultStreamingOptions, type StreamingOptions } from '../server/options.js';

/** nats-streaming-server keys tsnats refuses, with the reason (README: what differs). */
const NOT_SUPPORTED: Record<string, string> = {};
for (const [keys, what] of [
  [['discover_prefix'], 'clients discover the server on _STAN.discover.<cluster_id>'],
  [['sd', 'stan_debug', 'sv', 'stan_trace', 'syslog_name'], "use the server's debug, trace and log options"],
  [
    [
      'ns',
      'nats_server',
      'nats_server_url',
      'credentials',
      'username',
      'user',
      'password',
      'pass',
      'token',
      'nkey_seed_file',
      'secure',
      'tls',
    ],
    'the streaming server is this NATS server',
  ],
  [
    ['file', 'file_options', 'sql', 'sql_options', 'encrypt', 'encryption_cipher', 'encryption_key'],
    'channels are JetStream streams: use jetstream {}',
  ],
  [['ft_group', 'ft_group_name', 'cluster', 'partitioning'], 'fault tolerance, clustering and partitioning'],
  [
    ['replace_durable', 'replace_durables', 'replace_duplicate_durable', 'replace_duplicate_durables'],
    'replacing durables',
  ],
] as [string[], string][]) {
  for (const k of keys) NOT_SUPPORTED[k] = what;
}

/** nats-streaming-server's clusterID check: letters, digits, `-` and `_`. */
export const CLUSTER_ID_RE = /^[a-zA-Z0-9_-]+$/;

/** Parse `streaming {}` into the configuration being built. */
export function parseStreamingBlock(r: ConfigReader, f: ConfigField): void {
  const o = defaultStreamingOptions();
  const block = r.map(f);
  const limits = limitHandlers(r, o);
  r.forEachKey(
    block,
    f.path,
    {
      id: (x) => clusterId(r, x, o),
      cid: (x) => clusterId(r, x, o),
      cluster_id: (x) => clusterId(r, x, o),
      st: (x) => storeType(r, x, o),
      store: (x) => storeType(r, x, o),
      store_type: (x) => storeType(r, x, o),
      storetype: (x) => storeType(r, x, o),
      dir: (x) => (o.dir = r.string(x)),
      datastore: (x) => (o.dir = r.string(x)),
      limits: (x) => r.forEachKey(r.map(x), x.path, limits),
      store_limits: (x) => r.forEachKey(r.map(x), x.path, limits),
      storelimits: (x) => r.forEachKey(r.map(x), x.path, limits),
      hbi: (x) => (o.hbInterval = positiveDuration(r, x)),
      hb_interval: (x) => (o.hbInterval = positiveDuration(r, x)),
      server_to_client_hb_interval: (x) => (o.hbInterval = positiveDuration(r, x)),
      hbt: (x) => (o.hbTimeout = positiveDuration(r, x)),
      hb_timeout: (x) => (o.hbTimeout = positiveDuration(r, x)),
      server_to_client_hb_timeout: (x) => (o.hbTimeout = positiveDuration(r, x)),
      hbf: (x) => (o.hbFailCount = r.integer(x, { min: 0 })),
      hb_fail_count: (x) => (o.hbFailCount = r.integer(x, { min: 0 })),
      server_to_client_hb_fail_count: (x) => (o.hbFailCount = r.integer(x, { min: 0 })),
      ...limits,
    },
    {
      unknown: (x) => {
        const what = NOT_SUPPORTED[String(x.key).toLowerCase()];
        return what !== undefined
          ? `${x.path}: not supported by tsnats (${what})`
          : `unknown field ${JSON.stringify(x.key)}`;
      },
    },
  );
  r.config.streaming = o;
}

function limitHandlers(r: ConfigReader, o: StreamingOptions): Record<string, (f: ConfigField) => void> {
  const count = (x: ConfigField): number => r.integer(x, { min: 0 });
  const maxChannels = (x: ConfigField): void => {
    o.maxChannels = count(x);
  };
  const maxSubs = (x: ConfigField): void => {
    o.maxSubs = count(x);
  };
  const maxMsgs = (x: ConfigField): void => {
    o.maxMsgs = count(x);
  };
  const maxBytes = (x: ConfigField): void => {
    o.maxBytes = byteSize(r, x);
  };
  const maxAge = (x: ConfigField): void => {
    o.maxAge = r.durationString(x);
  };
  const maxInactivity = (x: ConfigField): void => {
    o.maxInactivity = r.durationString(x);
  };
  return {
    mc: maxChannels,
    max_channels: maxChannels,
    maxchannels: maxChannels,
    msu: maxSubs,
    max_subs: maxSubs,
    max_subscriptions: maxSubs,
    maxsubscriptions: maxSubs,
    mm: maxMsgs,
    max_msgs: maxMsgs,
    maxmsgs: maxMsgs,
    max_count: maxMsgs,
    maxcount: maxMsgs,
    mb: maxBytes,
    max_bytes: maxBytes,
    maxbytes: maxBytes,
    ma: maxAge,
    max_age: maxAge,
    maxage: maxAge,
    mi: maxInactivity,
    max_inactivity: maxInactivity,
    maxinactivity: maxInactivity,
  };
}

function clusterId(r: ConfigReader, f: ConfigField, o: StreamingOptions): void {
  const id = r.string(f);
  if (!CLUSTER_ID_RE.test(id)) {
    r.fail(f, `invalid cluster_id ${JSON.stringify(id)}: only letters, digits, '-' and '_' are allowed`);
  }
  o.clusterId = id;
}

function storeType(r: ConfigReader, f: ConfigField, o: StreamingOptions): void {
  const v = r.string(f).toLowerCase();
  if (v !== 'file' && v !== 'memory') {
    r.fail(
      f,
      `unsupported store type ${JSON.stringify(r.string(f))} (tsnats stores in JetStream: file or memory)`,
    );
  }
  o.store = v;
}

function positiveDuration(r: ConfigReader, f: ConfigField): number {
  const ms = r.durationString(f);
  if (ms <= 0) r.fail(f, `${f.path} must be a positive duration`);
  return ms;
}

const SIZE_UNITS: Record<string, number> = { '': 1, B: 1, K: 1024, KB: 1024, M: 1024 ** 2, MB: 1024 ** 2 };
SIZE_UNITS.G = 1024 ** 3;
SIZE_UNITS.GB = 1024 ** 3;
SIZE_UNITS.T = 1024 ** 4;
SIZE_UNITS.TB = 1024 ** 4;

/** An integer number of bytes, or a string such as "512MB" (1024-based units). */
function byteSize(r: ConfigReader, f: ConfigField): number {
  const v = f.value;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'string') {
    const m = /^(\d+)\s*([a-zA-Z]*)$/.exec(v.trim());
    const unit = m ? SIZE_UNITS[m[2]!.toUpperCase()] : undefined;
    if (m && unit !== undefined) return Number(m[1]) * unit;
  }
  return r.fail(f, `${f.path}: expected a number of bytes or a size such as "512MB"`);
}
