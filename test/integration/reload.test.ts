import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type AuthorizationConfig, emptyAuthorization } from '../../src/auth/types.js';
import { rfc3339 } from '../../src/monitor/format.js';
import type { Varz } from '../../src/monitor/varz.js';
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

test('/varz config_load_time is the start, then the time of each successful reload', async () => {
  const server = await startServer({ httpPort: -1, maxPayload: 1024 });
  const varz = async (): Promise<Varz> => (await (await fetch(`${server.monitor!.url}/varz`)).json()) as Varz;
  const loadTime = async (): Promise<string> => (await varz()).config_load_time;
  try {
    const first = await loadTime();
    assert.equal(first, rfc3339(server.startTime));
    await sleep(20);
    const before = Date.now();
    await server.reload({ maxPayload: 2048 });
    const reloaded = await loadTime();
    assert.ok(Date.parse(reloaded) >= before, `${reloaded} is not after the reload began`);
    assert.ok(Date.parse(reloaded) <= Date.now());
    assert.notEqual(reloaded, first);
    // The start stays the start.
    assert.equal((await varz()).start, first);
    // A refused reload loads nothing.
    await sleep(20);
    await assert.rejects(server.reload({ port: server.port + 1 }), /config reload not supported for port/);
    assert.equal(await loadTime(), reloaded);
    await sleep(20);
    await server.reload({ maxPayload: 4096 });
    assert.ok(Date.parse(await loadTime()) > Date.parse(reloaded));
  } finally {
    await server.shutdown();
  }
});
