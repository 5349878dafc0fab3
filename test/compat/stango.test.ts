/**
 * The Go NATS Streaming client (stan.go) against tsnats. stan.go and gogo/protobuf are not Debian packages:
 * the test runs when STAN_GO_GOPATH names a GOPATH holding github.com/nats-io/stan.go and
 * github.com/gogo/protobuf (nats.go and nuid come from Debian's /usr/share/gocode), and is skipped
 * otherwise.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../helpers/launcher.js';
import { startStreaming } from '../helpers/streaming.js';

const DEBIAN_GOPATH = '/usr/share/gocode';
const STAN_GOPATH = process.env.STAN_GO_GOPATH ?? '';
const SOURCE = fileURLToPath(new URL('../../../test/fixtures/stango/main.go', import.meta.url));

function haveStanGo(): boolean {
  if (STAN_GOPATH === '') return false;
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
  } catch {
    return false;
  }
  return (
    existsSync(join(STAN_GOPATH, 'src/github.com/nats-io/stan.go')) &&
    existsSync(join(STAN_GOPATH, 'src/github.com/gogo/protobuf')) &&
    existsSync(join(DEBIAN_GOPATH, 'src/github.com/nats-io/nats.go'))
  );
}

describe('stan.go (Go NATS Streaming client)', {
  skip: !haveStanGo() && 'set STAN_GO_GOPATH to a GOPATH with stan.go and gogo/protobuf',
}, () => {
  let dir: string;
  let bin: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsnats-stango-'));
    bin = join(dir, 'stango');
    execFileSync('go', ['build', '-o', bin, SOURCE], {
      env: {
        ...process.env,
        GO111MODULE: 'off',
        GOPATH: `${STAN_GOPATH}:${DEBIAN_GOPATH}`,
        GOFLAGS: '',
        GOCACHE: join(dir, 'cache'),
      },
      stdio: 'pipe',
      timeout: 300000,
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('publish, durable with manual acks, close and resume, unsubscribe, queue group', async () => {
    const s = await startStreaming();
    try {
      const r = await runProcess(bin, [s.url], { timeoutMs: 60000 });
      assert.equal(r.code, 0, r.output);
      assert.equal(r.stdout.trim(), 'OK');
    } finally {
      await s.cleanup();
    }
  });
});
