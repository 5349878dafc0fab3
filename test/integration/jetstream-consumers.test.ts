/**
 * JetStream consumers end to end with the unchanged @nats-io/jetstream v3 client (and raw requests where
 * the exact JSON or status message matters): the consumer API and its errors, deliver / ack / replay
 * policies, pull requests and their status messages, push consumers (interest, queue groups, flow control,
 * heartbeats, ordered consumers), redelivery timing, retention interplay, consumer info, /jsz, and a
 * comparison with the reference nats-server for a handful of responses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  type JetStreamClient,
  type JsMsg,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import {
  connect,
  createInbox,
  type Msg,
  type NatsConnection,
  nanos,
  type Subscription,
} from '@nats-io/transport-node';
import type { ServerConfig } from '../../src/index.js';
import { JSErrors } from '../../src/jetstream/api/errors.generated.js';
import { goDurationString } from '../../src/jetstream/consumer/config.js';
import { parseNextRequest } from '../../src/jetstream/consumer/consumer.js';
import { decodeState, encodeState } from '../../src/jetstream/consumer/store.js';
import { jsz } from '../../src/monitor/jsz.js';
import { closeJetStream, type JsEnv, jsonRequest, openJetStream, runOnBoth } from '../helpers/jetstream.js';
import { hasReference } from '../helpers/reference.js';
import { waitFor } from '../helpers/wait-for.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

type Env = JsEnv;
const open = (config: ServerConfig = {}): Promise<Env> => openJetStream(config);
const close = (env: Env): Promise<void> => closeJetStream(env);
const req = jsonRequest;

function errCode(r: Record<string, unknown>): number | undefined {
  return (r.error as { err_code?: number } | undefined)?.err_code;
}

/** The err_code of a rejected client call. */
async function apiCode(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof JetStreamApiError, `expected a JetStreamApiError, got ${String(e)}`);
    return e.code;
  }
  assert.fail('expected the call to fail');
}

/** Messages of a subscription, collected as they come. */
class Collector {
  readonly msgs: Msg[] = [];
  private wake: (() => void) | undefined;
  constructor(readonly sub: Subscription) {
    void (async () => {
      for await (const m of sub) {
        this.msgs.push(m);
        this.wake?.();
      }
    })();
  }

  /** Wait until at least `n` messages arrived. */
  async wait(n: number, timeoutMs = 3000): Promise<Msg[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.msgs.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`got ${this.msgs.length} of ${n} messages`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
    return this.msgs;
  }
}

function status(m: Msg): string {
  return m.headers === undefined || m.headers.code === 0 ? '' : `${m.headers.code} ${m.headers.description}`;
}

