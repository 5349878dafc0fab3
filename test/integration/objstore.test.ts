/**
 * @nats-io/obj 3.4 end to end against tsnats, with the client's feature table at nats-server 2.10
 * (issue 20): objects of every size (empty, one chunk, several MiB in many chunks), their metadata,
 * headers and descriptions, update and rename, links to objects and to buckets, list, delete, watch,
 * seal, bucket status and metadata, on file and memory storage; a file bucket across a restart; a
 * bucket of three replicas on three tsnats servers.
 *
 * An object store is a stream `OBJ_<bucket>` on `$O.<bucket>.C.>` (chunks, one subject per object) and
 * `$O.<bucket>.M.>` (the metadata, one subject per name, rolled up): the client reads metadata with
 * STREAM.MSG.GET last_by_subj, the chunks with an ordered push consumer, and purges by subject.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { JetStreamApiError, StorageType } from '@nats-io/jetstream';
import { type ObjectInfo, type ObjectStore, type ObjectWatchInfo, Objm } from '@nats-io/obj';
import { connect, headers, type NatsConnection, type QueuedIterator } from '@nats-io/transport-node';
import { watchRead } from '../helpers/async.js';
import { closeJetStream, type JsEnv, openJetStream, runOnBoth } from '../helpers/jetstream.js';
import { JsCluster } from '../helpers/js-cluster.js';
import { clusterClient, waitReplicasAgree, whenPlaced } from '../helpers/js-cluster-checks.js';
import { hasReference } from '../helpers/reference.js';
import { waitFor } from '../helpers/wait-for.js';

/** Let the client use 2.10 features against a server that reports 2.9.10. */
function as210(nc: NatsConnection): void {
  (nc as unknown as { features: { update(v: string): void } }).features.update('2.10.0');
}

/** `n` bytes of a pattern that differs from chunk to chunk (a chunk out of order changes the digest). */
function pattern(n: number, seed = 7): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * seed + (i >> 17)) & 0xff;
  return b;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The object's bytes, failing on a missing object. */
async function bytesOf(os: ObjectStore, name: string): Promise<Uint8Array> {
  const b = await os.getBlob(name);
  assert.ok(b !== null, `object ${name} exists`);
  // The client hands back a Buffer or a Uint8Array depending on the chunks: compare as plain bytes.
  return new Uint8Array(b);
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  assert.fail('expected a rejection');
}

/** A watcher's first `first` entries, then `more` after `between` (see helpers/async.ts watchRead). */
function readWatch(
  w: QueuedIterator<ObjectWatchInfo>,
  first: number,
  between: () => Promise<void>,
  more: number,
): Promise<string[][]> {
  return watchRead(
    w,
    first,
    between,
    more,
    (e: ObjectWatchInfo): string => `${e.name}:${e.deleted ? 'deleted' : e.size}`,
  );
}

let env: JsEnv;
let objm: Objm;
before(async () => {
  env = await openJetStream();
  as210(env.nc);
  objm = new Objm(env.nc);
});
after(async () => {
  await closeJetStream(env);
});

