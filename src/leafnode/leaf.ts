/**
 * A leaf node connection (nats-server's LEAF kind), on either side:
 *
 *   accepted   another server (a leaf) dialled our leafnode port: we sent INFO with a nonce, it sends
 *              CONNECT, we authenticate it, bind it to an account, answer with a second INFO
 *              (`connect_info`, `remote_account`, the permissions it has) and send our interest.
 *   solicited  we dialled a hub (a `remotes` entry): the manager read the hub's INFO and hands it over; we
 *              send CONNECT, wait for the second INFO, then send our interest.
 *
 * Either way the connection then carries interest as `LS+ <subject> [<queue> <weight>]` / `LS-` and
 * messages as `LMSG <subject> [reply | + reply queues | | queues] <size>` (`HMSG ... <hdr> <size>` with
 * headers), with no account: each side has bound the connection to one of its own accounts. The side
 * that is the spoke of the connection (the soliciting one, unless `hub: true`) sends only its local
 * interest and keeps the hub's messages out of its own cluster; the hub side sends all of its account's
 * interest and forwards what the leaf sends to its routes. `$LDS.` subjects detect loops.
 */
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { ClientPermissions } from '../auth/permissions.js';
import type { Permissions, SubjectPermission } from '../auth/types.js';
import { ConnKind, type MsgArgs, MsgOp, type SubOp } from '../protocol/parser.js';
import { subjectHasWildcard } from '../routing/subject.js';
import type { Account } from '../server/account.js';
import type { EventSource } from '../server/client-events.js';
import { ClosedReason } from '../server/closed-reason.js';
import { Connection } from '../server/connection.js';
import type { ServerCore } from '../server/core.js';
import type { RemoteLeafOptions } from '../server/options.js';
import { RemoteKind, type RemoteLink, Subscription } from '../server/subscription.js';
import { VERSION } from '../server/version.js';
import { authenticateLeaf } from './auth.js';
import { versionAtLeast } from './config.js';
import { type Creds, signNonce } from './creds.js';
import type { LeafNodeManager, RemoteState } from './leafnodes.js';

/** nats-server's first PING delay for every kind but clients. */
const FIRST_PING_INTERVAL = 1000;
/** How long a leaf waits for the hub's second INFO after its CONNECT (connectProcessTimeout). */
const CONNECT_INFO_WAIT = 2000;
/** The delay before soliciting again after a loop or a refusal that will repeat. */
export const LEAF_RETRY_DELAY = 30_000;
/** Loop detection subjects. */
export const LDS_PREFIX = '$LDS.';

/** The CONNECT a leaf sends (nats-server's leafConnectInfo), plus the client fields that betray a client. */
interface LeafConnectProto {
  version: string;
  user: string;
  pass: string;
  jwt: string;
  sig: string;
  server_id: string;
  name: string;
  cluster: string;
  domain: string;
  headers: boolean;
  jetstream: boolean;
  is_hub: boolean;
  deny_pub: string[];
  lang: string | undefined;
  gateway: string;
}

/** What a solicited connection learned from the hub's first INFO. */
export interface HubInfo {
  server_id: string;
  server_name: string;
  nonce: string;
  headers: boolean;
  info_on_connect: boolean;
  cluster: string;
  domain: string;
  leafnode_urls: string[];
  /** The hub wants TLS. */
  tls_required: boolean;
}

