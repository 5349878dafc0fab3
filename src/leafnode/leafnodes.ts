/**
 * Leaf nodes (nats-server 2.9's leafnode.go): the listener that accepts leafs (the hub side), the
 * `remotes` this server solicits (the leaf side, reconnecting for ever), and what every leaf connection
 * of an account must hear about that account's interest. The wire protocol of one connection is in
 * leaf.ts; docs/design/leafnodes.md has the details this follows.
 *
 *   accept     INFO with a nonce (and our leafnode_urls), CONNECT, authentication (auth.ts), a second
 *              INFO, then each side's interest as LS+.
 *   solicit    dial a URL of the remote (shuffled, learned hub URLs first), read the hub's INFO (1 s),
 *              TLS when asked, CONNECT (user and password from the URL, or a creds file), then as above.
 *              A closed connection is solicited again after `reconnect` (30 s more after a loop).
 *   interest   every interest change of an account (InterestObserver) goes to that account's leaf
 *              connections, each deciding what its role lets it announce.
 *   JetStream  `$JS.API.>`, `$KV.>` and `$OBJ.>` never cross a leaf connection (nats-server 2.9 denies
 *              them both ways for every account; the system account also keeps `$JSC.>` and `$NRG.>`).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server as NetServer, connect as netConnect, type Socket } from 'node:net';
import type { ConnectionOptions, SecureContext } from 'node:tls';
import type { Account } from '../server/account.js';
import { ClosedReason } from '../server/closed-reason.js';
import type { ServerCore } from '../server/core.js';
import type { InterestObserver } from '../server/delivery.js';
import type { LeafNodeOptions, RemoteLeafOptions } from '../server/options.js';
import type { Subscription } from '../server/subscription.js';
import { TSNATS_VERSION, VERSION } from '../server/version.js';
import { joinHostPort, listenerUrls, plainIp } from '../transport/addresses.js';
import { buildSecureContext, upgradeToTls } from '../transport/tls.js';
import { nodeTls } from '../util/builtin.js';
import { nuid } from '../util/nuid.js';
import { isWebsocketUrl, leafUrlPort, parseLeafUrl, redactUrl } from './config.js';
import { type Creds, readCreds } from './creds.js';
import { type HubInfo, LDS_PREFIX, Leaf } from './leaf.js';

/** nats-server's AUTH_TIMEOUT for leaf connections (with TLS: the TLS timeout plus a second). */
const LEAF_AUTH_TIMEOUT = 2000;
/** How long a soliciting leaf waits for the hub's INFO (DEFAULT_LEAFNODE_INFO_WAIT). */
const INFO_WAIT = 1000;
/** Dial timeout for a hub URL. */
const DIAL_TIMEOUT = 1000;
/** nats-server's nonceLen for leaf connections. */
const NONCE_LEN = 15;
/** An INFO line longer than this is not a hub's. */
const MAX_INFO_LINE = 64 * 1024;

const JS_DENY = ['$JS.API.>', '$KV.>', '$OBJ.>'];
const JS_DENY_SYSTEM = ['$JSC.>', '$NRG.>', ...JS_DENY];

/** One `remotes` entry and its soliciting state. */
export interface RemoteState {
  readonly options: RemoteLeafOptions;
  /** The configured URLs, parsed. */
  readonly configured: URL[];
  /** URLs to try: learned from the hub (`leafnode_urls`) first, then the configured ones. */
  urls: URL[];
  /** The URL of the last attempt. */
  current: URL | undefined;
  /** Extra wait before the next attempt (a loop or a refusal that would repeat). */
  delay: number;
  attempts: number;
  leaf: Leaf | undefined;
  timer: NodeJS.Timeout | undefined;
  creds: Creds | undefined;
}

/** /leafz of one connection (nats-server's LeafInfo). */
export interface LeafStatus {
  /** The server at the other end (its ID when it sent no name, as nats-server). */
  name: string;
  /** This server is the spoke of the connection. */
  isSpoke: boolean;
  account: string;
  ip: string;
  port: number;
  rtt: number;
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
  subscriptions: string[];
}

export class LeafNodeManager implements InterestObserver {
  /** The port leafs connect to (0 without a listener). */
  port = 0;
  private listener: NetServer | undefined;
  private listenerClosed: Promise<void> | undefined;
  /** Every live leaf connection (handshaking ones included), by id. */
  private readonly leafs = new Map<number, Leaf>();
  /** Registered connections by the account they are bound to. */
  private readonly byAccount = new Map<Account, Set<Leaf>>();

