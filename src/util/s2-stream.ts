/**
 * S2's framed stream format (github.com/klauspost/compress/s2 `NewWriter` / `NewReader`), built on the
 * block codec in s2.ts. nats-server sends stream snapshots in this format, and `nats stream backup`
 * (jsm.go) decodes what it receives with `s2.NewReader` while saving it, so a snapshot must be a valid S2
 * stream for that tool to accept it.
 *
 * A stream is a sequence of chunks, each: 1 byte type, 3 bytes little-endian length, then `length` bytes.
 *   0xff  stream identifier, body "S2sTwO" (Snappy's "sNaPpY" is accepted when reading)
 *   0x00  compressed data: 4-byte masked CRC-32C of the uncompressed data, then an S2 block
 *   0x01  uncompressed data: 4-byte masked CRC-32C, then the data
 *   0xfe  padding, 0x80..0xfd skippable (ignored); 0x02..0x7f reserved (an error)
 * The mask is Snappy's: ((crc >>> 15) | (crc << 17)) + 0xa282ead8. Uncompressed data per chunk is at most
 * 4 MiB (S2's maxBlockSize); the writer uses 1 MiB blocks, S2's default.
 */

import { S2Error, s2Decode, s2Encode } from './s2.js';

const STREAM_ID = Buffer.from([0xff, 0x06, 0x00, 0x00, 0x53, 0x32, 0x73, 0x54, 0x77, 0x4f]); // "S2sTwO"
const CHUNK_COMPRESSED = 0x00;
const CHUNK_UNCOMPRESSED = 0x01;
const CHUNK_STREAM_ID = 0xff;
/** S2's default block size (what its writer puts in one chunk). */
export const S2_STREAM_BLOCK = 1 << 20;
/** The most uncompressed data a chunk may hold (S2's maxBlockSize). */
const MAX_BLOCK = 4 << 20;
/** A compressed chunk body is at most the block's worst-case encoding plus the checksum. */
const MAX_CHUNK = MAX_BLOCK + (MAX_BLOCK >>> 5) + 64 + 4;

const CRC32C_TABLE: Int32Array = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32C (Castagnoli), as S2 and Snappy frames use. */
export function crc32c(buf: Uint8Array, crc = 0): number {
  const t = CRC32C_TABLE;
  let c = ~crc;
  for (let i = 0; i < buf.length; i++) c = t[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function maskedCrc(buf: Uint8Array): number {
  const c = crc32c(buf);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

function chunkHeader(type: number, len: number, crc: number): Buffer {
  const h = Buffer.allocUnsafe(8);
  h[0] = type;
  h.writeUIntLE(len, 1, 3);
  h.writeUInt32LE(crc, 4);
  return h;
}

/**
 * Compresses data into an S2 stream. `write` buffers; full 1 MiB blocks come out as chunks (returned);
 * `end` returns the rest. The stream identifier precedes the first chunk.
 */
export class S2StreamWriter {
  private started = false;
  private pending: Buffer[] = [];
  private pendingLen = 0;

  /** Add data; returns the encoded bytes that are ready (possibly none). */
  write(data: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let off = 0;
    while (off < data.length) {
      const n = Math.min(S2_STREAM_BLOCK - this.pendingLen, data.length - off);
      this.pending.push(data.subarray(off, off + n));
      this.pendingLen += n;
      off += n;
      if (this.pendingLen === S2_STREAM_BLOCK) this.flushBlock(out);
    }
    return out;
  }

  /** Everything still buffered, encoded; the stream is complete after it. */
  end(): Buffer[] {
    const out: Buffer[] = [];
    if (this.pendingLen > 0 || !this.started) this.flushBlock(out);
    return out;
  }

  private flushBlock(out: Buffer[]): void {
    if (!this.started) {
      out.push(STREAM_ID);
      this.started = true;
    }
    if (this.pendingLen === 0) return;
    const block = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingLen);
    this.pending = [];
    this.pendingLen = 0;
    const crc = maskedCrc(block);
    const enc = s2Encode(block);
    // As S2's writer: keep the compressed form only when it saves something worth having.
    if (enc.length < block.length - (block.length >>> 5)) {
      out.push(chunkHeader(CHUNK_COMPRESSED, enc.length + 4, crc), enc);
    } else {
      out.push(chunkHeader(CHUNK_UNCOMPRESSED, block.length + 4, crc), Buffer.from(block));
    }
  }
}

/**
 * Push-based S2 stream reader: `push` encoded bytes in any cut; decoded data goes to `onData`. Throws
 * S2Error on corrupt input (bad checksum, unknown chunk, missing stream identifier). `end` throws when
 * the input stopped inside a chunk.
 */
export class S2StreamReader {
  /** Bytes received and not consumed yet, in arrival order (copied only when a chunk spans pieces). */
  private parts: Buffer[] = [];
  private partsLen = 0;
  private seenId = false;

  constructor(private readonly onData: (data: Buffer) => void) {}

  push(data: Buffer): void {
    if (data.length === 0) return;
    this.parts.push(data);
    this.partsLen += data.length;
    while (this.partsLen >= 4) {
      const head = this.peek(4);
      const type = head[0]!;
      const len = head.readUIntLE(1, 3);
      if (len > MAX_CHUNK) throw new S2Error('s2: chunk too large');
      if (this.partsLen < 4 + len) break;
      const frame = this.take(4 + len);
      this.chunk(type, frame.subarray(4));
    }
  }

  end(): void {
    if (this.partsLen > 0) throw new S2Error('s2: unexpected end of stream');
    if (!this.seenId) throw new S2Error('s2: empty stream');
  }

  /** The first n buffered bytes (n <= partsLen), without consuming them. */
  private peek(n: number): Buffer {
    const first = this.parts[0]!;
    if (first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.parts, this.partsLen).subarray(0, n);
  }

  /** Consume the first n buffered bytes (n <= partsLen). */
  private take(n: number): Buffer {
    const first = this.parts[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.parts.shift();
      else this.parts[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.parts, this.partsLen);
      out = all.subarray(0, n);
      this.parts = all.length > n ? [all.subarray(n)] : [];
    }
    this.partsLen -= n;
    return out;
  }

  private chunk(type: number, body: Buffer): void {
    if (type === CHUNK_STREAM_ID) {
      const id = body.toString('latin1');
      if (id !== 'S2sTwO' && id !== 'sNaPpY') throw new S2Error('s2: bad stream identifier');
      this.seenId = true;
      return;
    }
    if (!this.seenId) throw new S2Error('s2: data before the stream identifier');
    if (type === CHUNK_COMPRESSED || type === CHUNK_UNCOMPRESSED) {
      if (body.length < 4) throw new S2Error('s2: chunk too short');
      const crc = body.readUInt32LE(0);
      const data =
        type === CHUNK_COMPRESSED ? s2Decode(body.subarray(4), { maxLength: MAX_BLOCK }) : body.subarray(4);
      if (data.length > MAX_BLOCK) throw new S2Error('s2: block too large');
      if (maskedCrc(data) !== crc) throw new S2Error('s2: corrupt input: checksum mismatch');
      if (data.length > 0) this.onData(type === CHUNK_UNCOMPRESSED ? Buffer.from(data) : data);
      return;
    }
    if (type >= 0x80) return; // padding and skippable chunks
    throw new S2Error(`s2: unsupported chunk type 0x${type.toString(16)}`);
  }
}
