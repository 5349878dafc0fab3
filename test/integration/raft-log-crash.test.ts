// Crash safety of the Raft write-ahead log (src/raft/log.ts): a child process appends, truncates and
// compacts as fast as it can, printing each operation once it has returned; the parent SIGKILLs it at
// pseudo-random moments (fixed seed), reopens the log in-process and checks that it holds exactly what the
// reported operations produced. The kill may land after an operation returned but before its line was
// printed, or in the middle of one: the parent replays the child's operation sequence (fixture
// raft-log-crash-child.ts), so it knows that pending operation and accepts its effect, complete or (for a
// truncation, which deletes segment files one by one) partial. Several rounds on the same directory, so
// each round also recovers from the previous kill and carries on after it.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FileRaftLog } from '../../src/raft/log.js';
import { CRASH_SEGMENT_BYTES, type CrashOp, crashPayload, nextOp } from '../fixtures/raft-log-crash-child.js';
import { rng } from '../helpers/random.js';

const CHILD = fileURLToPath(new URL('../fixtures/raft-log-crash-child.js', import.meta.url));
/** RAFTLOG_CRASH_ROUNDS=n for a longer soak (RAFTLOG_CRASH_STATS=1 prints what happened). */
const ROUNDS = Number(process.env['RAFTLOG_CRASH_ROUNDS'] ?? 12);
const SEED = 0x4af7c;

/** A log's contents: terms[i] is the term of index first + i. */
interface Model {
  first: number;
  terms: number[];
}

const lastOf = (m: Model): number => m.first + m.terms.length - 1;

function apply(m: Model, op: CrashOp, term: number): Model {
  const last = lastOf(m);
  if (op.kind === 'a') return { first: m.first, terms: [...m.terms, term] };
  if (op.kind === 't')
    return op.index < last ? { first: m.first, terms: m.terms.slice(0, op.index - m.first + 1) } : m;
  if (op.index > last) return { first: op.index, terms: [] };
  if (op.index > m.first) return { first: op.index, terms: m.terms.slice(op.index - m.first) };
  return m;
}

function samePrefix(found: Model, m: Model, n: number): boolean {
  if (found.first !== m.first) return false;
  for (let i = 0; i < n; i++) if (found.terms[i] !== m.terms[i]) return false;
  return true;
}

/**
 * How the reopened log relates to the model of the reported operations: 'before' (the pending operation
 * left no trace), 'after' (it completed) or 'partial' (a truncation cut short); undefined if none of these.
 */
function outcome(found: Model, m: Model, pending: CrashOp, term: number): string | undefined {
  const n = m.terms.length;
  if (found.terms.length === n && samePrefix(found, m, n)) return 'before';
  if (pending.kind === 'a') {
    if (found.terms.length === n + 1 && samePrefix(found, m, n) && found.terms[n] === term) return 'after';
  } else if (pending.kind === 't') {
    const last = lastOf(found);
    if (last >= pending.index && last < lastOf(m) && samePrefix(found, m, found.terms.length)) {
      return last === pending.index ? 'after' : 'partial';
    }
  } else {
    const done = apply(m, pending, term);
    if (found.terms.length === done.terms.length && samePrefix(found, done, done.terms.length))
      return 'after';
  }
  return undefined;
}

interface Run {
  ready: [number, number];
  lines: string[];
}

/** Run the child until killed `delayMs` after it is ready; its complete lines. */
function runChild(dir: string, seed: number, term: number, delayMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(seed), String(term)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TSNATS_RAFTLOG_CRASH_CHILD: '1' },
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
      if (killTimer === undefined && out.includes('\n')) {
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
      // Only complete lines count: a line cut by the kill was never fully reported.
      const lines = out.slice(0, out.lastIndexOf('\n')).split('\n');
      const ready = /^ready (\d+) (\d+)$/.exec(lines.shift() ?? '');
      if (ready === null) {
        reject(new Error(`no ready line: ${out.slice(0, 200)} ${err}`));
        return;
      }
      resolve({ ready: [Number(ready[1]), Number(ready[2])], lines });
    });
  });
}

const root = mkdtempSync(join(tmpdir(), 'tsnats-raftlog-crash-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('SIGKILL at random moments: the log holds what the reported operations produced', async () => {
  const dir = join(root, 'log');
  const rand = rng(SEED);
  let model: Model = { first: 1, terms: [] };
  const ops = { a: 0, t: 0, c: 0 };
  const outcomes: Record<string, number> = {};
  let lostReports = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const seed = Math.floor(rand() * 2 ** 31);
    const delay = 10 + Math.floor(rand() * 240);
    let term = round * 1_000_000 + 1;
    const run = await runChild(dir, seed, term, delay);
    assert.deepEqual(run.ready, [model.first, lastOf(model)], `round ${round}: the child opened what we saw`);
    assert.ok(run.lines.length > 0, `round ${round}: the child reported something`);

    // Replay the reported operations; each must be the one the shared sequence predicts.
    const opRand = rng(seed);
    for (const line of run.lines) {
      const op = nextOp(opRand, model.first, lastOf(model));
      const expect = op.kind === 'a' ? `a ${op.index} ${term}` : `${op.kind} ${op.index}`;
      assert.equal(line, expect, `round ${round}: the child's operations follow the sequence`);
      model = apply(model, op, term);
      if (op.kind === 't') term++;
      ops[op.kind]++;
    }
    const pending = nextOp(opRand, model.first, lastOf(model));

    const log = new FileRaftLog(dir, { segmentBytes: CRASH_SEGMENT_BYTES, syncIntervalMs: 0 });
    try {
      const found: Model = { first: log.firstIndex, terms: [] };
      let bytes = 0;
      for (let i = log.firstIndex; i <= log.lastIndex; i++) {
        const e = log.get(i);
        assert.ok(e !== undefined, `round ${round}: entry ${i} is held`);
        assert.deepEqual(e.data, crashPayload(i, e.term), `round ${round}: entry ${i} intact`);
        found.terms.push(e.term);
        bytes += e.data.length;
      }
      assert.equal(log.count, found.terms.length);
      assert.equal(log.bytes, bytes);
      const how = outcome(found, model, pending, term);
      assert.ok(
        how !== undefined,
        `round ${round}: reopened [${found.first}, ${lastOf(found)}] matches neither the reported ` +
          `[${model.first}, ${lastOf(model)}] nor it after the pending ${pending.kind} ${pending.index}`,
      );
      outcomes[`${pending.kind} ${how}`] = (outcomes[`${pending.kind} ${how}`] ?? 0) + 1;
      const lost = log.lostData();
      if (lost !== undefined) {
        // SIGKILL can cut a write short: only the record of an append that never returned may go.
        lostReports++;
        assert.equal(pending.kind, 'a', `round ${round}: only an append can leave a torn record`);
        assert.equal(lost.entries, 1, `round ${round}: at most the record being written is lost`);
      }
      model = found;
    } finally {
      log.close();
    }
  }
  assert.ok(ops.a > ROUNDS * 50 && ops.t > 0 && ops.c > 0, `operations: ${JSON.stringify(ops)}`);
  if (process.env['RAFTLOG_CRASH_STATS']) console.log({ ops, outcomes, lostReports, model: lastOf(model) });
});
