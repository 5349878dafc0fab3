/**
 * One route: a connection to another server of the cluster, speaking nats-server 2.9's route protocol
 * (server/route.go and the ROUTER parts of client.go).
 *
 *   handshake   the accepting side sends INFO at once; the soliciting side sends CONNECT then INFO. Each
 *               side registers the route when it gets the other's INFO (processRouteInfo), then sends all
 *               its local interest as RS+.
 *   interest    RS+ <account> <subject> [<queue> <weight>] / RS- <account> <subject> [<queue>]
 *               (LS+ <origin> ... / LS- ... from peers with leafnode-origin interest, handled the same).
 *   messages    RMSG <account> <subject> [reply] <size>, with queues `+ <reply> <q...>` or `| <q...>`;
 *               HMSG adds a header size before the total size. A routed message goes to local clients
 *               only: the cluster is a full mesh and a message makes one hop.
 *   keepalive   PING/PONG as for clients, the first PING after at most 1s to measure the RTT.
 *
 * The route is batched like a client: output goes to `out` and is written once at the end of the read
 * batch that produced it (the server's flush list).
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { ConnKind, type MsgArgs, SubOp } from '../protocol/parser.js';
import type { Account } from '../server/account.js';
import { ClosedReason } from '../server/closed-reason.js';
import { Connection } from '../server/connection.js';
import type { ServerCore } from '../server/core.js';
import { DeliveryFlags, deliverySubjectAt } from '../server/delivery.js';
import { RemoteKind, type RemoteLink, Subscription } from '../server/subscription.js';
import type { RouteManager } from './routes.js';

/** nats-server's ErrClientConnectedToRoutePort: a client (its CONNECT has `lang`) on the route port. */
export const ERR_CLIENT_ON_ROUTE_PORT = 'attempted to connect to route port';

/** nats-server's firstPingInterval for non-client connections. */
const FIRST_PING_INTERVAL = 1000;

/** The INFO a route peer sends (nats-server's Info, route fields). Unknown fields are kept for gossip. */
export interface RouteInfoProto {
  server_id: string;
  server_name: string;
  host: string;
  port: number;
  headers: boolean;
  auth_required: boolean;
  ip: string;
  cluster: string;
  cluster_dynamic: boolean;
  connect_urls: string[];
  /** The peer's websocket client URLs. */
  ws_connect_urls: string[];
  /** The peer's leaf node URLs. */
  leafnode_urls: string[];
  ldm: boolean;
  lnoc: boolean;
  /** The peer runs JetStream. */
  jetstream: boolean;
  domain: string;
  /** The JSON object as received, re-sent (nonce cleared, ip set) when gossiping a new route. */
  raw: Record<string, unknown>;
}

/** The CONNECT a route peer sends (nats-server's connectInfo, plus `lang` to spot clients). */
interface RouteConnectProto {
  user: string;
  pass: string;
  name: string;
  lang: string;
  cluster: string;
  cluster_dynamic: boolean;
  headers: boolean;
  lnoc: boolean;
  gateway: string;
}

/** A remote interest: its subscription in `account`'s sublist. */
interface RemoteSub {
  account: Account;
  sub: Subscription;
}

export class Route extends Connection implements RemoteLink {
  protected readonly kindName = 'Router';
  protected readonly errName = 'Route Error';
  protected readonly firstPingInterval = FIRST_PING_INTERVAL;
  /** Routed messages are forwarded, not published: a route is never stalled (nats-server stalls clients). */
  readonly stallable = false;
  readonly linkKind = RemoteKind.ROUTE;
  readonly spoke = false;
  readonly remoteCluster = '';

  /** The remote server, from its CONNECT (`name`) and INFO. */
  remoteId = '';
  remoteName = '';
  /** Route listener host/port the remote advertised in INFO. */
  remoteRouteHost = '';
  remoteRoutePort = 0;
  remoteAuthRequired = false;
  /** The remote's client URLs, counted in the server's connect_urls while the route is registered. */
  connectURLs: string[] = [];
  /** The remote's websocket client URLs, counted likewise. */
  wsConnectURLs: string[] = [];
  /** The remote's leaf node URLs, counted in the cluster's leafnode_urls while registered. */
  leafURLs: string[] = [];
  /** Where to reconnect: the solicited URL, or one built from the remote's INFO. */
  url: URL | undefined;
  /** Registered with the manager (the route that carries traffic for `remoteId`). */
  registered = false;
  /** Reconnect even though accepted or implicit: set on the survivor of a duplicate pair (as nats-server). */
  retry = false;
  /** The remote understands LS+/LMSG (leafnode origin cluster); we accept them either way. */
  lnoc = false;
  headers = false;
  infoReceived = false;
  connectReceived = false;
  /** Do not reconnect after this close (route to self, shutdown). */
  noReconnect = false;

