/**
 * Message delivery: the one path every message takes, whoever published it (a client, a route, or the
 * server itself: JetStream API responses, acknowledgements, consumer deliveries, system replies).
 *
 *   match      the account's sublist gives plain subscribers (each gets a copy) and queue groups (one
 *              member each: a local member first, else a route's, else a leaf node's).
 *   local      clients get the message at once (Client.deliver queues it in their output); in-process
 *              subscribers (`internal`) are called synchronously.
 *   remote     each route or leaf node connection with matching interest gets one message (RMSG, LMSG),
 *              naming the queue groups it should serve. A message that came from a route goes to local
 *              subscribers and to the leaf nodes this server is the hub of (full mesh, one hop); one that
 *              came from a leaf node goes to the routes only when this server is that leaf's hub, and
 *              never back to its own connection (nats-server's processMsgResults).
 *   accounts   stream exports to importers, service imports to exporters (with mapped reply subjects).
 *
 * Re-entrancy rule. Delivery is not re-entrant: it reuses scratch state (the route targets, the
 * publisher's size digits). Code that runs inside a delivery (any internal subscription handler) must
 * not publish synchronously: it calls `defer()`, and the message is delivered in a microtask once the
 * current delivery has returned, in the order deferred. Code that runs outside a delivery (timers, I/O
 * callbacks, start-up) may call `publishInternal` directly, or `defer` as well.
 */
import { type Account, importedSubject, matchesImport, RESPONSE_PREFIX, serviceSubject } from './account.js';
import type { Client } from './client.js';
import { inSharedReadBuffer } from './read-buffers.js';
import type { ServerStats } from './stats.js';
import { type InternalHandler, RemoteKind, type RemoteLink, Subscription } from './subscription.js';

/**
 * Told when interest in an account changes: a subscription of a client, an in-process subscriber, a
 * route or a leaf node appears (`delta` > 0) or goes (< 0). For a remote queue subscription `delta` is
 * the change of its weight. The cluster announces local interest to the routes (RS+/RS-); leaf node
 * connections announce what their role allows (LS+/LS-).
 */
export interface InterestObserver {
  interestChanged(acc: Account, sub: Subscription, delta: number): void;
}

/** Told when a deferred delivery reached nobody (a push consumer's message with no subscriber left). */
export interface UndeliveredListener {
  didNotDeliver(seq: number): void;
}

/** One deferred message (see the re-entrancy rule). */
interface Deferred {
  acc: Account;
  subject: string;
  /** What receivers see as the subject ('' = `subject`): JetStream deliveries show the stored subject. */
  deliverAs: string;
  reply: string;
  hdr: Buffer | null;
  data: Buffer;
  listener: UndeliveredListener | undefined;
  seq: number;
  /** DeliveryFlags for deliverInAccount. */
  flags: number;
  /** Delivered within `acc` only (a service response reaching its requester's account). */
  withinAccount: boolean;
}

const EMPTY = Buffer.alloc(0);

/** How deliverInAccount delivers (bit flags). */
export const DeliveryFlags = {
  /**
   * The message came from a route: local subscribers and hub-side leaf nodes only, and only the queue
   * groups it names.
   */
  FromRoute: 1,
  /** Skip in-process subscribers: the server's own messages to the other servers (Raft, Go's noIcb). */
  NoInternal: 2,
  /**
   * The message came from a leaf node connection (`Delivery.sourceLink`): only the queue groups it names,
   * not back to that connection, to the routes only when this server is its hub.
   */
  FromLeaf: 4,
} as const;

/** Placeholder for an unused route-target slot. */
const NO_LINK: RemoteLink = {
  linkKind: RemoteKind.ROUTE,
  spoke: false,
  remoteCluster: '',
  sendMsg: () => {},
};

/** Reply subjects of service imports cross to spoke-side leaf nodes too (nats-server's isServiceReply). */
const SERVICE_REPLY_PREFIX = '_R_.';

