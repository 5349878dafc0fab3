/**
 * Leaf nodes and clusters, with tsnats and nats-server mixed: a hub cluster whose leaf talks to a client
 * of the other hub server and fails over to it (the URL learned through `leafnode_urls`) when its own
 * hub dies; a leaf cluster whose two servers each solicit the hub, where every message arrives once.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { within } from '../helpers/async.js';
import { type Launched, launch, type ServerKind } from '../helpers/launcher.js';
import { startLeaf, waitForAnnounced, waitForLeafs } from '../helpers/leafnodes.js';
import { hasReference } from '../helpers/reference.js';
import { waitFor } from '../helpers/wait-for.js';

const LEAF_LISTEN = /Listening for leafnode connections on [^\n]*:(\d+)/;

async function numRoutes(srv: Launched): Promise<number> {
  const r = await fetch(`${srv.monitorUrl}/routez`);
  return ((await r.json()) as { num_routes: number }).num_routes;
}

/** A server of cluster `name` (routes to `routeTo` when given), with monitoring and `extra` config. */
function clustered(
  kind: ServerKind,
  name: string,
  server: string,
  routeTo: number,
  extra: string,
): Promise<Launched> {
  const routes = routeTo > 0 ? `routes: ["nats://127.0.0.1:${routeTo}"]` : '';
  return launch({
    kind,
    config: `server_name: ${server}\ncluster { name: ${name}, listen: "127.0.0.1:-1", ${routes} }\n${extra}`,
    args: ['-m', '-1'],
    listeners: ['nats', 'cluster', 'monitoring'],
  });
}

function leafPortOf(srv: Launched): number {
  return Number(LEAF_LISTEN.exec(srv.log())![1]);
}

async function firstMessage(nc: NatsConnection, subject: string): Promise<() => Promise<string>> {
  const sub = nc.subscribe(subject, { max: 1 });
  await nc.flush();
  return async () => {
    for await (const m of sub) return m.string();
    return '';
  };
}

const ref = hasReference();

describe('a leaf of a hub cluster', () => {
  const combos: [ServerKind, ServerKind, ServerKind][] = ref
    ? [
        ['tsnats', 'nats-server', 'tsnats'],
        ['nats-server', 'tsnats', 'nats-server'],
        ['tsnats', 'tsnats', 'tsnats'],
      ]
    : [['tsnats', 'tsnats', 'tsnats']];
  for (const [k1, k2, kl] of combos) {
    test(`hubs ${k1} + ${k2}, leaf ${kl}: traffic with the other hub, failover to it`, async () => {
      const leafBlock = 'leafnodes { listen: "127.0.0.1:-1" }\n';
      const h1 = await clustered(k1, 'hubc', 'h1', 0, leafBlock);
      let h2: Launched | undefined;
      let leaf: Launched | undefined;
      const conns: NatsConnection[] = [];
      try {
        await h1.waitForLog(LEAF_LISTEN);
        h2 = await clustered(k2, 'hubc', 'h2', h1.clusterPort, leafBlock);
        await h2.waitForLog(LEAF_LISTEN);
        await waitFor(
          async () => (await numRoutes(h1)) === 1 && (await numRoutes(h2!)) === 1,
          10000,
          'the route',
        );
        leaf = await startLeaf(kl, `nats-leaf://127.0.0.1:${leafPortOf(h1)}`);
        await waitForLeafs(h1, 1);
        const onH2 = await connect({ servers: h2.url, reconnect: false });
        const onLeaf = await connect({ servers: leaf.url, reconnect: false });
        conns.push(onH2, onLeaf);
        // h2's interest reaches the leaf through h1, and the leaf's reaches h2.
        const toH2 = await firstMessage(onH2, 'to.h2');
        const toLeaf = await firstMessage(onLeaf, 'to.leaf');
        await waitForAnnounced(leaf, 'to.h2');
        await waitForAnnounced(h1, 'to.leaf');
        await waitFor(
          async () => {
            const r = await fetch(`${h2!.monitorUrl}/routez?subs=1`);
            const j = (await r.json()) as { routes: { subscriptions_list?: string[] }[] };
            return j.routes.some((x) => x.subscriptions_list?.includes('to.leaf'));
          },
          10000,
          'the leaf interest on h2',
        );
        onLeaf.publish('to.h2', 'leaf -> h1 -> h2');
        onH2.publish('to.leaf', 'h2 -> h1 -> leaf');
        assert.equal(await within(toH2(), 5000, 'leaf -> h2'), 'leaf -> h1 -> h2');
        assert.equal(await within(toLeaf(), 5000, 'h2 -> leaf'), 'h2 -> h1 -> leaf');
        const svc = onH2.subscribe('svc.h2', {
          callback: (_e, m) => {
            m.respond(`h2:${m.string()}`);
          },
        });
        await onH2.flush();
        await waitForAnnounced(leaf, 'svc.h2');
        assert.equal((await onLeaf.request('svc.h2', 'q', { timeout: 5000 })).string(), 'h2:q');
        svc.unsubscribe();

        // h1 goes: the leaf moves to h2, whose URL it learned from h1's INFO.
        h1.kill('SIGKILL');
        await h1.exited;
        await waitForLeafs(h2, 1, 20000);
        const again = await firstMessage(onLeaf, 'after.failover');
        await waitForAnnounced(h2, 'after.failover');
        onH2.publish('after.failover', 'via h2');
        assert.equal(await within(again(), 5000, 'h2 -> leaf after failover'), 'via h2');
      } finally {
        for (const c of conns) await c.close();
        await leaf?.stop();
        await h2?.stop();
        await h1.stop();
      }
    });
  }
});

