/**
 * A JetStream consumer (nats-server consumer.go, single server): a cursor on a stream that delivers its
 * messages to a deliver subject (push) or to pull requests, tracks acknowledgements and redelivers what
 * is not acknowledged in time.
 *
 * The Consumer composes one collaborator per concern, all working on its DeliveryState (state.ts, where
 * nats-server's sequence and ack state is described):
 *   acks.ts         acknowledgements, pending deliveries, redelivery (ack_wait, backoff)
 *   pull.ts         pull requests and the queue of waiting requests
 *   push.ts         deliver subject interest, flow control, idle heartbeats
 *   pacing.ts       replay_policy original and rate_limit_bps
 *   inactivity.ts   inactive_threshold
 *   advisories.ts   advisories and ack metrics
 *   persistence.ts  the coalesced state write of file-backed consumers
 * This file keeps the lifecycle (start, update, stop), the stream events and the delivery pass.
 *
 * Delivery runs in "passes" scheduled on the event loop (never inside the routing call that stored a
 * message or carried a request): a pass delivers as long as the consumer may (push: interest on the
 * deliver subject and flow control allow; pull: a waiting request), up to a budget, then yields with
 * setImmediate. Messages go out through the hub (hub.ts) in order with the status messages.
 */
import { matchLiteral, subjectIsSubsetMatch } from '../../routing/subject.js';
import { textToWire } from '../../routing/subject-text.js';
import type { Account } from '../../server/account.js';
import type { Subscription } from '../../server/subscription.js';
import type { JsAccount } from '../account.js';
import type { StoredMsg } from '../store/store.js';
import type { PurgeInfo, Stream, StreamConsumer, StreamListener } from '../stream.js';
import { rfc3339Nano } from '../time.js';
import { Acks } from './acks.js';
import { Advisories } from './advisories.js';
import {
  type ConsumerConfig,
  checkConsumerUpdate,
  consumerFilters,
  encodeConsumerConfig,
  sampleFrequency,
  type UpdateRefusal,
} from './config.js';
import { type ConsumerHub, type HubConsumer, hubOf } from './hub.js';
import { Inactivity } from './inactivity.js';
import { Pacing } from './pacing.js';
import { Persistence } from './persistence.js';
import { Pull } from './pull.js';
import { Push } from './push.js';
import { DeliveryState, type LastPerSubject, loadNextMsg } from './state.js';
import { idleHeartbeatHdr } from './status.js';
import type { ConsumerFileStore, ConsumerState } from './store.js';

export { parseNextRequest } from './pull.js';
export { randomToken } from './token.js';

/** A pass delivers at most this much before yielding to the event loop. */
const PASS_MAX_MSGS = 512;
const PASS_MAX_BYTES = 4 * 1024 * 1024;

const EMPTY = Buffer.alloc(0);
const CRLF = '\r\n';

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

/** What `getNextMsg` found. */
interface NextMsg {
  m: StoredMsg;
  dc: number;
}

const MAX_ACK_PENDING = 'max ack pending';

/**
 * A replicated consumer's link to its Raft group (cluster/consumer-replica.ts). Only the leader delivers
 * and takes acks; it proposes each delivery and each ack so that the other replicas keep the same state.
 */
export interface ConsumerReplica {
  delivered(dseq: number, sseq: number, dc: number): void;
  acked(dseq: number, sseq: number): void;
  /** Run `confirm` once what was proposed so far is committed (ack confirmations). */
  whenCommitted(confirm: () => void): void;
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
  /** consumerFilters(cfg), kept with it: looked at for every stored message. */
  private filters: string[];
  readonly stream: Stream;
  readonly jsa: JsAccount;
  created: bigint;
  closed = false;

