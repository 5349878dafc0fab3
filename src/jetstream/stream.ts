/**
 * A stream: the policy around a StreamStore (nats-server stream.go). It subscribes to its subjects,
 * checks each published message (expected-* headers, deduplication, limits with discard policy,
 * roll-ups), stores it and acknowledges with a PubAck; it answers direct gets, purges and deletes
 * messages, and reports its state.
 *
 * Consumers (issue 7) build on three things here:
 * - `store`: the StreamStore to read messages from (loadMsg / loadNextMsg / getSeqFromTime ...);
 * - listeners (`addListener`): `stored` after each new message, `removed` when messages leave by limits,
 *   expiry or deletion, `purged` after a purge, `stopped` when the stream stops or is deleted. Listeners run
 *   synchronously inside message routing: they must not publish directly, only through `jetstream.out`
 *   (see outbound.ts);
 * - the consumer registry (`addConsumer` / `removeConsumer` / `consumers`): it enforces max_consumers,
 *   feeds consumer_count, and tells interest retention whether anyone wants a message.
 *
 * Everything runs on the event loop: a message is checked, stored and acknowledged in one synchronous
 * step, so the order of publishes is the order of sequences, and no two operations on a stream interleave.
 */

import { matchLiteral } from '../routing/subject.js';
import { textToWire, wireToText } from '../routing/subject-text.js';
import { SubjectTransform } from '../routing/transform.js';
import type { Account } from '../server/account.js';
import type { Delivery } from '../server/delivery.js';
import type { InternalHandler, Subscription } from '../server/subscription.js';
import {
  type ApiError,
  newJSStreamHeaderExceedsMaximumError,
  newJSStreamMessageExceedsMaximumError,
  newJSStreamNotMatchError,
  newJSStreamRollupFailedError,
  newJSStreamSealedError,
  newJSStreamStoreFailedError,
  newJSStreamWrongLastMsgIDError,
  newJSStreamWrongLastSequenceError,
} from './api/errors.generated.js';
import { decodeRequest, goJson, type JsonObject } from './api/json.js';
import { JS_DIRECT_GET_PREFIX, type StreamInfoJson, type StreamStateJson } from './api/types.js';
import { encodeStreamConfig, type StreamConfig, streamSubjectTransform } from './config.js';
import {
  appendHeader,
  getHeader,
  JSLastSequence,
  JSMsgId,
  JSSequence,
  JSStream,
  JSSubject,
  JSTimeStamp,
  readPublishHeaders,
  statusHeader,
} from './headers.js';
import { StreamSourcing } from './sourcing.js';
import {
  fileStoreMsgSize,
  msgSize,
  type StoredMsg,
  type StoreLimits,
  type StreamState,
  type StreamStore,
} from './store/store.js';
import { rfc3339Nano } from './time.js';

/** What a stream needs from the JetStream layer that owns it. */
export interface StreamHost {
  readonly account: Account;
  readonly out: Delivery;
  /** JetStream domain ('' when none), echoed in PubAcks. */
  readonly domain: string;
  subscribe(subject: string, handler: InternalHandler, queue?: string): Subscription;
  unsubscribe(sub: Subscription): void;
  /**
   * The server's or the account's storage limits (those of the stream's tier) are exceeded: the error
   * a publish of `size` bytes to a stream of config `cfg` gets.
   */
  limitsExceeded(cfg: StreamConfig, size: number): ApiError | undefined;
  /** Persist the config (file streams); called after an update. */
  saveConfig(stream: Stream): void;
  warn(message: string): void;
}

/**
 * A replicated stream's link to its Raft group (cluster/stream-replica.ts). When a stream has one, only
 * the leader subscribes to the subjects; a message it takes is checked, then proposed, and stored by every
 * replica when the group commits it (`applyMsg`).
 */
export interface StreamReplica {
  /** Propose a published message (leader; the checks before proposing passed). */
  propose(subject: string, reply: string, hdr: Buffer, data: Buffer): void;
}

/** A replicated message being applied (see processMsg). */
export interface ReplicatedMsg {
  /** Messages (stored or failed) before this one, as the leader counted them. */
  lseq: number;
  /** When the leader took it, ns. */
  ts: bigint;
  /** This server is the stream leader: it answers the publisher. */
  leader: boolean;
}

/** Results of applying a replicated message that the replica must act on. */
export const ApplyResult = {
  /** Already applied (a replayed entry, or one a snapshot covered). */
  Skipped: -1,
  /** The entry does not follow what this replica holds: the replica must resynchronise. */
  Mismatch: -2,
} as const;

/** What a purge did, for consumers (nats-server calls consumer.purge(firstSeq, lastSeq)). */
export interface PurgeInfo {
  /** Subject filter of the purge ('' = all). */
  filter: string;
  /** First sequence (matching `filter`) left after the purge; lastSeq + 1 when none. */
  firstSeq: number;
  lastSeq: number;
  purged: number;
}

/** Stream events for consumers. Called synchronously; publish only through the out queue. */
export interface StreamListener {
  stored?(seq: number, subject: string): void;
  removed?(seqs: readonly number[]): void;
  purged?(info: PurgeInfo): void;
  stopped?(deleted: boolean): void;
}

