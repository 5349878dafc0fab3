/**
 * Stream `compression` (nats-server 2.10, issue 20): "s2" stores a file stream's sealed blocks compressed
 * (store/filestore/compress.ts). With the current @nats-io/jetstream client told it talks to a 2.10 server:
 * the block files on disk shrink, every message comes back intact across restarts (also after deletes and
 * erases in compressed blocks), stream info reports the setting, snapshots and restores of a compressed
 * stream work, and the errors are nats-server 2.10.29's (StoreCompression.UnmarshalJSON refuses anything
 * but "s2" and "none", which the API answers as 10025 "invalid JSON"; memory streams and updates accept it).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  type JetStreamClient,
  jetstream,
  jetstreamManager,
  StorageType,
  StoreCompression,
} from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { closeJetStream, type JsEnv, jsonRequest, openJetStream, readAll } from '../helpers/jetstream.js';
import { restoreSnapshot, takeSnapshot } from '../helpers/snapshot.js';
import { waitFor } from '../helpers/wait-for.js';

/** Let the client use 2.10 features against a server that reports 2.9.10. */
function as210(nc: NatsConnection): void {
  (nc as unknown as { features: { update(v: string): void } }).features.update('2.10.0');
}

async function open210(dir?: string): Promise<JsEnv> {
  const env = await openJetStream({}, ...(dir === undefined ? [] : [dir]));
  as210(env.nc);
  env.jsm = await jetstreamManager(env.nc);
  env.js = jetstream(env.nc);
  return env;
}

/** Close the server and start it again on the same store directory. */
async function restart(env: JsEnv): Promise<JsEnv> {
  await closeJetStream(env, true);
  return open210(env.dir);
}

/**
 * max_bytes makes the file store's blocks max_bytes / 4 (nats-server's dynamic block size; tsnats has no
 * block size setting of its own), so 2 MiB gives 512 KiB blocks and a few thousand messages fill several.
 */
const MAX_BYTES = 2 * 1024 * 1024;
const COUNT = 6000;

function subjectOf(i: number, prefix: string): string {
  return `${prefix}.${i % 7}`;
}
function payloadOf(i: number): string {
  return JSON.stringify({
    order: i,
    customer: `customer-${i % 97}`,
    items: ['apple', 'pear'],
    note: 'n'.repeat(i % 120),
  });
}

/** Publish messages 1..count (every 4th with headers), 500 in flight at a time. */
async function fill(js: JetStreamClient, prefix: string, count = COUNT): Promise<void> {
  for (let start = 1; start <= count; start += 500) {
    const batch: Promise<unknown>[] = [];
    for (let i = start; i < start + 500 && i <= count; i++) {
      if (i % 4 === 0) {
        const h = headers();
        h.set('X-Order', String(i));
        batch.push(js.publish(subjectOf(i, prefix), payloadOf(i), { headers: h }));
      } else batch.push(js.publish(subjectOf(i, prefix), payloadOf(i)));
    }
    await Promise.all(batch);
  }
}

/** Check that the stream holds exactly messages 1..count minus `gone`, each intact. */
async function checkAll(env: JsEnv, stream: string, prefix: string, gone: Set<number> = new Set()) {
  const msgs = await readAll(env, stream, COUNT - gone.size);
  assert.equal(msgs.length, COUNT - gone.size);
  let k = 0;
  for (let seq = 1; seq <= COUNT; seq++) {
    if (gone.has(seq)) continue;
    const m = msgs[k++]!;
    assert.equal(m.seq, seq);
    assert.equal(m.subject, subjectOf(seq, prefix));
    assert.equal(m.string(), payloadOf(seq));
    if (seq % 4 === 0) assert.equal(m.headers?.get('X-Order'), String(seq));
    else assert.equal(m.headers, undefined, `no headers on ${seq}`);
  }
}

