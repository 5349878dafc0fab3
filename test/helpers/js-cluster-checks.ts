/**
 * The checks of replicated JetStream, run by the tsnats-only cluster test and by the mixed clusters with
 * nats-server: an R3 stream across SIGKILLs of its leader, a durable pull consumer across a SIGKILL of
 * its leader, a KV bucket with three replicas, and leaders moved with the step-down APIs.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AckPolicy,
  JetStreamApiError,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { JsCluster } from './js-cluster.js';
import type { ServerKind } from './launcher.js';
import { waitFor } from './wait-for.js';

/** A client to every node, and a JetStream manager once the meta group answers. */
export async function clusterClient(
  cluster: JsCluster,
): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const nc = await connect({ servers: cluster.urls(), reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  let jsm: JetStreamManager | undefined;
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
  return { nc, jsm: jsm! };
}

/** The server name of a stream's leader. */
export async function streamLeader(jsm: JetStreamManager, stream: string): Promise<string> {
  const si = await jsm.streams.info(stream);
  return si.cluster?.leader ?? '';
}

/**
 * Wait until every running node's copy of `stream` has the same message count and last sequence (/jsz).
 * A follower applies what the quorum has already acknowledged a little later: a read served from it (an
 * R1 consumer placed there) may not see the last writes yet, in nats-server too.
 */
export async function waitReplicasAgree(cluster: JsCluster, stream: string, what: string): Promise<void> {
  await waitFor(
    async () => {
      const counts = await Promise.all(
        cluster.nodes
          .filter((n) => n.proc !== undefined)
          .map(async (n) => {
            const jsz = (await cluster.monitor(n.name, '/jsz?streams=true')) as {
              account_details?: {
                stream_detail?: { name: string; state: { messages: number; last_seq: number } }[];
              }[];
            };
            const sd = jsz.account_details?.[0]?.stream_detail?.find((s) => s.name === stream);
            return sd === undefined ? -1 : sd.state.messages * 1e9 + sd.state.last_seq;
          }),
      );
      return counts[0]! >= 0 && counts.every((c) => c === counts[0]);
    },
    30_000,
    what,
  );
}

/** Wait until the stream has a leader and every replica is current, from the leader's view. */
export async function waitHealthy(jsm: JetStreamManager, stream: string, what: string): Promise<void> {
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

/**
 * Move a stream's leadership with STREAM.LEADER.STEPDOWN until a node of `kind` leads it (the new
 * leader is chosen by the group; a few step-downs reach any kind).
 */
export async function moveStreamLeader(
  cluster: JsCluster,
  nc: NatsConnection,
  jsm: JetStreamManager,
  stream: string,
  kind: 'tsnats' | 'nats-server',
): Promise<string> {
  for (let i = 0; i < 12; i++) {
    // A replica still catching up cannot take over: step down only with every replica current.
    await waitHealthy(jsm, stream, 'the replicas to be current');
    const leader = await streamLeader(jsm, stream).catch(() => '');
    if (leader !== '' && cluster.node(leader).kind === kind) return leader;
    if (leader !== '')
      await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, '', { timeout: 5000 }).catch(() => {});
    await waitFor(
      async () => ((await streamLeader(jsm, stream).catch(() => '')) ?? '') !== leader,
      20_000,
      'a new stream leader',
    ).catch(() => {});
  }
  throw new Error(`could not move the leader of ${stream} to a ${kind} node`);
}

/** The same with META.LEADER.STEPDOWN for the meta group (read from a node's /jsz). */
export async function moveMetaLeader(
  cluster: JsCluster,
  nc: NatsConnection,
  kind: 'tsnats' | 'nats-server',
): Promise<string> {
  // The leader every running node agrees on, '' while they do not (right after start or an election,
  // one node's view can lag: acting on it made step-downs that moved nothing).
  const metaLeader = async (): Promise<string> => {
    let agreed = '';
    for (const n of cluster.nodes) {
      if (n.proc === undefined) continue;
      const jsz = (await cluster.monitor(n.name, '/jsz').catch(() => ({}))) as {
        meta_cluster?: { leader?: string };
      };
      const l = jsz.meta_cluster?.leader ?? '';
      if (l === '' || (agreed !== '' && l !== agreed)) return '';
      agreed = l;
    }
    return agreed;
  };
  for (let i = 0; i < 12; i++) {
    await waitFor(async () => (await metaLeader()) !== '', 30_000, 'the nodes to agree on a meta leader');
    const leader = await metaLeader();
    if (leader !== '' && cluster.node(leader).kind === kind) return leader;
    if (leader !== '')
      await nc.request('$JS.API.META.LEADER.STEPDOWN', '{}', { timeout: 5000 }).catch(() => {});
    await waitFor(
      async () => (await metaLeader()) !== leader && (await metaLeader()) !== '',
      30_000,
      'a new meta leader',
    ).catch(() => {});
  }
  throw new Error(`could not move the meta leader to a ${kind} node`);
}

/**
 * An R3 stream takes asynchronous publishes with acks (retried with the same message id) while its
 * leader is SIGKILLed and restarted `rounds` times; afterwards every acknowledged message is there
 * exactly once and the replicas agree. `between` runs after each round (e.g. to move the leader).
 */
export async function r3StreamAcrossKills(
  cluster: JsCluster,
  nc: NatsConnection,
  jsm: JetStreamManager,
  stream: string,
  rounds: number,
  between: (round: number) => Promise<void> = async () => {},
): Promise<void> {
  const subj = stream.toLowerCase();
  const si = await whenPlaced(() =>
    jsm.streams.add({ name: stream, subjects: [`${subj}.>`], num_replicas: 3 }),
  );
  assert.equal(si.config.num_replicas, 3);
  await waitHealthy(jsm, stream, 'the new stream to be replicated');
  const js = jetstream(nc, { timeout: 3000 });
  const acked = new Set<number>();
  let next = 0;
  let stop = false;
  const publisher = (async () => {
    const inflight = new Set<Promise<void>>();
    while (!stop || inflight.size > 0) {
      while (!stop && inflight.size < 64) {
        const i = next++;
        const p = (async () => {
          for (;;) {
            try {
              await js.publish(`${subj}.${i % 7}`, `m${i}`, { msgID: `id-${i}` });
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
  for (let round = 0; round < rounds; round++) {
    await waitFor(() => acked.size > (round + 1) * 300, 60_000, `round ${round}: publishes acknowledged`);
    const leader = await streamLeader(jsm, stream);
    assert.notEqual(leader, '');
    await cluster.kill(leader);
    const before = acked.size;
    await waitFor(
      () => acked.size > before + 200,
      60_000,
      `round ${round}: publishes go on without ${leader}`,
    );
    await cluster.startNode(cluster.node(leader));
    await between(round);
  }
  stop = true;
  await publisher;
  await waitHealthy(jsm, stream, 'all replicas current');
  await waitReplicasAgree(cluster, stream, 'the three replicas to agree');
  const info = await jsm.streams.info(stream);
  assert.equal(info.state.messages, next, 'each published message is stored once (duplicates refused)');
  assert.ok(
    info.cluster?.replicas?.every((r) => r.current),
    'replicas are current',
  );
  // The last kill may have taken the meta leader with it (it often leads the stream too): until the meta
  // group has elected again, a consumer create times out or is answered "JetStream system temporarily
  // unavailable" (10008), as nats-server's are. An application asks again, and so does this check.
  const c = await whenPlaced(() => jetstream(nc).consumers.get(stream));
  const seen = new Map<string, number>();
  const it = await c.fetch({ max_messages: info.state.messages, expires: 10_000 });
  for await (const m of it) seen.set(m.string(), (seen.get(m.string()) ?? 0) + 1);
  for (const i of acked) assert.equal(seen.get(`m${i}`), 1, `acknowledged m${i} is in the stream once`);
  assert.ok(acked.size > rounds * 300, `${acked.size} acknowledged`);
}

/**
 * A durable pull consumer with explicit acks (each confirmed with ackAck) keeps working across a SIGKILL
 * of its leader: every message is delivered and acknowledged, none acknowledged is delivered again.
 */
export async function durableAcrossKill(
  cluster: JsCluster,
  nc: NatsConnection,
  jsm: JetStreamManager,
  stream: string,
): Promise<void> {
  const subj = stream.toLowerCase();
  await whenPlaced(() => jsm.streams.add({ name: stream, subjects: [`${subj}.>`], num_replicas: 3 }));
  const js = jetstream(nc, { timeout: 5000 });
  const total = 600;
  for (let i = 0; i < total; i++) await js.publish(`${subj}.x`, `w${i}`);
  await jsm.consumers.add(stream, {
    durable_name: 'proc',
    ack_policy: AckPolicy.Explicit,
    ack_wait: 10_000_000_000,
  });
  const consumer = await js.consumers.get(stream, 'proc');
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
  const ci = await jsm.consumers.info(stream, 'proc');
  const leader = ci.cluster?.leader ?? '';
  assert.notEqual(leader, '');
  await cluster.kill(leader);
  await waitFor(
    async () => {
      try {
        const i = await jsm.consumers.info(stream, 'proc');
        return (i.cluster?.leader ?? '') !== '' && i.cluster?.leader !== leader;
      } catch {
        return false;
      }
    },
    60_000,
    'a new consumer leader',
  );
  for (let k = 0; k < 60 && acked.size < total; k++) await take(100).catch(() => {});
  await cluster.startNode(cluster.node(leader));
  assert.equal(redeliveredAcked, 0, 'no acknowledged message was delivered again');
  for (let i = 1; i <= total; i++) assert.ok(acked.has(i), `message ${i} was delivered and acknowledged`);
  let last = '';
  await waitFor(
    async () => {
      const after = await jsm.consumers.info(stream, 'proc').catch(() => undefined);
      if (after !== undefined) {
        last = `leader ${after.cluster?.leader}, ack floor ${after.ack_floor.stream_seq}, pending ${after.num_ack_pending}, delivered ${after.delivered.stream_seq}`;
      }
      return after !== undefined && after.num_ack_pending === 0 && after.ack_floor.stream_seq === total;
    },
    30_000,
    'the ack floor to reach the end',
  ).catch((e: Error) => {
    throw new Error(`${e.message} (${last}; killed ${leader})`);
  });
}

/** A KV bucket with three replicas answers puts and gets after its leader is SIGKILLed. */
export async function kvAcrossKill(
  cluster: JsCluster,
  nc: NatsConnection,
  jsm: JetStreamManager,
  bucket: string,
): Promise<void> {
  const kvm = new Kvm(nc);
  const kv = await whenPlaced(() => kvm.create(bucket, { replicas: 3 }));
  await waitHealthy(jsm, `KV_${bucket}`, 'the bucket to be replicated');
  for (let i = 0; i < 20; i++) await kv.put(`k${i}`, `v${i}`);
  const leader = await streamLeader(jsm, `KV_${bucket}`);
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
}

/** Messages of `stream` on each node (from its /jsz), '-' where the node does not hold it. */
export async function replicaCounts(cluster: JsCluster, stream: string): Promise<string[]> {
  return Promise.all(
    cluster.nodes.map(async (n) => {
      const jsz = (await cluster.monitor(n.name, '/jsz?streams=true')) as {
        account_details?: { stream_detail?: { name: string; state: { messages: number } }[] }[];
      };
      const sd = jsz.account_details?.[0]?.stream_detail?.find((s) => s.name === stream);
      return sd === undefined ? '-' : String(sd.state.messages);
    }),
  );
}

/** A stream scaled from one replica to three by update and back: the data follows, nothing is lost. */
export async function scaleUpAndDown(
  cluster: JsCluster,
  nc: NatsConnection,
  jsm: JetStreamManager,
  stream: string,
): Promise<void> {
  const subj = stream.toLowerCase();
  await whenPlaced(() => jsm.streams.add({ name: stream, subjects: [`${subj}.>`], num_replicas: 1 }));
  const js = jetstream(nc, { timeout: 5000 });
  for (let i = 0; i < 100; i++) await js.publish(`${subj}.a`, `v${i}`);
  assert.deepEqual(
    (await replicaCounts(cluster, stream)).filter((c) => c !== '-'),
    ['100'],
  );
  const up = await jsm.streams.update(stream, { subjects: [`${subj}.>`], num_replicas: 3 });
  assert.equal(up.config.num_replicas, 3);
  await waitHealthy(jsm, stream, 'the new replicas to catch up');
  await waitFor(
    async () => (await replicaCounts(cluster, stream)).every((c) => c === '100'),
    30_000,
    'the three replicas to hold the messages',
  );
  for (let i = 0; i < 50; i++) await js.publish(`${subj}.a`, `w${i}`);
  await waitFor(
    async () => (await replicaCounts(cluster, stream)).every((c) => c === '150'),
    30_000,
    'the three replicas to take new messages',
  );
  const down = await jsm.streams.update(stream, { subjects: [`${subj}.>`], num_replicas: 1 });
  assert.equal(down.config.num_replicas, 1);
  await waitFor(
    async () => {
      const counts = await replicaCounts(cluster, stream);
      return counts.filter((c) => c === '-').length === 2 && counts.includes('150');
    },
    30_000,
    'two replicas to leave',
  );
  for (let i = 0; i < 10; i++) await js.publish(`${subj}.a`, `z${i}`);
  assert.equal((await jsm.streams.info(stream)).state.messages, 160);
}

/**
 * Create something replicated once the cluster is settled after the previous check restarted a server: it
 * is "offline" to the meta leader until its first statsz arrives (placement refuses it with 10005, as
 * nats-server does), and while a meta leader is being elected requests time out.
 */
export async function whenPlaced<T>(create: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await create();
    } catch (e) {
      // While the meta group elects a leader again (the previous check killed a server), a request times
      // out, or, on a server up for more than 10 s, is answered "JetStream system temporarily unavailable"
      // (10008) as nats-server answers it. An identical create is safe to send again.
      const retry = /no suitable peers|timeout|temporarily unavailable/i;
      if (!retry.test((e as Error).message) || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * A durable that its member cannot open (a file stands where its state goes): the create fails with an API
 * error, not a timeout, and the meta leader removes the assignment, as nats-server does with the member's
 * assignment result; once the file is gone the same durable can be created. The stream has a replica on
 * every server and the durable one replica; with `memberKind`, only that kind of server is blocked and the
 * create is repeated until the durable is placed on one of them.
 */
export async function consumerItsMemberCannotOpen(
  cluster: JsCluster,
  nc: NatsConnection,
  jsm: JetStreamManager,
  stream: string,
  memberKind?: ServerKind,
): Promise<void> {
  await whenPlaced(() =>
    jsm.streams.add({ name: stream, subjects: [`${stream.toLowerCase()}.>`], num_replicas: cluster.size }),
  );
  const blocked = cluster.nodes
    .filter((n) => memberKind === undefined || n.kind === memberKind)
    .map((n) => join(n.storeDir, 'jetstream', '$G', 'streams', stream, 'obs'));
  for (const obs of blocked) {
    mkdirSync(obs, { recursive: true });
    writeFileSync(join(obs, 'DUR'), 'in the way');
  }
  const names = async (): Promise<string[]> => {
    const r = await nc.request(`$JS.API.CONSUMER.NAMES.${stream}`, '{}', { timeout: 5000 });
    return r.json<{ consumers: string[] | null }>().consumers ?? [];
  };
  const config = { durable_name: 'DUR', ack_policy: AckPolicy.Explicit, num_replicas: 1 };
  try {
    let refused = false;
    for (let i = 0; i < 30 && !refused; i++) {
      try {
        await jsm.consumers.add(stream, config);
        // Placed on a server that can open it: try again.
        await jsm.consumers.delete(stream, 'DUR');
      } catch (e) {
        assert.ok(e instanceof JetStreamApiError, `an API error, not ${String(e)}`);
        refused = true;
      }
    }
    assert.ok(refused, `the durable was never placed on a blocked ${memberKind ?? ''} server`);
    await waitFor(async () => !(await names()).includes('DUR'), 10_000, 'the failed assignment removed');
  } finally {
    for (const obs of blocked) rmSync(join(obs, 'DUR'), { force: true });
  }
  const ci = await jsm.consumers.add(stream, config);
  assert.equal(ci.name, 'DUR');
  assert.deepEqual(await names(), ['DUR']);
  await jsm.streams.delete(stream);
}

/**
 * A stream whose members cannot open it (a file stands where its directory goes, on every server): the
 * create fails with an API error, not a timeout, and the meta leader removes the assignment, as
 * nats-server does with the members' assignment results; once the files are gone the stream can be
 * created again under its name (`again`; not with nats-server members: their results do not say which
 * assignment failed, so a late one can fail the new stream, in nats-server's own clusters too).
 */
export async function streamItsMembersCannotOpen(
  cluster: JsCluster,
  nc: NatsConnection,
  jsm: JetStreamManager,
  stream: string,
  replicas: number,
  again = true,
): Promise<void> {
  const blocked = cluster.nodes.map((n) => join(n.storeDir, 'jetstream', '$G', 'streams', stream));
  for (const dir of blocked) {
    mkdirSync(join(dir, '..'), { recursive: true });
    writeFileSync(dir, 'in the way');
  }
  const names = async (): Promise<string[]> => {
    const r = await nc.request('$JS.API.STREAM.NAMES', '{}', { timeout: 5000 });
    return r.json<{ streams: string[] | null }>().streams ?? [];
  };
  const config = { name: stream, subjects: [`${stream.toLowerCase()}.>`], num_replicas: replicas };
  try {
    await assert.rejects(
      whenPlaced(() => jsm.streams.add(config)),
      (e: unknown) => e instanceof JetStreamApiError,
    );
    await waitFor(async () => !(await names()).includes(stream), 10_000, 'the failed assignment removed');
  } finally {
    for (const dir of blocked) rmSync(dir, { force: true });
  }
  if (!again) return;
  const si = await jsm.streams.add(config);
  assert.equal(si.config.name, stream);
  await jsm.streams.delete(stream);
}
