/**
 * Operator mode with the full NATS resolver (`resolver { type: full, dir, allow_delete }`): account JWTs
 * in a directory, pushed, looked up, listed and deleted over the system account. The same checks run
 * against tsnats and, when installed, nats-server 2.9.10; replies are compared field by field.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createAccount, createOperator, createUser, type KeyPair } from '@nats-io/nkeys';
import type { NatsConnection } from '@nats-io/transport-node';
import { accountJwt, credsText, makeUser, operatorJwt, signJwt, userJwt } from '../helpers/jwt.js';
import { type Launched, launch, type ServerKind } from '../helpers/launcher.js';
import { credsOpts, mustConnect, nextError, refused } from '../helpers/operator-client.js';
import { hasReference } from '../helpers/reference.js';
import { waitFor } from '../helpers/wait-for.js';

const KINDS: ServerKind[] = hasReference() ? ['tsnats', 'nats-server'] : ['tsnats'];

interface Reply {
  data?: Record<string, unknown> | string[];
  error?: Record<string, unknown>;
  server?: Record<string, unknown>;
}

/** A trusted operator with its system account, and a full resolver config for a directory. */
function fullSetup(dir: string, preload: KeyPair[] = []) {
  const op = createOperator();
  const sys = createAccount();
  const jwts = new Map([sys, ...preload].map((a) => [a.getPublicKey(), accountJwt(a, op)]));
  const lines = [...jwts].map(([k, v]) => `  ${k}: ${v}`);
  const config = `operator: ${operatorJwt(op, { system_account: sys.getPublicKey() })}
system_account: ${sys.getPublicKey()}
resolver { type: full, dir: "${dir}", allow_delete: true }
resolver_preload: {
${lines.join('\n')}
}
`;
  return { op, sys, config, jwts };
}

async function request(nc: NatsConnection, subject: string, body: string): Promise<Reply> {
  const m = await nc.request(subject, body, { timeout: 2000 });
  return JSON.parse(m.string()) as Reply;
}

/** The delete request nsc sends: a generic JWT self-signed by the operator listing the accounts. */
function deleteRequest(signer: KeyPair, accounts: string[]): string {
  return signJwt({ sub: signer.getPublicKey(), nats: { accounts, type: 'generic', version: 2 } }, signer);
}

