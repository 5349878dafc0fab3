/**
 * Account mappings with mapping functions. The functions nats-server 2.9.10 already had (partition,
 * splitFromLeft/Right, sliceFromLeft/Right, split, wildcard) with the same config file on tsnats and on the
 * reference nats-server: a raw client subscribed to `>` publishes a list of subjects, and the MSG lines
 * that come back must be byte for byte the same (the partition hash included). Then, tsnats only, what
 * 2.10 added (left/right in stream transforms only, wildcards left unused, weights totalled per cluster)
 * with real clients.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { launch, type ServerKind } from '../helpers/launcher.js';
import { connect as rawConnect } from '../helpers/raw-conn.js';
import { hasReference } from '../helpers/reference.js';

const CONFIG = `cluster { name: east, listen: "127.0.0.1:-1" }
mappings {
  "p.*.*": "part.{{partition(10,1,2)}}.$1.$2"
  "pp.*": "part1.{{Partition(7,1)}}.{{wildcard(1)}}"
  "sl.*": "sfl.{{splitFromLeft(1,3)}}"
  "sr.*": "sfr.{{SplitFromRight(1,3)}}"
  "cl.*": "cfl.{{sliceFromLeft(1,3)}}"
  "cr.*": "cfr.{{sliceFromRight(1,3)}}"
  "sp.*": "spl.{{split(1,-)}}"
  "mix.*.*.>": "mix.{{split(2,_)}}.{{ splitfromleft(1,2) }}.>"
  "cs.*": { destination: "east.$1", weight: 100, cluster: "east" }
  "ct.*": { destination: "west.$1", weight: 100, cluster: "west" }
  # Edges: a split to nothing (no valid subject: nothing delivered), a negative partition count (Go's
  # uint32 wrap), wildcard number 0 (the first token).
  "e.*": "{{split(1,-)}}"
  "es.*": "es.{{split(1,-)}}"
  "neg.*": "neg.{{partition(-3,1)}}"
  "z.*": "z.$0.$1"
}
accounts {
  A: { users: [{ user: a, password: p }], mappings: { "ap.*": "apart.{{partition(3,1)}}.$1" } }
}
authorization { users: [{ user: g, password: p }] }
`;

const KEYS = Array.from({ length: 24 }, (_, i) => `k${i * 37}`);
const GLOBAL_SUBJECTS = [
  ...KEYS.map((k, i) => `p.${k}.r${i % 5}`),
  'p.user42.eu',
  ...KEYS.map((k) => `pp.${k}`),
  'sl.12345',
  'sl.123',
  'sl.12',
  'sr.12345',
  'sr.1',
  'cl.1234567890',
  'cl.123',
  'cr.1234567890',
  'cr.1234',
  'sp.-abc-def--ghi-',
  'sp.abc',
  'mix.abcd.x_y__z.t.u',
  'cs.1',
  'ct.1',
  'e.--',
  'es.---',
  'neg.a',
  'z.q',
  'plain',
];
const ACCOUNT_SUBJECTS = KEYS.map((k) => `ap.${k}`);

/** Publish each subject (payload: the subject) on a raw connection subscribed to `>`; the MSG lines. */
async function mappedBy(port: number, user: string, subjects: readonly string[]): Promise<string[]> {
  const raw = await rawConnect(port);
  try {
    const pubs = subjects.map((s) => `PUB ${s} ${s.length}\r\n${s}\r\n`).join('');
    raw.send(`CONNECT {"verbose":false,"user":"${user}","pass":"p"}\r\nSUB > 1\r\n${pubs}`);
    const out = await raw.drain();
    return out.split('\r\n').filter((l) => l.startsWith('MSG ') || l.startsWith('-ERR'));
  } finally {
    raw.close();
  }
}

