// A NATS server for Vitest, from tsnats/testing. Run: npx vitest run examples/testing/vitest.test.mjs
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { startServer } from 'tsnats/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';

let srv;
let nc;
beforeAll(async () => {
  srv = await startServer({ jetstream: true });
  nc = await connect({ servers: srv.url });
});
afterAll(async () => {
  await nc?.close();
  await srv?.stop();
});

test('request/reply', async () => {
  const sub = nc.subscribe('time', { callback: (_err, m) => m.respond('now') });
  expect((await nc.request('time', '', { timeout: 1000 })).string()).toBe('now');
  sub.unsubscribe();
});

test('JetStream: publish and read back', async () => {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
  expect((await jetstream(nc).publish('orders.1', 'pizza')).seq).toBe(1);
  expect((await jsm.streams.getMessage('ORDERS', { seq: 1 })).string()).toBe('pizza');
});
