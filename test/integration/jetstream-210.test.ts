/**
 * JetStream features of nats-server 2.10 that tsnats serves while still reporting 2.9.10 (issue 20):
 * stream and consumer metadata, consumer filter_subjects, the consumer create `action`, stream first_seq
 * and subject_transform. The client gates these on the server version, so each connection is told it
 * talks to a 2.10 server (its feature table only; nothing is faked on the server side).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { type NatsConnection, nanos } from '@nats-io/transport-node';
import { closeJetStream, type JsEnv, jsonRequest, openJetStream } from '../helpers/jetstream.js';
import { JsCluster } from '../helpers/js-cluster.js';
import { clusterClient, whenPlaced } from '../helpers/js-cluster-checks.js';
import { waitFor } from '../helpers/wait-for.js';

const req = jsonRequest;

/** Let the client use 2.10 features against a server that reports 2.9.10. */
function as210(nc: NatsConnection): void {
  (nc as unknown as { features: { update(v: string): void } }).features.update('2.10.0');
}

function errOf(r: Record<string, unknown>): { err_code?: number; description?: string } | undefined {
  return r.error as { err_code?: number; description?: string } | undefined;
}

async function apiCode(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof JetStreamApiError, `expected a JetStreamApiError, got ${String(e)}`);
    return e.code;
  }
  assert.fail('expected the call to fail');
}

let env: JsEnv;
before(async () => {
  env = await openJetStream();
  as210(env.nc);
  env.jsm = await jetstreamManager(env.nc);
  env.js = jetstream(env.nc);
});
after(async () => {
  await closeJetStream(env);
});

describe('metadata', () => {
  test('stream metadata is stored, returned, updatable, and left out when empty', async () => {
    const { jsm } = env;
    const si = await jsm.streams.add({ name: 'MD1', subjects: ['md1.>'], metadata: { owner: 'a' } });
    assert.deepEqual(si.config.metadata, { owner: 'a' });
    const up = await jsm.streams.update('MD1', { metadata: { owner: 'b', tier: 'gold' } });
    assert.deepEqual(up.config.metadata, { owner: 'b', tier: 'gold' });
    assert.deepEqual((await jsm.streams.info('MD1')).config.metadata, { owner: 'b', tier: 'gold' });
    const raw = await req(env.nc, '$JS.API.STREAM.CREATE.MD2', { name: 'MD2', metadata: {} });
    assert.equal('metadata' in (raw.config as object), false);
    await jsm.streams.delete('MD1');
    await jsm.streams.delete('MD2');
  });

  test('stream metadata over 128 KiB (keys and values) is refused as 2.10 does', async () => {
    const big = { k: 'x'.repeat(128 * 1024) };
    const r = await req(env.nc, '$JS.API.STREAM.CREATE.MDBIG', { name: 'MDBIG', metadata: big });
    // JSStreamInvalidConfigErr is a 500 in nats-server's catalogue.
    assert.deepEqual(errOf(r), {
      code: 500,
      err_code: 10052,
      description: 'stream metadata exceeds maximum size of 131072 bytes',
    });
    const ok = await req(env.nc, '$JS.API.STREAM.CREATE.MDBIG', {
      name: 'MDBIG',
      metadata: { k: 'x'.repeat(128 * 1024 - 1) },
    });
    assert.equal(errOf(ok), undefined);
    await env.jsm.streams.delete('MDBIG');
  });

  test('consumer metadata is stored, returned, updatable; too big is 10135', async () => {
    const { jsm } = env;
    await jsm.streams.add({ name: 'CMD', subjects: ['cmd.>'] });
    const ci = await jsm.consumers.add('CMD', {
      durable_name: 'c',
      ack_policy: AckPolicy.Explicit,
      metadata: { team: 'x' },
    });
    assert.deepEqual(ci.config.metadata, { team: 'x' });
    const up = await jsm.consumers.update('CMD', 'c', { metadata: { team: 'y' } });
    assert.deepEqual(up.config.metadata, { team: 'y' });
    assert.deepEqual((await jsm.consumers.info('CMD', 'c')).config.metadata, { team: 'y' });
    const plain = await jsm.consumers.add('CMD', { durable_name: 'p', ack_policy: AckPolicy.Explicit });
    assert.equal('metadata' in plain.config, false);
    const code = await apiCode(
      jsm.consumers.add('CMD', {
        durable_name: 'big',
        ack_policy: AckPolicy.Explicit,
        metadata: { k: 'x'.repeat(128 * 1024) },
      }),
    );
    assert.equal(code, 10135);
    const r = await req(env.nc, '$JS.API.CONSUMER.CREATE.CMD.big', {
      stream_name: 'CMD',
      config: { durable_name: 'big', ack_policy: 'explicit', metadata: { k: 'x'.repeat(128 * 1024) } },
    });
    assert.equal(errOf(r)?.description, 'consumer metadata exceeds maximum size of 128KB');
    await jsm.streams.delete('CMD');
  });

  test('stream and consumer metadata survive a restart', async () => {
    const e1 = await openJetStream();
    as210(e1.nc);
    const jsm = await jetstreamManager(e1.nc);
    await jsm.streams.add({ name: 'R', subjects: ['r'], metadata: { s: '1' } });
    await jsm.consumers.add('R', { durable_name: 'd', ack_policy: AckPolicy.Explicit, metadata: { c: '2' } });
    await closeJetStream(e1, true);
    const e2 = await openJetStream({}, e1.dir);
    try {
      assert.deepEqual((await e2.jsm.streams.info('R')).config.metadata, { s: '1' });
      assert.deepEqual((await e2.jsm.consumers.info('R', 'd')).config.metadata, { c: '2' });
    } finally {
      await closeJetStream(e2);
    }
  });
});

