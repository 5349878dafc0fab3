/**
 * Runs the JetStream examples (durable subscription, replay from time, last value, worker pool) as
 * child processes against an embedded tsnats with JetStream and checks what they print.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Server } from '../../src/index.js';
import { type RunResult, runProcess } from '../helpers/launcher.js';
import { startServer, urlOf } from '../helpers/server.js';

/** dist/test/integration/ -> dist/examples/ */
const examplesDir = fileURLToPath(new URL('../../examples/', import.meta.url));

function run(script: string, url: string): Promise<RunResult> {
  return runProcess(process.execPath, [`${examplesDir}${script}`], {
    env: { ...process.env, NATS_URL: url },
    timeoutMs: 15000,
  });
}

describe('JetStream examples', () => {
  let server: Server;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsnats-exjs-'));
    server = await startServer({ jetstream: { storeDir: dir } });
  });
  after(async () => {
    await server.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: [string, string[]][] = [
    [
      'durable.js',
      [
        '[first run] #1 order 1',
        '[first run] #2 order 2',
        '[first run] #3 order 3',
        'worker gone; 2 more orders arrive',
        '[second run] #4 order 4',
        '[second run] #5 order 5',
        '[second run] #6 order 6',
        '[second run] #7 order 7',
        'acknowledged up to #7, 0 left',
      ],
    ],
    [
      'replay-time.js',
      [
        '-- checkpoint --',
        'since checkpoint: #3 19.1',
        'since checkpoint: #4 19.4',
        'since checkpoint: #5 20.0',
        'replayed 19.1',
        'replayed 19.4',
        'replayed 20.0',
      ],
    ],
    [
      'last-value.js',
      [
        'last of the stream: prices.eth 3080',
        'last btc: 61250',
        'current btc: 61250',
        'current sol: 140',
        'current eth: 3080',
        'current sol: 142',
      ],
    ],
    [
      'worker-pool.js',
      [
        'queued 9 jobs',
        'w2 crashed while working (job redelivered later)',
        'redelivered job finished by a surviving worker',
        'all 9 jobs done exactly once',
        'w2 finished 0 jobs',
        'jobs left in the queue: 0',
      ],
    ],
  ];

  for (const [script, lines] of cases) {
    test(`examples/${script.replace('.js', '.ts')} prints the expected lines`, async () => {
      const { code, stdout, stderr } = await run(script, urlOf(server));
      assert.equal(code, 0, `exit code ${code}; stderr: ${stderr}`);
      assert.equal(stderr, '');
      assert.deepEqual(stdout.split('\n'), [...lines, '']);
    });
  }

  test('the examples exit non-zero when no server is listening', async () => {
    const other = await startServer();
    const url = urlOf(other);
    await other.shutdown();
    const { code, stderr } = await run('durable.js', url);
    assert.equal(code, 1);
    assert.match(stderr, /^error: /);
  });
});
