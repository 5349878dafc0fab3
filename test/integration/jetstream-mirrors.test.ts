/**
 * Stream mirrors, sources and republish with @nats-io/jetstream and @nats-io/kv, run against nats-server
 * and tsnats alike (runOnBoth) where the behaviour is the same: a KV bucket mirrored from another one
 * (direct gets on the mirror, and the mirror answering direct gets of its origin), a stream aggregating
 * two sources (one filtered) with the Nats-Stream-Source header, mirrors started at a sequence and at a
 * time, republish (with headers, headers only, KV updates), the configuration errors; then tsnats only:
 * mirrors and sources catching up after a restart with file stores, and after the origin is recreated.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type JetStreamManager, jetstreamManager, type StoredMsg } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { closeJetStream, openJetStream, runOnBoth } from '../helpers/jetstream.js';
import { launch, type ServerKind } from '../helpers/launcher.js';
import { hasReference } from '../helpers/reference.js';
import { waitFor } from '../helpers/wait-for.js';

const dec = new TextDecoder();

/** Connect to a server port, run `fn`, close. */
async function withClient<T>(
  port: number,
  fn: (nc: NatsConnection, jsm: JetStreamManager) => Promise<T>,
): Promise<T> {
  const nc = await connect({ servers: `127.0.0.1:${port}`, reconnect: false });
  try {
    return await fn(nc, await jetstreamManager(nc));
  } finally {
    await nc.close();
  }
}

/** Wait until stream `name` holds `n` messages (polling its info). */
async function waitForMsgs(jsm: JetStreamManager, name: string, n: number, timeoutMs = 8000): Promise<void> {
  let last = -1;
  await waitFor(
    async () => {
      last = (await jsm.streams.info(name)).state.messages;
      return last === n;
    },
    timeoutMs,
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
    const m = await jsm.streams.getMessage(name, { seq });
    if (m !== null) out.push(m);
  }
  return out;
}

/** The err_code and description of a rejected API request ({} when it succeeded). */
async function apiError(
  nc: NatsConnection,
  subject: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const m = await nc.request(subject, JSON.stringify(body), { timeout: 2000 });
  const j = JSON.parse(dec.decode(m.data)) as { error?: { err_code: number; description: string } };
  return j.error === undefined ? {} : { err_code: j.error.err_code, description: j.error.description };
}

