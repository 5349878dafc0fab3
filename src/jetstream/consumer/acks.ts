/**
 * Acknowledgements, pending deliveries and redelivery (nats-server's processAck, checkPending): the ack
 * subscription on `$JS.ACK.<stream>.<consumer>.>`, the ack floor, and the pending timer that queues for
 * redelivery what was not acknowledged within ack_wait (or its backoff). The state it works on is the
 * consumer's DeliveryState (state.ts).
 */
import { parseGoDurationNanos } from '../../conf/duration.js';
import { textToWire } from '../../routing/subject-text.js';
import type { Subscription } from '../../server/subscription.js';
import { decodeRequest } from '../api/json.js';
import type { Consumer } from './consumer.js';
import type { DeliveryState } from './state.js';
import type { PendingDelivery } from './store.js';

const ACK = Buffer.from('+ACK');
const OK = Buffer.from('+OK');
const NAK = Buffer.from('-NAK');
const WPI = Buffer.from('+WPI');
const NXT = Buffer.from('+NXT');
const TERM = Buffer.from('+TERM');

/** nats-server's ackWaitDelay: timers fire a little after the deadline. */
const ACK_WAIT_DELAY_MS = 1;

/** nats-server's parseAckReplyNum: decimal digits, anything else is -1 (a huge uint64 in Go). */
/**
 * The numbers of an ack subject's tail, `<dc>.<sseq>.<dseq>.<ts>.<pending>`, read in place (this runs for
 * every ack: no split, no regex). A token that is not all digits reads as MAX_SAFE_INTEGER, as nats-server's
 * parseAckReplyNum gives -1 (no such sequence). Fills ACK_NUMS with dc, sseq, dseq; false unless five tokens.
 */
const ACK_NUMS = [0, 0, 0];
function parseAckTail(s: string, from: number): boolean {
  let tok = 0;
  let v = 0;
  let digits = 0;
  let bad = false;
  const n = s.length;
  for (let i = from; i <= n; i++) {
    const c = i < n ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (tok < 3) ACK_NUMS[tok] = digits === 0 || bad ? Number.MAX_SAFE_INTEGER : v;
      tok++;
      v = 0;
      digits = 0;
      bad = false;
    } else if (c >= 0x30 && c <= 0x39) {
      v = v * 10 + (c - 0x30);
      digits++;
    } else {
      bad = true;
    }
  }
  return tok === 5;
}

