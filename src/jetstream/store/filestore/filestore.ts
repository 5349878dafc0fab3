/**
 * The file store (nats-server's filestore.go, much reduced): an append-only log of checksummed records in
 * block files (format.ts), indexed in memory by the IndexedStore shared with the memory store. The log is
 * the only source of truth: opening a store re-reads every block (scan.ts) and rebuilds the index.
 *
 * Writes. All appends go to the last ("active") block. Its bytes are mirrored in `active.buf`, so a record
 * is encoded once, straight into that buffer, and written from it with fs.writeSync at the file offset;
 * reads of recent messages come from the same buffer. A message record is written with one writeSync
 * before the index learns about the message; the tombstones/floor an operation causes (limits included)
 * go out with one more writeSync at its end. No fsync, no file open and no JSON on that path.
 *
 * Removals. Removing the oldest message (limits, expiry, compact, an ack of the first message) is recorded
 * by a FLOOR record, "every sequence below N is gone", at most one per operation. Any other removal gets
 * a TOMBSTONE record. Both go to the active block, so a delete never writes to an old file; the tombstones
 * an active block holds for messages in older blocks are remembered (`tombs`) and carried forward into the
 * newest block if their block is deleted first. A block file is deleted as soon as it holds no live message
 * (it is never the active one); the floor survives because each new block's header records the floor at
 * its creation. Purge (and compact past the end, and a store that became empty with a large active block)
 * starts a new block whose header floor covers everything, syncs it, then deletes all older files.
 * `erase` also overwrites the record's header block and payload in place with random bytes (and a valid
 * payload checksum), after the tombstone is written.
 *
 * Durability (what survives what):
 * - storeMsg returns only after its record was handed to the OS with writeSync (unless `writeBehindMs` is
 *   set, see FileStoreOptions). A process crash, including SIGKILL, therefore loses nothing that was
 *   acknowledged, and neither does a removal or purge that returned. With `groupCommit` (JetStream's streams)
 *   the write is deferred to the end of the batch but happens before any output of it reaches a socket
 *   (server/output-barrier.ts), which gives the same guarantee for acknowledgements.
 * - A machine crash (power loss, kernel panic) can lose whatever was written since the last fsync: with the
 *   default `syncIntervalMs` (2 minutes, nats-server's sync_interval) up to that much, including deletes
 *   (a deleted message may come back). With `syncAlways` every operation ends with fdatasync, and new or
 *   deleted block files with an fsync of the directory.
 * - Purge and block resets always fsync the new block and the directory before deleting older files, so a
 *   crash cannot leave the store without its last sequence (sequence numbers are never reused).
 * - stop() writes and fsyncs everything.
 * Recovery keeps every record whose checksums match, reports what it could not keep (lostData) and repairs
 * the files so the same loss is not reported twice (scan.ts describes the cases).
 *
 * A full disk (ENOSPC, EDQUOT, EFBIG: "no space") is not a failure of the store, unlike any other I/O error
 * (which closes it). nats-server keeps its message block usable after a write error and rebuilds its
 * state from what reached the disk; here:
 * - A message record is written before the index learns about the message (write-through mode). When that
 *   write fails, whatever part of it reached the file is truncated away and storeMsg throws StoreError
 *   `ERR_STORE_NO_SPACE`: nothing changed, the message is not counted, the sequence is not used.
 * - Removals (deletes, limits, expiry) still happen: their TOMBSTONE/FLOOR records stay pending in the
 *   active block's buffer and are written by the next write that finds space (or the sync timer). Until
 *   then a crash may bring those messages back (nats-server 2.9 cannot write its index files either);
 *   limits are enforced again on open. Blocks left without live messages are deleted all the same, which
 *   is what frees space.
 * - Purge (and every other block reset) with no room for a new block deletes the other blocks first and
 *   rewrites the active block in place as an empty block (header, then truncate), which needs no new
 *   space; a crash in between still finds the last sequence (in that block's records, then its header).
 * - Reads never write, so they keep working; so does everything once space is freed, without a restart.
 *
 * Compression (nats-server 2.10's stream `compression: "s2"`, option `compression`). The active block is
 * never compressed, so appends stay as they are. When the store moves on to a new block (rollover), the
 * block it leaves is queued and compressed in the background (nats-server starts its
 * recompressOnDiskIfNeeded in a goroutine at the same moment): one chunk of compress.ts per slice of
 * COMPRESS_SLICE_MS on the event loop, then the compressed file is written to `<index>.blk.tmp`, synced
 * and renamed over the block, so a crash leaves either the old file or the new one (a leftover .tmp is
 * deleted on open). Unlike nats-server, opening a store also queues its sealed blocks that are not
 * compressed yet (a stop or crash came before their turn, or compression was turned on since); a stop
 * just drops the queue. Turning compression off leaves compressed blocks as they are (as nats-server):
 * every block is read whatever the option says.
 * - Reads: record offsets are offsets in the uncompressed image, so the index is the same either way. A
 *   read decodes the chunks its record lies in into the block's read cache (once, while cached); a block
 *   compressed while its bytes are cached keeps that cache.
 * - Removals write tombstones to the active block as before; a compressed file is never written in place.
 *   An erase rewrites it: the chunks holding the erased records are decoded, overwritten, compressed again
 *   and the file replaced (tmp + rename) once per operation. On a full disk that replacement cannot be
 *   written, so the message is removed but its bytes stay; a compression that finds no space leaves its
 *   block uncompressed until the next rollover tries again.
 * - Recovery decodes a compressed block and scans its image like any other block; chunks that fail their
 *   checksums read as zeros, which the scan treats as damaged records, and the repaired image is written
 *   back compressed. Snapshots link compressed files as they are (a replaced file stays linked as it was).
 */

import { randomFillSync } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmdirSync,
  statfsSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { addOutputBarrier, markOutputBarrier } from '../../../server/output-barrier.js';
import { type IndexedMsg, IndexedStore, SubjectIndex } from '../memstore.js';
import {
  fileStoreMsgSize,
  fileStoreSizeOf,
  type LostData,
  type StoredMsg,
  StoreError,
  type StoreLimits,
} from '../store.js';
import {
  type ChunkBody,
  type ChunkInfo,
  chunkCount,
  chunkIndex,
  compressChunk,
  compressImage,
  compressRaw,
  decodeChunk,
  decodeCompressedBlock,
  encodeCompressedBlock,
  isCompressedBlock,
} from './compress.js';
import { crc32 } from './crc32.js';
import {
  BLOCK_HEADER_SIZE,
  BLOCK_MAGIC,
  type BlockHeader,
  blockFileName,
  encodeBlockHeader,
  encodeMarkRecord,
  encodeMsgRecord,
  MAX_SUBJECT_BYTES,
  parseBlockFileName,
  payloadIntact,
  REC_FIXED,
  REC_FLOOR,
  REC_OVERHEAD,
  REC_PAD,
  REC_TOMBSTONE,
} from './format.js';
import { type BlockScan, scanBlock } from './scan.js';