  readonly state = new DeliveryState();
  readonly hub: ConsumerHub;
  // One collaborator per concern; each holds this consumer to reach the state and the others.
  readonly persist: Persistence;
  readonly acks: Acks;
  readonly pull: Pull;
  readonly push: Push;
  readonly pacing: Pacing;
  readonly inactivity: Inactivity;
  readonly advisories: Advisories;
  /** max_ack_pending (0 or less: no limit). */
  maxp: number;
  /** max_deliver (0 = no limit). */
  private maxdc: number;
  private scheduled = false;
  private readonly passBound = (): void => this.pass();
  /** Replicated consumers: the Raft group link (undefined for a consumer of this server only). */
  replica: ConsumerReplica | undefined;
  /** Delivering and taking acks (always, unless a replicated consumer's follower). */
  leader = true;
  private active = false;
  /** Clustered: the pull request subscription of the leader. */
  private nextSub: Subscription | undefined;

  constructor(jsa: JsAccount, stream: Stream, init: ConsumerInit) {
    this.jsa = jsa;
    this.stream = stream;
    this.name = init.name;
    this.cfg = init.config;
    this.filters = consumerFilters(init.config);
    this.created = init.created;
    this.hub = hubOf(jsa.js);
    this.maxp = this.cfg.max_ack_pending;
    this.maxdc = this.cfg.max_deliver > 0 ? this.cfg.max_deliver : 0;
    this.persist = new Persistence(this, init.store);
    this.acks = new Acks(this);
    this.pull = new Pull(this);
    this.push = new Push(this);
    this.pacing = new Pacing(this);
    this.inactivity = new Inactivity(this);
    this.advisories = new Advisories(this);
    this.inactivity.configure(this.cfg);
    if (init.state !== undefined) {
      this.state.apply(init.state);
      this.acks.recovered();
      this.acks.checkRedelivered(stream.state().lastSeq);
    } else {
      this.state.selectStartingSeqNo(stream.store, this.cfg);
      this.persist.write();
    }
    if (this.cfg.rate_limit_bps > 0) this.pacing.setRateLimit(this.cfg.rate_limit_bps);
  }

  // ---- StreamConsumer ---------------------------------------------------------------------------------

  get filterSubjects(): readonly string[] {
    return this.filters;
  }

  get internal(): boolean {
    return this.cfg.direct;
  }

  get isPush(): boolean {
    return this.cfg.deliver_subject !== '';
  }

  get acc(): Account {
    return this.stream.account;
  }

  /** Register with the stream and, when leading, start delivering (nats-server's setLeader(true)). */
  start(): void {
    this.stream.addListener(this);
    this.stream.addConsumer(this);
    if (this.leader) this.activate(true);
  }

  /** Subscribe and deliver: a consumer of this server only, or the leader of a replicated one. */
  private activate(created: boolean): void {
    if (this.active || this.closed) return;
    this.active = true;
    this.streamNumPending();
    this.acks.subscribe();
    this.push.start();
    this.inactivity.start();
    this.pacing.start();
    this.push.startHeartbeat();
    if (this.jsa.js.cluster !== undefined && !this.isPush) {
      // Clustered: pull requests reach the consumer's leader through this subscription, wherever the
      // client is connected (the API dispatcher leaves them alone).
      this.nextSub = this.jsa.subscribe(
        textToWire(`$JS.API.CONSUMER.MSG.NEXT.${this.stream.name}.${this.name}`),
        (_s, reply, hdr, buf, start, size) =>
          this.processNextMsgRequest(
            reply,
            Buffer.from(buf.subarray(hdr > 0 ? start + hdr : start, start + size)),
          ),
      );
    }
    if (created) this.advisories.action('create');
    this.kick();
  }

  /** Stop delivering (a replicated consumer lost leadership); the state stays. */
  private deactivate(): void {
    if (!this.active) return;
    this.active = false;
    if (this.nextSub !== undefined) this.jsa.unsubscribe(this.nextSub);
    this.nextSub = undefined;
    this.acks.stop();
    this.push.stop();
    this.pull.cancelAll('Leadership Change');
    this.pull.stop();
    this.pacing.stop();
    this.inactivity.stop();
  }

  /** A replicated consumer became leader of its group (resume from the replicated state) or not. */
  setLeader(leader: boolean): void {
    if (this.closed || leader === this.leader) return;
    this.leader = leader;
    if (leader) {
      this.acks.recovered();
      this.acks.checkRedelivered(this.stream.state().lastSeq);
      this.state.npcm = 0;
      this.activate(false);
    } else {
      this.deactivate();
    }
  }

