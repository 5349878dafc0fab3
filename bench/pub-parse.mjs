#!/usr/bin/env node
// Time a server spends on N PUBs with no subscriber, without a load generator in the way: one raw socket
// writes a prebuilt buffer of `PUB bench <size>` messages and a PING, and the clock stops at the PONG.
// The server runs in this process from dist/src (so `node --cpu-prof bench/pub-parse.mjs` profiles it).
// Usage: node bench/pub-parse.mjs [messages=3000000] [size=16] [rounds=5] [pub|hpub]
// (hpub: each message has a header section, `NATS/1.0` and an empty line, as nats.js sends with headers)
import net from 'node:net';
import { Server } from '../dist/src/index.js';

const n = Number(process.argv[2] ?? 3_000_000);
const size = Number(process.argv[3] ?? 16);
const rounds = Number(process.argv[4] ?? 5);
const op = process.argv[5] ?? 'pub';
const HDR = 'NATS/1.0\r\n\r\n';
const one = Buffer.from(
  op === 'hpub'
    ? `HPUB bench ${HDR.length} ${HDR.length + size}\r\n${HDR}${'x'.repeat(size)}\r\n`
    : `PUB bench ${size}\r\n${'x'.repeat(size)}\r\n`,
);
const chunk = Buffer.concat(Array.from({ length: 1000 }, () => one));

const server = new Server({ host: '127.0.0.1', port: 0, noLog: true });
await server.ready();

async function round() {
  const sock = net.connect(server.port, '127.0.0.1');
  await new Promise((resolve) => sock.once('data', resolve)); // INFO
  sock.write('CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n');
  const t0 = process.hrtime.bigint();
  let sent = 0;
  const pong = new Promise((resolve) => {
    let text = '';
    sock.on('data', (d) => {
      text += d.toString('latin1');
      if (text.includes('PONG')) resolve();
    });
  });
  while (sent < n) {
    if (!sock.write(chunk)) await new Promise((resolve) => sock.once('drain', resolve));
    sent += 1000;
  }
  sock.write('PING\r\n');
  await pong;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  sock.destroy();
  return s;
}

const times = [];
for (let r = 0; r < rounds; r++) times.push(await round());
times.sort((a, b) => a - b);
const med = times[(times.length - 1) >> 1];
console.log(
  `${n} x ${size} B (${op}): median ${(med * 1000).toFixed(0)} ms, ${(n / med / 1e6).toFixed(2)} M msgs/s, ${((med * 1e9) / n).toFixed(0)} ns/msg (min ${(times[0] * 1000).toFixed(0)} ms)`,
);
await server.shutdown();
