import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createUser } from '@nats-io/nkeys';
import { connect, type NatsConnection, nkeyAuthenticator } from '@nats-io/transport-node';
import bcrypt from 'bcryptjs';
import { type AuthorizationConfig, emptyAuthorization } from '../../src/auth/types.js';
import type { Server } from '../../src/index.js';
import { startServer, urlOf } from '../helpers/server.js';

function authz(partial: Partial<AuthorizationConfig>): AuthorizationConfig {
  return { ...emptyAuthorization(), ...partial };
}

/** Connect, or return the error's message. */
async function tryConnect(server: Server, opts: Record<string, unknown>): Promise<NatsConnection | string> {
  try {
    return await connect({ servers: urlOf(server), reconnect: false, ...opts });
  } catch (e) {
    return (e as Error).message;
  }
}

async function mustConnect(server: Server, opts: Record<string, unknown> = {}): Promise<NatsConnection> {
  const nc = await tryConnect(server, opts);
  if (typeof nc === 'string') throw new Error(`connect failed: ${nc}`);
  return nc;
}

/** The next async error the server reports on this connection (permission violations). */
function nextError(nc: NatsConnection): Promise<string> {
  return (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'error') return String((s as { error?: Error }).error?.message ?? s);
    }
    return '';
  })();
}

/** Publish and wait for the server to have processed it (PING/PONG round trip). */
async function pubFlush(nc: NatsConnection, subject: string, data = ''): Promise<void> {
  nc.publish(subject, data);
  await nc.flush();
}

describe('authentication', () => {
  test('user and password: right secret in, wrong secret out', async () => {
    const server = await startServer({ user: 'alice', password: 's3cret' });
    try {
      const nc = await mustConnect(server, { user: 'alice', pass: 's3cret' });
      await nc.close();
      assert.match(
        String(await tryConnect(server, { user: 'alice', pass: 'nope' })),
        /Authorization Violation/i,
      );
      assert.match(String(await tryConnect(server, {})), /Authorization Violation/i);
    } finally {
      await server.shutdown();
    }
  });

  test('token', async () => {
    const server = await startServer({ token: 'tok-123' });
    try {
      await (await mustConnect(server, { token: 'tok-123' })).close();
      assert.match(String(await tryConnect(server, { token: 'tok-124' })), /Authorization Violation/i);
    } finally {
      await server.shutdown();
    }
  });

  test('bcrypt-hashed passwords in a users list', async () => {
    const hash = bcrypt.hashSync('pw-bob', 4);
    const server = await startServer({
      authorization: authz({
        users: [
          { user: 'bob', password: hash },
          { user: 'carol', password: 'plain' },
        ],
      }),
    });
    try {
      await (await mustConnect(server, { user: 'bob', pass: 'pw-bob' })).close();
      await (await mustConnect(server, { user: 'carol', pass: 'plain' })).close();
      assert.match(
        String(await tryConnect(server, { user: 'bob', pass: 'wrong' })),
        /Authorization Violation/i,
      );
      assert.match(
        String(await tryConnect(server, { user: 'dave', pass: 'plain' })),
        /Authorization Violation/i,
      );
    } finally {
      await server.shutdown();
    }
  });

  test('allowed_connection_types: a user limited to websocket cannot connect as a plain client', async () => {
    const server = await startServer({
      authorization: authz({
        users: [
          { user: 'ws', password: 'p', allowedConnectionTypes: ['WEBSOCKET'] },
          { user: 'std', password: 'p', allowedConnectionTypes: ['standard', 'MQTT'] },
        ],
      }),
    });
    try {
      assert.match(String(await tryConnect(server, { user: 'ws', pass: 'p' })), /Authorization Violation/i);
      await (await mustConnect(server, { user: 'std', pass: 'p' })).close();
    } finally {
      await server.shutdown();
    }
  });

  test('NKey users sign the nonce', async () => {
    const good = createUser();
    const other = createUser();
    const server = await startServer({ authorization: authz({ nkeys: [{ nkey: good.getPublicKey() }] }) });
    try {
      const nc = await mustConnect(server, { authenticator: nkeyAuthenticator(good.getSeed()) });
      assert.ok(nc.info?.nonce, 'INFO carries a nonce');
      await nc.close();
      const err = await tryConnect(server, { authenticator: nkeyAuthenticator(other.getSeed()) });
      assert.match(String(err), /Authorization Violation/i);
    } finally {
      await server.shutdown();
    }
  });

  test('no_auth_user logs in clients without credentials', async () => {
    const server = await startServer({
      authorization: authz({
        users: [
          { user: 'anon', password: 'x', permissions: { publish: { allow: ['public.>'] } } },
          { user: 'admin', password: 'y' },
        ],
        noAuthUser: 'anon',
      }),
    });
    try {
      const nc = await mustConnect(server);
      const err = nextError(nc);
      await pubFlush(nc, 'public.ok');
      nc.publish('private.no');
      assert.match(await err, /Permissions Violation for Publish to "private.no"/);
      await nc.close();
    } finally {
      await server.shutdown();
    }
  });

  test('authentication timeout', async () => {
    const server = await startServer({ user: 'a', password: 'b', authTimeout: 100 });
    try {
      const { createConnection } = await import('node:net');
      const sock = createConnection({ host: '127.0.0.1', port: server.port });
      let got = '';
      sock.setEncoding('latin1');
      sock.on('data', (d: string) => {
        got += d;
      });
      await new Promise<void>((resolve) => sock.on('close', () => resolve()));
      assert.match(got, /^INFO .*"auth_required":true.*\r\n-ERR 'Authentication Timeout'\r\n$/s);
    } finally {
      await server.shutdown();
    }
  });
});

