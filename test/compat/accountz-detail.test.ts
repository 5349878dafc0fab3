/**
 * /accountz?acc=<account>, tsnats against nats-server 2.9.10 with the same config: the same keys,
 * recursively, with the same JSON types, for an account with exports, mappings, an import and a request
 * in flight (`responses`), and for the account importing from it; in operator mode and with accounts
 * from the config file. Also the values that do not depend on the server: the exports, the mappings
 * with their cumulative weights, the decoded JWT's subject. Runs when `nats-server` is on the PATH.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createAccount, createOperator } from '@nats-io/nkeys';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { accountJwt, makeUser, operatorJwt } from '../helpers/jwt.js';
import { type Launched, launch, type ServerKind } from '../helpers/launcher.js';
import { credsOpts, mustConnect } from '../helpers/operator-client.js';
import { hasReference } from '../helpers/reference.js';
import { waitFor } from '../helpers/wait-for.js';

type Json = Record<string, unknown>;

/**
 * Paths only nats-server has: the service imports it wires into every account for its system requests
 * (`$SYS.REQ.ACCOUNT.PING.CONNZ` ...), which tsnats does not have.
 */
const SYSTEM_IMPORT_PATHS = ['.imports'];

/** `path: type` for every key, recursively; array elements are merged under `path[]`. */
function shape(v: unknown, path = '', out = new Set<string>()): Set<string> {
  const type = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
  out.add(`${path || '.'}: ${type}`);
  if (Array.isArray(v)) {
    for (const e of v) shape(e, `${path}[]`, out);
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      // Map keys that differ from run to run (reply subjects, revoked keys) are not part of the shape.
      const key = /^(_R_\.|[A-Z0-9]{56}$)/.test(k) ? '<key>' : k;
      shape(x, `${path}.${key}`, out);
    }
  }
  return out;
}

const op = createOperator();
const sys = createAccount();
const a = createAccount();
const b = createAccount();
const revokedAt = Math.floor(Date.now() / 1000);
const operatorConfig = `operator: ${operatorJwt(op, { system_account: sys.getPublicKey() })}
system_account: ${sys.getPublicKey()}
resolver: MEMORY
resolver_preload: {
  ${sys.getPublicKey()}: ${accountJwt(sys, op)}
  ${a.getPublicKey()}: ${accountJwt(
    a,
    op,
    {
      tags: ['team:blue'],
      exports: [
        { name: 'svc', subject: 'svc.>', type: 'service', response_type: 'Stream' },
        {
          name: 'news',
          subject: 'news.>',
          type: 'stream',
          token_req: true,
          revocations: { [b.getPublicKey()]: revokedAt },
        },
      ],
      imports: [{ name: 'b-news', subject: 'b.>', account: b.getPublicKey(), type: 'stream' }],
      mappings: {
        'm.a': [{ subject: 'm.b', weight: 100 }],
        q: [
          { subject: 'q1', weight: 40 },
          { subject: 'q2', weight: 60, cluster: 'c1' },
        ],
      },
    },
    { name: 'alpha' },
  )}
  ${b.getPublicKey()}: ${accountJwt(b, op, {
    exports: [{ name: 'b-news', subject: 'b.>', type: 'stream' }],
    imports: [{ name: 'svc', subject: 'svc.>', account: a.getPublicKey(), type: 'service' }],
  })}
}
http: 127.0.0.1:-1
`;

/** The same accounts from a config file: A exports to B only, B imports A's service. */
const fileConfig = `accounts {
  A {
    users: [{ user: a, password: pw }]
    exports: [
      { service: "svc.>", accounts: [B], response_type: stream }
      { stream: "news.>" }
    ]
    imports: [{ stream: { account: B, subject: "b.>" } }]
    mappings: { "m.a": "m.b", q: [{ destination: q1, weight: 40% }, { destination: q2, weight: 60%, cluster: c1 }] }
  }
  B {
    users: [{ user: b, password: pw }]
    exports: [{ stream: "b.>" }]
    imports: [{ service: { account: A, subject: "svc.>" } }]
  }
}
http: 127.0.0.1:-1
`;

interface Scenario {
  config: string;
  names: { a: string; b: string };
  login: (url: string, who: 'a' | 'b') => Promise<NatsConnection>;
}

