/**
 * Compressed block files (a stream's `compression: "s2"`, nats-server 2.10). Pure encode/decode, no I/O.
 *
 * A sealed block (one the store no longer appends to) may be stored compressed: its bytes (the "image",
 * exactly the uncompressed block file of format.ts, header and records) are cut into chunks of CHUNK_RAW
 * bytes (the last one shorter), each compressed on its own with the S2 block codec (util/s2.ts, Go's
 * `s2.Encode` format). The file keeps its name (`<index>.blk`); its first four bytes say which it is.
 * Record offsets stay offsets in the image, so the store's index does not change when a block is
 * compressed, and a read decodes only the chunks its record lies in.
 *
 * nats-server compresses a whole block as one S2 stream behind a `cmp` meta header; the file formats of
 * tsnats and nats-server differ anyway (format.ts), so this one is shaped for tsnats' needs instead:
 * independent chunks for partial reads and partial rewrites (an erase recompresses only its chunks), and
 * checksums and offsets in every chunk header so recovery can keep the chunks around a damaged one.
 *
 * File header, 16 bytes, little-endian:
 *   0  u32 magic 'TSNZ'      4  u8 version (1)      5  u8 algorithm (1 = S2)      6..7 reserved
 *   8  u32 imageLen   length of the uncompressed image
 *   12 u32 crc32 of bytes 0..12
 * Chunks, immediately after the header and after each other, in image order:
 *   0  u32 rawOff     offset of the chunk's bytes in the image (a multiple of CHUNK_RAW)
 *   4  u32 rawLen     1..CHUNK_RAW
 *   8  u32 bodyLen
 *   12 u8  kind       0 STORED (body = the bytes), 1 S2 (body = one S2 block)      13..15 reserved
 *   16 u32 bodyCrc    crc32 of the body
 *   20 u32 hcrc       crc32 of bytes 0..20
 *   24 body
 * A chunk S2 does not make smaller is STORED. The records inside carry their own checksums (format.ts)
 * as before; the chunk checksums catch damage before a corrupt body is decoded.
 */

import { s2Decode, s2Encode, s2MaxEncodedLength } from '../../../util/s2.js';
import { crc32 } from './crc32.js';

export const CBLOCK_MAGIC = 0x5a4e5354; // 'TSNZ' read as a little-endian u32
export const CBLOCK_VERSION = 1;
export const CBLOCK_HEADER_SIZE = 16;
export const CHUNK_HEADER_SIZE = 24;
/** Image bytes per chunk. */
export const CHUNK_RAW = 256 * 1024;
export const ALG_S2 = 1;
export const CHUNK_STORED = 0;
export const CHUNK_S2 = 1;

/** A chunk as the store keeps it in memory: where its body is in the file. */
export interface ChunkInfo {
  rawOff: number;
  rawLen: number;
  kind: number;
  /** File offset of the body. */
  at: number;
  bodyLen: number;
  bodyCrc: number;
}

/** A compressed chunk before it is placed in a file. */
export interface ChunkBody {
  rawOff: number;
  rawLen: number;
  kind: number;
  body: Uint8Array;
}

/**
 * Whether a block file is compressed: by its magic, or (a damaged file header) by a sound chunk header
 * where the first chunk starts.
 */
export function isCompressedBlock(file: Buffer): boolean {
  if (file.length >= 4 && file.readUInt32LE(0) === CBLOCK_MAGIC) return true;
  return chunkAt(file, CBLOCK_HEADER_SIZE, file.length) !== undefined;
}

/** How many chunks an image of `len` bytes has. */
export function chunkCount(len: number): number {
  return Math.ceil(len / CHUNK_RAW);
}

/** Compress chunk `i` of `image` (of `imageLen` bytes). */
export function compressChunk(image: Buffer, imageLen: number, i: number): ChunkBody {
  const rawOff = i * CHUNK_RAW;
  return compressRaw(rawOff, image.subarray(rawOff, rawOff + Math.min(CHUNK_RAW, imageLen - rawOff)));
}

/** Compress the bytes of the chunk at image offset `rawOff` (STORED when S2 does not make them smaller). */
export function compressRaw(rawOff: number, raw: Buffer): ChunkBody {
  const enc = s2Encode(raw);
  return enc.length < raw.length
    ? { rawOff, rawLen: raw.length, kind: CHUNK_S2, body: enc }
    : { rawOff, rawLen: raw.length, kind: CHUNK_STORED, body: raw };
}

/** Compress a whole image. */
export function compressImage(image: Buffer): ChunkBody[] {
  const out: ChunkBody[] = [];
  for (let i = 0, n = chunkCount(image.length); i < n; i++) out.push(compressChunk(image, image.length, i));
  return out;
}

/** Index in `table` of the chunk holding image offset `off` (the last one starting at or before it). */
export function chunkIndex(table: readonly ChunkInfo[], off: number): number {
  let lo = 0;
  let hi = table.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (table[mid]!.rawOff <= off) lo = mid + 1;
    else hi = mid;
  }
  return Math.max(0, lo - 1);
}