  /** How many leaf connections are bound to `acc`. */
  leafsOf(acc: Account): number {
    return this.byAccount.get(acc)?.size ?? 0;
  }

  /** The leaf connections bound to `acc`. */
  leafsBoundTo(acc: Account): Leaf[] {
    return [...(this.byAccount.get(acc) ?? [])];
  }
  private readonly remotes: RemoteState[] = [];
  /** Each account's loop detection subject, made on first use. */
  private readonly lds = new Map<Account, string>();
  private readonly tlsContext: SecureContext | undefined;
  /** Leaf URLs of the other servers of the cluster (their route INFO `leafnode_urls`). */
  private peerLeafUrls: string[] = [];
  private stopping = false;

  constructor(
    readonly server: ServerCore,
    readonly options: LeafNodeOptions,
  ) {
    this.tlsContext = options.tls !== undefined ? buildSecureContext(options.tls) : undefined;
    for (const r of options.remotes) {
      const configured = r.urls.map((u) => parseLeafUrl(u)).filter((u): u is URL => u !== undefined);
      const urls = [...configured];
      if (!r.noRandomize) shuffle(urls);
      this.remotes.push({
        options: r,
        configured,
        urls,
        current: undefined,
        delay: 0,
        attempts: 0,
        leaf: undefined,
        timer: undefined,
        creds: undefined,
      });
    }
  }

  /**
   * The cluster name leafs see: the cluster's, or (nats-server) the server name of a server that has
   * remotes and no cluster.
   */
  get clusterName(): string {
    const c = this.server.clusterView?.clusterName;
    if (c !== undefined && c !== '') return c;
    const o = this.server.options;
    return this.options.remotes.length > 0 && o.serverName !== '' ? o.serverName : '';
  }

  /** The JetStream domain of this server ('' when none). */
  get domain(): string {
    return this.server.options.jetstream?.domain ?? '';
  }

  /** Whether `acc` has JetStream here (CONNECT `jetstream`). */
  jetStreamFor(_acc: Account): boolean {
    return this.server.jetstreamEnabled;
  }

  /** The JetStream subjects that never cross a leaf connection bound to `acc`. */
  jetStreamDenies(acc: Account): string[] {
    return acc === this.server.systemAccount ? JS_DENY_SYSTEM : JS_DENY;
  }

  /**
   * What is never delivered to a leaf connection bound to `acc`: the JetStream subjects, and the API of
   * our own domain (requests for it are ours to answer; nats-server's blockMappingOutgoing).
   */
  jetStreamDeliverDenies(acc: Account): string[] {
    const d = this.domain;
    return d !== '' && this.server.jetstreamEnabled
      ? [...this.jetStreamDenies(acc), `$JS.${d}.API.>`]
      : this.jetStreamDenies(acc);
  }

  /** The account's `$LDS.` subject. */
  ldsFor(acc: Account): string {
    let s = this.lds.get(acc);
    if (s === undefined) {
      s = `${LDS_PREFIX}${nuid()}`;
      this.lds.set(acc, s);
    }
    return s;
  }

  // ---- start and stop ----------------------------------------------------------------------------------

  /** Listen for leafs (when a port is configured). */
  async listen(): Promise<void> {
    const o = this.options;
    const log = this.server.logger;
    if (o.port !== 0) {
      const listener = createServer({ noDelay: true }, (socket) => this.accept(socket));
      this.listener = listener;
      const port = o.port < 0 ? 0 : o.port;
      await new Promise<void>((resolve, reject) => {
        listener.once('error', reject);
        listener.listen({ host: o.host, port, backlog: 1024 }, () => {
          listener.off('error', reject);
          resolve();
        });
      });
      listener.on('error', (err) => log.error(`Leafnode listener error: ${err.message}`));
      const addr = listener.address();
      this.port = typeof addr === 'object' && addr !== null ? addr.port : port;
      log.notice(`Listening for leafnode connections on ${joinHostPort(o.host, this.port)}`);
    }
  }

  /** Start soliciting the remotes. */
  solicit(): void {
    for (const rs of this.remotes) this.connectRemote(rs);
  }

  /** Stop accepting and soliciting; close every leaf connection. */
  shutdown(): Promise<void> {
    this.stopping = true;
    for (const rs of this.remotes) {
      if (rs.timer !== undefined) clearTimeout(rs.timer);
      rs.timer = undefined;
    }
    for (const l of [...this.leafs.values()]) l.close(ClosedReason.ServerShutdown);
    return this.closeListener();
  }

