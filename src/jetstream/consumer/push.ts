/**
 * Push delivery: interest on the deliver subject (the hub tells the consumer when a subscription that
 * may match it comes or goes, see hub.ts), flow control and idle heartbeats.
 *
 * Interest has two meanings, as in nats-server. The consumer is bound (`active`, reported as push_bound,
 * delivering) only by a subscription on exactly its deliver subject, with its deliver_group as queue
 * (the sublist's registerNotification): a wildcard subscriber such as `nats sub '>'` neither binds it
 * nor keeps it bound, so the KV and object store clients, which refuse a bound consumer, still work.
 * Any matching subscription counts where nats-server matches the sublist (hasNoLocalInterest,
 * checkNewConsumerConfig). Flow control: a
 * `100 FlowControl Request` goes out once half of the pending bytes window is used and deliveries stop
 * when it is full; each response frees the bytes it covers and doubles the window, from 1/16 of
 * FLOW_CONTROL_MAX_PENDING up to all of it.
 */

import { textToWire } from '../../routing/subject-text.js';
import type { Sublist } from '../../routing/sublist.js';
import { importedSubject, matchesImport } from '../../server/account.js';
import type { Subscription } from '../../server/subscription.js';
import type { Consumer } from './consumer.js';
import { statusHdr } from './status.js';
import { randomToken } from './token.js';

/** nats-server's JsFlowControlMaxPending. */
const FLOW_CONTROL_MAX_PENDING = 32 * 1024 * 1024;

const EMPTY = Buffer.alloc(0);

export class Push {
  /** Whether the deliver subject has interest. */
  active = false;
  /** The deliver subject. */
  dsubj: string;
  /** When a message last went out (idle heartbeats). */
  lastDelivery = 0;
  private pblimit = 0;
  private maxpb = 0;
  private pbytes = 0;
  private fcsz = 0;
  private fcid = '';
  private fcSub: Subscription | undefined;
  private hbTimer: NodeJS.Timeout | undefined;

  constructor(private readonly c: Consumer) {
    this.dsubj = textToWire(c.cfg.deliver_subject);
  }

  /** The reply subject of the flow control request not answered yet ('' = none): the consumer is stalled. */
  get stalled(): string {
    return this.fcid;
  }

  /** Start flow control (if configured) and look for interest on the deliver subject. */
  start(): void {
    const c = this.c;
    if (c.cfg.flow_control) {
      this.setMaxPendingBytes(FLOW_CONTROL_MAX_PENDING);
      this.fcSub = c.jsa.subscribe(textToWire(`$JS.FC.${c.stream.name}.${c.name}.*`), (subject) =>
        this.processFlowControl(subject),
      );
    }
    if (c.isPush) {
      this.active = this.boundInterest();
      c.hub.track(c.acc, this.dsubj, c);
    }
  }

  startHeartbeat(): void {
    const c = this.c;
    if (c.isPush && c.cfg.idle_heartbeat > 0) this.armHeartbeat(c.cfg.idle_heartbeat / 1e6);
  }

  /** The consumer stops. */
  stop(): void {
    const c = this.c;
    if (this.hbTimer !== undefined) clearTimeout(this.hbTimer);
    this.hbTimer = undefined;
    if (this.fcSub !== undefined) c.jsa.unsubscribe(this.fcSub);
    this.fcSub = undefined;
    c.hub.untrack(c.acc, this.dsubj, c);
  }

  // ---- interest ---------------------------------------------------------------------------------------

  /**
   * Whether a subscription is on exactly the deliver subject (and deliver group): in the consumer's
   * account, or in an account importing it as a stream (nats-server sees those through its shadow
   * subscriptions; a mirror or source in another account receives its messages this way).
   */
  boundInterest(): boolean {
    const d = this.dsubj;
    if (d === '') return false;
    const acc = this.c.acc;
    const group = this.c.cfg.deliver_group;
    if (hasExactSubscription(acc.sublist, d, group)) return true;
    for (const imp of acc.streamImporters) {
      if (
        matchesImport(d, imp.subject) &&
        hasExactSubscription(imp.importer.sublist, importedSubject(imp, d), group)
      )
        return true;
    }
    return false;
  }

  /** Whether any subscription matches the deliver subject (wildcards included), here or in an importer. */
  deliverInterest(): boolean {
    const d = this.dsubj;
    if (d === '') return false;
    const acc = this.c.acc;
    if (acc.sublist.hasInterest(d)) return true;
    for (const imp of acc.streamImporters) {
      if (matchesImport(d, imp.subject) && imp.importer.sublist.hasInterest(importedSubject(imp, d)))
        return true;
    }
    return false;
  }