export class Delivery {
  /**
   * Size/header-size digits of the message being routed when the publisher wrote them with leading
   * zeros (see MsgArgs.szb); '' otherwise. Set by the publishing client around route().
   */
  msgSzb = '';
  msgHdb = '';
  /** The cluster and the leaf nodes, when configured: interest changes are announced to them. */
  readonly interestObservers: InterestObserver[] = [];
  /**
   * The leaf node connection the message being delivered came from (with DeliveryFlags.FromLeaf), set by
   * that connection around its delivery call.
   */
  sourceLink: RemoteLink | null = null;
  /**
   * The client whose message is being delivered (null for messages from routes, leafs or the server): an
   * internal handler may ask who sent what it got (JetStream's API audit names the requester).
   */
  producer: Client | null = null;
  /** Reused per message: the routes to send to and the queue groups for each. */
  private readonly remoteTargets: { link: RemoteLink; queues: string[] }[] = [];
  /** Exporting accounts whose mapped replies (`_R_.>`) this server listens for. */
  private readonly responseListeners = new Set<Account>();
  private internalSid = 0;
  private deferred: Deferred[] = [];
  private draining = false;
  private drainScheduled = false;
  private readonly drainBound = (): void => this.drain();

  constructor(private readonly stats: ServerStats) {}

  // ---- publishing -------------------------------------------------------------------------------------

  /**
   * Deliver a client's message to every matching subscription of its account and through the account's
   * imports and exports. Returns whether anyone got it.
   */
  route(
    producer: Client,
    subject: string,
    reply: string,
    hdr: number,
    buf: Buffer,
    start: number,
    size: number,
  ): boolean {
    const st = this.stats;
    st.inMsgs++;
    st.inBytes += size;
    const acc = producer.account;
    this.producer = producer;
    let delivered = this.deliverInAccount(acc, producer, subject, reply, hdr, buf, start, size);
    // Every account has the system imports, so the cheap question (anything to look at for this
    // subject?) comes before the call.
    if (acc.crossAccount && acc.mayImport(subject))
      delivered += this.routeAcrossAccounts(acc, producer, subject, reply, hdr, buf, start, size, '');
    this.producer = null;
    countForAccount(acc, delivered, size);
    if (delivered > 0) {
      st.outMsgs += delivered;
      st.outBytes += delivered * size;
    }
    return delivered > 0;
  }

  /**
   * Deliver a message that came from a leaf node connection, in the account it is bound to (and through
   * that account's imports): plain subscribers, and the queue groups the leaf named (nats-server's
   * processInboundLeafMsg). Returns how many got it.
   */
  routeFromLeaf(
    leaf: RemoteLink,
    acc: Account,
    subject: string,
    reply: string,
    hdr: number,
    buf: Buffer,
    start: number,
    size: number,
    queues: string[],
  ): number {
    const st = this.stats;
    st.inMsgs++;
    st.inBytes += size;
    const at = deliverySubjectAt(reply);
    const plainReply = at < 0 ? reply : reply.slice(0, at);
    const deliverAs = at < 0 ? '' : reply.slice(at + 1);
    this.sourceLink = leaf;
    let delivered: number;
    try {
      delivered = this.deliverInAccount(
        acc,
        null,
        subject,
        plainReply,
        hdr,
        buf,
        start,
        size,
        DeliveryFlags.FromLeaf,
        queues,
        deliverAs,
      );
      if (acc.crossAccount) {
        delivered += this.routeAcrossAccounts(
          acc,
          null,
          subject,
          plainReply,
          hdr,
          buf,
          start,
          size,
          deliverAs,
        );
      }
    } finally {
      this.sourceLink = null;
    }
    countForAccount(acc, delivered, size);
    if (delivered > 0) {
      st.outMsgs += delivered;
      st.outBytes += delivered * size;
    }
    return delivered;
  }

