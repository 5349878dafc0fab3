/**
 * Delivery pacing: replay_policy original (messages go out as far apart as they were stored, until the
 * consumer catches up with what the stream held when it started) and rate_limit_bps. A message that has to
 * wait is put back and the consumer holds all deliveries until it is due.
 */
import type { StoredMsg } from '../store/store.js';
import type { Consumer } from './consumer.js';

export class Pacing {
  private replay = false;
  /** Replay: the stream's last sequence when the consumer started. */
  private lseq = 0;
  /** Timestamp of the last message delivered. */
  private lts = 0n;
  private rate: { bytesPerMs: number; burst: number; tokens: number; last: number } | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  private skipDelayOnce = false;

  constructor(private readonly c: Consumer) {}

  /** The consumer starts: replay_policy original paces until it is past the stream's current end. */
  start(): void {
    const c = this.c;
    if (c.cfg.replay_policy !== 'instant') {
      this.replay = true;
      this.lseq = c.stream.state().lastSeq;
    }
  }

  setRateLimit(bps: number): void {
    if (bps <= 0) {
      this.rate = undefined;
      return;
    }
    const c = this.c;
    const max = c.stream.config.max_msg_size;
    const burst = max > 0 ? max : c.jsa.js.server.options.maxPayload;
    this.rate = { bytesPerMs: bps / 8 / 1000, burst, tokens: burst, last: Date.now() };
  }

  /** Whether deliveries wait for a held message to be due. */
  get holding(): boolean {
    return this.holdTimer !== undefined;
  }

  /**
   * How long message `m` must wait before it goes out (ms; 1 or less: now). A message that was held goes
   * without another delay.
   */
  delay(m: StoredMsg): number {
    if (this.skipDelayOnce) {
      this.skipDelayOnce = false;
      return 0;
    }
    let delay = 0;
    if (this.replay && this.lts > 0n) delay = Number(m.ts - this.lts) / 1e6;
    if (this.rate !== undefined) {
      const sz = m.subject.length + m.hdr.length + m.data.length;
      delay = Math.max(delay, this.reserveRate(sz));
    }
    return delay;
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

  /** Pace deliveries: nothing goes out for `ms`, then the held message goes without another delay. */
  hold(ms: number): void {
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(
      () => {
        this.holdTimer = undefined;
        this.skipDelayOnce = true;
        this.c.kick();
      },
      Math.max(1, Math.ceil(ms)),
    );
    this.holdTimer.unref();
  }

  /** A message stored at `ts` goes out. */
  delivered(ts: bigint): void {
    this.lts = ts;
  }

  /** After a pass: replay ends once the consumer is past the stream's end at start (`sseq`: next to look at). */
  passDone(sseq: number): void {
    if (this.replay && sseq > this.lseq) this.replay = false;
  }

  /** The consumer stops. */
  stop(): void {
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
  }
}
