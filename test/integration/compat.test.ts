/**
 * What real deployments configure and real clients exercise, each run against tsnats and the reference
 * nats-server 2.9.10 with the same configuration file: JetStream domains (a domain-bound JetStream context,
 * the domain in PubAcks, account info, /jsz and the system events), server tags (/varz, the system events'
 * server info and their tag filter); consumers deleted once their deliver subject has no interest for
 * inactive_threshold, with nothing to deliver.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { AckPolicy, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import { makeCerts, type TestCerts } from '../helpers/certs.js';
import { launch, type ServerKind } from '../helpers/launcher.js';
import { connect as rawConnect } from '../helpers/raw-conn.js';
import { hasReference } from '../helpers/reference.js';

const KINDS: ServerKind[] = hasReference() ? ['tsnats', 'nats-server'] : ['tsnats'];

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  return (await res.json()) as T;
}

for (const kind of KINDS) {
  describe(`domains and tags: ${kind}`, () => {
    test('a domain-bound JetStream context, the domain where nats-server reports it, server tags', async () => {
      const srv = await launch({
        kind,
        config: `server_name: edge1
server_tags: ["Region:EU ", "az:1", "region:eu"]
http: "127.0.0.1:-1"
jetstream { domain: hub }
accounts { SYS: { users: [{ user: sys, password: p }] } }
system_account: SYS
authorization { users: [{ user: app, password: p }] }
`,
        jetstream: true,
        listeners: ['nats', 'monitoring'],
      });
      const app = await connect({ servers: srv.url, user: 'app', pass: 'p' });
      const sys = await connect({ servers: srv.url, user: 'sys', pass: 'p' });
      try {
        // The API under $JS.hub.API: streams, publishing with the domain in the ack, account info.
        const jsm = await jetstreamManager(app, { domain: 'hub' });
        await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
        const js = jetstream(app, { domain: 'hub' });
        const ack = await js.publish('orders.1', 'one');
        assert.equal(ack.domain, 'hub');
        assert.equal(ack.seq, 1);
        const info = await jsm.getAccountInfo();
        assert.equal(info.domain, 'hub');
        assert.equal(info.streams, 1);
        // The same stream through the plain API, and a KV bucket through the domain.
        const plain = await jetstreamManager(app);
        assert.equal((await plain.streams.info('ORDERS')).state.messages, 1);
        const kv = await new Kvm(js).create('settings');
        await kv.put('color', 'blue');
        assert.equal((await kv.get('color'))?.string(), 'blue');
        // Another domain is nobody's here.
        const elsewhere = await jetstreamManager(app, { domain: 'other', timeout: 500 }).catch(
          (e: Error) => e,
        );
        assert.ok(elsewhere instanceof Error, 'no server answers for another domain');

        const jsz = await getJson<{ config: { domain?: string } }>(`${srv.monitorUrl}/jsz`);
        assert.equal(jsz.config.domain, 'hub');
        const varz = await getJson<{ tags?: string[]; server_name: string }>(`${srv.monitorUrl}/varz`);
        assert.deepEqual(varz.tags, ['region:eu', 'az:1']);

        // The system events' server info carries the domain and the tags, and their filters apply.
        const ping = (
          await sys.request('$SYS.REQ.SERVER.PING.VARZ', JSON.stringify({ tags: ['az:1'], domain: 'hub' }), {
            timeout: 2000,
          })
        ).json<{ server: { name: string; domain?: string; tags?: string[] }; data: { tags?: string[] } }>();
        assert.equal(ping.server.name, 'edge1');
        assert.equal(ping.server.domain, 'hub');
        assert.deepEqual(ping.server.tags, ['region:eu', 'az:1']);
        assert.deepEqual(ping.data.tags, ['region:eu', 'az:1']);
        for (const filter of [{ tags: ['az:2'] }, { tags: ['az:1', 'gpu'] }, { domain: 'other' }]) {
          await assert.rejects(
            sys.request('$SYS.REQ.SERVER.PING.VARZ', JSON.stringify(filter), { timeout: 300 }),
            /timeout|TIMEOUT/i,
            `no answer for ${JSON.stringify(filter)}`,
          );
        }
      } finally {
        await app.close();
        await sys.close();
        await srv.stop();
      }
    });
  });
}

/** Poll until the consumer is gone; how long it took (ms), or -1 if it is still there after `limitMs`. */
async function goneWithin(
  jsm: JetStreamManager,
  stream: string,
  name: string,
  limitMs: number,
): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < limitMs) {
    const found = await jsm.consumers.info(stream, name).then(
      () => true,
      () => false,
    );
    if (!found) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 10));
  }
  return -1;
}