/** Lay out a compressed block file from its chunks (in image order). */
export function encodeCompressedBlock(
  imageLen: number,
  chunks: readonly ChunkBody[],
): { file: Buffer; table: ChunkInfo[] } {
  let size = CBLOCK_HEADER_SIZE;
  for (const c of chunks) size += CHUNK_HEADER_SIZE + c.body.length;
  const file = Buffer.allocUnsafe(size);
  file.fill(0, 0, CBLOCK_HEADER_SIZE);
  file.writeUInt32LE(CBLOCK_MAGIC, 0);
  file[4] = CBLOCK_VERSION;
  file[5] = ALG_S2;
  file.writeUInt32LE(imageLen, 8);
  file.writeUInt32LE(crc32(file, 0, 12), 12);
  const table: ChunkInfo[] = [];
  let off = CBLOCK_HEADER_SIZE;
  for (const c of chunks) {
    const bodyCrc = crc32(c.body);
    file.fill(0, off, off + CHUNK_HEADER_SIZE);
    file.writeUInt32LE(c.rawOff, off);
    file.writeUInt32LE(c.rawLen, off + 4);
    file.writeUInt32LE(c.body.length, off + 8);
    file[off + 12] = c.kind;
    file.writeUInt32LE(bodyCrc, off + 16);
    file.writeUInt32LE(crc32(file, off, off + 20), off + 20);
    const at = off + CHUNK_HEADER_SIZE;
    file.set(c.body, at);
    table.push({ rawOff: c.rawOff, rawLen: c.rawLen, kind: c.kind, at, bodyLen: c.body.length, bodyCrc });
    off = at + c.body.length;
  }
  return { file, table };
}

/** The chunk header at `off` if it is sound (checksum, lengths, fits before `end`), else undefined. */
function chunkAt(file: Buffer, off: number, end: number): ChunkInfo | undefined {
  if (end - off < CHUNK_HEADER_SIZE) return undefined;
  if (file.readUInt32LE(off + 20) !== crc32(file, off, off + 20)) return undefined;
  const rawOff = file.readUInt32LE(off);
  const rawLen = file.readUInt32LE(off + 4);
  const bodyLen = file.readUInt32LE(off + 8);
  const kind = file[off + 12]!;
  if (rawOff % CHUNK_RAW !== 0 || rawLen < 1 || rawLen > CHUNK_RAW) return undefined;
  if (
    kind === CHUNK_STORED ? bodyLen !== rawLen : kind !== CHUNK_S2 || bodyLen > s2MaxEncodedLength(rawLen)
  ) {
    return undefined;
  }
  const at = off + CHUNK_HEADER_SIZE;
  if (bodyLen > end - at) return undefined;
  return { rawOff, rawLen, kind, at, bodyLen, bodyCrc: file.readUInt32LE(off + 16) };
}

/**
 * The image bytes of a chunk from its body (`body` = the file's bytes [at, at + bodyLen)). Throws when
 * the body does not match its checksum or does not decode to rawLen bytes.
 */
export function decodeChunk(c: ChunkInfo, body: Uint8Array): Buffer {
  if (body.length !== c.bodyLen || crc32(body) !== c.bodyCrc) throw new Error('chunk checksum mismatch');
  if (c.kind === CHUNK_STORED) return Buffer.from(body.buffer, body.byteOffset, body.length);
  const raw = s2Decode(body, { maxLength: c.rawLen });
  if (raw.length !== c.rawLen) throw new Error('chunk length mismatch');
  return raw;
}

export interface DecodedBlock {
  /** The image. Bytes of chunks that could not be read are zero (recovery then sees damaged records). */
  image: Buffer;
  /** The sound chunks, in image order (file offsets of their bodies). */
  table: ChunkInfo[];
  /** Something was damaged: a header, a chunk, or part of the image is missing. */
  damaged: boolean;
}

/**
 * Decode a whole compressed block file (recovery). Keeps every chunk whose header and body check; after
 * a damaged chunk header, resynchronises on the next sound one. A damaged file header leaves the image
 * length to the chunks found.
 */
export function decodeCompressedBlock(file: Buffer): DecodedBlock {
  const end = file.length;
  let damaged = false;
  let imageLen = -1;
  if (
    end >= CBLOCK_HEADER_SIZE &&
    file.readUInt32LE(0) === CBLOCK_MAGIC &&
    file[4] === CBLOCK_VERSION &&
    file[5] === ALG_S2 &&
    file.readUInt32LE(12) === crc32(file, 0, 12)
  ) {
    imageLen = file.readUInt32LE(8);
  } else {
    damaged = true;
  }
  const parts: { c: ChunkInfo; raw: Buffer }[] = [];
  let off = CBLOCK_HEADER_SIZE;
  let nextRaw = 0;
  while (off < end) {
    let c = chunkAt(file, off, end);
    if (c === undefined) {
      damaged = true;
      let p = off + 1;
      for (; p < end; p++) {
        c = chunkAt(file, p, end);
        if (c !== undefined && c.rawOff >= nextRaw) break;
      }
      if (p >= end || c === undefined) break;
      off = p;
    }
    if (c.rawOff < nextRaw) {
      // Out of order (cannot happen in a file we wrote): treat as damage and skip it.
      damaged = true;
      off = c.at + c.bodyLen;
      continue;
    }
    if (c.rawOff > nextRaw) damaged = true;
    try {
      parts.push({ c, raw: decodeChunk(c, file.subarray(c.at, c.at + c.bodyLen)) });
    } catch {
      damaged = true;
    }
    nextRaw = c.rawOff + c.rawLen;
    off = c.at + c.bodyLen;
  }
  if (imageLen < 0) {
    const last = parts[parts.length - 1];
    imageLen = last === undefined ? 0 : last.c.rawOff + last.c.rawLen;
  }
  const image = Buffer.alloc(imageLen);
  const table: ChunkInfo[] = [];
  let covered = 0;
  for (const { c, raw } of parts) {
    if (c.rawOff + c.rawLen > imageLen) {
      damaged = true;
      continue;
    }
    raw.copy(image, c.rawOff);
    table.push(c);
    covered += c.rawLen;
  }
  if (covered !== imageLen) damaged = true;
  return { image, table, damaged };
}
