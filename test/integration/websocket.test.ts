/**
 * Websocket clients, checked the same way against tsnats and the reference nats-server 2.9.10 (each
 * started from the same configuration file): the real NATS client over websocket talks with a TCP client
 * (pub/sub, request/reply, headers, 1 MiB payloads, 2,000 messages in order); a raw websocket sees the
 * exact bytes (INFO first in a binary message, protocol split across frames or batched in one, the TCP
 * limits); authentication, compression, origins, TLS, and what /connz and /varz say.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { headers, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type WebSocket from 'ws';
import { deferred, within } from '../helpers/async.js';
import { makeCerts, type TestCerts } from '../helpers/certs.js';
import { type Launched, launch, type ServerKind } from '../helpers/launcher.js';
import { hasReference } from '../helpers/reference.js';
import { waitFor } from '../helpers/wait-for.js';
import { RawWs, wsConnect } from '../helpers/websocket.js';

const KINDS: ServerKind[] = hasReference() ? ['tsnats', 'nats-server'] : ['tsnats'];

const PLAIN = 'websocket { listen: "127.0.0.1:-1", no_tls: true }\n';

function startWs(kind: ServerKind, config: string, monitor = false): Promise<Launched> {
  return launch({
    kind,
    config,
    args: monitor ? ['-m', '-1'] : [],
    listeners: monitor ? ['nats', 'websocket', 'monitoring'] : ['nats', 'websocket'],
  });
}

/** Collect `n` messages of a subscription as strings. */
async function collect(nc: NatsConnection, subject: string, n: number): Promise<() => Promise<string[]>> {
  const sub = nc.subscribe(subject, { max: n });
  await nc.flush();
  return async () => {
    const got: string[] = [];
    for await (const m of sub) got.push(m.string());
    return got;
  };
}

async function json<T>(url: string): Promise<T> {
  const r = await fetch(url);
  assert.equal(r.status, 200);
  return (await r.json()) as T;
}

