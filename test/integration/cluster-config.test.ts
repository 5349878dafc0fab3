/**
 * Clustering configured the way operators do it: nats-server's command-line flags and the configuration
 * file's `cluster {}` block, down to two `bin/tsnats` processes forming a route.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { FlagError, parseCommandLine } from '../../src/cli/flags.js';
import { ConfigError, loadConfigText } from '../../src/config/index.js';
import { type Launched, launch } from '../helpers/launcher.js';
import { waitFor } from '../helpers/wait-for.js';

describe('cluster flags', () => {
  test('nats-server flag forms fill the cluster options', () => {
    const cl = parseCommandLine([
      '--cluster',
      'nats://ruser:rpass@127.0.0.1:-1',
      '--routes',
      'nats://127.0.0.1:7001, nats://127.0.0.1:7002',
      '--cluster_name',
      'c1',
      '--cluster_advertise',
      '10.0.0.1:7000',
      '--no_advertise',
      '--connect_retries',
      '3',
    ]);
    const c = cl.config.cluster!;
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 0);
    assert.equal(c.user, 'ruser');
    assert.equal(c.password, 'rpass');
    assert.deepEqual(c.routes, ['nats://127.0.0.1:7001', 'nats://127.0.0.1:7002']);
    assert.equal(c.name, 'c1');
    assert.equal(c.advertise, '10.0.0.1:7000');
    assert.equal(c.noAdvertise, true);
    assert.equal(c.connectRetries, 3);
    assert.ok(cl.explicit.has('cluster'));
    assert.equal(parseCommandLine(['--cluster_listen', 'nats://0.0.0.0:6222']).config.cluster?.port, 6222);
  });

  test('without a listen address the cluster flags change nothing (as nats-server)', () => {
    assert.equal(parseCommandLine(['--routes', 'nats://127.0.0.1:7001']).config.cluster, undefined);
  });

  test('bad cluster URLs are refused', () => {
    assert.throws(() => parseCommandLine(['--cluster', 'nats://127.0.0.1']), FlagError);
    assert.throws(() => parseCommandLine(['--cluster', 'nats://ruser@127.0.0.1:6222']), /password/);
  });
});

describe('cluster {} in the configuration file', () => {
  test('every key maps onto the cluster options', () => {
    const { config } = loadConfigText(
      [
        'cluster {',
        '  name: c1',
        '  listen: "127.0.0.1:-1"',
        '  routes: [nats://127.0.0.1:7001, "nats://u:p@127.0.0.1:7002"]',
        '  authorization { user: ruser, password: rpass, timeout: 0.5 }',
        '  advertise: "10.0.0.1:7000"',
        '  no_advertise: true',
        '  connect_retries: 2',
        '}',
        '',
      ].join('\n'),
      'c.conf',
    );
    const c = config.cluster!;
    assert.deepEqual(
      { ...c, tls: c.tls ?? null },
      {
        name: 'c1',
        host: '127.0.0.1',
        port: 0,
        advertise: '10.0.0.1:7000',
        noAdvertise: true,
        routes: ['nats://127.0.0.1:7001', 'nats://u:p@127.0.0.1:7002'],
        connectRetries: 2,
        user: 'ruser',
        password: 'rpass',
        authTimeout: 500,
        tls: null,
      },
    );
    // host/port instead of listen
    const p = loadConfigText('cluster { host: 127.0.0.1, port: 6333 }\n', 'c.conf').config.cluster!;
    assert.equal(p.host, '127.0.0.1');
    assert.equal(p.port, 6333);
    // No port: no clustering, as in nats-server.
    assert.equal(loadConfigText('cluster { name: c1 }\n', 'c.conf').config.cluster, undefined);
  });

  test("nats-server's refusals, with positions", () => {
    const refused = (text: string): string => {
      try {
        loadConfigText(text, 'c.conf');
      } catch (e) {
        assert.ok(e instanceof ConfigError);
        return e.message;
      }
      assert.fail('accepted');
    };
    assert.match(
      refused('cluster {\n  port: 1\n  authorization { users: [] }\n}\n'),
      /c\.conf:3:19: Cluster authorization does not allow multiple users/,
    );
    assert.match(
      refused('cluster {\n  port: 1\n  authorization { token: x }\n}\n'),
      /Cluster authorization does not support tokens/,
    );
    assert.match(refused('cluster {\n  port: 1\n  routes: ["nats://x"]\n}\n'), /error parsing route url/);
    assert.match(refused('cluster {\n  port: 1\n  bogus: 1\n}\n'), /unknown field "bogus"/);
    assert.match(
      refused('cluster {\n  port: 1\n  permissions { import: "a", allow_responses: true }\n}\n'),
      /Cluster permissions do not support dynamic responses/,
    );
  });

  test('route permissions: import and export, in the block or its authorization', () => {
    const c = loadConfigText(
      'cluster {\n  port: 1\n  permissions { import: ["a.>"], export: { allow: ["b.>"], deny: "b.x" } }\n}\n',
      'c.conf',
    ).config.cluster;
    assert.deepEqual(c?.permissions, {
      import: { allow: ['a.>'] },
      export: { allow: ['b.>'], deny: ['b.x'] },
    });
    const d = loadConfigText(
      'cluster {\n  port: 1\n  authorization { user: u, password: p, permissions { publish: "x" } }\n}\n',
      'c.conf',
    ).config.cluster;
    assert.deepEqual(d?.permissions, { import: { allow: ['x'] } });
  });
});

/** Start `bin/tsnats` with `args`; resolves once its ports file lists the route port too. */
function startBin(args: string[]): Promise<Launched> {
  return launch({ args, listeners: ['nats', 'cluster'] });
}

describe('bin/tsnats', () => {
  test('two processes form a cluster from the command line; the ports file has the route port', async () => {
    const a = await startBin(['--cluster', 'nats://127.0.0.1:-1', '--cluster_name', 'cli']);
    const procs = [a];
    try {
      const b = await startBin([
        '--cluster',
        'nats://127.0.0.1:-1',
        '--cluster_name',
        'cli',
        '--routes',
        `nats://127.0.0.1:${a.clusterPort}`,
      ]);
      procs.push(b);
      const na = await connect({ servers: `127.0.0.1:${a.port}`, reconnect: false });
      const nb = await connect({ servers: `127.0.0.1:${b.port}`, reconnect: false });
      try {
        // Route state is not visible from outside: the client learns the other server once routes formed.
        await waitFor(() => (nb.info?.connect_urls?.length ?? 0) === 2, 10000, 'connect_urls of both');
        const got = new Promise<string>((resolve) => {
          nb.subscribe('cli.x', { callback: (_e, m) => resolve(m.string()) });
        });
        await nb.flush();
        // The subscription may cross the route after the first publish: publish until it arrives.
        const timer = setInterval(() => na.publish('cli.x', 'over the route'), 20);
        try {
          assert.equal(await got, 'over the route');
        } finally {
          clearInterval(timer);
        }
      } finally {
        await Promise.all([na.close(), nb.close()]);
      }
    } finally {
      await Promise.all(procs.map((p) => p.stop()));
    }
  });
});
