/**
 * Operator mode, step 3: subject mappings in account JWTs (`mappings`), applied at first use and on
 * claims updates, and jwt's account validation of the limits `imports`, `exports` and `wildcards` (an
 * update refused with nats-server's reply, an invalid preloaded account unusable). Each check runs against
 * tsnats and, when installed, nats-server 2.9.10 with the same config.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createAccount, createOperator, type KeyPair } from '@nats-io/nkeys';
import type { NatsConnection } from '@nats-io/transport-node';
import { accountJwt, accountLimits, makeUser, operatorJwt } from '../helpers/jwt.js';
import { type Launched, launch, type ServerKind } from '../helpers/launcher.js';
import { credsOpts, mustConnect, refused } from '../helpers/operator-client.js';
import { hasReference } from '../helpers/reference.js';

const KINDS: ServerKind[] = hasReference() ? ['tsnats', 'nats-server'] : ['tsnats'];

/** The subject a message published on `subject` arrives on in the same account ('' if none in 500 ms). */
async function landsOn(nc: NatsConnection, subject: string): Promise<string> {
  const s = nc.subscribe('>', { max: 1 });
  await nc.flush();
  nc.publish(subject, 'x');
  const got = (async () => {
    for await (const m of s) return m.subject;
    return '';
  })();
  const timeout = new Promise<string>((r) => setTimeout(() => r(''), 500).unref());
  const out = await Promise.race([got, timeout]);
  s.unsubscribe();
  return out;
}

