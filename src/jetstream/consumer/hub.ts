/**
 * What the consumers of one JetStream share: their out queue and the watch for interest on push
 * consumers' deliver subjects.
 *
 * Out queue. A consumer delivers a stored message to its deliver subject (push) or to the reply subject of
 * a pull request, but the client must see the message's own subject (nats-server routes on `dsubj` and
 * writes `subj` in the MSG line; the clients read the key of a KV entry from it). The server's
 * publishInternal routes and delivers on the same subject, so deliveries go through `deliverTo` here:
 * the account's sublist is matched on the deliver subject, and each local client subscription (one
 * member per queue group) gets the message under its stored subject. Status messages, ack confirmations
 * and advisories go through publishInternal. Like jetstream/outbound.ts, everything is queued and sent
 * in a microtask, in order, never from inside the routing call that triggered it.
 *
 * Interest watch. nats-server is told by its sublist when a deliver subject gains or loses interest;
 * tsnats polls instead: push consumers without interest are checked every INTEREST_POLL_MS with the
 * sublist's hasInterest (a cheap trie walk) and resume as soon as a subscriber appears.
 */
import type { Account } from '../../server/account.js';
import type { Server } from '../../server/server.js';
import type { RemoteLink, Subscription } from '../../server/subscription.js';
import type { JetStream } from '../jetstream.js';

/** How often push consumers without interest look for subscribers again. */
export const INTEREST_POLL_MS = 20;

/** A consumer as the hub sees it. */
export interface HubConsumer {
  /** A delivery of stream sequence `seq` reached nobody. */
  didNotDeliver(seq: number): void;
  /** Interest watch: look at the deliver subject again; true when it has interest now (stop watching). */
  checkInterest(): boolean;
}

interface OutMsg {
  acc: Account;
  /** Where it is routed. */
  dsubj: string;
  /** What the receiver sees as the subject ('' = dsubj, sent with publishInternal). */
  subj: string;
  reply: string;
  hdr: Buffer | null;
  data: Buffer;
  consumer: HubConsumer | undefined;
  seq: number;
}

const EMPTY = Buffer.alloc(0);

export class ConsumerHub {
  private queue: OutMsg[] = [];
  private scheduled = false;
  private draining = false;
  private readonly drainBound = (): void => this.drain();
  private readonly watched = new Set<HubConsumer>();
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly server: Server) {}

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
    this.push({ acc, dsubj, subj, reply, hdr, data, consumer, seq });
  }

  /** Publish like the server does (status messages, ack confirmations, advisories). */
  publish(acc: Account, subject: string, hdr: Buffer | null, data: Buffer = EMPTY, reply = ''): void {
    if (subject === '') return;
    this.push({ acc, dsubj: subject, subj: '', reply, hdr, data, consumer: undefined, seq: 0 });
  }

  private push(m: OutMsg): void {
    this.queue.push(m);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.drainBound);
    }
  }

  /** Send everything queued (also called directly at shutdown). */
  drain(): void {
    this.scheduled = false;
    if (this.draining) return;
    this.draining = true;
    // Messages queued while draining go out in this drain, after the others.
    for (let i = 0; i < this.queue.length; i++) {
      const m = this.queue[i]!;
      try {
        if (m.subj === '') {
          this.server.publishInternal(m.acc, m.dsubj, m.reply, m.hdr, m.data);
        } else if (deliverTo(this.server, m.acc, m.dsubj, m.subj, m.reply, m.hdr, m.data) === 0) {
          m.consumer?.didNotDeliver(m.seq);
        }
      } catch {
        // One failed delivery must not stop the others.
      }
    }
    this.queue = [];
    this.draining = false;
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

  /** Stop the interest watch (JetStream shutdown). */
  stop(): void {
    this.drain();
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
    h = new ConsumerHub(js.server);
    hubs.set(js, h);
  }
  return h;
}

/**
 * Route a message on `dsubj` in `acc` and hand it to each matching local subscriber with `subj` as its
 * subject (queue groups: one member each, a local one first). Returns how many got it. Interest from
 * routes gets the message once per route as nats-server sends it: on `dsubj`, with `@<subj>` appended
 * to the reply, for the last server to restore (nats-server does; see the README).
 */
export function deliverTo(
  server: Server,
  acc: Account,
  dsubj: string,
  subj: string,
  reply: string,
  hdr: Buffer | null,
  data: Buffer,
): number {
  const r = acc.sublist.match(dsubj);
  if (r.psubs.length === 0 && r.qsubs.length === 0) return 0;
  const hdrLen = hdr !== null && hdr.length > 0 ? hdr.length : -1;
  const buf = hdrLen > 0 ? Buffer.concat([hdr!, data]) : data;
  const size = buf.length;
  let delivered = 0;
  let remotes: Map<RemoteLink, string[]> | undefined;
  const psubs = r.psubs;
  for (let i = 0; i < psubs.length; i++) {
    const sub = psubs[i]!;
    if (sub.client !== undefined) {
      if (sub.client.deliver(null, sub, subj, reply, hdrLen, buf, 0, size)) delivered++;
    } else if (sub.internal !== undefined) {
      sub.internal(subj, reply, hdrLen, buf, 0, size);
      delivered++;
    } else if (sub.remote !== undefined) {
      remotes ??= new Map();
      if (!remotes.has(sub.remote)) remotes.set(sub.remote, []);
    }
  }
  const qsubs = r.qsubs;
  for (let g = 0; g < qsubs.length; g++) {
    const group = qsubs[g]!;
    const n = group.length;
    const first = n === 1 ? 0 : Math.floor(Math.random() * n);
    let fallback: Subscription | undefined;
    let done = false;
    for (let k = 0; k < n; k++) {
      const sub: Subscription = group[(first + k) % n]!;
      if (sub.client === undefined) {
        if (fallback === undefined && sub.remote !== undefined) fallback = sub;
        continue;
      }
      if (sub.client.deliver(null, sub, subj, reply, hdrLen, buf, 0, size)) {
        delivered++;
        done = true;
        break;
      }
    }
    if (!done && fallback !== undefined) {
      remotes ??= new Map();
      const qs = remotes.get(fallback.remote!) ?? [];
      qs.push(fallback.queue!);
      remotes.set(fallback.remote!, qs);
    }
  }
  if (remotes !== undefined) {
    const rreply = reply === '' ? '' : `${reply}@${subj}`;
    for (const [link, queues] of remotes) {
      link.sendMsg(acc.name, dsubj, rreply, queues.length > 0 ? queues : null, hdrLen, buf, 0, size);
      delivered++;
    }
  }
  if (delivered > 0) {
    server.stats.outMsgs += delivered;
    server.stats.outBytes += delivered * size;
  }
  return delivered;
}
