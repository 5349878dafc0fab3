/**
 * JetStream streams end to end with the unchanged @nats-io/jetstream v3 client (and raw requests where
 * the exact JSON matters): the stream API, publishing with acknowledgements and expectations, limits and
 * discard policies, roll-ups, purge, message get/delete, direct get, persistence across a restart, /jsz,
 * and a comparison with the reference nats-server for a handful of responses.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  DiscardPolicy,
  JetStreamApiError,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { closeJetStream, type JsEnv, jsonRequest, openJetStream, runOnBoth } from '../helpers/jetstream.js';
import { launch } from '../helpers/launcher.js';
import { hasReference } from '../helpers/reference.js';
import { waitFor } from '../helpers/wait-for.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

type Env = JsEnv;
const open = openJetStream;
const close = closeJetStream;
const req = jsonRequest;

/** A raw publish with headers; the reply as text. */
async function pub(
  nc: NatsConnection,
  subject: string,
  data: string,
  hdrs: Record<string, string> = {},
): Promise<string> {
  const h = headers();
  for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
  const m = await nc.request(subject, data, {
    timeout: 2000,
    headers: Object.keys(hdrs).length > 0 ? h : undefined,
  });
  return dec.decode(m.data);
}

/** The err_code of a rejected API call. */
async function apiCode(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof JetStreamApiError, `expected a JetStreamApiError, got ${String(e)}`);
    return e.code;
  }
  assert.fail('expected the call to fail');
}

/** Update fields the client's type leaves out (storage, sealed); the server decides what may change. */
function updateCfg(o: Record<string, unknown>): Parameters<JetStreamManager['streams']['update']>[1] {
  return o as Parameters<JetStreamManager['streams']['update']>[1];
}

function errorOf(r: Record<string, unknown>): { code: number; err_code: number; description: string } {
  return r.error as { code: number; err_code: number; description: string };
}

