import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Server } from '../../src/index.js';
import { type RunResult, runProcess } from '../helpers/launcher.js';
import { startServer, urlOf } from '../helpers/server.js';

/** Debian's nats.go sources (golang-github-nats-io-go-nats-dev), built in GOPATH mode like the benchmark. */
const GOPATH = '/usr/share/gocode';
const SOURCE = fileURLToPath(new URL('../../../test/fixtures/natsgo/main.go', import.meta.url));

function haveGo(): boolean {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
  } catch {
    return false;
  }
  return existsSync(join(GOPATH, 'src/github.com/nats-io/nats.go'));
}

function run(bin: string, url: string): Promise<RunResult> {
  return runProcess(bin, [url], { timeoutMs: 60000 });
}

describe('nats.go JetStream client', {
  skip: !haveGo() && 'go or the nats.go sources are not installed',
}, () => {
  let dir: string;
  let bin: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsnats-natsgo-'));
    bin = join(dir, 'natsgo-js');
    execFileSync('go', ['build', '-o', bin, SOURCE], {
      env: { ...process.env, GO111MODULE: 'off', GOPATH, GOFLAGS: '', GOCACHE: join(dir, 'cache') },
      stdio: 'pipe',
      timeout: 300000,
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('streams, publish acks, pull and push consumers, key-value', async () => {
    let server: Server | undefined;
    const store = mkdtempSync(join(tmpdir(), 'tsnats-natsgo-js-'));
    try {
      server = await startServer({ jetstream: { storeDir: store } });
      const r = await run(bin, urlOf(server));
      assert.equal(r.code, 0, r.output);
      assert.deepEqual(r.output.trim().split('\n'), ['OK streams', 'OK pull', 'OK push', 'OK kv']);
    } finally {
      await server?.shutdown();
      rmSync(store, { recursive: true, force: true });
    }
  });
});
