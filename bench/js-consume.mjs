#!/usr/bin/env node
// JetStream consume benchmark: N stored messages read back with an ordered consumer, and with a pull
// consumer fetching batches with and without acks, against tsnats and nats-server (-js), alternately
// (A B A B ...), a fresh server and store dir per run.
// Usage: node bench/js-consume.mjs [rounds=3] [messages=100000] [size=128] [batch=500]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const [rounds = 3, count = 100000, size = 128, batch = 500] = process.argv.slice(2).map(Number);
const SERVERS = {
  tsnats: './bin/tsnats',
  'nats-server': 'nats-server',
};

async function start(kind) {
  const dir = mkdtempSync(join(tmpdir(), `jsbench-${kind}-`));
  const args = ['-a', '127.0.0.1', '-p', '-1', '--ports_file_dir', dir, '-js', '-sd', dir];
  const child = spawn(SERVERS[kind], args, { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const f = readdirSync(dir).find((n) => n.endsWith('.ports'));
    if (f) {
      const url = JSON.parse(readFileSync(join(dir, f), 'utf8')).nats[0];
      const stop = async () => {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
        rmSync(dir, { recursive: true, force: true });
      };
      return { url, stop };
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${kind} did not start`);
}

async function fill(nc) {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'BENCH', subjects: ['bench.>'], storage: 'file' });
  const js = jetstream(nc);
  const payload = new Uint8Array(size);
  const inflight = new Set();
  for (let i = 0; i < count; i++) {
    const p = js.publish('bench.x', payload);
    inflight.add(p);
    p.finally(() => inflight.delete(p));
    if (inflight.size >= 256) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  return jsm;
}

async function ordered(nc) {
  const js = jetstream(nc);
  const c = await js.consumers.get('BENCH');
  const t0 = performance.now();
  let n = 0;
  const msgs = await c.consume();
  for await (const _m of msgs) {
    if (++n === count) break;
  }
  return count / ((performance.now() - t0) / 1000);
}

async function pull(nc, jsm, ack) {
  const name = ack ? 'pull_ack' : 'pull_none';
  await jsm.consumers.add('BENCH', {
    durable_name: name,
    ack_policy: ack ? AckPolicy.Explicit : AckPolicy.None,
  });
  const js = jetstream(nc);
  const c = await js.consumers.get('BENCH', name);
  const t0 = performance.now();
  let n = 0;
  while (n < count) {
    const iter = await c.fetch({ max_messages: batch, expires: 2000 });
    for await (const m of iter) {
      if (ack) m.ack();
      n++;
    }
  }
  await nc.flush();
  return count / ((performance.now() - t0) / 1000);
}

const results = {};
const record = (key, v) => {
  if (results[key] === undefined) results[key] = [];
  results[key].push(v);
};
for (let r = 1; r <= rounds; r++) {
  for (const kind of Object.keys(SERVERS)) {
    const s = await start(kind);
    try {
      const nc = await connect({ servers: s.url });
      const jsm = await fill(nc);
      const o = await ordered(nc);
      const pn = await pull(nc, jsm, false);
      const pa = await pull(nc, jsm, true);
      await nc.close();
      record(`ordered ${kind}`, o);
      record(`fetch, no acks ${kind}`, pn);
      record(`fetch, acks ${kind}`, pa);
      console.log(
        JSON.stringify({
          round: r,
          server: kind,
          ordered: Math.round(o),
          fetch_no_ack: Math.round(pn),
          fetch_ack: Math.round(pa),
        }),
      );
    } finally {
      await s.stop();
    }
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(
  '\n| consumer | tsnats msgs/s | nats-server msgs/s | tsnats / nats-server | per-round |\n|---|---:|---:|---:|---|',
);
for (const what of ['ordered', 'fetch, no acks', 'fetch, acks']) {
  const a = results[`${what} tsnats`];
  const b = results[`${what} nats-server`];
  const per = a.map((x, i) => (x / b[i]).toFixed(3)).join(' ');
  const fmt = (x) => Math.round(x).toLocaleString('en');
  console.log(
    `| ${what} | ${fmt(median(a))} | ${fmt(median(b))} | ${(median(a) / median(b)).toFixed(3)} | ${per} |`,
  );
}
