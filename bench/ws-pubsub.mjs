#!/usr/bin/env node
// Websocket benchmark: a websocket client publishes to a TCP subscriber (ws->tcp), and a TCP client
// publishes to a websocket subscriber (tcp->ws), against tsnats and nats-server, alternately (A B A B ...),
// a fresh server per run, plain ws:// without compression. The clients are the JavaScript ones, so both
// servers are measured through the same client costs; compare the ratio, not the absolute rates.
// Usage: node bench/ws-pubsub.mjs [rounds=3] [messages=200000] [size=128]
import { wsconnect } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import WebSocket from 'ws';
import { median, startServer } from './lib.mjs';

const [rounds = 3, count = 200000, size = 128] = process.argv.slice(2).map(Number);

function start(kind) {
  return startServer(kind, {
    config: 'websocket { listen: "127.0.0.1:-1", no_tls: true }\n',
    ready: (ports) => ports.websocket !== undefined,
  }).then((s) => ({ ...s, ws: s.ports.websocket[0] }));
}

function wsClient(url) {
  return wsconnect({
    servers: url,
    wsFactory: (u) =>
      Promise.resolve({ socket: new WebSocket(u, { perMessageDeflate: false }), encrypted: false }),
  });
}

/** Publish `count` messages on `pub`, received on `sub`; messages per second end to end. */
async function flow(pub, sub) {
  const payload = new Uint8Array(size);
  let got = 0;
  const done = new Promise((resolve) => {
    sub.subscribe('bench', {
      callback: () => {
        if (++got === count) resolve();
      },
    });
  });
  await sub.flush();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    pub.publish('bench', payload);
    if (i % 1000 === 999) await pub.flush();
  }
  await done;
  return count / ((performance.now() - t0) / 1000);
}

async function once(kind) {
  const s = await start(kind);
  try {
    const ws = await wsClient(s.ws);
    const tcp = await connect({ servers: s.url });
    const wsToTcp = await flow(ws, tcp);
    await ws.close();
    await tcp.close();
    const ws2 = await wsClient(s.ws);
    const tcp2 = await connect({ servers: s.url });
    const tcpToWs = await flow(tcp2, ws2);
    await ws2.close();
    await tcp2.close();
    return { wsToTcp, tcpToWs };
  } finally {
    await s.stop();
  }
}

const results = { tsnats: [], 'nats-server': [] };
for (let r = 0; r < rounds; r++) {
  for (const kind of ['tsnats', 'nats-server']) {
    const res = await once(kind);
    results[kind].push(res);
    console.log(
      `round ${r + 1} ${kind}: ws->tcp ${Math.round(res.wsToTcp)} msgs/s, tcp->ws ${Math.round(res.tcpToWs)} msgs/s`,
    );
  }
}
for (const k of ['wsToTcp', 'tcpToWs']) {
  const t = median(results.tsnats.map((x) => x[k]));
  const n = median(results['nats-server'].map((x) => x[k]));
  console.log(
    `${k}: tsnats ${Math.round(t)} / nats-server ${Math.round(n)} msgs/s, ratio ${(t / n).toFixed(2)}`,
  );
}