  /** The hub saw a subscription that may match the deliver subject come or go. */
  checkInterest(): void {
    const c = this.c;
    if (c.closed || !c.isPush) return;
    const interest = this.boundInterest();
    if (interest !== this.active) this.updateDeliveryInterest(interest);
  }

  /** nats-server's updateDeliveryInterest. */
  updateDeliveryInterest(interest: boolean): void {
    const c = this.c;
    if (c.closed || !c.isPush) return;
    if (interest && !this.active) c.kick();
    this.active = interest;
    c.inactivity.interestChanged(interest);
  }

  /** A delivery reached nobody: has the deliver subject lost its interest? */
  didNotDeliver(): void {
    if (!this.deliverInterest()) {
      this.active = false;
      this.updateDeliveryInterest(false);
    }
  }

  /** An update changed the deliver subject: what is pending goes to the new one. */
  updateDeliverSubject(deliver: string): void {
    const c = this.c;
    if (c.closed || !c.isPush || c.cfg.deliver_subject === deliver) return;
    if (c.state.pending.size > 0) c.acks.forceExpirePending();
    c.hub.untrack(c.acc, this.dsubj, c);
    this.dsubj = textToWire(deliver);
    c.hub.track(c.acc, this.dsubj, c);
    c.cfg.deliver_subject = deliver;
    this.updateDeliveryInterest(this.boundInterest());
  }

  // ---- flow control -----------------------------------------------------------------------------------

  /** Whether a delivery may go out now: someone listens and the flow control window is not full. */
  canSend(): boolean {
    return this.active && !(this.maxpb > 0 && this.pbytes > this.maxpb);
  }

  /** A delivery of `psz` bytes goes out (counted against the window until a flow control response). */
  countBytes(psz: number): void {
    if (this.maxpb > 0) this.pbytes += psz;
  }

  /** After a delivery of `psz` bytes: ask for a flow control response when due. */
  checkFlowControl(psz: number): void {
    if (this.maxpb > 0 && this.needFlowControl(psz)) this.sendFlowControl();
  }

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
    const c = this.c;
    if (!c.isPush) return;
    const reply = textToWire(`$JS.FC.${c.stream.name}.${c.name}.${randomToken(4)}`);
    this.fcsz = this.pbytes;
    this.fcid = reply;
    c.hub.publish(c.acc, this.dsubj, statusHdr(100, 'FlowControl Request'), EMPTY, reply);
  }

  private processFlowControl(subject: string): void {
    const c = this.c;
    if (c.closed || subject !== this.fcid) return;
    if (this.maxpb < this.pblimit) this.maxpb = Math.min(this.maxpb * 2, this.pblimit);
    this.pbytes = Math.max(0, this.pbytes - this.fcsz);
    this.fcid = '';
    this.fcsz = 0;
    c.kick();
  }

  // ---- heartbeats -------------------------------------------------------------------------------------

  private armHeartbeat(ms: number): void {
    if (this.hbTimer !== undefined) clearTimeout(this.hbTimer);
    this.hbTimer = setTimeout(
      () => {
        this.hbTimer = undefined;
        const c = this.c;
        if (c.closed) return;
        const period = c.cfg.idle_heartbeat / 1e6;
        if (period <= 0) return;
        const idle = Date.now() - this.lastDelivery;
        if (idle < period) {
          this.armHeartbeat(period - idle);
          return;
        }
        if (this.active) c.sendIdleHeartbeat(this.dsubj);
        this.lastDelivery = Date.now();
        this.armHeartbeat(period);
      },
      Math.max(1, Math.ceil(ms)),
    );
    this.hbTimer.unref();
  }
}

/**
 * nats-server's registerNotification test: a plain subscription on exactly `subject` (no queue), or,
 * for a deliver group, a queue subscription of that group on exactly `subject`.
 */
function hasExactSubscription(sl: Sublist<Subscription>, subject: string, queue: string): boolean {
  const r = sl.match(subject);
  if (queue === '') {
    for (const s of r.psubs) if (s.subject === subject) return true;
    return false;
  }
  for (const group of r.qsubs) {
    if (group[0]?.queue !== queue) continue;
    for (const s of group) if (s.subject === subject) return true;
  }
  return false;
}
