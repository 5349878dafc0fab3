// File store specifics: recovery after restart, torn and corrupt tails, erase on disk, block files and
// disk reclaim, sync modes, a full disk (ENOSPC injected through FileStoreOptions.io). Behaviour shared with the memory store is in test/conformance/store.test.ts.

import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import {
  cpSync,
  existsSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as zlib from 'node:zlib';
import { decodeCompressedBlock } from '../../src/jetstream/store/filestore/compress.js';
import { crc32, crc32Js, hasNativeCrc32, NATIVE_MIN } from '../../src/jetstream/store/filestore/crc32.js';
import {
  type FileIo,
  FileStore,
  type FileStoreOptions,
} from '../../src/jetstream/store/filestore/filestore.js';
import {
  BLOCK_HEADER_SIZE,
  checkRecord,
  REC_MSG,
  viewRecord,
} from '../../src/jetstream/store/filestore/format.js';
import {
  fileStoreMsgSize,
  StoreError,
  type StoreLimits,
  type StreamStore,
} from '../../src/jetstream/store/store.js';
import { passOutputBarrier } from '../../src/server/output-barrier.js';
import { waitFor } from '../helpers/wait-for.js';

const root = mkdtempSync(join(tmpdir(), 'tsnats-fs-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const newDir = (): string => join(root, `d${++n}`);

const EMPTY = Buffer.alloc(0);
const b = (s: string): Buffer => Buffer.from(s);

function open(dir: string, limits?: Partial<StoreLimits>, opts?: FileStoreOptions): FileStore {
  return new FileStore(dir, limits, opts);
}

function blockFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.blk'))
    .sort();
}

function lastBlock(dir: string): string {
  const files = blockFiles(dir);
  return join(dir, files[files.length - 1]!);
}

/** Offsets and sequences of the message records in a block file. */
function msgRecords(path: string): { off: number; len: number; seq: number }[] {
  const data = readFileSync(path);
  const out: { off: number; len: number; seq: number }[] = [];
  let off = BLOCK_HEADER_SIZE;
  while (off < data.length) {
    const len = checkRecord(data, off, data.length);
    assert.ok(len > 0, `sound record at ${off}`);
    const r = viewRecord(data, off);
    if (r.type === REC_MSG) out.push({ off, len, seq: r.seq });
    off += len;
  }
  return out;
}

/** Everything observable about a store, for before/after-restart comparisons. */
function snapshot(s: StreamStore): unknown {
  const st = s.state(true);
  const msgs = [];
  for (let seq = st.firstSeq; seq <= st.lastSeq; seq++) msgs.push(s.loadMsg(seq));
  return { st, msgs, subjects: s.subjectsState('') };
}

function payload(seq: number): Buffer {
  return Buffer.from(`payload-${seq}-`.repeat(1 + (seq % 5)));
}

function fill(s: StreamStore, count: number, subjects = ['a.1', 'a.2', 'b.1']): void {
  for (let i = 0; i < count; i++) {
    const seq = s.state().lastSeq + 1;
    const hdr = seq % 4 === 0 ? b(`NATS/1.0\r\nSeq: ${seq}\r\n\r\n`) : EMPTY;
    assert.equal(s.storeMsg(subjects[seq % subjects.length]!, hdr, payload(seq)).seq, seq);
  }
}

describe('crc32', () => {
  test('standard check values', () => {
    assert.equal(crc32(b('123456789')), 0xcbf43926);
    assert.equal(crc32(EMPTY), 0);
    assert.equal(crc32(b('The quick brown fox jumps over the lazy dog')), 0x414fa339);
  });

  test('matches a bytewise reference, chunked and at odd offsets', () => {
    const ref = (buf: Uint8Array): number => {
      let c = ~0;
      for (const x of buf) {
        c ^= x;
        for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      }
      return ~c >>> 0;
    };
    const buf = Buffer.alloc(1000);
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 131 + 7) & 0xff;
    for (const len of [0, 1, 7, 8, 9, 15, 16, 17, 100, 999]) {
      const part = buf.subarray(1, 1 + len);
      assert.equal(crc32(buf, 1, 1 + len), ref(part), `len ${len}`);
      const mid = len >> 1;
      assert.equal(crc32(buf, 1 + mid, 1 + len, crc32(buf, 1, 1 + mid)), ref(part), `chained ${len}`);
    }
  });

  test('the JavaScript version gives the known check values too', () => {
    assert.equal(crc32Js(b('123456789')), 0xcbf43926);
    assert.equal(crc32Js(EMPTY), 0);
    assert.equal(crc32Js(b('The quick brown fox jumps over the lazy dog')), 0x414fa339);
    // 1 KiB of zeros and of 0xff (zlib's values), long enough for the native path of crc32.
    assert.equal(crc32Js(Buffer.alloc(1024)), 0xefb5af2e);
    assert.equal(crc32(Buffer.alloc(1024)), 0xefb5af2e);
    assert.equal(crc32Js(Buffer.alloc(1024, 0xff)), 0xb83afff4);
    assert.equal(crc32(Buffer.alloc(1024, 0xff)), 0xb83afff4);
  });

  test('zlib.crc32, crc32 and the JavaScript version agree on random buffers, ranges and chains', {
    skip: !hasNativeCrc32() && 'this Node has no zlib.crc32',
  }, () => {
    const native = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32!;
    const lengths = [0, 1, 7, 8, 9, 31, 32, 33, NATIVE_MIN - 1, NATIVE_MIN, NATIVE_MIN + 1, 4096, 65_537];
    for (let i = 0; i < 200; i++) lengths.push(randomInt(0, 3 * NATIVE_MIN));
    for (const len of lengths) {
      const buf = randomBytes(len + 16);
      const start = randomInt(0, 16);
      const end = start + len;
      const part = buf.subarray(start, end);
      const want = native(part);
      assert.equal(crc32Js(buf, start, end), want, `js, len ${len}`);
      assert.equal(crc32(buf, start, end), want, `crc32, len ${len}`);
      assert.equal(crc32(part), want, `crc32 of the whole buffer, len ${len}`);
      // Continuing from an earlier checksum, across the size where crc32 switches to zlib.
      const prev = randomInt(0, 2 ** 32);
      const chained = native(part, prev);
      assert.equal(crc32Js(buf, start, end, prev), chained, `js chained, len ${len}`);
      assert.equal(crc32(buf, start, end, prev), chained, `crc32 chained, len ${len}`);
      const mid = start + randomInt(0, len + 1);
      assert.equal(crc32(buf, mid, end, crc32Js(buf, start, mid)), want, `split at ${mid - start} of ${len}`);
      assert.equal(crc32Js(buf, mid, end, crc32(buf, start, mid)), want, `split at ${mid - start} of ${len}`);
    }
  });
});

describe('file store: group commit', () => {
  // Group commit only waits while the filesystem has 64 MiB to spare.
  const st = statfsSync(root);
  const roomy = st.bavail * st.bsize > 256 * 1024 * 1024;
  test('records wait for the output barrier (or the end of the turn), then go out in one write', {
    skip: roomy ? false : 'less than 256 MiB free in the temp directory',
  }, async () => {
    const dir = newDir();
    const s = open(dir, {}, { groupCommit: true });
    const size = (): number => statSync(lastBlock(dir)).size;
    const before = size();
    for (let i = 0; i < 10; i++) s.storeMsg('g', EMPTY, b(`m${i}`));
    assert.equal(size(), before, 'nothing written yet');
    assert.equal(s.loadMsg(10)!.data.toString(), 'm9', 'readable meanwhile');
    passOutputBarrier(); // what a connection does before it writes to its socket
    const after = size();
    assert.ok(after > before, 'written before any output');
    s.storeMsg('g', EMPTY, b('m10'));
    assert.equal(size(), after);
    await Promise.resolve(); // the end of the turn: a microtask writes too
    assert.ok(size() > after);
    s.stop();
    const again = open(dir);
    assert.equal(again.state().msgs, 11);
    again.stop();
  });
});

describe('file store: read cache', () => {
  test('sealed blocks are read from memory once cached, and an erase drops the cache', () => {
    const dir = newDir();
    const s = open(dir, {}, { blockSize: 4096 });
    fill(s, 300);
    const first = join(dir, blockFiles(dir)[0]!);
    const inFirst = msgRecords(first).map((r) => r.seq);
    assert.ok(inFirst.length > 3 && blockFiles(dir).length > 3, 'several blocks');
    for (let seq = 1; seq <= 300; seq++) assert.deepEqual(s.loadMsg(seq)!.data, payload(seq));
    // Read through the first block again (at most two blocks stay cached), then change its file behind the
    // store's back: reads still come from the cache.
    for (const seq of inFirst) assert.deepEqual(s.loadMsg(seq)!.data, payload(seq));
    const size = readFileSync(first).length;
    writeFileSync(first, Buffer.concat([readFileSync(first).subarray(0, 64), Buffer.alloc(size - 64)]));
    for (const seq of inFirst) assert.deepEqual(s.loadMsg(seq)!.data, payload(seq));
    // An erase overwrites the record on disk and drops the cache: the block is read from disk again, where
    // the zeroed records fail their checksums.
    assert.ok(s.removeMsg(inFirst[1]!, true));
    assert.equal(s.loadMsg(inFirst[2]!), undefined);
    s.stop();
  });
});

describe('file store: restart', () => {
  test('reopen gives identical state and contents across blocks; the sequence continues', () => {
    const dir = newDir();
    let s = open(dir, {}, { blockSize: 4096 });
    fill(s, 300);
    for (let seq = 40; seq <= 120; seq += 2) assert.ok(s.removeMsg(seq));
    for (let seq = 1; seq <= 5; seq++) assert.ok(s.removeMsg(seq));
    s.removeMsg(300);
    assert.ok(blockFiles(dir).length > 3, 'several blocks');
    const before = snapshot(s);
    s.stop();
    s = open(dir, {}, { blockSize: 4096 });
    assert.equal(s.lostData(), undefined);
    assert.deepEqual(snapshot(s), before);
    assert.equal(s.storeMsg('c', EMPTY, b('next')).seq, 301);
    assert.equal(s.loadMsg(301)!.data.toString(), 'next');
    s.stop();
  });

  test('removals of first, last and everything survive restart (RemovePartialRecovery)', () => {
    const dir = newDir();
    let s = open(dir);
    fill(s, 100);
    for (let seq = 1; seq <= 50; seq++) s.removeMsg(seq);
    s.removeMsg(100);
    s.removeMsg(75);
    let before = snapshot(s);
    s.stop();
    s = open(dir);
    assert.deepEqual(snapshot(s), before);
    for (let seq = 51; seq <= 99; seq++) s.removeMsg(seq);
    assert.equal(s.state().firstSeq, 101);
    before = snapshot(s);
    s.stop();
    s = open(dir);
    assert.deepEqual(snapshot(s), before);
    assert.equal(s.storeMsg('x', EMPTY, EMPTY).seq, 101);
    s.stop();
  });

  test('a fresh store reopens at sequence 0; a purged one keeps first = last + 1 and lastTs', () => {
    const dir = newDir();
    let s = open(dir);
    s.stop();
    s = open(dir);
    assert.equal(s.state().firstSeq, 0);
    assert.equal(s.state().lastSeq, 0);
    fill(s, 10);
    const lastTs = s.state().lastTs;
    s.purge();
    s.stop();
    s = open(dir);
    const st = s.state();
    assert.equal(st.firstSeq, 11);
    assert.equal(st.lastSeq, 10);
    assert.equal(st.lastTs, lastTs);
    assert.equal(st.msgs, 0);
    s.stop();
  });

  test('compact past the end survives restart (FileStoreCompact)', () => {
    const dir = newDir();
    let s = open(dir, {}, { blockSize: 350 });
    fill(s, 10);
    assert.equal(s.compact(6), 5);
    assert.equal(s.compact(100), 5);
    s.stop();
    s = open(dir, {}, { blockSize: 350 });
    assert.equal(s.state().firstSeq, 100);
    assert.equal(s.state().lastSeq, 99);
    assert.equal(s.storeMsg('a', EMPTY, EMPTY).seq, 100);
    s.stop();
  });

  test('a purge up to sequence 2^64 - 1 works and survives restart (the fuzz found it on a stream "é")', () => {
    // STREAM.PURGE {"seq":18446744073709551615} compacts past the end: the next sequence is 2^64 - 1,
    // which as a JavaScript number is 2^64, and the block header's u64 write used to throw (uint32
    // overflow of the high word), failing the purge and closing the store.
    const dir = join(newDir(), 'é', 'msgs');
    let s = open(dir);
    fill(s, 3);
    const seq = Number('18446744073709551615');
    assert.equal(s.purgeEx('', seq, 0), 3);
    assert.equal(s.state().firstSeq, seq);
    assert.equal(s.state().msgs, 0);
    // Not stored after: sequences past 2^53 are not exact in a JavaScript number (2^64 + 1 === 2^64).
    const before = s.state();
    s.stop();
    s = open(dir);
    assert.deepEqual(s.state(), before);
    s.stop();
  });

  test('interior compact survives restart', () => {
    const dir = newDir();
    let s = open(dir, {}, { blockSize: 512 });
    fill(s, 60);
    s.removeMsg(33);
    assert.equal(s.compact(30), 29);
    const before = snapshot(s);
    s.stop();
    s = open(dir, {}, { blockSize: 512 });
    assert.deepEqual(snapshot(s), before);
    s.stop();
  });

  test('tombstones held by a deleted block are carried forward', () => {
    const dir = newDir();
    const opts = { blockSize: 300 };
    let s = open(dir, {}, opts);
    const blockOf = (): number => blockFiles(dir).length;
    // Block 1: messages 1..k.
    fill(s, 1);
    while (blockOf() === 1) fill(s, 1);
    const firstOfBlock2 = s.state().lastSeq;
    // Now in block 2: delete a message of block 1 (its tombstone lands in block 2).
    assert.ok(s.removeMsg(2));
    // Move on to block 3, then delete every message of block 2, so block 2's file goes.
    while (blockOf() === 2) fill(s, 1);
    const firstOfBlock3 = s.state().lastSeq;
    const block2 = blockFiles(dir)[1]!;
    for (let seq = firstOfBlock2; seq < firstOfBlock3; seq++) assert.ok(s.removeMsg(seq));
    assert.ok(!blockFiles(dir).includes(block2), 'block 2 removed');
    const before = snapshot(s);
    s.stop();
    s = open(dir, {}, opts);
    assert.equal(s.loadMsg(2), undefined, 'message 2 stays deleted');
    assert.deepEqual(snapshot(s), before);
    s.stop();
  });

  test('max_age applies on open to messages that aged while stopped (AgeLimitRecovery)', async () => {
    const dir = newDir();
    let s = open(dir, { maxAge: 40 });
    fill(s, 20);
    s.stop();
    await new Promise((r) => setTimeout(r, 60));
    s = open(dir, { maxAge: 40 });
    assert.equal(s.state().msgs, 0);
    assert.equal(s.state().firstSeq, 21);
    s.stop();
  });

  test('limits given on open are enforced on the recovered messages', () => {
    const dir = newDir();
    let s = open(dir);
    fill(s, 30);
    s.stop();
    s = open(dir, { maxMsgs: 10 });
    assert.equal(s.state().msgs, 10);
    assert.equal(s.state().firstSeq, 21);
    s.stop();
  });
});

describe('file store: damaged files', () => {
  function setup(count = 10): {
    dir: string;
    recs: { off: number; len: number; seq: number }[];
    size: number;
  } {
    const dir = newDir();
    const s = open(dir);
    fill(s, count);
    s.stop();
    const path = lastBlock(dir);
    return { dir, recs: msgRecords(path), size: statSync(path).size };
  }

  test('torn tail: the valid prefix is kept, the loss reported once, the file truncated', () => {
    const { dir, recs, size } = setup();
    const last = recs[recs.length - 1]!;
    truncateSync(lastBlock(dir), size - 7);
    let s = open(dir);
    assert.deepEqual(s.lostData(), { msgs: 1, bytes: last.len - 7 });
    const st = s.state();
    assert.equal(st.msgs, 9);
    assert.equal(st.lastSeq, 9);
    for (let seq = 1; seq <= 9; seq++) assert.deepEqual(s.loadMsg(seq)!.data, payload(seq));
    assert.equal(statSync(lastBlock(dir)).size, last.off, 'truncated at the last good record');
    assert.equal(s.storeMsg('a.1', EMPTY, payload(10)).seq, 10, 'the unacknowledged sequence is reissued');
    s.stop();
    s = open(dir);
    assert.equal(s.lostData(), undefined);
    assert.equal(s.state().msgs, 10);
    s.stop();
  });

  test('every possible cut through the last records recovers a clean prefix', () => {
    const { dir, recs, size } = setup(6);
    const from = recs[recs.length - 3]!.off;
    for (let cut = from; cut < size; cut++) {
      const copy = newDir();
      cpSync(dir, copy, { recursive: true });
      truncateSync(lastBlock(copy), cut);
      const s = open(copy);
      const whole = recs.filter((r) => r.off + r.len <= cut).length;
      assert.equal(s.state().msgs, whole, `cut at ${cut}`);
      assert.equal(s.state().lastSeq, whole);
      const partial = recs.some((r) => r.off < cut && r.off + r.len > cut);
      assert.equal(s.lostData()?.msgs ?? 0, partial ? 1 : 0, `cut at ${cut}`);
      for (let seq = 1; seq <= whole; seq++) assert.deepEqual(s.loadMsg(seq)!.data, payload(seq));
      s.delete();
    }
  });

  test('a corrupt payload checksum in the middle drops that message only, reported once', () => {
    const { dir, recs } = setup();
    const r5 = recs[4]!;
    const path = lastBlock(dir);
    const data = readFileSync(path);
    data[r5.off + r5.len - 1]! ^= 0xff; // a byte of the payload checksum
    writeFileSync(path, data);
    let s = open(dir);
    assert.deepEqual(s.lostData(), { msgs: 1, bytes: r5.len });
    assert.equal(s.loadMsg(5), undefined);
    for (const seq of [1, 2, 3, 4, 6, 7, 8, 9, 10]) assert.deepEqual(s.loadMsg(seq)!.data, payload(seq));
    const st = s.state(true);
    assert.deepEqual(st.deleted, [5]);
    s.stop();
    s = open(dir);
    assert.equal(s.lostData(), undefined, 'the damaged record was tombstoned');
    assert.deepEqual(s.state(true), st);
    s.stop();
  });

  test('corrupt framing in the middle: resynchronised on the next record, gap padded', () => {
    const { dir, recs } = setup();
    const r5 = recs[4]!;
    const path = lastBlock(dir);
    const data = readFileSync(path);
    data.writeUInt32LE(0xdeadbeef, r5.off); // the record length
    data[r5.off + 10]! ^= 0x55; // and the sequence
    writeFileSync(path, data);
    let s = open(dir);
    assert.deepEqual(s.lostData(), { msgs: 1, bytes: r5.len });
    assert.equal(s.loadMsg(5), undefined);
    for (const seq of [1, 2, 3, 4, 6, 7, 8, 9, 10]) assert.deepEqual(s.loadMsg(seq)!.data, payload(seq));
    assert.equal(s.state().lastSeq, 10);
    const st = s.state(true);
    s.stop();
    s = open(dir);
    assert.equal(s.lostData(), undefined, 'the gap is now a PAD record');
    assert.deepEqual(s.state(true), st);
    s.stop();
  });

  test('a corrupt last record and trailing garbage are truncated', () => {
    const { dir, recs } = setup();
    const path = lastBlock(dir);
    const data = readFileSync(path);
    const last = recs[recs.length - 1]!;
    data[last.off + last.len - 3]! ^= 0x01;
    const garbage = Buffer.from('garbage that is not a record at all, 0123456789');
    writeFileSync(path, Buffer.concat([data, garbage]));
    const s = open(dir);
    assert.deepEqual(s.lostData(), { msgs: 2, bytes: last.len + garbage.length });
    assert.equal(s.state().msgs, 9);
    assert.equal(s.state().lastSeq, 9);
    assert.equal(statSync(path).size, last.off);
    s.stop();
  });

  test('a damaged block header is rewritten from the records', () => {
    const { dir } = setup();
    const path = lastBlock(dir);
    const data = readFileSync(path);
    data[2]! ^= 0xff; // the magic
    writeFileSync(path, data);
    let s = open(dir);
    assert.deepEqual(s.lostData(), { msgs: 0, bytes: BLOCK_HEADER_SIZE });
    assert.equal(s.state().msgs, 10);
    for (let seq = 1; seq <= 10; seq++) assert.deepEqual(s.loadMsg(seq)!.data, payload(seq));
    s.stop();
    s = open(dir);
    assert.equal(s.lostData(), undefined);
    s.stop();
  });

  test('a purge interrupted before the old blocks were deleted still takes effect', () => {
    const dir = newDir();
    const s = open(dir, {}, { blockSize: 512 });
    fill(s, 40);
    s.removeMsg(20);
    s.stop();
    const copy = newDir();
    cpSync(dir, copy, { recursive: true });
    const t = open(dir, {}, { blockSize: 512 });
    t.purge();
    t.stop();
    // The crash: the new block (with its floor) exists, the old files were not deleted yet.
    const [fresh] = blockFiles(dir);
    cpSync(join(dir, fresh!), join(copy, fresh!));
    const u = open(copy, {}, { blockSize: 512 });
    const st = u.state();
    assert.equal(st.msgs, 0);
    assert.equal(st.firstSeq, 41);
    assert.equal(st.lastSeq, 40);
    assert.deepEqual(blockFiles(copy), [fresh], 'the old files are deleted on open');
    assert.equal(u.storeMsg('a', EMPTY, EMPTY).seq, 41);
    u.stop();
  });

  test('a block whose creation never completed is dropped', () => {
    const { dir } = setup();
    writeFileSync(join(dir, '0000000099.blk'), Buffer.alloc(12));
    const s = open(dir);
    assert.equal(s.lostData(), undefined);
    assert.equal(s.state().msgs, 10);
    assert.ok(!existsSync(join(dir, '0000000099.blk')));
    assert.equal(s.storeMsg('x', EMPTY, EMPTY).seq, 11);
    s.stop();
  });
});

describe('file store: erase and disk reclaim', () => {
  function rawContains(dir: string, needle: string): boolean {
    return blockFiles(dir).some((f) => readFileSync(join(dir, f)).includes(needle));
  }

  test('erase overwrites the header and payload bytes on disk', () => {
    const dir = newDir();
    let s = open(dir, {}, { blockSize: 512 });
    s.storeMsg('foo', b('NATS/1.0\r\nX-Secret: hdr-secret\r\n\r\n'), b('first-secret-payload'));
    fill(s, 30);
    s.storeMsg('foo', EMPTY, b('second-secret-payload'));
    fill(s, 3);
    assert.ok(rawContains(dir, 'first-secret-payload'));
    assert.ok(s.removeMsg(1, true), 'erase in an old block');
    assert.ok(s.removeMsg(32, true), 'erase in the active block');
    for (const secret of ['first-secret-payload', 'hdr-secret', 'second-secret-payload']) {
      assert.ok(!rawContains(dir, secret), `${secret} gone from disk`);
    }
    assert.ok(rawContains(dir, payload(33).toString()), 'other messages untouched');
    assert.equal(s.loadMsg(1), undefined);
    s.stop();
    s = open(dir, {}, { blockSize: 512 });
    assert.equal(s.lostData(), undefined);
    assert.equal(s.loadMsg(1), undefined);
    assert.equal(s.loadMsg(32), undefined);
    assert.deepEqual(s.loadMsg(33)!.data, payload(33));
    s.stop();
  });

  test('blocks roll over at the block size and a block with no live message is deleted', () => {
    const dir = newDir();
    const s = open(dir, {}, { blockSize: 1024 });
    fill(s, 100);
    const files = blockFiles(dir);
    assert.ok(files.length >= 5, `${files.length} blocks`);
    for (const f of files.slice(0, -1)) assert.ok(statSync(join(dir, f)).size <= 1024 + 200);
    // Delete the messages of the second block (an interior block).
    const second = msgRecords(join(dir, files[1]!)).map((r) => r.seq);
    for (const seq of second) s.removeMsg(seq);
    assert.ok(!blockFiles(dir).includes(files[1]!), 'interior block removed');
    // Compact into the fourth block: the first and third go.
    const fourth = msgRecords(join(dir, files[3]!)).map((r) => r.seq);
    s.compact(fourth[1]!);
    const now = blockFiles(dir);
    assert.equal(now[0], files[3]);
    const before = snapshot(s);
    s.stop();
    const t = open(dir, {}, { blockSize: 1024 });
    assert.deepEqual(snapshot(t), before);
    t.stop();
  });

  test('purge leaves one empty block', () => {
    const dir = newDir();
    const s = open(dir, {}, { blockSize: 1024 });
    fill(s, 100);
    assert.ok(blockFiles(dir).length > 3);
    s.purge();
    const files = blockFiles(dir);
    assert.equal(files.length, 1);
    assert.equal(statSync(join(dir, files[0]!)).size, BLOCK_HEADER_SIZE);
    s.stop();
    const t = open(dir, {}, { blockSize: 1024 });
    assert.equal(t.state().firstSeq, 101);
    assert.equal(blockFiles(dir).length, 1);
    t.stop();
  });

  test('max_age expiry deletes expired blocks', async () => {
    const dir = newDir();
    const s = open(dir, { maxAge: 50 }, { blockSize: 1024 });
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<void>((resolve, reject) => {
      let seen = 0;
      timer = setTimeout(() => reject(new Error(`${seen} of 100 expired after 3s`)), 3000);
      s.onRemove((seqs) => {
        seen += seqs.length;
        if (seen >= 100) resolve();
      });
    });
    fill(s, 100);
    assert.ok(blockFiles(dir).length > 3);
    await done.finally(() => clearTimeout(timer));
    const files = blockFiles(dir);
    assert.equal(files.length, 1);
    assert.equal(statSync(join(dir, files[0]!)).size, BLOCK_HEADER_SIZE);
    assert.equal(s.state().firstSeq, 101);
    s.stop();
  });

  test('max_msgs in steady state keeps disk use bounded', () => {
    const dir = newDir();
    const s = open(dir, { maxMsgs: 50 }, { blockSize: 2048 });
    fill(s, 2000);
    assert.equal(s.state().msgs, 50);
    const total = blockFiles(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    assert.ok(total < 4 * 2048 + 50 * 200, `${total} bytes on disk`);
    s.stop();
  });
});

describe('file store: modes and lifecycle', () => {
  test('syncAlways works', () => {
    const dir = newDir();
    let s = open(dir, {}, { syncAlways: true, blockSize: 512 });
    fill(s, 20);
    s.removeMsg(3);
    s.compact(2);
    const before = snapshot(s);
    s.stop();
    s = open(dir, {}, { syncAlways: true });
    assert.deepEqual(snapshot(s), before);
    s.stop();
  });

  test('writeBehindMs buffers appends until flush()', () => {
    const dir = newDir();
    const s = open(dir, {}, { writeBehindMs: 10_000 });
    fill(s, 10);
    assert.equal(statSync(lastBlock(dir)).size, BLOCK_HEADER_SIZE, 'nothing written yet');
    assert.deepEqual(s.loadMsg(3)!.data, payload(3), 'readable before it is written');
    s.flush();
    assert.ok(statSync(lastBlock(dir)).size > BLOCK_HEADER_SIZE);
    const copy = newDir();
    cpSync(dir, copy, { recursive: true });
    const t = open(copy);
    assert.equal(t.state().msgs, 10);
    t.stop();
    s.stop();
  });

  test('writeBehindMs writes on its timer', async () => {
    const dir = newDir();
    const s = open(dir, {}, { writeBehindMs: 5 });
    fill(s, 3);
    await waitFor(() => statSync(lastBlock(dir)).size > BLOCK_HEADER_SIZE, 2000, 'the write-behind timer');
    s.stop();
  });

  test('a stopped store loads nothing; delete removes the block files and the directory', () => {
    const dir = newDir();
    const s = open(dir);
    fill(s, 3);
    s.stop();
    assert.equal(s.loadMsg(1), undefined);
    s.delete();
    assert.ok(!existsSync(dir));
  });

  test('delete leaves files it does not own', () => {
    const dir = newDir();
    const s = open(dir);
    fill(s, 3);
    writeFileSync(join(dir, 'meta.json'), '{}');
    s.delete();
    assert.deepEqual(readdirSync(dir), ['meta.json']);
  });

  test('the block size follows max_bytes when not given', () => {
    const dir = newDir();
    const s = open(dir, { maxBytes: 256 * 1024 });
    fill(s, 2000);
    assert.ok(blockFiles(dir).length >= 2, 'blocks of max_bytes / 4');
    s.stop();
  });
});

/** An ENOSPC as node:fs throws it. */
function enospc(syscall: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`ENOSPC: no space left on device, ${syscall}`);
  e.code = 'ENOSPC';
  e.errno = -28;
  e.syscall = syscall;
  return e;
}

/**
 * A disk with `free` bytes left: a write that grows a file by more than that writes what fits (a partial
 * write, as write(2) does), the next one fails with ENOSPC. Overwriting a file's bytes takes no space,
 * unless `cow` (a copy-on-write filesystem). `inodes = false` makes creating a file fail too.
 */
class Disk {
  free = Number.POSITIVE_INFINITY;
  inodes = true;
  cow = false;
  refused = 0;
  readonly io: Partial<FileIo> = {
    write: (fd, buf, off, len, pos) => {
      const size = this.cow ? pos : Math.max(pos, fstatSync(fd).size);
      const room = size - pos + this.free;
      if (room <= 0) {
        this.refused++;
        throw enospc('write');
      }
      const w = writeSync(fd, buf, off, Math.min(len, room), pos);
      this.free -= Math.max(0, pos + w - size);
      return w;
    },
    open: (path, flags) => {
      if (!this.inodes) throw enospc('open');
      return openSync(path, flags);
    },
  };
}

const isNoSpace = (e: unknown): boolean => e instanceof StoreError && e.code === 'ERR_STORE_NO_SPACE';

describe('file store: full disk', () => {
  test('a refused write changes nothing; reads, deletes, purge go on; writes resume once space is freed', () => {
    const dir = newDir();
    const disk = new Disk();
    const s = open(dir, {}, { io: disk.io });
    fill(s, 20);
    const before = snapshot(s);
    const size = statSync(lastBlock(dir)).size;
    disk.free = 10; // part of the record reaches the file, then ENOSPC
    assert.throws(() => s.storeMsg('a.1', EMPTY, payload(21)), isNoSpace);
    assert.throws(() => s.storeMsg('new.subject', EMPTY, payload(21)), isNoSpace);
    assert.ok(disk.refused >= 2);
    assert.deepEqual(snapshot(s), before, 'not counted, every stored message readable');
    assert.equal(statSync(lastBlock(dir)).size, size, 'the partial record was cut off');
    assert.equal(s.loadLastMsg('a.1')?.seq, 18);
    assert.equal(s.loadNextMsg('a.*', 20)?.seq, undefined);
    assert.equal(s.subjectsState('new.subject').size, 0);

    // Removals still work (their records wait for space).
    assert.equal(s.removeMsg(5), true);
    assert.equal(s.removeMsg(1), true);
    assert.equal(s.loadMsg(5), undefined);
    assert.deepEqual(
      [s.state().msgs, s.state().firstSeq, s.state().lastSeq, s.state().numDeleted],
      [18, 2, 20, 1],
    );
    assert.equal(s.purgeEx('b.1', 0, 0), 6);
    assert.equal(s.state().msgs, 12);
    assert.throws(() => s.flush(), isNoSpace);

    disk.free = Number.POSITIVE_INFINITY; // space freed
    assert.deepEqual(s.storeMsg('a.1', EMPTY, payload(21)), { seq: 21, ts: s.state().lastTs });
    s.flush();
    const live = snapshot(s);
    s.stop();
    const t = open(dir);
    assert.deepEqual(snapshot(t), live, 'the removals made on the full disk were written with it');
    assert.equal(t.lostData(), undefined);
    t.stop();
  });

  test('a restart while the disk is still full keeps every stored message and the sequence', () => {
    const dir = newDir();
    const disk = new Disk();
    const s = open(dir, {}, { io: disk.io, blockSize: 1024 });
    fill(s, 40);
    disk.free = 0;
    assert.throws(() => s.storeMsg('a.1', EMPTY, payload(41)), isNoSpace);
    s.removeMsg(7);
    s.stop(); // the tombstone cannot be written: message 7 comes back (nats-server's index file too)
    const t = open(dir, {}, { io: disk.io });
    const st = t.state();
    assert.deepEqual([st.msgs, st.firstSeq, st.lastSeq], [40, 1, 40]);
    for (let seq = 1; seq <= 40; seq++) assert.deepEqual(t.loadMsg(seq)?.data, payload(seq));
    assert.equal(t.lostData(), undefined);
    assert.throws(() => t.storeMsg('a.1', EMPTY, payload(41)), isNoSpace);
    disk.free = Number.POSITIVE_INFINITY;
    assert.equal(t.storeMsg('a.1', EMPTY, payload(41)).seq, 41);
    t.stop();
  });

  test('a message that needs a new block is refused when the block cannot be created', () => {
    const dir = newDir();
    const disk = new Disk();
    const s = open(dir, {}, { io: disk.io, blockSize: 1024 });
    fill(s, 30);
    const files = blockFiles(dir);
    const before = snapshot(s);
    disk.inodes = false;
    disk.free = 0;
    // Whichever comes first, the write of the last block or the new file, the store is unchanged.
    for (let i = 0; i < 20; i++) assert.throws(() => s.storeMsg('a.1', EMPTY, payload(31)), isNoSpace);
    assert.deepEqual(snapshot(s), before);
    assert.deepEqual(blockFiles(dir), files);
    disk.inodes = true;
    disk.free = 0;
    for (let i = 0; i < 20; i++) assert.throws(() => s.storeMsg('a.1', EMPTY, payload(31)), isNoSpace);
    assert.deepEqual(snapshot(s), before);
    disk.free = Number.POSITIVE_INFINITY;
    fill(s, 30);
    const live = snapshot(s);
    s.stop();
    const t = open(dir);
    assert.deepEqual(snapshot(t), live);
    assert.equal(t.lostData(), undefined);
    t.stop();
  });

  test('purge on a full disk empties the store in place and keeps the sequence', () => {
    for (const [blockSize, cow] of [
      [1024, false],
      [1024 * 1024, false],
      [1024 * 1024, true],
    ] as const) {
      const dir = newDir();
      const disk = new Disk();
      const s = open(dir, {}, { io: disk.io, blockSize });
      fill(s, 60);
      disk.free = 0;
      disk.inodes = false;
      disk.cow = cow;
      assert.equal(s.purge(), 60);
      const files = blockFiles(dir);
      assert.equal(files.length, 1);
      // Copy-on-write: not even the header could be rewritten; it is written once there is room.
      assert.equal(statSync(join(dir, files[0]!)).size, cow ? 0 : BLOCK_HEADER_SIZE);
      assert.deepEqual([s.state().msgs, s.state().firstSeq, s.state().lastSeq], [0, 61, 60]);
      // Room again: the sequence goes on.
      disk.free = Number.POSITIVE_INFINITY;
      disk.inodes = true;
      assert.equal(s.storeMsg('a.1', EMPTY, payload(61)).seq, 61);
      s.stop();
      const t = open(dir);
      assert.deepEqual([t.state().msgs, t.state().firstSeq, t.state().lastSeq], [1, 61, 61]);
      t.stop();
    }
  });

  test('deleting messages on a full disk deletes their blocks, which frees space', () => {
    const dir = newDir();
    const disk = new Disk();
    const s = open(dir, {}, { io: disk.io, blockSize: 1024 });
    fill(s, 60);
    const n = blockFiles(dir).length;
    assert.ok(n > 3);
    disk.free = 0;
    assert.equal(s.compact(40), 39);
    assert.ok(blockFiles(dir).length < n, 'blocks of removed messages are gone');
    for (let seq = 40; seq <= 60; seq++) assert.deepEqual(s.loadMsg(seq)?.data, payload(seq));
    disk.free = Number.POSITIVE_INFINITY;
    fill(s, 1);
    const live = snapshot(s);
    s.stop();
    const t = open(dir);
    assert.deepEqual(snapshot(t), live);
    t.stop();
  });

  test('random operations on a disk that fills and empties: the store matches what was acknowledged', () => {
    for (let round = 0; round < 5; round++) {
      const dir = newDir();
      const disk = new Disk();
      const limits = round % 2 === 0 ? {} : { maxMsgs: 25 };
      const s = open(dir, limits, { io: disk.io, blockSize: 700 });
      const model = new Map<number, Buffer>();
      let last = 0;
      for (let i = 0; i < 400; i++) {
        const r = randomInt(100);
        if (r < 8) disk.free = randomInt(300);
        else if (r < 14) disk.free = Number.POSITIVE_INFINITY;
        else if (r < 15) disk.inodes = !disk.inodes;
        else if (r < 80) {
          const data = randomBytes(randomInt(80));
          try {
            const { seq } = s.storeMsg(`s.${randomInt(4)}`, EMPTY, data);
            assert.equal(seq, last + 1);
            last = seq;
            model.set(seq, data);
            if (limits.maxMsgs !== undefined && model.size > limits.maxMsgs) {
              model.delete(Math.min(...model.keys()));
            }
          } catch (e) {
            assert.ok(isNoSpace(e), String(e));
          }
        } else if (r < 97) {
          const seq = randomInt(last + 1);
          assert.equal(s.removeMsg(seq), model.delete(seq));
        } else {
          assert.equal(s.purge(), model.size);
          model.clear();
        }
        assert.equal(s.state().msgs, model.size);
        assert.equal(s.state().lastSeq, last);
      }
      for (const [seq, data] of model) assert.deepEqual(s.loadMsg(seq)?.data, data, `seq ${seq}`);
      disk.free = Number.POSITIVE_INFINITY;
      disk.inodes = true;
      s.flush();
      const live = snapshot(s);
      s.stop();
      const t = open(dir, limits);
      assert.deepEqual(snapshot(t), live, `round ${round}`);
      assert.equal(t.lostData(), undefined);
      t.stop();
    }
  });
});

describe('file store: bytes', () => {
  test("state.bytes counts nats-server's record size (fileStoreMsgSize), also after a restart", () => {
    const dir = newDir();
    let s = open(dir);
    const hdr = b('NATS/1.0\r\nk: v\r\n\r\n');
    s.storeMsg('foo', EMPTY, b('hello'));
    s.storeMsg('foo.é', hdr, b('hello'));
    s.storeMsg('bar', EMPTY, EMPTY);
    // 22 (length, sequence, time, subject length) + subject + payload + 8 (hash); + 4 + headers with headers.
    const want = 22 + 3 + 5 + 8 + (22 + 6 + 4 + hdr.length + 5 + 8) + (22 + 3 + 8);
    assert.equal(s.state().bytes, want);
    assert.equal(fileStoreMsgSize('foo', EMPTY, b('hello')), 38);
    s.stop();
    s = open(dir);
    assert.equal(s.state().bytes, want);
    s.removeMsg(1);
    assert.equal(s.state().bytes, want - 38);
    s.stop();
  });

  test('max_bytes applies to the same sizes', () => {
    const s = open(newDir(), { maxBytes: 38 * 3 });
    for (let i = 0; i < 5; i++) s.storeMsg('foo', EMPTY, b('hello'));
    assert.equal(s.state().msgs, 3);
    assert.equal(s.state().firstSeq, 3);
    s.stop();
  });
});

describe('file store: compression (s2)', () => {
  const S2: FileStoreOptions = { blockSize: 4096, compression: 's2' };
  const isCompressed = (path: string): boolean => readFileSync(path).toString('latin1', 0, 4) === 'TSNZ';
  /** A block file's image: the file itself, or what it decompresses to. */
  const imageOf = (path: string): Buffer => {
    const data = readFileSync(path);
    return isCompressed(path) ? decodeCompressedBlock(data).image : data;
  };
  /** Compressible messages with headers on some, over a few subjects. */
  function fillText(s: StreamStore, count: number): void {
    for (let i = 0; i < count; i++) {
      const seq = s.state().lastSeq + 1;
      const hdr = seq % 3 === 0 ? b(`NATS/1.0\r\nOrder: ${seq}\r\n\r\n`) : EMPTY;
      const data = b(
        JSON.stringify({ seq, customer: `c-${seq % 17}`, note: 'the quick brown fox '.repeat(3) }),
      );
      assert.equal(s.storeMsg(`orders.${seq % 5}`, hdr, data).seq, seq);
    }
  }
  const diskBytes = (dir: string): number =>
    blockFiles(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  /** Every message (timestamps aside) and the state, for comparing two stores written apart. */
  const contents = (s: StreamStore): unknown => {
    const { firstTs: _f, lastTs: _l, ...st } = s.state(true);
    const msgs = [];
    for (let seq = st.firstSeq; seq <= st.lastSeq; seq++) {
      const m = s.loadMsg(seq);
      msgs.push(m && { subject: m.subject, seq: m.seq, hdr: m.hdr, data: m.data });
    }
    return { st, msgs };
  };

  test('sealed blocks are compressed in the background, the active one is not; contents survive restart', async () => {
    const plainDir = newDir();
    const plain = open(plainDir, {}, { blockSize: 4096 });
    fillText(plain, 400);
    const dir = newDir();
    let s = open(dir, {}, S2);
    fillText(s, 400);
    const files = blockFiles(dir);
    assert.ok(files.length > 5, 'several blocks');
    await waitFor(() => files.slice(0, -1).every((f) => isCompressed(join(dir, f))), 5000);
    assert.ok(!isCompressed(lastBlock(dir)), 'the active block is appended to as it is');
    assert.ok(diskBytes(dir) < diskBytes(plainDir) / 2, `${diskBytes(dir)} vs ${diskBytes(plainDir)}`);
    assert.deepEqual(contents(s), contents(plain), 'same contents as the uncompressed store');
    const before = snapshot(s);
    s.stop();
    s = open(dir, {}, S2);
    assert.equal(s.lostData(), undefined);
    assert.deepEqual(snapshot(s), before, 'and after a restart');
    assert.equal(s.storeMsg('next', EMPTY, b('x')).seq, 401);
    s.stop();
    plain.stop();
  });

  test('reads decode the chunks they need once; removals and interior deletes survive restarts', () => {
    const dir = newDir();
    let s = open(dir, {}, { ...S2, blockSize: 600 * 1024, compressInline: true });
    fillText(s, 8000); // blocks of several chunks
    assert.ok(blockFiles(dir).length >= 2);
    assert.ok(isCompressed(join(dir, blockFiles(dir)[0]!)));
    s.stop();
    s = open(dir, {}, { ...S2, blockSize: 600 * 1024 });
    const expected = snapshot(s);
    for (const seq of [1, 2, 777, 3000, 3001, 5000]) assert.ok(s.removeMsg(seq));
    assert.equal(s.removeMsg(2), false);
    assert.ok(s.compact(10) > 0);
    const after1 = snapshot(s);
    assert.notDeepEqual(after1, expected);
    s.stop();
    s = open(dir, {}, { ...S2, blockSize: 600 * 1024 });
    assert.equal(s.lostData(), undefined);
    assert.deepEqual(snapshot(s), after1);
    s.stop();
  });

  test('an erase in a compressed block rewrites it without the erased bytes', () => {
    const dir = newDir();
    let s = open(dir, {}, { ...S2, compressInline: true });
    s.storeMsg('foo', b('NATS/1.0\r\nX-Secret: hdr-secret\r\n\r\n'), b('first-secret-payload'));
    fillText(s, 60);
    const first = join(dir, blockFiles(dir)[0]!);
    assert.ok(isCompressed(first));
    assert.ok(imageOf(first).includes('first-secret-payload'));
    assert.ok(s.removeMsg(1, true));
    assert.ok(s.removeMsg(3, true), 'two erases in one block');
    assert.ok(isCompressed(first), 'still compressed');
    const image = imageOf(first);
    assert.ok(!image.includes('first-secret-payload') && !image.includes('hdr-secret'));
    assert.ok(!readFileSync(first).includes('first-secret-payload'));
    assert.equal(s.loadMsg(1), undefined);
    assert.equal(s.loadMsg(2)!.subject, 'orders.2');
    assert.ok(!existsSync(`${first}.tmp`));
    const before = snapshot(s);
    s.stop();
    s = open(dir, {}, S2);
    assert.equal(s.lostData(), undefined);
    assert.deepEqual(snapshot(s), before);
    s.stop();
  });

  test('an erase before or during the compression of its block: the block is compressed from the erased file', async () => {
    const dir = newDir();
    const s = open(dir, {}, S2);
    s.storeMsg('foo', EMPTY, b('secret-in-queue'));
    fillText(s, 60);
    const first = join(dir, blockFiles(dir)[0]!);
    assert.ok(s.removeMsg(1, true)); // before the background compression got to it
    await waitFor(() => isCompressed(first), 5000);
    assert.ok(!imageOf(first).includes('secret-in-queue'));
    assert.equal(s.loadMsg(2)!.subject, 'orders.2');
    s.stop();

    // A block of 16 chunks is compressed over several turns of the event loop; an erase between them
    // makes the compression start over.
    const dir2 = newDir();
    const big = open(dir2, {}, { compression: 's2', blockSize: 4 * 1024 * 1024 });
    big.storeMsg('foo', EMPTY, b('secret-in-progress'));
    while (blockFiles(dir2).length < 2) fillText(big, 1000);
    const first2 = join(dir2, blockFiles(dir2)[0]!);
    await new Promise((resolve) => setImmediate(resolve));
    const inProgress = (big as unknown as { job: unknown }).job !== undefined;
    assert.ok(big.removeMsg(1, true));
    await waitFor(() => isCompressed(first2), 10_000);
    assert.ok(!imageOf(first2).includes('secret-in-progress'), `erased (job in progress: ${inProgress})`);
    assert.equal(big.loadMsg(1), undefined);
    assert.equal(big.loadMsg(2)!.subject, 'orders.2');
    big.stop();
  });

  test('opening compresses sealed blocks left uncompressed; turning compression off keeps them readable', () => {
    const dir = newDir();
    let s = open(dir, {}, { blockSize: 4096 });
    fillText(s, 300);
    const before = snapshot(s);
    s.stop();
    const files = blockFiles(dir);
    assert.ok(files.every((f) => !isCompressed(join(dir, f))));
    s = open(dir, {}, S2);
    s.compressNow();
    assert.ok(files.slice(0, -1).every((f) => isCompressed(join(dir, f))));
    assert.ok(!isCompressed(join(dir, files[files.length - 1]!)));
    assert.deepEqual(snapshot(s), before);
    s.stop();
    s = open(dir, {}, { blockSize: 4096 });
    assert.equal(s.lostData(), undefined);
    assert.deepEqual(snapshot(s), before);
    fillText(s, 100);
    assert.ok(!isCompressed(join(dir, blockFiles(dir).at(-2)!)), 'new blocks stay uncompressed');
    s.setCompression('s2');
    s.compressNow();
    assert.ok(
      blockFiles(dir)
        .slice(0, -1)
        .every((f) => isCompressed(join(dir, f))),
    );
    s.setCompression('none');
    fillText(s, 100);
    s.compressNow();
    assert.ok(!isCompressed(join(dir, blockFiles(dir).at(-2)!)));
    s.stop();
  });

  test('a compressed newest block (its successor never written) gets a new active block', () => {
    const dir = newDir();
    let s = open(dir, {}, { ...S2, compressInline: true });
    fillText(s, 100);
    s.stop();
    // Take away the active block, so the newest file is a compressed one.
    const files = blockFiles(dir);
    rmSync(join(dir, files.at(-1)!));
    const newest = join(dir, files.at(-2)!);
    const bytes = readFileSync(newest);
    assert.ok(isCompressed(newest));
    s = open(dir, {}, S2);
    const st = s.state();
    assert.ok(st.lastSeq > 50 && st.lastSeq < 100);
    assert.equal(s.storeMsg('x', EMPTY, b('y')).seq, st.lastSeq + 1);
    assert.deepEqual(readFileSync(newest), bytes, 'the compressed file is not appended to');
    assert.deepEqual(blockFiles(dir), files, 'a new active block in its place');
    const before = snapshot(s);
    s.stop();
    s = open(dir, {}, S2);
    assert.equal(s.lostData(), undefined);
    assert.deepEqual(snapshot(s), before);
    s.stop();
  });

  test('a leftover .tmp is removed on open and changes nothing', () => {
    const dir = newDir();
    let s = open(dir, {}, { blockSize: 4096 });
    fillText(s, 100);
    const before = snapshot(s);
    s.stop();
    const first = join(dir, blockFiles(dir)[0]!);
    writeFileSync(`${first}.tmp`, readFileSync(first).subarray(0, 100)); // a compression cut short
    s = open(dir, {}, { blockSize: 4096 });
    assert.ok(!existsSync(`${first}.tmp`));
    assert.equal(s.lostData(), undefined);
    assert.deepEqual(snapshot(s), before);
    s.delete();
  });

  test('a damaged chunk loses only its records, is reported once, and the file is repaired', () => {
    const dir = newDir();
    let s = open(dir, {}, { ...S2, blockSize: 1024 * 1024, compressInline: true });
    fillText(s, 12000);
    const total = s.state().msgs;
    s.stop();
    const first = join(dir, blockFiles(dir)[0]!);
    const file = readFileSync(first);
    const d = decodeCompressedBlock(file);
    assert.ok(d.table.length >= 3 && !d.damaged);
    const mid = d.table[1]!;
    file[mid.at + (mid.bodyLen >> 1)]! ^= 0xff; // bit rot in the second chunk's body
    writeFileSync(first, file);
    s = open(dir, {}, S2);
    const lost = s.lostData();
    assert.ok(lost !== undefined && lost.msgs >= 1, 'reported');
    const st = s.state();
    assert.ok(st.msgs < total && st.msgs > total - 3000, `${st.msgs} of ${total} kept`);
    for (let seq = 1; seq <= 50; seq++) assert.ok(s.loadMsg(seq), `first chunk's ${seq} readable`);
    assert.ok(s.loadMsg(st.lastSeq));
    const kept = snapshot(s);
    s.stop();
    assert.ok(isCompressed(first) && !decodeCompressedBlock(readFileSync(first)).damaged, 'rewritten whole');
    s = open(dir, {}, S2);
    assert.equal(s.lostData(), undefined, 'not reported again');
    assert.deepEqual(snapshot(s), kept);
    s.stop();
  });

  test('bit rot in a compressed block after opening makes only that chunk unreadable', () => {
    const dir = newDir();
    let s = open(dir, {}, { ...S2, blockSize: 1024 * 1024, compressInline: true });
    fillText(s, 12000);
    s.stop();
    s = open(dir, {}, S2);
    const first = join(dir, blockFiles(dir)[0]!);
    const file = readFileSync(first);
    const t = decodeCompressedBlock(file).table;
    file[t[1]!.at + 10]! ^= 0xff;
    writeFileSync(first, file); // same inode, same offsets
    assert.ok(s.loadMsg(1), 'first chunk');
    let unreadable = 0;
    for (let seq = 1; seq <= 6000; seq++) if (s.loadMsg(seq) === undefined) unreadable++;
    assert.ok(unreadable > 0 && unreadable < 3000, `${unreadable} unreadable`);
    assert.ok(s.loadMsg(s.state().lastSeq));
    s.stop();
  });

  test('snapshots link compressed files; a block compressed after the link stays as linked', () => {
    const dir = newDir();
    const snap = newDir();
    const s = open(dir, {}, S2);
    fillText(s, 200);
    const links = s.linkBlocks(snap);
    for (const l of links) assert.equal(statSync(l.path).size, l.size);
    s.compressNow();
    for (const l of links) {
      assert.equal(statSync(l.path).size, l.size, 'the snapshot still has the uncompressed file');
      assert.ok(!isCompressed(l.path));
    }
    const links2 = s.linkBlocks(`${snap}-2`);
    assert.ok(links2.slice(0, -1).every((l) => isCompressed(l.path)));
    for (const l of links2) assert.equal(statSync(l.path).size, l.size, 'sizes of the files on disk');
    // An erase in a compressed block replaces its file; the snapshot's link keeps the old one.
    const before = readFileSync(links2[0]!.path);
    assert.ok(s.removeMsg(2, true));
    assert.deepEqual(readFileSync(links2[0]!.path), before);
    s.releaseLinks(snap);
    s.releaseLinks(`${snap}-2`);
    // The linked files, cut to the lengths reported (as a snapshot reads them), open as a store of their own.
    for (const l of links2) truncateSync(l.path, l.size);
    const copy = open(`${snap}-2`, {}, { syncIntervalMs: 0 });
    assert.equal(copy.lostData(), undefined);
    assert.equal(copy.state().msgs, 200);
    assert.equal(copy.loadMsg(2)!.subject, 'orders.2');
    copy.stop();
    s.stop();
  });

  test('no space for the compressed file: the block stays uncompressed and the store goes on', () => {
    const dir = newDir();
    // Only the compressed files are refused: first their creation, then their writes (after a part).
    let refuse: 'open' | 'write' | undefined;
    const tmpFds = new Set<number>();
    const io: Partial<FileIo> = {
      open: (path, flags) => {
        if (!path.endsWith('.tmp')) return openSync(path, flags);
        if (refuse === 'open') throw enospc('open');
        const fd = openSync(path, flags);
        tmpFds.add(fd);
        return fd;
      },
      write: (fd, buf, off, len, pos) => {
        if (!tmpFds.has(fd) || refuse !== 'write') return writeSync(fd, buf, off, len, pos);
        if (pos > 0) throw enospc('write');
        return writeSync(fd, buf, off, Math.min(len, 100), pos);
      },
    };
    const s = open(dir, {}, { ...S2, io });
    refuse = 'open';
    fillText(s, 100);
    const sealed = blockFiles(dir).slice(0, -1);
    s.compressNow();
    assert.ok(sealed.every((f) => !isCompressed(join(dir, f))));
    assert.ok(readdirSync(dir).every((f) => !f.endsWith('.tmp')));
    refuse = 'write';
    fillText(s, 60);
    s.compressNow();
    assert.ok(blockFiles(dir).every((f) => !isCompressed(join(dir, f))));
    assert.ok(
      readdirSync(dir).every((f) => !f.endsWith('.tmp')),
      'the partial file is removed',
    );
    refuse = undefined;
    fillText(s, 60);
    s.compressNow();
    const all = blockFiles(dir);
    assert.ok(
      all.slice(0, -1).every((f) => isCompressed(join(dir, f))),
      'compressed once there is space',
    );
    for (let seq = 1; seq <= 220; seq++) assert.ok(s.loadMsg(seq), `${seq}`);
    // An erase in a compressed block on a full disk: the message is removed, its bytes cannot be replaced.
    refuse = 'open';
    const first = join(dir, all[0]!);
    const bytes = readFileSync(first);
    assert.ok(s.removeMsg(2, true));
    assert.equal(s.loadMsg(2), undefined);
    assert.deepEqual(readFileSync(first), bytes);
    assert.ok(s.loadMsg(3));
    s.stop();
  });
});