for (const kind of KINDS) {
  describe(`consumers whose interest goes away: ${kind}`, () => {
    test('push consumers without a subscriber are deleted after inactive_threshold, nothing to deliver', async () => {
      const srv = await launch({ kind, jetstream: true });
      const nc = await connect({ servers: srv.url });
      try {
        const jsm = await jetstreamManager(nc);
        await jsm.streams.add({ name: 'EVENTS', subjects: ['events.>'] });
        for (const durable of [undefined, 'keeper']) {
          const deliver = `deliver.${durable ?? 'ephemeral'}`;
          const sub = nc.subscribe(deliver);
          await nc.flush();
          const ci = await jsm.consumers.add('EVENTS', {
            ...(durable !== undefined ? { durable_name: durable } : {}),
            deliver_subject: deliver,
            ack_policy: AckPolicy.None,
            inactive_threshold: nanos(50),
          });
          assert.equal(ci.push_bound, true, 'the subscriber is seen');
          // While someone listens the consumer stays, though nothing is delivered (well past 50 ms).
          assert.equal(await goneWithin(jsm, 'EVENTS', ci.name, 300), -1, `${ci.name} kept while bound`);
          sub.unsubscribe();
          await nc.flush();
          const took = await goneWithin(jsm, 'EVENTS', ci.name, 2000);
          assert.ok(took >= 0, `${ci.name} deleted once its subscriber left`);
          assert.ok(took < 1000, `${ci.name} deleted about inactive_threshold after, took ${took} ms`);
        }
      } finally {
        await nc.close();
        await srv.stop();
      }
    });
  });
}

const ACCOUNTS_CONF = `accounts {
  A: { users: [{ user: a, password: p }], jetstream: enabled }
  B: { users: [{ user: b, password: p }] }
  L: {
    users: [{ user: l, password: p }]
    jetstream: { max_mem: 1M, max_file: 4M, max_streams: 2, max_consumers: 1, max_ack_pending: 5 }
  }
  M: { users: [{ user: m, password: p }], jetstream: { max_bytes_required: true, disk_max_stream_bytes: 1000 } }
}
`;

interface ApiReply {
  error?: { code: number; err_code: number; description: string };
  limits?: Record<string, number | boolean>;
  config?: { max_ack_pending?: number };
}