describe('filter_subjects', () => {
  const enc = new TextEncoder();

  /** Stream `stream` on a.*, b.*, c.* with a.1 c.1 b.2 a.2 c.2 b.3 (sequences 1 to 6). */
  async function fill(stream: string): Promise<void> {
    await env.jsm.streams.add({ name: stream, subjects: ['a.*', 'b.*', 'c.*'] });
    for (const s of ['a.1', 'c.1', 'b.2', 'a.2', 'c.2', 'b.3']) await env.js.publish(s, enc.encode(s));
  }

  test('a durable pull consumer gets messages matching any filter, in stream order', async () => {
    await fill('FS1');
    const ci = await env.jsm.consumers.add('FS1', {
      durable_name: 'd',
      ack_policy: AckPolicy.Explicit,
      filter_subjects: ['a.1', 'b.*'],
    });
    assert.deepEqual(ci.config.filter_subjects, ['a.1', 'b.*']);
    assert.equal('filter_subject' in ci.config, false);
    assert.equal(ci.num_pending, 3);
    const c = await env.js.consumers.get('FS1', 'd');
    const got: [string, number][] = [];
    for await (const m of await c.fetch({ max_messages: 3, expires: 1000 })) {
      got.push([m.subject, m.seq]);
      m.ack();
      if (got.length === 3) break;
    }
    assert.deepEqual(got, [
      ['a.1', 1],
      ['b.2', 3],
      ['b.3', 6],
    ]);
    await env.js.publish('a.1');
    await env.js.publish('c.9');
    await env.js.publish('b.9');
    assert.equal((await env.jsm.consumers.info('FS1', 'd')).num_pending, 2);
    await env.jsm.streams.delete('FS1');
  });

  test('an ephemeral pull consumer with filters, updated to other filters, counts again', async () => {
    await fill('FS2');
    const ci = await env.jsm.consumers.add('FS2', {
      name: 'e',
      ack_policy: AckPolicy.None,
      filter_subjects: ['a.*', 'c.*'],
      inactive_threshold: 60e9,
    });
    assert.equal(ci.num_pending, 4);
    const c = await env.js.consumers.get('FS2', 'e');
    const m = await c.next({ expires: 1000 });
    assert.equal(m?.subject, 'a.1');
    const up = await env.jsm.consumers.update('FS2', 'e', { filter_subjects: ['b.*', 'c.*'] });
    assert.deepEqual(up.config.filter_subjects, ['b.*', 'c.*']);
    // Past seq 1: c.1, b.2, c.2, b.3.
    assert.equal(up.num_pending, 4);
    const m2 = await c.next({ expires: 1000 });
    assert.equal(m2?.subject, 'c.1');
    await env.jsm.streams.delete('FS2');
  });

  test('a push consumer delivers every filter, and deliver last_per_subject covers all of them', async () => {
    await fill('FS3');
    const inbox = `push.${Date.now()}`;
    const sub = env.nc.subscribe(inbox);
    await env.jsm.consumers.add('FS3', {
      durable_name: 'p',
      deliver_subject: inbox,
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.LastPerSubject,
      filter_subjects: ['a.*', 'b.2'],
    });
    const got: string[] = [];
    for await (const m of sub) {
      // $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ts>.<pending>
      got.push(`${m.subject}@${m.reply?.split('.')[5]}`);
      if (got.length === 3) break;
    }
    // The last message of each subject (a.1 seq 1, b.2 seq 3, a.2 seq 4), by stream sequence.
    assert.deepEqual(got, ['a.1@1', 'b.2@3', 'a.2@4']);
    await env.jsm.streams.delete('FS3');
  });

  test('refused as 2.10 refuses them: both forms 10136, overlap 10138, empty 10139, subject form 10137; no 10093', async () => {
    await env.jsm.streams.add({ name: 'FSV', subjects: ['a.*', 'b.*'] });
    const create = (config: Record<string, unknown>, subject = '$JS.API.CONSUMER.CREATE.FSV') =>
      req(env.nc, subject, { stream_name: 'FSV', config: { ack_policy: 'explicit', ...config } });
    const code = async (config: Record<string, unknown>, subject?: string) =>
      errOf(await create(config, subject))?.err_code;
    assert.equal(await code({ filter_subject: 'a.1', filter_subjects: ['b.1'] }), 10136);
    assert.equal(await code({ filter_subjects: ['a.*', 'a.1'] }), 10138);
    assert.equal(await code({ filter_subjects: ['a.1', ''] }), 10139);
    // 2.10 dropped 2.9's subset check (10093): a filter outside the stream's subjects is accepted.
    assert.equal(await code({ filter_subjects: ['a.1', 'x.1'] }), undefined);
    assert.equal(await code({ filter_subject: 'x.1' }), undefined);
    assert.equal(await code({ filter_subjects: ['a.1', 'a..b'] }), 10052);
    assert.equal(
      await code({ name: 'n', filter_subjects: ['a.1', 'b.1'] }, '$JS.API.CONSUMER.CREATE.FSV.n.a.1'),
      10137,
    );
    assert.equal(await code({ filter_subjects: ['a.1', 'b.1'] }), undefined);
    await env.jsm.streams.delete('FSV');
  });

  test('work queue partitions: filters of different consumers may not overlap', async () => {
    await env.jsm.streams.add({ name: 'WQ', subjects: ['a.*', 'b.*'], retention: RetentionPolicy.Workqueue });
    await env.jsm.consumers.add('WQ', {
      durable_name: 'w1',
      ack_policy: AckPolicy.Explicit,
      filter_subjects: ['a.1', 'b.1'],
    });
    const c = await apiCode(
      env.jsm.consumers.add('WQ', {
        durable_name: 'w2',
        ack_policy: AckPolicy.Explicit,
        filter_subjects: ['a.2', 'b.*'],
      }),
    );
    assert.equal(c, 10100);
    await env.jsm.consumers.add('WQ', {
      durable_name: 'w2',
      ack_policy: AckPolicy.Explicit,
      filter_subjects: ['a.2', 'b.2'],
    });
    await env.jsm.streams.delete('WQ');
  });

  test('interest retention keeps a message while a consumer with a matching filter needs it', async () => {
    await env.jsm.streams.add({ name: 'IR', subjects: ['a.*', 'b.*'], retention: RetentionPolicy.Interest });
    await env.jsm.consumers.add('IR', {
      durable_name: 'i',
      ack_policy: AckPolicy.Explicit,
      filter_subjects: ['a.1', 'b.1'],
    });
    await env.js.publish('a.1');
    await env.js.publish('a.2');
    await env.js.publish('b.1');
    assert.equal((await env.jsm.streams.info('IR')).state.messages, 2);
    await env.jsm.streams.delete('IR');
  });

  test('a KV watch of several keys uses filter_subjects', async () => {
    const kv = await new Kvm(env.nc).create('multi');
    await kv.put('k1', 'v1');
    await kv.put('k2', 'v2');
    await kv.put('k3', 'v3');
    await kv.put('k1', 'v1b');
    const w = await kv.watch({ key: ['k1', 'k3'] });
    const seen: string[] = [];
    for await (const e of w) {
      seen.push(`${e.key}=${e.string()}`);
      if (seen.length === 2) {
        await kv.put('k2', 'ignored');
        await kv.put('k3', 'v3b');
      }
      if (seen.length === 3) break;
    }
    w.stop();
    assert.deepEqual(seen, ['k3=v3', 'k1=v1b', 'k3=v3b']);
  });
});

