/**
 * The configuration file's JetStream keys (nats-server's parseJetStream and the top-level `store_dir`):
 *
 *   jetstream: enabled                  # or true / false / "disabled"
 *   jetstream {
 *     store_dir: /data/nats             # data goes to /data/nats/jetstream (also `store`, `storedir`)
 *     max_memory_store: 1G              # bytes, or a string with K/M/G/T (also `max_mem_store`, `max_mem`)
 *     max_file_store: 10G               # (also `max_file`)
 *     domain: hub
 *     sync_interval: "2m"               # tsnats: how often file stores flush (nats-server 2.10's key)
 *     enabled: true                     # a block can also turn JetStream off
 *   }
 *   store_dir: /data/nats               # top level, instead of the block's store_dir
 *
 * As in nats-server, `store_dir` alone does not turn JetStream on. The config loader (config/load.ts)
 * calls parseJetStreamKey and parseStoreDirKey for the keys; the ServerConfig it produces carries
 * `jetstream` when JetStream is enabled.
 */

import { type JsAccountLimits, unlimitedJsAccount } from '../auth/types.js';
import type { ConfigField, ConfigReader } from '../config/reader.js';
import type { JetStreamOptions } from '../server/options.js';

/** What the keys seen so far say, per load (the keys may come in any order). */
interface Pending {
  enabled: boolean;
  storeDir: string;
  maxMemory: number | undefined;
  maxFile: number | undefined;
  domain: string;
  syncInterval: number | undefined;
}

const pending = new WeakMap<ConfigReader, Pending>();

function stateOf(r: ConfigReader): Pending {
  let p = pending.get(r);
  if (p === undefined) {
    p = {
      enabled: false,
      storeDir: '',
      maxMemory: undefined,
      maxFile: undefined,
      domain: '',
      syncInterval: undefined,
    };
    pending.set(r, p);
  }
  return p;
}

/** Put the options into the configuration being built (or take them out when JetStream is off). */
function apply(r: ConfigReader, p: Pending): void {
  if (!p.enabled) {
    delete r.config.jetstream;
    return;
  }
  const js: JetStreamOptions = { storeDir: p.storeDir };
  if (p.maxMemory !== undefined) js.maxMemory = p.maxMemory;
  if (p.maxFile !== undefined) js.maxFile = p.maxFile;
  if (p.domain !== '') js.domain = p.domain;
  if (p.syncInterval !== undefined) js.syncInterval = p.syncInterval;
  r.config.jetstream = js;
}

const SIZE_SHIFT: Record<string, number> = { K: 10, M: 20, G: 30, T: 40 };

/** nats-server's getStorageSize: an integer, or a string of digits ending in K, M, G or T (powers of 1024). */
function storageSize(r: ConfigReader, f: ConfigField, name: string): number {
  const v = f.value;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v !== 'string') return r.fail(f, `${name} must be int64 or string`);
  if (v === '') return 0;
  const shift = SIZE_SHIFT[v.slice(-1)];
  const digits = v.slice(0, -1);
  if (!/^[+-]?\d+$/.test(digits)) {
    return r.fail(f, `${name} strconv.ParseInt: parsing ${JSON.stringify(digits)}: invalid syntax`);
  }
  if (shift === undefined) return r.fail(f, `${name} sizes defined as strings must end in K, M, G, T`);
  return Number(digits) * 2 ** shift;
}

function setStoreDir(r: ConfigReader, f: ConfigField, p: Pending): void {
  const dir = r.string(f);
  // store_dir may be given at the top level or in the block, not both (nats-server's message).
  if (p.storeDir !== '') r.fail(f, "Duplicate 'store_dir' configuration");
  p.storeDir = dir;
}