export class Leaf extends Connection implements RemoteLink {
  protected readonly kindName = 'Leafnode';
  protected readonly errName = 'Leafnode Error';
  protected readonly firstPingInterval = FIRST_PING_INTERVAL;
  /** Messages from another server are forwarded, not published: a leaf is never stalled. */
  readonly stallable = false;
  readonly linkKind = RemoteKind.LEAF;
  /** This server is the spoke of the connection (see the module comment). */
  spoke = false;
  /** The cluster of the server at the other end, from its CONNECT (accepted) or INFO (solicited). */
  remoteCluster = '';
  remoteId = '';
  remoteName = '';
  remoteVersion = '';
  /** The peer handles headers (otherwise they are stripped from what we send). */
  headers = false;
  /** The account this connection is bound to on our side. */
  account: Account;
  /** The account name the other side bound the connection to (INFO `remote_account`). */
  remoteAccount = '';
  /**
   * What may cross: `publish` = what we deliver to the peer, `subscribe` = what we announce to it (the
   * peer's permissions swapped on the hub side, nats-server's convention); undefined = everything.
   */
  perms: ClientPermissions | undefined;
  /** The peer's permissions as sent in the second INFO (`import` = its subscribe, `export` = publish). */
  userPerms: Permissions | undefined;
  /** Past CONNECT and the second INFO, with its interest announced. */
  registered = false;
  /** The nonce sent in the first INFO (accepted side). */
  nonce = '';
  /** Operator mode (accepted side): the user JWT the leaf logged in with, '' when none. */
  userJwt = '';
  /**
   * Accepted side, let in by the server's own authentication: who the user is, for the account's client
   * connect and disconnect events (sent once the connection is registered, and when it closes then).
   */
  private eventUser:
    | { user: string; issuerKey: string; nameTag: string; tags: readonly string[] }
    | undefined;
  /** The TLS socket, when the connection is secured. */
  tls: TLSSocket | undefined;
  /** The peer's interest, by "subject[ queue]" (the LS- argument). */
  readonly subs = new Map<string, Subscription>();
  /** What we announced to the peer: the count of interest behind each "subject[ queue]" (nats-server's smap). */
  readonly smap = new Map<string, number>();
  private connectTimer: NodeJS.Timeout | undefined;
  private readonly server: ServerCore;

  constructor(
    readonly manager: LeafNodeManager,
    socket: Duplex,
    host: string,
    port: number,
    readonly lid: number,
    /** The `remotes` entry this connection was solicited for; undefined when accepted. */
    readonly remote: RemoteState | undefined,
  ) {
    super(manager.server, socket, ConnKind.LEAF, host, port);
    this.server = manager.server;
    this.account = manager.server.globalAccount;
  }

  get solicited(): boolean {
    return this.remote !== undefined;
  }

  /** "127.0.0.1:7422 - lid:3", the prefix nats-server puts on a leaf connection's log lines. */
  toString(): string {
    return `${this.host}:${this.port} - lid:${this.lid}`;
  }

  /** Accepted side: read, with `authTimeout` to send CONNECT. */
  attachAccepted(authTimeout: number): void {
    this.wire();
    this.startAuthTimer(authTimeout);
  }

  /** Solicited side: read, then answer the hub's first INFO (already read by the manager) with CONNECT. */
  attachSolicited(info: HubInfo, remote: RemoteLeafOptions, url: URL, creds: Creds | undefined): void {
    this.wire();
    this.remoteId = info.server_id;
    this.remoteName = info.server_name;
    this.remoteCluster = info.cluster;
    this.headers = info.headers;
    this.spoke = !remote.hub;
    const m = this.manager;
    const c: Record<string, unknown> = { version: VERSION };
    if (creds !== undefined) {
      c.jwt = creds.jwt;
      c.sig = signNonce(creds, info.nonce);
    } else {
      const [user, pass] = m.remoteUserPass(this.remote!, url);
      if (user !== '') c.user = user;
      if (pass !== '') c.pass = pass;
    }
    c.tls_required = this.tls !== undefined;
    c.server_id = this.server.id;
    if (m.domain !== '') c.domain = m.domain;
    c.name = this.server.name;
    if (remote.hub) c.is_hub = true;
    if (m.clusterName !== '') c.cluster = m.clusterName;
    c.headers = true;
    if (m.jetStreamFor(this.account)) c.jetstream = true;
    if (remote.denyImports.length > 0) c.deny_pub = remote.denyImports;
    this.sendInfo(`CONNECT ${JSON.stringify(c)}\r\n`);
    this.manager.updateLeafUrls(this.remote!, info.leafnode_urls);
    if (!info.info_on_connect) {
      this.finishSolicited(undefined);
      return;
    }
    this.connectTimer = setTimeout(() => {
      this.connectTimer = undefined;
      if (this.closed || this.registered) return;
      this.sendErr('Stale Leaf Node Connection - Closing');
      this.close(ClosedReason.StaleConnection);
    }, CONNECT_INFO_WAIT);
    this.connectTimer.unref();
  }

  // ---- ParserSink: handshake ---------------------------------------------------------------------------

