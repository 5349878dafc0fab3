#!/usr/bin/env node
// Leaf node benchmark: a hub and a leaf of the same kind (two tsnats, or two nats-servers), a publisher on
// the leaf and a subscriber on the hub (leaf->hub), then the other way round (hub->leaf), alternately
// (A B A B ...), fresh servers per run. The clients are the JavaScript ones, so both kinds are measured
// through the same client costs; compare the ratio, not the absolute rates.
// Usage: node bench/leaf-pubsub.mjs [rounds=3] [messages=200000] [size=128]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';

const [rounds = 3, count = 200000, size = 128] = process.argv.slice(2).map(Number);
const EXE = { tsnats: './bin/tsnats', 'nats-server': 'nats-server' };

/** A port that was free a moment ago (the hub's leaf port must be known to the leaf's config). */
function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startOne(kind, conf) {
  const dir = mkdtempSync(join(tmpdir(), `leafbench-${kind}-`));
  const file = join(dir, 'server.conf');
  writeFileSync(file, conf);
  const child = spawn(EXE[kind], ['-c', file, '-a', '127.0.0.1', '-p', '-1', '--ports_file_dir', dir], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 200; i++) {
    const f = readdirSync(dir).find((n) => n.endsWith('.ports'));
    if (f) {
      try {
        const ports = JSON.parse(readFileSync(join(dir, f), 'utf8'));
        return {
          url: ports.nats[0],
          stop: async () => {
            child.kill('SIGTERM');
            await new Promise((r) => child.once('exit', r));
            rmSync(dir, { recursive: true, force: true });
          },
        };
      } catch {}
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${kind} did not start`);
}

/** Subscribe on `sub` and wait until a probe published on `pub` crosses the leaf connection. */
async function crossing(pub, sub, subject) {
  let arrived;
  const seen = new Promise((r) => {
    arrived = r;
  });
  const probe = sub.subscribe(`${subject}.probe`, { callback: () => arrived(true) });
  await sub.flush();
  for (;;) {
    pub.publish(`${subject}.probe`);
    await pub.flush();
    if (await Promise.race([seen, new Promise((r) => setTimeout(() => r(false), 50))])) break;
  }
  probe.unsubscribe();
}

/** Publish `count` messages on `pub`, received on `sub`; messages per second end to end. */
async function flow(pub, sub, subject) {
  const payload = new Uint8Array(size);
  let got = 0;
  const done = new Promise((resolve) => {
    sub.subscribe(subject, {
      callback: () => {
        if (++got === count) resolve();
      },
    });
  });
  await sub.flush();
  await crossing(pub, sub, subject);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    pub.publish(subject, payload);
    if (i % 1000 === 999) await pub.flush();
  }
  await done;
  return count / ((performance.now() - t0) / 1000);
}

async function once(kind) {
  const leafPort = await freePort();
  const hub = await startOne(kind, `leafnodes { listen: "127.0.0.1:${leafPort}" }\n`);
  const leaf = await startOne(
    kind,
    `leafnodes { remotes: [ { url: "nats-leaf://127.0.0.1:${leafPort}" } ] }\n`,
  );
  try {
    const onHub = await connect({ servers: hub.url });
    const onLeaf = await connect({ servers: leaf.url });
    const leafToHub = await flow(onLeaf, onHub, 'bench.up');
    const hubToLeaf = await flow(onHub, onLeaf, 'bench.down');
    await onHub.close();
    await onLeaf.close();
    return { leafToHub, hubToLeaf };
  } finally {
    await leaf.stop();
    await hub.stop();
  }
}

const results = { tsnats: [], 'nats-server': [] };
for (let r = 0; r < rounds; r++) {
  for (const kind of ['tsnats', 'nats-server']) {
    const res = await once(kind);
    results[kind].push(res);
    console.log(
      `round ${r + 1} ${kind}: leaf->hub ${Math.round(res.leafToHub)} msgs/s, hub->leaf ${Math.round(res.hubToLeaf)} msgs/s`,
    );
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const k of ['leafToHub', 'hubToLeaf']) {
  const t = median(results.tsnats.map((x) => x[k]));
  const n = median(results['nats-server'].map((x) => x[k]));
  console.log(
    `${k}: tsnats ${Math.round(t)} / nats-server ${Math.round(n)} msgs/s, ratio ${(t / n).toFixed(2)}`,
  );
}
