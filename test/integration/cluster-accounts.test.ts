import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { type AuthorizationConfig, emptyAuthorization } from '../../src/auth/types.js';
import { stopAll, TsNode, waitForInterest, waitForMesh } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait-for.js';

function accounts(): AuthorizationConfig {
  const a = emptyAuthorization();
  a.accounts = [
    { name: 'A', users: [], nkeys: [], exports: [{ service: 'help' }, { stream: 'news.>' }], imports: [] },
    {
      name: 'B',
      users: [],
      nkeys: [],
      exports: [],
      imports: [
        { service: { account: 'A', subject: 'help' } },
        { stream: { account: 'A', subject: 'news.>' }, prefix: 'a' },
      ],
    },
  ];
  a.users = [
    { user: 'a', password: 'p', account: 'A' },
    { user: 'b', password: 'p', account: 'B' },
  ];
  return a;
}

test('service and stream imports across a route: requester and responder on different servers', async () => {
  const n1 = await TsNode.start({ name: 'n1', config: { authorization: accounts() } });
  const n2 = await TsNode.start({ name: 'n2', routes: [n1.routeUrl], config: { authorization: accounts() } });
  try {
    await waitForMesh([n1, n2]);
    const responder = await connect({ servers: n2.url, user: 'a', pass: 'p' });
    responder.subscribe('help', {
      callback: (_e, m) => {
        m.respond(`answer to ${m.string()}`);
      },
    });
    await responder.flush();
    await waitForInterest([n1], n2, 'help');
    const requester = await connect({ servers: n1.url, user: 'b', pass: 'p' });
    for (let i = 0; i < 3; i++) {
      const r = await requester.request('help', `q${i}`, { timeout: 2000 });
      assert.equal(r.string(), `answer to q${i}`);
    }
    // A stream export published on n2 reaches an importing subscriber on n1 with the prefix.
    const got: string[] = [];
    requester.subscribe('a.news.>', {
      callback: (_e, m) => {
        got.push(`${m.subject}=${m.string()}`);
      },
    });
    await requester.flush();
    await waitForInterest([n2], n1, 'a.news.>');
    responder.publish('news.today', 'sunny');
    await responder.flush();
    await waitFor(() => got.length > 0, 5000, 'the imported stream message');
    assert.deepEqual(got, ['a.news.today=sunny']);
    await requester.close();
    await responder.close();
  } finally {
    await stopAll([n1, n2]);
  }
});