  /**
   * Publish from inside the server, outside any delivery (see the re-entrancy rule): routed like a
   * client's message. `hdr` is a NATS/1.0 header block or null; receivers see `deliverAs` as the subject
   * when it is given. Returns how many got it.
   */
  publishInternal(
    acc: Account,
    subject: string,
    reply: string,
    hdr: Buffer | null,
    data: Buffer,
    deliverAs = '',
    flags = 0,
  ): number {
    const hdrLen = hdr !== null && hdr.length > 0 ? hdr.length : -1;
    const buf = hdrLen > 0 ? Buffer.concat([hdr!, data]) : data;
    const size = buf.length;
    let delivered = this.deliverInAccount(
      acc,
      null,
      subject,
      reply,
      hdrLen,
      buf,
      0,
      size,
      flags,
      null,
      deliverAs,
    );
    if (acc.crossAccount)
      delivered += this.routeAcrossAccounts(acc, null, subject, reply, hdrLen, buf, 0, size, deliverAs);
    if (delivered > 0) {
      this.stats.outMsgs += delivered;
      this.stats.outBytes += delivered * size;
    }
    return delivered;
  }

  /**
   * Publish after the current delivery (the re-entrancy rule). `listener` hears of a message that reached
   * nobody, with `seq` (consumers use it to redeliver).
   */
  defer(
    acc: Account,
    subject: string,
    reply: string,
    hdr: Buffer | null,
    data: Buffer = EMPTY,
    deliverAs = '',
    listener: UndeliveredListener | undefined = undefined,
    seq = 0,
  ): void {
    if (subject === '') return;
    this.push({ acc, subject, deliverAs, reply, hdr, data, listener, seq, flags: 0, withinAccount: false });
  }

  /**
   * Defer a message for everyone but the server's own in-process subscribers: clients and routes only
   * (the Raft layer's messages, which a node must never receive from itself).
   */
  deferToOthers(acc: Account, subject: string, reply: string, data: Buffer): void {
    this.push({
      acc,
      subject,
      deliverAs: '',
      reply,
      hdr: null,
      data,
      listener: undefined,
      seq: 0,
      flags: DeliveryFlags.NoInternal,
      withinAccount: false,
    });
  }

  private push(m: Deferred): void {
    this.deferred.push(m);
    if (!this.drainScheduled && !this.draining) {
      this.drainScheduled = true;
      queueMicrotask(this.drainBound);
    }
  }

  /** Defer a text payload (JSON responses). */
  deferString(acc: Account, subject: string, text: string): void {
    this.defer(acc, subject, '', null, Buffer.from(text, 'utf8'));
  }

  /** Deliver everything deferred, in order; what is deferred meanwhile goes out in this drain too. */
  drain(): void {
    this.drainScheduled = false;
    if (this.draining) return;
    this.draining = true;
    const q = this.deferred;
    for (let i = 0; i < q.length; i++) {
      const m = q[i]!;
      q[i] = undefined as unknown as Deferred;
      try {
        const n = m.withinAccount
          ? this.deliverWithinAccount(m.acc, m.subject, m.reply, m.hdr, m.data)
          : this.publishInternal(m.acc, m.subject, m.reply, m.hdr, m.data, m.deliverAs, m.flags);
        if (n === 0) m.listener?.didNotDeliver(m.seq);
      } catch {
        // One failed delivery must not stop the others (delivery problems are logged where they happen).
      }
    }
    this.deferred = [];
    this.draining = false;
  }

  // ---- delivery within an account ---------------------------------------------------------------------

