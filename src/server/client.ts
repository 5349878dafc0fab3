import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Identity } from '../auth/authenticator.js';
import { ClientPermissions } from '../auth/permissions.js';
import type { Permissions } from '../auth/types.js';
import { ConnKind, type MsgArgs, type SubOp } from '../protocol/parser.js';
import { isValidLiteralSubject } from '../routing/subject.js';
import { certificateIdentities } from '../transport/tls.js';
import type { Account } from './account.js';
import { clientEventSource } from './client-events.js';
import type { ClosedSub } from './closed-client.js';
import { ClosedReason } from './closed-reason.js';
import { Connection } from './connection.js';
import type { ServerCore } from './core.js';
import { Subscription } from './subscription.js';

/** CONNECT fields, as in nats-server's ClientOpts (JSON names are the wire names). */
export interface ConnectOptions {
  verbose: boolean;
  pedantic: boolean;
  echo: boolean;
  tls_required: boolean;
  headers: boolean;
  no_responders: boolean;
  name: string;
  lang: string;
  version: string;
  protocol: number;
  user?: string;
  pass?: string;
  auth_token?: string;
  nkey?: string;
  sig?: string;
  jwt?: string;
  account?: string;
  new_account?: boolean;
}

/** Before CONNECT (and for fields CONNECT leaves out) nats-server assumes verbose and pedantic. */
function defaultConnectOptions(): ConnectOptions {
  return {
    verbose: true,
    pedantic: true,
    echo: true,
    tls_required: false,
    headers: false,
    no_responders: false,
    name: '',
    lang: '',
    version: '',
    protocol: 0,
  };
}

const BOOL_FIELDS = [
  'verbose',
  'pedantic',
  'echo',
  'tls_required',
  'headers',
  'no_responders',
  'new_account',
];
const STRING_FIELDS = [
  'name',
  'lang',
  'version',
  'user',
  'pass',
  'auth_token',
  'nkey',
  'sig',
  'jwt',
  'account',
];
const INT64_MAX = 2n ** 63n - 1n;

/** Number literals of the keys named `protocol` (any case), as written: Go's int fields need integers. */
function protocolLiterals(json: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"\s*:\s*(-?[0-9][0-9.eE+-]*)/g;
  for (let m = re.exec(json); m !== null; m = re.exec(json)) {
    if (m[1]!.toLowerCase() === 'protocol') out.push(m[2]!);
  }
  return out;
}

/**
 * Decode CONNECT's JSON onto the current options the way Go's encoding/json does for nats-server's
 * ClientOpts: `null` changes nothing, keys match case-insensitively, a field of the wrong type (or a
 * non-integer protocol) is an error.
 */
export function parseConnect(json: string, into: ConnectOptions): void {
  const v: unknown = JSON.parse(json);
  if (v === null) return;
  if (typeof v !== 'object' || Array.isArray(v)) throw new Error('CONNECT argument is not an object');
  const target = into as unknown as Record<string, unknown>;
  for (const [rawKey, val] of Object.entries(v as Record<string, unknown>)) {
    if (val === null) continue;
    const k = rawKey.toLowerCase();
    if (BOOL_FIELDS.includes(k)) {
      if (typeof val !== 'boolean') throw new Error(`CONNECT field ${k} must be a boolean`);
      target[k] = val;
    } else if (STRING_FIELDS.includes(k)) {
      if (typeof val !== 'string') throw new Error(`CONNECT field ${k} must be a string`);
      target[k] = val;
    } else if (k === 'protocol') {
      if (typeof val !== 'number') throw new Error('CONNECT field protocol must be an integer');
      for (const lit of protocolLiterals(json)) {
        if (!/^-?\d+$/.test(lit) || BigInt(lit) > INT64_MAX || BigInt(lit) < -INT64_MAX - 1n) {
          throw new Error(`CONNECT field protocol must be an integer, got ${lit}`);
        }
      }
      into.protocol = val;
    }
  }
}