describe('consumer create action', () => {
  test("'create' refuses a changed existing consumer (10148), 'update' a missing one (10149)", async () => {
    const { jsm, nc } = env;
    await jsm.streams.add({ name: 'ACT', subjects: ['act.*'] });
    const cfg = { durable_name: 'd', ack_policy: AckPolicy.Explicit, description: 'one' };
    await jsm.consumers.add('ACT', cfg);
    // The same config again is fine: the existing consumer is answered.
    assert.equal((await jsm.consumers.add('ACT', cfg)).name, 'd');
    assert.equal(await apiCode(jsm.consumers.add('ACT', { ...cfg, description: 'two' })), 10148);
    const body = (action: unknown, extra: Record<string, unknown> = {}) => ({
      stream_name: 'ACT',
      action,
      config: { durable_name: 'd', ack_policy: 'explicit', ...extra },
    });
    const r1 = await req(nc, '$JS.API.CONSUMER.CREATE.ACT.d', body('create', { description: 'two' }));
    assert.deepEqual(errOf(r1), { code: 400, err_code: 10148, description: 'consumer already exists' });
    // 'update' and create-or-update (absent or '') change it.
    const r2 = await req(nc, '$JS.API.CONSUMER.CREATE.ACT.d', body('update', { description: 'two' }));
    assert.equal((r2.config as { description: string }).description, 'two');
    const r3 = await req(nc, '$JS.API.CONSUMER.CREATE.ACT.d', body('', { description: 'three' }));
    assert.equal((r3.config as { description: string }).description, 'three');
    const r4 = await req(nc, '$JS.API.CONSUMER.CREATE.ACT.d', {
      stream_name: 'ACT',
      config: { durable_name: 'd', ack_policy: 'explicit', description: 'four' },
    });
    assert.equal((r4.config as { description: string }).description, 'four');
    const r5 = await req(nc, '$JS.API.CONSUMER.CREATE.ACT.nope', {
      stream_name: 'ACT',
      action: 'update',
      config: { durable_name: 'nope', ack_policy: 'explicit' },
    });
    assert.deepEqual(errOf(r5), { code: 400, err_code: 10149, description: 'consumer does not exist' });
    assert.equal((await jsm.consumers.list('ACT').next()).length, 1);
    // Go's ConsumerAction accepts these three strings only.
    for (const bad of ['delete', null, 1]) {
      const r = await req(nc, '$JS.API.CONSUMER.CREATE.ACT.d', body(bad));
      assert.equal(errOf(r)?.err_code, 10025, `action ${JSON.stringify(bad)}`);
    }
    await jsm.streams.delete('ACT');
  });

  test('the CREATE.<stream>.<consumer>.<filter> form takes the filter from the subject', async () => {
    const { jsm, nc } = env;
    await jsm.streams.add({ name: 'CF', subjects: ['cf.>'] });
    const ok = await req(nc, '$JS.API.CONSUMER.CREATE.CF.c1.cf.a.*', {
      stream_name: 'CF',
      action: 'create',
      config: { name: 'c1', ack_policy: 'explicit', filter_subject: 'cf.a.*' },
    });
    assert.equal(errOf(ok), undefined);
    assert.equal((ok.config as { filter_subject: string }).filter_subject, 'cf.a.*');
    const bad = await req(nc, '$JS.API.CONSUMER.CREATE.CF.c2.cf.a.*', {
      stream_name: 'CF',
      config: { name: 'c2', ack_policy: 'explicit', filter_subject: 'cf.b' },
    });
    assert.equal(errOf(bad)?.err_code, 10131);
    // The client picks this form for a named consumer with one filter.
    const ci = await jsm.consumers.add('CF', {
      name: 'c3',
      ack_policy: AckPolicy.Explicit,
      filter_subject: 'cf.c',
    });
    assert.equal(ci.config.filter_subject, 'cf.c');
    await jsm.streams.delete('CF');
  });
});

