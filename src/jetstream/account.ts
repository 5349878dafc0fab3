/**
 * JetStream in one account (nats-server's jsAccount): its streams, its API counters and its directory
 * `<store_dir>/jetstream/<account>/streams/<stream>/`. File streams keep their configuration there in
 * `meta.inf` (JSON: `created` plus the config, as nats-server's FileStreamInfo) beside the store's data,
 * so they are recreated when the server starts again; memory streams live only as long as the server.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type JsAccountLimits, type JsLimitTiers, unlimitedJsAccount } from '../auth/types.js';
import { subjectsCollide } from '../routing/subject.js';
import type { Account } from '../server/account.js';
import type { Delivery } from '../server/delivery.js';
import type { InternalHandler, Subscription } from '../server/subscription.js';
import {
  type ApiError,
  newJSAccountResourcesExceededError,
  newJSInsufficientResourcesError,
  newJSMaximumConsumersLimitError,
  newJSMaximumStreamsLimitError,
  newJSMemoryResourcesExceededError,
  newJSNoLimitsError,
  newJSStorageResourcesExceededError,
  newJSStreamCreateError,
  newJSStreamMaxBytesRequiredError,
  newJSStreamMaxStreamBytesExceededError,
  newJSStreamNameExistError,
  newJSStreamNameExistRestoreFailedError,
  newJSStreamSubjectOverlapError,
} from './api/errors.generated.js';
import { decodeRequest, goJson, type JsonObject } from './api/json.js';
import {
  configFromStored,
  encodeStreamConfig,
  type StreamConfig,
  type StreamLookup,
  sameConfig,
  subjectTransformApiError,
} from './config.js';
import { Consumer } from './consumer/consumer.js';
import { addConsumer, recoverConsumers } from './consumer/registry.js';
import { CONSUMERS_DIR, ConsumerFileStore, consumerDir, readConsumerMeta } from './consumer/store.js';
import { type JetStream, MSGS_DIR } from './jetstream.js';
import {
  DEFAULT_TIER,
  inTier,
  type SelectedLimits,
  selectLimits,
  tierName,
  untiered,
} from './limit-tiers.js';
import { SNAPSHOT_FORMAT, SNAPSHOT_MARKER, SNAPSHOT_VERSION } from './snapshot/capture.js';
import { FileStore } from './store/filestore/filestore.js';
import type { IndexedMsg, IndexedStore } from './store/memstore.js';
import { nowNanos, type StreamStore } from './store/store.js';
import { Stream, type StreamHost, storeLimitsOf } from './stream.js';
import { parseRfc3339Nano, rfc3339Nano } from './time.js';

/** nats-server's stream directory and meta file names. */
export const STREAMS_DIR = 'streams';
export const META_FILE = 'meta.inf';

export class JsAccount implements StreamHost {
  readonly streams = new Map<string, Stream>();
  /** API requests answered / answered with an error (nats-server's apiTotal / apiErrors). */
  apiTotal = 0;
  apiErrors = 0;
  /** `<store_dir>/jetstream/<account>`. */
  readonly dir: string;

  constructor(
    readonly js: JetStream,
    readonly account: Account,
    /**
     * The account's JetStream limits by tier (`accounts { A: { jetstream: {...} } }`, or its account JWT,
     * whose updates replace them; limit-tiers.ts); -1 = unlimited.
     */
    public tiers: JsLimitTiers = untiered(unlimitedJsAccount()),
  ) {
    this.dir = join(js.storeDir, account.name);
  }

  get out(): Delivery {
    return this.js.out;
  }

  get domain(): string {
    return this.js.domain;
  }

  // ---- StreamHost --------------------------------------------------------------------------------------

  subscribe(subject: string, handler: InternalHandler, queue?: string): Subscription {
    return this.js.server.subscribeInternal(this.account, subject, handler, queue);
  }

  unsubscribe(sub: Subscription): void {
    this.js.server.unsubscribeInternal(this.account, sub);
  }

  /**
   * The server's limits (10023), then the account's for the stream's tier with the message's `size`
   * (10002; 10120 when no tier applies any more), for a publish to a stream of config `cfg`.
   */
  limitsExceeded(cfg: StreamConfig, size: number): ApiError | undefined {
    if (this.js.limitsExceeded(cfg.storage, size)) return newJSInsufficientResourcesError();
    const selected = this.selectLimits(cfg);
    if (selected === undefined) return newJSNoLimitsError();
    if (this.accountLimitsExceeded(selected, cfg.storage, size)) return newJSAccountResourcesExceededError();
    return undefined;
  }

