#!/usr/bin/env node
// Subscription storm: `storms` raw connections send SUB/UNSUB churn (and an invalid subject that gets
// -ERR 'Invalid Subject', the connection staying open) as fast as the server reads them, while one
// well-behaved nats.js client does a request/reply every 10 ms to a responder on another connection.
// Reports the good client's latency percentiles, against tsnats and nats-server alternately (A B A B ...),
// a fresh server per run.
// With `cluster` = 1 the server has a route to a second server of its kind, so every SUB/UNSUB also
// becomes interest (RS+/RS-) sent to it.
// Usage: node bench/sub-storm.mjs [rounds=3] [seconds=10] [storms=50] [cluster=0]
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { connect } from '@nats-io/transport-node';
import { freePort, median, startServer } from './lib.mjs';

const [rounds = 3, seconds = 10, storms = 50, cluster = 0] = process.argv.slice(2).map(Number);
// STORM_PROFILE=<dir>: the first tsnats server runs under node --cpu-prof, its profile written there.
const PROFILE = process.env.STORM_PROFILE ?? '';
let profiled = false;

function start(kind, args = []) {
  const profile = kind === 'tsnats' && PROFILE !== '' && !profiled;
  if (profile) profiled = true;
  return startServer(kind, {
    args,
    ...(profile
      ? {
          spawnAs: (exe, argv) =>
            spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`, exe, ...argv], {
              stdio: 'ignore',
            }),
        }
      : {}),
  });
}

/**
 * The churning connections run in a worker thread, so that making the storm does not delay the good
 * client's own event loop. Each connection writes prebuilt batches: 500 SUBs (a quarter wildcards), then
 * their UNSUBs, then the next 500, plus a garbage line, whenever the previous write drained.
 */
const STORM_WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const net = require('node:net');
const { host, port, storms, until } = workerData;
let open = storms;
for (let id = 0; id < storms; id++) {
  const batches = [];
  for (let b = 0; b < 4; b++) {
    let subs = '';
    let unsubs = '';
    for (let i = 0; i < 500; i++) {
      const sid = b * 500 + i + 1;
      const subj = sid % 4 === 0 ? 'storm.' + id + '.*.' + (sid % 97) : 'storm.' + id + '.' + (sid % 97) + '.' + sid;
      subs += 'SUB ' + subj + ' ' + sid + '\\r\\n';
      unsubs += 'UNSUB ' + sid + '\\r\\n';
    }
    batches.push(Buffer.from(subs + 'SUB storm..bad 0\\r\\n'), Buffer.from(unsubs));
  }
  const sock = net.connect({ host, port });
  let n = 0;
  sock.on('error', () => {});
  sock.on('data', () => {});
  sock.on('close', () => { if (--open === 0) parentPort.postMessage('done'); });
  sock.on('connect', () => {
    sock.write('CONNECT {"verbose":false,"pedantic":false}\\r\\n');
    const next = () => {
      if (Date.now() > until) return sock.destroy();
      if (sock.write(batches[n++ % batches.length])) setImmediate(next);
      else sock.once('drain', next);
    };
    next();
  });
}
`;

function storm(url, until) {
  const u = new URL(url);
  const w = new Worker(STORM_WORKER, {
    eval: true,
    workerData: { host: u.hostname, port: Number(u.port), storms, until },
  });
  return new Promise((resolve) => {
    w.once('message', () => resolve(w.terminate()));
    w.once('error', resolve);
  });
}

async function once(kind) {
  let peer;
  let s;
  if (cluster) {
    const [pa, pb] = [await freePort(), await freePort()];
    s = await start(kind, ['--cluster', `nats://127.0.0.1:${pa}`, '--cluster_name', 'storm']);
    peer = await start(kind, [
      '--cluster',
      `nats://127.0.0.1:${pb}`,
      '--cluster_name',
      'storm',
      '--routes',
      `nats://127.0.0.1:${pa}`,
    ]);
    await new Promise((r) => setTimeout(r, 1500)); // the route forms
  } else {
    s = await start(kind);
  }
  try {
    const responder = await connect({ servers: s.url });
    responder.subscribe('good.echo', { callback: (_e, m) => m.respond(m.data) });
    await responder.flush();
    const client = await connect({ servers: s.url });
    const until = Date.now() + seconds * 1000;
    const storming = storm(s.url, until);
    const lat = [];
    let failed = 0;
    while (Date.now() < until) {
      const t0 = performance.now();
      try {
        await client.request('good.echo', 'ping', { timeout: 5000 });
        lat.push(performance.now() - t0);
      } catch {
        failed++;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await storming;
    await client.close();
    await responder.close();
    lat.sort((a, b) => a - b);
    const pct = (p) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? NaN;
    return { n: lat.length, failed, p50: pct(50), p99: pct(99), max: lat.at(-1) ?? NaN };
  } finally {
    await s.stop();
    await peer?.stop();
  }
}

const results = { tsnats: [], 'nats-server': [] };
for (let r = 0; r < rounds; r++) {
  for (const kind of ['tsnats', 'nats-server']) {
    const res = await once(kind);
    results[kind].push(res);
    console.log(
      `round ${r + 1} ${kind}: ${res.n} requests (${res.failed} failed), p50 ${res.p50.toFixed(1)} ms, p99 ${res.p99.toFixed(1)} ms, max ${res.max.toFixed(1)} ms`,
    );
  }
}
for (const k of ['p50', 'p99', 'max']) {
  const t = median(results.tsnats.map((x) => x[k]));
  const n = median(results['nats-server'].map((x) => x[k]));
  console.log(
    `${k}: tsnats ${t.toFixed(1)} ms / nats-server ${n.toFixed(1)} ms, ratio ${(t / n).toFixed(2)}`,
  );
}
