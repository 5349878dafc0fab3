/**
 * The system requests nats-server 2.10 clients and tools use: IDZ, `$SYS.REQ.USER.INFO` (from any
 * account, through the system imports), the per-account `$SYS.REQ.ACCOUNT.<account>.<EP>` requests,
 * directly in the system account and through the imports every account gets, and the per-server control
 * requests KICK, LDM and RELOAD.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type AuthorizationConfig, emptyAuthorization, unlimitedJsAccount } from '../../src/auth/types.js';
import { Server } from '../../src/index.js';
import { stopAll, TsNode, waitForMesh } from '../helpers/cluster.js';
import { makeUser, operatorSetup } from '../helpers/jwt.js';
import { launch } from '../helpers/launcher.js';
import { credsOpts, mustConnect } from '../helpers/operator-client.js';
import { startServer, urlOf } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

type Json = Record<string, unknown>;

interface UserInfoJson {
  user: string;
  account: string;
  permissions?: Json;
  expires?: number;
}

/** SYS (the system account) with user sys; APP with a restricted user and an unrestricted one. */
function authorization(jetstream: boolean): AuthorizationConfig {
  const authz = emptyAuthorization();
  authz.accounts = [
    { name: 'SYS', users: [], nkeys: [], exports: [], imports: [] },
    {
      name: 'APP',
      users: [],
      nkeys: [],
      exports: [],
      imports: [],
      ...(jetstream ? { jetstream: unlimitedJsAccount() } : {}),
    },
  ];
  authz.users = [
    { user: 'sys', password: 'p', account: 'SYS' },
    {
      user: 'limited',
      password: 'p',
      account: 'APP',
      permissions: {
        publish: { allow: ['$SYS.REQ.USER.INFO'] },
        subscribe: { allow: ['_INBOX.>'], deny: ['app.secret'] },
        responses: { max: 1, expires: 60_000 },
      },
    },
    { user: 'app', password: 'p', account: 'APP' },
  ];
  return authz;
}

async function requestJson(nc: NatsConnection, subject: string, body = ''): Promise<Json> {
  return (await nc.request(subject, body, { timeout: 2000 })).json<Json>();
}

async function withServer(
  run: (server: Server, sys: NatsConnection, app: NatsConnection) => Promise<void>,
  jetstreamDir?: string,
): Promise<void> {
  const server = await startServer({
    authorization: authorization(jetstreamDir !== undefined),
    systemAccount: 'SYS',
    serverName: 'sys210',
    httpPort: -1,
    ...(jetstreamDir !== undefined ? { jetstream: { storeDir: jetstreamDir } } : {}),
  });
  const sys = await connect({ servers: urlOf(server), user: 'sys', pass: 'p' });
  const app = await connect({ servers: urlOf(server), user: 'app', pass: 'p' });
  try {
    await run(server, sys, app);
  } finally {
    await sys.close();
    await app.close();
    await server.shutdown();
  }
}

test('IDZ answers with the bare server identity, over PING and by server id; 2.10 flags and gomaxprocs', async () => {
  await withServer(async (server, sys) => {
    const expected = { name: 'sys210', host: '127.0.0.1', id: server.id };
    assert.deepEqual(await requestJson(sys, '$SYS.REQ.SERVER.PING.IDZ'), expected);
    assert.deepEqual(await requestJson(sys, `$SYS.REQ.SERVER.${server.id}.IDZ`), expected);
    // The server object of the other replies carries 2.10's capability flags (no JetStream here).
    const varz = await requestJson(sys, '$SYS.REQ.SERVER.PING.VARZ');
    const info = varz.server as Json;
    assert.equal(info.flags, 0);
    assert.deepEqual(Object.keys(info), ['name', 'host', 'id', 'ver', 'jetstream', 'flags', 'seq', 'time']);
    // RAFTZ without clustered JetStream: no groups.
    assert.deepEqual((await requestJson(sys, '$SYS.REQ.SERVER.PING.RAFTZ')).data, {});
    // Statsz has 2.10's gomaxprocs, last.
    const statsz = (await requestJson(sys, '$SYS.REQ.SERVER.PING.STATSZ')).statsz as Json;
    assert.equal(statsz.gomaxprocs, 1);
    assert.equal(Object.keys(statsz).at(-1), 'gomaxprocs');
  });
});