/** What a websocket client brings from its HTTP upgrade (websocket/listener.ts). */
export interface WebsocketInfo {
  /** Sets the close frame the connection ends with. */
  setCloseReason(reason: ClosedReason): void;
  /** The User-Agent is a browser's. */
  browser: boolean;
  /** The address in `X-Forwarded-For`, '' when none (a proxy's client). */
  clientIP: string;
  /** The value of the `jwt_cookie` cookie, '' when none: the user JWT when CONNECT has none. */
  cookieJwt: string;
}

const CLIENT_PROTO_ZERO = 0;
const CLIENT_PROTO_INFO = 1;

/** nats-server's firstClientPingInterval. */
const FIRST_CLIENT_PING_INTERVAL = 2000;

const OK = Buffer.from('+OK\r\n');

/** Status message sent when a request finds no responders: an HMSG with only a `NATS/1.0 503` header. */
const NO_RESPONDERS_HDR = Buffer.from('NATS/1.0 503\r\n\r\n');

/**
 * A client connection (nats-server's CLIENT kind): CONNECT with authentication, SUB/UNSUB, PUB/HPUB
 * routed by the server's delivery, and delivery of matched messages as MSG/HMSG. Reading, output,
 * keepalive and close are the connection core's (connection.ts).
 */
export class Client extends Connection {
  readonly cid: number;
  readonly subs = new Map<string, Subscription>();
  protected readonly kindName = 'Client';
  protected readonly errName = 'Client Error';
  protected readonly firstPingInterval = FIRST_CLIENT_PING_INTERVAL;
  readonly stallable = true;
  opts: ConnectOptions = defaultConnectOptions();
  account: Account;
  /** The subscriptions the client had when it closed, for /connz of closed connections. */
  /** Its subscriptions when it closed (plain records: the closed-client ring must not keep the Client). */
  closedSubs: ClosedSub[] = [];
  connectReceived = false;
  /** The TLS socket when the connection is secured. */
  tls: TLSSocket | undefined;
  /** Nonce sent in INFO for NKey authentication ('' when none). */
  nonce = '';
  /** The authenticated user (or nkey), for monitoring; never the secret. */
  authorizedUser = '';
  /** Who vouches for the user, and its user JWT's name and tags (for system events; see Identity). */
  issuerKey = '';
  nameTag = '';
  userTags: readonly string[] = [];
  /** Permissions of the authenticated user, undefined when unrestricted. */
  perms: ClientPermissions | undefined;
  /** The permissions as configured (or from the user JWT), for `$SYS.REQ.USER.INFO`. */
  permissionsConfig: Permissions | undefined;
  /** Operator mode: when the user JWT expires (ms since the epoch), for `$SYS.REQ.USER.INFO`. */
  expiresAt: number | undefined;
  headers = false;
  echo = true;
  /** Set for a websocket client (nats-server's `c.ws`). */
  ws: WebsocketInfo | undefined;
  /** Operator mode: the user JWT's limits (-1: none), combined with the account's into msubs/mpay. */
  private userLimits = { maxSubs: -1, maxPayload: -1 };
  /** Subscriptions and payload allowed by the user and account JWTs (-1: no limit beyond the server's). */
  msubs = -1;
  mpay = -1;
  /** The first PONG after CONNECT went out (it may come with an INFO; see ServerCore.onClientPing). */
  firstPongSent = false;

  constructor(
    readonly server: ServerCore,
    socket: Duplex,
    cid: number,
    host: string,
    port: number,
  ) {
    super(server, socket, ConnKind.CLIENT, host, port);
    this.cid = cid;
    this.account = server.globalAccount;
  }

  /**
   * "127.0.0.1:54321 - cid:5" ("- wid:5" for websocket, with the forwarded client address in front when
   * there is one): the prefix nats-server puts on a client's log lines.
   */
  toString(): string {
    const ws = this.ws;
    if (ws === undefined) return `${this.host}:${this.port} - cid:${this.cid}`;
    const fwd = ws.clientIP === '' ? '' : ws.clientIP.includes(':') ? `[${ws.clientIP}]/` : `${ws.clientIP}/`;
    return `${fwd}${this.host}:${this.port} - wid:${this.cid}`;
  }