  warn(message: string): void {
    this.js.server.logger.warn(message);
  }

  saveConfig(stream: Stream): void {
    if (stream.config.storage !== 'file') return;
    const dir = this.streamDir(stream.name);
    const meta = goJson({ created: rfc3339Nano(stream.created), ...encodeStreamConfig(stream.config) });
    try {
      mkdirSync(dir, { recursive: true });
      const tmp = join(dir, `${META_FILE}.tmp`);
      writeFileSync(tmp, meta);
      renameSync(tmp, join(dir, META_FILE));
    } catch (e) {
      this.warn(
        `JetStream could not write the configuration of stream '${this.account.name} > ${stream.name}': ${String(e)}`,
      );
    }
  }

  // ---- streams -----------------------------------------------------------------------------------------

  streamDir(name: string): string {
    return join(this.dir, STREAMS_DIR, name);
  }

  lookupStream(name: string): Stream | undefined {
    return this.streams.get(name);
  }

  /** The account's streams as config validation sees them (mirrors and sources). */
  streamLookup(): StreamLookup {
    return { stream: (name) => this.streams.get(name)?.config };
  }

  /** Streams whose subjects could match `filter` (nats-server's filteredStreams), any order. */
  filteredStreams(filter: string): Stream[] {
    const out: Stream[] = [];
    for (const s of this.streams.values()) {
      if (filter === '' || s.config.subjects.some((subj) => subjectsCollide(filter, subj))) out.push(s);
    }
    return out;
  }

  /** Whether `subjects` overlap the subjects of another stream than `self`. */
  subjectsOverlap(subjects: readonly string[], self?: Stream): boolean {
    for (const s of this.streams.values()) {
      if (s === self) continue;
      for (const subj of s.config.subjects) {
        for (const t of subjects) if (subjectsCollide(t, subj)) return true;
      }
    }
    return false;
  }

  /**
   * Create a stream from a normalised config (nats-server's addStream after checkStreamCfg): an identical
   * existing stream is returned as is; a different one with the same name is an error, as are subjects
   * that overlap another stream's.
   */
  addStream(cfg: StreamConfig): Stream | ApiError {
    const existing = this.streams.get(cfg.name);
    if (existing !== undefined)
      return sameConfig(existing.config, cfg) ? existing : newJSStreamNameExistError();
    const limitErr = this.js.checkLimits(cfg, 0);
    if (limitErr !== undefined) return limitErr;
    // Templates are not supported, so no stream can be owned by one (nats-server's ownership check).
    if ((cfg.template_owner ?? '') !== '') return newJSStreamCreateError('stream not owned by template');
    if (this.subjectsOverlap(cfg.subjects)) return newJSStreamSubjectOverlapError();
    const trErr = subjectTransformApiError(cfg, false);
    if (trErr !== undefined) return trErr;
    let stream: Stream;
    try {
      stream = this.openStream(cfg, nowNanos());
    } catch (e) {
      this.warn(`Stream create failed for '${this.account.name} > ${cfg.name}': ${String(e)}`);
      return newJSStreamCreateError('error creating store for stream');
    }
    this.saveConfig(stream);
    return stream;
  }

  private openStream(
    cfg: StreamConfig,
    created: bigint,
    setup?: (s: Stream) => void,
    fill?: (store: StreamStore) => void,
  ): Stream {
    const store = this.js.createStore(cfg, this.streamDir(cfg.name), storeLimitsOf(cfg));
    // nats-server 2.10's first_seq: a store that never held a message starts at that sequence (its
    // stores purge up to it when opened; checking lastSeq keeps a used store as it is).
    const firstSeq = cfg.first_seq ?? 0;
    if (firstSeq > 1 && store.state().lastSeq === 0) store.compact(firstSeq);
    if (fill !== undefined) {
      try {
        fill(store);
      } catch (e) {
        store.delete();
        throw e;
      }
    }
    const stream = new Stream(this, cfg, store, created);
    this.streams.set(cfg.name, stream);
    this.js.reserve(cfg, 1);
    try {
      setup?.(stream);
      stream.start();
    } catch (e) {
      this.streams.delete(cfg.name);
      this.js.reserve(cfg, -1);
      stream.stop(false);
      throw e;
    }
    return stream;
  }

