import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FlagError, parseCommandLine, parseDurationValue, parseSizeValue } from '../../src/cli/flags.js';
import { TSNATS_VERSION } from '../../src/server/version.js';
import { launch, runTsnats as run } from '../helpers/launcher.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('command line', () => {
  test('nats-server flag forms', () => {
    const cl = parseCommandLine([
      '-a',
      '127.0.0.1',
      '--port=5222',
      '-n',
      'n1',
      '-DV',
      '-T=false',
      '--max_payload',
      '2MB',
    ]);
    assert.equal(cl.config.host, '127.0.0.1');
    assert.equal(cl.config.port, 5222);
    assert.equal(cl.config.serverName, 'n1');
    assert.equal(cl.config.debug, true);
    assert.equal(cl.config.trace, true);
    assert.equal(cl.config.logtime, false);
    assert.equal(cl.config.maxPayload, 2 * 1024 * 1024);
    assert.equal(parseCommandLine(['-p', '-1']).config.port, 0);
    assert.equal(parseCommandLine(['--ping_interval', '2m']).config.pingInterval, 120000);
  });

  test('TLS flags', () => {
    const cl = parseCommandLine([
      '--tlsverify',
      '--tlscert',
      'c.pem',
      '--tlskey',
      'k.pem',
      '--tlscacert',
      'ca.pem',
    ]);
    assert.deepEqual(cl.config.tls, {
      certFile: 'c.pem',
      keyFile: 'k.pem',
      caFile: 'ca.pem',
      verify: true,
      verifyAndMap: false,
      timeout: 2000,
    });
    assert.equal(parseCommandLine(['--tlscert', 'c.pem']).config.tls, undefined);
    assert.throws(() => parseCommandLine(['--tls']), /requires --tlscert and --tlskey/);
  });

  test('unknown and unsupported flags are refused clearly', () => {
    assert.throws(
      () => parseCommandLine(['--bogus']),
      (e: Error) => e instanceof FlagError && /not defined: -bogus/.test(e.message),
    );
    assert.throws(() => parseCommandLine(['-p']), /needs an argument/);
    assert.throws(() => parseCommandLine(['-p', 'x']), /invalid value/);
  });

  test('sizes and durations', () => {
    assert.equal(parseSizeValue('1k'), 1000);
    assert.equal(parseSizeValue('1KB'), 1024);
    assert.equal(parseSizeValue('64mb'), 64 * 1024 * 1024);
    assert.equal(parseDurationValue('10'), 10000);
    assert.equal(parseDurationValue('1h2m3s'), 3723000);
    assert.equal(parseDurationValue('250ms'), 250);
    assert.throws(() => parseDurationValue('5 parsecs'));
  });

  test('-v prints the version, -h the usage, unknown flags exit 1', async () => {
    const v = await run(['-v']);
    assert.equal(v.code, 0);
    assert.match(v.stdout, new RegExp(`v${TSNATS_VERSION.replaceAll('.', '\\.')}`));
    const h = await run(['-h']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /Usage: tsnats \[options\]/);
    const bad = await run(['--nope']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /flag provided but not defined: -nope/);
  });

  test('package.json version matches TSNATS_VERSION', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(pkg.version, TSNATS_VERSION);
  });

  test('-p -1 --ports_file_dir writes the ports file; SIGTERM shuts down and removes it', async () => {
    const srv = await launch({ pidFile: true });
    try {
      await srv.waitForLog('Server is ready');
      const dir = srv.dir;
      const ports = readdirSync(dir).filter((f) => f.endsWith('.ports'));
      assert.deepEqual(ports, [`nats-server_${srv.pid}.ports`]);
      const content = JSON.parse(readFileSync(join(dir, ports[0]!), 'utf8')) as { nats: string[] };
      assert.match(content.nats[0]!, /^nats:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(readFileSync(srv.pidFile!, 'utf8'), String(srv.pid));
      srv.kill('SIGTERM');
      assert.equal((await srv.exited).code, 0);
      assert.deepEqual(readdirSync(dir), []);
      assert.match(srv.log(), /\[INF\] Server Exiting\.\./);
    } finally {
      await srv.stop();
    }
  });
});