  /** /connz `type`: "nats" or "websocket" (nats-server's clientTypeString). */
  get clientType(): string {
    return this.ws === undefined ? 'nats' : 'websocket';
  }

  /**
   * Start reading: wire the socket's events (after the TLS handshake, when there is one) and start the
   * auth and ping timers.
   */
  attach(authRequired: boolean, authTimeout = this.server.options.authTimeout): void {
    this.wire();
    if (authRequired) this.startAuthTimer(authTimeout);
    this.setFirstPingTimer();
  }

  /** Swap in the TLS socket once the handshake is done. */
  useTlsSocket(tls: TLSSocket): void {
    this.socket = tls;
    this.tls = tls;
  }

  sendOK(): void {
    this.enqueue(OK);
  }

  // ---- ParserSink -----------------------------------------------------------------------------------

  onConnect(arg: string): boolean {
    const srv = this.server;
    this.clearAuthTimer();
    srv.logger.trace(`${this} - <<- [CONNECT ${redactConnect(arg)}]`);
    this.last = Date.now();
    try {
      parseConnect(arg, this.opts);
    } catch (e) {
      srv.logger.error(`${this} - ${(e as Error).message}`);
      this.close(ClosedReason.ProtocolViolation);
      return false;
    }
    this.connectReceived = true;
    this.echo = this.opts.echo;
    this.headers = this.opts.headers;
    const ctx = srv.authContext(this);
    if (!srv.auth.requiredFor(ctx)) return this.finishConnect();
    // A websocket client's JWT may come in a cookie of its HTTP upgrade (nats-server's jwt_cookie).
    if (this.ws !== undefined && (this.opts.jwt ?? '') === '' && this.ws.cookieJwt !== '') {
      this.opts.jwt = this.ws.cookieJwt;
    }
    // Checking credentials may take a while (bcrypt): hold the rest of the input until it is done.
    this.suspendInput();
    const certIds = this.tls !== undefined ? certificateIdentities(this.tls.getPeerCertificate()) : [];
    srv.auth.authenticate(this.opts, this.nonce, certIds, ctx, this.host).then(
      (identity) => this.authenticated(identity),
      (err: unknown) => {
        srv.logger.error(`${this} - authentication error: ${(err as Error).message}`);
        this.authenticated(undefined);
      },
    );
    return true;
  }

  private authenticated(identity: Identity | undefined): void {
    if (this.closed) return;
    if (identity === undefined) {
      this.authViolation();
      return;
    }
    const acc =
      identity.account !== undefined
        ? this.server.lookupAccount(identity.account)
        : this.server.globalAccount;
    if (acc === undefined || acc.expired) {
      this.authViolation();
      return;
    }
    // An account JWT's `conn` limit counts the clients already in, here and on the other servers
    // (nats-server's registerWithAccount).
    if (acc.maxConnections >= 0 && acc.clients.size + acc.numRemoteConns() >= acc.maxConnections) {
      this.maxAccountConnExceeded();
      return;
    }
    this.account = acc;
    acc.clients.add(this);
    this.server.accountConnsChanged(acc);
    this.authorizedUser = identity.name;
    this.issuerKey = identity.issuerKey ?? '';
    this.nameTag = identity.nameTag ?? '';
    this.userTags = identity.tags ?? [];
    this.server.clientEvents?.connected(clientEventSource(this));
    if (identity.permissions !== undefined) this.perms = new ClientPermissions(identity.permissions);
    this.permissionsConfig = identity.permissions;
    this.expiresAt = identity.expiresAt;
    if (identity.jwtLimits !== undefined) this.userLimits = identity.jwtLimits;
    this.applyAccountLimits();
    this.parser.awaitingAuth = false;
    if (!this.finishConnect()) return;
    if (identity.expiresAt !== undefined) this.startExpiryTimer(identity.expiresAt);
    // Carry on with whatever arrived after CONNECT.
    this.resumeInput();
  }