describe('stream first_seq', () => {
  for (const storage of [StorageType.File, StorageType.Memory]) {
    test(`a new ${storage} stream starts at first_seq and keeps counting after a restart`, async () => {
      const e = await openJetStream();
      let reopened: JsEnv | undefined;
      try {
        as210(e.nc);
        const jsm = await jetstreamManager(e.nc);
        const si = await jsm.streams.add({ name: 'FSQ', subjects: ['fsq'], storage, first_seq: 100 });
        assert.equal(si.config.first_seq, 100);
        assert.deepEqual([si.state.first_seq, si.state.last_seq, si.state.messages], [100, 99, 0]);
        const js = jetstream(e.nc);
        assert.equal((await js.publish('fsq')).seq, 100);
        assert.equal((await js.publish('fsq')).seq, 101);
        if (storage === StorageType.File) {
          await closeJetStream(e, true);
          reopened = await openJetStream({}, e.dir);
          const st = (await reopened.jsm.streams.info('FSQ')).state;
          assert.deepEqual([st.first_seq, st.last_seq, st.messages], [100, 101, 2]);
          assert.equal((await reopened.js.publish('fsq')).seq, 102);
        }
      } finally {
        if (reopened !== undefined) await closeJetStream(reopened);
        else await closeJetStream(e);
      }
    });
  }

  test('a mirror can not have first_seq (10143); a stream with sources can', async () => {
    const { nc, jsm } = env;
    await jsm.streams.add({ name: 'ORIG', subjects: ['orig'] });
    const r = await req(nc, '$JS.API.STREAM.CREATE.MIR', {
      name: 'MIR',
      mirror: { name: 'ORIG' },
      first_seq: 5,
    });
    assert.deepEqual(errOf(r), {
      code: 400,
      err_code: 10143,
      description: 'stream mirrors can not have first sequence configured',
    });
    const s = await req(nc, '$JS.API.STREAM.CREATE.SRC', {
      name: 'SRC',
      sources: [{ name: 'ORIG' }],
      first_seq: 5,
    });
    assert.equal(errOf(s), undefined);
    assert.equal((s.state as { first_seq: number }).first_seq, 5);
    const plain = await req(nc, '$JS.API.STREAM.CREATE.PLAIN', { name: 'PLAIN' });
    assert.equal('first_seq' in (plain.config as object), false);
    assert.equal('subject_transform' in (plain.config as object), false);
    for (const n of ['SRC', 'ORIG', 'PLAIN']) await jsm.streams.delete(n);
  });
});