  /** Accepted side: the leaf's CONNECT (nats-server's processLeafNodeConnect). */
  onConnect(arg: string): boolean {
    this.clearAuthTimer();
    const srv = this.server;
    if (srv.logger.traceEnabled) srv.logger.trace(`${this} - <<- [CONNECT ${redact(arg)}]`);
    this.last = Date.now();
    if (this.solicited) return this.protocolError('a hub sent CONNECT on a solicited leafnode connection');
    let c: LeafConnectProto;
    try {
      c = parseLeafConnect(arg);
    } catch (e) {
      srv.logger.error(`${this} - ${(e as Error).message}`);
      this.close(ClosedReason.ProtocolViolation);
      return false;
    }
    const m = this.manager;
    this.suspendInput();
    authenticateLeaf(
      m.options,
      srv.authorizationConfig,
      srv.auth.required,
      { user: c.user, pass: c.pass, jwt: c.jwt, sig: c.sig },
      {
        nonce: this.nonce,
        host: this.host,
        operator: srv.auth.operator,
        onReject: (reason) => srv.logger.debug(`${this} - JWT authentication failed: ${reason}`),
      },
    ).then(
      (identity) => {
        if (this.closed) return;
        if (identity === undefined) {
          this.authFailed(c.user);
          return;
        }
        const acc = identity.account === '' ? srv.globalAccount : srv.lookupAccount(identity.account);
        if (acc === undefined || acc.expired) {
          this.authFailed(c.user);
          return;
        }
        // An account JWT's `leaf` limit counts the leafs already bound to it (nats-server's
        // MaxTotalLeafNodesReached), refused as connections over the account's limit are.
        if (acc.maxLeafs >= 0 && m.leafsOf(acc) + acc.numRemoteLeafs() >= acc.maxLeafs) {
          srv.logger.error(`${this} - maximum account active connections exceeded`);
          this.sendErr('maximum account active connections exceeded');
          this.close(ClosedReason.MaxAccountConnectionsExceeded);
          return;
        }
        if (srv.auth.operator !== undefined) this.userJwt = c.jwt;
        const sa = identity.serverAuth;
        if (sa !== undefined) this.eventUser = { user: identity.user, ...sa };
        if (this.acceptConnect(c, acc, identity.permissions)) {
          if (this.eventUser !== undefined) srv.clientEvents?.connected(this.eventSource());
          this.resumeInput();
        }
      },
      (err: unknown) => {
        srv.logger.error(`${this} - authentication error: ${(err as Error).message}`);
        this.authFailed(c.user);
      },
    );
    return true;
  }

  /** The checks after authentication, then the second INFO and our interest. False when refused. */
  private acceptConnect(c: LeafConnectProto, acc: Account, userPerms: Permissions | undefined): boolean {
    const m = this.manager;
    if (c.lang !== undefined) {
      this.server.logger.error(`${this} - Client attempted to connect to leaf node port`);
      this.sendErr('attempted to connect to leaf node port');
      this.close(ClosedReason.WrongPort);
      return false;
    }
    if (c.gateway !== '') {
      const err = `Rejecting connection from gateway ${JSON.stringify(c.gateway)} on the leafnode port`;
      this.server.logger.error(`${this} - ${err}`);
      this.sendErr(err);
      this.close(ClosedReason.WrongPort);
      return false;
    }
    if (c.cluster !== '' && c.cluster === m.clusterName) {
      this.server.logger.error(
        `${this} - Leafnode has same cluster name as the hub: ${JSON.stringify(c.cluster)}`,
      );
      this.sendErr('remote leafnode has same cluster name');
      this.close(ClosedReason.ClusterNameConflict);
      return false;
    }
    this.parser.awaitingAuth = false;
    this.account = acc;
    this.remoteId = c.server_id;
    this.remoteName = c.name;
    this.remoteCluster = c.cluster;
    this.remoteVersion = c.version;
    this.headers = c.headers;
    // The leaf says it is the hub of this connection: we are its spoke.
    this.spoke = c.is_hub;
    this.userPerms = userPerms;
    // The user's permissions are written for the leaf: swap them (its subscribe is what we deliver).
    this.perms = leafPermissions(
      userPerms?.subscribe,
      userPerms?.publish,
      [...c.deny_pub, ...m.jetStreamDeliverDenies(acc)],
      m.jetStreamDenies(acc),
    );
    this.sendInfo(m.infoProto(this, { connectInfo: true }));
    if (m.options.minVersion !== '' && !versionAtLeast(c.version, m.options.minVersion)) {
      const err = `connection rejected since minimum version required is ${JSON.stringify(m.options.minVersion)}`;
      this.server.logger.error(`${this} - ${err}`);
      this.sendErr(err);
      this.close(ClosedReason.ProtocolViolation);
      return false;
    }
    m.register(this);
    this.setFirstPingTimer();
    return true;
  }

