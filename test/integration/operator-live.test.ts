/**
 * Operator mode, live: account JWTs pushed on `$SYS.REQ.ACCOUNT.<acc>.CLAIMS.UPDATE` change what the
 * account's connected clients may do (imports, revocations, limits), and the JWT limits (`conn`,
 * `subs`, `payload` of accounts and users) are enforced with nats-server's errors. Each check runs
 * against tsnats and, when installed, nats-server 2.9.10 with the same config.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createAccount, createOperator, createUser, type KeyPair } from '@nats-io/nkeys';
import type { NatsConnection } from '@nats-io/transport-node';
import { accountJwt, accountLimits, makeUser, operatorJwt, userJwt } from '../helpers/jwt.js';
import { type Launched, launch, type ServerKind } from '../helpers/launcher.js';
import { credsOpts, mustConnect, nextError, refused, roundTrip } from '../helpers/operator-client.js';
import { connect as rawConnect } from '../helpers/raw-conn.js';
import { hasReference } from '../helpers/reference.js';
import { waitFor } from '../helpers/wait-for.js';

const KINDS: ServerKind[] = hasReference() ? ['tsnats', 'nats-server'] : ['tsnats'];

/** The account claims' limits nsc writes, with some changed. */
function limits(over: Record<string, unknown>): Record<string, unknown> {
  return { limits: accountLimits(over) };
}

