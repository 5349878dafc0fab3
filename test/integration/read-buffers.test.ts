/**
 * Socket read buffers (src/server/read-buffers.ts). Node reads each chunk into a fresh buffer that only a
 * garbage collection frees, and the publish path makes almost no garbage of its own: unless reads go into
 * one shared buffer (plain TCP) or are given back while the input flows (the other connections), a
 * server process grows by most of what it reads (up to V8's external-memory limit) before anything is freed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { StorageType } from '@nats-io/jetstream';
import { READ_RELEASE_BYTES } from '../../src/server/read-buffers.js';
import { closeJetStream, openJetStream, readAll } from '../helpers/jetstream.js';
import { launch } from '../helpers/launcher.js';
import { connect } from '../helpers/raw-conn.js';
import { waitFor } from '../helpers/wait-for.js';

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, 'VmRSS in /proc/<pid>/status');
  return Number(m[1]) * 1024;
}

for (const shared of [true, false]) {
  const how = shared ? 'the shared read buffer' : 'read buffers given back (TSNATS_NO_SHARED_READ_BUFFER=1)';
  test(`a server reading 48 MB of PUBs grows by a few megabytes, not by what it read: ${how}`, {
    skip: process.platform !== 'linux' && 'reads /proc',
  }, async () => {
    // The child inherits the environment as it is at the spawn.
    if (!shared) process.env.TSNATS_NO_SHARED_READ_BUFFER = '1';
    const srv = await launch().finally(() => {
      delete process.env.TSNATS_NO_SHARED_READ_BUFFER;
    });
    const conn = await connect(srv.port);
    try {
      conn.send('CONNECT {"verbose":false}\r\n');
      assert.equal(await conn.drain(), '');
      // One prebuilt 1 MB block sent again and again: what the server reads is all it allocates.
      const one = Buffer.from(`PUB read.buffers 100\r\n${'x'.repeat(100)}\r\n`);
      const perBlock = Math.floor(1_000_000 / one.length);
      const block = Buffer.concat(Array.from({ length: perBlock }, () => one));
      // A first megabyte, so that the publish path's code and state exist before the baseline.
      await conn.sendAsync(block);
      assert.equal(await conn.drain(), '');
      const before = rssBytes(srv.pid);
      for (let i = 0; i < 48; i++) await conn.sendAsync(block);
      assert.equal(await conn.drain(30_000), '');
      const grown = rssBytes(srv.pid) - before;
      // Without the release the process grew by ~35 MB here; with it, by about one release interval.
      assert.ok(
        grown < 4 * READ_RELEASE_BYTES,
        `the server grew by ${(grown / 1048576).toFixed(1)} MiB while it read 48 MB`,
      );
    } finally {
      conn.close();
      await srv.stop();
    }
  });
}

/**
 * Plain TCP reads share one buffer that the next read overwrites; in-process subscribers (here a stream's
 * ingest) get a copy. A burst of distinct PUBs, many per read, is stored intact by both kinds of storage.
 */
for (const storage of [StorageType.Memory, StorageType.File]) {
  test(`a burst of PUBs to a ${storage} stream is stored byte for byte (the shared read buffer is copied)`, async () => {
    const env = await openJetStream();
    const conn = await connect(env.server.port);
    try {
      await env.jsm.streams.add({ name: 'BURST', subjects: ['burst.>'], storage });
      conn.send('CONNECT {"verbose":false}\r\n');
      const total = 5000;
      const payload = (i: number): string => `message ${i} ${'abcdefghij'.repeat(1 + (i % 7))}`;
      const frames = Array.from({ length: total }, (_, i) => {
        const p = payload(i);
        return `PUB burst.${i % 13} ${p.length}\r\n${p}\r\n`;
      });
      await conn.sendAsync(Buffer.from(frames.join(''), 'latin1'));
      assert.equal(await conn.drain(10_000), '');
      await waitFor(
        async () => (await env.jsm.streams.info('BURST')).state.messages === total,
        10_000,
        'the stream to hold every message',
      );
      const msgs = await readAll(env, 'BURST', total);
      for (const m of msgs) {
        const i = m.seq - 1;
        assert.equal(m.subject, `burst.${i % 13}`);
        assert.equal(m.string(), payload(i), `message ${m.seq}`);
      }
    } finally {
      conn.close();
      await closeJetStream(env);
    }
  });
}