  /** Close the listener once (lame duck mode and shutdown). */
  closeListener(): Promise<void> {
    if (this.listenerClosed === undefined) {
      const l = this.listener;
      this.listenerClosed = l ? new Promise<void>((resolve) => l.close(() => resolve())) : Promise.resolve();
    }
    return this.listenerClosed;
  }

  // ---- the hub side ------------------------------------------------------------------------------------

  private accept(socket: Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const leaf = new Leaf(
      this,
      socket,
      plainIp(socket.remoteAddress ?? ''),
      socket.remotePort ?? 0,
      this.server.newConnectionId(),
      undefined,
    );
    this.leafs.set(leaf.lid, leaf);
    leaf.nonce = randomBytes(NONCE_LEN).toString('base64url').slice(0, NONCE_LEN);
    this.server.logger.debug(`${leaf} - Leafnode connection created`);
    leaf.sendInfo(this.infoProto(leaf, { first: true }));
    const o = this.options;
    const authTimeout =
      o.authTimeout > 0 ? o.authTimeout : o.tls !== undefined ? o.tls.timeout + 1000 : LEAF_AUTH_TIMEOUT;
    if (o.tls === undefined || this.tlsContext === undefined) {
      leaf.attachAccepted(authTimeout);
      return;
    }
    // INFO goes out in plain text, then the leaf starts TLS (as for clients).
    leaf.flush();
    void upgradeToTls(socket, this.tlsContext, o.tls).then((r) => {
      if (leaf.closed) return;
      if (!r.ok || r.socket === undefined) {
        this.server.logger.error(`${leaf} - TLS handshake error: ${r.ok ? 'no TLS' : r.error}`);
        leaf.close(ClosedReason.TLSHandshakeError);
        return;
      }
      leaf.socket = r.socket;
      leaf.tls = r.socket;
      leaf.attachAccepted(authTimeout);
    });
  }

  /**
   * The INFO we send an accepted leaf (nats-server's leafnode Info): the first one with a nonce, the
   * second (`connectInfo`) with the account it is bound to and the permissions it has.
   */
  infoProto(leaf: Leaf | undefined, opts: { first?: boolean; connectInfo?: boolean } = {}): string {
    const srv = this.server;
    const o = this.options;
    const own = this.ownUrls();
    const [host, port] = splitOwn(own[0], o.host, this.port);
    const info: Record<string, unknown> = {
      server_id: srv.id,
      server_name: srv.name,
      version: VERSION,
      proto: 1,
      go: `node${process.versions.node}`,
      host,
      port,
      headers: true,
      auth_required: true,
    };
    if (o.tls !== undefined) {
      info.tls_required = true;
      if (o.tls.verify || o.tls.verifyAndMap) info.tls_verify = true;
    }
    info.max_payload = srv.options.maxPayload;
    if (srv.jetstreamEnabled) info.jetstream = true;
    info.ip = joinHostPort(host, port);
    if (leaf !== undefined && (opts.first === true || opts.connectInfo === true)) info.client_id = leaf.lid;
    if (leaf !== undefined && opts.first === true) info.nonce = leaf.nonce;
    if (this.clusterName !== '') info.cluster = this.clusterName;
    if (this.domain !== '') info.domain = this.domain;
    if (opts.connectInfo === true && leaf?.userPerms !== undefined) {
      if (leaf.userPerms.subscribe !== undefined) info.import = leaf.userPerms.subscribe;
      if (leaf.userPerms.publish !== undefined) info.export = leaf.userPerms.publish;
    }
    info.info_on_connect = true;
    if (opts.connectInfo === true) info.connect_info = true;
    info.leafnode_urls = this.leafnodeUrls();
    if (opts.connectInfo === true && leaf !== undefined) info.remote_account = leaf.account.name;
    info.tsnats_version = TSNATS_VERSION;
    return `INFO ${JSON.stringify(info)} \r\n`;
  }

  /** This server's leaf URLs (`host:port`): the advertised address or the listener's. */
  ownUrls(): string[] {
    if (this.port === 0) return [];
    const urls = listenerUrls(this.options.advertise, this.options.host, this.port);
    return urls.length > 0 ? urls : [joinHostPort(this.options.host, this.port)];
  }