  // ---- configuration ----------------------------------------------------------------------------------

  /**
   * A create request for this existing consumer (nats-server's updateConfig): refused when it changes
   * what may not change, else applied.
   */
  update(next: ConsumerConfig): UpdateRefusal | undefined {
    const refusal = checkConsumerUpdate(
      this.cfg,
      next,
      this.cfg.deliver_subject !== '' && this.push.deliverInterest(),
    );
    if (refusal !== undefined) return refusal;
    const cur = this.cfg;
    if (next.deliver_subject !== cur.deliver_subject) this.push.updateDeliverSubject(next.deliver_subject);
    if (next.max_ack_pending !== cur.max_ack_pending) {
      this.maxp = next.max_ack_pending;
      this.kick();
    }
    if (next.ack_wait !== cur.ack_wait) this.acks.ackWaitChanged();
    if (next.rate_limit_bps !== cur.rate_limit_bps) this.pacing.setRateLimit(next.rate_limit_bps);
    if (next.sample_freq !== cur.sample_freq) this.advisories.sfreq = sampleFrequency(next);
    if (next.max_deliver !== cur.max_deliver) this.maxdc = next.max_deliver > 0 ? next.max_deliver : 0;
    if (next.inactive_threshold !== cur.inactive_threshold) this.inactivity.reconfigure(next);
    this.cfg = next;
    this.filters = consumerFilters(next);
    // Filters may change on update (2.10): what is left to deliver has to be counted again.
    if (consumerFilters(cur).join(' ') !== this.filters.join(' ')) {
      this.state.npc = 0;
      this.state.npcm = 0;
    }
    this.push.dsubj = textToWire(next.deliver_subject);
    this.persist.saveMeta();
    return undefined;
  }

  warn(what: string): void {
    this.jsa.warn(`JetStream consumer '${this.acc.name} > ${this.stream.name} > ${this.name}' ${what}`);
  }

  // ---- pending count and filter -----------------------------------------------------------------------

  /** nats-server's streamNumPending: recount what is left to deliver. */
  private streamNumPending(): number {
    return this.state.streamNumPending(this.stream, this.cfg);
  }

  /** Messages left to deliver (the cached count). */
  numPending(): number {
    return this.state.numPending(this.stream, this.cfg);
  }

  private isFilteredMatch(subject: string): boolean {
    const fs = this.filters;
    if (fs.length === 0) return true;
    for (const f of fs) if (f === '>' || subject === f || matchLiteral(subject, f)) return true;
    return false;
  }

  /** nats-server's isFiltered: the filters select less than the whole stream (not exactly its subjects). */
  private isFiltered(): boolean {
    const fs = this.filters;
    if (fs.length === 0) return false;
    const subjects = this.stream.config.subjects;
    return subjects.length !== fs.length || !fs.every((f) => subjects.includes(f));
  }

  // ---- stream events (StreamListener) -----------------------------------------------------------------

  stored(seq: number, subject: string): void {
    if (this.closed || !this.isFilteredMatch(subject)) return;
    const s = this.state;
    if (seq > s.npcm) s.npc++;
    if (seq < s.sseq) return;
    if ((this.isPush && this.push.active) || (!this.isPush && this.pull.hasWaiting)) this.kick();
  }

  removed(seqs: readonly number[]): void {
    if (this.closed) return;
    const s = this.state;
    for (const seq of seqs) {
      if (seq >= s.sseq) s.npcm = 0;
      const p = s.pending.get(seq);
      if (p === undefined) continue;
      // nats-server terminates deliveries whose message is gone (decStreamPending).
      const dc = (s.rdc.get(seq) ?? 0) + 1;
      if (this.cfg.ack_policy === 'explicit') this.acks.processTerm(seq, p.dseq, dc);
      else {
        s.pending.delete(seq);
        s.rdc.delete(seq);
        s.removeFromRedeliverQueue(seq);
        this.persist.markDirty();
      }
    }
  }

