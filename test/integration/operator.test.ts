/**
 * Operator mode (decentralized JWT auth) with `resolver: MEMORY` and `resolver_preload`: the same
 * checks against tsnats and, when installed, nats-server 2.9.10. Keys and JWTs are generated per run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAccount, createOperator, createUser } from '@nats-io/nkeys';
import type { ConnectionOptions } from '@nats-io/transport-node';
import {
  accountJwt,
  credsText,
  makeUser,
  type OperatorSetup,
  operatorJwt,
  operatorSetup,
  userJwt,
} from '../helpers/jwt.js';
import { type Launched, launch, type ServerKind } from '../helpers/launcher.js';
import { credsOpts, mustConnect, nextError, refused, roundTrip } from '../helpers/operator-client.js';
import { hasReference } from '../helpers/reference.js';

const KINDS: ServerKind[] = hasReference() ? ['tsnats', 'nats-server'] : ['tsnats'];

for (const kind of KINDS) {
  describe(`operator mode (${kind})`, () => {
    let setup: OperatorSetup;
    let server: Launched;
    before(async () => {
      setup = operatorSetup();
      server = await launch({ kind, config: setup.config });
    });
    after(async () => {
      await server.stop();
    });

    test('INFO carries a nonce and requires auth', async () => {
      const u = makeUser(setup.a);
      const nc = await mustConnect(server.url, credsOpts(u.creds));
      const info = nc.info as unknown as { nonce?: string; auth_required?: boolean };
      assert.equal(typeof info.nonce, 'string');
      assert.ok((info.nonce ?? '').length > 0);
      assert.equal(info.auth_required, true);
      await nc.close();
    });

    test('a user with valid creds connects and messages flow in its account', async () => {
      const u1 = makeUser(setup.a);
      const u2 = makeUser(setup.a);
      const nc1 = await mustConnect(server.url, credsOpts(u1.creds));
      const nc2 = await mustConnect(server.url, credsOpts(u2.creds));
      assert.equal(await roundTrip(nc1, nc2, 'hello.a'), true);
      await nc1.close();
      await nc2.close();
    });

    test('a user signed by an account signing key connects', async () => {
      const u = makeUser(setup.aSigning, { issuer_account: setup.a.getPublicKey() });
      const other = makeUser(setup.a);
      const nc = await mustConnect(server.url, credsOpts(u.creds));
      const nc2 = await mustConnect(server.url, credsOpts(other.creds));
      assert.equal(await roundTrip(nc, nc2, 'signing.key'), true, 'same account as users signed by A');
      await nc.close();
      await nc2.close();
    });

    test('a signing-key user without issuer_account is refused', async () => {
      const u = makeUser(setup.aSigning);
      assert.match(await refused(server.url, credsOpts(u.creds)), /Authorization Violation/i);
    });

    test('no creds, unknown signer, expired, not yet valid and revoked users are refused', async () => {
      assert.match(await refused(server.url, {}), /Authorization Violation/i);
      assert.match(await refused(server.url, { user: 'a', pass: 'b' }), /Authorization Violation/i);
      const stranger = makeUser(createAccount());
      assert.match(await refused(server.url, credsOpts(stranger.creds)), /Authorization Violation/i);
      const now = Math.floor(Date.now() / 1000);
      const expired = makeUser(setup.a, {}, { exp: now - 10 });
      assert.match(await refused(server.url, credsOpts(expired.creds)), /Authorization Violation/i);
      const early = makeUser(setup.a, {}, { nbf: now + 3600 });
      assert.match(await refused(server.url, credsOpts(early.creds)), /Authorization Violation/i);
      assert.match(await refused(server.url, credsOpts(setup.revoked.creds)), /Authorization Violation/i);
    });

    test('a JWT whose nonce signature is made with another key is refused', async () => {
      const key = createUser();
      const jwt = userJwt(key, setup.a);
      // The creds pair the JWT with a different seed: the nonce signature does not verify.
      const creds = credsText(jwt, createUser());
      assert.match(await refused(server.url, credsOpts(creds)), /Authorization Violation/i);
      // A tampered JWT (claims changed after signing) is refused too.
      const [h, c, s] = jwt.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(c, 'base64url').toString());
      claims.nats.pub = { allow: ['>'] };
      const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
      assert.match(await refused(server.url, credsOpts(credsText(forged, key))), /Authorization Violation/i);
    });

    test('bearer token users need no signature', async () => {
      const key = createUser();
      const jwt = userJwt(key, setup.a, { bearer_token: true });
      const nc = await mustConnect(server.url, {
        authenticator: () => ({ jwt }),
      } as Partial<ConnectionOptions>);
      await nc.close();
      const plain = userJwt(createUser(), setup.a);
      const err = await refused(server.url, {
        authenticator: () => ({ jwt: plain }),
      } as Partial<ConnectionOptions>);
      assert.match(err, /Authorization Violation/i);
    });

    test('user pub/sub permissions from the JWT', async () => {
      const u = makeUser(setup.a, {
        pub: { allow: ['orders.>'], deny: ['orders.secret'] },
        sub: { allow: ['jobs.*'] },
      });
      const nc = await mustConnect(server.url, credsOpts(u.creds));
      const err1 = nextError(nc);
      nc.publish('orders.secret', 'x');
      await nc.flush();
      assert.match(await err1, /Permissions Violation for Publish to "orders.secret"/);
      const err2 = nextError(nc);
      nc.subscribe('billing.x');
      await nc.flush().catch(() => undefined);
      assert.match(await err2, /Permissions Violation for Subscription to "billing.x"/);
      await nc.close();
    });

    test('accounts are isolated', async () => {
      const ua = makeUser(setup.a);
      const ub = makeUser(setup.b);
      const nca = await mustConnect(server.url, credsOpts(ua.creds));
      const ncb = await mustConnect(server.url, credsOpts(ub.creds));
      assert.equal(await roundTrip(nca, ncb, 'iso.x'), false);
      assert.equal(await roundTrip(ncb, nca, 'iso.y'), false);
      const ub2 = makeUser(setup.b);
      const ncb2 = await mustConnect(server.url, credsOpts(ub2.creds));
      assert.equal(await roundTrip(ncb2, ncb, 'iso.z'), true);
      await Promise.all([nca.close(), ncb.close(), ncb2.close()]);
    });

    test('src restrictions: CIDR lists (or a comma-separated string) the client address must be in', async () => {
      const ok = makeUser(setup.a, { src: ['10.0.0.0/8', '127.0.0.0/8'] });
      await (await mustConnect(server.url, credsOpts(ok.creds))).close();
      const str = makeUser(setup.a, { src: '10.0.0.0/8, 127.0.0.1/32' });
      await (await mustConnect(server.url, credsOpts(str.creds))).close();
      const other = makeUser(setup.a, { src: ['10.0.0.0/8'] });
      assert.match(await refused(server.url, credsOpts(other.creds)), /Authorization Violation/i);
      // Not a CIDR: Go's ParseCIDR fails and the user is refused.
      const plain = makeUser(setup.a, { src: ['127.0.0.1'] });
      assert.match(await refused(server.url, credsOpts(plain.creds)), /Authorization Violation/i);
    });

    test('times restrictions: logins only inside a window, closed when it ends', async () => {
      const hhmmss = (ms: number): string => new Date(ms).toISOString().slice(11, 19);
      // The windows are times of day, and one that wraps past midnight counts from its start day only (as
      // nats-server reads it), so none of them may wrap: in the last seconds of a UTC day, wait for the next
      // one (the clock is the event here), and keep the windows inside the day.
      const DAY = 86_400_000;
      const intoDay = Date.now() % DAY;
      if (intoDay > DAY - 5_000) await new Promise((r) => setTimeout(r, DAY - intoDay + 500));
      const now = Date.now();
      const dayStart = now - (now % DAY);
      const inDay = (ms: number): number => Math.min(Math.max(ms, dayStart), dayStart + DAY - 1_000);
      const HOUR = 3_600_000;
      const inside = makeUser(setup.a, {
        times: [{ start: hhmmss(inDay(now - HOUR)), end: hhmmss(inDay(now + HOUR)) }],
        times_location: 'UTC',
      });
      await (await mustConnect(server.url, credsOpts(inside.creds))).close();
      // An hour later, or (late in the day) earlier.
      const later = now + 2 * HOUR < dayStart + DAY;
      const outside = makeUser(setup.a, {
        times: [
          later
            ? { start: hhmmss(now + HOUR), end: hhmmss(now + 2 * HOUR) }
            : { start: hhmmss(now - 2 * HOUR), end: hhmmss(now - HOUR) },
        ],
        times_location: 'UTC',
      });
      assert.match(await refused(server.url, credsOpts(outside.creds)), /Authorization Violation/i);
      const ending = makeUser(setup.a, {
        times: [{ start: hhmmss(inDay(now - 10_000)), end: hhmmss(now + 2_000) }],
        times_location: 'UTC',
      });
      const nc = await mustConnect(server.url, credsOpts(ending.creds));
      const err = nextError(nc);
      assert.match(await err, /User Authentication Expired/i);
      await nc.closed();
    });

    test('a user JWT that expires closes the connection', async () => {
      const u = makeUser(setup.a, {}, { exp: Math.floor(Date.now() / 1000) + 2 });
      const nc = await mustConnect(server.url, credsOpts(u.creds));
      const err = nextError(nc);
      const closed = nc.closed();
      assert.match(await err, /User Authentication Expired/i);
      await closed;
    });
  });
}

for (const kind of KINDS) {
  test(`operator mode (${kind}): stream and service exports/imports of account JWTs`, async () => {
    const op = createOperator();
    const a = createAccount();
    const b = createAccount();
    const aJwt = accountJwt(a, op, {
      exports: [
        { name: 'news', subject: 'news.>', type: 'stream' },
        { name: 'time', subject: 'svc.time', type: 'service' },
        { name: 'private', subject: 'private.>', type: 'stream', token_req: true },
      ],
    });
    const bJwt = accountJwt(b, op, {
      imports: [
        { name: 'news', subject: 'news.>', account: a.getPublicKey(), type: 'stream' },
        {
          name: 'time',
          subject: 'svc.time',
          account: a.getPublicKey(),
          local_subject: 'time',
          type: 'service',
        },
      ],
    });
    const config = `operator: ${operatorJwt(op)}\nresolver: MEMORY\nresolver_preload: {\n  ${a.getPublicKey()}: ${aJwt}\n  ${b.getPublicKey()}: ${bJwt}\n}\n`;
    const server = await launch({ kind, config });
    try {
      const nca = await mustConnect(server.url, credsOpts(makeUser(a).creds));
      const ncb = await mustConnect(server.url, credsOpts(makeUser(b).creds));
      assert.equal(await roundTrip(nca, ncb, 'news.sports'), true, 'stream import');
      assert.equal(await roundTrip(nca, ncb, 'other.x'), false, 'not exported');
      nca.subscribe('svc.time', {
        callback: (_e, m) => {
          m.respond('noon');
        },
      });
      await nca.flush();
      const reply = await ncb.request('time', '', { timeout: 1000 });
      assert.equal(reply.string(), 'noon');
      await Promise.all([nca.close(), ncb.close()]);
    } finally {
      await server.stop();
    }
  });
}

for (const kind of KINDS) {
  test(`operator mode (${kind}): /varz and /accountz show the operators and the account JWTs`, async () => {
    const op = createOperator();
    const sys = createAccount();
    const a = createAccount();
    const opJwt = operatorJwt(op, { system_account: sys.getPublicKey() });
    const revokedAt = Math.floor(Date.now() / 1000);
    const aJwt = accountJwt(a, op, { revocations: { UABC: revokedAt } });
    const config = `operator: ${opJwt}\nresolver: MEMORY\nresolver_preload: {\n  ${sys.getPublicKey()}: ${accountJwt(sys, op)}\n  ${a.getPublicKey()}: ${aJwt}\n}\nhttp_port: -1\n`;
    const server = await launch({ kind, config, listeners: ['nats', 'monitoring'] });
    try {
      const varz = (await (await fetch(`${server.monitorUrl}/varz`)).json()) as Record<string, unknown>;
      assert.deepEqual(varz.trusted_operators_jwt, [opJwt]);
      const [h, c] = opJwt.split('.') as [string, string];
      assert.ok(h.length > 0);
      const claims = JSON.parse(Buffer.from(c, 'base64url').toString()) as Record<string, unknown>;
      // The claims as Go marshals them: registered claims in jwt's field order, then `nats`.
      const n = claims.nats as Record<string, unknown>;
      const nats = { system_account: n.system_account, type: n.type, version: n.version };
      const expected = {
        jti: claims.jti,
        iat: claims.iat,
        iss: claims.iss,
        name: claims.name,
        sub: claims.sub,
        nats,
      };
      assert.equal(JSON.stringify(varz.trusted_operators_claim), JSON.stringify([expected]));
      assert.equal(varz.system_account, sys.getPublicKey());
      // The account is made when first used (a login), then /accountz has its JWT.
      const nc = await mustConnect(server.url, credsOpts(makeUser(a).creds));
      const az = (await (await fetch(`${server.monitorUrl}/accountz?acc=${a.getPublicKey()}`)).json()) as {
        system_account: string;
        account_detail: Record<string, unknown>;
      };
      await nc.close();
      const d = az.account_detail;
      assert.equal(az.system_account, sys.getPublicKey());
      assert.equal(d.jwt, aJwt);
      assert.equal(d.issuer_key, op.getPublicKey());
      assert.equal(d.name_tag, a.getPublicKey().slice(0, 8));
      assert.deepEqual(d.revoked_user, {
        UABC: new Date(revokedAt * 1000).toISOString().replace('.000Z', 'Z'),
      });
      const sysDetail = (await (
        await fetch(`${server.monitorUrl}/accountz?acc=${sys.getPublicKey()}`)
      ).json()) as {
        account_detail: Record<string, unknown>;
      };
      assert.equal(sysDetail.account_detail.is_system, true);
    } finally {
      await server.stop();
    }
  });
}

for (const kind of KINDS) {
  test(`operator mode (${kind}): resolver_pinned_accounts lets only those accounts (and the system account) in`, async () => {
    const setup = operatorSetup();
    const config = `${setup.config}resolver_pinned_accounts: [${setup.a.getPublicKey()}]\nhttp_port: -1\n`;
    const server = await launch({ kind, config, listeners: ['nats', 'monitoring'] });
    try {
      await (await mustConnect(server.url, credsOpts(makeUser(setup.a).creds))).close();
      await (await mustConnect(server.url, credsOpts(makeUser(setup.sys).creds))).close();
      assert.match(await refused(server.url, credsOpts(makeUser(setup.b).creds)), /Authorization Violation/i);
      const varz = (await (await fetch(`${server.monitorUrl}/varz`)).json()) as Record<string, unknown>;
      assert.equal(varz.pinned_account_fails, 1);
    } finally {
      await server.stop();
    }
  });
}
