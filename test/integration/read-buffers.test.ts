/**
 * Socket read buffers are given back while a publisher's input flows (src/server/read-buffers.ts). Node
 * reads each chunk into a fresh buffer that only a garbage collection frees, and the publish path makes
 * almost no garbage of its own: without the release, a server process grows by most of what it reads
 * (up to V8's external-memory limit) before anything is freed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { READ_RELEASE_BYTES } from '../../src/server/read-buffers.js';
import { launch } from '../helpers/launcher.js';
import { connect } from '../helpers/raw-conn.js';

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, 'VmRSS in /proc/<pid>/status');
  return Number(m[1]) * 1024;
}

test('a server reading 48 MB of PUBs grows by a few megabytes, not by what it read', {
  skip: process.platform !== 'linux' && 'reads /proc',
}, async () => {
  const srv = await launch();
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