  purged(info: PurgeInfo): void {
    if (this.closed) return;
    if (info.filter !== '' && !this.isFilteredMatch(info.filter)) return;
    const s = this.state;
    const sseq = info.firstSeq === 0 ? info.lastSeq + 1 : info.firstSeq;
    if (s.sseq < sseq) s.sseq = sseq;
    if (s.asflr < sseq) {
      s.asflr = sseq - 1;
      s.adflr = s.dseq - 1;
    }
    s.pending = new Map();
    if (s.rdq.length > 0) {
      const rdq = s.rdq;
      s.rdq = [];
      s.rdqi.clear();
      for (const seq of rdq) if (seq >= s.sseq) s.addToRedeliverQueue(seq);
    }
    if (s.lss !== undefined) s.lss = undefined;
    s.npcm = 0;
    this.persist.write();
  }

  // ---- hub (HubConsumer) ------------------------------------------------------------------------------

  /** The hub saw a subscription that may match the deliver subject come or go. */
  checkInterest(): void {
    this.push.checkInterest();
  }

  didNotDeliver(_seq: number): void {
    if (this.closed) return;
    if (this.isPush) this.push.didNotDeliver();
    // Pull: the request's inbox had interest when it was chosen. nats-server queues the message for
    // redelivery at once; tsnats leaves it pending for ack_wait, so a subscriber that keeps refusing
    // deliveries (permissions) cannot spin the event loop.
  }

  // ---- delivery ---------------------------------------------------------------------------------------

  /** Schedule a delivery pass. */
  kick(): void {
    if (this.scheduled || this.closed || !this.active) return;
    this.scheduled = true;
    queueMicrotask(this.passBound);
  }

  /** nats-server's getNextMsg: a redelivery first, else the next message of the stream. */
  private getNextMsg(): NextMsg | typeof MAX_ACK_PENDING | undefined {
    const s = this.state;
    const store = this.stream.store;
    while (s.rdq.length > 0) {
      const seq = s.rdq.shift()!;
      s.rdqi.delete(seq);
      const dc = s.incDeliveryCount(seq);
      if (this.maxdc > 0 && dc > this.maxdc) {
        if (dc === this.maxdc + 1) this.advisories.deliveryExceeded(seq, dc - 1);
        s.pending.delete(seq);
        this.persist.markDirty();
        continue;
      }
      const m = store.loadMsg(seq);
      if (m === undefined) {
        // Gone from the stream meanwhile: nothing to redeliver.
        s.pending.delete(seq);
        s.rdc.delete(seq);
        this.persist.markDirty();
        continue;
      }
      return { m, dc };
    }
    if (this.maxp > 0 && s.pending.size >= this.maxp) return MAX_ACK_PENDING;
    let seq = s.sseq;
    const lss = s.lss;
    if (lss !== undefined && lss.i < lss.seqs.length) {
      seq = lss.seqs[lss.i++]!;
      if (lss.i >= lss.seqs.length) {
        s.sseq = lss.resume;
        s.lss = undefined;
      }
    }
    const m = loadNextMsg(store, this.filters, seq);
    if (m !== undefined) {
      if (m.seq >= s.sseq) s.sseq = m.seq + 1;
      return { m, dc: 1 };
    }
    const last = store.state().lastSeq;
    if (last >= s.sseq) s.sseq = last + 1;
    return undefined;
  }

  /**
   * Put back what getNextMsg returned (no request to take it, or paced by replay / rate limit): the cursor
   * goes back where it was (sseq, lss and its index).
   */
  private unget(next: NextMsg, sseq: number, lss: LastPerSubject | undefined, lssI: number): void {
    const s = this.state;
    if (next.dc > 1) {
      const seq = next.m.seq;
      const n = (s.rdc.get(seq) ?? 1) - 1;
      if (n > 0) s.rdc.set(seq, n);
      else s.rdc.delete(seq);
      s.rdq.unshift(seq);
      s.rdqi.add(seq);
      return;
    }
    s.sseq = sseq;
    s.lss = lss;
    if (lss !== undefined) lss.i = lssI;
  }

