/**
 * The Raft write-ahead log: a sequence of entries with consecutive indexes, each carrying the term it was
 * created in and its bytes (an encoded append-entry). It plays the part of the filestore/memstore WAL of
 * nats-server's NRG (docs/design/nrg.md §12.4): append at lastIndex + 1, truncate a suffix after a log
 * mismatch (§8.1 A), compact a prefix after a snapshot, and compact past the end to move the next index
 * (§8.1 B, §4, §10). `MemRaftLog` keeps the entries in memory only; `FileRaftLog` keeps them in memory too
 * (reads never touch the disk: the log is compacted after snapshots, so what it holds stays bounded) and
 * makes every change durable against a process crash before returning.
 *
 * On-disk format of FileRaftLog (all integers little-endian; u64 = low u32 then high u32, values < 2^53):
 *
 *   <dir>/<first index, 20 digits>.wal   segment files, e.g. 00000000000000000001.wal
 *   <dir>/first                          compaction marker (absent until the first compaction)
 *   <dir>/first.tmp                      marker being written (deleted on open)
 *
 * A segment is a plain concatenation of records, no file header. Its name is the index of its first
 * record, and records follow each other with consecutive indexes; segment k+1 starts at the index after
 * the last record of segment k. Record (24-byte header, then the data):
 *
 *   u32 length   of the data
 *   u32 crc      CRC-32 of bytes [0, 4) followed by bytes [8, 24 + length): length, index, term and data
 *   u64 index
 *   u64 term
 *   data         `length` bytes
 *
 * Appends go to the last segment with one positional writeSync of the whole record; a new segment named
 * by the appended index is started when the record would take the last one past `segmentBytes` (a
 * segment holds at least one record, so one larger than segmentBytes gets a segment of its own).
 *
 * The marker (16 bytes: u32 magic "TSRF", u32 CRC-32 of bytes [8, 16), u64 firstIndex) records where the
 * log starts. Every compaction that moves firstIndex first replaces it atomically (write first.tmp,
 * rename over first), then deletes the segments that hold only entries below the new firstIndex, lowest
 * first. A segment partly below firstIndex stays; its records below firstIndex are ignored on open. A
 * compaction at or past the end (index > lastIndex) deletes every segment; the marker alone then says
 * "next index is firstIndex", and the next append starts a segment with that name.
 *
 * truncateAfter(i) deletes the later segments, highest first, then ftruncates the segment holding i + 1 at
 * that record's offset (possibly to zero bytes: an empty segment named i + 1 is where appends continue).
 * That order, and compaction's, means a crash in the middle of either never leaves a gap in the chain of
 * segments: an interrupted truncation leaves a longer prefix of the old log, an interrupted compaction is
 * completed on open from the marker.
 *
 * Opening (recovery): firstIndex = the marker, else the first segment's name, else 1. Segments whose
 * successor starts at or below firstIndex are deleted (an interrupted compaction). The rest are read in
 * order; each record must be whole, match its CRC and carry the next index (the first record of a segment
 * its name). At the first record that does not, the segment is truncated there and every later segment
 * is deleted (like NRG, which truncates its WAL at the first entry it cannot load); a segment whose name
 * does not continue the chain is deleted with everything after it. What was dropped is reported by
 * lostData(): with SIGKILL only the record being written can be torn, so that is at most one entry that
 * append never returned for. If no record at or above firstIndex remains, every segment is deleted and
 * lastIndex = firstIndex - 1. A marker that fails its CRC is ignored (firstIndex falls back to the first
 * segment). Files of other names in the directory are left alone.
 *
 * Durability:
 * - Process crash (SIGKILL included): everything a returned append/truncateAfter/compact did survives;
 *   nothing is fsynced on those paths (unless syncAlways), the page cache keeps it, as with nats-server.
 * - Machine crash: only what was fsynced, by sync(), close(), the timer (every syncIntervalMs, default 60 s
 *   like nats-server's meta group; 300 s for streams), or per operation with syncAlways (fdatasync of the
 *   segment, fsync of the marker before its rename, fsync of the directory when files were created,
 *   renamed or deleted). sync() fdatasyncs dirty segments, fsyncs a rewritten marker and the directory.
 * - An I/O error in truncateAfter/compact or the sync timer leaves memory and disk possibly disagreeing:
 *   the log then refuses further changes (reopen it to recover). A failed append write is undone with
 *   ftruncate and leaves the log usable.
 */

