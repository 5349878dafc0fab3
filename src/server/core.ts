/**
 * The server core: what every module of the server builds on, and all that it may see of the server.
 *
 * - identity and configuration: id, name, options, logger, start time, counters;
 * - accounts and authentication;
 * - the client listener and the registry of client connections (closed ones kept for /connz);
 * - the read loop and batched output of every connection (io.ts);
 * - delivery, in-process subscriptions and internal publishing (delivery.ts).
 *
 * Modules (cluster/, jetstream/, monitor/ and the system services) are built by the composition root
 * (server.ts) and given this core. The core knows them only through the small interfaces it declares
 * (ClusterView, InterestObserver), so nothing here imports a module.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContext, TLSSocket } from 'node:tls';
import { type AuthContext, Authenticator } from '../auth/authenticator.js';
import type { AuthorizationConfig } from '../auth/types.js';
import { SubjectMapper } from '../routing/mapping.js';
import { buildSecureContext, upgradeToTls } from '../transport/tls.js';
import { newServerId } from '../util/server-id.js';
import { Account, GLOBAL_ACCOUNT } from './account.js';
import { buildAccounts } from './account-config.js';
import { Client, type WebsocketInfo } from './client.js';
import type { ClientEventsObserver } from './client-events.js';
import { ClosedClient, ClosedClientRing } from './closed-client.js';
import { ClosedReason } from './closed-reason.js';
import type { Connection, ConnectionHost } from './connection.js';
import { Delivery } from './delivery.js';
import { IoLoop } from './io.js';
import { JwtAccounts } from './jwt-accounts.js';
import { Logger } from './logger.js';
import { authorizationOf, resolveOptions, type ServerConfig, type ServerOptions } from './options.js';

import { newServerStats, type ServerStats } from './stats.js';
import type { InternalHandler, Subscription } from './subscription.js';
import { TSNATS_VERSION, VERSION } from './version.js';

/** What the core needs from the cluster for client INFO and PONGs. */
export interface ClusterView {
  readonly clusterName: string;
  /**
   * `connect_urls` for client INFO (for websocket clients: the cluster's websocket URLs), undefined when
   * not to be sent.
   */
  clientConnectURLs(websocket: boolean): string[] | undefined;
  /** The client URLs changed at or after `ms` (since the epoch): a client connected then needs an INFO. */
  connectURLsChangedSince(ms: number): boolean;
}

/** What account updates need of a leaf connection (the leafnode module's Leaf). */
export interface LeafConnectionView {
  readonly start: Date;
  readonly closed: boolean;
  /** The user JWT it logged in with, '' when none. */
  readonly userJwt: string;
  sendErr(err: string): void;
  close(reason: ClosedReason): void;
}

export class ServerCore implements ConnectionHost {
  readonly options: ServerOptions;
  readonly logger: Logger;
  /** 56-character NKey server id, as nats-server generates. */
  readonly id: string;
  readonly name: string;
  readonly globalAccount: Account;
  /** Configured accounts by name, the global account included. */
  readonly accounts: Map<string, Account>;
  readonly auth: Authenticator;
  readonly stats: ServerStats = newServerStats();
  readonly startTime = new Date();
  /** When the configuration was last loaded: the start, then each successful reload (/varz). */
  configLoadTime: Date = this.startTime;
  readonly clients = new Map<number, Client>();
  /** Recently closed clients, oldest first, at most `maxClosedClients` (for /connz?state=closed). */
  readonly closedClients: ClosedClientRing;
  readonly io: IoLoop;
  readonly delivery: Delivery;
  /** The port the client listener is bound to (known after the listener started). */
  port = 0;
  /** Set by the composition root when clustering is on. */
  clusterView: ClusterView | undefined;
  /** Set by the composition root when JetStream is on (client INFO says `jetstream: true`). */
  jetstreamEnabled = false;
  /** The port the websocket listener is bound to, 0 when there is none (set by websocket/listener.ts). */
  websocketPort = 0;
  /** How websocket clients authenticate (their block's own user, token or no_auth_user, TLS map). */
  private readonly websocketAuth: AuthContext;
  /** The authorization in force (replaced on reload). */
  protected authorization: AuthorizationConfig;
  /** Operator mode: accounts made from account JWTs, kept in step with them. */
  readonly jwtAccounts: JwtAccounts | undefined;
  /** Told when an account's local connections change (account-conns.ts). */
  accountConnsObserver: ((acc: Account) => void) | undefined;
  /** Told when a client logs in to an account and when it leaves (client-events.ts). */
  clientEvents: ClientEventsObserver | undefined;
  /** How many leaf connections are bound to an account (set by the composition root). */
  leafCounter: ((acc: Account) => number) | undefined;
  /** The leaf connections bound to an account (set by the composition root). */
  leafLister: ((acc: Account) => LeafConnectionView[]) | undefined;
  /** No new clients are accepted (shutdown or lame duck mode). */
  protected accepting = true;
  /** Every accepted socket until it is fully closed (closed clients may still be finishing). */
  protected readonly openSockets = new Set<Socket>();
  private listener: NetServer | undefined;
  private listenerClosed: Promise<void> | undefined;
  private nextCid = 1;
  /** Certificates and keys, loaded once at start (and on reload). */
  private readonly tlsContext: SecureContext | undefined;

