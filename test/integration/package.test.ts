/**
 * The package as a user gets it: `npm pack`, installed into a fresh project, where `tsnats --version` runs and
 * a node:test file starts a JetStream server with `tsnats/testing`, uses it through `@nats-io/jetstream` and
 * stops it; so does examples/testing/node-test.test.mjs. The tarball has the compiled code, types and the
 * command, and no tests.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TSNATS_VERSION } from '../../src/server/version.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function run(
  cmd: string,
  args: string[],
  cwd: string,
  timeoutMs = 120_000,
): Promise<{ code: number; stdout: string; out: string }> {
  return new Promise((resolve) => {
    // A node:test run inside a test file is skipped unless it does not know it is one.
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    execFile(cmd, args, { cwd, env, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, out: `${stdout}${stderr}` });
    });
  });
}

const CONSUMER_TEST = `
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { existsSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { startServer } from 'tsnats/testing';

test('a JetStream server from tsnats/testing', async () => {
  const srv = await startServer({ jetstream: true });
  const nc = await connect({ servers: srv.url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
  const ack = await jetstream(nc).publish('orders.1', 'hello');
  assert.equal(ack.seq, 1);
  await nc.close();
  await srv.stop();
  assert.equal(existsSync(srv.storeDir), false);
});
`;

test('npm pack, install into a fresh project, run the command and a test there', {
  timeout: 300_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsnats-pack-'));
  try {
    // dist/ is built (npm test builds first); no prepare script here, it would rebuild under running tests.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir, '--json'], ROOT);
    assert.equal(packed.code, 0, packed.out);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball !== undefined, 'a tarball');
    const files = (
      JSON.parse(
        // stdout is the JSON report (npm may print notices around it).
        packed.stdout.slice(packed.stdout.indexOf('[\n'), packed.stdout.lastIndexOf(']') + 1),
      ) as { files: { path: string }[] }[]
    )[0]!.files.map((f) => f.path);
    assert.ok(files.includes('bin/tsnats'));
    assert.ok(
      files.includes('dist/tsnats.cjs') && files.includes('dist/tsnats.cjs.cache'),
      'the bundle and its code cache',
    );
    assert.ok(files.includes('dist/src/index.js') && files.includes('dist/src/index.d.ts'));
    assert.ok(files.includes('dist/src/testing.js') && files.includes('dist/src/testing-child.js'));
    assert.deepEqual(
      files.filter((f) => f.startsWith('test/') || f.startsWith('dist/test/') || f.startsWith('.ci/')),
      [],
      'no tests or CI files',
    );

    const project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', type: 'module', private: true }),
    );
    const installed = await run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        join(dir, tarball),
        '@nats-io/transport-node@^3',
        '@nats-io/jetstream@^3',
      ],
      project,
    );
    assert.equal(installed.code, 0, installed.out);

    const version = await run(
      join(project, 'node_modules', '.bin', 'tsnats'),
      ['--version'],
      project,
      30_000,
    );
    assert.equal(version.code, 0, version.out);
    assert.match(version.out, new RegExp(TSNATS_VERSION.replace(/\./g, '\\.')));

    writeFileSync(join(project, 'consumer.test.mjs'), CONSUMER_TEST);
    const tested = await run(process.execPath, ['--test', 'consumer.test.mjs'], project, 60_000);
    assert.equal(tested.code, 0, tested.out);
    assert.match(tested.out, /# pass 1/);

    // The node:test example of examples/testing, as a user would copy it.
    copyFileSync(join(ROOT, 'examples', 'testing', 'node-test.test.mjs'), join(project, 'example.test.mjs'));
    const example = await run(process.execPath, ['--test', 'example.test.mjs'], project, 60_000);
    assert.equal(example.code, 0, example.out);
    assert.match(example.out, /# pass 3/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
