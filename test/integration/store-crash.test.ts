// Crash safety of the file store: a child process appends (and sometimes removes) as fast as it can,
// printing each sequence once storeMsg has returned; the parent SIGKILLs it at pseudo-random moments
// (fixed seed), reopens the store in-process and checks that every acknowledged message is present and
// intact and every acknowledged removal stuck. Several rounds on the same directory, so each round also
// recovers from the previous kill and appends after it.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FileStore } from '../../src/jetstream/store/filestore/filestore.js';
import { crashPayload, crashRemoves, crashSubject } from '../fixtures/store-crash-shared.js';
import { rng } from '../helpers/random.js';

const CHILD = fileURLToPath(new URL('../fixtures/store-crash-child.js', import.meta.url));
const ROUNDS = 7;
const SEED = 0x5702e;

interface Round {
  acked: number[];
  removed: number[];
}

/** Run the child until killed `delayMs` after it is ready; the lines it completed before dying. */
function runChild(dir: string, delayMs: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TSNATS_STORE_CRASH_CHILD: '1' },
    });
    let out = '';
    let err = '';
    let killTimer: NodeJS.Timeout | undefined;
    const failTimer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not become ready: ${err}`));
    }, 10_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (killTimer === undefined && out.startsWith('ready\n')) {
        killTimer = setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(failTimer);
      clearTimeout(killTimer);
      if (signal !== 'SIGKILL') {
        reject(new Error(`child exited (${code}, ${signal}) instead of being killed: ${err}`));
        return;
      }
      // Only complete lines count: a line cut by the kill was never fully acknowledged.
      const lines = out.slice(0, out.lastIndexOf('\n') + 1).split('\n');
      const round: Round = { acked: [], removed: [] };
      for (const line of lines) {
        if (line === '' || line === 'ready') continue;
        if (line.startsWith('d ')) round.removed.push(Number(line.slice(2)));
        else round.acked.push(Number(line));
      }
      resolve(round);
    });
  });
}

const root = mkdtempSync(join(tmpdir(), 'tsnats-crash-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('SIGKILL at random moments loses nothing acknowledged', async () => {
  const dir = join(root, 'stream');
  const rand = rng(SEED);
  const acked = new Set<number>();
  const removed = new Set<number>();
  let maxAcked = 0;
  let lostReports = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const delay = 10 + Math.floor(rand() * 240);
    const r = await runChild(dir, delay);
    assert.ok(r.acked.length > 0, `round ${round}: the child acknowledged something`);
    for (const seq of r.acked) {
      acked.add(seq);
      if (seq > maxAcked) maxAcked = seq;
    }
    for (const seq of r.removed) removed.add(seq);

    const store = new FileStore(dir, {}, { blockSize: 64 * 1024 });
    try {
      // The kill may land between a removal that returned and its `d` line: the last acknowledged append's
      // victim is then gone without a report. Either outcome is right; record which one happened.
      const last = r.acked[r.acked.length - 1]!;
      const victim = crashRemoves(last);
      if (victim > 0 && !removed.has(victim) && store.loadMsg(victim) === undefined) removed.add(victim);
      const lost = store.lostData();
      if (lost !== undefined) {
        // SIGKILL can cut a multi-page write short; only the unacknowledged last record may go.
        lostReports++;
        assert.equal(lost.msgs, 1, `round ${round}: at most the record being written is lost`);
      }
      const st = store.state();
      assert.ok(st.lastSeq >= maxAcked, `round ${round}: lastSeq ${st.lastSeq} >= acknowledged ${maxAcked}`);
      for (const seq of acked) {
        if (removed.has(seq)) continue;
        const m = store.loadMsg(seq);
        assert.ok(m !== undefined, `round ${round}: acknowledged message ${seq} is present`);
        assert.equal(m.subject, crashSubject(seq));
        assert.deepEqual(m.data, crashPayload(seq), `round ${round}: message ${seq} intact`);
      }
      for (const seq of removed) {
        assert.equal(store.loadMsg(seq), undefined, `round ${round}: removed message ${seq} stays removed`);
      }
      // Whatever else survived (written but not yet acknowledged) is intact too.
      let live = 0;
      for (let seq = st.firstSeq; seq <= st.lastSeq; seq++) {
        const m = store.loadMsg(seq);
        if (m === undefined) continue;
        live++;
        assert.deepEqual(m.data, crashPayload(seq), `round ${round}: message ${seq} intact`);
      }
      assert.equal(live, st.msgs);
    } finally {
      store.stop();
    }
  }
  assert.ok(acked.size > ROUNDS * 10, `${acked.size} acknowledged messages over ${ROUNDS} rounds`);
  if (process.env['STORE_CRASH_STATS']) {
    console.log({ acked: acked.size, removed: removed.size, maxAcked, lostReports });
  }
});
