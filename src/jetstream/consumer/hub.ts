/**
 * What the consumers of one JetStream share: how they publish, and the watch for interest on push
 * consumers' deliver subjects.
 *
 * Publishing. A consumer delivers a stored message on its deliver subject (push) or on the reply subject
 * of a pull request, but the client must see the message's own subject (nats-server routes on `dsubj`
 * and writes `subj` in the MSG line; the clients read the key of a KV entry from it): the server's
 * delivery does exactly that with `deliverAs`. Deliveries, status messages, ack confirmations and
 * advisories all go through the server's one deferred queue (delivery.ts, re-entrancy rule); a delivery
 * that reached nobody is reported back to its consumer (`didNotDeliver`).
 *
 * Interest watch. nats-server is told by its sublist when a deliver subject gains or loses interest;
 * tsnats polls instead: push consumers without interest are checked every INTEREST_POLL_MS with the
 * sublist's hasInterest (a cheap trie walk) and resume as soon as a subscriber appears.
 */
import type { Account } from '../../server/account.js';
import type { Delivery, UndeliveredListener } from '../../server/delivery.js';
import type { JetStream } from '../jetstream.js';

/** How often push consumers without interest look for subscribers again. */
export const INTEREST_POLL_MS = 20;

/** A consumer as the hub sees it. */
export interface HubConsumer extends UndeliveredListener {
  /** Interest watch: look at the deliver subject again; true when it has interest now (stop watching). */
  checkInterest(): boolean;
}

const EMPTY = Buffer.alloc(0);

export class ConsumerHub {
  private readonly watched = new Set<HubConsumer>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly delivery: Delivery) {}

  /** Deliver a stored message on `dsubj`, seen as `subj` by the receivers. */
  deliver(
    acc: Account,
    dsubj: string,
    subj: string,
    reply: string,
    hdr: Buffer | null,
    data: Buffer,
    consumer: HubConsumer,
    seq: number,
  ): void {
    this.delivery.defer(acc, dsubj, reply, hdr, data, subj, consumer, seq);
  }

  /** Publish like the server does (status messages, ack confirmations, advisories). */
  publish(acc: Account, subject: string, hdr: Buffer | null, data: Buffer = EMPTY, reply = ''): void {
    this.delivery.defer(acc, subject, reply, hdr, data);
  }

  /** Watch a push consumer's deliver subject for interest. */
  watch(c: HubConsumer): void {
    this.watched.add(c);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.poll(), INTEREST_POLL_MS);
      this.timer.unref();
    }
  }

  unwatch(c: HubConsumer): void {
    this.watched.delete(c);
    if (this.watched.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private poll(): void {
    for (const c of [...this.watched]) {
      try {
        if (c.checkInterest()) this.unwatch(c);
      } catch {
        this.unwatch(c);
      }
    }
  }

  /** Send what is still deferred and stop the interest watch (JetStream shutdown). */
  stop(): void {
    this.delivery.drain();
    this.watched.clear();
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

const hubs = new WeakMap<JetStream, ConsumerHub>();

/** The hub of a JetStream (created on first use). */
export function hubOf(js: JetStream): ConsumerHub {
  let h = hubs.get(js);
  if (h === undefined) {
    h = new ConsumerHub(js.server.delivery);
    hubs.set(js, h);
  }
  return h;
}
