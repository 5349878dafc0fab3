/**
 * The HTTP monitor against an embedded tsnats with known traffic from real clients: exact counters in
 * /varz and /connz, /connz sorting, paging and filters, closed connections with their reasons, /subsz,
 * /healthz, errors and 404s, and /metrics parsed by a Prometheus text parser.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { parseCommandLine } from '../../src/cli/flags.js';
import { Server } from '../../src/index.js';
import type { ConnInfo, Connz } from '../../src/monitor/connz.js';
import { goDuration, myUptime, rfc3339 } from '../../src/monitor/format.js';
import type { Subsz } from '../../src/monitor/subsz.js';
import type { Varz } from '../../src/monitor/varz.js';
import { deferred, within } from '../helpers/async.js';
import { startServer, urlOf } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

/** A family as parse-prometheus-text-format returns it (values are strings). */
interface PromFamily {
  name: string;
  help: string;
  type: string;
  metrics: { value: string; labels?: Record<string, string> }[];
}
const require = createRequire(import.meta.url);
const parsePrometheus = require('parse-prometheus-text-format') as (text: string) => PromFamily[];

interface HttpReply {
  status: number;
  type: string;
  text: string;
}

async function get(server: Server, path: string): Promise<HttpReply> {
  const r = await fetch(`http://127.0.0.1:${server.monitor!.port}${path}`);
  return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
}

async function getJSON<T>(server: Server, path: string): Promise<T> {
  const r = await get(server, path);
  assert.equal(r.status, 200, `${path}: ${r.text}`);
  assert.equal(r.type, 'application/json');
  return JSON.parse(r.text) as T;
}

function nc(server: Server, name: string): Promise<NatsConnection> {
  return connect({ servers: urlOf(server), reconnect: false, name });
}

const byName = (cz: Connz, name: string): ConnInfo => {
  const c = cz.connections.find((x) => x.name === name);
  assert.ok(c, `connection ${name} in ${JSON.stringify(cz.connections.map((x) => x.name))}`);
  return c;
};

describe('format helpers', () => {
  test('myUptime matches nats-server', () => {
    assert.equal(myUptime(0), '0s');
    assert.equal(myUptime(999), '0s');
    assert.equal(myUptime(62_000), '1m2s');
    assert.equal(myUptime(3600_000 + 5_000), '1h0m5s');
    assert.equal(myUptime((2 * 86400 + 3600) * 1000), '2d1h0m0s');
    assert.equal(myUptime((366 * 86400 + 3 * 3600 + 4 * 60 + 5) * 1000), '1y1d3h4m5s');
  });

  test('goDuration matches Go time.Duration.String', () => {
    assert.equal(goDuration(0), '0s');
    assert.equal(goDuration(850), '850ns');
    assert.equal(goDuration(1500), '1.5µs');
    assert.equal(goDuration(355_000), '355µs');
    assert.equal(goDuration(1_000_000), '1ms');
    assert.equal(goDuration(12_300_000), '12.3ms');
    assert.equal(goDuration(1_500_000_000), '1.5s');
    assert.equal(goDuration(123_000_000_000n), '2m3s');
    assert.equal(goDuration(3_600_500_000_000n), '1h0m0.5s');
  });

  test('rfc3339 trims the fraction as Go does', () => {
    assert.equal(rfc3339(Date.UTC(2026, 10, 28, 17, 25, 2, 500)), '2026-11-28T17:25:02.5Z');
    assert.equal(rfc3339(Date.UTC(2026, 10, 28, 17, 25, 2, 0)), '2026-11-28T17:25:02Z');
    assert.equal(rfc3339(Date.UTC(2026, 10, 28, 17, 25, 10, 120)), '2026-11-28T17:25:10.12Z');
  });

  test('-m/--http_port sets httpPort', () => {
    assert.equal(parseCommandLine(['-m', '-1']).config.httpPort, -1);
    assert.equal(parseCommandLine(['--http_port=8222']).config.httpPort, 8222);
  });
});