test('$SYS.REQ.USER.INFO tells a user of a normal account who it is, with its permissions', async () => {
  await withServer(async (server, sys) => {
    const limited = await connect({ servers: urlOf(server), user: 'limited', pass: 'p' });
    try {
      const reply = await requestJson(limited, '$SYS.REQ.USER.INFO');
      assert.equal((reply.server as Json).id, server.id);
      assert.deepEqual(reply.data, {
        user: 'limited',
        account: 'APP',
        permissions: {
          publish: { allow: ['$SYS.REQ.USER.INFO'] },
          subscribe: { allow: ['_INBOX.>'], deny: ['app.secret'] },
          responses: { max: 1, ttl: 60_000_000_000 },
        },
      });
      // An unrestricted user of the system account: no permissions in the answer.
      const own = await requestJson(sys, '$SYS.REQ.USER.INFO');
      assert.deepEqual(own.data, { user: 'sys', account: 'SYS' });
      // The mapped subject, asked directly in the system account, describes the sender.
      const direct = await requestJson(sys, '$SYS.REQ.USER.APP.INFO');
      assert.deepEqual(direct.data, { user: 'sys', account: 'SYS' });
    } finally {
      await limited.close();
    }
  });
});

test('$SYS.REQ.ACCOUNT.<account>.<EP> answer for that account only', async () => {
  await withServer(async (server, sys, app) => {
    app.subscribe('app.orders');
    await app.flush();

    const connz = (await requestJson(sys, '$SYS.REQ.ACCOUNT.APP.CONNZ', JSON.stringify({ auth: true })))
      .data as { connections: { authorized_user: string; account: string }[]; num_connections: number };
    assert.equal(connz.num_connections, 1);
    assert.equal(connz.connections[0]!.authorized_user, 'app');
    assert.equal(connz.connections[0]!.account, 'APP');

    const subsz = (await requestJson(sys, '$SYS.REQ.ACCOUNT.APP.SUBSZ')).data as {
      subscriptions_list: { subject: string; account: string }[];
    };
    assert.deepEqual(
      subsz.subscriptions_list.map((s) => [s.account, s.subject]),
      [['APP', 'app.orders']],
    );

    const info = (await requestJson(sys, '$SYS.REQ.ACCOUNT.APP.INFO')).data as Json;
    assert.equal(info.account_name, 'APP');
    assert.equal(info.client_connections, 1);
    const missing = await requestJson(sys, '$SYS.REQ.ACCOUNT.NOPE.INFO');
    assert.deepEqual(missing.error, { code: 500, description: 'Account NOPE does not exist' });

    const statz = (await requestJson(sys, '$SYS.REQ.ACCOUNT.APP.STATZ')).data as {
      server_id: string;
      account_statz: { acc: string; conns: number }[];
    };
    assert.equal(statz.server_id, server.id);
    assert.deepEqual(
      statz.account_statz.map((a) => [a.acc, a.conns]),
      [['APP', 1]],
    );
    // An account without connections: no answer, unless unused ones are asked for.
    await assert.rejects(sys.request('$SYS.REQ.ACCOUNT.$G.STATZ', '', { timeout: 300 }));
    const unused = (
      await requestJson(sys, '$SYS.REQ.ACCOUNT.$G.STATZ', JSON.stringify({ include_unused: true }))
    ).data as { account_statz: { acc: string; conns: number }[] };
    assert.deepEqual(
      unused.account_statz.map((a) => [a.acc, a.conns]),
      [['$G', 0]],
    );

    const ping = (await requestJson(sys, '$SYS.REQ.ACCOUNT.PING.STATZ')).data as {
      account_statz: { acc: string }[];
    };
    assert.deepEqual(ping.account_statz.map((a) => a.acc).sort(), ['APP', 'SYS']);

    const leafz = (await requestJson(sys, '$SYS.REQ.ACCOUNT.APP.LEAFZ')).data as Json;
    assert.equal(leafz.leafnodes, 0);

    const jsz = await requestJson(sys, '$SYS.REQ.ACCOUNT.APP.JSZ');
    assert.deepEqual(jsz.error, { code: 500, description: 'jetstream not enabled' });
  });
});

