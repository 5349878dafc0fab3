/**
 * What real deployments configure and real clients exercise, each run against tsnats and the reference
 * nats-server 2.9.10 with the same configuration file: JetStream domains (a domain-bound JetStream context,
 * the domain in PubAcks, account info, /jsz and the system events), server tags (/varz, the system events'
 * server info and their tag filter); consumers deleted once their deliver subject has no interest for
 * inactive_threshold, with nothing to deliver.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AckPolicy, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, nanos } from '@nats-io/transport-node';
import { launch, type ServerKind } from '../helpers/launcher.js';
import { hasReference } from '../helpers/reference.js';

const KINDS: ServerKind[] = hasReference() ? ['tsnats', 'nats-server'] : ['tsnats'];

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  return (await res.json()) as T;
}

for (const kind of KINDS) {
  describe(`domains and tags: ${kind}`, () => {
    test('a domain-bound JetStream context, the domain where nats-server reports it, server tags', async () => {
      const srv = await launch({
        kind,
        config: `server_name: edge1
server_tags: ["Region:EU ", "az:1", "region:eu"]
http: "127.0.0.1:-1"
jetstream { domain: hub }
accounts { SYS: { users: [{ user: sys, password: p }] } }
system_account: SYS
authorization { users: [{ user: app, password: p }] }
`,
        jetstream: true,
        listeners: ['nats', 'monitoring'],
      });
      const app = await connect({ servers: srv.url, user: 'app', pass: 'p' });
      const sys = await connect({ servers: srv.url, user: 'sys', pass: 'p' });
      try {
        // The API under $JS.hub.API: streams, publishing with the domain in the ack, account info.
        const jsm = await jetstreamManager(app, { domain: 'hub' });
        await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
        const js = jetstream(app, { domain: 'hub' });
        const ack = await js.publish('orders.1', 'one');
        assert.equal(ack.domain, 'hub');
        assert.equal(ack.seq, 1);
        const info = await jsm.getAccountInfo();
        assert.equal(info.domain, 'hub');
        assert.equal(info.streams, 1);
        // The same stream through the plain API, and a KV bucket through the domain.
        const plain = await jetstreamManager(app);
        assert.equal((await plain.streams.info('ORDERS')).state.messages, 1);
        const kv = await new Kvm(js).create('settings');
        await kv.put('color', 'blue');
        assert.equal((await kv.get('color'))?.string(), 'blue');
        // Another domain is nobody's here.
        const elsewhere = await jetstreamManager(app, { domain: 'other', timeout: 500 }).catch(
          (e: Error) => e,
        );
        assert.ok(elsewhere instanceof Error, 'no server answers for another domain');

        const jsz = await getJson<{ config: { domain?: string } }>(`${srv.monitorUrl}/jsz`);
        assert.equal(jsz.config.domain, 'hub');
        const varz = await getJson<{ tags?: string[]; server_name: string }>(`${srv.monitorUrl}/varz`);
        assert.deepEqual(varz.tags, ['region:eu', 'az:1']);

        // The system events' server info carries the domain and the tags, and their filters apply.
        const ping = (
          await sys.request('$SYS.REQ.SERVER.PING.VARZ', JSON.stringify({ tags: ['az:1'], domain: 'hub' }), {
            timeout: 2000,
          })
        ).json<{ server: { name: string; domain?: string; tags?: string[] }; data: { tags?: string[] } }>();
        assert.equal(ping.server.name, 'edge1');
        assert.equal(ping.server.domain, 'hub');
        assert.deepEqual(ping.server.tags, ['region:eu', 'az:1']);
        assert.deepEqual(ping.data.tags, ['region:eu', 'az:1']);
        for (const filter of [{ tags: ['az:2'] }, { tags: ['az:1', 'gpu'] }, { domain: 'other' }]) {
          await assert.rejects(
            sys.request('$SYS.REQ.SERVER.PING.VARZ', JSON.stringify(filter), { timeout: 300 }),
            /timeout|TIMEOUT/i,
            `no answer for ${JSON.stringify(filter)}`,
          );
        }
      } finally {
        await app.close();
        await sys.close();
        await srv.stop();
      }
    });
  });
}

/** Poll until the consumer is gone; how long it took (ms), or -1 if it is still there after `limitMs`. */
async function goneWithin(
  jsm: JetStreamManager,
  stream: string,
  name: string,
  limitMs: number,
): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < limitMs) {
    const found = await jsm.consumers.info(stream, name).then(
      () => true,
      () => false,
    );
    if (!found) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 10));
  }
  return -1;
}

for (const kind of KINDS) {
  describe(`consumers whose interest goes away: ${kind}`, () => {
    test('push consumers without a subscriber are deleted after inactive_threshold, nothing to deliver', async () => {
      const srv = await launch({ kind, jetstream: true });
      const nc = await connect({ servers: srv.url });
      try {
        const jsm = await jetstreamManager(nc);
        await jsm.streams.add({ name: 'EVENTS', subjects: ['events.>'] });
        for (const durable of [undefined, 'keeper']) {
          const deliver = `deliver.${durable ?? 'ephemeral'}`;
          const sub = nc.subscribe(deliver);
          await nc.flush();
          const ci = await jsm.consumers.add('EVENTS', {
            ...(durable !== undefined ? { durable_name: durable } : {}),
            deliver_subject: deliver,
            ack_policy: AckPolicy.None,
            inactive_threshold: nanos(50),
          });
          assert.equal(ci.push_bound, true, 'the subscriber is seen');
          // While someone listens the consumer stays, though nothing is delivered (well past 50 ms).
          assert.equal(await goneWithin(jsm, 'EVENTS', ci.name, 300), -1, `${ci.name} kept while bound`);
          sub.unsubscribe();
          await nc.flush();
          const took = await goneWithin(jsm, 'EVENTS', ci.name, 2000);
          assert.ok(took >= 0, `${ci.name} deleted once its subscriber left`);
          assert.ok(took < 1000, `${ci.name} deleted about inactive_threshold after, took ${took} ms`);
        }
      } finally {
        await nc.close();
        await srv.stop();
      }
    });
  });
}