  /** Remote interest by "account subject[ queue]" (the RS- argument). */
  readonly subs = new Map<string, RemoteSub>();
  private readonly server: ServerCore;

  constructor(
    private readonly manager: RouteManager,
    socket: Duplex,
    host: string,
    port: number,
    readonly rid: number,
    /** We dialled this connection (nats-server's didSolicit). */
    public didSolicit: boolean,
    /** The URL is one of the configured routes (Explicit), not learned by gossip (Implicit). */
    public isConfigured: boolean,
    url: URL | undefined,
  ) {
    super(manager.server, socket, ConnKind.ROUTER, host, port);
    this.server = manager.server;
    this.url = url;
  }

  /** "127.0.0.1:6222 - rid:3", the prefix nats-server puts on a route's log lines. */
  toString(): string {
    return `${this.host}:${this.port} - rid:${this.rid}`;
  }

  /**
   * Start the handshake: CONNECT (when we solicited) and our INFO, then read. The accepting side gives the
   * peer `authTimeout` to authenticate when the cluster requires it.
   */
  attach(): void {
    this.wire();
    const m = this.manager;
    if (this.didSolicit) {
      this.server.logger.debug(`${this} - Route connect msg sent`);
      this.sendInfo(m.connectProto(this.url));
    } else if (m.authRequired) {
      this.startAuthTimer(m.options.authTimeout);
    }
    this.sendInfo(m.routeInfoProto(true));
    this.setFirstPingTimer();
  }

  // ---- output ------------------------------------------------------------------------------------------

  /**
   * RemoteLink: one RMSG (HMSG with headers) for a message matched by this route's interest. With queue
   * names the remote delivers to one member of each of those groups only (nats-server's
   * msgHeaderForRouteOrLeaf).
   */
  sendMsg(
    account: string,
    subject: string,
    reply: string,
    queues: string[] | null,
    hdr: number,
    buf: Buffer,
    start: number,
    size: number,
  ): void {
    if (this.closed) return;
    // The interest changes made before this message go out before it (see RouteManager.interestChanged).
    if (this.manager.interestPending) this.manager.flushInterest();
    this.queueRemoteMsg(this.headers, account, subject, reply, queues, hdr, buf, start, size);
  }

  // ---- ParserSink: handshake ---------------------------------------------------------------------------

  onConnect(arg: string): boolean {
    const srv = this.server;
    const m = this.manager;
    this.clearAuthTimer();
    this.parser.awaitingAuth = false;
    srv.logger.trace(
      `${this} - <<- [CONNECT ${arg.replace(/"pass"\s*:\s*"(?:[^"\\]|\\.)*"/g, '"pass":"[REDACTED]"')}]`,
    );
    let proto: RouteConnectProto;
    try {
      proto = parseRouteConnect(arg);
    } catch (e) {
      srv.logger.error(`${this} - ${(e as Error).message}`);
      this.close(ClosedReason.ProtocolViolation);
      return false;
    }
    // nats-server checks the credentials first (processConnect), then what kind of peer this is. A bcrypt
    // comparison takes a while: the rest of the input waits for it, nothing else does.
    if (!m.authRequired) return this.acceptConnect(proto);
    this.suspendInput();
    m.checkAuth(proto.user, proto.pass).then(
      (ok) => this.authChecked(ok, proto),
      () => this.authChecked(false, proto),
    );
    return true;
  }

  private authChecked(ok: boolean, proto: RouteConnectProto): void {
    if (this.closed) return;
    if (!ok) {
      this.authFailed(proto.user);
      return;
    }
    if (this.acceptConnect(proto)) this.resumeInput();
  }