function startsWith(buf: Buffer, prefix: Buffer): boolean {
  return buf.length >= prefix.length && buf.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

export class Acks {
  /**
   * `$JS.ACK.<stream>.<consumer>.`, in wire form (subject-text.ts): the ack reply subject of a delivery
   * continues with its numbers.
   */
  readonly prefix: string;
  private readonly s: DeliveryState;
  private ptmr: NodeJS.Timeout | undefined;
  private sub: Subscription | undefined;

  constructor(private readonly c: Consumer) {
    this.s = c.state;
    this.prefix = textToWire(`$JS.ACK.${c.stream.name}.${c.name}.`);
  }

  subscribe(): void {
    this.sub = this.c.jsa.subscribe(`${this.prefix}*.*.*.*.*`, (subject, reply, hdr, buf, start, size) =>
      this.onAck(
        subject,
        reply,
        hdr > 0 ? buf.subarray(start + hdr, start + size) : buf.subarray(start, start + size),
      ),
    );
    // An ack (a pull request after +NXT too) is read before onAck returns.
    this.sub.copiesInput = true;
  }

  /** The consumer stops: no more acks, no more redelivery checks. */
  stop(): void {
    if (this.ptmr !== undefined) clearTimeout(this.ptmr);
    this.ptmr = undefined;
    if (this.sub !== undefined) this.c.jsa.unsubscribe(this.sub);
    this.sub = undefined;
  }

  // ---- pending acknowledgements -------------------------------------------------------------------------

  private ackWait(next: number): number {
    return (next > 0 ? next : this.c.cfg.ack_wait / 1e6) + ACK_WAIT_DELAY_MS;
  }

  private armPendingTimer(ms: number): void {
    if (this.ptmr !== undefined) clearTimeout(this.ptmr);
    this.ptmr = setTimeout(() => this.checkPending(), Math.max(1, Math.ceil(ms)));
    this.ptmr.unref();
  }

  /** Recovered state with pending deliveries: check them soon (the timer part of nats-server's applyState). */
  recovered(): void {
    if (this.s.pending.size > 0 && this.ptmr === undefined) {
      let delay = 500 + Math.floor(Math.random() * 1000);
      if (this.c.cfg.ack_wait / 1e6 < delay) delay = this.ackWait(0);
      this.armPendingTimer(delay);
    }
  }

  /** ack_wait changed: check the pending deliveries again soon. */
  ackWaitChanged(): void {
    if (this.ptmr !== undefined) this.armPendingTimer(100);
  }

  /** Forget redelivery counts below the ack floor or past the stream's end. */
  checkRedelivered(lastSeq: number): void {
    const s = this.s;
    let changed = false;
    for (const seq of [...s.rdc.keys()]) {
      if (seq < s.asflr || (lastSeq > 0 && seq > lastSeq)) {
        s.rdc.delete(seq);
        s.removeFromRedeliverQueue(seq);
        changed = true;
      }
    }
    if (changed) this.c.persist.markDirty();
  }

  /** A delivery of `sseq` (as delivery `dseq`) now waits for its ack. */
  trackPending(sseq: number, dseq: number): void {
    if (this.ptmr === undefined) this.armPendingTimer(this.ackWait(0));
    const now = Date.now();
    const pending = this.s.pending;
    const p = pending.get(sseq);
    if (p !== undefined) p.ts = now;
    else pending.set(sseq, { dseq, ts: now });
  }

  /** nats-server's checkPending: queue for redelivery what waited longer than ack_wait (or its backoff). */
  private checkPending(): void {
    this.ptmr = undefined;
    const c = this.c;
    if (c.closed) return;
    const s = this.s;
    const now = Date.now();
    const ttl = c.cfg.ack_wait / 1e6;
    const backoff = c.cfg.backoff;
    let next = backoff.length > 0 ? backoff[backoff.length - 1]! / 1e6 : this.ackWait(0);
    const fseq = c.stream.state().firstSeq;
    let changed = false;
    const expired: number[] = [];
    for (const [seq, p] of s.pending) {
      if (seq < fseq) {
        s.pending.delete(seq);
        s.rdc.delete(seq);
        s.removeFromRedeliverQueue(seq);
        changed = true;
        continue;
      }
      const elapsed = now - p.ts;
      let deadline = ttl;
      if (backoff.length > 0) {
        let dc = s.rdc.get(seq) ?? 0;
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
        if (!s.rdqi.has(seq)) expired.push(seq);
      } else if (deadline - elapsed < next) {
        next = deadline - elapsed;
      }
    }
    if (expired.length > 0) {
      expired.sort((a, b) => a - b);
      const off = now - s.pending.get(expired[0]!)!.ts;
      for (const seq of expired) {
        s.addToRedeliverQueue(seq);
        const p = s.pending.get(seq);
        if (p !== undefined) p.ts += off;
      }
      c.kick();
    }
    if (s.pending.size > 0) this.armPendingTimer(this.ackWait(next));
    if (changed) c.persist.write();
  }

  /** Redeliver everything pending now (the deliver subject changed). */
  forceExpirePending(): void {
    const s = this.s;
    const expired: number[] = [];
    for (const seq of s.pending.keys()) if (!s.rdqi.has(seq)) expired.push(seq);
    if (expired.length > 0) {
      expired.sort((a, b) => a - b);
      for (const seq of expired) s.addToRedeliverQueue(seq);
      this.armPendingTimer(this.ackWait(0));
    }
    this.c.kick();
  }

  // ---- acknowledgements -------------------------------------------------------------------------------

  /** A message on `$JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<dseq>.<ts>.<pending>` (nats-server's processAck). */
  private onAck(subject: string, reply: string, msg: Buffer): void {
    const c = this.c;
    if (c.closed) return;
    let sseq = 0;
    let dseq = 0;
    let dc = 0;
    if (parseAckTail(subject, this.prefix.length)) {
      dc = ACK_NUMS[0]!;
      sseq = ACK_NUMS[1]!;
      dseq = ACK_NUMS[2]!;
    }
    let skipAckReply = sseq === 0;
    if (msg.length === 0 || msg.equals(ACK) || msg.equals(OK)) {
      this.processAckMsg(sseq, dseq, dc, true);
    } else if (startsWith(msg, NXT)) {
      this.processAckMsg(sseq, dseq, dc, true);
      c.processNextMsgRequest(reply, msg.subarray(NXT.length));
      skipAckReply = true;
    } else if (startsWith(msg, NAK)) {
      this.processNak(sseq, dseq, dc, msg);
    } else if (msg.equals(WPI)) {
      this.progressUpdate(sseq);
    } else if (startsWith(msg, TERM)) {
      this.processTerm(sseq, dseq, dc);
    }
    if (reply !== '' && !skipAckReply) {
      // The requester waits for this confirmation: make the ack durable first (on a quorum of replicas,
      // for a replicated consumer).
      if (c.persist.dirty) c.persist.write();
      if (c.replica !== undefined) c.replica.whenCommitted(() => c.hub.publish(c.acc, reply, null));
      else c.hub.publish(c.acc, reply, null);
    }
    if (c.cfg.inactive_threshold > 0) c.inactivity.suppressDeletion();
  }

  /** nats-server's processAckMsg. */
  private processAckMsg(sseq: number, dseq: number, dc: number, doSample: boolean): void {
    const c = this.c;
    const s = this.s;
    let sagap = 0;
    let needSignal = false;
    switch (c.cfg.ack_policy) {
      case 'explicit': {
        const p = s.pending.get(sseq);
        if (p !== undefined) {
          if (doSample) c.advisories.sampleAck(sseq, dseq, dc, p);
          if (c.maxp > 0 && s.pending.size >= c.maxp) needSignal = true;
          s.pending.delete(sseq);
          dseq = p.dseq;
        }
        if (s.pending.size === 0) {
          s.adflr = s.dseq - 1;
          s.asflr = s.sseq - 1;
        } else if (dseq === s.adflr + 1) {
          s.adflr = dseq;
          s.asflr = sseq;
          // The next pending delivery bounds the floor. Acks mostly come in order, so stepping up from
          // sseq finds it at once (nats-server's loop); a gap much wider than the pending count (a few
          // pending far apart) scans the pending map instead.
          let first = 0;
          let fp: PendingDelivery | undefined;
          // Stepping costs at most the gap, scanning the pending count: step unless the gap is much wider.
          if (s.sseq - sseq - 1 <= 2 * s.pending.size + 16) {
            for (let seq = sseq + 1; seq < s.sseq; seq++) {
              const q = s.pending.get(seq);
              if (q !== undefined) {
                first = seq;
                fp = q;
                break;
              }
            }
          } else {
            for (const [seq, q] of s.pending) {
              if (seq > sseq && seq < s.sseq && (first === 0 || seq < first)) {
                first = seq;
                fp = q;
              }
            }
          }
          if (fp !== undefined && fp.dseq > 0) {
            s.adflr = fp.dseq - 1;
            s.asflr = first - 1;
          }
        }
        s.rdc.delete(sseq);
        s.removeFromRedeliverQueue(sseq);
        break;
      }
      case 'all': {
        if (dseq <= s.adflr || sseq <= s.asflr) return;
        if (c.maxp > 0 && s.pending.size >= c.maxp) needSignal = true;
        sagap = sseq - s.asflr;
        const low = sseq - sagap;
        s.adflr = dseq;
        s.asflr = sseq;
        const drop = (seq: number): void => {
          s.pending.delete(seq);
          s.rdc.delete(seq);
          s.removeFromRedeliverQueue(seq);
        };
        if (sagap > s.pending.size + s.rdc.size) {
          for (const seq of [...s.pending.keys()]) if (seq > low && seq <= sseq) drop(seq);
          for (const seq of [...s.rdc.keys()]) if (seq > low && seq <= sseq) drop(seq);
        } else {
          for (let seq = sseq; seq > low; seq--) drop(seq);
        }
        break;
      }
      default:
        return;
    }
    c.persist.updateAcks();
    c.replica?.acked(dseq, sseq);
    if (c.stream.config.retention !== 'limits') {
      if (sagap > 1) for (let seq = sseq; seq > sseq - sagap; seq--) c.streamAck(seq);
      else c.streamAck(sseq);
    }
    if (needSignal) c.kick();
  }

  /** nats-server's processNak: redeliver now, or after the requested delay. */
  private processNak(sseq: number, dseq: number, dc: number, msg: Buffer): void {
    const c = this.c;
    const s = this.s;
    if (dseq <= s.adflr || dseq > s.dseq) return;
    if (s.pending.size > 0 && !s.pending.has(sseq)) return;
    c.advisories.nak(sseq, dseq, dc);
    if (msg.length > NAK.length) {
      const arg = msg.subarray(NAK.length).toString('utf8').trim();
      if (arg.length > 0) {
        let delayMs: number | undefined;
        try {
          if (arg[0] === '{') delayMs = (decodeRequest(arg).int('delay') ?? 0) / 1e6;
          else delayMs = Number(parseGoDurationNanos(arg)) / 1e6;
        } catch {
          c.warn(`bad NAK delay value: ${JSON.stringify(arg)}`);
        }
        if (delayMs !== undefined) {
          s.removeFromRedeliverQueue(sseq);
          const p = s.pending.get(sseq);
          if (p !== undefined) {
            p.ts = Date.now() - c.cfg.ack_wait / 1e6 + delayMs;
            c.persist.markDirty();
            this.armPendingTimer(10);
          }
          return;
        }
      }
    }
    if (!s.rdqi.has(sseq)) s.addToRedeliverQueue(sseq);
    c.kick();
  }

  /** nats-server's processTerm: never redeliver, tell the world. */
  processTerm(sseq: number, dseq: number, dc: number): void {
    this.processAckMsg(sseq, dseq, dc, false);
    this.c.advisories.terminated(sseq, dseq, dc);
  }

  /** +WPI: the client is still working on it; restart its ack_wait. */
  private progressUpdate(seq: number): void {
    const p = this.s.pending.get(seq);
    if (p === undefined) return;
    p.ts = Date.now();
    this.c.persist.updateDelivered();
  }
}
