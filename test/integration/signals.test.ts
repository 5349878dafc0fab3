import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { waitFor } from '../helpers/wait-for.js';

const BIN = fileURLToPath(new URL('../../../bin/tsnats', import.meta.url));

function tsnats(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(BIN, args, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : Number(err.code ?? 1), out: stdout + stderr });
    });
  });
}

test('--signal reload applies a changed config file (SIGHUP); --signal ldm ends the server', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsnats-sig-'));
  const conf = join(dir, 'server.conf');
  const pidFile = join(dir, 'tsnats.pid');
  writeFileSync(conf, 'authorization { users = [ { user: alice, password: a } ] }\n');
  const child = spawn(
    BIN,
    ['-c', conf, '-a', '127.0.0.1', '-p', '-1', '--ports_file_dir', dir, '-P', pidFile],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    log += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitFor(() => log.includes('Server is ready'), 10000, 'server start');
    const ports = readdirSync(dir).find((f) => f.endsWith('.ports'))!;
    const url = (JSON.parse(readFileSync(join(dir, ports), 'utf8')) as { nats: string[] }).nats[0]!;
    const alice = await connect({ servers: url, user: 'alice', pass: 'a', reconnect: false });
    await assert.rejects(connect({ servers: url, user: 'bob', pass: 'b', reconnect: false }));
    writeFileSync(
      conf,
      'authorization { users = [ { user: alice, password: a }, { user: bob, password: b } ] }\n',
    );
    const r = await tsnats(['--signal', `reload=${pidFile}`]);
    assert.equal(r.code, 0, r.out);
    await waitFor(() => log.includes('Reloaded server configuration'), 10000, 'reload');
    const bob = await connect({ servers: url, user: 'bob', pass: 'b', reconnect: false });
    await bob.close();
    assert.equal(alice.isClosed(), false);
    await alice.close();
    const l = await tsnats(['--signal', `ldm=${pidFile}`]);
    assert.equal(l.code, 0, l.out);
    assert.equal(await exited, 0);
    assert.match(log, /Entering lame duck mode/);
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--signal with an unknown command or missing pid file fails clearly', async () => {
  const a = await tsnats(['--signal', 'explode=1']);
  assert.equal(a.code, 1);
  assert.match(a.out, /unknown signal "explode"/);
  const b = await tsnats(['--signal', 'reload=/nonexistent/tsnats.pid']);
  assert.equal(b.code, 1);
  assert.match(b.out, /could not read pid file/);
});
