/**
 * The monitoring data over NATS, as nats-server serves it to the system account (server/events.go):
 * `$SYS.REQ.SERVER.PING.<EP>` (every server answers) and `$SYS.REQ.SERVER.<server id>.<EP>` (this one),
 * for VARZ, CONNZ, SUBSZ, ROUTEZ, GATEWAYZ, LEAFZ, ACCOUNTZ, JSZ, HEALTHZ, RAFTZ (2.10), and IDZ (2.10: the bare
 * `{name, host, id}`); the per-account requests of account-requests.ts; and `$SYS.REQ.USER.INFO`
 * (user-info.ts). The request body may carry the endpoint's options as JSON (nats-server's
 * *EventOptions: the endpoint options plus server filters); the reply is `{"server": {...}, "data": {...}}`
 * or `{"server": {...}, "error": {"code", "description"}}`.
 */
import { availableParallelism } from 'node:os';
import type { Account, ServiceImport } from '../server/account.js';
import type { Subscription } from '../server/subscription.js';
import { VERSION } from '../server/version.js';
import {
  type AccountEndpoint,
  accountEndpoints,
  accountStatzRequest,
  addSystemImports,
  NO_REPLY,
} from './account-requests.js';
import { accountz, parseAccountzQuery } from './accountz.js';
import { kickConnection, lameDuckClient, requestedCid } from './client-control.js';
import { connz, parseConnzQuery } from './connz.js';
import { monitorJson, rfc3339 } from './format.js';
import { gatewayz, parseGatewayzQuery } from './gatewayz.js';
import { healthz, healthzOptionsFromJson } from './healthz.js';
import { jetStreamStats, jsz, parseJszQuery } from './jsz.js';
import { leafz, parseLeafzQuery } from './leafz.js';
import { raftz, raftzOptionsFromJson } from './raftz.js';
import { parseRoutezQuery, routez } from './routez.js';
import type { MonitoredServer, MonitorState } from './state.js';
import { parseSubszQuery, subsz } from './subsz.js';
import { userInfo } from './user-info.js';
import { varz } from './varz.js';

type Json = Record<string, unknown>;

/** JSON option names (nats-server's struct tags) -> the HTTP query parameter the parsers understand. */
const QUERY_NAMES: Record<string, string> = {
  sort: 'sort',
  auth: 'auth',
  subscriptions: 'subs',
  offset: 'offset',
  limit: 'limit',
  cid: 'cid',
  state: 'state',
  user: 'user',
  acc: 'acc',
  test: 'test',
  account: 'acc',
  accounts: 'accounts',
  streams: 'streams',
  consumer: 'consumers',
  config: 'config',
  leader_only: 'leader-only',
};

const CONN_STATES = ['open', 'closed', 'any'];

/** Turn a request's JSON options into the query the HTTP endpoint would get. */
function toQuery(opts: Json): URLSearchParams {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(opts)) {
    if (v === null || v === undefined || v === '' || v === false || v === 0) continue;
    if (k === 'subscriptions_detail' && v === true) {
      q.set('subs', 'detail');
      continue;
    }
    const name = QUERY_NAMES[k];
    if (name === undefined) continue;
    // Connz's `state` is nats-server's ConnState number in JSON: 0 open, 1 closed, 2 any.
    if (k === 'state' && typeof v === 'number') {
      q.set('state', CONN_STATES[v] ?? String(v));
      continue;
    }
    q.set(name, v === true ? '1' : String(v));
  }
  return q;
}

/** An endpoint: the request's options as a query (and as JSON); returns the data, or NO_REPLY. */
type Endpoint = (q: URLSearchParams, opts: Json) => unknown;

/** nats-server's statsz heartbeat: first after 250 ms, doubling up to 30 s (events.go heartbeatStatsz). */
const STATSZ_FIRST = 250;
const STATSZ_MAX = 30_000;

/** nats-server 2.10's ServerCapability bit for JetStream (`flags` of ServerInfo). */
const CAPABILITY_JETSTREAM = 1;

/** An account endpoint for the account named in `$SYS.REQ.ACCOUNT.<account>.<EP>`. */
function accountBound(subject: string, ep: AccountEndpoint): Endpoint {
  const tokens = subject.split('.');
  return (q, opts) => {
    if (tokens.length !== 5) throw new Error(`subject ${JSON.stringify(subject)} is malformed`);
    return ep(tokens[3]!, opts, q);
  };
}