for (const kind of KINDS) {
  describe(`JetStream per account: ${kind}`, () => {
    test('only accounts with jetstream have it; limits reported and enforced with the same codes', async () => {
      const srv = await launch({
        kind,
        config: `http: "127.0.0.1:-1"\n${ACCOUNTS_CONF}`,
        jetstream: true,
        listeners: ['nats', 'monitoring'],
      });
      const conns = await Promise.all(
        ['a', 'b', 'l', 'm'].map((user) => connect({ servers: srv.url, user, pass: 'p' })),
      );
      const [a, b, l, m] = conns as [NatsConnection, NatsConnection, NatsConnection, NatsConnection];
      const api = async (nc: NatsConnection, subject: string, body: unknown = ''): Promise<ApiReply> =>
        (
          await nc.request(subject, typeof body === 'string' ? body : JSON.stringify(body), { timeout: 2000 })
        ).json<ApiReply>();
      const stream = (name: string, extra: Record<string, unknown> = {}) => ({
        name,
        subjects: [`${name}.>`],
        ...extra,
      });
      try {
        // B has no JetStream: INFO says so, the rest of the API has no responders.
        const info = await api(b, '$JS.API.INFO');
        assert.equal(info.error?.err_code, 10039);
        assert.equal(info.error?.code, 503);
        const names = (await b.request('$JS.API.STREAM.NAMES', '', { timeout: 2000 })).json<
          ApiReply & { streams: unknown; total: number }
        >();
        assert.equal(names.error?.err_code, 10039);
        assert.equal(names.streams, null);
        const create = await api(b, '$JS.API.STREAM.CREATE.X', stream('X'));
        assert.equal(create.error?.err_code, 10039);
        // No responders for what nats-server does not answer either.
        await assert.rejects(b.request('$JS.API.CONSUMER.MSG.NEXT.X.Y', '', { timeout: 300 }));

        // A: enabled without limits.
        const ainfo = await api(a, '$JS.API.INFO');
        assert.equal(ainfo.error, undefined);
        assert.equal(ainfo.limits?.max_streams, -1);
        assert.equal(ainfo.limits?.max_memory, -1);
        assert.equal((await api(a, '$JS.API.STREAM.CREATE.S1', stream('S1'))).error, undefined);

        // L: its limits, as nats-server reports them.
        const linfo = await api(l, '$JS.API.INFO');
        assert.deepEqual(linfo.limits, {
          max_memory: 1_000_000,
          max_storage: 4_000_000,
          max_streams: 2,
          max_consumers: 1,
          max_ack_pending: 5,
          memory_max_stream_bytes: -1,
          storage_max_stream_bytes: -1,
          max_bytes_required: false,
        });
        const big = await api(
          l,
          '$JS.API.STREAM.CREATE.BIG',
          stream('BIG', { storage: 'memory', max_bytes: 2_000_000 }),
        );
        assert.equal(big.error?.err_code, 10028, 'memory reservation over the account limit');
        const bigFile = await api(l, '$JS.API.STREAM.CREATE.BIGF', stream('BIGF', { max_bytes: 5_000_000 }));
        assert.equal(bigFile.error?.err_code, 10047, 'file reservation over the account limit');
        const tooManyConsumers = await api(l, '$JS.API.STREAM.CREATE.C', stream('C', { max_consumers: 5 }));
        assert.equal(tooManyConsumers.error?.err_code, 10026, 'max_consumers over the account limit');
        assert.equal(
          (await api(l, '$JS.API.STREAM.CREATE.MEM', stream('MEM', { storage: 'memory' }))).error,
          undefined,
        );
        assert.equal((await api(l, '$JS.API.STREAM.CREATE.F', stream('F'))).error, undefined);
        const third = await api(l, '$JS.API.STREAM.CREATE.G', stream('G'));
        assert.equal(third.error?.err_code, 10027, 'a third stream');

        // Consumers: the account's max_ack_pending is the default and the bound; one consumer per stream.
        const c1 = await api(l, '$JS.API.CONSUMER.DURABLE.CREATE.F.d1', {
          stream_name: 'F',
          config: { durable_name: 'd1', ack_policy: 'explicit' },
        });
        assert.equal(c1.error, undefined);
        assert.equal(c1.config?.max_ack_pending, 5);
        const excess = await api(l, '$JS.API.CONSUMER.DURABLE.CREATE.MEM.d2', {
          stream_name: 'MEM',
          config: { durable_name: 'd2', ack_policy: 'explicit', max_ack_pending: 10 },
        });
        assert.equal(excess.error?.err_code, 10121);
        const second = await api(l, '$JS.API.CONSUMER.DURABLE.CREATE.F.d3', {
          stream_name: 'F',
          config: { durable_name: 'd3', ack_policy: 'explicit' },
        });
        assert.equal(second.error?.err_code, 10026);

        // Publishing past the account's memory: a message that would take it over gets 10002.
        const chunk = new Uint8Array(400 * 1024);
        const codes: number[] = [];
        for (let i = 0; i < 4; i++) {
          const r = (await l.request('MEM.x', chunk, { timeout: 2000 })).json<{
            error?: { err_code: number };
          }>();
          codes.push(r.error?.err_code ?? 0);
        }
        // nats-server counts subject + headers + data + 16 bytes a message: the third would pass 1M.
        assert.deepEqual(codes, [0, 0, 10002, 10002]);
        assert.equal((await (await jetstreamManager(l)).streams.info('MEM')).state.messages, 2);

        // /jsz shows each JetStream account's limits as its reservation (unlimited: Go's uint64(-1)).
        const jszText = await (await fetch(`${srv.monitorUrl}/jsz?accounts=true`)).text();
        const details = JSON.parse(jszText) as {
          account_details: { name: string; reserved_memory: number }[];
        };
        assert.deepEqual(details.account_details.map((d) => d.name).sort(), ['A', 'L', 'M']);
        assert.equal(details.account_details.find((d) => d.name === 'L')?.reserved_memory, 1_000_000);
        assert.match(jszText, /"reserved_storage": 18446744073709551615/, 'A and M have no storage limit');

        // M: max_bytes is required, and bounded per file stream.
        assert.equal((await api(m, '$JS.API.STREAM.CREATE.N', stream('N'))).error?.err_code, 10113);
        const over = await api(m, '$JS.API.STREAM.CREATE.N', stream('N', { max_bytes: 2000 }));
        assert.equal(over.error?.err_code, 10122);
        assert.equal(
          (await api(m, '$JS.API.STREAM.CREATE.N', stream('N', { max_bytes: 1000 }))).error,
          undefined,
        );
      } finally {
        await Promise.all(conns.map((c) => c.close()));
        await srv.stop();
      }
    });
  });
}