  constructor(config: ServerConfig) {
    this.options = resolveOptions(config);
    this.logger = new Logger(this.options);
    this.closedClients = new ClosedClientRing(this.options.maxClosedClients);
    this.id = newServerId();
    this.name = this.options.serverName !== '' ? this.options.serverName : this.id;
    const authz = authorizationOf(config);
    this.authorization = authz;
    this.auth = new Authenticator(authz, this.options.tls?.verifyAndMap ?? false);
    this.tlsContext = this.options.tls !== undefined ? buildSecureContext(this.options.tls) : undefined;
    const ws = this.options.websocket;
    this.websocketAuth = {
      connectionType: 'WEBSOCKET',
      override:
        ws !== undefined && (ws.user !== '' || ws.token !== '' || ws.noAuthUser !== '')
          ? { user: ws.user, password: ws.password, token: ws.token, noAuthUser: ws.noAuthUser }
          : undefined,
      verifyAndMap: ws?.tls?.verifyAndMap ?? false,
    };
    const trust = this.auth.operator;
    for (const w of trust?.warnings ?? []) this.logger.warn(w);
    this.auth.onReject = (reason) => this.logger.debug(`JWT authentication failed: ${reason}`);
    this.accounts = buildAccounts(authz.accounts, !this.options.noSublistCache);
    if (this.options.mappings.length > 0) {
      this.accounts.get(GLOBAL_ACCOUNT)!.mapper = new SubjectMapper(this.options.mappings);
    }
    this.globalAccount = this.accounts.get(GLOBAL_ACCOUNT)!;
    const sys = this.options.systemAccount;
    if (trust !== undefined) {
      // Operator mode: accounts named by their public keys, made from their JWTs when first needed; the
      // system account's at once, as nats-server looks it up at start.
      this.jwtAccounts = new JwtAccounts(this);
      if (!this.options.noSystemAccount) this.jwtAccounts.lookup(sys);
    }
    if (!this.options.noSystemAccount && !this.accounts.has(sys))
      this.accounts.set(sys, new Account(sys, !this.options.noSublistCache));
    this.io = new IoLoop(this.options, this.logger, (now) => {
      for (const a of this.accounts.values()) a.pruneResponses(now);
    });
    this.delivery = new Delivery(this.stats);
  }

  /** The authorization in force (users, accounts, single user or token). */
  get authorizationConfig(): AuthorizationConfig {
    return this.authorization;
  }

  /** A new connection id: clients and leaf nodes share one sequence, as in nats-server. */
  newConnectionId(): number {
    return this.nextCid++;
  }

  /** How a client authenticates: as a TCP client, or with the websocket block's settings. */
  authContext(c: Client): AuthContext {
    return c.ws !== undefined ? this.websocketAuth : STANDARD_AUTH;
  }

  /** The account named `name`; in operator mode one whose JWT the resolver has is made on demand. */
  lookupAccount(name: string): Account | undefined {
    const acc = this.accounts.get(name);
    if (acc !== undefined && acc.jwt !== undefined) return acc;
    return this.jwtAccounts !== undefined ? this.jwtAccounts.lookup(name) : acc;
  }

  /** A client or leaf joined or left `acc`. */
  accountConnsChanged(acc: Account): void {
    this.accountConnsObserver?.(acc);
  }