  /** nats-server's loopAndGatherMsgs, one round: deliver as much as allowed. */
  private pass(): void {
    this.scheduled = false;
    if (this.closed || this.pacing.holding) return;
    const s = this.state;
    const push = this.isPush;
    const pu = this.push;
    const pull = this.pull;
    if (push && pu.active && !pu.boundInterest()) pu.updateDeliveryInterest(false);
    // End of stream (no more messages to deliver): no_wait requests that got something are done.
    let eos = true;
    let count = 0;
    let bytes = 0;
    const now = Date.now();
    for (;;) {
      if (push) {
        if (!pu.canSend()) break;
      } else if (!pull.hasWaiting) break;
      if (count >= PASS_MAX_MSGS || bytes >= PASS_MAX_BYTES) {
        this.scheduled = true;
        setImmediate(this.passBound);
        eos = false;
        break;
      }
      // Where the cursor was, to put the message back (no object per message: this loop is the read path).
      const savedSseq = s.sseq;
      const savedLss = s.lss;
      const savedLssI = savedLss?.i ?? 0;
      const next = this.getNextMsg();
      if (next === MAX_ACK_PENDING) {
        eos = false;
        break;
      }
      if (next === undefined) break;
      const { m, dc } = next;
      const delay = this.pacing.delay(m);
      if (delay > 1) {
        this.unget(next, savedSseq, savedLss, savedLssI);
        this.pacing.hold(delay);
        return;
      }
      if (dc === 1 && s.npcm > 0) s.npc--;
      const ackReply = `${this.acks.prefix}${dc}.${m.seq}.${s.dseq}.${m.ts}.${this.numPending()}`;
      let hdr = m.hdr;
      let data = m.data;
      if (this.cfg.headers_only) {
        hdr = headersOnly(hdr, data.length);
        data = EMPTY;
      }
      // Stored subjects are text; receivers get the bytes that were published (subject-text.ts), and
      // sizes count those bytes, as nats-server's.
      const subject = textToWire(m.subject);
      const sz = subject.length + ackReply.length + hdr.length + data.length;
      let dsubj: string;
      if (push) dsubj = pu.dsubj;
      else {
        const wr = pull.nextWaiting(sz);
        if (wr === undefined) {
          if (dc === 1 && s.npcm > 0) s.npc++;
          this.unget(next, savedSseq, savedLss, savedLssI);
          break;
        }
        dsubj = wr.reply;
        if (wr.n > 0 && wr.hb > 0) wr.hbt = now + wr.hb;
      }
      this.pacing.delivered(m.ts);
      this.deliverMsg(dsubj, subject, ackReply, m, hdr, data, dc, now);
      count++;
      bytes += sz;
    }
    // The last-delivered time is a nanosecond BigInt: taken once per pass, not per message.
    if (count > 0) this.persist.updateDelivered();
    if (!push) pull.expireWaiting(eos);
    this.pacing.passDone(s.sseq);
  }

  /** nats-server's deliverMsg. */
  private deliverMsg(
    dsubj: string,
    subject: string,
    ackReply: string,
    m: StoredMsg,
    hdr: Buffer,
    data: Buffer,
    dc: number,
    now: number,
  ): void {
    const s = this.state;
    const dseq = s.dseq++;
    const psz = subject.length + ackReply.length + hdr.length + data.length;
    this.push.countBytes(psz);
    this.hub.deliver(this.acc, dsubj, subject, ackReply, hdr.length > 0 ? hdr : null, data, this, m.seq);
    const ap = this.cfg.ack_policy;
    if (ap === 'explicit' || ap === 'all') this.acks.trackPending(m.seq, dseq);
    else {
      s.adflr = dseq;
      s.asflr = m.seq;
    }
    this.push.checkFlowControl(psz);
    if (!this.isPush && this.inactivity.threshold > 0) this.pull.last = now;
    this.push.lastDelivery = now;
    this.replica?.delivered(dseq, m.seq, dc);
    if (ap === 'none' && this.stream.config.retention !== 'limits') this.streamAck(m.seq);
  }