  /** INFO from the hub: the second one (`connect_info`) completes our side; later ones update the URLs. */
  onInfo(arg: string): boolean {
    this.last = Date.now();
    if (!this.solicited) return true;
    let info: Record<string, unknown>;
    try {
      info = JSON.parse(arg) as Record<string, unknown>;
    } catch {
      return this.protocolError(`invalid INFO from hub: ${arg.slice(0, 128)}`);
    }
    const urls = info.leafnode_urls;
    if (Array.isArray(urls) && urls.length > 0) this.manager.updateLeafUrls(this.remote!, urls.map(String));
    if (!this.registered && info.connect_info === true) this.finishSolicited(info);
    return true;
  }

  /** Solicited side: bind, take the permissions the hub gave, announce our interest. */
  private finishSolicited(info: Record<string, unknown> | undefined): void {
    if (this.connectTimer !== undefined) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    const m = this.manager;
    const remote = this.remote!.options;
    if (info !== undefined) {
      if (typeof info.remote_account === 'string') this.remoteAccount = info.remote_account;
      const imp = subjectPermission(info.import);
      const exp = subjectPermission(info.export);
      if (imp !== undefined || exp !== undefined) {
        this.userPerms = {
          ...(exp !== undefined ? { publish: exp } : {}),
          ...(imp !== undefined ? { subscribe: imp } : {}),
        };
      }
    }
    this.perms = leafPermissions(
      this.userPerms?.publish,
      this.userPerms?.subscribe,
      [...remote.denyExports, ...m.jetStreamDeliverDenies(this.account)],
      [...remote.denyImports, ...m.jetStreamDenies(this.account)],
    );
    m.register(this);
    this.setFirstPingTimer();
  }

  // ---- ParserSink: interest ----------------------------------------------------------------------------

  /** LS+ (also SUB or RS+, which nats-server reads the same way on a leaf connection). */
  onSub(_op: SubOp, args: string[]): boolean {
    this.last = Date.now();
    const srv = this.server;
    if (srv.logger.traceEnabled) srv.logger.trace(`${this} - <<- [LS+ ${args.join(' ')}]`);
    if (args.length !== 1 && args.length !== 3) {
      return this.protocolError(`processLeafSub Parse Error: '${args.join(' ')}'`);
    }
    const subject = args[0]!;
    const queue = args.length === 3 ? args[1]! : undefined;
    const weight = args.length === 3 ? parseWeight(args[2]!) : 1;
    const isLds = subject.startsWith(LDS_PREFIX);
    if (isLds && subject === this.manager.ldsFor(this.account)) {
      this.loopDetected();
      return false;
    }
    if (
      !isLds &&
      !subjectHasWildcard(subject) &&
      this.perms !== undefined &&
      !this.perms.canPublish(subject)
    ) {
      // The peer wants what it may not get: the hub side refuses, a spoke ignores it (leafSubPermViolation).
      if (this.spoke) return true;
      const err = `Permissions Violation for Subscription to ${JSON.stringify(subject)}`;
      srv.logger.error(`${this} - ${err}`);
      this.sendErr(err);
      this.close(ClosedReason.ProtocolViolation);
      return false;
    }
    const key = queue === undefined ? subject : `${subject} ${queue}`;
    const acc = this.account;
    const existing = this.subs.get(key);
    if (existing !== undefined) {
      if (queue !== undefined && existing.qweight !== weight) {
        const delta = weight - existing.qweight;
        existing.qweight = weight;
        srv.delivery.notifyInterest(acc, existing, delta);
      }
      return true;
    }
    const sub = new Subscription(undefined, subject, queue, key, this);
    sub.qweight = weight;
    try {
      acc.sublist.insert(sub);
    } catch (e) {
      srv.logger.error(`${this} - Could not insert subscription: ${(e as Error).message}`);
      return true;
    }
    this.subs.set(key, sub);
    srv.delivery.notifyInterest(acc, sub, weight);
    return true;
  }

