/**
 * NATS Streaming state across restarts: durables and their positions, unacknowledged messages and
 * registered clients come back from the store; and after `kill -9` of bin/tsnats every publish the
 * server acknowledged is there.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type * as stan from 'node-nats-streaming';
import { type Launched, launch } from '../helpers/launcher.js';
import {
  collect,
  publish,
  received,
  stanClose,
  stanConnect,
  startStreaming,
  subscribe,
} from '../helpers/streaming.js';

test('a restart keeps durables, their positions and unacknowledged messages', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsnats-stan-restart-'));
  try {
    let s = await startStreaming({}, {}, dir);
    let sc = await stanConnect(s.url, 'restart-client');
    for (let i = 1; i <= 5; i++) await publish(sc, 'ledger', `l${i}`);
    const opts = (c: stan.Stan): stan.SubscriptionOptions =>
      c
        .subscriptionOptions()
        .setDeliverAllAvailable()
        .setDurableName('books')
        .setManualAckMode(true)
        .setAckWait(1000);
    let sub = await subscribe(sc, 'ledger', opts(sc));
    const got = await collect(sub, 5);
    // 1..3 acknowledged, 4 and 5 not.
    for (const m of got.slice(0, 3)) m.ack();
    await publish(sc, 'ledger', 'l6'); // a round trip: the acks were processed
    await collect(sub, 1);
    await stanClose(sc);
    await s.stop();

    s = await startStreaming({}, {}, dir);
    const ch = s.server.streaming!.channels.get('ledger');
    assert.ok(ch !== undefined, 'the channel is back');
    assert.equal(ch.bounds().last, 6);
    assert.equal(ch.durables.size, 1, 'the durable is back');
    sc = await stanConnect(s.url, 'restart-client');
    sub = await subscribe(sc, 'ledger', opts(sc));
    // The unacknowledged 4, 5 and 6 come back, flagged; 1..3 do not.
    const again = await collect(sub, 3);
    assert.deepEqual(
      again.map((m) => [m.getSequence(), m.isRedelivered()]),
      [
        [4, true],
        [5, true],
        [6, true],
      ],
    );
    for (const m of again) m.ack();
    await publish(sc, 'ledger', 'l7');
    const [next] = await collect(sub, 1);
    assert.deepEqual([next!.getSequence(), next!.isRedelivered()], [7, false]);
    assert.equal(received(sub).length, 0);
    await stanClose(sc);
    await s.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a client registered before a restart is still known after it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsnats-stan-restart-'));
  try {
    let s = await startStreaming({}, {}, dir);
    const sc = await stanConnect(s.url, 'kept-client');
    sc.on('error', () => {});
    // The server goes away under the client (no close request).
    await s.stop();
    s = await startStreaming({}, {}, dir);
    assert.equal(s.server.streaming!.clients.has('kept-client'), true);
    await s.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kill -9: every acknowledged publish is there after a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsnats-stan-crash-'));
  const start = (): Promise<Launched> => launch({ jetstream: dir, args: ['-cid', 'test-cluster'] });
  let srv: Launched | undefined;
  try {
    srv = await start();
    const sc = await stanConnect(srv.url, 'crash-publisher');
    sc.on('error', () => {});
    // When its connection closes, the client calls the callbacks of unacknowledged publishes without an
    // error: only callbacks before the disconnect are PubAcks.
    let failed = false;
    sc.on('disconnect', () => {
      failed = true;
    });
    const acked = new Set<string>();
    let n = 0;
    const inflight = new Set<Promise<void>>();
    while (!failed) {
      const body = `crash-${n++}`;
      const p = publish(sc, 'crash', body).then(
        () => {
          if (!failed) acked.add(body);
        },
        () => {
          failed = true;
        },
      );
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      if (inflight.size >= 32) await Promise.race(inflight);
      // Kill while publishes are in flight.
      if (n === 1500) srv.kill('SIGKILL');
      if (n % 32 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.allSettled(inflight);
    await srv.exited;
    assert.ok(acked.size >= 100, `only ${acked.size} acknowledged before the kill`);
    await srv.stop();

    srv = await start();
    const reader = await stanConnect(srv.url, 'crash-reader');
    const sub = await subscribe(reader, 'crash', reader.subscriptionOptions().setDeliverAllAvailable());
    const total = await lastSequence(reader, 'crash');
    const msgs = await collect(sub, total);
    const stored = new Set(msgs.map((m) => m.getData() as string));
    const missing = [...acked].filter((b) => !stored.has(b));
    assert.deepEqual(missing, [], `${missing.length} acknowledged messages missing of ${acked.size}`);
    // And in publish order.
    const idx = msgs.map((m) => Number((m.getData() as string).slice('crash-'.length)));
    assert.deepEqual(
      idx,
      [...idx].sort((a, b) => a - b),
    );
    await stanClose(reader);
  } finally {
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kill -9: a durable resumes after its last written acknowledgement', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsnats-stan-crash-durable-'));
  const start = (): Promise<Launched> => launch({ jetstream: dir, args: ['-cid', 'test-cluster'] });
  let srv: Launched | undefined;
  try {
    srv = await start();
    let sc = await stanConnect(srv.url, 'crash-durable');
    sc.on('error', () => {});
    for (let i = 1; i <= 200; i++) await publish(sc, 'jobs', `j${i}`);
    const opts = (c: stan.Stan): stan.SubscriptionOptions =>
      c.subscriptionOptions().setDeliverAllAvailable().setDurableName('worker').setManualAckMode(true);
    let sub = await subscribe(sc, 'jobs', opts(sc));
    const first = await collect(sub, 200);
    for (const m of first.slice(0, 100)) m.ack();
    // A round trip (the acks are processed), then longer than the state's write delay (20 ms).
    await publish(sc, 'other', 'x');
    await new Promise((r) => setTimeout(r, 200));
    srv.kill('SIGKILL');
    await srv.exited;
    await srv.stop();

    srv = await start();
    // The same client ID: the server finds the old client dead (no heartbeat answer) and replaces it.
    sc = await stanConnect(srv.url, 'crash-durable');
    sub = await subscribe(sc, 'jobs', opts(sc));
    const again = await collect(sub, 100);
    assert.deepEqual(
      again.map((m) => m.getSequence()),
      Array.from({ length: 100 }, (_, i) => i + 101),
    );
    assert.ok(
      again.every((m) => m.isRedelivered()),
      'sent before the crash, so redelivered',
    );
    for (const m of again) m.ack();
    await publish(sc, 'jobs', 'j201');
    const [next] = await collect(sub, 1);
    assert.deepEqual([next!.getSequence(), next!.isRedelivered()], [201, false]);
    assert.equal(received(sub).length, 0);
    await stanClose(sc);
  } finally {
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bin/tsnats with a streaming {} block (store: file, dir) keeps channels across a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsnats-stan-conf-'));
  const config = `streaming { cluster_id: conf-cluster, store: file, dir: ${JSON.stringify(dir)}, max_msgs: 3 }`;
  let srv: Launched | undefined;
  try {
    srv = await launch({ config });
    let sc = await stanConnect(srv.url, 'conf-client', {}, 'conf-cluster');
    for (let i = 1; i <= 5; i++) await publish(sc, 'conf', `c${i}`);
    await stanClose(sc);
    await srv.stop();
    srv = await launch({ config });
    sc = await stanConnect(srv.url, 'conf-client', {}, 'conf-cluster');
    const sub = await subscribe(sc, 'conf', sc.subscriptionOptions().setDeliverAllAvailable());
    assert.deepEqual(
      (await collect(sub, 3)).map((m) => [m.getSequence(), m.getData()]),
      [
        [3, 'c3'],
        [4, 'c4'],
        [5, 'c5'],
      ],
    );
    await stanClose(sc);
  } finally {
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The channel's last sequence, as a "last received" subscription sees it. */
async function lastSequence(sc: stan.Stan, channel: string): Promise<number> {
  const sub = await subscribe(sc, channel, sc.subscriptionOptions().setStartWithLastReceived());
  const [m] = await collect(sub, 1);
  sub.unsubscribe();
  return m!.getSequence();
}
