/**
 * End-to-end tests with real NATS clients (@nats-io/transport-node v3 and the `nats` v2 package) against an
 * embedded tsnats. Every test starts its own server and closes everything it opened.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  connect,
  Empty,
  headers,
  InvalidArgumentError,
  type Msg,
  type NatsConnection,
  NoRespondersError,
  RequestError,
} from '@nats-io/transport-node';
import { connect as connectV2, StringCodec } from 'nats';
import type { Server } from '../../src/index.js';
import { deferred, within } from '../helpers/async.js';
import { startServer, urlOf } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

const enc = new TextEncoder();

function nc(server: Server, opts: Record<string, unknown> = {}): Promise<NatsConnection> {
  return connect({ servers: urlOf(server), reconnect: false, ...opts });
}

/** Run `body` with a fresh server and `n` connections, closing all of them afterwards. */
async function withClients(
  n: number,
  body: (server: Server, clients: NatsConnection[]) => Promise<void>,
  serverOpts: Parameters<typeof startServer>[0] = {},
): Promise<void> {
  const server = await startServer(serverOpts);
  const clients: NatsConnection[] = [];
  try {
    for (let i = 0; i < n; i++) clients.push(await nc(server));
    await body(server, clients);
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await server.shutdown();
  }
}

describe('transport-node client', () => {
  test('pub/sub delivers exact payloads in order', async () => {
    await withClients(2, async (_server, [sub, pub]) => {
      const got: string[] = [];
      const subjects: string[] = [];
      sub!.subscribe('orders.new', {
        callback: (err, m) => {
          assert.equal(err, null);
          got.push(m.string());
          subjects.push(m.subject);
        },
      });
      await sub!.flush();
      const sent = Array.from({ length: 100 }, (_, i) => `order-${i}`);
      for (const s of sent) pub!.publish('orders.new', s);
      pub!.publish('orders.other', 'not for us');
      pub!.publish('orders.new.extra', 'not for us either');
      await pub!.flush();
      await sub!.flush();
      assert.deepEqual(got, sent);
      assert.deepEqual(new Set(subjects), new Set(['orders.new']));
    });
  });

  test('wildcards * and > match exactly the right subjects', async () => {
    await withClients(2, async (_server, [sub, pub]) => {
      const star: string[] = [];
      const gt: string[] = [];
      const mid: string[] = [];
      sub!.subscribe('foo.*', {
        callback: (_e, m) => {
          star.push(m.subject);
        },
      });
      sub!.subscribe('foo.>', {
        callback: (_e, m) => {
          gt.push(m.subject);
        },
      });
      sub!.subscribe('a.*.c', {
        callback: (_e, m) => {
          mid.push(m.subject);
        },
      });
      await sub!.flush();
      for (const s of [
        'foo',
        'foo.bar',
        'foo.bar.baz',
        'foo.x.y.z',
        'foobar.x',
        'bar.foo',
        'a.b.c',
        'a.c',
        'a.b.c.d',
      ]) {
        pub!.publish(s, s);
      }
      await pub!.flush();
      await sub!.flush();
      assert.deepEqual(star, ['foo.bar']);
      assert.deepEqual(gt, ['foo.bar', 'foo.bar.baz', 'foo.x.y.z']);
      assert.deepEqual(mid, ['a.b.c']);
    });
  });

  test('queue group: 1000 messages each reach exactly one of 4 members; plain subscriber gets all', async () => {
    await withClients(4, async (_server, [c1, c2, c3, pub]) => {
      const N = 1000;
      const perMember = [0, 0, 0, 0];
      const seen = new Array<number>(N).fill(0);
      const plain: number[] = [];
      const conns = [c1!, c1!, c2!, c2!];
      conns.forEach((c, member) => {
        c.subscribe('work', {
          queue: 'workers',
          callback: (_e, m) => {
            perMember[member]!++;
            seen[Number(m.string())]!++;
          },
        });
      });
      c3!.subscribe('work', {
        callback: (_e, m) => {
          plain.push(Number(m.string()));
        },
      });
      await Promise.all([c1!.flush(), c2!.flush(), c3!.flush()]);
      for (let i = 0; i < N; i++) pub!.publish('work', String(i));
      await pub!.flush();
      // Each subscriber's PONG comes after every message the server queued to it before.
      await Promise.all([c1!.flush(), c2!.flush(), c3!.flush()]);
      const dupes = seen.flatMap((n, i) => (n > 1 ? [i] : []));
      const missing = seen.flatMap((n, i) => (n === 0 ? [i] : []));
      assert.deepEqual(dupes, [], 'no message delivered twice within the group');
      assert.deepEqual(missing, [], 'no message missing from the group');
      assert.equal(
        perMember.reduce((a, b) => a + b, 0),
        N,
      );
      for (const [i, n] of perMember.entries()) assert.ok(n > 0, `member ${i} got no messages: ${perMember}`);
      assert.deepEqual(
        plain,
        Array.from({ length: N }, (_, i) => i),
      );
    });
  });

  test('request/reply with a responder', async () => {
    await withClients(2, async (_server, [responder, requester]) => {
      responder!.subscribe('svc.upper', {
        callback: (_e, m) => {
          m.respond(m.string().toUpperCase());
        },
      });
      await responder!.flush();
      const r = await requester!.request('svc.upper', 'hello', { timeout: 2000 });
      assert.equal(r.string(), 'HELLO');
      // Several in flight at once are each matched with their own reply.
      const many = await Promise.all(
        Array.from({ length: 20 }, (_, i) => requester!.request('svc.upper', `req-${i}`, { timeout: 2000 })),
      );
      assert.deepEqual(
        many.map((m) => m.string()),
        Array.from({ length: 20 }, (_, i) => `REQ-${i}`),
      );
      // A request without the muxed inbox (its own subscription) works too.
      const r2 = await requester!.request('svc.upper', 'nomux', { timeout: 2000, noMux: true });
      assert.equal(r2.string(), 'NOMUX');
    });
  });

  test('request with no responders fails fast with a no-responders error', async () => {
    await withClients(1, async (_server, [c]) => {
      const started = Date.now();
      await assert.rejects(c!.request('nobody.home', Empty, { timeout: 5000 }), (err: unknown) => {
        assert.ok(err instanceof RequestError, `expected RequestError, got ${String(err)}`);
        assert.equal(err.isNoResponders(), true);
        assert.ok(err.cause instanceof NoRespondersError);
        assert.equal((err.cause as NoRespondersError).subject, 'nobody.home');
        return true;
      });
      assert.ok(Date.now() - started < 5000, 'failed because of the 503 status, not the timeout');
      await assert.rejects(
        c!.request('nobody.home', Empty, { timeout: 5000, noMux: true }),
        (err: unknown) => err instanceof RequestError && err.isNoResponders(),
      );
    });
  });

  test('headers round trip with multiple keys and multi-values', async () => {
    await withClients(2, async (_server, [sub, pub]) => {
      const got = deferred<Msg>();
      sub!.subscribe('hdrs', { callback: (_e, m) => got.resolve(m) });
      await sub!.flush();
      const h = headers();
      h.append('X-Multi', 'one');
      h.append('X-Multi', 'two');
      h.append('X-Multi', 'three');
      h.set('X-Single', 'value with spaces');
      h.set('Content-Type', 'text/plain');
      pub!.publish('hdrs', 'body', { headers: h });
      const m = await within(got.promise, 2000, 'message with headers');
      assert.equal(m.string(), 'body');
      assert.ok(m.headers, 'message has headers');
      assert.deepEqual(m.headers.values('X-Multi'), ['one', 'two', 'three']);
      assert.equal(m.headers.get('X-Single'), 'value with spaces');
      assert.equal(m.headers.get('Content-Type'), 'text/plain');
      assert.deepEqual(m.headers.keys().sort(), ['Content-Type', 'X-Multi', 'X-Single']);

      // Headers on a request and on its reply.
      sub!.subscribe('hdrs.echo', {
        callback: (_e, req) => {
          const rh = headers();
          rh.set('X-Reply-To-Id', req.headers?.get('X-Id') ?? 'missing');
          req.respond(Empty, { headers: rh });
        },
      });
      await sub!.flush();
      const reqH = headers();
      reqH.set('X-Id', '42');
      const r = await pub!.request('hdrs.echo', Empty, { timeout: 2000, headers: reqH });
      assert.equal(r.headers?.get('X-Reply-To-Id'), '42');
      assert.equal(r.data.length, 0);
    });
  });

  test('echo: false suppresses own messages but delivers the other connection', async () => {
    const server = await startServer();
    const noEcho = await nc(server, { noEcho: true });
    const echo = await nc(server);
    const other = await nc(server);
    try {
      const gotNoEcho: string[] = [];
      const gotEcho: string[] = [];
      noEcho.subscribe('chat', {
        callback: (_e, m) => {
          gotNoEcho.push(m.string());
        },
      });
      echo.subscribe('chat', {
        callback: (_e, m) => {
          gotEcho.push(m.string());
        },
      });
      await Promise.all([noEcho.flush(), echo.flush()]);
      noEcho.publish('chat', 'from-noecho');
      await noEcho.flush();
      echo.publish('chat', 'from-echo');
      await echo.flush();
      other.publish('chat', 'from-other');
      await other.flush();
      await Promise.all([noEcho.flush(), echo.flush()]);
      assert.deepEqual(gotNoEcho, ['from-echo', 'from-other']);
      assert.deepEqual(gotEcho, ['from-noecho', 'from-echo', 'from-other']);
    } finally {
      await Promise.all([noEcho.close(), echo.close(), other.close()]);
      await server.shutdown();
    }
  });

  test('auto-unsubscribe with {max: 2} receives exactly 2', async () => {
    await withClients(2, async (server, [sub, pub]) => {
      const got: string[] = [];
      const s = sub!.subscribe('auto', {
        max: 2,
        callback: (_e, m) => {
          got.push(m.string());
        },
      });
      await sub!.flush();
      assert.equal(server.numSubscriptions(), 1);
      for (let i = 1; i <= 5; i++) pub!.publish('auto', `m${i}`);
      await pub!.flush();
      await sub!.flush();
      assert.deepEqual(got, ['m1', 'm2']);
      assert.equal(s.isClosed(), true);
      assert.equal(sub!.stats().inMsgs, 2, 'the server sent only 2 messages');
      assert.equal(server.numSubscriptions(), 0);
    });
  });

  test('server-side auto-unsubscribe via sub.unsubscribe(2)', async () => {
    await withClients(2, async (server, [sub, pub]) => {
      const got: string[] = [];
      const s = sub!.subscribe('auto2', {
        callback: (_e, m) => {
          got.push(m.string());
        },
      });
      s.unsubscribe(2); // sends UNSUB <sid> 2
      await sub!.flush();
      assert.equal(server.numSubscriptions(), 1);
      const before = sub!.stats().inMsgs;
      // All five reach the server in one batch: only the server's limit can stop the last three.
      for (let i = 1; i <= 5; i++) pub!.publish('auto2', `m${i}`);
      await pub!.flush();
      await sub!.flush();
      assert.deepEqual(got, ['m1', 'm2']);
      assert.equal(sub!.stats().inMsgs - before, 2, 'the server sent exactly 2 messages');
      assert.equal(server.numSubscriptions(), 0, 'the server removed the subscription');
      assert.equal(s.isClosed(), true);
    });
  });

  test('drain processes in-flight messages, then closes the connection', async () => {
    const server = await startServer();
    const sub = await nc(server);
    const pub = await nc(server);
    try {
      const got: number[] = [];
      const s = sub.subscribe('drain.me', {
        callback: (_e, m) => {
          got.push(Number(m.string()));
        },
      });
      await sub.flush();
      for (let i = 0; i < 200; i++) pub.publish('drain.me', String(i));
      await pub.flush();
      await sub.drain();
      assert.equal(sub.isClosed(), true);
      assert.equal(s.isClosed(), true);
      assert.deepEqual(
        got,
        Array.from({ length: 200 }, (_, i) => i),
      );
      await waitFor(() => server.clients.size === 1, 2000, 'the drained client to leave the server');
      assert.equal(server.numSubscriptions(), 0);
      // Subscription drain on a live connection.
      const got2: string[] = [];
      const s2 = pub.subscribe('drain.sub', {
        callback: (_e, m) => {
          got2.push(m.string());
        },
      });
      pub.publish('drain.sub', 'a');
      pub.publish('drain.sub', 'b');
      await s2.drain();
      assert.deepEqual(got2, ['a', 'b']);
      assert.equal(s2.isClosed(), true);
      pub.publish('drain.sub', 'c');
      await pub.flush();
      assert.deepEqual(got2, ['a', 'b']);
      assert.equal(server.numSubscriptions(), 0);
    } finally {
      await Promise.all([sub.close(), pub.close()]);
      await server.shutdown();
    }
  });

  test('binary payload with every byte value round trips', async () => {
    await withClients(2, async (_server, [sub, pub]) => {
      const got = deferred<Uint8Array>();
      sub!.subscribe('bin', { callback: (_e, m) => got.resolve(m.data) });
      await sub!.flush();
      // Every byte value, then the protocol's own delimiters in awkward places.
      const payload = new Uint8Array(256 * 4 + 8);
      for (let i = 0; i < 256 * 4; i++) payload[i] = i % 256;
      payload.set(enc.encode('\r\nMSG\r\n'), 256 * 4);
      pub!.publish('bin', payload);
      const data = await within(got.promise, 2000, 'binary message');
      assert.ok(Buffer.from(data).equals(Buffer.from(payload)));
    });
  });

  test('1 MB payload (exactly max_payload) round trips', async () => {
    await withClients(2, async (_server, [sub, pub]) => {
      assert.equal(pub!.info?.max_payload, 1048576);
      const got = deferred<Uint8Array>();
      sub!.subscribe('big', { callback: (_e, m) => got.resolve(m.data) });
      await sub!.flush();
      const payload = new Uint8Array(1048576);
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
      pub!.publish('big', payload);
      const data = await within(got.promise, 5000, '1 MB message');
      assert.equal(data.length, 1048576);
      assert.ok(Buffer.from(data).equals(Buffer.from(payload)));
      // One byte more is refused by the client, from the server's advertised max_payload.
      assert.throws(() => pub!.publish('big', new Uint8Array(1048577)), InvalidArgumentError);
      await pub!.flush();
    });
  });
});

