/**
 * The system account's client and account connection events: `$SYS.ACCOUNT.<acc>.CONNECT` and
 * `.DISCONNECT` (nats-server's ConnectEventMsg / DisconnectEventMsg) and `$SYS.ACCOUNT.<acc>.SERVER.CONNS`
 * (AccountNumConns), received by a system account subscriber, in operator mode and with accounts from
 * the config file, for clients and for a leaf node logged in with user creds. Each check runs against
 * tsnats and, when installed, nats-server 2.9.10.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createAccount, createOperator } from '@nats-io/nkeys';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { accountJwt, makeUser, operatorJwt } from '../helpers/jwt.js';
import { type Launched, launch, type ServerKind } from '../helpers/launcher.js';
import { startHub, startLeaf, waitForLeafs } from '../helpers/leafnodes.js';
import { credsOpts, mustConnect } from '../helpers/operator-client.js';
import { hasReference } from '../helpers/reference.js';
import { waitFor } from '../helpers/wait-for.js';

const KINDS: ServerKind[] = hasReference() ? ['tsnats', 'nats-server'] : ['tsnats'];

type Json = Record<string, unknown>;

/** Events on `$SYS.ACCOUNT.<acc>.>` as they arrive: the subject's last tokens and the JSON. */
async function watchAccount(
  sysConn: NatsConnection,
  acc: string,
): Promise<{ events: { kind: string; body: Json }[] }> {
  const prefix = `$SYS.ACCOUNT.${acc}.`;
  const out = { events: [] as { kind: string; body: Json }[] };
  sysConn.subscribe(`${prefix}>`, {
    callback: (_err: Error | null, m: Msg) => {
      out.events.push({ kind: m.subject.slice(prefix.length), body: m.json<Json>() });
    },
  });
  await sysConn.flush();
  return out;
}

function ofKind(events: { kind: string; body: Json }[], kind: string): Json[] {
  return events.filter((e) => e.kind === kind).map((e) => e.body);
}

/** A user connects to the watched account, publishes "hello" and leaves; its events, once all are in. */
async function lifeCycle(
  sysConn: NatsConnection,
  acc: string,
  login: () => Promise<NatsConnection>,
): Promise<{ kind: string; body: Json }[]> {
  const w = await watchAccount(sysConn, acc);
  const nc = await login();
  nc.publish('greeting', 'hello');
  await nc.flush();
  await nc.close();
  await waitFor(
    () => ofKind(w.events, 'DISCONNECT').length === 1 && ofKind(w.events, 'SERVER.CONNS').length === 2,
    5000,
    'the disconnect event',
  );
  return w.events;
}

/** The checks both modes share: shapes, counts and the client's identity. */
function checkEvents(events: { kind: string; body: Json }[], acc: string, user: string): void {
  const [connect] = ofKind(events, 'CONNECT');
  const [disconnect] = ofKind(events, 'DISCONNECT');
  const conns = ofKind(events, 'SERVER.CONNS');
  assert.ok(connect !== undefined, 'a connect event');
  assert.equal(connect.type, 'io.nats.server.advisory.v1.client_connect');
  assert.deepEqual(Object.keys(connect), ['type', 'id', 'timestamp', 'server', 'client']);
  assert.deepEqual(Object.keys(disconnect!), [
    'type',
    'id',
    'timestamp',
    'server',
    'client',
    'sent',
    'received',
    'reason',
  ]);
  assert.equal(disconnect!.type, 'io.nats.server.advisory.v1.client_disconnect');
  const ci = connect.client as Json;
  assert.equal(ci.acc, acc);
  assert.equal(ci.user, user);
  assert.equal(ci.name, 'events-test');
  assert.equal(ci.lang, 'nats.js');
  assert.equal(ci.kind, 'Client');
  assert.equal(ci.client_type, 'nats');
  const dci = disconnect!.client as Json;
  assert.equal(dci.id, ci.id);
  assert.equal(typeof dci.stop, 'string');
  assert.deepEqual(disconnect!.sent, { msgs: 1, bytes: 5 });
  assert.deepEqual(disconnect!.received, { msgs: 0, bytes: 0 });
  assert.equal(disconnect!.reason, 'Client Closed');

  assert.deepEqual(
    conns.map((c) => [c.type, c.acc, c.conns, c.total_conns]),
    [
      ['io.nats.server.advisory.v1.account_connections', acc, 1, 1],
      ['io.nats.server.advisory.v1.account_connections', acc, 0, 0],
    ],
  );
  // The account's own counts: one message of 5 bytes published, delivered to nobody.
  assert.deepEqual(conns[1]!.received, { msgs: 1, bytes: 5 });
  assert.deepEqual(conns[1]!.sent, { msgs: 0, bytes: 0 });
}

