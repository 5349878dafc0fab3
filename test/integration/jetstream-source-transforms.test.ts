/**
 * nats-server 2.10's `subject_transforms` of stream sources and mirrors (issue 20), with the current
 * @nats-io/jetstream told it talks to a 2.10 server: messages of each source stored under the transformed
 * subjects, several transforms on one source (the first matching one applies, the others' subjects are not
 * sourced), a source resuming after a restart, a mirror with transforms, a KV bucket sourcing two others
 * (@nats-io/kv maps their subjects with transforms), the origin's Nats-Expected-
 * headers dropped from sourced messages, 2.10's configuration errors
 * (10140-10152, and 10049 / 10069 for a transform that can not be made), and the same on a 3-node cluster.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type JetStreamManager, jetstreamManager, type StoredMsg } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { closeJetStream, type JsEnv, jsonRequest, openJetStream } from '../helpers/jetstream.js';
import { JsCluster } from '../helpers/js-cluster.js';
import { clusterClient, whenPlaced } from '../helpers/js-cluster-checks.js';
import { waitFor } from '../helpers/wait-for.js';

/** Let the client use 2.10 features against a server that reports 2.9.10. */
function as210(nc: NatsConnection): void {
  (nc as unknown as { features: { update(v: string): void } }).features.update('2.10.0');
}

/** Wait until stream `name` holds `n` messages. */
async function waitForMsgs(jsm: JetStreamManager, name: string, n: number): Promise<void> {
  let last = -1;
  await waitFor(
    async () => {
      last = (await jsm.streams.info(name)).state.messages;
      return last === n;
    },
    10_000,
    `${n} messages in ${name}`,
  ).catch((e: Error) => {
    throw new Error(`${e.message} (has ${last})`);
  });
}

/** Every message of a stream, by sequence. */
async function allMsgs(jsm: JetStreamManager, name: string): Promise<StoredMsg[]> {
  const st = (await jsm.streams.info(name)).state;
  const out: StoredMsg[] = [];
  for (let seq = st.first_seq; seq <= st.last_seq && st.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(name, { seq }).catch(() => null);
    if (m !== null) out.push(m);
  }
  return out;
}

/** `<subject> <data> | <Nats-Stream-Source>` of every message. */
async function described(jsm: JetStreamManager, name: string): Promise<string[]> {
  return (await allMsgs(jsm, name)).map(
    (m) => `${m.subject} ${m.string()} | ${m.header.get('Nats-Stream-Source')}`,
  );
}

/** The err_code and description of an API request's answer ({} when it succeeded). */
async function apiError(
  nc: NatsConnection,
  subject: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const r = await jsonRequest(nc, subject, body);
  const e = r.error as { err_code: number; description: string } | undefined;
  return e === undefined ? {} : { err_code: e.err_code, description: e.description };
}

async function publishAll(nc: NatsConnection, subjects: string[]): Promise<void> {
  for (const s of subjects) await nc.request(s, s, { timeout: 2000 });
}