  /**
   * Open (or create) a stream the meta group assigned to this server, with the data already on disk.
   * `setup` runs before the stream subscribes (a replicated stream attaches its Raft group there).
   */
  openAssignedStream(cfg: StreamConfig, created: bigint, setup?: (s: Stream) => void): Stream | ApiError {
    const existing = this.streams.get(cfg.name);
    if (existing !== undefined) return existing;
    try {
      const stream = this.openStream(cfg, created, setup);
      this.saveConfig(stream);
      return stream;
    } catch (e) {
      this.warn(`Stream create failed for '${this.account.name} > ${cfg.name}': ${String(e)}`);
      return newJSStreamCreateError('error creating store for stream');
    }
  }

  /**
   * Build a stream from an unpacked snapshot in `dir` (snapshot/restore.ts; the archive's layout is in
   * snapshot/capture.ts) under `cfg`, the restore request's checked config. As nats-server's
   * RestoreStream: the archive's stream name must be the config's, the name must still be free (10130),
   * then consumers are recreated with their state. A file stream takes the archive's block files as its
   * own (the directory is moved into place, no copy); a memory stream is filled from them. Throws (or
   * returns an API error) when the stream cannot be built; nothing is left behind then.
   */
  restoreStream(cfg: StreamConfig, dir: string): Stream | ApiError {
    let marker: JsonObject;
    try {
      marker = decodeRequest(readFileSync(join(dir, SNAPSHOT_MARKER), 'utf8'));
    } catch {
      throw new Error(
        existsSync(join(dir, META_FILE))
          ? 'not a tsnats snapshot (archives of nats-server file stores cannot be restored by tsnats)'
          : 'snapshot has no stream metadata',
      );
    }
    if (marker.string('format') !== SNAPSHOT_FORMAT || (marker.int('version') ?? 0) > SNAPSHOT_VERSION) {
      throw new Error('unsupported snapshot format');
    }
    const meta = decodeRequest(readFileSync(join(dir, META_FILE), 'utf8'));
    if (meta.string('name') !== cfg.name) throw new Error('stream names do not match');
    const createdText = meta.string('created') ?? '';
    const created = createdText === '' ? nowNanos() : parseRfc3339Nano(createdText) || nowNanos();
    if (this.streams.has(cfg.name)) return newJSStreamNameExistRestoreFailedError();
    const limitErr = this.js.checkLimits(cfg, 0);
    if (limitErr !== undefined) return limitErr;
    if (this.subjectsOverlap(cfg.subjects)) return newJSStreamSubjectOverlapError();

    const msgsDir = join(dir, MSGS_DIR);
    mkdirSync(msgsDir, { recursive: true });
    const obs = join(dir, CONSUMERS_DIR);
    let stream: Stream;
    if (cfg.storage === 'file') {
      // The unpacked archive becomes the stream's directory: msgs/ and obs/ are read where they are.
      const target = this.streamDir(cfg.name);
      rmSync(target, { recursive: true, force: true });
      mkdirSync(join(this.dir, STREAMS_DIR), { recursive: true });
      for (const extra of [SNAPSHOT_MARKER, META_FILE]) rmSync(join(dir, extra), { force: true });
      renameSync(dir, target);
      try {
        stream = this.openStream(cfg, created);
      } catch (e) {
        rmSync(target, { recursive: true, force: true });
        throw e;
      }
    } else {
      stream = this.openStream(cfg, created, undefined, (store) => {
        const src = new FileStore(msgsDir, {}, { syncIntervalMs: 0 });
        try {
          (store as IndexedStore<IndexedMsg>).importFrom(src);
        } finally {
          src.stop();
        }
      });
    }
    this.saveConfig(stream);
    const consumersDir = cfg.storage === 'file' ? join(this.streamDir(cfg.name), CONSUMERS_DIR) : obs;
    try {
      this.restoreConsumers(stream, consumersDir);
    } catch (e) {
      this.deleteStream(stream);
      throw e;
    }
    return stream;
  }

