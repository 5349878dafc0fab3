import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createConnection } from 'node:net';
import { test } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { CONNECTION_ERROR_CHANNEL, type ConnectionErrorEvent } from '../../src/index.js';
import { rng } from '../helpers/random.js';
import { connect as rawConnect } from '../helpers/raw-conn.js';
import { startServer, urlOf } from '../helpers/server.js';

const VALID = [
  'CONNECT {"verbose":false,"headers":true,"no_responders":true,"protocol":1}\r\n',
  'SUB foo.* 1\r\n',
  'SUB foo.> q 2\r\n',
  'PUB foo.bar 5\r\nhello\r\n',
  'PUB foo.bar reply 0\r\n\r\n',
  'HPUB foo.bar 12 14\r\nNATS/1.0\r\n\r\nhi\r\n',
  'UNSUB 1 3\r\n',
  'PING\r\n',
  'PONG\r\n',
  'INFO {}\r\n',
];

/** A valid script with random damage: flipped bytes, cut frames, duplicated pieces, random junk. */
function mutant(r: () => number): Buffer {
  const parts: Buffer[] = [];
  const n = 1 + Math.floor(r() * 12);
  for (let i = 0; i < n; i++) {
    const roll = r();
    if (roll < 0.7) {
      const b = Buffer.from(VALID[Math.floor(r() * VALID.length)]!);
      if (r() < 0.3) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      parts.push(r() < 0.2 ? b.subarray(0, Math.floor(r() * b.length)) : b);
    } else {
      const junk = Buffer.alloc(1 + Math.floor(r() * 64));
      for (let k = 0; k < junk.length; k++) junk[k] = Math.floor(r() * 256);
      parts.push(junk);
    }
  }
  return Buffer.concat(parts);
}

test('random and damaged protocol input never crashes the server or disturbs other clients', async () => {
  // Bad input must be refused by the protocol code, never by an exception caught as a last resort.
  const internalErrors: ConnectionErrorEvent[] = [];
  const onError = (e: unknown): void => {
    internalErrors.push(e as ConnectionErrorEvent);
  };
  subscribe(CONNECTION_ERROR_CHANNEL, onError);
  const server = await startServer({ maxPayload: 4096, maxControlLine: 512 });
  const watcher = await connect({ servers: urlOf(server) });
  try {
    const got: string[] = [];
    watcher.subscribe('watch', {
      callback: (_e, m) => {
        got.push(m.string());
      },
    });
    await watcher.flush();
    const r = rng(7);
    for (let round = 0; round < 25; round++) {
      // A batch of hostile connections, each sending a damaged script in random pieces.
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          const data = mutant(r);
          const cuts = [0, Math.floor(r() * data.length), data.length].sort((a, b) => a - b);
          const sock = createConnection({ host: '127.0.0.1', port: server.port });
          sock.on('error', () => {});
          sock.on('data', () => {});
          await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
          sock.write(data.subarray(cuts[0], cuts[1]));
          sock.write(data.subarray(cuts[1], cuts[2]));
          sock.end();
          await new Promise<void>((resolve) => sock.once('close', () => resolve()));
        }),
      );
      // The well-behaved client is unaffected.
      watcher.publish('watch', String(round));
      await watcher.flush();
    }
    assert.deepEqual(
      got,
      Array.from({ length: 25 }, (_, i) => String(i)),
    );
    assert.equal(watcher.isClosed(), false);
    assert.deepEqual(internalErrors, [], 'no internal error closed a connection');
  } finally {
    unsubscribe(CONNECTION_ERROR_CHANNEL, onError);
    await watcher.close();
    await server.shutdown();
  }
});

test('an internal error costs the one connection and is published on the diagnostics channel', async () => {
  const events: ConnectionErrorEvent[] = [];
  const onError = (e: unknown): void => {
    events.push(e as ConnectionErrorEvent);
  };
  subscribe(CONNECTION_ERROR_CHANNEL, onError);
  const server = await startServer({});
  const bystander = await connect({ servers: urlOf(server) });
  const victim = await rawConnect(server.port);
  try {
    // An in-process subscriber with a bug: delivering to it throws inside the publisher's read.
    server.subscribeInternal(server.globalAccount, 'boom', () => {
      throw new Error('handler bug');
    });
    victim.send('CONNECT {"verbose":false}\r\nPUB boom 1\r\nx\r\nPING\r\n');
    const r = await victim.readUntilClosed();
    assert.equal(r.closed, true, 'the publisher is closed');
    assert.equal(events.length, 1);
    assert.match(events[0]!.connection, /cid:\d+$/);
    assert.equal((events[0]!.error as Error).message, 'handler bug');
    // Everyone else carries on.
    const sub = bystander.subscribe('still', { max: 1 });
    bystander.publish('still', 'here');
    for await (const m of sub) assert.equal(m.string(), 'here');
  } finally {
    unsubscribe(CONNECTION_ERROR_CHANNEL, onError);
    await bystander.close();
    victim.close();
    await server.shutdown();
  }
});
