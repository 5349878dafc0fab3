/**
 * `tsnats/testing`, imported by the package's own name as a user's test would: a JetStream server in one line
 * whose temporary store goes away with it, and a three-server JetStream cluster ready for R3 streams.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { ConfigError, Server } from 'tsnats';
import { startCluster, startServer } from 'tsnats/testing';

/** Whether a process with this pid exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

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

  test('options in the configuration file names, mixed with camelCase ones', async () => {
    await using srv = await startServer({
      max_payload: 2048,
      server_name: 'filed',
      jetstream: { max_mem: '10M' },
      pingInterval: 60_000,
    });
    assert.ok(existsSync(srv.storeDir), 'a file-style JetStream block gets a temporary store too');
    const nc = await connect({ servers: srv.url });
    assert.equal(nc.info?.server_name, 'filed');
    assert.equal(nc.info?.max_payload, 2048);
    await (await jetstreamManager(nc)).streams.add({ name: 'M', subjects: ['m'] });
    assert.equal(srv.server.options.jetstream?.maxMemory, 10 * 1024 * 1024);
    assert.equal(srv.server.options.pingInterval, 60_000);
    await nc.close();
  });

  test('new Server with invalid file-style options throws the ConfigError -t would report', () => {
    assert.throws(
      () => new Server({ port: 0, max_payload: 'lots', bogus_key: 1 }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.issues.length, 2, e.message);
        assert.match(e.message, /^Server options: .*max_payload/m);
        assert.match(e.message, /unknown field "bogus_key"/);
        return true;
      },
    );
  });

  test('Server.fromConfigFile, and reload() re-reading the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsnats-conf-'));
    try {
      const file = join(dir, 'server.conf');
      writeFileSync(file, 'listen: 127.0.0.1:-1\nmax_payload: 1KB\n');
      const server = Server.fromConfigFile(file, { noLog: true, serverName: 'from-file' });
      try {
        await server.ready();
        const url = `nats://127.0.0.1:${server.port}`;
        let nc = await connect({ servers: url });
        assert.equal(nc.info?.max_payload, 1024);
        assert.equal(nc.info?.server_name, 'from-file', 'overrides are on top of the file');
        await nc.close();
        writeFileSync(file, 'listen: 127.0.0.1:-1\nmax_payload: 4KB\n');
        await server.reload();
        nc = await connect({ servers: url });
        assert.equal(nc.info?.max_payload, 4096);
        await nc.close();
      } finally {
        await server.shutdown();
      }
      writeFileSync(file, 'max_payload: [1\n');
      assert.throws(
        () => Server.fromConfigFile(file),
        (e: unknown) => e instanceof ConfigError && e.line > 0,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('childProcess: a server in its own process, killed and started again on its store', {
    timeout: 30_000,
  }, async () => {
    const child = await startServer({ childProcess: true, jetstream: true });
    assert.ok(child.pid > 0 && child.pid !== process.pid);
    assert.ok(alive(child.pid));
    let nc = await connect({ servers: child.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'K', subjects: ['k.>'] });
    for (let i = 0; i < 10; i++) await jetstream(nc).publish('k.x', String(i));
    await nc.close();
    await child.kill(); // SIGKILL: no shutdown
    assert.equal(alive(child.pid), false);
    assert.ok(existsSync(child.storeDir), 'the store outlives a kill');
    {
      await using again = await startServer({ jetstream: { storeDir: child.storeDir } });
      nc = await connect({ servers: again.url });
      const si = await (await jetstreamManager(nc)).streams.info('K');
      assert.equal(si.state.messages, 10, 'every acknowledged message is back');
      await nc.close();
    }
    await child.stop();
    assert.equal(existsSync(child.storeDir), false);
    await assert.rejects(startServer({ childProcess: true, max_payload: 'lots' }), /max_payload/);
  });
});
