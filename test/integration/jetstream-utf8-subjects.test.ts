/**
 * Subjects with non-ASCII characters in JetStream. On the wire a subject is bytes (UTF-8 from every client);
 * in the JSON of the API it is text. A stream on `ü.>` must store what is published on `ü.a`, and every place
 * where the two meet must agree: the stream's subscription, consumer filters, subject state, message gets,
 * direct gets, purges with a filter, and the subjects of delivered messages. Each scenario runs against the
 * reference nats-server (when installed) and tsnats, and the answers must be the same.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AckPolicy, jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { closeJetStream, jsonRequest, openJetStream, runOnBoth } from '../helpers/jetstream.js';
import { hasReference } from '../helpers/reference.js';

const dec = new TextDecoder();

/** Everything the scenario observes, to compare between the servers. */
interface Observed {
  seqs: number[];
  subjects: Record<string, unknown>;
  lastBySubject: { subject: unknown; data: string };
  fetched: { subject: string; data: string }[];
  pendingForFilter: unknown;
  direct: { subject: string | undefined; data: string };
  purged: unknown;
  core: string[];
}

async function scenario(port: number, storage: StorageType): Promise<Observed> {
  const nc = await connect({ port, reconnect: false });
  try {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'S', subjects: ['ü.>', 'größe', 'plain.*'], storage, allow_direct: true });
    const core: string[] = [];
    const sub = nc.subscribe('ü.>', {
      callback: (_e, m) => {
        core.push(`${m.subject}=${dec.decode(m.data)}`);
      },
    });
    const seqs: number[] = [];
    for (const [subject, data] of [
      ['ü.a', 'one'],
      ['größe', 'two'],
      ['ü.b', 'three'],
      ['plain.x', 'four'],
      ['ü.a', 'five'],
    ] as const) {
      seqs.push((await js.publish(subject, data)).seq);
    }
    await nc.flush();
    sub.unsubscribe();

    const info = await jsonRequest(nc, '$JS.API.STREAM.INFO.S', { subjects_filter: '>' });
    const state = info.state as Record<string, unknown>;
    const subjects = (state.subjects ?? {}) as Record<string, unknown>;

    const got = await jsonRequest(nc, '$JS.API.STREAM.MSG.GET.S', { last_by_subj: 'ü.a' });
    const msg = (got.message ?? {}) as Record<string, unknown>;
    const lastBySubject = {
      subject: msg.subject,
      data: typeof msg.data === 'string' ? Buffer.from(msg.data, 'base64').toString('utf8') : '',
    };

    await jsm.consumers.add('S', {
      durable_name: 'C',
      filter_subject: 'ü.b',
      ack_policy: AckPolicy.Explicit,
    });
    const ci = await jsm.consumers.info('S', 'C');
    const c = await js.consumers.get('S', 'C');
    const fetched: { subject: string; data: string }[] = [];
    for await (const m of await c.fetch({ max_messages: 10, expires: 1000 })) {
      fetched.push({ subject: m.subject, data: dec.decode(m.data) });
      m.ack();
      if (fetched.length === 1) break;
    }

    const d = await nc.request('$JS.API.DIRECT.GET.S.ü.a', '', { timeout: 2000 });
    const direct = { subject: d.headers?.get('Nats-Subject'), data: dec.decode(d.data) };

    const purge = await jsonRequest(nc, '$JS.API.STREAM.PURGE.S', { filter: 'größe' });
    return {
      seqs,
      subjects,
      lastBySubject,
      fetched,
      pendingForFilter: ci.num_pending,
      direct,
      purged: purge.purged,
      core,
    };
  } finally {
    await nc.close();
  }
}

const expected: Observed = {
  seqs: [1, 2, 3, 4, 5],
  subjects: { 'ü.a': 2, größe: 1, 'ü.b': 1, 'plain.x': 1 },
  lastBySubject: { subject: 'ü.a', data: 'five' },
  fetched: [{ subject: 'ü.b', data: 'three' }],
  pendingForFilter: 1,
  direct: { subject: 'ü.a', data: 'five' },
  purged: 1,
  core: ['ü.a=one', 'ü.b=three', 'ü.a=five'],
};