  /**
   * Delivery within one account; returns the number of copies delivered. Local clients get theirs at
   * once; routes with interest are collected and sent one RMSG each at the end. A queue group prefers a
   * local member and falls back to a route's. A message that came from a route (DeliveryFlags.FromRoute)
   * goes to local subscribers only, and to the queue groups the sender named (`routeQueues`);
   * DeliveryFlags.NoInternal skips in-process subscribers. Receivers see
   * `deliverAs` as the subject when given; routes get `subject` with `@<deliverAs>` after the reply, as
   * nats-server sends it.
   */
  deliverInAccount(
    acc: Account,
    producer: Client | null,
    subject: string,
    reply: string,
    hdr: number,
    buf: Buffer,
    start: number,
    size: number,
    flags = 0,
    routeQueues: string[] | null = null,
    deliverAs = '',
  ): number {
    const r = acc.sublist.match(subject);
    const fromRoute = (flags & DeliveryFlags.FromRoute) !== 0;
    const fromLeaf = (flags & DeliveryFlags.FromLeaf) !== 0;
    const noInternal = (flags & DeliveryFlags.NoInternal) !== 0;
    const src = fromLeaf ? this.sourceLink : null;
    // Routes get what did not come from one, nor from a leaf this server is a spoke of.
    const toRoutes = !fromRoute && (src === null || !src.spoke);
    const shown = deliverAs === '' ? subject : deliverAs;
    let delivered = 0;
    let nRemote = 0;
    const psubs = r.psubs;
    for (let i = 0; i < psubs.length; i++) {
      const sub = psubs[i]!;
      const client = sub.client;
      if (client !== undefined) {
        if (client.deliver(producer, sub, shown, reply, hdr, buf, start, size)) delivered++;
      } else if (sub.internal !== undefined) {
        if (noInternal) continue;
        // An in-process subscriber may keep what it gets; the shared read buffer is overwritten by the
        // next read (read-buffers.ts). One copy serves the rest of this delivery.
        if (!sub.copiesInput && inSharedReadBuffer(buf)) {
          buf = Buffer.from(buf.subarray(start, start + size));
          start = 0;
        }
        sub.internal(shown, reply, hdr, buf, start, size);
        delivered++;
      } else {
        const link = sub.remote!;
        if (link.linkKind === RemoteKind.ROUTE ? toRoutes : leafGets(link, src, fromRoute, subject)) {
          nRemote = this.addRemoteTarget(nRemote, link, undefined);
        }
      }
    }
    const qsubs = r.qsubs;
    const namedOnly = fromRoute || fromLeaf;
    for (let g = 0; g < qsubs.length; g++) {
      const group = qsubs[g]!;
      if (namedOnly && (routeQueues === null || !routeQueues.includes(group[0]!.queue!))) continue;
      const n = group.length;
      const first = n === 1 ? 0 : Math.floor(Math.random() * n);
      let viaRoute: Subscription | undefined;
      let viaLeaf: Subscription | undefined;
      let done = false;
      for (let k = 0; k < n; k++) {
        const sub = group[(first + k) % n]!;
        const client = sub.client;
        if (client === undefined) {
          if (sub.internal !== undefined) {
            if (noInternal) continue;
            // An in-process member (a stream replica answering direct gets in `_sys_`).
            if (!sub.copiesInput && inSharedReadBuffer(buf)) {
              buf = Buffer.from(buf.subarray(start, start + size));
              start = 0;
            }
            sub.internal(shown, reply, hdr, buf, start, size);
            delivered++;
            done = true;
            break;
          }
          const link = sub.remote!;
          if (link.linkKind === RemoteKind.ROUTE) {
            if (viaRoute === undefined && toRoutes) viaRoute = sub;
          } else if (viaLeaf === undefined && leafGets(link, src, fromRoute, subject)) {
            viaLeaf = sub;
          }
          continue;
        }
        if (client.deliver(producer, sub, shown, reply, hdr, buf, start, size)) {
          delivered++;
          done = true;
          break;
        }
      }
      if (!done) {
        // No local member took it: one remote member, a route's before a leaf node's.
        const via = viaRoute ?? viaLeaf;
        if (via !== undefined) nRemote = this.addRemoteTarget(nRemote, via.remote!, via.queue);
      }
    }
    if (nRemote > 0) {
      const rreply = deliverAs !== '' && reply !== '' ? `${reply}@${deliverAs}` : reply;
      const targets = this.remoteTargets;
      for (let i = 0; i < nRemote; i++) {
        const t = targets[i]!;
        t.link.sendMsg(
          acc.name,
          subject,
          rreply,
          t.queues.length > 0 ? t.queues : null,
          hdr,
          buf,
          start,
          size,
        );
        t.link = NO_LINK;
        t.queues.length = 0;
      }
      delivered += nRemote;
    }
    return delivered;
  }

