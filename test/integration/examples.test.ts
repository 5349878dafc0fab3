/** Runs the examples as child processes against an embedded tsnats and checks what they print. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type RunResult, runProcess, runTsnats } from '../helpers/launcher.js';
import { hasReference } from '../helpers/reference.js';
import { startServer, urlOf } from '../helpers/server.js';
import { startStreaming } from '../helpers/streaming.js';

/** dist/test/integration/ -> dist/examples/ */
const examplesDir = fileURLToPath(new URL('../../examples/', import.meta.url));

function run(script: string, env: Record<string, string>): Promise<RunResult> {
  return runProcess(process.execPath, [`${examplesDir}${script}`], {
    env: { ...process.env, ...env },
    timeoutMs: 15000,
  });
}

test('examples/classic.js runs against tsnats and prints the expected lines', async () => {
  const server = await startServer();
  try {
    const url = urlOf(server);
    const { code, stdout, stderr } = await run('classic.js', { NATS_URL: url });
    assert.equal(code, 0, `exit code ${code}; stderr: ${stderr}`);
    assert.equal(stderr, '');
    assert.deepEqual(stdout.split('\n'), [
      `connected to 127.0.0.1:${server.port}`,
      '[greeting #1] hello 1',
      '[greeting #2] hello 2',
      'greeting subscription closed after 2 of 3 messages',
      '[workers] got request: need help',
      'reply: I can help!',
      'after unsubscribe: no responders',
      'drained and closed',
      '',
    ]);
    assert.equal(server.stats.totalConnections, 1);
  } finally {
    await server.shutdown();
  }
});

test('examples/classic.js exits non-zero when no server is listening', async () => {
  // Start and stop a server to get a port that is (very likely) closed now.
  const server = await startServer();
  const url = urlOf(server);
  await server.shutdown();
  const { code, stderr } = await run('classic.js', { NATS_URL: url });
  assert.equal(code, 1);
  assert.match(stderr, /^error: /);
});

test('examples/browser/websocket.conf is valid for tsnats and nats-server', async () => {
  const conf = fileURLToPath(new URL('../../../examples/browser/websocket.conf', import.meta.url));
  const ours = await runTsnats(['-c', conf, '-t']);
  assert.equal(ours.code, 0, ours.output);
  if (hasReference()) {
    const ref = await runProcess('nats-server', ['-c', conf, '-t']);
    assert.equal(ref.code, 0, ref.output);
  }
});

test('examples/streaming.js (the node-nats-streaming README program) runs against tsnats', async () => {
  const s = await startStreaming();
  try {
    const { code, stdout, stderr } = await run('streaming.js', { NATS_URL: s.url });
    assert.equal(code, 0, `exit code ${code}; stderr: ${stderr}`);
    assert.equal(stderr, '');
    const lines = stdout.split('\n');
    assert.match(lines[0]!, /^published message with guid: [A-Za-z0-9]{22}$/);
    assert.deepEqual(lines.slice(1), ['Received a message [1] Hello node-nats-streaming!', '']);
  } finally {
    await s.cleanup();
  }
});