for (const storage of [StorageType.File, StorageType.Memory]) {
  describe(`objects on ${storage} storage`, () => {
    const bucket = `sizes-${storage}`;
    let os: ObjectStore;
    before(async () => {
      os = await objm.create(bucket, { storage });
    });

    test('empty, one chunk, and several MiB in 128 KiB chunks, each read back intact', async () => {
      const big = pattern(5 * 1024 * 1024 + 12_345);
      const info = await os.putBlob({ name: 'big' }, big);
      assert.equal(info.size, big.length);
      assert.equal(info.chunks, Math.ceil(big.length / (128 * 1024)));
      assert.match(info.digest, /^SHA-256=/);
      assert.deepEqual(await bytesOf(os, 'big'), big);

      const small = await os.putBlob({ name: 'small.txt' }, enc.encode('hello'));
      assert.deepEqual([small.size, small.chunks], [5, 1]);
      assert.equal(dec.decode(await bytesOf(os, 'small.txt')), 'hello');

      const empty = await os.putBlob({ name: 'empty' }, new Uint8Array(0));
      assert.deepEqual([empty.size, empty.chunks], [0, 0]);
      assert.equal((await bytesOf(os, 'empty')).length, 0);

      // A smaller chunk size of the object's own.
      const odd = pattern(300_001, 13);
      const oi = await os.putBlob({ name: 'odd', options: { max_chunk_size: 64 * 1024 } }, odd);
      assert.equal(oi.chunks, 5);
      assert.deepEqual(await bytesOf(os, 'odd'), odd);

      const got = await os.info('big');
      assert.deepEqual([got?.size, got?.chunks, got?.digest], [info.size, info.chunks, info.digest]);
      assert.equal(await os.info('nothing'), null);
      assert.equal(await os.getBlob('nothing'), null);
    });

    test('putting a name again replaces the object and purges its old chunks', async () => {
      const first = await os.putBlob({ name: 'again' }, pattern(400_000));
      const before = (await os.status()).streamInfo.state.messages;
      const second = await os.putBlob({ name: 'again' }, pattern(10, 3));
      assert.notEqual(second.nuid, first.nuid);
      assert.deepEqual(await bytesOf(os, 'again'), pattern(10, 3));
      // Old: 4 chunks and a metadata message; new: 1 chunk and the metadata message (rolled up).
      assert.equal((await os.status()).streamInfo.state.messages, before - 4 - 1 + 1 + 1);
    });
  });
}

describe('object metadata', () => {
  test('description, metadata and headers; update and rename', async () => {
    const os = await objm.create('meta');
    const h = headers();
    h.set('Content-Type', 'text/plain');
    h.append('X-Tag', 'a');
    h.append('X-Tag', 'b');
    await os.putBlob(
      { name: 'doc', description: 'a document', metadata: { owner: 'ops', v: '1' }, headers: h },
      enc.encode('text'),
    );
    const info = (await os.info('doc')) as ObjectInfo;
    assert.equal(info.description, 'a document');
    assert.deepEqual(info.metadata, { owner: 'ops', v: '1' });
    assert.equal(info.headers?.get('Content-Type'), 'text/plain');
    assert.deepEqual(info.headers?.values('X-Tag'), ['a', 'b']);

    await os.update('doc', { name: 'doc', description: 'changed', metadata: { v: '2' } });
    const up = (await os.info('doc')) as ObjectInfo;
    assert.deepEqual([up.description, up.metadata, up.nuid], ['changed', { v: '2' }, info.nuid]);
    assert.ok(up.revision > info.revision);

    // Rename: the old name's metadata is purged, the chunks stay with the object.
    await os.update('doc', { name: 'renamed' });
    assert.equal(await os.info('doc'), null);
    assert.equal(dec.decode(await bytesOf(os, 'renamed')), 'text');
    await os.putBlob({ name: 'other' }, enc.encode('x'));
    const clash = await rejection(os.update('renamed', { name: 'other' }));
    assert.match(clash.message, /already exists/);
  });

  test('bucket description, metadata, ttl and status; the list of object stores; destroy', async () => {
    const os = await objm.create('status', {
      description: 'images',
      metadata: { team: 'web' },
      ttl: 3_600_000_000_000,
      storage: StorageType.Memory,
    });
    await os.putBlob({ name: 'a' }, pattern(1000));
    const st = await os.status();
    assert.deepEqual(
      [st.bucket, st.description, st.metadata, st.storage, st.replicas, st.sealed, st.compression],
      ['status', 'images', { team: 'web' }, StorageType.Memory, 1, false, false],
    );
    assert.equal(st.ttl, 3_600_000_000_000);
    assert.ok(st.size > 1000);
    assert.deepEqual(st.streamInfo.config.subjects, ['$O.status.C.>', '$O.status.M.>']);
    assert.equal(st.streamInfo.config.allow_direct, true);
    assert.equal(st.streamInfo.config.allow_rollup_hdrs, true);
    assert.equal(st.streamInfo.config.discard, 'new');
    const names: string[] = [];
    for await (const s of objm.list()) names.push(s.bucket);
    assert.ok(names.includes('status'));
    assert.ok(await os.destroy());
    const gone = await rejection(objm.open('status'));
    assert.match(gone.message, /object store not found/);
  });
});

