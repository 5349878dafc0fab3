import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { waitFor } from '../helpers/wait-for.js';

const BIN = fileURLToPath(new URL('../../../bin/tsnats', import.meta.url));

interface Running {
  child: ChildProcess;
  url: string;
  log: () => string;
}

/** Start bin/tsnats -js on `dir` and wait for its ports file. */
async function startTsnats(dir: string): Promise<Running> {
  for (const f of readdirSync(dir)) if (f.endsWith('.ports')) unlinkSync(join(dir, f));
  const child = spawn(BIN, ['-a', '127.0.0.1', '-p', '-1', '--ports_file_dir', dir, '-js', '-sd', dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    log += d;
  });
  let url = '';
  await waitFor(
    () => {
      const f = readdirSync(dir).find((n) => n.endsWith('.ports'));
      if (f === undefined) return false;
      url = (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { nats: string[] }).nats[0]!;
      return true;
    },
    10000,
    'tsnats to start',
  );
  return { child, url, log: () => log };
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const payloadOf = (i: number): string => `message-${i}-${'x'.repeat(i % 97)}`;

test('SIGKILL while a client publishes with acks: every acknowledged message survives, intact', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsnats-jscrash-'));
  const random = rng(20261128);
  const acked = new Map<number, string>(); // stream sequence -> payload
  let next = 0;
  try {
    let srv = await startTsnats(dir);
    {
      const nc = await connect({ servers: srv.url });
      await (await jetstreamManager(nc)).streams.add({
        name: 'CRASH',
        subjects: ['crash.>'],
        storage: 'file',
      });
      await nc.close();
    }
    for (let round = 0; round < 4; round++) {
      const nc = await connect({ servers: srv.url, reconnect: false });
      const js = jetstream(nc);
      const killAfter = 20 + Math.floor(random() * 200);
      let publishing = true;
      const publisher = (async () => {
        const inflight = new Set<Promise<void>>();
        while (publishing) {
          const i = next++;
          const body = payloadOf(i);
          const p = js.publish(`crash.${i % 7}`, body).then(
            (ack) => {
              acked.set(ack.seq, body);
            },
            () => {
              // The server is gone: stop publishing (what was not acknowledged may or may not be stored).
              publishing = false;
            },
          );
          inflight.add(p);
          void p.finally(() => inflight.delete(p));
          if (inflight.size >= 64) await Promise.race(inflight);
          // Let I/O and timers run between publishes (settled promises alone never yield to them).
          if (i % 64 === 0) await new Promise((r) => setImmediate(r));
        }
        await Promise.allSettled(inflight);
      })();
      await new Promise((r) => setTimeout(r, killAfter));
      srv.child.kill('SIGKILL');
      await killed(srv.child);
      publishing = false;
      await publisher;
      await nc.close().catch(() => {});
      srv = await startTsnats(dir);
      // Every acknowledged message is there with its payload.
      const check = await connect({ servers: srv.url });
      const jsm = await jetstreamManager(check);
      const info = await jsm.streams.info('CRASH');
      assert.ok(
        info.state.messages >= acked.size,
        `round ${round}: ${info.state.messages} < ${acked.size} acked`,
      );
      for (const [seq, body] of acked) {
        const m = await jsm.streams.getMessage('CRASH', { seq });
        assert.equal(m?.string(), body, `round ${round}: sequence ${seq}`);
      }
      await check.close();
    }
    assert.ok(acked.size > 100, `only ${acked.size} messages were acknowledged`);
    srv.child.kill('SIGTERM');
    await killed(srv.child);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a corrupt tail in a stream block: the server starts, reports the loss, keeps the valid prefix', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsnats-jscorrupt-'));
  try {
    let srv = await startTsnats(dir);
    const nc = await connect({ servers: srv.url });
    await (await jetstreamManager(nc)).streams.add({ name: 'TORN', subjects: ['torn'], storage: 'file' });
    const js = jetstream(nc);
    for (let i = 0; i < 50; i++) await js.publish('torn', `m${i}`);
    await nc.close();
    srv.child.kill('SIGTERM');
    await killed(srv.child);
    // Garbage after the last record of the last block, as a torn write would leave.
    const streamDir = join(dir, 'jetstream', '$G', 'streams', 'TORN');
    const blocks: string[] = [];
    const walk = (d: string): void => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (f.endsWith('.blk')) blocks.push(p);
      }
    };
    walk(streamDir);
    blocks.sort();
    assert.ok(blocks.length > 0, 'a block file exists');
    appendFileSync(blocks[blocks.length - 1]!, Buffer.from([0x24, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    srv = await startTsnats(dir);
    const check = await connect({ servers: srv.url });
    const jsm = await jetstreamManager(check);
    const info = await jsm.streams.info('TORN');
    assert.equal(info.state.messages, 50);
    assert.equal((await jsm.streams.getMessage('TORN', { seq: 50 }))?.string(), 'm49');
    await check.close();
    await waitFor(() => /TORN.*lost/.test(srv.log()), 5000, 'the loss to be logged');
    srv.child.kill('SIGTERM');
    await killed(srv.child);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
