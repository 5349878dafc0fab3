/**
 * JetStream for one server (nats-server jetstream.go): limits and storage location, the JetStream-enabled
 * accounts, the API subscription in each of them, recovery of file streams at start, and usage numbers
 * for $JS.API.INFO and /jsz.
 *
 * Data lives in `<store_dir>/jetstream/<account>/streams/<stream>/` as with nats-server (`store_dir`
 * defaults to `<tmp>/nats`). Which accounts, as nats-server's enableJetStreamAccounts: the global account
 * when no other account is configured (the system account aside), otherwise the accounts whose `jetstream`
 * enables it, with their limits. The others answer the API with 10039 (api/not-enabled.ts).
 */
import { mkdirSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { type JsLimitTiers, unlimitedJsAccount } from '../auth/types.js';
import type { Account } from '../server/account.js';
import type { ServerCore } from '../server/core.js';
import type { Delivery } from '../server/delivery.js';
import type { JetStreamOptions } from '../server/options.js';
import type { Subscription } from '../server/subscription.js';
import { JsAccount } from './account.js';
import { registerConsumerApi } from './api/consumers.js';
import { ApiRouter } from './api/dispatch.js';
import {
  type ApiError,
  newJSMemoryResourcesExceededError,
  newJSStorageResourcesExceededError,
} from './api/errors.generated.js';
import { answerNotEnabled } from './api/not-enabled.js';
import { registerSnapshotApi, SNAP_STAGING_DIR } from './api/snapshot.js';
import { registerStreamApi, registerUnsupportedApi } from './api/streams.js';
import { JS_ALL_API } from './api/types.js';
import { JetStreamCluster } from './cluster/cluster.js';
import type { StreamConfig } from './config.js';
import { untiered } from './limit-tiers.js';
import { FileStore } from './store/filestore/filestore.js';
import { MemStore } from './store/memstore.js';
import type { StoreLimits, StreamStore } from './store/store.js';

/** The directory nats-server puts under store_dir. */
export const JETSTREAM_STORE_DIR = 'jetstream';
/** nats-server's JetStreamMaxMemDefault, when system memory is unknown. */
const MAX_MEM_DEFAULT = 1024 * 1024 * 1024;

/** What /jsz and /varz show as `config` (nats-server's JetStreamConfig). */
export interface JetStreamConfigInfo {
  max_memory: number;
  max_storage: number;
  store_dir: string;
  domain?: string;
}

/** Creates the store of a stream; replaceable for tests. */
export type StoreFactory = (
  cfg: StreamConfig,
  dir: string,
  limits: StoreLimits,
  syncInterval?: number,
) => StreamStore;

/** nats-server's directory of a stream's message blocks (beside meta.inf). */
export const MSGS_DIR = 'msgs';

/** Memory streams get a MemStore; file streams a FileStore in `<stream dir>/msgs` (with group commit). */
function defaultStoreFactory(
  cfg: StreamConfig,
  dir: string,
  limits: StoreLimits,
  syncInterval?: number,
): StreamStore {
  if (cfg.storage === 'memory') return new MemStore(limits);
  // Group commit: one write per batch of publishes, done before the batch's PubAcks go out.
  return new FileStore(join(dir, MSGS_DIR), limits, {
    groupCommit: true,
    compression: cfg.compression ?? 'none',
    ...(syncInterval !== undefined ? { syncIntervalMs: syncInterval } : {}),
  });
}

export class JetStream {
  readonly server: ServerCore;
  /** `<store_dir>/jetstream`. */
  readonly storeDir: string;
  readonly maxMemory: number;
  readonly maxStore: number;
  readonly domain: string;
  readonly syncInterval: number | undefined;
  /** Where JetStream publishes: the server's deferred delivery (delivery.ts, re-entrancy rule). */
  readonly out: Delivery;
  /** API subjects and their handlers; consumers (issue 7) register theirs here. */
  readonly api: ApiRouter;
  readonly accounts = new Map<string, JsAccount>();
  /**
   * Clustered JetStream (cluster/), when the server is in a cluster and has a server name: streams and
   * consumers are placed by the meta group and replicated; the API is answered in the system account.
   */
  readonly cluster: JetStreamCluster | undefined;
  /** Totals over all accounts (nats-server's jetStream.apiTotal / apiErrors). */
  apiTotal = 0;
  apiErrors = 0;
  readonly started = new Date();
  /** Bytes reserved by streams' max_bytes, by storage type. */
  private memReserved = 0;
  private storeReserved = 0;
  private readonly apiSubs = new Map<string, Subscription>();
  /** The API subscriptions of the accounts without JetStream (answered with 10039). */
  private readonly notEnabledSubs: [Account, Subscription][] = [];
  private storeFactory: StoreFactory = defaultStoreFactory;
  /** Usage is summed over all streams at most this often (the publish path checks the limits). */
  private usageAt = 0;
  private usageCache = { memory: 0, storage: 0 };
  /** Bytes publishes may have added since usageCache was computed (see limitsExceeded). */
  private grown = { memory: 0, storage: 0 };

  constructor(server: ServerCore, opts: JetStreamOptions) {
    this.server = server;
    const base = opts.storeDir !== '' ? opts.storeDir : join(tmpdir(), 'nats');
    this.storeDir = join(base, JETSTREAM_STORE_DIR);
    this.domain = opts.domain ?? '';
    this.syncInterval = opts.syncInterval;
    const mem = opts.maxMemory ?? -1;
    this.maxMemory = mem >= 0 ? mem : Math.floor((totalmem() / 4) * 3) || MAX_MEM_DEFAULT;
    const file = opts.maxFile ?? -1;
    this.maxStore = file >= 0 ? file : -1;
    this.out = server.delivery;
    this.api = new ApiRouter(this);
    registerStreamApi(this.api);
    registerConsumerApi(this.api);
    registerSnapshotApi(this.api);
    registerUnsupportedApi(this.api);
    const o = server.options;
    const sys = server.systemAccount;
    if (o.cluster !== undefined && o.serverName !== '' && sys !== undefined) {
      this.cluster = new JetStreamCluster(this, sys);
    }
  }

  /** Use another store implementation (tests). */
  setStoreFactory(f: StoreFactory): void {
    this.storeFactory = f;
  }

  createStore(cfg: StreamConfig, dir: string, limits: StoreLimits): StreamStore {
    return this.storeFactory(cfg, dir, limits, this.syncInterval);
  }

  /** Create the store directory, enable the accounts and restore their file streams. */
  start(): void {
    const log = this.server.logger;
    log.notice('Starting JetStream');
    mkdirSync(this.storeDir, { recursive: true });
    // Snapshots and restores cut short by a stop leave their staging files (nats-server clears them too).
    rmSync(join(this.storeDir, SNAP_STAGING_DIR), { recursive: true, force: true });
    const maxStore = this.maxStore >= 0 ? this.maxStore : this.diskAvailable();
    (this as { maxStore: number }).maxStore = maxStore;
    log.notice('---------------- JETSTREAM ----------------');
    log.notice(`  Max Memory:      ${friendlyBytes(this.maxMemory)}`);
    log.notice(`  Max Storage:     ${friendlyBytes(maxStore)}`);
    log.notice(`  Store Directory: "${this.storeDir}"`);
    if (this.domain !== '') log.notice(`  Domain:          ${this.domain}`);
    log.notice('-------------------------------------------');
    const enabled = this.jetStreamAccounts();
    for (const [acc, limits] of enabled) this.enableAccount(acc, limits);
    for (const acc of this.server.accounts.values()) {
      if (!enabled.has(acc) && acc !== this.server.systemAccount) this.answerNotEnabledApi(acc);
    }
    if (this.cluster !== undefined) {
      // Clustered: the meta group's log (replayed as it starts) says which streams this server hosts.
      this.cluster.start();
      log.notice('JetStream started (clustered)');
      return;
    }
    for (const jsa of this.accounts.values()) {
      log.notice(`  Recovering JetStream state for account "${jsa.account.name}"`);
      jsa.recover();
    }
    log.notice('JetStream started');
  }

  /**
   * The accounts that get JetStream, with their limits: the global account (no limits) when no other
   * account is configured, else the accounts whose `jetstream` enables it. Never the system account
   * (nats-server refuses JetStream there).
   */
  private jetStreamAccounts(): Map<Account, JsLimitTiers> {
    const core = this.server;
    const sys = core.systemAccount;
    const global = core.globalAccount;
    const out = new Map<Account, JsLimitTiers>();
    // Operator mode: accounts come from JWTs, when first used; their JWT says (applyJwtLimits).
    if (core.auth.operator !== undefined) return out;
    const others = [...core.accounts.values()].filter((a) => a !== sys && a !== global);
    if (others.length === 0) {
      out.set(global, untiered(unlimitedJsAccount()));
      return out;
    }
    const configs = new Map(core.authorizationConfig.accounts.map((c) => [c.name, c]));
    for (const acc of others) {
      const limits = configs.get(acc.name)?.jetstream;
      if (limits !== undefined && limits !== false) out.set(acc, untiered(limits));
    }
    return out;
  }

  /**
   * Operator mode: an account made from its JWT, or whose JWT changed, gets JetStream with the JWT's
   * limits (new limits replace the old), or answers 10039 when the JWT enables none (nats-server's
   * configJetStream); a JWT that no longer enables it turns it off (streams stop, their files stay, and
   * come back when a later JWT enables JetStream again).
   */
  applyJwtLimits(acc: Account, limits: JsLimitTiers | undefined): void {
    if (acc === this.server.systemAccount) return;
    const jsa = this.accounts.get(acc.name);
    if (jsa !== undefined) {
      if (limits !== undefined) jsa.tiers = limits;
      else this.disableAccount(jsa);
      return;
    }
    const i = this.notEnabledSubs.findIndex(([a]) => a === acc);
    if (limits === undefined) {
      if (i < 0) this.answerNotEnabledApi(acc);
      return;
    }
    if (i >= 0) {
      this.server.unsubscribeInternal(acc, this.notEnabledSubs[i]![1]);
      this.notEnabledSubs.splice(i, 1);
    }
    const enabled = this.enableAccount(acc, limits);
    if (this.cluster === undefined) {
      this.server.logger.notice(`  Recovering JetStream state for account "${acc.name}"`);
      enabled.recover();
    }
  }

  /** Turn JetStream off for an account (nats-server's disableJetStream); standalone servers only. */
  private disableAccount(jsa: JsAccount): void {
    const acc = jsa.account;
    if (this.cluster !== undefined || this.domain !== '') {
      this.server.logger.warn(
        `JetStream stays enabled for account ${acc.name}: turning it off is not supported by tsnats with clustering or a domain yet`,
      );
      return;
    }
    this.server.logger.notice(`Disabling JetStream for account "${acc.name}"`);
    const sub = this.apiSubs.get(acc.name);
    if (sub !== undefined) this.server.unsubscribeInternal(acc, sub);
    this.apiSubs.delete(acc.name);
    jsa.stop();
    this.accounts.delete(acc.name);
    this.answerNotEnabledApi(acc);
  }

  /**
   * An account without JetStream gets error 10039 for its API requests, as from nats-server
   * (api/not-enabled.ts).
   */
  private answerNotEnabledApi(acc: Account): void {
    const sub = this.server.subscribeInternal(acc, JS_ALL_API, (subject, reply, hdr, buf, start, size) =>
      answerNotEnabled(this.out, acc, subject, reply, buf.subarray(start + Math.max(hdr, 0), start + size)),
    );
    this.notEnabledSubs.push([acc, sub]);
  }

  private diskAvailable(): number {
    try {
      // nats-server's diskAvailable: an estimate of 75% of the available space.
      const s = statfsSync(this.storeDir);
      return Math.floor((Number(s.bavail) * Number(s.bsize)) / 4) * 3;
    } catch {
      return 1024 * 1024 * 1024 * 1024;
    }
  }

  /** Turn JetStream on in an account: its API subscription and its directory. */
  enableAccount(acc: Account, limits: JsLimitTiers = untiered(unlimitedJsAccount())): JsAccount {
    let jsa = this.accounts.get(acc.name);
    if (jsa !== undefined) return jsa;
    jsa = new JsAccount(this, acc, limits);
    this.accounts.set(acc.name, jsa);
    if (this.domain !== '') this.serveDomainApi(acc);
    const cluster = this.cluster;
    if (cluster !== undefined) {
      // As nats-server: the account imports the API from the system account, where every server of the
      // cluster sees the request with its requester (the Nats-Request-Info header).
      acc.addServiceImport({
        local: JS_ALL_API,
        exporter: cluster.sys,
        remote: JS_ALL_API,
        singleton: true,
        requestInfo: (from, producer) => cluster.requestInfo(from, producer),
      });
      return jsa;
    }
    const a = jsa;
    const sub = this.server.subscribeInternal(acc, JS_ALL_API, (subject, reply, hdr, buf, start, size) =>
      this.api.dispatch(a, subject, reply, hdr, buf, start, size),
    );
    this.apiSubs.set(acc.name, sub);
    return jsa;
  }

  /**
   * With a domain, the API is also reached as `$JS.<domain>.API.>` (how clients and leaf nodes address a
   * domain): the request is published again in the account on the subject nats-server's domain mappings
   * give it, `$JS.API.<rest>`, or `$KV.<rest>` / `$OBJ.<rest>` for `$JS.<domain>.API.$KV.<rest>` and
   * `$OBJ` (key-value puts through a domain), with its reply and headers.
   */
  private serveDomainApi(acc: Account): void {
    const prefix = `$JS.${this.domain}.API.`;
    this.server.subscribeInternal(acc, `${prefix}>`, (subject, reply, hdr, buf, start, size) => {
      const rest = subject.slice(prefix.length);
      const to = rest.startsWith('$KV.') || rest.startsWith('$OBJ.') ? rest : `$JS.API.${rest}`;
      const h = hdr > 0 ? Buffer.from(buf.subarray(start, start + hdr)) : null;
      const data = Buffer.from(buf.subarray(start + Math.max(hdr, 0), start + size));
      this.out.defer(acc, to, reply, h, data);
    });
  }

  lookupAccount(name: string): JsAccount | undefined {
    return this.accounts.get(name);
  }

  /** Stop every stream (flushing file stores) and the API subscriptions; data stays. */
  stop(): void {
    this.cluster?.stop();
    this.out.drain();
    for (const [name, sub] of this.apiSubs) {
      const jsa = this.accounts.get(name);
      if (jsa !== undefined) this.server.unsubscribeInternal(jsa.account, sub);
    }
    this.apiSubs.clear();
    for (const [acc, sub] of this.notEnabledSubs) this.server.unsubscribeInternal(acc, sub);
    this.notEnabledSubs.length = 0;
    for (const jsa of this.accounts.values()) jsa.stop();
    this.out.drain();
  }

  // ---- limits and usage -------------------------------------------------------------------------------

  /** Bytes used by all streams, by storage type. */
  usage(): { memory: number; storage: number } {
    let memory = 0;
    let storage = 0;
    for (const jsa of this.accounts.values()) {
      const u = jsa.usage();
      memory += u.memory;
      storage += u.storage;
    }
    this.usageCache = { memory, storage };
    this.usageAt = Date.now();
    this.grown = { memory: 0, storage: 0 };
    return { memory, storage };
  }

  /**
   * Whether the server's memory or file limit is already exceeded (nats-server's js.limitsExceeded:
   * used > max, so the message that crosses the limit is the last one stored). A publish about to store
   * `size` bytes asks; the sum over the streams is cached for 100 ms, but recomputed whenever the cached
   * sum plus what publishes may have added since (the sizes asked about) could be over the limit, so
   * the answer is the exact one.
   */
  limitsExceeded(storage: StreamConfig['storage'], size = 0): boolean {
    const mem = storage === 'memory';
    const max = mem ? this.maxMemory : this.maxStore;
    let u = this.usageCache;
    const grown = mem ? this.grown.memory : this.grown.storage;
    if (Date.now() - this.usageAt > 100 || (mem ? u.memory : u.storage) + grown > max) u = this.usage();
    const exceeded = (mem ? u.memory : u.storage) > max;
    if (!exceeded) {
      if (mem) this.grown.memory += size;
      else this.grown.storage += size;
    }
    return exceeded;
  }

  /** Bytes reserved by max_bytes of streams. */
  reserved(): { memory: number; storage: number } {
    return { memory: this.memReserved, storage: this.storeReserved };
  }

  /** Add (`sign` 1) or release (-1) the reservation of a stream's max_bytes. */
  reserve(cfg: StreamConfig, sign: 1 | -1): void {
    if (cfg.max_bytes <= 0) return;
    if (cfg.storage === 'memory') this.memReserved += sign * cfg.max_bytes;
    else this.storeReserved += sign * cfg.max_bytes;
  }

  /**
   * nats-server's checkBytesLimits for a new or grown stream: its max_bytes (1 when unlimited) must fit in
   * what the server has not reserved yet. `already` is what the stream itself reserves now (updates).
   */
  checkLimits(cfg: StreamConfig, already: number): ApiError | undefined {
    const add = (cfg.max_bytes > 0 ? cfg.max_bytes : 1) - already;
    if (cfg.storage === 'memory') {
      if (this.memReserved + add > this.maxMemory) return newJSMemoryResourcesExceededError();
    } else if (this.storeReserved + add > this.maxStore) {
      return newJSStorageResourcesExceededError();
    }
    return undefined;
  }

  /** Streams, consumers, messages and bytes over all accounts (for /jsz). */
  totals(): { streams: number; consumers: number; messages: number; bytes: number } {
    let streams = 0;
    let consumers = 0;
    let messages = 0;
    let bytes = 0;
    for (const jsa of this.accounts.values()) {
      for (const s of jsa.streams.values()) {
        streams++;
        consumers += s.consumerCount;
        const st = s.state();
        messages += st.msgs;
        bytes += st.bytes;
      }
    }
    return { streams, consumers, messages, bytes };
  }

  configInfo(): JetStreamConfigInfo {
    const c: JetStreamConfigInfo = {
      max_memory: this.maxMemory,
      max_storage: this.maxStore,
      store_dir: this.storeDir,
    };
    if (this.domain !== '') c.domain = this.domain;
    return c;
  }
}

/** nats-server's friendlyBytes: 1024-based units with two decimals. */
export function friendlyBytes(bytes: number): string {
  const base = 1024;
  const pre = ['K', 'M', 'G', 'T', 'P', 'E'];
  if (bytes < base) return `${bytes} B`;
  const exp = Math.floor(Math.log(bytes) / Math.log(base));
  const index = exp - 1;
  return `${(bytes / base ** exp).toFixed(2)} ${pre[index]}B`;
}