export interface FileStoreOptions {
  /**
   * Target size of a block file in bytes. Default 8 MiB, or max_bytes / 4 clamped to [64 KiB, 8 MiB] when
   * the stream has max_bytes (like nats-server's dynBlkSize), so space is reclaimed in useful steps.
   */
  blockSize?: number;
  /** fsync every this many ms (nats-server's sync_interval). Default 120000; 0 disables the timer. */
  syncIntervalMs?: number;
  /** fdatasync at the end of every operation. Default false. */
  syncAlways?: boolean;
  /**
   * 0 (default): write-through, every operation's records reach the OS before it returns. > 0: appends
   * are buffered and written when 64 KiB are pending, after this many ms, or on flush(); a caller must
   * then call flush() before acknowledging. For bulk loads only.
   */
  writeBehindMs?: number;
  /**
   * Group commit: the records of a batch of operations (one read of the socket, or one turn of the event
   * loop) are handed to the OS in one write, before any output of that batch reaches a socket (see
   * server/output-barrier.ts), instead of one write per operation. Used only while the disk has room to
   * spare (GROUP_MARGIN): closer to full, each operation writes through, so that a write refused for lack of
   * space still refuses exactly its own operation. Not with `syncAlways`. Default false.
   */
  groupCommit?: boolean;
  /** Most block files kept open besides the active one (reads and erases of older blocks). Default 16. */
  maxOpenFiles?: number;
  /**
   * nats-server 2.10's stream `compression`: with 's2', every block the store stops appending to is
   * rewritten compressed (compress.ts), in the background. Default 'none'. Compressed blocks are read
   * whatever this says.
   */
  compression?: StoreCompression;
  /** Compress a sealed block inside the operation that sealed it rather than in the background (tests). */
  compressInline?: boolean;
  /** Replace the file operations that allocate space (tests inject ENOSPC with this). */
  io?: Partial<FileIo>;
}

/** The file operations through which the store takes disk space. */
export interface FileIo {
  /** fs.writeSync(fd, buf, off, len, pos): bytes written (may be fewer than asked). */
  write(fd: number, buf: Buffer, off: number, len: number, pos: number): number;
  /** fs.openSync(path, flags). */
  open(path: string, flags: string): number;
}

/** A stream's `compression` (nats-server 2.10's StoreCompression, as in its JSON). */
export type StoreCompression = 'none' | 's2';

const NODE_IO: FileIo = {
  write: (fd, buf, off, len, pos) => writeSync(fd, buf, off, len, pos),
  open: (path, flags) => openSync(path, flags),
};

/** Error codes that mean "no space", after which the store stays usable (see the header comment). */
const NO_SPACE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

function isNoSpace(err: unknown): boolean {
  return err instanceof Error && NO_SPACE_CODES.has((err as NodeJS.ErrnoException).code ?? '');
}

/** The headers of a message without any (shared; a zero-length Buffer cannot be written to). */
const NO_BYTES = Buffer.alloc(0);
const DEFAULT_BLOCK_SIZE = 8 * 1024 * 1024;
const MIN_DYNAMIC_BLOCK_SIZE = 64 * 1024;
/** Group commit waits only while the filesystem has this much room beyond what is pending. */
const GROUP_MARGIN = 64 * 1024 * 1024;
/** How often group commit reads the filesystem's free space. */
const FREE_CHECK_MS = 100;
/** Stores with records waiting for the group write. */
const groupPending = new Set<FileStore>();
let groupFlushQueued = false;

/** Hand every waiting store's records to the OS: before any output (the barrier), or at the end of the
 * turn (a microtask) when there is no output. */
function writeGroups(): void {
  groupFlushQueued = false;
  if (groupPending.size === 0) return;
  const stores = [...groupPending];
  groupPending.clear();
  for (const s of stores) {
    try {
      s.writeGroup();
    } catch {
      // The store closed itself on the I/O error and reports it on its next operation.
    }
  }
}
addOutputBarrier(writeGroups);

/** Sealed blocks kept in memory for reads, per store (see FileStore.cached). */
const MAX_CACHED_BLOCKS = 2;
/** A cached block not read for between one and two of these is dropped. */
const CACHE_EXPIRY_MS = 5_000;
const DEFAULT_SYNC_INTERVAL_MS = 120_000;
const WRITE_BEHIND_MAX = 64 * 1024;
const INITIAL_BUFFER = 64 * 1024;
/** Background compression works this long per turn of the event loop (at least one chunk). */
const COMPRESS_SLICE_MS = 4;
/** Suffix of the file a compressed block is written to before it replaces the block (nats-server's). */
const TMP_SUFFIX = '.tmp';

/** A leftover `<index>.blk.tmp` (a compression or rewrite cut short). */
function isTmpBlockName(name: string): boolean {
  return name.endsWith(TMP_SUFFIX) && parseBlockFileName(name.slice(0, -TMP_SUFFIX.length)) > 0;
}

/** A block being compressed: its image, and the chunks done so far. */
interface CompressJob {
  b: Block;
  image: Buffer;
  /** Block.version when the image was taken: an erase since then makes the job start over. */
  version: number;
  count: number;
  done: ChunkBody[];
}

/** One block file. */
class Block {
  /** Open descriptor, -1 when closed (older blocks are opened on demand, see FileStore.fdFor). */
  fd = -1;
  /** Live messages whose record is in this block; at 0 a non-active block is deleted. */
  live = 0;
  /** Range of message records in the file (empty: minSeq = base, maxSeq = base - 1). */
  minSeq: number;
  maxSeq: number;
  /** Tombstones in this file for messages in older blocks (to carry forward if this file goes first). */
  tombs: number[] = [];
  /** Written since the last fsync. */
  dirty = false;
  removed = false;
  /** Active block only: the file's bytes [0, size) plus room to grow. */
  buf: Buffer | undefined;
  /** Sealed blocks: the file's bytes while cached for reads (see FileStore.cached). */
  cache: Buffer | undefined;
  /** Read from the cache since the last expiry check. */
  cacheHit = false;
  /** The cache holds the bytes this store wrote (a rollover), not bytes read back: no checksum to verify. */
  cacheOwn = false;
  /** The file is compressed (compress.ts): its chunks. `size` is then the length of the image. */
  chunks: ChunkInfo[] | undefined;
  /** Length of a compressed file on disk. */
  fileSize = 0;
  /**
   * A compressed block's cache, filled chunk by chunk as reads need them: per chunk 0 not decoded yet,
   * 1 decoded, 2 unreadable (damaged since it was written). Undefined when the cache is the whole image.
   */
  cacheChunks: Uint8Array | undefined;
  /** Bumped by every rewrite in place (erase), so a compression that read the file before starts over. */
  version = 0;
  /** In the compression queue. */
  queued = false;

  constructor(
    readonly index: number,
    readonly path: string,
    public size: number,
    base: number,
  ) {
    this.minSeq = base;
    this.maxSeq = base - 1;
  }

  hasMsgRecords(): boolean {
    return this.maxSeq >= this.minSeq;
  }

  /** Length of the file on disk. */
  diskSize(): number {
    return this.chunks !== undefined ? this.fileSize : this.size;
  }
}

/** Index entry: where the message's record is. */
class FileEntry implements IndexedMsg {
  constructor(
    readonly seq: number,
    readonly ts: bigint,
    readonly subj: SubjectIndex,
    readonly size: number,
    readonly blk: Block,
    readonly off: number,
    readonly len: number,
  ) {}
}