/** An HTTP/1.1 upgrade request by hand: the status of the answer (101 when upgraded). */
function upgradeStatus(wsUrl: string, extra: Record<string, string>): Promise<number> {
  const u = new URL(wsUrl);
  return within(
    new Promise<number>((resolve, reject) => {
      const req = httpRequest({
        host: u.hostname,
        port: Number(u.port),
        path: '/',
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
          ...extra,
        },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    }),
    5000,
    'the answer to an upgrade request',
  );
}

for (const kind of KINDS) {
  describe(`websocket clients (${kind})`, () => {
    let srv: Launched;
    before(async () => {
      srv = await startWs(kind, PLAIN, true);
    });
    after(() => srv.stop());

    test('pub/sub, request/reply and headers between a websocket client and a TCP client', async () => {
      const ws = await wsConnect(srv.websocketUrl!);
      const tcp = await connect({ servers: srv.url, reconnect: false });
      try {
        // TCP -> websocket and websocket -> TCP.
        const toWs = await collect(ws, 'to.ws', 2);
        const toTcp = await collect(tcp, 'to.tcp', 2);
        tcp.publish('to.ws', 'a');
        tcp.publish('to.ws', 'b');
        ws.publish('to.tcp', 'c');
        ws.publish('to.tcp', 'd');
        assert.deepEqual(await within(toWs(), 5000, 'messages on the websocket'), ['a', 'b']);
        assert.deepEqual(await within(toTcp(), 5000, 'messages on TCP'), ['c', 'd']);

        // Requests both ways, with headers.
        tcp.subscribe('svc.tcp', {
          callback: (_e, m) => {
            const h = headers();
            h.set('Answered-By', 'tcp');
            m.respond(`tcp:${m.string()}:${m.headers?.get('Asked-By') ?? ''}`, { headers: h });
          },
        });
        ws.subscribe('svc.ws', {
          callback: (_e, m) => {
            m.respond(`ws:${m.string()}`);
          },
        });
        await tcp.flush();
        await ws.flush();
        const h = headers();
        h.set('Asked-By', 'ws');
        const r1 = await ws.request('svc.tcp', 'q1', { timeout: 5000, headers: h });
        assert.equal(r1.string(), 'tcp:q1:ws');
        assert.equal(r1.headers?.get('Answered-By'), 'tcp');
        const r2 = await tcp.request('svc.ws', 'q2', { timeout: 5000 });
        assert.equal(r2.string(), 'ws:q2');

        // No responders reach a websocket client too.
        await assert.rejects(ws.request('nobody.home', '', { timeout: 5000 }), /no responders/i);
      } finally {
        await ws.close();
        await tcp.close();
      }
    });

    test('a 1 MiB payload both ways', async () => {
      const ws = await wsConnect(srv.websocketUrl!);
      const tcp = await connect({ servers: srv.url, reconnect: false });
      try {
        assert.equal(ws.info?.max_payload, 1024 * 1024);
        const payload = new Uint8Array(1024 * 1024);
        for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
        const onWs = ws.subscribe('big.ws', { max: 1 });
        const onTcp = tcp.subscribe('big.tcp', { max: 1 });
        await ws.flush();
        await tcp.flush();
        tcp.publish('big.ws', payload);
        ws.publish('big.tcp', payload);
        for (const sub of [onWs, onTcp]) {
          const got = await within(
            (async () => {
              for await (const m of sub) return m.data;
              return undefined;
            })(),
            10000,
            `the 1 MiB message on ${sub.getSubject()}`,
          );
          assert.ok(got !== undefined);
          assert.equal(got.length, payload.length);
          assert.ok(Buffer.from(got).equals(Buffer.from(payload)), `${sub.getSubject()} payload intact`);
        }
      } finally {
        await ws.close();
        await tcp.close();
      }
    });

    test('2,000 messages in order both ways', async () => {
      const ws = await wsConnect(srv.websocketUrl!);
      const tcp = await connect({ servers: srv.url, reconnect: false });
      const N = 2000;
      try {
        const onWs = await collect(ws, 'seq.ws', N);
        const onTcp = await collect(tcp, 'seq.tcp', N);
        for (let i = 0; i < N; i++) {
          tcp.publish('seq.ws', String(i));
          ws.publish('seq.tcp', String(i));
        }
        const want = Array.from({ length: N }, (_, i) => String(i));
        assert.deepEqual(await within(onWs(), 15000, `${N} messages on the websocket`), want);
        assert.deepEqual(await within(onTcp(), 15000, `${N} messages on TCP`), want);
      } finally {
        await ws.close();
        await tcp.close();
      }
    });

    test('INFO comes first in a binary message; protocol may be split across frames or batched in one', async () => {
      const raw = await RawWs.open(srv.websocketUrl!);
      try {
        await raw.waitFor('\r\n');
        const first = raw.frames[0]!;
        assert.equal(first.binary, true, 'INFO is sent in a binary message');
        const info = first.data.toString();
        assert.match(info, /^INFO \{.*\} \r\n$/);
        const parsed = JSON.parse(info.slice(5, -3)) as Record<string, unknown>;
        assert.equal(parsed.headers, true);
        assert.equal(typeof parsed.client_id, 'number');
        // One protocol message in three frames, text and binary alike.
        raw.send('CONNECT {"verbose":false,"pedantic":false,"protocol":1}\r\nPI', false);
        raw.send('NG');
        raw.send('\r\n');
        await raw.waitFor('PONG\r\n');
        // Several in one frame.
        raw.send('SUB a 1\r\nSUB b 2\r\nPUB a 2\r\nhi\r\nPUB b 5\r\nthere\r\nPING\r\n');
        const text = await raw.waitFor('MSG b 2 5\r\nthere\r\nPONG\r\n');
        assert.ok(text.includes('MSG a 1 2\r\nhi\r\nMSG b 2 5\r\nthere\r\nPONG\r\n'), text);
        // Any frame the server sent is binary.
        assert.ok(raw.frames.every((f) => f.binary));
      } finally {
        raw.close();
      }
    });

    test('the TCP rules apply: maximum payload and unknown protocol', async () => {
      const raw = await RawWs.open(srv.websocketUrl!);
      try {
        await raw.waitFor('\r\n');
        raw.send('CONNECT {"verbose":false}\r\nPUB x 2000000\r\n');
        await raw.waitFor("-ERR 'Maximum Payload Violation'\r\n");
        await within(raw.closed.promise, 5000, 'the server to close the websocket');
        assert.equal(raw.closeCode, 1009, `close status ${raw.closeCode} ${raw.closeReason}`);
      } finally {
        raw.close();
      }
      const raw2 = await RawWs.open(srv.websocketUrl!);
      try {
        await raw2.waitFor('\r\n');
        raw2.send('CONNECT {}\r\nBOGUS\r\n');
        await raw2.waitFor("-ERR 'Unknown Protocol Operation'\r\n");
        await within(raw2.closed.promise, 5000, 'the server to close the websocket');
        assert.equal(raw2.closeCode, 1002);
      } finally {
        raw2.close();
      }
    });

    test('a plain HTTP request gets 400; the websocket client is listed in /connz and /varz has the block', async () => {
      const r = await fetch(srv.websocketUrl!.replace(/^ws/, 'http'));
      assert.equal(r.status, 400);
      assert.equal(r.headers.get('sec-websocket-version'), '13');

      const ws = await wsConnect(srv.websocketUrl!, { name: 'ws-connz' });
      try {
        const connz = await json<{ connections: { name?: string; type?: string; kind?: string }[] }>(
          `${srv.monitorUrl}/connz`,
        );
        const me = connz.connections.find((c) => c.name === 'ws-connz');
        assert.ok(me, JSON.stringify(connz));
        assert.equal(me.kind, 'Client');
        assert.equal(me.type, 'websocket');
        const varz = await json<{ websocket: Record<string, unknown> }>(`${srv.monitorUrl}/varz`);
        const port = Number(new URL(srv.websocketUrl!).port);
        assert.deepEqual(varz.websocket, { host: '127.0.0.1', port, no_tls: true });
      } finally {
        await ws.close();
      }
    });
  });

  describe(`websocket connection rules (${kind})`, () => {
    test('websocket pings are answered; a silent client is cut off by the block’s auth timeout (1008)', async () => {
      const srv = await startWs(
        kind,
        `websocket {
          listen: "127.0.0.1:-1"
          no_tls: true
          authorization { token: s3cr3t, timeout: 1 }
        }\n`,
      );
      const raw = await RawWs.open(srv.websocketUrl!);
      try {
        const pong = deferred<string>();
        raw.ws.once('pong', (data: Buffer) => pong.resolve(data.toString()));
        raw.ws.ping('are you there');
        assert.equal(await within(pong.promise, 5000, 'a websocket pong'), 'are you there');
        const info = await raw.waitFor('\r\n');
        assert.match(info, /"auth_required":true/);
        await raw.waitFor("-ERR 'Authentication Timeout'\r\n", 5000);
        await within(raw.closed.promise, 5000, 'the close after the auth timeout');
        assert.equal(raw.closeCode, 1008);
        assert.equal(raw.closeReason, 'Authentication Timeout');
      } finally {
        raw.close();
        await srv.stop();
      }
    });

    test('lame duck mode: websocket clients are told (INFO with ldm) and the websocket port stops accepting', async () => {
      const srv = await startWs(kind, `lame_duck_duration: "30s"\nlame_duck_grace_period: "10s"\n${PLAIN}`);
      const raw = await RawWs.open(srv.websocketUrl!);
      try {
        await raw.waitFor('\r\n');
        raw.send('CONNECT {"verbose":false,"protocol":1}\r\nPING\r\n');
        await raw.waitFor('PONG\r\n');
        srv.kill('SIGUSR2');
        await raw.waitFor('"ldm":true', 5000);
        await assert.rejects(RawWs.open(srv.websocketUrl!), /ECONNREFUSED/);
      } finally {
        raw.close();
        await srv.stop('SIGKILL');
      }
    });

    test('a websocket client that does not read is cut off as a slow consumer', async () => {
      const srv = await startWs(kind, `max_pending: 1MB\n${PLAIN}`, true);
      const raw = await RawWs.open(srv.websocketUrl!);
      const tcp = await connect({ servers: srv.url, reconnect: false });
      try {
        await raw.waitFor('\r\n');
        raw.send('CONNECT {"verbose":false,"name":"sleepy"}\r\nSUB flood 1\r\nPING\r\n');
        await raw.waitFor('PONG\r\n');
        // Stop reading: everything the server sends now piles up.
        (raw.ws as unknown as { _socket: { pause(): void } })._socket.pause();
        const chunk = new Uint8Array(64 * 1024);
        await waitFor(
          async () => {
            for (let i = 0; i < 64; i++) tcp.publish('flood', chunk);
            await tcp.flush();
            const connz = await json<{ connections: { name?: string; reason?: string }[] }>(
              `${srv.monitorUrl}/connz?state=closed`,
            );
            return connz.connections.some(
              (c) => c.name === 'sleepy' && c.reason === 'Slow Consumer (Pending Bytes)',
            );
          },
          15000,
          'the websocket client to be closed as a slow consumer',
        );
        const varz = await json<{ slow_consumers: number }>(`${srv.monitorUrl}/varz`);
        assert.ok(varz.slow_consumers >= 1);
      } finally {
        raw.close();
        await tcp.close();
        await srv.stop();
      }
    });
  });

  describe(`websocket authentication (${kind})`, () => {
    test('the block’s user and password: a wrong password is refused, the right one gets in', async () => {
      const srv = await startWs(
        kind,
        `websocket {
          listen: "127.0.0.1:-1"
          no_tls: true
          authorization { user: wsuser, password: wspass, timeout: 3 }
        }\n`,
      );
      try {
        await assert.rejects(
          wsConnect(srv.websocketUrl!, { user: 'wsuser', pass: 'wrong' }),
          /Authorization Violation/,
        );
        const ok = await wsConnect(srv.websocketUrl!, { user: 'wsuser', pass: 'wspass' });
        assert.equal(ok.info?.auth_required, true);
        await ok.flush();
        await ok.close();
        // TCP clients are not affected by the websocket block.
        const tcp = await connect({ servers: srv.url, reconnect: false });
        await tcp.flush();
        await tcp.close();
      } finally {
        await srv.stop();
      }
    });

    test('allowed_connection_types keeps websocket-only and TCP-only users apart; no_auth_user of the block', async () => {
      const srv = await startWs(
        kind,
        `authorization {
          users: [
            { user: tcponly, password: p1, allowed_connection_types: ["STANDARD"] }
            { user: wsonly, password: p2, allowed_connection_types: ["WEBSOCKET"] }
            { user: guest, password: p3 }
          ]
        }
        websocket { listen: "127.0.0.1:-1", no_tls: true, no_auth_user: guest }\n`,
      );
      try {
        await assert.rejects(
          wsConnect(srv.websocketUrl!, { user: 'tcponly', pass: 'p1' }),
          /Authorization Violation/,
        );
        await assert.rejects(
          connect({ servers: srv.url, user: 'wsonly', pass: 'p2', reconnect: false }),
          /Authorization Violation/,
        );
        for (const nc of [
          await wsConnect(srv.websocketUrl!, { user: 'wsonly', pass: 'p2' }),
          await connect({ servers: srv.url, user: 'tcponly', pass: 'p1', reconnect: false }),
          // No credentials over websocket: the block's no_auth_user.
          await wsConnect(srv.websocketUrl!),
        ]) {
          await nc.flush();
          await nc.close();
        }
        // ... but not over TCP, where there is no no_auth_user.
        await assert.rejects(connect({ servers: srv.url, reconnect: false }), /Authorization Violation/);
      } finally {
        await srv.stop();
      }
    });
  });

  describe(`websocket compression and origins (${kind})`, () => {
    test('compression: true negotiates permessage-deflate; without it none is', async () => {
      for (const compression of [true, false]) {
        const srv = await startWs(
          kind,
          `websocket { listen: "127.0.0.1:-1", no_tls: true, compression: ${compression} }\n`,
        );
        const sockets: WebSocket[] = [];
        let ext = '';
        const ws = await wsConnect(srv.websocketUrl!, {
          ws: { perMessageDeflate: true },
          onSocket: (s) => {
            sockets.push(s);
            s.on('upgrade', (res) => {
              ext = String(res.headers['sec-websocket-extensions'] ?? '');
            });
          },
        });
        const tcp = await connect({ servers: srv.url, reconnect: false });
        try {
          assert.equal(sockets.length, 1);
          if (compression) {
            assert.match(ext, /permessage-deflate/);
            assert.match(ext, /server_no_context_takeover/);
            assert.match(ext, /client_no_context_takeover/);
          } else {
            assert.equal(ext, '');
          }
          // Compressible traffic both ways arrives intact.
          const text = 'compress me '.repeat(20000);
          const onWs = await collect(ws, 'z.ws', 1);
          const onTcp = await collect(tcp, 'z.tcp', 1);
          tcp.publish('z.ws', text);
          ws.publish('z.tcp', text);
          assert.deepEqual(await within(onWs(), 5000, 'compressed message on websocket'), [text]);
          assert.deepEqual(await within(onTcp(), 5000, 'compressed message on TCP'), [text]);
        } finally {
          await ws.close();
          await tcp.close();
          await srv.stop();
        }
      }
    });

    test('same_origin and allowed_origins refuse other origins with 403; no Origin header is accepted', async () => {
      const srv = await startWs(
        kind,
        `websocket {
          listen: "127.0.0.1:-1"
          no_tls: true
          same_origin: false
          allowed_origins: ["http://app.example.com:8080"]
        }\n`,
      );
      try {
        assert.equal(await upgradeStatus(srv.websocketUrl!, { Origin: 'http://evil.example.com:8080' }), 403);
        assert.equal(await upgradeStatus(srv.websocketUrl!, { Origin: 'https://app.example.com:8080' }), 403);
        const ok = await wsConnect(srv.websocketUrl!, { ws: { origin: 'http://app.example.com:8080' } });
        await ok.close();
        const noOrigin = await wsConnect(srv.websocketUrl!);
        await noOrigin.close();
      } finally {
        await srv.stop();
      }
      const same = await startWs(
        kind,
        'websocket { listen: "127.0.0.1:-1", no_tls: true, same_origin: true }\n',
      );
      try {
        const port = new URL(same.websocketUrl!).port;
        assert.equal(await upgradeStatus(same.websocketUrl!, { Origin: `http://localhost:${port}` }), 403);
        const ok = await wsConnect(same.websocketUrl!, { ws: { origin: `http://127.0.0.1:${port}` } });
        await ok.close();
      } finally {
        await same.stop();
      }
    });
  });

  describe(`websocket over TLS (${kind})`, () => {
    let certs: TestCerts;
    before(() => {
      certs = makeCerts();
    });
    after(() => certs.cleanup());

    test('wss:// with the block’s certificate', async () => {
      const srv = await startWs(
        kind,
        `websocket {
          listen: "127.0.0.1:-1"
          tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}" }
        }\n`,
      );
      try {
        assert.match(srv.websocketUrl!, /^wss:\/\//);
        const { readFileSync } = await import('node:fs');
        const ca = readFileSync(certs.caCert);
        const ws = await wsConnect(srv.websocketUrl!, { ws: { ca } });
        const tcp = await connect({ servers: srv.url, reconnect: false });
        try {
          const got = await collect(ws, 'secure', 1);
          tcp.publish('secure', 'over tls');
          assert.deepEqual(await within(got(), 5000, 'message over wss'), ['over tls']);
        } finally {
          await ws.close();
          await tcp.close();
        }
      } finally {
        await srv.stop();
      }
    });
  });
}

describe('websocket in a cluster', () => {
  const pairs: [ServerKind, ServerKind][] = hasReference()
    ? [
        ['tsnats', 'tsnats'],
        ['tsnats', 'nats-server'],
      ]
    : [['tsnats', 'tsnats']];
  for (const [ka, kb] of pairs) {
    test(`${ka} + ${kb}: websocket clients learn both servers' websocket URLs; messages cross the route`, async () => {
      const wsBlock = 'websocket { listen: "127.0.0.1:-1", no_tls: true }\n';
      const a = await launch({
        kind: ka,
        config: `${wsBlock}cluster { name: wsc, listen: "127.0.0.1:-1" }\n`,
        args: ['-m', '-1'],
        listeners: ['nats', 'websocket', 'cluster', 'monitoring'],
      });
      let b: Launched | undefined;
      const conns: NatsConnection[] = [];
      try {
        b = await launch({
          kind: kb,
          config: `${wsBlock}cluster { name: wsc, listen: "127.0.0.1:-1", routes: ["nats://127.0.0.1:${a.clusterPort}"] }\n`,
          listeners: ['nats', 'websocket', 'cluster'],
        });
        const wsA = new URL(a.websocketUrl!).host;
        const wsB = new URL(b.websocketUrl!).host;
        // A websocket client of A gets an INFO listing both websocket URLs (and no TCP URL).
        const raw = await RawWs.open(a.websocketUrl!);
        try {
          await raw.waitFor('\r\n');
          raw.send('CONNECT {"verbose":false,"protocol":1}\r\nPING\r\n');
          const text = await raw.waitFor(`${wsB}"`, 10000);
          const infos = text.split('\r\n').filter((l) => l.startsWith('INFO '));
          const last = JSON.parse(infos[infos.length - 1]!.slice(5)) as { connect_urls?: string[] };
          assert.ok(last.connect_urls?.includes(wsA), JSON.stringify(last));
          assert.ok(last.connect_urls?.includes(wsB), JSON.stringify(last));
        } finally {
          raw.close();
        }
        const varz = await json<{ ws_connect_urls?: string[]; connect_urls?: string[] }>(
          `${a.monitorUrl}/varz`,
        );
        assert.deepEqual([...(varz.ws_connect_urls ?? [])].sort(), [wsA, wsB].sort());
        assert.ok(!(varz.connect_urls ?? []).includes(wsB));

        // A websocket client on each server.
        const onA = await wsConnect(a.websocketUrl!);
        const onB = await wsConnect(b.websocketUrl!);
        conns.push(onA, onB);
        const sub = onB.subscribe('across', { max: 1 });
        await onB.flush();
        const got = deferred<string>();
        void (async () => {
          for await (const m of sub) got.resolve(m.string());
        })();
        // Interest crosses the route before the publish may.
        await waitFor(
          async () => {
            const routez = await json<{ routes: { subscriptions_list?: string[] }[] }>(
              `${a.monitorUrl}/routez?subs=1`,
            );
            return routez.routes.some((r) => r.subscriptions_list?.includes('across'));
          },
          10000,
          'interest in "across" at A',
        );
        onA.publish('across', 'over the route');
        assert.equal(await within(got.promise, 5000, 'a message across the route'), 'over the route');
      } finally {
        for (const c of conns) await c.close();
        await b?.stop();
        await a.stop();
      }
    });
  }
});
