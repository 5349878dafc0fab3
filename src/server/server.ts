import { unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import type { SecureContext } from 'node:tls';
import { createServer as createServerKey } from '@nats-io/nkeys';
import { Authenticator } from '../auth/authenticator.js';
import type { AuthorizationConfig } from '../auth/types.js';
import { RouteManager } from '../cluster/routes.js';
import { JetStream } from '../jetstream/jetstream.js';
import { Monitor } from '../monitor/http.js';
import type { MonitorState } from '../monitor/state.js';
import { SystemRequests } from '../monitor/sys-requests.js';
import type { Parser } from '../protocol/parser.js';
import { buildSecureContext, upgradeToTls } from '../transport/tls.js';
import {
  Account,
  GLOBAL_ACCOUNT,
  importedSubject,
  matchesImport,
  RESPONSE_PREFIX,
  serviceSubject,
} from './account.js';
import { buildAccounts } from './account-config.js';
import { Client } from './client.js';
import { ClosedReason } from './closed-reason.js';
import { Logger } from './logger.js';
import { resolveOptions, type ServerOptions } from './options.js';
import { authorizationOf, reloadServer } from './reload.js';
import { type OutputTarget, stallDuration } from './socket-output.js';
import { type InternalHandler, type RemoteLink, Subscription } from './subscription.js';
import { TSNATS_VERSION, VERSION } from './version.js';

/**
 * What the batched read/flush machinery needs from a connection: clients and routes (src/cluster) both
 * parse in onRead and are flushed once per read batch.
 */
export interface Connection extends OutputTarget {
  readonly parser: Parser;
  last: number;
  flush(): void;
  close(reason: ClosedReason): void;
}

/** Server-wide counters, as /varz reports them. */
export interface ServerStats {
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
  slowConsumers: number;
  totalConnections: number;
}

/** Options accepted by the embedding API, plus credentials for the simple auth methods. */
export interface ServerConfig extends Partial<ServerOptions> {
  /** Shorthands for a single user (`--user/--pass`) or a token (`--auth`). */
  user?: string;
  password?: string;
  token?: string;
  /** Users, NKeys, permissions and accounts (config `authorization {}` and `accounts {}`). */
  authorization?: AuthorizationConfig;
}

/** How often the write-deadline sweep looks at blocked sockets. */
const SWEEP_INTERVAL = 250;

/**
 * A tsnats server: the client listener, the connection registry, message routing and lifecycle.
 *
 * ```ts
 * const server = new Server({ port: 0, host: '127.0.0.1' });
 * await server.ready();
 * console.log(server.port);
 * await server.shutdown();
 * ```
 */
export class Server {
  readonly options: ServerOptions;
  readonly logger: Logger;
  /** 56-character NKey server id, as nats-server generates. */
  readonly id: string;
  readonly name: string;
  readonly globalAccount: Account;
  /** Configured accounts by name, the global account included. */
  readonly accounts: Map<string, Account>;
  readonly auth: Authenticator;
  /** The authorization in force (replaced on reload). */
  private authorization: AuthorizationConfig;
  readonly clients = new Map<number, Client>();
  /** Recently closed clients, oldest first, at most `maxClosedClients` (for /connz?state=closed). */
  readonly closedClients: Client[] = [];
  readonly stats: ServerStats = {
    inMsgs: 0,
    outMsgs: 0,
    inBytes: 0,
    outBytes: 0,
    slowConsumers: 0,
    totalConnections: 0,
  };
  readonly startTime = new Date();
  /**
   * Size/header-size digits of the message being routed when the publisher wrote them with leading
   * zeros (see MsgArgs.szb); '' otherwise. Set by the publishing client around route().
   */
  msgSzb = '';
  msgHdb = '';
  /** The port the client listener is bound to (known after ready()). */
  port = 0;
  /** The HTTP monitor (/varz, /connz, ..., /metrics, dashboard), when `httpPort` is not 0. */
  monitor: Monitor | undefined;
  /** `$SYS.REQ.SERVER...` monitoring requests in the system account. */
  private sysRequests: SystemRequests | undefined;
  /** Routes to the other servers of the cluster, when `options.cluster` is set. */
  readonly cluster: RouteManager | undefined;
  /** JetStream (streams and their API), when `options.jetstream` is set. */
  readonly jetstream: JetStream | undefined;
  private listener: NetServer | undefined;
  private nextCid = 1;
  /** Clients with output queued in this batch; each is flushed once. */
  private flushList: Connection[] = [];
  private inRead = false;
  private flushScheduled = false;
  private readonly flushAllBound = (): void => {
    this.flushAll();
  };
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Certificates and keys, loaded once at start (and on reload). */
  private tlsContext: SecureContext | undefined;
  private readyPromise: Promise<void>;
  private shuttingDown = false;
  /** In lame duck mode: no new clients, existing ones are being moved away. */
  private ldm = false;
  private shutdownPromise: Promise<void> | undefined;
  private portsFile = '';
  private signalHandlers: [NodeJS.Signals, () => void][] = [];

  constructor(config: ServerConfig = {}) {
    this.options = resolveOptions(config);
    this.logger = new Logger(this.options);
    this.id = createServerKey().getPublicKey();
    this.name = this.options.serverName !== '' ? this.options.serverName : this.id;
    const authz = authorizationOf(config);
    this.authorization = authz;
    this.auth = new Authenticator(authz, this.options.tls?.verifyAndMap ?? false);
    this.tlsContext = this.options.tls !== undefined ? buildSecureContext(this.options.tls) : undefined;
    this.accounts = buildAccounts(authz.accounts);
    this.globalAccount = this.accounts.get(GLOBAL_ACCOUNT)!;
    const sys = this.options.systemAccount;
    if (!this.options.noSystemAccount && !this.accounts.has(sys)) this.accounts.set(sys, new Account(sys));
    this.jetstream =
      this.options.jetstream !== undefined ? new JetStream(this, this.options.jetstream) : undefined;
    this.cluster =
      this.options.cluster !== undefined ? new RouteManager(this, this.options.cluster) : undefined;
    this.readyPromise = this.start();
    // Keep an unhandled rejection from crashing the process when nobody awaits ready().
    this.readyPromise.catch(() => {});
  }

  /** Resolves once the server accepts clients; rejects when it cannot listen. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  private async start(): Promise<void> {
    const o = this.options;
    const log = this.logger;
    log.notice(`Starting tsnats ${TSNATS_VERSION} (nats-server protocol ${VERSION})`);
    log.notice(`  Version:  ${VERSION}`);
    log.notice(`  Runtime:  node ${process.versions.node}`);
    log.notice(`  Name:     ${this.name}`);
    log.notice(`  ID:       ${this.id}`);
    if (o.pidFile !== '') writeFileSync(o.pidFile, String(process.pid));
    // As nats-server: JetStream (and its recovered streams) is up before clients can connect.
    this.jetstream?.start();
    const listener = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.listener = listener;
    const port = o.port < 0 ? 0 : o.port;
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen({ host: o.host, port, backlog: 8192 }, () => {
        listener.off('error', reject);
        resolve();
      });
    });
    listener.on('error', (err) => log.error(`Client listener error: ${err.message}`));
    const addr = listener.address();
    this.port = typeof addr === 'object' && addr !== null ? addr.port : port;
    log.notice(`Listening for client connections on ${hostPort(o.host, this.port)}`);
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_INTERVAL);
    this.sweepTimer.unref();
    if (o.httpPort !== 0) {
      this.monitor = new Monitor(this);
      await this.monitor.start();
    }
    if (!o.noSystemAccount) {
      // Monitoring over NATS for the system account, with or without the HTTP monitor.
      let own: Monitor | undefined;
      const state = (): MonitorState => {
        if (this.monitor !== undefined) return this.monitor.state;
        if (own === undefined) own = new Monitor(this);
        return own.state;
      };
      this.sysRequests = new SystemRequests(this, this.accounts.get(o.systemAccount)!, state);
      this.sysRequests.start();
    }
    if (this.cluster !== undefined) await this.cluster.start();
    if (o.portsFileDir !== '') this.writePortsFile();
    if (!o.noSigs) this.installSignalHandlers();
    log.notice('Server is ready');
  }

  /**
   * `nats-server_<pid>.ports` with the client URL, as nats-server writes it: client libraries' test
   * harnesses start a server with `-p -1 --ports_file_dir DIR` and look for that name.
   */
  private writePortsFile(): void {
    this.portsFile = join(this.options.portsFileDir, `nats-server_${process.pid}.ports`);
    const host =
      this.options.host === '0.0.0.0' || this.options.host === '' ? '127.0.0.1' : this.options.host;
    const ports: Record<string, string[]> = { nats: [`nats://${hostPort(host, this.port)}`] };
    if (this.monitor) ports.monitoring = [this.monitor.url];
    if (this.cluster) ports.cluster = [`nats://${hostPort(host, this.cluster.port)}`];
    writeFileSync(this.portsFile, JSON.stringify(ports));
  }

  private installSignalHandlers(): void {
    for (const sig of ['SIGINT', 'SIGTERM'] as NodeJS.Signals[]) {
      const h = (): void => {
        this.logger.notice(`Trapped "${sig === 'SIGINT' ? 'interrupt' : 'terminated'}" signal`);
        void this.shutdown().then(() => process.exit(0));
      };
      process.on(sig, h);
      this.signalHandlers.push([sig, h]);
    }
    const ldm = (): void => {
      void this.lameDuck().then(() => process.exit(0));
    };
    process.on('SIGUSR2', ldm);
    this.signalHandlers.push(['SIGUSR2', ldm]);
    const reopen = (): void => this.logger.notice('Re-opening log file');
    process.on('SIGUSR1', reopen);
    this.signalHandlers.push(['SIGUSR1', reopen]);
  }

  /** The INFO line sent to one client (`ldm` marks the lame-duck notice). */
  infoFor(c: Client, ldm = false): string {
    const o = this.options;
    const info: Record<string, unknown> = {
      server_id: this.id,
      server_name: this.name,
      version: VERSION,
      proto: 1,
      go: `node${process.versions.node}`,
      host: o.host,
      port: this.port,
      headers: true,
    };
    if (this.auth.required) info.auth_required = true;
    if (o.tls !== undefined) {
      info.tls_required = true;
      if (o.tls.verify || o.tls.verifyAndMap) info.tls_verify = true;
    }
    if (c.nonce !== '') info.nonce = c.nonce;
    info.max_payload = o.maxPayload;
    if (this.jetstream !== undefined) info.jetstream = true;
    if (ldm) info.ldm = true;
    info.client_id = c.cid;
    info.client_ip = c.host;
    if (this.cluster !== undefined) {
      info.cluster = this.cluster.clusterName;
      const urls = this.cluster.clientConnectURLs();
      if (urls !== undefined) info.connect_urls = urls;
    }
    info.tsnats_version = TSNATS_VERSION;
    return `INFO ${JSON.stringify(info)} \r\n`;
  }

  private accept(socket: Socket): void {
    if (this.shuttingDown) {
      socket.destroy();
      return;
    }
    this.openSockets.add(socket);
    socket.once('close', () => this.openSockets.delete(socket));
    const c = new Client(this, socket, this.nextCid++);
    if (this.auth.nonceRequired) c.nonce = this.auth.newNonce();
    this.stats.totalConnections++;
    const max = this.options.maxConnections;
    const full = max > 0 && this.clients.size >= max;
    this.clients.set(c.cid, c);
    this.logger.debug(`${c} - Client connection created`);
    c.sendInitialInfo(this.infoFor(c));
    if (full) {
      c.attach(false);
      this.logger.error(`${c} - maximum connections exceeded`);
      c.sendErr('maximum connections exceeded');
      c.close(ClosedReason.MaxConnectionsExceeded);
      return;
    }
    const authRequired = this.auth.required;
    const tlsOpts = this.options.tls;
    if (tlsOpts === undefined || this.tlsContext === undefined) {
      c.attach(authRequired);
      return;
    }
    // INFO goes out in plain text; then the client must start TLS (nats-server 2.9's upgrade).
    this.flushAll();
    void upgradeToTls(socket, this.tlsContext, tlsOpts).then((r) => {
      if (c.closed) return;
      if (!r.ok) {
        this.logger.error(`${c} - TLS handshake error: ${r.error}`);
        if (r.plain) c.sendErr('Secure Connection - TLS Required');
        c.close(ClosedReason.TLSHandshakeError);
        return;
      }
      c.useTlsSocket(r.socket);
      this.logger.debug(`${c} - TLS handshake complete`);
      c.attach(authRequired);
    });
  }

  // ---- reads and batched flushing --------------------------------------------------------------------

  /** One socket read: parse it, then write every client's output that the read produced, once each. */
  onRead(c: Connection, buf: Buffer): void {
    if (c.closed) return;
    c.last = Date.now();
    this.inRead = true;
    try {
      c.parser.parse(buf);
    } catch (err) {
      // A bug must cost one connection, never the server.
      this.logger.error(`${c} - Internal error processing input: ${(err as Error).stack ?? String(err)}`);
      c.close(ClosedReason.ProtocolViolation);
    }
    this.inRead = false;
    const consumer = this.flushAll(true);
    // A client publishing faster than a consumer (or route) drains waits, as nats-server stalls it.
    if (consumer !== null && consumer !== c && c instanceof Client) this.stall(c, consumer);
  }

  /**
   * Pause reading from `producer` until `consumer` drains or the stall times out (nats-server's
   * stalledWait), so a fast publisher slows down instead of pushing a consumer into slow-consumer cut-off.
   */
  private stall(producer: Client, consumer: Connection): void {
    if (producer.stalled || producer.closed) return;
    producer.stalled = true;
    producer.socket.pause();
    const resume = (): void => {
      if (!producer.stalled) return;
      producer.stalled = false;
      clearTimeout(timer);
      if (!producer.closed && !producer.parser.suspended) producer.socket.resume();
    };
    consumer.drainWaiters.push(resume);
    const timer = setTimeout(resume, stallDuration(consumer.sockPending, this.options.maxPending));
  }

  /** Mark a client as having output to write at the end of this batch. */
  queueFlush(c: Connection): void {
    if (c.flushQueued) return;
    c.flushQueued = true;
    this.flushList.push(c);
    if (!this.inRead && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushAllBound);
    }
  }

  /**
   * Flush every connection with queued output, once each. With `findStalled`, returns the connection
   * left holding the most unsent bytes if that is over half of max_pending (a reason to stall the producer).
   */
  private flushAll(findStalled = false): Connection | null {
    this.flushScheduled = false;
    const list = this.flushList;
    if (list.length === 0) return null;
    this.flushList = [];
    const half = this.options.maxPending / 2;
    let worst: Connection | null = null;
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      c.flush();
      if (
        findStalled &&
        c.sockPending > half &&
        !c.closed &&
        (worst === null || c.sockPending > worst.sockPending)
      ) {
        worst = c;
      }
    }
    return worst;
  }

  // ---- routing ---------------------------------------------------------------------------------------

  /**
   * Deliver a published message to every matching subscription of the producer's account (each plain
   * subscriber gets a copy, each queue group one copy to a random member) and through the account's
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
    let delivered = this.deliverInAccount(acc, producer, subject, reply, hdr, buf, start, size);
    if (acc.crossAccount)
      delivered += this.routeAcrossAccounts(acc, producer, subject, reply, hdr, buf, start, size);
    if (delivered > 0) {
      st.outMsgs += delivered;
      st.outBytes += delivered * size;
    }
    return delivered > 0;
  }

  /**
   * Delivery within one account; returns the number of copies delivered. Local clients get theirs at
   * once; routes with interest are collected and sent one RMSG each at the end. A queue group prefers a
   * local member and falls back to a route's. A message that came from a route (`fromRoute`) goes to
   * local clients only (full mesh, one hop), and to the queue groups the sender named (`routeQueues`).
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
    fromRoute = false,
    routeQueues: string[] | null = null,
  ): number {
    const r = acc.sublist.match(subject);
    let delivered = 0;
    let nRemote = 0;
    const psubs = r.psubs;
    for (let i = 0; i < psubs.length; i++) {
      const sub = psubs[i]!;
      const client = sub.client;
      if (client !== undefined) {
        if (client.deliver(producer, sub, subject, reply, hdr, buf, start, size)) delivered++;
      } else if (sub.internal !== undefined) {
        sub.internal(subject, reply, hdr, buf, start, size);
        delivered++;
      } else if (!fromRoute) {
        nRemote = this.addRemoteTarget(nRemote, sub.remote!, undefined);
      }
    }
    const qsubs = r.qsubs;
    for (let g = 0; g < qsubs.length; g++) {
      const group = qsubs[g]!;
      if (fromRoute && (routeQueues === null || !routeQueues.includes(group[0]!.queue!))) continue;
      const n = group.length;
      const first = n === 1 ? 0 : Math.floor(Math.random() * n);
      let fallback: Subscription | undefined;
      let done = false;
      for (let k = 0; k < n; k++) {
        const sub = group[(first + k) % n]!;
        const client = sub.client;
        if (client === undefined) {
          if (fallback === undefined) fallback = sub;
          continue;
        }
        if (client.deliver(producer, sub, subject, reply, hdr, buf, start, size)) {
          delivered++;
          done = true;
          break;
        }
      }
      if (!done && fallback !== undefined && !fromRoute) {
        nRemote = this.addRemoteTarget(nRemote, fallback.remote!, fallback.queue);
      }
    }
    if (nRemote > 0) {
      const targets = this.remoteTargets;
      for (let i = 0; i < nRemote; i++) {
        const t = targets[i]!;
        t.link.sendMsg(
          acc.name,
          subject,
          reply,
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

  /** Exporting accounts whose mapped replies (`_R_.>`) this server listens for. */
  private readonly responseListeners = new Set<Account>();

  /**
   * Responses to a service import come back on a mapped reply subject in the exporting account, from a
   * local responder or, through a route, from a responder on another server: an internal `_R_.>`
   * subscription (whose interest reaches the routes) catches both and hands each to the requester's
   * account. Delivery is deferred to a microtask because routing is not re-entrant.
   */
  private listenForResponses(acc: Account): void {
    if (this.responseListeners.has(acc)) return;
    this.responseListeners.add(acc);
    this.subscribeInternal(acc, `${RESPONSE_PREFIX}>`, (subject, reply, hdr, buf, start, size) => {
      const back = acc.takeResponse(subject);
      if (back === undefined) return;
      const data = Buffer.from(buf.subarray(start, start + size));
      queueMicrotask(() => {
        const n = this.deliverInAccount(back.account, null, back.reply, reply, hdr, data, 0, size);
        if (n > 0) {
          this.stats.outMsgs += n;
          this.stats.outBytes += n * size;
        }
      });
    });
  }

  /** Reused per message: the routes to send to and the queue groups for each. */
  private readonly remoteTargets: { link: RemoteLink; queues: string[] }[] = [];

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
    }
    if (queue !== undefined) t.queues.push(queue);
    return n + 1;
  }

  /** Responses to mapped replies, stream exports to importers and service imports to exporters. */
  private routeAcrossAccounts(
    acc: Account,
    producer: Client | null,
    subject: string,
    reply: string,
    hdr: number,
    buf: Buffer,
    start: number,
    size: number,
  ): number {
    let delivered = 0;
    for (const imp of acc.streamImporters) {
      if (matchesImport(subject, imp.subject)) {
        const to = importedSubject(imp, subject);
        delivered += this.deliverInAccount(imp.importer, producer, to, reply, hdr, buf, start, size);
      }
    }
    for (const imp of acc.serviceImports) {
      if (matchesImport(subject, imp.local)) {
        let mappedReply = '';
        if (reply !== '') {
          mappedReply = imp.exporter.mapResponse(acc, reply, imp.singleton);
          this.listenForResponses(imp.exporter);
        }
        const to = serviceSubject(imp, subject);
        delivered += this.deliverInAccount(imp.exporter, producer, to, mappedReply, hdr, buf, start, size);
      }
    }
    return delivered;
  }

  // ---- in-process subscribers and publishers (JetStream) ------------------------------------------------

  private internalSid = 0;

  /** Subscribe an in-process handler in an account; its interest reaches routes like a client's. */
  subscribeInternal(acc: Account, subject: string, handler: InternalHandler): Subscription {
    const sub = new Subscription(
      undefined,
      subject,
      undefined,
      `$I${++this.internalSid}`,
      undefined,
      handler,
    );
    acc.sublist.insert(sub);
    acc.internalSubs++;
    this.cluster?.localInterestChanged(acc, sub, 1);
    return sub;
  }

  unsubscribeInternal(acc: Account, sub: Subscription): void {
    if (sub.closed) return;
    sub.closed = true;
    if (acc.sublist.remove(sub)) acc.internalSubs--;
    this.cluster?.localInterestChanged(acc, sub, -1);
  }

  /**
   * Publish from inside the server (API responses, acknowledgements, stored messages to consumers):
   * routed like a client's message. `hdr` is a NATS/1.0 header block or null. Returns whether anyone got it.
   */
  publishInternal(acc: Account, subject: string, reply: string, hdr: Buffer | null, data: Buffer): boolean {
    const hdrLen = hdr !== null && hdr.length > 0 ? hdr.length : -1;
    const buf = hdrLen > 0 ? Buffer.concat([hdr!, data]) : data;
    const size = buf.length;
    const st = this.stats;
    let delivered = this.deliverInAccount(acc, null, subject, reply, hdrLen, buf, 0, size);
    if (acc.crossAccount)
      delivered += this.routeAcrossAccounts(acc, null, subject, reply, hdrLen, buf, 0, size);
    if (delivered > 0) {
      st.outMsgs += delivered;
      st.outBytes += delivered * size;
    }
    return delivered > 0;
  }

  // ---- hooks for clients (clustering and monitoring build on these) ---------------------------------------

  onClientConnected(c: Client): void {
    this.logger.debug(
      `${c} - Client connected: name="${c.opts.name}" lang="${c.opts.lang}" version="${c.opts.version}"`,
    );
  }

  onClientPing(c: Client): void {
    this.cluster?.onClientPing(c);
  }

  onSubscribe(c: Client, sub: Subscription): void {
    this.cluster?.localInterestChanged(c.account, sub, 1);
  }

  onUnsubscribe(c: Client, sub: Subscription): void {
    this.cluster?.localInterestChanged(c.account, sub, -1);
  }

  removeClient(c: Client, reason: ClosedReason): void {
    if (!this.clients.delete(c.cid)) return;
    const ring = this.closedClients;
    ring.push(c);
    if (ring.length > this.options.maxClosedClients)
      ring.splice(0, ring.length - this.options.maxClosedClients);
    this.logger.debug(`${c} - Client connection closed: ${reason}`);
  }

  /** Close clients whose socket stayed blocked past write_deadline (slow consumers). */
  private sweep(): void {
    const deadline = this.options.writeDeadline;
    const now = Date.now();
    for (const a of this.accounts.values()) a.pruneResponses(now);
    for (const c of this.clients.values()) {
      if (c.blockedSince !== 0 && now - c.blockedSince > deadline) {
        c.slowConsumer(ClosedReason.SlowConsumerWriteDeadline);
      }
    }
  }

  /** Number of subscriptions across all accounts. */
  numSubscriptions(): number {
    let n = 0;
    for (const a of this.accounts.values()) n += a.sublist.count() - a.internalSubs;
    return n;
  }

  lookupAccount(name: string): Account | undefined {
    return this.accounts.get(name);
  }

  private listenerClosed: Promise<void> | undefined;
  /** Every accepted socket until it is fully closed (closed clients may still be finishing). */
  private readonly openSockets = new Set<Socket>();

  /** Close the client listener once; resolves when it and its connections are closed. */
  private closeListener(): Promise<void> {
    if (this.listenerClosed === undefined) {
      const l = this.listener;
      this.listenerClosed = l ? new Promise<void>((resolve) => l.close(() => resolve())) : Promise.resolve();
    }
    return this.listenerClosed;
  }

  /**
   * Apply a new configuration without dropping connections: limits, logging, users and permissions
   * (clients are checked again). Throws ReloadError for options that cannot change while running.
   */
  async reload(config: ServerConfig): Promise<void> {
    await reloadServer(this, config, this.authorization);
    this.authorization = authorizationOf(config);
  }

  /** Whether the server is in lame duck mode. */
  get lameDuckMode(): boolean {
    return this.ldm;
  }

  /**
   * Lame duck mode (SIGUSR2): stop accepting clients, tell the connected ones with an INFO carrying
   * `"ldm": true` (so they can move to another server), wait `lame_duck_grace_period`, then close them
   * spread over the rest of `lame_duck_duration`, and shut down. As nats-server's lameDuckMode.
   */
  async lameDuck(): Promise<void> {
    if (this.ldm || this.shuttingDown) return;
    this.ldm = true;
    const log = this.logger;
    log.notice('Entering lame duck mode, stop accepting new clients');
    await this.readyPromise.catch(() => {});
    // Stop accepting now; the close completes once the remaining clients are gone.
    void this.closeListener();
    if (this.clients.size === 0) return this.shutdown();
    const o = this.options;
    const grace = Math.abs(o.lameDuckGracePeriod);
    let dur = o.lameDuckDuration - grace;
    if (dur <= 0) dur = 1000;
    const clients = [...this.clients.values()];
    const n = clients.length;
    let interval = dur / n;
    let batch = 1;
    if (interval < 1) {
      interval = 1;
      batch = Math.floor(n / dur);
    } else if (interval > 1000) {
      interval = 1000;
    }
    // Routes first (INFO with "ldm"), so that client INFO lists only the other servers.
    this.cluster?.enterLameDuck();
    for (const c of clients) {
      if (c.connectReceived && c.opts.protocol >= 1) c.sendInfo(this.infoFor(c, true));
    }
    this.flushAll();
    await sleep(grace);
    if (this.shuttingDown) return;
    log.notice('Closing existing clients');
    for (let i = 0; i < n; i++) {
      clients[i]!.close(ClosedReason.ServerShutdown);
      if (i === n - 1) break;
      if (batch === 1 || i % batch === 0) {
        await sleep(Math.max(interval / 2, Math.random() * interval));
        if (this.shuttingDown) return;
      }
    }
    await this.shutdown();
  }

  /** Stop listening, flush and close every client. Resolves when done; safe to call twice. */
  shutdown(): Promise<void> {
    if (this.shutdownPromise) return this.shutdownPromise;
    this.shuttingDown = true;
    this.shutdownPromise = (async () => {
      this.logger.notice('Initiating Shutdown...');
      await this.readyPromise.catch(() => {});
      this.sysRequests?.stop();
      await this.monitor?.stop();
      const routesClosed = this.cluster?.shutdown();
      if (this.sweepTimer) clearInterval(this.sweepTimer);
      for (const [sig, h] of this.signalHandlers) process.off(sig, h);
      const closed = this.closeListener();
      this.flushAll();
      for (const c of [...this.clients.values()]) c.close(ClosedReason.ServerShutdown);
      const sockets = [...this.openSockets];
      // Give each socket a moment to send what was flushed, then make sure it is gone.
      await Promise.all(
        sockets.map(
          (s) =>
            new Promise<void>((resolve) => {
              if (s.destroyed) return resolve();
              const t = setTimeout(() => {
                s.destroy();
                resolve();
              }, 500);
              s.once('close', () => {
                clearTimeout(t);
                resolve();
              });
            }),
        ),
      );
      await closed;
      // Clients are gone: no more messages for the streams; flush and close their stores.
      this.jetstream?.stop();
      await routesClosed;
      if (this.portsFile !== '') tryUnlink(this.portsFile);
      if (this.options.pidFile !== '') tryUnlink(this.options.pidFile);
      this.logger.notice('Server Exiting..');
    })();
    return this.shutdownPromise;
  }
}

/** Placeholder for an unused remote-target slot. */
const NO_LINK: RemoteLink = { sendMsg: () => {} };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

/** host:port with IPv6 hosts bracketed. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