export class FileStore extends IndexedStore<FileEntry> {
  readonly dir: string;
  private readonly blockSize: number;
  private readonly syncAlways: boolean;
  private readonly writeBehindMs: number;
  private readonly groupCommit: boolean;
  /** Free bytes on the store's filesystem, and when that was read (group commit's margin check). */
  private freeBytes = 0;
  private freeCheckedAt = 0;
  private readonly maxOpenFiles: number;
  private readonly io: FileIo;
  /** An empty store whose active block is at least this big starts a fresh block (reclaims disk). */
  private readonly resetThreshold: number;
  /** Existing block files, ascending; the last is the active one. */
  private blocks: Block[] = [];
  private active!: Block;
  private nextIndex = 1;
  /** Offset in the active block up to which records were written to the OS. */
  private pendingFrom = 0;
  /** The first message was removed in this operation: write a FLOOR record at commit. */
  private floorDirty = false;
  private eraseQueue: FileEntry[] = [];
  private retireQueue: Block[] = [];
  /** Open non-active blocks, least recently used first. */
  private readonly lru: Block[] = [];
  /**
   * Sealed blocks whose bytes are held in memory for reads, least recently loaded first (nats-server
   * caches a block the same way): a consumer reading through a stream reads a block file once instead of
   * one read(2) per message. At most MAX_CACHED_BLOCKS; a block not read for CACHE_EXPIRY_MS is dropped.
   */
  private readonly cached: Block[] = [];
  private cacheTimer: NodeJS.Timeout | undefined;
  private dirDirty = false;
  private syncTimer: NodeJS.Timeout | undefined;
  private writeBehindTimer: NodeJS.Timeout | undefined;
  private lost: LostData | undefined;
  private failure: StoreError | undefined;
  /** The last write refused for lack of space, cleared by the next write that succeeds. */
  private spaceError: StoreError | undefined;
  /** Snapshots holding hard links to block files: their directory and the blocks still shared. */
  private readonly pins = new Map<string, Set<Block>>();
  private compression: StoreCompression;
  private readonly compressInline: boolean;
  /** Sealed blocks waiting to be compressed, and the one being compressed. */
  private compressQueue: Block[] = [];
  private job: CompressJob | undefined;
  /** Blocks whose compressed file could not be written (a full disk): tried again at the next rollover. */
  private compressRetry: Block[] = [];
  private compressTimer: NodeJS.Immediate | undefined;

  constructor(dir: string, limits?: Partial<StoreLimits>, opts: FileStoreOptions = {}) {
    super(limits);
    this.dir = dir;
    const maxBytes = this.limits.maxBytes;
    this.blockSize =
      opts.blockSize ??
      (maxBytes > 0
        ? Math.min(DEFAULT_BLOCK_SIZE, Math.max(MIN_DYNAMIC_BLOCK_SIZE, Math.ceil(maxBytes / 4)))
        : DEFAULT_BLOCK_SIZE);
    this.syncAlways = opts.syncAlways ?? false;
    this.writeBehindMs = opts.writeBehindMs ?? 0;
    this.groupCommit = (opts.groupCommit ?? false) && !(opts.syncAlways ?? false);
    this.maxOpenFiles = Math.max(1, opts.maxOpenFiles ?? 16);
    this.io = { ...NODE_IO, ...opts.io };
    this.resetThreshold = Math.max(BLOCK_HEADER_SIZE + 1, this.blockSize >> 2);
    this.compression = opts.compression ?? 'none';
    this.compressInline = opts.compressInline ?? false;
    try {
      mkdirSync(dir, { recursive: true });
      this.recover();
      this.enforceAllLimits();
      this.finishOp();
      // Sealed blocks left uncompressed (a stop or crash before their compression, or compression just
      // turned on) are compressed now.
      for (const b of this.blocks) this.queueCompress(b);
    } catch (err) {
      this.shutdown();
      throw err instanceof StoreError ? err : this.ioError(err);
    }
    const syncMs = opts.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS;
    if (syncMs > 0 && !this.syncAlways) {
      this.syncTimer = setInterval(this.onSyncTimer, syncMs);
      this.syncTimer.unref();
    }
  }

  /** What recovery dropped when this store was opened (torn or corrupt records), if anything. */
  lostData(): LostData | undefined {
    return this.lost === undefined ? undefined : { ...this.lost };
  }

  /** Write what is buffered to the OS and fsync it. */
  flush(): void {
    if (this.closed) return;
    this.guard(() => {
      this.commitWrites();
      this.syncNow();
    });
  }

  stop(): void {
    if (this.closed) return;
    try {
      this.writePending(); // on a full disk, pending removals are lost (see the header comment)
      this.syncNow();
    } finally {
      this.shutdown();
    }
  }

