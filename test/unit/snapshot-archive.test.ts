// The pieces of stream snapshots below the API: the tar writer/reader, the S2 stream format (checked
// against an archive Go wrote: archive/tar in PAX format inside klauspost/compress's s2.NewWriter, as
// nats-server writes snapshots), memory stream blocks and their import, and the file store's point-in-time
// block links.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { encodeStoreBlocks } from '../../src/jetstream/snapshot/blocks.js';
import { FileStore } from '../../src/jetstream/store/filestore/filestore.js';
import { MemStore } from '../../src/jetstream/store/memstore.js';
import type { StreamStore } from '../../src/jetstream/store/store.js';
import { S2Error } from '../../src/util/s2.js';
import { crc32c, S2StreamReader, S2StreamWriter } from '../../src/util/s2-stream.js';
import { TarError, TarReader, tarEnd, tarFileHeader, tarPadding } from '../../src/util/tar.js';
import { rng } from '../helpers/random.js';

const root = mkdtempSync(join(tmpdir(), 'tsnats-snap-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const newDir = (): string => join(root, `d${++n}`);
const EMPTY = Buffer.alloc(0);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Read a tar archive (pushed in pieces cut by `cut`) into name -> bytes, in order. */
function readTar(archive: Buffer, cut: (i: number) => number = () => archive.length): [string, Buffer][] {
  const files: [string, Buffer][] = [];
  let parts: Buffer[] = [];
  let name = '';
  const r = new TarReader({
    file: (n) => {
      name = n;
      parts = [];
    },
    data: (c) => parts.push(Buffer.from(c)),
    fileEnd: () => files.push([name, Buffer.concat(parts)]),
  });
  for (let off = 0, i = 0; off < archive.length; i++) {
    const len = Math.max(1, cut(i));
    r.push(archive.subarray(off, off + len));
    off += len;
  }
  r.end();
  return files;
}

function writeTar(files: [string, Buffer][]): Buffer {
  const out: Buffer[] = [];
  for (const [name, data] of files) out.push(tarFileHeader(name, data.length), data, tarPadding(data.length));
  out.push(tarEnd());
  return Buffer.concat(out);
}

function s2Stream(data: Buffer): Buffer {
  const w = new S2StreamWriter();
  return Buffer.concat([...w.write(data), ...w.end()]);
}

function s2Read(encoded: Buffer, cut = encoded.length): Buffer {
  const out: Buffer[] = [];
  const r = new S2StreamReader((d) => out.push(Buffer.from(d)));
  for (let off = 0; off < encoded.length; off += cut) r.push(encoded.subarray(off, off + cut));
  r.end();
  return Buffer.concat(out);
}

describe('tar', () => {
  const files: [string, Buffer][] = [
    ['meta.inf', Buffer.from('{"name":"S"}')],
    ['empty', EMPTY],
    ['msgs/0000000001.blk', randomBytes(5000)],
    ['exactly-one-block', Buffer.alloc(512, 7)],
    [`obs/${'x'.repeat(150)}/meta.inf`, Buffer.from('ustar prefix')],
    [`obs/${'é'.repeat(200)}/o.dat`, Buffer.from('PAX path')],
  ];

  test('what the writer writes, the reader reads back, whatever the cuts', () => {
    const archive = writeTar(files);
    assert.equal(archive.length % 512, 0);
    assert.deepEqual(readTar(archive), files);
    assert.deepEqual(
      readTar(archive, () => 1),
      files,
    );
    const r = rng(7);
    assert.deepEqual(
      readTar(archive, () => Math.floor(r() * 2000)),
      files,
    );
  });

  test('a damaged header checksum, a truncated archive and a link are refused', () => {
    const archive = writeTar(files);
    const bad = Buffer.from(archive);
    bad[10] = bad[10]! ^ 1;
    assert.throws(() => readTar(bad), TarError);
    assert.throws(() => readTar(archive.subarray(0, archive.length - 1024 - 512)), /unexpected end/);
    const link = tarFileHeader('x', 0);
    link.write('2', 156, 'ascii'); // symlink, checksum now stale: fix it
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : link[i]!;
    link.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
    assert.throws(() => readTar(Buffer.concat([link, tarEnd()])), /unsupported entry type '2'/);
  });
});

describe('S2 stream', () => {
  test('CRC-32C check value', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  });

  test('round trip of compressible and random data across block boundaries, in any cut', () => {
    const text = Buffer.from('the quick brown fox jumps over the lazy dog. '.repeat(60_000));
    const noise = randomBytes(1_300_000);
    for (const data of [EMPTY, Buffer.from('x'), text, noise, Buffer.concat([text, noise])]) {
      const enc = s2Stream(data);
      assert.deepEqual(s2Read(enc), data);
      assert.deepEqual(s2Read(enc, 4093), data);
    }
    assert.ok(s2Stream(text).length < text.length / 5, 'text compresses');
  });

  test('a bad checksum, a missing stream identifier and a cut stream are errors', () => {
    const enc = s2Stream(Buffer.from('hello hello hello hello'));
    const bad = Buffer.from(enc);
    bad[14] = bad[14]! ^ 0xff; // inside the first chunk's checksum
    assert.throws(() => s2Read(bad), S2Error);
    assert.throws(() => s2Read(enc.subarray(10)), S2Error);
    assert.throws(() => s2Read(enc.subarray(0, enc.length - 1)), /unexpected end/);
    assert.throws(() => s2Read(EMPTY), /empty stream/);
  });

  test("an archive Go wrote (tar PAX in s2.NewWriter, nats-server's snapshot format) reads back", () => {
    const fixture = JSON.parse(
      readFileSync(new URL('../../../test/fixtures/snapshot-go-archive.json', import.meta.url), 'utf8'),
    ) as { archive: string; entries: { name: string; size: number; sha256: string }[] };
    const tar = s2Read(Buffer.from(fixture.archive, 'base64'), 1000);
    const files = readTar(tar);
    assert.deepEqual(
      files.map(([name, data]) => ({ name, size: data.length, sha256: sha(data) })),
      fixture.entries,
    );
  });
});

/** Every message of a store, as comparable values. */
function dump(s: StreamStore): unknown[] {
  const out: unknown[] = [];
  const st = s.state();
  for (let m = s.loadNextMsg('', st.firstSeq); m !== undefined; m = s.loadNextMsg('', m.seq + 1)) {
    out.push([m.seq, m.ts, m.subject, m.hdr.toString('hex'), m.data.toString('hex')]);
  }
  return out;
}

describe('memory stream blocks', () => {
  const cases: [string, (s: StreamStore) => void][] = [
    ['never used', () => {}],
    [
      'interior and trailing deletes, headers, non-ASCII subjects',
      (s) => {
        for (let i = 1; i <= 300; i++) {
          const hdr = i % 3 === 0 ? Buffer.from(`NATS/1.0\r\nI: ${i}\r\n\r\n`) : EMPTY;
          s.storeMsg(i % 5 === 0 ? 'ü.x' : `s.${i % 7}`, hdr, Buffer.from(`m${i}`));
        }
        for (const seq of [1, 2, 50, 51, 52, 299, 300]) s.removeMsg(seq);
      },
    ],
    [
      'purged',
      (s) => {
        for (let i = 0; i < 10; i++) s.storeMsg('a', EMPTY, Buffer.from('x'));
        s.purge();
      },
    ],
  ];
  for (const [name, fill] of cases) {
    test(`${name}: blocks opened by a file store and imported into memory give the same store`, () => {
      const mem = new MemStore();
      fill(mem);
      const dir = newDir();
      mkdirSync(dir);
      for (const b of encodeStoreBlocks(mem)) writeFileSync(join(dir, b.name), b.data);
      const file = new FileStore(dir, {}, { syncIntervalMs: 0 });
      const back = new MemStore();
      back.importFrom(file);
      const { bytes: _b1, ...want } = mem.state(true);
      const { bytes: _b2, ...fromFile } = file.state(true);
      assert.deepEqual(fromFile, want);
      assert.deepEqual(back.state(true), mem.state(true));
      assert.deepEqual(dump(back), dump(mem));
      assert.deepEqual(dump(file), dump(mem));
      // The sequence goes on where it was.
      assert.equal(back.storeMsg('z', EMPTY, EMPTY).seq, mem.state().lastSeq + 1);
      file.stop();
    });
  }
});

describe('file store block links', () => {
  test('linked blocks keep the messages as they were, through appends, erases, deletes and purge', () => {
    const dir = newDir();
    const s = new FileStore(dir, {}, { blockSize: 1024, syncIntervalMs: 0 });
    for (let i = 1; i <= 100; i++) s.storeMsg(`s.${i % 4}`, EMPTY, Buffer.from(`payload ${i}`));
    s.removeMsg(10);
    const want = dump(s);
    const wantState = s.state(true);
    const snapDir = newDir();
    const linked = s.linkBlocks(snapDir);
    assert.ok(linked.length > 3, 'several blocks');
    // Afterwards: more messages, an erase (rewrites a block in place), deletes, a purge.
    for (let i = 0; i < 50; i++) s.storeMsg('s.new', EMPTY, Buffer.from('later'));
    s.removeMsg(20, true);
    s.removeMsg(99, true);
    for (let seq = 1; seq <= 60; seq++) s.removeMsg(seq);
    s.purge();
    s.releaseLinks(snapDir);
    // What the snapshot holds: each linked file up to its recorded length.
    const copy = newDir();
    mkdirSync(copy);
    for (const b of linked) {
      copyFileSync(b.path, join(copy, b.name));
      truncateSync(join(copy, b.name), b.size);
    }
    const back = new FileStore(copy, {}, { syncIntervalMs: 0 });
    assert.deepEqual(dump(back), want);
    assert.deepEqual(back.state(true), wantState);
    assert.equal(back.lostData(), undefined);
    back.stop();
    s.stop();
  });
});