/** The top-level `jetstream` key: a boolean, `enabled`/`disabled`, or a block. */
export function parseJetStreamKey(r: ConfigReader, f: ConfigField): void {
  const p = stateOf(r);
  const v = f.value;
  if (typeof v === 'boolean') {
    p.enabled = v;
  } else if (typeof v === 'string') {
    switch (v.toLowerCase()) {
      case 'enabled':
      case 'enable':
        p.enabled = true;
        break;
      case 'disabled':
      case 'disable':
        p.enabled = false;
        break;
      default:
        r.fail(f, `Expected 'enabled' or 'disabled' for string value, got '${v}'`);
    }
  } else if (typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)) {
    let enable = true;
    const notYet = (what: string) => (x: ConfigField) =>
      r.fail(x, `${x.path}: not supported by tsnats yet (${what})`);
    r.forEachKey(r.map(f), f.path, {
      store: (x) => setStoreDir(r, x, p),
      store_dir: (x) => setStoreDir(r, x, p),
      storedir: (x) => setStoreDir(r, x, p),
      max_memory_store: (x) => (p.maxMemory = storageSize(r, x, 'max_mem_store')),
      max_mem_store: (x) => (p.maxMemory = storageSize(r, x, 'max_mem_store')),
      max_mem: (x) => (p.maxMemory = storageSize(r, x, 'max_mem_store')),
      max_file_store: (x) => (p.maxFile = storageSize(r, x, 'max_file_store')),
      max_file: (x) => (p.maxFile = storageSize(r, x, 'max_file_store')),
      domain: (x) => (p.domain = r.string(x)),
      enable: (x) => (enable = r.bool(x)),
      enabled: (x) => (enable = r.bool(x)),
      sync_interval: (x) => (p.syncInterval = r.duration(x)),
      sync: (x) => (p.syncInterval = r.duration(x)),
      key: notYet('encryption at rest'),
      ek: notYet('encryption at rest'),
      encryption_key: notYet('encryption at rest'),
      cipher: notYet('encryption at rest'),
      limits: notYet('JetStream API limits'),
      unique_tag: notYet('clustered JetStream'),
      max_outstanding_catchup: notYet('clustered JetStream'),
      extension_hint: notYet('JetStream extension hints'),
    });
    p.enabled = enable;
  } else {
    r.fail(
      f,
      `Expected map, bool or string to define JetStream, got ${Array.isArray(v) ? 'array' : typeof v}`,
    );
  }
  apply(r, p);
}

/** The top-level `store_dir` (`storedir`) key. */
export function parseStoreDirKey(r: ConfigReader, f: ConfigField): void {
  const p = stateOf(r);
  setStoreDir(r, f, p);
  apply(r, p);
}

/**
 * `jetstream` inside an account (nats-server's parseJetStreamForAccount): `true`/`enabled` for no limits,
 * `false`/`disabled`, or a map of limits; a limit not given is unlimited (-1).
 *
 *   accounts { A: { jetstream: { max_mem: 1G, max_file: 10G, max_streams: 10, max_consumers: 100,
 *                                max_ack_pending: 1000, mem_max_stream_bytes: 64M,
 *                                disk_max_stream_bytes: 1G, max_bytes_required: true } } }
 */
export function parseAccountJetStream(r: ConfigReader, f: ConfigField): JsAccountLimits | false {
  const v = f.value;
  if (typeof v === 'boolean') return v ? unlimitedJsAccount() : false;
  if (typeof v === 'string') {
    switch (v.toLowerCase()) {
      case 'enabled':
      case 'enable':
        return unlimitedJsAccount();
      case 'disabled':
      case 'disable':
        return false;
      default:
        return r.fail(f, `Expected 'enabled' or 'disabled' for string value, got '${v}'`);
    }
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Date) {
    return r.fail(
      f,
      `Expected map, bool or string to define JetStream, got ${Array.isArray(v) ? 'array' : typeof v}`,
    );
  }
  const lim = unlimitedJsAccount();
  const size = (x: ConfigField): number => {
    if (typeof x.value !== 'number' || !Number.isInteger(x.value)) {
      r.fail(x, `Expected a parseable size for ${JSON.stringify(x.key)}, got ${String(x.value)}`);
    }
    return x.value;
  };
  const keys: Record<string, (x: ConfigField) => void> = {};
  const alias = (names: string[], fn: (x: ConfigField) => void): void => {
    for (const n of names) keys[n] = fn;
  };
  alias(['max_memory', 'max_mem', 'mem', 'memory'], (x) => (lim.maxMemory = size(x)));
  alias(['max_store', 'max_file', 'max_disk', 'store', 'disk'], (x) => (lim.maxStore = size(x)));
  alias(['max_streams', 'streams'], (x) => (lim.maxStreams = size(x)));
  alias(['max_consumers', 'consumers'], (x) => (lim.maxConsumers = size(x)));
  alias(['max_ack_pending'], (x) => (lim.maxAckPending = size(x)));
  alias(['mem_max_stream_bytes', 'memory_max_stream_bytes'], (x) => (lim.memoryMaxStreamBytes = size(x)));
  alias(['disk_max_stream_bytes', 'store_max_stream_bytes'], (x) => (lim.storeMaxStreamBytes = size(x)));
  alias(['max_bytes_required', 'max_stream_bytes', 'max_bytes'], (x) => {
    if (typeof x.value !== 'boolean') {
      r.fail(x, `Expected a parseable bool for ${JSON.stringify(x.key)}, got ${String(x.value)}`);
    }
    lim.maxBytesRequired = x.value;
  });
  r.forEachKey(r.map(f), f.path, keys);
  return lim;
}
