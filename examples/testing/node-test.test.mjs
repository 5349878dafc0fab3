// A NATS server for node:test, from tsnats/testing: one per file, JetStream on, gone after the tests.
// Run: node --test examples/testing/node-test.test.mjs
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { startCluster, startServer } from 'tsnats/testing';

let srv;
let nc;
before(async () => {
  srv = await startServer({ jetstream: true });
  nc = await connect({ servers: srv.url });
});
after(async () => {
  await nc?.close();
  await srv?.stop(); // also removes the temporary JetStream store
});

test('request/reply', async () => {
  const sub = nc.subscribe('time', { callback: (_err, m) => m.respond('now') });
  const reply = await nc.request('time', '', { timeout: 1000 });
  assert.equal(reply.string(), 'now');
  sub.unsubscribe();
});

test('JetStream: publish and read back', async () => {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
  const ack = await jetstream(nc).publish('orders.1', 'pizza');
  assert.equal(ack.seq, 1);
  const m = await jsm.streams.getMessage('ORDERS', { seq: 1 });
  assert.equal(m.string(), 'pizza');
});

test('a three-server cluster for one test', async () => {
  // In TypeScript (or Node >= 24): `await using cluster = await startCluster(...)` stops it at the block's end.
  const cluster = await startCluster(3, { jetstream: true });
  try {
    const c = await connect({ servers: cluster.urls });
    const jsm = await jetstreamManager(c);
    const si = await jsm.streams.add({ name: 'R3', subjects: ['r3'], num_replicas: 3 });
    assert.equal(si.config.num_replicas, 3);
    await c.close();
  } finally {
    await cluster.stop();
  }
});
