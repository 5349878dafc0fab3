#!/usr/bin/env node
// Soak: mixed core and JetStream load against one server for a while, sampling its memory, CPU, event loop
// delay and a client's request latency, so that leaks and stalls show as figures.
//
// Load (all nats.js, moderate on purpose): pub/sub at ~2,000 msgs/s to two subscribers, a request/reply every
// 20 ms (the latency measured), JetStream publishes at ~500/s into a stream capped at 10,000 messages read
// by a pull consumer that acks each one, KV puts on 100 keys at ~100/s, and a connection that comes and goes
// every 500 ms.
//
// Usage: node bench/soak.mjs [seconds=600] [sampleEvery=30] [kind=tsnats|nats-server]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { startServer } from './lib.mjs';

const [secondsArg = '600', everyArg = '30', kind = 'tsnats'] = process.argv.slice(2);
const seconds = Number(secondsArg);
const every = Number(everyArg);

async function start() {
  const storeDir = mkdtempSync(join(tmpdir(), 'soak-store-'));
  const s = await startServer(kind, {
    args: ['-m', '-1', '-js', '-sd', storeDir],
    ready: (ports) => ports.monitoring !== undefined,
  });
  return {
    url: s.url,
    http: s.ports.monitoring[0],
    stop: async () => {
      await s.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (a, p) =>
  a.length === 0 ? Number.NaN : a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))];

const s = await start();
const until = Date.now() + seconds * 1000;
const running = () => Date.now() < until;
const errors = { request: 0, js: 0, kv: 0, churn: 0 };

// Core pub/sub and request/reply.
const pub = await connect({ servers: s.url });
const subs = await connect({ servers: s.url });
let received = 0;
for (let i = 0; i < 2; i++) subs.subscribe('soak.data', { callback: () => received++ });
subs.subscribe('soak.echo', { callback: (_e, m) => m.respond(m.data) });
await subs.flush();
const payload = new Uint8Array(256);
const pubLoop = (async () => {
  while (running()) {
    for (let i = 0; i < 100; i++) pub.publish('soak.data', payload);
    await sleep(50);
  }
})();
let lat = [];
const reqLoop = (async () => {
  while (running()) {
    const t0 = performance.now();
    try {
      await pub.request('soak.echo', 'x', { timeout: 5000 });
      lat.push(performance.now() - t0);
    } catch {
      errors.request++;
    }
    await sleep(20);
  }
})();

// JetStream: a capped stream, async publishes, a pull consumer acking each message.
const jsc = await connect({ servers: s.url });
const jsm = await jetstreamManager(jsc);
await jsm.streams.add({ name: 'SOAK', subjects: ['soakjs.>'], max_msgs: 10_000 });
await jsm.consumers.add('SOAK', { durable_name: 'reader', ack_policy: AckPolicy.Explicit });
const js = jetstream(jsc);
let consumed = 0;
const jsPubLoop = (async () => {
  while (running()) {
    const acks = [];
    for (let i = 0; i < 50; i++) acks.push(js.publish(`soakjs.${i % 10}`, payload).catch(() => errors.js++));
    await Promise.all(acks);
    await sleep(100);
  }
})();
const jsReadLoop = (async () => {
  const c = await js.consumers.get('SOAK', 'reader');
  while (running()) {
    try {
      const it = await c.fetch({ max_messages: 200, expires: 1000 });
      for await (const m of it) {
        m.ack();
        consumed++;
      }
    } catch {
      errors.js++;
    }
  }
})();

// KV puts.
const kv = await new Kvm(js).create('soak', { history: 5 });
const kvLoop = (async () => {
  let n = 0;
  while (running()) {
    try {
      await kv.put(`k${n % 100}`, String(n));
    } catch {
      errors.kv++;
    }
    n++;
    await sleep(10);
  }
})();

// Connection churn.
const churnLoop = (async () => {
  while (running()) {
    try {
      const c = await connect({ servers: s.url });
      c.subscribe('soak.churn');
      await c.flush();
      await c.close();
    } catch {
      errors.churn++;
    }
    await sleep(500);
  }
})();

async function sample(elapsed) {
  const v = await (await fetch(`${s.http}/varz`)).json();
  let loop = '-';
  if (kind === 'tsnats') {
    const text = await (await fetch(`${s.http}/metrics`)).text();
    const q = (x) =>
      Number(
        new RegExp(`tsnats_event_loop_delay_seconds\\{[^}]*quantile="${x}"\\} (\\S+)`).exec(text)?.[1] ??
          'NaN',
      ) * 1000;
    loop = `${q('0.99').toFixed(1)} / ${q('1').toFixed(1)}`;
  }
  const l = lat.sort((a, b) => a - b);
  lat = [];
  return {
    t: elapsed,
    rssMiB: v.mem / 2 ** 20,
    cpu: v.cpu,
    conns: v.connections,
    subs: v.subscriptions,
    loop,
    p50: pct(l, 50),
    p99: pct(l, 99),
  };
}

console.log(`soak: ${kind}, ${seconds} s, a sample every ${every} s`);
console.log('| t (s) | RSS MiB | CPU % | conns | subs | loop delay p99 / max ms | request p50 ms | p99 ms |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
const samples = [];
const t0 = Date.now();
while (running()) {
  await sleep(Math.min(every * 1000, until - Date.now()));
  const r = await sample(Math.round((Date.now() - t0) / 1000));
  samples.push(r);
  console.log(
    `| ${r.t} | ${r.rssMiB.toFixed(1)} | ${r.cpu.toFixed(0)} | ${r.conns} | ${r.subs} | ${r.loop} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} |`,
  );
}
await Promise.all([pubLoop, reqLoop, jsPubLoop, jsReadLoop, kvLoop, churnLoop]);
const first = samples[0];
const last = samples.at(-1);
const maxRss = Math.max(...samples.map((x) => x.rssMiB));
console.log(
  `RSS ${first.rssMiB.toFixed(1)} -> ${last.rssMiB.toFixed(1)} MiB (max ${maxRss.toFixed(1)}); delivered ${received}, consumed ${consumed}; errors ${JSON.stringify(errors)}`,
);
await Promise.all([pub.close(), subs.close(), jsc.close()]);
await s.stop();
