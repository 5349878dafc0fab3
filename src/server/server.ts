/**
 * The composition root: `Server` is the server core (core.ts) with every module built and wired in one
 * place, in nats-server's start order, and the lifecycle around them (start, reload, lame duck mode,
 * shutdown, signals).
 *
 *   core         client listener, connections, delivery, accounts (server/)
 *   jetstream    streams, consumers and their API, when `jetstream` is set (jetstream/)
 *   cluster      routes to the other servers, when `cluster` is set (cluster/)
 *   websocket    the websocket listener, when `websocket` is set (websocket/)
 *   leafnodes    leaf node connections, accepted and solicited, when `leafnodes` is set (leafnode/)
 *   streaming    NATS Streaming clients on JetStream storage, when `streaming` is set (streaming/)
 *   monitor      HTTP(S) monitoring when `httpPort` or `httpsPort` is set, and the same data over NATS in the system
 *                account (monitor/)
 *
 * Modules get the core and, where they need one, each other; the core knows them only through the
 * interfaces it declares (ClusterView, InterestObserver). This is the one file of server/ that imports
 * the modules.
 *
 * ```ts
 * const server = new Server({ port: 0, host: '127.0.0.1' });
 * await server.ready();
 * console.log(server.port);
 * await server.shutdown();
 * ```
 */
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RouteManager } from '../cluster/routes.js';
import { configFromFile, configFromInput, type ServerInput } from '../config/embedded.js';
import { JetStream } from '../jetstream/jetstream.js';
import { LeafNodeManager } from '../leafnode/leafnodes.js';
import { Monitor } from '../monitor/http.js';
import type { MonitorState } from '../monitor/state.js';
import { SystemRequests } from '../monitor/sys-requests.js';
import { StreamingSetupError } from '../streaming/errors.js';
import { Streaming } from '../streaming/streaming.js';
import { WebsocketListener } from '../websocket/listener.js';
import { AccountConns } from './account-conns.js';
import { ClaimsRequests } from './claims-requests.js';
import { ClientEvents } from './client-events.js';
import { ClosedReason } from './closed-reason.js';
import { hostPort, ServerCore } from './core.js';
import { authorizationOf, type ServerConfig } from './options.js';
import { reloadServer } from './reload.js';
import { TSNATS_VERSION, VERSION } from './version.js';

export type { ServerInput } from '../config/embedded.js';
export { hostPort } from './core.js';
export type { ServerConfig } from './options.js';
export type { ServerStats } from './stats.js';

export class Server extends ServerCore {
  /** The HTTP monitor (/varz, /connz, ..., /metrics, dashboard), when `httpPort` or `httpsPort` is set. */
  monitor: Monitor | undefined;
  /** Routes to the other servers of the cluster, when `options.cluster` is set. */
  readonly cluster: RouteManager | undefined;
  /** JetStream (streams and their API), when `options.jetstream` is set. */
  readonly jetstream: JetStream | undefined;
  /** NATS Streaming clients served on JetStream storage, when `options.streaming` is set. */
  readonly streaming: Streaming | undefined;
  /** The websocket listener, when `options.websocket` is set. */
  readonly websocket: WebsocketListener | undefined;
  /** Leaf node connections, when `options.leafnodes` is set. */
  readonly leafnodes: LeafNodeManager | undefined;
  /** `$SYS.REQ.SERVER...` monitoring requests in the system account. */
  private sysRequests: SystemRequests | undefined;
  /** `$SYS.REQ.CLAIMS...` of the full account resolver. */
  private claimsRequests: ClaimsRequests | undefined;
  /** Account connection events (operator mode). */
  private accountConns: AccountConns | undefined;
  private clientEventSender: ClientEvents | undefined;
  private readonly readyPromise: Promise<void>;
  private shuttingDown = false;
  /** In lame duck mode: no new clients, existing ones are being moved away. */
  private ldm = false;
  private shutdownPromise: Promise<void> | undefined;
  private portsFile = '';
  /** fromConfigFile's overrides, put on top of the file again by reload(). */
  private fileOverrides: ServerInput = {};
  private signalHandlers: [NodeJS.Signals, () => void][] = [];