  /** The rest of processConnect once the peer is authenticated: is it a route of our cluster? */
  private acceptConnect(proto: RouteConnectProto): boolean {
    const srv = this.server;
    const m = this.manager;
    // Clients put `lang` in CONNECT, routes do not: that is how nats-server spots a client on this port.
    if (proto.lang !== '') {
      this.sendErr(ERR_CLIENT_ON_ROUTE_PORT);
      srv.logger.error(`${this} - ${ERR_CLIENT_ON_ROUTE_PORT}`);
      this.close(ClosedReason.WrongPort);
      return false;
    }
    if (proto.gateway !== '') {
      const txt = `Rejecting connection from gateway ${JSON.stringify(proto.gateway)} on the Route port`;
      srv.logger.error(`${this} - ${txt}`);
      this.sendErr(txt);
      this.close(ClosedReason.ProtocolViolation);
      return false;
    }
    const ours = m.clusterName;
    if (proto.cluster !== ours) {
      // A dynamic (generated) name gives way to a configured one, or to a "bigger" dynamic one.
      if (m.dynamicName && (!proto.cluster_dynamic || ours < proto.cluster)) {
        m.setClusterName(proto.cluster, !proto.cluster_dynamic);
        m.removeAllRoutesExcept(this);
      } else {
        const txt = `Rejecting connection, cluster name ${JSON.stringify(proto.cluster)} does not match ${JSON.stringify(ours)}`;
        srv.logger.error(`${this} - ${txt}`);
        this.sendErr(txt);
        this.close(ClosedReason.ClusterNameConflict);
        return false;
      }
    }
    this.connectReceived = true;
    this.remoteId = proto.name;
    this.lnoc = proto.lnoc;
    this.headers = proto.headers;
    return true;
  }

  /** nats-server's processRouteInfo. */
  onInfo(arg: string): boolean {
    const srv = this.server;
    const m = this.manager;
    let info: RouteInfoProto;
    try {
      info = parseRouteInfo(arg);
    } catch (e) {
      srv.logger.error(`${this} - ${(e as Error).message}`);
      this.close(ClosedReason.ProtocolViolation);
      return false;
    }
    srv.logger.trace(`${this} - <<- [INFO ${arg}]`);
    if (info.server_id === srv.id) {
      // A route to ourselves (we are in our own routes list, or gossip pointed back at us).
      this.remoteId = info.server_id;
      this.noReconnect = true;
      this.close(ClosedReason.DuplicateRoute);
      return false;
    }
    if (info.cluster !== '' && info.cluster !== m.clusterName) {
      if (m.dynamicName && (!info.cluster_dynamic || m.clusterName < info.cluster)) {
        m.setClusterName(info.cluster, false);
        m.removeAllRoutesExcept(this);
      } else {
        this.close(ClosedReason.ClusterNameConflict);
        return false;
      }
    }
    if (this.infoReceived) {
      // An update from a registered route: about another server (gossip), or the remote's lame duck mode.
      if (this.remoteId !== '' && this.remoteId !== info.server_id) {
        m.processImplicitRoute(info);
      } else if (info.ldm) {
        m.remoteEnteredLameDuck(this);
      }
      return true;
    }
    if (!this.didSolicit && info.server_name === srv.name) {
      srv.logger.error(`${this} - Remote server has a duplicate name: ${JSON.stringify(info.server_name)}`);
      this.close(ClosedReason.DuplicateServerName);
      return false;
    }
    this.infoReceived = true;
    this.headers = info.headers;
    this.remoteId = info.server_id;
    this.remoteName = info.server_name;
    this.remoteRouteHost = info.host;
    this.remoteRoutePort = info.port;
    this.remoteAuthRequired = info.auth_required;
    this.lnoc = info.lnoc;
    if (this.url === undefined) {
      try {
        this.url = new URL(`nats-route://${joinHostPortBracket(info.host, info.port)}/`);
      } catch {
        srv.logger.error(`${this} - Error parsing URL from INFO: ${info.host}:${info.port}`);
        this.close(ClosedReason.ParseError);
        return false;
      }
    }
    m.registerRoute(this, info);
    return !this.closed;
  }

  // ---- ParserSink: interest ----------------------------------------------------------------------------