const OPERATOR: Scenario = {
  config: operatorConfig,
  names: { a: a.getPublicKey(), b: b.getPublicKey() },
  login: (url, who) => mustConnect(url, credsOpts(makeUser(who === 'a' ? a : b).creds)),
};

const FILE: Scenario = {
  config: fileConfig,
  names: { a: 'A', b: 'B' },
  login: (url, who) => connect({ servers: url, user: who, pass: 'pw' }),
};

/** The two account details of a server, with a request from B to A's service waiting for its reply. */
async function details(kind: ServerKind, sc: Scenario): Promise<{ a: Json; b: Json }> {
  const server: Launched = await launch({ kind, config: sc.config, listeners: ['nats', 'monitoring'] });
  const conns: NatsConnection[] = [];
  try {
    const na = await sc.login(server.url, 'a');
    const nb = await sc.login(server.url, 'b');
    conns.push(na, nb);
    let asked = false;
    na.subscribe('svc.>', {
      callback: () => {
        asked = true;
      },
    });
    await na.flush();
    // Never answered: the reply mapping stays in A's `responses` meanwhile.
    nb.request('svc.hello', 'hi', { timeout: 5000 }).catch(() => {});
    await waitFor(() => asked, 5000, 'the request');
    const get = async (acc: string): Promise<Json> => {
      const r = await fetch(`${server.monitorUrl}/accountz?acc=${acc}`);
      return ((await r.json()) as Json).account_detail as Json;
    };
    return { a: await get(sc.names.a), b: await get(sc.names.b) };
  } finally {
    for (const c of conns) c.close().catch(() => {});
    await server.stop();
  }
}

/** Both servers' details agree: keys and types, exports, mappings, the imports tsnats has. */
async function compare(sc: Scenario): Promise<{ ours: { a: Json; b: Json } }> {
  const ours = await details('tsnats', sc);
  const theirs = await details('nats-server', sc);
  for (const acc of ['a', 'b'] as const) {
    const t = shape(theirs[acc]);
    const o = shape(ours[acc]);
    for (const p of [...t]) {
      if (SYSTEM_IMPORT_PATHS.some((s) => p.startsWith(`${s}:`) || p.startsWith(`${s}[]`))) {
        if (!o.has(p)) t.delete(p);
      }
    }
    assert.deepEqual([...o].sort(), [...t].sort(), `account ${acc}`);
  }
  assert.deepEqual(ours.a.mappings, theirs.a.mappings);
  // nats-server lists services, then streams, each in map order: compare them sorted.
  const bySubject = (l: unknown) =>
    [...(l as Json[])].sort((x, y) => String(x.subject).localeCompare(String(y.subject)));
  assert.deepEqual(bySubject(ours.a.exports), bySubject(theirs.a.exports));
  assert.deepEqual(ours.a.tags, theirs.a.tags);
  // The imports tsnats has are among nats-server's (both add the system imports), but for 2.10's
  // `$SYS.REQ.USER.INFO`, which the 2.9.10 binary does not have.
  for (const acc of ['a', 'b'] as const) {
    const theirImports = JSON.stringify(bySubject(theirs[acc].imports));
    for (const imp of ours[acc].imports as Json[]) {
      if (imp.subject === '$SYS.REQ.USER.INFO') continue;
      assert.ok(theirImports.includes(JSON.stringify(imp)), JSON.stringify(imp));
    }
  }
  const [reply] = Object.values(ours.a.responses as Json) as Json[];
  assert.equal(reply!.account, sc.names.b);
  assert.equal(reply!.type, 2);
  return { ours };
}

describe('/accountz account details: tsnats vs nats-server', {
  skip: !hasReference() && 'nats-server not on PATH',
}, () => {
  test('operator mode: the same keys and JSON types, and the same exports and mappings', async () => {
    const { ours } = await compare(OPERATOR);
    assert.equal(ours.a.name_tag, 'alpha');
    assert.equal((ours.a.decoded_jwt as Json).sub, a.getPublicKey());
  });

  test('accounts from the config file: the same keys and JSON types, exports and mappings', async () => {
    const { ours } = await compare(FILE);
    assert.equal(ours.a.jwt, undefined);
    assert.deepEqual(
      (ours.a.exports as Json[]).map((e) => e.approved_accounts),
      [['B'], undefined],
    );
  });
});
