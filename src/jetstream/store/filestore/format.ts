/**
 * On-disk format of the file store: block files of checksummed records. Pure encode/decode, no I/O.
 *
 * A stream directory holds block files named `<index>.blk` (10 digits, index from 1, ascending in append
 * order). Only the last block (the "active" one) is appended to; older blocks only ever see an in-place
 * erase (payload and its checksum overwritten) and, once they hold no live message, deletion. With stream
 * compression an older block's file may instead hold these bytes compressed (compress.ts); it is then
 * replaced as a whole rather than written in place.
 *
 * Block header, 40 bytes, little-endian:
 *   0  u32 magic 'TSNB'      4  u8 version (1)      5..7 reserved
 *   8  u64 base   the first sequence this block may hold (lastSeq + 1 when it was created)
 *   16 u64 floor  every sequence below `floor` was already removed when the block was created
 *   24 i64 lastTs timestamp (ns) of sequence base - 1, so an empty newest block still carries it
 *   32 u32 crc32 of bytes 0..32                        36..39 reserved
 *
 * Record, little-endian, immediately after the header and after each other:
 *   0  u32 recLen   whole record, 40 + subjLen + hdrLen + dataLen
 *   4  u8  type     1 MSG, 2 TOMBSTONE (seq removed), 3 FLOOR (all below seq removed), 4 PAD (skip)
 *   5  u8  flags    reserved (0)
 *   6  u16 subjLen  8 u64 seq   16 i64 ts (ns)   24 u32 hdrLen   28 u32 dataLen
 *   32 u32 hcrc     crc32 of bytes 0..32 and the subject: protects the framing
 *   36 subject, NATS header block, payload
 *   end-4 u32 pcrc  crc32 of header block + payload (0 for records without one)
 *
 * Two checksums so recovery can tell a damaged payload (framing intact: drop that one message and keep
 * going) from damaged framing (resynchronise on the next record whose hcrc checks, or truncate a torn
 * tail), and so an erase can rewrite payload + pcrc without touching the framing.
 */

import { crc32 } from './crc32.js';

export const BLOCK_MAGIC = 0x424e5354; // 'TSNB' read as a little-endian u32
export const BLOCK_VERSION = 1;
export const BLOCK_HEADER_SIZE = 40;

export const REC_FIXED = 36;
export const REC_OVERHEAD = 40;
export const REC_MSG = 1;
export const REC_TOMBSTONE = 2;
export const REC_FLOOR = 3;
export const REC_PAD = 4;
export const MAX_SUBJECT_BYTES = 0xffff;

const TWO32 = 0x1_0000_0000;

export function blockFileName(index: number): string {
  return String(index).padStart(10, '0') + '.blk';
}

/** Block index from a file name, or -1 when it is not a block file. */
export function parseBlockFileName(name: string): number {
  if (name.length !== 14 || !name.endsWith('.blk')) return -1;
  const n = Number(name.slice(0, 10));
  return Number.isInteger(n) && n > 0 ? n : -1;
}

export interface BlockHeader {
  base: number;
  floor: number;
  lastTs: bigint;
}

/**
 * Sequences are uint64 on the wire (a purge or compact may ask for any sequence up to 2^64 - 1), but a
 * JavaScript number that large rounds to 2^64 itself, whose high word does not fit in a u32. Such values
 * are written as 2^64 - 1, which reads back as the same number (2^64 - 1 rounds to 2^64 too), so the
 * store's state and its files agree.
 */
function writeU64(buf: Buffer, off: number, v: number): void {
  const hi = Math.floor(v / TWO32);
  if (hi > 0xffffffff) {
    buf.writeUInt32LE(0xffffffff, off);
    buf.writeUInt32LE(0xffffffff, off + 4);
    return;
  }
  buf.writeUInt32LE(v >>> 0, off);
  buf.writeUInt32LE(hi, off + 4);
}

function readU64(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * TWO32;
}

export function encodeBlockHeader(buf: Buffer, off: number, h: BlockHeader): void {
  buf.fill(0, off, off + BLOCK_HEADER_SIZE);
  buf.writeUInt32LE(BLOCK_MAGIC, off);
  buf[off + 4] = BLOCK_VERSION;
  writeU64(buf, off + 8, h.base);
  writeU64(buf, off + 16, h.floor);
  buf.writeBigInt64LE(h.lastTs, off + 24);
  buf.writeUInt32LE(crc32(buf, off, off + 32), off + 32);
}

/** The header at the start of `buf`, or undefined when missing or damaged. */
export function decodeBlockHeader(buf: Buffer): BlockHeader | undefined {
  if (buf.length < BLOCK_HEADER_SIZE) return undefined;
  if (buf.readUInt32LE(0) !== BLOCK_MAGIC || buf[4] !== BLOCK_VERSION) return undefined;
  if (buf.readUInt32LE(32) !== crc32(buf, 0, 32)) return undefined;
  return { base: readU64(buf, 8), floor: readU64(buf, 16), lastTs: buf.readBigInt64LE(24) };
}