  /** Our leaf URL and the other servers' of the cluster (INFO `leafnode_urls`). */
  leafnodeUrls(): string[] {
    const own = this.ownUrls().slice(0, 1);
    return [...own, ...this.peerLeafUrls.filter((u) => !own.includes(u))];
  }

  /** The cluster's other servers' leaf URLs changed: tell the leafs we accepted (async INFO). */
  setPeerLeafUrls(urls: string[]): void {
    this.peerLeafUrls = urls;
    if (this.stopping) return;
    const line = this.infoProto(undefined);
    for (const l of this.leafs.values()) if (!l.solicited && l.registered) l.sendInfo(line);
  }

  // ---- the leaf side -----------------------------------------------------------------------------------

  /** The user and password a remote presents: its URL's, or the first configured URL that has some. */
  remoteUserPass(rs: RemoteState, url: URL): [string, string] {
    const from = url.username !== '' ? url : rs.configured.find((u) => u.username !== '');
    if (from === undefined) return ['', ''];
    return [decodeURIComponent(from.username), decodeURIComponent(from.password)];
  }

  /** The hub told us its cluster's leaf URLs: try those first, then the configured ones (updateLeafNodeURLs). */
  updateLeafUrls(rs: RemoteState, learned: string[]): void {
    if (learned.length === 0) return;
    const configured = new Set(rs.configured.map((u) => `${u.hostname}:${leafUrlPort(u)}`.toLowerCase()));
    const ws = rs.configured.length > 0 && isWebsocketUrl(rs.configured[0]!);
    const urls: URL[] = [];
    for (const hp of learned) {
      if (configured.has(hp.toLowerCase())) continue;
      const u = parseLeafUrl(`${ws ? 'ws' : 'nats-leaf'}://${hp}`);
      if (u !== undefined) urls.push(u);
    }
    rs.urls = [...urls, ...rs.configured];
  }

  private pickUrl(rs: RemoteState): URL {
    const urls = rs.urls;
    if (urls.length > 1 && rs.current !== undefined && urls[0]!.href === rs.current.href) {
      urls.push(urls.shift()!);
    }
    rs.current = urls[0]!;
    return rs.current;
  }