  /**
   * The user's and the account's JWT limits, the smaller of each (nats-server's applyAccountLimits, at
   * login and when the account JWT changes). A client already at its new subscription limit is told and
   * closed shortly after, as nats-server does.
   */
  applyAccountLimits(): void {
    this.msubs = minLimit(this.userLimits.maxSubs, this.account.maxSubs);
    this.mpay = minLimit(this.userLimits.maxPayload, this.account.maxPayload);
    if (this.msubs >= 0 && this.subs.size >= this.msubs) {
      this.maxSubsExceeded();
      setTimeout(() => this.close(ClosedReason.MaxSubscriptionsExceeded), 20).unref();
    }
  }

  /** The payload limit in force: the server's, or a smaller one from the JWTs. */
  get maxPayload(): number {
    const max = this.server.options.maxPayload;
    return this.mpay >= 0 && this.mpay < max ? this.mpay : max;
  }

  private maxSubsExceeded(): void {
    this.server.logger.error(`${this} - maximum subscriptions exceeded`);
    this.sendErr('maximum subscriptions exceeded');
  }

  /** The account JWT's `conn` limit is reached: nats-server's maxAccountConnExceeded. */
  maxAccountConnExceeded(): void {
    this.server.logger.error(`${this} - maximum account active connections exceeded`);
    this.sendErr('maximum account active connections exceeded');
    this.close(ClosedReason.MaxAccountConnectionsExceeded);
  }

  /** The checks after authentication (nats-server's processConnect, in its order). */
  private finishConnect(): boolean {
    const srv = this.server;
    // Accounts named in CONNECT are refused, as nats-server does.
    if (this.opts.new_account || (this.opts.account !== undefined && this.opts.account !== '')) {
      this.authViolation();
      return false;
    }
    if (this.opts.protocol < CLIENT_PROTO_ZERO || this.opts.protocol > CLIENT_PROTO_INFO) {
      this.sendErr('invalid client protocol');
      this.close(ClosedReason.BadClientProtocolVersion);
      return false;
    }
    if (this.opts.no_responders && !this.headers) {
      this.sendErr('no responders requires headers support');
      this.close(ClosedReason.NoRespondersRequiresHeaders);
      return false;
    }
    if (this.opts.verbose) this.sendOK();
    // nats-server estimates the RTT at CONNECT (since the connection began); PINGs refine it later.
    if (this.rtt === 0) this.rtt = Math.max(performance.now() - this.startHr, 0.001);
    srv.onClientConnected(this);
    return true;
  }

  onInfo(arg: string): boolean {
    // nats-server decodes a client's INFO into its Info struct and closes the connection when that fails.
    if (!validClientInfo(arg)) {
      this.server.logger.error(`${this} - invalid INFO from client: ${arg.slice(0, 128)}`);
      this.close(ClosedReason.ProtocolViolation);
      return false;
    }
    return true;
  }

  onMsgArgs(pa: MsgArgs): boolean {
    if (pa.hdr >= 0 && !this.headers) {
      this.server.logger.error(`${this} - message headers not supported`);
      this.close(ClosedReason.ProtocolViolation);
      return false;
    }
    const max = this.maxPayload;
    if (pa.size > max) {
      this.server.logger.error(`${this} - maximum payload exceeded: ${pa.size} vs ${max}`);
      this.sendErr('Maximum Payload Violation');
      this.close(ClosedReason.MaxPayloadExceeded);
      return false;
    }
    if (this.opts.pedantic && !isValidLiteralSubject(pa.subject)) {
      // nats-server 2.9 reports the bad subject and still processes the message.
      this.sendErr('Invalid Publish Subject');
    }
    return true;
  }