  /** Leaf connections bound to `acc`. */
  leafsOf(acc: Account): number {
    return this.leafCounter?.(acc) ?? 0;
  }

  leafConnections(acc: Account): LeafConnectionView[] {
    return this.leafLister?.(acc) ?? [];
  }

  /** The system account, unless there is none (`no_system_account`). */
  get systemAccount(): Account | undefined {
    return this.options.noSystemAccount ? undefined : this.accounts.get(this.options.systemAccount);
  }

  /** Number of subscriptions across all accounts (the server's own in-process ones left out). */
  numSubscriptions(): number {
    let n = 0;
    for (const a of this.accounts.values()) n += a.sublist.count() - a.internalSubs;
    return n;
  }

  // ---- ConnectionHost -----------------------------------------------------------------------------------

  onRead(c: Connection, buf: Buffer): void {
    this.io.onRead(c, buf);
  }

  interestTurn(c: Connection): boolean {
    return this.io.interestTurn(c);
  }

  queueFlush(c: Connection): void {
    this.io.queueFlush(c);
  }

  track(c: Connection, live: boolean): void {
    this.io.track(c, live);
  }

  // ---- in-process subscribers and publishers ------------------------------------------------------------

  /** Subscribe an in-process handler in an account (a queue member when `queue` is given). */
  subscribeInternal(acc: Account, subject: string, handler: InternalHandler, queue?: string): Subscription {
    return this.delivery.subscribeInternal(acc, subject, handler, queue);
  }

  unsubscribeInternal(acc: Account, sub: Subscription): void {
    this.delivery.unsubscribeInternal(acc, sub);
  }

  /**
   * Publish from inside the server, outside any delivery (delivery.ts, re-entrancy rule): routed like a
   * client's message. Returns whether anyone got it.
   */
  publishInternal(acc: Account, subject: string, reply: string, hdr: Buffer | null, data: Buffer): boolean {
    return this.delivery.publishInternal(acc, subject, reply, hdr, data) > 0;
  }

  // ---- the client listener ------------------------------------------------------------------------------

  /** Listen for clients on the configured host and port. */
  protected async listenForClients(): Promise<void> {
    const o = this.options;
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
    listener.on('error', (err) => this.logger.error(`Client listener error: ${err.message}`));
    const addr = listener.address();
    this.port = typeof addr === 'object' && addr !== null ? addr.port : port;
    this.logger.notice(`Listening for client connections on ${hostPort(o.host, this.port)}`);
  }

  /** Close the client listener once; resolves when it and its connections are closed. */
  protected closeListener(): Promise<void> {
    if (this.listenerClosed === undefined) {
      const l = this.listener;
      this.listenerClosed = l ? new Promise<void>((resolve) => l.close(() => resolve())) : Promise.resolve();
    }
    return this.listenerClosed;
  }

  private accept(socket: Socket): void {
    if (!this.accepting) {
      socket.destroy();
      return;
    }
    this.trackSocket(socket);
    const c = new Client(
      this,
      socket,
      this.newConnectionId(),
      socket.remoteAddress ?? '',
      socket.remotePort ?? 0,
    );
    if (!this.admit(c)) return;
    const authRequired = this.auth.required;
    const tlsOpts = this.options.tls;
    if (tlsOpts === undefined || this.tlsContext === undefined) {
      c.attach(authRequired);
      return;
    }
    // INFO goes out in plain text; then the client must start TLS (nats-server 2.9's upgrade), or with
    // allow_non_tls may go on in plain text.
    this.io.flushAll();
    void upgradeToTls(socket, this.tlsContext, tlsOpts, this.options.allowNonTls).then((r) => {
      if (c.closed) return;
      if (!r.ok) {
        this.logger.error(`${c} - TLS handshake error: ${r.error}`);
        if (r.plain) c.sendErr('Secure Connection - TLS Required');
        c.close(ClosedReason.TLSHandshakeError);
        return;
      }
      if (r.socket === undefined) {
        // allow_non_tls: a plain client; what it sent waits in the socket.
        c.attach(authRequired);
        socket.resume();
        return;
      }
      c.useTlsSocket(r.socket);
      this.logger.debug(`${c} - TLS handshake complete`);
      c.attach(authRequired);
    });
  }

