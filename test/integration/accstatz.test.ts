/**
 * /accstatz counts, per account, the messages its clients published (`received`) and the deliveries they
 * made (`sent`), as nats-server's Account.statz does; checked against tsnats and, when installed,
 * nats-server 2.9.10, for the global account and for an account from the config file.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ConnectionOptions, connect } from '@nats-io/transport-node';
import { launch, type ServerKind } from '../helpers/launcher.js';
import { hasReference } from '../helpers/reference.js';

const KINDS: ServerKind[] = hasReference() ? ['tsnats', 'nats-server'] : ['tsnats'];

const CASES: { what: string; config: string; login: Partial<ConnectionOptions>; acc: string }[] = [
  { what: 'the global account', config: '', login: {}, acc: '$G' },
  {
    what: 'an account of the config file',
    config: 'accounts { A { users: [{ user: a, password: pw }] } }\n',
    login: { user: 'a', pass: 'pw' },
    acc: 'A',
  },
];

for (const kind of KINDS) {
  for (const c of CASES) {
    test(`/accstatz (${kind}): ${c.what}'s messages in and deliveries out`, async () => {
      const server = await launch({
        kind,
        config: `${c.config}http: 127.0.0.1:-1\n`,
        listeners: ['nats', 'monitoring'],
      });
      const publisher = await connect({ servers: server.url, ...c.login });
      const other = await connect({ servers: server.url, ...c.login });
      try {
        // Two subscribers of foo: "hello" is delivered twice; "xy" on bar to nobody.
        publisher.subscribe('foo');
        other.subscribe('foo');
        await publisher.flush();
        await other.flush();
        publisher.publish('foo', 'hello');
        publisher.publish('bar', 'xy');
        await publisher.flush();
        const z = (await (await fetch(`${server.monitorUrl}/accstatz`)).json()) as {
          account_statz: Record<string, unknown>[];
        };
        assert.deepEqual(z.account_statz, [
          {
            acc: c.acc,
            conns: 2,
            leafnodes: 0,
            total_conns: 2,
            // 2.10's field (the two subscriptions and the four system imports); not in 2.9.10.
            ...(kind === 'tsnats' ? { num_subscriptions: 6 } : {}),
            sent: { msgs: 2, bytes: 10 },
            received: { msgs: 2, bytes: 7 },
            slow_consumers: 0,
          },
        ]);
      } finally {
        await publisher.close();
        await other.close();
        await server.stop();
      }
    });
  }
}