describe('allow_non_tls: TLS and plain clients on one port', () => {
  let certs: TestCerts;
  before(() => {
    certs = makeCerts();
  });
  after(() => certs.cleanup());

  for (const kind of KINDS) {
    test(`${kind}: INFO offers TLS; a plain client and a TLS client both connect and talk`, async () => {
      const srv = await launch({
        kind,
        config: `tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}" }\nallow_non_tls: true\n`,
      });
      const raw = await rawConnect(srv.port);
      // nats.js upgrades whenever the server offers TLS, unless told `tls: null`.
      const plain = await connect({ servers: srv.url, tls: null });
      const secure = await connect({ servers: srv.url, tls: { caFile: certs.caCert } });
      try {
        assert.equal(raw.info.tls_required, undefined);
        assert.equal(raw.info.tls_available, true);
        // The raw client speaks plain text right after INFO.
        raw.send('CONNECT {"verbose":false}\r\nPING\r\n');
        await raw.expect('PONG\r\n');
        const got = new Promise<string>((resolve) => {
          plain.subscribe('mixed', { max: 1, callback: (_e, m) => resolve(m.string()) });
        });
        await plain.flush();
        secure.publish('mixed', 'from TLS to plain');
        assert.equal(await got, 'from TLS to plain');
        assert.equal(secure.info?.tls_available, true);
      } finally {
        raw.close();
        await plain.close();
        await secure.close();
        await srv.stop();
      }
    });
  }
});