  /**
   * A websocket client whose HTTP upgrade is done (websocket/listener.ts): `stream` carries its messages,
   * `socket` is the connection underneath (a TLSSocket for `wss://`). As nats-server's createWSClient.
   */
  acceptWebsocket(stream: Duplex, socket: Socket, ws: WebsocketInfo): void {
    if (!this.accepting) {
      stream.destroy();
      return;
    }
    this.trackSocket(socket);
    const c = new Client(
      this,
      stream,
      this.newConnectionId(),
      socket.remoteAddress ?? '',
      socket.remotePort ?? 0,
    );
    c.ws = ws;
    if ('getPeerCertificate' in socket) c.tls = socket as TLSSocket;
    if (!this.admit(c)) return;
    const timeout = this.options.websocket?.authTimeout ?? 0;
    c.attach(this.auth.requiredFor(this.websocketAuth), timeout > 0 ? timeout : this.options.authTimeout);
  }

  private trackSocket(socket: Socket): void {
    this.openSockets.add(socket);
    socket.once('close', () => this.openSockets.delete(socket));
  }

  /**
   * Register a new client and send it INFO; false when the server is full (the client is told and
   * closed). What createClient and createWSClient share.
   */
  private admit(c: Client): boolean {
    if (this.auth.nonceRequired) c.nonce = this.auth.newNonce();
    this.stats.totalConnections++;
    const max = this.options.maxConnections;
    const full = max > 0 && this.clients.size >= max;
    this.clients.set(c.cid, c);
    this.logger.debug(`${c} - Client connection created`);
    c.sendInfo(this.infoFor(c));
    if (full) {
      c.attach(false);
      this.logger.error(`${c} - maximum connections exceeded`);
      c.sendErr('maximum connections exceeded');
      c.close(ClosedReason.MaxConnectionsExceeded);
      return false;
    }
    return true;
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
    if (this.auth.requiredFor(this.authContext(c))) info.auth_required = true;
    if (o.tls !== undefined) {
      if (!o.allowNonTls) info.tls_required = true;
      if (o.tls.verify || o.tls.verifyAndMap) info.tls_verify = true;
      if (o.allowNonTls) info.tls_available = true;
    }
    if (c.nonce !== '') info.nonce = c.nonce;
    info.max_payload = c.maxPayload;
    if (this.jetstreamEnabled) info.jetstream = true;
    if (ldm) info.ldm = true;
    info.client_id = c.cid;
    info.client_ip = c.host;
    const cluster = this.clusterView;
    if (cluster !== undefined) {
      info.cluster = cluster.clusterName;
      const urls = cluster.clientConnectURLs(c.ws !== undefined);
      if (urls !== undefined) info.connect_urls = urls;
    }
    info.tsnats_version = TSNATS_VERSION;
    return `INFO ${JSON.stringify(info)} \r\n`;
  }

  // ---- client events ------------------------------------------------------------------------------------

  onClientConnected(c: Client): void {
    this.logger.debug(
      `${c} - Client connected: name="${c.opts.name}" lang="${c.opts.lang}" version="${c.opts.version}"`,
    );
  }

  /**
   * nats-server's processPing: the first PING after CONNECT from a client that takes INFO updates gets an
   * INFO when the cluster's URLs changed since it connected, or when its JWTs limit its payload below
   * the server's.
   */
  onClientPing(c: Client): void {
    if (!c.connectReceived || c.firstPongSent) return;
    c.firstPongSent = true;
    if (c.opts.protocol < 1) return;
    const cluster = this.clusterView;
    if (
      cluster?.connectURLsChangedSince(c.start.getTime()) === true ||
      c.maxPayload !== this.options.maxPayload
    ) {
      c.sendInfo(this.infoFor(c));
    }
  }

  onSubscribe(c: Client, sub: Subscription): void {
    this.delivery.notifyInterest(c.account, sub, 1);
  }

  onUnsubscribe(c: Client, sub: Subscription): void {
    this.delivery.notifyInterest(c.account, sub, -1);
  }

  removeClient(c: Client, reason: ClosedReason): void {
    if (!this.clients.delete(c.cid)) return;
    this.closedClients.push(new ClosedClient(c, c.closedSubs));
    c.closedSubs = [];
    this.logger.debug(`${c} - Client connection closed: ${reason}`);
  }
}

const STANDARD_AUTH: AuthContext = { connectionType: 'STANDARD' };

/** host:port with IPv6 hosts bracketed. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