export class SystemRequests {
  private readonly subs: Subscription[] = [];
  /** The system imports this added to the accounts, removed again by stop(). */
  private readonly imports = new Map<Account, ServiceImport[]>();
  private seq = 0;
  private statszDelay = STATSZ_FIRST;
  private statszTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly server: MonitoredServer,
    private readonly account: Account,
    private readonly state: () => MonitorState,
    /** The server's configuration reload, for `$SYS.REQ.SERVER.<id>.RELOAD`. */
    private readonly reload?: () => Promise<void>,
  ) {}

  start(): void {
    const s = this.server;
    const endpoints: Record<string, Endpoint> = {
      VARZ: () => varz(s, this.state()),
      CONNZ: (q) => connz(s, parseConnzQuery(q)),
      SUBSZ: (q) => subsz(s, parseSubszQuery(q)),
      ROUTEZ: (q) => routez(s, parseRoutezQuery(q)),
      GATEWAYZ: (q) => gatewayz(s, parseGatewayzQuery(q)),
      LEAFZ: (q) => leafz(s, parseLeafzQuery(q)),
      ACCOUNTZ: (q) => accountz(s, parseAccountzQuery(q)),
      JSZ: (q) => jsz(s, parseJszQuery(q)),
      HEALTHZ: (_q, opts) => healthz(s, this.state(), healthzOptionsFromJson(opts)),
      RAFTZ: (_q, opts) => raftz(s, raftzOptionsFromJson(opts)) ?? null,
    };
    for (const [name, ep] of Object.entries(endpoints)) {
      for (const subject of [`$SYS.REQ.SERVER.PING.${name}`, `$SYS.REQ.SERVER.${s.id}.${name}`]) {
        this.subs.push(
          s.subscribeInternal(this.account, subject, (_subj, reply, hdr, buf, start, size) => {
            if (reply === '') return;
            const body = buf.toString('utf8', hdr > 0 ? start + hdr : start, start + size);
            this.answer(reply, body, ep);
          }),
        );
      }
    }
    // IDZ (2.10): the server's identity as is, no envelope, no options.
    for (const subject of ['$SYS.REQ.SERVER.PING.IDZ', `$SYS.REQ.SERVER.${s.id}.IDZ`]) {
      this.subs.push(
        s.subscribeInternal(this.account, subject, (_subj, reply) => {
          if (reply === '') return;
          const id = { name: s.name, host: s.options.host, id: s.id };
          this.server.delivery.defer(this.account, reply, '', null, Buffer.from(JSON.stringify(id)));
        }),
      );
    }
    this.startAccountRequests();
    this.startControlRequests();
    // Server statistics (statsz): on a back-off timer, when asked, and when another server appears (the
    // clustered JetStream layer calls sendStatsz). Go servers learn from it which servers run JetStream.
    const statsz = (_subj: string, reply: string): void => {
      if (reply === '') this.sendStatsz();
      else
        this.server.delivery.defer(
          this.account,
          reply,
          '',
          null,
          Buffer.from(JSON.stringify(this.statszMsg())),
        );
    };
    for (const subject of [
      '$SYS.REQ.SERVER.PING',
      '$SYS.REQ.SERVER.PING.STATSZ',
      `$SYS.REQ.SERVER.${s.id}.STATSZ`,
    ]) {
      this.subs.push(s.subscribeInternal(this.account, subject, statsz));
    }
    this.scheduleStatsz();
  }

  private scheduleStatsz(): void {
    this.statszTimer = setTimeout(() => {
      this.sendStatsz();
      this.statszDelay = Math.min(this.statszDelay * 2, STATSZ_MAX);
      this.scheduleStatsz();
    }, this.statszDelay);
    this.statszTimer.unref();
  }

  /** Publish this server's statistics on `$SYS.SERVER.<id>.STATSZ` (deferred). */
  sendStatsz(): void {
    const data = Buffer.from(JSON.stringify(this.statszMsg()));
    this.server.delivery.defer(this.account, `$SYS.SERVER.${this.server.id}.STATSZ`, '', null, data);
  }

  /** nats-server's ServerStatsMsg. */
  private statszMsg(): Json {
    const s = this.server;
    const st = s.stats;
    const statsz: Json = {
      start: rfc3339(s.startTime.getTime()),
      mem: process.memoryUsage.rss(),
      cores: availableParallelism(),
      cpu: 0,
      connections: s.clients.size,
      total_connections: st.totalConnections,
      active_accounts: s.accounts.size,
      subscriptions: s.numSubscriptions(),
      sent: { msgs: st.outMsgs, bytes: st.outBytes },
      received: { msgs: st.inMsgs, bytes: st.inBytes },
      slow_consumers: st.slowConsumers,
    };
    const routes = s.cluster?.routez() ?? [];
    if (routes.length > 0) {
      statsz.routes = routes.map((r) => ({
        rid: r.rid,
        name: r.remoteName,
        sent: { msgs: r.outMsgs, bytes: r.outBytes },
        received: { msgs: r.inMsgs, bytes: r.inBytes },
        pending: r.pendingSize,
      }));
    }
    statsz.active_servers = routes.length + 1;
    const js = s.jetstream;
    if (js !== undefined) {
      const cfg = js.configInfo();
      const jsOut: Json = {
        config: { max_memory: cfg.max_memory, max_storage: cfg.max_storage },
        stats: jetStreamStats(js),
      };
      const meta = js.cluster?.metaClusterInfo(true);
      if (meta !== undefined) jsOut.meta = meta;
      statsz.jetstream = jsOut;
    }
    // 2.10: GOMAXPROCS; one JavaScript thread runs the server, as /varz says.
    statsz.gomaxprocs = 1;
    return { server: this.serverInfo(), statsz };
  }

  stop(): void {
    if (this.statszTimer !== undefined) clearTimeout(this.statszTimer);
    this.statszTimer = undefined;
    for (const sub of this.subs) this.server.unsubscribeInternal(this.account, sub);
    this.subs.length = 0;
    for (const [acc, added] of this.imports) acc.removeServiceImports((i) => added.includes(i));
    this.imports.clear();
  }

  /**
   * 2.10's per-server control requests: RELOAD (the configuration), KICK and LDM (one client, see
   * client-control.ts). The reply carries no data on success, an error (500) otherwise.
   */
  private startControlRequests(): void {
    const s = this.server;
    const control = (name: string, act: (cid: number) => void): void => {
      this.subs.push(
        s.subscribeInternal(
          this.account,
          `$SYS.REQ.SERVER.${s.id}.${name}`,
          (_subj, reply, hdr, buf, start, size) => {
            const body = buf.toString('utf8', hdr > 0 ? start + hdr : start, start + size);
            // A body that is not a request is dropped without an answer, as nats-server does.
            const cid = requestedCid(body);
            if (cid === undefined || reply === '') return;
            this.answer(reply, body, () => {
              act(cid);
              return undefined;
            });
          },
        ),
      );
    };
    control('KICK', (cid) => kickConnection(s, cid));
    control('LDM', (cid) => lameDuckClient(s, cid));
    const reload = this.reload;
    if (reload === undefined) return;
    this.subs.push(
      s.subscribeInternal(
        this.account,
        `$SYS.REQ.SERVER.${s.id}.RELOAD`,
        (_subj, reply, hdr, buf, start, size) => {
          const body = buf.toString('utf8', hdr > 0 ? start + hdr : start, start + size);
          // As nats-server's zReq: nothing happens without a reply subject, or for another server.
          if (reply === '' || this.filteredOut(body)) return;
          reload().then(
            () => this.answer(reply, body, () => undefined),
            (e: unknown) =>
              this.answer(reply, body, () => {
                throw e;
              }),
          );
        },
      ),
    );
  }

  /**
   * `$SYS.REQ.ACCOUNT.<account>.<EP>`, `$SYS.REQ.ACCOUNT.PING.STATZ` and `$SYS.REQ.USER.<account>.INFO`,
   * and the imports that let every account reach some of them (account-requests.ts).
   */
  private startAccountRequests(): void {
    const s = this.server;
    for (const [name, ep] of Object.entries(accountEndpoints(s))) {
      this.subs.push(
        s.subscribeInternal(
          this.account,
          `$SYS.REQ.ACCOUNT.*.${name}`,
          (subject, reply, hdr, buf, start, size) => {
            if (reply === '') return;
            const body = buf.toString('utf8', hdr > 0 ? start + hdr : start, start + size);
            this.answer(reply, body, accountBound(subject, ep));
          },
        ),
      );
    }
    this.subs.push(
      s.subscribeInternal(
        this.account,
        '$SYS.REQ.ACCOUNT.PING.STATZ',
        (_subj, reply, hdr, buf, start, size) => {
          if (reply === '') return;
          const body = buf.toString('utf8', hdr > 0 ? start + hdr : start, start + size);
          this.answer(reply, body, (_q, opts) => accountStatzRequest(s, opts));
        },
      ),
    );
    this.subs.push(
      s.subscribeInternal(this.account, '$SYS.REQ.USER.*.INFO', (_subj, reply) => {
        // Answered by the server the requester is connected to: the one that sees it as the producer
        // (nats-server takes the requester from the shared request info, or the sending client).
        const client = s.delivery.producer;
        if (reply === '' || client === null) return;
        const response = { server: this.serverInfo(), data: userInfo(client, Date.now()) };
        s.delivery.defer(this.account, reply, '', null, Buffer.from(monitorJson(response)));
      }),
    );
    for (const acc of s.accounts.values()) this.addImports(acc);
  }

  /** Give an account the system imports (also for accounts made later from their JWTs). */
  addImports(acc: Account): void {
    const added = addSystemImports(acc, this.account);
    if (added.length > 0) this.imports.set(acc, [...(this.imports.get(acc) ?? []), ...added]);
  }

  /** 2.10: tell the other servers that this one entered lame duck mode (`$SYS.SERVER.<id>.LAMEDUCK`). */
  sendLameDuck(): void {
    const data = Buffer.from(JSON.stringify(this.serverInfo()));
    this.server.delivery.defer(this.account, `$SYS.SERVER.${this.server.id}.LAMEDUCK`, '', null, data);
  }

  /** Tell the other servers that this one is going away (`$SYS.SERVER.<id>.SHUTDOWN`), right now. */
  sendShutdown(): void {
    const data = Buffer.from(JSON.stringify(this.serverInfo()));
    this.server.publishInternal(this.account, `$SYS.SERVER.${this.server.id}.SHUTDOWN`, '', null, data);
  }

  /** The `server` object of every system reply and event (nats-server's ServerInfo), numbered. */
  serverInfo(): Json {
    const s = this.server;
    const info: Json = { name: s.name, host: s.options.host, id: s.id };
    if (s.cluster !== undefined) info.cluster = s.cluster.clusterName;
    const domain = s.options.jetstream?.domain ?? '';
    if (domain !== '') info.domain = domain;
    info.ver = VERSION;
    if (s.options.tags.length > 0) info.tags = [...s.options.tags];
    info.jetstream = s.jetstream !== undefined;
    // 2.10's capability flags: JetStream only (tsnats does not send binary stream snapshots).
    info.flags = s.jetstream !== undefined ? CAPABILITY_JETSTREAM : 0;
    info.seq = ++this.seq;
    info.time = rfc3339(Date.now());
    return info;
  }

  /** True when the request's filters name other servers (a body that does not parse is not filtered). */
  private filteredOut(body: string): boolean {
    if (body.trim() === '') return false;
    try {
      const v: unknown = JSON.parse(body);
      return v !== null && typeof v === 'object' && !Array.isArray(v) && !this.matchesFilter(v as Json);
    } catch {
      return false;
    }
  }

  /** Answer one request; a request filtered to other servers gets no answer at all (as nats-server). */
  private answer(reply: string, body: string, ep: Endpoint): void {
    let opts: Json = {};
    let error: { code: number; description: string } | undefined;
    if (body.trim() !== '') {
      try {
        const v: unknown = JSON.parse(body);
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) opts = v as Json;
      } catch (e) {
        error = { code: 400, description: (e as Error).message };
      }
    }
    if (error === undefined && !this.matchesFilter(opts)) return;
    const response: Json = { server: this.serverInfo() };
    if (error === undefined) {
      try {
        const data = ep(toQuery(opts), opts);
        if (data === NO_REPLY) return;
        response.data = data;
      } catch (e) {
        error = { code: 500, description: (e as Error).message };
      }
    }
    if (error !== undefined) response.error = error;
    // Inside a delivery: deferred (delivery.ts, re-entrancy rule).
    this.server.delivery.defer(this.account, reply, '', null, Buffer.from(monitorJson(response)));
  }

  /**
   * nats-server's EventFilterOptions: server_name, cluster and host must contain the given text, every tag
   * given must be one of ours, and the domain must be ours.
   */
  private matchesFilter(opts: Json): boolean {
    const s = this.server;
    const name = opts.server_name;
    if (typeof name === 'string' && name !== '' && !s.name.includes(name)) return false;
    const cluster = opts.cluster;
    if (typeof cluster === 'string' && cluster !== '' && !(s.cluster?.clusterName ?? '').includes(cluster))
      return false;
    const host = opts.host;
    if (typeof host === 'string' && host !== '' && !s.options.host.includes(host)) return false;
    const tags = opts.tags;
    if (Array.isArray(tags) && tags.some((t) => typeof t === 'string' && !s.options.tags.includes(t))) {
      return false;
    }
    const domain = opts.domain;
    if (typeof domain === 'string' && domain !== '' && domain !== (s.options.jetstream?.domain ?? ''))
      return false;
    return true;
  }
}
