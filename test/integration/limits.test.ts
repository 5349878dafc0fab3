/**
 * Server limits seen from real clients and from raw sockets: max payload, slow consumers, stale
 * connections, max connections and max subscriptions. Expected behaviour is nats-server's.
 */
import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import {
  connect,
  InvalidArgumentError,
  type NatsConnection,
  ProtocolError,
  type Status,
} from '@nats-io/transport-node';
import type { Server } from '../../src/index.js';
import { deferred, within } from '../helpers/async.js';
import { startServer, urlOf } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

const dec = new TextDecoder();

/** A raw TCP connection that records every byte (as latin1 text) and lets a test wait on it. */
interface Raw {
  socket: Socket;
  /** Everything received so far. */
  text(): string;
  /** Resolve with the received text once `pred` holds for it (checked on each read and on close). */
  until(pred: (text: string) => boolean, ms: number, what: string): Promise<string>;
  /** Resolves when the socket is closed. */
  closed: Promise<void>;
  isClosed(): boolean;
}

async function rawConnect(server: Server): Promise<Raw> {
  const socket = netConnect({ host: '127.0.0.1', port: server.port });
  let text = '';
  let isClosed = false;
  const waiters = new Set<() => void>();
  socket.on('data', (b: Buffer) => {
    text += b.toString('latin1');
    for (const w of [...waiters]) w();
  });
  socket.on('error', () => {
    // A reset after the server closed us is expected in some tests; the close event tells the story.
  });
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      isClosed = true;
      for (const w of [...waiters]) w();
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const raw: Raw = {
    socket,
    text: () => text,
    until(pred, ms, what) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (pred(text)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(text);
          } else if (isClosed) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(
              new Error(`connection closed while waiting for ${what}; received ${JSON.stringify(text)}`),
            );
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${ms}ms waiting for ${what}; received ${JSON.stringify(text)}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    closed,
    isClosed: () => isClosed,
  };
  await raw.until((t) => t.includes('\r\n'), 2000, 'INFO');
  assert.match(text, /^INFO \{[^\r\n]*\} ?\r\n/);
  return raw;
}

/** The text after the INFO line. */
function afterInfo(text: string): string {
  return text.slice(text.indexOf('\r\n') + 2);
}

function nc(server: Server): Promise<NatsConnection> {
  return connect({ servers: urlOf(server), reconnect: false });
}

/** Collect status events of a connection from now on. */
function watchStatus(c: NatsConnection): Status[] {
  const events: Status[] = [];
  void (async () => {
    for await (const s of c.status()) events.push(s);
  })();
  return events;
}