/** What the stream needs from a consumer (issue 7). */
export interface StreamConsumer {
  readonly name: string;
  /** Filter subjects (none = every message of the stream); used by interest retention. */
  readonly filterSubjects: readonly string[];
  /** Whether the consumer is visible to the API (nats-server hides internal "direct" consumers). */
  readonly internal?: boolean;
  /** The stream is stopping (`deleted`: because it is being deleted). */
  stop(deleted: boolean): void;
}

/** A purge request (STREAM.PURGE body; nats-server's JSApiStreamPurgeRequest). */
export interface PurgeRequest {
  filter?: string;
  seq?: number;
  keep?: number;
}

/** A get request (STREAM.MSG.GET and direct get bodies; nats-server's JSApiMsgGetRequest). */
export interface MsgGetRequest {
  seq: number;
  last_by_subj: string;
  next_by_subj: string;
}

/** Decode a get request body (throws InvalidJsonError). */
export function decodeMsgGetRequest(o: JsonObject): MsgGetRequest {
  return {
    seq: o.uint('seq') ?? 0,
    last_by_subj: o.string('last_by_subj') ?? '',
    next_by_subj: o.string('next_by_subj') ?? '',
  };
}

interface DedupeEntry {
  id: string;
  seq: number;
  /** ms since the epoch. */
  ts: number;
}

/** nats-server's JSMsgSize: the size of the payload a headers-only republish left out. */
const JSMsgSize = 'Nats-Msg-Size';
/** The queue group direct gets are answered in (nats-server's dgetGroup), so mirrors can share them. */
const DIRECT_GET_GROUP = '_sys_';

/** nats-server: headers larger than this are refused (math.MaxUint16). */
const MAX_HEADER_SIZE = 65535;
/** The purge timer of the dedupe window never fires sooner than this (nats-server's minFire). */
const DEDUPE_MIN_FIRE_MS = 50;
const EMPTY = Buffer.alloc(0);

/** Store limits from a stream config (max_age is ns on the wire, ms in the store). */
export function storeLimitsOf(cfg: StreamConfig): StoreLimits {
  return {
    maxMsgs: cfg.max_msgs,
    maxBytes: cfg.max_bytes,
    maxAge: cfg.max_age > 0 ? Math.max(1, Math.ceil(cfg.max_age / 1e6)) : 0,
    maxMsgsPerSubject: cfg.max_msgs_per_subject,
  };
}

export class Stream {
  config: StreamConfig;
  /** Nanoseconds since the epoch. */
  readonly created: bigint;
  readonly store: StreamStore;
  /** Set once stopped or deleted: nothing is processed any more. */
  closed = false;
  /** Consumers by name (issue 7 registers them). */
  readonly consumers = new Map<string, StreamConsumer>();

  private readonly host: StreamHost;
  private readonly subs = new Map<string, Subscription>();
  private directSubs: Subscription[] = [];
  private readonly listeners: StreamListener[] = [];
  /** Last sequence assigned (the store's last sequence). */
  private lseq: number;
  /** Nats-Msg-Id of the last message ('' when it had none), for Nats-Expected-Last-Msg-Id. */
  private lmsgId = '';
  /** Deduplication: message ids seen within duplicate_window, oldest first in ddarr. */
  private readonly ddmap = new Map<string, DedupeEntry>();
  private ddarr: DedupeEntry[] = [];
  private ddindex = 0;
  private ddtimer: NodeJS.Timeout | undefined;
  /** Whether ddmap reflects stored messages (rebuilt lazily after a restart, as nats-server does). */
  private ddloaded: boolean;
  private readonly inboundBound = this.processInbound.bind(this);
  /** Replicated streams: the Raft group link; undefined for a stream that lives on this server only. */
  replica: StreamReplica | undefined;
  /** Replicated streams: this server leads the group (a stream of this server only always leads). */
  leader = true;
  /**
   * Replicated streams: messages the group committed but this stream refused (nats-server's clfs), so
   * that every replica maps the same entries to the same sequences.
   */
  clfs = 0;
  /** Republish: the transform of the stored subject to the one to publish on. */
  private republishTr: SubjectTransform | undefined;
  /** nats-server 2.10's input transform (subject_transform): the subject a message is stored under. */
  private itr: SubjectTransform | undefined;
  /** Mirrors and sources: the consumers feeding this stream (while it leads). */
  private sourcing: StreamSourcing | undefined;

  constructor(host: StreamHost, config: StreamConfig, store: StreamStore, created: bigint) {
    this.host = host;
    this.config = config;
    this.store = store;
    this.created = created;
    this.republishTr = republishTransform(config);
    this.itr = streamSubjectTransform(config);
    const st = store.state();
    this.lseq = st.lastSeq;
    this.ddloaded = st.msgs === 0;
    store.onRemove((seqs) => this.emitRemoved(seqs));
  }

  get name(): string {
    return this.config.name;
  }

  get account(): Account {
    return this.host.account;
  }

  /**
   * Start taking messages: subscribe to the subjects (a replicated stream only while it leads) and to
   * direct gets when allowed.
   */
  start(): void {
    if (this.leader) {
      for (const subject of this.config.subjects) this.subscribeSubject(subject);
      this.startSourcing();
    }
    if (this.config.allow_direct) this.subscribeDirect();
  }

