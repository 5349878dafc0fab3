/**
 * @nats-io/kv 3.4 on its nats-server 2.10 paths (issue 20). The client is told it talks to 2.10 (its
 * feature table only), so it asks for several keys at once with one ordered consumer of several
 * `filter_subjects` (keys, history, watch), sends bucket metadata, and reads values with direct gets.
 * Also: a wildcard subscriber in the account does not bind the client's push consumers (nats-server
 * counts only a subscription on exactly the deliver subject), compared with the real nats-server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AckPolicy, DeliverPolicy, JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import { Bucket, type KvEntry, Kvm, type KvWatchEntry, KvWatchInclude } from '@nats-io/kv';
import { connect, createInbox, type NatsConnection, type QueuedIterator } from '@nats-io/transport-node';
import { watchRead } from '../helpers/async.js';
import { closeJetStream, type JsEnv, openJetStream, runOnBoth } from '../helpers/jetstream.js';
import { hasReference } from '../helpers/reference.js';

/** Let the client use 2.10 features against a server that reports 2.9.10. */
function as210(nc: NatsConnection): void {
  (nc as unknown as { features: { update(v: string): void } }).features.update('2.10.0');
}

async function collect<T>(it: QueuedIterator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

/** A watcher's first `first` entries, then `more` after `between` (see helpers/async.ts watchRead). */
function readWatch(
  w: QueuedIterator<KvWatchEntry>,
  first: number,
  between: () => Promise<void>,
  more: number,
): Promise<string[][]> {
  return watchRead(w, first, between, more, (e: KvWatchEntry): string => `${show(e)}:${e.isUpdate}`);
}

const show = (e: KvEntry): string => `${e.key}:${e.operation}:${e.string()}`;

let env: JsEnv;
let kvm: Kvm;
before(async () => {
  env = await openJetStream();
  as210(env.nc);
  kvm = new Kvm(env.nc);
});
after(async () => {
  await closeJetStream(env);
});

/** A bucket holding a.1 a.2 b.1 c.1 (c.1 then deleted) and a second revision of a.1. */
async function filled(name: string, history = 5): Promise<Bucket> {
  const kv = await kvm.create(name, { history });
  // Bucket: the client's implementation, with purgeDeletes and headers_only history.
  assert.ok(kv instanceof Bucket);
  await kv.put('a.1', 'a1');
  await kv.put('a.2', 'a2');
  await kv.put('b.1', 'b1');
  await kv.put('c.1', 'c1');
  await kv.put('a.1', 'a1-2');
  await kv.delete('c.1');
  return kv;
}

describe('KV on the 2.10 paths', () => {
  test('keys with several filters: one consumer with filter_subjects, deleted keys left out', async () => {
    const kv = await filled('keys');
    assert.deepEqual((await collect(await kv.keys(['a.*', 'c.*']))).sort(), ['a.1', 'a.2']);
    assert.deepEqual((await collect(await kv.keys(['b.1', 'a.2']))).sort(), ['a.2', 'b.1']);
    assert.deepEqual((await collect(await kv.keys(['x.*', 'y.*']))).sort(), []);
    assert.deepEqual((await collect(await kv.keys())).sort(), ['a.1', 'a.2', 'b.1']);
  });

  test('a consumer with filter_subjects and last_per_subject counts and delivers the last of each', async () => {
    await filled('lps');
    const ci = await env.jsm.consumers.add('KV_lps', {
      durable_name: 'lps',
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.LastPerSubject,
      filter_subjects: ['$KV.lps.a.*', '$KV.lps.c.*'],
    });
    // a.2 (2), c.1's delete marker (6), a.1's second revision (5).
    assert.equal(ci.num_pending, 3);
    assert.deepEqual(ci.config.filter_subjects, ['$KV.lps.a.*', '$KV.lps.c.*']);
    const c = await env.js.consumers.get('KV_lps', 'lps');
    const seqs: number[] = [];
    for await (const m of await c.fetch({ max_messages: 3, expires: 2000 })) seqs.push(m.seq);
    assert.deepEqual(seqs, [2, 5, 6]);
    await env.jsm.consumers.delete('KV_lps', 'lps');
  });

  test('history of several keys: every revision of each, in stream order', async () => {
    const kv = await filled('hist');
    const h = await collect(await kv.history({ key: ['a.1', 'c.1'] }));
    assert.deepEqual(h.map(show), ['a.1:PUT:a1', 'c.1:PUT:c1', 'a.1:PUT:a1-2', 'c.1:DEL:']);
    assert.deepEqual(
      h.map((e) => e.revision),
      [1, 4, 5, 6],
    );
    const all = await collect(await kv.history({ key: ['a.>', 'b.>'], headers_only: true }));
    assert.deepEqual(
      all.map((e) => `${e.key}:${e.length}:${e.value.length}`),
      ['a.1:2:0', 'a.2:2:0', 'b.1:2:0', 'a.1:4:0'],
      'headers_only: the size header, no value',
    );
  });

  test('watch of several keys: their last values, then only their updates', async () => {
    const kv = await filled('watch');
    const w = await kv.watch({ key: ['a.1', 'c.*'] });
    const [initial, updates] = await readWatch(
      w,
      2,
      async () => {
        await kv.put('b.1', 'not watched');
        await kv.put('a.2', 'not watched');
        await kv.put('c.2', 'c2');
        await kv.put('a.1', 'a1-3');
      },
      2,
    );
    // The client marks the last initial entry as an update already (it counts num_pending).
    assert.deepEqual(initial, ['a.1:PUT:a1-2:false', 'c.1:DEL::true']);
    assert.deepEqual(updates, ['c.2:PUT:c2:true', 'a.1:PUT:a1-3:true']);
  });

  test('watch of several keys from a revision, and updates only', async () => {
    const kv = await filled('resume');
    const w = await kv.watch({ key: ['a.1', 'b.*'], resumeFromRevision: 3 });
    const [resumed] = await readWatch(w, 2, async () => {}, 0);
    assert.deepEqual(resumed, ['b.1:PUT:b1:false', 'a.1:PUT:a1-2:true']);
    const u = await kv.watch({ key: ['a.2', 'b.*'], include: KvWatchInclude.UpdatesOnly });
    const [, updates] = await readWatch(
      u,
      0,
      async () => {
        await kv.put('a.1', 'no');
        await kv.put('b.9', 'b9');
        await kv.put('a.2', 'a2-2');
      },
      2,
    );
    assert.deepEqual(updates, ['b.9:PUT:b9:true', 'a.2:PUT:a2-2:true']);
  });

  test('bucket metadata; get by direct get, by revision; create over a deleted key', async () => {
    const kv = await kvm.create('meta', { metadata: { owner: 'ops' }, history: 3 });
    const st = await kv.status();
    assert.deepEqual(st.metadata, { owner: 'ops' });
    assert.equal(st.streamInfo.config.allow_direct, true);
    assert.equal(st.compression, false);
    const r1 = await kv.put('k', 'v1');
    await kv.put('k', 'v2');
    assert.equal((await kv.get('k'))?.string(), 'v2');
    assert.equal((await kv.get('k', { revision: r1 }))?.string(), 'v1');
    assert.equal(await kv.get('none'), null);
    await kv.delete('k');
    const rc = await kv.create('k', 'again');
    assert.equal((await kv.get('k'))?.revision, rc);
    // The listing of buckets shows the metadata too.
    const names: string[] = [];
    for await (const s of kvm.list()) if (s.metadata?.owner === 'ops') names.push(s.bucket);
    assert.deepEqual(names, ['meta']);
  });

  test('purgeDeletes drops deleted and purged keys with their history', async () => {
    const kv = await filled('pd');
    await kv.purge('b.1');
    const r = await kv.purgeDeletes(-1);
    // c.1: its value and delete marker; b.1: its purge marker.
    assert.equal(r.purged, 3);
    assert.deepEqual((await collect(await kv.keys())).sort(), ['a.1', 'a.2']);
    assert.deepEqual((await collect(await kv.history({ key: ['b.1', 'c.1'] }))).length, 0);
    assert.equal((await kv.status()).values, 3);
  });
});

describe('a wildcard subscriber does not bind a push consumer', () => {
  test('keys, history and watch work while the account has a `>` subscriber', async () => {
    const spy = await connect({ servers: `127.0.0.1:${env.server.port}`, reconnect: false });
    try {
      let seen = 0;
      spy.subscribe('>', {
        callback: () => {
          seen++;
        },
      });
      await spy.flush();
      const kv = await filled('spied');
      assert.deepEqual((await collect(await kv.keys(['a.*', 'b.*']))).sort(), ['a.1', 'a.2', 'b.1']);
      assert.equal((await collect(await kv.history({ key: 'a.1' }))).length, 2);
      const [initial] = await readWatch(await kv.watch({ key: 'b.*' }), 1, async () => {}, 0);
      assert.deepEqual(initial, ['b.1:PUT:b1:true']);
      assert.ok(seen > 0, 'the spy sees the traffic');
    } finally {
      await spy.close();
    }
  });

  test('push_bound only for a subscription on exactly the deliver subject, as nats-server', async (t) => {
    if (!hasReference()) {
      t.skip('nats-server is not installed');
      return;
    }
    const run = async (port: number): Promise<(boolean | undefined)[]> => {
      const nc = await connect({ servers: `127.0.0.1:${port}`, reconnect: false });
      try {
        const jsm = await jetstreamManager(nc);
        await jsm.streams.add({ name: 'PB', subjects: ['pb.>'] });
        const inbox = createInbox();
        const wide = nc.subscribe(`${inbox.split('.')[0]}.>`);
        const partial = nc.subscribe(`${inbox}.*`);
        await nc.flush();
        const bound: (boolean | undefined)[] = [];
        const deliver = `${inbox}.d`;
        await jsm.consumers.add('PB', {
          durable_name: 'p',
          deliver_subject: deliver,
          ack_policy: AckPolicy.None,
        });
        bound.push((await jsm.consumers.info('PB', 'p')).push_bound);
        const exact = nc.subscribe(deliver);
        await nc.flush();
        bound.push((await jsm.consumers.info('PB', 'p')).push_bound);
        exact.unsubscribe();
        await nc.flush();
        bound.push((await jsm.consumers.info('PB', 'p')).push_bound);
        wide.unsubscribe();
        partial.unsubscribe();
        return bound;
      } finally {
        await nc.close();
      }
    };
    const [ref, ours] = await runOnBoth(run);
    assert.deepEqual(ref, [undefined, true, undefined]);
    assert.deepEqual(ours, ref);
  });
});

describe('compared with nats-server 2.9.10', () => {
  test('the same KV operations give the same revisions, entries, errors and stream state', async (t) => {
    if (!hasReference()) {
      t.skip('nats-server is not installed');
      return;
    }
    // What 2.9 already had: the client stays at the server's own version here.
    const run = async (port: number): Promise<unknown[]> => {
      const nc = await connect({ servers: `127.0.0.1:${port}`, reconnect: false });
      const out: unknown[] = [];
      const outcome = async (p: Promise<unknown>): Promise<void> => {
        try {
          out.push(['ok', await p]);
        } catch (e) {
          out.push(e instanceof JetStreamApiError ? [e.code, e.message] : (e as Error).message);
        }
      };
      try {
        const kv = await new Kvm(nc).create('cmp', { history: 3, maxValueSize: 64, max_bytes: 4096 });
        assert.ok(kv instanceof Bucket);
        for (const [k, v] of [
          ['a', '1'],
          ['b.x', '2'],
          ['a', '3'],
          ['a', '4'],
          ['a', '5'],
        ] as const)
          out.push(await kv.put(k, v));
        await outcome(kv.put('big', 'x'.repeat(65)));
        await outcome(kv.create('a', 'again'));
        await outcome(kv.update('a', 'u', 1));
        await outcome(kv.update('a', 'u', 5));
        await outcome(kv.delete('b.x', { previousSeq: 1 }));
        await kv.delete('b.x');
        await outcome(kv.create('b.x', 'back'));
        await kv.purge('a');
        out.push((await collect(await kv.keys())).sort());
        out.push(
          (await collect(await kv.history())).map((e) => [e.key, e.operation, e.revision, e.string()]),
        );
        const e = await kv.get('b.x', { revision: 2 });
        out.push([e?.key, e?.revision, e?.string(), e?.operation]);
        out.push(await kv.get('a').then((x) => [x?.operation, x?.revision]));
        out.push((await kv.purgeDeletes(-1)).purged);
        const st = await kv.status();
        const s = st.streamInfo.state;
        out.push([st.values, st.history, st.maxValueSize, s.bytes, s.first_seq, s.last_seq, s.num_subjects]);
        // A new consumer starting past the first message: its stream ack floor is 0 until it delivers or
        // is acknowledged (nats-server reads it back from the consumer store).
        const jsm = await jetstreamManager(nc);
        for (const [name, ack_policy, deliver_policy] of [
          ['lps', AckPolicy.None, DeliverPolicy.LastPerSubject],
          ['new', AckPolicy.Explicit, DeliverPolicy.New],
        ] as const) {
          const ci = await jsm.consumers.add('KV_cmp', {
            durable_name: name,
            ack_policy,
            deliver_policy,
            filter_subject: '$KV.cmp.>',
          });
          out.push([ci.ack_floor, ci.delivered, ci.num_pending]);
        }
        return out;
      } finally {
        await nc.close();
      }
    };
    const [ref, ours] = await runOnBoth(run);
    assert.deepEqual(ref[5], [10054, 'message size exceeds maximum allowed']);
    assert.deepEqual(ours, ref);
  });
});