  onMsg(pa: MsgArgs, buf: Buffer, start: number): void {
    this.inMsgs++;
    this.inBytes += pa.size;
    const trace = this.server.logger.traceEnabled;
    if (trace) this.traceMsg(pa, buf.subarray(start, start + pa.size));
    let subject = pa.subject;
    const mapper = this.account.mapper;
    if (mapper !== null) {
      // Account mappings apply before permissions and routing (nats-server's selectMappedSubject).
      subject = mapper.map(subject, this.server.clusterView?.clusterName ?? '');
      if (trace && subject !== pa.subject) {
        this.server.logger.trace(`${this} - <<- [MAPPING ${pa.subject} -> ${subject}]`);
      }
    }
    const perms = this.perms;
    if (
      perms !== undefined &&
      (perms.restrictsPublish || perms.responses !== undefined) &&
      !perms.canPublish(subject)
    ) {
      this.server.logger.error(
        `${this} - Publish Violation - User "${this.authorizedUser}", Subject "${subject}"`,
      );
      this.sendErr(`Permissions Violation for Publish to ${JSON.stringify(subject)}`);
      return;
    }
    if (this.opts.verbose) this.sendOK();
    // A zero-length header section is no header at all (nats-server delivers it as MSG).
    const hdr = pa.hdr > 0 ? pa.hdr : -1;
    const d = this.server.delivery;
    d.msgSzb = pa.szb;
    d.msgHdb = pa.hdb;
    let delivered = false;
    try {
      // A mapping's dropped share ('' subject) reaches nobody.
      if (subject.length > 0) delivered = d.route(this, subject, pa.reply, hdr, buf, start, pa.size);
    } finally {
      d.msgSzb = '';
      d.msgHdb = '';
    }
    if (!delivered && pa.reply.length > 0 && this.opts.no_responders) this.sendNoResponders(pa.reply);
  }

  private traceMsg(pa: MsgArgs, data: Buffer): void {
    const op = pa.hdr >= 0 ? 'HPUB' : 'PUB';
    const args = [pa.subject, pa.reply, pa.hdr >= 0 ? String(pa.hdr) : '', String(pa.size)].filter(
      (x) => x !== '',
    );
    this.server.logger.trace(`${this} - <<- [${op} ${args.join(' ')}]`);
    // max_traced_msg_len cuts the payload (nats-server's traceMsg).
    const max = this.server.options.maxTracedMsgLen;
    const shown =
      max > 0 && data.length > max
        ? `"${JSON.stringify(data.subarray(0, max).toString('latin1')).slice(1, -1)}..."`
        : JSON.stringify(data.toString('latin1'));
    this.server.logger.trace(`${this} - <<- MSG_PAYLOAD: [${shown}]`);
  }

  /** Tell a requester at once that nobody is listening (needs headers; see ADR-4). */
  private sendNoResponders(reply: string): void {
    const r = this.account.sublist.match(reply);
    for (const sub of r.psubs) {
      if (sub.client === this) {
        this.out.msg(
          reply,
          sub.sid,
          '',
          NO_RESPONDERS_HDR.length,
          NO_RESPONDERS_HDR,
          0,
          NO_RESPONDERS_HDR.length,
        );
        this.server.queueFlush(this);
        return;
      }
    }
  }

  onSub(_op: SubOp, args: string[]): boolean {
    this.last = Date.now();
    if (this.server.logger.traceEnabled) this.server.logger.trace(`${this} - <<- [SUB ${args.join(' ')}]`);
    this.countInterestOp();
    let subject: string;
    let queue: string | undefined;
    let sid: string;
    if (args.length === 2) {
      subject = args[0]!;
      sid = args[1]!;
    } else if (args.length === 3) {
      subject = args[0]!;
      queue = args[1]!;
      sid = args[2]!;
    } else {
      this.server.logger.error(`${this} - processSub Parse Error: '${args.join(' ')}'`);
      this.close(ClosedReason.ProtocolViolation);
      return false;
    }
    this.processSub(subject, queue, sid);
    return true;
  }