test('every account imports CONNZ and STATZ about itself from the system account', async () => {
  await withServer(async (_server, sys, app) => {
    const viaServerPing = (
      await requestJson(app, '$SYS.REQ.SERVER.PING.CONNZ', JSON.stringify({ auth: true }))
    ).data as { connections: { authorized_user: string }[] };
    assert.deepEqual(
      viaServerPing.connections.map((c) => c.authorized_user),
      ['app'],
    );
    const viaAccountPing = (await requestJson(app, '$SYS.REQ.ACCOUNT.PING.CONNZ')).data as {
      num_connections: number;
    };
    assert.equal(viaAccountPing.num_connections, 1);
    const statz = (await requestJson(app, '$SYS.REQ.ACCOUNT.PING.STATZ')).data as {
      account_statz: { acc: string }[];
    };
    assert.deepEqual(
      statz.account_statz.map((a) => a.acc),
      ['APP'],
    );
    // Only CONNZ is imported: the other server requests stay in the system account.
    await assert.rejects(app.request('$SYS.REQ.SERVER.PING.VARZ', '', { timeout: 1000 }), /no responders/i);
    // The system account still sees every connection on the unmapped subject.
    const all = (await requestJson(sys, '$SYS.REQ.SERVER.PING.CONNZ')).data as { num_connections: number };
    assert.equal(all.num_connections, 2);
  });
});