/**
 * Encode a MSG record at `off` (the caller made room: REC_OVERHEAD + subjLen + hdr + data bytes).
 * `subjLen` is Buffer.byteLength(subject). Returns the record length.
 */
export function encodeMsgRecord(
  buf: Buffer,
  off: number,
  seq: number,
  ts: bigint,
  subject: string,
  subjLen: number,
  hdr: Buffer,
  data: Buffer,
): number {
  const recLen = REC_OVERHEAD + subjLen + hdr.length + data.length;
  buf.writeUInt32LE(recLen, off);
  buf[off + 4] = REC_MSG;
  buf[off + 5] = 0;
  buf.writeUInt16LE(subjLen, off + 6);
  writeU64(buf, off + 8, seq);
  buf.writeBigInt64LE(ts, off + 16);
  buf.writeUInt32LE(hdr.length, off + 24);
  buf.writeUInt32LE(data.length, off + 28);
  const subjEnd = off + REC_FIXED + subjLen;
  buf.write(subject, off + REC_FIXED, subjLen, 'utf8');
  buf.writeUInt32LE(crc32(buf, subjEnd - subjLen, subjEnd, crc32(buf, off, off + 32)), off + 32);
  hdr.copy(buf, subjEnd);
  data.copy(buf, subjEnd + hdr.length);
  const end = off + recLen - 4;
  buf.writeUInt32LE(crc32(buf, subjEnd, end), end);
  return recLen;
}

/** Encode a TOMBSTONE, FLOOR or PAD record of `recLen` bytes (40 except for PAD). */
export function encodeMarkRecord(
  buf: Buffer,
  off: number,
  type: number,
  seq: number,
  ts: bigint,
  recLen = 40,
): void {
  buf.writeUInt32LE(recLen, off);
  buf[off + 4] = type;
  buf[off + 5] = 0;
  buf.writeUInt16LE(0, off + 6);
  writeU64(buf, off + 8, seq);
  buf.writeBigInt64LE(ts, off + 16);
  buf.writeUInt32LE(0, off + 24);
  buf.writeUInt32LE(recLen - REC_OVERHEAD, off + 28);
  buf.writeUInt32LE(crc32(buf, off, off + 32), off + 32);
  if (type !== REC_PAD) buf.writeUInt32LE(0, off + recLen - 4);
}

/** Framing fields of a record, as read back. */
export interface RecordView {
  recLen: number;
  type: number;
  subjLen: number;
  seq: number;
  ts: bigint;
  hdrLen: number;
  dataLen: number;
}

/**
 * Length of the record at `off` if its framing is sound (lengths add up, fits before `end`, known type,
 * hcrc matches), else -1. Cheap structural checks run before the checksum so a resync scan is fast.
 */
export function checkRecord(buf: Buffer, off: number, end: number): number {
  if (end - off < REC_OVERHEAD) return -1;
  const recLen = buf.readUInt32LE(off);
  if (recLen < REC_OVERHEAD || recLen > end - off) return -1;
  const type = buf[off + 4]!;
  if (type < REC_MSG || type > REC_PAD || buf[off + 5] !== 0) return -1;
  const subjLen = buf.readUInt16LE(off + 6);
  const hdrLen = buf.readUInt32LE(off + 24);
  const dataLen = buf.readUInt32LE(off + 28);
  if (REC_OVERHEAD + subjLen + hdrLen + dataLen !== recLen) return -1;
  if (type !== REC_MSG && (subjLen !== 0 || hdrLen !== 0 || (type !== REC_PAD && dataLen !== 0))) return -1;
  const subjEnd = off + REC_FIXED + subjLen;
  const hcrc = crc32(buf, off + REC_FIXED, subjEnd, crc32(buf, off, off + 32));
  return buf.readUInt32LE(off + 32) === hcrc ? recLen : -1;
}

export function viewRecord(buf: Buffer, off: number): RecordView {
  return {
    recLen: buf.readUInt32LE(off),
    type: buf[off + 4]!,
    subjLen: buf.readUInt16LE(off + 6),
    seq: readU64(buf, off + 8),
    ts: buf.readBigInt64LE(off + 16),
    hdrLen: buf.readUInt32LE(off + 24),
    dataLen: buf.readUInt32LE(off + 28),
  };
}

/** True when the payload checksum of the (framing-checked) MSG record at `off` matches. */
export function payloadIntact(buf: Buffer, off: number, recLen: number): boolean {
  const subjLen = buf.readUInt16LE(off + 6);
  const end = off + recLen - 4;
  return buf.readUInt32LE(end) === crc32(buf, off + REC_FIXED + subjLen, end);
}
