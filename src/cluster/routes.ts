/**
 * The cluster: route listener, solicited routes with retry, the registry of routes by remote server id
 * (duplicate resolution), gossip of new routes, local interest sent as RS+/RS- (refcounted per account),
 * and the client URLs of the cluster (`connect_urls`). Follows nats-server 2.9's server/route.go.
 *
 * Invariants:
 * - `remotes` maps a remote server id to the one route that carries its traffic; every other connection to
 *   the same server is closed as a duplicate. `routes` holds the same routes by rid.
 * - `interest[account][key]` counts the local client subscriptions behind each RS+ we sent, key being
 *   `subject` or `subject queue`. Plain interest is announced on 0 -> 1 and withdrawn on 1 -> 0; a queue
 *   group's RS+ carries its weight (the member count) and is re-sent whenever the count changes.
 * - Messages from a route are never sent to another route (full mesh, one hop); see Server.deliverInAccount.
 */
import { createServer, isIP, type Server as NetServer, connect as netConnect, type Socket } from 'node:net';
import type { SecureContext, TLSSocket } from 'node:tls';
import { secretMatches } from '../auth/authenticator.js';
import { ClientPermissions } from '../auth/permissions.js';
import type { Account } from '../server/account.js';
import { ClosedReason } from '../server/closed-reason.js';
import type { ClusterView, ServerCore } from '../server/core.js';
import type { InterestObserver } from '../server/delivery.js';
import type { ClusterOptions } from '../server/options.js';
import { RemoteKind, type Subscription } from '../server/subscription.js';
import { VERSION } from '../server/version.js';
import { listenerUrls, plainIp, splitHostPort } from '../transport/addresses.js';
import { buildSecureContext } from '../transport/tls.js';
import { nodeTls } from '../util/builtin.js';
import { nuid } from '../util/nuid.js';
import { ConnectUrls } from './connect-urls.js';
import { Route, type RouteInfoProto, routeNonce } from './route.js';
import { hostOfUrl, joinHostPort, parseRouteUrl, urlHostPort } from './url.js';

/** nats-server's DEFAULT_ROUTE_CONNECT: wait between attempts to connect a route. */
export const DEFAULT_ROUTE_CONNECT = 1000;
/** nats-server's DEFAULT_ROUTE_RECONNECT: wait before reconnecting a lost configured route. */
export const DEFAULT_ROUTE_RECONNECT = 1000;
/** nats-server's DEFAULT_ROUTE_DIAL: TCP connect timeout. */
export const DEFAULT_ROUTE_DIAL = 1000;
/** nats-server's connectErrorReports: while first connecting, log every Nth failure as an error. */

/** One route as /routez shows it (nats-server's RouteInfo), raw values for the monitor to format. */
export interface RouteStatus {
  rid: number;
  remoteId: string;
  remoteName: string;
  didSolicit: boolean;
  isConfigured: boolean;
  /** Remote address of the connection. */
  ip: string;
  port: number;
  start: Date;
  lastActivity: Date;
  /** Round-trip time of the last PING, ms (0 until measured). */
  rtt: number;
  /** Bytes queued and not yet written to the socket. */
  pendingSize: number;
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
  /** Number of remote interests (RS+) this route holds. */
  subscriptions: number;
  /** Their subjects, with `subs`. */
  subscriptionsList?: string[];
  /** Each interest in full, with `subsDetail`. */
  subscriptionsDetail?: RouteSubDetail[];
}

export interface RouteSubDetail {
  account: string;
  subject: string;
  queue?: string;
  /** The route's key for the interest (`account subject[ queue]`), nats-server's sid for remote subs. */
  sid: string;
  /** Queue weight: members of the group on the remote server. */
  qweight: number;
}

/** A free-form JSON object (INFO fields). */
type Json = Record<string, unknown>;

/** A coalesced interest change (see interestChanged). */
interface PendingInterest {
  account: string;
  subject: string;
  queue: string | undefined;
  /** What the routes were last told: 0 = no interest, else the count (a queue group's weight). */
  heard: number;
}