for (const kind of KINDS) {
  describe(`operator mode, live account updates and JWT limits (${kind})`, () => {
    // Made in before(): a suite whose tests are all filtered out runs no hooks, and would leak it.
    let dir = '';
    const op = createOperator();
    const sys = createAccount();
    let server: Launched;
    let sysConn: NatsConnection;
    const open: NatsConnection[] = [];

    /** Push an account JWT as nsc does, and check that it was taken. */
    async function push(acc: KeyPair, nats: Record<string, unknown> = {}, extra = {}): Promise<void> {
      const m = await sysConn.request(
        `$SYS.REQ.ACCOUNT.${acc.getPublicKey()}.CLAIMS.UPDATE`,
        accountJwt(acc, op, nats, extra),
        { timeout: 2000 },
      );
      assert.equal(JSON.parse(m.string()).data?.message, 'jwt updated', m.string());
    }

    async function user(acc: KeyPair, nats: Record<string, unknown> = {}): Promise<NatsConnection> {
      const nc = await mustConnect(server.url, credsOpts(makeUser(acc, nats).creds));
      open.push(nc);
      return nc;
    }

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `tsnats-live-${kind}-`));
      const config = `operator: ${operatorJwt(op, { system_account: sys.getPublicKey() })}
system_account: ${sys.getPublicKey()}
resolver { type: full, dir: "${dir}" }
resolver_preload: { ${sys.getPublicKey()}: ${accountJwt(sys, op)} }
`;
      server = await launch({ kind, config });
      sysConn = await mustConnect(server.url, credsOpts(makeUser(sys).creds));
    });
    after(async () => {
      await Promise.all(open.map((nc) => (nc.isClosed() ? undefined : nc.close())));
      await sysConn.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('exports and imports added and removed by claims updates apply to connected clients', async () => {
      const x = createAccount();
      const y = createAccount();
      await push(x);
      await push(y);
      const ux = await user(x);
      const uy = await user(y);
      assert.equal(await roundTrip(ux, uy, 'news.a'), false, 'isolated at first');
      await push(x, { exports: [{ name: 'news', subject: 'news.>', type: 'stream' }] });
      await push(y, {
        imports: [{ name: 'news', subject: 'news.>', account: x.getPublicKey(), type: 'stream' }],
      });
      assert.equal(await roundTrip(ux, uy, 'news.a'), true, 'imported after the updates');
      // The exporter withdraws the export: the import is no longer authorized.
      await push(x);
      assert.equal(await roundTrip(ux, uy, 'news.b'), false, 'export withdrawn');
    });

    test('an import whose exporter comes later is completed when the exporter is first used; no duplicates', async () => {
      const x = createAccount();
      const y = createAccount();
      const z = createAccount();
      const stream = (from: KeyPair, subject: string) => ({
        name: subject,
        subject,
        account: from.getPublicKey(),
        type: 'stream',
      });
      // y imports from x (not known yet) and from z (known).
      await push(z, { exports: [{ name: 'zz', subject: 'zz.>', type: 'stream' }] });
      await push(y, { imports: [stream(x, 'xx.>'), stream(z, 'zz.>')] });
      const uy = await user(y);
      /** Exactly one copy of a message on `subject` from `pub` reaches y, once the import works. */
      const once = async (pub: NatsConnection, subject: string): Promise<void> => {
        await waitFor(() => roundTrip(pub, uy, `${subject}.a`), 5000, `${subject} imported`);
        const sub = uy.subscribe(`${subject}.b`);
        await uy.flush();
        pub.publish(`${subject}.b`, 'once');
        await pub.flush();
        // Absence of a second copy needs a window.
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(sub.getReceived(), 1, `${subject}: one copy`);
        sub.unsubscribe();
      };
      // z was made for y's import, while y's imports were being made.
      await once(await user(z), 'zz');
      // x comes later: its first user makes it, and y's import from it is completed.
      await push(x, { exports: [{ name: 'xx', subject: 'xx.>', type: 'stream' }] });
      await once(await user(x), 'xx');
      await once(await user(z), 'zz');
    });

    test('a user revoked by a claims update is disconnected with "User Authentication Revoked"', async () => {
      const x = createAccount();
      await push(x);
      const revokedKey = createUser();
      const iat = Math.floor(Date.now() / 1000) - 60;
      const jwt = userJwt(revokedKey, x, {}, { iat });
      const { credsText } = await import('../helpers/jwt.js');
      const nc = await mustConnect(server.url, credsOpts(credsText(jwt, revokedKey)));
      open.push(nc);
      const other = await user(x);
      const err = nextError(nc);
      await push(x, { revocations: { [revokedKey.getPublicKey()]: iat + 1 } });
      assert.match(await err, /User Authentication Revoked/i);
      await nc.closed();
      assert.equal(other.isClosed(), false);
      await other.flush();
      assert.match(
        await refused(server.url, credsOpts(credsText(jwt, revokedKey))),
        /Authorization Violation/,
      );
    });

    test('account connection limit: refused past `conn`, and lowering it closes the oldest', async () => {
      const x = createAccount();
      await push(x, limits({ conn: 2 }));
      const first = await user(x);
      const second = await user(x);
      // A raw connection sees the exact bytes (nats.js may see a reset, as the server closes at once).
      const raw = await rawConnect(server.port);
      try {
        const bearer = userJwt(createUser(), x, { bearer_token: true });
        raw.send(`CONNECT {"jwt":"${bearer}","verbose":false,"pedantic":false,"protocol":1}\r\nPING\r\n`);
        const r = await raw.readUntilClosed();
        assert.equal(r.text, "-ERR 'maximum account active connections exceeded'\r\n");
      } finally {
        raw.close();
      }
      const err = nextError(first);
      await push(x, limits({ conn: 1 }));
      assert.match(await err, /maximum account active connections exceeded/);
      await first.closed();
      await second.flush();
      assert.equal(second.isClosed(), false);
    });

    test('account subs limit lowered by an update: a client at the limit is told and closed', async () => {
      const x = createAccount();
      await push(x, limits({}));
      const busy = await user(x);
      busy.subscribe('a');
      busy.subscribe('b');
      await busy.flush();
      const quiet = await user(x);
      const err = nextError(busy);
      await push(x, limits({ subs: 2 }));
      assert.match(await err, /maximum subscriptions exceeded/);
      await busy.closed();
      // Below the limit: the client stays, and its subscription past the limit is refused.
      quiet.subscribe('c');
      quiet.subscribe('d');
      const refusedSub = nextError(quiet);
      quiet.subscribe('e');
      await quiet.flush().catch(() => undefined);
      assert.match(await refusedSub, /maximum subscriptions exceeded/);
      await quiet.flush();
      assert.equal(quiet.isClosed(), false);
    });

    test('user JWT limits: subs refuses the next subscription, payload lowers INFO max_payload', async () => {
      const x = createAccount();
      await push(x, limits({}));
      const nc = await user(x, { subs: 1, payload: 8 });
      nc.subscribe('one');
      const err = nextError(nc);
      nc.subscribe('two');
      await nc.flush().catch(() => undefined);
      assert.match(await err, /maximum subscriptions exceeded/);
      // The first PONG came with an INFO carrying the user's payload limit.
      assert.equal((nc.info as unknown as { max_payload: number }).max_payload, 8);
      assert.equal(nc.isClosed(), false);
    });

    test('a claims update lowers a live payload limit: "Maximum Payload Violation"', async () => {
      const x = createAccount();
      await push(x, limits({}));
      const bearer = userJwt(createUser(), x, { bearer_token: true });
      const raw = await rawConnect(server.port);
      try {
        raw.send(`CONNECT {"jwt":"${bearer}","verbose":false,"pedantic":false,"protocol":1}\r\nPING\r\n`);
        await raw.expect('PONG\r\n', { take: true });
        raw.send('PUB big 20\r\n01234567890123456789\r\n');
        await raw.drain();
        await push(x, limits({ payload: 16 }));
        raw.send('PUB big 20\r\n01234567890123456789\r\n');
        const closed = await raw.readUntilClosed();
        assert.match(closed.text, /-ERR 'Maximum Payload Violation'\r\n/);
        assert.equal(closed.closed, true);
      } finally {
        raw.close();
      }
    });

    test('scoped signing keys: the template gives permissions and limits; removing the key closes its users', async () => {
      const x = createAccount();
      const sk = createAccount();
      const scope = {
        kind: 'user_scope',
        key: sk.getPublicKey(),
        role: 'svc',
        template: {
          pub: { allow: ['svc.{{name()}}.>', '_INBOX.>'] },
          sub: { allow: ['_INBOX.>', 'svc.{{name()}}.>'] },
          subs: 5,
          payload: 100,
        },
      };
      await push(x, { ...limits({}), signing_keys: [scope] });
      const { signJwt, credsText } = await import('../helpers/jwt.js');
      const key = createUser();
      const jwt = signJwt(
        {
          sub: key.getPublicKey(),
          name: 'alice',
          nats: { pub: {}, sub: {}, type: 'user', version: 2, issuer_account: x.getPublicKey() },
        },
        sk,
      );
      const nc = await mustConnect(server.url, credsOpts(credsText(jwt, key)));
      open.push(nc);
      await nc.flush();
      assert.equal((nc.info as unknown as { max_payload: number }).max_payload, 100);
      const other = await user(x);
      assert.equal(await roundTrip(nc, other, 'svc.alice.ping'), true, 'template allows svc.alice.>');
      const err = nextError(nc);
      nc.publish('svc.bob.ping', 'x');
      assert.match(await err, /Permissions Violation for Publish to "svc.bob.ping"/);
      // A user signed by the scoped key may not carry its own permissions or limits.
      const own = createUser();
      const ownJwt = signJwt(
        {
          sub: own.getPublicKey(),
          nats: { pub: { allow: ['>'] }, type: 'user', version: 2, issuer_account: x.getPublicKey() },
        },
        sk,
      );
      assert.match(await refused(server.url, credsOpts(credsText(ownJwt, own))), /Authorization Violation/);
      // The key is removed from the account: its users are closed.
      await push(x, limits({}));
      await nc.closed();
      await other.flush();
      assert.equal(other.isClosed(), false);
    });

    test('an account JWT that expires closes its clients with "Account Authentication Expired"', async () => {
      const x = createAccount();
      await push(x, limits({}), { exp: Math.floor(Date.now() / 1000) + 2 });
      const nc = await user(x);
      const closed = await nc.closed();
      assert.match(String(closed), /Account Authentication Expired/);
      assert.match(await refused(server.url, credsOpts(makeUser(x).creds)), /Authorization Violation/);
    });

    test('activation tokens: private exports need one; expired or revoked tokens lose the import', async () => {
      const { signJwt } = await import('../helpers/jwt.js');
      const x = createAccount();
      const y = createAccount();
      const z = createAccount();
      const w = createAccount();
      const activation = (to: KeyPair, extra: Record<string, unknown> = {}): string =>
        signJwt(
          {
            sub: to.getPublicKey(),
            ...extra,
            nats: { subject: 'priv.>', kind: 'stream', type: 'activation', version: 2 },
          },
          x,
        );
      const exportsOf = (revocations?: Record<string, number>) => ({
        exports: [
          {
            name: 'priv',
            subject: 'priv.>',
            type: 'stream',
            token_req: true,
            ...(revocations ? { revocations } : {}),
          },
        ],
      });
      const importOf = (token?: string) => ({
        imports: [
          {
            name: 'priv',
            subject: 'priv.>',
            account: x.getPublicKey(),
            type: 'stream',
            ...(token ? { token } : {}),
          },
        ],
      });
      await push(x, exportsOf());
      await push(y, importOf(activation(y)));
      await push(z, importOf());
      await push(w, importOf(activation(w, { exp: Math.floor(Date.now() / 1000) + 2 })));
      const ux = await user(x);
      const uy = await user(y);
      const uz = await user(z);
      const uw = await user(w);
      assert.equal(await roundTrip(ux, uy, 'priv.a'), true, 'with a token');
      assert.equal(await roundTrip(ux, uz, 'priv.a'), false, 'without a token');
      assert.equal(await roundTrip(ux, uw, 'priv.a'), true, 'before the token expires');
      // The token expires 2 s after it was made: the import goes then.
      await waitFor(async () => !(await roundTrip(ux, uw, 'priv.b')), 6000, 'the expired activation');
      // The exporter revokes y's activation.
      await push(x, exportsOf({ [y.getPublicKey()]: Math.floor(Date.now() / 1000) + 1 }));
      assert.equal(await roundTrip(ux, uy, 'priv.c'), false, 'revoked');
    });

    test('a version 2 user JWT without limit fields has zero subscriptions (Go decodes them as 0)', async () => {
      const x = createAccount();
      await push(x, limits({}));
      const key = createUser();
      const { signJwt, credsText } = await import('../helpers/jwt.js');
      const jwt = signJwt(
        { sub: key.getPublicKey(), nats: { pub: {}, sub: {}, type: 'user', version: 2 } },
        x,
      );
      const nc = await mustConnect(server.url, credsOpts(credsText(jwt, key)));
      open.push(nc);
      const closed = await nc.closed();
      assert.match(String(closed), /maximum subscriptions exceeded/);
    });
  });
}