  processSub(subject: string, queue: string | undefined, sid: string): Subscription | undefined {
    const srv = this.server;
    if (this.perms !== undefined && !this.perms.canSubscribe(subject, queue)) {
      srv.logger.error(
        `${this} - Subscription Violation - User "${this.authorizedUser}", Subject "${subject}", SID ${sid}`,
      );
      this.sendErr(
        queue !== undefined
          ? `Permissions Violation for Subscription to ${JSON.stringify(subject)} using queue ${JSON.stringify(queue)}`
          : `Permissions Violation for Subscription to ${JSON.stringify(subject)}`,
      );
      return undefined;
    }
    const maxTokens = srv.options.maxSubTokens;
    if (maxTokens > 0 && subject.split('.').length > maxTokens) {
      srv.logger.error(
        `${this} - Subscription Violation Too Many Tokens - ${this.authorizedUser}, Subject "${subject}", SID ${sid}`,
      );
      this.sendErr(`Permissions Violation for Subscription to ${JSON.stringify(subject)}, too many tokens`);
      return undefined;
    }
    // The server's max_subscriptions and the JWTs' `subs`, after permissions (nats-server's order).
    const maxSubs = minLimit(
      srv.options.maxSubscriptions > 0 ? srv.options.maxSubscriptions : -1,
      this.msubs,
    );
    if (maxSubs >= 0 && this.subs.size >= maxSubs) {
      this.maxSubsExceeded();
      return undefined;
    }
    const existing = this.subs.get(sid);
    if (existing !== undefined) {
      // Same sid again: nats-server keeps the first subscription and acknowledges.
      if (this.opts.verbose) this.sendOK();
      return existing;
    }
    const sub = new Subscription(this, subject, queue, sid);
    try {
      this.account.sublist.insert(sub);
    } catch {
      this.sendErr('Invalid Subject');
      return undefined;
    }
    this.subs.set(sid, sub);
    if (this.opts.verbose) this.sendOK();
    srv.onSubscribe(this, sub);
    return sub;
  }

  onUnsub(_op: SubOp, args: string[]): boolean {
    this.last = Date.now();
    if (this.server.logger.traceEnabled) this.server.logger.trace(`${this} - <<- [UNSUB ${args.join(' ')}]`);
    this.countInterestOp();
    let max = -1;
    if (args.length === 2) {
      max = parseSizeArg(args[1]!);
    } else if (args.length !== 1) {
      this.server.logger.error(`${this} - processUnsub Parse Error: '${args.join(' ')}'`);
      this.close(ClosedReason.ProtocolViolation);
      return false;
    }
    const sub = this.subs.get(args[0]!);
    let unsub = false;
    if (sub !== undefined) {
      if (max > 0 && max > sub.nm) {
        sub.max = max;
      } else {
        sub.max = 0;
        unsub = true;
      }
    }
    if (this.opts.verbose) this.sendOK();
    if (unsub && sub !== undefined) this.unsubscribe(sub);
    return true;
  }

  /** Remove a subscription from this client and the account. */
  unsubscribe(sub: Subscription): void {
    if (sub.closed) return;
    sub.closed = true;
    this.subs.delete(sub.sid);
    this.account.sublist.remove(sub);
    this.server.onUnsubscribe(this, sub);
  }

  override onPing(): void {
    super.onPing();
    this.server.onClientPing(this);
  }

  // ---- delivery -------------------------------------------------------------------------------------

