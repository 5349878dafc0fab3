/**
 * A JetStream consumer (nats-server consumer.go, single server): a cursor on a stream that delivers its
 * messages to a deliver subject (push) or to pull requests, tracks acknowledgements and redelivers what
 * is not acknowledged in time.
 *
 * State, as nats-server names it: `sseq` is the next stream sequence to look at and `dseq` the next
 * delivery sequence; `adflr`/`asflr` the ack floor (delivery and stream sequence below which everything is
 * acknowledged); `pending` the unacknowledged deliveries (explicit/all ack), `rdc` the redelivery counts,
 * `rdq` the sequences due for redelivery; `npc`/`npcm` a cached count of messages left to deliver and the
 * highest sequence it covers.
 *
 * Delivery runs in "passes" scheduled on the event loop (never inside the routing call that stored a
 * message or carried a request): a pass delivers as long as the consumer may (push: interest on the
 * deliver subject and flow control allow; pull: a waiting request), up to a budget, then yields with
 * setImmediate. Messages go out through the hub (hub.ts) in order with the status messages.
 *
 * Timers: redelivery (`checkPending`, ack_wait/backoff), inactivity (`deleteNotActive`,
 * inactive_threshold), push idle heartbeats, pull request expiry and heartbeats, replay pacing
 * (replay_policy original, rate_limit_bps) and the coalesced state write of file-backed consumers.
 */
import { randomBytes } from 'node:crypto';
import { parseGoDurationNanos } from '../../conf/duration.js';
import { matchLiteral, subjectIsSubsetMatch } from '../../routing/subject.js';
import type { Subscription } from '../../server/subscription.js';
import type { JsAccount } from '../account.js';
import { decodeRequest, goJson, InvalidJsonError } from '../api/json.js';
import { nowNanos, type StoredMsg } from '../store/store.js';
import type { PurgeInfo, Stream, StreamConsumer, StreamListener } from '../stream.js';
import { rfc3339Nano } from '../time.js';
import {
  type ConsumerConfig,
  checkConsumerUpdate,
  DELETE_WAIT_DEFAULT,
  encodeConsumerConfig,
  goDurationString,
  isDurable,
  sampleFrequency,
  startTimeNanos,
  type UpdateRefusal,
} from './config.js';
import { type ConsumerHub, type HubConsumer, hubOf } from './hub.js';
import type { ConsumerFileStore, ConsumerState, PendingDelivery } from './store.js';

/** nats-server's JsFlowControlMaxPending. */
const FLOW_CONTROL_MAX_PENDING = 32 * 1024 * 1024;
/** A pass delivers at most this much before yielding to the event loop. */
const PASS_MAX_MSGS = 512;
const PASS_MAX_BYTES = 4 * 1024 * 1024;
/** How long state changes of file-backed consumers may wait before they are written. */
const STATE_FLUSH_MS = 10;

const EMPTY = Buffer.alloc(0);
const CRLF = '\r\n';
const ACK = Buffer.from('+ACK');
const OK = Buffer.from('+OK');
const NAK = Buffer.from('-NAK');
const WPI = Buffer.from('+WPI');
const NXT = Buffer.from('+NXT');
const TERM = Buffer.from('+TERM');

/** JSON info of a consumer (nats-server's ConsumerInfo), in Go's field order. */
export interface ConsumerInfoJson {
  stream_name: string;
  name: string;
  created: string;
  config: Record<string, unknown>;
  delivered: SequenceInfoJson;
  ack_floor: SequenceInfoJson;
  num_ack_pending: number;
  num_redelivered: number;
  num_waiting: number;
  num_pending: number;
  push_bound?: boolean;
}

export interface SequenceInfoJson {
  consumer_seq: number;
  stream_seq: number;
  last_active?: string;
}

/** A waiting pull request (nats-server's waitingRequest). Times in ms since the epoch. */
interface WaitingRequest {
  reply: string;
  /** Messages still wanted. */
  n: number;
  /** Messages delivered. */
  d: number;
  /** Bytes still allowed (0 = no limit). */
  b: number;
  expires: number;
  received: number;
  hb: number;
  hbt: number;
  noWait: boolean;
}

/** What `getNextMsg` found. */
interface NextMsg {
  m: StoredMsg;
  dc: number;
}

const MAX_ACK_PENDING = 'max ack pending';

/** nats-server's ackWaitDelay: timers fire a little after the deadline. */
const ACK_WAIT_DELAY_MS = 1;

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `n` random characters of [0-9A-Za-z]. */
export function randomToken(n: number): string {
  const b = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += B62[b[i]! % 62];
  return s;
}

/** A status message header block: `NATS/1.0 <code> <description>` plus headers. */
function statusHdr(code: number, description: string, extra = ''): Buffer {
  return Buffer.from(`NATS/1.0 ${code} ${description}${CRLF}${extra}${CRLF}`, 'utf8');
}

function pendingHdrs(n: number, b: number): string {
  return `Nats-Pending-Messages: ${n}${CRLF}Nats-Pending-Bytes: ${b}${CRLF}`;
}

/** nats-server's parseAckReplyNum: decimal digits, anything else is -1 (a huge uint64 in Go). */
function parseAckNum(s: string | undefined): number {
  if (s === undefined || s.length === 0 || !/^\d+$/.test(s)) return Number.MAX_SAFE_INTEGER;
  return Number(s);
}