  /**
   * A server with camelCase options and/or configuration file keys in the file's names (see ServerInput);
   * throws ConfigError, with every problem `tsnats -t` would report, when file-style keys are invalid.
   */
  constructor(config: ServerInput = {}) {
    super(configFromInput(config));
    const o = this.options;
    if (o.websocket !== undefined) this.websocket = new WebsocketListener(this, o.websocket);
    if (o.jetstream !== undefined) {
      const js = new JetStream(this, o.jetstream);
      this.jetstream = js;
      this.jetstreamEnabled = true;
      // Operator mode: accounts get JetStream from their JWTs as they are made or updated.
      if (this.jwtAccounts !== undefined)
        this.jwtAccounts.onApplied = (acc, limits) => js.applyJwtLimits(acc, limits);
    }
    if (o.streaming !== undefined) {
      if (this.jetstream === undefined) {
        throw new StreamingSetupError(
          'NATS Streaming needs JetStream: add -js (and -sd <dir>), or -st file|memory --dir <dir>, or a jetstream {} block',
        );
      }
      this.streaming = new Streaming(this, this.jetstream, o.streaming);
    }
    if (o.cluster !== undefined) {
      const cluster = new RouteManager(this, o.cluster);
      this.cluster = cluster;
      this.clusterView = cluster;
      this.delivery.interestObservers.push(cluster);
      this.jetstream?.cluster?.attachRoutes(cluster);
    }
    if (o.leafnodes !== undefined) {
      const leafnodes = new LeafNodeManager(this, o.leafnodes);
      this.leafnodes = leafnodes;
      this.leafCounter = (acc) => leafnodes.leafsOf(acc);
      this.leafLister = (acc) => leafnodes.leafsBoundTo(acc);
      this.delivery.interestObservers.push(leafnodes);
      if (this.jwtAccounts !== undefined) {
        this.jwtAccounts.onServiceImportsChanged = (acc, before, after) =>
          leafnodes.serviceImportsChanged(acc, before, after);
      }
    }
    this.readyPromise = this.start();
    // Keep an unhandled rejection from crashing the process when nobody awaits ready().
    this.readyPromise.catch(() => {});
  }