function msgsDir(env: JsEnv, stream: string): string {
  return join(env.dir, 'jetstream', '$G', 'streams', stream, 'msgs');
}
function blockFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.blk'))
    .sort();
}
const isCompressed = (path: string): boolean => readFileSync(path).toString('latin1', 0, 4) === 'TSNZ';
const diskBytes = (dir: string): number =>
  blockFiles(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
/** Every block but the active (last) one is compressed. */
const sealedCompressed = (dir: string): boolean =>
  blockFiles(dir)
    .slice(0, -1)
    .every((f) => isCompressed(join(dir, f)));

function errOf(r: Record<string, unknown>): unknown {
  return r.error;
}

describe('stream compression: s2 on a file stream', () => {
  test('blocks on disk shrink; every message survives restarts, deletes and erases in compressed blocks', async () => {
    let env = await open210();
    try {
      const c = await env.jsm.streams.add({
        name: 'C',
        subjects: ['c.>'],
        storage: StorageType.File,
        compression: StoreCompression.S2,
        max_bytes: MAX_BYTES,
      });
      assert.equal(c.config.compression, 's2');
      const p = await env.jsm.streams.add({ name: 'P', subjects: ['p.>'], max_bytes: MAX_BYTES });
      assert.equal(p.config.compression, 'none', '2.10 always writes compression');
      await fill(env.js, 'c');
      await fill(env.js, 'p');

      const cdir = msgsDir(env, 'C');
      const pdir = msgsDir(env, 'P');
      assert.ok(blockFiles(cdir).length >= 3, `${blockFiles(cdir).length} blocks`);
      await waitFor(() => sealedCompressed(cdir), 10_000, 'sealed blocks compressed');
      assert.ok(!isCompressed(join(cdir, blockFiles(cdir).at(-1)!)), 'the active block is not');
      assert.ok(blockFiles(pdir).every((f) => !isCompressed(join(pdir, f))));
      assert.ok(diskBytes(cdir) < diskBytes(pdir) * 0.6, `${diskBytes(cdir)} < 0.6 x ${diskBytes(pdir)}`);
      // Accounting is by message size, compressed or not (as nats-server).
      const [ci, pi] = [await env.jsm.streams.info('C'), await env.jsm.streams.info('P')];
      assert.equal(ci.state.bytes, pi.state.bytes);
      assert.equal(ci.state.messages, COUNT);
      await checkAll(env, 'C', 'c');

      env = await restart(env);
      const after = await env.jsm.streams.info('C');
      assert.equal(after.config.compression, 's2');
      assert.deepEqual({ ...after.state, consumer_count: 0 }, { ...ci.state, consumer_count: 0 });
      await checkAll(env, 'C', 'c');

      // Deletes in compressed blocks: plain ones (tombstones) and erases (the block is rewritten).
      const first = join(cdir, blockFiles(cdir)[0]!);
      assert.ok(isCompressed(first));
      const gone = new Set([1, 2, 500, 1001, 1500]);
      for (const seq of gone) await env.jsm.streams.deleteMessage('C', seq, seq % 2 === 0);
      assert.ok(isCompressed(first), 'still compressed after an erase');
      await checkAll(env, 'C', 'c', gone);

      env = await restart(env);
      const st = (await env.jsm.streams.info('C')).state;
      assert.equal(st.messages, COUNT - gone.size);
      assert.equal(st.first_seq, 3);
      assert.equal(st.last_seq, COUNT);
      assert.equal(st.num_deleted, gone.size - 2);
      await checkAll(env, 'C', 'c', gone);
      assert.equal((await env.js.publish('c.new', 'after')).seq, COUNT + 1);
    } finally {
      await closeJetStream(env);
    }
  });

  test('snapshot and restore of a compressed stream (as file and as memory)', async () => {
    const env = await open210();
    try {
      await env.jsm.streams.add({
        name: 'SNAP',
        subjects: ['snap.>'],
        compression: StoreCompression.S2,
        max_bytes: MAX_BYTES,
      });
      await fill(env.js, 'snap');
      await env.jsm.streams.deleteMessage('SNAP', 7, false);
      const dir = msgsDir(env, 'SNAP');
      await waitFor(() => sealedCompressed(dir), 10_000, 'sealed blocks compressed');
      const snap = await takeSnapshot(env.nc, 'SNAP');
      assert.equal(snap.response.error, undefined, JSON.stringify(snap.response.error));
      assert.equal((snap.response.config as { compression: string }).compression, 's2');
      const state = snap.response.state as { messages: number; bytes: number; last_seq: number };

      for (const storage of ['file', 'memory']) {
        await env.jsm.streams.delete('SNAP');
        const config = { ...(snap.response.config as Record<string, unknown>), storage };
        const r = await restoreSnapshot(env.nc, 'SNAP', snap.data, { config, state: snap.response.state });
        assert.equal(r.error, undefined, JSON.stringify(r.error));
        const info = await env.jsm.streams.info('SNAP');
        assert.equal(info.config.compression, 's2');
        assert.equal(info.state.messages, state.messages);
        // (A memory stream counts a message's bytes its own way, as in nats-server.)
        if (storage === 'file') assert.equal(info.state.bytes, state.bytes);
        assert.equal(info.state.last_seq, state.last_seq);
        await checkAll(env, 'SNAP', 'snap', new Set([7]));
      }
    } finally {
      await closeJetStream(env);
    }
  });

  test('changing compression on update is accepted (as 2.10); blocks sealed afterwards follow it', async () => {
    let env = await open210();
    try {
      await env.jsm.streams.add({ name: 'U', subjects: ['u.>'], max_bytes: MAX_BYTES });
      await fill(env.js, 'u', 3000);
      const dir = msgsDir(env, 'U');
      assert.ok(blockFiles(dir).every((f) => !isCompressed(join(dir, f))));
      const up = await env.jsm.streams.update('U', { compression: StoreCompression.S2 });
      assert.equal(up.config.compression, 's2');
      await waitFor(() => sealedCompressed(dir), 10_000, 'sealed blocks compressed after the update');
      const off = await env.jsm.streams.update('U', { compression: StoreCompression.None });
      assert.equal(off.config.compression, 'none');
      env = await restart(env);
      assert.equal((await env.jsm.streams.info('U')).config.compression, 'none');
      const msgs = await readAll(env, 'U', 3000);
      assert.equal(msgs.length, 3000);
      for (const m of msgs) assert.equal(m.string(), payloadOf(m.seq));
    } finally {
      await closeJetStream(env);
    }
  });
});

describe('stream compression: the API as nats-server 2.10.29', () => {
  test('values other than "s2" and "none" are invalid JSON (10025); memory streams accept s2', async () => {
    const env = await open210();
    try {
      const invalidJson = { code: 400, err_code: 10025, description: 'invalid JSON' };
      for (const compression of ['zstd', 'S2', '', null, 1, true]) {
        const r = await jsonRequest(env.nc, '$JS.API.STREAM.CREATE.E', { name: 'E', compression });
        assert.deepEqual(errOf(r), invalidJson, `compression ${JSON.stringify(compression)}`);
      }
      // Absent is "none".
      const plain = await jsonRequest(env.nc, '$JS.API.STREAM.CREATE.E', { name: 'E' });
      assert.equal((plain.config as { compression: string }).compression, 'none');
      const bad = await jsonRequest(env.nc, '$JS.API.STREAM.UPDATE.E', { name: 'E', compression: 'lz4' });
      assert.deepEqual(errOf(bad), invalidJson);
      // Explicit "none" is the same config, so creating again is idempotent.
      const again = await jsonRequest(env.nc, '$JS.API.STREAM.CREATE.E', { name: 'E', compression: 'none' });
      assert.equal(errOf(again), undefined);

      // 2.10 does not check compression against the storage type: a memory stream keeps and reports it.
      const mem = await env.jsm.streams.add({
        name: 'M',
        subjects: ['m'],
        storage: StorageType.Memory,
        compression: StoreCompression.S2,
      });
      assert.equal(mem.config.compression, 's2');
      await env.js.publish('m', 'x');
      assert.equal((await env.jsm.streams.getMessage('M', { seq: 1 }))?.string(), 'x');
      // Key order as Go writes it: compression after sources, before first_seq / allow_direct.
      const raw = await jsonRequest(env.nc, '$JS.API.STREAM.INFO.M');
      const keys = Object.keys(raw.config as object);
      assert.equal(keys[keys.indexOf('compression') - 1], 'duplicate_window');
      assert.equal(keys[keys.indexOf('compression') + 1], 'allow_direct');
    } finally {
      await closeJetStream(env);
    }
  });
});
