#!/usr/bin/env node
// Time to a ready server in a test, as a test file sees it: from the test's first line to a connected
// nats.js client, for tsnats/testing in-process (the first server, which pays for loading tsnats, and the
// next ones), tsnats/testing with `childProcess: true`, and the nats-server binary spawned by the test.
// Every figure is with JetStream on (a temporary store). Each round runs in a fresh Node process.
//
// Usage: node bench/test-startup.mjs [rounds=5]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, median } from './lib.mjs';

const rounds = Number(process.argv[2] ?? 5);

// One round, in a fresh process; prints its figures as JSON.
const ROUND = `
const t0 = performance.now();
const { startServer } = await import('tsnats/testing');
const tImport = performance.now();
const { connect } = await import('@nats-io/transport-node');
const tClient = performance.now();
const time = async (start) => {
  const s = performance.now();
  const srv = await start();
  const nc = await connect({ servers: srv.url });
  const ms = performance.now() - s;
  await nc.close();
  await srv.stop();
  return ms;
};
const first = await time(() => startServer({ jetstream: true }));
const next = await time(() => startServer({ jetstream: true }));
const child = await time(() => startServer({ jetstream: true, childProcess: true }));
process.stdout.write(JSON.stringify({
  firstTotal: first + (tImport - t0), import: tImport - t0, clientImport: tClient - tImport, first, next, child,
}));
`;

async function natsServer() {
  const { connect } = await import('@nats-io/transport-node');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'startup-ns-'));
  const s = performance.now();
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], {
    stdio: 'ignore',
  });
  let nc;
  for (;;) {
    try {
      nc = await connect({ servers: `nats://127.0.0.1:${port}`, reconnect: false });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  const ms = performance.now() - s;
  await nc.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

const rows = { firstTotal: [], import: [], first: [], next: [], child: [], natsServer: [] };
for (let i = 0; i < rounds; i++) {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', ROUND], { encoding: 'utf8' });
  const r = JSON.parse(out);
  for (const k of ['firstTotal', 'import', 'first', 'next', 'child']) rows[k].push(r[k]);
  rows.natsServer.push(await natsServer());
}
const f = (a) => `${median(a).toFixed(0)} ms (${Math.min(...a).toFixed(0)}-${Math.max(...a).toFixed(0)})`;
console.log(`${rounds} rounds, median (min-max), JetStream on, to a connected nats.js client:`);
console.log(`| how | time |\n|---|---:|`);
console.log(
  `| tsnats/testing in-process, first server incl. import (${f(rows.import)}) | ${f(rows.firstTotal)} |`,
);
console.log(`| tsnats/testing in-process, next server | ${f(rows.next)} |`);
console.log(`| tsnats/testing childProcess: true | ${f(rows.child)} |`);
console.log(`| nats-server 2.9.10 binary spawned by the test | ${f(rows.natsServer)} |`);