  /**
   * A server configured by a nats-server configuration file, as `tsnats -c FILE` is; `overrides` go on top
   * as command-line flags do. Throws ConfigError with `file:line:column: reason` for each problem.
   * `reload()` without arguments re-reads the file.
   */
  static fromConfigFile(path: string, overrides: ServerInput = {}): Server {
    const server = new Server(configFromFile(path, overrides));
    server.fileOverrides = overrides;
    return server;
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
    // Streaming reads its channels and state from JetStream's recovered streams.
    this.streaming?.start();
    await this.listenForClients();
    if (this.websocket !== undefined) await this.websocket.start();
    this.io.start();
    if (o.httpPort !== 0 && o.httpsPort !== 0) {
      throw new Error(`can't specify both HTTP (${o.httpPort}) and HTTPs (${o.httpsPort}) ports`);
    }
    if (o.httpsPort !== 0 && o.tls === undefined) throw new Error('TLS cert and key required for HTTPS');
    if (o.httpPort !== 0 || o.httpsPort !== 0) {
      this.monitor = new Monitor(this);
      await this.monitor.start();
    }
    const sys = this.systemAccount;
    if (sys !== undefined) {
      // Monitoring over NATS for the system account, with or without the HTTP monitor.
      let own: Monitor | undefined;
      const state = (): MonitorState => {
        if (this.monitor !== undefined) return this.monitor.state;
        if (own === undefined) own = new Monitor(this);
        return own.state;
      };
      const sysRequests = new SystemRequests(this, sys, state, () => this.reload());
      this.sysRequests = sysRequests;
      sysRequests.start();
      // Operator mode: accounts made from their JWTs later get the system imports too.
      const jwtAccounts = this.jwtAccounts;
      if (jwtAccounts !== undefined) {
        const applied = jwtAccounts.onApplied;
        jwtAccounts.onApplied = (acc, limits) => {
          applied?.(acc, limits);
          sysRequests.addImports(acc);
        };
      }
      const jsCluster = this.jetstream?.cluster;
      if (jsCluster !== undefined) jsCluster.onNewServer = () => sysRequests.sendStatsz();
      // The full or cache resolver's claims requests (operator mode).
      const trust = this.auth.operator;
      if (trust?.store !== undefined && this.jwtAccounts !== undefined) {
        this.claimsRequests = new ClaimsRequests(this, sys, trust, trust.store, this.jwtAccounts, () =>
          sysRequests.serverInfo(),
        );
        this.claimsRequests.start();
      }
      // Accounts' connection counts (which, in operator mode, count against JWT limits cluster-wide) and
      // their clients' connect and disconnect events.
      this.accountConns = new AccountConns(this, sys, () => sysRequests.serverInfo());
      this.accountConns.start();
      this.clientEventSender = new ClientEvents(this, sys, () => sysRequests.serverInfo());
      this.clientEventSender.start();
    }
    const leafnodes = this.leafnodes;
    if (leafnodes !== undefined) {
      // The leaf listener first: its URL goes into the route INFO.
      await leafnodes.listen();
      if (this.cluster !== undefined) {
        if (!leafnodes.options.noAdvertise) this.cluster.setLeafUrls(leafnodes.ownUrls().slice(0, 1));
        this.cluster.onLeafUrlsChanged = (urls) => leafnodes.setPeerLeafUrls(urls);
      }
    }
    if (this.cluster !== undefined) await this.cluster.start();
    leafnodes?.solicit();
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

    const ws = this.websocket;
    if (ws !== undefined) {
      const wsHost = ws.host === '0.0.0.0' || ws.host === '' ? '127.0.0.1' : ws.host;
      ports.websocket = [`${ws.scheme}://${hostPort(wsHost, ws.port)}`];
    }
    // Written whole, then renamed: a harness polling the directory never reads half a file.
    const tmp = `${this.portsFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(ports));
    renameSync(tmp, this.portsFile);
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
    const reopen = (): void => this.logger.reopen();
    process.on('SIGUSR1', reopen);
    this.signalHandlers.push(['SIGUSR1', reopen]);
  }

  /**
   * Apply a new configuration without dropping connections: limits, logging, users and permissions
   * (clients are checked again). Throws ReloadError for options that cannot change while running.
   */
  async reload(input?: ServerInput): Promise<void> {
    let config: ServerConfig;
    if (input !== undefined) config = configFromInput(input);
    else if (this.options.configFile !== '')
      config = configFromFile(this.options.configFile, this.fileOverrides);
    else throw new Error('reload: no configuration given and the server has no configuration file');
    await reloadServer(this, config, this.authorization);
    this.authorization = authorizationOf(config);
  }

  /** Stop accepting clients on every listener (TCP and websocket); resolves once their clients are gone. */
  protected override closeListener(): Promise<void> {
    return Promise.all([super.closeListener(), this.websocket?.close()]).then(() => undefined);
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
    this.sysRequests?.sendLameDuck();
    await this.readyPromise.catch(() => {});
    // Stop accepting now; the close completes once the remaining clients are gone.
    this.accepting = false;
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
    this.io.flushAll();
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
    this.accepting = false;
    this.shutdownPromise = (async () => {
      this.logger.notice('Initiating Shutdown...');
      await this.readyPromise.catch(() => {});
      const jsCluster = this.jetstream?.cluster;
      if (jsCluster !== undefined) {
        // As nats-server: hand over the groups this server leads, and say it is going, while the routes
        // still carry it (a leader elected by timeout would take seconds).
        jsCluster.stepDownAll();
        this.sysRequests?.sendShutdown();
        await new Promise((r) => setImmediate(r));
        this.delivery.drain();
        this.io.flushAll();
      }
      this.sysRequests?.stop();
      this.claimsRequests?.stop();
      this.accountConns?.stop();
      this.clientEventSender?.stop();
      this.jwtAccounts?.stop();
      this.auth.operator?.store?.close();
      await this.monitor?.stop();
      const leafsClosed = this.leafnodes?.shutdown();
      const routesClosed = this.cluster?.shutdown();
      this.io.stop();
      for (const [sig, h] of this.signalHandlers) process.off(sig, h);
      const closed = this.closeListener();
      this.io.flushAll();
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
      this.streaming?.stop();
      this.jetstream?.stop();
      await routesClosed;
      await leafsClosed;
      if (this.portsFile !== '') tryUnlink(this.portsFile);
      if (this.options.pidFile !== '') tryUnlink(this.options.pidFile);
      this.logger.notice('Server Exiting..');
      this.logger.close();
    })();
    return this.shutdownPromise;
  }
}

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