  /** LS- `<subject> [queue]`. */
  onUnsub(_op: SubOp, args: string[]): boolean {
    this.last = Date.now();
    const srv = this.server;
    if (srv.logger.traceEnabled) srv.logger.trace(`${this} - <<- [LS- ${args.join(' ')}]`);
    if (args.length !== 1 && args.length !== 2) {
      return this.protocolError(`processLeafUnsub Parse Error: '${args.join(' ')}'`);
    }
    const key = args.join(' ');
    const sub = this.subs.get(key);
    if (sub !== undefined) {
      this.subs.delete(key);
      sub.closed = true;
      this.account.sublist.remove(sub);
      srv.delivery.notifyInterest(this.account, sub, -sub.qweight);
    }
    return true;
  }

  /**
   * Our interest in the bound account changed (the manager calls this for every change): announce it
   * as nats-server's updateSmap does. A spoke announces only this server's own interest.
   */
  interestChanged(sub: Subscription, delta: number): void {
    if (!this.registered || this.closed || !this.wants(sub)) return;
    const key = sub.queue === undefined ? sub.subject : `${sub.subject} ${sub.queue}`;
    const prev = this.smap.get(key) ?? 0;
    const n = prev + delta;
    if (n > 0) this.smap.set(key, n);
    else this.smap.delete(key);
    if (sub.queue === undefined) {
      if (prev <= 0 && n > 0) this.sendProto(`LS+ ${key}`);
      else if (prev > 0 && n <= 0) this.sendProto(`LS- ${key}`);
    } else if (n > 0) {
      if (n !== prev) this.sendProto(`LS+ ${key} ${n}`);
    } else if (prev > 0) {
      this.sendProto(`LS- ${key}`);
    }
  }

  /**
   * Interest of the bound account's service imports in `subject` changed by `delta` (leafnodes.ts
   * serviceImportsChanged): announced like a plain subscription's, counted with the others on it.
   */
  importInterestChanged(subject: string, delta: number): void {
    if (!this.registered || this.closed) return;
    const prev = this.smap.get(subject) ?? 0;
    const n = prev + delta;
    if (n > 0) this.smap.set(subject, n);
    else this.smap.delete(subject);
    if (prev <= 0 && n > 0) this.sendProto(`LS+ ${subject}`);
    else if (prev > 0 && n <= 0) this.sendProto(`LS- ${subject}`);
  }

  /** Whether interest `sub` is announced on this connection. */
  wants(sub: Subscription): boolean {
    const link = sub.remote;
    if (link === this) return false;
    const lds = sub.subject.startsWith(LDS_PREFIX);
    if (link !== undefined) {
      // A spoke announces only local interest: no route's, no other spoke's.
      if (this.spoke && (link.linkKind === RemoteKind.ROUTE || link.spoke)) return false;
      if (!lds && link.remoteCluster !== '' && link.remoteCluster === this.remoteCluster) return false;
    }
    return lds || this.perms === undefined || this.perms.canSubscribe(sub.subject, undefined);
  }

  /** Everything we announce, in one write, once the connection is established (initLeafNodeSmapAndSendSubs). */
  sendInitialInterest(subjects: Iterable<Subscription>, extra: Iterable<string>): void {
    const smap = this.smap;
    for (const sub of subjects) {
      if (!this.wants(sub)) continue;
      const key = sub.queue === undefined ? sub.subject : `${sub.subject} ${sub.queue}`;
      const w = sub.queue === undefined ? 1 : sub.remote !== undefined ? sub.qweight : 1;
      smap.set(key, (smap.get(key) ?? 0) + w);
    }
    // Counted with the subscriptions on the same subject, so that an import that goes later withdraws
    // only its own share (importInterestChanged).
    for (const subject of extra) smap.set(subject, (smap.get(subject) ?? 0) + 1);
    const lines: string[] = [];
    for (const [key, n] of smap) lines.push(key.includes(' ') ? `LS+ ${key} ${n}\r\n` : `LS+ ${key}\r\n`);
    if (lines.length === 0) return;
    if (this.server.logger.traceEnabled) {
      for (const l of lines) this.server.logger.trace(`${this} - ->> [${l.slice(0, -2)}]`);
    }
    this.enqueueProto(lines.join(''));
  }

  private sendProto(line: string): void {
    this.traceOut(line);
    this.enqueueProto(`${line}\r\n`);
  }