export class RouteManager implements ClusterView, InterestObserver {
  readonly options: ClusterOptions;
  /** Registered routes, by rid. */
  readonly routes = new Map<number, Route>();
  /** The port the route listener is bound to (known after start()). */
  port = 0;
  /** The cluster name: configured, generated, or adopted from a peer (see dynamicName). */
  clusterName: string;
  /** The name was generated and may give way to a peer's (nats-server's isClusterNameDynamic). */
  dynamicName: boolean;
  private readonly remotes = new Map<string, Route>();
  /** Connections that have not (yet) registered: handshaking, or about to close as duplicates. */
  private readonly handshaking = new Set<Route>();
  private listener: NetServer | undefined;
  private nextRid = 1;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly dialing = new Set<Socket>();
  /** host:port (lower case) of every configured route, for routeStillValid/hasThisRouteConfigured. */
  private readonly configured = new Set<string>();
  private readonly configuredUrls: URL[] = [];
  private readonly interest = new Map<string, Map<string, number>>();
  /** Interest changes not yet sent, by `<account> <key>`, with the count the routes last heard. */
  private readonly pendingInterest = new Map<string, PendingInterest>();
  private interestFlushQueued = false;
  /** The cluster's URLs for TCP clients and for websocket clients (INFO `connect_urls`). */
  private readonly clientURLs = new ConnectUrls();
  private readonly wsURLs = new ConnectUrls();
  /**
   * The cluster's leaf node URLs (route INFO `leafnode_urls`): ours, set by the composition root unless
   * the leafnodes block says `no_advertise`, and the other servers'.
   */
  private readonly leafURLs = new ConnectUrls();
  /** Told the other servers' leaf URLs when they change (the leaf node module tells its leafs). */
  onLeafUrlsChanged: ((urls: string[]) => void) | undefined;
  private lastCURLsUpdate = 0;
  private ldm = false;
  private readonly routeListeners: ((info: RouteInfoProto) => void)[] = [];
  /** Route listener address as advertised (`cluster_advertise`), '' when not set. */
  private advertiseHost = '';
  private advertisePort = 0;
  /** Route TLS (`cluster { tls {} }`): both sides verify each other's certificate, as nats-server forces. */
  private readonly tlsContext: SecureContext | undefined;
  /** Route permissions as a user's (nats-server's setRoutePermissions): import = publish, export = subscribe. */
  private readonly perms: ClientPermissions | undefined;

  constructor(
    readonly server: ServerCore,
    options: ClusterOptions,
  ) {
    this.options = options;
    this.dynamicName = options.name === '';
    this.clusterName = options.name !== '' ? options.name : nuid();
    for (const r of options.routes) {
      const u = parseRouteUrl(r);
      this.configuredUrls.push(u);
      this.configured.add(urlHostPort(u));
    }
    this.tlsContext = options.tls !== undefined ? buildSecureContext(options.tls) : undefined;
    const rp = options.permissions;
    this.perms =
      rp !== undefined ? new ClientPermissions({ publish: rp.import, subscribe: rp.export }) : undefined;
    if (options.advertise !== '') {
      const [h, p] = splitHostPort(options.advertise, options.port);
      this.advertiseHost = h;
      this.advertisePort = p;
    }
  }

  /** Whether peers must authenticate (`cluster { authorization { user, password } }`). */
  get authRequired(): boolean {
    return this.options.user !== '';
  }

