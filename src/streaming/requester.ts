/**
 * Requests from the streaming server to its clients (heartbeats, the duplicate client ID check): a message
 * to the client's heartbeat inbox with a reply subject under one in-process wildcard subscription, and a
 * timeout. Any reply counts as an answer, as in nats-streaming-server (the clients reply with nothing).
 */
import { nuid } from '../util/nuid.js';

export class Requester {
  /** Replies come on `<prefix><n>`; the owner subscribes to `<prefix>>` and passes them to onReply. */
  readonly prefix = `_STAN.hbr.${nuid()}.`;
  private readonly pending = new Map<string, [timer: NodeJS.Timeout, done: (ok: boolean) => void]>();
  private seq = 0;

  constructor(private readonly publish: (subject: string, reply: string) => void) {}

  /** `done(true)` on a reply within `timeout` ms, `done(false)` otherwise. */
  request(subject: string, timeout: number, done: (ok: boolean) => void): void {
    const reply = `${this.prefix}${++this.seq}`;
    const timer = setTimeout(() => {
      this.pending.delete(reply);
      done(false);
    }, timeout);
    timer.unref();
    this.pending.set(reply, [timer, done]);
    this.publish(subject, reply);
  }

  onReply(subject: string): void {
    const r = this.pending.get(subject);
    if (r === undefined) return;
    this.pending.delete(subject);
    clearTimeout(r[0]);
    r[1](true);
  }

  /** Forget every outstanding request (their callbacks are not called). */
  stop(): void {
    for (const [timer] of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
  }
}
