/**
 * The monitoring data over NATS, as nats-server serves it to the system account (server/events.go):
 * `$SYS.REQ.SERVER.PING.<EP>` (every server answers) and `$SYS.REQ.SERVER.<server id>.<EP>` (this one),
 * for VARZ, CONNZ, SUBSZ, ROUTEZ, GATEWAYZ, LEAFZ, ACCOUNTZ, JSZ, HEALTHZ. The request body may carry the
 * endpoint's options as JSON (nats-server's *EventOptions: the endpoint options plus server filters); the
 * reply is `{"server": {...}, "data": {...}}` or `{"server": {...}, "error": {"code", "description"}}`.
 */
import type { Account } from '../server/account.js';
import type { Subscription } from '../server/subscription.js';
import { VERSION } from '../server/version.js';
import { accountz, parseAccountzQuery } from './accountz.js';
import { connz, parseConnzQuery } from './connz.js';
import { rfc3339 } from './format.js';
import { gatewayz, parseGatewayzQuery } from './gatewayz.js';
import { healthz, parseHealthzQuery } from './healthz.js';
import { jsz, parseJszQuery } from './jsz.js';
import { leafz, parseLeafzQuery } from './leafz.js';
import { parseRoutezQuery, routez } from './routez.js';
import type { MonitoredServer, MonitorState } from './state.js';
import { parseSubszQuery, subsz } from './subsz.js';
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
    q.set(name, v === true ? '1' : String(v));
  }
  return q;
}

type Endpoint = (q: URLSearchParams) => unknown;

export class SystemRequests {
  private readonly subs: Subscription[] = [];
  private seq = 0;

  constructor(
    private readonly server: MonitoredServer,
    private readonly account: Account,
    private readonly state: () => MonitorState,
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
      HEALTHZ: (q) => healthz(s, this.state(), parseHealthzQuery(q)),
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
  }

  stop(): void {
    for (const sub of this.subs) this.server.unsubscribeInternal(this.account, sub);
    this.subs.length = 0;
  }

  private serverInfo(): Json {
    const s = this.server;
    const info: Json = { name: s.name, host: s.options.host, id: s.id };
    if (s.cluster !== undefined) info.cluster = s.cluster.clusterName;
    info.ver = VERSION;
    info.seq = ++this.seq;
    info.jetstream = s.jetstream !== undefined;
    info.time = rfc3339(Date.now());
    return info;
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
        response.data = ep(toQuery(opts));
      } catch (e) {
        error = { code: 500, description: (e as Error).message };
      }
    }
    if (error !== undefined) response.error = error;
    // Inside a delivery: deferred (delivery.ts, re-entrancy rule).
    this.server.delivery.defer(this.account, reply, '', null, Buffer.from(JSON.stringify(response)));
  }

  /** nats-server's EventFilterOptions: server_name, cluster and host must match when given. */
  private matchesFilter(opts: Json): boolean {
    const s = this.server;
    const name = opts.server_name;
    if (typeof name === 'string' && name !== '' && !s.name.includes(name)) return false;
    const cluster = opts.cluster;
    if (typeof cluster === 'string' && cluster !== '' && !(s.cluster?.clusterName ?? '').includes(cluster))
      return false;
    const host = opts.host;
    if (typeof host === 'string' && host !== '' && !s.options.host.includes(host)) return false;
    return true;
  }
}