describe('JetStream streams (one server)', () => {
  let env: Env;
  before(async () => {
    env = await open({ httpPort: -1 });
  });
  after(async () => {
    await close(env);
  });

  test('INFO advertises JetStream; $JS.API.INFO answers limits and usage', async () => {
    assert.equal(env.nc.info?.jetstream, true);
    const r = await req(env.nc, '$JS.API.INFO');
    assert.equal(r.type, 'io.nats.jetstream.api.v1.account_info_response');
    assert.deepEqual(r.limits, {
      max_memory: -1,
      max_storage: -1,
      max_streams: -1,
      max_consumers: -1,
      max_ack_pending: -1,
      memory_max_stream_bytes: -1,
      storage_max_stream_bytes: -1,
      max_bytes_required: false,
    });
    const ai = await env.jsm.getAccountInfo();
    assert.equal(typeof ai.streams, 'number');
    assert.ok(ai.api.total >= 1);
  });

  test('streams.add applies nats-server defaults; info, update, delete', async () => {
    const { jsm } = env;
    const si = await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
    assert.deepEqual(
      [si.config.retention, si.config.storage, si.config.discard, si.config.num_replicas],
      ['limits', 'file', 'old', 1],
    );
    assert.deepEqual(
      [si.config.max_msgs, si.config.max_bytes, si.config.max_msgs_per_subject, si.config.max_consumers],
      [-1, -1, -1, -1],
    );
    assert.equal(si.config.max_msg_size, -1);
    assert.equal(si.config.duplicate_window, 120_000_000_000);
    assert.deepEqual(
      [si.state.messages, si.state.first_seq, si.state.first_ts],
      [0, 0, '0001-01-01T00:00:00Z'],
    );
    // An identical create succeeds again; a different one with the same name does not.
    await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
    assert.equal(
      await apiCode(jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'], max_msgs: 5 })),
      10058,
    );

    for (let i = 0; i < 3; i++) await env.js.publish(`orders.${i}`, enc.encode(`o${i}`));
    const info = await jsm.streams.info('ORDERS');
    assert.deepEqual([info.state.messages, info.state.first_seq, info.state.last_seq], [3, 1, 3]);
    assert.equal(info.state.num_subjects, 3);
    assert.match(info.state.first_ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.match(info.created, /Z$/);

    const up = await jsm.streams.update('ORDERS', {
      subjects: ['orders.>', 'returns.>'],
      max_msgs: 100,
      description: 'd',
    });
    assert.deepEqual(up.config.subjects, ['orders.>', 'returns.>']);
    assert.deepEqual([up.config.max_msgs, up.config.description], [100, 'd']);
    const ack = await env.js.publish('returns.1', enc.encode('r'));
    assert.deepEqual([ack.stream, ack.seq], ['ORDERS', 4]);
    // What an update may not change.
    assert.equal(
      await apiCode(jsm.streams.update('ORDERS', updateCfg({ storage: StorageType.Memory }))),
      10052,
    );
    assert.equal(await apiCode(jsm.streams.update('ORDERS', { num_replicas: 3 })), 10074);

    assert.equal(await jsm.streams.delete('ORDERS'), true);
    assert.equal(await apiCode(jsm.streams.info('ORDERS')), 10059);
    assert.equal(await apiCode(jsm.streams.delete('ORDERS')), 10059);
    // Its subjects are free again: a core publish there gets no stream (no responders).
    await assert.rejects(env.nc.request('orders.9', 'x', { timeout: 500 }));
  });

  test('names and list: sorted, filtered by subject, paged by offset', async () => {
    const { jsm, nc } = env;
    for (const n of ['L_C', 'L_A', 'L_B']) await jsm.streams.add({ name: n, subjects: [`list.${n}.*`] });
    const names: string[] = [];
    for await (const n of jsm.streams.names()) names.push(n);
    assert.deepEqual(
      names.filter((n) => n.startsWith('L_')),
      ['L_A', 'L_B', 'L_C'],
    );
    const filtered: string[] = [];
    for await (const si of jsm.streams.list('list.L_B.x')) filtered.push(si.config.name);
    assert.deepEqual(filtered, ['L_B']);
    const wide: string[] = [];
    for await (const n of jsm.streams.names('list.>')) wide.push(n);
    assert.deepEqual(wide, ['L_A', 'L_B', 'L_C']);
    const page = await req(nc, '$JS.API.STREAM.NAMES', { subject: 'list.>', offset: 2 });
    assert.deepEqual([page.total, page.offset, page.limit, page.streams], [3, 2, 1024, ['L_C']]);
    const past = await req(nc, '$JS.API.STREAM.NAMES', { subject: 'list.>', offset: 7 });
    assert.deepEqual([past.total, past.offset, past.streams], [3, 3, null]);
    const list = await req(nc, '$JS.API.STREAM.LIST', { subject: 'list.L_A.*' });
    assert.deepEqual(
      [list.type, list.total, list.limit],
      ['io.nats.jetstream.api.v1.stream_list_response', 1, 256],
    );
    for (const n of ['L_A', 'L_B', 'L_C']) await jsm.streams.delete(n);
  });

  test('API errors: exact codes and descriptions', async () => {
    const { nc } = env;
    const bad = await req(nc, '$JS.API.STREAM.CREATE.E1', '{bad');
    assert.deepEqual(bad, {
      type: 'io.nats.jetstream.api.v1.stream_create_response',
      error: { code: 400, err_code: 10025, description: 'invalid JSON' },
    });
    assert.deepEqual(errorOf(await req(nc, '$JS.API.STREAM.CREATE.E1', { name: 'E2' })), {
      code: 400,
      err_code: 10056,
      description: 'stream name in subject does not match request',
    });
    assert.deepEqual(errorOf(await req(nc, '$JS.API.STREAM.CREATE.E1', { name: 'E1', num_replicas: 3 })), {
      code: 500,
      err_code: 10074,
      description: 'replicas > 1 not supported in non-clustered mode',
    });
    assert.deepEqual(errorOf(await req(nc, '$JS.API.STREAM.CREATE.E1', { name: 'E1', max_age: 1000 })), {
      code: 500,
      err_code: 10052,
      description: 'max age needs to be >= 100ms',
    });
    assert.equal(
      errorOf(await req(nc, '$JS.API.STREAM.CREATE.E1', { name: 'E1', retention: 'x' })).err_code,
      10025,
    );
    await req(nc, '$JS.API.STREAM.CREATE.E1', { name: 'E1', subjects: ['e.>'] });
    assert.deepEqual(errorOf(await req(nc, '$JS.API.STREAM.CREATE.E2', { name: 'E2', subjects: ['e.x'] })), {
      code: 400,
      err_code: 10065,
      description: 'subjects overlap with an existing stream',
    });
    const nf = await req(nc, '$JS.API.STREAM.INFO.NOPE');
    assert.deepEqual(nf, {
      type: 'io.nats.jetstream.api.v1.stream_info_response',
      error: { code: 404, err_code: 10059, description: 'stream not found' },
      total: 0,
      offset: 0,
      limit: 0,
    });
    assert.equal(errorOf(await req(nc, '$JS.API.STREAM.DELETE.E1', { x: 1 })).err_code, 10038);
    assert.equal(errorOf(await req(nc, '$JS.API.STREAM.MSG.GET.E1', '')).err_code, 10003);
    assert.equal(errorOf(await req(nc, '$JS.API.STREAM.MSG.DELETE.E1', '')).err_code, 10003);
    // What needs clustering and templates is refused with nats-server's codes (snapshots: jetstream-snapshot).
    assert.deepEqual(errorOf(await req(nc, '$JS.API.STREAM.LEADER.STEPDOWN.E1')), {
      code: 503,
      err_code: 10010,
      description: 'JetStream clustering support required',
    });
    assert.equal(errorOf(await req(nc, '$JS.API.STREAM.SNAPSHOT.E1', '')).err_code, 10003);
    assert.deepEqual((await req(nc, '$JS.API.STREAM.TEMPLATE.NAMES')).streams, []);
    // An API subject nothing handles is not answered (as nats-server); the request times out.
    await assert.rejects(nc.request('$JS.API.NOPE', '', { timeout: 300 }));
    // The errors were counted.
    const ai = await req(nc, '$JS.API.INFO');
    assert.ok((ai.api as { errors: number }).errors >= 8);
    await env.jsm.streams.delete('E1');
  });

  test('publish: PubAck bytes, dedupe with Nats-Msg-Id, expected-* headers', async () => {
    const { jsm, js, nc } = env;
    await jsm.streams.add({ name: 'P', subjects: ['p.>'], storage: StorageType.Memory });
    assert.equal(await pub(nc, 'p.a', 'one'), '{"stream":"P", "seq":1}');
    const a2 = await js.publish('p.a', enc.encode('two'), { msgID: 'id-1' });
    assert.deepEqual([a2.seq, a2.duplicate], [2, false]);
    const dup = await js.publish('p.a', enc.encode('two again'), { msgID: 'id-1' });
    assert.deepEqual([dup.seq, dup.duplicate], [2, true]);
    assert.equal(
      await pub(nc, 'p.a', 'x', { 'Nats-Msg-Id': 'id-1' }),
      '{"stream":"P", "seq":2,"duplicate": true}',
    );

    assert.equal(await apiCode(js.publish('p.a', undefined, { expect: { streamName: 'OTHER' } })), 10060);
    assert.equal(await apiCode(js.publish('p.a', undefined, { expect: { lastSequence: 1 } })), 10071);
    await js.publish('p.b', enc.encode('b'), { expect: { lastSequence: 2, streamName: 'P' } });
    assert.equal(await apiCode(js.publish('p.b', undefined, { expect: { lastSubjectSequence: 1 } })), 10071);
    await js.publish('p.b', enc.encode('b2'), { expect: { lastSubjectSequence: 3 } });
    await js.publish('p.new', enc.encode('n'), { expect: { lastSubjectSequence: 0 } });
    assert.equal(await apiCode(js.publish('p.c', undefined, { expect: { lastMsgID: 'nope' } })), 10070);
    await js.publish('p.c', enc.encode('c'), { msgID: 'id-2' });
    await js.publish('p.c', enc.encode('c2'), { expect: { lastMsgID: 'id-2' } });

    const raw = JSON.parse(await pub(nc, 'p.a', 'x', { 'Nats-Expected-Last-Sequence': '1' }));
    assert.deepEqual(raw, {
      error: { code: 400, err_code: 10071, description: 'wrong last sequence: 7' },
      stream: 'P',
      seq: 0,
    });
    assert.deepEqual(JSON.parse(await pub(nc, 'p.a', 'x', { 'Nats-Expected-Last-Msg-Id': 'zz' })).error, {
      code: 400,
      err_code: 10070,
      description: 'wrong last msg ID: ',
    });
    const si = await jsm.streams.info('P');
    assert.deepEqual([si.state.messages, si.state.last_seq], [7, 7]);
    await jsm.streams.delete('P');
  });

  test('limits: max_msgs / max_bytes / max_msgs_per_subject with discard old and new, max_msg_size, max_age', async () => {
    const { jsm, js, nc } = env;
    // Discard old: the oldest goes.
    await jsm.streams.add({ name: 'LO', subjects: ['lo.*'], max_msgs: 3, storage: StorageType.Memory });
    for (let i = 1; i <= 5; i++) await js.publish('lo.a', enc.encode(String(i)));
    let si = await jsm.streams.info('LO');
    assert.deepEqual([si.state.messages, si.state.first_seq, si.state.last_seq], [3, 3, 5]);

    // Discard new: refused with nats-server's store error.
    await jsm.streams.add({
      name: 'LN',
      subjects: ['ln.*'],
      max_msgs: 2,
      discard: DiscardPolicy.New,
      storage: StorageType.Memory,
    });
    await js.publish('ln.a');
    await js.publish('ln.a');
    assert.deepEqual(JSON.parse(await pub(nc, 'ln.a', 'x')), {
      error: { code: 503, err_code: 10077, description: 'maximum messages exceeded' },
      stream: 'LN',
      seq: 0,
    });

    await jsm.streams.add({
      name: 'LB',
      subjects: ['lb.*'],
      max_bytes: 200,
      discard: DiscardPolicy.New,
      storage: StorageType.Memory,
    });
    await js.publish('lb.a', new Uint8Array(100));
    assert.equal(
      JSON.parse(await pub(nc, 'lb.a', 'y'.repeat(100))).error.description,
      'maximum bytes exceeded',
    );

    // Per subject, discard old: each subject keeps its newest 2.
    await jsm.streams.add({
      name: 'PS',
      subjects: ['ps.*'],
      max_msgs_per_subject: 2,
      storage: StorageType.Memory,
    });
    for (let i = 0; i < 4; i++) await js.publish('ps.a', enc.encode(`a${i}`));
    await js.publish('ps.b');
    si = await jsm.streams.info('PS', { subjects_filter: '>' });
    assert.deepEqual(si.state.subjects, { 'ps.a': 2, 'ps.b': 1 });
    assert.equal(si.state.messages, 3);

    // Per subject, discard new: the subject is full, others still take messages.
    await jsm.streams.add({
      name: 'PN',
      subjects: ['pn.*'],
      max_msgs_per_subject: 1,
      discard: DiscardPolicy.New,
      discard_new_per_subject: true,
      storage: StorageType.Memory,
    });
    await js.publish('pn.a');
    assert.equal(
      JSON.parse(await pub(nc, 'pn.a', 'again')).error.description,
      'maximum messages per subject exceeded',
    );
    await js.publish('pn.b');

    // max_msg_size counts headers and payload.
    await jsm.streams.add({ name: 'MS', subjects: ['ms'], max_msg_size: 10, storage: StorageType.Memory });
    await js.publish('ms', enc.encode('0123456789'));
    assert.deepEqual(JSON.parse(await pub(nc, 'ms', '01234567890')).error, {
      code: 400,
      err_code: 10054,
      description: 'message size exceeds maximum allowed',
    });

    // max_age: messages expire on a timer; the duplicate window follows max_age when shorter.
    const age = await jsm.streams.add({
      name: 'AGE',
      subjects: ['age'],
      max_age: 200_000_000,
      storage: StorageType.Memory,
    });
    assert.equal(age.config.duplicate_window, 200_000_000);
    await js.publish('age');
    await waitFor(async () => (await jsm.streams.info('AGE')).state.messages === 0, 3000, 'max_age expiry');

    for (const n of ['LO', 'LN', 'LB', 'PS', 'PN', 'MS', 'AGE']) await jsm.streams.delete(n);
  });

  test('roll-ups with Nats-Rollup (sub and all) need allow_rollup_hdrs', async () => {
    const { jsm, js, nc } = env;
    await jsm.streams.add({ name: 'NR', subjects: ['nr.*'], storage: StorageType.Memory });
    assert.deepEqual(JSON.parse(await pub(nc, 'nr.a', 'x', { 'Nats-Rollup': 'all' })).error, {
      code: 500,
      err_code: 10111,
      description: 'rollup not permitted',
    });
    await jsm.streams.add({
      name: 'RU',
      subjects: ['ru.*'],
      allow_rollup_hdrs: true,
      storage: StorageType.Memory,
    });
    for (const s of ['ru.a', 'ru.a', 'ru.b', 'ru.b']) await js.publish(s);
    await pub(nc, 'ru.a', 'snapshot', { 'Nats-Rollup': 'sub' });
    let si = await jsm.streams.info('RU', { subjects_filter: '>' });
    assert.deepEqual(si.state.subjects, { 'ru.a': 1, 'ru.b': 2 });
    await pub(nc, 'ru.c', 'everything', { 'Nats-Rollup': 'all' });
    si = await jsm.streams.info('RU', { subjects_filter: '>' });
    assert.deepEqual([si.state.messages, si.state.first_seq, si.state.subjects], [1, 6, { 'ru.c': 1 }]);
    await jsm.streams.delete('NR');
    await jsm.streams.delete('RU');
  });

  test('purge with filter, seq and keep; deny_purge, deny_delete and sealed', async () => {
    const { jsm, js, nc } = env;
    await jsm.streams.add({ name: 'PG', subjects: ['pg.*'], storage: StorageType.Memory });
    for (const s of ['pg.a', 'pg.b', 'pg.a', 'pg.b', 'pg.a', 'pg.b']) await js.publish(s);
    const purged = async (opts?: Parameters<JetStreamManager['streams']['purge']>[1]) => {
      const r = await jsm.streams.purge('PG', opts);
      return [r.success, r.purged];
    };
    assert.deepEqual(await purged({ filter: 'pg.a', keep: 1 }), [true, 2]);
    // Below sequence 4 only pg.b #2 is left.
    assert.deepEqual(await purged({ seq: 4 }), [true, 1]);
    let si = await jsm.streams.info('PG');
    assert.deepEqual([si.state.messages, si.state.first_seq], [3, 4]);
    const both = await req(nc, '$JS.API.STREAM.PURGE.PG', { seq: 2, keep: 1 });
    assert.deepEqual(both, {
      type: 'io.nats.jetstream.api.v1.stream_purge_response',
      error: { code: 400, err_code: 10003, description: 'bad request' },
      purged: 0,
    });
    assert.deepEqual(await purged(), [true, 3]);
    si = await jsm.streams.info('PG');
    assert.deepEqual([si.state.messages, si.state.first_seq, si.state.last_seq], [0, 7, 6]);

    await jsm.streams.add({
      name: 'DN',
      subjects: ['dn'],
      deny_purge: true,
      deny_delete: true,
      storage: StorageType.Memory,
    });
    await js.publish('dn');
    assert.deepEqual(errorOf(await req(nc, '$JS.API.STREAM.PURGE.DN')), {
      code: 500,
      err_code: 10110,
      description: 'stream purge not permitted',
    });
    assert.deepEqual(errorOf(await req(nc, '$JS.API.STREAM.MSG.DELETE.DN', { seq: 1 })), {
      code: 500,
      err_code: 10057,
      description: 'message delete not permitted',
    });
    // Sealing: no more messages, deletes or purges; cannot be undone.
    const sealed = await jsm.streams.update('DN', updateCfg({ sealed: true }));
    assert.deepEqual([sealed.config.sealed, sealed.config.discard], [true, 'new']);
    assert.deepEqual(JSON.parse(await pub(nc, 'dn', 'x')).error, {
      code: 400,
      err_code: 10109,
      description: 'invalid operation on sealed stream',
    });
    assert.equal(await apiCode(jsm.streams.update('DN', updateCfg({ sealed: false }))), 10052);
    assert.equal(
      errorOf(await req(nc, '$JS.API.STREAM.CREATE.X', { name: 'X', sealed: true })).err_code,
      10052,
    );
    await jsm.streams.delete('PG');
    await jsm.streams.delete('DN');
  });

  test('getMessage (seq, last_by_subj, next_by_subj), deleteMessage (erase, no_erase), deleted_details', async () => {
    const { jsm, js, nc } = env;
    await jsm.streams.add({ name: 'G', subjects: ['g.*'] });
    const h = headers();
    h.set('X-Test', 'yes');
    await js.publish('g.a', enc.encode('first'), { headers: h });
    await js.publish('g.b', enc.encode('second'));
    await js.publish('g.a', enc.encode('third'));
    await js.publish('g.c', enc.encode('fourth'));
    const m1 = await jsm.streams.getMessage('G', { seq: 1 });
    assert.ok(m1 !== null);
    assert.deepEqual([m1.subject, m1.seq, m1.string(), m1.header.get('X-Test')], ['g.a', 1, 'first', 'yes']);
    const last = await jsm.streams.getMessage('G', { last_by_subj: 'g.a' });
    assert.deepEqual([last?.seq, last?.string()], [3, 'third']);
    const next = (await req(nc, '$JS.API.STREAM.MSG.GET.G', { next_by_subj: 'g.c', seq: 2 })).message as {
      seq: number;
      data: string;
    };
    assert.deepEqual([next.seq, Buffer.from(next.data, 'base64').toString()], [4, 'fourth']);
    assert.equal(await jsm.streams.getMessage('G', { seq: 99 }), null);
    const raw = await req(nc, '$JS.API.STREAM.MSG.GET.G', { seq: 2 });
    assert.deepEqual(Object.keys(raw.message as object), ['subject', 'seq', 'data', 'time']);
    assert.equal((raw.message as { data: string }).data, Buffer.from('second').toString('base64'));

    assert.equal(await jsm.streams.deleteMessage('G', 2), true);
    assert.equal(await jsm.streams.deleteMessage('G', 3, false), true);
    // A file stream answers like nats-server's file store.
    assert.deepEqual(errorOf(await req(nc, '$JS.API.STREAM.MSG.DELETE.G', { seq: 2 })), {
      code: 500,
      err_code: 10057,
      description: 'no message found',
    });
    assert.equal(
      errorOf(await req(nc, '$JS.API.STREAM.MSG.DELETE.G', { seq: 9 })).description,
      'stream store EOF',
    );
    const si = await jsm.streams.info('G', { deleted_details: true });
    assert.deepEqual([si.state.messages, si.state.num_deleted, si.state.deleted], [2, 2, [2, 3]]);
    await jsm.streams.delete('G');
  });

  test('direct get: by sequence, last by subject (subject in the request subject), status replies', async () => {
    const { jsm, js, nc } = env;
    await jsm.streams.add({
      name: 'DG',
      subjects: ['dg.*'],
      allow_direct: true,
      storage: StorageType.Memory,
    });
    const h = headers();
    h.set('X-A', '1');
    await js.publish('dg.a', enc.encode('one'), { headers: h });
    await js.publish('dg.b', enc.encode('two'));
    await js.publish('dg.a', enc.encode('three'));
    const m = await jsm.direct.getMessage('DG', { seq: 2 });
    assert.ok(m !== null);
    assert.deepEqual(
      [m.subject, m.seq, (m as unknown as { stream: string }).stream, m.string()],
      ['dg.b', 2, 'DG', 'two'],
    );
    assert.ok(!Number.isNaN(m.time.getTime()));
    const lastA = await jsm.direct.getMessage('DG', { last_by_subj: 'dg.a' });
    assert.deepEqual([lastA?.seq, lastA?.string()], [3, 'three']);
    const withHdr = await jsm.direct.getMessage('DG', { seq: 1 });
    assert.deepEqual([withHdr?.header.get('X-A'), withHdr?.header.get('Nats-Sequence')], ['1', '1']);
    assert.equal(await jsm.direct.getMessage('DG', { seq: 42 }), null);
    assert.equal(await jsm.direct.getMessage('DG', { last_by_subj: 'dg.none' }), null);
    const empty = await nc.request('$JS.API.DIRECT.GET.DG', '', { timeout: 1000 });
    assert.deepEqual([empty.headers?.code, empty.headers?.description], [408, 'Empty Request']);
    const bad = await nc.request('$JS.API.DIRECT.GET.DG', '{x', { timeout: 1000 });
    assert.deepEqual([bad.headers?.code, bad.headers?.description], [408, 'Malformed Request']);
    // Without allow_direct nobody answers; turning it on with an update starts answering.
    await jsm.streams.add({ name: 'ND', subjects: ['nd'], storage: StorageType.Memory });
    await js.publish('nd');
    await assert.rejects(nc.request('$JS.API.DIRECT.GET.ND', '{"seq":1}', { timeout: 300 }));
    await jsm.streams.update('ND', { allow_direct: true });
    assert.equal((await jsm.direct.getMessage('ND', { seq: 1 }))?.seq, 1);
    await jsm.streams.delete('DG');
    await jsm.streams.delete('ND');
  });

  test('memory and file storage both count in account info; metadata is kept', async () => {
    const { jsm, js, nc } = env;
    await jsm.streams.add({ name: 'MEM', subjects: ['mem'], storage: StorageType.Memory });
    await jsm.streams.add({ name: 'FIL', subjects: ['fil'], storage: StorageType.File });
    await js.publish('mem', new Uint8Array(1000));
    await js.publish('fil', new Uint8Array(2000));
    const ai = await jsm.getAccountInfo();
    assert.ok(ai.memory >= 1000 && ai.memory < 2000, `memory ${ai.memory}`);
    assert.ok(ai.storage >= 2000, `storage ${ai.storage}`);
    const md = await req(nc, '$JS.API.STREAM.CREATE.MD', {
      name: 'MD',
      metadata: { owner: 'team-a' },
      storage: 'memory',
    });
    assert.deepEqual((md.config as { metadata: unknown }).metadata, { owner: 'team-a' });
    for (const n of ['MEM', 'FIL', 'MD']) await jsm.streams.delete(n);
  });

  test('interest retention without consumers advances the sequence without keeping messages', async () => {
    const { jsm, js } = env;
    await jsm.streams.add({
      name: 'INT',
      subjects: ['int'],
      retention: RetentionPolicy.Interest,
      storage: StorageType.Memory,
    });
    const a = await js.publish('int');
    const b = await js.publish('int');
    assert.deepEqual([a.seq, b.seq], [1, 2]);
    const si = await jsm.streams.info('INT');
    assert.deepEqual([si.state.messages, si.state.last_seq], [0, 2]);
    await jsm.streams.delete('INT');
  });

  test('/jsz reports config, usage, totals and account details with streams', async () => {
    const { jsm, js, server } = env;
    await jsm.streams.add({ name: 'JZ', subjects: ['jz'], storage: StorageType.Memory, max_bytes: 1 << 20 });
    await js.publish('jz', enc.encode('hello'));
    const base = server.monitor!.url;
    const jz = (await (await fetch(`${base}/jsz`)).json()) as Record<string, unknown>;
    assert.equal(jz.disabled, undefined);
    assert.equal((jz.config as { store_dir: string }).store_dir, join(env.dir, 'jetstream'));
    assert.ok((jz.streams as number) >= 1 && (jz.messages as number) >= 1);
    assert.equal(jz.reserved_memory, 1 << 20);
    assert.ok((jz.api as { total: number }).total > 0);
    assert.equal(jz.account_details, undefined);
    const det = (await (await fetch(`${base}/jsz?streams=true&config=true`)).json()) as {
      account_details: {
        name: string;
        stream_detail: { name: string; config: { name: string }; state: { messages: number } }[];
      }[];
    };
    const g = det.account_details.find((a) => a.name === '$G')!;
    const jzs = g.stream_detail.find((s) => s.name === 'JZ')!;
    assert.deepEqual([jzs.config.name, jzs.state.messages], ['JZ', 1]);
    await jsm.streams.delete('JZ');
  });

  test('/varz shows the JetStream config and the stats of /jsz', async () => {
    const { jsm, js, server } = env;
    await jsm.streams.add({ name: 'VZ', subjects: ['vz'], storage: StorageType.File, max_bytes: 1 << 20 });
    await js.publish('vz', enc.encode('hello'));
    const base = server.monitor!.url;
    // No API request in between: the counters of both answers are the same.
    const jz = (await (await fetch(`${base}/jsz`)).json()) as Record<string, unknown>;
    const v = (await (await fetch(`${base}/varz`)).json()) as { jetstream: Record<string, unknown> };
    assert.deepEqual(Object.keys(v.jetstream), ['config', 'stats']);
    assert.deepEqual(v.jetstream.config, jz.config);
    assert.deepEqual(v.jetstream.config, {
      max_memory: server.jetstream!.maxMemory,
      max_storage: server.jetstream!.maxStore,
      store_dir: join(env.dir, 'jetstream'),
    });
    const stats = v.jetstream.stats as Record<string, unknown>;
    for (const k of [
      'memory',
      'storage',
      'reserved_memory',
      'reserved_storage',
      'accounts',
      'ha_assets',
      'api',
    ]) {
      assert.deepEqual(stats[k], jz[k], k);
    }
    assert.deepEqual(Object.keys(stats).sort(), [
      'accounts',
      'api',
      'ha_assets',
      'memory',
      'reserved_memory',
      'reserved_storage',
      'storage',
    ]);
    assert.ok((stats.storage as number) > 0);
    assert.ok((stats.reserved_storage as number) >= 1 << 20);
    assert.equal(stats.accounts, 1);
    assert.ok((stats.api as { total: number }).total > 0);
    await jsm.streams.delete('VZ');
  });
});

describe('JetStream persistence', () => {
  test('file streams (config, messages, dedupe state) survive a restart; memory streams do not', async () => {
    const first = await open();
    const dir = first.dir;
    await first.jsm.streams.add({
      name: 'KEEP',
      subjects: ['keep.*'],
      max_msgs_per_subject: 5,
      allow_direct: true,
    });
    await first.jsm.streams.add({ name: 'GONE', subjects: ['gone'], storage: StorageType.Memory });
    for (let i = 1; i <= 10; i++)
      await first.js.publish(`keep.${i % 2}`, enc.encode(`m${i}`), { msgID: `id${i}` });
    await first.js.publish('gone');
    await first.jsm.streams.deleteMessage('KEEP', 3);
    const before = await first.jsm.streams.info('KEEP');
    await close(first, true);

    const second = await open({}, dir);
    try {
      const after = await second.jsm.streams.info('KEEP');
      assert.deepEqual(after.config, before.config);
      assert.equal(after.created, before.created);
      assert.deepEqual(
        [after.state.messages, after.state.first_seq, after.state.last_seq, after.state.num_deleted],
        [9, 1, 10, 1],
      );
      const m = await second.jsm.streams.getMessage('KEEP', { seq: 10 });
      assert.deepEqual([m?.subject, m?.string()], ['keep.0', 'm10']);
      // Deduplication remembers ids stored before the restart.
      const dup = await second.js.publish('keep.1', enc.encode('again'), { msgID: 'id9' });
      assert.deepEqual([dup.duplicate, dup.seq], [true, 9]);
      const next = await second.js.publish('keep.1', enc.encode('new'));
      assert.equal(next.seq, 11);
      assert.equal((await second.jsm.direct.getMessage('KEEP', { last_by_subj: 'keep.1' }))?.string(), 'new');
      assert.equal(await apiCode(second.jsm.streams.info('GONE')), 10059);
    } finally {
      await close(second);
    }
  });

  test('a deleted file stream leaves nothing behind and stays deleted after a restart', async () => {
    const first = await open();
    await first.jsm.streams.add({ name: 'TMP', subjects: ['tmp'] });
    await first.js.publish('tmp');
    await first.jsm.streams.delete('TMP');
    await close(first, true);
    const second = await open({}, first.dir);
    try {
      assert.equal(await apiCode(second.jsm.streams.info('TMP')), 10059);
    } finally {
      await close(second);
    }
  });
});

describe('the tsnats command', () => {
  test('-js -sd DIR serves JetStream and keeps data in DIR/jetstream/<account>/streams/<name>', async () => {
    const srv = await launch({ jetstream: true });
    const dir = srv.storeDir!;
    try {
      const port = srv.port;
      const nc = await connect({ servers: `127.0.0.1:${port}`, reconnect: false });
      try {
        assert.equal(nc.info?.jetstream, true);
        const jsm = await jetstreamManager(nc);
        await jsm.streams.add({ name: 'CLI', subjects: ['cli'] });
        await jetstream(nc).publish('cli', enc.encode('x'));
        assert.ok(existsSync(join(dir, 'jetstream', '$G', 'streams', 'CLI', 'meta.inf')));
      } finally {
        await nc.close();
      }
    } finally {
      await srv.stop();
    }
  });
});

describe('JetStream compared with nats-server -js', {
  skip: !hasReference() && 'nats-server not on PATH',
}, () => {
  /** Requests whose answers must have the same keys (recursively) and the same error codes. */
  const REQUESTS: { subject: string; body?: unknown; hdrs?: Record<string, string> }[] = [
    { subject: '$JS.API.INFO' },
    { subject: '$JS.API.STREAM.CREATE.C', body: { name: 'C', subjects: ['c.>'], allow_direct: true } },
    { subject: '$JS.API.STREAM.CREATE.C', body: { name: 'C', subjects: ['c.>'], max_msgs: 1 } },
    { subject: '$JS.API.STREAM.CREATE.D', body: { name: 'D', subjects: ['c.x'] } },
    { subject: '$JS.API.STREAM.CREATE.E', body: '{' },
    { subject: '$JS.API.STREAM.CREATE.E', body: { name: 'E', duplicate_window: -5 } },
    { subject: 'c.a', body: 'one', hdrs: { 'Nats-Msg-Id': 'x' } },
    { subject: 'c.a', body: 'two', hdrs: { 'Nats-Msg-Id': 'x' } },
    { subject: 'c.b', body: 'three', hdrs: { 'Nats-Expected-Last-Sequence': '5' } },
    { subject: 'c.b', body: 'four', hdrs: { 'Nats-Rollup': 'sub' } },
    { subject: '$JS.API.STREAM.INFO.C', body: { subjects_filter: '>', deleted_details: true } },
    { subject: '$JS.API.STREAM.INFO.NOPE' },
    { subject: '$JS.API.STREAM.UPDATE.C', body: { name: 'C', subjects: ['c.>'], storage: 'memory' } },
    { subject: '$JS.API.STREAM.UPDATE.C', body: { name: 'C', subjects: ['c.>', 'd.>'], allow_direct: true } },
    { subject: '$JS.API.STREAM.NAMES', body: { subject: 'c.>' } },
    { subject: '$JS.API.STREAM.LIST' },
    { subject: '$JS.API.STREAM.MSG.GET.C', body: { last_by_subj: 'c.a' } },
    { subject: '$JS.API.STREAM.MSG.GET.C', body: { seq: 99 } },
    { subject: '$JS.API.STREAM.MSG.DELETE.C', body: { seq: 1 } },
    { subject: '$JS.API.STREAM.MSG.DELETE.C', body: { seq: 1 } },
    { subject: '$JS.API.STREAM.PURGE.C', body: { filter: 'c.a' } },
    { subject: '$JS.API.STREAM.PURGE.C', body: { seq: 2, keep: 1 } },
    { subject: '$JS.API.STREAM.DELETE.C', body: { x: 1 } },
    { subject: '$JS.API.STREAM.DELETE.C' },
  ];

  /** Keys of a JSON value, recursively, as sorted dotted paths (values left out). */
  function shape(v: unknown, path = ''): string[] {
    if (v === null || typeof v !== 'object') return [path];
    if (Array.isArray(v)) return v.length === 0 ? [`${path}[]`] : shape(v[0], `${path}[]`);
    const out: string[] = [];
    for (const [k, x] of Object.entries(v)) {
      // Subject names and metadata keys are data, not shape.
      out.push(...(k.includes('.') ? [`${path}.*`] : shape(x, `${path}.${k}`)));
    }
    return out.sort();
  }

  async function run(port: number): Promise<{ shape: string[]; code: unknown }[]> {
    const nc = await connect({ servers: `127.0.0.1:${port}`, reconnect: false });
    const out: { shape: string[]; code: unknown }[] = [];
    try {
      for (const r of REQUESTS) {
        const h = headers();
        for (const [k, v] of Object.entries(r.hdrs ?? {})) h.set(k, v);
        const data = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
        const m = await nc.request(r.subject, data, { timeout: 2000, headers: r.hdrs ? h : undefined });
        const j = JSON.parse(dec.decode(m.data)) as Record<string, unknown>;
        out.push({ shape: shape(j), code: (j.error as { err_code?: number } | undefined)?.err_code });
      }
    } finally {
      await nc.close();
    }
    return out;
  }

  /** Keys nats-server 2.10 always writes and tsnats serves with them, which the 2.9.10 reference lacks. */
  const V210_KEYS = new Set(['.config.compression', '.streams[].config.compression']);

  test('same keys and error codes for the stream API and publish acks', async () => {
    const [a, b] = await runOnBoth(run);
    for (let i = 0; i < REQUESTS.length; i++) {
      const ours = { ...b[i]!, shape: b[i]!.shape.filter((k) => !V210_KEYS.has(k)) };
      assert.deepEqual(ours, a[i], `${REQUESTS[i]!.subject} ${JSON.stringify(REQUESTS[i]!.body ?? '')}`);
    }
  });
});