for (const kind of KINDS) {
  describe(`system account events (${kind})`, () => {
    test('operator mode: a user JWT signed with a signing key, with its name and tags', async () => {
      const op = createOperator();
      const sys = createAccount();
      const a = createAccount();
      const signer = createAccount();
      const config = `operator: ${operatorJwt(op, { system_account: sys.getPublicKey() })}
system_account: ${sys.getPublicKey()}
resolver: MEMORY
resolver_preload: {
  ${sys.getPublicKey()}: ${accountJwt(sys, op)}
  ${a.getPublicKey()}: ${accountJwt(a, op, { signing_keys: [signer.getPublicKey()] })}
}
`;
      const server = await launch({ kind, config });
      const sysConn = await mustConnect(server.url, credsOpts(makeUser(sys).creds));
      try {
        const user = makeUser(
          signer,
          { issuer_account: a.getPublicKey(), tags: ['team:blue'] },
          { name: 'bob' },
        );
        const events = await lifeCycle(sysConn, a.getPublicKey(), () =>
          mustConnect(server.url, { ...credsOpts(user.creds), name: 'events-test' }),
        );
        checkEvents(events, a.getPublicKey(), user.key.getPublicKey());
        const [connect] = ofKind(events, 'CONNECT');
        const ci = connect!.client as Json;
        assert.deepEqual(Object.keys(ci), [
          'start',
          'host',
          'id',
          'acc',
          'user',
          'name',
          'lang',
          'ver',
          'jwt',
          'issuer_key',
          'name_tag',
          'tags',
          'kind',
          'client_type',
        ]);
        assert.equal(ci.jwt, user.jwt);
        assert.equal(ci.issuer_key, signer.getPublicKey());
        assert.equal(ci.name_tag, 'bob');
        assert.deepEqual(ci.tags, ['team:blue']);
        const [disconnect] = ofKind(events, 'DISCONNECT');
        const keys = Object.keys(disconnect!.client as Json);
        assert.deepEqual(
          keys.filter((k) => k !== 'rtt'),
          [...Object.keys(ci).slice(0, 8), 'stop', ...Object.keys(ci).slice(8)],
        );
      } finally {
        await sysConn.close();
        await server.stop();
      }
    });

    test('accounts from the config file: a user of an account, seen from the system account', async () => {
      const config = `accounts {
  A { users: [{ user: alice, password: pw }] }
  SYS { users: [{ user: admin, password: pw }] }
}
system_account: SYS
`;
      const server = await launch({ kind, config });
      const sysConn = await connect({ servers: server.url, user: 'admin', pass: 'pw' });
      try {
        const events = await lifeCycle(sysConn, 'A', () =>
          connect({ servers: server.url, user: 'alice', pass: 'pw', name: 'events-test' }),
        );
        checkEvents(events, 'A', 'alice');
        const [connect0] = ofKind(events, 'CONNECT');
        const ci = connect0!.client as Json;
        assert.equal(ci.jwt, undefined);
        assert.equal(ci.issuer_key, undefined);
      } finally {
        await sysConn.close();
        await server.stop();
      }
    });

    test('operator mode: a leaf node logged in with user creds is announced as a Leafnode', async () => {
      const dir = mkdtempSync(join(tmpdir(), `tsnats-leaf-events-${kind}-`));
      const op = createOperator();
      const sys = createAccount();
      const a = createAccount();
      const config = `operator: ${operatorJwt(op, { system_account: sys.getPublicKey() })}
system_account: ${sys.getPublicKey()}
resolver: MEMORY
resolver_preload: {
  ${sys.getPublicKey()}: ${accountJwt(sys, op)}
  ${a.getPublicKey()}: ${accountJwt(a, op)}
}
`;
      const user = makeUser(a, {}, { name: 'leafuser' });
      const creds = join(dir, 'leaf.creds');
      writeFileSync(creds, user.creds);
      const hub = await startHub(kind, { config });
      const sysConn = await mustConnect(hub.url, credsOpts(makeUser(sys).creds));
      let leaf: Launched | undefined;
      try {
        const w = await watchAccount(sysConn, a.getPublicKey());
        leaf = await startLeaf('tsnats', `nats-leaf://127.0.0.1:${hub.leafPort}`, {
          remote: `credentials: "${creds}"`,
        });
        await waitForLeafs(hub, 1);
        await leaf.stop();
        leaf = undefined;
        await waitFor(() => ofKind(w.events, 'DISCONNECT').length === 1, 10000, 'the disconnect event');
        const [connected] = ofKind(w.events, 'CONNECT');
        const [disconnected] = ofKind(w.events, 'DISCONNECT');
        const ci = connected!.client as Json;
        assert.deepEqual(
          [ci.acc, ci.user, ci.name, ci.kind, ci.client_type, ci.name_tag, ci.issuer_key, ci.jwt],
          [
            a.getPublicKey(),
            user.key.getPublicKey(),
            'leaf',
            'Leafnode',
            undefined,
            'leafuser',
            a.getPublicKey(),
            user.jwt,
          ],
        );
        assert.equal((disconnected!.client as Json).id, ci.id);
        assert.equal(disconnected!.reason, 'Client Closed');
        assert.deepEqual(
          ofKind(w.events, 'SERVER.CONNS').map((c) => [c.conns, c.leafnodes, c.total_conns]),
          [
            [0, 1, 1],
            [0, 0, 0],
          ],
        );
      } finally {
        await leaf?.stop();
        await sysConn.close();
        await hub.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