  /** Recreate the consumers of a restored stream from `<dir>/<name>/{meta.inf,o.dat}`. */
  private restoreConsumers(stream: Stream, dir: string): void {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const cdir = join(dir, name);
      const meta = readConsumerMeta(cdir);
      const state = new ConsumerFileStore(cdir).readState();
      const file = stream.config.storage === 'file' && !meta.config.mem_storage && !meta.config.direct;
      const store = file ? new ConsumerFileStore(consumerDir(this.streamDir(stream.name), name)) : undefined;
      const r = addConsumer(this, stream, meta.config, { name, created: meta.created, store, state });
      if (!(r instanceof Consumer)) {
        throw new Error(
          `error restoring consumer [${JSON.stringify(name)}]: ${typeof r === 'string' ? r : r.description}`,
        );
      }
      // Memory streams keep consumers in memory: the staged files go with the staging directory.
      if (store !== undefined) store.writeState(r.state.snapshot());
    }
  }

  /** Delete a stream and its data. */
  deleteStream(stream: Stream): void {
    if (this.streams.get(stream.name) !== stream) return;
    this.streams.delete(stream.name);
    this.js.reserve(stream.config, -1);
    stream.stop(true);
    if (stream.config.storage === 'file') {
      try {
        rmSync(this.streamDir(stream.name), { recursive: true, force: true });
      } catch (e) {
        this.warn(`JetStream could not remove the directory of stream '${stream.name}': ${String(e)}`);
      }
    }
  }

  // ---- account limits (nats-server's checkStreamCfg limits, jsNonClusteredStreamLimitsCheck) ------------

  /**
   * The limits that apply to a stream of config `cfg` (nats-server's selectLimits: the default tier's,
   * else those of the stream's tier); undefined when none do (10120).
   */
  selectLimits(cfg: { num_replicas: number }): SelectedLimits | undefined {
    return selectLimits(this.tiers, cfg);
  }

  /**
   * A new stream against the account's limits for its tier: max_bytes required or bounded per stream
   * (10113, 10122), a tier that applies (10120), the number of streams of the tier (10027), then
   * checkLimits (consumers 10026, reserved bytes 10028 / 10047). `assigned`: the account's streams as the
   * meta group assigned them (clustered); standalone, the streams here.
   */
  checkNewStream(cfg: StreamConfig, assigned?: StreamConfig[]): ApiError | undefined {
    const selected = this.selectLimits(cfg);
    const bytes = checkStreamBytes(cfg, selected?.limits);
    if (bytes !== undefined) return bytes;
    if (selected === undefined) return newJSNoLimitsError();
    const existing = assigned ?? this.streamConfigs();
    const l = selected.limits;
    const inSameTier = existing.filter((c) => inTier(selected.tier, c));
    if (l.maxStreams > 0 && inSameTier.length >= l.maxStreams) return newJSMaximumStreamsLimitError();
    return checkLimits(l, cfg, reservation(selected.tier, cfg, existing, assigned !== undefined), 0);
  }

  /**
   * An update against the account's limits: only what max_bytes (or more replicas) adds is reserved.
   * When the new replica count has no tier, the old one's limits apply (as nats-server).
   */
  checkStreamUpdate(old: StreamConfig, cfg: StreamConfig): ApiError | undefined {
    let selected = this.selectLimits(cfg);
    const bytes = checkStreamBytes(cfg, selected?.limits);
    if (bytes !== undefined) return bytes;
    if (selected === undefined && old.num_replicas !== cfg.num_replicas) selected = this.selectLimits(old);
    if (selected === undefined) return newJSNoLimitsError();
    const diff = Math.max(0, cfg.max_bytes - old.max_bytes);
    const extra = cfg.num_replicas - old.num_replicas;
    const offset = old.max_bytes > 0 && extra > 0 ? old.max_bytes * extra : 0;
    const reserved =
      reservation(selected.tier, cfg, this.streamConfigs(), false) +
      Math.max(1, old.num_replicas) * old.max_bytes;
    return checkLimits(selected.limits, { ...cfg, max_bytes: diff }, reserved, offset);
  }

  private streamConfigs(): StreamConfig[] {
    return [...this.streams.values()].map((s) => s.config);
  }

  /**
   * Whether storing `size` more bytes would take the streams of the tier over its limits. nats-server
   * stores the message, then finds the account over its limits (jsAccount.limitsExceeded) and removes
   * it again, answering 10002; checked before storing, the outcome is the same. As nats-server, the
   * per-stream bound is compared with what the whole tier holds.
   */
  private accountLimitsExceeded(
    selected: SelectedLimits,
    storage: StreamConfig['storage'],
    size: number,
  ): boolean {
    const l = selected.limits;
    const max = storage === 'memory' ? l.maxMemory : l.maxStore;
    const perStream = storage === 'memory' ? l.memoryMaxStreamBytes : l.storeMaxStreamBytes;
    if (max < 0 && perStream <= 0) return false;
    const u = this.usage(selected.tier);
    const used = (storage === 'memory' ? u.memory : u.storage) + size;
    return (perStream > 0 && used > perStream) || (max >= 0 && used > max);
  }

  updateReservation(old: StreamConfig, next: StreamConfig): void {
    this.js.reserve(old, -1);
    this.js.reserve(next, 1);
  }

  /** Recreate the file streams found on disk (at server start). */
  recover(): void {
    const root = join(this.dir, STREAMS_DIR);
    let names: string[];
    try {
      names = readdirSync(root);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const metaPath = join(root, name, META_FILE);
      let text: string;
      try {
        text = readFileSync(metaPath, 'utf8');
      } catch {
        continue;
      }
      try {
        const o = decodeRequest(text);
        const cfg = configFromStored(o, this.streamLookup());
        const created = parseRfc3339Nano(o.string('created') ?? '');
        if (cfg.name !== name) throw new Error(`name "${cfg.name}" does not match its directory`);
        const stream = this.openStream(cfg, created === 0n ? nowNanos() : created);
        const st = stream.state();
        this.js.server.logger.notice(
          `  Restored ${st.msgs} messages for stream '${this.account.name} > ${name}'`,
        );
        const lost = stream.store.lostData?.();
        if (lost !== undefined) {
          this.js.server.logger.warn(
            `  Stream '${this.account.name} > ${name}' lost ${lost.msgs} messages (${lost.bytes} bytes) in recovery`,
          );
        }
        recoverConsumers(this, stream);
      } catch (e) {
        this.js.server.logger.error(
          `  Error recovering stream '${this.account.name} > ${name}': ${String(e)}`,
        );
      }
    }
  }

  /** Stop every stream (server shutdown); data stays. */
  stop(): void {
    for (const s of this.streams.values()) s.stop(false);
    this.streams.clear();
  }

  /** Bytes used by this account's streams (those of `tier` only, if given), by storage type. */
  usage(tier = DEFAULT_TIER): { memory: number; storage: number } {
    let memory = 0;
    let storage = 0;
    for (const s of this.streams.values()) {
      if (!inTier(tier, s.config)) continue;
      const b = s.state().bytes;
      if (s.config.storage === 'memory') memory += b;
      else storage += b;
    }
    return { memory, storage };
  }

  /** Consumers of all streams (as the API counts them). */
  consumerCount(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.consumerCount;
    return n;
  }
}