describe('mirrors, sources and republish compared with nats-server', {
  skip: !hasReference() && 'nats-server not on PATH',
}, () => {
  test('a KV bucket mirrored from another: direct gets on the mirror, and for the origin', async () => {
    const [ref, ours] = await runOnBoth((port) =>
      withClient(port, async (nc, jsm) => {
        const kvm = new Kvm(nc);
        const src = await kvm.create('src');
        await src.put('a', '1');
        await src.put('b', '2');
        await src.put('a', '3');
        const mir = await kvm.create('mir', { mirror: { name: 'src' } });
        await waitForMsgs(jsm, 'KV_mir', 2);
        // Puts after the mirror exists reach it too.
        await src.put('c', '4');
        await src.delete('b');
        await waitFor(
          async () => (await jsm.streams.info('KV_mir')).state.last_seq === 5,
          8000,
          'mirror at 5',
        );
        const info = await jsm.streams.info('KV_mir');
        // The origin's sequences: 1 and 2 were replaced (history 1), 3..5 are kept.
        const seqs = (await allMsgs(jsm, 'KV_mir')).map((m) => `${m.seq} ${m.subject} ${m.string()}`);
        const got = await jsm.direct.getMessage('KV_mir', { last_by_subj: '$KV.src.a' });
        // A KV handle on the mirror reads the origin's keys by revision.
        const byRev = await mir.get('c', { revision: 4 });
        // The mirror answers direct gets of its origin too (one queue group): some answers name it.
        const answeredBy = new Set<string>();
        for (let i = 0; i < 60 && answeredBy.size < 2; i++) {
          const m = await jsm.direct.getMessage('KV_src', { last_by_subj: '$KV.src.c' });
          answeredBy.add(`${m?.header.get('Nats-Stream')} ${m?.string()}`);
        }
        const origin = await src.get('a');
        return {
          mirror: info.mirror?.name,
          lag: info.mirror?.lag,
          active: (info.mirror?.active ?? -1) >= 0,
          config: {
            mirror: info.config.mirror,
            mirror_direct: info.config.mirror_direct,
            allow_direct: info.config.allow_direct,
            subjects: info.config.subjects,
            duplicate_window: info.config.duplicate_window,
          },
          first: info.state.first_seq,
          seqs,
          direct: `${got?.header.get('Nats-Stream')} ${got?.seq} ${got?.string()}`,
          byRev: `${byRev?.key} ${byRev?.revision} ${byRev?.string()}`,
          answeredBy: [...answeredBy].sort(),
          origin: origin?.string(),
        };
      }),
    );
    assert.deepEqual(ours, ref);
    assert.equal(ours.mirror, 'KV_src');
    assert.deepEqual(ours.seqs, ['3 $KV.src.a 3', '4 $KV.src.c 4', '5 $KV.src.b ']);
    assert.equal(ours.direct, 'KV_mir 3 3');
    assert.equal(ours.byRev, 'c 4 4');
    assert.deepEqual(ours.answeredBy, ['KV_mir 4', 'KV_src 4']);
    assert.equal(ours.config.mirror_direct, true);
  });

  test('a stream aggregating two sources, one filtered, with the source header', async () => {
    const [ref, ours] = await runOnBoth((port) =>
      withClient(port, async (nc, jsm) => {
        await jsm.streams.add({ name: 'A', subjects: ['a.>'] });
        await jsm.streams.add({ name: 'B', subjects: ['b.>'] });
        for (const s of ['a.1', 'b.1', 'a.2', 'b.2', 'b.1']) await nc.request(s, s, { timeout: 2000 });
        const agg = await jsm.streams.add({
          name: 'AGG',
          sources: [{ name: 'A' }, { name: 'B', filter_subject: 'b.1' }],
        });
        await waitForMsgs(jsm, 'AGG', 4);
        await nc.request('a.3', 'a.3', { timeout: 2000 });
        await nc.request('b.2', 'b.2', { timeout: 2000 });
        await nc.request('b.1', 'b.1', { timeout: 2000 });
        await waitForMsgs(jsm, 'AGG', 6);
        const msgs = (await allMsgs(jsm, 'AGG')).map(
          (m) => `${m.subject} ${m.header.get('Nats-Stream-Source')}`,
        );
        const info = await jsm.streams.info('AGG');
        // A consumer of the aggregate may filter on the sources' subjects.
        const ci = await jsm.consumers.add('AGG', { filter_subject: 'b.>', ack_policy: 'explicit' });
        return {
          created: { subjects: agg.config.subjects, sources: agg.config.sources, hasInfo: 'sources' in agg },
          msgs: msgs.sort(),
          sources: (info.sources ?? []).map((s) => `${s.name} ${s.lag}`).sort(),
          pending: ci.num_pending,
        };
      }),
    );
    assert.deepEqual(ours, ref);
    // The header names the source and the message's sequence there.
    assert.deepEqual(ours.msgs, ['a.1 A 1', 'a.2 A 2', 'a.3 A 3', 'b.1 B 1', 'b.1 B 3', 'b.1 B 5']);
    assert.deepEqual(ours.sources, ['A 0', 'B 0']);
    assert.equal(ours.pending, 3);
  });

  test('mirrors started at a sequence and at a time', async () => {
    const [ref, ours] = await runOnBoth((port) =>
      withClient(port, async (nc, jsm) => {
        await jsm.streams.add({ name: 'O', subjects: ['o.*'] });
        for (let i = 1; i <= 6; i++) await nc.request(`o.${i}`, `m${i}`, { timeout: 2000 });
        const at4 = (await jsm.streams.getMessage('O', { seq: 4 }))!;
        await jsm.streams.add({ name: 'M1', mirror: { name: 'O', opt_start_seq: 3 } });
        await jsm.streams.add({ name: 'M2', mirror: { name: 'O', opt_start_time: at4.timestamp } });
        await jsm.streams.add({ name: 'M3', mirror: { name: 'O', filter_subject: 'o.5' } });
        await waitForMsgs(jsm, 'M1', 4);
        await waitForMsgs(jsm, 'M2', 3);
        await waitForMsgs(jsm, 'M3', 1);
        const st = async (n: string) => {
          const s = (await jsm.streams.info(n)).state;
          return `${s.messages} ${s.first_seq}..${s.last_seq}`;
        };
        return {
          m1: await st('M1'),
          m2: await st('M2'),
          m3: await st('M3'),
          m1msgs: (await allMsgs(jsm, 'M1')).map((m) => `${m.seq} ${m.subject} ${m.string()}`),
          time: (await jsm.streams.getMessage('M2', { seq: 4 }))?.timestamp === at4.timestamp,
        };
      }),
    );
    assert.deepEqual(ours, ref);
    assert.equal(ours.m1, '4 3..6');
    assert.equal(ours.m2, '3 4..6');
    assert.equal(ours.m3, '1 5..5');
    assert.deepEqual(ours.m1msgs, ['3 o.3 m3', '4 o.4 m4', '5 o.5 m5', '6 o.6 m6']);
    assert.equal(ours.time, true);
  });

  test('republish: headers, headers only, KV updates', async () => {
    const [ref, ours] = await runOnBoth((port) =>
      withClient(port, async (nc, jsm) => {
        const seen: Msg[] = [];
        const take = (_e: Error | null, m: Msg): void => {
          seen.push(m);
        };
        const sub = nc.subscribe('rp.>', { callback: take });
        const sub2 = nc.subscribe('hp.>', { callback: take });
        const sub3 = nc.subscribe('kv-updates.>', { callback: take });
        await nc.flush();
        // No `src`: all of the stream's subjects, the whole subject after `rp.`.
        const r = await jsm.streams.add({
          name: 'R',
          subjects: ['r.>'],
          republish: { dest: 'rp.>' } as { src: string; dest: string },
        });
        await jsm.streams.add({
          name: 'H',
          subjects: ['h.*'],
          republish: { src: 'h.*', dest: 'hp.{{wildcard(1)}}.x', headers_only: true },
        });
        const kvm = new Kvm(nc);
        const kv = await kvm.create('rk', { republish: { src: '$KV.rk.>', dest: 'kv-updates.>' } });
        await nc.request('r.a', 'one', { timeout: 2000 });
        const h = headers();
        h.set('X-Mine', 'yes');
        await nc.request('r.a', 'two', { timeout: 2000, headers: h });
        await nc.request('h.k', 'hello', { timeout: 2000 });
        await kv.put('key', 'v1');
        await waitFor(() => seen.length === 4, 5000, 'republished messages');
        sub.unsubscribe();
        sub2.unsubscribe();
        sub3.unsubscribe();
        const show = (m: Msg) => {
          const hs =
            m.headers === undefined ? [] : [...m.headers.keys()].map((k) => `${k}=${m.headers!.get(k)}`);
          return `${m.subject} [${hs.sort().join(' ')}] ${m.string()}`;
        };
        return { republish: r.config.republish, seen: seen.map(show).sort() };
      }),
    );
    assert.deepEqual(ours, ref);
    assert.deepEqual(ours.republish, { src: '>', dest: 'rp.>' });
    assert.deepEqual(ours.seen, [
      'hp.k.x [Nats-Last-Sequence=0 Nats-Msg-Size=5 Nats-Sequence=1 Nats-Stream=H Nats-Subject=h.k] ',
      'kv-updates.key [Nats-Last-Sequence=0 Nats-Sequence=1 Nats-Stream=KV_rk Nats-Subject=$KV.rk.key] v1',
      'rp.r.a [Nats-Last-Sequence=0 Nats-Sequence=1 Nats-Stream=R Nats-Subject=r.a] one',
      'rp.r.a [Nats-Last-Sequence=1 Nats-Sequence=2 Nats-Stream=R Nats-Subject=r.a X-Mine=yes] two',
    ]);
  });

  test('a mirror and a source of a stream in another account (external api and deliver prefixes)', async () => {
    // Account A exports consumer creation, flow control replies and the deliver subjects; B imports them
    // with its own API prefix. Both accounts enable JetStream.
    const accounts = `accounts {
      A: {
        jetstream: enabled
        users: [ { user: a, password: a } ]
        exports: [ { service: "$JS.API.CONSUMER.CREATE.>" }, { service: "$JS.FC.>" }, { stream: "dlv.>" } ]
      }
      B: {
        jetstream: enabled
        users: [ { user: b, password: b } ]
        imports: [
          { service: { account: A, subject: "$JS.API.CONSUMER.CREATE.O" }, to: "JS.A.API.CONSUMER.CREATE.O" }
          { service: { account: A, subject: "$JS.FC.>" } }
          { stream: { account: A, subject: "dlv.>" } }
        ]
      }
    }`;
    const run = async (kind: ServerKind) => {
      const srv = await launch({
        kind,
        jetstream: true,
        config: accounts,
      });
      const na = await connect({ servers: srv.url, user: 'a', pass: 'a', reconnect: false });
      const nb = await connect({ servers: srv.url, user: 'b', pass: 'b', reconnect: false });
      try {
        const ja = await jetstreamManager(na);
        const jb = await jetstreamManager(nb);
        await ja.streams.add({ name: 'O', subjects: ['o.>'] });
        for (let i = 1; i <= 3; i++) await na.request(`o.${i}`, `x${i}`, { timeout: 2000 });
        const external = { api: 'JS.A.API', deliver: 'dlv' };
        await jb.streams.add({ name: 'M', mirror: { name: 'O', external } });
        await jb.streams.add({ name: 'S', sources: [{ name: 'O', external }] });
        await waitForMsgs(jb, 'M', 3);
        await waitForMsgs(jb, 'S', 3);
        await na.request('o.4', 'x4', { timeout: 2000 });
        await waitForMsgs(jb, 'M', 4);
        await waitForMsgs(jb, 'S', 4);
        const m = await jb.streams.info('M');
        const sr = await jb.streams.info('S');
        type Ext = { external?: unknown };
        return {
          mirror: { name: m.mirror?.name, external: (m.mirror as Ext).external, lag: m.mirror?.lag },
          sources: sr.sources?.map((x) => ({ name: x.name, external: (x as Ext).external, lag: x.lag })),
          m: (await allMsgs(jb, 'M')).map((x) => `${x.seq} ${x.subject} ${x.string()}`),
          s: (await allMsgs(jb, 'S')).map((x) => `${x.subject} ${x.header.get('Nats-Stream-Source')}`),
        };
      } finally {
        await na.close();
        await nb.close();
        await srv.stop('SIGKILL');
      }
    };
    const ref = await run('nats-server');
    const ours = await run('tsnats');
    assert.deepEqual(ours, ref);
    assert.deepEqual(ours.m, ['1 o.1 x1', '2 o.2 x2', '3 o.3 x3', '4 o.4 x4']);
    // The source index name carries a hash of the API prefix, as nats-server's.
    assert.deepEqual(ours.s, [
      'o.1 O:3V17LQ3b 1',
      'o.2 O:3V17LQ3b 2',
      'o.3 O:3V17LQ3b 3',
      'o.4 O:3V17LQ3b 4',
    ]);
  });

  test('configuration errors', async () => {
    const create = (name: string, cfg: Record<string, unknown>) => ({
      subject: `$JS.API.STREAM.CREATE.${name}`,
      body: { name, ...cfg },
    });
    const update = (name: string, cfg: Record<string, unknown>) => ({
      subject: `$JS.API.STREAM.UPDATE.${name}`,
      body: { name, ...cfg },
    });
    // droppedIn210: nats-server 2.9.10 refuses it with `code`, 2.10 dropped the check and tsnats follows 2.10;
    // what it made is then deleted (`undo`) so both servers go on alike.
    type Case = { subject: string; body: unknown; droppedIn210?: { code: number; undo?: string } };
    const requests: Case[] = [
      create('ORIG', { subjects: ['orig.>'], max_msg_size: 100 }),
      create('M', { subjects: ['m'], mirror: { name: 'ORIG' } }),
      create('M', { mirror: { name: 'ORIG' }, sources: [{ name: 'ORIG' }] }),
      create('M', { subjects: ['m'], mirror_direct: true }),
      create('M', { mirror: { name: 'M' } }),
      create('M', { sources: [{ name: 'M' }] }),
      create('M', { mirror: { name: 'ORIG' }, max_msg_size: 50 }),
      create('M', { sources: [{ name: 'ORIG' }], max_msg_size: 50 }),
      // A filter that selects none of the origin's subjects (2.9's "does not overlap").
      {
        ...create('M', { mirror: { name: 'ORIG', filter_subject: 'other.>' } }),
        droppedIn210: { code: 10052, undo: '$JS.API.STREAM.DELETE.M' },
      },
      {
        ...create('M', { sources: [{ name: 'ORIG', filter_subject: 'other.>' }] }),
        droppedIn210: { code: 10052, undo: '$JS.API.STREAM.DELETE.M' },
      },
      create('M', { mirror: { name: 'ORIG', external: { api: '$JS.API', deliver: '' } } }),
      create('M', { mirror: { name: 'ORIG', external: { api: '$JS.x.API', deliver: 'dl.*' } } }),
      create('M', { mirror: { name: 'ORIG', external: { api: 'a b', deliver: '' } } }),
      create('M', { subjects: ['m.>'], republish: { dest: 'm.x' } }),
      create('M', { subjects: ['m.>'], republish: { src: 'n.>', dest: 'x.>' } }),
      create('M', { subjects: ['m.>'], republish: { src: 'm.*', dest: 'x' } }),
      create('M', { subjects: ['m.>'], republish: { src: 'm.>', dest: 'x.*' } }),
      create('S1', { subjects: ['s1'], sources: [{ name: 'S2' }] }),
      create('S2', { subjects: ['s2'], sources: [{ name: 'S1' }] }),
      create('MIR', { mirror: { name: 'ORIG' } }),
      update('MIR', { mirror: { name: 'ORIG', opt_start_seq: 2 } }),
      update('MIR', { mirror: { name: 'ORIG' }, subjects: ['x'] }),
      create('RP', { subjects: ['rp.>'], republish: { dest: 'out.>' } }),
      update('RP', { subjects: ['rp.>'], republish: { dest: 'out2.>' } }),
      update('RP', { subjects: ['rp.>'] }),
      // A consumer filter the stream can not hold (2.9's 10093).
      {
        subject: '$JS.API.CONSUMER.CREATE.MIR',
        body: { stream_name: 'MIR', config: { filter_subject: 'nope.>', ack_policy: 'explicit' } },
        droppedIn210: { code: 10093 },
      },
      {
        subject: '$JS.API.CONSUMER.CREATE.MIR',
        body: { stream_name: 'MIR', config: { filter_subject: 'orig.x', ack_policy: 'explicit' } },
      },
    ];
    const [ref, ours] = await runOnBoth((port) =>
      withClient(port, async (nc) => {
        const out: Record<string, unknown>[] = [];
        for (const r of requests) {
          const e = await apiError(nc, r.subject, r.body);
          out.push(e);
          if (r.droppedIn210?.undo !== undefined && e.err_code === undefined) {
            await apiError(nc, r.droppedIn210.undo, {});
          }
        }
        return out;
      }),
    );
    for (let i = 0; i < requests.length; i++) {
      const what = `${requests[i]!.subject} ${JSON.stringify(requests[i]!.body)}`;
      const dropped = requests[i]!.droppedIn210;
      if (dropped !== undefined) {
        assert.equal(ref[i]!.err_code, dropped.code, what);
        assert.deepEqual(ours[i], {}, what);
      } else {
        assert.deepEqual(ours[i], ref[i], what);
      }
    }
    // The other cases are errors (not accidental successes on both).
    assert.equal(ours.filter((e) => e.err_code !== undefined).length, 19);
  });
});

