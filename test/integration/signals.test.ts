import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { launch, runTsnats } from '../helpers/launcher.js';

test('--signal reload applies a changed config file (SIGHUP); --signal ldm ends the server', async () => {
  const srv = await launch({
    config: 'authorization { users = [ { user: alice, password: a } ] }\n',
    pidFile: true,
  });
  const conf = srv.configFile!;
  const pidFile = srv.pidFile!;
  try {
    await srv.waitForLog('Server is ready', 10000);
    const url = srv.url;
    const alice = await connect({ servers: url, user: 'alice', pass: 'a', reconnect: false });
    await assert.rejects(connect({ servers: url, user: 'bob', pass: 'b', reconnect: false }));
    writeFileSync(
      conf,
      'authorization { users = [ { user: alice, password: a }, { user: bob, password: b } ] }\n',
    );
    const r = await runTsnats(['--signal', `reload=${pidFile}`]);
    assert.equal(r.code, 0, r.output);
    await srv.waitForLog('Reloaded server configuration', 10000);
    const bob = await connect({ servers: url, user: 'bob', pass: 'b', reconnect: false });
    await bob.close();
    assert.equal(alice.isClosed(), false);
    await alice.close();
    const l = await runTsnats(['--signal', `ldm=${pidFile}`]);
    assert.equal(l.code, 0, l.output);
    assert.equal((await srv.exited).code, 0);
    assert.match(srv.log(), /Entering lame duck mode/);
  } finally {
    await srv.stop('SIGKILL');
  }
});

test('--signal with an unknown command or missing pid file fails clearly', async () => {
  const a = await runTsnats(['--signal', 'explode=1']);
  assert.equal(a.code, 1);
  assert.match(a.output, /unknown signal "explode"/);
  const b = await runTsnats(['--signal', 'reload=/nonexistent/tsnats.pid']);
  assert.equal(b.code, 1);
  assert.match(b.output, /could not read pid file/);
});