  /** An idle heartbeat on `subject`: the deliver subject (push) or a pull request's reply subject. */
  sendIdleHeartbeat(subject: string): void {
    const s = this.state;
    this.hub.publish(this.acc, subject, idleHeartbeatHdr(s.dseq - 1, s.sseq - 1, this.push.stalled));
  }

  // ---- pull requests ----------------------------------------------------------------------------------

  /** nats-server's processNextMsgRequest: queue a pull request, or answer it with a status at once. */
  processNextMsgRequest(reply: string, body: Buffer): void {
    if (this.closed || reply === '') return;
    this.pull.processNextMsgRequest(reply, body);
  }

  // ---- interest retention -----------------------------------------------------------------------------

  /** nats-server's needAck: whether this consumer still needs message `sseq` (interest retention). */
  needAck(sseq: number, subject: string): boolean {
    if (this.closed) return false;
    if (this.isFiltered() && !this.isFilteredMatch(subject)) return false;
    const s = this.state;
    switch (this.cfg.ack_policy) {
      case 'none':
      case 'all':
        return sseq > s.asflr;
      default:
        if (sseq <= s.asflr) return false;
        return sseq >= s.sseq || s.pending.has(sseq);
    }
  }

  /** nats-server's mset.ackMsg: interest and work-queue streams drop what nobody needs any more. */
  streamAck(seq: number): void {
    const stream = this.stream;
    if (stream.closed) return;
    const retention = stream.config.retention;
    if (retention === 'limits') return;
    const st = stream.store.state();
    if (seq < st.firstSeq || seq > st.lastSeq) return;
    if (retention === 'interest' && streamHasInterest(stream, seq, this)) return;
    stream.removeMsg(seq, false);
  }

  // ---- info -------------------------------------------------------------------------------------------

  /** nats-server's ConsumerInfo. */
  info(): ConsumerInfoJson {
    const s = this.state;
    const delivered: SequenceInfoJson = { consumer_seq: s.dseq - 1, stream_seq: s.sseq - 1 };
    if (s.ldt !== 0n) delivered.last_active = rfc3339Nano(s.ldt);
    const ackFloor: SequenceInfoJson = { consumer_seq: s.adflr, stream_seq: s.asflr };
    if (s.lat !== 0n) ackFloor.last_active = rfc3339Nano(s.lat);
    let numWaiting = 0;
    if (!this.isPush) numWaiting = this.pull.numWaiting();
    const info: ConsumerInfoJson = {
      stream_name: this.stream.name,
      name: this.name,
      created: rfc3339Nano(this.created),
      config: encodeConsumerConfig(this.cfg),
      delivered,
      ack_floor: ackFloor,
      num_ack_pending: s.pending.size,
      num_redelivered: s.rdc.size,
      num_waiting: numWaiting,
      num_pending: this.streamNumPending(),
    };
    if (this.isPush && this.push.active) info.push_bound = true;
    return info;
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
      if (advisory) this.advisories.action('delete');
      this.pull.cancelAll();
    }
    if (!dflag && this.persist.dirty) this.persist.write();
    this.closed = true;
    // Timers, subscriptions and the hub's interest watch.
    if (this.nextSub !== undefined) this.jsa.unsubscribe(this.nextSub);
    this.nextSub = undefined;
    this.acks.stop();
    this.push.stop();
    this.pull.stop();
    this.pacing.stop();
    this.inactivity.stop();
    this.persist.stop();
    this.stream.removeListener(this);
    if (this.stream.consumers.get(this.name) === this) this.stream.removeConsumer(this.name);
    const stream = this.stream;
    if (dflag && !streamDeleted && !stream.closed && stream.config.retention === 'interest') {
      const st = stream.state();
      const start = Math.max(this.state.asflr, st.firstSeq);
      const drop: number[] = [];
      for (let seq = start; seq <= st.lastSeq && st.msgs > 0; seq++) {
        if (!streamHasInterest(stream, seq, this)) drop.push(seq);
      }
      for (const seq of drop) stream.removeMsg(seq, false);
    }
    if (dflag && !streamDeleted) this.persist.remove();
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
    if (!loaded && c.filterSubjects.length > 0) {
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