describe('stream subject_transform', () => {
  test('messages are stored under the transformed subject; others as they are', async () => {
    const { jsm, js } = env;
    const si = await jsm.streams.add({
      name: 'TR',
      subjects: ['in.*', 'keep'],
      subject_transform: { src: 'in.*', dest: 'out.{{wildcard(1)}}' },
    });
    assert.deepEqual(si.config.subject_transform, { src: 'in.*', dest: 'out.{{wildcard(1)}}' });
    await js.publish('in.a');
    await js.publish('keep');
    await js.publish('in.b');
    assert.equal((await jsm.streams.getMessage('TR', { seq: 1 }))?.subject, 'out.a');
    assert.equal((await jsm.streams.getMessage('TR', { seq: 2 }))?.subject, 'keep');
    assert.equal((await jsm.streams.getMessage('TR', { last_by_subj: 'out.b' }))?.seq, 3);
    // A consumer filters on the stored subjects (the transform's destination counts as the stream's).
    const ci = await jsm.consumers.add('TR', {
      durable_name: 'c',
      ack_policy: AckPolicy.Explicit,
      filter_subject: 'out.*',
    });
    assert.equal(ci.num_pending, 2);
    const lit = await jsm.consumers.add('TR', {
      durable_name: 'lit',
      ack_policy: AckPolicy.Explicit,
      filter_subject: 'out.a',
    });
    assert.equal(lit.num_pending, 1);
    await jsm.streams.delete('TR');
  });

  test('the transform can be added by an update; a bad one is a create (10049) or update (10069) error', async () => {
    const { jsm, js, nc } = env;
    const bad = await req(nc, '$JS.API.STREAM.CREATE.TRB', {
      name: 'TRB',
      subjects: ['tb.*'],
      subject_transform: { src: 'tb.*', dest: 'x.{{wildcard(2)}}' },
    });
    assert.equal(errOf(bad)?.err_code, 10049);
    assert.match(
      String(errOf(bad)?.description),
      /^stream subject transform from 'tb\.\*' to 'x\.\{\{wildcard\(2\)\}\}'/,
    );
    await jsm.streams.add({ name: 'TRU', subjects: ['tu.*'] });
    await js.publish('tu.1');
    const cfg = (await jsm.streams.info('TRU')).config;
    const r = await req(nc, '$JS.API.STREAM.UPDATE.TRU', {
      ...cfg,
      subject_transform: { src: 'tu.*', dest: 'v.*' },
    });
    assert.equal(errOf(r)?.err_code, 10069);
    await jsm.streams.update('TRU', { subject_transform: { src: '', dest: 'w.>' } });
    // An empty source is '>' (nats-server's rule), so every subject moves under w.
    await js.publish('tu.2');
    assert.equal((await jsm.streams.getMessage('TRU', { seq: 1 }))?.subject, 'tu.1');
    assert.equal((await jsm.streams.getMessage('TRU', { seq: 2 }))?.subject, 'w.tu.2');
    await jsm.streams.delete('TRU');
  });
});