describe('nats v2 client', () => {
  test('pub/sub and request/reply', async () => {
    const server = await startServer();
    const sc = StringCodec();
    const c1 = await connectV2({ servers: urlOf(server), reconnect: false });
    const c2 = await connectV2({ servers: urlOf(server), reconnect: false });
    try {
      const got: string[] = [];
      c1.subscribe('v2.>', {
        callback: (_e, m) => {
          got.push(`${m.subject}:${sc.decode(m.data)}`);
        },
      });
      c1.subscribe('v2.svc', { callback: (_e, m) => m.respond(sc.encode(`re:${sc.decode(m.data)}`)) });
      await c1.flush();
      c2.publish('v2.a', sc.encode('one'));
      c2.publish('v2.b.c', sc.encode('two'));
      c2.publish('v3.a', sc.encode('nope'));
      const r = await c2.request('v2.svc', sc.encode('ping'), { timeout: 2000 });
      assert.equal(sc.decode(r.data), 're:ping');
      await c1.flush();
      assert.deepEqual(got, ['v2.a:one', 'v2.b.c:two', 'v2.svc:ping']);
      // v2's no-responders error code is 503.
      await assert.rejects(c2.request('v2none', sc.encode('x'), { timeout: 2000 }), (err: unknown) => {
        assert.equal((err as { code?: string }).code, '503');
        return true;
      });
    } finally {
      await Promise.all([c1.close(), c2.close()]);
      await server.shutdown();
    }
  });
});