describe('monitor with known traffic', () => {
  const N = 50;
  const S = 100;
  let server: Server;
  let pub: NatsConnection;
  let sub1: NatsConnection;
  let sub2: NatsConnection;
  let portsDir: string;

  before(async () => {
    portsDir = mkdtempSync(join(tmpdir(), 'tsnats-mon-'));
    server = await startServer({ httpPort: -1, portsFileDir: portsDir });
    sub1 = await nc(server, 'sub1');
    sub2 = await nc(server, 'sub2');
    pub = await nc(server, 'pub');
    let got1 = 0;
    let got2 = 0;
    const done1 = deferred();
    const done2 = deferred();
    sub1.subscribe('m.>', {
      callback: () => {
        if (++got1 === N) done1.resolve();
      },
    });
    sub1.subscribe('unused.subject', { callback: () => {} });
    sub2.subscribe('m.x', {
      queue: 'q',
      callback: () => {
        if (++got2 === N) done2.resolve();
      },
    });
    await Promise.all([sub1.flush(), sub2.flush()]);
    const payload = new Uint8Array(S).fill(0x61);
    for (let i = 0; i < N; i++) pub.publish('m.x', payload);
    await pub.flush();
    await within(Promise.all([done1.promise, done2.promise]), 5000, 'subscribers to get every message');
    // One connection that subscribed and left.
    const gone = await nc(server, 'gone');
    gone.subscribe('gone.>', { callback: () => {} });
    await gone.flush();
    await gone.close();
    await waitFor(() => server.closedClients.length === 1, 3000, 'the closed connection');
  });

  after(async () => {
    await Promise.all([pub?.close(), sub1?.close(), sub2?.close()]);
    await server?.shutdown();
    rmSync(portsDir, { recursive: true, force: true });
  });

  test('the ports file lists the monitoring URL', () => {
    const ports = JSON.parse(readFileSync(join(portsDir, `nats-server_${process.pid}.ports`), 'utf8')) as {
      nats: string[];
      monitoring: string[];
    };
    assert.deepEqual(ports.monitoring, [`http://127.0.0.1:${server.monitor!.port}`]);
    assert.deepEqual(ports.nats, [urlOf(server)]);
  });

  test('/varz counts exactly', async () => {
    const v = await getJSON<Varz>(server, '/varz');
    assert.equal(v.server_id, server.id);
    assert.equal(v.in_msgs, N);
    assert.equal(v.in_bytes, N * S);
    assert.equal(v.out_msgs, 2 * N);
    assert.equal(v.out_bytes, 2 * N * S);
    assert.equal(v.connections, 3);
    assert.equal(v.total_connections, 4);
    assert.equal(v.subscriptions, 3);
    assert.equal(v.slow_consumers, 0);
    assert.equal(v.port, server.port);
    assert.equal(v.http_port, -1);
    assert.equal(v.http_host, '127.0.0.1');
    assert.equal(v.ping_interval, 120e9);
    assert.equal(v.write_deadline, 10e9);
    assert.equal(v.auth_timeout, 2);
    assert.match(v.uptime, /^\d+s$/);
    assert.ok(v.mem > 0 && v.cores > 0 && v.cpu >= 0);
    assert.ok(v.http_req_stats['/varz']! >= 1);
    assert.deepEqual(v.cluster, {});
    assert.deepEqual(v.jetstream, {});
  });

  test('/connz counts exactly per connection', async () => {
    const cz = await getJSON<Connz>(server, '/connz');
    assert.equal(cz.num_connections, 3);
    assert.equal(cz.total, 3);
    assert.equal(cz.limit, 1024);
    assert.equal(cz.offset, 0);
    const p = byName(cz, 'pub');
    assert.deepEqual([p.in_msgs, p.in_bytes, p.out_msgs, p.out_bytes, p.subscriptions], [N, N * S, 0, 0, 0]);
    const s1 = byName(cz, 'sub1');
    assert.deepEqual([s1.in_msgs, s1.out_msgs, s1.out_bytes, s1.subscriptions], [0, N, N * S, 2]);
    const s2 = byName(cz, 'sub2');
    assert.deepEqual([s2.in_msgs, s2.out_msgs, s2.out_bytes, s2.subscriptions], [0, N, N * S, 1]);
    for (const c of cz.connections) {
      assert.equal(c.kind, 'Client');
      assert.equal(c.type, 'nats');
      assert.equal(c.ip, '127.0.0.1');
      assert.equal(c.lang, 'nats.js');
      assert.equal(c.pending_bytes, 0);
      assert.match(c.rtt, /^(0s|\d+(\.\d+)?(ns|µs|ms|s))$/);
      assert.equal(c.stop, undefined);
      assert.equal(c.subscriptions_list, undefined);
    }
    assert.deepEqual(
      cz.connections.map((c) => c.cid),
      [s1.cid, s2.cid, p.cid].sort((a, b) => a - b),
    );
  });

  test('/connz sorts as nats-server', async () => {
    const names = async (q: string): Promise<string[]> =>
      (await getJSON<Connz>(server, `/connz?${q}`)).connections.map((c) => c.name ?? '');
    assert.deepEqual(await names('sort=cid'), ['sub1', 'sub2', 'pub']);
    assert.deepEqual(await names('sort=start'), ['sub1', 'sub2', 'pub']);
    assert.deepEqual(await names('sort=msgs_from'), ['pub', 'sub1', 'sub2']);
    assert.deepEqual(await names('sort=bytes_from'), ['pub', 'sub1', 'sub2']);
    assert.deepEqual(await names('sort=msgs_to'), ['sub1', 'sub2', 'pub']);
    assert.deepEqual(await names('sort=bytes_to'), ['sub1', 'sub2', 'pub']);
    assert.deepEqual(await names('sort=subs'), ['sub1', 'sub2', 'pub']);
    assert.deepEqual(await names('sort=pending'), ['sub1', 'sub2', 'pub']);
    for (const sort of ['last', 'idle', 'uptime', 'rtt']) {
      const cz = await getJSON<Connz>(server, `/connz?sort=${sort}`);
      assert.equal(cz.num_connections, 3, sort);
      const t = (c: ConnInfo): number => Date.parse(sort === 'uptime' ? c.start : c.last_activity);
      for (let i = 1; i < cz.connections.length; i++) {
        const [a, b] = [t(cz.connections[i - 1]!), t(cz.connections[i]!)];
        // last: most recent activity first; idle: least recent first; uptime: youngest first.
        if (sort === 'last' || sort === 'uptime') assert.ok(a >= b, `${sort} order`);
        if (sort === 'idle') assert.ok(a <= b, `${sort} order`);
      }
    }
    const bad = await get(server, '/connz?sort=bogus');
    assert.deepEqual([bad.status, bad.text], [400, 'invalid sorting option: bogus']);
    const stop = await get(server, '/connz?sort=stop');
    assert.deepEqual([stop.status, stop.text], [400, 'sort by stop only valid on closed connections']);
    const reason = await get(server, '/connz?sort=reason&state=any');
    assert.deepEqual([reason.status, reason.text], [400, 'sort by reason only valid on closed connections']);
  });

  test('/connz pages with offset and limit, filters by cid', async () => {
    const all = await getJSON<Connz>(server, '/connz');
    const cids = all.connections.map((c) => c.cid);
    const page = await getJSON<Connz>(server, '/connz?offset=1&limit=1');
    assert.deepEqual(
      [page.num_connections, page.total, page.offset, page.limit, page.connections[0]!.cid],
      [1, 3, 1, 1, cids[1]],
    );
    const tail = await getJSON<Connz>(server, '/connz?offset=2&limit=5');
    assert.deepEqual(
      tail.connections.map((c) => c.cid),
      [cids[2]],
    );
    const past = await getJSON<Connz>(server, '/connz?offset=10');
    assert.deepEqual([past.num_connections, past.total, past.connections], [0, 3, []]);
    const one = await getJSON<Connz>(server, `/connz?cid=${cids[1]}`);
    assert.deepEqual([one.num_connections, one.limit, one.connections[0]!.cid], [1, 1, cids[1]]);
    const none = await getJSON<Connz>(server, '/connz?cid=99999');
    assert.deepEqual([none.num_connections, none.connections], [0, []]);
    const bad = await get(server, '/connz?limit=abc');
    assert.equal(bad.status, 400);
    assert.equal(bad.text, `Error decoding int for 'limit': strconv.Atoi: parsing "abc": invalid syntax`);
    const badCid = await get(server, '/connz?cid=-1');
    assert.equal(
      badCid.text,
      `Error decoding uint64 for 'cid': strconv.ParseUint: parsing "-1": invalid syntax`,
    );
    const badState = await get(server, '/connz?state=foo');
    assert.deepEqual([badState.status, badState.text], [400, 'Error decoding state for foo']);
    const badSubs = await get(server, '/connz?subs=yes');
    assert.equal(
      badSubs.text,
      `Error decoding boolean for 'subs': strconv.ParseBool: parsing "yes": invalid syntax`,
    );
  });

  test('/connz subs=1 and subs=detail', async () => {
    const list = await getJSON<Connz>(server, '/connz?subs=1');
    assert.deepEqual(byName(list, 'sub1').subscriptions_list?.sort(), ['m.>', 'unused.subject']);
    assert.equal(byName(list, 'pub').subscriptions_list, undefined, 'no empty list (omitempty)');
    const detail = await getJSON<Connz>(server, '/connz?subs=detail');
    const s2 = byName(detail, 'sub2');
    assert.deepEqual(s2.subscriptions_list_detail, [
      { subject: 'm.x', qgroup: 'q', sid: s2.subscriptions_list_detail![0]!.sid, msgs: N, cid: s2.cid },
    ]);
    assert.equal(s2.subscriptions_list, undefined);
  });

  test('/connz state=closed keeps the connection with its reason and subscriptions', async () => {
    const cz = await getJSON<Connz>(server, '/connz?state=closed&subs=detail');
    assert.equal(cz.total, 1);
    const g = byName(cz, 'gone');
    assert.equal(g.reason, 'Client Closed');
    assert.ok(g.stop !== undefined && Date.parse(g.stop) >= Date.parse(g.start));
    assert.deepEqual(g.subscriptions_list_detail, [
      { account: '$G', subject: 'gone.>', sid: g.subscriptions_list_detail![0]!.sid, msgs: 0, cid: g.cid },
    ]);
    assert.equal(g.subscriptions, 1);
    const any = await getJSON<Connz>(server, '/connz?state=any');
    assert.equal(any.total, 4);
    assert.equal(any.num_connections, 4);
    const byStop = await getJSON<Connz>(server, '/connz?state=closed&sort=stop');
    assert.equal(byStop.connections[0]!.name, 'gone');
    const byReason = await getJSON<Connz>(server, '/connz?state=closed&sort=reason');
    assert.equal(byReason.connections[0]!.reason, 'Client Closed');
    const cid = await getJSON<Connz>(server, `/connz?state=closed&cid=${g.cid}`);
    assert.equal(cid.connections[0]!.name, 'gone');
    const open = await getJSON<Connz>(server, `/connz?cid=${g.cid}`);
    assert.equal(open.num_connections, 0, 'not among the open ones');
  });

  test('/subsz and /subscriptionsz', async () => {
    const stats = await getJSON<Record<string, number>>(server, '/subsz');
    assert.deepEqual(Object.keys(stats).sort(), [
      'avg_fanout',
      'cache_hit_rate',
      'max_fanout',
      'num_cache',
      'num_inserts',
      'num_matches',
      'num_removes',
      'num_subscriptions',
    ]);
    assert.equal(stats.num_subscriptions, 3);
    // Inserts and removes also count the server's own system-account subscriptions (as nats-server's do).
    const own = server.accounts.get('$SYS')!.internalSubs;
    assert.equal(stats.num_inserts, 4 + own);
    assert.equal(stats.num_removes, 1);
    const sz = await getJSON<Subsz>(server, '/subsz?subs=1');
    assert.equal(sz.server_id, server.id);
    assert.deepEqual(sz.subscriptions_list!.map((s) => s.subject).sort(), ['m.>', 'm.x', 'unused.subject']);
    assert.ok(sz.subscriptions_list!.every((s) => s.account === '$G'));
    const tested = await getJSON<Subsz>(server, '/subsz?subs=1&test=m.x');
    assert.deepEqual(tested.subscriptions_list!.map((s) => s.subject).sort(), ['m.>', 'm.x']);
    assert.equal(tested.total, 2);
    const deep = await getJSON<Subsz>(server, '/subsz?subs=1&test=m.y.z');
    assert.deepEqual(
      deep.subscriptions_list!.map((s) => [s.subject, s.msgs]),
      [['m.>', N]],
    );
    const page = await getJSON<Subsz>(server, '/subsz?subs=1&offset=1&limit=1');
    assert.deepEqual([page.total, page.offset, page.limit, page.subscriptions_list!.length], [1, 1, 1, 1]);
    const empty = await getJSON<Record<string, number>>(server, '/subsz?subs=1&test=nobody.here');
    assert.equal(empty.server_id, undefined, 'an empty list answers with the bare stats, as nats-server');
    const bad = await get(server, '/subsz?subs=1&test=m.*');
    assert.deepEqual(
      [bad.status, bad.text],
      [400, 'invalid test subject, must be valid publish subject: m.*'],
    );
    const alias = await getJSON<Subsz>(server, '/subscriptionsz?subs=1&test=m.x');
    assert.deepEqual(alias.subscriptions_list, tested.subscriptions_list);
  });

  test('/healthz, JSONP, 404 and request stats', async () => {
    const h = await get(server, '/healthz');
    assert.deepEqual([h.status, h.type, h.text], [200, 'application/json', '{"status":"ok"}']);
    server.monitor!.addHealthCheck('test', () => 'JetStream is not current with the meta leader');
    const bad = await get(server, '/healthz');
    assert.deepEqual(
      [bad.status, JSON.parse(bad.text)],
      [503, { status: 'unavailable', error: 'JetStream is not current with the meta leader' }],
    );
    server.monitor!.removeHealthCheck('test');
    assert.equal((await get(server, '/healthz')).status, 200);
    const jsonp = await get(server, '/healthz?callback=cb');
    assert.deepEqual([jsonp.type, jsonp.text], ['application/javascript', 'cb({"status":"ok"})']);
    for (const path of ['/nope', '/varz/x', '/metricsz']) {
      const nf = await get(server, path);
      assert.deepEqual(
        [nf.status, nf.type, nf.text],
        [404, 'text/plain; charset=utf-8', '404 page not found\n'],
      );
    }
    const v = await getJSON<Varz>(server, '/varz');
    assert.ok(v.http_req_stats['/healthz']! >= 4);
    assert.ok(v.http_req_stats['/subsz']! >= 1, 'the alias counts as /subsz');
    assert.equal(v.http_req_stats['/nope'], undefined);
  });

  test('the empty endpoints answer with nats-server\'s "none configured" shape', async () => {
    const rz = await getJSON<Record<string, unknown>>(server, '/routez');
    assert.deepEqual([rz.num_routes, rz.routes], [0, []]);
    const gz = await getJSON<Record<string, unknown>>(server, '/gatewayz');
    assert.deepEqual([gz.outbound_gateways, gz.inbound_gateways], [{}, {}]);
    const lz = await getJSON<Record<string, unknown>>(server, '/leafz');
    assert.deepEqual([lz.leafnodes, lz.leafs], [0, null]);
    const jz = await getJSON<Record<string, unknown>>(server, '/jsz');
    assert.equal(jz.disabled, true);
    const az = await getJSON<Record<string, unknown>>(server, '/accountz');
    // nats-server lists its system account too.
    assert.deepEqual(az.accounts, ['$G', '$SYS']);
    const ad = await getJSON<{ account_detail: Record<string, unknown> }>(server, '/accountz?acc=$G');
    assert.equal(ad.account_detail.account_name, '$G');
    assert.equal(ad.account_detail.client_connections, 3);
    assert.equal(ad.account_detail.subscriptions, 3);
    const missing = await get(server, '/accountz?acc=nope');
    assert.deepEqual([missing.status, missing.text], [400, 'Account nope does not exist']);
  });

  test('/metrics parses as Prometheus text with the right types and values', async () => {
    const r = await get(server, '/metrics?connz=1');
    assert.equal(r.status, 200);
    assert.equal(r.type, 'text/plain; version=0.0.4; charset=utf-8');
    const families = parsePrometheus(r.text);
    const fam = new Map(families.map((f) => [f.name, f]));
    assert.equal(fam.size, families.length, 'each family once');
    // Strict checks the parser does not make: names, HELP and TYPE for every family, numeric values.
    const declared = new Set<string>();
    for (const line of r.text.split('\n')) {
      if (line === '') continue;
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
      if (m) {
        if (m[1] === 'TYPE') {
          assert.match(m[3]!, /^(counter|gauge)$/);
          declared.add(m[2]!);
        }
        continue;
      }
      const s = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
      assert.ok(s, `sample line: ${line}`);
      assert.ok(declared.has(s[1]!), `${s[1]} has a TYPE before its samples`);
      assert.ok(!Number.isNaN(Number(s[3])), `numeric value: ${line}`);
    }
    const value = (name: string, labels: Record<string, string> = {}): number => {
      const f = fam.get(name);
      assert.ok(f, `family ${name}`);
      const m = f.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
      assert.ok(m, `${name} ${JSON.stringify(labels)}`);
      assert.equal(m.labels?.server_id, server.id);
      return Number(m.value);
    };
    for (const [name, type] of [
      ['gnatsd_varz_in_msgs', 'COUNTER'],
      ['gnatsd_varz_out_bytes', 'COUNTER'],
      ['gnatsd_varz_total_connections', 'COUNTER'],
      ['gnatsd_varz_slow_consumers', 'COUNTER'],
      ['gnatsd_varz_connections', 'GAUGE'],
      ['gnatsd_varz_mem', 'GAUGE'],
      ['gnatsd_connz_in_msgs', 'GAUGE'],
      ['gnatsd_connz_details_in_msgs', 'COUNTER'],
      ['gnatsd_subsz_num_matches', 'COUNTER'],
      ['gnatsd_subsz_num_subscriptions', 'GAUGE'],
    ] as const) {
      assert.equal(fam.get(name)?.type, type, name);
      assert.ok((fam.get(name)?.help ?? '').length > 0, `${name} has HELP`);
    }
    assert.equal(value('gnatsd_varz_in_msgs'), N);
    assert.equal(value('gnatsd_varz_in_bytes'), N * S);
    assert.equal(value('gnatsd_varz_out_msgs'), 2 * N);
    assert.equal(value('gnatsd_varz_connections'), 3);
    assert.equal(value('gnatsd_varz_subscriptions'), 3);
    assert.equal(value('gnatsd_connz_num_connections'), 3);
    assert.equal(value('gnatsd_connz_closed_connections', { reason: 'Client Closed' }), 1);
    assert.equal(value('gnatsd_healthz_status'), 0);
    assert.equal(value('gnatsd_connz_details_in_msgs', { name: 'pub' }), N);
    assert.equal(value('gnatsd_connz_details_out_bytes', { name: 'sub2' }), N * S);
    assert.equal(value('gnatsd_connz_details_subscriptions', { name: 'sub1' }), 2);
    assert.equal(fam.get('gnatsd_connz_details_in_msgs')!.metrics.length, 3);
    const plain = parsePrometheus((await get(server, '/metrics')).text);
    assert.ok(
      !plain.some((f) => f.name.startsWith('gnatsd_connz_details_')),
      'per-connection only with connz=1',
    );
  });

  test('the dashboard is one self-contained page', async () => {
    const r = await get(server, '/');
    assert.equal(r.status, 200);
    assert.equal(r.type, 'text/html; charset=utf-8');
    assert.match(r.text, /<canvas id="chart-msgs"/);
    assert.doesNotMatch(
      r.text,
      /<script[^>]+src=|<link[^>]+stylesheet|(src|href)="(https?:)?\/\//,
      'nothing from elsewhere',
    );
  });
});

