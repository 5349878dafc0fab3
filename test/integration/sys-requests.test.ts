import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { emptyAuthorization } from '../../src/auth/types.js';
import { startServer, urlOf } from '../helpers/server.js';

test('$SYS.REQ.SERVER requests answer with the monitoring data, in the system account only', async () => {
  const authorization = emptyAuthorization();
  authorization.accounts = [{ name: 'SYS', users: [], nkeys: [], exports: [], imports: [] }];
  authorization.users = [
    { user: 'sys', password: 'p', account: 'SYS' },
    { user: 'app', password: 'p' },
  ];
  const server = await startServer({ authorization, systemAccount: 'SYS', serverName: 'sys-test' });
  const sys = await connect({ servers: urlOf(server), user: 'sys', pass: 'p' });
  const app = await connect({ servers: urlOf(server), user: 'app', pass: 'p' });
  try {
    app.subscribe('app.subject');
    await app.flush();
    const varz = (await sys.request('$SYS.REQ.SERVER.PING.VARZ', '', { timeout: 2000 })).json<{
      server: { id: string; name: string; ver: string };
      data: { server_id: string; connections: number; subscriptions: number };
    }>();
    assert.equal(varz.server.id, server.id);
    assert.equal(varz.server.name, 'sys-test');
    assert.equal(varz.server.ver, '2.10.29');
    assert.equal(varz.data.server_id, server.id);
    assert.equal(varz.data.connections, 2);
    assert.equal(varz.data.subscriptions >= 1, true);
    const connz = (
      await sys.request(
        `$SYS.REQ.SERVER.${server.id}.CONNZ`,
        JSON.stringify({ subscriptions: true, auth: true }),
        {
          timeout: 2000,
        },
      )
    ).json<{
      data: {
        num_connections: number;
        connections: { authorized_user: string; subscriptions_list?: string[] }[];
      };
    }>();
    assert.equal(connz.data.num_connections, 2);
    const appConn = connz.data.connections.find((c) => c.authorized_user === 'app')!;
    assert.deepEqual(appConn.subscriptions_list, ['app.subject']);
    const health = (await sys.request('$SYS.REQ.SERVER.PING.HEALTHZ', '', { timeout: 2000 })).json<{
      data: { status: string };
    }>();
    assert.equal(health.data.status, 'ok');
    // A filter naming another server gets no answer from this one.
    await assert.rejects(
      sys.request('$SYS.REQ.SERVER.PING.VARZ', JSON.stringify({ server_name: 'someone-else' }), {
        timeout: 300,
      }),
    );
    // Accounts other than the system account do not see these subjects.
    await assert.rejects(app.request('$SYS.REQ.SERVER.PING.VARZ', '', { timeout: 1000 }), /no responders/i);
  } finally {
    await sys.close();
    await app.close();
    await server.shutdown();
  }
});
