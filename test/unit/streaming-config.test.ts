/**
 * NATS Streaming settings: nats-streaming-server's flags, the `streaming {}` block (flat keys and
 * `store_limits {}`), flags over the file, and how a store turns JetStream on.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FlagError, parseCommandLine } from '../../src/cli/flags.js';
import { mergeCommandLine } from '../../src/config/cli.js';
import { ConfigError, loadConfigText } from '../../src/config/index.js';
import { Server } from '../../src/index.js';
import { defaultStreamingOptions, resolveOptions } from '../../src/server/options.js';

describe('streaming flags', () => {
  test('nats-streaming-server flag names set only what they name', () => {
    const cl = parseCommandLine([
      '-cid',
      'c1',
      '-st',
      'FILE',
      '--dir',
      '/data/stan',
      '-mc',
      '5',
      '-msu',
      '6',
      '-mm',
      '1000',
      '-mb',
      '10mb',
      '-ma',
      '1h',
      '-mi',
      '30s',
      '-hbi',
      '2s',
      '-hbt',
      '1s',
      '-hbf',
      '4',
    ]);
    assert.deepEqual(cl.config.streaming, {
      clusterId: 'c1',
      store: 'file',
      dir: '/data/stan',
      maxChannels: 5,
      maxSubs: 6,
      maxMsgs: 1000,
      maxBytes: 10 * 1024 * 1024,
      maxAge: 3_600_000,
      maxInactivity: 30_000,
      hbInterval: 2000,
      hbTimeout: 1000,
      hbFailCount: 4,
    });
    assert.ok(cl.explicit.has('streaming'));
    assert.deepEqual(parseCommandLine(['--cluster_id=x']).config.streaming, { clusterId: 'x' });
    assert.equal(parseCommandLine(['-js']).config.streaming, undefined);
  });

  test('an unknown store type is refused', () => {
    assert.throws(() => parseCommandLine(['-st', 'sql']), FlagError);
  });

  test('-st turns JetStream on in --dir; -cid alone leaves JetStream to -js', () => {
    const withStore = resolveOptions(parseCommandLine(['-cid', 'c', '-st', 'file', '--dir', '/d']).config);
    assert.deepEqual(withStore.jetstream, { storeDir: '/d' });
    assert.equal(withStore.streaming?.store, 'file');
    const alone = resolveOptions(parseCommandLine(['-cid', 'c']).config);
    assert.equal(alone.jetstream, undefined);
    assert.deepEqual(alone.streaming, { ...defaultStreamingOptions(), clusterId: 'c' });
    const withJs = resolveOptions(parseCommandLine(['-cid', 'c', '-js', '-sd', '/j']).config);
    assert.deepEqual(withJs.jetstream, { storeDir: '/j' });
  });

  test('a server with streaming and no JetStream says what to add', () => {
    assert.throws(
      () => new Server({ port: 0, noLog: true, streaming: { clusterId: 'c' } }),
      /NATS Streaming needs JetStream: add -js/,
    );
  });
});

describe('streaming {} in the configuration file', () => {
  test('flat keys', () => {
    const { config } = loadConfigText(
      `streaming {
        cluster_id: my-cluster
        store: memory
        dir: "/data/x"
        max_channels: 10
        max_msgs: 100
        max_bytes: 1MB
        max_age: "24h"
        max_subs: 20
        max_inactivity: "1m"
        hb_interval: "10s"
        hb_timeout: "2s"
        hb_fail_count: 3
      }`,
      'mem.conf',
    );
    assert.deepEqual(config.streaming, {
      ...defaultStreamingOptions(),
      clusterId: 'my-cluster',
      store: 'memory',
      dir: '/data/x',
      maxChannels: 10,
      maxMsgs: 100,
      maxBytes: 1024 * 1024,
      maxAge: 86_400_000,
      maxSubs: 20,
      maxInactivity: 60_000,
      hbInterval: 10_000,
      hbTimeout: 2000,
      hbFailCount: 3,
    });
  });

  test("nats-streaming-server's own layout: id, store_limits {}", () => {
    const { config } = loadConfigText(
      `streaming { id: legacy, store_type: file, datastore: "/d", store_limits { max_channels: 3, max_msgs: 7, max_age: "1h" } }`,
      'mem.conf',
    );
    assert.equal(config.streaming?.clusterId, 'legacy');
    assert.equal(config.streaming?.store, 'file');
    assert.equal(config.streaming?.dir, '/d');
    assert.equal(config.streaming?.maxChannels, 3);
    assert.equal(config.streaming?.maxMsgs, 7);
    assert.equal(config.streaming?.maxAge, 3_600_000);
  });

  test('bad values are refused with their position', () => {
    assert.throws(() => loadConfigText('streaming { cluster_id: "a b" }', 'mem.conf'), ConfigError);
    assert.throws(() => loadConfigText('streaming { store: sql }', 'mem.conf'), /unsupported store type/);
    assert.throws(() => loadConfigText('streaming { max_msgs: -1 }', 'mem.conf'), ConfigError);
    assert.throws(() => loadConfigText('streaming { nope: 1 }', 'mem.conf'), /unknown field/);
    assert.throws(
      () => loadConfigText('streaming { sql_options { driver: postgres } }', 'mem.conf'),
      /streaming.sql_options: not supported by tsnats \(channels are JetStream streams/,
    );
  });

  test('flags override the fields they name', () => {
    const file = loadConfigText('streaming { cluster_id: from-file, max_msgs: 5 }', 'mem.conf').config;
    const cl = parseCommandLine(['-mm', '9']);
    const merged = mergeCommandLine(file, cl.config, cl.explicit);
    assert.equal(merged.streaming?.clusterId, 'from-file');
    assert.equal(merged.streaming?.maxMsgs, 9);
  });
});
