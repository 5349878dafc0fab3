// Stream snapshots and restores through the API, as `nats stream backup` / `nats stream restore` (jsm.go)
// drive them (test/helpers/snapshot.ts): every message, the consumers' positions and the stream's state
// come back, for file and memory streams; a snapshot is the stream at the time of the request even while
// publishes and deletes go on; no_consumers; errors and stored bytes compared with nats-server.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { AckPolicy, StorageType } from '@nats-io/jetstream';
import { connect, headers } from '@nats-io/transport-node';
import {
  closeJetStream,
  type JsEnv,
  jsonRequest,
  openJetStream,
  readAll,
  runOnBoth,
} from '../helpers/jetstream.js';
import { JsCluster } from '../helpers/js-cluster.js';
import { clusterClient } from '../helpers/js-cluster-checks.js';
import { hasReference } from '../helpers/reference.js';
import { restoreSnapshot, takeSnapshot } from '../helpers/snapshot.js';
import { waitFor } from '../helpers/wait-for.js';

const TOTAL = 10_000;

function subjectOf(i: number, prefix = 's'): string {
  return `${prefix}.${i % 13}`;
}
function payloadOf(i: number): string {
  return `payload ${i} ${'x'.repeat(i % 50)}`;
}

/** Publish messages 1..count (every 5th with a header), 500 in flight at a time. */
async function fill(js: JetStreamClient, count: number, prefix = 's'): Promise<void> {
  for (let start = 1; start <= count; start += 500) {
    const batch: Promise<unknown>[] = [];
    for (let i = start; i < start + 500 && i <= count; i++) {
      const h = headers();
      if (i % 5 === 0) h.set('X-I', String(i));
      batch.push(js.publish(subjectOf(i, prefix), payloadOf(i), i % 5 === 0 ? { headers: h } : {}));
    }
    await Promise.all(batch);
  }
}

interface StateJson {
  messages: number;
  bytes: number;
  first_seq: number;
  last_seq: number;
  num_deleted?: number;
  num_subjects?: number;
}

async function streamState(env: JsEnv, name: string): Promise<StateJson> {
  return (await jsonRequest(env.nc, `$JS.API.STREAM.INFO.${name}`)).state as StateJson;
}

/** The full round trip for one storage type. */
async function roundTrip(storage: StorageType): Promise<void> {
  const env = await openJetStream();
  try {
    await env.jsm.streams.add({ name: 'S', subjects: ['s.>'], storage });
    await fill(env.js, TOTAL);
    for (const seq of [5, 5000]) await env.jsm.streams.deleteMessage('S', seq);
    // A durable consumer with 300 delivered (sequences 1..301, 5 is deleted), the first 250 acknowledged
    // (ack floor 251), 50 pending.
    await env.jsm.consumers.add('S', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
    const c = await env.js.consumers.get('S', 'D');
    const got: JsMsg[] = [];
    for await (const m of await c.fetch({ max_messages: 300, expires: 5000 })) got.push(m);
    assert.equal(got.length, 300);
    for (const m of got.slice(0, 250)) m.ack();
    await waitFor(async () => (await env.jsm.consumers.info('S', 'D')).ack_floor.stream_seq === 251);
    const before = await env.jsm.consumers.info('S', 'D');

    // The snapshot is the stream as it was at the request: what happens meanwhile is not in it.
    const snapshot = takeSnapshot(env.nc, 'S', { chunkSize: 64 * 1024 });
    const later: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) later.push(env.js.publish('s.later', 'after the snapshot'));
    later.push(env.jsm.streams.deleteMessage('S', 100, true));
    const snap = await snapshot;
    await Promise.all(later);
    assert.equal(snap.response.error, undefined, JSON.stringify(snap.response.error));
    assert.equal(snap.status, undefined);
    assert.ok(snap.chunks > 1, `${snap.chunks} chunks`);
    assert.match(snap.replies[0]!, /^\$JS\.SNAPSHOT\.ACK\.S\.[A-Za-z0-9]+\.65536\.1$/);
    const state = snap.response.state as StateJson;
    assert.equal(state.last_seq, TOTAL);
    assert.equal(state.messages, TOTAL - 2);

    await env.jsm.streams.delete('S');
    const restored = await restoreSnapshot(env.nc, 'S', snap.data, {
      config: snap.response.config,
      state: snap.response.state,
    });
    assert.equal(restored.type, 'io.nats.jetstream.api.v1.stream_create_response');
    assert.equal(restored.error, undefined, JSON.stringify(restored.error));
    const after = await streamState(env, 'S');
    assert.deepEqual(
      { ...after, consumer_count: undefined },
      { ...(restored.state as StateJson), consumer_count: undefined },
    );
    for (const k of ['messages', 'bytes', 'first_seq', 'last_seq', 'num_deleted', 'num_subjects'] as const) {
      assert.equal(after[k], state[k], k);
    }

    // Every message: sequence, subject, payload, headers.
    const msgs = await readAll(env, 'S', TOTAL - 2);
    assert.equal(msgs.length, TOTAL - 2);
    let i = 0;
    for (let seq = 1; seq <= TOTAL; seq++) {
      if (seq === 5 || seq === 5000) continue;
      const m = msgs[i++]!;
      assert.equal(m.seq, seq);
      assert.equal(m.subject, subjectOf(seq));
      assert.equal(m.string(), payloadOf(seq));
      if (seq % 5 === 0) assert.equal(m.headers?.get('X-I'), String(seq));
      else assert.equal(m.headers, undefined);
    }

    // The consumer is back where it was: delivered 300, ack floor 251, 50 pending; it goes on at 302.
    const ci = await env.jsm.consumers.info('S', 'D');
    // (Sequences: the last-activity times are not part of a consumer's stored state, in nats-server either.)
    const seqs = (p: { consumer_seq: number; stream_seq: number }) => [p.consumer_seq, p.stream_seq];
    assert.deepEqual(seqs(ci.ack_floor), seqs(before.ack_floor));
    assert.deepEqual(seqs(ci.delivered), seqs(before.delivered));
    assert.equal(ci.num_ack_pending, 50);
    const next = await (await env.js.consumers.get('S', 'D')).next({ expires: 5000 });
    assert.equal(next?.seq, 302);
    // And the stream takes new messages after its last sequence.
    assert.equal((await env.js.publish('s.new', 'new')).seq, TOTAL + 1);
  } finally {
    await closeJetStream(env);
  }
}