describe('mirrors and sources across restarts (tsnats, file store)', () => {
  test('a mirror and a source resume from what they stored after a restart', async () => {
    let env = await openJetStream();
    const dir = env.dir;
    try {
      await env.jsm.streams.add({ name: 'O', subjects: ['o.>'] });
      await env.jsm.streams.add({ name: 'M', mirror: { name: 'O' } });
      await env.jsm.streams.add({ name: 'S', sources: [{ name: 'O' }] });
      for (let i = 1; i <= 5; i++) await env.nc.request(`o.${i}`, `m${i}`, { timeout: 2000 });
      await waitForMsgs(env.jsm, 'M', 5);
      await waitForMsgs(env.jsm, 'S', 5);
      await closeJetStream(env, true);
      env = await openJetStream({}, dir);
      for (let i = 6; i <= 8; i++) await env.nc.request(`o.${i}`, `m${i}`, { timeout: 2000 });
      await waitForMsgs(env.jsm, 'M', 8);
      await waitForMsgs(env.jsm, 'S', 8);
      const m = (await allMsgs(env.jsm, 'M')).map((x) => `${x.seq} ${x.string()}`);
      assert.deepEqual(
        m,
        [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `${i} m${i}`),
      );
      const s = (await allMsgs(env.jsm, 'S')).map((x) => `${x.seq} ${x.header.get('Nats-Stream-Source')}`);
      assert.deepEqual(
        s,
        [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `${i} O ${i}`),
      );
      const info = await env.jsm.streams.info('M');
      assert.equal(info.mirror?.name, 'O');
      assert.equal(info.mirror?.lag, 0);
    } finally {
      await closeJetStream(env);
    }
  });

  test('a mirror and a source pick up again after the origin is deleted and recreated', async () => {
    const env = await openJetStream();
    try {
      const { jsm, nc } = env;
      await jsm.streams.add({ name: 'O', subjects: ['o.>'], storage: 'memory' as never });
      await jsm.streams.add({ name: 'M', mirror: { name: 'O' }, storage: 'memory' as never });
      await jsm.streams.add({ name: 'S', sources: [{ name: 'O' }], storage: 'memory' as never });
      for (let i = 1; i <= 3; i++) await nc.request(`o.${i}`, `a${i}`, { timeout: 2000 });
      await waitForMsgs(jsm, 'M', 3);
      await waitForMsgs(jsm, 'S', 3);
      await jsm.streams.delete('O');
      await jsm.streams.add({ name: 'O', subjects: ['o.>'], storage: 'memory' as never });
      // As nats-server does, both ask for the origin's messages after the last sequence they have: the
      // recreated origin's 4th message onwards.
      for (let i = 1; i <= 5; i++) await nc.request(`o.${i}`, `b${i}`, { timeout: 2000 });
      await waitForMsgs(jsm, 'M', 5, 15_000);
      await waitForMsgs(jsm, 'S', 5, 15_000);
      assert.deepEqual(
        (await allMsgs(jsm, 'M')).map((x) => `${x.seq} ${x.string()}`),
        ['1 a1', '2 a2', '3 a3', '4 b4', '5 b5'],
      );
      assert.deepEqual(
        (await allMsgs(jsm, 'S')).map((x) => `${x.string()} ${x.header.get('Nats-Stream-Source')}`),
        ['a1 O 1', 'a2 O 2', 'a3 O 3', 'b4 O 4', 'b5 O 5'],
      );
    } finally {
      await closeJetStream(env);
    }
  });

  // nats-server serves `$JS.<domain>.API` to clients and leaf nodes but not to a stream's own internal
  // client, so on one server only tsnats can be asked (across a leaf node both would be).
  test('a KV mirror through a JetStream domain API prefix ($JS.<domain>.API)', async () => {
    const run = async (kind: ServerKind) => {
      const srv = await launch({ kind, jetstream: true, config: 'jetstream { domain: hub }' });
      const nc = await connect({ servers: srv.url, reconnect: false });
      try {
        const jsm = await jetstreamManager(nc);
        const kvm = new Kvm(nc);
        const src = await kvm.create('src');
        await src.put('k', 'v1');
        await kvm.create('mir', { mirror: { name: 'src', external: { api: '$JS.hub.API', deliver: '' } } });
        await src.put('k', 'v2');
        await waitFor(
          async () => (await jsm.streams.info('KV_mir')).state.last_seq === 2,
          8000,
          'mirror at 2',
        );
        const info = await jsm.streams.info('KV_mir');
        const got = await jsm.direct.getMessage('KV_mir', { last_by_subj: '$KV.src.k' });
        return {
          mirror: info.config.mirror,
          domain: (info as { domain?: string }).domain,
          got: `${got?.seq} ${got?.string()}`,
        };
      } finally {
        await nc.close();
        await srv.stop('SIGKILL');
      }
    };
    const ours = await run('tsnats');
    assert.deepEqual(ours, {
      mirror: { name: 'KV_src', external: { api: '$JS.hub.API', deliver: '' } },
      domain: 'hub',
      got: '2 v2',
    });
  });
});
