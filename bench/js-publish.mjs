#!/usr/bin/env node
// JetStream publish benchmark: async publishes with acks into a file stream and a memory stream, against
// tsnats and nats-server (-js), alternately (A B A B ...), fresh server and store dir per run.
// Usage: node bench/js-publish.mjs [rounds=3] [messages=100000] [size=128] [window=256]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const [rounds = 3, count = 100000, size = 128, windowSize = 256] = process.argv.slice(2).map(Number);
const SERVERS = {
  tsnats: (dir) => [
    './bin/tsnats',
    ['-a', '127.0.0.1', '-p', '-1', '--ports_file_dir', dir, '-js', '-sd', dir],
  ],
  'nats-server': (dir) => [
    'nats-server',
    ['-a', '127.0.0.1', '-p', '-1', '--ports_file_dir', dir, '-js', '-sd', dir],
  ],
};

async function start(kind) {
  const dir = mkdtempSync(join(tmpdir(), `jsbench-${kind}-`));
  const [cmd, args] = SERVERS[kind](dir);
  const child = spawn(cmd, args, { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const f = readdirSync(dir).find((n) => n.endsWith('.ports'));
    if (f) {
      const url = JSON.parse(readFileSync(join(dir, f), 'utf8')).nats[0];
      return {
        url,
        stop: async () => {
          child.kill('SIGTERM');
          await new Promise((r) => child.once('exit', r));
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${kind} did not start`);
}

async function run(url, storage) {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'BENCH', subjects: ['bench.>'], storage });
  const js = jetstream(nc);
  const payload = new Uint8Array(size);
  const t0 = performance.now();
  const inflight = new Set();
  for (let i = 0; i < count; i++) {
    const p = js.publish('bench.x', payload);
    inflight.add(p);
    p.finally(() => inflight.delete(p));
    if (inflight.size >= windowSize) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  const secs = (performance.now() - t0) / 1000;
  const info = await jsm.streams.info('BENCH');
  if (info.state.messages !== count) throw new Error(`stored ${info.state.messages} of ${count}`);
  await nc.close();
  return count / secs;
}

const results = {};
for (let r = 1; r <= rounds; r++) {
  for (const storage of ['file', 'memory']) {
    for (const kind of Object.keys(SERVERS)) {
      const s = await start(kind);
      try {
        const rate = await run(s.url, storage);
        const key = `${storage} ${kind}`;
        if (results[key] === undefined) results[key] = [];
        results[key].push(rate);
        console.log(JSON.stringify({ round: r, storage, server: kind, msgs_per_sec: Math.round(rate) }));
      } finally {
        await s.stop();
      }
    }
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(
  `\n| storage | tsnats msgs/s | nats-server msgs/s | tsnats / nats-server | per-round |\n|---|---:|---:|---:|---|`,
);
for (const storage of ['file', 'memory']) {
  const a = results[`${storage} tsnats`];
  const b = results[`${storage} nats-server`];
  const per = a.map((x, i) => (x / b[i]).toFixed(3)).join(' ');
  console.log(
    `| ${storage} | ${Math.round(median(a)).toLocaleString('en')} | ${Math.round(median(b)).toLocaleString('en')} | ${(median(a) / median(b)).toFixed(3)} | ${per} |`,
  );
}
