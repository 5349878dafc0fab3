/**
 * `tsnats/testing`, imported by the package's own name as a user's test would: a JetStream server in one line
 * whose temporary store goes away with it, and a three-server JetStream cluster ready for R3 streams.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { describe, test } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { startCluster, startServer } from 'tsnats/testing';

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('tsnats/testing', () => {
  test('startServer: JetStream on a free port, its temporary store removed by stop()', async () => {
    const srv = await startServer({ jetstream: true });
    assert.match(srv.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(existsSync(srv.storeDir));
    const nc = await connect({ servers: srv.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'T', subjects: ['t.>'] });
    assert.equal((await jetstream(nc).publish('t.1', 'x')).seq, 1);
    await nc.close();
    assert.equal(typeof srv[Symbol.asyncDispose], 'function');
    await srv[Symbol.asyncDispose]();
    await srv.stop(); // idempotent
    assert.equal(existsSync(srv.storeDir), false, 'the store is gone');
    assert.equal(await listening(srv.port), false, 'the port is closed');
  });

  test('startServer without JetStream, with server options', async () => {
    const srv = await startServer({ serverName: 'plain', maxPayload: 1024 });
    try {
      const nc = await connect({ servers: srv.url });
      assert.equal(nc.info?.server_name, 'plain');
      assert.equal(nc.info?.max_payload, 1024);
      assert.equal(nc.info?.jetstream, undefined);
      assert.equal(srv.storeDir, '');
      await nc.close();
    } finally {
      await srv.stop();
    }
  });

  test('startCluster: three JetStream servers meshed, ready for an R3 stream', {
    timeout: 60_000,
  }, async () => {
    const cluster = await startCluster(3, { jetstream: true });
    try {
      assert.equal(cluster.urls.length, 3);
      const nc = await connect({ servers: cluster.urls });
      const jsm = await jetstreamManager(nc);
      const si = await jsm.streams.add({ name: 'R3', subjects: ['r3.>'], num_replicas: 3 });
      assert.equal(si.config.num_replicas, 3);
      assert.equal((await jetstream(nc).publish('r3.x', 'y')).seq, 1);
      await nc.close();
    } finally {
      await cluster.stop();
    }
    for (const s of cluster.servers) assert.equal(existsSync(s.storeDir), false);
  });
});