  /** Our own `$LDS.` subject came back: the leaf connections form a loop (handleLeafNodeLoop). */
  private loopDetected(): void {
    const err = `Loop detected for leafnode account=${JSON.stringify(this.account.name)}. Delaying attempt to reconnect for ${LEAF_RETRY_DELAY / 1000}s`;
    this.server.logger.error(`${this} - ${err}`);
    this.sendErr(err);
    if (this.remote !== undefined) this.remote.delay = LEAF_RETRY_DELAY;
    this.close(ClosedReason.ProtocolViolation);
  }

  /**
   * -ERR from the other side: logged; the connection closes only for the errors that mean it cannot work
   * (nats-server's leafProcessErr), and a loop or a cluster name clash delays the next attempt.
   */
  override onErr(arg: string): void {
    this.server.logger.error(`${this} - ${this.errName} ${arg}`);
    if (arg.includes('Loop detected') || arg.includes('remote leafnode has same cluster name')) {
      if (this.remote !== undefined) this.remote.delay = LEAF_RETRY_DELAY;
      this.close(ClosedReason.ProtocolViolation);
    }
  }

  // ---- ParserSink: messages ----------------------------------------------------------------------------

  onMsgArgs(pa: MsgArgs): boolean {
    if (pa.hdr >= 0 && !this.headers && (pa.op === MsgOp.PUB || pa.op === MsgOp.HPUB)) {
      this.server.logger.error(`${this} - message headers not supported`);
      this.close(ClosedReason.ProtocolViolation);
      return false;
    }
    return true;
  }

  /** nats-server's processInboundLeafMsg: deliver in the bound account, as a message from this leaf. */
  onMsg(pa: MsgArgs, buf: Buffer, start: number): void {
    const size = pa.size;
    this.inMsgs++;
    this.inBytes += size;
    this.last = Date.now();
    const srv = this.server;
    if (srv.logger.traceEnabled) {
      srv.logger.trace(
        `${this} - <<- [${leafOp(pa)}] ${JSON.stringify(buf.latin1Slice(start, start + size))}`,
      );
    }
    // PUB from a leaf names no queue group: plain subscribers only, as an LMSG without queues.
    const queues = pa.op === MsgOp.PUB || pa.op === MsgOp.HPUB ? [] : pa.queues;
    // The account's mappings apply to what a leaf sends, as to what clients publish.
    const mapper = this.account.mapper;
    const subject = mapper === null ? pa.subject : mapper.map(pa.subject, srv.clusterView?.clusterName ?? '');
    if (subject === '') return;
    srv.delivery.routeFromLeaf(this, this.account, subject, pa.reply, pa.hdr, buf, start, size, queues);
  }

  // ---- RemoteLink: messages to the peer ----------------------------------------------------------------

  sendMsg(
    _account: string,
    subject: string,
    reply: string,
    queues: string[] | null,
    hdr: number,
    buf: Buffer,
    start: number,
    size: number,
  ): void {
    if (this.closed) return;
    // What the peer may not receive is dropped quietly (deny_exports, deny_pub, JetStream subjects).
    if (this.perms !== undefined && this.perms.restrictsPublish && !this.perms.canPublish(subject)) return;
    this.queueRemoteMsg(this.headers, null, subject, reply, queues, hdr, buf, start, size);
  }

  // ---- close -------------------------------------------------------------------------------------------

  protected onClosed(reason: ClosedReason): void {
    if (this.connectTimer !== undefined) clearTimeout(this.connectTimer);
    const acc = this.account;
    const delivery = this.server.delivery;
    const subs = [...this.subs.values()];
    this.subs.clear();
    for (const sub of subs) sub.closed = true;
    if (subs.length > 0) acc.sublist.removeBatch(subs);
    for (const sub of subs) delivery.notifyInterest(acc, sub, -sub.qweight);
    const announced = this.registered && this.eventUser !== undefined;
    this.manager.leafClosed(this, reason);
    if (announced) this.server.clientEvents?.disconnected(this.eventSource(), reason);
  }

  /** This connection as the account's client events describe it (nats-server's ClientInfo of a leaf). */
  private eventSource(): EventSource {
    const u = this.eventUser;
    return {
      start: this.start,
      stop: this.stop,
      host: this.host,
      id: this.lid,
      account: this.account,
      user: u?.user ?? '',
      name: this.remoteName,
      lang: '',
      version: this.remoteVersion,
      rtt: this.rtt,
      jwt: this.userJwt,
      issuerKey: u?.issuerKey ?? '',
      nameTag: u?.nameTag ?? '',
      tags: u?.tags ?? [],
      kind: 'Leafnode',
      clientType: '',
      inMsgs: this.inMsgs,
      inBytes: this.inBytes,
      outMsgs: this.outMsgs,
      outBytes: this.outBytes,
    };
  }
}