describe('links, list, delete, watch, seal', () => {
  test('a link to an object, to an object in another bucket, to a bucket', async () => {
    const os = await objm.create('links');
    const other = await objm.create('links2');
    const target = await os.putBlob({ name: 'target' }, pattern(200_000));
    const link = await os.link('alias', target);
    assert.deepEqual(link.options?.link, { bucket: 'links', name: 'target' });
    assert.deepEqual(await bytesOf(os, 'alias'), pattern(200_000));

    const far = await other.link('far', target);
    assert.deepEqual(far.options?.link, { bucket: 'links', name: 'target' });
    assert.deepEqual(await bytesOf(other, 'far'), pattern(200_000));

    const toBucket = await other.linkStore('whole', os);
    assert.deepEqual(toBucket.options?.link, { bucket: 'links' });
    assert.match((await rejection(other.get('whole'))).message, /link is a bucket/);

    assert.match((await rejection(os.link('alias2', link))).message, /src object is a link/);
    assert.match((await rejection(os.link('alias', target))).message, /already exists/);
    await os.delete('target');
    const deleted = (await os.info('target')) as ObjectInfo;
    assert.match((await rejection(os.link('late', deleted))).message, /src object is deleted/);
  });

  test('list leaves out deleted objects; delete purges the chunks', async () => {
    const os = await objm.create('listing');
    await os.putBlob({ name: 'a' }, pattern(300_000));
    await os.putBlob({ name: 'b' }, pattern(10));
    await os.putBlob({ name: 'c/d.txt' }, pattern(1));
    assert.deepEqual((await os.list()).map((i) => i.name).sort(), ['a', 'b', 'c/d.txt']);
    const msgs = (await os.status()).streamInfo.state.messages;
    const r = await os.delete('a');
    assert.equal(r.purged, 3);
    // Three chunks purged; the metadata message is replaced by the delete marker (rolled up).
    assert.equal((await os.status()).streamInfo.state.messages, msgs - 3);
    const info = (await os.info('a')) as ObjectInfo;
    assert.deepEqual([info.deleted, info.size, info.chunks], [true, 0, 0]);
    assert.equal(await os.get('a'), null);
    assert.deepEqual((await os.list()).map((i) => i.name).sort(), ['b', 'c/d.txt']);
    assert.deepEqual(await os.delete('never'), { purged: 0, success: false });
    const empty = await objm.create('listing-empty');
    assert.deepEqual(await empty.list(), []);
  });

  test('watch: the current objects, then puts and deletes as they happen', async () => {
    const os = await objm.create('watching');
    await os.putBlob({ name: 'one' }, pattern(5));
    await os.putBlob({ name: 'two' }, pattern(6));
    await os.putBlob({ name: 'one' }, pattern(7));
    const w = await os.watch({ includeHistory: true });
    const [current, later] = await readWatch(
      w,
      2,
      async () => {
        await os.putBlob({ name: 'three' }, pattern(200_000));
        await os.delete('two');
      },
      2,
    );
    assert.deepEqual(current, ['two:6', 'one:7']);
    assert.deepEqual(later, ['three:200000', 'two:deleted']);
    // Without history: only what happens from now on.
    const u = await os.watch();
    const [, updates] = await readWatch(
      u,
      0,
      async () => {
        await os.putBlob({ name: 'four' }, pattern(4));
      },
      1,
    );
    assert.deepEqual(updates, ['four:4']);
  });

  test('seal: the bucket becomes read-only', async () => {
    const os = await objm.create('sealing');
    await os.putBlob({ name: 'kept' }, pattern(150_000));
    const st = await os.seal();
    assert.equal(st.sealed, true);
    assert.equal((await os.status()).sealed, true);
    assert.deepEqual(await bytesOf(os, 'kept'), pattern(150_000));
    const err = await rejection(os.putBlob({ name: 'new' }, pattern(3)));
    assert.ok(err instanceof JetStreamApiError, String(err));
    assert.equal(err.code, 10109);
    assert.equal(err.message, 'invalid operation on sealed stream');
    assert.equal(((await rejection(os.delete('kept'))) as JetStreamApiError).code, 10109);
  });
});