  /**
   * Queue a message for this client on `sub`. Returns false when it was not delivered (echo off,
   * closed, or over the auto-unsubscribe limit), so a queue group can try another member.
   */
  deliver(
    producer: Client | null,
    sub: Subscription,
    subject: string,
    reply: string,
    hdr: number,
    buf: Buffer,
    start: number,
    size: number,
  ): boolean {
    if (producer === this && !this.echo) return false;
    if (sub.closed || this.closed) return false;
    const perms = this.perms;
    if (perms !== undefined) {
      if (perms.deliveryDenyCheck && perms.deniedDelivery(subject)) return false;
      if (reply.length > 0) perms.grantReply(reply);
    }
    sub.nm++;
    if (sub.max > 0) {
      if (sub.nm === sub.max) {
        this.unsubscribe(sub);
      } else if (sub.nm > sub.max) {
        this.unsubscribe(sub);
        return false;
      }
    }
    this.outMsgs++;
    if (hdr > 0 && !this.headers) {
      // A client that did not ask for headers gets the payload only, as a plain MSG.
      this.outBytes += size - hdr;
      this.out.msg(subject, sub.sid, reply, -1, buf, start + hdr, size - hdr);
    } else {
      // The publisher's own size digits go out again, as nats-server repeats them.
      this.outBytes += size;
      const d = this.server.delivery;
      this.out.msg(subject, sub.sid, reply, hdr, buf, start, size, d.msgHdb, d.msgSzb);
    }
    if (!this.flushQueued) this.server.queueFlush(this);
    if (this.out.len + this.sockPending > this.server.options.maxPending) {
      this.slowConsumer(ClosedReason.SlowConsumerPendingBytes);
    }
    return true;
  }

  /** Authentication failed (or no longer holds after a reload). */
  authViolation(): void {
    this.authFailed(this.opts.user ?? '');
  }

  // ---- close -------------------------------------------------------------------------------------------

  /** After the socket closed: drop the client's interest and unregister it (kept for /connz). */
  override close(reason: ClosedReason): void {
    if (!this.closed) this.ws?.setCloseReason(reason);
    super.close(reason);
  }

  protected onClosed(reason: ClosedReason): void {
    if (this.account.clients.delete(this)) {
      this.server.accountConnsChanged(this.account);
      this.server.clientEvents?.disconnected(clientEventSource(this), reason);
    }
    for (const sub of this.subs.values()) {
      this.closedSubs.push({
        subject: sub.subject,
        queue: sub.queue,
        sid: sub.sid,
        nm: sub.nm,
        max: sub.max,
      });
    }
    for (const sub of this.subs.values()) {
      sub.closed = true;
      this.account.sublist.remove(sub);
      this.server.onUnsubscribe(this, sub);
    }
    this.subs.clear();
    this.server.removeClient(this, reason);
  }
}

/** Field types of nats-server's Info struct, for checking an INFO a client sends. */
const INFO_STRINGS = [
  'server_id',
  'server_name',
  'version',
  'go',
  'host',
  'ip',
  'client_ip',
  'nonce',
  'cluster',
  'domain',
  'git_commit',
];
const INFO_NUMBERS = ['proto', 'port', 'max_payload', 'client_id'];
const INFO_BOOLS = [
  'headers',
  'auth_required',
  'tls_required',
  'tls_verify',
  'tls_available',
  'jetstream',
  'ldm',
  'cluster_dynamic',
];

function validClientInfo(arg: string): boolean {
  let v: unknown;
  try {
    v = JSON.parse(arg);
  } catch {
    return false;
  }
  if (v === null) return true;
  if (typeof v !== 'object' || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  for (const [k, val] of Object.entries(o)) {
    if (val === null) continue;
    const key = k.toLowerCase();
    if (INFO_STRINGS.includes(key) && typeof val !== 'string') return false;
    if (INFO_NUMBERS.includes(key) && typeof val !== 'number') return false;
    if (INFO_BOOLS.includes(key) && typeof val !== 'boolean') return false;
  }
  return true;
}

/** The smaller of two limits where -1 is none (nats-server's minLimit). */
export function minLimit(a: number, b: number): number {
  if (a < 0) return b;
  if (b < 0) return a;
  return Math.min(a, b);
}

/** Parse UNSUB's max like nats-server's parseSize: digits only, else -1. */
function parseSizeArg(s: string): number {
  if (s.length === 0 || s.length > 9) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** CONNECT as it may appear in a trace: passwords and tokens replaced, as nats-server does. */
function redactConnect(arg: string): string {
  return arg.replace(/"(pass|auth_token)"\s*:\s*"(?:[^"\\]|\\.)*"/g, '"$1":"[REDACTED]"');
}