for (const kind of KINDS) {
  describe(`operator mode, JWT mappings and account validation (${kind})`, () => {
    let dir = '';
    const op = createOperator();
    const sys = createAccount();
    // Preloaded with two imports while it may have one: jwt's validation refuses it.
    const tooMany = createAccount();
    let server: Launched;
    let sysConn: NatsConnection;
    const open: NatsConnection[] = [];

    async function pushReply(acc: KeyPair, nats: Record<string, unknown>): Promise<Record<string, unknown>> {
      const m = await sysConn.request(
        `$SYS.REQ.ACCOUNT.${acc.getPublicKey()}.CLAIMS.UPDATE`,
        accountJwt(acc, op, nats),
        { timeout: 2000 },
      );
      return JSON.parse(m.string()) as Record<string, unknown>;
    }

    async function push(acc: KeyPair, nats: Record<string, unknown> = {}): Promise<void> {
      const r = await pushReply(acc, nats);
      assert.equal((r.data as { message?: string } | undefined)?.message, 'jwt updated', JSON.stringify(r));
    }

    /** The error description an update is refused with. */
    async function pushRefused(acc: KeyPair, nats: Record<string, unknown>): Promise<string> {
      const r = await pushReply(acc, nats);
      const e = r.error as { description?: string; account?: string; code?: number } | undefined;
      assert.ok(e !== undefined, JSON.stringify(r));
      assert.equal(e.code, 500);
      assert.equal(e.account, acc.getPublicKey());
      return e.description ?? '';
    }

    async function user(acc: KeyPair): Promise<NatsConnection> {
      const nc = await mustConnect(server.url, credsOpts(makeUser(acc).creds));
      open.push(nc);
      return nc;
    }

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `tsnats-mappings-${kind}-`));
      const other = createAccount().getPublicKey();
      const imports = ['a.>', 'b.>'].map((subject) => ({
        name: subject,
        subject,
        account: other,
        type: 'stream',
      }));
      const config = `operator: ${operatorJwt(op, { system_account: sys.getPublicKey() })}
system_account: ${sys.getPublicKey()}
resolver { type: full, dir: "${dir}" }
resolver_preload: {
  ${sys.getPublicKey()}: ${accountJwt(sys, op)}
  ${tooMany.getPublicKey()}: ${accountJwt(tooMany, op, { imports, limits: accountLimits({ imports: 1 }) })}
}
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

    test('mappings of the JWT apply from the first login, and updates add, change and remove them', async () => {
      const a = createAccount();
      await push(a, {
        mappings: {
          // No weight: 100.
          'orders.new': [{ subject: 'orders.v2.new' }],
          'req.*': [{ subject: 'svc.$1', weight: 100 }],
        },
      });
      const nc = await user(a);
      assert.equal(await landsOn(nc, 'orders.new'), 'orders.v2.new');
      assert.equal(await landsOn(nc, 'req.x'), 'svc.x');
      assert.equal(await landsOn(nc, 'other'), 'other', 'unmapped subjects stay');
      await push(a, { mappings: { 'orders.new': [{ subject: 'orders.v3.new' }] } });
      assert.equal(await landsOn(nc, 'orders.new'), 'orders.v3.new', 'changed by the update');
      assert.equal(await landsOn(nc, 'req.x'), 'req.x', 'removed by the update');
      await push(a);
      assert.equal(await landsOn(nc, 'orders.new'), 'orders.new', 'all removed');
    });

    test('weighted destinations share the messages; the rest of 100 stays on the source', async () => {
      const a = createAccount();
      await push(a, {
        mappings: {
          split: [
            { subject: 'left', weight: 50 },
            { subject: 'right', weight: 50 },
          ],
          half: [{ subject: 'moved', weight: 50 }],
        },
      });
      const nc = await user(a);
      const seen = new Map<string, Set<string>>([
        ['split', new Set()],
        ['half', new Set()],
      ]);
      for (let i = 0; i < 200 && [...seen.values()].some((s) => s.size < 2); i++) {
        for (const [src, s] of seen) s.add(await landsOn(nc, src));
      }
      assert.deepEqual([...seen.get('split')!].sort(), ['left', 'right']);
      assert.deepEqual([...seen.get('half')!].sort(), ['half', 'moved']);
    });

    test('a destination for another cluster is not used here; the others are', async () => {
      const a = createAccount();
      await push(a, {
        mappings: {
          c: [
            { subject: 'elsewhere', weight: 50, cluster: 'other' },
            { subject: 'here', weight: 50 },
          ],
        },
      });
      const nc = await user(a);
      const seen = new Set<string>();
      for (let i = 0; i < 200 && !seen.has('here'); i++) seen.add(await landsOn(nc, 'c'));
      assert.ok(seen.has('here'), [...seen].join());
      assert.ok(!seen.has('elsewhere'), [...seen].join());
    });

    test('jwt validation refuses mappings with wildcard destinations or over 100%', async () => {
      const a = createAccount();
      assert.equal(
        await pushRefused(a, { mappings: { 'x.*': [{ subject: 'y.*' }] } }),
        'jwt validation failed - validation errors: [Subject "y.*" in weighted mapping "x.*" is not allowed to contains wildcard]',
      );
      assert.equal(
        await pushRefused(a, {
          mappings: {
            x: [
              { subject: 'y', weight: 60 },
              { subject: 'z', weight: 60 },
            ],
          },
        }),
        'jwt validation failed - validation errors: [Mapping "x" exceeds 100% among all of it\'s weighted to mappings]',
      );
    });

    test('limits imports, exports and wildcards: updates over them are refused with jwt validation failed', async () => {
      const a = createAccount();
      const b = createAccount().getPublicKey();
      const stream = (subject: string) => ({ name: subject, subject, account: b, type: 'stream' });
      const exp = (subject: string) => ({ name: subject, subject, type: 'stream' });
      const twice = 'the account contains more imports than allowed by the operator';
      assert.equal(
        await pushRefused(a, { imports: [stream('a'), stream('b')], limits: accountLimits({ imports: 1 }) }),
        // jwt checks the import count twice when any limit is set.
        `jwt validation failed - validation errors: [${twice} ${twice}]`,
      );
      await push(a, { imports: [stream('a')], limits: accountLimits({ imports: 1 }) });
      assert.equal(
        await pushRefused(a, { exports: [exp('a'), exp('b')], limits: accountLimits({ exports: 1 }) }),
        'jwt validation failed - validation errors: [the account contains more exports than allowed by the operator]',
      );
      const noWild = 'the account contains wildcard exports that are not allowed by the operator';
      assert.equal(
        await pushRefused(a, {
          exports: [exp('a.*'), exp('b.>'), exp('c')],
          limits: accountLimits({ wildcards: false, exports: 5 }),
        }),
        `jwt validation failed - validation errors: [${noWild} ${noWild}]`,
      );
      // Without a limit on the exports, wildcards are not checked.
      await push(a, { exports: [exp('a.*')], limits: accountLimits({ wildcards: false, exports: -1 }) });
      await push(a, { exports: [exp('a.*')], limits: accountLimits({ wildcards: true, exports: 2 }) });
      // An absent limit is 0 (a v2 JWT without limits may import nothing).
      assert.equal(
        await pushRefused(a, { imports: [stream('a')], limits: {} }),
        `jwt validation failed - validation errors: [${twice}]`,
      );
      // The generic update subject validates too.
      const m = await sysConn.request(
        '$SYS.REQ.CLAIMS.UPDATE',
        accountJwt(a, op, { exports: [exp('a'), exp('b')], limits: accountLimits({ exports: 0 }) }),
        { timeout: 2000 },
      );
      assert.equal(
        (JSON.parse(m.string()) as { error?: { description?: string } }).error?.description,
        'jwt validation failed - validation errors: [the account contains more exports than allowed by the operator]',
      );
    });

    test('a preloaded account JWT over its limits is unusable: its users are refused', async () => {
      assert.match(await refused(server.url, credsOpts(makeUser(tooMany).creds)), /Authorization Violation/i);
    });
  });
}

for (const kind of KINDS) {
  describe(`operator mode, JWT mappings for this server's cluster (${kind})`, () => {
    const op = createOperator();
    const a = createAccount();
    let server: Launched;

    before(async () => {
      const mappings = {
        c: [
          { subject: 'elsewhere', weight: 50, cluster: 'east' },
          { subject: 'here', weight: 50 },
        ],
      };
      // A lone server with a cluster name (no routes): its cluster's destinations apply.
      const config = `operator: ${operatorJwt(op)}
resolver: MEMORY
resolver_preload: { ${a.getPublicKey()}: ${accountJwt(a, op, { mappings })} }
cluster { name: east, listen: "127.0.0.1:-1" }
`;
      server = await launch({ kind, config });
    });
    after(async () => {
      await server.stop();
    });

    test("the cluster's destinations replace the others; the rest stays on the source", async () => {
      const nc = await mustConnect(server.url, credsOpts(makeUser(a).creds));
      try {
        const seen = new Set<string>();
        for (let i = 0; i < 200 && seen.size < 2; i++) seen.add(await landsOn(nc, 'c'));
        assert.deepEqual([...seen].sort(), ['c', 'elsewhere']);
      } finally {
        await nc.close();
      }
    });
  });
}