describe('compared with nats-server 2.9.10', () => {
  test('the same object store operations give the same sizes, sequences, stream state and errors', async (t) => {
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
          await p;
          out.push('ok');
        } catch (e) {
          out.push(e instanceof JetStreamApiError ? [e.code, e.message] : (e as Error).message);
        }
      };
      const state = async (os: ObjectStore): Promise<void> => {
        const st = (await os.status()).streamInfo.state;
        out.push([st.messages, st.bytes, st.first_seq, st.last_seq, st.num_subjects, st.num_deleted]);
      };
      try {
        const os = await new Objm(nc).create('cmp', { description: 'd', max_bytes: 2 * 1024 * 1024 });
        for (const [name, size] of [
          ['a', 300_000],
          ['b', 0],
          ['c', 1],
          ['a', 5],
        ] as const) {
          const i = await os.putBlob({ name }, pattern(size));
          out.push([i.size, i.chunks, i.revision, i.digest]);
        }
        await state(os);
        await outcome(os.putBlob({ name: 'huge' }, pattern(3 * 1024 * 1024)));
        await state(os);
        await os.link('l', (await os.info('c')) as ObjectInfo);
        await os.update('c', { name: 'c2', description: 'moved' });
        out.push((await os.list()).map((i) => [i.name, i.size, i.revision]).sort());
        out.push(await os.delete('a'));
        await state(os);
        await os.seal();
        await outcome(os.putBlob({ name: 'z' }, pattern(1)));
        const cfg = (await os.status()).streamInfo.config;
        out.push([
          cfg.subjects,
          cfg.max_bytes,
          cfg.discard,
          cfg.allow_direct,
          cfg.allow_rollup_hdrs,
          cfg.sealed,
        ]);
        return out;
      } finally {
        await nc.close();
      }
    };
    const [ref, ours] = await runOnBoth(run);
    // The scenario reached the limits it is about (the object over max_bytes, the sealed bucket).
    assert.deepEqual(
      [ref[5], ref[10]],
      [
        [10077, 'maximum bytes exceeded'],
        [10109, 'invalid operation on sealed stream'],
      ],
    );
    assert.deepEqual(ours, ref);
  });
});

describe('a file bucket across a restart', () => {
  test('objects, links, metadata and deletions are all there after the restart', async () => {
    const e1 = await openJetStream();
    as210(e1.nc);
    const big = pattern(3 * 1024 * 1024 + 3);
    try {
      const os = await new Objm(e1.nc).create('kept', { metadata: { a: 'b' } });
      await os.putBlob({ name: 'big', metadata: { k: 'v' } }, big);
      await os.putBlob({ name: 'gone' }, pattern(9));
      await os.delete('gone');
      await os.link('alias', (await os.info('big')) as ObjectInfo);
    } finally {
      await closeJetStream(e1, true);
    }
    const e2 = await openJetStream({}, e1.dir);
    try {
      as210(e2.nc);
      const os = await new Objm(e2.nc).open('kept');
      assert.deepEqual(await bytesOf(os, 'big'), big);
      assert.deepEqual(await bytesOf(os, 'alias'), big);
      assert.deepEqual((await os.info('big'))?.metadata, { k: 'v' });
      assert.equal(await os.get('gone'), null);
      assert.deepEqual((await os.list()).map((i) => i.name).sort(), ['alias', 'big']);
      assert.deepEqual((await os.status()).metadata, { a: 'b' });
      await os.putBlob({ name: 'after' }, pattern(77));
      assert.deepEqual(await bytesOf(os, 'after'), pattern(77));
    } finally {
      await closeJetStream(e2);
    }
  });
});