async function run(kind: ServerKind): Promise<{ global: string[]; account: string[] }> {
  const srv = await launch({ kind, config: CONFIG });
  try {
    return {
      global: await mappedBy(srv.port, 'g', GLOBAL_SUBJECTS),
      account: await mappedBy(srv.port, 'a', ACCOUNT_SUBJECTS),
    };
  } finally {
    await srv.stop();
  }
}

describe('mapping functions: the same subjects as nats-server 2.9.10', () => {
  test('tsnats maps as expected', async () => {
    const { global, account } = await run('tsnats');
    assert.equal(global.length, GLOBAL_SUBJECTS.length - 2, 'e.-- and es.--- map to no valid subject');
    assert.equal(account.length, ACCOUNT_SUBJECTS.length);
    const has = (line: string): void => assert.ok(global.includes(line), `${line} in\n${global.join('\n')}`);
    // FNV-1a 32 of "user42eu" (Go's hash/fnv) is 1917031358: partition 8 of 10.
    has('MSG part.8.user42.eu 1 11');
    has('MSG sfl.123.45 1 8');
    has('MSG sfl.12 1 5');
    has('MSG sfr.12.345 1 8');
    has('MSG cfl.123.456.789.0 1 13');
    has('MSG cfl.123 1 6');
    has('MSG cfr.1.234.567.890 1 13');
    has('MSG cfr.1.234 1 7');
    has('MSG spl.abc.def.ghi 1 17');
    has('MSG mix.x.y.z.ab.cd.t.u 1 19');
    has('MSG east.1 1 4');
    has('MSG ct.1 1 4');
    has('MSG neg.3826002220 1 5');
    has('MSG z.z.q 1 3');
    has('MSG plain 1 5');
    assert.ok(
      account.every((l) => /^MSG apart\.[0-2]\.k\d+ 1 \d+$/.test(l)),
      account.join('\n'),
    );
  });

  test('byte for byte what nats-server sends', {
    skip: !hasReference() && 'nats-server is not on PATH',
  }, async () => {
    const [ref, ours] = await Promise.all([run('nats-server'), run('tsnats')]);
    assert.deepEqual(ours, ref);
    // The partition draws spread (the comparison is not of constants).
    assert.ok(
      new Set(ref.global.filter((l) => l.startsWith('MSG part.')).map((l) => l.split('.')[1])).size > 3,
    );
  });
});

describe('mappings as nats-server 2.10 (tsnats only), real clients', () => {
  test('per-cluster weights, unused wildcards, functions in weighted destinations', async () => {
    const srv = await launch({
      config: `cluster { name: west, listen: "127.0.0.1:-1" }
mappings {
  # 2.10 totals weights per cluster: 100 everywhere plus 100 in west.
  "c.*": [ { destination: "all.$1", weight: 100 }, { destination: "w.{{wildcard(1)}}", weight: 100, cluster: west } ]
  # 2.10 lets wildcards go unused.
  "u.*.*": "u2.$2"
  "wt.*": [ { destination: "wt.a.{{partition(2,1)}}", weight: 50 }, { destination: "wt.b.{{sliceFromLeft(1,2)}}", weight: 50 } ]
}
`,
    });
    let nc: NatsConnection | undefined;
    try {
      nc = await connect({ servers: srv.url });
      const got: string[] = [];
      let total = 0;
      const done = new Promise<void>((resolve) => {
        nc!.subscribe('>', {
          callback: (_e, m) => {
            got.push(m.subject);
            if (++total === 202) resolve();
          },
        });
      });
      await nc.flush();
      nc.publish('c.x');
      nc.publish('u.one.two');
      for (let i = 0; i < 200; i++) nc.publish('wt.abcd');
      await done;
      assert.equal(got[0], 'w.x', 'the cluster-scoped destination in west');
      assert.equal(got[1], 'u2.two');
      // FNV-1a 32 of "abcd" is 3459545533 (odd): partition 1 of 2.
      assert.deepEqual([...new Set(got.slice(2))].sort(), ['wt.a.1', 'wt.b.ab.cd']);
    } finally {
      await nc?.close();
      await srv.stop();
    }
  });
});