  /** Start the mirror or source consumers, if the stream has any. */
  private startSourcing(): void {
    const cfg = this.config;
    if (cfg.mirror === undefined && (cfg.sources?.length ?? 0) === 0) return;
    this.sourcing ??= new StreamSourcing(this, this.host);
    this.sourcing.start();
  }

  /** Subscribe to direct gets again (the stream became replicated: replicas answer as a queue group). */
  refreshDirect(): void {
    this.unsubscribeDirect();
    if (this.config.allow_direct && !this.closed) this.subscribeDirect();
  }

  /** A replicated stream became leader of its group (subscribe to the subjects) or stopped being it. */
  setLeader(leader: boolean): void {
    if (this.closed || leader === this.leader) return;
    this.leader = leader;
    if (leader) {
      for (const subject of this.config.subjects) this.subscribeSubject(subject);
      this.startSourcing();
    } else {
      for (const subject of [...this.subs.keys()]) this.unsubscribeSubject(subject);
      this.sourcing?.stop();
    }
  }

  // ---- listeners and consumers ------------------------------------------------------------------------

  addListener(l: StreamListener): void {
    this.listeners.push(l);
  }

  removeListener(l: StreamListener): void {
    const i = this.listeners.indexOf(l);
    if (i >= 0) this.listeners.splice(i, 1);
  }

  /** Consumers the API shows (nats-server's numPublicConsumers). */
  get consumerCount(): number {
    let n = 0;
    for (const c of this.consumers.values()) if (!c.internal) n++;
    return n;
  }

  /** Whether one more consumer is allowed by max_consumers. */
  /**
   * Whether one more consumer fits: the stream's max_consumers, or the account's (`accountMax`, per stream
   * as in nats-server) when that is lower or the stream has none.
   */
  canAddConsumer(accountMax = -1): boolean {
    let max = this.config.max_consumers;
    if (max <= 0 || (accountMax > 0 && accountMax < max)) max = accountMax;
    return max <= 0 || this.consumerCount < max;
  }

  addConsumer(c: StreamConsumer): void {
    this.consumers.set(c.name, c);
  }

  removeConsumer(name: string): boolean {
    return this.consumers.delete(name);
  }

