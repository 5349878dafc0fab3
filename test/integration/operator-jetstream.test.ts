/**
 * Operator mode, JetStream limits from account JWTs with tiers (`tiered_limits` {"R1": ..., "R3": ...}):
 * a stream takes the limits of its replica count's tier, is refused with nats-server's errors when over
 * them (or when no tier applies), and $JS.API.INFO reports each tier. Each check runs against tsnats
 * and, when installed, nats-server 2.9.10 with the same config.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createAccount, createOperator, type KeyPair } from '@nats-io/nkeys';
import type { NatsConnection } from '@nats-io/transport-node';
import { freePort } from '../helpers/js-cluster.js';
import { accountJwt, accountLimits, makeUser, operatorJwt } from '../helpers/jwt.js';
import { type Launched, launch, type ServerKind } from '../helpers/launcher.js';
import { credsOpts, mustConnect } from '../helpers/operator-client.js';
import { hasReference } from '../helpers/reference.js';

const KINDS: ServerKind[] = hasReference() ? ['tsnats', 'nats-server'] : ['tsnats'];

type Json = Record<string, unknown>;

/** An R1 tier with room for 1000 bytes in memory, 4000 on disk, 3 streams of 1 consumer each. */
const R1 = { mem_storage: 1000, disk_storage: 4000, streams: 3, consumer: 1, max_ack_pending: 10 };
/** An R3 tier without storage (it still limits its tier: to nothing). */
const R3 = { mem_storage: 0, disk_storage: 0, streams: 1 };

/** JetStreamAccountLimits as nats-server reports the tiers above. */
const R1_LIMITS = {
  max_memory: 1000,
  max_storage: 4000,
  max_streams: 3,
  max_consumers: 1,
  max_ack_pending: 10,
  memory_max_stream_bytes: -1,
  storage_max_stream_bytes: -1,
  max_bytes_required: false,
};
const R3_LIMITS = {
  max_memory: 0,
  max_storage: 0,
  max_streams: 1,
  max_consumers: 0,
  max_ack_pending: -1,
  memory_max_stream_bytes: -1,
  storage_max_stream_bytes: -1,
  max_bytes_required: false,
};
const ZERO_LIMITS = {
  max_memory: 0,
  max_storage: 0,
  max_streams: 0,
  max_consumers: 0,
  max_ack_pending: 0,
  memory_max_stream_bytes: 0,
  storage_max_stream_bytes: 0,
  max_bytes_required: false,
};

function tiered(tiers: Record<string, Json>): Json {
  return { limits: accountLimits({ tiered_limits: tiers }) };
}

function stream(name: string, storage: 'memory' | 'file', maxBytes = -1): Json {
  return { name, subjects: [name.toLowerCase()], storage, num_replicas: 1, max_bytes: maxBytes };
}

function errCode(r: Json): number | undefined {
  return (r.error as Json | undefined)?.err_code as number | undefined;
}

/** Account info without the API counters (the tests' own requests count there). */
function usage(info: Json): Json {
  const { api: _api, ...rest } = info;
  return rest;
}

