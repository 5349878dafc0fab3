/**
 * Replicated JetStream on three tsnats processes (server names, routes, file stores), with real clients:
 * an R3 stream keeps taking acknowledged publishes while its leader is killed with SIGKILL and restarted,
 * and afterwards holds every acknowledged message exactly once on all three replicas; a durable pull
 * consumer with explicit acks keeps going across a kill of its leader without losing a message or
 * delivering an acknowledged one again; a KV bucket with three replicas keeps answering.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AckPolicy, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { JsCluster } from '../helpers/js-cluster.js';
import { waitFor } from '../helpers/wait-for.js';

/** The server name of the leader of a stream (or consumer), from any server's API. */
async function streamLeader(jsm: JetStreamManager, stream: string): Promise<string> {
  const si = await jsm.streams.info(stream);
  return si.cluster?.leader ?? '';
}

/** Wait until the stream has a leader and every replica is current, from the leader's view. */
async function waitHealthy(jsm: JetStreamManager, stream: string, what: string): Promise<void> {
  await waitFor(
    async () => {
      try {
        const si = await jsm.streams.info(stream);
        const reps = si.cluster?.replicas ?? [];
        return (si.cluster?.leader ?? '') !== '' && reps.length === 2 && reps.every((r) => r.current);
      } catch {
        return false;
      }
    },
    60_000,
    what,
  );
}