describe('stream snapshot and restore', () => {
  test('file stream: 10,000 messages and a durable consumer come back', () => roundTrip(StorageType.File));
  test('memory stream: 10,000 messages and a durable consumer come back', () =>
    roundTrip(StorageType.Memory));

  test('no_consumers leaves the consumers out; a snapshot restores under a changed config', async () => {
    const env = await openJetStream();
    try {
      await env.jsm.streams.add({ name: 'N', subjects: ['n.>'], storage: StorageType.File });
      await fill(env.js, 50, 'n');
      await env.jsm.consumers.add('N', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
      const advisories: string[] = [];
      env.nc.subscribe('$JS.EVENT.ADVISORY.STREAM.*.N', {
        callback: (_e, m) => {
          // (Stream action advisories match too; they have no client.)
          const a = m.json<{ type: string; stream: string; client?: { acc: string } }>();
          if (a.client?.acc === '$G') advisories.push(`${m.subject.split('.')[4]} ${a.type}`);
        },
      });
      await env.nc.flush();
      const snap = await takeSnapshot(env.nc, 'N', { noConsumers: true });
      await env.jsm.streams.delete('N');
      const config = {
        ...(snap.response.config as Record<string, unknown>),
        storage: 'memory',
        max_msgs: 40,
      };
      const r = await restoreSnapshot(env.nc, 'N', snap.data, { config, state: snap.response.state });
      assert.equal(r.error, undefined, JSON.stringify(r.error));
      const info = await env.jsm.streams.info('N');
      assert.equal(info.config.storage, StorageType.Memory);
      assert.equal(info.state.messages, 40, 'the restored config limits apply');
      assert.equal(info.state.last_seq, 50);
      assert.equal(info.state.consumer_count, 0);
      // nats-server's four advisories, create and complete for each side (and the stream's own).
      const v1 = 'io.nats.jetstream.advisory.v1';
      await waitFor(() => advisories.includes(`RESTORE_COMPLETE ${v1}.restore_complete`), 5000, 'advisories');
      assert.deepEqual(
        advisories.filter((a) => /SNAPSHOT|RESTORE/.test(a)),
        [
          `SNAPSHOT_CREATE ${v1}.snapshot_create`,
          `SNAPSHOT_COMPLETE ${v1}.snapshot_complete`,
          `RESTORE_CREATE ${v1}.restore_create`,
          `RESTORE_COMPLETE ${v1}.restore_complete`,
        ],
      );
    } finally {
      await closeJetStream(env);
    }
  });

  test('flow control: a client that never acks still gets all of a snapshot larger than the 8 MiB window', async () => {
    const env = await openJetStream();
    try {
      await env.jsm.streams.add({ name: 'BIG', subjects: ['big'], storage: StorageType.File });
      const batch: Promise<unknown>[] = [];
      // Random payloads do not compress: ~12 MB of archive.
      for (let i = 0; i < 3000; i++) batch.push(env.js.publish('big', randomBytes(4096)));
      await Promise.all(batch);
      const acked = await takeSnapshot(env.nc, 'BIG');
      const unacked = await takeSnapshot(env.nc, 'BIG', { ack: false });
      assert.ok(acked.data.length > 10 * 1024 * 1024, `${acked.data.length} bytes`);
      assert.equal(unacked.data.length, acked.data.length);
      assert.equal(
        unacked.chunks,
        Math.ceil(acked.data.length / (128 * 1024)),
        'chunk_size defaults to 128 KiB',
      );
      // Both are the same archive apart from the files' times: restore the unacknowledged one.
      await env.jsm.streams.delete('BIG');
      const r = await restoreSnapshot(env.nc, 'BIG', unacked.data, { config: unacked.response.config });
      assert.equal(r.error, undefined, JSON.stringify(r.error));
      assert.equal((r.state as StateJson).messages, 3000);
    } finally {
      await closeJetStream(env);
    }
  });

  test('errors: unknown stream, bad requests, an existing name, a damaged archive, an abandoned upload', async () => {
    const env = await openJetStream();
    try {
      const code = async (subject: string, body?: unknown): Promise<unknown> =>
        ((await jsonRequest(env.nc, subject, body)).error as { err_code?: number } | undefined)?.err_code;
      await env.jsm.streams.add({ name: 'E', subjects: ['e'] });
      assert.equal(await code('$JS.API.STREAM.SNAPSHOT.NOPE', { deliver_subject: 'x' }), 10059);
      assert.equal(await code('$JS.API.STREAM.SNAPSHOT.E'), 10003);
      assert.equal(await code('$JS.API.STREAM.SNAPSHOT.E', { deliver_subject: 'a..b' }), 10015);
      assert.equal(await code('$JS.API.STREAM.RESTORE.E', { config: { name: 'E', subjects: ['e'] } }), 10130);
      assert.equal(await code('$JS.API.STREAM.RESTORE.R', { config: { name: 'R', num_replicas: 3 } }), 10074);
      assert.equal(await code('$JS.API.STREAM.RESTORE.R'), 10003);

      // A damaged archive fails at the end, with 10062.
      const bad = await restoreSnapshot(env.nc, 'R', Buffer.from('not an archive'), {
        config: { name: 'R' },
      });
      assert.equal(bad.type, 'io.nats.jetstream.api.v1.stream_create_response');
      assert.equal((bad.error as { err_code: number }).err_code, 10062);
      assert.equal((await jsonRequest(env.nc, '$JS.API.STREAM.INFO.R')).error !== undefined, true);

      // A snapshot of E restored as R: the names differ (nats-server: "stream names do not match").
      const snap = await takeSnapshot(env.nc, 'E');
      const renamed = await restoreSnapshot(env.nc, 'R', snap.data, {
        config: { name: 'R', subjects: ['r'] },
      });
      assert.match((renamed.error as { description: string }).description, /stream names do not match/);

      // An upload that stops is dropped: after 5 s without a chunk its subject has no listener any more.
      const start = await jsonRequest(env.nc, '$JS.API.STREAM.RESTORE.R', { config: { name: 'R' } });
      const deliver = start.deliver_subject as string;
      assert.match(deliver, /^\$JS\.SNAPSHOT\.RESTORE\.R\./);
      await env.nc.request(deliver, snap.data.subarray(0, 10), { timeout: 2000 });
      const sublist = env.server.globalAccount.sublist;
      assert.equal(sublist.hasInterest(deliver), true);
      await waitFor(() => !sublist.hasInterest(deliver), 9000, 'the abandoned restore to unsubscribe');
    } finally {
      await closeJetStream(env);
    }
  });
});

describe('snapshot and restore compared with nats-server -js', {
  skip: !hasReference() && 'nats-server not on PATH',
}, () => {
  test('the same error codes and response shapes', async () => {
    const run = async (port: number): Promise<unknown[]> => {
      const nc = await connect({ servers: `127.0.0.1:${port}` });
      try {
        const out: unknown[] = [];
        const ask = async (subject: string, body?: unknown): Promise<void> => {
          const r = await jsonRequest(nc, subject, body);
          const e = r.error as { err_code?: number } | undefined;
          out.push(e?.err_code ?? Object.keys(r).sort().join(','));
        };
        await ask('$JS.API.STREAM.CREATE.S', { name: 'S', subjects: ['s.>'], storage: 'file' });
        await ask('$JS.API.STREAM.SNAPSHOT.NOPE', { deliver_subject: 'x' });
        await ask('$JS.API.STREAM.SNAPSHOT.S');
        await ask('$JS.API.STREAM.SNAPSHOT.S', { deliver_subject: '' });
        await ask('$JS.API.STREAM.SNAPSHOT.S', { deliver_subject: 'a..b' });
        await ask('$JS.API.STREAM.SNAPSHOT.S', '{"deliver_subject":');
        await ask('$JS.API.STREAM.RESTORE.S', { config: { name: 'S', subjects: ['s.>'] } });
        await ask('$JS.API.STREAM.RESTORE.S');
        await ask('$JS.API.STREAM.RESTORE.S', '{"config":');
        await ask('$JS.API.STREAM.RESTORE.R', { config: { name: 'R', subjects: ['r'] } });
        return out;
      } finally {
        await nc.close();
      }
    };
    const [theirs, ours] = await runOnBoth(run);
    assert.deepEqual(ours, theirs);
  });

  test('state.bytes of file and memory streams: the same figures for the same messages', async () => {
    const run = async (port: number): Promise<number[]> => {
      const nc = await connect({ servers: `127.0.0.1:${port}` });
      try {
        const out: number[] = [];
        for (const storage of ['file', 'memory']) {
          const name = storage === 'file' ? 'BF' : 'BM';
          const sub = name.toLowerCase();
          await jsonRequest(nc, `$JS.API.STREAM.CREATE.${name}`, { name, subjects: [`${sub}.>`], storage });
          const h = headers();
          h.set('A', 'b');
          await nc.request(`${sub}.1`, 'hello', { timeout: 2000 });
          await nc.request(`${sub}.22`, 'x'.repeat(100), { timeout: 2000, headers: h });
          await nc.request(`${sub}.333`, '', { timeout: 2000 });
          out.push(((await jsonRequest(nc, `$JS.API.STREAM.INFO.${name}`)).state as StateJson).bytes);
        }
        return out;
      } finally {
        await nc.close();
      }
    };
    const [theirs, ours] = await runOnBoth(run);
    assert.deepEqual(ours, theirs);
    assert.notEqual(ours[0], ours[1], 'the two stores count differently');
  });

  test("nats-server's own snapshot is received by the helper, and refused by tsnats with a clear error", async () => {
    let archive: Buffer | undefined;
    let meta: { config?: unknown; state?: unknown } = {};
    await runOnBoth(async (port) => {
      const nc = await connect({ servers: `127.0.0.1:${port}` });
      try {
        if (archive === undefined) {
          await jsonRequest(nc, '$JS.API.STREAM.CREATE.G', { name: 'G', subjects: ['g'], storage: 'file' });
          for (let i = 0; i < 20; i++) await nc.request('g', `m${i}`, { timeout: 2000 });
          const snap = await takeSnapshot(nc, 'G');
          assert.equal(snap.response.error, undefined);
          assert.ok(snap.data.length > 0);
          archive = snap.data;
          meta = { config: snap.response.config, state: snap.response.state };
          return;
        }
        const r = await restoreSnapshot(nc, 'G', archive, meta);
        assert.equal((r.error as { err_code: number }).err_code, 10062);
        assert.match((r.error as { description: string }).description, /not a tsnats snapshot/);
      } finally {
        await nc.close();
      }
    });
  });
});

describe('snapshot and restore with clustered JetStream', { timeout: 120_000 }, () => {
  test('are refused with a clear error rather than left to time out', async () => {
    const cluster = await JsCluster.start(['tsnats', 'tsnats', 'tsnats']);
    const { nc, jsm } = await clusterClient(cluster);
    try {
      await jsm.streams.add({ name: 'C', subjects: ['c'], num_replicas: 1 });
      const snap = await jsonRequest(nc, '$JS.API.STREAM.SNAPSHOT.C', { deliver_subject: 'x' });
      assert.equal(snap.type, 'io.nats.jetstream.api.v1.stream_snapshot_response');
      assert.equal((snap.error as { err_code: number }).err_code, 10064);
      assert.match((snap.error as { description: string }).description, /clustered JetStream/);
      const restore = await jsonRequest(nc, '$JS.API.STREAM.RESTORE.R', { config: { name: 'R' } });
      assert.equal(restore.type, 'io.nats.jetstream.api.v1.stream_restore_response');
      assert.equal((restore.error as { err_code: number }).err_code, 10062);
    } finally {
      await nc.close();
      await cluster.stop();
    }
  });
});