describe('max_payload', () => {
  test('client refuses a larger publish; raw PUB over the limit gets -ERR and is closed', async () => {
    const server = await startServer({ maxPayload: 1024 });
    const c = await nc(server);
    let raw: Raw | undefined;
    try {
      assert.equal(c.info?.max_payload, 1024);
      // Exactly the limit is fine.
      const got: number[] = [];
      c.subscribe('limit', {
        callback: (_e, m) => {
          got.push(m.data.length);
        },
      });
      c.publish('limit', new Uint8Array(1024));
      await c.flush();
      assert.deepEqual(got, [1024]);
      // One byte more is refused by the client before anything is sent.
      assert.throws(
        () => c.publish('limit', new Uint8Array(1025)),
        (err: unknown) => {
          assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(err)}`);
          assert.match(err.message, /max_payload size exceeded/);
          return true;
        },
      );
      await c.flush();
      assert.deepEqual(got, [1024]);
      assert.equal(c.isClosed(), false);

      // A raw client that ignores max_payload is cut off by the server.
      raw = await rawConnect(server);
      raw.socket.write(
        `CONNECT {"verbose":false,"pedantic":false}\r\nPUB limit 1025\r\n${'x'.repeat(1025)}\r\n`,
      );
      await within(raw.closed, 3000, 'server to close the raw connection');
      assert.equal(afterInfo(raw.text()), "-ERR 'Maximum Payload Violation'\r\n");
      await c.flush();
      assert.deepEqual(got, [1024], 'the oversized message was not delivered');
      await waitFor(() => server.clients.size === 1, 2000, 'the violating client to be removed');
    } finally {
      raw?.socket.destroy();
      await c.close();
      await server.shutdown();
    }
  });
});

describe('slow consumer', () => {
  test('a subscriber that never reads is cut off; a fast one gets everything', async () => {
    const N = 20000;
    const SIZE = 1024;
    const server = await startServer({ maxPending: 256 * 1024, writeDeadline: 500 });
    let slow: Raw | undefined;
    const fast = await nc(server);
    const pub = await nc(server);
    try {
      // The slow one: subscribes, proves the SUB was processed, then stops reading.
      slow = await rawConnect(server);
      slow.socket.write('CONNECT {"verbose":false,"pedantic":false}\r\nSUB load 1\r\nPING\r\n');
      await slow.until((t) => t.endsWith('PONG\r\n'), 2000, 'PONG');
      slow.socket.pause();

      let count = 0;
      let outOfOrder = 0;
      const all = deferred<void>();
      fast.subscribe('load', {
        callback: (_e, m) => {
          if (Number(dec.decode(m.data.subarray(0, 8))) !== count || m.data.length !== SIZE) outOfOrder++;
          if (++count === N) all.resolve();
        },
      });
      await fast.flush();
      assert.equal(server.numSubscriptions(), 2);

      const enc = new TextEncoder();
      for (let i = 0; i < N; i++) {
        // A fresh buffer each time: the client may hold on to it until it writes.
        const payload = new Uint8Array(SIZE).fill(0x2e);
        enc.encodeInto(String(i).padStart(8, '0'), payload);
        pub.publish('load', payload);
        if (i % 100 === 99) {
          // Keep the fast subscriber's backlog far below max_pending: it shares this process's event loop
          // with the server, so it must not be made to look slow. The paused one piles up regardless.
          await pub.flush();
          await fast.flush();
        }
      }
      await pub.flush();
      await within(all.promise, 20000, `fast subscriber to get all ${N} messages (got ${count})`);
      await fast.flush();
      assert.equal(count, N);
      assert.equal(outOfOrder, 0, 'fast subscriber got every message, in order, intact');
      assert.equal(fast.isClosed(), false);

      assert.ok(server.stats.slowConsumers >= 1, `slowConsumers = ${server.stats.slowConsumers}`);
      assert.equal(server.clients.size, 2, 'the slow consumer was removed from the server');
      assert.equal(server.numSubscriptions(), 1);
      // Once it reads again, it finds the connection closed by the server.
      slow.socket.resume();
      await within(slow.closed, 5000, 'slow consumer socket to close');
      const received = slow.text().length;
      assert.ok(received < N * SIZE, `slow consumer got only part of the stream (${received} bytes)`);
    } finally {
      slow?.socket.destroy();
      await Promise.all([fast.close(), pub.close()]);
      await server.shutdown();
    }
  });
});

describe('stale connection', () => {
  test('a client that never answers PING gets two PINGs, then -ERR Stale Connection', async () => {
    const server = await startServer({ pingInterval: 100, pingMax: 2 });
    const c = await nc(server);
    const events = watchStatus(c);
    let raw: Raw | undefined;
    try {
      raw = await rawConnect(server);
      const started = Date.now();
      raw.socket.write('CONNECT {"verbose":false}\r\n');
      await within(raw.closed, 3000, 'server to close the stale connection');
      const elapsed = Date.now() - started;
      assert.equal(afterInfo(raw.text()), "PING\r\nPING\r\n-ERR 'Stale Connection'\r\n");
      assert.ok(elapsed >= 250, `closed after ${elapsed}ms, expected about 3 ping intervals`);

      // The real client answered every PING over the same period and is still connected.
      await c.flush();
      assert.equal(c.isClosed(), false);
      assert.deepEqual(
        events.filter((e) => e.type === 'disconnect' || e.type === 'staleConnection' || e.type === 'error'),
        [],
      );
      await waitFor(() => server.clients.size === 1, 2000, 'only the answering client to remain');
      // And it survives a few more intervals.
      await new Promise((r) => setTimeout(r, 350));
      await c.flush();
      assert.equal(server.clients.size, 1);
    } finally {
      raw?.socket.destroy();
      await c.close();
      await server.shutdown();
    }
  });
});

describe('max_connections', () => {
  test('the third connection is refused with maximum connections exceeded', async () => {
    const server = await startServer({ maxConnections: 2 });
    const c1 = await nc(server);
    const c2 = await nc(server);
    let c3: NatsConnection | undefined;
    let raw: Raw | undefined;
    try {
      await assert.rejects(nc(server), (err: unknown) => {
        assert.ok(err instanceof Error);
        assert.match(err.message, /maximum connections/i);
        return true;
      });
      raw = await rawConnect(server);
      await within(raw.closed, 3000, 'server to close the raw connection');
      assert.equal(afterInfo(raw.text()), "-ERR 'maximum connections exceeded'\r\n");
      // The existing connections are unaffected.
      await Promise.all([c1.flush(), c2.flush()]);
      assert.equal(server.clients.size, 2);
      // A slot frees up when one leaves.
      await c1.close();
      await waitFor(() => server.clients.size === 1, 2000, 'closed client to leave');
      c3 = await nc(server);
      await c3.flush();
      assert.equal(server.clients.size, 2);
    } finally {
      raw?.socket.destroy();
      await Promise.all([c1.close(), c2.close(), c3?.close()]);
      await server.shutdown();
    }
  });
});

describe('max_subscriptions', () => {
  test('the third subscription gets an async error; the connection stays usable', async () => {
    const server = await startServer({ maxSubscriptions: 2 });
    const c = await nc(server);
    try {
      const serverError = deferred<Error>();
      void (async () => {
        for await (const s of c.status()) if (s.type === 'error') serverError.resolve(s.error);
      })();
      const got: string[] = [];
      const subs = ['one', 'two', 'three'].map((subj) =>
        c.subscribe(subj, {
          callback: (_e, m) => {
            got.push(m.subject);
          },
        }),
      );
      const err = await within(serverError.promise, 2000, 'the server error');
      assert.ok(err instanceof ProtocolError, `expected ProtocolError, got ${String(err)}`);
      assert.match(err.message, /maximum subscriptions exceeded/);
      assert.equal(server.numSubscriptions(), 2);
      for (const subj of ['one', 'two', 'three']) c.publish(subj, subj);
      await c.flush();
      assert.deepEqual(got, ['one', 'two']);
      assert.equal(c.isClosed(), false);
      // Freeing a slot makes room for a new subscription.
      subs[0]!.unsubscribe();
      c.subscribe('four', {
        callback: (_e, m) => {
          got.push(m.subject);
        },
      });
      await c.flush();
      assert.equal(server.numSubscriptions(), 2);
      for (const subj of ['one', 'two', 'three', 'four']) c.publish(subj, subj);
      await c.flush();
      assert.deepEqual(got, ['one', 'two', 'two', 'four']);
      assert.equal(c.isClosed(), false);
    } finally {
      await c.close();
      await server.shutdown();
    }
  });
});
