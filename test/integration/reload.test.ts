import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type AuthorizationConfig, emptyAuthorization } from '../../src/auth/types.js';
import { startServer, urlOf } from '../helpers/server.js';

function users(list: AuthorizationConfig['users']): AuthorizationConfig {
  return { ...emptyAuthorization(), users: list };
}

function nextError(nc: NatsConnection): Promise<string> {
  return (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'error') return String((s as { error?: Error }).error?.message);
    }
    return '';
  })();
}

test('reload adds and removes users and shrinks permissions while connections stay up', async () => {
  const before = users([
    { user: 'alice', password: 'a' },
    { user: 'bob', password: 'b' },
  ]);
  const server = await startServer({ authorization: before, maxPayload: 1024 });
  const alice = await connect({ servers: urlOf(server), user: 'alice', pass: 'a', reconnect: false });
  const bob = await connect({ servers: urlOf(server), user: 'bob', pass: 'b', reconnect: false });
  try {
    alice.subscribe('news.>');
    alice.subscribe('secret');
    await alice.flush();
    const bobClosed = bob.closed();
    const aliceErr = nextError(alice);
    await server.reload({
      authorization: users([
        { user: 'alice', password: 'a', permissions: { subscribe: { allow: ['news.>'] } } },
        { user: 'carol', password: 'c' },
      ]),
      maxPayload: 2048,
    });
    // bob is gone, alice stays with her allowed subscription only.
    const err = await bobClosed;
    assert.match(String(err), /Authorization Violation/i);
    assert.match(await aliceErr, /Permissions Violation for Subscription to "secret"/);
    assert.equal(alice.isClosed(), false);
    const client = [...server.clients.values()].find((c) => c.authorizedUser === 'alice')!;
    assert.deepEqual(
      [...client.subs.values()].map((s) => s.subject),
      ['news.>'],
    );
    assert.equal(server.options.maxPayload, 2048);
    // carol is new.
    const carol = await connect({ servers: urlOf(server), user: 'carol', pass: 'c', reconnect: false });
    assert.equal(carol.info?.max_payload, 2048);
    await carol.close();
    // The port cannot change while running.
    await assert.rejects(server.reload({ port: server.port + 1 }), /config reload not supported for port/);
  } finally {
    await alice.close();
    await server.shutdown();
  }
});
