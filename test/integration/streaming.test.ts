/**
 * NATS Streaming with the real node-nats-streaming client: connect and close, publish with acks, every
 * start position, manual acks and redelivery, max_in_flight, durables, queue groups, and a core NATS
 * client alongside. (The restart after kill -9 is in streaming-crash.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type * as stan from 'node-nats-streaming';
import {
  decodeConnectResponse,
  decodePingResponse,
  encodeConnectRequest,
  encodePing,
} from '../../src/streaming/proto.js';
import {
  collect,
  publish,
  received,
  type StreamingServer,
  stanClose,
  stanConnect,
  startStreaming,
  subEvent,
  subscribe,
} from '../helpers/streaming.js';
import { waitFor } from '../helpers/wait-for.js';

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

describe('NATS Streaming: start positions', () => {
  let s: StreamingServer;
  let sc: stan.Stan;
  let t3 = 0;
  before(async () => {
    s = await startStreaming();
    sc = await stanConnect(s.url, 'positions');
    for (let i = 1; i <= 5; i++) {
      if (i === 4) {
        // Messages 4 and 5 are stored at least 600 ms after 1..3 (for the time starts).
        await new Promise((r) => setTimeout(r, 600));
        t3 = Date.now();
      }
      await publish(sc, 'pos', `p${i}`);
    }
  });
  after(async () => {
    await stanClose(sc);
    await s.cleanup();
  });

  const seqs = (ms: stan.Message[]): number[] => ms.map((m) => m.getSequence());

  test('first', async () => {
    const sub = await subscribe(sc, 'pos', sc.subscriptionOptions().setDeliverAllAvailable());
    assert.deepEqual(seqs(await collect(sub, 5)), [1, 2, 3, 4, 5]);
    sub.unsubscribe();
  });

  test('last received', async () => {
    const sub = await subscribe(sc, 'pos', sc.subscriptionOptions().setStartWithLastReceived());
    assert.deepEqual(seqs(await collect(sub, 1)), [5]);
    await publish(sc, 'pos', 'p6');
    assert.deepEqual(seqs(await collect(sub, 1)), [6]);
    sub.unsubscribe();
  });

  test('sequence', async () => {
    const sub = await subscribe(sc, 'pos', sc.subscriptionOptions().setStartAtSequence(3));
    assert.deepEqual(seqs(await collect(sub, 4)), [3, 4, 5, 6]);
    sub.unsubscribe();
  });

  test('time delta', async () => {
    // From 300 ms before message 4 was published: the server takes the delta from the time it gets the
    // request, so up to 300 ms on the way (a loaded machine) still starts between messages 3 and 4.
    const delta = Date.now() - t3 + 300;
    const sub = await subscribe(sc, 'pos', sc.subscriptionOptions().setStartAtTimeDelta(delta));
    assert.deepEqual(seqs(await collect(sub, 3)), [4, 5, 6]);
    sub.unsubscribe();
  });

  test('start time (a date)', async () => {
    const sub = await subscribe(sc, 'pos', sc.subscriptionOptions().setStartTime(new Date(t3 - 300)));
    assert.deepEqual(seqs(await collect(sub, 3)), [4, 5, 6]);
    sub.unsubscribe();
  });

  test('new only (the default)', async () => {
    const sub = await subscribe(sc, 'pos', sc.subscriptionOptions());
    await publish(sc, 'pos', 'p7');
    const [m] = await collect(sub, 1);
    assert.equal(m!.getSequence(), 7);
    assert.equal(m!.getData(), 'p7');
    sub.unsubscribe();
  });
});

describe('NATS Streaming: acks, redelivery, max_in_flight', () => {
  let s: StreamingServer;
  before(async () => {
    s = await startStreaming();
  });
  after(async () => {
    await s.cleanup();
  });

  test('manual acks: an unacknowledged message is redelivered after ack_wait, flagged', async () => {
    const sc = await stanConnect(s.url, 'manual');
    await publish(sc, 'redeliver', 'a');
    await publish(sc, 'redeliver', 'b');
    const opts = sc.subscriptionOptions().setDeliverAllAvailable().setManualAckMode(true).setAckWait(1000);
    // Before the first delivery: the redelivery cannot come less than ack_wait after it.
    const beforeFirst = Date.now();
    const sub = await subscribe(sc, 'redeliver', opts);
    const first = await collect(sub, 2);
    assert.deepEqual(
      first.map((m) => [m.getSequence(), m.isRedelivered()]),
      [
        [1, false],
        [2, false],
      ],
    );
    // Ack only the second: the first comes back after ack_wait (1 s), flagged, once.
    first[1]!.ack();
    const [again] = await collect(sub, 1, 5000);
    const waited = Date.now() - beforeFirst;
    assert.equal(again!.getSequence(), 1);
    assert.equal(again!.isRedelivered(), true);
    // In the client, not in its typings.
    assert.equal((again as unknown as { getRedeliveryCount(): number }).getRedeliveryCount(), 1);
    assert.ok(waited >= 950, `redelivered ${waited} ms after the first delivery`);
    again!.ack();
    await publish(sc, 'redeliver', 'c');
    const [next] = await collect(sub, 1);
    assert.equal(next!.getSequence(), 3);
    assert.equal(next!.isRedelivered(), false);
    await stanClose(sc);
  });

  test('max_in_flight: no more than that many unacknowledged messages', async () => {
    const sc = await stanConnect(s.url, 'inflight');
    for (let i = 0; i < 10; i++) await publish(sc, 'inflight', `i${i}`);
    const opts = sc
      .subscriptionOptions()
      .setDeliverAllAvailable()
      .setManualAckMode(true)
      .setMaxInFlight(3)
      .setAckWait(30_000);
    const sub = await subscribe(sc, 'inflight', opts);
    const firstThree = await collect(sub, 3);
    assert.deepEqual(
      firstThree.map((m) => m.getSequence()),
      [1, 2, 3],
    );
    // Nothing more arrives until an ack: a round trip through the server shows none is queued.
    await publish(sc, 'inflight', 'probe');
    assert.equal(received(sub).length, 0);
    const ch = s.server.streaming!.channels.get('inflight')!;
    assert.equal(ch.psubs[0]!.pending.size, 3);
    firstThree[0]!.ack();
    const [fourth] = await collect(sub, 1);
    assert.equal(fourth!.getSequence(), 4);
    // Acking everything lets the rest through, three at a time.
    let got = [fourth!];
    for (const m of firstThree.slice(1)) m.ack();
    const seen = [4];
    while (seen.length < 8) {
      for (const m of got) m.ack();
      got = await collect(sub, Math.min(received(sub).length || 1, 8 - seen.length));
      seen.push(...got.map((m) => m.getSequence()));
      assert.ok(ch.psubs[0]!.pending.size <= 3);
    }
    assert.deepEqual(seen, [4, 5, 6, 7, 8, 9, 10, 11]);
    await stanClose(sc);
  });
});

describe('NATS Streaming: durables and queue groups', () => {
  let s: StreamingServer;
  before(async () => {
    s = await startStreaming();
  });
  after(async () => {
    await s.cleanup();
  });

  test('a durable resumes after a reconnect without loss or replay, and is gone after unsubscribe()', async () => {
    const pub = await stanConnect(s.url, 'durable-pub');
    let sc = await stanConnect(s.url, 'durable-client');
    const opts = (c: stan.Stan): stan.SubscriptionOptions =>
      c.subscriptionOptions().setDeliverAllAvailable().setDurableName('dur');
    for (let i = 1; i <= 3; i++) await publish(pub, 'orders', `o${i}`);
    let sub = await subscribe(sc, 'orders', opts(sc));
    assert.deepEqual(
      (await collect(sub, 3)).map((m) => m.getSequence()),
      [1, 2, 3],
    );
    // The client goes away (closes its connection); messages keep coming.
    await stanClose(sc);
    for (let i = 4; i <= 6; i++) await publish(pub, 'orders', `o${i}`);
    const ch = s.server.streaming!.channels.get('orders')!;
    assert.equal(ch.durables.size, 1, 'the durable is kept offline');
    sc = await stanConnect(s.url, 'durable-client');
    sub = await subscribe(sc, 'orders', opts(sc));
    const resumed = await collect(sub, 3);
    assert.deepEqual(
      resumed.map((m) => [m.getSequence(), m.isRedelivered()]),
      [
        [4, false],
        [5, false],
        [6, false],
      ],
    );
    // No replay of 1..3: the next one is 7.
    await publish(pub, 'orders', 'o7');
    assert.deepEqual(
      (await collect(sub, 1)).map((m) => m.getSequence()),
      [7],
    );
    assert.equal(received(sub).length, 0);
    // close() keeps it too.
    sub.close();
    await subEvent(sub, 'closed');
    await publish(pub, 'orders', 'o8');
    sub = await subscribe(sc, 'orders', opts(sc));
    assert.deepEqual(
      (await collect(sub, 1)).map((m) => m.getSequence()),
      [8],
    );
    // unsubscribe() removes it: the same durable name starts again from the start position.
    sub.unsubscribe();
    await subEvent(sub, 'unsubscribed');
    assert.equal(ch.durables.size, 0);
    sub = await subscribe(sc, 'orders', opts(sc));
    assert.deepEqual(
      (await collect(sub, 8)).map((m) => m.getSequence()),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    await stanClose(sc);
    await stanClose(pub);
  });

  test('a durable already in use is refused', async () => {
    const sc = await stanConnect(s.url, 'dup-durable');
    const opts = sc.subscriptionOptions().setDurableName('d1');
    await subscribe(sc, 'dd', opts);
    await assert.rejects(subscribe(sc, 'dd', opts), /duplicate durable registration/);
    await stanClose(sc);
  });

  test('a queue group gets each message once', async () => {
    const pub = await stanConnect(s.url, 'queue-pub');
    const members = [
      await stanConnect(s.url, 'q1'),
      await stanConnect(s.url, 'q2'),
      await stanConnect(s.url, 'q3'),
    ];
    const subs: stan.Subscription[] = [];
    for (const m of members) subs.push(await subscribe(m, 'work', m.subscriptionOptions(), 'workers'));
    const n = 300;
    for (let i = 0; i < n; i++) await publish(pub, 'work', `w${i}`);
    const total = (): number => subs.reduce((a, sub) => a + received(sub).length, 0);
    // Wait for all of them; then a round trip makes sure no extra copy is on its way.
    while (total() < n) await publish(pub, 'other', 'x');
    await publish(pub, 'other', 'x');
    const seqs = subs.flatMap((sub) => received(sub).map((m) => m.getSequence()));
    assert.equal(seqs.length, n);
    assert.equal(new Set(seqs).size, n);
    for (const sub of subs) assert.ok(received(sub).length > 0, 'every member got some');
    for (const m of members) await stanClose(m);
    await stanClose(pub);
  });

  test('a queue member leaving with unacknowledged messages: another member gets them, flagged', async () => {
    const pub = await stanConnect(s.url, 'qr-pub');
    const a = await stanConnect(s.url, 'qr-a');
    const b = await stanConnect(s.url, 'qr-b');
    const opts = (c: stan.Stan): stan.SubscriptionOptions =>
      c.subscriptionOptions().setManualAckMode(true).setAckWait(30_000).setMaxInFlight(1);
    const subA = await subscribe(a, 'tasks', opts(a), 'crew');
    const subB = await subscribe(b, 'tasks', opts(b), 'crew');
    await publish(pub, 'tasks', 't1');
    await publish(pub, 'tasks', 't2');
    // One each (max_in_flight 1); nobody acks.
    const [ma] = await collect(subA, 1);
    const [mb] = await collect(subB, 1);
    assert.deepEqual([ma!.getSequence(), mb!.getSequence()].sort(), [1, 2]);
    // a goes away: its unacknowledged message is redelivered to b (at once, not after ack_wait).
    await stanClose(a);
    mb!.ack();
    const [moved] = await collect(subB, 1);
    assert.equal(moved!.getSequence(), ma!.getSequence());
    assert.equal(moved!.isRedelivered(), true);
    moved!.ack();
    await stanClose(b);
    await stanClose(pub);
  });

  test('a durable queue group keeps its position when its last member leaves', async () => {
    const pub = await stanConnect(s.url, 'dq-pub');
    let m1 = await stanConnect(s.url, 'dq1');
    const opts = (c: stan.Stan): stan.SubscriptionOptions =>
      c.subscriptionOptions().setDeliverAllAvailable().setDurableName('dq');
    let sub = await subscribe(m1, 'jobs', opts(m1), 'grp');
    await publish(pub, 'jobs', 'j1');
    await publish(pub, 'jobs', 'j2');
    assert.deepEqual(
      (await collect(sub, 2)).map((m) => m.getSequence()),
      [1, 2],
    );
    await stanClose(m1);
    await publish(pub, 'jobs', 'j3');
    m1 = await stanConnect(s.url, 'dq2');
    sub = await subscribe(m1, 'jobs', opts(m1), 'grp');
    assert.deepEqual(
      (await collect(sub, 1)).map((m) => m.getSequence()),
      [3],
    );
    await stanClose(m1);
    await stanClose(pub);
  });
});

describe('NATS Streaming: alongside core NATS and JetStream', () => {
  let s: StreamingServer;
  before(async () => {
    s = await startStreaming();
  });
  after(async () => {
    await s.cleanup();
  });

  test('a core NATS client works alongside, and channels are JetStream streams', async () => {
    const nc = await connect({ servers: s.url });
    const sc = await stanConnect(s.url, 'alongside');
    const core = nc.subscribe('events');
    await nc.flush();
    await publish(sc, 'events', 'from-stan');
    nc.publish('events', 'from-core');
    const it = core[Symbol.asyncIterator]();
    const m = await it.next();
    // A streaming publish is not a core NATS message on the channel name, and a core message is not
    // stored in the channel.
    assert.equal(m.value?.string(), 'from-core');
    const sub = await subscribe(sc, 'events', sc.subscriptionOptions().setDeliverAllAvailable());
    assert.deepEqual(
      (await collect(sub, 1)).map((x) => x.getData()),
      ['from-stan'],
    );
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('STAN_test-cluster_events');
    assert.equal(info.state.messages, 1);
    assert.deepEqual(info.config.subjects, ['_STAN.ch.test-cluster.events']);
    const stored = await jsm.streams.getMessage('STAN_test-cluster_events', { seq: 1 });
    assert.equal(stored!.string(), 'from-stan');
    // And a JetStream publish to the channel's subject reaches streaming subscribers.
    const js = jetstream(nc);
    await js.publish('_STAN.ch.test-cluster.events', 'from-js');
    assert.deepEqual(
      (await collect(sub, 1)).map((x) => [x.getSequence(), x.getData()]),
      [[2, 'from-js']],
    );
    await stanClose(sc);
    await nc.close();
  });

  test('a client ID whose first client no longer answers is taken over', async () => {
    const nc = await connect({ servers: s.url });
    const res = await nc.request(
      '_STAN.discover.test-cluster',
      encodeConnectRequest({
        clientID: 'takeover',
        heartbeatInbox: '_INBOX.nobody-answers',
        protocol: 1,
        connID: Buffer.from('old-conn'),
        pingInterval: 5,
        pingMaxOut: 3,
      }),
    );
    assert.equal(decodeConnectResponse(res.data).error, '');
    // The real client with the same ID: the server pings the old heartbeat inbox, gets no answer, replaces it.
    const started = Date.now();
    const sc = await stanConnect(s.url, 'takeover');
    assert.ok(Date.now() - started >= 400, 'the server waited for the old client');
    // The old connection's pings are now refused.
    const ping = await nc.request(
      '_STAN.discover.test-cluster.pings',
      encodePing({ connID: Buffer.from('old-conn') }),
    );
    assert.equal(decodePingResponse(ping.data).error, 'client has been replaced or is no longer registered');
    await publish(sc, 'takeover', 'works');
    await stanClose(sc);
    await nc.close();
  });

  test('a client that stops answering heartbeats is dropped', async () => {
    const s2 = await startStreaming({ hbInterval: 100, hbTimeout: 100, hbFailCount: 1 });
    try {
      const nc = await connect({ servers: s2.url });
      // A hand-made client: connects, then never answers its heartbeat inbox.
      const res = await nc.request(
        '_STAN.discover.test-cluster',
        encodeConnectRequest({
          clientID: 'silent',
          heartbeatInbox: '_INBOX.silent-hb',
          protocol: 1,
          connID: Buffer.from('silent-conn'),
          pingInterval: 5,
          pingMaxOut: 3,
        }),
      );
      assert.equal(decodeConnectResponse(res.data).error, '');
      assert.equal(s2.server.streaming!.clients.has('silent'), true);
      await waitFor(() => !s2.server.streaming!.clients.has('silent'), 5000, 'the silent client dropped');
      await nc.close();
    } finally {
      await s2.cleanup();
    }
  });
});

describe('NATS Streaming: monitoring', () => {
  let s: StreamingServer;
  let base: string;
  before(async () => {
    s = await startStreaming({ maxMsgs: 500 }, { httpPort: -1 });
    base = s.server.monitor!.url;
  });
  after(async () => {
    await s.cleanup();
  });

  const get = async (path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${base}${path}`);
    const text = await res.text();
    return {
      status: res.status,
      body: res.status === 200 ? (JSON.parse(text) as Record<string, unknown>) : { text },
    };
  };

  test('serverz, storez, clientsz and channelsz as nats-streaming-server writes them', async () => {
    const sc = await stanConnect(s.url, 'monitored');
    await publish(sc, 'm.one', 'x');
    await publish(sc, 'm.one', 'yy');
    await publish(sc, 'm.two', 'z');
    await subscribe(sc, 'm.one', sc.subscriptionOptions().setDurableName('dur').setMaxInFlight(7));
    await subscribe(sc, 'm.two', sc.subscriptionOptions(), 'grp');

    const serverz = (await get('/streaming/serverz')).body;
    assert.deepEqual(Object.keys(serverz), [
      'cluster_id',
      'server_id',
      'version',
      'go',
      'state',
      'now',
      'start_time',
      'uptime',
      'clients',
      'subscriptions',
      'channels',
      'total_msgs',
      'total_bytes',
      'in_msgs',
      'in_bytes',
      'out_msgs',
      'out_bytes',
    ]);
    assert.equal(serverz.cluster_id, 'test-cluster');
    assert.equal(serverz.state, 'STANDALONE');
    assert.equal(serverz.clients, 1);
    assert.equal(serverz.channels, 2);
    assert.equal(serverz.subscriptions, 2);
    assert.equal(serverz.total_msgs, 3);
    assert.equal(serverz.in_msgs, 3);

    const storez = (await get('/streaming/storez')).body;
    assert.equal(storez.type, 'FILE');
    assert.deepEqual(storez.limits, {
      max_channels: 100,
      max_msgs: 500,
      max_bytes: 1024000000,
      max_age: 0,
      max_subscriptions: 1000,
      max_inactivity: 0,
    });
    assert.equal(storez.total_msgs, 3);

    const clientsz = (await get('/streaming/clientsz?subs=1')).body;
    assert.equal(clientsz.total, 1);
    assert.equal(clientsz.limit, 1024);
    const [client] = clientsz.clients as Record<string, unknown>[];
    assert.equal(client!.id, 'monitored');
    assert.equal(client!.subs_count, 2);
    const bySubject = client!.subscriptions as Record<string, Record<string, unknown>[]>;
    assert.deepEqual(bySubject['m.one']![0], {
      client_id: 'monitored',
      inbox: bySubject['m.one']![0]!.inbox,
      ack_inbox: bySubject['m.one']![0]!.ack_inbox,
      durable_name: 'dur',
      is_durable: true,
      is_offline: false,
      max_inflight: 7,
      ack_wait: 30,
      last_sent: 2,
      pending_count: 0,
      is_stalled: false,
    });
    assert.equal(bySubject['m.two']![0]!.queue_name, 'grp');
    assert.equal((await get('/streaming/clientsz?client=nobody')).status, 404);

    const names = (await get('/streaming/channelsz')).body;
    assert.deepEqual(names.names, ['m.one', 'm.two']);
    assert.equal(names.total, 2);
    const one = (await get('/streaming/channelsz?channel=m.one')).body;
    assert.deepEqual(one, {
      name: 'm.one',
      msgs: 2,
      bytes: one.bytes,
      first_seq: 1,
      last_seq: 2,
      subs_count: 1,
    });
    assert.ok((one.bytes as number) > 3);
    const withSubs = (await get('/streaming/channelsz?subs=1')).body;
    const chans = withSubs.channels as Record<string, unknown>[];
    assert.deepEqual(
      chans.map((c) => [c.name, c.subs_count, (c.subscriptions as unknown[]).length]),
      [
        ['m.one', 1, 1],
        ['m.two', 1, 1],
      ],
    );
    // An offline durable is listed as such once its client is gone.
    await stanClose(sc);
    const after = (await get('/streaming/channelsz?channel=m.one&subs=1')).body;
    const [offline] = after.subscriptions as Record<string, unknown>[];
    assert.equal(offline!.is_offline, true);
    assert.equal(offline!.client_id, 'monitored');
    assert.equal((await get('/streaming/channelsz?channel=nope')).status, 404);
  });
});

describe('NATS Streaming: limits and errors', () => {
  let s: StreamingServer;
  let sc: stan.Stan;
  before(async () => {
    s = await startStreaming({ maxChannels: 4, maxSubs: 2, maxMsgs: 3 });
    sc = await stanConnect(s.url, 'limits');
  });
  after(async () => {
    await stanClose(sc);
    await s.cleanup();
  });

  test('max_msgs: the oldest messages go', async () => {
    for (let i = 1; i <= 5; i++) await publish(sc, 'capped', `c${i}`);
    const sub = await subscribe(sc, 'capped', sc.subscriptionOptions().setDeliverAllAvailable());
    assert.deepEqual(
      (await collect(sub, 3)).map((m) => m.getSequence()),
      [3, 4, 5],
    );
  });

  test('max_subs per channel', async () => {
    // `capped` has one subscription from the test above.
    await subscribe(sc, 'capped', sc.subscriptionOptions());
    await assert.rejects(
      subscribe(sc, 'capped', sc.subscriptionOptions()),
      /too many subscriptions per channel/,
    );
  });

  test('channels whose names would share a stream', async () => {
    await publish(sc, 'a.b', 'x');
    await assert.rejects(
      publish(sc, 'a_b', 'y'),
      /would share stream "STAN_test-cluster_a_b" with channel "a.b"/,
    );
  });

  test('max_channels', async () => {
    // capped, a.b, and now a third and a fourth.
    await publish(sc, 'third', 'x');
    await publish(sc, 'fourth', 'x');
    await assert.rejects(publish(sc, 'fifth', 'x'), /too many channels/);
  });

  test('requests nats-streaming-server refuses', async () => {
    await assert.rejects(
      subscribe(sc, 'third', sc.subscriptionOptions().setAckWait(0)),
      /invalid ack wait time/,
    );
    await assert.rejects(subscribe(sc, 'bad..subject', sc.subscriptionOptions()), /stan: invalid subject/);
    const q = sc.subscriptionOptions().setDurableName('a:b');
    await assert.rejects(subscribe(sc, 'third', q, 'grp'), /can't contain the character ':'/);
    await assert.rejects(publish(sc, 'bad.>', 'x'), /stan: invalid publish request/);
  });

  test('max_bytes per channel, without a JetStream reservation for each channel', async () => {
    // 100 channels of 1 GB (the default max_bytes) where JetStream has 64 MB of memory: JetStream would
    // refuse so many streams with max_bytes; channels take it as a limit only, as nats-streaming-server.
    const s2 = await startStreaming(
      { store: 'memory', maxBytes: 2000 },
      { jetstream: { storeDir: '', maxMemory: 64 * 1024 * 1024 } },
    );
    try {
      const c = await stanConnect(s2.url, 'bytes');
      for (let i = 0; i < 20; i++) await publish(c, 'big', Buffer.alloc(200, i));
      const st = s2.server.streaming!.channels.get('big')!.bounds();
      assert.ok(st.bytes <= 2000, `${st.bytes} bytes kept`);
      assert.ok(st.first > 1 && st.last === 20, `first ${st.first}, last ${st.last}`);
      const s3 = await startStreaming(
        { store: 'memory', maxChannels: 0 },
        { jetstream: { storeDir: '', maxMemory: 64 * 1024 * 1024 } },
      );
      try {
        const c3 = await stanConnect(s3.url, 'channels');
        for (let i = 0; i < 100; i++) await publish(c3, `ch${i}`, 'x');
        assert.equal(s3.server.streaming!.channels.size, 100);
        await stanClose(c3);
      } finally {
        await s3.cleanup();
      }
      await stanClose(c);
    } finally {
      await s2.cleanup();
    }
  });

  test('max_inactivity: a channel without subscriptions and new messages is deleted', async () => {
    const s2 = await startStreaming({ maxInactivity: 300 });
    try {
      const c = await stanConnect(s2.url, 'inactive');
      await publish(c, 'ephemeral', 'x');
      await subscribe(c, 'kept', c.subscriptionOptions());
      const st = s2.server.streaming!;
      assert.ok(st.channels.has('ephemeral'));
      await waitFor(() => !st.channels.has('ephemeral'), 5000, 'the inactive channel deleted');
      assert.equal(
        s2.server.jetstream!.lookupAccount('$G')!.lookupStream('STAN_test-cluster_ephemeral'),
        undefined,
      );
      // A channel with a subscription stays.
      assert.ok(st.channels.has('kept'));
      await stanClose(c);
    } finally {
      await s2.cleanup();
    }
  });
});