/** A stream and consumers whose names and deliver subject are not ASCII: acks, advisories, push delivery. */
async function namesScenario(port: number): Promise<unknown[]> {
  const nc = await connect({ port, reconnect: false });
  try {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    const advisories: string[] = [];
    const adv = nc.subscribe('$JS.EVENT.ADVISORY.STREAM.CREATED.>', {
      callback: (_e, m) => {
        advisories.push(m.subject);
      },
    });
    await nc.flush();
    await jsm.streams.add({ name: 'strömung', subjects: ['ü.>'], storage: StorageType.Memory });
    const out: unknown[] = [(await js.publish('ü.a', 'x')).seq];
    await jsm.consumers.add('strömung', { durable_name: 'verbraucher-ü', ack_policy: AckPolicy.Explicit });
    const c = await js.consumers.get('strömung', 'verbraucher-ü');
    const m = await c.next({ expires: 2000 });
    // The delivery's ack subject, as the client reads it.
    out.push(m?.subject, [m?.info.stream, m?.info.consumer, m?.info.streamSequence], await m?.ackAck());
    const ci = await jsm.consumers.info('strömung', 'verbraucher-ü');
    out.push(ci.ack_floor.stream_seq, ci.num_ack_pending);
    const pushed: string[] = [];
    let gotOne: () => void = () => {};
    const arrived = new Promise<void>((resolve) => {
      gotOne = resolve;
    });
    const sub = nc.subscribe('zustellung.ü', {
      callback: (_e, pm) => {
        pushed.push(pm.subject);
        gotOne();
      },
    });
    await jsm.consumers.add('strömung', { durable_name: 'push-ü', deliver_subject: 'zustellung.ü' });
    await arrived;
    sub.unsubscribe();
    adv.unsubscribe();
    out.push(pushed, advisories);
    return out;
  } finally {
    await nc.close();
  }
}

describe('JetStream: subjects with non-ASCII characters', () => {
  test('streams and consumers with such names: acks, advisories and push delivery as nats-server', async () => {
    const expectedNames = [
      1,
      'ü.a',
      ['strömung', 'verbraucher-ü', 1],
      true,
      1,
      0,
      ['ü.a'],
      ['$JS.EVENT.ADVISORY.STREAM.CREATED.strömung'],
    ];
    if (hasReference()) {
      const [ref, ours] = await runOnBoth(namesScenario);
      assert.deepEqual(ref, expectedNames, 'the reference behaves as expected');
      assert.deepEqual(ours, ref);
    } else {
      const env = await openJetStream();
      try {
        assert.deepEqual(await namesScenario(env.server.port), expectedNames);
      } finally {
        await closeJetStream(env);
      }
    }
  });

  for (const storage of [StorageType.Memory, StorageType.File]) {
    test(`a ${storage} stream stores, filters, gets and purges them as nats-server does`, async () => {
      if (hasReference()) {
        const [ref, ours] = await runOnBoth((port) => scenario(port, storage));
        assert.deepEqual(ref, expected, 'the reference behaves as expected');
        assert.deepEqual(ours, ref);
      } else {
        const env = await openJetStream();
        try {
          assert.deepEqual(await scenario(env.server.port, storage), expected);
        } finally {
          await closeJetStream(env);
        }
      }
    });
  }

  test('a file stream keeps them across a restart', async () => {
    let env = await openJetStream();
    try {
      const js = jetstream(env.nc);
      await env.jsm.streams.add({ name: 'R', subjects: ['ü.>'], storage: StorageType.File });
      await js.publish('ü.x', 'kept');
      await closeJetStream(env, true);
      env = await openJetStream({}, env.dir);
      const info = await jsonRequest(env.nc, '$JS.API.STREAM.INFO.R', { subjects_filter: 'ü.>' });
      assert.deepEqual((info.state as Record<string, unknown>).subjects, { 'ü.x': 1 });
      const m = await env.jsm.streams.getMessage('R', { last_by_subj: 'ü.x' });
      assert.equal(m?.subject, 'ü.x');
      assert.equal(m?.string(), 'kept');
      assert.equal((await jetstream(env.nc).publish('ü.y', 'after')).seq, 2);
    } finally {
      await closeJetStream(env);
    }
  });
});
