/**
 * The monitoring fields nats-server 2.10 added that tsnats reports: /varz `slow_consumer_stats`, /routez
 * `server_name` and each route's `remote_name` and `compression`, /leafz `name`, `is_spoke` and
 * `compression`, /jsz `total`, and the meta group's `pending`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Routez } from '../../src/monitor/routez.js';
import type { Varz } from '../../src/monitor/varz.js';
import { stopAll, TsNode, waitForMesh } from '../helpers/cluster.js';
import { JsCluster } from '../helpers/js-cluster.js';
import { startHub, startLeaf, waitForLeafs } from '../helpers/leafnodes.js';
import { startServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

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

test('/jsz total: the number of JetStream accounts, 0 when JetStream is off', async () => {
  const off = await startServer({ httpPort: -1 });
  const dir = mkdtempSync(join(tmpdir(), 'tsnats-jsz210-'));
  const on = await startServer({ httpPort: -1, jetstream: { storeDir: dir } });
  try {
    const disabled = await getJSON<Record<string, unknown>>(`${off.monitor!.url}/jsz`);
    assert.equal(disabled.disabled, true);
    assert.equal(disabled.total, 0);
    const jsz = await getJSON<Record<string, unknown>>(`${on.monitor!.url}/jsz?accounts=true&limit=0`);
    assert.equal(jsz.total, 1);
    assert.equal(Object.keys(jsz).at(-1), 'total');
  } finally {
    await off.shutdown();
    await on.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('/jsz meta_cluster pending: no API request waits in a queue', async () => {
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
  } finally {
    await cluster.stop();
  }
});