/** nats-server's maxBytesLimits check: max_bytes required (10113) or bounded per stream (10122). */
function checkStreamBytes(cfg: StreamConfig, l: JsAccountLimits | undefined): ApiError | undefined {
  if (l === undefined) return undefined;
  const maxStreamBytes = cfg.storage === 'memory' ? l.memoryMaxStreamBytes : l.storeMaxStreamBytes;
  if (l.maxBytesRequired && cfg.max_bytes <= 0) return newJSStreamMaxBytesRequiredError();
  if (maxStreamBytes > 0 && cfg.max_bytes > maxStreamBytes) return newJSStreamMaxStreamBytesExceededError();
  return undefined;
}

/**
 * nats-server's checkLimits / checkBytesLimits with the selected limits (the server's are js.checkLimits):
 * the stream's max_consumers within the account's (10026), then its bytes times its replicas, on top of
 * `reserved`, within the storage limit (10028 memory, 10047 file).
 */
function checkLimits(
  l: JsAccountLimits,
  cfg: StreamConfig,
  reserved: number,
  offset: number,
): ApiError | undefined {
  if (cfg.max_consumers > 0 && l.maxConsumers > 0 && cfg.max_consumers > l.maxConsumers) {
    return newJSMaximumConsumersLimitError();
  }
  const add = (cfg.max_bytes < 0 ? 1 : cfg.max_bytes) * Math.max(1, cfg.num_replicas) + offset;
  if (cfg.storage === 'memory') {
    if (l.maxMemory >= 0 && reserved + add > l.maxMemory) return newJSMemoryResourcesExceededError();
  } else if (l.maxStore >= 0 && reserved + add > l.maxStore) {
    return newJSStorageResourcesExceededError();
  }
  return undefined;
}

/**
 * What the account's other streams reserve with max_bytes against `cfg`'s limits (nats-server's
 * tieredReservation, tieredStreamAndReservationCount): with plain limits, the streams of the same
 * storage; with tiers, the streams of the same tier, and standalone of either storage (nats-server
 * 2.9.10 does not look at the storage there; clustered it does).
 */
function reservation(tier: string, cfg: StreamConfig, streams: StreamConfig[], clustered: boolean): number {
  let n = 0;
  for (const c of streams) {
    if (c.max_bytes <= 0 || c.name === cfg.name) continue;
    const counted =
      tier === DEFAULT_TIER
        ? c.storage === cfg.storage
        : tierName(c) === tierName(cfg) && (!clustered || c.storage === cfg.storage);
    if (counted) n += Math.max(1, c.num_replicas) * c.max_bytes;
  }
  return n;
}
