/**
 * Replicated JetStream on three tsnats processes (server names, routes, file stores), with real clients:
 * an R3 stream keeps taking acknowledged publishes while its leader is killed with SIGKILL and restarted,
 * and afterwards holds every acknowledged message exactly once on all three replicas; a durable pull
 * consumer with explicit acks keeps going across a kill of its leader without losing a message or
 * delivering an acknowledged one again; a KV bucket with three replicas keeps answering.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type JetStreamManager, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { JsCluster } from '../helpers/js-cluster.js';
import {
  clusterClient,
  consumerItsMemberCannotOpen,
  durableAcrossKill,
  kvAcrossKill,
  r3StreamAcrossKills,
  replicaCounts,
  scaleUpAndDown,
  streamItsMembersCannotOpen,
  waitHealthy,
  whenPlaced,
} from '../helpers/js-cluster-checks.js';
import { waitFor } from '../helpers/wait-for.js';

describe('replicated JetStream on three tsnats servers', { timeout: 300_000 }, () => {
  let cluster: JsCluster;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  before(async () => {
    cluster = await JsCluster.start(['tsnats', 'tsnats', 'tsnats']);
    ({ nc, jsm } = await clusterClient(cluster));
  });

  after(async () => {
    await nc?.close().catch(() => {});
    await cluster?.stop();
  });

  test('an R3 stream keeps every acknowledged message across SIGKILLs of its leader', async () => {
    await cluster.explained(() => r3StreamAcrossKills(cluster, nc, jsm, 'ORDERS', 3));
  });

  test('a durable pull consumer survives a SIGKILL of its leader: nothing missing, nothing acked twice', async () => {
    await cluster.explained(() => durableAcrossKill(cluster, nc, jsm, 'WORK'));
  });

  test('a KV bucket with replicas: 3 keeps answering puts and gets after its leader is killed', async () => {
    await cluster.explained(() => kvAcrossKill(cluster, nc, jsm, 'cfg'));
  });

  test('a stream scales from one replica to three by update, and back', async () => {
    await cluster.explained(() => scaleUpAndDown(cluster, nc, jsm, 'SCALED'));
  });

  test('a consumer its member cannot open: the create fails with its error and the assignment goes (assignment results)', async () => {
    await cluster.explained(() => consumerItsMemberCannotOpen(cluster, nc, jsm, 'BLOCKED'));
  });

  test('a stream its members cannot open: the create fails with their error and the assignment goes', async () => {
    await cluster.explained(async () => {
      await streamItsMembersCannotOpen(cluster, nc, jsm, 'BLOCKED_R1', 1);
      await streamItsMembersCannotOpen(cluster, nc, jsm, 'BLOCKED_R3', 3);
    });
  });

  test("an R3 stream's life cycle publishes each stream advisory once, from its leader", async () => {
    const seen: string[] = [];
    nc.subscribe('$JS.EVENT.ADVISORY.STREAM.*.ADV', {
      callback: (_e, m) => {
        const kind = m.subject.split('.')[4]!;
        // LEADER_ELECTED is another advisory on these subjects.
        if (['CREATED', 'UPDATED', 'DELETED'].includes(kind)) {
          seen.push(`${kind} ${m.json<{ action: string }>().action}`);
        }
      },
    });
    await nc.flush();
    await whenPlaced(() => jsm.streams.add({ name: 'ADV', subjects: ['adv.>'], num_replicas: 3 }));
    await jsm.streams.update('ADV', { subjects: ['adv.>', 'adv2.>'] });
    await jsm.streams.delete('ADV');
    await waitFor(async () => seen.length >= 3, 10_000, 'the three advisories');
    await nc.flush();
    assert.deepEqual(seen, ['CREATED create', 'UPDATED modify', 'DELETED delete']);
  });
});

describe('stream peer removal on four tsnats servers', { timeout: 120_000 }, () => {
  let cluster: JsCluster;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  before(async () => {
    cluster = await JsCluster.start(['tsnats', 'tsnats', 'tsnats', 'tsnats']);
    ({ nc, jsm } = await clusterClient(cluster));
  });

  after(async () => {
    await nc?.close().catch(() => {});
    await cluster?.stop();
  });

  test('STREAM.PEER.REMOVE replaces the peer; the new replica catches up and the old one lets go', async () => {
    await jsm.streams.add({ name: 'MOVE', subjects: ['move.>'], num_replicas: 3 });
    await waitHealthy(jsm, 'MOVE', 'the stream to be replicated');
    const js = jetstream(nc, { timeout: 5000 });
    for (let i = 0; i < 100; i++) await js.publish('move.a', `v${i}`);
    const si = await jsm.streams.info('MOVE');
    const members = [si.cluster!.leader!, ...(si.cluster!.replicas ?? []).map((r) => r.name)];
    const victim = members.find((m) => m !== si.cluster!.leader)!;
    const r = await nc.request('$JS.API.STREAM.PEER.REMOVE.MOVE', JSON.stringify({ peer: victim }), {
      timeout: 5000,
    });
    assert.deepEqual(JSON.parse(r.string()), {
      type: 'io.nats.jetstream.api.v1.stream_remove_peer_response',
      success: true,
    });
    await waitFor(
      async () => {
        const i = await jsm.streams.info('MOVE').catch(() => undefined);
        const names = [i?.cluster?.leader ?? '', ...(i?.cluster?.replicas ?? []).map((x) => x.name)];
        return (
          i !== undefined &&
          names.length === 3 &&
          !names.includes(victim) &&
          (i.cluster?.replicas ?? []).every((x) => x.current)
        );
      },
      60_000,
      'the replacement to be current',
    );
    await waitFor(
      async () => {
        const counts = await replicaCounts(cluster, 'MOVE');
        return (
          counts.filter((c) => c === '100').length === 3 &&
          counts[cluster.nodes.findIndex((n) => n.name === victim)] === '-'
        );
      },
      30_000,
      'three replicas with the messages, none on the removed peer',
    );
  });
});