  private addRemoteTarget(n: number, link: RemoteLink, queue: string | undefined): number {
    const targets = this.remoteTargets;
    for (let i = 0; i < n; i++) {
      const t = targets[i]!;
      if (t.link === link) {
        if (queue !== undefined) t.queues.push(queue);
        return n;
      }
    }
    let t = targets[n];
    if (t === undefined) {
      t = { link, queues: [] };
      targets[n] = t;
    } else {
      t.link = link;
      // Normally emptied after sending; not if a delivery was cut short by an exception.
      t.queues.length = 0;
    }
    if (queue !== undefined) t.queues.push(queue);
    return n + 1;
  }

  // ---- across accounts --------------------------------------------------------------------------------

  /** Stream exports to importers and service imports to exporters (with mapped reply subjects). */
  private routeAcrossAccounts(
    acc: Account,
    producer: Client | null,
    subject: string,
    reply: string,
    hdr: number,
    buf: Buffer,
    start: number,
    size: number,
    deliverAs: string,
  ): number {
    let delivered = 0;
    for (const imp of acc.streamImporters) {
      if (matchesImport(subject, imp.subject)) {
        const to = importedSubject(imp, subject);
        delivered += this.deliverInAccount(
          imp.importer,
          producer,
          to,
          reply,
          hdr,
          buf,
          start,
          size,
          0,
          null,
          deliverAs,
        );
      }
    }
    for (const imp of acc.serviceImportsFor(subject)) {
      if (matchesImport(subject, imp.local)) {
        let mappedReply = '';
        if (reply !== '') {
          mappedReply = imp.exporter.mapResponse(acc, reply, imp.singleton);
          this.listenForResponses(imp.exporter);
        }
        const to = serviceSubject(imp, subject);
        if (imp.requestInfo !== undefined) {
          const h = withHeader(buf, start, hdr, 'Nats-Request-Info', imp.requestInfo(acc, producer));
          const data = buf.subarray(start + Math.max(hdr, 0), start + size);
          const b = Buffer.concat([h, data]);
          delivered += this.deliverInAccount(
            imp.exporter,
            producer,
            to,
            mappedReply,
            h.length,
            b,
            0,
            b.length,
          );
          continue;
        }
        delivered += this.deliverInAccount(imp.exporter, producer, to, mappedReply, hdr, buf, start, size);
      }
    }
    return delivered;
  }

  /**
   * Responses to a service import come back on a mapped reply subject in the exporting account, from a
   * local responder or, through a route, from a responder on another server: an internal `_R_.>`
   * subscription (whose interest reaches the routes) catches both and hands each to the requester's
   * account, deferred (the re-entrancy rule).
   */
  private listenForResponses(acc: Account): void {
    if (this.responseListeners.has(acc)) return;
    this.responseListeners.add(acc);
    this.subscribeInternal(acc, `${RESPONSE_PREFIX}>`, (subject, reply, hdr, buf, start, size) => {
      const back = acc.takeResponse(subject);
      if (back === undefined) return;
      const hdrBlock = hdr > 0 ? Buffer.from(buf.subarray(start, start + hdr)) : null;
      const data = Buffer.from(buf.subarray(start + Math.max(hdr, 0), start + size));
      this.push({
        acc: back.account,
        subject: back.reply,
        deliverAs: '',
        reply,
        hdr: hdrBlock,
        data,
        listener: undefined,
        seq: 0,
        flags: 0,
        withinAccount: true,
      });
    });
  }