  /** RS+/LS+ (nats-server's processRemoteSub). */
  onSub(op: SubOp, args: string[]): boolean {
    this.last = Date.now();
    const srv = this.server;
    if (srv.logger.traceEnabled)
      srv.logger.trace(`${this} - <<- [${op === SubOp.LS ? 'LS+' : 'RS+'} ${args.join(' ')}]`);
    if (op === SubOp.SUB) return this.protocolError(`processRouteSub Parse Error: 'SUB ${args.join(' ')}'`);
    const off = op === SubOp.LS ? 1 : 0;
    const n = args.length - off;
    if (n !== 2 && n !== 4) return this.protocolError(`processRemoteSub Parse Error: '${args.join(' ')}'`);
    const accName = args[off]!;
    const subject = args[off + 1]!;
    const queue = n === 4 ? args[off + 2]! : undefined;
    const weight = n === 4 ? parseWeight(args[off + 3]!) : 1;
    const acc = srv.lookupAccount(accName);
    if (acc === undefined) {
      // nats-server's own system account ($SYS) and accounts only the peer has: nothing to route here.
      srv.logger.debug(
        `${this} - Unknown account ${JSON.stringify(accName)} for remote subject ${JSON.stringify(subject)}`,
      );
      return true;
    }
    if (!this.manager.canExport(subject)) {
      srv.logger.debug(
        `${this} - Can not export ${JSON.stringify(subject)}, ignoring remote subscription request`,
      );
      return true;
    }
    const key = queue === undefined ? `${accName} ${subject}` : `${accName} ${subject} ${queue}`;
    const existing = this.subs.get(key);
    if (existing !== undefined) {
      // Same interest again: for a queue group this is the new weight (members on the remote server).
      if (queue !== undefined && existing.sub.qweight !== weight) {
        const delta = weight - existing.sub.qweight;
        existing.sub.qweight = weight;
        srv.delivery.notifyInterest(acc, existing.sub, delta);
      }
      return true;
    }
    const sub = new Subscription(undefined, subject, queue, key, this);
    sub.qweight = weight;
    try {
      acc.sublist.insert(sub);
    } catch (e) {
      srv.logger.error(`${this} - Could not insert subscription: ${(e as Error).message}`);
      this.sendErr('Invalid Subscription');
      return true;
    }
    this.subs.set(key, { account: acc, sub });
    srv.delivery.notifyInterest(acc, sub, weight);
    return true;
  }

  /** RS-/LS- (nats-server's processRemoteUnsub): `<account> <subject> [queue]`. */
  onUnsub(op: SubOp, args: string[]): boolean {
    this.last = Date.now();
    const srv = this.server;
    if (srv.logger.traceEnabled)
      srv.logger.trace(`${this} - <<- [${op === SubOp.LS ? 'LS-' : 'RS-'} ${args.join(' ')}]`);
    if (op === SubOp.SUB)
      return this.protocolError(`processRouteUnsub Parse Error: 'UNSUB ${args.join(' ')}'`);
    if (args.length !== 2 && args.length !== 3) {
      return this.protocolError(`processRemoteUnsub parse error: '${args.join(' ')}'`);
    }
    const key = args.join(' ');
    const rs = this.subs.get(key);
    if (rs !== undefined) {
      this.subs.delete(key);
      rs.sub.closed = true;
      rs.account.sublist.remove(rs.sub);
      srv.delivery.notifyInterest(rs.account, rs.sub, -rs.sub.qweight);
    }
    return true;
  }

  // ---- ParserSink: messages ----------------------------------------------------------------------------

  onMsgArgs(_pa: MsgArgs): boolean {
    // Routes have no payload limit in nats-server (mpay -1): the publisher's server checked it.
    return true;
  }

  /** nats-server's processInboundRoutedMsg: deliver to local clients (and the queue groups named). */
  onMsg(pa: MsgArgs, buf: Buffer, start: number): void {
    const size = pa.size;
    this.inMsgs++;
    this.inBytes += size;
    const srv = this.server;
    if (srv.logger.traceEnabled) {
      srv.logger.trace(
        `${this} - <<- [${routedOp(pa)}] ${JSON.stringify(buf.latin1Slice(start, start + size))}`,
      );
    }
    const acc = srv.lookupAccount(pa.account);
    if (acc === undefined) {
      srv.logger.debug(
        `${this} - Unknown account ${JSON.stringify(pa.account)} for routed message on subject: ${JSON.stringify(pa.subject)}`,
      );
      return;
    }
    const st = srv.stats;
    st.inMsgs++;
    st.inBytes += size;
    const queues = pa.queues.length > 0 ? pa.queues : null;
    // A JetStream delivery from another server: the client sees the subject and the plain reply.
    const at = deliverySubjectAt(pa.reply);
    const reply = at < 0 ? pa.reply : pa.reply.slice(0, at);
    const deliverAs = at < 0 ? '' : pa.reply.slice(at + 1);
    const n = srv.delivery.deliverInAccount(
      acc,
      null,
      pa.subject,
      reply,
      pa.hdr,
      buf,
      start,
      size,
      DeliveryFlags.FromRoute,
      queues,
      deliverAs,
    );
    if (n > 0) {
      st.outMsgs += n;
      st.outBytes += n * size;
    }
  }

  // ---- close -------------------------------------------------------------------------------------------

  /** After the socket closed: drop the remote interest, let the manager unregister and maybe reconnect. */
  protected onClosed(reason: ClosedReason): void {
    this.server.logger.notice(`${this} - Router connection closed: ${reason}`);
    this.removeRemoteSubs();
    this.manager.routeClosed(this);
  }