/** Send a raw pull request; its replies are collected on a fresh inbox. */
function pull(nc: NatsConnection, stream: string, consumer: string, body: unknown): Collector {
  const inbox = createInbox();
  const c = new Collector(nc.subscribe(inbox));
  nc.publish(
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`,
    typeof body === 'string' ? body : JSON.stringify(body),
    {
      reply: inbox,
    },
  );
  return c;
}

async function publishN(js: JetStreamClient, subject: string, n: number, prefix = 'm'): Promise<void> {
  for (let i = 1; i <= n; i++) await js.publish(subject, enc.encode(`${prefix}${i}`));
}

async function fetchAll(js: JetStreamClient, stream: string, consumer: string, max: number, expires = 1000) {
  const c = await js.consumers.get(stream, consumer);
  const out: JsMsg[] = [];
  for await (const m of await c.fetch({ max_messages: max, expires })) out.push(m);
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('JetStream consumers: API', () => {
  let env: Env;
  before(async () => {
    env = await open({ httpPort: -1 });
    await env.jsm.streams.add({ name: 'API', subjects: ['api.>'] });
    await publishN(env.js, 'api.a', 3);
  });
  after(async () => {
    await close(env);
  });

  test('create: defaults, names and config echo as nats-server 2.9', async () => {
    const nc = env.nc;
    const eph = await req(nc, '$JS.API.CONSUMER.CREATE.API', {
      stream_name: 'API',
      config: { ack_policy: 'explicit' },
    });
    assert.equal(eph.type, 'io.nats.jetstream.api.v1.consumer_create_response');
    assert.match(eph.name as string, /^[0-9A-Za-z]{8}$/);
    assert.deepEqual(eph.config, {
      deliver_policy: 'all',
      ack_policy: 'explicit',
      ack_wait: 30e9,
      max_deliver: -1,
      replay_policy: 'instant',
      max_waiting: 512,
      max_ack_pending: 1000,
      inactive_threshold: 5e9,
      num_replicas: 0,
    });
    assert.deepEqual(eph.delivered, { consumer_seq: 0, stream_seq: 0 });
    assert.equal(eph.num_pending, 3);
    assert.deepEqual(Object.keys(eph), [
      'type',
      'stream_name',
      'name',
      'created',
      'config',
      'delivered',
      'ack_floor',
      'num_ack_pending',
      'num_redelivered',
      'num_waiting',
      'num_pending',
    ]);

    const named = await req(nc, '$JS.API.CONSUMER.CREATE.API.D1', {
      stream_name: 'API',
      config: { durable_name: 'D1', ack_policy: 'explicit' },
    });
    assert.equal((named.config as Record<string, unknown>).name, 'D1');
    assert.equal((named.config as Record<string, unknown>).durable_name, 'D1');
    assert.equal((named.config as Record<string, unknown>).inactive_threshold, undefined);

    const legacy = await req(nc, '$JS.API.CONSUMER.DURABLE.CREATE.API.D2', {
      stream_name: 'API',
      config: {
        durable_name: 'D2',
        ack_policy: 'all',
        deliver_subject: 'd2.deliver',
        filter_subject: 'api.a',
      },
    });
    assert.deepEqual(legacy.config, {
      durable_name: 'D2',
      deliver_policy: 'all',
      ack_policy: 'all',
      ack_wait: 30e9,
      max_deliver: -1,
      filter_subject: 'api.a',
      replay_policy: 'instant',
      max_ack_pending: 1000,
      deliver_subject: 'd2.deliver',
      num_replicas: 0,
    });

    const filtered = await req(nc, '$JS.API.CONSUMER.CREATE.API.D3.api.b', {
      stream_name: 'API',
      config: { durable_name: 'D3', filter_subject: 'api.b', backoff: [1e9, 2e9], max_deliver: 5 },
    });
    // nats-server: backoff sets ack_wait (its first step) whatever the ack policy.
    assert.equal((filtered.config as Record<string, unknown>).ack_wait, 1e9);
    assert.equal(filtered.num_pending, 0);

    // Same config again: the existing consumer.
    const again = await req(nc, '$JS.API.CONSUMER.CREATE.API.D1', {
      stream_name: 'API',
      config: { durable_name: 'D1', ack_policy: 'explicit' },
    });
    assert.equal(again.created, named.created);
    // An allowed change (max_ack_pending) is applied.
    const upd = await req(nc, '$JS.API.CONSUMER.CREATE.API.D1', {
      stream_name: 'API',
      config: { durable_name: 'D1', ack_policy: 'explicit', max_ack_pending: 5 },
    });
    assert.equal((upd.config as Record<string, unknown>).max_ack_pending, 5);
    await env.jsm.consumers.delete('API', eph.name as string);
    await env.jsm.consumers.delete('API', 'D3');
  });

  test('create: nats-server error codes', async () => {
    const nc = env.nc;
    const create = (subject: string, body: unknown) => req(nc, subject, body).then(errCode);
    const E = JSErrors;
    assert.equal(await create('$JS.API.CONSUMER.CREATE.API', '{'), E.JSInvalidJSONErr.err_code);
    assert.equal(
      await create('$JS.API.CONSUMER.CREATE.API', { stream_name: 'X', config: {} }),
      E.JSStreamMismatchErr.err_code,
    );
    assert.equal(
      await create('$JS.API.CONSUMER.CREATE.NOPE', { stream_name: 'NOPE', config: {} }),
      E.JSStreamNotFoundErr.err_code,
    );
    assert.equal(
      await create('$JS.API.CONSUMER.CREATE.API', { stream_name: 'API', config: { durable_name: 'X' } }),
      E.JSConsumerEphemeralWithDurableNameErr.err_code,
    );
    assert.equal(
      await create('$JS.API.CONSUMER.DURABLE.CREATE.API.X', { stream_name: 'API', config: {} }),
      E.JSConsumerDurableNameNotSetErr.err_code,
    );
    assert.equal(
      await create('$JS.API.CONSUMER.CREATE.API.X', { stream_name: 'API', config: { durable_name: 'Y' } }),
      E.JSConsumerDurableNameNotMatchSubjectErr.err_code,
    );
    assert.equal(
      await create('$JS.API.CONSUMER.CREATE.API.X.api.z', {
        stream_name: 'API',
        config: { filter_subject: 'api.y' },
      }),
      E.JSConsumerCreateFilterSubjectMismatchErr.err_code,
    );
    const bad: [unknown, number][] = [
      [{ deliver_policy: 'last', opt_start_seq: 3 }, E.JSConsumerInvalidPolicyErrF.err_code],
      [{ deliver_policy: 'by_start_sequence' }, E.JSConsumerInvalidPolicyErrF.err_code],
      [{ deliver_policy: 'by_start_time' }, E.JSConsumerInvalidPolicyErrF.err_code],
      [{ deliver_policy: 'last_per_subject' }, E.JSConsumerInvalidPolicyErrF.err_code],
      [{ deliver_subject: 'x', max_waiting: 1 }, E.JSConsumerPushMaxWaitingErr.err_code],
      [{ deliver_subject: 'x.*' }, E.JSConsumerDeliverToWildcardsErr.err_code],
      [{ deliver_subject: 'api.x' }, E.JSConsumerDeliverCycleErr.err_code],
      [{ deliver_subject: 'x', flow_control: true }, E.JSConsumerWithFlowControlNeedsHeartbeats.err_code],
      [{ deliver_subject: 'x', idle_heartbeat: 1e6 }, E.JSConsumerSmallHeartbeatErr.err_code],
      [{ deliver_subject: 'x', max_ack_pending: 5 }, E.JSConsumerMaxPendingAckPolicyRequiredErr.err_code],
      [{ idle_heartbeat: 1e9 }, E.JSConsumerHBRequiresPushErr.err_code],
      [{ flow_control: true }, E.JSConsumerFCRequiresPushErr.err_code],
      [{ max_waiting: -1 }, E.JSConsumerMaxWaitingNegativeErr.err_code],
      // nats-server 2.10 checks that a filter is a valid subject, no longer that the stream has it (10093).
      [{ filter_subject: 'api..x' }, E.JSStreamInvalidConfigF.err_code],
      [{ backoff: [1e9, 2e9], max_deliver: 2 }, E.JSConsumerMaxDeliverBackoffErr.err_code],
      [{ num_replicas: 3 }, E.JSStreamReplicasNotSupportedErr.err_code],
      [{ ack_policy: 'sometimes' }, E.JSInvalidJSONErr.err_code],
    ];
    for (const [config, code] of bad) {
      assert.equal(
        await create('$JS.API.CONSUMER.CREATE.API', { stream_name: 'API', config }),
        code,
        JSON.stringify(config),
      );
    }
    // Changing what may not change: 10012 with nats-server's text.
    const r = await req(nc, '$JS.API.CONSUMER.CREATE.API.D1', {
      stream_name: 'API',
      config: { durable_name: 'D1', ack_policy: 'none' },
    });
    assert.deepEqual(r.error, { code: 500, err_code: 10012, description: 'ack policy can not be updated' });
  });

  test('info, names, list (paged) and delete', async () => {
    const nc = env.nc;
    for (const n of ['P1', 'P2', 'P3'])
      await env.jsm.consumers.add('API', { durable_name: n, ack_policy: AckPolicy.None });
    const names = await req(nc, '$JS.API.CONSUMER.NAMES.API');
    assert.equal(names.type, 'io.nats.jetstream.api.v1.consumer_names_response');
    assert.deepEqual(names.consumers, ['D1', 'D2', 'P1', 'P2', 'P3']);
    assert.equal(names.limit, 1024);
    const list = await req(nc, '$JS.API.CONSUMER.LIST.API', { offset: 3 });
    assert.equal(list.total, 5);
    assert.equal(list.offset, 3);
    assert.equal(list.limit, 256);
    assert.deepEqual(
      (list.consumers as { name: string }[]).map((c) => c.name),
      ['P2', 'P3'],
    );
    const viaClient: string[] = [];
    for await (const ci of env.jsm.consumers.list('API')) viaClient.push(ci.name);
    assert.deepEqual(viaClient, ['D1', 'D2', 'P1', 'P2', 'P3']);

    assert.equal(
      errCode(await req(nc, '$JS.API.CONSUMER.INFO.API.NOPE')),
      JSErrors.JSConsumerNotFoundErr.err_code,
    );
    assert.equal(
      errCode(await req(nc, '$JS.API.CONSUMER.INFO.NOPE.P1')),
      JSErrors.JSStreamNotFoundErr.err_code,
    );
    assert.equal(
      errCode(await req(nc, '$JS.API.CONSUMER.INFO.API.P1', { x: 1 })),
      JSErrors.JSNotEmptyRequestErr.err_code,
    );
    assert.equal(
      errCode(await req(nc, '$JS.API.CONSUMER.NAMES.NOPE')),
      JSErrors.JSStreamNotFoundErr.err_code,
    );
    assert.deepEqual(await req(nc, '$JS.API.CONSUMER.DELETE.API.P1'), {
      type: 'io.nats.jetstream.api.v1.consumer_delete_response',
      success: true,
    });
    assert.equal(
      errCode(await req(nc, '$JS.API.CONSUMER.DELETE.API.P1')),
      JSErrors.JSConsumerNotFoundErr.err_code,
    );
    await env.jsm.consumers.delete('API', 'P2');
    await env.jsm.consumers.delete('API', 'P3');
    const si = await env.jsm.streams.info('API');
    assert.equal(si.state.consumer_count, 2);
    assert.equal((await env.jsm.getAccountInfo()).consumers, 2);
    assert.equal(
      errCode(await req(nc, '$JS.API.CONSUMER.LEADER.STEPDOWN.API.D1')),
      JSErrors.JSClusterRequiredErr.err_code,
    );
  });

  test('max_consumers and work-queue rules', async () => {
    await env.jsm.streams.add({ name: 'MAXC', subjects: ['maxc'], max_consumers: 1 });
    await env.jsm.consumers.add('MAXC', { durable_name: 'A', ack_policy: AckPolicy.Explicit });
    assert.equal(
      await apiCode(env.jsm.consumers.add('MAXC', { durable_name: 'B', ack_policy: AckPolicy.Explicit })),
      JSErrors.JSMaximumConsumersLimitErr.err_code,
    );
    await env.jsm.streams.add({ name: 'WQ', subjects: ['wq.>'], retention: RetentionPolicy.Workqueue });
    const add = (cfg: Record<string, unknown>) => apiCode(env.jsm.consumers.add('WQ', cfg));
    assert.equal(
      await add({ durable_name: 'N', ack_policy: AckPolicy.None }),
      JSErrors.JSConsumerPullRequiresAckErr.err_code,
    );
    assert.equal(
      await add({ durable_name: 'N', ack_policy: AckPolicy.All }),
      JSErrors.JSConsumerWQRequiresExplicitAckErr.err_code,
    );
    await env.jsm.consumers.add('WQ', {
      durable_name: 'A',
      ack_policy: AckPolicy.Explicit,
      filter_subject: 'wq.a',
    });
    assert.equal(
      await add({ durable_name: 'B', ack_policy: AckPolicy.Explicit }),
      JSErrors.JSConsumerWQMultipleUnfilteredErr.err_code,
    );
    assert.equal(
      await add({ durable_name: 'C', ack_policy: AckPolicy.Explicit, filter_subject: 'wq.*' }),
      JSErrors.JSConsumerWQConsumerNotUniqueErr.err_code,
    );
    assert.equal(
      await add({
        durable_name: 'D',
        ack_policy: AckPolicy.Explicit,
        filter_subject: 'wq.d',
        deliver_policy: DeliverPolicy.Last,
      }),
      JSErrors.JSConsumerWQConsumerNotDeliverAllErr.err_code,
    );
    await env.jsm.consumers.add('WQ', {
      durable_name: 'E',
      ack_policy: AckPolicy.Explicit,
      filter_subject: 'wq.e',
    });
    await env.jsm.streams.delete('MAXC');
    await env.jsm.streams.delete('WQ');
  });

  test('/jsz?consumers=true lists consumer details', async () => {
    const j = jsz(env.server, { consumers: true, config: true });
    assert.ok(j.consumers >= 2);
    const sd = j.account_details?.[0]?.stream_detail?.find((s) => s.name === 'API');
    const names = (sd?.consumer_detail ?? []).map((c) => c.name);
    assert.deepEqual(names, ['D1', 'D2']);
    assert.ok(sd?.consumer_detail?.[0]?.config !== undefined);
    const noCfg = jsz(env.server, { consumers: true });
    const sd2 = noCfg.account_details?.[0]?.stream_detail?.find((s) => s.name === 'API');
    assert.equal(sd2?.consumer_detail?.[0]?.config, undefined);
  });
});

describe('JetStream consumers: delivery', () => {
  let env: Env;
  before(async () => {
    env = await open();
  });
  after(async () => {
    await close(env);
  });

  test('deliver policies and filter_subject', async () => {
    const { jsm, js } = env;
    await jsm.streams.add({ name: 'DP', subjects: ['dp.>'] });
    await js.publish('dp.a', 'a1');
    await js.publish('dp.b', 'b1');
    await js.publish('dp.a', 'a2');
    await sleep(20);
    const mid = new Date();
    await sleep(20);
    await js.publish('dp.b', 'b2');
    await js.publish('dp.c', 'c1');
    const cases: [string, Record<string, unknown>, string[]][] = [
      ['all', {}, ['a1', 'b1', 'a2', 'b2', 'c1']],
      ['last', { deliver_policy: DeliverPolicy.Last }, ['c1']],
      ['last-filtered', { deliver_policy: DeliverPolicy.Last, filter_subject: 'dp.a' }, ['a2']],
      ['new', { deliver_policy: DeliverPolicy.New }, []],
      ['seq', { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 3 }, ['a2', 'b2', 'c1']],
      ['time', { deliver_policy: DeliverPolicy.StartTime, opt_start_time: mid.toISOString() }, ['b2', 'c1']],
      [
        'last-per-subject',
        { deliver_policy: DeliverPolicy.LastPerSubject, filter_subject: 'dp.>' },
        ['a2', 'b2', 'c1'],
      ],
      ['filter-wildcard', { filter_subject: 'dp.b' }, ['b1', 'b2']],
    ];
    for (const [name, cfg, want] of cases) {
      const ci = await jsm.consumers.add('DP', {
        durable_name: name,
        ack_policy: AckPolicy.Explicit,
        ...cfg,
      });
      assert.equal(ci.num_pending, want.length, `${name}: num_pending`);
      const got =
        want.length === 0 ? [] : (await fetchAll(js, 'DP', name, want.length)).map((m) => m.string());
      assert.deepEqual(got, want, name);
    }
    // "new" gets what comes after it was created.
    const c = await js.consumers.get('DP', 'new');
    await js.publish('dp.d', 'd1');
    const m = await c.next({ expires: 1000 });
    assert.equal(m?.string(), 'd1');
    await jsm.streams.delete('DP');
  });

  test('replay_policy original keeps the original timing; instant does not', async () => {
    const { jsm, js, nc } = env;
    await jsm.streams.add({ name: 'RP', subjects: ['rp'] });
    for (let i = 0; i < 3; i++) {
      await js.publish('rp', `r${i}`);
      if (i < 2) await sleep(150);
    }
    const times = async (policy: ReplayPolicy): Promise<number[]> => {
      const inbox = createInbox();
      const col = new Collector(nc.subscribe(inbox));
      await jsm.consumers.add('RP', {
        deliver_subject: inbox,
        ack_policy: AckPolicy.None,
        replay_policy: policy,
      });
      const at: number[] = [];
      const start = Date.now();
      for (let i = 1; i <= 3; i++) {
        await col.wait(i);
        at.push(Date.now() - start);
      }
      col.sub.unsubscribe();
      return at;
    };
    const original = await times(ReplayPolicy.Original);
    assert.ok(original[1]! - original[0]! >= 110, `spacing ${original}`);
    assert.ok(original[2]! - original[1]! >= 110, `spacing ${original}`);
    const instant = await times(ReplayPolicy.Instant);
    assert.ok(instant[2]! < 200, `instant ${instant}`);
    await jsm.streams.delete('RP');
  });

  test('ack policies none / all / explicit and the ack floor', async () => {
    const { jsm, js } = env;
    await jsm.streams.add({ name: 'AP', subjects: ['ap'] });
    await publishN(js, 'ap', 4);
    await jsm.consumers.add('AP', { durable_name: 'none', ack_policy: AckPolicy.None });
    const none = await fetchAll(js, 'AP', 'none', 4);
    assert.equal(none.length, 4);
    let ci = await jsm.consumers.info('AP', 'none');
    assert.deepEqual([ci.ack_floor.consumer_seq, ci.ack_floor.stream_seq, ci.num_ack_pending], [4, 4, 0]);

    await jsm.consumers.add('AP', { durable_name: 'all', ack_policy: AckPolicy.All });
    const all = await fetchAll(js, 'AP', 'all', 4);
    await all[2]!.ackAck();
    ci = await jsm.consumers.info('AP', 'all');
    assert.deepEqual([ci.ack_floor.consumer_seq, ci.ack_floor.stream_seq, ci.num_ack_pending], [3, 3, 1]);

    await jsm.consumers.add('AP', { durable_name: 'explicit', ack_policy: AckPolicy.Explicit });
    const ex = await fetchAll(js, 'AP', 'explicit', 4);
    await ex[1]!.ackAck();
    ci = await jsm.consumers.info('AP', 'explicit');
    assert.deepEqual([ci.ack_floor.stream_seq, ci.num_ack_pending], [0, 3], 'floor stays below the gap');
    await ex[0]!.ackAck();
    ci = await jsm.consumers.info('AP', 'explicit');
    assert.deepEqual([ci.ack_floor.consumer_seq, ci.ack_floor.stream_seq, ci.num_ack_pending], [2, 2, 2]);
    // An empty payload acknowledges too (nats-server: nil or no payload is +ACK).
    env.nc.publish((ex[2] as unknown as { reply: string }).reply, new Uint8Array(0));
    await ex[3]!.ackAck();
    ci = await jsm.consumers.info('AP', 'explicit');
    assert.deepEqual([ci.ack_floor.consumer_seq, ci.ack_floor.stream_seq, ci.num_ack_pending], [4, 4, 0]);
    assert.ok(ci.ack_floor.last_active !== undefined && ci.delivered.last_active !== undefined);
    await jsm.streams.delete('AP');
  });

  test('-NAK redelivers (with and without delay), +WPI extends, +TERM stops, +NXT asks for more', async () => {
    const { jsm, js, nc } = env;
    await jsm.streams.add({ name: 'NK', subjects: ['nk.*'] });
    await js.publish('nk.a', 'a1');
    await publishN(js, 'nk.b', 3);
    await jsm.consumers.add('NK', {
      durable_name: 'nak',
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(5000),
      filter_subject: 'nk.a',
    });
    const c = await js.consumers.get('NK', 'nak');
    const m1 = (await c.next({ expires: 1000 }))!;
    assert.equal(m1.info.deliveryCount, 1);
    m1.nak();
    const again = (await c.next({ expires: 1000 }))!;
    assert.equal(again.seq, 1);
    assert.equal(again.redelivered, true);
    assert.equal(again.info.deliveryCount, 2);
    assert.equal((await c.info()).num_redelivered, 1);
    // NAK with a delay: not before the delay.
    const t0 = Date.now();
    again.nak(300);
    const delayed = (await c.next({ expires: 2000 }))!;
    assert.equal(delayed.seq, 1);
    const dt = Date.now() - t0;
    assert.ok(dt >= 250 && dt < 1500, `redelivered after ${dt}ms`);
    assert.equal(delayed.info.deliveryCount, 3);
    assert.equal(await delayed.ackAck(), true);

    // +WPI keeps a message from being redelivered past ack_wait, even with a request waiting for it.
    await js.publish('nk.c', 'c1');
    await jsm.consumers.add('NK', {
      durable_name: 'wpi',
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(800),
      filter_subject: 'nk.c',
    });
    const wc = await js.consumers.get('NK', 'wpi');
    const busy = (await wc.next({ expires: 1000 }))!;
    const waiting = pull(nc, 'NK', 'wpi', { batch: 1, expires: nanos(1200) });
    for (let i = 0; i < 4; i++) {
      await sleep(250);
      busy.working();
    }
    const [timeout] = await waiting.wait(1, 2000);
    assert.equal(status(timeout!), '408 Request Timeout', 'nothing redelivered');
    assert.equal((await wc.info()).num_redelivered, 0);
    assert.equal(await busy.ackAck(), true);

    await jsm.consumers.add('NK', {
      durable_name: 'term',
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(600),
      filter_subject: 'nk.b',
    });
    const w = await js.consumers.get('NK', 'term');
    const m2 = (await w.next({ expires: 1000 }))!;
    assert.equal(m2.string(), 'm1');
    let ci: Awaited<ReturnType<typeof w.info>>;
    // +TERM: never again.
    m2.term();
    // +NXT: ack and get the next one on our inbox.
    const m3 = (await w.next({ expires: 1000 }))!;
    assert.equal(m3.string(), 'm2');
    const inbox = createInbox();
    const col = new Collector(nc.subscribe(inbox));
    m3.next(inbox);
    const [nx] = await col.wait(1);
    assert.equal(dec.decode(nx!.data), 'm3');
    ci = await w.info();
    assert.equal(ci.num_ack_pending, 1, 'm1 terminated, m2 acked by +NXT, m3 pending');
    assert.deepEqual([ci.ack_floor.stream_seq, ci.delivered.stream_seq], [3, 4]);
    // After ack_wait only the unacknowledged m3 comes back: m1 was terminated, m2 acknowledged.
    await sleep(700);
    const r = pull(nc, 'NK', 'term', { batch: 3, expires: nanos(300) });
    const back = await r.wait(2);
    assert.deepEqual(
      back.map((m) => `${status(m)}|${dec.decode(m.data)}|${m.reply?.split('.')[4] ?? ''}`),
      ['|m3|2', '408 Request Timeout||'],
    );
    ci = await w.info();
    assert.equal(ci.num_redelivered, 1);
    await jsm.streams.delete('NK');
  });

  test('ack_wait and backoff redelivery timing; max_deliver with its advisory', async () => {
    const { jsm, js, nc } = env;
    await jsm.streams.add({ name: 'RD', subjects: ['rd.*'] });
    await js.publish('rd.a', 'x');
    await jsm.consumers.add('RD', {
      durable_name: 'wait',
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(300),
      filter_subject: 'rd.a',
    });
    const c = await js.consumers.get('RD', 'wait');
    const first = (await c.next({ expires: 1000 }))!;
    const t0 = Date.now();
    const second = (await c.next({ expires: 2000 }))!;
    const dt = Date.now() - t0;
    assert.equal(second.seq, first.seq);
    assert.ok(dt >= 250 && dt < 1500, `redelivered after ${dt}ms (ack_wait 300ms)`);
    await second.ackAck();

    // backoff [200ms, 600ms], max_deliver 3: deliveries at ~0, ~200, ~800 ms, then the advisory.
    const adv = new Collector(nc.subscribe('$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.RD.bo'));
    await js.publish('rd.b', 'y');
    await jsm.consumers.add('RD', {
      durable_name: 'bo',
      ack_policy: AckPolicy.Explicit,
      backoff: [nanos(200), nanos(600)],
      max_deliver: 3,
      filter_subject: 'rd.b',
    });
    const inbox = createInbox();
    const col = new Collector(nc.subscribe(inbox));
    const start = Date.now();
    // Keep a pull request open long enough for all deliveries.
    nc.publish('$JS.API.CONSUMER.MSG.NEXT.RD.bo', JSON.stringify({ batch: 10, expires: nanos(3000) }), {
      reply: inbox,
    });
    const at: number[] = [];
    for (let i = 1; i <= 3; i++) {
      await col.wait(i, 3000);
      at.push(Date.now() - start);
    }
    assert.ok(at[1]! - at[0]! >= 150 && at[1]! - at[0]! < 700, `first backoff ${at}`);
    assert.ok(at[2]! - at[1]! >= 500 && at[2]! - at[1]! < 1500, `second backoff ${at}`);
    const [a] = await adv.wait(1, 3000);
    const body = JSON.parse(dec.decode(a!.data)) as Record<string, unknown>;
    assert.equal(body.type, 'io.nats.jetstream.advisory.v1.max_deliver');
    assert.equal(body.stream, 'RD');
    assert.equal(body.consumer, 'bo');
    assert.equal(body.deliveries, 3);
    const ci = await jsm.consumers.info('RD', 'bo');
    assert.equal(ci.num_ack_pending, 0);
    assert.equal(col.msgs.filter((m) => status(m) === '').length, 3);
    await jsm.streams.delete('RD');
  });

  test('max_ack_pending holds deliveries until acks come', async () => {
    const { jsm, js } = env;
    await jsm.streams.add({ name: 'MAP', subjects: ['map'] });
    await publishN(js, 'map', 5);
    await jsm.consumers.add('MAP', { durable_name: 'c', ack_policy: AckPolicy.Explicit, max_ack_pending: 2 });
    const got = await fetchAll(js, 'MAP', 'c', 5, 1000);
    assert.equal(got.length, 2);
    await got[0]!.ackAck();
    const more = await fetchAll(js, 'MAP', 'c', 5, 1000);
    assert.deepEqual(
      more.map((m) => m.seq),
      [3],
    );
    await jsm.streams.delete('MAP');
  });
});

describe('JetStream consumers: pull requests', () => {
  let env: Env;
  before(async () => {
    env = await open();
    await env.jsm.streams.add({ name: 'PL', subjects: ['pl'] });
    await publishN(env.js, 'pl', 3);
  });
  after(async () => {
    await close(env);
  });

  test('batch, expires (408 with pending headers), no_wait (404), max_bytes (409)', async () => {
    const { nc, jsm } = env;
    await jsm.consumers.add('PL', { durable_name: 'a', ack_policy: AckPolicy.Explicit });
    const r1 = pull(nc, 'PL', 'a', { batch: 5, expires: nanos(300) });
    const msgs = await r1.wait(4);
    assert.deepEqual(
      msgs.slice(0, 3).map((m) => [m.subject, dec.decode(m.data), m.reply?.split('.').slice(0, 4).join('.')]),
      [
        ['pl', 'm1', '$JS.ACK.PL.a'],
        ['pl', 'm2', '$JS.ACK.PL.a'],
        ['pl', 'm3', '$JS.ACK.PL.a'],
      ],
    );
    // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
    const t = msgs[0]!.reply!.split('.');
    assert.equal(t.length, 9);
    assert.deepEqual([t[4], t[5], t[6], t[8]], ['1', '1', '1', '2']);
    assert.equal(status(msgs[3]!), '408 Request Timeout');
    assert.equal(msgs[3]!.headers?.get('Nats-Pending-Messages'), '2');
    assert.equal(msgs[3]!.headers?.get('Nats-Pending-Bytes'), '0');

    const r2 = pull(nc, 'PL', 'a', { batch: 1, no_wait: true });
    assert.equal(status((await r2.wait(1))[0]!), '404 No Messages');
    const r3 = pull(nc, 'PL', 'a', '');
    await env.js.publish('pl', 'm4');
    assert.equal(dec.decode((await r3.wait(1))[0]!.data), 'm4', 'an empty request asks for one message');

    await env.js.publish('pl', 'a much longer message than ten bytes');
    const r4 = pull(nc, 'PL', 'a', { batch: 2, max_bytes: 10 });
    const [m] = await r4.wait(1);
    assert.equal(status(m!), '409 Message Size Exceeds MaxBytes');
    assert.equal(m!.headers?.get('Nats-Pending-Messages'), '2');
    assert.equal(m!.headers?.get('Nats-Pending-Bytes'), '10');
    const r5 = pull(nc, 'PL', 'a', { batch: 2, no_wait: true });
    const got = await r5.wait(2);
    assert.equal(dec.decode(got[0]!.data), 'a much longer message than ten bytes');
    assert.equal(status(got[1]!), '408 Request Timeout', 'no_wait ends with 408 once the stream is drained');
  });

  test('idle heartbeats, max_waiting, max_batch, bad requests, push-based refusal, consumer deleted', async () => {
    const { nc, jsm } = env;
    await jsm.consumers.add('PL', {
      durable_name: 'b',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      max_waiting: 2,
      max_batch: 10,
    });
    const hb = pull(nc, 'PL', 'b', { batch: 1, expires: nanos(1000), idle_heartbeat: nanos(200) });
    const beats = await hb.wait(2, 1500);
    assert.equal(status(beats[0]!), '100 Idle Heartbeat');
    assert.equal(beats[0]!.headers?.get('Nats-Last-Consumer'), '0');
    const w2 = pull(nc, 'PL', 'b', { batch: 1, expires: nanos(2000) });
    await sleep(50);
    let ci = await jsm.consumers.info('PL', 'b');
    assert.equal(ci.num_waiting, 2);
    const w3 = pull(nc, 'PL', 'b', { batch: 1, expires: nanos(2000) });
    assert.equal(status((await w3.wait(1))[0]!), '409 Exceeded MaxWaiting');
    const big = pull(nc, 'PL', 'b', { batch: 11 });
    assert.equal(status((await big.wait(1))[0]!), '409 Exceeded MaxRequestBatch of 10');
    const badHb = pull(nc, 'PL', 'b', { batch: 1, idle_heartbeat: nanos(500) });
    assert.equal(status((await badHb.wait(1))[0]!), '400 Bad Request - heartbeat value too large');
    await jsm.consumers.add('PL', {
      durable_name: 'push',
      deliver_subject: 'push.pl',
      ack_policy: AckPolicy.None,
    });
    const pushReq = pull(nc, 'PL', 'push', { batch: 1 });
    assert.equal(status((await pushReq.wait(1))[0]!), '409 Consumer is push based');
    ci = await jsm.consumers.info('PL', 'b');
    assert.equal(ci.num_waiting, 2);
    await jsm.consumers.delete('PL', 'b');
    const last = (await w2.wait(1))[0]!;
    assert.equal(status(last), '409 Consumer Deleted');
  });

  test('fetch, next and consume with the client', async () => {
    const { jsm, js } = env;
    await jsm.consumers.add('PL', { durable_name: 'cl', ack_policy: AckPolicy.Explicit });
    const c = await js.consumers.get('PL', 'cl');
    const batch: number[] = [];
    for await (const m of await c.fetch({ max_messages: 2, expires: 1000 })) {
      batch.push(m.seq);
      m.ack();
    }
    assert.deepEqual(batch, [1, 2]);
    const n = await c.next({ expires: 1000 });
    assert.equal(n?.seq, 3);
    n?.ack();
    const msgs = await c.consume({ max_messages: 3, expires: 1000 });
    const seen: number[] = [];
    const done = (async () => {
      for await (const m of msgs) {
        seen.push(m.seq);
        m.ack();
        if (seen.length === 4) break;
      }
    })();
    for (let i = 0; i < 2; i++) await js.publish('pl', `late${i}`);
    await done;
    assert.deepEqual(seen, [4, 5, 6, 7]);
    const ci = await c.info();
    assert.equal(ci.num_pending, 0);
  });

  test('an ephemeral pull consumer goes away after inactive_threshold', async () => {
    const { jsm, nc } = env;
    const ci = await jsm.consumers.add('PL', {
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      inactive_threshold: nanos(200),
    });
    // A waiting request keeps it alive.
    const r = pull(nc, 'PL', ci.name, { batch: 1, expires: nanos(700) });
    await sleep(500);
    assert.ok((await jsm.consumers.info('PL', ci.name)).name);
    assert.equal(status((await r.wait(1, 2000))[0]!), '408 Request Timeout');
    await waitFor(
      async () => errCode(await req(nc, `$JS.API.CONSUMER.INFO.PL.${ci.name}`)) === 10014,
      3000,
      'the ephemeral consumer to be deleted',
    );
  });

  test('ordered pull consumer', async () => {
    const { js } = env;
    const oc = await js.consumers.get('PL');
    const seqs: number[] = [];
    const si = await env.jsm.streams.info('PL');
    for await (const m of await oc.fetch({ max_messages: si.state.messages, expires: 1000 }))
      seqs.push(m.seq);
    assert.equal(seqs.length, si.state.messages);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
    );
  });
});

describe('JetStream consumers: push', () => {
  let env: Env;
  before(async () => {
    env = await open();
    await env.jsm.streams.add({ name: 'PS', subjects: ['ps.>'] });
  });
  after(async () => {
    await close(env);
  });

  test('delivers only while the deliver subject has interest; durable resumes', async () => {
    const { jsm, js, nc } = env;
    await publishN(js, 'ps.a', 3);
    await jsm.consumers.add('PS', {
      durable_name: 'dur',
      deliver_subject: 'out.dur',
      ack_policy: AckPolicy.Explicit,
    });
    await sleep(100);
    let ci = await jsm.consumers.info('PS', 'dur');
    assert.equal(ci.delivered.stream_seq, 0, 'nothing delivered without interest');
    assert.equal(ci.push_bound, undefined);
    const col = new Collector(nc.subscribe('out.dur'));
    const got = await col.wait(3);
    assert.deepEqual(
      got.map((m) => [m.subject, dec.decode(m.data)]),
      [
        ['ps.a', 'm1'],
        ['ps.a', 'm2'],
        ['ps.a', 'm3'],
      ],
    );
    for (const m of got) m.respond();
    ci = await jsm.consumers.info('PS', 'dur');
    assert.equal(ci.push_bound, true);
    col.sub.unsubscribe();
    await sleep(50);
    await js.publish('ps.a', 'm4');
    await sleep(100);
    const col2 = new Collector(nc.subscribe('out.dur'));
    const [m4] = await col2.wait(1);
    assert.equal(dec.decode(m4!.data), 'm4');
    col2.sub.unsubscribe();
  });

  test('queue group: each message to exactly one member', async () => {
    const { jsm, js, nc } = env;
    await jsm.consumers.add('PS', {
      durable_name: 'q',
      deliver_subject: 'out.q',
      deliver_group: 'workers',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      filter_subject: 'ps.q',
    });
    const a = new Collector(nc.subscribe('out.q', { queue: 'workers' }));
    const b = new Collector(nc.subscribe('out.q', { queue: 'workers' }));
    await sleep(60);
    const n = 60;
    for (let i = 0; i < n; i++) await js.publish('ps.q', `w${i}`);
    await waitFor(() => a.msgs.length + b.msgs.length >= n, 3000, 'all work');
    await sleep(100);
    const all = [...a.msgs, ...b.msgs].map((m) => dec.decode(m.data)).sort();
    assert.equal(all.length, n);
    assert.equal(new Set(all).size, n, 'no duplicates');
    assert.ok(a.msgs.length > 0 && b.msgs.length > 0, `shared: ${a.msgs.length}/${b.msgs.length}`);
    a.sub.unsubscribe();
    b.sub.unsubscribe();
  });

  test('flow control requests and idle heartbeats (raw)', async () => {
    const { jsm, js, nc } = env;
    const col = new Collector(nc.subscribe('out.fc'));
    await jsm.consumers.add('PS', {
      durable_name: 'fc',
      deliver_subject: 'out.fc',
      ack_policy: AckPolicy.None,
      flow_control: true,
      idle_heartbeat: nanos(200),
      filter_subject: 'ps.fc',
    });
    // More than half of the first flow-control window (2MB / 2) triggers a request.
    const big = new Uint8Array(300 * 1024);
    for (let i = 0; i < 5; i++) await js.publish('ps.fc', big);
    await waitFor(
      () => col.msgs.some((m) => status(m) === '100 FlowControl Request'),
      3000,
      'a flow control request',
    );
    const fc = col.msgs.find((m) => status(m) === '100 FlowControl Request')!;
    assert.match(fc.reply ?? '', /^\$JS\.FC\.PS\.fc\./);
    // Without an answer, delivery stops once the window is full; heartbeats say who stalled.
    await waitFor(
      () =>
        col.msgs.some(
          (m) => status(m) === '100 Idle Heartbeat' && m.headers?.get('Nats-Consumer-Stalled') !== '',
        ),
      3000,
      'a heartbeat',
    );
    const hbm = col.msgs.find((m) => status(m) === '100 Idle Heartbeat')!;
    assert.equal(hbm.headers?.get('Nats-Consumer-Stalled'), fc.reply);
    fc.respond();
    await waitFor(() => col.msgs.filter((m) => status(m) === '').length === 5, 3000, 'all messages');
    await sleep(300);
    const last = col.msgs.filter((m) => status(m) === '100 Idle Heartbeat').at(-1)!;
    assert.equal(last.headers?.get('Nats-Last-Consumer'), '5');
    assert.equal(
      last.headers?.get('Nats-Last-Stream'),
      String((await jsm.streams.info('PS')).state.last_seq),
    );
    col.sub.unsubscribe();
  });

  test('ordered push consumer and headers_only', async () => {
    const { jsm, js } = env;
    await js.publish('ps.o', 'o1');
    await js.publish('ps.o', 'o2');
    const oc = await js.consumers.getPushConsumer('PS', { filter_subjects: 'ps.o' });
    const seen: string[] = [];
    for await (const m of await oc.consume()) {
      seen.push(m.string());
      if (seen.length === 2) break;
    }
    assert.deepEqual(seen, ['o1', 'o2']);
    const inbox = createInbox();
    const col = new Collector(env.nc.subscribe(inbox));
    await jsm.consumers.add('PS', { deliver_subject: inbox, headers_only: true, filter_subject: 'ps.o' });
    const [h] = await col.wait(1);
    assert.equal(h!.data.length, 0);
    assert.equal(h!.headers?.get('Nats-Msg-Size'), '2');
  });

  test('an ephemeral push consumer without interest goes away after inactive_threshold', async () => {
    const { jsm, nc } = env;
    const ci = await jsm.consumers.add('PS', {
      deliver_subject: 'out.nobody',
      ack_policy: AckPolicy.None,
      inactive_threshold: nanos(150),
    });
    await waitFor(
      async () => errCode(await req(nc, `$JS.API.CONSUMER.INFO.PS.${ci.name}`)) === 10014,
      3000,
      'the consumer to be deleted',
    );
  });
});

describe('JetStream consumers: retention, purge, stream delete, info', () => {
  let env: Env;
  before(async () => {
    env = await open();
  });
  after(async () => {
    await close(env);
  });

  test('interest retention removes a message once every consumer acknowledged it', async () => {
    const { jsm, js } = env;
    await jsm.streams.add({ name: 'IN', subjects: ['in'], retention: RetentionPolicy.Interest });
    await js.publish('in', 'nobody');
    assert.equal((await jsm.streams.info('IN')).state.messages, 0, 'no consumer, not kept');
    await jsm.consumers.add('IN', { durable_name: 'a', ack_policy: AckPolicy.Explicit });
    await jsm.consumers.add('IN', { durable_name: 'b', ack_policy: AckPolicy.Explicit });
    await publishN(js, 'in', 2);
    const a = await fetchAll(js, 'IN', 'a', 2);
    for (const m of a) await m.ackAck();
    assert.equal((await jsm.streams.info('IN')).state.messages, 2, 'b has not acked');
    const b = await fetchAll(js, 'IN', 'b', 2);
    await b[0]!.ackAck();
    let st = (await jsm.streams.info('IN')).state;
    assert.equal(st.messages, 1);
    // Deleting b releases what only b held.
    await jsm.consumers.delete('IN', 'b');
    st = (await jsm.streams.info('IN')).state;
    assert.equal(st.messages, 0);
    await jsm.streams.delete('IN');
  });

  test('work-queue retention removes a message on ack', async () => {
    const { jsm, js } = env;
    await jsm.streams.add({ name: 'WQ2', subjects: ['wq2.*'], retention: RetentionPolicy.Workqueue });
    await jsm.consumers.add('WQ2', {
      durable_name: 'a',
      ack_policy: AckPolicy.Explicit,
      filter_subject: 'wq2.a',
    });
    await jsm.consumers.add('WQ2', {
      durable_name: 'b',
      ack_policy: AckPolicy.Explicit,
      filter_subject: 'wq2.b',
    });
    await publishN(js, 'wq2.a', 3);
    await publishN(js, 'wq2.b', 2);
    const a = await fetchAll(js, 'WQ2', 'a', 3);
    await a[0]!.ackAck();
    await a[1]!.ackAck();
    assert.equal((await jsm.streams.info('WQ2')).state.messages, 3);
    const b = await fetchAll(js, 'WQ2', 'b', 2);
    assert.deepEqual(
      b.map((m) => m.string()),
      ['m1', 'm2'],
    );
    await jsm.streams.delete('WQ2');
  });

  test('consumer info is exact: delivered, ack floor, pending, redelivered, waiting', async () => {
    const { jsm, js, nc } = env;
    await jsm.streams.add({ name: 'CI', subjects: ['ci.*'] });
    await publishN(js, 'ci.a', 4);
    await publishN(js, 'ci.b', 2);
    await jsm.consumers.add('CI', {
      durable_name: 'c',
      ack_policy: AckPolicy.Explicit,
      filter_subject: 'ci.a',
      ack_wait: nanos(5000),
    });
    const got = await fetchAll(js, 'CI', 'c', 3);
    await got[0]!.ackAck();
    got[2]!.nak();
    const again = await fetchAll(js, 'CI', 'c', 1);
    assert.equal(again[0]!.seq, 3);
    const w = pull(nc, 'CI', 'c', { batch: 1, expires: nanos(2000), no_wait: false });
    await sleep(50);
    // Stream seq 4 is the one left to deliver, but it is on ci.a and already on the waiting request's way...
    // the waiting request took it: deliveries 1..5 (5 = seq 4).
    await w.wait(1);
    const ci = await jsm.consumers.info('CI', 'c');
    assert.deepEqual(ci.delivered, { consumer_seq: 5, stream_seq: 4, last_active: ci.delivered.last_active });
    assert.deepEqual(ci.ack_floor, { consumer_seq: 1, stream_seq: 1, last_active: ci.ack_floor.last_active });
    assert.equal(ci.num_ack_pending, 3);
    assert.equal(ci.num_redelivered, 1);
    assert.equal(ci.num_waiting, 0);
    assert.equal(ci.num_pending, 0);
    await js.publish('ci.a', 'm5');
    await js.publish('ci.b', 'x');
    assert.equal((await jsm.consumers.info('CI', 'c')).num_pending, 1);
  });

  test('purge moves consumers past the purged messages; deleting the stream deletes its consumers', async () => {
    const { jsm, js, nc } = env;
    await jsm.streams.add({ name: 'PU', subjects: ['pu'] });
    await publishN(js, 'pu', 3);
    await jsm.consumers.add('PU', { durable_name: 'c', ack_policy: AckPolicy.Explicit });
    await fetchAll(js, 'PU', 'c', 1);
    await jsm.streams.purge('PU');
    let ci = await jsm.consumers.info('PU', 'c');
    assert.equal(ci.num_ack_pending, 0);
    assert.equal(ci.num_pending, 0);
    assert.equal(ci.ack_floor.stream_seq, 3);
    await js.publish('pu', 'after');
    const m = await fetchAll(js, 'PU', 'c', 1);
    assert.equal(m[0]?.seq, 4);
    ci = await jsm.consumers.info('PU', 'c');
    assert.equal(ci.delivered.stream_seq, 4);
    const w = pull(nc, 'PU', 'c', { batch: 1, expires: nanos(3000) });
    await sleep(50);
    await jsm.streams.delete('PU');
    assert.equal(status((await w.wait(1))[0]!), '409 Consumer Deleted');
  });

  test('memory streams and mem_storage consumers', async () => {
    const { jsm, js } = env;
    await jsm.streams.add({ name: 'MEM', subjects: ['mem'], storage: StorageType.Memory });
    await publishN(js, 'mem', 2);
    await jsm.consumers.add('MEM', { durable_name: 'c', ack_policy: AckPolicy.Explicit, mem_storage: true });
    const got = await fetchAll(js, 'MEM', 'c', 2);
    assert.equal(got.length, 2);
    const ci = await jsm.consumers.info('MEM', 'c');
    assert.equal(ci.config.mem_storage, true);
    await jsm.streams.delete('MEM');
  });
});

describe('JetStream consumers: pieces', () => {
  test('the state file round-trips and refuses damage', () => {
    const st = {
      delivered: { consumer: 12, stream: 40 },
      ackFloor: { consumer: 7, stream: 30 },
      pending: new Map([
        [33, { dseq: 9, ts: 1_700_000_000_123 }],
        [31, { dseq: 8, ts: 1_700_000_000_100 }],
        [2 ** 40, { dseq: 2 ** 35, ts: 1 }],
      ]),
      redelivered: new Map([
        [31, 2],
        [33, 1],
      ]),
    };
    const buf = encodeState(st);
    const back = decodeState(buf);
    assert.deepEqual(back.delivered, st.delivered);
    assert.deepEqual(back.ackFloor, st.ackFloor);
    assert.deepEqual(
      [...back.pending.entries()].sort((a, b) => a[0] - b[0]),
      [...st.pending.entries()].sort((a, b) => a[0] - b[0]),
    );
    assert.deepEqual([...back.redelivered.entries()], [...st.redelivered.entries()]);
    const bad = Buffer.from(buf);
    bad[3] = bad[3]! ^ 0xff;
    assert.throws(() => decodeState(bad), /checksum/);
    assert.throws(() => decodeState(buf.subarray(0, 3)), /truncated/);
  });

  test('pull request bodies and Go durations', () => {
    assert.deepEqual(parseNextRequest(Buffer.from(''), 1000), {
      expires: 0,
      batch: 1,
      maxBytes: 0,
      noWait: false,
      hb: 0,
    });
    assert.deepEqual(parseNextRequest(Buffer.from(' 5 '), 1000), {
      expires: 0,
      batch: 5,
      maxBytes: 0,
      noWait: false,
      hb: 0,
    });
    assert.deepEqual(
      parseNextRequest(
        Buffer.from(
          '{"batch":3,"expires":2000000000,"idle_heartbeat":500000000,"no_wait":true,"max_bytes":9}',
        ),
        1000,
      ),
      {
        expires: 3000,
        batch: 3,
        maxBytes: 9,
        noWait: true,
        hb: 500,
      },
    );
    assert.equal(parseNextRequest(Buffer.from('{"idle_heartbeat":1}'), 0), 'heartbeat value too large');
    assert.equal(typeof parseNextRequest(Buffer.from('{"batch":"x"}'), 0), 'string');
    assert.deepEqual([0, 999, 1500, 1e6, 1.5e9, 90e9, 3600e9, 5e8].map(goDurationString), [
      '0s',
      '999ns',
      '1.5µs',
      '1ms',
      '1.5s',
      '1m30s',
      '1h0m0s',
      '500ms',
    ]);
  });
});

describe('JetStream consumers compared with nats-server -js', {
  skip: !hasReference() && 'nats-server not on PATH',
}, () => {
  const REQUESTS: { subject: string; body?: unknown }[] = [
    { subject: '$JS.API.STREAM.CREATE.C', body: { name: 'C', subjects: ['c.>'] } },
    { subject: 'c.a', body: 'one' },
    { subject: 'c.b', body: 'two' },
    { subject: '$JS.API.CONSUMER.CREATE.C', body: { stream_name: 'C', config: { ack_policy: 'explicit' } } },
    {
      subject: '$JS.API.CONSUMER.CREATE.C.D1',
      body: {
        stream_name: 'C',
        config: { durable_name: 'D1', ack_policy: 'explicit', deliver_subject: 'nobody' },
      },
    },
    {
      subject: '$JS.API.CONSUMER.DURABLE.CREATE.C.D2',
      body: {
        stream_name: 'C',
        config: {
          durable_name: 'D2',
          ack_policy: 'all',
          filter_subject: 'c.a',
          backoff: [1e9],
          max_deliver: 3,
        },
      },
    },
    {
      subject: '$JS.API.CONSUMER.CREATE.C.D3.c.b',
      body: {
        stream_name: 'C',
        config: {
          durable_name: 'D3',
          filter_subject: 'c.b',
          deliver_policy: 'by_start_time',
          opt_start_time: '2020-01-01T00:00:00Z',
          replay_policy: 'original',
          max_batch: 5,
          max_expires: 1e9,
        },
      },
    },
    {
      subject: '$JS.API.CONSUMER.CREATE.C.D4',
      body: { stream_name: 'C', config: { durable_name: 'D4', deliver_policy: 'new', opt_start_seq: 2 } },
    },
    {
      subject: '$JS.API.CONSUMER.CREATE.C.D5',
      body: { stream_name: 'C', config: { durable_name: 'D5', deliver_subject: 'x', flow_control: true } },
    },
    {
      subject: '$JS.API.CONSUMER.CREATE.C.D2',
      body: { stream_name: 'C', config: { durable_name: 'D2', ack_policy: 'none' } },
    },
    { subject: '$JS.API.CONSUMER.CREATE.C', body: '{' },
    { subject: '$JS.API.CONSUMER.INFO.C.D2' },
    { subject: '$JS.API.CONSUMER.INFO.C.NOPE' },
    { subject: '$JS.API.CONSUMER.NAMES.C', body: { offset: 1 } },
    { subject: '$JS.API.CONSUMER.LIST.C' },
    { subject: '$JS.API.CONSUMER.DELETE.C.D1', body: { x: 1 } },
    { subject: '$JS.API.CONSUMER.DELETE.C.D1' },
    { subject: '$JS.API.CONSUMER.LEADER.STEPDOWN.C.D2' },
    { subject: '$JS.API.STREAM.INFO.C' },
  ];

  function shape(v: unknown, path = ''): string[] {
    if (v === null || typeof v !== 'object') return [path];
    // Arrays: the union of their elements' keys (consumer names, and so list order, are random).
    if (Array.isArray(v))
      return v.length === 0 ? [`${path}[]`] : [...new Set(v.flatMap((x) => shape(x, `${path}[]`)))].sort();
    const out: string[] = [];
    for (const [k, x] of Object.entries(v)) out.push(...shape(x, `${path}.${k}`));
    return out.sort();
  }

  async function run(port: number): Promise<{ shape: string[]; code: unknown; pull: string[] }[]> {
    const nc = await connect({ servers: `127.0.0.1:${port}`, reconnect: false });
    const out: { shape: string[]; code: unknown; pull: string[] }[] = [];
    try {
      for (const r of REQUESTS) {
        const data = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
        const m = await nc.request(r.subject, data, { timeout: 2000 });
        const j = JSON.parse(dec.decode(m.data)) as Record<string, unknown>;
        out.push({
          shape: shape(j),
          code: (j.error as { err_code?: number } | undefined)?.err_code,
          pull: [],
        });
      }
      // Pull statuses on D2 (filter c.a: one message).
      const p = pull(nc, 'C', 'D2', { batch: 3, expires: nanos(300) });
      await p.wait(1);
      const np = pull(nc, 'C', 'D2', { batch: 1, no_wait: true });
      const got = [...(await p.wait(2)), ...(await np.wait(1))];
      const inboxes = new Set([p.sub.getSubject(), np.sub.getSubject()]);
      out.push({
        shape: [],
        code: undefined,
        pull: got.map(
          (m) =>
            `${status(m)}|${inboxes.has(m.subject) ? 'inbox' : m.subject}|${m.headers?.get('Nats-Pending-Messages') ?? ''}|${(m.reply ?? '').split('.').length}`,
        ),
      });
    } finally {
      await nc.close();
    }
    return out;
  }

  test('same keys, error codes and pull statuses', async () => {
    const [a, b] = await runOnBoth(run);
    for (let i = 0; i < a.length; i++) {
      // nats-server 2.10 always writes a stream's `compression`; tsnats does too, the 2.9.10 reference not.
      const ours = { ...b[i]!, shape: b[i]!.shape.filter((k) => k !== '.config.compression') };
      assert.deepEqual(
        ours,
        a[i],
        `${REQUESTS[i]?.subject ?? 'pull'} ${JSON.stringify(REQUESTS[i]?.body ?? '')}`,
      );
    }
  });
});