function startsWith(buf: Buffer, prefix: Buffer): boolean {
  return buf.length >= prefix.length && buf.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

/** A parsed pull request (nats-server's nextReqFromMsg). */
interface NextRequest {
  expires: number;
  batch: number;
  maxBytes: number;
  noWait: boolean;
  hb: number;
}

/** Parse a pull request body; a string is the error for `400 Bad Request - <error>`. */
export function parseNextRequest(body: Buffer, now: number): NextRequest | string {
  const text = body.toString('utf8').trim();
  if (text === '') return { expires: 0, batch: 1, maxBytes: 0, noWait: false, hb: 0 };
  if (text[0] === '{') {
    let expiresNs: number;
    let batch: number;
    let maxBytes: number;
    let noWait: boolean;
    let hbNs: number;
    try {
      const o = decodeRequest(text);
      expiresNs = o.int('expires') ?? 0;
      batch = o.int('batch') ?? 0;
      maxBytes = o.int('max_bytes') ?? 0;
      noWait = o.bool('no_wait') ?? false;
      hbNs = o.int('idle_heartbeat') ?? 0;
    } catch (e) {
      if (e instanceof InvalidJsonError) return e.message;
      throw e;
    }
    if (hbNs > 0 && hbNs * 2 > expiresNs) return 'heartbeat value too large';
    return {
      expires: expiresNs === 0 ? 0 : now + expiresNs / 1e6,
      batch,
      maxBytes,
      noWait,
      hb: hbNs / 1e6,
    };
  }
  const n = /^[+-]?\d+$/.test(text) ? Number(text) : 1;
  return { expires: 0, batch: n, maxBytes: 0, noWait: false, hb: 0 };
}

/** Options when a consumer is built (see registry.ts). */
export interface ConsumerInit {
  name: string;
  config: ConsumerConfig;
  created: bigint;
  store: ConsumerFileStore | undefined;
  /** Restored state (recovery), else the start position is chosen from the config. */
  state: ConsumerState | undefined;
}

export class Consumer implements StreamConsumer, HubConsumer, StreamListener {
  readonly name: string;
  cfg: ConsumerConfig;
  readonly stream: Stream;
  readonly jsa: JsAccount;
  created: bigint;
  closed = false;

  private sseq = 1;
  private dseq = 1;
  private adflr = 0;
  private asflr = 0;
  private npc = 0;
  private npcm = 0;
  private pending = new Map<number, PendingDelivery>();
  private rdc = new Map<number, number>();
  private rdq: number[] = [];
  private readonly rdqi = new Set<number>();
  /** deliver_policy last_per_subject: the last sequence of each subject, delivered first. */
  private lss: { resume: number; seqs: number[]; i: number } | undefined;
  private maxp: number;
  private maxdc: number;
  private waiting: WaitingRequest[] = [];
  private waitingLast = 0;
  private active = false;
  private dsubj: string;
  private pblimit = 0;
  private maxpb = 0;
  private pbytes = 0;
  private fcsz = 0;
  private fcid = '';
  private ptmr: NodeJS.Timeout | undefined;
  private dtmr: NodeJS.Timeout | undefined;
  private dthresh = 0;
  private hbTimer: NodeJS.Timeout | undefined;
  private wrTimer: NodeJS.Timeout | undefined;
  private wrTimerAt = 0;
  private holdTimer: NodeJS.Timeout | undefined;
  private skipDelayOnce = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private lastDelivery = 0;
  /** Last delivery and last ack, ns since the epoch (0n = never). */
  private ldt = 0n;
  private lat = 0n;
  private replay = false;
  private lseq = 0;
  private lts = 0n;
  private rate: { bytesPerMs: number; burst: number; tokens: number; last: number } | undefined;
  private sfreq: number;
  private readonly store: ConsumerFileStore | undefined;
  private dirty = false;
  private storeFailed = false;
  private ackSub: Subscription | undefined;
  private fcSub: Subscription | undefined;
  private scheduled = false;
  private readonly hub: ConsumerHub;
  private readonly ackPrefix: string;
  private readonly passBound = (): void => this.pass();

  constructor(jsa: JsAccount, stream: Stream, init: ConsumerInit) {
    this.jsa = jsa;
    this.stream = stream;
    this.name = init.name;
    this.cfg = init.config;
    this.created = init.created;
    this.store = init.store;
    this.hub = hubOf(jsa.js);
    this.dsubj = this.cfg.deliver_subject;
    this.maxp = this.cfg.max_ack_pending;
    this.maxdc = this.cfg.max_deliver > 0 ? this.cfg.max_deliver : 0;
    this.sfreq = sampleFrequency(this.cfg);
    this.ackPrefix = `$JS.ACK.${stream.name}.${this.name}.`;
    this.updateInactiveThreshold(this.cfg);
    if (init.state !== undefined) {
      this.applyState(init.state);
      this.checkRedelivered(stream.state().lastSeq);
    } else {
      this.selectStartingSeqNo();
      this.writeState();
    }
    if (this.cfg.rate_limit_bps > 0) this.setRateLimit(this.cfg.rate_limit_bps);
  }

  // ---- StreamConsumer ---------------------------------------------------------------------------------

  get filterSubject(): string {
    return this.cfg.filter_subject;
  }

  get internal(): boolean {
    return this.cfg.direct;
  }

  get isPush(): boolean {
    return this.cfg.deliver_subject !== '';
  }

  private get acc() {
    return this.stream.account;
  }

  /** Subscribe, register with the stream and start delivering (nats-server's setLeader(true)). */
  start(): void {
    this.streamNumPending();
    this.ackSub = this.jsa.subscribe(`${this.ackPrefix}*.*.*.*.*`, (subject, reply, hdr, buf, start, size) =>
      this.onAck(
        subject,
        reply,
        hdr > 0 ? buf.subarray(start + hdr, start + size) : buf.subarray(start, start + size),
      ),
    );
    if (this.cfg.flow_control) {
      this.setMaxPendingBytes(FLOW_CONTROL_MAX_PENDING);
      this.fcSub = this.jsa.subscribe(`$JS.FC.${this.stream.name}.${this.name}.*`, (subject) =>
        this.processFlowControl(subject),
      );
    }
    if (this.isPush) {
      this.active = this.deliverInterest();
      if (!this.active) this.hub.watch(this);
    }
    if (this.dthresh > 0 && (!this.isPush || !this.active)) this.armDeleteTimer(this.dthresh);
    if (this.cfg.replay_policy !== 'instant') {
      this.replay = true;
      this.lseq = this.stream.state().lastSeq;
    }
    if (this.isPush && this.cfg.idle_heartbeat > 0) this.armHeartbeat(this.cfg.idle_heartbeat / 1e6);
    this.stream.addListener(this);
    this.stream.addConsumer(this);
    this.sendActionAdvisory('create');
    this.kick();
  }

  // ---- configuration ----------------------------------------------------------------------------------

  /** nats-server's updateInactiveThreshold: ephemerals always have one (5s by default, plus jitter). */
  private updateInactiveThreshold(cfg: ConsumerConfig): void {
    const pull = cfg.deliver_subject === '';
    if (!isDurable(cfg) && cfg.inactive_threshold <= 0) {
      this.dthresh = DELETE_WAIT_DEFAULT / 1e6 + 100 + Math.floor(Math.random() * 900);
      cfg.inactive_threshold = DELETE_WAIT_DEFAULT;
    } else if (cfg.inactive_threshold > 0) {
      this.dthresh = cfg.inactive_threshold / 1e6 + (pull ? 100 + Math.floor(Math.random() * 900) : 0);
    } else {
      this.dthresh = 0;
    }
  }

  /**
   * A create request for this existing consumer (nats-server's updateConfig): refused when it changes
   * what may not change, else applied.
   */
  update(next: ConsumerConfig): UpdateRefusal | undefined {
    const refusal = checkConsumerUpdate(
      this.cfg,
      next,
      this.cfg.deliver_subject !== '' && this.deliverInterest(),
    );
    if (refusal !== undefined) return refusal;
    const cur = this.cfg;
    if (next.deliver_subject !== cur.deliver_subject) this.updateDeliverSubject(next.deliver_subject);
    if (next.max_ack_pending !== cur.max_ack_pending) {
      this.maxp = next.max_ack_pending;
      this.kick();
    }
    if (next.ack_wait !== cur.ack_wait && this.ptmr !== undefined) this.armPendingTimer(100);
    if (next.rate_limit_bps !== cur.rate_limit_bps) this.setRateLimit(next.rate_limit_bps);
    if (next.sample_freq !== cur.sample_freq) this.sfreq = sampleFrequency(next);
    if (next.max_deliver !== cur.max_deliver) this.maxdc = next.max_deliver > 0 ? next.max_deliver : 0;
    if (next.inactive_threshold !== cur.inactive_threshold) {
      this.updateInactiveThreshold(next);
      this.clearDeleteTimer();
      if (this.dthresh > 0) this.armDeleteTimer(this.dthresh);
    }
    this.cfg = next;
    this.dsubj = next.deliver_subject;
    this.saveMeta();
    return undefined;
  }

  private updateDeliverSubject(deliver: string): void {
    if (this.closed || !this.isPush || this.cfg.deliver_subject === deliver) return;
    if (this.pending.size > 0) this.forceExpirePending();
    this.dsubj = deliver;
    this.cfg.deliver_subject = deliver;
    this.updateDeliveryInterest(this.deliverInterest());
  }

  private saveMeta(): void {
    if (this.store === undefined) return;
    try {
      this.store.writeMeta({ name: this.name, created: this.created, config: this.cfg });
    } catch (e) {
      this.warn(`could not write its configuration: ${String(e)}`);
    }
  }

  private setRateLimit(bps: number): void {
    if (bps <= 0) {
      this.rate = undefined;
      return;
    }
    const max = this.stream.config.max_msg_size;
    const burst = max > 0 ? max : this.jsa.js.server.options.maxPayload;
    this.rate = { bytesPerMs: bps / 8 / 1000, burst, tokens: burst, last: Date.now() };
  }

  private warn(what: string): void {
    this.jsa.warn(`JetStream consumer '${this.acc.name} > ${this.stream.name} > ${this.name}' ${what}`);
  }

  // ---- start position and state -----------------------------------------------------------------------

  /** nats-server's selectStartingSeqNo. */
  private selectStartingSeqNo(): void {
    const store = this.stream.store;
    const st = store.state();
    const cfg = this.cfg;
    if (cfg.opt_start_seq === 0) {
      if (cfg.deliver_policy === 'all') {
        this.sseq = st.firstSeq;
      } else if (cfg.deliver_policy === 'last') {
        this.sseq = st.lastSeq;
        if (cfg.filter_subject !== '') this.sseq = store.filteredState(1, cfg.filter_subject).last;
      } else if (cfg.deliver_policy === 'last_per_subject') {
        const mss = store.subjectsState(cfg.filter_subject);
        if (mss.size > 0) {
          const seqs = [...mss.values()].map((s) => s.last).sort((a, b) => a - b);
          this.lss = { resume: st.lastSeq, seqs, i: 0 };
          this.sseq = seqs[0]!;
        } else {
          this.sseq = st.lastSeq;
        }
      } else if (cfg.opt_start_time !== '') {
        this.sseq = store.getSeqFromTime(startTimeNanos(cfg));
      } else {
        this.sseq = st.lastSeq + 1;
      }
    } else {
      this.sseq = cfg.opt_start_seq;
    }
    if (st.firstSeq === 0) this.sseq = 1;
    else if (this.sseq < st.firstSeq) this.sseq = st.firstSeq;
    else if (this.sseq > st.lastSeq) this.sseq = st.lastSeq + 1;
    this.dseq = 1;
    this.adflr = 0;
    this.asflr = this.sseq - 1;
  }

  /** nats-server's applyState. */
  private applyState(st: ConsumerState): void {
    if (this.sseq <= st.delivered.stream) this.sseq = st.delivered.stream + 1;
    this.dseq = st.delivered.consumer + 1;
    this.adflr = st.ackFloor.consumer;
    this.asflr = st.ackFloor.stream;
    this.pending = st.pending;
    this.rdc = st.redelivered;
    if (this.pending.size > 0 && this.ptmr === undefined) {
      let delay = 500 + Math.floor(Math.random() * 1000);
      if (this.cfg.ack_wait / 1e6 < delay) delay = this.ackWait(0);
      this.armPendingTimer(delay);
    }
  }

  /** Forget redelivery counts below the ack floor or past the stream's end. */
  private checkRedelivered(lastSeq: number): void {
    let changed = false;
    for (const seq of [...this.rdc.keys()]) {
      if (seq < this.asflr || (lastSeq > 0 && seq > lastSeq)) {
        this.rdc.delete(seq);
        this.removeFromRedeliverQueue(seq);
        changed = true;
      }
    }
    if (changed) this.markDirty();
  }

  private snapshot(): ConsumerState {
    return {
      delivered: { consumer: this.dseq - 1, stream: this.sseq - 1 },
      ackFloor: { consumer: this.adflr, stream: this.asflr },
      pending: this.pending,
      redelivered: this.rdc,
    };
  }

  /** Persist now (file-backed consumers). */
  private writeState(): void {
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    this.dirty = false;
    if (this.store === undefined) return;
    try {
      this.store.writeState(this.snapshot());
      this.storeFailed = false;
    } catch (e) {
      if (!this.storeFailed) this.warn(`could not write its state: ${String(e)}`);
      this.storeFailed = true;
    }
  }

  private markDirty(): void {
    if (this.store === undefined || this.closed) return;
    this.dirty = true;
    if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        if (this.dirty && !this.closed) this.writeState();
      }, STATE_FLUSH_MS);
      this.flushTimer.unref();
    }
  }

  private updateDelivered(): void {
    this.ldt = nowNanos();
    this.markDirty();
  }

  private updateAcks(): void {
    this.lat = nowNanos();
    this.markDirty();
  }

  // ---- pending count ----------------------------------------------------------------------------------

  /** nats-server's streamNumPending: recount what is left to deliver. */
  private streamNumPending(): number {
    const store = this.stream.store;
    if (this.stream.closed) {
      this.npc = 0;
      this.npcm = 0;
    } else if (this.cfg.deliver_policy === 'last_per_subject') {
      this.npc = 0;
      this.npcm = 0;
      for (const ss of store.subjectsState(this.cfg.filter_subject).values()) {
        if (this.sseq <= ss.last) {
          this.npc++;
          if (ss.last > this.npcm) this.npcm = ss.last;
        }
      }
    } else {
      const ss = store.filteredState(this.sseq, this.cfg.filter_subject);
      this.npc = ss.msgs;
      this.npcm = ss.last;
    }
    return this.npc;
  }

  private numPending(): number {
    if (this.npcm === 0) this.streamNumPending();
    return this.npc < 0 ? 0 : this.npc;
  }

  private isFilteredMatch(subject: string): boolean {
    const f = this.cfg.filter_subject;
    if (f === '' || f === '>') return true;
    return subject === f || matchLiteral(subject, f);
  }

  /** nats-server's isFiltered: the filter selects less than the whole stream. */
  private isFiltered(): boolean {
    const f = this.cfg.filter_subject;
    if (f === '') return false;
    const subjects = this.stream.config.subjects;
    return subjects.length !== 1 || f !== subjects[0];
  }

  // ---- stream events (StreamListener) -----------------------------------------------------------------

  stored(seq: number, subject: string): void {
    if (this.closed || !this.isFilteredMatch(subject)) return;
    if (seq > this.npcm) this.npc++;
    if (seq < this.sseq) return;
    if ((this.isPush && this.active) || (!this.isPush && this.waiting.length > 0)) this.kick();
  }

  removed(seqs: readonly number[]): void {
    if (this.closed) return;
    for (const seq of seqs) {
      if (seq >= this.sseq) this.npcm = 0;
      const p = this.pending.get(seq);
      if (p === undefined) continue;
      // nats-server terminates deliveries whose message is gone (decStreamPending).
      const dc = (this.rdc.get(seq) ?? 0) + 1;
      if (this.cfg.ack_policy === 'explicit') this.processTerm(seq, p.dseq, dc);
      else {
        this.pending.delete(seq);
        this.rdc.delete(seq);
        this.removeFromRedeliverQueue(seq);
        this.markDirty();
      }
    }
  }

  purged(info: PurgeInfo): void {
    if (this.closed) return;
    if (info.filter !== '' && !this.isFilteredMatch(info.filter)) return;
    const sseq = info.firstSeq === 0 ? info.lastSeq + 1 : info.firstSeq;
    if (this.sseq < sseq) this.sseq = sseq;
    if (this.asflr < sseq) {
      this.asflr = sseq - 1;
      this.adflr = this.dseq - 1;
    }
    this.pending = new Map();
    if (this.rdq.length > 0) {
      const rdq = this.rdq;
      this.rdq = [];
      this.rdqi.clear();
      for (const s of rdq) if (s >= this.sseq) this.addToRedeliverQueue(s);
    }
    if (this.lss !== undefined) this.lss = undefined;
    this.npcm = 0;
    this.writeState();
  }

  // ---- push interest ----------------------------------------------------------------------------------

  private deliverInterest(): boolean {
    return this.dsubj !== '' && this.acc.sublist.hasInterest(this.dsubj);
  }

  /** Hub poll: interest on the deliver subject again? */
  checkInterest(): boolean {
    if (this.closed || !this.isPush) return true;
    if (!this.deliverInterest()) return false;
    this.updateDeliveryInterest(true);
    return true;
  }

  /** nats-server's updateDeliveryInterest. */
  private updateDeliveryInterest(interest: boolean): void {
    if (this.closed || !this.isPush) return;
    if (interest && !this.active) this.kick();
    this.active = interest;
    if (interest) this.hub.unwatch(this);
    else this.hub.watch(this);
    if (this.dtmr !== undefined && this.dthresh > 0 && !interest) return;
    this.clearDeleteTimer();
    if (!interest && this.dthresh > 0) this.armDeleteTimer(this.dthresh);
  }

  didNotDeliver(_seq: number): void {
    if (this.closed) return;
    if (this.isPush) {
      const interest = this.deliverInterest();
      if (!interest) {
        this.active = false;
        this.updateDeliveryInterest(false);
      }
    }
    // Pull: the request's inbox had interest when it was chosen. nats-server queues the message for
    // redelivery at once; tsnats leaves it pending for ack_wait, so a subscriber that keeps refusing
    // deliveries (permissions) cannot spin the event loop.
  }

  // ---- inactivity -------------------------------------------------------------------------------------

  private armDeleteTimer(ms: number): void {
    this.clearDeleteTimer();
    this.dtmr = setTimeout(
      () => {
        this.dtmr = undefined;
        this.deleteNotActive();
      },
      Math.max(1, ms),
    );
    this.dtmr.unref();
  }

  private clearDeleteTimer(): void {
    if (this.dtmr !== undefined) clearTimeout(this.dtmr);
    this.dtmr = undefined;
  }

  /** nats-server's deleteNotActive. */
  private deleteNotActive(): void {
    if (this.closed) return;
    if (this.isPush) {
      if (this.active) return;
    } else {
      const elapsed = Date.now() - this.waitingLast;
      if (elapsed <= this.cfg.inactive_threshold / 1e6) {
        this.armDeleteTimer(this.dthresh - elapsed);
        return;
      }
      this.processWaiting(true);
      if (this.waiting.length > 0) {
        this.armDeleteTimer(this.dthresh);
        return;
      }
    }
    this.delete();
  }

  /** An ack counts as activity (nats-server's suppressDeletion). */
  private suppressDeletion(): void {
    if (this.closed) return;
    if (this.isPush) {
      if (this.dtmr !== undefined) this.armDeleteTimer(this.dthresh);
    } else {
      this.waitingLast = Date.now();
    }
  }

  // ---- delivery ---------------------------------------------------------------------------------------

  /** Schedule a delivery pass. */
  kick(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    queueMicrotask(this.passBound);
  }

  private addToRedeliverQueue(seq: number): void {
    this.rdq.push(seq);
    this.rdqi.add(seq);
  }

  private removeFromRedeliverQueue(seq: number): void {
    if (!this.rdqi.delete(seq)) return;
    const i = this.rdq.indexOf(seq);
    if (i >= 0) this.rdq.splice(i, 1);
  }

  private incDeliveryCount(seq: number): number {
    const n = (this.rdc.get(seq) ?? 0) + 1;
    this.rdc.set(seq, n);
    return n + 1;
  }

  /** nats-server's getNextMsg: a redelivery first, else the next message of the stream. */
  private getNextMsg(): NextMsg | typeof MAX_ACK_PENDING | undefined {
    const store = this.stream.store;
    while (this.rdq.length > 0) {
      const seq = this.rdq.shift()!;
      this.rdqi.delete(seq);
      const dc = this.incDeliveryCount(seq);
      if (this.maxdc > 0 && dc > this.maxdc) {
        if (dc === this.maxdc + 1) this.notifyDeliveryExceeded(seq, dc - 1);
        this.pending.delete(seq);
        this.markDirty();
        continue;
      }
      const m = store.loadMsg(seq);
      if (m === undefined) {
        // Gone from the stream meanwhile: nothing to redeliver.
        this.pending.delete(seq);
        this.rdc.delete(seq);
        this.markDirty();
        continue;
      }
      return { m, dc };
    }
    if (this.maxp > 0 && this.pending.size >= this.maxp) return MAX_ACK_PENDING;
    let seq = this.sseq;
    const lss = this.lss;
    if (lss !== undefined && lss.i < lss.seqs.length) {
      seq = lss.seqs[lss.i++]!;
      if (lss.i >= lss.seqs.length) {
        this.sseq = lss.resume;
        this.lss = undefined;
      }
    }
    const m = store.loadNextMsg(this.cfg.filter_subject, seq);
    if (m !== undefined) {
      if (m.seq >= this.sseq) this.sseq = m.seq + 1;
      return { m, dc: 1 };
    }
    const last = store.state().lastSeq;
    if (last >= this.sseq) this.sseq = last + 1;
    return undefined;
  }

  /** Put back what getNextMsg returned (no request to take it, or paced by replay / rate limit). */
  private unget(next: NextMsg, saved: { sseq: number; lss: Consumer['lss']; lssI: number }): void {
    if (next.dc > 1) {
      const seq = next.m.seq;
      const n = (this.rdc.get(seq) ?? 1) - 1;
      if (n > 0) this.rdc.set(seq, n);
      else this.rdc.delete(seq);
      this.rdq.unshift(seq);
      this.rdqi.add(seq);
      return;
    }
    this.sseq = saved.sseq;
    this.lss = saved.lss;
    if (this.lss !== undefined) this.lss.i = saved.lssI;
  }

  /** Pace deliveries: nothing goes out for `ms`, then the held message goes without another delay. */
  private hold(ms: number): void {
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(
      () => {
        this.holdTimer = undefined;
        this.skipDelayOnce = true;
        this.kick();
      },
      Math.max(1, Math.ceil(ms)),
    );
    this.holdTimer.unref();
  }

  /** nats-server's loopAndGatherMsgs, one round: deliver as much as allowed. */
  private pass(): void {
    this.scheduled = false;
    if (this.closed || this.holdTimer !== undefined) return;
    const push = this.isPush;
    if (push && this.active && !this.deliverInterest()) this.updateDeliveryInterest(false);
    // End of stream (no more messages to deliver): no_wait requests that got something are done.
    let eos = true;
    let count = 0;
    let bytes = 0;
    for (;;) {
      if (push) {
        if (!this.active || (this.maxpb > 0 && this.pbytes > this.maxpb)) break;
      } else if (this.waiting.length === 0) break;
      if (count >= PASS_MAX_MSGS || bytes >= PASS_MAX_BYTES) {
        this.scheduled = true;
        setImmediate(this.passBound);
        eos = false;
        break;
      }
      const saved = { sseq: this.sseq, lss: this.lss, lssI: this.lss?.i ?? 0 };
      const next = this.getNextMsg();
      if (next === MAX_ACK_PENDING) {
        eos = false;
        break;
      }
      if (next === undefined) break;
      const { m, dc } = next;
      if (!this.skipDelayOnce) {
        let delay = 0;
        if (this.replay && this.lts > 0n) delay = Number(m.ts - this.lts) / 1e6;
        if (this.rate !== undefined) {
          const sz = m.subject.length + m.hdr.length + m.data.length;
          delay = Math.max(delay, this.reserveRate(sz));
        }
        if (delay > 1) {
          this.unget(next, saved);
          this.hold(delay);
          return;
        }
      }
      this.skipDelayOnce = false;
      if (dc === 1 && this.npcm > 0) this.npc--;
      const ackReply = `${this.ackPrefix}${dc}.${m.seq}.${this.dseq}.${m.ts}.${this.numPending()}`;
      let hdr = m.hdr;
      let data = m.data;
      if (this.cfg.headers_only) {
        hdr = headersOnly(hdr, data.length);
        data = EMPTY;
      }
      const sz = m.subject.length + ackReply.length + hdr.length + data.length;
      let dsubj: string;
      if (push) dsubj = this.dsubj;
      else {
        const wr = this.nextWaiting(sz);
        if (wr === undefined) {
          if (dc === 1 && this.npcm > 0) this.npc++;
          this.unget(next, saved);
          break;
        }
        dsubj = wr.reply;
        if (wr.n > 0 && wr.hb > 0) wr.hbt = Date.now() + wr.hb;
      }
      this.lts = m.ts;
      this.deliverMsg(dsubj, ackReply, m, hdr, data);
      count++;
      bytes += sz;
    }
    if (!push) {
      const fexp = this.processWaiting(eos).fexp;
      if (fexp > 0) this.armWaitingTimer(fexp);
    }
    if (this.replay && this.sseq > this.lseq) this.replay = false;
  }

  /** Rate limit (golang.org/x/time/rate as nats-server uses it): reserve `n` bytes, return the wait in ms. */
  private reserveRate(n: number): number {
    const r = this.rate!;
    const now = Date.now();
    r.tokens = Math.min(r.burst, r.tokens + (now - r.last) * r.bytesPerMs);
    r.last = now;
    r.tokens -= n;
    return r.tokens >= 0 ? 0 : -r.tokens / r.bytesPerMs;
  }

  /** nats-server's deliverMsg. */
  private deliverMsg(dsubj: string, ackReply: string, m: StoredMsg, hdr: Buffer, data: Buffer): void {
    const dseq = this.dseq++;
    const psz = m.subject.length + ackReply.length + hdr.length + data.length;
    if (this.maxpb > 0) this.pbytes += psz;
    this.hub.deliver(this.acc, dsubj, m.subject, ackReply, hdr.length > 0 ? hdr : null, data, this, m.seq);
    const ap = this.cfg.ack_policy;
    if (ap === 'explicit' || ap === 'all') this.trackPending(m.seq, dseq);
    else {
      this.adflr = dseq;
      this.asflr = m.seq;
    }
    if (this.maxpb > 0 && this.needFlowControl(psz)) this.sendFlowControl();
    const now = Date.now();
    if (!this.isPush && this.dthresh > 0) this.waitingLast = now;
    this.lastDelivery = now;
    this.updateDelivered();
    if (ap === 'none' && this.stream.config.retention !== 'limits') this.streamAck(m.seq);
  }

  // ---- flow control -----------------------------------------------------------------------------------

  private setMaxPendingBytes(limit: number): void {
    this.pblimit = limit;
    this.maxpb = Math.max(1, Math.floor(limit / 16));
  }

  private needFlowControl(sz: number): boolean {
    if (this.maxpb === 0) return false;
    if (this.fcid === '' && this.pbytes > this.maxpb / 2) return true;
    if (this.fcid !== '' && this.pbytes - this.fcsz >= this.maxpb) this.fcsz += sz;
    return false;
  }

  private sendFlowControl(): void {
    if (!this.isPush) return;
    const reply = `$JS.FC.${this.stream.name}.${this.name}.${randomToken(4)}`;
    this.fcsz = this.pbytes;
    this.fcid = reply;
    this.hub.publish(this.acc, this.cfg.deliver_subject, statusHdr(100, 'FlowControl Request'), EMPTY, reply);
  }

  private processFlowControl(subject: string): void {
    if (this.closed || subject !== this.fcid) return;
    if (this.maxpb < this.pblimit) this.maxpb = Math.min(this.maxpb * 2, this.pblimit);
    this.pbytes = Math.max(0, this.pbytes - this.fcsz);
    this.fcid = '';
    this.fcsz = 0;
    this.kick();
  }

  // ---- heartbeats -------------------------------------------------------------------------------------

  private armHeartbeat(ms: number): void {
    if (this.hbTimer !== undefined) clearTimeout(this.hbTimer);
    this.hbTimer = setTimeout(
      () => {
        this.hbTimer = undefined;
        if (this.closed) return;
        const period = this.cfg.idle_heartbeat / 1e6;
        if (period <= 0) return;
        const idle = Date.now() - this.lastDelivery;
        if (idle < period) {
          this.armHeartbeat(period - idle);
          return;
        }
        if (this.active) this.sendIdleHeartbeat(this.dsubj);
        this.lastDelivery = Date.now();
        this.armHeartbeat(period);
      },
      Math.max(1, Math.ceil(ms)),
    );
    this.hbTimer.unref();
  }

  private sendIdleHeartbeat(subject: string): void {
    let extra = `Nats-Last-Consumer: ${this.dseq - 1}${CRLF}Nats-Last-Stream: ${this.sseq - 1}${CRLF}`;
    if (this.fcid !== '') extra += `Nats-Consumer-Stalled: ${this.fcid}${CRLF}`;
    this.hub.publish(this.acc, subject, statusHdr(100, 'Idle Heartbeat', extra));
  }

  // ---- pending acknowledgements -------------------------------------------------------------------------

  private ackWait(next: number): number {
    return (next > 0 ? next : this.cfg.ack_wait / 1e6) + ACK_WAIT_DELAY_MS;
  }

  private armPendingTimer(ms: number): void {
    if (this.ptmr !== undefined) clearTimeout(this.ptmr);
    this.ptmr = setTimeout(() => this.checkPending(), Math.max(1, Math.ceil(ms)));
    this.ptmr.unref();
  }

  private trackPending(sseq: number, dseq: number): void {
    if (this.ptmr === undefined) this.armPendingTimer(this.ackWait(0));
    const now = Date.now();
    const p = this.pending.get(sseq);
    if (p !== undefined) p.ts = now;
    else this.pending.set(sseq, { dseq, ts: now });
  }

  /** nats-server's checkPending: queue for redelivery what waited longer than ack_wait (or its backoff). */
  private checkPending(): void {
    this.ptmr = undefined;
    if (this.closed) return;
    const now = Date.now();
    const ttl = this.cfg.ack_wait / 1e6;
    const backoff = this.cfg.backoff;
    let next = backoff.length > 0 ? backoff[backoff.length - 1]! / 1e6 : this.ackWait(0);
    const fseq = this.stream.state().firstSeq;
    let changed = false;
    const expired: number[] = [];
    for (const [seq, p] of this.pending) {
      if (seq < fseq) {
        this.pending.delete(seq);
        this.rdc.delete(seq);
        this.removeFromRedeliverQueue(seq);
        changed = true;
        continue;
      }
      const elapsed = now - p.ts;
      let deadline = ttl;
      if (backoff.length > 0) {
        let dc = this.rdc.get(seq) ?? 0;
        let nbi = dc + 1;
        if (dc + 1 >= backoff.length) {
          dc = backoff.length - 1;
          nbi = dc;
        }
        deadline = backoff[dc]! / 1e6;
        const nb = backoff[nbi]! / 1e6;
        if (nb < next) next = nb;
      }
      if (elapsed >= deadline) {
        if (!this.rdqi.has(seq)) expired.push(seq);
      } else if (deadline - elapsed < next) {
        next = deadline - elapsed;
      }
    }
    if (expired.length > 0) {
      expired.sort((a, b) => a - b);
      const off = now - this.pending.get(expired[0]!)!.ts;
      for (const seq of expired) {
        this.addToRedeliverQueue(seq);
        const p = this.pending.get(seq);
        if (p !== undefined) p.ts += off;
      }
      this.kick();
    }
    if (this.pending.size > 0) this.armPendingTimer(this.ackWait(next));
    if (changed) this.writeState();
  }

  /** Redeliver everything pending now (the deliver subject changed). */
  private forceExpirePending(): void {
    const expired: number[] = [];
    for (const seq of this.pending.keys()) if (!this.rdqi.has(seq)) expired.push(seq);
    if (expired.length > 0) {
      expired.sort((a, b) => a - b);
      for (const seq of expired) this.addToRedeliverQueue(seq);
      this.armPendingTimer(this.ackWait(0));
    }
    this.kick();
  }

  // ---- acknowledgements -------------------------------------------------------------------------------

  /** A message on `$JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<dseq>.<ts>.<pending>` (nats-server's processAck). */
  private onAck(subject: string, reply: string, msg: Buffer): void {
    if (this.closed) return;
    const t = subject.slice(this.ackPrefix.length).split('.');
    let sseq = 0;
    let dseq = 0;
    let dc = 0;
    if (t.length === 5) {
      dc = parseAckNum(t[0]);
      sseq = parseAckNum(t[1]);
      dseq = parseAckNum(t[2]);
    }
    let skipAckReply = sseq === 0;
    if (msg.length === 0 || msg.equals(ACK) || msg.equals(OK)) {
      this.processAckMsg(sseq, dseq, dc, true);
    } else if (startsWith(msg, NXT)) {
      this.processAckMsg(sseq, dseq, dc, true);
      this.processNextMsgRequest(reply, msg.subarray(NXT.length));
      skipAckReply = true;
    } else if (startsWith(msg, NAK)) {
      this.processNak(sseq, dseq, dc, msg);
    } else if (msg.equals(WPI)) {
      this.progressUpdate(sseq);
    } else if (startsWith(msg, TERM)) {
      this.processTerm(sseq, dseq, dc);
    }
    if (reply !== '' && !skipAckReply) {
      // The requester waits for this confirmation: make the ack durable first.
      if (this.dirty) this.writeState();
      this.hub.publish(this.acc, reply, null);
    }
    if (this.cfg.inactive_threshold > 0) this.suppressDeletion();
  }

  /** nats-server's processAckMsg. */
  private processAckMsg(sseq: number, dseq: number, dc: number, doSample: boolean): void {
    let sagap = 0;
    let needSignal = false;
    switch (this.cfg.ack_policy) {
      case 'explicit': {
        const p = this.pending.get(sseq);
        if (p !== undefined) {
          if (doSample) this.sampleAck(sseq, dseq, dc, p);
          if (this.maxp > 0 && this.pending.size >= this.maxp) needSignal = true;
          this.pending.delete(sseq);
          dseq = p.dseq;
        }
        if (this.pending.size === 0) {
          this.adflr = this.dseq - 1;
          this.asflr = this.sseq - 1;
        } else if (dseq === this.adflr + 1) {
          this.adflr = dseq;
          this.asflr = sseq;
          // The next pending delivery bounds the floor.
          let first = 0;
          let fp: PendingDelivery | undefined;
          for (const [s, q] of this.pending) {
            if (s > sseq && s < this.sseq && (first === 0 || s < first)) {
              first = s;
              fp = q;
            }
          }
          if (fp !== undefined && fp.dseq > 0) {
            this.adflr = fp.dseq - 1;
            this.asflr = first - 1;
          }
        }
        this.rdc.delete(sseq);
        this.removeFromRedeliverQueue(sseq);
        break;
      }
      case 'all': {
        if (dseq <= this.adflr || sseq <= this.asflr) return;
        if (this.maxp > 0 && this.pending.size >= this.maxp) needSignal = true;
        sagap = sseq - this.asflr;
        const low = sseq - sagap;
        this.adflr = dseq;
        this.asflr = sseq;
        const drop = (seq: number): void => {
          this.pending.delete(seq);
          this.rdc.delete(seq);
          this.removeFromRedeliverQueue(seq);
        };
        if (sagap > this.pending.size + this.rdc.size) {
          for (const seq of [...this.pending.keys()]) if (seq > low && seq <= sseq) drop(seq);
          for (const seq of [...this.rdc.keys()]) if (seq > low && seq <= sseq) drop(seq);
        } else {
          for (let seq = sseq; seq > low; seq--) drop(seq);
        }
        break;
      }
      default:
        return;
    }
    this.updateAcks();
    if (this.stream.config.retention !== 'limits') {
      if (sagap > 1) for (let seq = sseq; seq > sseq - sagap; seq--) this.streamAck(seq);
      else this.streamAck(sseq);
    }
    if (needSignal) this.kick();
  }

  /** nats-server's processNak: redeliver now, or after the requested delay. */
  private processNak(sseq: number, dseq: number, dc: number, msg: Buffer): void {
    if (dseq <= this.adflr || dseq > this.dseq) return;
    if (this.pending.size > 0 && !this.pending.has(sseq)) return;
    this.sendAdvisory(`$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.${this.stream.name}.${this.name}`, {
      ...this.event('io.nats.jetstream.advisory.v1.nak'),
      stream: this.stream.name,
      consumer: this.name,
      consumer_seq: dseq,
      stream_seq: sseq,
      deliveries: dc,
      ...this.domain(),
    });
    if (msg.length > NAK.length) {
      const arg = msg.subarray(NAK.length).toString('utf8').trim();
      if (arg.length > 0) {
        let delayMs: number | undefined;
        try {
          if (arg[0] === '{') delayMs = (decodeRequest(arg).int('delay') ?? 0) / 1e6;
          else delayMs = Number(parseGoDurationNanos(arg)) / 1e6;
        } catch {
          this.warn(`bad NAK delay value: ${JSON.stringify(arg)}`);
        }
        if (delayMs !== undefined) {
          this.removeFromRedeliverQueue(sseq);
          const p = this.pending.get(sseq);
          if (p !== undefined) {
            p.ts = Date.now() - this.cfg.ack_wait / 1e6 + delayMs;
            this.markDirty();
            this.armPendingTimer(10);
          }
          return;
        }
      }
    }
    if (!this.rdqi.has(sseq)) this.addToRedeliverQueue(sseq);
    this.kick();
  }

  /** nats-server's processTerm: never redeliver, tell the world. */
  private processTerm(sseq: number, dseq: number, dc: number): void {
    this.processAckMsg(sseq, dseq, dc, false);
    this.sendAdvisory(`$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.${this.stream.name}.${this.name}`, {
      ...this.event('io.nats.jetstream.advisory.v1.terminated'),
      stream: this.stream.name,
      consumer: this.name,
      consumer_seq: dseq,
      stream_seq: sseq,
      deliveries: dc,
      ...this.domain(),
    });
  }

  /** +WPI: the client is still working on it; restart its ack_wait. */
  private progressUpdate(seq: number): void {
    const p = this.pending.get(seq);
    if (p === undefined) return;
    p.ts = Date.now();
    this.updateDelivered();
  }

  /** nats-server's needAck: whether this consumer still needs message `sseq` (interest retention). */
  needAck(sseq: number, subject: string): boolean {
    if (this.closed) return false;
    if (this.isFiltered() && !this.isFilteredMatch(subject)) return false;
    switch (this.cfg.ack_policy) {
      case 'none':
      case 'all':
        return sseq > this.asflr;
      default:
        if (sseq <= this.asflr) return false;
        return sseq >= this.sseq || this.pending.has(sseq);
    }
  }

  /** nats-server's mset.ackMsg: interest and work-queue streams drop what nobody needs any more. */
  private streamAck(seq: number): void {
    const stream = this.stream;
    if (stream.closed) return;
    const retention = stream.config.retention;
    if (retention === 'limits') return;
    const st = stream.store.state();
    if (seq < st.firstSeq || seq > st.lastSeq) return;
    if (retention === 'interest' && streamHasInterest(stream, seq, this)) return;
    stream.removeMsg(seq, false);
  }

  private sampleAck(sseq: number, dseq: number, dc: number, p: PendingDelivery): void {
    if (this.sfreq <= 0) return;
    if (this.sfreq < 100 && Math.floor(Math.random() * 100) > this.sfreq) return;
    this.sendAdvisory(`$JS.EVENT.METRIC.CONSUMER.ACK.${this.stream.name}.${this.name}`, {
      ...this.event('io.nats.jetstream.metric.v1.consumer_ack'),
      stream: this.stream.name,
      consumer: this.name,
      consumer_seq: dseq,
      stream_seq: sseq,
      ack_time: (Date.now() - p.ts) * 1e6,
      deliveries: dc,
      ...this.domain(),
    });
  }

  private notifyDeliveryExceeded(sseq: number, dc: number): void {
    this.sendAdvisory(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${this.stream.name}.${this.name}`, {
      ...this.event('io.nats.jetstream.advisory.v1.max_deliver'),
      stream: this.stream.name,
      consumer: this.name,
      stream_seq: sseq,
      deliveries: dc,
      ...this.domain(),
    });
  }

  // ---- pull requests ----------------------------------------------------------------------------------

  /** nats-server's processNextMsgRequest: queue a pull request, or answer it with a status at once. */
  processNextMsgRequest(reply: string, body: Buffer): void {
    if (this.closed || reply === '') return;
    const sendErr = (code: number, description: string): void =>
      this.hub.publish(this.acc, reply, statusHdr(code, description));
    if (this.isPush) {
      sendErr(409, 'Consumer is push based');
      return;
    }
    const now = Date.now();
    const req = parseNextRequest(body, now);
    if (typeof req === 'string') {
      sendErr(400, `Bad Request - ${req}`);
      return;
    }
    const cfg = this.cfg;
    if (cfg.max_batch > 0 && req.batch > cfg.max_batch) {
      sendErr(409, `Exceeded MaxRequestBatch of ${cfg.max_batch}`);
      return;
    }
    if (req.expires !== 0 && cfg.max_expires > 0 && req.expires > now + cfg.max_expires / 1e6) {
      sendErr(409, `Exceeded MaxRequestExpires of ${goDurationString(cfg.max_expires)}`);
      return;
    }
    if (req.maxBytes > 0 && cfg.max_bytes > 0 && req.maxBytes > cfg.max_bytes) {
      sendErr(409, `Exceeded MaxRequestMaxBytes of ${cfg.max_bytes}`);
      return;
    }
    if (this.waiting.length >= cfg.max_waiting) this.processWaiting(false);
    if (req.noWait) {
      const msgsPending = this.numPending() + this.rdq.length;
      if (msgsPending === 0 && req.expires === 0) {
        this.waitingLast = now;
        sendErr(404, 'No Messages');
        return;
      }
      if (msgsPending > 0) {
        const brp = this.processWaiting(false).brp;
        if (msgsPending < brp) {
          this.waitingLast = now;
          sendErr(408, 'Requests Pending');
          return;
        }
      }
    }
    if (this.waiting.length >= cfg.max_waiting) {
      sendErr(409, 'Exceeded MaxWaiting');
      return;
    }
    this.waiting.push({
      reply,
      n: req.batch,
      d: 0,
      b: req.maxBytes,
      expires: req.expires,
      received: now,
      hb: req.hb,
      hbt: req.hb > 0 ? now + req.hb : 0,
      noWait: req.noWait,
    });
    this.waitingLast = now;
    this.kick();
  }

  private replyInterest(reply: string): boolean {
    return this.acc.sublist.hasInterest(reply);
  }

  /** Take one message's worth from the first waiting request (round robin; nats-server's waitQueue.pop). */
  private popWaiting(): WaitingRequest {
    const wr = this.waiting[0]!;
    wr.d++;
    wr.n--;
    if (wr.n > 0 && this.waiting.length > 1) {
      this.waiting.shift();
      this.waiting.push(wr);
    } else if (wr.n <= 0) {
      this.waiting.shift();
    }
    return wr;
  }

  /** nats-server's nextWaiting: the request the next message (of `sz` bytes) goes to. */
  private nextWaiting(sz: number): WaitingRequest | undefined {
    while (this.waiting.length > 0) {
      const wr = this.waiting[0]!;
      if (wr.b > 0) {
        if (sz <= wr.b) {
          wr.b -= sz;
          if (wr.b === 0) wr.n = 1;
        } else {
          this.hub.publish(
            this.acc,
            wr.reply,
            statusHdr(409, 'Message Size Exceeds MaxBytes', pendingHdrs(wr.n, wr.b)),
          );
          this.waiting.shift();
          continue;
        }
      }
      if ((wr.expires === 0 || Date.now() < wr.expires) && this.replyInterest(wr.reply))
        return this.popWaiting();
      this.waiting.shift();
    }
    return undefined;
  }

  /**
   * nats-server's processWaiting: answer expired requests (and, at the end of the stream, no_wait ones
   * that got something) with `408 Request Timeout`, drop those nobody listens to any more, send due
   * heartbeats. Returns the messages still wanted and when the next expiry or heartbeat is due.
   */
  private processWaiting(eos: boolean): { brp: number; fexp: number } {
    let brp = 0;
    let fexp = 0;
    if (this.waiting.length === 0) return { brp, fexp };
    const now = Date.now();
    const keep: WaitingRequest[] = [];
    for (const wr of this.waiting) {
      if ((eos && wr.noWait && wr.d > 0) || (wr.expires !== 0 && now > wr.expires)) {
        this.hub.publish(this.acc, wr.reply, statusHdr(408, 'Request Timeout', pendingHdrs(wr.n, wr.b)));
        continue;
      }
      if (!this.replyInterest(wr.reply)) continue;
      brp += wr.n;
      if (wr.hbt !== 0) {
        if (now > wr.hbt) {
          this.sendIdleHeartbeat(wr.reply);
          wr.hbt = now + wr.hb;
        }
        if (fexp === 0 || wr.hbt < fexp) fexp = wr.hbt;
      }
      if (wr.expires !== 0 && (fexp === 0 || wr.expires < fexp)) fexp = wr.expires;
      keep.push(wr);
    }
    this.waiting = keep;
    return { brp, fexp };
  }

  private armWaitingTimer(at: number): void {
    if (this.wrTimer !== undefined && this.wrTimerAt <= at) return;
    if (this.wrTimer !== undefined) clearTimeout(this.wrTimer);
    this.wrTimerAt = at;
    this.wrTimer = setTimeout(
      () => {
        this.wrTimer = undefined;
        if (this.closed) return;
        const fexp = this.processWaiting(true).fexp;
        if (fexp > 0) this.armWaitingTimer(fexp);
        this.kick();
      },
      // Expiry is "strictly after": fire just past it.
      Math.max(1, at - Date.now() + 1),
    );
    this.wrTimer.unref();
  }

  // ---- info -------------------------------------------------------------------------------------------

  /** nats-server's ConsumerInfo. */
  info(): ConsumerInfoJson {
    const delivered: SequenceInfoJson = { consumer_seq: this.dseq - 1, stream_seq: this.sseq - 1 };
    if (this.ldt !== 0n) delivered.last_active = rfc3339Nano(this.ldt);
    const ackFloor: SequenceInfoJson = { consumer_seq: this.adflr, stream_seq: this.asflr };
    if (this.lat !== 0n) ackFloor.last_active = rfc3339Nano(this.lat);
    let numWaiting = 0;
    if (!this.isPush) {
      this.processWaiting(false);
      numWaiting = this.waiting.length;
    }
    const info: ConsumerInfoJson = {
      stream_name: this.stream.name,
      name: this.name,
      created: rfc3339Nano(this.created),
      config: encodeConsumerConfig(this.cfg),
      delivered,
      ack_floor: ackFloor,
      num_ack_pending: this.pending.size,
      num_redelivered: this.rdc.size,
      num_waiting: numWaiting,
      num_pending: this.streamNumPending(),
    };
    if (this.isPush && this.active) info.push_bound = true;
    return info;
  }

  // ---- advisories -------------------------------------------------------------------------------------

  private event(type: string): { type: string; id: string; timestamp: string } {
    return { type, id: randomToken(22), timestamp: rfc3339Nano(nowNanos()) };
  }

  private domain(): { domain?: string } {
    return this.jsa.domain !== '' ? { domain: this.jsa.domain } : {};
  }

  private sendAdvisory(subject: string, body: object): void {
    if (!this.acc.sublist.hasInterest(subject)) return;
    this.hub.publish(this.acc, subject, null, Buffer.from(goJson(body), 'utf8'));
  }

  private sendActionAdvisory(action: 'create' | 'delete'): void {
    if (this.cfg.direct) return;
    const pre = action === 'create' ? 'CREATED' : 'DELETED';
    this.sendAdvisory(`$JS.EVENT.ADVISORY.CONSUMER.${pre}.${this.stream.name}.${this.name}`, {
      ...this.event('io.nats.jetstream.advisory.v1.consumer_action'),
      stream: this.stream.name,
      consumer: this.name,
      action,
      ...this.domain(),
    });
  }

  // ---- stop and delete ----------------------------------------------------------------------------------

  /** CONSUMER.DELETE or inactivity: remove the consumer and its state, with an advisory. */
  delete(): void {
    this.stopWith(true, false, true);
  }

  /** The stream stops (`deleted`: the stream is being deleted with its directory). */
  stop(deleted: boolean): void {
    this.stopWith(deleted, deleted, false);
  }

  /** nats-server's stopWithFlags. */
  private stopWith(dflag: boolean, streamDeleted: boolean, advisory: boolean): void {
    if (this.closed) return;
    if (dflag) {
      if (advisory) this.sendActionAdvisory('delete');
      for (const wr of this.waiting) this.hub.publish(this.acc, wr.reply, statusHdr(409, 'Consumer Deleted'));
      this.waiting = [];
    }
    if (!dflag && this.dirty) this.writeState();
    this.closed = true;
    for (const t of [this.ptmr, this.dtmr, this.hbTimer, this.wrTimer, this.holdTimer, this.flushTimer]) {
      if (t !== undefined) clearTimeout(t);
    }
    this.ptmr = this.dtmr = this.hbTimer = this.wrTimer = this.holdTimer = this.flushTimer = undefined;
    if (this.ackSub !== undefined) this.jsa.unsubscribe(this.ackSub);
    if (this.fcSub !== undefined) this.jsa.unsubscribe(this.fcSub);
    this.ackSub = this.fcSub = undefined;
    this.hub.unwatch(this);
    this.stream.removeListener(this);
    if (this.stream.consumers.get(this.name) === this) this.stream.removeConsumer(this.name);
    const stream = this.stream;
    if (dflag && !streamDeleted && !stream.closed && stream.config.retention === 'interest') {
      const st = stream.state();
      const start = Math.max(this.asflr, st.firstSeq);
      const drop: number[] = [];
      for (let seq = start; seq <= st.lastSeq && st.msgs > 0; seq++) {
        if (!streamHasInterest(stream, seq, this)) drop.push(seq);
      }
      for (const seq of drop) stream.removeMsg(seq, false);
    }
    if (this.store !== undefined && dflag && !streamDeleted) {
      try {
        this.store.delete();
      } catch (e) {
        this.warn(`could not remove its directory: ${String(e)}`);
      }
    }
  }
}

/** nats-server's convertToHeadersOnly: the headers plus Nats-Msg-Size, no payload. */
function headersOnly(hdr: Buffer, size: number): Buffer {
  const line = `Nats-Msg-Size: ${size}${CRLF}${CRLF}`;
  if (hdr.length === 0) return Buffer.from(`NATS/1.0${CRLF}${line}`, 'utf8');
  return Buffer.concat([hdr.subarray(0, hdr.length - 2), Buffer.from(line, 'utf8')]);
}

/** nats-server's checkInterest: whether any consumer other than `except` still needs message `seq`. */
export function streamHasInterest(stream: Stream, seq: number, except: Consumer | undefined): boolean {
  let subject = '';
  let loaded = false;
  for (const c of stream.consumers.values()) {
    if (c === except || !(c instanceof Consumer)) continue;
    if (!loaded && c.filterSubject !== '') {
      const m = stream.store.loadMsg(seq);
      if (m === undefined) return false;
      subject = m.subject;
      loaded = true;
    }
    if (c.needAck(seq, subject)) return true;
  }
  return false;
}

/** Whether filter `a` and filter `b` overlap (work-queue partitions). */
export function filtersOverlap(a: string, b: string): boolean {
  return subjectIsSubsetMatch(a, b) || subjectIsSubsetMatch(b, a);
}
