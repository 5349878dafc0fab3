#!/usr/bin/env node
// Leaf node benchmark: a hub and a leaf of the same kind (two tsnats, or two nats-servers), a publisher on
// the leaf and a subscriber on the hub (leaf->hub), then the other way round (hub->leaf), alternately
// (A B A B ...), fresh servers per run. The clients are the JavaScript ones, so both kinds are measured
// through the same client costs; compare the ratio, not the absolute rates.
// Usage: node bench/leaf-pubsub.mjs [rounds=3] [messages=200000] [size=128]
import { connect } from '@nats-io/transport-node';
import { freePort, median, startServer } from './lib.mjs';

const [rounds = 3, count = 200000, size = 128] = process.argv.slice(2).map(Number);

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
  const hub = await startServer(kind, { config: `leafnodes { listen: "127.0.0.1:${leafPort}" }\n` });
  const leaf = await startServer(kind, {
    config: `leafnodes { remotes: [ { url: "nats-leaf://127.0.0.1:${leafPort}" } ] }\n`,
  });
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
for (const k of ['leafToHub', 'hubToLeaf']) {
  const t = median(results.tsnats.map((x) => x[k]));
  const n = median(results['nats-server'].map((x) => x[k]));
  console.log(
    `${k}: tsnats ${Math.round(t)} / nats-server ${Math.round(n)} msgs/s, ratio ${(t / n).toFixed(2)}`,
  );
}
