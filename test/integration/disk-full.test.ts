/**
 * A file stream on a disk that fills up, with the unchanged @nats-io/jetstream client: tsnats' store
 * directory on a tiny tmpfs. Publishes are refused (10077 with the disk error, as nats-server answers a
 * failed store), every acknowledged message stays readable with the right count, deletes and purge still
 * work, and publishing works again once space is freed; `max_file_store` below the free space refuses
 * with 10023 before the disk is full. Mounting needs root (CI runs as root in a container); where it is
 * not permitted the tests skip.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  DeliverPolicy,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  StorageType,
} from '@nats-io/jetstream';
import type { ServerConfig } from '../../src/index.js';
import { closeJetStream, type JsEnv, openJetStream } from '../helpers/jetstream.js';

const PAYLOAD = 1000;

/** A `size` tmpfs on a fresh directory, or why it cannot be mounted here. */
function mountTmpfs(size: string): { dir: string } | { skip: string } {
  if (process.platform !== 'linux') return { skip: 'tmpfs mounts need Linux' };
  if (process.getuid?.() !== 0) return { skip: 'mounting a tmpfs needs root' };
  const dir = mkdtempSync(join(tmpdir(), 'tsnats-diskfull-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `mount -t tmpfs not permitted here: ${String(e).split('\n')[0]}` };
  }
  return { dir };
}

function unmount(dir: string): void {
  execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  rmSync(dir, { recursive: true, force: true });
}

const probe = mountTmpfs('64k');
const skip = 'skip' in probe ? probe.skip : false;
if (!('skip' in probe)) unmount(probe.dir);

function payload(seq: number): Uint8Array {
  return Buffer.from(`${seq}:`.padEnd(PAYLOAD, String.fromCharCode(97 + (seq % 26))));
}

/** Publish until the server refuses; the number acknowledged and the refusal. */
async function fillUntilRefused(js: JetStreamClient, first: number): Promise<[number, JetStreamApiError]> {
  for (let seq = first; ; seq++) {
    try {
      const ack = await js.publish('s.x', payload(seq));
      assert.equal(ack.seq, seq, 'no sequence skipped by a refused publish');
    } catch (e) {
      assert.ok(e instanceof JetStreamApiError, String(e));
      return [seq - first, e];
    }
    assert.ok(seq < 100_000, 'the disk never filled');
  }
}

/** Every message in [first, last] except `gone` reads back by sequence, and an ordered consumer sees them all. */
async function assertReadable(
  env: JsEnv,
  first: number,
  last: number,
  gone: ReadonlySet<number> = new Set(),
): Promise<void> {
  const want: number[] = [];
  for (let seq = first; seq <= last; seq++) {
    const m = await env.jsm.streams.getMessage('S', { seq });
    if (gone.has(seq)) {
      assert.equal(m, null, `seq ${seq} was deleted`);
      continue;
    }
    assert.ok(m !== null, `seq ${seq} is readable`);
    assert.deepEqual(Buffer.from(m.data), Buffer.from(payload(seq)), `seq ${seq}`);
    want.push(seq);
  }
  const c = await env.js.consumers.get('S', {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: first,
  });
  const got: number[] = [];
  const it = await c.fetch({ max_messages: want.length, expires: 5000 });
  for await (const m of it) {
    assert.deepEqual(Buffer.from(m.data), Buffer.from(payload(m.seq)));
    got.push(m.seq);
    if (got.length === want.length) break;
  }
  assert.deepEqual(got, want, 'a consumer fetches every stored message');
  await c.delete();
}

async function messages(jsm: JetStreamManager): Promise<{ messages: number; last_seq: number }> {
  const { state } = await jsm.streams.info('S');
  return { messages: state.messages, last_seq: state.last_seq };
}

describe('JetStream file store on a full disk (tmpfs)', { skip }, () => {
  let mnt = '';
  before(() => {
    const m = mountTmpfs('2m');
    assert.ok('dir' in m, 'mountable (probed)');
    mnt = m.dir;
  });
  after(() => {
    if (mnt !== '') unmount(mnt);
  });

  const config = (maxFile: number): ServerConfig => ({ jetstream: { storeDir: join(mnt, 'js'), maxFile } });

  test('refused when full; every acknowledged message readable with the right count; recovers once space is freed', async () => {
    const ballast = join(mnt, 'ballast');
    writeFileSync(ballast, Buffer.alloc(512 * 1024));
    let env = await openJetStream(config(1024 ** 3), join(mnt, 'js'));
    try {
      await env.jsm.streams.add({ name: 'S', subjects: ['s.>'], storage: StorageType.File });
      const [acked, err] = await fillUntilRefused(env.js, 1);
      assert.ok(acked > 100, `${acked} acknowledged before the disk filled`);
      assert.equal(err.code, 10077, err.message);
      assert.match(err.message, /no space left on device/);
      // Still refused, and a refused publish is never counted.
      await assert.rejects(
        env.js.publish('s.x', payload(acked + 1)),
        (e) => (e as JetStreamApiError).code === 10077,
      );
      assert.deepEqual(await messages(env.jsm), { messages: acked, last_seq: acked });
      await assertReadable(env, 1, acked);

      // Deletes work on the full disk.
      assert.equal(await env.jsm.streams.deleteMessage('S', 1, false), true);
      assert.equal(await env.jsm.streams.deleteMessage('S', 10), true);
      assert.deepEqual(await messages(env.jsm), { messages: acked - 2, last_seq: acked });

      // Space freed: publishing works again, with the next sequence.
      rmSync(ballast);
      assert.equal((await env.js.publish('s.x', payload(acked + 1))).seq, acked + 1);
      assert.deepEqual(await messages(env.jsm), { messages: acked - 1, last_seq: acked + 1 });

      // A restart finds the same stream (the deletes made on the full disk included).
      await closeJetStream(env, true);
      env = await openJetStream(config(1024 ** 3), join(mnt, 'js'));
      assert.deepEqual(await messages(env.jsm), { messages: acked - 1, last_seq: acked + 1 });
      await assertReadable(env, 2, acked + 1, new Set([10]));

      // Fill again, then purge on the full disk: the space comes back and the sequence goes on.
      const [more, err2] = await fillUntilRefused(env.js, acked + 2);
      assert.equal(err2.code, 10077);
      const total = acked + 1 + more;
      assert.deepEqual(await messages(env.jsm), { messages: total - 2, last_seq: total });
      await assertReadable(env, total - 20, total);
      const purged = await env.jsm.streams.purge('S');
      assert.equal(purged.purged, total - 2);
      assert.equal((await env.js.publish('s.x', payload(total + 1))).seq, total + 1);
      assert.deepEqual(await messages(env.jsm), { messages: 1, last_seq: total + 1 });
      await env.jsm.streams.delete('S');
    } finally {
      await closeJetStream(env, true);
      rmSync(join(mnt, 'js'), { recursive: true, force: true });
      rmSync(ballast, { force: true });
    }
  });

  test('max_file_store below the free space refuses with 10023 before the disk is full', async () => {
    const max = 256 * 1024;
    const env = await openJetStream(config(max), join(mnt, 'js'));
    try {
      await env.jsm.streams.add({ name: 'S', subjects: ['s.>'], storage: StorageType.File });
      const [acked, err] = await fillUntilRefused(env.js, 1);
      assert.equal(err.code, 10023, err.message);
      const { state } = await env.jsm.streams.info('S');
      assert.equal(state.messages, acked);
      // nats-server's check is "used > max" before storing: the message that crossed the limit was the last.
      // A file stream counts nats-server's record size (fileStoreMsgSize): 22 + subject + payload + 8.
      const size = 22 + 's.x'.length + PAYLOAD + 8;
      assert.ok(state.bytes > max && state.bytes - size <= max, `${state.bytes} bytes stored`);
      const s = statfsSync(mnt);
      assert.ok(s.bavail * s.bsize > 1024 * 1024, 'the disk is far from full');
      await assertReadable(env, acked - 20, acked);
      await env.jsm.streams.delete('S');
    } finally {
      await closeJetStream(env, true);
      rmSync(join(mnt, 'js'), { recursive: true, force: true });
    }
  });
});