/** The permissions of a leaf connection: `deliver` = what may be sent to the peer, `announce` = LS+. */
function leafPermissions(
  deliver: SubjectPermission | undefined,
  announce: SubjectPermission | undefined,
  deliverDeny: string[],
  announceDeny: string[],
): ClientPermissions | undefined {
  const merge = (p: SubjectPermission | undefined, deny: string[]): SubjectPermission | undefined => {
    const d = [...(p?.deny ?? []), ...deny];
    if (p?.allow === undefined && d.length === 0) return undefined;
    return { ...(p?.allow !== undefined ? { allow: p.allow } : {}), ...(d.length > 0 ? { deny: d } : {}) };
  };
  const publish = merge(deliver, deliverDeny);
  const subscribe = merge(announce, announceDeny);
  if (publish === undefined && subscribe === undefined) return undefined;
  return new ClientPermissions({
    ...(publish !== undefined ? { publish } : {}),
    ...(subscribe !== undefined ? { subscribe } : {}),
  });
}

/** `{ allow, deny }` from an INFO's `import` / `export`, undefined when absent or empty. */
function subjectPermission(v: unknown): SubjectPermission | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const list = (x: unknown): string[] | undefined =>
    Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : undefined;
  const allow = list(o.allow);
  const deny = list(o.deny);
  if (allow === undefined && deny === undefined) return undefined;
  return { ...(allow !== undefined ? { allow } : {}), ...(deny !== undefined ? { deny } : {}) };
}

/** The CONNECT of a leaf, fields typed (nats-server unmarshals it into leafConnectInfo). */
function parseLeafConnect(arg: string): LeafConnectProto {
  const v: unknown = JSON.parse(arg);
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new Error('CONNECT argument is not an object');
  const o = v as Record<string, unknown>;
  const str = (k: string): string => {
    const x = o[k];
    if (x === undefined || x === null) return '';
    if (typeof x !== 'string') throw new Error(`CONNECT field ${k} must be a string`);
    return x;
  };
  const bool = (k: string): boolean => {
    const x = o[k];
    if (x === undefined || x === null) return false;
    if (typeof x !== 'boolean') throw new Error(`CONNECT field ${k} must be a boolean`);
    return x;
  };
  const deny = o.deny_pub;
  return {
    version: str('version'),
    user: str('user'),
    pass: str('pass'),
    jwt: str('jwt'),
    sig: str('sig'),
    server_id: str('server_id'),
    name: str('name'),
    cluster: str('cluster'),
    domain: str('domain'),
    headers: bool('headers'),
    jetstream: bool('jetstream'),
    is_hub: bool('is_hub'),
    deny_pub: Array.isArray(deny) ? deny.filter((s): s is string => typeof s === 'string') : [],
    lang: typeof o.lang === 'string' ? o.lang : undefined,
    gateway: str('gateway'),
  };
}

/** CONNECT with the password hidden, for traces. */
function redact(arg: string): string {
  return arg.replace(/("pass"\s*:\s*)"(?:[^"\\]|\\.)*"/g, '$1"[REDACTED]"');
}

/** Queue weight: digits only; anything else counts as 1. */
function parseWeight(s: string): number {
  if (!/^\d{1,9}$/.test(s)) return 1;
  const n = Number(s);
  return n > 0 ? n : 1;
}

/** The control line of a leaf message, for traces. */
function leafOp(pa: MsgArgs): string {
  const hdr = pa.hdr >= 0;
  const parts: string[] = [
    pa.op === MsgOp.PUB ? 'PUB' : pa.op === MsgOp.HPUB ? 'HPUB' : hdr ? 'HMSG' : 'LMSG',
    pa.subject,
  ];
  if (pa.queues.length > 0) {
    if (pa.reply !== '') parts.push('+', pa.reply);
    else parts.push('|');
    parts.push(...pa.queues);
  } else if (pa.reply !== '') {
    parts.push(pa.reply);
  }
  if (hdr) parts.push(String(pa.hdr));
  parts.push(String(pa.size));
  return parts.join(' ');
}