describe('a leaf cluster', () => {
  const combos: [ServerKind, ServerKind, ServerKind][] = ref
    ? [
        ['nats-server', 'tsnats', 'tsnats'],
        ['tsnats', 'tsnats', 'nats-server'],
        ['tsnats', 'tsnats', 'tsnats'],
      ]
    : [['tsnats', 'tsnats', 'tsnats']];
  for (const [kh, k1, k2] of combos) {
    test(`hub ${kh}, leaf cluster ${k1} + ${k2}: every message once`, async () => {
      const hub = await launch({
        kind: kh,
        config: 'server_name: hub\nleafnodes { listen: "127.0.0.1:-1" }\n',
        args: ['-m', '-1'],
        listeners: ['nats', 'monitoring'],
      });
      let l1: Launched | undefined;
      let l2: Launched | undefined;
      const conns: NatsConnection[] = [];
      try {
        await hub.waitForLog(LEAF_LISTEN);
        const remote = `leafnodes { reconnect: 1, remotes: [ { url: "nats-leaf://127.0.0.1:${leafPortOf(hub)}" } ] }\n`;
        l1 = await clustered(k1, 'leafc', 'l1', 0, remote);
        l2 = await clustered(k2, 'leafc', 'l2', l1.clusterPort, remote);
        await waitFor(
          async () => (await numRoutes(l1!)) === 1 && (await numRoutes(l2!)) === 1,
          10000,
          'the route',
        );
        await waitForLeafs(hub, 2);
        const hc = await connect({ servers: hub.url, reconnect: false });
        const c1 = await connect({ servers: l1.url, reconnect: false });
        const c2 = await connect({ servers: l2.url, reconnect: false });
        conns.push(hc, c1, c2);
        const got = { hub: 0, c1: 0, c2: 0 };
        hc.subscribe('all', { callback: () => void got.hub++ });
        c1.subscribe('all', { callback: () => void got.c1++ });
        c2.subscribe('all', { callback: () => void got.c2++ });
        await Promise.all([hc.flush(), c1.flush(), c2.flush()]);
        await waitFor(
          async () => {
            const r = await fetch(`${hub.monitorUrl}/leafz?subs=1`);
            const z = (await r.json()) as { leafs: { subscriptions_list?: string[] }[] | null };
            return (z.leafs ?? []).filter((l) => l.subscriptions_list?.includes('all')).length === 2;
          },
          10000,
          'both leaf servers announcing "all"',
        );
        await waitForAnnounced(l1, 'all');
        await waitForAnnounced(l2, 'all');
        await waitFor(
          async () => {
            const r = await fetch(`${l1!.monitorUrl}/routez?subs=1`);
            const j = (await r.json()) as { routes: { subscriptions_list?: string[] }[] };
            return j.routes.some((x) => x.subscriptions_list?.includes('all'));
          },
          10000,
          'l2 interest on l1',
        );
        for (const nc of [hc, c1, c2]) nc.publish('all', 'x');
        await within(
          (async () => {
            while (got.hub < 3 || got.c1 < 3 || got.c2 < 3) await new Promise((r) => setTimeout(r, 5));
          })(),
          10000,
          'three messages at each subscriber',
        );
        // One more round trip everywhere: a duplicate would have arrived by now.
        const marker = await firstMessage(c2, 'marker');
        await waitForAnnounced(hub, 'marker');
        hc.publish('marker', 'm');
        await within(marker(), 5000, 'the marker');
        await Promise.all([hc.flush(), c1.flush(), c2.flush()]);
        assert.deepEqual(got, { hub: 3, c1: 3, c2: 3 });
      } finally {
        for (const c of conns) await c.close();
        await l2?.stop();
        await l1?.stop();
        await hub.stop();
      }
    });
  }
});
