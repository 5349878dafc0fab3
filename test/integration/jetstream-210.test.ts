/**
 * JetStream features of nats-server 2.10 that tsnats serves while still reporting 2.9.10 (issue 20):
 * stream and consumer metadata, consumer filter_subjects, the consumer create `action`, stream first_seq
 * and subject_transform. The client gates these on the server version, so each connection is told it
 * talks to a 2.10 server (its feature table only; nothing is faked on the server side).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AckPolicy, JetStreamApiError, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { closeJetStream, type JsEnv, jsonRequest, openJetStream } from '../helpers/jetstream.js';

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
