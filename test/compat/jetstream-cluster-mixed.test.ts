/**
 * Replicated JetStream in one cluster with the reference nats-server 2.9.10: one nats-server and two
 * tsnats, then two nats-servers and one tsnats. The same checks as the tsnats-only cluster (an R3 stream
 * across SIGKILLs of its leader, a durable consumer across a SIGKILL of its leader, a KV bucket with three
 * replicas), with the stream and meta leaders moved onto both kinds of server with the step-down APIs.
 * Runs when `nats-server` is on the PATH.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AckPolicy, type JetStreamManager, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { JsCluster } from '../helpers/js-cluster.js';
import {
  clusterClient,
  consumerItsMemberCannotOpen,
  durableAcrossKill,
  kvAcrossKill,
  moveMetaLeader,
  moveStreamLeader,
  r3StreamAcrossKills,
  streamItsMembersCannotOpen,
  streamLeader,
  whenPlaced,
} from '../helpers/js-cluster-checks.js';
import type { ServerKind } from '../helpers/launcher.js';
import { hasReference } from '../helpers/reference.js';

const TOPOLOGIES: [string, ServerKind[]][] = [
  ['one nats-server and two tsnats', ['nats-server', 'tsnats', 'tsnats']],
  ['two nats-servers and one tsnats', ['tsnats', 'nats-server', 'nats-server']],
];

for (const [title, kinds] of TOPOLOGIES) {
  describe(`replicated JetStream with ${title}`, {
    skip: !hasReference() && 'nats-server not on PATH',
    timeout: 420_000,
  }, () => {
    let cluster: JsCluster;
    let nc: NatsConnection;
    let jsm: JetStreamManager;

    before(async () => {
      cluster = await JsCluster.start(kinds);
      ({ nc, jsm } = await clusterClient(cluster));
    });

    after(async () => {
      await nc?.close().catch(() => {});
      await cluster?.stop();
    });

    test('the meta leader moves to each kind; streams created under each are replicated', async () => {
      for (const kind of ['tsnats', 'nats-server'] as const) {
        const leader = await moveMetaLeader(cluster, nc, kind);
        assert.equal(cluster.node(leader).kind, kind);
        const name = `META_${kind === 'tsnats' ? 'TS' : 'GO'}`;
        // Right after the cluster starts, a meta leader may not have seen a peer's statsz yet and answers
        // "no suitable peers" (nats-server does too): retried, as the other checks do.
        const si = await whenPlaced(() =>
          jsm.streams.add({ name, subjects: [`${name.toLowerCase()}.>`], num_replicas: 3 }),
        );
        assert.equal(si.cluster?.replicas?.length, 2);
        const js = jetstream(nc, { timeout: 5000 });
        for (let i = 0; i < 50; i++) await js.publish(`${name.toLowerCase()}.x`, `v${i}`);
        assert.equal((await jsm.streams.info(name)).state.messages, 50);
      }
    });

    test('an R3 stream keeps every acknowledged message across SIGKILLs of its leader, led by both kinds', () =>
      cluster.explained(async () => {
        const kindsSeen = new Set<ServerKind>();
        await r3StreamAcrossKills(cluster, nc, jsm, 'ORDERS', 2, async (round) => {
          // Between kills, hand the leadership to the other kind of server.
          const want: ServerKind = round % 2 === 0 ? 'tsnats' : 'nats-server';
          const leader = await moveStreamLeader(cluster, nc, jsm, 'ORDERS', want);
          kindsSeen.add(cluster.node(leader).kind);
        });
        kindsSeen.add(cluster.node(await streamLeader(jsm, 'ORDERS')).kind);
        assert.ok(kindsSeen.has('tsnats') && kindsSeen.has('nats-server'), 'both kinds led the stream');
      }));

    test('a consumer its member cannot open fails and is removed, with the meta leader and the member of each kind', () =>
      cluster.explained(async () => {
        for (const leaderKind of ['tsnats', 'nats-server'] as const) {
          await moveMetaLeader(cluster, nc, leaderKind);
          for (const memberKind of ['tsnats', 'nats-server'] as const) {
            await consumerItsMemberCannotOpen(
              cluster,
              nc,
              jsm,
              `BLOCKED_${leaderKind.length}${memberKind.length}`,
              memberKind,
            );
          }
        }
      }));

    test('a stream its members cannot open fails and is removed, with the meta leader of each kind', () =>
      cluster.explained(async () => {
        for (const leaderKind of ['tsnats', 'nats-server'] as const) {
          await moveMetaLeader(cluster, nc, leaderKind);
          await streamItsMembersCannotOpen(cluster, nc, jsm, `BLOCKED_${leaderKind.length}`, 3, false);
        }
      }));

    test('an R3 stream with a non-ASCII name and subjects stores the same subjects under a leader of each kind', () =>
      cluster.explained(async () => {
        // Replicated messages carry the subject's UTF-8 bytes: a tsnats replica must read what nats-server
        // proposes, and the other way round. The name travels in subjects between the servers too (stream
        // info requests, step-downs, advisories, acks).
        await jsm.streams.add({ name: 'STRÖMUNG', subjects: ['ü.>'], num_replicas: 3 });
        const js = jetstream(nc, { timeout: 5000 });
        for (const kind of ['tsnats', 'nats-server', 'tsnats'] as const) {
          await moveStreamLeader(cluster, nc, jsm, 'STRÖMUNG', kind);
          await js.publish(`ü.${kind}`, kind);
        }
        // Read back under a leader of each kind: the subjects as published.
        for (const kind of ['nats-server', 'tsnats'] as const) {
          await moveStreamLeader(cluster, nc, jsm, 'STRÖMUNG', kind);
          const info = await jsm.streams.info('STRÖMUNG', { subjects_filter: '>' });
          assert.deepEqual(info.state.subjects, { 'ü.tsnats': 2, 'ü.nats-server': 1 }, `led by ${kind}`);
          const m = await jsm.streams.getMessage('STRÖMUNG', { last_by_subj: 'ü.nats-server' });
          assert.equal(m?.subject, 'ü.nats-server');
          assert.equal(m?.seq, 2);
        }
        // A replicated durable with a non-ASCII name: its ack subjects reach its leader, whichever kind.
        await whenPlaced(() =>
          jsm.consumers.add('STRÖMUNG', { durable_name: 'verbraucher-ü', ack_policy: AckPolicy.Explicit }),
        );
        const c = await js.consumers.get('STRÖMUNG', 'verbraucher-ü');
        const got: string[] = [];
        for await (const dm of await c.fetch({ max_messages: 3, expires: 5000 })) {
          got.push(dm.subject);
          assert.ok(await dm.ackAck(), 'ack confirmed');
          if (got.length === 3) break;
        }
        assert.deepEqual(got, ['ü.tsnats', 'ü.nats-server', 'ü.tsnats']);
        const ci = await jsm.consumers.info('STRÖMUNG', 'verbraucher-ü');
        assert.equal(ci.ack_floor.stream_seq, 3);
        assert.equal(ci.num_ack_pending, 0);
      }));

    test('a durable pull consumer survives a SIGKILL of its leader', () =>
      cluster.explained(async () => {
        await durableAcrossKill(cluster, nc, jsm, 'WORK');
      }));

    test('a KV bucket with replicas: 3 keeps answering after its leader is killed', () =>
      cluster.explained(async () => {
        await kvAcrossKill(cluster, nc, jsm, 'cfg');
      }));
  });
}
