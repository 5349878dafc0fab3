/**
 * Pull requests (nats-server's processNextMsgRequest and waitQueue): parsing and admitting a request, the
 * queue of waiting requests served round robin by the delivery pass, and the statuses that end them
 * (`408 Request Timeout`, `409 ...`), their heartbeats and the timer for the next expiry or heartbeat.
 * Times are ms since the epoch.
 */
import { decodeRequest, InvalidJsonError } from '../api/json.js';
import { goDurationString } from './config.js';
import type { Consumer } from './consumer.js';
import { pendingHdrs, statusHdr } from './status.js';

/** A waiting pull request (nats-server's waitingRequest). */
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

export class Pull {
  private waiting: WaitingRequest[] = [];
  /** Last activity of the pull clients: a request, a delivery, an ack (nats-server's waiting.last; inactivity.ts). */
  last = 0;
  private wrTimer: NodeJS.Timeout | undefined;
  private wrTimerAt = 0;

  constructor(private readonly c: Consumer) {}

  /** Whether a request waits for messages. */
  get hasWaiting(): boolean {
    return this.waiting.length > 0;
  }

  /** Requests still waiting, after dropping the finished ones (ConsumerInfo's num_waiting). */
  numWaiting(): number {
    this.processWaiting(false);
    return this.waiting.length;
  }

  /** nats-server's processNextMsgRequest: queue a pull request, or answer it with a status at once. */
  processNextMsgRequest(reply: string, body: Buffer): void {
    const c = this.c;
    const sendErr = (code: number, description: string): void =>
      c.hub.publish(c.acc, reply, statusHdr(code, description));
    if (c.isPush) {
      sendErr(409, 'Consumer is push based');
      return;
    }
    const now = Date.now();
    const req = parseNextRequest(body, now);
    if (typeof req === 'string') {
      sendErr(400, `Bad Request - ${req}`);
      return;
    }
    const cfg = c.cfg;
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
      const msgsPending = c.numPending() + c.state.rdq.length;
      if (msgsPending === 0 && req.expires === 0) {
        this.last = now;
        sendErr(404, 'No Messages');
        return;
      }
      if (msgsPending > 0) {
        const brp = this.processWaiting(false).brp;
        if (msgsPending < brp) {
          this.last = now;
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
    this.last = now;
    c.kick();
  }

  private replyInterest(reply: string): boolean {
    return this.c.acc.sublist.hasInterest(reply);
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
  nextWaiting(sz: number): WaitingRequest | undefined {
    const c = this.c;
    while (this.waiting.length > 0) {
      const wr = this.waiting[0]!;
      if (wr.b > 0) {
        if (sz <= wr.b) {
          wr.b -= sz;
          if (wr.b === 0) wr.n = 1;
        } else {
          c.hub.publish(
            c.acc,
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
  processWaiting(eos: boolean): { brp: number; fexp: number } {
    let brp = 0;
    let fexp = 0;
    if (this.waiting.length === 0) return { brp, fexp };
    const c = this.c;
    const now = Date.now();
    const keep: WaitingRequest[] = [];
    for (const wr of this.waiting) {
      if ((eos && wr.noWait && wr.d > 0) || (wr.expires !== 0 && now > wr.expires)) {
        c.hub.publish(c.acc, wr.reply, statusHdr(408, 'Request Timeout', pendingHdrs(wr.n, wr.b)));
        continue;
      }
      if (!this.replyInterest(wr.reply)) continue;
      brp += wr.n;
      if (wr.hbt !== 0) {
        if (now > wr.hbt) {
          c.sendIdleHeartbeat(wr.reply);
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

  /** processWaiting, then arm the timer for the next expiry or heartbeat (after a pass). */
  expireWaiting(eos: boolean): void {
    const fexp = this.processWaiting(eos).fexp;
    if (fexp > 0) this.armWaitingTimer(fexp);
  }

  private armWaitingTimer(at: number): void {
    if (this.wrTimer !== undefined && this.wrTimerAt <= at) return;
    if (this.wrTimer !== undefined) clearTimeout(this.wrTimer);
    this.wrTimerAt = at;
    this.wrTimer = setTimeout(
      () => {
        this.wrTimer = undefined;
        if (this.c.closed) return;
        this.expireWaiting(true);
        this.c.kick();
      },
      // Expiry is "strictly after": fire just past it.
      Math.max(1, at - Date.now() + 1),
    );
    this.wrTimer.unref();
  }

  /**
   * The consumer is deleted (`409 Consumer Deleted`) or a replicated consumer lost its leadership
   * (`409 Leadership Change`, so that the clients ask the new leader): every waiting request is told.
   */
  cancelAll(description = 'Consumer Deleted'): void {
    const c = this.c;
    for (const wr of this.waiting) c.hub.publish(c.acc, wr.reply, statusHdr(409, description));
    this.waiting = [];
  }

  /** The consumer stops. */
  stop(): void {
    if (this.wrTimer !== undefined) clearTimeout(this.wrTimer);
    this.wrTimer = undefined;
  }
}