/** What a stream and consumer life cycle publishes on `$JS.EVENT.>`: subject, keys, and stable values. */
async function lifecycleEvents(kind: ServerKind): Promise<string[]> {
  const srv = await launch({ kind, jetstream: true });
  const nc = await connect({ servers: srv.url });
  try {
    const seen: string[] = [];
    nc.subscribe('$JS.EVENT.>', {
      callback: (_e, m) => {
        const e = m.json<Record<string, unknown>>();
        const client = e.client as Record<string, unknown> | undefined;
        // The client's stream update sends back the config of the stream's info, where tsnats includes
        // 2.10's `compression` (which 2.9.10 does not have).
        const request =
          kind === 'tsnats' && typeof e.request === 'string'
            ? e.request.replace('"compression":"none",', '')
            : e.request;
        const stable = {
          type: e.type,
          stream: e.stream,
          consumer: e.consumer,
          action: e.action,
          subject: e.subject,
          request,
          client: client === undefined ? undefined : Object.keys(client).sort().join(','),
          responseType: typeof e.response === 'string' ? JSON.parse(e.response).type : undefined,
        };
        seen.push(`${m.subject} ${Object.keys(e).sort().join(',')} ${JSON.stringify(stable)}`);
      },
    });
    await nc.flush();
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'S', subjects: ['s.>'] });
    await jsm.streams.update('S', { subjects: ['s.>', 't.>'] });
    await jsm.consumers.add('S', { durable_name: 'd', ack_policy: AckPolicy.Explicit });
    await jsm.consumers.delete('S', 'd');
    await jsm.streams.add({ name: 'S', subjects: ['other.>'] }).catch(() => undefined);
    await jsm.streams.delete('S');
    // Every API request is audited after its response: the last audit marks the end.
    await nc.request('$JS.API.STREAM.NAMES', '', { timeout: 2000 });
    await nc.flush();
    const deadline = Date.now() + 2000;
    while (!seen.at(-1)?.includes('$JS.API.STREAM.NAMES') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    return seen;
  } finally {
    await nc.close();
    await srv.stop();
  }
}

describe('JetStream advisories', () => {
  test('a stream and consumer life cycle publishes what nats-server publishes, key by key', async (t) => {
    if (!hasReference()) return t.skip('nats-server is not installed');
    const [ours, ref] = await Promise.all([lifecycleEvents('tsnats'), lifecycleEvents('nats-server')]);
    assert.ok(ref.length >= 12, `nats-server published ${ref.length}`);
    // nats-server sends a stream's advisories from another goroutine than the API audit: the order of
    // the two kinds is not fixed there, so the events are compared as sets.
    assert.deepEqual([...ours].sort(), [...ref].sort());
  });
});

/** GET over HTTPS trusting `ca`: status and body. */
function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca: readFileSync(ca) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('monitoring over HTTPS', () => {
  let certs: TestCerts;
  before(() => {
    certs = makeCerts();
  });
  after(() => certs.cleanup());

  for (const kind of KINDS) {
    test(`${kind}: https serves the endpoints with the server's certificate`, async () => {
      const tls = `tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}" }\n`;
      const srv = await launch({
        kind,
        config: `${tls}https: "127.0.0.1:-1"\nserver_name: secure\n`,
        listeners: ['nats', 'monitoring'],
      });
      try {
        const url = srv.monitorUrl ?? '';
        assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
        const varz = await httpsGet(`${url}/varz`, certs.caCert);
        assert.equal(varz.status, 200);
        assert.equal((JSON.parse(varz.body) as { server_name: string }).server_name, 'secure');
        // Plain HTTP on that port gets no monitoring answer.
        const plain = await fetch(url.replace('https:', 'http:')).then(
          (r) => r.status,
          () => 0,
        );
        assert.notEqual(plain, 200);
      } finally {
        await srv.stop();
      }
    });

    test(`${kind}: https needs tls {}, and not with http as well`, async () => {
      for (const [config, message] of [
        ['https_port: -1\n', 'TLS cert and key required for HTTPS'],
        [
          `tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}" }\nhttp_port: 18555\nhttps_port: 18556\n`,
          "can't specify both HTTP (18555) and HTTPs (18556) ports",
        ],
      ] as const) {
        const started = await launch({ kind, config, timeoutMs: 3000 }).then(
          async (s) => {
            await s.stop();
            return '';
          },
          (e: Error) => e.message,
        );
        assert.match(started, new RegExp(message.replace(/[()]/g, '\\$&')));
      }
    });
  }
});