  private emitStored(seq: number, subject: string): void {
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) ls[i]!.stored?.(seq, subject);
  }

  private emitRemoved(seqs: readonly number[]): void {
    if (seqs.length === 0) return;
    for (const l of this.listeners) l.removed?.(seqs);
  }

  // ---- subscriptions ----------------------------------------------------------------------------------

  private subscribeSubject(subject: string): void {
    if (this.subs.has(subject)) return;
    // Config subjects are text; the subscription takes the bytes clients send (subject-text.ts).
    const sub = this.host.subscribe(textToWire(subject), this.inboundBound);
    // processInbound copies the message first thing.
    sub.copiesInput = true;
    this.subs.set(subject, sub);
  }

  private unsubscribeSubject(subject: string): void {
    const sub = this.subs.get(subject);
    if (sub === undefined) return;
    this.subs.delete(subject);
    this.host.unsubscribe(sub);
  }

  private subscribeDirect(): void {
    if (this.directSubs.length > 0) return;
    this.directSubs = this.subscribeDirectFor(this.name);
  }

  /**
   * Answer direct gets addressed to stream `name` (this stream's, or its origin's for a mirror with
   * mirror_direct). Replicas and mirrors answer as members of one queue group, so each request gets one
   * answer (nats-server's _sys_ group).
   */
  subscribeDirectFor(name: string): Subscription[] {
    const base = `${JS_DIRECT_GET_PREFIX}.${textToWire(name)}`;
    const queue = DIRECT_GET_GROUP;
    return [
      this.host.subscribe(
        base,
        (_subject, reply, hdr, buf, start, size) => {
          const body = hdr > 0 ? buf.subarray(start + hdr, start + size) : buf.subarray(start, start + size);
          this.directGet(reply, body);
        },
        queue,
      ),
      this.host.subscribe(
        `${base}.>`,
        (subject, reply, hdr, _buf, _start, size) => {
          this.directGetLastBySubject(subject, reply, hdr > 0 ? size - hdr : size);
        },
        queue,
      ),
    ];
  }

  private unsubscribeDirect(): void {
    for (const s of this.directSubs) this.host.unsubscribe(s);
    this.directSubs = [];
  }

  // ---- publishing ---------------------------------------------------------------------------------------

  /** The internal subscription handler: copy the message out of the read buffer and process it. */
  private processInbound(
    subject: string,
    reply: string,
    hdr: number,
    buf: Buffer,
    start: number,
    size: number,
  ): void {
    if (this.closed) return;
    // Stored subjects are text (subject-text.ts); ASCII is returned as it is.
    subject = wireToText(subject);
    // One copy of header + payload; the store keeps references to it.
    const copy = Buffer.allocUnsafe(size);
    buf.copy(copy, 0, start, start + size);
    const h = hdr > 0 ? copy.subarray(0, hdr) : EMPTY;
    const data = hdr > 0 ? copy.subarray(hdr) : copy;
    const replica = this.replica;
    if (replica === undefined) {
      this.processMsg(subject, reply, h, data);
      return;
    }
    if (!this.leader) return;
    if (this.checkBeforeProposal(subject, reply, h, data)) replica.propose(subject, reply, h, data);
  }

  /**
   * nats-server's processClusteredInboundMsg checks, made by the leader before proposing (the rest is
   * decided by every replica when the message is applied). Answers the publisher and returns false when
   * the message is refused.
   */
  private checkBeforeProposal(subject: string, reply: string, hdr: Buffer, data: Buffer): boolean {
    const cfg = this.config;
    const canRespond = !cfg.no_ack && reply !== '';
    const refuse = (err: ApiError): boolean => {
      if (canRespond) this.nak(reply, err);
      return false;
    };
    if (cfg.sealed) return refuse(newJSStreamSealedError());
    const overLimits = this.host.limitsExceeded(cfg, storedSize(cfg.storage, subject, hdr, data));
    if (overLimits !== undefined) return refuse(overLimits);
    if (cfg.max_msg_size >= 0 && hdr.length + data.length > cfg.max_msg_size) {
      return refuse(newJSStreamMessageExceedsMaximumError());
    }
    if (hdr.length > 0) {
      const h = readPublishHeaders(hdr);
      if (h.expectedLastSubjSeq !== undefined && h.expectedLastSubjSeq > 0) {
        const fseq = this.store.loadLastMsg(subject)?.seq ?? 0;
        if (fseq !== h.expectedLastSubjSeq) return refuse(newJSStreamWrongLastSequenceError(fseq));
      }
      if (h.expectedStream !== '' && h.expectedStream !== cfg.name) return refuse(newJSStreamNotMatchError());
      // An unknown roll-up value would be dropped by every replica without a count: refuse it here
      // (nats-server 2.9.10 proposes it and its replicas then disagree on the next sequence).
      if (h.rollup !== '' && h.rollup !== 'sub' && h.rollup !== 'all') {
        return refuse(newJSStreamRollupFailedError('rollup value invalid'));
      }
    }
    if (hdr.length > MAX_HEADER_SIZE) return refuse(newJSStreamHeaderExceedsMaximumError());
    return true;
  }

  /**
   * Store one published message (nats-server's processJetStreamMsg) and answer `reply` with the PubAck
   * or the error. Returns the sequence, or 0 when the message was not stored.
   */
  processMsg(subject: string, reply: string, hdr: Buffer, data: Buffer, rep?: ReplicatedMsg): number {
    if (this.closed) return 0;
    // As nats-server 2.10, first of all: a subject the transform does not match is stored as it is.
    if (this.itr !== undefined) subject = this.itr.match(subject) ?? subject;
    const cfg = this.config;
    const name = cfg.name;
    if (rep !== undefined) {
      // nats-server's applyStreamEntries / processJetStreamMsg with a cluster sequence.
      const last = this.lseq;
      if (rep.lseq - this.clfs < last) return ApplyResult.Skipped;
      if (rep.lseq !== last + this.clfs) {
        if (last !== 0) return ApplyResult.Mismatch;
        // An empty replica takes the group's position as it is.
        this.store.compact(rep.lseq + 1);
        this.lseq = rep.lseq;
        this.clfs = 0;
      }
    } else if (cfg.sealed) {
      this.nak(reply, newJSStreamSealedError());
      return 0;
    }
    const canRespond = !cfg.no_ack && reply !== '' && (rep === undefined || rep.leader);
    const fail = (err: ApiError): number => {
      if (rep !== undefined) this.clfs++;
      if (canRespond) this.nak(reply, err);
      return 0;
    };
    const ts = rep?.ts;
    let msgId = '';
    let rollupSub = false;
    let rollupAll = false;
    if (hdr.length > 0) {
      const h = readPublishHeaders(hdr);
      if (h.expectedStream !== '' && h.expectedStream !== name) return fail(newJSStreamNotMatchError());
      msgId = h.msgId;
      if (msgId !== '') {
        const dde = this.checkMsgId(msgId);
        if (dde !== undefined) {
          if (rep !== undefined) this.clfs++;
          if (canRespond) this.ack(reply, dde.seq, true);
          return 0;
        }
      }
      if (h.expectedLastSubjSeq !== undefined) {
        const last = this.store.loadLastMsg(subject);
        const fseq = last?.seq ?? 0;
        if (fseq !== h.expectedLastSubjSeq) return fail(newJSStreamWrongLastSequenceError(fseq));
      }
      if (h.expectedLastSeq !== undefined && h.expectedLastSeq !== this.lseq) {
        return fail(newJSStreamWrongLastSequenceError(this.lseq));
      }
      if (h.expectedLastMsgId !== '') {
        if (this.lmsgId === '' && !this.ddloaded) this.rebuildDedupe();
        if (h.expectedLastMsgId !== this.lmsgId) return fail(newJSStreamWrongLastMsgIDError(this.lmsgId));
      }
      if (h.rollup !== '') {
        if (!cfg.allow_rollup_hdrs || cfg.deny_purge) {
          return fail(newJSStreamRollupFailedError('rollup not permitted'));
        }
        if (h.rollup === 'sub') rollupSub = true;
        else if (h.rollup === 'all') rollupAll = true;
        // nats-server drops a message with an unknown roll-up value without answering.
        else return 0;
      }
    }
    if (cfg.max_msg_size >= 0 && hdr.length + data.length > cfg.max_msg_size) {
      return fail(newJSStreamMessageExceedsMaximumError());
    }
    if (hdr.length > MAX_HEADER_SIZE) return fail(newJSStreamHeaderExceedsMaximumError());
    const overLimits = this.host.limitsExceeded(cfg, storedSize(cfg.storage, subject, hdr, data));
    if (overLimits !== undefined) return fail(overLimits);

    // Interest retention keeps a message only when some consumer wants it; the sequence still advances.
    if (cfg.retention === 'interest' && !this.hasInterest(subject)) {
      const seq = this.skipMsg(subject, hdr, data, ts);
      if (seq === 0) return fail(newJSStreamStoreFailedError('store failed'));
      this.lmsgId = msgId;
      if (msgId !== '') this.storeMsgId({ id: msgId, seq, ts: Date.now() });
      if (canRespond) this.ack(reply, seq, false);
      return seq;
    }

    if (cfg.discard === 'new') {
      const reason = this.discardNewCheck(subject, hdr.length + data.length);
      if (reason !== '') return fail(newJSStreamStoreFailedError(reason));
    }

    // Republish: the last sequence of this subject before this message (gap detection for the receivers).
    const rpSubj =
      this.republishTr !== undefined && this.leader ? this.republishTr.match(subject) : undefined;
    const rpLast = rpSubj !== undefined ? (this.store.loadLastMsg(subject)?.seq ?? 0) : 0;

    let seq: number;
    try {
      seq = this.store.storeMsg(subject, hdr, data, ts).seq;
    } catch (e) {
      this.host.warn(
        `JetStream failed to store a msg on stream '${this.account.name} > ${name}': ${String(e)}`,
      );
      return fail(newJSStreamStoreFailedError((e as Error).message ?? String(e)));
    }
    this.lseq = seq;
    this.lmsgId = msgId;
    if (msgId !== '') this.storeMsgId({ id: msgId, seq, ts: Date.now() });

    if (rollupSub) this.purge({ filter: subject, keep: 1 });
    else if (rollupAll) this.purge({ keep: 1 });

    if (rpSubj !== undefined) this.republish(rpSubj, subject, seq, rpLast, hdr, data);
    if (canRespond) this.ack(reply, seq, false);
    this.emitStored(seq, subject);
    return seq;
  }

  /** nats-server's republish after a message is stored: its headers plus the stream, subject and sequences. */
  private republish(
    dest: string,
    subject: string,
    seq: number,
    last: number,
    hdr: Buffer,
    data: Buffer,
  ): void {
    const headersOnly = this.config.republish?.headers_only === true;
    const name = this.name;
    let h: Buffer;
    if (hdr.length === 0) {
      let s = `NATS/1.0\r\n${JSStream}: ${name}\r\n${JSSubject}: ${subject}\r\n${JSSequence}: ${seq}\r\n${JSLastSequence}: ${last}\r\n`;
      if (headersOnly) s += `${JSMsgSize}: ${data.length}\r\n`;
      h = Buffer.from(`${s}\r\n`, 'utf8');
    } else {
      h = appendHeader(hdr, JSStream, name);
      h = appendHeader(h, JSSubject, subject);
      h = appendHeader(h, JSSequence, String(seq));
      h = appendHeader(h, JSLastSequence, String(last));
      if (headersOnly) h = appendHeader(h, JSMsgSize, String(data.length));
    }
    this.host.out.defer(this.account, textToWire(dest), '', h, headersOnly ? EMPTY : data);
  }

  /**
   * Advance the sequence over `start`..`end` without messages (nats-server's skipMsgs for a mirror whose
   * origin no longer has them). An empty store moves its first sequence at once.
   */
  skipMsgs(start: number, end: number): void {
    if (end < start) return;
    if (this.store.state().msgs === 0) {
      this.store.compact(end + 1);
      this.lseq = end;
      return;
    }
    for (let seq = start; seq <= end; seq++) this.skipMsg('', EMPTY, EMPTY);
  }

  /**
   * Discard new: refuse a message that would go past a limit (nats-server checks this inside its stores).
   * Returns the store error text, '' when the message may be stored. At the per-subject limit (without
   * discard_new_per_subject) the message replaces the subject's oldest, so the other limits allow it.
   */
  private discardNewCheck(subject: string, len: number): string {
    const cfg = this.config;
    let asl = false;
    let firstOfSubject = 0;
    if (cfg.max_msgs_per_subject > 0) {
      const ss = this.store.subjectsState(subject).get(subject);
      if (ss !== undefined && ss.msgs >= cfg.max_msgs_per_subject) {
        if (cfg.discard_new_per_subject) return 'maximum messages per subject exceeded';
        asl = true;
        firstOfSubject = ss.first;
      }
    }
    if (cfg.max_msgs <= 0 && cfg.max_bytes <= 0) return '';
    const st = this.store.state();
    if (cfg.max_msgs > 0 && st.msgs >= cfg.max_msgs && !asl) return 'maximum messages exceeded';
    if (cfg.max_bytes > 0 && st.bytes + len >= cfg.max_bytes) {
      if (!asl) return 'maximum bytes exceeded';
      const first = this.store.loadMsg(firstOfSubject);
      const size = first === undefined ? 0 : first.hdr.length + first.data.length;
      if (size <= len) return 'maximum bytes exceeded';
    }
    return '';
  }

  /** Whether a consumer would take a message on `subject` (interest retention). */
  private hasInterest(subject: string): boolean {
    for (const c of this.consumers.values()) {
      const fs = c.filterSubjects;
      if (fs.length === 0) return true;
      for (const f of fs) if (f === '>' || matchLiteral(subject, f)) return true;
    }
    return false;
  }

  /** Advance the sequence without keeping the message (nats-server's SkipMsg), via store + remove. */
  private skipMsg(subject: string, hdr: Buffer, data: Buffer, ts?: bigint): number {
    try {
      const { seq } = this.store.storeMsg(subject, hdr, data, ts);
      this.store.removeMsg(seq, false);
      this.lseq = seq;
      return seq;
    } catch {
      return 0;
    }
  }

  /** PubAck: `{"stream":"S", "seq":N}` written exactly as nats-server writes it (its template has spaces). */
  private ack(reply: string, seq: number, duplicate: boolean): void {
    const name = JSON.stringify(this.name);
    const domain = this.host.domain;
    let s =
      domain !== ''
        ? `{"stream":${name}, "domain":${JSON.stringify(domain)}, "seq":${seq}`
        : `{"stream":${name}, "seq":${seq}`;
    s += duplicate ? ',"duplicate": true}' : '}';
    this.host.out.deferString(this.account, reply, s);
  }

  /** Error PubAck: `{"error":{...},"stream":"S","seq":0}`. */
  private nak(reply: string, err: ApiError): void {
    if (reply === '') return;
    this.host.out.deferString(this.account, reply, goJson({ error: err, stream: this.name, seq: 0 }));
  }

  // ---- deduplication ----------------------------------------------------------------------------------

  private checkMsgId(id: string): DedupeEntry | undefined {
    if (!this.ddloaded) this.rebuildDedupe();
    if (this.ddmap.size === 0) return undefined;
    return this.ddmap.get(id);
  }

  private storeMsgId(dde: DedupeEntry): void {
    this.ddmap.set(dde.id, dde);
    this.ddarr.push(dde);
    if (this.ddtimer === undefined) this.armDedupeTimer(this.windowMs());
  }

  private windowMs(): number {
    return Math.max(1, Math.floor(this.config.duplicate_window / 1e6));
  }

  private armDedupeTimer(ms: number): void {
    if (this.ddtimer !== undefined) clearTimeout(this.ddtimer);
    this.ddtimer = setTimeout(() => this.purgeMsgIds(), Math.min(ms, 0x7fffffff));
    this.ddtimer.unref();
  }

  /** Forget ids older than the window; re-arm for the next one to expire (nats-server's purgeMsgIds). */
  private purgeMsgIds(): void {
    this.ddtimer = undefined;
    const now = Date.now();
    const window = this.windowMs();
    let next = window;
    let i = this.ddindex;
    for (; i < this.ddarr.length; i++) {
      const dde = this.ddarr[i]!;
      if (now - dde.ts >= window) {
        if (this.ddmap.get(dde.id) === dde) this.ddmap.delete(dde.id);
      } else {
        next = window - (now - dde.ts);
        break;
      }
    }
    this.ddindex = i;
    if (this.ddindex > 1024 && this.ddindex * 2 > this.ddarr.length) {
      this.ddarr = this.ddarr.slice(this.ddindex);
      this.ddindex = 0;
    }
    if (this.ddmap.size > 0) {
      this.armDedupeTimer(Math.max(next, DEDUPE_MIN_FIRE_MS));
    } else {
      this.ddarr = [];
      this.ddindex = 0;
    }
  }

  /** After a restart: find message ids stored within the window (nats-server's rebuildDedupe). */
  private rebuildDedupe(): void {
    if (this.ddloaded) return;
    this.ddloaded = true;
    const windowNs = BigInt(this.config.duplicate_window);
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const st = this.store.state();
    if (st.msgs === 0) return;
    const start = this.store.getSeqFromTime(nowNs - windowNs);
    for (let seq = start; seq <= st.lastSeq; seq++) {
      const m = this.store.loadMsg(seq);
      if (m === undefined) continue;
      let id = '';
      if (m.hdr.length > 0) {
        id = getHeader(m.hdr, JSMsgId) ?? '';
        if (id !== '') this.storeMsgId({ id, seq: m.seq, ts: Number(m.ts / 1_000_000n) });
      }
      if (seq === st.lastSeq) this.lmsgId = id;
    }
  }

  // ---- direct get (ADR-31; nats-server's processDirectGetRequest) ---------------------------------------

  /** `$JS.API.DIRECT.GET.<stream>` with a JSON body: the message, or a status reply. */
  private directGet(reply: string, body: Buffer): void {
    if (reply === '' || this.closed) return;
    if (body.length === 0) {
      this.directStatus(reply, 408, 'Empty Request');
      return;
    }
    let req: MsgGetRequest;
    try {
      req = decodeMsgGetRequest(decodeRequest(body));
    } catch {
      this.directStatus(reply, 408, 'Malformed Request');
      return;
    }
    if (req.seq === 0 && req.last_by_subj === '' && req.next_by_subj === '') {
      this.directStatus(reply, 408, 'Empty Request');
      return;
    }
    if ((req.seq > 0 && req.last_by_subj !== '') || (req.last_by_subj !== '' && req.next_by_subj !== '')) {
      this.directStatus(reply, 408, 'Bad Request');
      return;
    }
    this.directReply(reply, req);
  }

  /** `$JS.API.DIRECT.GET.<stream>.<subject>`: the last message on the subject; the body must be empty. */
  private directGetLastBySubject(subject: string, reply: string, payloadLen: number): void {
    if (reply === '' || this.closed) return;
    if (payloadLen !== 0) {
      this.directStatus(reply, 408, 'Bad Request');
      return;
    }
    // The key is everything after the fifth token ($JS.API.DIRECT.GET.<stream>.).
    let dots = 0;
    let key = '';
    for (let i = 0; i < subject.length; i++) {
      if (subject.charCodeAt(i) === 46 && ++dots === 5) {
        key = subject.slice(i + 1);
        break;
      }
    }
    if (key === '') {
      this.directStatus(reply, 408, 'Bad Request');
      return;
    }
    this.directReply(reply, { seq: 0, last_by_subj: wireToText(key), next_by_subj: '' });
  }

  private directReply(reply: string, req: MsgGetRequest): void {
    const m = this.lookupMsg(req);
    if (m === undefined) {
      this.directStatus(reply, 404, 'Message Not Found');
      return;
    }
    const ts = rfc3339Nano(m.ts);
    let hdr: Buffer;
    if (m.hdr.length === 0) {
      hdr = Buffer.from(
        `NATS/1.0\r\n${JSStream}: ${this.name}\r\n${JSSubject}: ${m.subject}\r\n${JSSequence}: ${m.seq}\r\n${JSTimeStamp}: ${ts}\r\n\r\n`,
        'utf8',
      );
    } else {
      hdr = appendHeader(m.hdr, JSStream, this.name);
      hdr = appendHeader(hdr, JSSubject, m.subject);
      hdr = appendHeader(hdr, JSSequence, String(m.seq));
      hdr = appendHeader(hdr, JSTimeStamp, ts);
    }
    this.host.out.defer(this.account, reply, '', hdr, m.data);
  }

  private directStatus(reply: string, code: number, description: string): void {
    this.host.out.defer(this.account, reply, '', statusHeader(code, description), EMPTY);
  }

  /**
   * The message a get request asks for (STREAM.MSG.GET and direct get): by sequence, the first at or
   * after `seq` matching `next_by_subj`, or the last on `last_by_subj`.
   */
  lookupMsg(req: MsgGetRequest): StoredMsg | undefined {
    if (req.seq > 0 && req.next_by_subj === '') return this.store.loadMsg(req.seq);
    if (req.next_by_subj !== '') return this.store.loadNextMsg(req.next_by_subj, req.seq);
    return this.store.loadLastMsg(req.last_by_subj);
  }

  // ---- operations -------------------------------------------------------------------------------------

  /** Purge (nats-server's mset.purge): everything, or by subject filter / sequence / keep. */
  purge(req?: PurgeRequest): number {
    const filter = req?.filter ?? '';
    const purged =
      req === undefined ? this.store.purge() : this.store.purgeEx(filter, req.seq ?? 0, req.keep ?? 0);
    const st = this.store.state();
    let firstSeq = st.firstSeq;
    if (filter !== '') {
      const fs = this.store.filteredState(st.firstSeq, filter);
      firstSeq = fs.msgs > 0 ? fs.first : st.lastSeq + 1;
    }
    const info: PurgeInfo = { filter, firstSeq, lastSeq: st.lastSeq, purged };
    for (const l of this.listeners) l.purged?.(info);
    return purged;
  }

  /** Delete one message; `erase` overwrites it on disk. False when there is no such message. */
  removeMsg(seq: number, erase: boolean): boolean {
    const removed = this.store.removeMsg(seq, erase);
    if (removed) this.emitRemoved([seq]);
    return removed;
  }

  /**
   * Apply an already validated config (subjects, direct get, limits, dedupe window). The caller has
   * checked overlaps and what may not change.
   */
  update(cfg: StreamConfig): void {
    const old = this.config;
    const next = new Set(cfg.subjects);
    for (const s of old.subjects) if (!next.has(s)) this.unsubscribeSubject(s);
    for (const s of cfg.subjects) this.subscribeSubject(s);
    this.config = cfg;
    this.republishTr = republishTransform(cfg);
    this.itr = streamSubjectTransform(cfg);
    if (this.leader && this.sourcing !== undefined) this.sourcing.updateSources(old, cfg);
    else if (this.leader && (cfg.sources?.length ?? 0) > 0) this.startSourcing();
    if (cfg.allow_direct) this.subscribeDirect();
    else this.unsubscribeDirect();
    if (cfg.duplicate_window !== old.duplicate_window && this.ddtimer !== undefined) this.armDedupeTimer(1);
    this.store.updateLimits(storeLimitsOf(cfg));
    // nats-server 2.10 accepts a change of compression too; see FileStore.setCompression.
    if ((cfg.compression ?? 'none') !== (old.compression ?? 'none')) {
      this.store.setCompression?.(cfg.compression ?? 'none');
    }
    this.host.saveConfig(this);
  }

  // ---- replication (cluster/stream-replica.ts) --------------------------------------------------------

  /** The last sequence this stream assigned. */
  get lastSeq(): number {
    return this.lseq;
  }

  /** What a Raft snapshot of this replica says (nats-server's stateSnapshot). */
  snapshotState(): {
    messages: number;
    bytes: number;
    first_seq: number;
    last_seq: number;
    clfs: number;
    deleted?: number[];
  } {
    const st = this.store.state(true);
    const snap: {
      messages: number;
      bytes: number;
      first_seq: number;
      last_seq: number;
      clfs: number;
      deleted?: number[];
    } = {
      messages: st.msgs,
      bytes: st.bytes,
      first_seq: st.firstSeq,
      last_seq: st.lastSeq,
      clfs: this.clfs,
    };
    if (st.deleted !== undefined && st.deleted.length > 0) snap.deleted = st.deleted;
    return snap;
  }

  /**
   * A snapshot from the leader (nats-server's processSnapshotDeletes): drop what it no longer has and take
   * its failure count. Returns the first sequence this replica still lacks (last_seq + 1 when none).
   */
  applySnapshotDeletes(snap: {
    first_seq: number;
    last_seq: number;
    clfs: number;
    deleted?: number[];
  }): number {
    const st = this.store.state();
    if (snap.first_seq > st.firstSeq) {
      this.store.compact(snap.first_seq);
      this.lseq = this.store.state().lastSeq;
    }
    const last = this.store.state().lastSeq;
    for (const d of snap.deleted ?? []) if (d <= last) this.store.removeMsg(d, false);
    this.clfs = snap.clfs;
    this.emitRemoved([]);
    return last + 1;
  }

  /**
   * One message of a catch-up (nats-server's processCatchupMsg): stored at its own sequence with its own
   * time, or a skipped sequence. No PubAck, no consumer signal beyond `stored`.
   */
  storeCatchupMsg(seq: number, subject: string, hdr: Buffer, data: Buffer, ts: bigint): void {
    const last = this.store.state().lastSeq;
    if (seq <= last) return;
    if (seq > last + 1) this.store.compact(seq);
    if (subject === '' && ts === 0n) {
      // A sequence the leader does not have (deleted): keep the numbering.
      const { seq: got } = this.store.storeMsg('', EMPTY, EMPTY);
      this.store.removeMsg(got, false);
    } else {
      this.store.storeMsg(subject, hdr, data, ts);
      if (hdr.length > 0 && this.ddloaded) {
        const id = getHeader(hdr, JSMsgId) ?? '';
        if (id !== '') this.storeMsgId({ id, seq, ts: Number(ts / 1_000_000n) });
      }
      this.emitStored(seq, subject);
    }
    this.lseq = seq;
  }

  /** The stream's state (nats-server's StreamState); `details` adds the deleted sequences. */
  state(details = false): StreamState {
    return this.store.state(details);
  }

  stateJson(details = false): StreamStateJson {
    const st = this.store.state(details);
    const j: StreamStateJson = {
      messages: st.msgs,
      bytes: st.bytes,
      first_seq: st.firstSeq,
      first_ts: rfc3339Nano(st.firstTs),
      last_seq: st.lastSeq,
      last_ts: rfc3339Nano(st.lastTs),
      consumer_count: 0,
    };
    if (st.numSubjects > 0) j.num_subjects = st.numSubjects;
    if (st.numDeleted > 0) j.num_deleted = st.numDeleted;
    if (details && st.deleted !== undefined && st.deleted.length > 0) j.deleted = st.deleted;
    // Go's field order: consumer_count comes last.
    delete (j as Partial<StreamStateJson>).consumer_count;
    j.consumer_count = this.consumerCount;
    return j;
  }

  /** StreamInfo: config, created, state (+ domain). */
  info(details = false): StreamInfoJson {
    const i: StreamInfoJson = {
      config: encodeStreamConfig(this.config),
      created: rfc3339Nano(this.created),
      state: this.stateJson(details),
    };
    if (this.host.domain !== '') i.domain = this.host.domain;
    const mirror = this.sourcing?.mirrorInfo();
    if (mirror !== undefined) i.mirror = mirror;
    const sources = this.sourcing?.sourcesInfo();
    if (sources !== undefined && sources.length > 0) i.sources = sources;
    return i;
  }

  /** Stop taking messages and close the store (data stays). `deleted`: the stream is being deleted. */
  stop(deleted = false): void {
    if (this.closed) return;
    this.closed = true;
    this.sourcing?.stop();
    for (const s of [...this.subs.keys()]) this.unsubscribeSubject(s);
    this.unsubscribeDirect();
    if (this.ddtimer !== undefined) clearTimeout(this.ddtimer);
    this.ddtimer = undefined;
    for (const c of [...this.consumers.values()]) c.stop(deleted);
    for (const l of [...this.listeners]) l.stopped?.(deleted);
    if (deleted) this.store.delete();
    else this.store.stop();
  }
}

/** The bytes a message adds to its store, as nats-server counts them (fileStoreMsgSize / memStoreMsgSize). */
function storedSize(storage: StreamConfig['storage'], subject: string, hdr: Buffer, data: Buffer): number {
  return storage === 'file' ? fileStoreMsgSize(subject, hdr, data) : msgSize(subject, hdr, data);
}

/** The republish transform of a config (validated by checkStreamConfig). */
function republishTransform(cfg: StreamConfig): SubjectTransform | undefined {
  const rp = cfg.republish;
  if (rp === undefined) return undefined;
  return SubjectTransform.create(rp.src !== undefined && rp.src !== '' ? rp.src : '>', rp.dest);
}
