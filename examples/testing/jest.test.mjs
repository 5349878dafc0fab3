// A NATS server for Jest, from tsnats/testing. tsnats is an ES module, so Jest runs this file as one:
//   NODE_OPTIONS=--experimental-vm-modules npx jest examples/testing/jest.test.mjs
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { startServer } from 'tsnats/testing';

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