describe('tls { curve_preferences }', () => {
  let certs: TestCerts;
  before(() => {
    certs = makeCerts();
  });
  after(() => certs.cleanup());

  for (const kind of KINDS) {
    test(`${kind}: only the preferred key exchange groups are accepted`, async () => {
      const srv = await launch({
        kind,
        config: `tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}", curve_preferences: ["CurveP521"] }\n`,
      });
      try {
        const ok = await connect({
          servers: srv.url,
          tls: { caFile: certs.caCert, ecdhCurve: 'P-521' } as object,
          reconnect: false,
        });
        await ok.flush();
        await ok.close();
        await assert.rejects(
          connect({
            servers: srv.url,
            tls: { caFile: certs.caCert, ecdhCurve: 'P-256' } as object,
            reconnect: false,
            timeout: 3000,
          }),
        );
      } finally {
        await srv.stop();
      }
    });
  }
});

/** Resolves with the first message on `subject`, or rejects after `ms`. */
function firstMessage(nc: NatsConnection, subject: string, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nothing on ${subject}`)), ms);
    nc.subscribe(subject, {
      max: 1,
      callback: (_e, m) => {
        clearTimeout(timer);
        resolve(m.string());
      },
    });
  });
}

describe('route permissions: cluster { permissions { import, export } }', () => {
  const pairs: [ServerKind, ServerKind][] = hasReference()
    ? [
        ['tsnats', 'nats-server'],
        ['nats-server', 'tsnats'],
        ['tsnats', 'tsnats'],
      ]
    : [['tsnats', 'tsnats']];
  for (const [kindA, kindB] of pairs) {
    test(`${kindA} with permissions, ${kindB} without: only imported interest and exported messages cross`, async () => {
      const a = await launch({
        kind: kindA,
        config: `cluster {
  name: perms
  listen: "127.0.0.1:-1"
  permissions { import: ["in.>", "probe.>"], export: { allow: ["out.>", "probe.>"], deny: ["out.secret"] } }
}
`,
        listeners: ['nats', 'cluster'],
      });
      const b = await launch({
        kind: kindB,
        config: `cluster {\n  name: perms\n  listen: "127.0.0.1:-1"\n  routes: ["${a.ports.cluster?.[0]}"]\n}\n`,
        listeners: ['nats', 'cluster'],
      });
      const na = await connect({ servers: a.url });
      const nb = await connect({ servers: b.url });
      try {
        // The route is up once a probe crosses both ways.
        for (const [from, to] of [
          [nb, na],
          [na, nb],
        ] as const) {
          const got = firstMessage(to, 'probe.ready', 10_000);
          await to.flush();
          const timer = setInterval(() => from.publish('probe.ready', 'x'), 50);
          await got.finally(() => clearInterval(timer));
        }
        // Into A: only what A imports. B learns A's interest in the order A subscribed, and a route keeps
        // the order of messages: once in.x arrives, blocked.x (subscribed and published first) would have.
        const blocked: string[] = [];
        na.subscribe('blocked.x', {
          callback: (_e, m) => {
            blocked.push(m.string());
          },
        });
        const imported = firstMessage(na, 'in.x');
        await na.flush();
        const toA = setInterval(() => {
          nb.publish('blocked.x', 'no');
          nb.publish('in.x', 'yes');
        }, 50);
        assert.equal(await imported.finally(() => clearInterval(toA)), 'yes');
        await nb.flush();
        await na.flush();
        assert.deepEqual(blocked, []);
        // Out of A: only to interest A exports (its route ignores B's interest in out.secret).
        const secret: string[] = [];
        nb.subscribe('out.secret', {
          callback: (_e, m) => {
            secret.push(m.string());
          },
        });
        const exported = firstMessage(nb, 'out.x');
        await nb.flush();
        const toB = setInterval(() => {
          na.publish('out.secret', 'no');
          na.publish('out.x', 'yes');
        }, 50);
        assert.equal(await exported.finally(() => clearInterval(toB)), 'yes');
        await na.flush();
        await nb.flush();
        assert.deepEqual(secret, []);
      } finally {
        await na.close();
        await nb.close();
        await b.stop();
        await a.stop();
      }
    });
  }
});

describe('smaller keys real files carry', () => {
  for (const kind of KINDS) {
    test(`${kind}: http_base_path, max_sub_tokens, max_traced_msg_len, sublist cache and error report keys`, async () => {
      const srv = await launch({
        kind,
        config: `http: "127.0.0.1:-1"
http_base_path: "nats/"
max_sub_tokens: 3
max_traced_msg_len: 5
trace: true
disable_sublist_cache: true
connect_error_reports: 10
reconnect_error_reports: 2
`,
        listeners: ['nats', 'monitoring'],
      });
      const raw = await rawConnect(srv.port);
      try {
        const base = srv.monitorUrl ?? '';
        assert.equal((await fetch(`${base}/nats/varz`)).status, 200);
        assert.equal((await fetch(`${base}/varz`)).status, 404);
        raw.send(
          'CONNECT {"verbose":false}\r\nSUB a.b.c 1\r\nSUB a.b.c.d 2\r\nPUB a.b.c 11\r\nhello world\r\n',
        );
        const out = await raw.drain();
        assert.equal(
          out,
          '-ERR \'Permissions Violation for Subscription to "a.b.c.d", too many tokens\'\r\nMSG a.b.c 1 11\r\nhello world\r\n',
        );
        await srv.waitForLog('MSG_PAYLOAD: ["hello..."]');
      } finally {
        raw.close();
        await srv.stop();
      }
    });
  }
});

describe('subject mappings', () => {
  for (const kind of KINDS) {
    test(`${kind}: literal, wildcard and weighted mappings, top level and in an account`, async () => {
      const srv = await launch({
        kind,
        config: `mappings {
  "orders.new": "orders.v2.new"
  "req.*.*": "svc.$2.{{wildcard(1)}}"
  "split": [ { destination: "split.a", weight: 50% }, { destination: "split.b", weight: "50%" } ]
}
accounts {
  A: { users: [{ user: a, password: p }], mappings: { "in.>": "mapped.>" } }
}
authorization { users: [{ user: g, password: p }] }
`,
      });
      const g = await connect({ servers: srv.url, user: 'g', pass: 'p' });
      const a = await connect({ servers: srv.url, user: 'a', pass: 'p' });
      try {
        const direct: string[] = [];
        g.subscribe('orders.new', {
          callback: (_e, m) => {
            direct.push(m.subject);
          },
        });
        const mapped = firstMessage(g, 'orders.v2.new');
        const swapped = firstMessage(g, 'svc.two.one');
        const seen: Record<string, number> = {};
        let total = 0;
        const all = new Promise<void>((resolve) => {
          g.subscribe('split.*', {
            callback: (_e, m) => {
              seen[m.subject] = (seen[m.subject] ?? 0) + 1;
              if (++total === 200) resolve();
            },
          });
        });
        const inA = firstMessage(a, 'mapped.x.y');
        await g.flush();
        await a.flush();
        g.publish('orders.new', 'o');
        g.publish('req.one.two', 'r');
        for (let i = 0; i < 200; i++) g.publish('split', String(i));
        a.publish('in.x.y', 'a');
        assert.equal(await mapped, 'o');
        assert.equal(await swapped, 'r');
        assert.equal(await inA, 'a');
        await all;
        assert.deepEqual(Object.keys(seen).sort(), ['split.a', 'split.b'], 'both destinations drawn');
        await g.flush();
        assert.deepEqual(direct, [], 'nothing on the mapped source');
        // Request/reply through a mapping.
        g.subscribe('orders.v2.new', {
          callback: (_e, m) => {
            m.respond('ack');
          },
        });
        await g.flush();
        const reply = await g.request('orders.new', 'q', { timeout: 2000 });
        assert.equal(reply.string(), 'ack');
      } finally {
        await g.close();
        await a.close();
        await srv.stop();
      }
    });
  }
});