describe('stream consumer_limits', () => {
  test('defaults and maximums for the consumers of the stream', async () => {
    const { jsm, nc } = env;
    const si = await jsm.streams.add({
      name: 'CL',
      subjects: ['cl.*'],
      consumer_limits: { inactive_threshold: nanos(10_000), max_ack_pending: 50 },
    });
    assert.deepEqual(si.config.consumer_limits, { inactive_threshold: 10e9, max_ack_pending: 50 });
    const ci = await jsm.consumers.add('CL', { durable_name: 'c', ack_policy: AckPolicy.Explicit });
    assert.deepEqual([ci.config.max_ack_pending, ci.config.inactive_threshold], [50, 10e9]);
    const create = (config: Record<string, unknown>) =>
      req(nc, '$JS.API.CONSUMER.CREATE.CL', {
        stream_name: 'CL',
        config: { ack_policy: 'explicit', ...config },
      });
    assert.deepEqual(errOf(await create({ max_ack_pending: 51 })), {
      code: 400,
      err_code: 10121,
      description: 'consumer max ack pending exceeds system limit of 50',
    });
    assert.deepEqual(errOf(await create({ inactive_threshold: 20e9 })), {
      code: 400,
      err_code: 10153,
      description: 'consumer inactive threshold exceeds system limit of 10s',
    });
    // Lowering a limit under an existing consumer's value is refused; raising it is not.
    const cfg = (await jsm.streams.info('CL')).config;
    const low = await req(nc, '$JS.API.STREAM.UPDATE.CL', {
      ...cfg,
      consumer_limits: { max_ack_pending: 10 },
    });
    assert.deepEqual(errOf(low), {
      code: 500,
      err_code: 10069,
      description: 'change to limits violates consumers: c',
    });
    const up = await jsm.streams.update('CL', { consumer_limits: { max_ack_pending: 100 } });
    assert.deepEqual(up.config.consumer_limits, { max_ack_pending: 100 });
    const none = await req(nc, '$JS.API.STREAM.CREATE.NOCL', { name: 'NOCL', consumer_limits: {} });
    assert.equal('consumer_limits' in (none.config as object), false);
    await jsm.streams.delete('NOCL');
    await jsm.streams.delete('CL');
  });

  test("an ephemeral consumer goes away after the stream's inactive_threshold", async () => {
    const { jsm } = env;
    await jsm.streams.add({
      name: 'CLI',
      subjects: ['cli'],
      consumer_limits: { inactive_threshold: nanos(300) },
    });
    const ci = await jsm.consumers.add('CLI', { ack_policy: AckPolicy.Explicit });
    assert.equal(ci.config.inactive_threshold, nanos(300));
    await waitFor(
      async () => (await jsm.consumers.list('CLI').next()).length === 0,
      2500,
      'the consumer to go',
    );
    await jsm.streams.delete('CLI');
  });
});