describe('sources and mirrors with subject_transforms (single server)', () => {
  let env: JsEnv;
  before(async () => {
    env = await openJetStream();
    as210(env.nc);
    env.jsm = await jetstreamManager(env.nc);
  });
  after(async () => {
    await closeJetStream(env);
  });

  test('a stream sourcing two streams stores their messages under the transformed subjects', async () => {
    const { jsm, nc } = env;
    await jsm.streams.add({ name: 'A', subjects: ['a.>'] });
    await jsm.streams.add({ name: 'B', subjects: ['b.>'] });
    await publishAll(nc, ['a.1', 'b.1', 'a.2.x']);
    const created = await jsm.streams.add({
      name: 'AGG',
      sources: [
        { name: 'A', subject_transforms: [{ src: 'a.>', dest: 'agg.a.>' }] },
        { name: 'B', subject_transforms: [{ src: 'b.*', dest: 'agg.{{wildcard(1)}}.b' }] },
      ],
    });
    // The transforms are part of the config, in nats-server's form.
    assert.deepEqual(created.config.sources, [
      { name: 'A', subject_transforms: [{ src: 'a.>', dest: 'agg.a.>' }] },
      { name: 'B', subject_transforms: [{ src: 'b.*', dest: 'agg.{{wildcard(1)}}.b' }] },
    ]);
    await waitForMsgs(jsm, 'AGG', 3);
    await publishAll(nc, ['b.2', 'a.3']);
    await waitForMsgs(jsm, 'AGG', 5);
    const msgs = (await described(jsm, 'AGG')).sort();
    // The header of a source with transforms carries them (2.10's form: origin, sequence, filters, destinations).
    assert.deepEqual(msgs, [
      'agg.1.b b.1 | B 1 b.* agg.{{wildcard(1)}}.b',
      'agg.2.b b.2 | B 2 b.* agg.{{wildcard(1)}}.b',
      'agg.a.1 a.1 | A 1 a.> agg.a.>',
      'agg.a.2.x a.2.x | A 2 a.> agg.a.>',
      'agg.a.3 a.3 | A 3 a.> agg.a.>',
    ]);
    const info = await jsm.streams.info('AGG');
    assert.deepEqual(
      (info.sources ?? []).map((s) => ({ name: s.name, lag: s.lag, trs: s.subject_transforms })),
      [
        { name: 'A', lag: 0, trs: [{ src: 'a.>', dest: 'agg.a.>' }] },
        { name: 'B', lag: 0, trs: [{ src: 'b.*', dest: 'agg.{{wildcard(1)}}.b' }] },
      ],
    );
    // A consumer of the aggregate filters on the transformed subjects.
    const ci = await jsm.consumers.add('AGG', { filter_subject: 'agg.a.>' });
    assert.equal(ci.num_pending, 3);
  });

  test('several transforms on one source: the first match applies, other subjects are not sourced', async () => {
    const { jsm, nc } = env;
    await jsm.streams.add({ name: 'O', subjects: ['o.>'] });
    await jsm.streams.add({
      name: 'SEV',
      sources: [
        {
          name: 'O',
          subject_transforms: [
            { src: 'o.1', dest: 'one' },
            { src: 'o.2.*', dest: 'two.$1' },
            // An empty destination keeps the subject.
            { src: 'o.3', dest: '' },
          ],
        },
      ],
    });
    await publishAll(nc, ['o.1', 'o.2.x', 'o.3', 'o.4', 'o.2.y', 'o.1.z']);
    await waitForMsgs(jsm, 'SEV', 4);
    // o.4 and o.1.z are not asked for: the source's consumer filters on the transforms' sources.
    assert.deepEqual(
      (await allMsgs(jsm, 'SEV')).map((m) => `${m.subject} ${m.string()}`),
      ['one o.1', 'two.x o.2.x', 'o.3 o.3', 'two.y o.2.y'],
    );
  });

  test('two sources of one stream with different transforms, resumed after a restart', async () => {
    let e = await openJetStream();
    const dir = e.dir;
    // One at a time, so the two sources' messages are stored in publish order.
    const publishInTurn = async (jsm: JetStreamManager, nc: NatsConnection, subjects: string[]) => {
      for (const subject of subjects) {
        const n = (await jsm.streams.info('TWO')).state.messages;
        await publishAll(nc, [subject]);
        await waitForMsgs(jsm, 'TWO', n + 1);
      }
    };
    try {
      as210(e.nc);
      let jsm = await jetstreamManager(e.nc);
      await jsm.streams.add({ name: 'O', subjects: ['o.>'] });
      await jsm.streams.add({
        name: 'TWO',
        sources: [
          { name: 'O', subject_transforms: [{ src: 'o.a', dest: 'x.a' }] },
          // A mapping function with a space: the header carries the destination whole.
          { name: 'O', subject_transforms: [{ src: 'o.b.*', dest: 'x.b.{{partition(1, 1)}}' }] },
        ],
      });
      await publishInTurn(jsm, e.nc, ['o.a', 'o.b.k', 'o.a']);
      await closeJetStream(e, true);
      e = await openJetStream({}, dir);
      as210(e.nc);
      jsm = await jetstreamManager(e.nc);
      await publishInTurn(jsm, e.nc, ['o.b.k', 'o.a']);
      // Each source resumes after its own last message: nothing is sourced twice.
      assert.deepEqual(await described(jsm, 'TWO'), [
        'x.a o.a | O 1 o.a x.a',
        'x.b.0 o.b.k | O 2 o.b.* x.b.{{partition(1, 1)}}',
        'x.a o.a | O 3 o.a x.a',
        'x.b.0 o.b.k | O 4 o.b.* x.b.{{partition(1, 1)}}',
        'x.a o.a | O 5 o.a x.a',
      ]);
      assert.equal((await jsm.streams.info('TWO')).state.messages, 5);
    } finally {
      await closeJetStream(e);
    }
  });

  test('a source without transforms keeps the 2.9 header, and a changed transform starts a new source', async () => {
    const { jsm, nc } = env;
    await jsm.streams.add({ name: 'P', subjects: ['p.*'] });
    await jsm.streams.add({ name: 'PS', sources: [{ name: 'P', filter_subject: 'p.1' }] });
    await publishAll(nc, ['p.1', 'p.2']);
    await waitForMsgs(jsm, 'PS', 1);
    const si = await jsm.streams.info('PS');
    // 2.10's source info names the filter too.
    assert.equal((si.sources?.[0] as { filter_subject?: string } | undefined)?.filter_subject, 'p.1');
    await jsm.streams.update('PS', {
      sources: [{ name: 'P', subject_transforms: [{ src: 'p.2', dest: 'two' }] }],
    });
    await publishAll(nc, ['p.2', 'p.1']);
    // The new source goes on after the last message stored from its origin (the 2.9 header names only the
    // origin): the p.2 the old filter left out is sourced now.
    await waitForMsgs(jsm, 'PS', 3);
    assert.deepEqual(await described(jsm, 'PS'), [
      'p.1 p.1 | P 1',
      'two p.2 | P 2 p.2 two',
      'two p.2 | P 3 p.2 two',
    ]);
    const after = await jsm.streams.info('PS');
    assert.deepEqual(after.sources?.[0]?.subject_transforms, [{ src: 'p.2', dest: 'two' }]);
  });

  test('a mirror with subject_transforms keeps the origin sequences under the new subjects', async () => {
    const { jsm, nc } = env;
    await jsm.streams.add({ name: 'MO', subjects: ['mo.>'] });
    await publishAll(nc, ['mo.1', 'mo.2', 'mo.3']);
    const created = await jsm.streams.add({
      name: 'MM',
      mirror: {
        name: 'MO',
        subject_transforms: [
          { src: 'mo.1', dest: 'mirrored.1' },
          { src: 'mo.3', dest: '' },
        ],
      },
    });
    assert.deepEqual(created.config.mirror?.subject_transforms, [
      { src: 'mo.1', dest: 'mirrored.1' },
      { src: 'mo.3', dest: '' },
    ]);
    await publishAll(nc, ['mo.1']);
    await waitForMsgs(jsm, 'MM', 3);
    assert.deepEqual(
      (await allMsgs(jsm, 'MM')).map((m) => `${m.seq} ${m.subject} ${m.string()}`),
      ['1 mirrored.1 mo.1', '3 mo.3 mo.3', '4 mirrored.1 mo.1'],
    );
    const info = await jsm.streams.info('MM');
    assert.deepEqual(info.mirror?.subject_transforms, [
      { src: 'mo.1', dest: 'mirrored.1' },
      { src: 'mo.3', dest: '' },
    ]);
  });

  test('a KV bucket sourcing two buckets (the client maps their subjects with subject_transforms)', async () => {
    const kvm = new Kvm(env.nc);
    const a = await kvm.create('kva');
    const b = await kvm.create('kvb');
    await a.put('k1', 'a1');
    await b.put('k2', 'b2');
    const agg = await kvm.create('kvagg', { sources: [{ name: 'kva' }, { name: 'kvb' }] });
    const info = await env.jsm.streams.info('KV_kvagg');
    assert.deepEqual(
      info.config.sources?.map((s) => s.subject_transforms),
      [[{ src: '$KV.kva.>', dest: '$KV.kvagg.>' }], [{ src: '$KV.kvb.>', dest: '$KV.kvagg.>' }]],
    );
    await waitFor(async () => (await agg.get('k2'))?.string() === 'b2', 10_000, 'k2 in kvagg');
    assert.equal((await agg.get('k1'))?.string(), 'a1');
    await a.put('k2', 'a2');
    await waitFor(async () => (await agg.get('k2'))?.string() === 'a2', 10_000, 'k2 updated from kva');
  });

  test("a sourced message loses its origin's Nats-Expected- headers (2.10), keeps the others", async () => {
    const { jsm, nc } = env;
    await jsm.streams.add({ name: 'EXO', subjects: ['ex.*'] });
    await jsm.streams.add({
      name: 'EXS',
      sources: [{ name: 'EXO', subject_transforms: [{ src: 'ex.*', dest: 'got.$1' }] }],
    });
    const h = headers();
    h.set('Nats-Expected-Stream', 'EXO');
    h.set('Nats-Expected-Last-Sequence', '0');
    h.set('X-Keep', 'yes');
    await nc.request('ex.1', 'payload', { timeout: 2000, headers: h });
    // EXS would refuse the message with the origin's expectations (another stream, another last sequence).
    await waitForMsgs(jsm, 'EXS', 1);
    const [m] = await allMsgs(jsm, 'EXS');
    assert.equal(m?.subject, 'got.1');
    assert.deepEqual([...(m?.header.keys() ?? [])].sort(), ['Nats-Stream-Source', 'X-Keep']);
  });

  test('configuration errors as nats-server 2.10 answers them', async () => {
    const { nc } = env;
    await env.jsm.streams.add({ name: 'E', subjects: ['e.>'] });
    const create = (cfg: Record<string, unknown>) =>
      apiError(nc, '$JS.API.STREAM.CREATE.X', { name: 'X', ...cfg });
    const src = (extra: Record<string, unknown>) => ({ sources: [{ name: 'E', ...extra }] });
    const mirror = (extra: Record<string, unknown>) => ({ mirror: { name: 'E', ...extra } });
    const tr = (...pairs: [string, string][]) => pairs.map(([s, d]) => ({ src: s, dest: d }));
    const cases: [Record<string, unknown>, number, string?][] = [
      [src({ filter_subject: 'e.1', subject_transforms: tr(['e.2', 'x']) }), 10144],
      [src({ subject_transforms: tr(['e.a', 'x..y']) }), 10146],
      [src({ subject_transforms: tr(['e.a', 'x.{{nope(1)}}']) }), 10146],
      [src({ subject_transforms: tr(['', 'x']) }), 10145],
      [src({ subject_transforms: tr(['e..a', 'x']) }), 10145],
      [src({ subject_transforms: tr(['e.*', 'x.$1'], ['e.a', 'y']) }), 10147],
      // A source's filters may collide as long as neither is a subset of the other.
      [src({ subject_transforms: tr(['e.*.1', 'x.$1'], ['e.a.*', 'y.$1']) }), 0],
      [{ sources: [{ name: 'E' }, { name: 'E' }] }, 10140],
      [
        {
          sources: [
            { name: 'E', filter_subject: 'e.1' },
            { name: 'E', filter_subject: 'e.1' },
          ],
        },
        10140,
      ],
      [
        {
          sources: [
            { name: 'E', filter_subject: 'e.1' },
            { name: 'E', filter_subject: 'e.2' },
          ],
        },
        0,
      ],
      [{ sources: [{ name: 'E.x' }] }, 10141],
      [{ mirror: { name: 'E*' } }, 10142],
      [mirror({ filter_subject: 'e.1', subject_transforms: tr(['e.2', 'x']) }), 10150],
      [mirror({ subject_transforms: tr(['', 'x']) }), 10151],
      [mirror({ subject_transforms: tr(['e.*.1', 'x.$1'], ['e.a.*', 'y.$1']) }), 10152],
      [
        src({ subject_transforms: tr(['e.*', 'x.{{wildcard(2)}}']) }),
        10049,
        "subject transform from 'e.*' to 'x.{{wildcard(2)}}' for the source: invalid mapping destination: wildcard index out of range in {{wildcard(2)}}: [2]",
      ],
      [
        mirror({ subject_transforms: tr(['e.*', 'x.*']) }),
        10049,
        "subject transform from 'e.*' to 'x.*' for the mirror: invalid subject",
      ],
      [mirror({ filter_subject: 'e..1' }), 10049, "subject filter 'e..1' for the mirror invalid subject"],
      [src({ filter_subject: 'e..1' }), 10049, "subject filter 'e..1' for the source: invalid subject"],
    ];
    for (const [cfg, code, description] of cases) {
      const got = await create(cfg);
      assert.equal(got.err_code ?? 0, code, JSON.stringify(cfg));
      if (description !== undefined) assert.equal(got.description, description);
      if (code === 0) await env.jsm.streams.delete('X');
    }
    // 2.10 dropped 2.9's check that a source's filter overlaps its origin's subjects.
    assert.deepEqual(await create(src({ filter_subject: 'elsewhere.>' })), {});
    await env.jsm.streams.delete('X');
    // Sources back and forth: 2.9 refused any; 2.10 only when the source back to a stream already on the path
    // (CY2's of CY1) takes some of the subjects of the stream that has it (no filter takes everything).
    const pair = async (p: string, filter1: string | undefined, filter2: string | undefined) => {
      await env.jsm.streams.add({ name: `${p}1`, subjects: [`${p}1.>`] });
      await env.jsm.streams.add({
        name: `${p}2`,
        subjects: [`${p}2.>`],
        sources: [{ name: `${p}1`, ...(filter2 ? { filter_subject: filter2 } : {}) }],
      });
      return apiError(nc, `$JS.API.STREAM.UPDATE.${p}1`, {
        name: `${p}1`,
        subjects: [`${p}1.>`],
        sources: [{ name: `${p}2`, ...(filter1 ? { filter_subject: filter1 } : {}) }],
      });
    };
    assert.deepEqual(await pair('CY', undefined, undefined), {
      err_code: 10052,
      description: 'detected cycle',
    });
    assert.deepEqual(await pair('CZ', 'cz2.>', 'cz1.>'), {});
    // On an update, only a new source's transforms are made: 10069.
    await env.jsm.streams.add({ name: 'U', sources: [{ name: 'E' }] });
    assert.deepEqual(
      await apiError(nc, '$JS.API.STREAM.UPDATE.U', {
        name: 'U',
        sources: [{ name: 'E' }, { name: 'E', subject_transforms: tr(['e.*', 'x.{{wildcard(2)}}']) }],
      }),
      {
        err_code: 10069,
        description:
          'unable to get subject transform for source: invalid mapping destination: wildcard index out of range in {{wildcard(2)}}: [2]',
      },
    );
  });
});