  /** Take every interest of this route out of the account sublists (nats-server's removeRemoteSubs). */
  private removeRemoteSubs(): void {
    if (this.subs.size === 0) return;
    const byAccount = new Map<Account, Subscription[]>();
    for (const rs of this.subs.values()) {
      rs.sub.closed = true;
      let list = byAccount.get(rs.account);
      if (list === undefined) {
        list = [];
        byAccount.set(rs.account, list);
      }
      list.push(rs.sub);
    }
    this.subs.clear();
    for (const [acc, list] of byAccount) {
      this.server.logger.debug(
        `${this} - Removing ${list.length} subscriptions for account ${JSON.stringify(acc.name)}`,
      );
      acc.sublist.removeBatch(list);
      for (const sub of list) this.server.delivery.notifyInterest(acc, sub, -sub.qweight);
    }
  }
}

/** A random nonce for the initial route INFO (nats-server sends one; routes do not sign it). */
export function routeNonce(): string {
  return randomBytes(11).toString('base64url');
}

/** Queue weight: digits only (nats-server's parseSize); anything else counts as 1. */
function parseWeight(s: string): number {
  if (!/^\d{1,9}$/.test(s)) return 1;
  const n = Number(s);
  return n > 0 ? n : 1;
}

function joinHostPortBracket(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The control line of a routed message, for traces. */
function routedOp(pa: MsgArgs): string {
  const hdr = pa.hdr >= 0;
  const parts: string[] = [hdr ? 'HMSG' : 'RMSG', pa.account, pa.subject];
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

function asObject(json: string, what: string): Record<string, unknown> {
  const v: unknown = JSON.parse(json);
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new Error(`${what} argument is not an object`);
  return v as Record<string, unknown>;
}

function str(o: Record<string, unknown>, k: string, what: string): string {
  const v = o[k];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new Error(`${what} field ${k} must be a string`);
  return v;
}

function bool(o: Record<string, unknown>, k: string, what: string): boolean {
  const v = o[k];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new Error(`${what} field ${k} must be a boolean`);
  return v;
}

/** Parse a route INFO; throws on bad JSON or a field of the wrong type (like Go's json.Unmarshal). */
export function parseRouteInfo(json: string): RouteInfoProto {
  const o = asObject(json, 'INFO');
  const port = o.port;
  if (port !== undefined && port !== null && (typeof port !== 'number' || !Number.isInteger(port))) {
    throw new Error('INFO field port must be an integer');
  }
  const urls = stringList(o, 'connect_urls');
  const wsUrls = stringList(o, 'ws_connect_urls');
  return {
    server_id: str(o, 'server_id', 'INFO'),
    server_name: str(o, 'server_name', 'INFO'),
    host: str(o, 'host', 'INFO'),
    port: typeof port === 'number' ? port : 0,
    headers: bool(o, 'headers', 'INFO'),
    auth_required: bool(o, 'auth_required', 'INFO'),
    ip: str(o, 'ip', 'INFO'),
    cluster: str(o, 'cluster', 'INFO'),
    cluster_dynamic: bool(o, 'cluster_dynamic', 'INFO'),
    connect_urls: urls,
    ws_connect_urls: wsUrls,
    leafnode_urls: stringList(o, 'leafnode_urls'),
    ldm: bool(o, 'ldm', 'INFO'),
    lnoc: bool(o, 'lnoc', 'INFO'),
    jetstream: bool(o, 'jetstream', 'INFO'),
    domain: str(o, 'domain', 'INFO'),
    raw: o,
  };
}

function parseRouteConnect(json: string): RouteConnectProto {
  const o = asObject(json, 'CONNECT');
  return {
    user: str(o, 'user', 'CONNECT'),
    pass: str(o, 'pass', 'CONNECT'),
    name: str(o, 'name', 'CONNECT'),
    lang: str(o, 'lang', 'CONNECT'),
    cluster: str(o, 'cluster', 'CONNECT'),
    cluster_dynamic: bool(o, 'cluster_dynamic', 'CONNECT'),
    headers: bool(o, 'headers', 'CONNECT'),
    lnoc: bool(o, 'lnoc', 'CONNECT'),
    gateway: str(o, 'gateway', 'CONNECT'),
  };
}

/** An optional list of strings of an INFO (absent or null: empty). */
function stringList(o: Record<string, unknown>, key: string): string[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((u) => typeof u !== 'string')) {
    throw new Error(`INFO field ${key} must be an array of strings`);
  }
  return v as string[];
}