describe('2.10 fields on three clustered tsnats servers', { timeout: 120_000 }, () => {
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

  test('R3: first_seq, subject_transform, consumer_limits, filter_subjects and the create action', async () => {
    const jsm = await jetstreamManager(cnc);
    const js = jetstream(cnc);
    const bad = await req(cnc, '$JS.API.STREAM.CREATE.CB', {
      name: 'CB',
      subjects: ['cb.*'],
      num_replicas: 3,
      subject_transform: { src: 'cb.*', dest: 'x.*' },
    });
    assert.equal(errOf(bad)?.err_code, 10049, JSON.stringify(bad));
    // The servers have just started: the meta leader may not have heard from all of them yet.
    await whenPlaced(() =>
      jsm.streams.add({
        name: 'C3',
        subjects: ['in.*'],
        num_replicas: 3,
        first_seq: 10,
        subject_transform: { src: 'in.*', dest: 'out.{{wildcard(1)}}' },
        consumer_limits: { max_ack_pending: 20 },
      }),
    );
    const a = await js.publish('in.a');
    await js.publish('in.b');
    assert.equal(a.seq, 10);
    assert.equal((await jsm.streams.getMessage('C3', { seq: 10 }))?.subject, 'out.a');
    const ci = await jsm.consumers.add('C3', {
      durable_name: 'd',
      ack_policy: AckPolicy.Explicit,
      filter_subjects: ['out.a', 'out.c'],
    });
    assert.equal(ci.config.max_ack_pending, 20);
    assert.equal(ci.num_pending, 1);
    const again = await apiCode(
      jsm.consumers.add('C3', { durable_name: 'd', ack_policy: AckPolicy.Explicit, description: 'x' }),
    );
    assert.equal(again, 10148);
    const missing = await req(cnc, '$JS.API.CONSUMER.CREATE.C3.nope', {
      stream_name: 'C3',
      action: 'update',
      config: { durable_name: 'nope', ack_policy: 'explicit' },
    });
    assert.equal(errOf(missing)?.err_code, 10149);
    await jsm.streams.delete('C3');
  });
});
