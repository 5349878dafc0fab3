/** `new Server()`'s options: which keys are camelCase and which are read as a configuration file's. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyAuthorization } from '../../src/auth/types.js';
import { configFromInput, hasFileStyleKeys } from '../../src/config/embedded.js';
import { ConfigError } from '../../src/config/errors.js';

test('camelCase options pass through untouched', () => {
  const input = {
    port: 0,
    maxPayload: 10,
    jetstream: { storeDir: '/tmp/x' },
    authorization: emptyAuthorization(),
  };
  assert.equal(hasFileStyleKeys(input), false);
  assert.equal(configFromInput(input), input);
});

test('file-style keys are loaded as a configuration file, camelCase keys go on top', () => {
  const c = configFromInput({
    max_payload: 100,
    ping_interval: '30s',
    jetstream: { store_dir: '/tmp/js', max_file: '1G' },
    authorization: { users: [{ user: 'a', password: 'b', permissions: { publish: 'x.>' } }] },
    mappings: { 'a.*': 'b.$1' },
    port: 4333,
    maxPayload: 200,
  });
  assert.equal(c.maxPayload, 200, 'camelCase wins, as flags win over a file');
  assert.equal(c.pingInterval, 30_000);
  assert.equal(c.port, 4333);
  assert.deepEqual(c.jetstream, { storeDir: '/tmp/js', maxFile: 1024 ** 3 });
  assert.deepEqual(c.authorization?.users[0]?.permissions?.publish, { allow: ['x.>'] });
  assert.equal(c.mappings?.length, 1);
});

test('a streaming block in the file form', () => {
  const c = configFromInput({
    jetstream: true,
    store_dir: '/tmp/s',
    streaming: { cluster_id: 'c1', max_msgs: 5 },
  });
  assert.equal(c.streaming?.clusterId, 'c1');
  assert.equal(c.streaming?.maxMsgs, 5);
});

test('camelCase blocks with optional fields and nested blocks stay camelCase', () => {
  const cluster = {
    name: 'c',
    host: '127.0.0.1',
    port: 0,
    routes: [],
    permissions: { import: { allow: ['a'] }, export: { allow: ['b'] } },
    tls: {
      certFile: 'c.pem',
      keyFile: 'k.pem',
      caFile: '',
      verify: false,
      verifyAndMap: false,
      timeout: 2000,
    },
  };
  const input = { cluster };
  assert.equal(hasFileStyleKeys(input), false);
  assert.equal(configFromInput(input).cluster, cluster);
  // The same block with a file-style TLS block inside is the file form.
  assert.equal(hasFileStyleKeys({ cluster: { name: 'c', tls: { cert_file: 'c.pem' } } }), true);
});

test('jetstream: true and enabled are the file form', () => {
  assert.deepEqual(configFromInput({ jetstream: true, store_dir: '/tmp/s' }).jetstream?.storeDir, '/tmp/s');
});

test('every problem of the file-style keys is reported at once', () => {
  assert.throws(
    () => configFromInput({ max_payload: 'big', listen: {}, nope_nope: 1 }),
    (e: unknown) => e instanceof ConfigError && e.issues.length === 3,
  );
});
