/**
 * @nats-io/kv end to end against tsnats: buckets (history, ttl, max value size), put / get / create /
 * update / delete / purge, keys, history, watch (initial values and updates while watching), status, and
 * file buckets surviving a restart. KV is a stream plus ordered push consumers with flow control and
 * heartbeats, so this exercises the consumer machinery the way the client really uses it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type KV, type KvEntry, Kvm, type KvWatchEntry } from '@nats-io/kv';
import { connect, type NatsConnection, type QueuedIterator } from '@nats-io/transport-node';
import type { Server } from '../../src/index.js';
import { startServer, urlOf } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

async function collect<T>(it: QueuedIterator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  assert.fail('expected a rejection');
}

describe('KV with @nats-io/kv', () => {
  let server: Server;
  let dir: string;
  let nc: NatsConnection;
  let kvm: Kvm;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsnats-kv-'));
    server = await startServer({ jetstream: { storeDir: dir } });
    nc = await connect({ servers: urlOf(server), reconnect: false });
    kvm = new Kvm(nc);
  });
  after(async () => {
    await nc.close();
    await server.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  test('bucket with history, ttl and max value size; status', async () => {
    const kv = await kvm.create('cfg', {
      history: 3,
      ttl: 60_000,
      maxValueSize: 64,
      description: 'settings',
    });
    const st = await kv.status();
    assert.equal(st.bucket, 'cfg');
    assert.equal(st.history, 3);
    assert.equal(st.ttl, 60_000);
    assert.equal(st.maxValueSize, 64);
    assert.equal(st.description, 'settings');
    assert.equal(st.values, 0);
    assert.equal(st.streamInfo.config.name, 'KV_cfg');
    assert.equal(st.streamInfo.config.allow_direct, true);
    await kv.put('big', 'x'.repeat(10));
    await rejects(kv.put('big', 'x'.repeat(200)));
    // History is bounded: only the last 3 revisions of a key are kept.
    for (let i = 1; i <= 5; i++) await kv.put('h', `v${i}`);
    const hist = await collect(await kv.history({ key: 'h' }));
    assert.deepEqual(
      hist.map((e) => e.string()),
      ['v3', 'v4', 'v5'],
    );
    assert.equal((await kv.status()).values, 4);
    const names: string[] = [];
    for await (const s of kvm.list()) names.push(s.bucket);
    assert.ok(names.includes('cfg'));
  });

  test('put, get, create (only if absent), update (with revision), delete, purge', async () => {
    const kv = await kvm.create('ops', { history: 5 });
    const r1 = await kv.put('a', 'one');
    let e = (await kv.get('a')) as KvEntry;
    assert.equal(e.string(), 'one');
    assert.equal(e.revision, r1);
    assert.equal(e.operation, 'PUT');
    assert.equal(await kv.get('missing'), null);

    const rc = await kv.create('b', 'first');
    assert.ok(rc > r1);
    await rejects(kv.create('b', 'second'));
    assert.equal((await kv.get('b'))?.string(), 'first');

    const ru = await kv.update('a', 'two', r1);
    await rejects(kv.update('a', 'three', r1));
    assert.equal((await kv.get('a'))?.string(), 'two');
    assert.equal((await kv.get('a', { revision: r1 }))?.string(), 'one');

    await kv.delete('a');
    e = (await kv.get('a')) as KvEntry;
    assert.equal(e.operation, 'DEL');
    // A deleted key can be created again.
    await kv.create('a', 'again');
    assert.equal((await kv.get('a'))?.string(), 'again');

    await kv.purge('b');
    assert.equal((await kv.get('b'))?.operation, 'PURGE');
    const hb = await collect(await kv.history({ key: 'b' }));
    assert.deepEqual(
      hb.map((x) => x.operation),
      ['PURGE'],
      'a purge drops the older revisions',
    );
    assert.ok(ru > rc);
  });

  test('keys and history', async () => {
    const kv = await kvm.create('ks', { history: 10 });
    assert.deepEqual(await collect(await kv.keys()), []);
    await kv.put('x.1', '1');
    await kv.put('x.2', '2');
    await kv.put('y', '3');
    await kv.put('x.1', '4');
    await kv.delete('y');
    assert.deepEqual((await collect(await kv.keys())).sort(), ['x.1', 'x.2']);
    assert.deepEqual((await collect(await kv.keys('x.*'))).sort(), ['x.1', 'x.2']);
    const h = await collect(await kv.history());
    assert.deepEqual(
      h.map((e) => `${e.key}:${e.operation}:${e.string()}`),
      ['x.1:PUT:1', 'x.2:PUT:2', 'y:PUT:3', 'x.1:PUT:4', 'y:DEL:'],
    );
    const h1 = await collect(await kv.history({ key: 'x.1' }));
    assert.deepEqual(
      h1.map((e) => e.revision),
      [1, 4],
    );
  });

  test('watch: initial values, then updates while watching', async () => {
    const kv = await kvm.create('w', { history: 3 });
    await kv.put('a', 'a1');
    await kv.put('b', 'b1');
    await kv.put('a', 'a2');
    const w = await kv.watch();
    const seen: KvWatchEntry[] = [];
    const done = (async () => {
      for await (const e of w) {
        seen.push(e);
        if (seen.length === 5) break;
      }
    })();
    await waitFor(() => seen.length === 2, 3000, 'the initial values');
    await kv.put('c', 'c1');
    await kv.delete('b');
    await kv.put('a', 'a3');
    await done;
    assert.deepEqual(
      seen.map((e) => `${e.key}:${e.operation}:${e.string()}`),
      ['b:PUT:b1', 'a:PUT:a2', 'c:PUT:c1', 'b:DEL:', 'a:PUT:a3'],
    );
    // Only updates, for one key.
    const u = await kv.watch({ key: 'a', include: 'updates' as const });
    const upd: string[] = [];
    const done2 = (async () => {
      for await (const e of u) {
        upd.push(e.string());
        if (upd.length === 1) break;
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    await kv.put('c', 'ignored');
    await kv.put('a', 'a4');
    await done2;
    assert.deepEqual(upd, ['a4']);
  });

  test('many values through a watcher (flow control)', async () => {
    const kv = await kvm.create('many');
    const value = 'v'.repeat(20_000);
    const n = 200;
    const puts: Promise<number>[] = [];
    for (let i = 0; i < n; i++) puts.push(kv.put(`k${i}`, value));
    await Promise.all(puts);
    const w = await kv.watch();
    let count = 0;
    for await (const e of w) {
      assert.equal(e.length, value.length);
      if (++count === n) break;
    }
    assert.equal(count, n);
  });
});

describe('KV buckets on file storage survive a restart', () => {
  test('values, history and watchers after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsnats-kvr-'));
    let server = await startServer({ jetstream: { storeDir: dir } });
    const port = server.port;
    let nc = await connect({ servers: urlOf(server), reconnect: false });
    let kv: KV;
    try {
      kv = await new Kvm(nc).create('keep', { history: 2 });
      await kv.put('a', '1');
      await kv.put('a', '2');
      await kv.put('b', '3');
      await nc.close();
      await server.shutdown();

      server = await startServer({ port, jetstream: { storeDir: dir } });
      nc = await connect({ servers: urlOf(server), reconnect: false });
      kv = await new Kvm(nc).open('keep');
      assert.equal((await kv.get('a'))?.string(), '2');
      assert.equal((await kv.status()).history, 2);
      assert.deepEqual((await collect(await kv.keys())).sort(), ['a', 'b']);
      assert.deepEqual(
        (await collect(await kv.history({ key: 'a' }))).map((e) => e.string()),
        ['1', '2'],
      );
      const w = await kv.watch({ include: 'updates' as const });
      const got: string[] = [];
      const done = (async () => {
        for await (const e of w) {
          got.push(`${e.key}=${e.string()}`);
          break;
        }
      })();
      await new Promise((r) => setTimeout(r, 50));
      await kv.put('c', '4');
      await done;
      assert.deepEqual(got, ['c=4']);
    } finally {
      await nc.close();
      await server.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