for (const kind of KINDS) {
  describe(`full account resolver (${kind})`, () => {
    // Made in before(): a suite whose tests are all filtered out runs no hooks, and would leak it.
    let dir = '';
    const a = createAccount();
    let setup: ReturnType<typeof fullSetup>;
    let server: Launched;
    let sysConn: NatsConnection;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `tsnats-jwtdir-${kind}-`));
      setup = fullSetup(dir, [a]);
      server = await launch({ kind, config: setup.config });
      sysConn = await mustConnect(server.url, credsOpts(makeUser(setup.sys).creds));
    });
    after(async () => {
      await sysConn.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('preloads are written to the directory as <key>.jwt, mode 0640', () => {
      const files = readdirSync(dir).sort();
      assert.deepEqual(files, [`${a.getPublicKey()}.jwt`, `${setup.sys.getPublicKey()}.jwt`].sort());
      assert.equal(statSync(join(dir, files[0]!)).mode & 0o777, 0o640);
    });

    test('an account pushed on $SYS.REQ.ACCOUNT.<acc>.CLAIMS.UPDATE is stored and can log in', async () => {
      const b = createAccount();
      const user = makeUser(b);
      assert.match(await refused(server.url, credsOpts(user.creds)), /Authorization Violation/);
      const bJwt = accountJwt(b, setup.op);
      const r = await request(sysConn, `$SYS.REQ.ACCOUNT.${b.getPublicKey()}.CLAIMS.UPDATE`, bJwt);
      assert.deepEqual(r.data, { account: b.getPublicKey(), code: 200, message: 'jwt updated' });
      assert.deepEqual(Object.keys(r), ['data', 'server']);
      assert.ok(existsSync(join(dir, `${b.getPublicKey()}.jwt`)));
      const nc = await mustConnect(server.url, credsOpts(user.creds));
      await nc.close();
      // The same JWT again is fine; $SYS.REQ.CLAIMS.UPDATE takes the account from the JWT.
      const again = await request(sysConn, '$SYS.REQ.CLAIMS.UPDATE', bJwt);
      assert.deepEqual(again.data, { account: b.getPublicKey(), code: 200, message: 'jwt updated' });
    });

    test('update errors, in nats-server words', async () => {
      const b = createAccount();
      const c = createAccount();
      const mismatch = await request(
        sysConn,
        `$SYS.REQ.ACCOUNT.${c.getPublicKey()}.CLAIMS.UPDATE`,
        accountJwt(b, setup.op),
      );
      assert.deepEqual(mismatch.error, {
        account: c.getPublicKey(),
        code: 500,
        description: 'jwt update resulted in error - subject does not match jwt content',
      });
      const garbage = await request(sysConn, '$SYS.REQ.CLAIMS.UPDATE', 'not a jwt');
      assert.deepEqual(garbage.error, {
        account: 'n/a',
        code: 500,
        description: 'jwt update resulted in error - expected 3 chunks',
      });
      // A JWT from another operator is stored (nats-server does not check the signer on update), but
      // nobody can log in to it.
      const stranger = await request(sysConn, '$SYS.REQ.CLAIMS.UPDATE', accountJwt(b, createOperator()));
      assert.equal((stranger.data as Record<string, unknown>).code, 200);
      assert.match(await refused(server.url, credsOpts(makeUser(b).creds)), /Authorization Violation/);
    });

    test('LOOKUP answers with the JWT; LIST lists the stored keys sorted', async () => {
      const stored = await sysConn.request(`$SYS.REQ.ACCOUNT.${a.getPublicKey()}.CLAIMS.LOOKUP`, '', {
        timeout: 2000,
      });
      assert.equal(stored.string(), setup.jwts.get(a.getPublicKey()));
      const list = await request(sysConn, '$SYS.REQ.CLAIMS.LIST', '');
      const keys = list.data as string[];
      assert.deepEqual(keys, [...keys].sort());
      assert.ok(keys.includes(a.getPublicKey()) && keys.includes(setup.sys.getPublicKey()));
      // No answer for an account this server does not have.
      await assert.rejects(
        sysConn.request(`$SYS.REQ.ACCOUNT.${createAccount().getPublicKey()}.CLAIMS.LOOKUP`, '', {
          timeout: 300,
        }),
      );
    });

    test('DELETE: refusals, then the account is gone and its clients are closed', async () => {
      const d = createAccount();
      await request(sysConn, '$SYS.REQ.CLAIMS.UPDATE', accountJwt(d, setup.op));
      const nc = await mustConnect(server.url, credsOpts(makeUser(d).creds));
      const err = nextError(nc);
      const byAccount = await request(
        sysConn,
        '$SYS.REQ.CLAIMS.DELETE',
        deleteRequest(d, [d.getPublicKey()]),
      );
      assert.deepEqual(byAccount.error, {
        code: 500,
        description: `delete accounts request by ${d.getPublicKey()} failed - not trusted`,
      });
      const sysDel = await request(
        sysConn,
        '$SYS.REQ.CLAIMS.DELETE',
        deleteRequest(setup.op, [setup.sys.getPublicKey()]),
      );
      assert.deepEqual(sysDel.error, {
        code: 500,
        description: `delete accounts request by ${setup.op.getPublicKey()} failed - not allowed to delete system account`,
      });
      const malformed = await request(sysConn, '$SYS.REQ.CLAIMS.DELETE', deleteRequest(setup.op, ['nope']));
      assert.equal(
        malformed.error?.description,
        `delete accounts request by ${setup.op.getPublicKey()} failed - malformed request`,
      );
      const ok = await request(
        sysConn,
        '$SYS.REQ.CLAIMS.DELETE',
        deleteRequest(setup.op, [d.getPublicKey()]),
      );
      assert.deepEqual(ok.data, { code: 200, message: 'deleted 1 accounts' });
      assert.match(await err, /Account Authentication Expired/);
      assert.ok(existsSync(join(dir, `${d.getPublicKey()}.jwt.deleted`)));
      assert.ok(!existsSync(join(dir, `${d.getPublicKey()}.jwt`)));
      assert.match(await refused(server.url, credsOpts(makeUser(d).creds)), /Authorization Violation/);
      const list = await request(sysConn, '$SYS.REQ.CLAIMS.LIST', '');
      assert.ok(!(list.data as string[]).includes(d.getPublicKey()));
    });
  });
}