  delete(): void {
    this.shutdown();
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return; // already gone
    }
    for (const name of names) {
      if (parseBlockFileName(name) > 0 || isTmpBlockName(name)) unlinkSync(join(this.dir, name));
    }
    try {
      rmdirSync(this.dir);
    } catch {
      // Not empty: the stream keeps its own files here; leave the directory to it.
    }
  }

  /**
   * Added for stream snapshots: a point-in-time copy of the block files in `destDir` (which must be on
   * the same filesystem), made of hard links, so it costs no copying and the store goes on at once.
   * Blocks only ever grow after this (appends past the lengths returned), are deleted (the link keeps
   * the data), are replaced by a new file (compression, an erase in a compressed block: the link keeps
   * the old one) or are rewritten in place by an erase or a reset on a full disk: before such a rewrite
   * the store gives the snapshot its own copy of that block (see unshare). `releaseLinks` ends it.
   * Pending writes are written first, so the lengths cover every message stored so far.
   */
  linkBlocks(destDir: string): { name: string; path: string; size: number }[] {
    this.checkOpen();
    this.guard(() => this.commitWrites());
    mkdirSync(destDir, { recursive: true });
    const shared = new Set<Block>();
    const out: { name: string; path: string; size: number }[] = [];
    for (const b of this.blocks) {
      if (b.removed) continue;
      const name = blockFileName(b.index);
      const path = join(destDir, name);
      try {
        linkSync(b.path, path);
        shared.add(b);
      } catch {
        // No hard links here (another filesystem, or none supported): a copy is point-in-time as well.
        copyFileSync(b.path, path);
      }
      out.push({ name, path, size: b.diskSize() });
    }
    this.pins.set(destDir, shared);
    return out;
  }

  /** The snapshot in `destDir` is done with its links (the caller removes the files). */
  releaseLinks(destDir: string): void {
    this.pins.delete(destDir);
  }

  /** `b`'s file was replaced by a new one: snapshots keep the old one through their link. */
  private unpin(b: Block): void {
    for (const shared of this.pins.values()) shared.delete(b);
  }

  /** Before `b` is rewritten in place: snapshots still sharing its file get a private copy of it. */
  private unshare(b: Block): void {
    for (const [dir, shared] of this.pins) {
      if (!shared.delete(b)) continue;
      const path = join(dir, blockFileName(b.index));
      copyFileSync(path, `${path}.cow`);
      renameSync(`${path}.cow`, path);
    }
  }

  // ---- IndexedStore hooks ----

  /** nats-server's file stores count the size of a message's record (fileStoreMsgSize), not msgSize. */
  protected override sizeOf(subject: string, hdr: Buffer, data: Buffer): number {
    return fileStoreMsgSize(subject, hdr, data);
  }

  protected override checkOpen(): void {
    if (this.failure !== undefined) throw this.failure;
    super.checkOpen();
  }

  protected append(
    seq: number,
    ts: bigint,
    subj: SubjectIndex,
    hdr: Buffer,
    data: Buffer,
    size: number,
  ): FileEntry {
    // `size` is fileStoreSizeOf(subject bytes, ...): take the subject's byte length back out of it.
    const subjLen = size - fileStoreSizeOf(0, hdr.length, data.length);
    if (subjLen > MAX_SUBJECT_BYTES) throw new RangeError(`subject longer than ${MAX_SUBJECT_BYTES} bytes`);
    const recLen = REC_OVERHEAD + subjLen + hdr.length + data.length;
    if (this.active.size + recLen > this.blockSize && this.active.size > BLOCK_HEADER_SIZE) {
      this.guard(() => this.rollover(seq));
    }
    this.ensureRoom(recLen);
    const a = this.active;
    const off = a.size;
    encodeMsgRecord(a.buf!, off, seq, ts, subj.subject, subjLen, hdr, data);
    a.size += recLen;
    // Write-through: the record reaches the OS before the index knows the message, so a write refused
    // for lack of space leaves the store exactly as it was. With room to spare, group commit defers it to
    // the end of the batch (still before any output).
    if (this.writeBehindMs === 0 && !this.deferToGroup(recLen) && !this.guard(() => this.writePending())) {
      a.size = off;
      throw this.spaceError!;
    }
    a.live++;
    if (!a.hasMsgRecords()) a.minSeq = seq;
    a.maxSeq = seq;
    return new FileEntry(seq, ts, subj, size, a, off, recLen);
  }

  protected read(e: FileEntry): StoredMsg | undefined {
    if (this.closed) return undefined;
    const b = e.blk;
    let rec: Buffer;
    let o: number;
    if (b.buf !== undefined) {
      rec = b.buf;
      o = e.off;
    } else if (b.chunks !== undefined) {
      // Compressed: the chunks the record lies in are decoded into the cache (once while it is cached).
      if (!this.loadChunks(b, e.off, e.len)) return undefined;
      rec = b.cache!;
      o = e.off;
      b.cacheHit = true;
      if (!b.cacheOwn && !payloadIntact(rec, o, e.len)) return undefined;
    } else if (b.cache !== undefined || this.loadCache(b)) {
      rec = b.cache!;
      o = e.off;
      b.cacheHit = true;
      // Bit rot in the file since it was written: treat the message as unreadable rather than return garbage.
      if (!b.cacheOwn && !payloadIntact(rec, o, e.len)) return undefined;
    } else {
      rec = Buffer.allocUnsafe(e.len);
      this.guard(() => this.readFull(this.fdFor(b), rec, e.len, e.off));
      // Bit rot since it was written: treat the message as unreadable rather than return garbage.
      if (!payloadIntact(rec, 0, e.len)) return undefined;
      o = 0;
    }
    const subjLen = rec.readUInt16LE(o + 6);
    const hdrLen = rec.readUInt32LE(o + 24);
    const dataLen = rec.readUInt32LE(o + 28);
    let p = o + REC_FIXED + subjLen;
    // The active block's buffer is overwritten by erase and replaced as it grows: hand out a copy. A cache
    // is never written to (erase drops it), so its bytes can be handed out as they are.
    if (b.buf !== undefined) {
      rec = Buffer.from(rec.subarray(p, p + hdrLen + dataLen));
      p = 0;
    }
    // One view for a message without headers (most): this runs for every delivery.
    return {
      subject: e.subj.subject,
      seq: e.seq,
      ts: e.ts,
      hdr: hdrLen === 0 ? NO_BYTES : rec.subarray(p, p + hdrLen),
      data:
        p === 0 && hdrLen === 0 && dataLen === rec.length
          ? rec
          : rec.subarray(p + hdrLen, p + hdrLen + dataLen),
    };
  }

  protected dropped(e: FileEntry, erase: boolean): void {
    const b = e.blk;
    b.live--;
    if (e.seq < this.firstSeq) {
      // Everything below the new first sequence is gone: one FLOOR record at commit says so.
      this.floorDirty = true;
    } else {
      this.appendMark(REC_TOMBSTONE, e.seq);
      if (b !== this.active) this.active.tombs.push(e.seq);
    }
    if (erase) this.eraseQueue.push(e);
    if (b.live === 0 && b !== this.active) this.retireQueue.push(b);
  }

  protected droppedAll(): void {
    this.floorDirty = false;
    this.eraseQueue = [];
    this.retireQueue = [];
    this.guard(() => this.resetBlocks());
  }

  protected commit(): void {
    this.guard(() => {
      if (this.floorDirty) {
        this.floorDirty = false;
        this.appendMark(REC_FLOOR, this.firstSeq);
      }
      const urgent = this.eraseQueue.length > 0 || this.retireQueue.length > 0;
      if (this.writeBehindMs > 0 && !urgent && !this.syncAlways) {
        const pending = this.active.size - this.pendingFrom;
        if (pending >= WRITE_BEHIND_MAX) this.writePending();
        if (this.active.size > this.pendingFrom && this.writeBehindTimer === undefined) {
          this.writeBehindTimer = setTimeout(this.onWriteBehindTimer, this.writeBehindMs);
        }
      } else if (urgent || !this.deferToGroup(0)) {
        // A full disk leaves the records pending (the removals they record are done in memory).
        this.writePending();
      }
      if (this.eraseQueue.length > 0) {
        const q = this.eraseQueue;
        this.eraseQueue = [];
        // Compressed blocks are rewritten, once per block.
        const compressed = new Map<Block, FileEntry[]>();
        for (const e of q) {
          if (e.blk.chunks === undefined) this.eraseOnDisk(e);
          else if (compressed.has(e.blk)) compressed.get(e.blk)!.push(e);
          else compressed.set(e.blk, [e]);
        }
        for (const [b, es] of compressed) this.eraseCompressed(b, es);
      }
      if (this.retireQueue.length > 0) this.retireBlocks();
      if (this.msgs === 0 && this.active.hasMsgRecords() && this.active.size >= this.resetThreshold) {
        this.resetBlocks();
      }
      if (this.syncAlways) this.syncNow();
    });
  }

  // ---- recovery ----

  private recover(): void {
    const found: [number, string][] = [];
    for (const name of readdirSync(this.dir)) {
      const index = parseBlockFileName(name);
      if (index > 0) found.push([index, join(this.dir, name)]);
      else if (isTmpBlockName(name)) {
        // A compressed file that never replaced its block: the block is whole without it.
        unlinkSync(join(this.dir, name));
        this.dirDirty = true;
      }
    }
    found.sort((a, b) => a[0] - b[0]);

    const scans: {
      index: number;
      path: string;
      data: Buffer;
      scan: BlockScan;
      chunks: ChunkInfo[] | undefined;
      fileSize: number;
    }[] = [];
    let lostMsgs = 0;
    let lostBytes = 0;
    let prevLast = 0;
    for (const [index, path] of found) {
      this.nextIndex = index + 1;
      let data: Buffer = readFileSync(path);
      // A compressed block is scanned as its image; repairs then rewrite the whole file.
      let chunks: ChunkInfo[] | undefined;
      let fileSize = data.length;
      let chunksDamaged = false;
      if (data.length >= 4 && data.readUInt32LE(0) !== BLOCK_MAGIC && isCompressedBlock(data)) {
        const d = decodeCompressedBlock(data);
        data = d.image;
        chunks = d.table;
        chunksDamaged = d.damaged;
      }
      const scan = scanBlock(data);
      if (scan.header === undefined && data.length <= BLOCK_HEADER_SIZE) {
        // Created but its first write never completed: nothing was ever acknowledged from it.
        unlinkSync(path);
        this.dirDirty = true;
        continue;
      }
      lostMsgs += scan.lostMsgs;
      lostBytes += scan.lostBytes;
      let header: BlockHeader | undefined;
      if (scan.header === undefined) {
        // Damaged header: the records still count; rewrite it from them (the floor it held is lost).
        lostBytes += BLOCK_HEADER_SIZE;
        header = { base: scan.msgs[0]?.seq ?? prevLast + 1, floor: 0, lastTs: 0n };
        scan.header = header;
      }
      if (scan.msgs.length > 0) prevLast = scan.msgs[scan.msgs.length - 1]!.seq;
      if (chunks !== undefined) {
        if (chunksDamaged || scan.truncateAt >= 0 || scan.pads.length > 0 || header !== undefined) {
          if (header !== undefined) encodeBlockHeader(data, 0, header);
          for (const [off, len] of scan.pads) encodeMarkRecord(data, off, REC_PAD, 0, 0n, len);
          if (scan.truncateAt >= 0) data = data.subarray(0, scan.truncateAt);
          const out = encodeCompressedBlock(data.length, compressImage(data));
          this.writeReplacement(path, out.file);
          this.dirDirty = true;
          chunks = out.table;
          fileSize = out.file.length;
        }
      } else if (scan.truncateAt >= 0 || scan.pads.length > 0 || header !== undefined) {
        const fd = openSync(path, 'r+');
        try {
          if (header !== undefined) {
            encodeBlockHeader(data, 0, header);
            this.writeFull(fd, data, 0, BLOCK_HEADER_SIZE, 0);
          }
          for (const [off, len] of scan.pads) {
            encodeMarkRecord(data, off, REC_PAD, 0, 0n, len);
            this.writeFull(fd, data, off, REC_FIXED, off);
          }
          if (scan.truncateAt >= 0) {
            ftruncateSync(fd, scan.truncateAt);
            data = data.subarray(0, scan.truncateAt);
          }
          fdatasyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
      scans.push({ index, path, data, scan, chunks, fileSize });
    }

    // The floor: every sequence below it is gone (block headers and FLOOR records).
    let floor = 0;
    for (const { scan } of scans) {
      if (scan.header !== undefined && scan.header.floor > floor) floor = scan.header.floor;
      if (scan.floor > floor) floor = scan.floor;
    }
    // The last sequence: the newest block's base - 1, or a later message record in any block.
    let lastSeq = 0;
    let lastTs = 0n;
    const newest = scans[scans.length - 1]?.scan.header;
    if (newest !== undefined) {
      lastSeq = newest.base - 1;
      lastTs = newest.lastTs;
    }
    const tombstoned = new Set<number>();
    for (const { scan } of scans) {
      for (const m of scan.msgs) {
        if (m.seq > lastSeq) {
          lastSeq = m.seq;
          lastTs = m.ts;
        }
      }
      for (const t of scan.tombs) tombstoned.add(t);
    }
    if (floor - 1 > lastSeq) lastSeq = floor - 1;

    const entries: FileEntry[] = [];
    const damaged: [number, Block][] = [];
    let prev = 0;
    for (const { index, path, data, scan, chunks, fileSize } of scans) {
      const first = scan.msgs[0];
      const base = scan.header?.base ?? first?.seq ?? prev + 1;
      const b = new Block(index, path, data.length, base);
      b.chunks = chunks;
      b.fileSize = fileSize;
      if (first !== undefined) {
        b.minSeq = first.seq;
        b.maxSeq = scan.msgs[scan.msgs.length - 1]!.seq;
      }
      for (const m of scan.msgs) {
        if (m.seq < floor || m.seq <= prev || tombstoned.has(m.seq)) continue;
        if (m.bad) {
          lostMsgs++;
          lostBytes += m.recLen;
          damaged.push([m.seq, b]);
          continue;
        }
        let subj = this.subjects.get(m.subject);
        if (subj === undefined) {
          subj = new SubjectIndex(m.subject);
          this.subjects.set(m.subject, subj);
        }
        entries.push(new FileEntry(m.seq, m.ts, subj, m.size, b, m.off, m.recLen));
        b.live++;
        prev = m.seq;
      }
      for (const t of scan.tombs) if (t >= floor && t < b.minSeq) b.tombs.push(t);
      this.blocks.push(b);
      if (b.chunks === undefined && scans[scans.length - 1]!.index === index) {
        const room = Math.min(data.length * 2, this.blockSize + 4096);
        b.buf = Buffer.allocUnsafe(Math.max(INITIAL_BUFFER, room, data.length + REC_OVERHEAD));
        data.copy(b.buf, 0);
      }
    }

    // Rebuild the index.
    this.lastSeq = lastSeq;
    this.lastTs = lastTs;
    if (entries.length > 0) {
      const e0 = entries[0]!;
      this.base = e0.seq;
      this.firstSeq = e0.seq;
      this.firstTs = e0.ts;
      let seq = e0.seq;
      let ts = e0.ts;
      for (const e of entries) {
        for (; seq < e.seq; seq++) {
          this.slots.push(undefined);
          this.times.push(ts);
        }
        this.slots.push(e);
        this.times.push(e.ts);
        ts = e.ts;
        seq++;
        e.subj.seqs.push(e.seq);
        this.msgs++;
        this.bytes += e.size;
      }
      for (; seq <= lastSeq; seq++) {
        this.slots.push(undefined);
        this.times.push(ts);
      }
    } else {
      this.firstSeq = lastSeq === 0 && floor === 0 ? 0 : lastSeq + 1;
      this.base = lastSeq + 1;
    }

    // The active block: the newest file, or a new one (also when the newest file is compressed: only
    // sealed blocks are, but a new active block whose first write never completed was dropped above).
    const last = this.blocks[this.blocks.length - 1];
    if (last === undefined || last.chunks !== undefined) {
      this.createBlock(lastSeq + 1, this.firstSeq, lastTs);
      this.commitWrites();
    } else {
      this.active = last;
      last.fd = openSync(last.path, 'r+');
      this.pendingFrom = last.size;
    }
    for (const b of this.blocks) if (b.live === 0 && b !== this.active) this.retireQueue.push(b);
    // Damaged messages get a tombstone, so the next open does not report them again.
    for (const [seq, b] of damaged) {
      this.appendMark(REC_TOMBSTONE, seq);
      if (b !== this.active) this.active.tombs.push(seq);
    }
    if (lostMsgs > 0 || lostBytes > 0) this.lost = { msgs: lostMsgs, bytes: lostBytes };
  }

  // ---- blocks ----

  /**
   * Make a new, empty active block (its header is written with the next commit). Throws
   * `ERR_STORE_NO_SPACE` with nothing changed when the file cannot be created for lack of space.
   */
  private createBlock(base: number, floor: number, lastTs: bigint, initialBuffer = INITIAL_BUFFER): Block {
    const index = this.nextIndex;
    const path = join(this.dir, blockFileName(index));
    let fd: number;
    try {
      fd = this.io.open(path, 'w+');
    } catch (err) {
      throw isNoSpace(err) ? this.noSpaceError(err) : err;
    }
    this.nextIndex++;
    const b = new Block(index, path, BLOCK_HEADER_SIZE, base);
    b.fd = fd;
    b.buf = Buffer.allocUnsafe(initialBuffer);
    encodeBlockHeader(b.buf, 0, { base, floor, lastTs });
    this.blocks.push(b);
    this.active = b;
    this.pendingFrom = 0;
    this.dirDirty = true;
    return b;
  }

  /**
   * The active block is full: write it out and start the next one with `nextSeq`. On a full disk this
   * throws `ERR_STORE_NO_SPACE` before changing anything.
   */
  private rollover(nextSeq: number): void {
    this.commitWrites();
    const old = this.active;
    // A stream that filled a block will likely fill the next: start its buffer at the size the last one
    // reached rather than growing it again from 64 KiB by copies (ensureRoom), which under a publish load
    // cost more than encoding the records.
    this.createBlock(nextSeq, this.msgs > 0 ? this.firstSeq : nextSeq, this.lastTs, old.buf!.length);
    // Its bytes are all in memory already: they become its read cache.
    const bytes = old.buf!.subarray(0, old.size);
    old.buf = undefined;
    this.addCache(old, bytes, true);
    this.lru.push(old);
    this.trimLru();
    if (old.live === 0) this.retireQueue.push(old);
    else this.queueCompress(old);
    if (this.compressRetry.length > 0) {
      const retry = this.compressRetry;
      this.compressRetry = [];
      for (const b of retry) this.queueCompress(b);
    }
  }

  /**
   * Replace every block by one empty block whose header floor is lastSeq + 1 (purge, compact past the end,
   * or an empty store with a large active block). The new block is fsynced, with the directory, before
   * any old file is deleted, so a crash in between still finds the floor.
   */
  private resetBlocks(): void {
    const old = this.blocks;
    const prev = this.active;
    const prevPending = this.pendingFrom;
    this.blocks = [];
    let b: Block | undefined;
    try {
      b = this.createBlock(this.lastSeq + 1, this.lastSeq + 1, this.lastTs);
    } catch (err) {
      if (!(err instanceof StoreError && err.code === 'ERR_STORE_NO_SPACE')) throw err;
    }
    if (b === undefined || !this.writePending()) {
      // No room for a new block: reuse the active one.
      if (b !== undefined) {
        closeSync(b.fd);
        unlinkSync(b.path);
      }
      this.blocks = old;
      this.active = prev;
      this.pendingFrom = prevPending;
      this.resetInPlace();
      return;
    }
    fdatasyncSync(b.fd);
    b.dirty = false;
    this.fsyncDir();
    for (const o of old) {
      this.closeFd(o);
      unlinkSync(o.path);
      o.removed = true;
      this.dropCache(o);
      o.tombs = [];
    }
    this.lru.length = 0;
    this.dirDirty = true;
  }

  /**
   * resetBlocks on a full disk: delete every block but the active one, then rewrite the active one in
   * place as an empty block (header, truncated to it), which needs no new space. A crash in between
   * still finds the last sequence, in the active block's records or in its new header.
   */
  private resetInPlace(): void {
    const a = this.active;
    if (this.pins.size > 0) this.unshare(a);
    for (const o of this.blocks) {
      if (o === a) continue;
      this.closeFd(o);
      unlinkSync(o.path);
      o.removed = true;
      this.dropCache(o);
      o.tombs = [];
    }
    this.blocks = [a];
    this.lru.length = 0;
    this.dirDirty = true;
    const next = this.lastSeq + 1;
    encodeBlockHeader(a.buf!, 0, { base: next, floor: next, lastTs: this.lastTs });
    a.size = BLOCK_HEADER_SIZE;
    a.live = 0;
    a.minSeq = next;
    a.maxSeq = next - 1;
    a.tombs = [];
    try {
      this.writeFull(a.fd, a.buf!, 0, BLOCK_HEADER_SIZE, 0);
      ftruncateSync(a.fd, BLOCK_HEADER_SIZE);
      fdatasyncSync(a.fd);
      this.pendingFrom = BLOCK_HEADER_SIZE;
      a.dirty = false;
    } catch (err) {
      if (!isNoSpace(err)) throw err;
      // Not even the header could be rewritten (a copy-on-write filesystem, or someone else took the
      // space): start the file over; the header is written by the next write that finds space.
      this.spaceError = this.noSpaceError(err);
      ftruncateSync(a.fd, 0);
      this.pendingFrom = 0;
    }
  }

  /** Delete blocks that hold no live message, first carrying their still-needed tombstones forward. */
  private retireBlocks(): void {
    const q = this.retireQueue;
    this.retireQueue = [];
    const gone: Block[] = [];
    for (const b of q) {
      if (b.removed || b === this.active || b.live > 0) continue;
      b.removed = true; // from here on: leaving (also makes a repeated queue entry a no-op)
      this.dropCache(b);
      for (const t of b.tombs) {
        if (t < this.firstSeq) continue;
        const target = this.blockFor(t);
        if (target === undefined || target === b) continue;
        this.appendMark(REC_TOMBSTONE, t);
        if (target !== this.active) this.active.tombs.push(t);
      }
      gone.push(b);
    }
    if (gone.length === 0) return;
    // On a full disk the carried tombstones stay pending, and the blocks go anyway: that frees the space.
    const written = this.writePending();
    if (this.syncAlways) this.syncNow();
    for (const b of gone) {
      this.closeFd(b);
      unlinkSync(b.path);
      b.tombs = [];
    }
    this.blocks = this.blocks.filter((b) => !b.removed);
    this.dirDirty = true;
    if (!written) this.writePending();
  }

  /** The existing block whose message records span `seq`. */
  private blockFor(seq: number): Block | undefined {
    const blocks = this.blocks;
    let lo = 0;
    let hi = blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (blocks[mid]!.maxSeq < seq) lo = mid + 1;
      else hi = mid;
    }
    const b = blocks[lo];
    return b !== undefined && !b.removed && b.minSeq <= seq ? b : undefined;
  }

  private eraseOnDisk(e: FileEntry): void {
    const b = e.blk;
    if (b.removed) return;
    this.dropCache(b); // the erased bytes must not stay readable in memory
    const subjLen = Buffer.byteLength(e.subj.subject);
    const payloadLen = e.len - REC_OVERHEAD - subjLen;
    const at = e.off + REC_FIXED + subjLen;
    if (this.pins.size > 0) this.unshare(b);
    const patch = erasePatch(payloadLen);
    if (b.buf !== undefined) patch.copy(b.buf, at);
    b.version++;
    this.writeFull(this.fdFor(b), patch, 0, patch.length, at);
    b.dirty = true;
  }

  /**
   * Erase records of a compressed block: the chunks they lie in are decoded, overwritten as eraseOnDisk
   * does, compressed again, and the file is replaced (written beside it, then renamed over it). On a full
   * disk the replacement cannot be written: the messages are removed all the same, but their bytes stay.
   */
  private eraseCompressed(b: Block, es: FileEntry[]): void {
    if (b.removed) return;
    this.dropCache(b);
    const table = b.chunks!;
    const file = Buffer.allocUnsafe(b.fileSize);
    this.readFull(this.fdFor(b), file, b.fileSize, 0);
    const patches = es.map((e) => {
      const subjLen = Buffer.byteLength(e.subj.subject);
      return { at: e.off + REC_FIXED + subjLen, bytes: erasePatch(e.len - REC_OVERHEAD - subjLen) };
    });
    const bodies: ChunkBody[] = table.map((c) => ({
      rawOff: c.rawOff,
      rawLen: c.rawLen,
      kind: c.kind,
      body: file.subarray(c.at, c.at + c.bodyLen),
    }));
    for (let i = 0; i < table.length; i++) {
      const c = table[i]!;
      const end = c.rawOff + c.rawLen;
      const hits = patches.filter((p) => p.at < end && p.at + p.bytes.length > c.rawOff);
      if (hits.length === 0) continue;
      let raw: Buffer;
      try {
        raw = Buffer.from(decodeChunk(c, bodies[i]!.body)); // a copy: a STORED body is a view of `file`
      } catch {
        raw = Buffer.alloc(c.rawLen); // damaged since written: its records are unreadable anyway
      }
      for (const p of hits) {
        const from = Math.max(p.at, c.rawOff);
        const to = Math.min(p.at + p.bytes.length, end);
        p.bytes.copy(raw, from - c.rawOff, from - p.at, to - p.at);
      }
      bodies[i] = compressRaw(c.rawOff, raw);
    }
    const out = encodeCompressedBlock(b.size, bodies);
    try {
      this.replaceFile(b, out.file);
    } catch (err) {
      if (isNoSpace(err)) return;
      throw err;
    }
    b.chunks = out.table;
    b.fileSize = out.file.length;
    b.version++;
  }

  // ---- compression ----

  /**
   * A stream update changed `compression`: blocks sealed from now on follow it (and, turned on, the
   * sealed blocks not yet compressed are compressed now). Compressed blocks stay as they are either way.
   */
  setCompression(alg: StoreCompression): void {
    if (this.closed || alg === this.compression) return;
    this.compression = alg;
    if (alg === 'none') {
      for (const b of this.compressQueue) b.queued = false;
      this.compressQueue = [];
      this.compressRetry = [];
      this.job = undefined;
      return;
    }
    for (const b of this.blocks) this.queueCompress(b);
  }

  /** Finish all pending compression now (tests; otherwise it runs in the background). */
  compressNow(): void {
    if (!this.closed) this.runCompress(Number.POSITIVE_INFINITY);
  }

  /** Queue a sealed block for compression (when compression is on and it is not compressed yet). */
  private queueCompress(b: Block): void {
    if (this.compression === 'none' || b === this.active || b.chunks !== undefined) return;
    if (b.removed || b.queued || b.live === 0) return;
    b.queued = true;
    this.compressQueue.push(b);
    if (this.compressInline) this.runCompress(Number.POSITIVE_INFINITY);
    else this.compressTimer ??= setImmediate(this.onCompressTimer);
  }

  private readonly onCompressTimer = (): void => {
    this.compressTimer = undefined;
    if (this.closed) return;
    this.runCompress(COMPRESS_SLICE_MS);
    // Not unref'd: libuv's poll phase does not wait for unref'd immediates, which would then run only
    // when something else wakes the loop. The work is finite, and stop() drops it.
    if (!this.closed && (this.job !== undefined || this.compressQueue.length > 0)) {
      this.compressTimer = setImmediate(this.onCompressTimer);
    }
  };

  /**
   * Compress queued blocks a chunk at a time for about `budgetMs` (at least one chunk), so the event loop
   * is never held for a whole block. A block is written out when its last chunk is done.
   */
  private runCompress(budgetMs: number): void {
    const until = performance.now() + budgetMs;
    do {
      const job = this.job ?? this.startJob();
      if (job === undefined) return;
      if (job.b.removed) {
        this.job = undefined; // deleted meanwhile (limits, purge)
        continue;
      }
      if (job.done.length < job.count) job.done.push(compressChunk(job.image, job.b.size, job.done.length));
      if (job.done.length === job.count) {
        this.job = undefined;
        this.finishJob(job);
      }
    } while (performance.now() < until);
  }

  private startJob(): CompressJob | undefined {
    for (;;) {
      const b = this.compressQueue.shift();
      if (b === undefined) return undefined;
      b.queued = false;
      if (b.removed || b === this.active || b.chunks !== undefined || b.live === 0) continue;
      let image: Buffer;
      if (b.cache !== undefined && b.cacheChunks === undefined) {
        image = b.cache; // the cache of an uncompressed block is the whole file
      } else {
        image = Buffer.allocUnsafe(b.size);
        try {
          this.readFull(this.fdFor(b), image, b.size, 0);
        } catch {
          continue; // it stays uncompressed
        }
      }
      this.job = { b, image, version: b.version, count: chunkCount(b.size), done: [] };
      return this.job;
    }
  }

  private finishJob(job: CompressJob): void {
    const b = job.b;
    if (b.removed || b === this.active || b.chunks !== undefined || this.compression === 'none') return;
    if (b.version !== job.version) {
      // Erased while it was being compressed: start over from the file as it is now.
      b.queued = true;
      this.compressQueue.push(b);
      return;
    }
    const out = encodeCompressedBlock(b.size, job.done);
    try {
      this.replaceFile(b, out.file);
    } catch {
      // A full disk (or any other failure): the block stays as it was, uncompressed, until the next
      // rollover tries again.
      this.compressRetry.push(b);
      return;
    }
    b.chunks = out.table;
    b.fileSize = out.file.length;
  }

  /**
   * Replace `b`'s file by `data` (crash safe: written to `<file>.tmp`, synced, renamed over it; the
   * directory is synced with the next sync). Snapshots linked to the old file keep it.
   */
  private replaceFile(b: Block, data: Buffer): void {
    this.writeReplacement(b.path, data);
    this.closeFd(b); // the old file's descriptor
    b.dirty = false;
    this.unpin(b);
    if (this.syncAlways) this.fsyncDir();
    else this.dirDirty = true;
  }

  /** Write `data` to `<path>.tmp`, sync it and rename it over `path`; the temporary file goes on failure. */
  private writeReplacement(path: string, data: Buffer): void {
    const tmp = path + TMP_SUFFIX;
    let fd = -1;
    try {
      fd = this.io.open(tmp, 'w');
      this.writeFull(fd, data, 0, data.length, 0);
      fdatasyncSync(fd);
      closeSync(fd);
      fd = -1;
      renameSync(tmp, path);
    } catch (err) {
      if (fd >= 0) closeSync(fd);
      try {
        unlinkSync(tmp);
      } catch {
        // never created
      }
      throw err;
    }
  }

  /**
   * Decode into `b`'s cache the chunks of its compressed file that image range [off, off + len) lies in
   * (a cache is made for it when there is none). False when one of them is unreadable.
   */
  private loadChunks(b: Block, off: number, len: number): boolean {
    if (b.removed) return false;
    const table = b.chunks!;
    if (b.cache === undefined) {
      this.addCache(b, Buffer.allocUnsafe(b.size), false);
      b.cacheChunks = new Uint8Array(table.length);
    }
    const have = b.cacheChunks;
    if (have === undefined) return true;
    let ok = true;
    const end = off + len;
    for (let i = chunkIndex(table, off); i < table.length && table[i]!.rawOff < end; i++) {
      if (have[i] === 0) have[i] = this.decodeChunkInto(b, i) ? 1 : 2;
      if (have[i] === 2) ok = false;
    }
    if (have.every((h) => h !== 0)) b.cacheChunks = undefined;
    return ok;
  }

  private decodeChunkInto(b: Block, i: number): boolean {
    const c = b.chunks![i]!;
    const body = Buffer.allocUnsafe(c.bodyLen);
    this.guard(() => this.readFull(this.fdFor(b), body, c.bodyLen, c.at));
    try {
      decodeChunk(c, body).copy(b.cache!, c.rawOff);
      return true;
    } catch {
      return false; // bit rot since it was written: its records are unreadable
    }
  }

  // ---- I/O ----

  private ensureRoom(n: number): void {
    const a = this.active;
    const buf = a.buf!;
    const need = a.size + n;
    if (need <= buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(need, Math.min(buf.length * 2, this.blockSize + 4096)));
    buf.copy(grown, 0, 0, a.size);
    a.buf = grown;
  }

  private appendMark(type: number, seq: number): void {
    this.ensureRoom(REC_OVERHEAD);
    const a = this.active;
    encodeMarkRecord(a.buf!, a.size, type, seq, this.lastTs);
    a.size += REC_OVERHEAD;
  }

  /** commitWrites, throwing `ERR_STORE_NO_SPACE` when the disk is full. */
  private commitWrites(): void {
    if (!this.writePending()) throw this.spaceError!;
  }

  /**
   * Hand everything appended to the active block since the last call to the OS. False when the disk is
   * full: whatever part reached the file is truncated away and the bytes stay pending, for the next try.
   * Other errors throw.
   */
  private writePending(): boolean {
    const a = this.active;
    const from = this.pendingFrom;
    if (a === undefined || from === a.size) return true;
    try {
      this.writeFull(a.fd, a.buf!, from, a.size - from, from);
    } catch (err) {
      if (!isNoSpace(err)) throw err;
      this.spaceError = this.noSpaceError(err);
      ftruncateSync(a.fd, from);
      return false;
    }
    this.spaceError = undefined;
    this.pendingFrom = a.size;
    a.dirty = true;
    return true;
  }

  private writeFull(fd: number, buf: Buffer, off: number, len: number, pos: number): void {
    while (len > 0) {
      const n = this.io.write(fd, buf, off, len, pos);
      off += n;
      pos += n;
      len -= n;
    }
  }

  private readFull(fd: number, buf: Buffer, len: number, pos: number): void {
    let off = 0;
    while (off < len) {
      const n = readSync(fd, buf, off, len - off, pos + off);
      if (n === 0) throw new Error(`short read at ${pos + off}`);
      off += n;
    }
  }

  /** Descriptor of a block, opening it (and closing the least recently used one) when needed. */
  private fdFor(b: Block): number {
    if (b === this.active) return b.fd;
    const lru = this.lru;
    if (b.fd >= 0) {
      const i = lru.indexOf(b);
      if (i >= 0 && i !== lru.length - 1) {
        lru.splice(i, 1);
        lru.push(b);
      }
      return b.fd;
    }
    b.fd = openSync(b.path, 'r+');
    lru.push(b);
    this.trimLru();
    return b.fd;
  }

  private trimLru(): void {
    while (this.lru.length > this.maxOpenFiles) {
      const b = this.lru.shift()!;
      if (b.dirty) fdatasyncSync(b.fd);
      b.dirty = false;
      closeSync(b.fd);
      b.fd = -1;
    }
  }

  private closeFd(b: Block): void {
    if (b.fd < 0) return;
    const i = this.lru.indexOf(b);
    if (i >= 0) this.lru.splice(i, 1);
    closeSync(b.fd);
    b.fd = -1;
  }

  private syncNow(): void {
    const a = this.active;
    if (a?.dirty && a.fd >= 0) {
      fdatasyncSync(a.fd);
      a.dirty = false;
    }
    for (const b of this.lru) {
      if (b.dirty && b.fd >= 0) {
        fdatasyncSync(b.fd);
        b.dirty = false;
      }
    }
    if (this.dirDirty) this.fsyncDir();
  }

  private fsyncDir(): void {
    const fd = openSync(this.dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.dirDirty = false;
  }

  private readonly onSyncTimer = (): void => {
    if (this.closed) return;
    try {
      this.writePending(); // records left pending by a full disk
      this.syncNow();
    } catch (err) {
      this.failure = this.ioError(err);
      this.shutdown();
    }
  };

  private readonly onWriteBehindTimer = (): void => {
    this.writeBehindTimer = undefined;
    if (this.closed) return;
    try {
      if (!this.writePending()) {
        this.writeBehindTimer = setTimeout(this.onWriteBehindTimer, this.writeBehindMs);
      }
    } catch (err) {
      this.failure = this.ioError(err);
      this.shutdown();
    }
  };

  /** Run a disk operation; on failure the store stops (its files and index may disagree) and throws. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof StoreError) throw err;
      this.failure = this.ioError(err);
      this.shutdown();
      throw this.failure;
    }
  }

  private noSpaceError(err: unknown): StoreError {
    const msg = err instanceof Error ? err.message : String(err);
    return new StoreError('ERR_STORE_NO_SPACE', `file store ${this.dir}: ${msg}`, { cause: err });
  }

  private ioError(err: unknown): StoreError {
    const msg = err instanceof Error ? err.message : String(err);
    return new StoreError('ERR_STORE_IO', `file store ${this.dir}: ${msg}`, { cause: err });
  }

  /** Close everything without writing (stop() writes first). */
  private shutdown(): void {
    this.closed = true;
    this.stopTimers();
    if (this.syncTimer !== undefined) clearInterval(this.syncTimer);
    if (this.writeBehindTimer !== undefined) clearTimeout(this.writeBehindTimer);
    this.syncTimer = undefined;
    this.writeBehindTimer = undefined;
    for (const b of this.blocks) {
      if (b.fd >= 0) {
        try {
          closeSync(b.fd);
        } catch {
          // already failing; nothing more to do
        }
        b.fd = -1;
      }
    }
    this.lru.length = 0;
    for (const b of this.cached) {
      b.cache = undefined;
      b.cacheChunks = undefined;
    }
    this.cached.length = 0;
    if (this.compressTimer !== undefined) clearImmediate(this.compressTimer);
    this.compressTimer = undefined;
    this.job = undefined;
    this.compressQueue = [];
    this.compressRetry = [];
    if (this.cacheTimer !== undefined) clearInterval(this.cacheTimer);
    this.cacheTimer = undefined;
  }

  // ---- group commit ----

  /**
   * Whether the pending records (plus `more` bytes) may wait for the batch's group write: group commit on,
   * no write refused for lack of space since, and the filesystem's free space (read at most every 100 ms)
   * at least GROUP_MARGIN beyond what is pending. Registers the store for the group write when so.
   */
  private deferToGroup(more: number): boolean {
    if (!this.groupCommit || this.spaceError !== undefined) return false;
    const now = Date.now();
    if (now - this.freeCheckedAt >= FREE_CHECK_MS) {
      this.freeCheckedAt = now;
      try {
        const st = statfsSync(this.dir);
        this.freeBytes = st.bavail * st.bsize;
      } catch {
        this.freeBytes = 0;
      }
    }
    const pending = this.active.size - this.pendingFrom + more;
    if (this.freeBytes - pending < GROUP_MARGIN) return false;
    if (!groupPending.has(this)) {
      groupPending.add(this);
      markOutputBarrier();
      if (!groupFlushQueued) {
        groupFlushQueued = true;
        queueMicrotask(writeGroups);
      }
    }
    return true;
  }

  /** The group write (writeGroups). A full disk here (space taken since the margin check) keeps the
   * records pending, to be written by the next write that finds space, like removals on a full disk. */
  writeGroup(): void {
    if (this.closed) return;
    this.guard(() => this.writePending());
  }

  // ---- read cache ----

  /** Read a sealed block's file into its cache; false if it could not be read whole. */
  private loadCache(b: Block): boolean {
    if (b.removed || b.size > this.blockSize * 2) return false;
    const bytes = Buffer.allocUnsafe(b.size);
    this.guard(() => this.readFull(this.fdFor(b), bytes, b.size, 0));
    this.addCache(b, bytes, false);
    return true;
  }

  private addCache(b: Block, bytes: Buffer, own: boolean): void {
    b.cache = bytes;
    b.cacheOwn = own;
    b.cacheHit = true;
    this.cached.push(b);
    while (this.cached.length > MAX_CACHED_BLOCKS) {
      const old = this.cached.shift()!;
      old.cache = undefined;
      old.cacheChunks = undefined;
    }
    if (this.cacheTimer === undefined) {
      this.cacheTimer = setInterval(this.expireCaches, CACHE_EXPIRY_MS);
      this.cacheTimer.unref();
    }
  }

  private dropCache(b: Block): void {
    if (b.cache === undefined) return;
    b.cache = undefined;
    b.cacheChunks = undefined;
    const i = this.cached.indexOf(b);
    if (i >= 0) this.cached.splice(i, 1);
  }

  private readonly expireCaches = (): void => {
    for (const b of [...this.cached]) {
      if (b.cacheHit && !b.removed) b.cacheHit = false;
      else this.dropCache(b);
    }
    if (this.cached.length === 0 && this.cacheTimer !== undefined) {
      clearInterval(this.cacheTimer);
      this.cacheTimer = undefined;
    }
  };
}

/** Random bytes for an erased header block and payload of `len` bytes, followed by their valid checksum. */
function erasePatch(len: number): Buffer {
  const patch = Buffer.allocUnsafe(len + 4);
  randomFillSync(patch, 0, len);
  patch.writeUInt32LE(crc32(patch, 0, len), len);
  return patch;
}