describe('authorization', () => {
  const perms = authz({
    users: [
      {
        user: 'u',
        password: 'p',
        permissions: {
          publish: { allow: ['orders.>', 'reply.*'], deny: ['orders.secret'] },
          subscribe: { allow: ['orders.*', 'jobs workers', 'events.>'], deny: ['events.internal'] },
        },
      },
      { user: 'free', password: 'p' },
    ],
  });

  test('publish allow and deny with wildcards; connection stays open', async () => {
    const server = await startServer({ authorization: perms });
    const nc = await mustConnect(server, { user: 'u', pass: 'p' });
    const spy = await mustConnect(server, { user: 'free', pass: 'p' });
    try {
      const seen: string[] = [];
      spy.subscribe('>', {
        callback: (_e, m) => {
          seen.push(m.subject);
        },
      });
      await spy.flush();
      await pubFlush(nc, 'orders.new');
      await pubFlush(nc, 'orders.eu.new');
      const err1 = nextError(nc);
      nc.publish('orders.secret');
      assert.match(await err1, /Permissions Violation for Publish to "orders.secret"/);
      const err2 = nextError(nc);
      nc.publish('billing.x');
      assert.match(await err2, /Permissions Violation for Publish to "billing.x"/);
      await pubFlush(nc, 'reply.1');
      await spy.flush();
      assert.deepEqual(seen, ['orders.new', 'orders.eu.new', 'reply.1']);
      assert.equal(nc.isClosed(), false);
    } finally {
      await nc.close();
      await spy.close();
      await server.shutdown();
    }
  });

  test('subscribe allow/deny, queue-group permissions and wildcard subscriptions over a deny entry', async () => {
    const server = await startServer({ authorization: perms });
    const nc = await mustConnect(server, { user: 'u', pass: 'p' });
    const pub = await mustConnect(server, { user: 'free', pass: 'p' });
    try {
      const err1 = nextError(nc);
      nc.subscribe('billing.x');
      assert.match(await err1, /Permissions Violation for Subscription to "billing.x"/);
      const err2 = nextError(nc);
      nc.subscribe('jobs', { queue: 'thieves' });
      assert.match(await err2, /Permissions Violation for Subscription to "jobs"/);
      const jobs: string[] = [];
      nc.subscribe('jobs', {
        queue: 'workers',
        callback: (_e, m) => {
          jobs.push(m.string());
        },
      });
      const events: string[] = [];
      // events.> is allowed; events.internal is denied, so it must not be delivered on the wildcard.
      nc.subscribe('events.>', {
        callback: (_e, m) => {
          events.push(m.subject);
        },
      });
      await nc.flush();
      pub.publish('jobs', 'j1');
      pub.publish('events.public', '');
      pub.publish('events.internal', '');
      pub.publish('events.more', '');
      await pub.flush();
      await nc.flush();
      assert.deepEqual(jobs, ['j1']);
      assert.deepEqual(events, ['events.public', 'events.more']);
    } finally {
      await nc.close();
      await pub.close();
      await server.shutdown();
    }
  });

  test('allow_responses lets a responder reply once to requests it received', async () => {
    const server = await startServer({
      authorization: authz({
        users: [
          {
            user: 'svc',
            password: 'p',
            permissions: {
              publish: { allow: [] },
              subscribe: { allow: ['help'] },
              responses: { max: 1, expires: 60000 },
            },
          },
          { user: 'cli', password: 'p' },
        ],
      }),
    });
    const svc = await mustConnect(server, { user: 'svc', pass: 'p' });
    const cli = await mustConnect(server, { user: 'cli', pass: 'p' });
    try {
      svc.subscribe('help', {
        callback: (_e, m) => {
          m.respond('ok');
        },
      });
      await svc.flush();
      const r = await cli.request('help', 'q', { timeout: 2000 });
      assert.equal(r.string(), 'ok');
      const err = nextError(svc);
      svc.publish('anything');
      assert.match(await err, /Permissions Violation for Publish to "anything"/);
    } finally {
      await svc.close();
      await cli.close();
      await server.shutdown();
    }
  });
});

