import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { type Launched, launch } from '../helpers/launcher.js';
import { rng } from '../helpers/random.js';

/** Start bin/tsnats -js with its store in `dir`. */
function startTsnats(dir: string): Promise<Launched> {
  return launch({ jetstream: dir });
}

const payloadOf = (i: number): string => `message-${i}-${'x'.repeat(i % 97)}`;

test('SIGKILL while a client publishes with acks: every acknowledged message survives, intact', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsnats-jscrash-'));
  const random = rng(20261128);
  const acked = new Map<number, string>(); // stream sequence -> payload
  let next = 0;
  let srv: Launched | undefined;
  try {
    srv = await startTsnats(dir);
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
      await srv.stop('SIGKILL');
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
    await srv.stop();
  } finally {
    await srv?.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a corrupt tail in a stream block: the server starts, reports the loss, keeps the valid prefix', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsnats-jscorrupt-'));
  let srv: Launched | undefined;
  try {
    srv = await startTsnats(dir);
    const nc = await connect({ servers: srv.url });
    await (await jetstreamManager(nc)).streams.add({ name: 'TORN', subjects: ['torn'], storage: 'file' });
    const js = jetstream(nc);
    for (let i = 0; i < 50; i++) await js.publish('torn', `m${i}`);
    await nc.close();
    await srv.stop();
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
    await srv.waitForLog(/TORN.*lost/, 5000);
    await srv.stop();
  } finally {
    await srv?.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
