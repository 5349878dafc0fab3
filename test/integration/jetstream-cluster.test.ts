/**
 * Replicated JetStream on three tsnats processes (server names, routes, file stores), with real clients:
 * an R3 stream keeps taking acknowledged publishes while its leader is killed with SIGKILL and restarted,
 * and afterwards holds every acknowledged message exactly once on all three replicas; a durable pull
 * consumer with explicit acks keeps going across a kill of its leader without losing a message or
 * delivering an acknowledged one again; a KV bucket with three replicas keeps answering.
 */
import { after, before, describe, test } from 'node:test';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { JsCluster } from '../helpers/js-cluster.js';
import {
  clusterClient,
  durableAcrossKill,
  kvAcrossKill,
  r3StreamAcrossKills,
  scaleUpAndDown,
} from '../helpers/js-cluster-checks.js';

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
    await r3StreamAcrossKills(cluster, nc, jsm, 'ORDERS', 3);
  });

  test('a durable pull consumer survives a SIGKILL of its leader: nothing missing, nothing acked twice', async () => {
    await durableAcrossKill(cluster, nc, jsm, 'WORK');
  });

  test('a KV bucket with replicas: 3 keeps answering puts and gets after its leader is killed', async () => {
    await kvAcrossKill(cluster, nc, jsm, 'cfg');
  });

  test('a stream scales from one replica to three by update, and back', async () => {
    await scaleUpAndDown(cluster, nc, jsm, 'SCALED');
  });
});