  /** Open the route listener and start soliciting the configured routes. */
  async start(): Promise<void> {
    const log = this.server.logger;
    const o = this.options;
    log.notice(`Cluster name is ${this.clusterName}`);
    if (this.dynamicName) log.warn('Cluster name was dynamically generated, consider setting one');
    const listener = createServer({ noDelay: true }, (socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen({ host: o.host, port: o.port < 0 ? 0 : o.port, backlog: 1024 }, () => {
        listener.off('error', reject);
        resolve();
      });
    });
    this.listener = listener;
    listener.on('error', (err) => log.error(`Route listener error: ${err.message}`));
    const addr = listener.address();
    this.port = typeof addr === 'object' && addr !== null ? addr.port : o.port;
    if (this.advertiseHost !== '' && this.advertisePort === 0) this.advertisePort = this.port;
    log.notice(`Listening for route connections on ${joinHostPort(o.host, this.port)}`);
    const so = this.server.options;
    this.clientURLs.own = this.ownURLs(so.clientAdvertise, so.host, this.server.port);
    const ws = so.websocket;
    if (ws !== undefined) this.wsURLs.own = this.ownURLs(ws.advertise, ws.host, this.server.websocketPort);
    for (const u of this.configuredUrls) this.connectToRoute(u, true, true);
  }

  // ---- connections -------------------------------------------------------------------------------------

  private accept(socket: Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    if (this.tlsContext === undefined) {
      this.createRoute(socket, undefined);
      return;
    }
    // Routes start TLS at once (no plain INFO first, unlike clients).
    const t = new (nodeTls().TLSSocket)(socket, {
      isServer: true,
      secureContext: this.tlsContext,
      requestCert: true,
      rejectUnauthorized: true,
    });
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    this.handshake(
      t,
      socket,
      () => this.createRoute(t, undefined),
      (err) => this.server.logger.error(`${peer} - TLS route handshake error: ${err}`),
    );
  }

  /** Wait for a TLS handshake, within the cluster's TLS timeout. */
  private handshake(t: TLSSocket, raw: Socket, ok: () => void, fail: (err: string) => void): void {
    let done = false;
    const finish = (err: string | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.dialing.delete(raw);
      t.off('error', onError);
      if (err === undefined && !this.stopping) {
        ok();
        return;
      }
      t.destroy();
      raw.destroy();
      if (err !== undefined) fail(err);
    };
    const onError = (e: Error): void => finish(e.message);
    const timer = setTimeout(() => finish('TLS handshake timeout'), this.options.tls?.timeout ?? 2000);
    timer.unref();
    this.dialing.add(raw);
    t.once('secure', () => finish(undefined));
    t.once('secureConnect', () => finish(undefined));
    t.on('error', onError);
    t.once('close', () => finish('connection closed during TLS handshake'));
  }

  private createRoute(socket: Socket, url: URL | undefined): void {
    const isConfigured = url !== undefined && this.configured.has(urlHostPort(url));
    const r = new Route(
      this,
      socket,
      socket.remoteAddress ?? '',
      socket.remotePort ?? 0,
      this.nextRid++,
      url !== undefined,
      isConfigured,
      url,
    );
    this.handshaking.add(r);
    r.attach();
    this.server.logger.notice(`${r} - Route connection created`);
  }

