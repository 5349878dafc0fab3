/**
 * The monitoring fields nats-server 2.10 added that tsnats reports: /varz `slow_consumer_stats`, /routez
 * `server_name` and each route's `remote_name` and `compression`, /leafz `name`, `is_spoke` and
 * `compression`, /jsz `total`, the meta group's `pending`, and /raftz.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Routez } from '../../src/monitor/routez.js';
import type { Varz } from '../../src/monitor/varz.js';
import { stopAll, TsNode, waitForMesh } from '../helpers/cluster.js';
import { JsCluster } from '../helpers/js-cluster.js';
import { whenPlaced } from '../helpers/js-cluster-checks.js';
import { startHub, startLeaf, waitForLeafs } from '../helpers/leafnodes.js';
import { startServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

type Json = Record<string, unknown>;

async function getJSON<T>(url: string): Promise<T> {
  const r = await fetch(url);
  assert.equal(r.status, 200, url);
  return (await r.json()) as T;
}

test('/varz slow_consumer_stats: slow consumers by kind of connection, gateways included', async () => {
  const server = await startServer({ httpPort: -1 });
  try {
    const v = await getJSON<Varz>(`${server.monitor!.url}/varz`);
    assert.deepEqual(v.slow_consumer_stats, { clients: 0, routes: 0, gateways: 0, leafs: 0 });
    assert.equal(Object.keys(v).at(-1), 'slow_consumer_stats');
  } finally {
    await server.shutdown();
  }
});

test('/routez: server_name, and each route with remote_name and compression', async () => {
  const a = await TsNode.start({ name: 'route-a', config: { httpPort: -1 } });
  const b = await TsNode.start({ name: 'route-b', routes: [a.routeUrl] });
  try {
    await waitForMesh([a, b]);
    const routez = await getJSON<Routez>(`${a.server.monitor!.url}/routez`);
    assert.equal(routez.server_name, 'route-a');
    assert.deepEqual(Object.keys(routez).slice(0, 3), ['server_id', 'server_name', 'now']);
    const r = routez.routes[0]!;
    assert.equal(r.remote_id, b.id);
    assert.equal(r.remote_name, 'route-b');
    assert.equal(r.compression, 'not supported');
  } finally {
    await stopAll([a, b]);
  }
});

test('/leafz: the remote server name and which side is the spoke', async () => {
  const hub = await startHub('tsnats', { name: 'hub210' });
  const leaf = await startLeaf('tsnats', `nats-leaf://127.0.0.1:${hub.leafPort}`, { name: 'leaf210' });
  try {
    await waitForLeafs(hub, 1);
    await waitForLeafs(leaf, 1);
    type Leafz = { leafs: { name: string; is_spoke: boolean; account: string; compression?: string }[] };
    const onHub = (await getJSON<Leafz>(`${hub.monitorUrl}/leafz`)).leafs[0]!;
    assert.deepEqual(Object.keys(onHub).slice(0, 3), ['name', 'is_spoke', 'account']);
    assert.equal(onHub.name, 'leaf210');
    assert.equal(onHub.is_spoke, false);
    assert.equal(onHub.compression, 'not supported');
    const onLeaf = (await getJSON<Leafz>(`${leaf.monitorUrl}/leafz`)).leafs[0]!;
    assert.equal(onLeaf.name, 'hub210');
    assert.equal(onLeaf.is_spoke, true);
  } finally {
    await leaf.stop();
    await hub.stop();
  }
});

test('/jsz total: the number of JetStream accounts, 0 when JetStream is off; /raftz 404 without Raft', async () => {
  const off = await startServer({ httpPort: -1 });
  const dir = mkdtempSync(join(tmpdir(), 'tsnats-jsz210-'));
  const on = await startServer({ httpPort: -1, jetstream: { storeDir: dir } });
  try {
    const disabled = await getJSON<Record<string, unknown>>(`${off.monitor!.url}/jsz`);
    assert.equal(disabled.disabled, true);
    assert.equal(disabled.total, 0);
    const raftz = await fetch(`${off.monitor!.url}/raftz`);
    assert.deepEqual([raftz.status, await raftz.text()], [404, 'No Raft nodes registered']);
    const jsz = await getJSON<Record<string, unknown>>(`${on.monitor!.url}/jsz?accounts=true&limit=0`);
    assert.equal(jsz.total, 1);
    assert.equal(Object.keys(jsz).at(-1), 'total');
  } finally {
    await off.shutdown();
    await on.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('/jsz meta_cluster pending, and /raftz: the Raft groups by account', async () => {
  const cluster = await JsCluster.start(['tsnats', 'tsnats', 'tsnats']);
  try {
    const name = cluster.nodes[0]!.name;
    let meta: Record<string, unknown> | undefined;
    await waitFor(
      async () => {
        const jsz = await cluster.monitor(name, '/jsz').catch(() => ({}) as Record<string, unknown>);
        meta = jsz.meta_cluster as Record<string, unknown> | undefined;
        return meta !== undefined && typeof meta.leader === 'string';
      },
      20_000,
      'a meta leader',
    );
    assert.equal(meta!.pending, 0);
    assert.deepEqual(Object.keys(meta!).slice(-2), ['cluster_size', 'pending']);

    // /raftz: the meta group under the system account; a stream's group under its account.
    const nc = await connect({ servers: cluster.urls() });
    try {
      const jsm = await jetstreamManager(nc);
      // Retried until every server has been heard from (the placement the meta leader can make).
      await whenPlaced(() => jsm.streams.add({ name: 'R3', subjects: ['r3.>'], num_replicas: 3 }));
    } finally {
      await nc.close();
    }
    const raftz = (await cluster.monitor(name, '/raftz')) as Record<string, Record<string, Json>>;
    assert.deepEqual(Object.keys(raftz), ['$SYS']);
    const metaGroup = raftz.$SYS!._meta_!;
    assert.ok(['LEADER', 'FOLLOWER'].includes(metaGroup.state as string), String(metaGroup.state));
    assert.equal(metaGroup.size, 3);
    assert.equal(metaGroup.quorum_needed, 2);
    assert.equal(metaGroup.ever_had_leader, true);
    assert.equal(typeof metaGroup.leader, 'string');
    const peers = metaGroup.peers as Record<string, { name: string; known: boolean }>;
    assert.equal(Object.keys(peers).length, 2);
    const names = cluster.nodes.map((n) => n.name).filter((n) => n !== name);
    assert.deepEqual(
      Object.values(peers)
        .map((p) => p.name)
        .sort(),
      names.sort(),
    );
    assert.ok(Object.values(peers).every((p) => p.known));
    const wal = metaGroup.wal as Json;
    assert.equal(wal.last_ts, '0001-01-01T00:00:00Z');
    assert.equal(typeof wal.messages, 'number');
    let streams: Record<string, Record<string, Json>> = {};
    await waitFor(
      async () => {
        streams = (await cluster.monitor(name, '/raftz?acc=$G')) as typeof streams;
        return Object.keys(streams.$G ?? {}).length === 1;
      },
      20_000,
      'the stream group in /raftz',
    );
    const [groupName, streamGroup] = Object.entries(streams.$G!)[0]!;
    assert.match(groupName, /^S-R3/);
    assert.equal(streamGroup.size, 3);
    const one = (await cluster.monitor(name, `/raftz?acc=$G&group=${groupName}`)) as typeof streams;
    assert.deepEqual(Object.keys(one.$G!), [groupName]);
    const base = cluster.node(name).proc!.monitorUrl!;
    const varz = (await (await fetch(`${base}/varz`)).json()) as Varz;
    assert.equal(varz.http_req_stats['/raftz'], undefined, 'nats-server does not count /raftz');
  } finally {
    await cluster.stop();
  }
});