/** A raw client that subscribes and then never reads. */
async function stuckSubscriber(server: Server, subject: string): Promise<Socket> {
  const socket = netConnect({ host: '127.0.0.1', port: server.port });
  socket.on('error', () => {});
  let text = '';
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (b: Buffer) => {
      text += b.toString('latin1');
      if (text.includes('PONG\r\n')) resolve();
    });
    socket.once('error', reject);
    socket.write(`CONNECT {"verbose":false,"pedantic":false,"name":"stuck"}\r\nSUB ${subject} 1\r\nPING\r\n`);
  });
  socket.pause();
  return socket;
}

describe('closed connections', () => {
  test('a slow consumer shows up with its reason', async () => {
    const server = await startServer({ httpPort: -1, maxPending: 64 * 1024 });
    const stuck = await stuckSubscriber(server, 'load');
    const pub = await nc(server, 'loader');
    try {
      const payload = new Uint8Array(64 * 1024).fill(0x2e);
      for (let i = 0; i < 2000 && server.stats.slowConsumers === 0; i++) {
        pub.publish('load', payload);
        if (i % 16 === 15) await pub.flush();
      }
      await pub.flush();
      await waitFor(() => server.closedClients.length === 1, 5000, 'the slow consumer to be closed');
      const cz = await getJSON<Connz>(server, '/connz?state=closed&subs=1');
      const c = byName(cz, 'stuck');
      assert.equal(c.reason, 'Slow Consumer (Pending Bytes)');
      assert.deepEqual(c.subscriptions_list, ['load']);
      assert.ok(c.out_msgs > 0);
      const v = await getJSON<Varz>(server, '/varz');
      assert.equal(v.slow_consumers, 1);
      assert.deepEqual(v.slow_consumer_stats, { clients: 1, routes: 0, gateways: 0, leafs: 0 });
      assert.equal(v.connections, 1);
      const m = parsePrometheus((await get(server, '/metrics')).text);
      const closed = m.find((f) => f.name === 'gnatsd_connz_closed_connections')!;
      assert.equal(
        closed.metrics.find((x) => x.labels?.reason === 'Slow Consumer (Pending Bytes)')?.value,
        '1',
      );
    } finally {
      stuck.destroy();
      await pub.close();
      await server.shutdown();
    }
  });

  test('auth=1 shows the authorized user; the monitor stops with the server', async () => {
    const server = await startServer({ httpPort: -1, user: 'alice', password: 's3cret' });
    const port = server.monitor!.port;
    const c = await connect({ servers: urlOf(server), reconnect: false, user: 'alice', pass: 's3cret' });
    try {
      const withAuth = await getJSON<Connz>(server, '/connz?auth=1');
      assert.equal(withAuth.connections[0]!.authorized_user, 'alice');
      assert.equal(withAuth.connections[0]!.account, undefined, 'the global account is not shown');
      const without = await getJSON<Connz>(server, '/connz');
      assert.equal(without.connections[0]!.authorized_user, undefined);
      const v = await getJSON<Varz>(server, '/varz');
      assert.equal(v.auth_required, true);
    } finally {
      await c.close();
      await server.shutdown();
    }
    await assert.rejects(fetch(`http://127.0.0.1:${port}/varz`), 'the monitor port is closed');
  });

  test("a monitor port in use fails ready() with nats-server's message", async () => {
    const first = await startServer({ httpPort: -1 });
    const second = new Server({
      host: '127.0.0.1',
      port: 0,
      httpPort: first.monitor!.port,
      noLog: true,
      noSigs: true,
    });
    try {
      await assert.rejects(second.ready(), /^Error: can't listen to the monitor port: .*EADDRINUSE/);
    } finally {
      await second.shutdown();
      await first.shutdown();
    }
  });

  test('no monitor unless httpPort is set', async () => {
    const server = await startServer();
    try {
      assert.equal(server.monitor, undefined);
    } finally {
      await server.shutdown();
    }
  });
});