  /**
   * Dial `url` (nats-server's connectToRoute): configured routes are tried forever, implicit ones
   * `connect_retries` more times, DEFAULT_ROUTE_CONNECT apart.
   */
  private connectToRoute(url: URL, tryForever: boolean, firstConnect: boolean): void {
    const log = this.server.logger;
    let attempts = 0;
    const attempt = (): void => {
      if (this.stopping) return;
      if (tryForever && !this.configured.has(urlHostPort(url))) return;
      log.debug(`Trying to connect to route on ${url.host}`);
      const sock = netConnect({ host: hostOfUrl(url), port: Number(url.port), noDelay: true });
      this.dialing.add(sock);
      const timer = setTimeout(() => sock.destroy(new Error('i/o timeout')), DEFAULT_ROUTE_DIAL);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        this.dialing.delete(sock);
        sock.destroy();
        if (this.stopping) return;
        attempts++;
        const msg = `Error trying to connect to route (attempt ${attempts}): ${err.message}`;
        // nats-server's shouldReportConnectErr.
        const o = this.server.options;
        const every = firstConnect ? o.connectErrorReports : o.reconnectErrorReports;
        const report = attempts === 1 || attempts % every === 0;
        if (report) log.error(msg);
        else log.debug(msg);
        if (!tryForever) {
          const retries = this.options.connectRetries;
          if (retries <= 0 || attempts > retries) return;
        }
        this.schedule(attempt, DEFAULT_ROUTE_CONNECT);
      };
      sock.once('error', onError);
      sock.once('connect', () => {
        clearTimeout(timer);
        this.dialing.delete(sock);
        sock.off('error', onError);
        if (this.stopping) {
          sock.destroy();
          return;
        }
        if (this.tlsContext === undefined) {
          this.createRoute(sock, url);
          return;
        }
        const host = hostOfUrl(url);
        const t = nodeTls().connect({
          socket: sock,
          secureContext: this.tlsContext,
          rejectUnauthorized: true,
          ...(isIP(host) === 0 ? { servername: host } : {}),
        });
        sock.on('error', () => {});
        this.handshake(
          t,
          sock,
          () => this.createRoute(t, url),
          (err) => onError(new Error(`TLS route handshake error: ${err}`)),
        );
      });
    };
    attempt();
  }

  private schedule(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  /**
   * A route got the peer's first INFO (nats-server's addRoute and the rest of processRouteInfo): register
   * it unless this server is already connected (then the newer connection is the duplicate), send our
   * interest, gossip it to the other routes and learn the peer's client URLs.
   */
  registerRoute(r: Route, info: RouteInfoProto): void {
    const log = this.server.logger;
    if (this.stopping) {
      r.noReconnect = true;
      r.close(ClosedReason.ServerShutdown);
      return;
    }
    const existing = this.remotes.get(r.remoteId);
    if (existing !== undefined) {
      // Keep the registered connection; if the duplicate was ours, the survivor takes over its URL so that
      // it is the one we reconnect. `retry` covers both sides keeping opposite connections (both close).
      if (r.didSolicit) {
        existing.didSolicit = true;
        existing.isConfigured = r.isConfigured;
        existing.url = r.url;
      }
      existing.retry = true;
      log.debug(`${r} - Detected duplicate remote route ${JSON.stringify(r.remoteId)}`);
      r.close(ClosedReason.DuplicateRoute);
      return;
    }
    this.handshaking.delete(r);
    this.routes.set(r.rid, r);
    this.remotes.set(r.remoteId, r);
    r.registered = true;
    r.connectURLs = info.connect_urls;
    r.wsConnectURLs = info.ws_connect_urls;
    r.leafURLs = info.leafnode_urls;
    if (this.leafURLs.add(info.leafnode_urls)) this.onLeafUrlsChanged?.(this.leafURLs.others());
    log.debug(`${r} - Registering remote route ${JSON.stringify(r.remoteId)}`);
    this.sendSubsToRoute(r);
    if (this.routes.size > 1) {
      // Tell the others about the newcomer so that they connect to it (the mesh fills itself).
      const ip = info.ip !== '' ? info.ip : `nats-route://${joinHostPort(plainIp(r.host), info.port)}/`;
      this.forwardNewRouteInfo(info, ip);
    }
    if (!this.options.noAdvertise) this.addConnectURLs(info.connect_urls, info.ws_connect_urls);
    for (const l of this.routeListeners) l(info);
  }

  /** Called with the INFO of each route that registers (clustered JetStream learns its peers from it). */
  onRouteRegistered(listener: (info: RouteInfoProto) => void): void {
    this.routeListeners.push(listener);
  }

  /** nats-server's forwardNewRouteInfoToKnownServers. */
  private forwardNewRouteInfo(info: RouteInfoProto, ip: string): void {
    const raw: Json = { ...info.raw, ip };
    delete raw.nonce;
    const line = `INFO ${JSON.stringify(raw)}\r\n`;
    for (const r of this.routes.values()) {
      if (r.remoteId !== info.server_id) r.enqueueProto(line);
    }
  }

  /** Gossip about a server we may not know (nats-server's processImplicitRoute). */
  processImplicitRoute(info: RouteInfoProto): void {
    const id = info.server_id;
    if (id === this.server.id || this.remotes.has(id) || this.stopping) return;
    if (this.configured.has(`${info.host}:${info.port}`.toLowerCase())) return;
    let url: URL;
    try {
      url = new URL(info.ip);
    } catch {
      this.server.logger.error(`Error parsing URL from INFO: ${JSON.stringify(info.ip)}`);
      return;
    }
    if (info.auth_required) {
      url.username = encodeURIComponent(this.options.user);
      url.password = encodeURIComponent(this.options.password);
    }
    this.connectToRoute(url, false, true);
  }

  /** A route closed (Route.close): unregister it, drop its client URLs, reconnect if we should. */
  routeClosed(r: Route): void {
    this.handshaking.delete(r);
    if (r.registered) {
      this.routes.delete(r.rid);
      if (this.remotes.get(r.remoteId) === r) this.remotes.delete(r.remoteId);
      this.dropConnectURLs(r);
    }
    this.reconnect(r);
  }

  /** nats-server's client.reconnect for routes. */
  private reconnect(r: Route): void {
    if (this.stopping || r.noReconnect) return;
    const retryImplicit = r.retry || (r.didSolicit && !r.isConfigured);
    if (!r.didSolicit && !retryImplicit) return;
    const log = this.server.logger;
    const url = r.url;
    if (url === undefined) return;
    if (r.remoteId !== '' && this.remotes.has(r.remoteId)) {
      log.debug(
        `Not attempting reconnect for solicited route, already connected to ${JSON.stringify(r.remoteId)}`,
      );
      return;
    }
    if (r.remoteId === this.server.id) {
      log.debug(`Detected route to self, ignoring ${JSON.stringify(redacted(url))}`);
      return;
    }
    if (!r.isConfigured && !retryImplicit) return;
    log.debug(`Attempting reconnect for solicited route ${JSON.stringify(redacted(url))}`);
    // Random delay: two servers that each kept the other's connection both lost it; do not collide again.
    const explicit = r.isConfigured;
    const delay = Math.floor(Math.random() * 100) + (explicit ? DEFAULT_ROUTE_RECONNECT : 0);
    this.schedule(() => this.connectToRoute(url, explicit, false), delay);
  }

  /** Close every registered route but `keep` (our cluster name changed). */
  removeAllRoutesExcept(keep: Route): void {
    for (const r of [...this.routes.values()]) if (r !== keep) r.close(ClosedReason.ClusterNameConflict);
  }

  setClusterName(name: string, configured: boolean): void {
    this.clusterName = name;
    if (configured) this.dynamicName = false;
  }

  /** Route authorization: the cluster's user and password (plain, or bcrypt compared asynchronously). */
  async checkAuth(user: string, pass: string): Promise<boolean> {
    const o = this.options;
    return user === o.user && secretMatches(pass, o.password);
  }

  // ---- protocol lines ------------------------------------------------------------------------------------

  /** Our route INFO (nats-server's routeInfo). The initial one carries a nonce; `ldm` announces lame duck. */
  routeInfoProto(nonce: boolean, ldm = false): string {
    const o = this.options;
    const srv = this.server;
    const adv = this.advertiseHost !== '';
    const info: Json = {
      server_id: srv.id,
      server_name: srv.name,
      version: VERSION,
      proto: 2,
      go: `node${process.versions.node}`,
      host: adv ? this.advertiseHost : o.host,
      port: adv ? this.advertisePort : this.port,
      headers: true,
    };
    if (this.authRequired) info.auth_required = true;
    if (o.tls !== undefined) {
      info.tls_required = true;
      info.tls_verify = true;
    }
    info.max_payload = srv.options.maxPayload;
    if (adv) info.ip = `nats-route://${joinHostPort(this.advertiseHost, this.advertisePort)}/`;
    if (nonce) info.nonce = routeNonce();
    info.cluster = this.clusterName;
    if (this.dynamicName) info.cluster_dynamic = true;
    if (!o.noAdvertise && this.clientURLs.own.length > 0) info.connect_urls = this.clientURLs.own;
    if (!o.noAdvertise && this.wsURLs.own.length > 0) info.ws_connect_urls = this.wsURLs.own;
    if (this.leafURLs.own.length > 0) info.leafnode_urls = this.leafURLs.own;
    // Go servers count a peer as a JetStream server from this flag (clustered JetStream sizing).
    if (srv.jetstreamEnabled) info.jetstream = true;
    if (o.permissions?.import !== undefined) info.import = o.permissions.import;
    if (o.permissions?.export !== undefined) info.export = o.permissions.export;
    if (ldm) info.ldm = true;
    info.lnoc = true;
    return `INFO ${JSON.stringify(info)} \r\n`;
  }

  /** The CONNECT a soliciting server sends (nats-server's sendRouteConnect). */
  connectProto(url: URL | undefined): string {
    const c: Json = { echo: true, verbose: false, pedantic: false };
    if (url !== undefined && url.username !== '') {
      c.user = decodeURIComponent(url.username);
      if (url.password !== '') c.pass = decodeURIComponent(url.password);
    }
    c.tls_required = this.options.tls !== undefined;
    c.headers = true;
    c.name = this.server.id;
    c.cluster = this.clusterName;
    if (this.dynamicName) c.cluster_dynamic = true;
    c.lnoc = true;
    return `CONNECT ${JSON.stringify(c)}\r\n`;
  }

  // ---- interest --------------------------------------------------------------------------------------------

  /** Whether local interest in `subject` goes to the routes (nats-server's canImport). */
  canImport(subject: string): boolean {
    return this.perms === undefined || this.perms.canPublish(subject);
  }

  /** Whether a route's interest in `subject` is accepted (nats-server's canExport). */
  canExport(subject: string): boolean {
    return this.perms === undefined || this.perms.canSubscribe(subject, undefined);
  }

  /**
   * Interest in `acc` changed: update the account's count and tell every route when the interest
   * appears, disappears, or a queue group's weight changes (nats-server's updateRouteSubscriptionMap).
   * Only this server's interest counts: its clients, in-process subscribers and the leaf nodes it is the
   * hub of; a route's own interest came from that route, a spoke's leaf interest stays in its cluster.
   *
   * The RS+/RS- lines are coalesced: a change is noted with the count the routes last heard, and the lines
   * go out once the current batch of work is done (a microtask), or before the next RMSG to a route, so that
   * a SUB and its UNSUB in one read send nothing, and a queue group that grows by a hundred members sends
   * one RS+. Sending before any RMSG keeps the order a request needs: the RS+ for its reply subject reaches
   * the peers before the request does.
   */
  interestChanged(acc: Account, sub: Subscription, delta: number): void {
    const link = sub.remote;
    if (link !== undefined && (link.linkKind === RemoteKind.ROUTE || link.spoke)) return;
    let m = this.interest.get(acc.name);
    if (m === undefined) {
      m = new Map();
      this.interest.set(acc.name, m);
    }
    const queue = sub.queue;
    const key = queue === undefined ? sub.subject : `${sub.subject} ${queue}`;
    const prev = m.get(key);
    let n: number;
    if (prev !== undefined) {
      n = prev + delta;
      if (n <= 0) {
        n = 0;
        m.delete(key);
      } else {
        m.set(key, n);
        if (queue === undefined) return;
      }
    } else if (delta > 0) {
      n = delta;
      m.set(key, n);
    } else {
      return;
    }
    if (this.routes.size === 0 || !this.canImport(sub.subject)) return;
    const pendingKey = `${acc.name} ${key}`;
    if (!this.pendingInterest.has(pendingKey)) {
      this.pendingInterest.set(pendingKey, {
        account: acc.name,
        subject: sub.subject,
        queue,
        heard: prev ?? 0,
      });
      if (!this.interestFlushQueued) {
        this.interestFlushQueued = true;
        queueMicrotask(this.flushInterestTask);
      }
    }
  }

  /** Whether RS+/RS- lines are waiting (a route checks before it queues an RMSG). */
  get interestPending(): boolean {
    return this.pendingInterest.size > 0;
  }

  private readonly flushInterestTask = (): void => {
    this.interestFlushQueued = false;
    this.flushInterest();
  };

  /** Send the coalesced RS+/RS- lines: each key's current count against the one the routes last heard. */
  flushInterest(): void {
    if (this.pendingInterest.size === 0) return;
    const lines: string[] = [];
    for (const p of this.pendingInterest.values()) {
      const key = p.queue === undefined ? p.subject : `${p.subject} ${p.queue}`;
      const n = this.interest.get(p.account)?.get(key) ?? 0;
      if (n === p.heard) continue;
      if (n === 0) lines.push(`RS- ${p.account} ${key}`);
      else if (p.queue === undefined) {
        if (p.heard === 0) lines.push(`RS+ ${p.account} ${key}`);
      } else lines.push(`RS+ ${p.account} ${key} ${n}`);
    }
    this.pendingInterest.clear();
    if (lines.length === 0) return;
    const proto = `${lines.join('\r\n')}\r\n`;
    const trace = this.server.logger.traceEnabled;
    for (const r of this.routes.values()) {
      if (trace) for (const line of lines) this.server.logger.trace(`${r} - ->> [${line}]`);
      r.enqueueProto(proto);
    }
  }

  /** All local interest as RS+, to a route that just registered (nats-server's sendSubsToRoute). */
  private sendSubsToRoute(r: Route): void {
    // The other routes first hear what is pending; this one gets the current counts below.
    this.flushInterest();
    const parts: string[] = [];
    for (const [acc, m] of this.interest) {
      for (const [key, n] of m) {
        const sp = key.indexOf(' ');
        if (!this.canImport(sp < 0 ? key : key.slice(0, sp))) continue;
        parts.push(sp < 0 ? `RS+ ${acc} ${key}\r\n` : `RS+ ${acc} ${key} ${n}\r\n`);
      }
    }
    if (parts.length > 0) r.enqueueProto(parts.join(''));
    this.server.logger.debug(`${r} - Sent local subscriptions to route`);
  }

  // ---- client URLs (connect_urls) and async INFO -----------------------------------------------------

  /**
   * `connect_urls` for client INFO (websocket clients get the websocket URLs): this server's and the
   * other servers' — once the cluster's URLs have changed, never with `no_advertise`, and without our own
   * in lame duck mode.
   */
  clientConnectURLs(websocket: boolean): string[] | undefined {
    if (this.options.noAdvertise) return undefined;
    const set = websocket ? this.wsURLs : this.clientURLs;
    if (this.ldm) {
      const others = set.others();
      return others.length > 0 ? others : undefined;
    }
    if (!set.updated) return undefined;
    return set.all();
  }

  private addConnectURLs(urls: string[], wsUrls: string[]): void {
    const cli = this.clientURLs.add(urls);
    const ws = this.wsURLs.add(wsUrls);
    if (cli || ws) this.connectURLsChanged(cli, ws);
  }

  /** This server's leaf node URLs, given to the other servers in route INFO (before the routes start). */
  setLeafUrls(urls: string[]): void {
    this.leafURLs.own = urls;
  }

  /** A route's URLs are no longer offered (it closed or entered lame duck mode). */
  private dropConnectURLs(r: Route): void {
    if (this.leafURLs.remove(r.leafURLs)) this.onLeafUrlsChanged?.(this.leafURLs.others());
    r.leafURLs = [];
    if (!this.options.noAdvertise) {
      const cli = this.clientURLs.remove(r.connectURLs);
      const ws = this.wsURLs.remove(r.wsConnectURLs);
      if (cli || ws) this.connectURLsChanged(cli, ws);
    }
    r.connectURLs = [];
    r.wsConnectURLs = [];
  }

  private connectURLsChanged(cli: boolean, ws: boolean): void {
    this.lastCURLsUpdate = Date.now();
    this.sendAsyncInfoToClients(cli, ws);
  }

  /** INFO with the new connect_urls to clients that take async INFO (nats-server's sendAsyncInfoToClients). */
  private sendAsyncInfoToClients(cli: boolean, ws: boolean): void {
    if (this.stopping) return;
    for (const c of this.server.clients.values()) {
      if (!(c.ws !== undefined ? ws : cli)) continue;
      if (!c.closed && c.connectReceived && c.opts.protocol >= 1 && c.firstPongSent) {
        c.sendInfo(this.server.infoFor(c));
      }
    }
  }

  /** A client that connected before the latest topology change needs an INFO (nats-server's processPing). */
  connectURLsChangedSince(ms: number): boolean {
    return this.lastCURLsUpdate >= ms;
  }

  /** Lame duck mode: tell the routes (INFO with "ldm"), and stop advertising our own client URLs. */
  enterLameDuck(): void {
    this.ldm = true;
    const line = this.routeInfoProto(false, true);
    for (const r of this.routes.values()) r.enqueueProto(line);
  }

  /** A peer entered lame duck mode: its clients URLs are no longer offered to our clients. */
  remoteEnteredLameDuck(r: Route): void {
    this.dropConnectURLs(r);
  }

  /**
   * nats-server's getConnectURLs for a listener: the advertised address, the listen host, or every global
   * IP for 0.0.0.0.
   */
  private ownURLs(advertise: string, host: string, port: number): string[] {
    const urls = listenerUrls(advertise, host, port);
    if (urls.length === 0)
      this.server.logger.error(`Address ${JSON.stringify(host)} can not be resolved properly`);
    return urls;
  }

  // ---- monitoring --------------------------------------------------------------------------------------

  /** Number of registered routes (/varz `routes`). */
  numRoutes(): number {
    return this.routes.size;
  }

  /** The registered routes, by rid, for /routez (`subs` adds subject lists, `subsDetail` full entries). */
  routez(opts: { subs?: boolean; subsDetail?: boolean } = {}): RouteStatus[] {
    const list: RouteStatus[] = [];
    for (const r of this.routes.values()) {
      const st: RouteStatus = {
        rid: r.rid,
        remoteId: r.remoteId,
        remoteName: r.remoteName,
        didSolicit: r.didSolicit,
        isConfigured: r.isConfigured,
        ip: plainIp(r.host),
        port: r.port,
        start: r.start,
        lastActivity: new Date(r.last),
        rtt: r.rtt,
        pendingSize: r.out.len + r.socket.writableLength,
        inMsgs: r.inMsgs,
        outMsgs: r.outMsgs,
        inBytes: r.inBytes,
        outBytes: r.outBytes,
        subscriptions: r.subs.size,
      };
      if (r.subs.size > 0) {
        if (opts.subsDetail === true) {
          st.subscriptionsDetail = [...r.subs.values()].map(({ account, sub }) => ({
            account: account.name,
            subject: sub.subject,
            ...(sub.queue !== undefined ? { queue: sub.queue } : {}),
            sid: sub.sid,
            qweight: sub.qweight,
          }));
        } else if (opts.subs === true) {
          st.subscriptionsList = [...r.subs.values()].map(({ sub }) => sub.subject);
        }
      }
      list.push(st);
    }
    return list.sort((a, b) => a.rid - b.rid);
  }

  // ---- housekeeping ------------------------------------------------------------------------------------

  /** Stop listening and dialling, close every route. Resolves when the listener is closed. */
  shutdown(): Promise<void> {
    if (this.stopped !== undefined) return this.stopped;
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.dialing) s.destroy();
    this.dialing.clear();
    const l = this.listener;
    const closed =
      l !== undefined ? new Promise<void>((resolve) => l.close(() => resolve())) : Promise.resolve();
    for (const r of [...this.routes.values(), ...this.handshaking]) {
      r.noReconnect = true;
      r.close(ClosedReason.ServerShutdown);
    }
    this.stopped = closed;
    return closed;
  }
}

function redacted(u: URL): string {
  if (u.password === '') return u.href;
  const c = new URL(u.href);
  c.password = 'xxxxx';
  return c.href;
}
