// Operator-mode config keys: `operator` (file or inline, aliases, lists), `system_account`,
// `resolver: MEMORY`, `resolver_preload`, and the refusals nats-server makes (validateTrustedOperators),
// plus the JWT decoding they rely on.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createAccount, createOperator, createUser } from '@nats-io/nkeys';
import { importAllowed } from '../../src/auth/import-auth.js';
import {
  decodeAccountClaims,
  decodeUserClaims,
  isRevoked,
  parseDecoratedJwt,
  timeProblem,
} from '../../src/auth/jwt.js';
import { DirJwtStore } from '../../src/auth/jwt-store.js';
import { OperatorTrust, permissionsFromJwt } from '../../src/auth/operator.js';
import { applyUserTemplate, hasEmptyPermissions } from '../../src/auth/scoped-keys.js';
import { srcAllowed, timesAllowed } from '../../src/auth/user-restrictions.js';
import { ConfigError, loadConfigFile, loadConfigText } from '../../src/config/index.js';
import { accountJwt, credsText, operatorJwt, signJwt, userJwt } from '../helpers/jwt.js';

const dir = mkdtempSync(join(tmpdir(), 'tsnats-op-conf-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const op = createOperator();
const sys = createAccount();
const acc = createAccount();
const opJwt = operatorJwt(op, { system_account: sys.getPublicKey() });
const preload = `resolver_preload: {\n  ${sys.getPublicKey()}: ${accountJwt(sys, op)}\n  ${acc.getPublicKey()}: ${accountJwt(acc, op)}\n}\n`;

function errorOf(text: string): string {
  try {
    loadConfigText(text, 'test.conf');
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  return 'loaded';
}

describe('operator mode config', () => {
  test('inline operator, resolver MEMORY and preload; the operator names the system account', () => {
    const { config } = loadConfigText(`operator: ${opJwt}\nresolver: MEMORY\n${preload}`, 'test.conf');
    const o = config.authorization?.operator;
    assert.ok(o !== undefined);
    assert.deepEqual(o.operators, [opJwt]);
    assert.deepEqual(Object.keys(o.preload).sort(), [sys.getPublicKey(), acc.getPublicKey()].sort());
    assert.equal(config.systemAccount, sys.getPublicKey());
  });

  test('operator from a file (plain or decorated), aliases and a list', () => {
    const plain = join(dir, 'op.jwt');
    writeFileSync(plain, `${opJwt}\n`);
    const decorated = join(dir, 'op-decorated.jwt');
    writeFileSync(
      decorated,
      `-----BEGIN NATS OPERATOR JWT-----\n${opJwt}\n------END NATS OPERATOR JWT------\n`,
    );
    for (const key of ['operator', 'operators', 'root', 'roots', 'root_operator', 'root_operators']) {
      const conf = join(dir, `${key}.conf`);
      writeFileSync(conf, `${key}: op.jwt\nresolver: MEM\n${preload}`);
      assert.deepEqual(loadConfigFile(conf).config.authorization?.operator?.operators, [opJwt], key);
    }
    const conf = join(dir, 'list.conf');
    writeFileSync(conf, `operators: ["${plain}", "op-decorated.jwt"]\nresolver: memory\n`);
    assert.deepEqual(loadConfigFile(conf).config.authorization?.operator?.operators, [opJwt, opJwt]);
  });

  test('system_account in the config wins when it agrees; a different one is refused', () => {
    const { config } = loadConfigText(
      `operator: ${opJwt}\nsystem_account: ${sys.getPublicKey()}\nresolver: MEMORY\n`,
      'test.conf',
    );
    assert.equal(config.systemAccount, sys.getPublicKey());
    assert.match(
      errorOf(`operator: ${opJwt}\nsystem_account: ${acc.getPublicKey()}\nresolver: MEMORY\n`),
      /system_account in config and operator JWT must be identical/,
    );
  });

  test('refusals: no resolver, accounts or users beside operators, bad JWTs, other resolvers', () => {
    assert.match(errorOf(`operator: ${opJwt}\n`), /operators require an account resolver to be configured/);
    assert.match(
      errorOf(`operator: ${opJwt}\nresolver: MEMORY\naccounts { A { users [{user: a, password: b}] } }\n`),
      /operators do not allow Accounts to be configured directly/,
    );
    assert.match(
      errorOf(`operator: ${opJwt}\nresolver: MEMORY\nauthorization { users [{user: a, password: b}] }\n`),
      /operators do not allow users to be configured directly/,
    );
    assert.match(errorOf('operator: /nonexistent/op.jwt\nresolver: MEMORY\n'), /error parsing operator JWT/);
    // An account JWT is not an operator JWT.
    assert.match(
      errorOf(`operator: ${accountJwt(acc, op)}\nresolver: MEMORY\n`),
      /error parsing operator JWT/,
    );
    assert.match(
      errorOf(`operator: ${opJwt}\nresolver: MEMORY\nresolver_preload: { ${acc.getPublicKey()}: nope }\n`),
      /invalid account JWT/,
    );
    assert.match(
      errorOf(`operator: ${opJwt}\nresolver: MEMORY\nresolver_preload: "x"\n`),
      /preload should be a map/,
    );
    assert.match(
      errorOf(`operator: ${opJwt}\nresolver: URL(http://localhost:9090/jwt/v1/accounts/)\n`),
      /URL account resolver is not supported by tsnats yet.*MEMORY/,
    );
    assert.match(errorOf('resolver_tls: {}\n'), /not supported by tsnats yet/);
    assert.match(
      errorOf(
        `operator: ${opJwt}\nresolver: MEMORY\nresolver_pinned_accounts: [${acc.getPublicKey()}, "nope"]\n`,
      ),
      /pinned account key "nope" is not a valid public account nkey/,
    );
    assert.match(
      errorOf(`operator: ${opJwt}\nresolver: MEMORY\nresolver_pinned_accounts: 5\n`),
      /unsupported type/,
    );
    const pinned = loadConfigText(
      `operator: ${opJwt}\nresolver: MEMORY\nresolver_pinned_accounts: ${acc.getPublicKey()}\n`,
      'p.conf',
    );
    // The system account is always pinned.
    assert.deepEqual(pinned.config.authorization?.operator?.pinnedAccounts, [
      acc.getPublicKey(),
      sys.getPublicKey(),
    ]);
  });
});

// nats-server 2.9.10's verdicts (`-t`, and starting it for the conflict, which -t does not check) were
// taken by running it on the same configs.
describe('trusted_keys', () => {
  const key = op.getPublicKey();
  const other = createOperator().getPublicKey();

  test('a key or a list, under trusted_keys or trusted; no resolver needed; preloads signed by a key', () => {
    const one = loadConfigText(`trusted: ${key}\n`, 't.conf').config.authorization?.operator;
    assert.deepEqual(one?.trustedKeys, [key]);
    assert.deepEqual(one?.operators, []);
    assert.deepEqual(one?.resolver, { type: 'memory' });
    // An empty list is as none: nats-server then runs without operator mode (no auth required; seen
    // running it).
    assert.equal(loadConfigText('trusted_keys: []\n', 't.conf').config.authorization?.operator, undefined);
    const list = loadConfigText(`trusted_keys: [${key}, ${other}]\nresolver: MEMORY\n${preload}`, 't.conf')
      .config.authorization?.operator;
    assert.deepEqual(list?.trustedKeys, [key, other]);
    assert.equal(Object.keys(list?.preload ?? {}).length, 2);
    // The accounts the keys signed are trusted; no operator JWT is needed for that.
    const trust = new OperatorTrust(list!);
    assert.ok(trust.account(acc.getPublicKey()) !== undefined);
    assert.deepEqual(trust.warnings, []);
    const stranger = createOperator();
    const alien = createAccount();
    const t2 = new OperatorTrust({
      operators: [],
      trustedKeys: [key],
      preload: { [alien.getPublicKey()]: accountJwt(alien, stranger) },
    });
    assert.equal(t2.account(alien.getPublicKey()), undefined);
  });

  test("refusals with nats-server's messages", () => {
    assert.match(
      errorOf('trusted_keys: bad\n'),
      /trust key "bad" required to be a valid public operator nkey/,
    );
    const a = acc.getPublicKey();
    const e = errorOf(`trusted_keys: [${key}, bad, ${a}]\n`);
    assert.match(e, /trust key "bad" required to be a valid public operator nkey/);
    assert.match(e, new RegExp(`trust key "${a}" required to be a valid public operator nkey`));
    assert.match(errorOf('trusted_keys: 5\n'), /error parsing trusted: unsupported type/);
    assert.match(errorOf('trusted: [true, false]\n'), /error parsing trusted: unsupported type in array/);
    assert.match(
      errorOf(`operator: ${opJwt}\ntrusted_keys: [${key}]\nresolver: MEMORY\n`),
      /conflicting options for 'TrustedKeys' and 'TrustedOperators'/,
    );
    assert.match(
      errorOf(`trusted_keys: [${key}]\nresolver { type: full, dir: "${dir}" }\n`),
      /Could not start resolver: no operator key found/,
    );
  });
});

describe('the full resolver config', () => {
  test('resolver { type: full } with its options, in nats-server spellings', () => {
    const jwtDir = join(dir, 'jwt');
    const { config } = loadConfigText(
      `operator: ${opJwt}\nresolver { type: full, dir: "${jwtDir}", allow_delete: true, interval: "2m", timeout: "1.5s", limit: 10 }\n`,
      'test.conf',
    );
    assert.deepEqual(config.authorization?.operator?.resolver, {
      type: 'full',
      dir: jwtDir,
      allowDelete: true,
      limit: 10,
      intervalMs: 120_000,
      timeoutMs: 1500,
    });
    // Defaults, `account_resolver` and the map written with a colon.
    const d = loadConfigText(
      `operator: ${opJwt}\naccount_resolver: { type: FULL, dir: "${jwtDir}" }\n`,
      'x.conf',
    );
    assert.deepEqual(d.config.authorization?.operator?.resolver, {
      type: 'full',
      dir: jwtDir,
      allowDelete: false,
      limit: 0,
      intervalMs: 60_000,
      timeoutMs: 1900,
    });
  });

  test('resolver { type: cache } with its defaults and refusals', () => {
    const jwtDir = join(dir, 'cache');
    const { config } = loadConfigText(
      `operator: ${opJwt}\nresolver { type: cache, dir: "${jwtDir}", ttl: "2m" }\n`,
      'test.conf',
    );
    assert.deepEqual(config.authorization?.operator?.resolver, {
      type: 'cache',
      dir: jwtDir,
      limit: 1000,
      ttlMs: 120_000,
      timeoutMs: 1900,
    });
    assert.match(
      errorOf(`operator: ${opJwt}\nresolver { type: cache, dir: "${jwtDir}", allow_delete: true }\n`),
      /CACHE does not accept allow_delete/,
    );
    assert.match(
      errorOf(`operator: ${opJwt}\nresolver { type: cache, dir: "${jwtDir}", interval: "1m" }\n`),
      /CACHE does not accept sync/,
    );
  });

  test('the system account is needed for the NATS resolvers; assert_server_version is checked', () => {
    const bare = operatorJwt(op);
    assert.match(
      errorOf(`operator: ${bare}\nresolver { type: full, dir: "${dir}" }\n`),
      /using nats based account resolver - the system account needs to be specified/,
    );
    assert.equal(errorOf(`operator: ${bare}\nresolver: MEMORY\n`), 'loaded');
    const v = (version: string): string =>
      errorOf(`operator: ${operatorJwt(op, { assert_server_version: version })}\nresolver: MEMORY\n`);
    assert.equal(v('2.10.29'), 'loaded');
    assert.equal(v('2.9.99'), 'loaded');
    assert.match(v('2.11.0'), /expected minor version 11 > server minor version 10/);
    assert.match(v('2.10.30'), /expected update version 30 > server update version 29/);
    assert.match(v('3'), /must be of the form <major>.<minor>.<update>/);
  });

  test("nats-server's refusals", () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    assert.match(
      errorOf(`operator: ${opJwt}\nresolver { type: full }\n`),
      /dir has no value and needs to point to a directory/,
    );
    assert.match(
      errorOf(`operator: ${opJwt}\nresolver { type: full, dir: "${file}" }\n`),
      /dir needs to point to an accessible directory/,
    );
    assert.match(
      errorOf(`operator: ${opJwt}\nresolver { type: full, dir: "${dir}", ttl: "1m" }\n`),
      /FULL does not accept ttl/,
    );
    assert.match(
      errorOf(`operator: ${opJwt}\nresolver { type: full, dir: "${dir}", interval: "soon" }\n`),
      /invalid duration/,
    );
    assert.match(
      errorOf(`operator: ${opJwt}\nresolver { dir: "${dir}" }\n`),
      /should be MEM or {2}URL\("url"\) or a map containing dir and type/,
    );
  });
});

describe('the JWT directory', () => {
  test('limit: full refuses, a cache evicts the least recently used; expired JWTs are removed', () => {
    const d = mkdtempSync(join(dir, 'store-'));
    const [k1, k2, k3] = [createAccount(), createAccount(), createAccount()];
    const full = new DirJwtStore(join(d, 'full'), {
      limit: 2,
      deleteMode: 'none',
      evictOnLimit: false,
      ttlMs: 0,
    });
    full.save(k1.getPublicKey(), accountJwt(k1, op));
    full.save(k2.getPublicKey(), accountJwt(k2, op));
    assert.throws(() => full.save(k3.getPublicKey(), accountJwt(k3, op)), /jwt store is full/);
    assert.throws(() => full.delete(k1.getPublicKey()), /not set up to for delete/);
    full.close();
    const cache = new DirJwtStore(join(d, 'cache'), {
      limit: 2,
      deleteMode: 'hard',
      evictOnLimit: true,
      ttlMs: 0,
    });
    cache.save(k1.getPublicKey(), accountJwt(k1, op));
    cache.save(k2.getPublicKey(), accountJwt(k2, op));
    assert.ok(cache.load(k1.getPublicKey()) !== undefined); // k1 is now the most recently used
    cache.save(k3.getPublicKey(), accountJwt(k3, op));
    assert.deepEqual(cache.keys(), [k1.getPublicKey(), k3.getPublicKey()].sort());
    assert.equal(cache.load(k2.getPublicKey()), undefined);
    // A JWT that expired has its file removed by the expiry sweep.
    const k4 = createAccount();
    cache.save(k4.getPublicKey(), accountJwt(k4, op, {}, { exp: Math.floor(Date.now() / 1000) + 1 }));
    cache.removeExpired(Date.now() + 5000);
    assert.equal(cache.load(k4.getPublicKey()), undefined);
    // The directory is read back at start, with the same hash.
    const again = new DirJwtStore(join(d, 'cache'), {
      limit: 2,
      deleteMode: 'hard',
      evictOnLimit: true,
      ttlMs: 0,
    });
    assert.deepEqual(again.keys(), cache.keys());
    assert.ok(again.hash().equals(cache.hash()));
    cache.close();
    again.close();
  });
});

describe('JWT decoding', () => {
  test('signature, type and key checks', () => {
    const user = createUser();
    const jwt = userJwt(user, acc);
    assert.equal(decodeUserClaims(jwt).sub, user.getPublicKey());
    assert.throws(() => decodeAccountClaims(jwt), /not account claim/);
    const [h, c] = jwt.split('.') as [string, string];
    assert.throws(() => decodeUserClaims(`${h}.${c}.${'A'.repeat(86)}`), /signature verification/);
    assert.throws(() => decodeUserClaims(`${h}.${c}`), /3 chunks/);
    // A user JWT signed by an operator key has the wrong issuer type.
    assert.throws(() => decodeUserClaims(userJwt(user, op)), /issuer prefix/);
    // A v1 JWT signs the claims alone.
    const claims = Buffer.from(
      JSON.stringify({ iss: acc.getPublicKey(), sub: user.getPublicKey(), nats: {} }),
    ).toString('base64url');
    const v1 = `${h}.${claims}.${Buffer.from(acc.sign(new TextEncoder().encode(claims))).toString('base64url')}`;
    assert.equal(decodeUserClaims(v1).sub, user.getPublicKey());
    assert.equal(parseDecoratedJwt(credsText(jwt, user)), jwt);
  });

  test('times, revocations and permissions', () => {
    const now = Math.floor(Date.now() / 1000);
    assert.equal(timeProblem({ iss: '', sub: '', exp: now - 1 }), 'claim is expired');
    assert.equal(timeProblem({ iss: '', sub: '', nbf: now + 60 }), 'claim is not yet valid');
    assert.equal(timeProblem({ iss: '', sub: '', exp: now + 60, nbf: now - 60 }), undefined);
    const a = decodeAccountClaims(accountJwt(acc, op, { revocations: { UX: 100, '*': 50 } }));
    assert.equal(isRevoked(a, 'UX', 100), true);
    assert.equal(isRevoked(a, 'UX', 101), false);
    assert.equal(isRevoked(a, 'UY', 50), true);
    assert.equal(isRevoked(a, 'UY', 51), false);
    assert.deepEqual(permissionsFromJwt({ pub: {}, sub: {} }), undefined);
    assert.deepEqual(
      permissionsFromJwt({ pub: { allow: ['a.>'] }, sub: { deny: ['b'] }, resp: { max: 0, ttl: 0 } }),
      {
        publish: { allow: ['a.>'] },
        subscribe: { deny: ['b'] },
        responses: { max: 1, expires: 120_000 },
      },
    );
    assert.deepEqual(permissionsFromJwt({ resp: { max: 3, ttl: 5e9 } }), {
      responses: { max: 3, expires: 5000 },
    });
  });

  test('trust: accounts signed by an unknown operator or under another key are left out', () => {
    const other = createOperator();
    const b = createAccount();
    const t = new OperatorTrust({
      operators: [opJwt],
      preload: {
        [acc.getPublicKey()]: accountJwt(acc, op),
        [b.getPublicKey()]: accountJwt(b, other),
        [sys.getPublicKey()]: accountJwt(acc, op),
      },
    });
    assert.ok(t.account(acc.getPublicKey()) !== undefined);
    assert.equal(t.account(b.getPublicKey()), undefined);
    assert.equal(t.account(sys.getPublicKey()), undefined);
    assert.equal(t.warnings.length, 2);
    assert.equal(t.systemAccount, sys.getPublicKey());
    // An operator signing key may sign accounts.
    const sk = createOperator();
    const op2 = operatorJwt(op, { signing_keys: [sk.getPublicKey()] });
    const t2 = new OperatorTrust({ operators: [op2], preload: { [b.getPublicKey()]: accountJwt(b, sk) } });
    assert.ok(t2.account(b.getPublicKey()) !== undefined);
    assert.ok(signJwt({ sub: 'x' }, op).split('.').length === 3);
  });

  test('scoped signing key templates (processUserPermissionsTemplate)', () => {
    const u = decodeUserClaims(
      signJwt(
        {
          sub: createUser().getPublicKey(),
          name: 'n',
          nats: {
            type: 'user',
            version: 2,
            tags: ['team:red', 'team:blue'],
            issuer_account: acc.getPublicKey(),
          },
        },
        acc,
      ),
    );
    const a = decodeAccountClaims(accountJwt(acc, op, { tags: ['region:eu'] }));
    assert.equal(hasEmptyPermissions(u), true);
    assert.equal(hasEmptyPermissions(decodeUserClaims(userJwt(createUser(), acc))), false);
    const t = applyUserTemplate(
      {
        pub: { allow: ['a.{{tag(team)}}.{{name()}}', 'b.{{account-tag(region)}}', 'c.{{subject()}}'] },
        sub: { allow: ['x.{{nope()}}'] },
      },
      u,
      a,
    );
    assert.ok(typeof t !== 'string');
    assert.deepEqual(t.pub?.allow, ['a.red.n', 'a.blue.n', 'b.eu', `c.${u.sub}`]);
    // Every allowed subject came out invalid: nothing is allowed.
    assert.deepEqual(t.sub, { allow: [], deny: ['>'] });
    assert.equal(applyUserTemplate({ pub: { deny: ['{{tag(none)}}'] } }, u, a), 'generated invalid subject');
  });

  test('import authorization: account token position, activation tokens by a signing key', () => {
    const exporter = createAccount();
    const sk = createAccount();
    const importer = createAccount();
    const t = new OperatorTrust({
      operators: [opJwt],
      preload: {
        [exporter.getPublicKey()]: accountJwt(exporter, op, {
          signing_keys: [sk.getPublicKey()],
          exports: [
            { subject: 'pos.*.x', type: 'stream', account_token_position: 2 },
            { subject: 'svc.>', type: 'service', token_req: true },
          ],
        }),
      },
    });
    const ex = t.account(exporter.getPublicKey());
    assert.ok(ex !== undefined);
    const me = importer.getPublicKey();
    const stream = (subject: string) => ({ subject, account: exporter.getPublicKey(), type: 'stream' });
    assert.equal(importAllowed(ex, me, stream(`pos.${me}.x`)).ok, true);
    assert.equal(importAllowed(ex, me, stream('pos.OTHER.x')).ok, false);
    const token = (signer: typeof sk, nats: Record<string, unknown>) =>
      signJwt(
        { sub: me, nats: { subject: 'svc.>', kind: 'service', type: 'activation', version: 2, ...nats } },
        signer,
      );
    const svc = (tok: string, subject = 'svc.a') => ({
      subject,
      account: exporter.getPublicKey(),
      type: 'service',
      token: tok,
    });
    assert.equal(importAllowed(ex, me, svc(token(sk, { issuer_account: exporter.getPublicKey() }))).ok, true);
    // A signing key without issuer_account, another account's key, the wrong kind: refused.
    assert.equal(importAllowed(ex, me, svc(token(sk, {}))).ok, false);
    assert.equal(
      importAllowed(ex, me, svc(token(createAccount(), { issuer_account: exporter.getPublicKey() }))).ok,
      false,
    );
    assert.equal(importAllowed(ex, me, svc(token(exporter, { kind: 'stream' }))).ok, false);
    assert.equal(importAllowed(ex, me, svc(token(exporter, {}), 'other.a')).ok, false);
  });

  test('src and times restrictions (validateSrc, validateTimes)', () => {
    assert.equal(srcAllowed(undefined, ''), true);
    assert.equal(srcAllowed(['192.168.0.0/16'], '::ffff:192.168.1.2'), true);
    assert.equal(srcAllowed('10.0.0.0/8,192.168.0.0/16', '192.168.1.2'), true);
    assert.equal(srcAllowed(['fd00::/8'], 'fd00::1'), true);
    assert.equal(srcAllowed(['fd00::/8'], '192.168.1.2'), false);
    assert.equal(srcAllowed(['192.168.1.2'], '192.168.1.2'), false);
    const ny = 'America/New_York';
    // 10:00 in New York (EST).
    const ten = Date.UTC(2024, 0, 15, 15, 0, 0);
    assert.deepEqual(timesAllowed([{ start: '09:00:00', end: '11:00:00' }], ny, ten), {
      allowed: true,
      validForMs: 3_600_000,
    });
    assert.equal(timesAllowed([{ start: '22:00:00', end: '02:00:00' }], ny, ten).allowed, false);
    // 23:00 in New York: inside the overnight window that started today, until 02:00 tomorrow.
    assert.deepEqual(
      timesAllowed([{ start: '22:00:00', end: '02:00:00' }], ny, Date.UTC(2024, 0, 16, 4, 0, 0)),
      {
        allowed: true,
        validForMs: 3 * 3_600_000,
      },
    );
    // 01:00: nats-server only looks at the window starting today, so this is outside.
    assert.equal(
      timesAllowed([{ start: '22:00:00', end: '02:00:00' }], ny, Date.UTC(2024, 0, 16, 6, 0, 0)).allowed,
      false,
    );
    assert.equal(timesAllowed([{ start: '9:00', end: '11:00:00' }], ny, ten).allowed, false);
    assert.equal(timesAllowed([{ start: '09:00:00', end: '11:00:00' }], 'Not/AZone', ten).allowed, false);
  });
});