describe('replicated JetStream on three tsnats servers', { timeout: 240_000 }, () => {
  let cluster: JsCluster;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  before(async () => {
    cluster = await JsCluster.start(['tsnats', 'tsnats', 'tsnats']);
    nc = await connect({ servers: cluster.urls(), reconnectTimeWait: 100, maxReconnectAttempts: -1 });
    // The meta group needs a leader before the API answers.
    await waitFor(
      async () => {
        try {
          jsm = await jetstreamManager(nc, { timeout: 5000 });
          return true;
        } catch {
          return false;
        }
      },
      30_000,
      'a meta leader',
    );
  });

  after(async () => {
    await nc?.close().catch(() => {});
    await cluster?.stop();
  });

  test('an R3 stream keeps every acknowledged message across SIGKILLs of its leader', async () => {
    const si = await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'], num_replicas: 3 });
    assert.equal(si.config.num_replicas, 3);
    assert.equal(si.cluster?.replicas?.length, 2);
    const js = jetstream(nc, { timeout: 3000 });
    const acked = new Set<number>();
    let next = 0;
    let stop = false;
    // A publisher that retries with the same message id until it gets its acknowledgement.
    const publisher = (async () => {
      const inflight = new Set<Promise<void>>();
      while (!stop || inflight.size > 0) {
        while (!stop && inflight.size < 64) {
          const i = next++;
          const p = (async () => {
            for (;;) {
              try {
                await js.publish(`orders.${i % 7}`, `m${i}`, { msgID: `id-${i}` });
                acked.add(i);
                return;
              } catch {
                await new Promise((r) => setTimeout(r, 50));
              }
            }
          })();
          inflight.add(p);
          void p.then(() => inflight.delete(p));
        }
        await Promise.race(inflight);
      }
    })();
    for (let round = 0; round < 3; round++) {
      await waitFor(() => acked.size > (round + 1) * 300, 60_000, `round ${round}: publishes acknowledged`);
      const leader = await streamLeader(jsm, 'ORDERS');
      assert.notEqual(leader, '');
      await cluster.kill(leader);
      const before = acked.size;
      await waitFor(
        () => acked.size > before + 200,
        60_000,
        `round ${round}: publishes go on without ${leader}`,
      );
      await cluster.startNode(cluster.node(leader));
    }
    stop = true;
    await publisher;
    await waitHealthy(jsm, 'ORDERS', 'all replicas current');
    // Every replica holds the same messages.
    await waitFor(
      async () => {
        const counts = await Promise.all(
          cluster.nodes.map(async (n) => {
            const jsz = (await cluster.monitor(n.name, '/jsz?streams=true')) as {
              account_details?: {
                stream_detail?: { name: string; state: { messages: number; last_seq: number } }[];
              }[];
            };
            const sd = jsz.account_details?.[0]?.stream_detail?.find((s) => s.name === 'ORDERS');
            return sd === undefined ? -1 : sd.state.messages * 1e9 + sd.state.last_seq;
          }),
        );
        return counts.every((c) => c === counts[0]);
      },
      30_000,
      'the three replicas to agree',
    );
    const info = await jsm.streams.info('ORDERS');
    assert.equal(info.state.messages, next, 'each published message is stored once (duplicates refused)');
    assert.ok(
      info.cluster?.replicas?.every((r) => r.current),
      'replicas are current',
    );
    // Read everything back: each acknowledged message exactly once.
    const c = await jetstream(nc).consumers.get('ORDERS');
    const seen = new Map<string, number>();
    const it = await c.fetch({ max_messages: info.state.messages, expires: 10_000 });
    for await (const m of it) seen.set(m.string(), (seen.get(m.string()) ?? 0) + 1);
    for (const i of acked) assert.equal(seen.get(`m${i}`), 1, `acknowledged m${i} is in the stream once`);
    assert.ok(acked.size > 1000, `${acked.size} acknowledged`);
  });

  test('a durable pull consumer survives a SIGKILL of its leader: nothing missing, nothing acked twice', async () => {
    await jsm.streams.add({ name: 'WORK', subjects: ['work.>'], num_replicas: 3 });
    const js = jetstream(nc, { timeout: 5000 });
    const total = 600;
    for (let i = 0; i < total; i++) await js.publish('work.x', `w${i}`);
    await jsm.consumers.add('WORK', {
      durable_name: 'proc',
      ack_policy: AckPolicy.Explicit,
      ack_wait: 10_000_000_000,
    });
    const consumer = await js.consumers.get('WORK', 'proc');
    const acked = new Set<number>();
    let redeliveredAcked = 0;
    const take = async (n: number): Promise<void> => {
      const msgs = await consumer.fetch({ max_messages: n, expires: 2000 });
      for await (const m of msgs) {
        if (acked.has(m.seq)) redeliveredAcked++;
        if (await m.ackAck().catch(() => false)) acked.add(m.seq);
      }
    };
    await take(200);
    const ci = await jsm.consumers.info('WORK', 'proc');
    const leader = ci.cluster?.leader ?? '';
    assert.notEqual(leader, '');
    await cluster.kill(leader);
    await waitFor(
      async () => {
        try {
          const i = await jsm.consumers.info('WORK', 'proc');
          return (i.cluster?.leader ?? '') !== '' && i.cluster?.leader !== leader;
        } catch {
          return false;
        }
      },
      60_000,
      'a new consumer leader',
    );
    for (let k = 0; k < 40 && acked.size < total; k++) await take(100).catch(() => {});
    await cluster.startNode(cluster.node(leader));
    assert.equal(redeliveredAcked, 0, 'no acknowledged message was delivered again');
    for (let i = 1; i <= total; i++) assert.ok(acked.has(i), `message ${i} was delivered and acknowledged`);
    const after = await jsm.consumers.info('WORK', 'proc');
    assert.equal(after.num_ack_pending, 0);
    assert.equal(after.ack_floor.stream_seq, total);
  });

  test('a KV bucket with replicas: 3 keeps answering puts and gets after its leader is killed', async () => {
    const kvm = new Kvm(nc);
    const kv = await kvm.create('cfg', { replicas: 3 });
    await waitHealthy(jsm, 'KV_cfg', 'the bucket to be replicated');
    for (let i = 0; i < 20; i++) await kv.put(`k${i}`, `v${i}`);
    const leader = await streamLeader(jsm, 'KV_cfg');
    await cluster.kill(leader);
    // Gets are answered by the remaining replicas (a request in flight to the killed server, or from a
    // client reconnecting, is retried); puts once a new leader is elected.
    let got = '';
    await waitFor(
      async () => {
        got = (await kv.get('k3').catch(() => null))?.string() ?? '';
        return got !== '';
      },
      10_000,
      'a get after the leader is gone',
    );
    assert.equal(got, 'v3');
    await waitFor(
      async () => {
        try {
          await kv.put('after', 'kill');
          return true;
        } catch {
          return false;
        }
      },
      60_000,
      'puts after the leader is gone',
    );
    assert.equal((await kv.get('after'))?.string(), 'kill');
    for (let i = 0; i < 20; i++) assert.equal((await kv.get(`k${i}`))?.string(), `v${i}`);
    await cluster.startNode(cluster.node(leader));
  });
});