describe('sources with subject_transforms on a 3-node cluster', () => {
  let cluster: JsCluster;
  let cnc: NatsConnection;
  before(async () => {
    cluster = await JsCluster.start(['tsnats', 'tsnats', 'tsnats']);
    ({ nc: cnc } = await clusterClient(cluster));
    as210(cnc);
  });
  after(async () => {
    await cnc?.close().catch(() => {});
    await cluster?.stop();
  });

  test('R3 origins sourced with transforms into an R1 stream; the transforms are replicated config', async () => {
    const jsm = await jetstreamManager(cnc);
    await whenPlaced(() => jsm.streams.add({ name: 'CA', subjects: ['ca.*'], num_replicas: 3 }));
    await whenPlaced(() => jsm.streams.add({ name: 'CB', subjects: ['cb.*'], num_replicas: 3 }));
    const bad = await apiError(cnc, '$JS.API.STREAM.CREATE.CX', {
      name: 'CX',
      sources: [
        {
          name: 'CA',
          subject_transforms: [
            { src: 'ca.*', dest: 'x' },
            { src: 'ca.1', dest: 'y' },
          ],
        },
      ],
    });
    assert.equal(bad.err_code, 10147);
    await whenPlaced(() =>
      jsm.streams.add({
        name: 'CAGG',
        sources: [
          { name: 'CA', subject_transforms: [{ src: 'ca.*', dest: 'agg.a.$1' }] },
          { name: 'CB', subject_transforms: [{ src: 'cb.1', dest: 'agg.b.one' }] },
        ],
      }),
    );
    await publishAll(cnc, ['ca.1', 'cb.1', 'cb.2', 'ca.2']);
    await waitForMsgs(jsm, 'CAGG', 3);
    assert.deepEqual((await allMsgs(jsm, 'CAGG')).map((m) => `${m.subject} ${m.string()}`).sort(), [
      'agg.a.1 ca.1',
      'agg.a.2 ca.2',
      'agg.b.one cb.1',
    ]);
    // Every node's view of the stream (through the meta group's assignment) has the transforms.
    const info = await jsm.streams.info('CAGG');
    assert.deepEqual(info.config.sources?.[1]?.subject_transforms, [{ src: 'cb.1', dest: 'agg.b.one' }]);
  });

  test('the consumer create subject is checked as on a single server (10131, 10137, names)', async () => {
    const jsm = await jetstreamManager(cnc);
    await whenPlaced(() => jsm.streams.add({ name: 'CC', subjects: ['cc.*'], num_replicas: 3 }));
    const create = (subject: string, config: Record<string, unknown>) =>
      apiError(cnc, subject, { stream_name: 'CC', config: { ack_policy: 'explicit', ...config } });
    assert.equal(
      (await create('$JS.API.CONSUMER.CREATE.CC.n.cc.1', { name: 'n', filter_subject: 'cc.2' })).err_code,
      10131,
    );
    assert.equal(
      (await create('$JS.API.CONSUMER.CREATE.CC.n.cc.1', { name: 'n', filter_subjects: ['cc.1', 'cc.2'] }))
        .err_code,
      10137,
    );
    assert.equal((await create('$JS.API.CONSUMER.DURABLE.CREATE.CC.D', {})).err_code, 10018);
    assert.equal((await create('$JS.API.CONSUMER.CREATE.CC', { durable_name: 'D' })).err_code, 10020);
    // 2.10 accepts a filter outside the stream's subjects (2.9's 10093 is gone).
    assert.deepEqual(await create('$JS.API.CONSUMER.CREATE.CC.n2.other', { filter_subject: 'other' }), {});
  });
});
