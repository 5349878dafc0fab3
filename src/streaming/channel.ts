/**
 * A NATS Streaming channel: its JetStream stream (the messages) and its subscriptions, with
 * nats-streaming-server's delivery rules (server.go): each subscriber gets the messages after its
 * `lastSent` while it has fewer than max_in_flight unacknowledged; an ack frees a slot; a message not
 * acknowledged within ack_wait is sent again with `redelivered` (to the same subscriber, or to the queue
 * member with the fewest outstanding). A durable coming back gets its unacknowledged messages first.
 *
 * Everything runs on the event loop; sends go out through the host's deferred publish, so this code may
 * run inside a delivery (the stream's `stored` listener, an ack) or from a timer.
 */

import type { StoredMsg } from '../jetstream/store/store.js';
import type { Stream, StreamListener } from '../jetstream/stream.js';
import { encodeMsgProto } from './proto.js';
import { QueueState, type SubState } from './subscription.js';

/** What a channel needs from the streaming server. */
export interface ChannelHost {
  /** Publish a protocol message (deferred: safe inside a delivery). */
  send(subject: string, data: Buffer): void;
  /** The subscription changed: write its record (coalesced). */
  saveSub(sub: SubState): void;
  /** Remove the subscription's record. */
  deleteSub(sub: SubState): void;
  /** The client is registered. */
  clientKnown(clientId: string): boolean;
  /** Counts sent messages (/streaming/serverz out_msgs, out_bytes). */
  countOut(bytes: number): void;
  /** Nothing wants this channel: start its max_inactivity timer if there is one. */
  maybeInactive(channel: Channel): void;
}

/** A redelivered message is sent even to a subscriber at max_in_flight. */
const FORCE = true;