  private deliverWithinAccount(
    acc: Account,
    subject: string,
    reply: string,
    hdr: Buffer | null,
    data: Buffer,
  ): number {
    const hdrLen = hdr !== null && hdr.length > 0 ? hdr.length : -1;
    const buf = hdrLen > 0 ? Buffer.concat([hdr!, data]) : data;
    const n = this.deliverInAccount(acc, null, subject, reply, hdrLen, buf, 0, buf.length);
    if (n > 0) {
      this.stats.outMsgs += n;
      this.stats.outBytes += n * buf.length;
    }
    return n;
  }

  // ---- in-process subscribers -------------------------------------------------------------------------

  /**
   * Subscribe an in-process handler in an account (in queue group `queue` when given); its interest
   * reaches routes like a client's.
   */
  subscribeInternal(acc: Account, subject: string, handler: InternalHandler, queue?: string): Subscription {
    const sub = new Subscription(undefined, subject, queue, `$I${++this.internalSid}`, undefined, handler);
    acc.sublist.insert(sub);
    acc.internalSubs++;
    this.notifyInterest(acc, sub, 1);
    return sub;
  }

  unsubscribeInternal(acc: Account, sub: Subscription): void {
    if (sub.closed) return;
    sub.closed = true;
    if (acc.sublist.remove(sub)) acc.internalSubs--;
    this.notifyInterest(acc, sub, -1);
  }

  /** Tell the observers (cluster, leaf nodes) that interest in `acc` changed by `delta`. */
  notifyInterest(acc: Account, sub: Subscription, delta: number): void {
    const obs = this.interestObservers;
    for (let i = 0; i < obs.length; i++) obs[i]!.interestChanged(acc, sub, delta);
  }
}

/** The message's header block with one more header (a new block when it had none). */
function withHeader(buf: Buffer, start: number, hdr: number, key: string, value: string): Buffer {
  const line = `${key}: ${value}\r\n\r\n`;
  if (hdr <= 0) return Buffer.from(`NATS/1.0\r\n${line}`);
  // The block ends with an empty line: the new header goes before it.
  return Buffer.concat([buf.subarray(start, start + hdr - 2), Buffer.from(line)]);
}

/**
 * Whether a leaf node connection gets a message: never the connection it came from, nor a leaf of the
 * same remote cluster (no echo); from a route only when this server is that leaf's hub, or for a
 * service import reply.
 */
function leafGets(link: RemoteLink, src: RemoteLink | null, fromRoute: boolean, subject: string): boolean {
  if (link === src) return false;
  if (fromRoute && link.spoke && !subject.startsWith(SERVICE_REPLY_PREFIX)) return false;
  return src === null || src.remoteCluster === '' || src.remoteCluster !== link.remoteCluster;
}

const JS_ACK_PREFIX = '$JS.ACK.';

/**
 * A JetStream delivery from another server carries the message's subject after the ack reply
 * (`$JS.ACK...@<subject>`): receivers see that subject and the plain reply (nats-server's
 * processMsgResults). Returns the position of the `@`, or -1 for any other reply. (An index rather than
 * a pair: this runs for every message from a route or leaf.)
 */
export function deliverySubjectAt(reply: string): number {
  if (!reply.startsWith(JS_ACK_PREFIX)) return -1;
  const at = reply.lastIndexOf('@');
  return at === reply.length - 1 ? -1 : at;
}

/** A message published in `acc` and the deliveries it made, for the account's connection events. */
function countForAccount(acc: Account, delivered: number, size: number): void {
  const m = acc.msgStats;
  m.inMsgs++;
  m.inBytes += size;
  m.outMsgs += delivered;
  m.outBytes += delivered * size;
}