describe('a bucket of three replicas on three tsnats servers', { timeout: 120_000 }, () => {
  let cluster: JsCluster;
  let writer: NatsConnection;
  let reader: NatsConnection | undefined;
  before(async () => {
    cluster = await JsCluster.start(['tsnats', 'tsnats', 'tsnats']);
    ({ nc: writer } = await clusterClient(cluster));
    as210(writer);
  });
  after(async () => {
    await reader?.close().catch(() => {});
    await writer?.close().catch(() => {});
    await cluster?.stop();
  });

  test('put on one server, read on another; list, watch and delete; with one replica down', async () => {
    const os = await whenPlaced(() => new Objm(writer).create('r3', { replicas: 3, metadata: { r: '3' } }));
    const st = await os.status();
    assert.equal(st.replicas, 3);
    assert.equal(st.streamInfo.cluster?.replicas?.length, 2);
    const big = pattern(2 * 1024 * 1024 + 1);
    await os.putBlob({ name: 'big' }, big);
    await os.putBlob({ name: 'small' }, enc.encode('s'));
    // The reads below are served by one-replica consumers, which may sit on a follower still applying the
    // last puts (nats-server places them the same way).
    await waitReplicasAgree(cluster, 'OBJ_r3', 'the bucket replicas to agree');

    // Another client, on the last server only.
    const last = cluster.nodes[2]!;
    reader = await connect({ servers: last.url(), reconnect: false });
    as210(reader);
    const ro = await new Objm(reader).open('r3');
    assert.deepEqual(await bytesOf(ro, 'big'), big);
    assert.deepEqual((await ro.list()).map((i) => i.name).sort(), ['big', 'small']);
    assert.deepEqual((await ro.status()).metadata, { r: '3' });

    // Each read is an ordered consumer of one replica: it has no Raft group, so its server answers the
    // create at once instead of after a campaign of 100 to 800 ms.
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) assert.equal(dec.decode(await bytesOf(ro, 'small')), 's');
    assert.ok(Date.now() - t0 < 2000, `ten reads took ${Date.now() - t0} ms`);

    // A server that leads neither the stream nor the meta group shuts down: the other two still make a
    // quorum, and the one-replica consumers of the client are placed on the servers that are up.
    const leader = (await ro.status()).streamInfo.cluster?.leader ?? '';
    const metaLeaderOf = async (): Promise<string> =>
      ((await cluster.monitor(last.name, '/jsz')).meta_cluster as { leader?: string } | undefined)?.leader ??
      '';
    const metaLeader = await metaLeaderOf();
    const down = cluster.nodes.find((n) => n.name !== leader && n.name !== metaLeader);
    assert.ok(down !== undefined && metaLeader !== '');
    await reader.close();
    reader = undefined;
    await writer.close();
    await down.proc?.stop('SIGTERM');
    down.proc = undefined;
    await waitFor(
      async () => {
        const mc = (await cluster.monitor(metaLeader, '/jsz')).meta_cluster as
          | { replicas?: { name: string; offline?: boolean }[] }
          | undefined;
        return mc?.replicas?.some((r) => r.name === down.name && r.offline === true) ?? false;
      },
      10_000,
      `the meta leader to see ${down.name} offline`,
    );
    writer = await connect({ servers: cluster.urls(), reconnect: false });
    as210(writer);
    const w = await new Objm(writer).open('r3');
    // Ten more ordered consumers: none may be placed on the server that is down (it would never answer).
    for (let i = 0; i < 10; i++) assert.equal(dec.decode(await bytesOf(w, 'small')), 's');
    const watch = await w.watch({ includeHistory: true });
    const [current, later] = await readWatch(
      watch,
      2,
      async () => {
        await w.putBlob({ name: 'late' }, pattern(300_000));
        await w.delete('small');
      },
      2,
    );
    assert.deepEqual(current, [`big:${big.length}`, 'small:1']);
    assert.deepEqual(later, ['late:300000', 'small:deleted']);
    assert.deepEqual(await bytesOf(w, 'late'), pattern(300_000));
    assert.deepEqual(await bytesOf(w, 'big'), big);
  });
});