test('$SYS.REQ.ACCOUNT.<account>.JSZ: the account JetStream details', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsnats-sys210-'));
  try {
    await withServer(async (server, sys) => {
      const owner = await connect({ servers: urlOf(server), user: 'app', pass: 'p' });
      try {
        const jsm = await jetstreamManager(owner);
        await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
      } finally {
        await owner.close();
      }
      const reply = await requestJson(sys, '$SYS.REQ.ACCOUNT.APP.JSZ', JSON.stringify({ streams: true }));
      const detail = reply.data as { name: string; stream_detail?: { name: string }[] };
      assert.equal(detail.name, 'APP');
      assert.deepEqual(
        detail.stream_detail?.map((s) => s.name),
        ['ORDERS'],
      );
      const info = reply.server as Json;
      assert.equal(info.jetstream, true);
      assert.equal(info.flags, 1);
      const notEnabled = await requestJson(sys, '$SYS.REQ.ACCOUNT.SYS.JSZ');
      assert.deepEqual(notEnabled.error, { code: 500, description: 'account "SYS" not jetstream enabled' });
    }, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('$SYS.REQ.SERVER.<id>.KICK closes a client; an unknown id is an error', async () => {
  await withServer(async (server, sys) => {
    const victim = await connect({ servers: urlOf(server), user: 'app', pass: 'p', reconnect: false });
    const cid = victim.info!.client_id;
    const closed = victim.closed();
    const reply = await requestJson(sys, `$SYS.REQ.SERVER.${server.id}.KICK`, JSON.stringify({ cid }));
    assert.deepEqual(Object.keys(reply), ['server']);
    await closed;
    const connz = (await requestJson(sys, '$SYS.REQ.SERVER.PING.CONNZ', JSON.stringify({ state: 1, cid })))
      .data as { connections: { reason: string }[] };
    assert.equal(connz.connections[0]?.reason, 'Kicked');
    const unknown = await requestJson(
      sys,
      `$SYS.REQ.SERVER.${server.id}.KICK`,
      JSON.stringify({ cid: 9999 }),
    );
    assert.deepEqual(unknown.error, { code: 500, description: 'no such client or leafnode id' });
    // A body that is not a request gets no answer.
    await assert.rejects(sys.request(`$SYS.REQ.SERVER.${server.id}.KICK`, 'nonsense', { timeout: 300 }));
  });
});

test('$SYS.REQ.SERVER.<id>.LDM tells one client that the server goes into lame duck mode', async () => {
  await withServer(async (server, sys, app) => {
    const ldm = (async () => {
      for await (const s of app.status()) if (s.type === 'ldm') return true;
      return false;
    })();
    const cid = app.info!.client_id;
    const reply = await requestJson(sys, `$SYS.REQ.SERVER.${server.id}.LDM`, JSON.stringify({ cid }));
    assert.deepEqual(Object.keys(reply), ['server']);
    assert.equal(await ldm, true);
    const unknown = await requestJson(sys, `$SYS.REQ.SERVER.${server.id}.LDM`, JSON.stringify({ cid: 9999 }));
    assert.deepEqual(unknown.error, { code: 500, description: 'no such client id' });
  });
});

test('$SYS.REQ.SERVER.<id>.RELOAD reloads the configuration file, or says why not', async () => {
  await withServer(async (server, sys) => {
    const reply = await requestJson(sys, `$SYS.REQ.SERVER.${server.id}.RELOAD`);
    assert.equal((reply.error as { code: number }).code, 500);
  });
  const dir = mkdtempSync(join(tmpdir(), 'tsnats-reload210-'));
  const file = join(dir, 'server.conf');
  const conf = (maxPayload: string): string =>
    `listen: 127.0.0.1:-1\nmax_payload: ${maxPayload}\naccounts { SYS { users [{user: sys, password: p}] } }\nsystem_account: SYS\n`;
  writeFileSync(file, conf('1KB'));
  const server = Server.fromConfigFile(file, { noLog: true });
  try {
    await server.ready();
    const sys = await connect({ servers: urlOf(server), user: 'sys', pass: 'p' });
    try {
      assert.equal(sys.info?.max_payload, 1024);
      writeFileSync(file, conf('4KB'));
      const reply = await requestJson(sys, `$SYS.REQ.SERVER.${server.id}.RELOAD`);
      assert.deepEqual(Object.keys(reply), ['server']);
      const after = await connect({ servers: urlOf(server), user: 'sys', pass: 'p' });
      assert.equal(after.info?.max_payload, 4096);
      await after.close();
    } finally {
      await sys.close();
    }
  } finally {
    await server.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('HEALTHZ of 2.10: status_code over NATS, one JetStream asset, details', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsnats-health210-'));
  try {
    await withServer(async (server, sys, app) => {
      const jsm = await jetstreamManager(app);
      await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
      await jsm.consumers.add('ORDERS', { durable_name: 'ship' });
      const health = async (opts: Json): Promise<Json> =>
        (await requestJson(sys, '$SYS.REQ.SERVER.PING.HEALTHZ', JSON.stringify(opts))).data as Json;
      assert.deepEqual(await health({}), { status: 'ok', status_code: 200 });
      assert.deepEqual(await health({ account: 'APP', stream: 'ORDERS', consumer: 'ship' }), {
        status: 'ok',
        status_code: 200,
      });
      const missing = 'JetStream stream "NOPE" not found on account "APP"';
      assert.deepEqual(await health({ account: 'APP', stream: 'NOPE' }), {
        status: 'unavailable',
        status_code: 404,
        error: missing,
      });
      assert.deepEqual(await health({ account: 'APP', stream: 'NOPE', details: true }), {
        status: 'error',
        status_code: 404,
        errors: [{ type: 'STREAM', account: 'APP', stream: 'NOPE', error: missing }],
      });
      assert.deepEqual(await health({ account: 'APP', stream: 'ORDERS', consumer: 'nope' }), {
        status: 'unavailable',
        status_code: 404,
        error: 'JetStream consumer "nope" not found for stream "ORDERS" on account "APP"',
      });
      assert.deepEqual(await health({ account: 'NOPE' }), {
        status: 'unavailable',
        status_code: 404,
        error: 'JetStream account "NOPE" not found',
      });
      assert.deepEqual(await health({ stream: 'ORDERS' }), {
        status: 'error',
        status_code: 400,
        error: '"account" must not be empty when checking stream health',
      });
      // Over HTTP the code is the response status and is left out of the body.
      const base = server.monitor!.url;
      const ok = await fetch(`${base}/healthz?account=APP&stream=ORDERS`);
      assert.deepEqual([ok.status, await ok.json()], [200, { status: 'ok' }]);
      const notFound = await fetch(`${base}/healthz?account=APP&stream=NOPE&details=true`);
      assert.deepEqual(
        [notFound.status, await notFound.json()],
        [
          404,
          { status: 'error', errors: [{ type: 'STREAM', account: 'APP', stream: 'NOPE', error: missing }] },
        ],
      );
      const bad = await fetch(`${base}/healthz?consumer=ship`);
      assert.deepEqual(
        [bad.status, await bad.json()],
        [400, { status: 'error', error: '"stream" must not be empty when checking consumer health' }],
      );
    }, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('operator mode: an account made from its JWT gets the system imports; USER.INFO shows the JWT permissions and expiry', async () => {
  const setup = operatorSetup();
  const server = await launch({ kind: 'tsnats', config: setup.config });
  try {
    const expiresIn = 3600;
    const user = makeUser(
      setup.a,
      { pub: { allow: ['$SYS.REQ.USER.INFO', '$SYS.REQ.SERVER.PING.CONNZ'] }, sub: { allow: ['_INBOX.>'] } },
      { exp: Math.floor(Date.now() / 1000) + expiresIn },
    );
    const nc = await mustConnect(server.url, credsOpts(user.creds));
    try {
      const info = (await requestJson(nc, '$SYS.REQ.USER.INFO')).data as UserInfoJson;
      assert.equal(info.user, user.key.getPublicKey());
      assert.equal(info.account, setup.a.getPublicKey());
      assert.deepEqual(info.permissions, {
        publish: { allow: ['$SYS.REQ.USER.INFO', '$SYS.REQ.SERVER.PING.CONNZ'] },
        subscribe: { allow: ['_INBOX.>'] },
      });
      // Nanoseconds, whole seconds, a little under the hour the JWT has left.
      assert.equal(info.expires! % 1e9, 0);
      assert.ok(
        info.expires! <= expiresIn * 1e9 && info.expires! >= (expiresIn - 30) * 1e9,
        String(info.expires),
      );
      const connz = (await requestJson(nc, '$SYS.REQ.SERVER.PING.CONNZ')).data as { num_connections: number };
      assert.equal(connz.num_connections, 1);
    } finally {
      await nc.close();
    }
  } finally {
    await server.stop();
  }
});

test('in a cluster every server answers a CONNZ ping from a normal account, for that account', async () => {
  const config = { authorization: authorization(false), systemAccount: 'SYS' };
  const a = await TsNode.start({ name: 'ping-a', config });
  const b = await TsNode.start({ name: 'ping-b', routes: [a.routeUrl], config });
  try {
    await waitForMesh([a, b]);
    const onA = await connect({ servers: a.url, user: 'app', pass: 'p' });
    const onB = await connect({ servers: b.url, user: 'app', pass: 'p' });
    try {
      const servers = new Set<string>();
      let connections = 0;
      // The system account's interest on the other server comes with the route: ask until both answer.
      await waitFor(
        async () => {
          servers.clear();
          connections = 0;
          const replies = await onA.requestMany('$SYS.REQ.SERVER.PING.CONNZ', '', { maxWait: 500 });
          for await (const m of replies) {
            const r = m.json<{ server: { name: string }; data: { num_connections: number } }>();
            servers.add(r.server.name);
            connections += r.data.num_connections;
          }
          return servers.size === 2;
        },
        10_000,
        'both servers to answer',
      );
      assert.deepEqual([...servers].sort(), ['ping-a', 'ping-b']);
      assert.equal(connections, 2);
    } finally {
      await onA.close();
      await onB.close();
    }
  } finally {
    await stopAll([a, b]);
  }
});

test('entering lame duck mode is announced on $SYS.SERVER.<id>.LAMEDUCK', async () => {
  const server = await startServer({
    authorization: authorization(false),
    systemAccount: 'SYS',
    lameDuckGracePeriod: 50,
    lameDuckDuration: 300,
  });
  const sys = await connect({ servers: urlOf(server), user: 'sys', pass: 'p', reconnect: false });
  try {
    const sub = sys.subscribe('$SYS.SERVER.*.LAMEDUCK', { max: 1 });
    await sys.flush();
    const done = server.lameDuck();
    for await (const m of sub) {
      assert.equal(m.subject, `$SYS.SERVER.${server.id}.LAMEDUCK`);
      assert.equal(m.json<{ id: string }>().id, server.id);
    }
    assert.equal(sub.getProcessed(), 1);
    await done;
  } finally {
    await sys.close().catch(() => {});
    await server.shutdown();
  }
});
