/**
 * Leaf nodes with real clients, in each direction against the reference nats-server 2.9.10 and between
 * two tsnats: a tsnats hub with a nats-server leaf, a nats-server hub with a tsnats leaf, tsnats with
 * tsnats. For each pair: pub/sub and request/reply both ways, headers intact, a queue group with members
 * on both sides getting each message exactly once, no traffic after an unsubscribe, the leaf back after
 * its hub is killed and restarted; wrong credentials refused and right ones accepted; a remote bound to
 * account A keeps its messages in A.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { within } from '../helpers/async.js';
import type { Launched, ServerKind } from '../helpers/launcher.js';
import {
  announced,
  type Hub,
  leafOutMsgs,
  startHub,
  startLeaf,
  waitForAnnounced,
  waitForLeafs,
} from '../helpers/leafnodes.js';
import { hasReference } from '../helpers/reference.js';
import { waitFor } from '../helpers/wait-for.js';

const PAIRS: [hub: ServerKind, leaf: ServerKind][] = hasReference()
  ? [
      ['tsnats', 'nats-server'],
      ['nats-server', 'tsnats'],
      ['tsnats', 'tsnats'],
    ]
  : [['tsnats', 'tsnats']];

async function first(nc: NatsConnection, subject: string): Promise<() => Promise<string>> {
  const sub = nc.subscribe(subject, { max: 1 });
  await nc.flush();
  return async () => {
    for await (const m of sub) return m.string();
    return '';
  };
}

for (const [hubKind, leafKind] of PAIRS) {
  describe(`leaf nodes: ${hubKind} hub, ${leafKind} leaf`, () => {
    let hub: Hub;
    let leaf: Launched;
    let hc: NatsConnection;
    let lc: NatsConnection;
    before(async () => {
      hub = await startHub(hubKind);
      leaf = await startLeaf(leafKind, `nats-leaf://127.0.0.1:${hub.leafPort}`);
      await waitForLeafs(hub, 1);
      await waitForLeafs(leaf, 1);
      hc = await connect({ servers: hub.url, reconnect: false });
      lc = await connect({ servers: leaf.url, reconnect: false });
    });
    after(async () => {
      await hc?.close();
      await lc?.close();
      await leaf?.stop();
      await hub?.stop();
    });

    test('pub/sub and request/reply both ways, headers intact', async () => {
      const onLeaf = await first(lc, 'down.x');
      const onHub = await first(hc, 'up.x');
      await waitForAnnounced(hub, 'down.x');
      await waitForAnnounced(leaf, 'up.x');
      hc.publish('down.x', 'from the hub');
      lc.publish('up.x', 'from the leaf');
      assert.equal(await within(onLeaf(), 5000, 'hub -> leaf'), 'from the hub');
      assert.equal(await within(onHub(), 5000, 'leaf -> hub'), 'from the leaf');

      hc.subscribe('svc.hub', {
        callback: (_e, m) => {
          const h = headers();
          h.set('Answered-By', 'hub');
          m.respond(`hub:${m.string()}:${m.headers?.get('Asked-By') ?? ''}`, { headers: h });
        },
      });
      lc.subscribe('svc.leaf', {
        callback: (_e, m) => {
          m.respond(`leaf:${m.string()}`);
        },
      });
      await hc.flush();
      await lc.flush();
      await waitForAnnounced(leaf, 'svc.hub');
      await waitForAnnounced(hub, 'svc.leaf');
      const h = headers();
      h.set('Asked-By', 'leaf');
      h.append('Multi', 'a');
      h.append('Multi', 'b');
      const r1 = await lc.request('svc.hub', 'q1', { timeout: 5000, headers: h });
      assert.equal(r1.string(), 'hub:q1:leaf');
      assert.equal(r1.headers?.get('Answered-By'), 'hub');
      const r2 = await hc.request('svc.leaf', 'q2', { timeout: 5000 });
      assert.equal(r2.string(), 'leaf:q2');

      // A header message the other way, every value kept.
      const withHdr = hc.subscribe('hdr.up', { max: 1 });
      await hc.flush();
      await waitForAnnounced(leaf, 'hdr.up');
      lc.publish('hdr.up', 'payload', { headers: h });
      for await (const m of withHdr) {
        assert.equal(m.string(), 'payload');
        assert.deepEqual(m.headers?.values('Multi'), ['a', 'b']);
        assert.equal(m.headers?.get('Asked-By'), 'leaf');
      }
    });

    test('a queue group with members on both sides gets each message exactly once', async () => {
      const N = 200;
      const seen = new Map<string, number>();
      const perMember = [0, 0, 0, 0];
      const members = [hc, hc, lc, lc].map((nc, i) =>
        nc.subscribe('work', {
          queue: 'workers',
          callback: (_e, m) => {
            perMember[i]!++;
            seen.set(m.string(), (seen.get(m.string()) ?? 0) + 1);
          },
        }),
      );
      await hc.flush();
      await lc.flush();
      await waitForAnnounced(hub, 'work');
      await waitForAnnounced(leaf, 'work');
      for (let i = 0; i < N; i++) {
        hc.publish('work', `h${i}`);
        lc.publish('work', `l${i}`);
      }
      await hc.flush();
      await lc.flush();
      await within(
        (async () => {
          while (seen.size < 2 * N) await new Promise((r) => setImmediate(r));
        })(),
        10000,
        `${2 * N} queue messages`,
      );
      // Late duplicates would show up in one more round trip on both connections.
      await hc.flush();
      await lc.flush();
      assert.equal(seen.size, 2 * N);
      assert.ok(
        [...seen.values()].every((n) => n === 1),
        'every message exactly once',
      );
      for (const s of members) s.unsubscribe();
    });

    test('after an unsubscribe nothing crosses for that subject', async () => {
      const sub = lc.subscribe('gone.soon');
      await lc.flush();
      await waitForAnnounced(hub, 'gone.soon');
      sub.unsubscribe();
      await lc.flush();
      await waitForAnnounced(hub, 'gone.soon', false);
      const before = await leafOutMsgs(hub);
      for (let i = 0; i < 20; i++) hc.publish('gone.soon', 'x');
      // A message that does cross, after them: once it arrived, the others would have too.
      const marker = await first(lc, 'marker');
      await waitForAnnounced(hub, 'marker');
      hc.publish('marker', 'm');
      assert.equal(await within(marker(), 5000, 'the marker'), 'm');
      assert.equal(await leafOutMsgs(hub), before + 1, 'only the marker crossed');
    });
  });

  describe(`JetStream across a leaf: ${hubKind} hub, ${leafKind} leaf`, () => {
    test('each side serves its own domain; $JS.API stays local; a stream and a KV bucket on the hub from the leaf', async () => {
      const hub = await startHub(hubKind, { config: 'jetstream { domain: hub }', jetstream: true });
      const leaf = await startLeaf(leafKind, `nats-leaf://127.0.0.1:${hub.leafPort}`, {
        config: 'jetstream { domain: spoke }',
        jetstream: true,
      });
      const conns: NatsConnection[] = [];
      try {
        await waitForLeafs(hub, 1);
        // nats-server announces its domain's API subject by subject, tsnats as `$JS.hub.API.>`.
        await waitFor(
          async () => (await announced(leaf)).some((x) => x.startsWith('$JS.hub.API.')),
          10000,
          "the hub's domain API announced to the leaf",
        );
        const lc = await connect({ servers: leaf.url, reconnect: false });
        const hc = await connect({ servers: hub.url, reconnect: false });
        conns.push(lc, hc);
        const info = async (nc: NatsConnection, subject: string): Promise<string | undefined> => {
          const r = await nc.request(subject, '', { timeout: 5000 });
          return (JSON.parse(r.string()) as { domain?: string }).domain;
        };
        // Plain $JS.API is answered where the client is; the domain prefix reaches the other side.
        assert.equal(await info(lc, '$JS.API.INFO'), 'spoke');
        assert.equal(await info(hc, '$JS.API.INFO'), 'hub');
        assert.equal(await info(lc, '$JS.hub.API.INFO'), 'hub');
        assert.equal(await info(hc, '$JS.spoke.API.INFO'), 'spoke');

        const jsm = await jetstreamManager(lc, { domain: 'hub' });
        await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
        const js = jetstream(lc, { domain: 'hub' });
        const ack = await js.publish('orders.1', 'one');
        assert.equal(ack.domain, 'hub');
        assert.equal(ack.stream, 'ORDERS');
        // The stream is on the hub, not on the leaf.
        const hubJsm = await jetstreamManager(hc);
        assert.equal((await hubJsm.streams.info('ORDERS')).state.messages, 1);
        await assert.rejects(
          jetstreamManager(lc).then((m) => m.streams.info('ORDERS')),
          /stream not found/,
        );
        const c = await js.consumers.get('ORDERS');
        const m = await c.next({ expires: 5000 });
        assert.equal(m?.string(), 'one');

        const kvm = new Kvm(jetstream(lc, { domain: 'hub' }));
        const kv = await kvm.create('settings');
        await kv.put('color', 'blue');
        assert.equal((await kv.get('color'))?.string(), 'blue');
        const onHub = await new Kvm(jetstream(hc)).open('settings');
        assert.equal((await onHub.get('color'))?.string(), 'blue');
      } finally {
        for (const c of conns) await c.close();
        await leaf.stop();
        await hub.stop();
      }
    });
  });

  describe(`leaf node reconnect: ${hubKind} hub, ${leafKind} leaf`, () => {
    test('the leaf comes back after its hub is killed and restarted', async () => {
      let hub = await startHub(hubKind);
      const leafPort = hub.leafPort;
      const leaf = await startLeaf(leafKind, `nats-leaf://127.0.0.1:${leafPort}`);
      const conns: NatsConnection[] = [];
      try {
        await waitForLeafs(hub, 1);
        hub.kill('SIGKILL');
        await hub.exited;
        await hub.stop();
        await waitForLeafs(leaf, 0);
        hub = await startHub(hubKind, { leafPort });
        await waitForLeafs(hub, 1);
        await waitForLeafs(leaf, 1);
        const hc = await connect({ servers: hub.url, reconnect: false });
        const lc = await connect({ servers: leaf.url, reconnect: false });
        conns.push(hc, lc);
        const onLeaf = await first(lc, 'again.down');
        const onHub = await first(hc, 'again.up');
        await waitForAnnounced(hub, 'again.down');
        await waitForAnnounced(leaf, 'again.up');
        hc.publish('again.down', 'still here');
        lc.publish('again.up', 'me too');
        assert.equal(await within(onLeaf(), 5000, 'hub -> leaf after restart'), 'still here');
        assert.equal(await within(onHub(), 5000, 'leaf -> hub after restart'), 'me too');
      } finally {
        for (const c of conns) await c.close();
        await leaf.stop();
        await hub.stop();
      }
    });
  });

  describe(`leaf node authorization and accounts: ${hubKind} hub, ${leafKind} leaf`, () => {
    test('wrong credentials are refused, the right ones accepted', async () => {
      const hub = await startHub(hubKind, { leafBlock: 'authorization { user: leafy, password: s3cret }' });
      try {
        const bad = await startLeaf(leafKind, `nats-leaf://leafy:wrong@127.0.0.1:${hub.leafPort}`, {
          name: 'bad',
        });
        try {
          // The hub refuses it attempt after attempt: two refusals seen, still no leaf connected.
          const refusal = '(?:Authorization Violation|authentication error)';
          await hub.waitForLog(new RegExp(`${refusal}[\\s\\S]*${refusal}`, 'i'), 10000);
          await waitForLeafs(hub, 0);
        } finally {
          await bad.stop();
        }
        const good = await startLeaf(leafKind, `nats-leaf://leafy:s3cret@127.0.0.1:${hub.leafPort}`, {
          name: 'good',
        });
        try {
          await waitForLeafs(hub, 1);
          await waitForLeafs(good, 1);
        } finally {
          await good.stop();
        }
      } finally {
        await hub.stop();
      }
    });

    test('a remote bound to account A keeps its messages in A', async () => {
      const hub = await startHub(hubKind, {
        config: `accounts {
  A: { users: [ { user: a, password: a } ] }
  B: { users: [ { user: b, password: b } ] }
}`,
        leafBlock: `authorization { users: [ { user: la, password: lp, account: A } ] }`,
      });
      const leaf = await startLeaf(leafKind, `nats-leaf://la:lp@127.0.0.1:${hub.leafPort}`, {
        config: 'accounts { LA: { users: [ { user: x, password: x } ] } }',
        remote: 'account: LA',
      });
      const conns: NatsConnection[] = [];
      try {
        await waitForLeafs(hub, 1);
        const inA = await connect({ servers: hub.url, user: 'a', pass: 'a', reconnect: false });
        const inB = await connect({ servers: hub.url, user: 'b', pass: 'b', reconnect: false });
        const onLeaf = await connect({ servers: leaf.url, user: 'x', pass: 'x', reconnect: false });
        conns.push(inA, inB, onLeaf);
        let bGot = 0;
        inB.subscribe('acct.>', {
          callback: () => {
            bGot++;
          },
        });
        await inB.flush();
        const aGets = await first(inA, 'acct.test');
        await waitForAnnounced(leaf, 'acct.test');
        onLeaf.publish('acct.test', 'for A only');
        assert.equal(await within(aGets(), 5000, 'the message in account A'), 'for A only');
        // And the other way: A's messages reach the leaf's account, B's do not.
        const leafGets = await first(onLeaf, 'acct.back');
        await waitForAnnounced(hub, 'acct.back');
        inB.publish('acct.back', 'from B');
        inA.publish('acct.back', 'from A');
        assert.equal(await within(leafGets(), 5000, 'A -> leaf'), 'from A');
        await inB.flush();
        assert.equal(bGot, 1, 'B saw only its own message');
      } finally {
        for (const c of conns) await c.close();
        await leaf.stop();
        await hub.stop();
      }
    });
  });
}