describe('accounts', () => {
  const accounts = authz({
    accounts: [
      {
        name: 'A',
        users: [],
        nkeys: [],
        exports: [{ stream: 'public.>' }, { service: 'help.>' }],
        imports: [],
      },
      {
        name: 'B',
        users: [],
        nkeys: [],
        exports: [],
        imports: [
          { stream: { account: 'A', subject: 'public.>' }, prefix: 'fromA' },
          { service: { account: 'A', subject: 'help.>' } },
        ],
      },
    ],
    users: [
      { user: 'a', password: 'p', account: 'A' },
      { user: 'b', password: 'p', account: 'B' },
      { user: 'b2', password: 'p', account: 'B' },
    ],
  });

  test('accounts isolate subjects; stream and service imports cross them', async () => {
    const server = await startServer({ authorization: accounts });
    const a = await mustConnect(server, { user: 'a', pass: 'p' });
    const b = await mustConnect(server, { user: 'b', pass: 'p' });
    const b2 = await mustConnect(server, { user: 'b2', pass: 'p' });
    try {
      const gotA: string[] = [];
      const gotB: string[] = [];
      a.subscribe('>', {
        callback: (_e, m) => {
          gotA.push(m.subject);
        },
      });
      b.subscribe('>', {
        callback: (_e, m) => {
          gotB.push(m.subject);
        },
      });
      a.subscribe('help.>', {
        callback: (_e, m) => {
          m.respond(`A says hi to ${m.subject}`);
        },
      });
      await a.flush();
      await b.flush();
      // Same account B: b2's message reaches b; A does not see it.
      await pubFlush(b2, 'private.b');
      // A's private subject stays in A; its exported stream reaches B with the prefix.
      await pubFlush(a, 'private.a');
      await pubFlush(a, 'public.news');
      // B requests A's exported service.
      const r = await b2.request('help.me', 'x', { timeout: 2000 });
      assert.equal(r.string(), 'A says hi to help.me');
      await a.flush();
      await b.flush();
      assert.deepEqual(
        gotB.filter((s) => !s.startsWith('_INBOX')),
        ['private.b', 'fromA.public.news', 'help.me'],
      );
      assert.ok(!gotA.includes('private.b'));
      assert.ok(gotA.includes('public.news') && gotA.includes('private.a') && gotA.includes('help.me'));
    } finally {
      await a.close();
      await b.close();
      await b2.close();
      await server.shutdown();
    }
  });
});
