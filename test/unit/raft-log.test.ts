// The Raft write-ahead log (src/raft/log.ts): one behavioural suite run against the memory log and the
// file log (with default and tiny segments, with and without syncAlways; for the file log every check is
// repeated after a reopen), then the file log's own concerns: segment files, the compaction marker,
// recovery from torn and corrupt files and from operations cut short, deletion and the sync timer.

import assert from 'node:assert/strict';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  encodeRecord,
  FileRaftLog,
  type FileRaftLogOptions,
  MemRaftLog,
  type RaftLog,
  RECORD_HEADER,
  segmentName,
} from '../../src/raft/log.js';
import { rng } from '../helpers/random.js';

const root = mkdtempSync(join(tmpdir(), 'tsnats-raftlog-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const newDir = (): string => join(root, `d${++dirs}`);

/** The data stored for (index, term): content and length depend on both. */
function payload(index: number, term: number): Buffer {
  return Buffer.from(`<${index}:${term}>`.repeat(1 + ((index * 7 + term) % 9)));
}

/** Everything observable about a log. */
function observe(log: RaftLog): unknown {
  const entries = [];
  for (let i = log.firstIndex; i <= log.lastIndex; i++) {
    const e = log.get(i);
    entries.push(e === undefined ? undefined : { index: e.index, term: e.term, data: e.data.toString() });
  }
  return {
    first: log.firstIndex,
    last: log.lastIndex,
    count: log.count,
    bytes: log.bytes,
    entries,
    before: log.get(log.firstIndex - 1),
    after: log.get(log.lastIndex + 1),
  };
}

function fill(log: RaftLog, to: number, term: number): void {
  for (let i = log.lastIndex + 1; i <= to; i++) log.append(i, term, payload(i, term));
}

interface Harness {
  name: string;
  open(): RaftLog;
  /** The same log after a restart (the memory log: itself). */
  reopen(log: RaftLog): RaftLog;
}

function fileHarness(name: string, opts: FileRaftLogOptions): Harness {
  const dirOf = new Map<RaftLog, string>();
  return {
    name,
    open() {
      const dir = newDir();
      const log = new FileRaftLog(dir, { syncIntervalMs: 0, ...opts });
      dirOf.set(log, dir);
      return log;
    },
    reopen(log) {
      const dir = dirOf.get(log)!;
      log.close();
      const again = new FileRaftLog(dir, { syncIntervalMs: 0, ...opts });
      assert.equal(again.lostData(), undefined, 'a clean reopen loses nothing');
      dirOf.set(again, dir);
      return again;
    },
  };
}

const harnesses: Harness[] = [
  { name: 'MemRaftLog', open: () => new MemRaftLog(), reopen: (log) => log },
  fileHarness('FileRaftLog', {}),
  fileHarness('FileRaftLog, 200-byte segments', { segmentBytes: 200 }),
  fileHarness('FileRaftLog, 100-byte segments, syncAlways', { segmentBytes: 100, syncAlways: true }),
];

for (const h of harnesses) {
  describe(`raft log: ${h.name}`, () => {
    /** Check `expect` now and after a reopen; returns the reopened log. */
    const same = (log: RaftLog, expect: unknown, what: string): RaftLog => {
      assert.deepEqual(observe(log), expect, what);
      const again = h.reopen(log);
      assert.deepEqual(observe(again), expect, `${what}, after reopen`);
      return again;
    };

    test('a new log is empty at index 1', () => {
      let log = h.open();
      const empty = {
        first: 1,
        last: 0,
        count: 0,
        bytes: 0,
        entries: [],
        before: undefined,
        after: undefined,
      };
      log = same(log, empty, 'new');
      assert.equal(log.get(1), undefined);
      assert.equal(log.termAt(0), undefined);
      log.close();
    });

    test('append, get and termAt', () => {
      let log = h.open();
      let bytes = 0;
      for (let i = 1; i <= 30; i++) {
        const term = 1 + Math.floor(i / 10);
        log.append(i, term, payload(i, term));
        bytes += payload(i, term).length;
      }
      assert.equal(log.count, 30);
      assert.equal(log.bytes, bytes);
      for (let i = 1; i <= 30; i++) {
        const e = log.get(i)!;
        assert.equal(e.index, i);
        assert.equal(e.term, 1 + Math.floor(i / 10));
        assert.deepEqual(e.data, payload(i, e.term));
        assert.equal(log.termAt(i), e.term);
      }
      assert.equal(log.get(31), undefined);
      assert.equal(log.termAt(31), undefined);
      assert.equal(log.get(1.5), undefined);
      const expect = observe(log);
      log = same(log, expect, 'after appends');
      fill(log, 40, 5);
      assert.equal(log.termAt(40), 5);
      log.close();
    });

    test('append copies the data, and empty entries are fine', () => {
      const log = h.open();
      const src = Buffer.from('abc');
      log.append(1, 1, src);
      src.write('xyz');
      assert.equal(log.get(1)!.data.toString(), 'abc');
      log.append(2, 1, Buffer.alloc(0));
      assert.equal(log.get(2)!.data.length, 0);
      const again = h.reopen(log);
      assert.equal(again.get(1)!.data.toString(), 'abc');
      assert.equal(again.get(2)!.data.length, 0);
      assert.equal(again.bytes, 3);
      again.close();
    });

    test('append at any index but lastIndex + 1 or with a bad term is a RangeError', () => {
      const log = h.open();
      assert.throws(() => log.append(0, 1, payload(0, 1)), RangeError);
      assert.throws(() => log.append(2, 1, payload(2, 1)), RangeError);
      fill(log, 3, 1);
      assert.throws(() => log.append(3, 1, payload(3, 1)), RangeError);
      assert.throws(() => log.append(5, 1, payload(5, 1)), RangeError);
      assert.throws(() => log.append(4.5, 1, payload(4, 1)), RangeError);
      assert.throws(() => log.append(4, -1, payload(4, 1)), RangeError);
      assert.throws(() => log.append(4, 1.5, payload(4, 1)), RangeError);
      assert.throws(() => log.append(4, Number.NaN, payload(4, 1)), RangeError);
      assert.equal(log.lastIndex, 3);
      log.append(4, 0, payload(4, 0));
      const again = h.reopen(log);
      assert.equal(again.lastIndex, 4);
      again.close();
    });

    test('truncateAfter in the middle, then append with a new term', () => {
      let log = h.open();
      fill(log, 10, 1);
      log.truncateAfter(6);
      assert.equal(log.lastIndex, 6);
      assert.equal(log.count, 6);
      assert.equal(log.get(7), undefined);
      log = same(log, observe(log), 'truncated');
      fill(log, 12, 2);
      assert.equal(log.termAt(6), 1);
      assert.equal(log.termAt(7), 2);
      log = same(log, observe(log), 'appended after the truncation');
      log.close();
    });

    test('truncateAfter at or beyond the end is a no-op', () => {
      let log = h.open();
      fill(log, 5, 1);
      const before = observe(log);
      log.truncateAfter(5);
      log.truncateAfter(9);
      log = same(log, before, 'unchanged');
      log.close();
    });

    test('truncateAfter(firstIndex - 1) drops everything', () => {
      let log = h.open();
      fill(log, 8, 1);
      log.truncateAfter(0);
      log = same(
        log,
        { first: 1, last: 0, count: 0, bytes: 0, entries: [], before: undefined, after: undefined },
        'emptied',
      );
      fill(log, 3, 2);
      log = same(log, observe(log), 'refilled');
      assert.equal(log.termAt(1), 2);
      // The same after a compaction: the log restarts at firstIndex.
      fill(log, 10, 2);
      log.compact(6);
      log.truncateAfter(5);
      log = same(
        log,
        { first: 6, last: 5, count: 0, bytes: 0, entries: [], before: undefined, after: undefined },
        'emptied after a compaction',
      );
      fill(log, 7, 3);
      log = same(log, observe(log), 'refilled after a compaction');
      assert.equal(log.termAt(6), 3);
      log.close();
    });

    test('truncateAfter below firstIndex - 1 is a RangeError', () => {
      const log = h.open();
      fill(log, 10, 1);
      log.compact(5);
      assert.throws(() => log.truncateAfter(3), RangeError);
      assert.throws(() => log.truncateAfter(-1), RangeError);
      assert.throws(() => log.truncateAfter(7.5), RangeError);
      assert.equal(log.lastIndex, 10);
      log.close();
    });

    test('compact inside the log keeps entries >= index', () => {
      let log = h.open();
      fill(log, 20, 1);
      log.compact(8);
      assert.equal(log.firstIndex, 8);
      assert.equal(log.lastIndex, 20);
      assert.equal(log.count, 13);
      assert.equal(log.get(7), undefined);
      assert.equal(log.termAt(7), undefined);
      assert.deepEqual(log.get(8)!.data, payload(8, 1));
      const expect = observe(log);
      log.compact(8);
      log.compact(3);
      log.compact(-4);
      log = same(log, expect, 'compacted');
      log.compact(20);
      log = same(log, observe(log), 'compacted to the last entry');
      assert.equal(log.count, 1);
      fill(log, 25, 2);
      log = same(log, observe(log), 'appended after compaction');
      log.close();
    });

    test('compact at the end (lastIndex + 1) then append', () => {
      let log = h.open();
      fill(log, 10, 1);
      log.compact(11);
      log = same(
        log,
        { first: 11, last: 10, count: 0, bytes: 0, entries: [], before: undefined, after: undefined },
        'compacted at the end',
      );
      assert.throws(() => log.append(10, 1, payload(10, 1)), RangeError);
      fill(log, 13, 2);
      log = same(log, observe(log), 'appended');
      assert.equal(log.firstIndex, 11);
      log.close();
    });

    test('compact past the end moves the next index', () => {
      let log = h.open();
      fill(log, 10, 1);
      log.compact(100);
      log = same(
        log,
        { first: 100, last: 99, count: 0, bytes: 0, entries: [], before: undefined, after: undefined },
        'compacted past the end',
      );
      assert.throws(() => log.append(11, 1, payload(11, 1)), RangeError);
      log.compact(100);
      log.compact(50);
      fill(log, 105, 3);
      log = same(log, observe(log), 'appended');
      assert.equal(log.firstIndex, 100);
      // Past the end of an empty log, twice.
      log.compact(106);
      log.compact(200);
      log = same(
        log,
        { first: 200, last: 199, count: 0, bytes: 0, entries: [], before: undefined, after: undefined },
        'twice',
      );
      log.close();
    });

    test('compact on a new log', () => {
      let log = h.open();
      log.compact(42);
      log = same(
        log,
        { first: 42, last: 41, count: 0, bytes: 0, entries: [], before: undefined, after: undefined },
        'new',
      );
      log.append(42, 7, payload(42, 7));
      log = same(log, observe(log), 'one entry');
      log.close();
    });

    test('compact with a non-integer is a RangeError', () => {
      const log = h.open();
      assert.throws(() => log.compact(Number.NaN), RangeError);
      assert.throws(() => log.compact(2.5), RangeError);
      log.close();
    });

    test('changes after close throw', () => {
      const log = h.open();
      fill(log, 2, 1);
      log.close();
      log.close();
      assert.throws(() => log.append(3, 1, payload(3, 1)), /closed/);
      assert.throws(() => log.truncateAfter(1), /closed/);
      assert.throws(() => log.compact(2), /closed/);
      log.sync();
    });

    test('random operations match a model, across reopens', () => {
      const rand = rng(0x4a17 + h.name.length);
      let log = h.open();
      let first = 1;
      let terms: number[] = []; // terms[i] for index first + i
      let term = 1;
      for (let step = 0; step < 600; step++) {
        const last = first + terms.length - 1;
        const x = rand();
        if (x < 0.7) {
          log.append(last + 1, term, payload(last + 1, term));
          terms.push(term);
        } else if (x < 0.8) {
          const at = first - 1 + Math.floor(rand() * (terms.length + 2));
          log.truncateAfter(at);
          if (at < last) terms = terms.slice(0, at - first + 1);
          term++;
        } else if (x < 0.9) {
          const at = first - 2 + Math.floor(rand() * (terms.length + 6));
          log.compact(at);
          if (at > last + 1) {
            terms = [];
            first = at;
          } else if (at > first) {
            terms = terms.slice(at - first);
            first = at;
          }
        } else {
          log = h.reopen(log);
        }
        assert.equal(log.firstIndex, first, `step ${step}: firstIndex`);
        assert.equal(log.lastIndex, first + terms.length - 1, `step ${step}: lastIndex`);
        assert.equal(log.count, terms.length);
        for (let i = 0; i < terms.length; i++) {
          const e = log.get(first + i);
          assert.equal(e?.term, terms[i], `step ${step}: term at ${first + i}`);
          assert.deepEqual(e!.data, payload(first + i, terms[i]!));
        }
      }
      log.close();
    });
  });
}

describe('raft log: FileRaftLog files', () => {
  const walFiles = (dir: string): string[] =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.wal'))
      .sort();
  const open = (dir: string, opts: FileRaftLogOptions = {}): FileRaftLog =>
    new FileRaftLog(dir, { syncIntervalMs: 0, ...opts });
  const data50 = (i: number): Buffer => Buffer.alloc(50, i & 0xff);
  // 74-byte records, two per 200-byte segment.
  const fill50 = (log: RaftLog, to: number, term = 1): void => {
    for (let i = log.lastIndex + 1; i <= to; i++) log.append(i, term, data50(i));
  };

  test('the format: segment names and one record', () => {
    const dir = newDir();
    const log = open(dir);
    log.append(1, 3, Buffer.from('hello'));
    log.close();
    assert.deepEqual(walFiles(dir), ['00000000000000000001.wal']);
    assert.equal(segmentName(12345), '00000000000000012345.wal');
    const file = readFileSync(join(dir, segmentName(1)));
    assert.deepEqual(file, encodeRecord(1, 3, Buffer.from('hello')));
    assert.equal(file.length, RECORD_HEADER + 5);
    assert.equal(file.readUInt32LE(0), 5);
    assert.equal(file.readUInt32LE(8), 1);
    assert.equal(file.readUInt32LE(16), 3);
  });

  test('segments roll over at segmentBytes; truncate and compact work on whole files', () => {
    const dir = newDir();
    let log = open(dir, { segmentBytes: 200 });
    fill50(log, 9);
    assert.deepEqual(
      walFiles(dir),
      [1, 3, 5, 7, 9].map((i) => segmentName(i)),
    );
    assert.equal(statSync(join(dir, segmentName(1))).size, 148);
    log.truncateAfter(5);
    assert.deepEqual(
      walFiles(dir),
      [1, 3, 5].map((i) => segmentName(i)),
    );
    assert.equal(statSync(join(dir, segmentName(5))).size, 74);
    log.truncateAfter(4); // empties segment 5, which stays for the next append
    assert.deepEqual(
      walFiles(dir),
      [1, 3, 5].map((i) => segmentName(i)),
    );
    assert.equal(statSync(join(dir, segmentName(5))).size, 0);
    fill50(log, 8, 2);
    assert.deepEqual(
      walFiles(dir),
      [1, 3, 5, 7].map((i) => segmentName(i)),
    );
    log.compact(4); // segment 1 goes, segment 3 (3, 4) stays with 3 below firstIndex
    assert.deepEqual(
      walFiles(dir),
      [3, 5, 7].map((i) => segmentName(i)),
    );
    assert.ok(existsSync(join(dir, 'first')));
    log.close();
    log = open(dir, { segmentBytes: 200 });
    assert.equal(log.firstIndex, 4);
    assert.equal(log.lastIndex, 8);
    assert.equal(log.count, 5);
    assert.equal(log.get(3), undefined);
    assert.equal(log.termAt(5), 2);
    // Everything in segment 3 below firstIndex after this truncation: the file stays, reopen is right.
    log.truncateAfter(3);
    assert.deepEqual(
      walFiles(dir),
      [3].map((i) => segmentName(i)),
    );
    log.close();
    log = open(dir, { segmentBytes: 200 });
    assert.deepEqual([log.firstIndex, log.lastIndex, log.count], [4, 3, 0]);
    fill50(log, 6, 3);
    log.compact(9);
    assert.deepEqual(walFiles(dir), []);
    fill50(log, 10, 4);
    assert.deepEqual(walFiles(dir), [segmentName(9)]);
    log.close();
    log = open(dir, { segmentBytes: 200 });
    assert.deepEqual([log.firstIndex, log.lastIndex, log.count, log.termAt(10)], [9, 10, 2, 4]);
    log.close();
  });

  test('a record larger than segmentBytes gets a segment of its own', () => {
    const dir = newDir();
    const log = open(dir, { segmentBytes: 64 });
    log.append(1, 1, Buffer.alloc(10));
    log.append(2, 1, Buffer.alloc(500));
    log.append(3, 1, Buffer.alloc(10));
    assert.deepEqual(
      walFiles(dir),
      [1, 2, 3].map((i) => segmentName(i)),
    );
    log.close();
    const again = open(dir, { segmentBytes: 64 });
    assert.equal(again.get(2)!.data.length, 500);
    again.close();
  });

  test('a torn last record is truncated away and reported once', () => {
    const dir = newDir();
    const log = open(dir, { segmentBytes: 200 });
    fill50(log, 5);
    log.close();
    const last = join(dir, segmentName(5));
    truncateSync(last, 74 - 10); // record 5 cut short
    let again = open(dir, { segmentBytes: 200 });
    assert.deepEqual(again.lostData(), { entries: 1, bytes: 64 });
    assert.deepEqual([again.firstIndex, again.lastIndex], [1, 4]);
    assert.equal(statSync(last).size, 0);
    fill50(again, 6, 2);
    again.close();
    again = open(dir, { segmentBytes: 200 });
    assert.equal(again.lostData(), undefined);
    assert.deepEqual([again.lastIndex, again.termAt(5), again.termAt(4)], [6, 2, 1]);
    again.close();
  });

  test('garbage after the last record is truncated away and reported', () => {
    const dir = newDir();
    const log = open(dir);
    fill50(log, 3);
    log.close();
    const file = join(dir, segmentName(1));
    appendFileSync(file, Buffer.from('not a record, just some bytes'));
    const again = open(dir);
    assert.deepEqual(again.lostData(), { entries: 1, bytes: 29 });
    assert.equal(again.lastIndex, 3);
    assert.equal(statSync(file).size, 3 * 74);
    again.close();
  });

  test('a corrupt record in an older segment: the log ends before it, later segments go', () => {
    const dir = newDir();
    const log = open(dir, { segmentBytes: 200 });
    fill50(log, 9);
    log.close();
    const file = join(dir, segmentName(3));
    const buf = readFileSync(file);
    buf[74 + RECORD_HEADER + 3]! ^= 0xff; // a data byte of record 4
    writeFileSync(file, buf);
    const again = open(dir, { segmentBytes: 200 });
    // Record 4, then segments 5 (2 records), 7 (2) and 9 (1).
    assert.deepEqual(again.lostData(), { entries: 6, bytes: 6 * 74 });
    assert.deepEqual([again.firstIndex, again.lastIndex], [1, 3]);
    assert.deepEqual(
      walFiles(dir),
      [1, 3].map((i) => segmentName(i)),
    );
    fill50(again, 5, 2);
    again.close();
    const third = open(dir, { segmentBytes: 200 });
    assert.equal(third.lostData(), undefined);
    assert.deepEqual([third.lastIndex, third.termAt(4)], [5, 2]);
    third.close();
  });

  test('a record with the wrong index ends the log', () => {
    const dir = newDir();
    const log = open(dir);
    fill50(log, 3);
    log.close();
    appendFileSync(join(dir, segmentName(1)), encodeRecord(7, 1, data50(7)));
    const again = open(dir);
    assert.deepEqual(again.lostData(), { entries: 1, bytes: 74 });
    assert.equal(again.lastIndex, 3);
    again.close();
  });

  test('a segment that does not continue the chain is dropped with what follows', () => {
    const dir = newDir();
    const log = open(dir, { segmentBytes: 200 });
    fill50(log, 6);
    log.close();
    unlinkSync(join(dir, segmentName(3)));
    const again = open(dir, { segmentBytes: 200 });
    assert.deepEqual(again.lostData(), { entries: 2, bytes: 148 });
    assert.deepEqual([again.firstIndex, again.lastIndex], [1, 2]);
    assert.deepEqual(walFiles(dir), [segmentName(1)]);
    again.close();
  });

  test('an empty last segment (roll cut short) is where appends continue', () => {
    const dir = newDir();
    const log = open(dir, { segmentBytes: 200 });
    fill50(log, 4);
    log.close();
    writeFileSync(join(dir, segmentName(5)), Buffer.alloc(0));
    const again = open(dir, { segmentBytes: 200 });
    assert.equal(again.lostData(), undefined);
    assert.equal(again.lastIndex, 4);
    fill50(again, 5);
    assert.equal(statSync(join(dir, segmentName(5))).size, 74);
    again.close();
  });

  test('a compaction cut short after its marker is completed on open', () => {
    const dir = newDir();
    const log = open(dir, { segmentBytes: 200 });
    fill50(log, 9);
    log.close();
    for (const [at, first, last, files] of [
      [6, 6, 9, [5, 7, 9]],
      [10, 10, 9, []],
      [30, 30, 29, []],
    ] as const) {
      // The marker of compact(at), then a crash before any segment was deleted.
      const copy = newDir();
      cpSync(dir, copy, { recursive: true });
      const done = newDir();
      cpSync(dir, done, { recursive: true });
      const d = open(done, { segmentBytes: 200 });
      d.compact(at);
      d.close();
      cpSync(join(done, 'first'), join(copy, 'first'));
      writeFileSync(join(copy, 'first.tmp'), 'left over');
      const again = open(copy, { segmentBytes: 200 });
      assert.equal(again.lostData(), undefined);
      assert.deepEqual([again.firstIndex, again.lastIndex], [first, last], `compact(${at})`);
      const reference = open(done, { segmentBytes: 200 });
      assert.deepEqual(observe(again), observe(reference));
      reference.close();
      assert.deepEqual(
        walFiles(copy),
        files.map((i) => segmentName(i)),
      );
      assert.ok(!existsSync(join(copy, 'first.tmp')));
      again.close();
    }
  });

  test('a truncation cut short leaves a longer prefix, never a gap', () => {
    const dir = newDir();
    const log = open(dir, { segmentBytes: 200 });
    fill50(log, 9);
    log.close();
    // truncateAfter(2) deletes segments 9, 7, 5 then truncates 3: crash after deleting 9 and 7.
    unlinkSync(join(dir, segmentName(9)));
    unlinkSync(join(dir, segmentName(7)));
    const again = open(dir, { segmentBytes: 200 });
    assert.equal(again.lostData(), undefined);
    assert.deepEqual([again.firstIndex, again.lastIndex], [1, 6]);
    again.close();
  });

  test('a damaged or missing marker: the log starts where its files start', () => {
    const dir = newDir();
    const log = open(dir, { segmentBytes: 200 });
    fill50(log, 9);
    log.compact(4);
    log.close();
    const marker = readFileSync(join(dir, 'first'));
    assert.equal(marker.length, 16);
    marker[8]! ^= 1;
    writeFileSync(join(dir, 'first'), marker);
    let again = open(dir, { segmentBytes: 200 });
    assert.deepEqual([again.firstIndex, again.lastIndex], [3, 9]);
    again.close();
    unlinkSync(join(dir, 'first'));
    again = open(dir, { segmentBytes: 200 });
    assert.deepEqual([again.firstIndex, again.lastIndex], [3, 9]);
    again.compact(5);
    again.close();
    again = open(dir, { segmentBytes: 200 });
    assert.deepEqual([again.firstIndex, again.lastIndex], [5, 9]);
    again.close();
  });

  test('delete removes the files and the directory, and leaves files of others', () => {
    const dir = newDir();
    const log = open(dir, { segmentBytes: 200 });
    fill50(log, 5);
    log.compact(3);
    log.delete();
    assert.ok(!existsSync(dir));
    assert.throws(() => log.append(6, 1, data50(6)), /closed/);
    const dir2 = newDir();
    const log2 = open(dir2);
    fill50(log2, 2);
    writeFileSync(join(dir2, 'other'), 'x');
    log2.delete();
    assert.deepEqual(readdirSync(dir2), ['other']);
  });

  test('sync, the sync timer and syncAlways', async () => {
    const dir = newDir();
    const log = new FileRaftLog(dir, { syncIntervalMs: 5, segmentBytes: 200 });
    fill50(log, 5);
    log.compact(2);
    log.sync();
    fill50(log, 9);
    await new Promise((r) => setTimeout(r, 30)); // the timer runs (and does not keep the process alive)
    log.truncateAfter(6);
    log.sync();
    log.close();
    const always = open(dir, { syncAlways: true, segmentBytes: 200 });
    assert.deepEqual([always.firstIndex, always.lastIndex], [2, 6]);
    fill50(always, 12, 2);
    always.compact(8);
    always.truncateAfter(10);
    always.close();
    const again = open(dir);
    assert.deepEqual([again.firstIndex, again.lastIndex, again.termAt(10)], [8, 10, 2]);
    again.close();
  });

  test('invalid segmentBytes is a RangeError', () => {
    assert.throws(() => open(newDir(), { segmentBytes: 0 }), RangeError);
  });
});