import {
  closeSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  truncateSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from '../jetstream/store/filestore/crc32.js';

/** One log entry: its Raft index, the term it was created in, and its bytes (an encoded append-entry). */
export interface LogEntry {
  readonly index: number;
  readonly term: number;
  readonly data: Buffer;
}

export interface RaftLog {
  /** Index of the first entry held; when the log is empty, lastIndex + 1. Starts at 1. */
  readonly firstIndex: number;
  /** Index of the last entry held, or of the last entry before everything was compacted (0 for a new log). */
  readonly lastIndex: number;
  /** Number of entries held and the sum of their data lengths. */
  readonly count: number;
  readonly bytes: number;
  /**
   * Append at lastIndex + 1 (throws RangeError if `index` is not exactly that, or `term` is not a
   * non-negative safe integer). The data is copied. Durable against a process crash (SIGKILL) when it
   * returns: written to the OS with writeSync; fsync per policy.
   */
  append(index: number, term: number, data: Buffer): void;
  /** The entry at `index`, undefined when not held (compacted or beyond the end). Do not modify its data. */
  get(index: number): LogEntry | undefined;
  /** Term of the entry at `index`, undefined when not held. */
  termAt(index: number): number | undefined;
  /**
   * Keep entries <= index, drop the rest (index >= firstIndex - 1; index < firstIndex - 1 is a RangeError;
   * index >= lastIndex is a no-op). firstIndex does not change.
   */
  truncateAfter(index: number): void;
  /**
   * Drop entries < index. If index > lastIndex + 1: drop everything and make the next append index `index`
   * (lastIndex becomes index - 1). Idempotent; index <= firstIndex is a no-op. Must survive restart: after
   * reopen, firstIndex/lastIndex are the same.
   */
  compact(index: number): void;
  /** fsync what was written. */
  sync(): void;
  /** Flush, close files. Later changes throw; reads keep working. Idempotent. */
  close(): void;
  /** Close and delete everything on disk. */
  delete(): void;
}

/** What recovery dropped when a FileRaftLog was opened. */
export interface LostLogData {
  /** Records dropped; a torn or unreadable region counts as one. */
  entries: number;
  /** File bytes dropped. */
  bytes: number;
}

export interface FileRaftLogOptions {
  /** fsync dirty files every this many ms; 0 = no timer. Default 60_000 (nats-server meta; streams use 300_000). */
  syncIntervalMs?: number;
  /** fdatasync after every change (and fsync the directory when files change). Default false. */
  syncAlways?: boolean;
  /** Start a new segment file when a record would take the last one past this size. Default 4 MiB. */
  segmentBytes?: number;
}

export const DEFAULT_SYNC_INTERVAL_MS = 60_000;
export const DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024;

/** Size of a record's header. */
export const RECORD_HEADER = 24;
const MAX_DATA = 0xffff_ffff;
const TWO32 = 2 ** 32;
const SEGMENT_RE = /^(\d{20})\.wal$/;
const MARKER = 'first';
const MARKER_TMP = 'first.tmp';
const MARKER_SIZE = 16;
const MARKER_MAGIC = 0x46525354; // "TSRF" little-endian

/** The entries and index bounds, shared by both logs. */
abstract class HeldLog implements RaftLog {
  protected first = 1;
  protected last = 0;
  /** entries[i] has index first + i. */
  protected entries: LogEntry[] = [];
  protected held = 0;
  protected closed = false;

  get firstIndex(): number {
    return this.first;
  }

  get lastIndex(): number {
    return this.last;
  }

  get count(): number {
    return this.entries.length;
  }

  get bytes(): number {
    return this.held;
  }

  get(index: number): LogEntry | undefined {
    return index >= this.first && index <= this.last ? this.entries[index - this.first] : undefined;
  }

  termAt(index: number): number | undefined {
    return this.get(index)?.term;
  }

  abstract append(index: number, term: number, data: Buffer): void;
  abstract truncateAfter(index: number): void;
  abstract compact(index: number): void;
  abstract sync(): void;
  abstract close(): void;
  abstract delete(): void;

  protected checkOpen(): void {
    if (this.closed) throw new Error('raft log is closed');
  }

  protected checkAppend(index: number, term: number, data: Buffer): void {
    this.checkOpen();
    if (index !== this.last + 1) {
      throw new RangeError(`raft log: append at index ${index}, the next index is ${this.last + 1}`);
    }
    if (!Number.isSafeInteger(term) || term < 0) throw new RangeError(`raft log: invalid term ${term}`);
    if (data.length > MAX_DATA) throw new RangeError(`raft log: entry of ${data.length} bytes is too large`);
  }

  protected keep(entry: LogEntry): void {
    this.entries.push(entry);
    this.held += entry.data.length;
    this.last = entry.index;
  }

  /** Validates truncateAfter's argument; false when there is nothing to drop. */
  protected checkTruncate(index: number): boolean {
    this.checkOpen();
    if (!Number.isSafeInteger(index) || index < this.first - 1) {
      throw new RangeError(`raft log: truncate after ${index}, below the first index ${this.first}`);
    }
    return index < this.last;
  }

  /** Drop the entries after `index` (firstIndex - 1 <= index < lastIndex) from memory. */
  protected dropAfter(index: number): void {
    const keep = index - this.first + 1;
    for (let i = keep; i < this.entries.length; i++) this.held -= this.entries[i]!.data.length;
    this.entries.length = keep;
    this.last = index;
  }

  /** Validates compact's argument; false when it is a no-op. */
  protected checkCompact(index: number): boolean {
    this.checkOpen();
    if (!Number.isSafeInteger(index)) throw new RangeError(`raft log: invalid compact index ${index}`);
    return index > this.first;
  }

  /** Drop the entries below `index` (> firstIndex) from memory; returns how many were dropped. */
  protected dropBefore(index: number): number {
    const n = Math.min(index, this.last + 1) - this.first;
    if (index > this.last) {
      this.entries = [];
      this.held = 0;
      this.last = index - 1;
    } else {
      for (let i = 0; i < n; i++) this.held -= this.entries[i]!.data.length;
      this.entries.splice(0, n);
    }
    this.first = index;
    return n;
  }
}

/** A log in memory only (memory-storage groups, tests). */
export class MemRaftLog extends HeldLog {
  append(index: number, term: number, data: Buffer): void {
    this.checkAppend(index, term, data);
    this.keep({ index, term, data: Buffer.from(data) });
  }

  truncateAfter(index: number): void {
    if (this.checkTruncate(index)) this.dropAfter(index);
  }

  compact(index: number): void {
    if (this.checkCompact(index)) this.dropBefore(index);
  }

  sync(): void {}

  close(): void {
    this.closed = true;
  }

  delete(): void {
    this.closed = true;
    this.entries = [];
    this.held = 0;
  }
}

/** One segment file. */
class Segment {
  /**
   * Open descriptor or -1: only the last segment is kept open. An older one that is still dirty is fsynced
   * through a descriptor opened for the purpose (fsync syncs the file, whichever descriptor wrote it).
   */
  fd = -1;
  /** Written since the last fsync. */
  dirty = false;

  constructor(
    readonly base: number,
    readonly path: string,
    /** Bytes of whole records in the file. */
    public size: number,
  ) {}
}

/** A log in segment files (file-storage groups); see the top of this file. */
export class FileRaftLog extends HeldLog {
  readonly dir: string;
  private readonly syncAlways: boolean;
  private readonly segmentBytes: number;
  /** Segment files, ascending; the last one is where appends go (its records end at lastIndex). */
  private segments: Segment[] = [];
  /** File offset of each held entry within its segment, parallel to `entries`. */
  private offsets: number[] = [];
  private dirDirty = false;
  private markerDirty = false;
  private timer: NodeJS.Timeout | undefined;
  private lost: LostLogData | undefined;
  private failure: Error | undefined;

  constructor(dir: string, opts: FileRaftLogOptions = {}) {
    super();
    this.dir = dir;
    this.syncAlways = opts.syncAlways ?? false;
    const segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (!Number.isSafeInteger(segmentBytes) || segmentBytes <= 0) {
      throw new RangeError(`raft log: invalid segmentBytes ${segmentBytes}`);
    }
    this.segmentBytes = segmentBytes;
    try {
      mkdirSync(dir, { recursive: true });
      this.recover();
      if (this.syncAlways) this.syncNow();
    } catch (err) {
      this.shutdown();
      throw err;
    }
    const syncMs = opts.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS;
    if (syncMs > 0 && !this.syncAlways) {
      this.timer = setInterval(this.onTimer, syncMs);
      this.timer.unref();
    }
  }

  /** What recovery dropped (torn/corrupt tail), undefined if nothing. */
  lostData(): LostLogData | undefined {
    return this.lost === undefined ? undefined : { ...this.lost };
  }

  append(index: number, term: number, data: Buffer): void {
    this.checkAppend(index, term, data);
    this.checkHealthy();
    const rec = encodeRecord(index, term, data);
    const tail = this.segments[this.segments.length - 1];
    const seg =
      tail === undefined || (tail.size > 0 && tail.size + rec.length > this.segmentBytes)
        ? this.newSegment(index)
        : tail;
    const fd = this.fdOf(seg);
    try {
      writeFully(fd, rec, seg.size);
    } catch (err) {
      // Take back whatever part of the record made it, so the next append lands in the right place.
      try {
        ftruncateSync(fd, seg.size);
      } catch (err2) {
        this.fail(err2);
      }
      throw err;
    }
    this.offsets.push(seg.size);
    seg.size += rec.length;
    seg.dirty = true;
    this.keep({ index, term, data: rec.subarray(RECORD_HEADER) });
    if (this.syncAlways) this.guard(() => this.syncNow());
  }

  truncateAfter(index: number): void {
    if (!this.checkTruncate(index)) return;
    this.checkHealthy();
    this.guard(() => {
      const at = index + 1;
      const k = this.segmentOf(at);
      const off = this.offsets[at - this.first]!;
      // Later segments first, highest first: a crash part-way leaves a shorter log, never a gap.
      for (let i = this.segments.length - 1; i > k; i--) {
        this.removeSegment(this.segments[i]!);
        this.segments.length = i;
      }
      const seg = this.segments[k]!;
      ftruncateSync(this.fdOf(seg), off);
      seg.size = off;
      seg.dirty = true;
      this.dropAfter(index);
      this.offsets.length = this.entries.length;
      if (this.syncAlways) this.syncNow();
    });
  }

  compact(index: number): void {
    if (!this.checkCompact(index)) return;
    this.checkHealthy();
    this.guard(() => {
      // The marker first: from here on a reopen starts at `index` whatever is left of the deletions.
      this.writeMarker(index);
      let n = 0;
      if (index > this.last) {
        n = this.segments.length;
      } else {
        while (n + 1 < this.segments.length && this.segments[n + 1]!.base <= index) n++;
      }
      for (let i = 0; i < n; i++) this.removeSegment(this.segments[i]!);
      this.segments.splice(0, n);
      this.offsets.splice(0, this.dropBefore(index));
      if (this.syncAlways) this.syncNow();
    });
  }

  sync(): void {
    if (this.closed) return;
    this.checkHealthy();
    this.guard(() => this.syncNow());
  }

  close(): void {
    if (this.closed) return;
    try {
      if (this.failure === undefined) this.syncNow();
    } finally {
      this.shutdown();
    }
  }

  delete(): void {
    this.shutdown();
    this.entries = [];
    this.offsets = [];
    this.held = 0;
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const name of names) {
      if (SEGMENT_RE.test(name) || name === MARKER || name === MARKER_TMP) unlinkQuiet(join(this.dir, name));
    }
    try {
      rmdirSync(this.dir);
    } catch {
      // Not empty (files of others) or already gone: leave it.
    }
  }

  // ---- internals -------------------------------------------------------------------------------------

  private checkHealthy(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private fail(err: unknown): Error {
    const msg = err instanceof Error ? err.message : String(err);
    this.failure ??= new Error(`raft log ${this.dir} failed, reopen it: ${msg}`, { cause: err });
    return this.failure;
  }

  /** Run a step that may leave memory and disk disagreeing if it throws: the log then stops taking changes. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      this.fail(err);
      throw err;
    }
  }

  private fdOf(seg: Segment): number {
    if (seg.fd < 0) seg.fd = openSync(seg.path, 'r+');
    return seg.fd;
  }

  /** Start the segment that will hold `base` next. */
  private newSegment(base: number): Segment {
    const seg = new Segment(base, join(this.dir, segmentName(base)), 0);
    const fd = openSync(seg.path, 'w');
    const prev = this.segments[this.segments.length - 1];
    if (prev !== undefined && prev.fd >= 0) {
      closeSync(prev.fd);
      prev.fd = -1;
    }
    seg.fd = fd;
    this.segments.push(seg);
    this.dirDirty = true;
    return seg;
  }

  private removeSegment(seg: Segment): void {
    if (seg.fd >= 0) {
      closeSync(seg.fd);
      seg.fd = -1;
    }
    unlinkQuiet(seg.path);
    this.dirDirty = true;
  }

  /** Position in `segments` of the segment holding `index` (which is held). */
  private segmentOf(index: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid]!.base <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private writeMarker(first: number): void {
    const buf = Buffer.alloc(MARKER_SIZE);
    buf.writeUInt32LE(MARKER_MAGIC, 0);
    writeU64(buf, 8, first);
    buf.writeUInt32LE(crc32(buf, 8, MARKER_SIZE), 4);
    const tmp = join(this.dir, MARKER_TMP);
    const fd = openSync(tmp, 'w');
    try {
      writeFully(fd, buf, 0);
      if (this.syncAlways) fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(this.dir, MARKER));
    this.dirDirty = true;
    this.markerDirty = !this.syncAlways;
  }

  private syncNow(): void {
    for (const seg of this.segments) {
      if (!seg.dirty) continue;
      if (seg.fd >= 0) {
        fdatasyncSync(seg.fd);
      } else {
        const fd = openSync(seg.path, 'r');
        try {
          fdatasyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
      seg.dirty = false;
    }
    if (this.markerDirty) {
      const fd = openSync(join(this.dir, MARKER), 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      this.markerDirty = false;
    }
    if (this.dirDirty) {
      const fd = openSync(this.dir, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      this.dirDirty = false;
    }
  }

  private readonly onTimer = (): void => {
    if (this.closed || this.failure !== undefined) return;
    try {
      this.syncNow();
    } catch (err) {
      this.fail(err);
    }
  };

  /** Close every file without writing anything. */
  private shutdown(): void {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const seg of this.segments) {
      if (seg.fd < 0) continue;
      try {
        closeSync(seg.fd);
      } catch {
        // closing anyway
      }
      seg.fd = -1;
    }
  }

  private addLost(entries: number, bytes: number): void {
    if (entries === 0 && bytes === 0) return;
    this.lost ??= { entries: 0, bytes: 0 };
    this.lost.entries += entries;
    this.lost.bytes += bytes;
  }

  /** Delete segments that cannot be used (after a damaged record or a break in the chain), counting them lost. */
  private discard(segs: Segment[]): void {
    for (const seg of segs) {
      const buf = readFileSync(seg.path);
      this.addLost(countRecords(buf, 0), buf.length);
      unlinkQuiet(seg.path);
      this.dirDirty = true;
    }
  }

  /** Rebuild the log from the directory (see "Opening" at the top of this file). */
  private recover(): void {
    const names = readdirSync(this.dir);
    let marker: number | undefined;
    if (names.includes(MARKER)) marker = readMarker(readFileSync(join(this.dir, MARKER)));
    if (names.includes(MARKER_TMP)) {
      unlinkQuiet(join(this.dir, MARKER_TMP));
      this.dirDirty = true;
    }
    const segs: Segment[] = [];
    for (const name of names) {
      const m = SEGMENT_RE.exec(name);
      if (m === null) continue;
      const base = Number(m[1]);
      if (Number.isSafeInteger(base) && base >= 1) segs.push(new Segment(base, join(this.dir, name), 0));
    }
    segs.sort((a, b) => a.base - b.base);

    let first = marker ?? segs[0]?.base ?? 1;
    // Segments followed by one starting at or below `first` hold only compacted entries (a compaction was
    // cut short before deleting them).
    let k = 0;
    while (k + 1 < segs.length && segs[k + 1]!.base <= first) {
      unlinkQuiet(segs[k]!.path);
      this.dirDirty = true;
      k++;
    }
    // Without a usable marker (damaged, or removed by hand) the log starts where the files start.
    if (k < segs.length && segs[k]!.base > first) first = segs[k]!.base;
    this.first = first;
    this.last = first - 1;

    const kept: Segment[] = [];
    let next = k < segs.length ? segs[k]!.base : first;
    for (let i = k; i < segs.length; i++) {
      const seg = segs[i]!;
      if (seg.base !== next) {
        this.discard(segs.slice(i));
        break;
      }
      const buf = readFileSync(seg.path);
      let off = 0;
      while (off < buf.length) {
        const len = checkRecord(buf, off, next);
        if (len < 0) break;
        if (next >= first) {
          this.entries.push({
            index: next,
            term: readU64(buf, off + 16),
            data: buf.subarray(off + RECORD_HEADER, off + len),
          });
          this.offsets.push(off);
          this.held += len - RECORD_HEADER;
        }
        next++;
        off += len;
      }
      seg.size = off;
      kept.push(seg);
      if (off < buf.length) {
        // A torn or damaged record: it and everything after it goes.
        this.addLost(countRecords(buf, off), buf.length - off);
        truncateSync(seg.path, off);
        this.discard(segs.slice(i + 1));
        break;
      }
    }
    if (next - 1 < first) {
      // Nothing at or above firstIndex: a compaction past the end (or an emptying truncation) left these.
      for (const seg of kept) unlinkQuiet(seg.path);
      if (kept.length > 0) this.dirDirty = true;
      kept.length = 0;
    } else {
      this.last = next - 1;
    }
    this.segments = kept;
  }
}

// ---- encoding ----------------------------------------------------------------------------------------

export function segmentName(base: number): string {
  return String(base).padStart(20, '0') + '.wal';
}

function writeU64(buf: Buffer, off: number, v: number): void {
  buf.writeUInt32LE(v >>> 0, off);
  buf.writeUInt32LE(Math.floor(v / TWO32), off + 4);
}

function readU64(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * TWO32;
}

/** The record for one entry (header and a copy of the data). */
export function encodeRecord(index: number, term: number, data: Buffer): Buffer {
  const end = RECORD_HEADER + data.length;
  const rec = Buffer.allocUnsafe(end);
  rec.writeUInt32LE(data.length, 0);
  writeU64(rec, 8, index);
  writeU64(rec, 16, term);
  data.copy(rec, RECORD_HEADER);
  rec.writeUInt32LE(crc32(rec, 8, end, crc32(rec, 0, 4)), 4);
  return rec;
}

/** Length of the sound record for `index` at `off`, or -1 (torn, damaged, or another index). */
function checkRecord(buf: Buffer, off: number, index: number): number {
  if (buf.length - off < RECORD_HEADER) return -1;
  const end = off + RECORD_HEADER + buf.readUInt32LE(off);
  if (end > buf.length) return -1;
  if (crc32(buf, off + 8, end, crc32(buf, off, off + 4)) !== buf.readUInt32LE(off + 4)) return -1;
  if (readU64(buf, off + 8) !== index) return -1;
  return end - off;
}

/** How many records start at or after `off`, following the length fields (a torn remainder counts as one). */
function countRecords(buf: Buffer, off: number): number {
  let n = 0;
  while (off < buf.length) {
    n++;
    if (buf.length - off < RECORD_HEADER) break;
    off += RECORD_HEADER + buf.readUInt32LE(off);
  }
  return n;
}

function readMarker(buf: Buffer): number | undefined {
  if (buf.length !== MARKER_SIZE || buf.readUInt32LE(0) !== MARKER_MAGIC) return undefined;
  if (crc32(buf, 8, MARKER_SIZE) !== buf.readUInt32LE(4)) return undefined;
  const first = readU64(buf, 8);
  return Number.isSafeInteger(first) && first >= 1 ? first : undefined;
}

/** writeSync all of `buf` at `pos` (a regular file may take a write in parts). */
function writeFully(fd: number, buf: Buffer, pos: number): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, pos + off);
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