for (const kind of KINDS) {
  describe(`operator mode, tiered JetStream limits (${kind})`, () => {
    let dir = '';
    const op = createOperator();
    const sys = createAccount();
    let server: Launched;
    let sysConn: NatsConnection;
    const open: NatsConnection[] = [];

    async function push(acc: KeyPair, nats: Json): Promise<void> {
      const m = await sysConn.request('$SYS.REQ.CLAIMS.UPDATE', accountJwt(acc, op, nats), { timeout: 2000 });
      assert.match(m.string(), /jwt updated/);
    }

    async function user(acc: KeyPair): Promise<NatsConnection> {
      const nc = await mustConnect(server.url, credsOpts(makeUser(acc).creds));
      open.push(nc);
      return nc;
    }

    async function api(nc: NatsConnection, subject: string, body: unknown = {}): Promise<Json> {
      return JSON.parse(
        (await nc.request(subject, JSON.stringify(body), { timeout: 2000 })).string(),
      ) as Json;
    }

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `tsnats-op-js-${kind}-`));
      const config = `operator: ${operatorJwt(op, { system_account: sys.getPublicKey() })}
system_account: ${sys.getPublicKey()}
resolver { type: full, dir: "${dir}/jwt" }
resolver_preload: { ${sys.getPublicKey()}: ${accountJwt(sys, op)} }
`;
      server = await launch({ kind, config, jetstream: true });
      sysConn = await mustConnect(server.url, credsOpts(makeUser(sys).creds));
    });
    after(async () => {
      await Promise.all(open.map((nc) => (nc.isClosed() ? undefined : nc.close())));
      await sysConn?.close();
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('an R1 stream is held to the R1 tier, and account info reports every tier', async () => {
      const acc = createAccount();
      await push(acc, tiered({ R1, R3 }));
      const nc = await user(acc);

      const empty = { memory: 0, storage: 0, streams: 0, consumers: 0 };
      assert.deepEqual(usage(await api(nc, '$JS.API.INFO')), {
        type: 'io.nats.jetstream.api.v1.account_info_response',
        ...empty,
        limits: ZERO_LIMITS,
        tiers: { R1: { ...empty, limits: R1_LIMITS }, R3: { ...empty, limits: R3_LIMITS } },
      });

      assert.equal(errCode(await api(nc, '$JS.API.STREAM.CREATE.M1', stream('M1', 'memory'))), undefined);
      assert.equal(errCode(await api(nc, '$JS.API.STREAM.CREATE.F1', stream('F1', 'file', 3000))), undefined);
      // The tier's reservations count both storages: F1's 3000 bytes leave no room in 1000 of memory.
      assert.equal(errCode(await api(nc, '$JS.API.STREAM.CREATE.M2', stream('M2', 'memory', 500))), 10028);
      assert.equal(errCode(await api(nc, '$JS.API.STREAM.CREATE.F2', stream('F2', 'file', 1500))), 10047);
      assert.equal(errCode(await api(nc, '$JS.API.STREAM.CREATE.F3', stream('F3', 'file'))), undefined);
      assert.equal(errCode(await api(nc, '$JS.API.STREAM.CREATE.F4', stream('F4', 'file'))), 10027);

      // One consumer per stream, with at most 10 acks pending.
      const consumer = (c: Json = {}) => ({ stream_name: 'M1', config: { ack_policy: 'explicit', ...c } });
      const tooMany = await api(nc, '$JS.API.CONSUMER.CREATE.M1', consumer({ max_ack_pending: 20 }));
      assert.equal(errCode(tooMany), 10121, JSON.stringify(tooMany));
      const first = await api(nc, '$JS.API.CONSUMER.CREATE.M1', consumer());
      assert.equal((first.config as Json).max_ack_pending, 10);
      assert.equal(errCode(await api(nc, '$JS.API.CONSUMER.CREATE.M1', consumer())), 10026);

      // 218 bytes a message in memory: the fifth takes the tier over its 1000 bytes.
      const acks: Json[] = [];
      for (let i = 0; i < 5; i++) {
        acks.push(
          JSON.parse((await nc.request('m1', new Uint8Array(200), { timeout: 2000 })).string()) as Json,
        );
      }
      assert.deepEqual(
        acks.map((a) => errCode(a) ?? a.seq),
        [1, 2, 3, 4, 10002],
      );

      const r1 = { memory: 872, storage: 0, streams: 3, consumers: 1 };
      assert.deepEqual(usage(await api(nc, '$JS.API.INFO')), {
        type: 'io.nats.jetstream.api.v1.account_info_response',
        ...r1,
        limits: ZERO_LIMITS,
        tiers: { R1: { ...r1, limits: R1_LIMITS }, R3: { ...empty, limits: R3_LIMITS } },
      });
    });

    test('plain and tiered JetStream limits in one JWT: the tiers apply (jwt decodes the plain ones away)', async () => {
      const acc = createAccount();
      await push(acc, { limits: accountLimits({ ...R1, streams: 5, tiered_limits: { R1 } }) });
      const nc = await user(acc);
      const info = usage(await api(nc, '$JS.API.INFO'));
      assert.deepEqual(info.limits, ZERO_LIMITS);
      assert.deepEqual((info.tiers as Record<string, Json>).R1?.limits, R1_LIMITS);
    });

    test('a version 1 account JWT gives no JetStream (jwt migrates its limits away)', async () => {
      const acc = createAccount();
      // jwt v1's encoding: header {"typ":"jwt","alg":"ed25519"}, the signature over the claims alone.
      const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const claims = b64({
        jti: `V1${Date.now()}`,
        iat: Math.floor(Date.now() / 1000),
        iss: op.getPublicKey(),
        sub: acc.getPublicKey(),
        type: 'account',
        nats: { limits: { ...accountLimits(), mem_storage: -1, disk_storage: -1 } },
      });
      const sig = Buffer.from(op.sign(new TextEncoder().encode(claims))).toString('base64url');
      const jwt = `${b64({ typ: 'jwt', alg: 'ed25519' })}.${claims}.${sig}`;
      const m = await sysConn.request('$SYS.REQ.CLAIMS.UPDATE', jwt, { timeout: 2000 });
      assert.match(m.string(), /jwt updated/);
      const nc = await user(acc);
      assert.equal(errCode(await api(nc, '$JS.API.INFO')), 10039);
      // Its limits left out are 0, as in a version 2 JWT: here `payload`, so nothing may be published.
      const bare = createAccount();
      const bareClaims = b64({
        jti: `V1B${Date.now()}`,
        iat: Math.floor(Date.now() / 1000),
        iss: op.getPublicKey(),
        sub: bare.getPublicKey(),
        type: 'account',
        nats: { limits: { subs: -1, conn: -1 } },
      });
      const bareSig = Buffer.from(op.sign(new TextEncoder().encode(bareClaims))).toString('base64url');
      const pushed = await sysConn.request(
        '$SYS.REQ.CLAIMS.UPDATE',
        `${b64({ typ: 'jwt', alg: 'ed25519' })}.${bareClaims}.${bareSig}`,
        { timeout: 2000 },
      );
      assert.match(pushed.string(), /jwt updated/);
      const nb = await user(bare);
      await nb.flush();
      assert.throws(() => nb.publish('x', 'hello'), /max_payload size exceeded/);
    });

    test('jwt validation: a blank tier name is refused', async () => {
      const acc = createAccount();
      const m = await sysConn.request('$SYS.REQ.CLAIMS.UPDATE', accountJwt(acc, op, tiered({ '': R1 })), {
        timeout: 2000,
      });
      assert.deepEqual((JSON.parse(m.string()) as Json).error, {
        account: acc.getPublicKey(),
        code: 500,
        description:
          'jwt validation failed - validation errors: [Tiered JetStream Limits can not contain a blank "" tier name]',
      });
    });

    test('no tier for a stream: 10120; plain limits again: no tiers in account info', async () => {
      const acc = createAccount();
      await push(acc, tiered({ R1 }));
      const nc = await user(acc);
      assert.equal(errCode(await api(nc, '$JS.API.STREAM.CREATE.S', stream('S', 'memory'))), undefined);

      // An update leaves only an R3 tier: the R1 stream's consumers and messages have no limits.
      await push(acc, tiered({ R3: { ...R3, mem_storage: 1000 } }));
      const noTier = await api(nc, '$JS.API.STREAM.CREATE.T', stream('T', 'memory'));
      assert.deepEqual(noTier.error, {
        code: 400,
        err_code: 10120,
        description: 'no JetStream default or applicable tiered limit present',
      });
      const consumer = await api(nc, '$JS.API.CONSUMER.CREATE.S', { stream_name: 'S', config: {} });
      assert.equal(errCode(consumer), 10120, JSON.stringify(consumer));
      const ack = JSON.parse((await nc.request('s', 'x', { timeout: 2000 })).string()) as Json;
      assert.equal(errCode(ack), 10120, JSON.stringify(ack));

      // Plain limits: one default tier for every stream, reported at the top, without `tiers`.
      await push(acc, { limits: accountLimits({ ...R1, streams: 2 }) });
      const info = usage(await api(nc, '$JS.API.INFO'));
      assert.deepEqual(info, {
        type: 'io.nats.jetstream.api.v1.account_info_response',
        memory: 0,
        storage: 0,
        streams: 1,
        consumers: 0,
        limits: { ...R1_LIMITS, max_streams: 2 },
      });
      assert.equal(errCode(await api(nc, '$JS.API.STREAM.CREATE.T', stream('T', 'memory'))), undefined);
    });
  });
}