export class Channel implements StreamListener {
  /** Plain and durable subscribers (not queue members). */
  readonly psubs: SubState[] = [];
  readonly qsubs = new Map<string, QueueState>();
  /** Durable subscribers by durable key, online or offline. */
  readonly durables = new Map<string, SubState>();
  /** Active subscriptions by ack inbox. */
  readonly acks = new Map<string, SubState>();
  /** When the channel last had a message or a subscription change (max_inactivity). */
  lastActivity = Date.now();
  inactivityTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly host: ChannelHost,
    readonly name: string,
    readonly stream: Stream,
  ) {
    stream.addListener(this);
  }

  // ---- StreamListener ----------------------------------------------------------------------------------

  stored(): void {
    this.lastActivity = Date.now();
    this.deliverAll();
  }

  // ---- messages ----------------------------------------------------------------------------------------

  /** First and last sequence (0, 0 when the channel never had a message). */
  bounds(): { first: number; last: number; msgs: number; bytes: number } {
    const st = this.stream.store.state();
    if (st.msgs === 0) return { first: 0, last: st.lastSeq, msgs: 0, bytes: 0 };
    return { first: st.firstSeq, last: st.lastSeq, msgs: st.msgs, bytes: st.bytes };
  }

  private load(seq: number): StoredMsg | undefined {
    return this.stream.store.loadMsg(seq);
  }

  /** Whether any subscription (online, offline durable or shadow) holds the channel. */
  hasSubs(): boolean {
    return this.psubs.length > 0 || this.qsubs.size > 0 || this.durables.size > 0;
  }

  subCount(): number {
    let n = this.psubs.length;
    for (const qs of this.qsubs.values()) n += qs.subs.length;
    return n;
  }

  allSubs(): SubState[] {
    const out = [...this.psubs];
    for (const qs of this.qsubs.values()) out.push(...qs.subs);
    for (const d of this.durables.values()) if (!out.includes(d)) out.push(d);
    return out;
  }

  /** Send what is available to every subscriber (a new message was stored). */
  deliverAll(): void {
    for (const sub of this.psubs) this.sendAvailable(sub);
    for (const qs of this.qsubs.values()) this.sendAvailableToQueue(qs);
  }

  /** nats-streaming-server's sendMsgToSub: returns [sent, may send more]. */
  private sendMsgToSub(
    sub: SubState,
    m: StoredMsg,
    redelivered: boolean,
    force: boolean,
  ): [boolean, boolean] {
    if (!sub.initialized || sub.clientId === '' || (sub.newOnHold && !redelivered)) return [false, false];
    const ap = sub.pending.size;
    if (!force && ap >= sub.maxInFlight) {
      sub.stalled = true;
      return [false, false];
    }
    let count = 0;
    if (redelivered) {
      const counts = sub.qstate !== undefined ? sub.qstate.rdlvCount : sub.rdlvCount;
      count = (counts.get(m.seq) ?? 0) + 1;
      counts.set(m.seq, count);
    }
    const buf = encodeMsgProto({
      sequence: m.seq,
      subject: this.name,
      data: m.data,
      timestamp: m.ts,
      redelivered,
      redeliveryCount: count,
    });
    this.host.send(sub.inbox, buf);
    this.host.countOut(buf.length);
    if (sub.ackTimer === undefined) this.setupAckTimer(sub, sub.ackWaitMs);
    const exp = sub.pending.get(m.seq);
    if (exp !== undefined) {
      // Already pending (a redelivery): push its expiration by ack_wait.
      sub.pending.set(m.seq, (exp === 0 ? Date.now() : exp) + sub.ackWaitMs);
      return [true, true];
    }
    if (m.seq > sub.lastSent) sub.lastSent = m.seq;
    // From now, not from the message's time: an old message sent to a new subscriber must not be expired.
    sub.pending.set(m.seq, Date.now() + sub.ackWaitMs);
    this.host.saveSub(sub);
    if (!force && ap + 1 === sub.maxInFlight) {
      sub.stalled = true;
      return [true, false];
    }
    return [true, true];
  }

  sendAvailable(sub: SubState): void {
    for (let next = sub.lastSent + 1; !sub.stalled; ) {
      const m = this.stream.store.loadNextMsg('', next);
      if (m === undefined) break;
      const [sent, more] = this.sendMsgToSub(sub, m, false, !FORCE);
      if (!sent || !more) break;
      next = m.seq + 1;
    }
  }

  sendAvailableToQueue(qs: QueueState): void {
    if (qs.subs.length === 0 || qs.newOnHold) return;
    for (let next = qs.lastSent + 1; qs.stalledSubCount < qs.subs.length; ) {
      const m = this.stream.store.loadNextMsg('', next);
      if (m === undefined) break;
      const [, sent] = this.sendToQueue(qs, m, false, !FORCE);
      if (!sent) break;
      next = m.seq + 1;
    }
  }

  /** nats-streaming-server's findBestQueueSub: fewest outstanding among members not stalled nor failing. */
  private bestQueueSub(qs: QueueState): SubState | undefined {
    const sl = qs.subs;
    let best: SubState | undefined;
    let least = Number.MAX_SAFE_INTEGER;
    for (const sub of sl) {
      if (!sub.stalled && !sub.hasFailedHB && sub.pending.size < least) {
        least = sub.pending.size;
        best = sub;
      }
    }
    if (best === undefined && sl.length > 0) best = sl[0];
    // Rotate so that members with equal outstanding take turns.
    if (sl.length > 1 && best === sl[0]) sl.push(sl.shift()!);
    return best;
  }

  private sendToQueue(
    qs: QueueState,
    m: StoredMsg,
    redelivered: boolean,
    force: boolean,
  ): [SubState | undefined, boolean] {
    const sub = this.bestQueueSub(qs);
    if (sub === undefined) return [undefined, false];
    const wasStalled = sub.stalled;
    const [sent] = this.sendMsgToSub(sub, m, redelivered, force);
    if (!force && !wasStalled && sub.stalled) qs.stalledSubCount++;
    if (sent && sub.lastSent > qs.lastSent) qs.lastSent = sub.lastSent;
    return [sub, sent];
  }

  // ---- acks and redelivery -----------------------------------------------------------------------------

  /** nats-streaming-server's processAck. */
  processAck(sub: SubState, seq: number, fromUser: boolean): void {
    const qs = sub.qstate;
    if (sub.pending.has(seq)) {
      sub.pending.delete(seq);
      if (fromUser) (qs !== undefined ? qs.rdlvCount : sub.rdlvCount).delete(seq);
      this.host.saveSub(sub);
    } else if (qs !== undefined && fromUser) {
      // Acked by another member than the one it was (re)sent to last.
      for (const q of qs.subs) {
        if (q !== sub && q.pending.delete(seq)) {
          qs.rdlvCount.delete(seq);
          this.host.saveSub(q);
          break;
        }
      }
    }
    if (sub.stalled && sub.pending.size < sub.maxInFlight) {
      sub.stalled = false;
      if (qs !== undefined && qs.stalledSubCount > 0) qs.stalledSubCount--;
      if (qs !== undefined) this.sendAvailableToQueue(qs);
      else this.sendAvailable(sub);
    }
  }

  setupAckTimer(sub: SubState, ms: number): void {
    sub.clearAckTimer();
    sub.ackTimer = setTimeout(() => this.redeliverExpired(sub, false), Math.max(ms, 1));
    sub.ackTimer.unref();
  }

  /** Sequences pending for `sub`, oldest expiration first (then by sequence). */
  private sortedPending(sub: SubState): [number, number][] {
    return [...sub.pending].sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  }

  /** nats-streaming-server's performAckExpirationRedelivery. */
  redeliverExpired(sub: SubState, isStartup: boolean): void {
    sub.ackTimer = undefined;
    if (sub.pending.size === 0 || sub.clientId === '') return;
    const qs = sub.qstate;
    if (qs === undefined && sub.hasFailedHB) {
      this.setupAckTimer(sub, sub.ackWaitMs);
      return;
    }
    // After a restart, expirations are unknown: those messages are due now.
    const now = Date.now();
    for (const [seq, exp] of sub.pending) if (exp === 0) sub.pending.set(seq, now);
    // A little ahead, so that messages expiring together go in one pass.
    const limit = now + 15;
    for (const [seq, exp] of this.sortedPending(sub)) {
      if (exp > limit) break;
      const m = this.load(seq);
      if (m === undefined) {
        // Gone by limits: nothing to redeliver, take it as acknowledged.
        this.processAck(sub, seq, false);
        continue;
      }
      if (qs !== undefined && !isStartup) {
        // Any member may take it; on restart only the member that had it (no double delivery).
        const [pick, sent] = this.sendToQueue(qs, m, true, FORCE);
        if (pick === undefined) break;
        if (pick !== sub && sent) this.processAck(sub, seq, false);
      } else {
        this.sendMsgToSub(sub, m, true, FORCE);
      }
    }
    if (sub.pending.size === 0 || sub.clientId === '') {
      sub.clearAckTimer();
      return;
    }
    let next = Number.MAX_SAFE_INTEGER;
    for (const exp of sub.pending.values()) if (exp < next) next = exp;
    this.setupAckTimer(sub, next - Date.now());
  }

  /** A durable coming back: its unacknowledged messages first, flagged redelivered. */
  redeliverDurable(sub: SubState): void {
    if (this.host.clientKnown(sub.clientId)) {
      for (const seq of [...sub.pending.keys()].sort((a, b) => a - b)) {
        const m = this.load(seq);
        if (m === undefined) continue;
        if (sub.pending.has(seq)) this.sendMsgToSub(sub, m, true, FORCE);
      }
    }
    sub.newOnHold = false;
  }

  // ---- membership --------------------------------------------------------------------------------------

  /** Register a new subscription (plain, durable or queue member). */
  add(sub: SubState): void {
    this.lastActivity = Date.now();
    if (sub.qgroup !== '') {
      let qs = this.qsubs.get(sub.qgroup);
      if (qs === undefined) {
        qs = new QueueState(sub.qgroup);
        this.qsubs.set(sub.qgroup, qs);
      }
      sub.qstate = qs;
      if (sub.clientId === '') {
        // A recovered shadow keeps the group's position.
        qs.shadow = sub;
      } else {
        qs.subs.push(sub);
      }
      if (sub.lastSent > qs.lastSent) qs.lastSent = sub.lastSent;
    } else {
      if (sub.clientId !== '') this.psubs.push(sub);
      if (sub.durableName !== '') this.durables.set(sub.durableKey(), sub);
    }
    if (sub.clientId !== '') this.acks.set(sub.ackInbox, sub);
  }

  /**
   * nats-streaming-server's subStore.Remove: a subscription leaves (client gone, close() or
   * unsubscribe()). Durables and durable queue groups stay unless `unsubscribe`.
   */
  remove(sub: SubState, unsubscribe: boolean): void {
    this.lastActivity = Date.now();
    const clientId = sub.clientId;
    const durableKey = sub.durableName !== '' ? sub.durableKey() : '';
    if (clientId !== '') sub.savedClientId = clientId;
    sub.clientId = '';
    this.acks.delete(sub.ackInbox);
    sub.clearAckTimer();
    if (!sub.isDurable || (unsubscribe && durableKey !== '')) this.host.deleteSub(sub);
    if (unsubscribe && durableKey !== '') this.durables.delete(durableKey);
    const qs = sub.qstate;
    if (qs !== undefined) {
      removeFrom(qs.subs, sub);
      if (qs.subs.length === 0) {
        if (!sub.isDurable || unsubscribe) {
          this.qsubs.delete(qs.name);
          this.host.deleteSub(sub);
        } else {
          // The last member of a durable group left: the group stays with its position.
          qs.shadow = sub;
          qs.stalledSubCount = 0;
          sub.lastSent = Math.max(sub.lastSent, qs.lastSent);
          this.host.saveSub(sub);
        }
      } else {
        if (sub.stalled && qs.stalledSubCount > 0) qs.stalledSubCount--;
        // Its unacknowledged messages go to the remaining members, due for redelivery at once.
        const past = Date.now() - 1000;
        let i = 0;
        const moved = new Set<SubState>();
        for (const [seq] of this.sortedPending(sub)) {
          const q = qs.subs[i]!;
          q.pending.set(seq, past);
          if (seq > q.lastSent) q.lastSent = seq;
          moved.add(q);
          i = (i + 1) % qs.subs.length;
        }
        for (const q of moved) {
          this.host.saveSub(q);
          this.setupAckTimer(q, 100);
        }
        if (sub.isDurable) this.host.deleteSub(sub);
      }
    } else {
      removeFrom(this.psubs, sub);
      if (sub.isDurable && !unsubscribe) {
        sub.isClosed = true;
        this.host.saveSub(sub);
      }
    }
    if (!this.hasSubs()) this.host.maybeInactive(this);
  }

  /** Stop timers (server shutdown). */
  stop(): void {
    this.stream.removeListener(this);
    for (const sub of this.allSubs()) sub.clearAckTimer();
    for (const qs of this.qsubs.values()) qs.shadow?.clearAckTimer();
    if (this.inactivityTimer !== undefined) clearTimeout(this.inactivityTimer);
  }
}

function removeFrom<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}