test('the directory outlives the server, and nats-server and tsnats read each other’s', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsnats-jwtdir-shared-'));
  const setup = fullSetup(dir);
  const accounts: KeyPair[] = [];
  try {
    // Each server in turn pushes an account; the next one, on the same directory, lets its users in.
    const order: ServerKind[] = hasReference()
      ? ['nats-server', 'tsnats', 'nats-server']
      : ['tsnats', 'tsnats'];
    for (const kind of order) {
      const server = await launch({ kind, config: setup.config });
      try {
        for (const acc of accounts) {
          const nc = await mustConnect(server.url, credsOpts(makeUser(acc).creds));
          await nc.close();
        }
        const acc = createAccount();
        const sys = await mustConnect(server.url, credsOpts(makeUser(setup.sys).creds));
        const r = await request(sys, '$SYS.REQ.CLAIMS.UPDATE', accountJwt(acc, setup.op));
        assert.equal((r.data as Record<string, unknown>).code, 200, kind);
        await sys.close();
        accounts.push(acc);
      } finally {
        await server.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Two servers in a cluster, each with its own directory: `kinds[0]` gets the push, `kinds[1]` must learn
 * of it: from the update itself, or when `late` (it joins after the push) by looking the account up
 * from the other server at login.
 */
async function clusterPush(
  kinds: [ServerKind, ServerKind],
  late = false,
  secondType: 'full' | 'cache' = 'full',
  /** The second server learns by the directories' PACK sync (every second), without any login. */
  pack = false,
): Promise<void> {
  const dirs = kinds.map((k) => mkdtempSync(join(tmpdir(), `tsnats-jwtdir-${k}-`)));
  const op = createOperator();
  const sys = createAccount();
  const conf = (
    dir: string,
    routes: string,
    type = 'full',
  ): string => `operator: ${operatorJwt(op, { system_account: sys.getPublicKey() })}
system_account: ${sys.getPublicKey()}
resolver { type: ${type}, dir: "${dir}"${pack ? ', interval: "1s"' : ''} }
resolver_preload: { ${sys.getPublicKey()}: ${accountJwt(sys, op)} }
cluster { name: jwt, listen: "127.0.0.1:-1"${routes} }
`;
  const first = await launch({ kind: kinds[0], config: conf(dirs[0]!, ''), listeners: ['nats', 'cluster'] });
  let second: Launched | undefined;
  const conns: NatsConnection[] = [];
  const acc = createAccount();
  try {
    if (late) {
      const sys0 = await mustConnect(first.url, credsOpts(makeUser(sys).creds));
      const r = await request(sys0, '$SYS.REQ.CLAIMS.UPDATE', accountJwt(acc, op));
      assert.equal((r.data as Record<string, unknown>).message, 'jwt updated');
      await sys0.close();
    }
    second = await launch({
      kind: kinds[1],
      config: conf(dirs[1]!, `, routes: ["nats://127.0.0.1:${first.clusterPort}"]`, secondType),
      listeners: ['nats', 'cluster'],
    });
    const sysFirst = await mustConnect(first.url, credsOpts(makeUser(sys).creds));
    const sysSecond = await mustConnect(second.url, credsOpts(makeUser(sys).creds));
    conns.push(sysFirst, sysSecond);
    // The route is up once the second server's system subscriptions are seen from the first.
    await waitFor(
      async () => {
        try {
          await sysFirst.request(`$SYS.REQ.ACCOUNT.${sys.getPublicKey()}.CLAIMS.LOOKUP`, '', {
            timeout: 200,
          });
          const probe = sysSecond.subscribe('probe.route', { max: 1 });
          await sysSecond.flush();
          const got = (async () => {
            for await (const _ of probe) return true;
            return false;
          })();
          sysFirst.publish('probe.route');
          return await Promise.race([got, new Promise<boolean>((r) => setTimeout(() => r(false), 100))]);
        } catch {
          return false;
        }
      },
      10000,
      'the route',
    );
    if (!late) {
      const r = await request(
        sysFirst,
        `$SYS.REQ.ACCOUNT.${acc.getPublicKey()}.CLAIMS.UPDATE`,
        accountJwt(acc, op),
      );
      assert.equal((r.data as Record<string, unknown>).message, 'jwt updated');
    }
    const file = join(dirs[1]!, `${acc.getPublicKey()}.jwt`);
    if (pack) {
      await waitFor(() => existsSync(file), 5000, 'the PACK sync');
      return;
    }
    const url = second.url;
    await waitFor(
      async () => (await refused(url, credsOpts(makeUser(acc).creds))) === 'connected',
      5000,
      'login on the second server',
    );
    assert.ok(existsSync(file));
  } finally {
    await Promise.all(conns.map((c) => c.close()));
    await second?.stop();
    await first.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

const CLUSTER_KINDS: [ServerKind, ServerKind][] = hasReference()
  ? [
      ['tsnats', 'tsnats'],
      ['nats-server', 'nats-server'],
      ['nats-server', 'tsnats'],
      ['tsnats', 'nats-server'],
    ]
  : [['tsnats', 'tsnats']];

for (const kinds of CLUSTER_KINDS) {
  test(`in a cluster (${kinds.join(' → ')}), an update sent to one server is stored by the other`, async () => {
    await clusterPush(kinds);
  });
}

for (const kinds of CLUSTER_KINDS) {
  test(`in a cluster (${kinds.join(' → ')}), a server that missed an update looks the account up at login`, async () => {
    await clusterPush(kinds, true);
  });
}

for (const kind of KINDS) {
  test(`cache account resolver (${kind}): only accounts in use are updated, no lookups answered`, async () => {
    const dir = mkdtempSync(join(tmpdir(), `tsnats-jwtcache-${kind}-`));
    const a = createAccount();
    const setup = fullSetup(dir, [a]);
    const config = setup.config.replace(
      `resolver { type: full, dir: "${dir}", allow_delete: true }`,
      `resolver { type: cache, dir: "${dir}", limit: 10 }`,
    );
    const server = await launch({ kind, config });
    const conns: NatsConnection[] = [];
    try {
      await server.waitForLog(/Managing some jwt in exclusive directory/);
      const sys = await mustConnect(server.url, credsOpts(makeUser(setup.sys).creds));
      conns.push(sys);
      const b = createAccount();
      const skipped = await request(
        sys,
        `$SYS.REQ.ACCOUNT.${b.getPublicKey()}.CLAIMS.UPDATE`,
        accountJwt(b, setup.op),
      );
      assert.deepEqual(skipped.data, {
        account: b.getPublicKey(),
        code: 200,
        message: 'jwt update cache skipped',
      });
      assert.match(await refused(server.url, credsOpts(makeUser(b).creds)), /Authorization Violation/);
      const garbage = await request(sys, `$SYS.REQ.ACCOUNT.${b.getPublicKey()}.CLAIMS.UPDATE`, 'nope');
      assert.deepEqual(garbage.error, {
        account: b.getPublicKey(),
        code: 500,
        description: 'jwt update cache resulted in error - expected 3 chunks',
      });
      // An account in use takes the update.
      conns.push(await mustConnect(server.url, credsOpts(makeUser(a).creds)));
      const updated = await request(
        sys,
        '$SYS.REQ.CLAIMS.UPDATE',
        accountJwt(a, setup.op, { tags: ['x:y'] }),
      );
      assert.deepEqual(updated.data, { account: a.getPublicKey(), code: 200, message: 'jwt updated cache' });
      await assert.rejects(
        sys.request(`$SYS.REQ.ACCOUNT.${a.getPublicKey()}.CLAIMS.LOOKUP`, '', { timeout: 300 }),
      );
      const list = await request(sys, '$SYS.REQ.CLAIMS.LIST', '');
      assert.deepEqual(list.data, [a.getPublicKey(), setup.sys.getPublicKey()].sort());
    } finally {
      await Promise.all(conns.map((c) => c.close()));
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

for (const kinds of CLUSTER_KINDS) {
  test(`in a cluster (${kinds.join(' full → ')} cache), a cache looks the account up at login`, async () => {
    await clusterPush(kinds, true, 'cache');
  });
}

for (const kinds of CLUSTER_KINDS) {
  test(`in a cluster (${kinds.join(' → ')}), a server that missed an update gets it by the PACK sync`, async () => {
    await clusterPush(kinds, true, 'full', true);
  });
}

for (const kind of KINDS) {
  test(`full resolver (${kind}): a JWT changed by hand in the directory applies on reload`, async () => {
    const dir = mkdtempSync(join(tmpdir(), `tsnats-jwtdir-reload-${kind}-`));
    const a = createAccount();
    const setup = fullSetup(dir, [a]);
    const server = await launch({ kind, config: setup.config });
    try {
      const userKey = createUser();
      const iat = Math.floor(Date.now() / 1000) - 60;
      const jwt = userJwt(userKey, a, {}, { iat });
      const nc = await mustConnect(server.url, credsOpts(credsText(jwt, userKey)));
      const other = await mustConnect(server.url, credsOpts(makeUser(a).creds));
      const err = nextError(nc);
      // What an operator's tooling might do: write the account's new JWT into the directory.
      writeFileSync(
        join(dir, `${a.getPublicKey()}.jwt`),
        accountJwt(a, setup.op, { revocations: { [userKey.getPublicKey()]: iat + 1 } }),
      );
      server.kill('SIGHUP');
      await server.waitForLog(/Reloaded server configuration/);
      // The revoked user is gone with both servers.
      await nc.closed();
      if (kind === 'tsnats') {
        // tsnats applies the new JWT to the account in use, as a pushed update: the revoked user is told,
        // the others stay. nats-server 2.9.10 closes every client of the account, without a word.
        assert.match(await err, /User Authentication Revoked/i);
        await other.flush();
        assert.equal(other.isClosed(), false);
      }
      await other.close();
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