for (const kind of KINDS) {
  test(`operator mode, tiered JetStream limits in a cluster of three (${kind}): R3 streams count against R3`, async () => {
    const dir = mkdtempSync(join(tmpdir(), `tsnats-op-jscl-${kind}-`));
    const op = createOperator();
    const sys = createAccount();
    const both = createAccount();
    const r1Only = createAccount();
    const tier = { mem_storage: 100_000, disk_storage: 100_000, streams: 1, consumer: -1 };
    const ports = [await freePort(), await freePort(), await freePort()];
    const config = (i: number): string => `server_name: n${i + 1}
operator: ${operatorJwt(op, { system_account: sys.getPublicKey() })}
system_account: ${sys.getPublicKey()}
resolver: MEMORY
resolver_preload: {
  ${sys.getPublicKey()}: ${accountJwt(sys, op)}
  ${both.getPublicKey()}: ${accountJwt(both, op, tiered({ R1: tier, R3: tier }))}
  ${r1Only.getPublicKey()}: ${accountJwt(r1Only, op, tiered({ R1: tier }))}
}
jetstream { store_dir: "${dir}/n${i + 1}" }
cluster { name: C1, host: 127.0.0.1, port: ${ports[i]}, routes: [${ports.map((p) => `nats://127.0.0.1:${p}`).join(', ')}] }
`;
    const servers: Launched[] = [];
    const conns: NatsConnection[] = [];
    try {
      servers.push(
        ...(await Promise.all([0, 1, 2].map((i) => launch({ kind, config: config(i), timeoutMs: 20_000 })))),
      );
      const nc = await mustConnect(servers[0]!.url, credsOpts(makeUser(both).creds));
      const other = await mustConnect(servers[0]!.url, credsOpts(makeUser(r1Only).creds));
      conns.push(nc, other);
      /** A request, asked again while the cluster is still forming (no meta leader or peers yet). */
      const api = async (c: NatsConnection, subject: string, body: unknown): Promise<Json> => {
        // Generous: three servers forming a cluster while the rest of the suite runs on two cores.
        const deadline = Date.now() + 60_000;
        for (;;) {
          let r: Json | undefined;
          try {
            r = JSON.parse(
              (await c.request(subject, JSON.stringify(body), { timeout: 2000 })).string(),
            ) as Json;
          } catch {
            r = undefined;
          }
          const code = r === undefined ? undefined : errCode(r);
          if (r !== undefined && code !== 10005 && code !== 10008) return r;
          if (Date.now() > deadline) throw new Error(`${subject}: no answer from a formed cluster`);
          await new Promise((res) => setTimeout(res, 250));
        }
      };
      const r3 = (name: string) => ({ ...stream(name, 'memory'), num_replicas: 3 });
      assert.equal(errCode(await api(nc, '$JS.API.STREAM.CREATE.A3', r3('A3'))), undefined);
      assert.equal(errCode(await api(nc, '$JS.API.STREAM.CREATE.B3', r3('B3'))), 10027);
      assert.equal(errCode(await api(nc, '$JS.API.STREAM.CREATE.A1', stream('A1', 'memory'))), undefined);
      const info = await api(nc, '$JS.API.INFO', {});
      const tiers = info.tiers as Record<string, Json>;
      assert.deepEqual(
        Object.entries(tiers).map(([t, u]) => [t, u.streams]),
        [
          ['R1', 1],
          ['R3', 1],
        ],
      );
      assert.equal(info.streams, 2);
      assert.equal(errCode(await api(other, '$JS.API.STREAM.CREATE.X3', r3('X3'))), 10120);
    } finally {
      await Promise.all(conns.map((c) => c.close()));
      await Promise.all(servers.map((s) => s.stop()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