for (const kind of KINDS) {
  test(`operator mode (${kind}): JetStream for the accounts whose JWT enables it, with its limits`, async () => {
    const dir = mkdtempSync(join(tmpdir(), `tsnats-live-js-${kind}-`));
    const op = createOperator();
    const sys = createAccount();
    const config = `operator: ${operatorJwt(op, { system_account: sys.getPublicKey() })}
system_account: ${sys.getPublicKey()}
resolver { type: full, dir: "${dir}/jwt" }
resolver_preload: { ${sys.getPublicKey()}: ${accountJwt(sys, op)} }
`;
    const server = await launch({ kind, config, jetstream: true });
    const conns: NatsConnection[] = [];
    try {
      const sysConn = await mustConnect(server.url, credsOpts(makeUser(sys).creds));
      conns.push(sysConn);
      const push = async (acc: KeyPair, over: Record<string, unknown>): Promise<void> => {
        const m = await sysConn.request('$SYS.REQ.CLAIMS.UPDATE', accountJwt(acc, op, limits(over)), {
          timeout: 2000,
        });
        assert.match(m.string(), /jwt updated/);
      };
      const api = async (
        nc: NatsConnection,
        subject: string,
        body: unknown,
      ): Promise<Record<string, unknown>> =>
        JSON.parse((await nc.request(subject, JSON.stringify(body), { timeout: 2000 })).string());
      const stream = (name: string, storage = 'memory') => ({
        name,
        subjects: [name.toLowerCase()],
        storage,
        num_replicas: 1,
      });
      const withJs = createAccount();
      const without = createAccount();
      await push(withJs, { mem_storage: -1, disk_storage: -1, streams: 1, consumer: -1 });
      await push(without, {});
      const a = await mustConnect(server.url, credsOpts(makeUser(withJs).creds));
      const b = await mustConnect(server.url, credsOpts(makeUser(without).creds));
      conns.push(a, b);
      const off = await api(b, '$JS.API.INFO', {});
      assert.equal((off.error as Record<string, unknown>)?.err_code, 10039, JSON.stringify(off));
      const first = await api(a, '$JS.API.STREAM.CREATE.S1', stream('S1'));
      assert.equal(first.error, undefined, JSON.stringify(first));
      const second = await api(a, '$JS.API.STREAM.CREATE.S2', stream('S2'));
      assert.equal((second.error as Record<string, unknown>)?.err_code, 10027, JSON.stringify(second));
      // A claims update raises the limit for the account in use.
      await push(withJs, { mem_storage: -1, disk_storage: -1, streams: 2, consumer: -1 });
      const again = await api(a, '$JS.API.STREAM.CREATE.S2', stream('S2'));
      assert.equal(again.error, undefined, JSON.stringify(again));
      await push(withJs, { mem_storage: -1, disk_storage: -1, streams: 3, consumer: -1 });
      const onDisk = await api(a, '$JS.API.STREAM.CREATE.F1', stream('F1', 'file'));
      assert.equal(onDisk.error, undefined, JSON.stringify(onDisk));
      // A JWT without JetStream turns it off; one with it again brings the file stream back.
      await push(withJs, {});
      const disabled = await api(a, '$JS.API.INFO', {});
      assert.equal((disabled.error as Record<string, unknown>)?.err_code, 10039, JSON.stringify(disabled));
      await push(withJs, { mem_storage: -1, disk_storage: -1, streams: 3, consumer: -1 });
      const back = await api(a, '$JS.API.STREAM.INFO.F1', {});
      assert.equal(back.error, undefined, JSON.stringify(back));
    } finally {
      await Promise.all(conns.map((c) => c.close()));
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

const LEAF_PAIRS: [ServerKind, ServerKind][] = hasReference()
  ? [
      ['tsnats', 'tsnats'],
      ['tsnats', 'nats-server'],
      ['nats-server', 'tsnats'],
    ]
  : [['tsnats', 'tsnats']];

for (const [hubKind, leafKind] of LEAF_PAIRS) {
  test(`operator mode: a ${leafKind} leaf logs in to a ${hubKind} hub with user creds, bound to the JWT's account, within its \`leaf\` limit`, async () => {
    const dir = mkdtempSync(join(tmpdir(), `tsnats-leaf-jwt-${hubKind}-`));
    const op = createOperator();
    const sys = createAccount();
    const a = createAccount();
    const aJwt = accountJwt(a, op, limits({ leaf: 1 }));
    const config = `operator: ${operatorJwt(op, { system_account: sys.getPublicKey() })}
system_account: ${sys.getPublicKey()}
resolver: MEMORY
resolver_preload: {
  ${sys.getPublicKey()}: ${accountJwt(sys, op)}
  ${a.getPublicKey()}: ${aJwt}
}
`;
    const { startHub, startLeaf, waitForLeafs } = await import('../helpers/leafnodes.js');
    const { writeFileSync } = await import('node:fs');
    const creds = join(dir, 'leaf.creds');
    writeFileSync(creds, makeUser(a).creds);
    const hub = await startHub(hubKind, { config });
    const leafs: Launched[] = [];
    const conns: NatsConnection[] = [];
    try {
      leafs.push(
        await startLeaf(leafKind, `nats-leaf://127.0.0.1:${hub.leafPort}`, {
          remote: `credentials: "${creds}"`,
        }),
      );
      await waitForLeafs(hub, 1);
      const onHub = await mustConnect(hub.url, credsOpts(makeUser(a).creds));
      const { connect } = await import('@nats-io/transport-node');
      const onLeaf = await connect({ servers: leafs[0]!.url, reconnect: false });
      conns.push(onHub, onLeaf);
      await waitFor(() => roundTrip(onLeaf, onHub, 'from.leaf'), 10000, 'leaf → hub in account A');
      // A second leaf of the same account is over `leaf: 1`.
      leafs.push(
        await startLeaf(leafKind, `nats-leaf://127.0.0.1:${hub.leafPort}`, {
          remote: `credentials: "${creds}"`,
          name: 'leaf2',
        }),
      );
      await leafs[1]!.waitForLog(/maximum account active connections exceeded/, 10000);
      // A leaf without credentials is refused.
      leafs.push(await startLeaf(leafKind, `nats-leaf://127.0.0.1:${hub.leafPort}`, { name: 'leaf3' }));
      await leafs[2]!.waitForLog(/Authorization Violation/, 10000);
      const leafz = (await (await fetch(`${hub.monitorUrl}/leafz`)).json()) as { leafnodes: number };
      assert.equal(leafz.leafnodes, 1);
    } finally {
      await Promise.all(conns.map((c) => c.close()));
      for (const l of leafs) await l.stop();
      await hub.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

const CONN_PAIRS: [ServerKind, ServerKind][] = hasReference()
  ? [
      ['tsnats', 'tsnats'],
      ['tsnats', 'nats-server'],
      ['nats-server', 'tsnats'],
    ]
  : [['tsnats', 'tsnats']];

for (const [firstKind, secondKind] of CONN_PAIRS) {
  test(`operator mode in a cluster (${firstKind} + ${secondKind}): an account's \`conn\` limit counts both servers' clients`, async () => {
    const op = createOperator();
    const sys = createAccount();
    const a = createAccount();
    const conf = (
      routes: string,
    ): string => `operator: ${operatorJwt(op, { system_account: sys.getPublicKey() })}
system_account: ${sys.getPublicKey()}
resolver: MEMORY
resolver_preload: {
  ${sys.getPublicKey()}: ${accountJwt(sys, op)}
  ${a.getPublicKey()}: ${accountJwt(a, op, limits({ conn: 2 }))}
}
cluster { name: conns, listen: "127.0.0.1:-1"${routes} }
`;
    const first = await launch({ kind: firstKind, config: conf(''), listeners: ['nats', 'cluster'] });
    let second: Launched | undefined;
    const conns: NatsConnection[] = [];
    try {
      second = await launch({
        kind: secondKind,
        config: conf(`, routes: ["nats://127.0.0.1:${first.clusterPort}"]`),
        listeners: ['nats', 'cluster'],
      });
      const sysA = await mustConnect(first.url, credsOpts(makeUser(sys).creds));
      const sysB = await mustConnect(second.url, credsOpts(makeUser(sys).creds));
      conns.push(sysA, sysB);
      // The route carries the system account's traffic once this round trip works.
      await waitFor(() => roundTrip(sysA, sysB, 'route.up'), 10000, 'the route');
      conns.push(await mustConnect(first.url, credsOpts(makeUser(a).creds)));
      conns.push(await mustConnect(second.url, credsOpts(makeUser(a).creds)));
      const bearer = userJwt(createUser(), a, { bearer_token: true });
      // Once the first server has heard of the second's client, a third client is over the limit.
      const port = first.port;
      await waitFor(
        async () => {
          const raw = await rawConnect(port);
          try {
            raw.send(`CONNECT {"jwt":"${bearer}","verbose":false,"pedantic":false,"protocol":1}\r\nPING\r\n`);
            const r = await raw.readUntilClosed(500);
            return r.closed && r.text === "-ERR 'maximum account active connections exceeded'\r\n";
          } finally {
            raw.close();
          }
        },
        10000,
        'the third client refused',
      );
    } finally {
      await Promise.all(conns.map((c) => c.close()));
      await second?.stop();
      await first.stop();
    }
  });
}

for (const hubKind of KINDS) {
  test(`operator mode (${hubKind} hub): a leaf whose user is revoked by a claims update is disconnected`, async () => {
    const dir = mkdtempSync(join(tmpdir(), `tsnats-leaf-revoke-${hubKind}-`));
    const op = createOperator();
    const sys = createAccount();
    const a = createAccount();
    const config = `operator: ${operatorJwt(op, { system_account: sys.getPublicKey() })}
system_account: ${sys.getPublicKey()}
resolver { type: full, dir: "${dir}/jwt" }
resolver_preload: {
  ${sys.getPublicKey()}: ${accountJwt(sys, op)}
  ${a.getPublicKey()}: ${accountJwt(a, op, limits({}))}
}
`;
    const { startHub, startLeaf, waitForLeafs } = await import('../helpers/leafnodes.js');
    const { writeFileSync } = await import('node:fs');
    const { credsText } = await import('../helpers/jwt.js');
    const leafUser = createUser();
    const iat = Math.floor(Date.now() / 1000) - 60;
    const creds = join(dir, 'leaf.creds');
    writeFileSync(creds, credsText(userJwt(leafUser, a, {}, { iat }), leafUser));
    const hub = await startHub(hubKind, { config });
    let leaf: Launched | undefined;
    let sysConn: NatsConnection | undefined;
    try {
      leaf = await startLeaf('tsnats', `nats-leaf://127.0.0.1:${hub.leafPort}`, {
        remote: `credentials: "${creds}"`,
      });
      await waitForLeafs(hub, 1);
      sysConn = await mustConnect(hub.url, credsOpts(makeUser(sys).creds));
      const jwt = accountJwt(a, op, { ...limits({}), revocations: { [leafUser.getPublicKey()]: iat + 1 } });
      const m = await sysConn.request('$SYS.REQ.CLAIMS.UPDATE', jwt, { timeout: 2000 });
      assert.match(m.string(), /jwt updated/);
      await leaf.waitForLog(/User Authentication Revoked/, 10000);
      await waitForLeafs(hub, 0);
    } finally {
      await sysConn?.close();
      await leaf?.stop();
      await hub.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

for (const hubKind of KINDS) {
  test(`operator mode (${hubKind} hub): a service import added to the leaf's account by a claims update reaches it, and goes with the next`, async () => {
    const dir = mkdtempSync(join(tmpdir(), `tsnats-leaf-import-${hubKind}-`));
    const op = createOperator();
    const sys = createAccount();
    const a = createAccount();
    const b = createAccount();
    const svcExport = { exports: [{ name: 'svc', subject: 'svc.>', type: 'service' }] };
    const config = `operator: ${operatorJwt(op, { system_account: sys.getPublicKey() })}
system_account: ${sys.getPublicKey()}
resolver { type: full, dir: "${dir}/jwt" }
resolver_preload: {
  ${sys.getPublicKey()}: ${accountJwt(sys, op)}
  ${a.getPublicKey()}: ${accountJwt(a, op, { ...limits({}), ...svcExport })}
  ${b.getPublicKey()}: ${accountJwt(b, op, limits({}))}
}
`;
    const { startHub, startLeaf, waitForLeafs } = await import('../helpers/leafnodes.js');
    const { writeFileSync } = await import('node:fs');
    const { connect } = await import('@nats-io/transport-node');
    const creds = join(dir, 'leaf.creds');
    writeFileSync(creds, makeUser(b).creds);
    const hub = await startHub(hubKind, { config });
    let leaf: Launched | undefined;
    const conns: NatsConnection[] = [];
    try {
      leaf = await startLeaf('tsnats', `nats-leaf://127.0.0.1:${hub.leafPort}`, {
        remote: `credentials: "${creds}"`,
      });
      await waitForLeafs(hub, 1);
      const sysConn = await mustConnect(hub.url, credsOpts(makeUser(sys).creds));
      const service = await mustConnect(hub.url, credsOpts(makeUser(a).creds));
      const onLeaf = await connect({ servers: leaf.url, reconnect: false });
      conns.push(sysConn, service, onLeaf);
      service.subscribe('svc.>', {
        callback: (_e, m) => {
          m.respond('pong');
        },
      });
      await service.flush();
      const push = async (nats: Record<string, unknown>): Promise<void> => {
        const m = await sysConn.request('$SYS.REQ.CLAIMS.UPDATE', accountJwt(b, op, nats), { timeout: 2000 });
        assert.match(m.string(), /jwt updated/);
      };
      const answered = async (): Promise<boolean> => {
        try {
          return (await onLeaf.request('svc.ping', '', { timeout: 500 })).string() === 'pong';
        } catch {
          return false;
        }
      };
      assert.equal(await answered(), false, 'no import yet');
      await push({
        ...limits({}),
        imports: [{ name: 'svc', subject: 'svc.>', account: a.getPublicKey(), type: 'service' }],
      });
      await waitFor(answered, 10000, 'the request through the new import');
      await push(limits({}));
      await waitFor(async () => !(await answered()), 10000, 'the import gone');
    } finally {
      await Promise.all(conns.map((c) => c.close()));
      await leaf?.stop();
      await hub.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
