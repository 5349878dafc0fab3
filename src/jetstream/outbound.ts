/**
 * Messages JetStream sends (API responses, publish acknowledgements, direct-get replies and, later,
 * consumer deliveries) are queued and published after the current message has been routed, never from
 * inside the routing call that delivered a request to JetStream: the server's delivery loop reuses
 * scratch state and must not be re-entered (nats-server likewise sends through a separate out queue,
 * stream.go `outq`). The queue drains in a microtask, in order; messages queued while draining go out in
 * the same drain.
 */
import type { Account } from '../server/account.js';

/** How JetStream publishes: the server's publishInternal. */
export type InternalPublisher = (
  acc: Account,
  subject: string,
  reply: string,
  hdr: Buffer | null,
  data: Buffer,
) => void;

interface Pending {
  acc: Account;
  subject: string;
  reply: string;
  hdr: Buffer | null;
  data: Buffer;
}

export class OutQueue {
  private queue: Pending[] = [];
  private head = 0;
  private scheduled = false;
  private readonly drainBound = (): void => this.drain();
  /** Messages sent since start (for monitoring). */
  sent = 0;

  constructor(private readonly publish: InternalPublisher) {}

  /** Queue a message for `subject` in `acc`. Empty subjects are dropped (no reply subject given). */
  send(acc: Account, subject: string, hdr: Buffer | null, data: Buffer, reply = ''): void {
    if (subject === '') return;
    this.queue.push({ acc, subject, reply, hdr, data });
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.drainBound);
    }
  }

  /** Queue a string payload (JSON responses). */
  sendString(acc: Account, subject: string, text: string): void {
    this.send(acc, subject, null, Buffer.from(text, 'utf8'));
  }

  /** Publish everything queued (also called directly before shutdown). */
  drain(): void {
    this.scheduled = false;
    while (this.head < this.queue.length) {
      const m = this.queue[this.head]!;
      this.queue[this.head] = undefined as unknown as Pending;
      this.head++;
      this.sent++;
      try {
        this.publish(m.acc, m.subject, m.reply, m.hdr, m.data);
      } catch {
        // A failed delivery must not stop the others (the server logs delivery problems itself).
      }
    }
    this.queue = [];
    this.head = 0;
  }
}