describe('many connections', () => {
  test('1000 concurrent connections each get their own and the shared message', async () => {
    const N = 1000;
    const BATCH = 100;
    const server = await startServer();
    const conns: NatsConnection[] = [];
    let pub: NatsConnection | undefined;
    try {
      for (let i = 0; i < N; i += BATCH) {
        const batch = await Promise.all(Array.from({ length: Math.min(BATCH, N - i) }, () => nc(server)));
        conns.push(...batch);
      }
      assert.equal(server.clients.size, N);
      const own: string[][] = conns.map(() => []);
      const shared: number[] = new Array(N).fill(0);
      let sharedTotal = 0;
      const allShared = deferred();
      let ownTotal = 0;
      const allOwn = deferred();
      conns.forEach((c, i) => {
        c.subscribe(`conn.${i}`, {
          callback: (_e, m) => {
            own[i]!.push(m.string());
            if (++ownTotal === N) allOwn.resolve();
          },
        });
        c.subscribe('shared', {
          callback: () => {
            shared[i]!++;
            if (++sharedTotal === N) allShared.resolve();
          },
        });
      });
      await Promise.all(conns.map((c) => c.flush()));
      assert.equal(server.numSubscriptions(), 2 * N);
      pub = await nc(server);
      pub.publish('shared', 'hello all');
      for (let i = 0; i < N; i++) pub.publish(`conn.${i}`, `for ${i}`);
      await pub.flush();
      await within(allShared.promise, 10000, `shared message at all ${N} connections (got ${sharedTotal})`);
      await within(allOwn.promise, 10000, `own messages at all ${N} connections (got ${ownTotal})`);
      await Promise.all(conns.map((c) => c.flush()));
      assert.deepEqual(
        shared.flatMap((n, i) => (n === 1 ? [] : [`${i}:${n}`])),
        [],
      );
      assert.deepEqual(
        own.flatMap((msgs, i) => (msgs.length === 1 && msgs[0] === `for ${i}` ? [] : [`${i}:${msgs}`])),
        [],
      );
      await Promise.all(conns.map((c) => c.close()));
      await pub.close();
      await waitFor(() => server.clients.size === 0, 10000, 'all clients to be gone from the server');
      assert.equal(server.numSubscriptions(), 0);
    } finally {
      await Promise.all(conns.map((c) => c.close().catch(() => {})));
      await pub?.close().catch(() => {});
      await server.shutdown();
    }
  });
});