  /** Solicit the remote now (or after its pending delay). */
  private connectRemote(rs: RemoteState): void {
    if (this.stopping || rs.urls.length === 0) return;
    if (rs.delay > 0) {
      const d = rs.delay;
      rs.delay = 0;
      this.schedule(rs, d);
      return;
    }
    const url = this.pickUrl(rs);
    const log = this.server.logger;
    rs.attempts++;
    if (isWebsocketUrl(url)) {
      log.error(
        `Leafnode connections over websocket are not supported by tsnats yet: ${redactUrl(url.href)}`,
      );
      this.schedule(rs, this.options.reconnectInterval);
      return;
    }
    if (rs.options.credentials !== '' && rs.creds === undefined) {
      try {
        rs.creds = readCreds(rs.options.credentials);
      } catch (e) {
        log.error(`Error reading leafnode credentials: ${(e as Error).message}`);
        this.schedule(rs, this.options.reconnectInterval);
        return;
      }
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = leafUrlPort(url);
    const hp = joinHostPort(host, port);
    log.debug(`Trying to connect as leafnode to remote server on "${hp}"`);
    const socket = netConnect({ host, port, noDelay: true });
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const msg = `Error trying to connect as leafnode to remote server ${JSON.stringify(hp)} (attempt ${rs.attempts}): ${why}`;
      if (rs.attempts === 1) log.error(msg);
      else log.debug(msg);
      this.schedule(rs, this.options.reconnectInterval);
    };
    const timer = setTimeout(() => fail('dial tcp: i/o timeout'), DIAL_TIMEOUT);
    socket.once('error', (e) => fail(e.message));
    socket.once('connect', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners('error');
      this.readHubInfo(rs, url, socket);
    });
  }

  /** The hub's first INFO, read before the connection is handed to a Leaf (TLS may come in between). */
  private readHubInfo(rs: RemoteState, url: URL, socket: Socket): void {
    const log = this.server.logger;
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (why: string | undefined, info?: HubInfo, rest?: Buffer): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (why !== undefined || info === undefined) {
        log.error(`Leafnode connection to ${JSON.stringify(redactUrl(url.href))}: ${why ?? 'no INFO'}`);
        socket.destroy();
        this.schedule(rs, this.options.reconnectInterval);
        return;
      }
      socket.pause();
      this.handshake(rs, url, socket, info, rest ?? Buffer.alloc(0));
    };
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const nl = buf.indexOf(0x0a);
      if (nl < 0) {
        if (buf.length > MAX_INFO_LINE) finish('INFO line too long');
        return;
      }
      const line = buf.toString('utf8', 0, nl).replace(/\r$/, '');
      const m = /^INFO\s+(.*)$/i.exec(line);
      if (m === null) {
        finish(`expected INFO, got ${JSON.stringify(line.slice(0, 64))}`);
        return;
      }
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(m[1]!.trim()) as Record<string, unknown>;
      } catch {
        finish('invalid INFO');
        return;
      }
      // A client or route port answers with an INFO without these (nats-server's wrong-port check).
      if (typeof o.client_id !== 'number' || o.client_id === 0 || !Array.isArray(o.leafnode_urls)) {
        finish('attempted to connect to wrong port');
        return;
      }
      const str = (k: string): string => (typeof o[k] === 'string' ? (o[k] as string) : '');
      finish(
        undefined,
        {
          server_id: str('server_id'),
          server_name: str('server_name'),
          nonce: str('nonce'),
          headers: o.headers === true,
          info_on_connect: o.info_on_connect === true,
          cluster: str('cluster'),
          domain: str('domain'),
          leafnode_urls: (o.leafnode_urls as unknown[]).map(String),
          tls_required: o.tls_required === true,
        },
        buf.subarray(nl + 1),
      );
    };
    const onError = (e: Error): void => finish(e.message);
    const onClose = (): void => finish('connection closed before INFO');
    const timer = setTimeout(() => finish('timed out waiting for INFO'), INFO_WAIT);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  }

  /** TLS if wanted, then the Leaf takes over and sends CONNECT. */
  private handshake(rs: RemoteState, url: URL, socket: Socket, info: HubInfo, rest: Buffer): void {
    const remote = rs.options;
    const wantTls = url.protocol === 'tls:' || remote.tls !== undefined || info.tls_required;
    const start = (s: Socket): void => {
      if (this.stopping) {
        s.destroy();
        return;
      }
      const leaf = new Leaf(
        this,
        s,
        plainIp(socket.remoteAddress ?? url.hostname),
        socket.remotePort ?? leafUrlPort(url),
        this.server.newConnectionId(),
        rs,
      );
      if (s !== socket) leaf.tls = s as Leaf['tls'];
      this.leafs.set(leaf.lid, leaf);
      rs.leaf = leaf;
      rs.attempts = 0;
      const acc =
        remote.account === '' ? this.server.globalAccount : this.server.lookupAccount(remote.account);
      if (acc === undefined) {
        this.server.logger.error(`${leaf} - No local account ${JSON.stringify(remote.account)} for leafnode`);
        leaf.close(ClosedReason.ProtocolViolation);
        return;
      }
      leaf.account = acc;
      this.server.logger.debug(`${leaf} - Leafnode connection created`);
      leaf.attachSolicited(info, remote, url, rs.creds);
      if (rest.length > 0) s.unshift(rest);
      s.resume();
    };
    if (!wantTls) {
      start(socket);
      return;
    }
    const t = remote.tls;
    const opts: ConnectionOptions = {
      socket,
      servername: /^[\d.:]+$/.test(url.hostname) ? undefined : url.hostname,
      ...(t !== undefined && t.caFile !== '' ? { ca: readFileSync(t.caFile) } : {}),
      ...(t !== undefined && t.certFile !== ''
        ? { cert: readFileSync(t.certFile), key: readFileSync(t.keyFile) }
        : {}),
    };
    const tlsSock = nodeTls().connect(opts);
    const timeout = setTimeout(() => tlsSock.destroy(new Error('TLS handshake timeout')), t?.timeout ?? 2000);
    tlsSock.once('secureConnect', () => {
      clearTimeout(timeout);
      tlsSock.removeAllListeners('error');
      tlsSock.pause();
      start(tlsSock as unknown as Socket);
    });
    tlsSock.once('error', (e) => {
      clearTimeout(timeout);
      this.server.logger.error(
        `TLS handshake error with leafnode hub ${JSON.stringify(redactUrl(url.href))}: ${e.message}`,
      );
      socket.destroy();
      this.schedule(rs, this.options.reconnectInterval);
    });
  }

  private schedule(rs: RemoteState, ms: number): void {
    if (this.stopping) return;
    if (rs.timer !== undefined) clearTimeout(rs.timer);
    rs.timer = setTimeout(() => {
      rs.timer = undefined;
      this.connectRemote(rs);
    }, ms);
    rs.timer.unref();
  }

  // ---- both sides --------------------------------------------------------------------------------------

  /** A connection is established: register it and send it everything it should hear about. */
  register(leaf: Leaf): void {
    const acc = leaf.account;
    leaf.registered = true;
    let set = this.byAccount.get(acc);
    if (set === undefined) {
      set = new Set();
      this.byAccount.set(acc, set);
    }
    // A second connection from the same leaf (a stale one we have not noticed is gone) replaces it.
    if (!leaf.solicited && leaf.remoteName !== '') {
      for (const other of set) {
        if (
          other !== leaf &&
          !other.solicited &&
          other.remoteName === leaf.remoteName &&
          other.remoteCluster === leaf.remoteCluster
        ) {
          other.sendErr('Duplicate Remote LeafNode Connection');
          other.close(ClosedReason.DuplicateRoute);
        }
      }
    }
    set.add(leaf);
    this.server.accountConnsChanged(acc);
    const log = this.server.logger;
    if (leaf.solicited) log.notice(`${leaf} - Leafnode connection created for account: ${acc.name} `);
    else log.notice(`${leaf} - Leafnode connection created for account: ${acc.name} `);
    const extras = [this.ldsFor(acc)];
    for (const imp of acc.serviceImports) extras.push(imp.local);
    leaf.sendInitialInterest(acc.sublist.all(), extras);
  }

  /**
   * The service imports of `acc` changed (a live account JWT update): its leaf connections announce
   * the subjects of new imports and withdraw those of imports gone, as nats-server's import
   * subscriptions would (the imports present when a leaf connects are in its initial interest).
   */
  serviceImportsChanged(acc: Account, before: readonly string[], after: readonly string[]): void {
    const set = this.byAccount.get(acc);
    if (set === undefined) return;
    const delta = new Map<string, number>();
    for (const s of before) delta.set(s, (delta.get(s) ?? 0) - 1);
    for (const s of after) delta.set(s, (delta.get(s) ?? 0) + 1);
    for (const l of set) {
      for (const [subject, d] of delta) if (d !== 0) l.importInterestChanged(subject, d);
    }
  }

  /** InterestObserver: pass every change to the leaf connections of the account. */
  interestChanged(acc: Account, sub: Subscription, delta: number): void {
    const set = this.byAccount.get(acc);
    if (set === undefined) return;
    for (const l of set) l.interestChanged(sub, delta);
  }

  leafClosed(leaf: Leaf, reason: ClosedReason): void {
    this.leafs.delete(leaf.lid);
    const set = this.byAccount.get(leaf.account);
    if (set !== undefined && set.delete(leaf)) {
      if (set.size === 0) this.byAccount.delete(leaf.account);
      this.server.accountConnsChanged(leaf.account);
    }
    const log = this.server.logger;
    if (leaf.registered)
      log.notice(`${leaf} - Leafnode connection closed: ${reason} account: ${leaf.account.name}`);
    else log.debug(`${leaf} - Leafnode connection closed: ${reason}`);
    const rs = leaf.remote;
    if (rs !== undefined) {
      rs.leaf = undefined;
      this.schedule(rs, this.options.reconnectInterval);
    }
  }

  // ---- monitoring --------------------------------------------------------------------------------------

  /** Established leaf connections, both sides (/leafz, /varz `leafnodes`). */
  connections(): Leaf[] {
    return [...this.leafs.values()].filter((l) => l.registered && !l.closed);
  }

  status(acc = ''): LeafStatus[] {
    return this.connections()
      .filter((l) => acc === '' || l.account.name === acc)
      .map((l) => ({
        name: l.remoteName !== '' ? l.remoteName : l.remoteId,
        isSpoke: l.spoke,
        account: l.account.name,
        ip: l.host,
        port: l.port,
        rtt: l.rtt,
        inMsgs: l.inMsgs,
        outMsgs: l.outMsgs,
        inBytes: l.inBytes,
        outBytes: l.outBytes,
        subscriptions: [...l.subs.values()].map((s) => s.subject),
      }));
  }
}

/** host and port of our first leaf URL (or the listener's). */
function splitOwn(url: string | undefined, host: string, port: number): [string, number] {
  if (url === undefined) return [host, port];
  const i = url.lastIndexOf(':');
  return [url.slice(0, i).replace(/^\[|\]$/g, ''), Number(url.slice(i + 1))];
}

function shuffle<T>(a: T[]): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
}
