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
 * Interest. nats-server's sublist tells a push consumer when its deliver subject gains or loses interest
 * (registerNotification). Here the hub is one of the server's interest observers (delivery.ts): every
 * subscription that comes or goes, from a client, a route, a leaf or in-process, is looked up among the
 * deliver subjects of its account's push consumers (a literal subject directly, a wildcard against each),
 * and the consumers it may concern look at their deliver subject again once the current work is done.
 */

import { matchLiteral, subjectHasWildcard } from '../../routing/subject.js';
import { type Account, importedSubject, matchesImport } from '../../server/account.js';
import type { Delivery, InterestObserver, UndeliveredListener } from '../../server/delivery.js';
import type { Subscription } from '../../server/subscription.js';
import type { JetStream } from '../jetstream.js';

/** A consumer as the hub sees it. */
export interface HubConsumer extends UndeliveredListener {
  /** Look at the deliver subject's interest again (after a subscription that may match it changed). */
  checkInterest(): void;
}

const EMPTY = Buffer.alloc(0);

export class ConsumerHub implements InterestObserver {
  /** Push consumers by account and deliver subject. */
  private readonly pushByAccount = new Map<Account, Map<string, Set<HubConsumer>>>();
  /** Consumers to check once the current delivery or batch is over. */
  private readonly dirty = new Set<HubConsumer>();
  private checkQueued = false;
  private readonly runChecks = (): void => this.checkDirty();

  constructor(private readonly delivery: Delivery) {
    delivery.interestObservers.push(this);
  }

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

  /** Follow the interest on a push consumer's deliver subject. */
  track(acc: Account, dsubj: string, c: HubConsumer): void {
    let bySubject = this.pushByAccount.get(acc);
    if (bySubject === undefined) {
      bySubject = new Map();
      this.pushByAccount.set(acc, bySubject);
    }
    let set = bySubject.get(dsubj);
    if (set === undefined) {
      set = new Set();
      bySubject.set(dsubj, set);
    }
    set.add(c);
  }

  untrack(acc: Account, dsubj: string, c: HubConsumer): void {
    this.dirty.delete(c);
    const bySubject = this.pushByAccount.get(acc);
    const set = bySubject?.get(dsubj);
    if (bySubject === undefined || set === undefined || !set.delete(c)) return;
    if (set.size === 0) bySubject.delete(dsubj);
    if (bySubject.size === 0) this.pushByAccount.delete(acc);
  }

  /**
   * InterestObserver: a subscription in `acc` came or went. It concerns the push consumers of `acc`, and
   * those of accounts whose deliver subjects `acc` imports as a stream (a mirror or source in another
   * account; nats-server's shadow subscriptions).
   */
  interestChanged(acc: Account, sub: Subscription, _delta: number): void {
    const subject = sub.subject;
    const own = this.pushByAccount.get(acc);
    if (own !== undefined) {
      if (!subjectHasWildcard(subject)) {
        const set = own.get(subject);
        if (set !== undefined) for (const c of set) this.dirty.add(c);
      } else {
        for (const [dsubj, set] of own) {
          if (matchLiteral(dsubj, subject)) for (const c of set) this.dirty.add(c);
        }
      }
    }
    for (const [exporter, bySubject] of this.pushByAccount) {
      if (exporter === acc || exporter.streamImporters.length === 0) continue;
      for (const imp of exporter.streamImporters) {
        if (imp.importer !== acc) continue;
        for (const [dsubj, set] of bySubject) {
          if (matchesImport(dsubj, imp.subject) && matchLiteral(importedSubject(imp, dsubj), subject)) {
            for (const c of set) this.dirty.add(c);
          }
        }
      }
    }
    if (this.dirty.size > 0 && !this.checkQueued) {
      // Not now: the subscription may be half-registered, and a consumer must not deliver inside the
      // caller (delivery.ts, re-entrancy rule).
      this.checkQueued = true;
      queueMicrotask(this.runChecks);
    }
  }

  private checkDirty(): void {
    this.checkQueued = false;
    const list = [...this.dirty];
    this.dirty.clear();
    for (const c of list) c.checkInterest();
  }

  /** Send what is still deferred (JetStream shutdown). */
  stop(): void {
    this.delivery.drain();
    this.dirty.clear();
    this.pushByAccount.clear();
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
