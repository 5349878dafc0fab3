/**
 * S2 block-format codec (github.com/klauspost/compress/s2, `s2.Encode` / `s2.EncodeBetter` /
 * `s2.EncodeBest` / `s2.Decode`): the compression nats-server uses inside clustered JetStream for the
 * meta-group snapshot, compressed consumer assignments and compressed stream messages. tsnats also
 * compresses the chunks of a file stream's sealed blocks with it (jetstream/store/filestore/compress.ts).
 *
 * This is the BLOCK format only, not S2's framed stream format (`s2.NewReader`/`NewWriter`, which starts
 * with a `\xff\x06\x00\x00S2sTwO` chunk and carries CRCs). A block has no checksum.
 *
 * Block layout (s2.go's format comment, decode_other.go; identical to Snappy's except where noted):
 *
 *   block   = uvarint(decodedLength) chunk*
 *   The low two bits of a chunk's first byte are its tag; the upper six bits are `m`.
 *
 *   tag 0, literal:  m < 60: the next m+1 bytes are literal.
 *                    m = 60..63: the next m-59 bytes (1..4) hold len-1, little-endian; then len bytes.
 *   tag 1, copy1:    length = 4 + (m & 7); offset = (m >> 3) << 8 | next byte   (offset < 2048).
 *   tag 2, copy2:    length = 1 + m; offset = next 2 bytes LE                     (offset < 65536).
 *   tag 3, copy4:    length = 1 + m; offset = next 4 bytes LE.
 *
 *   S2 extension ("repeat"): a copy1 whose offset field is 0 reuses the offset of the previous copy
 *   (Snappy treats offset 0 as corrupt, so the encoding is free). Its 3-bit length field means:
 *     0..4  length = 4 + field                                       (2 bytes in total)
 *     5     length = 8 + next byte                 (8..263)          (3 bytes)
 *     6     length = 260 + next 2 bytes LE         (260..65795)      (4 bytes)
 *     7     length = 65540 + next 3 bytes LE       (65540..16842755) (5 bytes)
 *   Before the first copy there is no previous offset; a repeat there is corrupt (Go starts with offset 0
 *   and rejects offset <= 0). S2 blocks are also not limited to 64 KiB like Snappy's, so copy4 offsets
 *   really occur (blocks up to 4 MiB in the stream format, any size with `s2.Encode`).
 *
 * Copies may overlap their own output (offset < length): bytes are produced strictly front to back, so
 * offset 1 repeats the last byte. A block is valid only if the chunks produce exactly decodedLength bytes
 * and consume the whole input.
 *
 * The decoder accepts exactly the blocks Go's `s2.Decode` accepts (both its amd64 assembly and pure-Go
 * decoders implement the checks in decode_other.go), except that it also enforces a decoded-length limit;
 * it reads Snappy blocks too.
 * The encoder is our own greedy LZ77 (single 4-byte hash table, Snappy-style skipping, plus S2's
 * repeat-offset probe and repeat codes); its blocks are valid S2 that Go's `s2.Decode` reads, but they use
 * repeat codes, so a plain Snappy decoder would not.
 */

/** Default ceiling on a block's declared decoded length: 256 MiB. */
export const S2_DEFAULT_MAX_DECODED_LENGTH = 256 * 1024 * 1024;

/** Largest decoded length the block format can express (the length header is a uint32). */
const MAX_BLOCK_LENGTH = 0xffffffff;

/**
 * The most output one input byte can produce: a 5-byte repeat (copy1, field 7) yields up to
 * 65540 + 0xffffff = 16842755 bytes, 3368551 per byte; every other chunk kind yields less per byte. A header
 * that claims more than `bodyBytes * MAX_EXPANSION` cannot be honest, so it is rejected before allocating.
 */
const MAX_EXPANSION = 3368551;

/** Thrown for corrupt, truncated or oversized S2 input. */
export class S2Error extends Error {
  override name = 'S2Error';
}

export interface S2DecodeOptions {
  /** Refuse blocks whose declared decoded length exceeds this (default {@link S2_DEFAULT_MAX_DECODED_LENGTH}). */
  maxLength?: number;
}

const TAG_LITERAL = 0;
const TAG_COPY1 = 1;
const TAG_COPY2 = 2;

function corrupt(what: string, at: number): S2Error {
  return new S2Error(`s2: corrupt input: ${what} (chunk at input byte ${at})`);
}

/** Decoded length and header size of a block; the header is a uvarint that must fit in 32 bits. */
function readHeader(src: Uint8Array): { length: number; headerLength: number } {
  let value = 0;
  let scale = 1;
  // Go's binary.Uvarint reads up to 10 bytes (non-minimal encodings included); s2 then rejects > 2^32-1.
  for (let i = 0; i < 10; i++) {
    if (i >= src.length) throw new S2Error('s2: corrupt input: truncated length header');
    const b = src[i];
    value += (b & 0x7f) * scale;
    if (value > MAX_BLOCK_LENGTH)
      throw new S2Error('s2: corrupt input: declared length does not fit in 32 bits');
    if (b < 0x80) return { length: value, headerLength: i + 1 };
    scale *= 128;
  }
  throw new S2Error('s2: corrupt input: length header varint is too long');
}

/** The decoded length a block declares in its header (not validated against the body). */
export function s2DecodedLength(src: Uint8Array): number {
  return readHeader(src).length;
}

/**
 * Decode one S2 (or Snappy) block. Throws {@link S2Error} on corrupt input or when the declared length
 * exceeds `options.maxLength`. Reads nothing outside `src`, and runs in time linear in input + output.
 */
export function s2Decode(src: Uint8Array, options?: S2DecodeOptions): Buffer {
  const maxLength = options?.maxLength ?? S2_DEFAULT_MAX_DECODED_LENGTH;
  const { length, headerLength } = readHeader(src);
  if (length > maxLength) {
    throw new S2Error(`s2: decoded length ${length} exceeds the limit of ${maxLength} bytes`);
  }
  if (length > (src.length - headerLength) * MAX_EXPANSION) {
    throw new S2Error(
      `s2: corrupt input: declared length ${length} is impossible for ${src.length - headerLength} body bytes`,
    );
  }
  // allocUnsafe is fine: decodeBody fails unless every one of the `length` bytes was written.
  const dst = Buffer.allocUnsafe(length);
  decodeBody(src, headerLength, dst);
  return dst;
}

/** Decode the chunks of `src` starting at `s` into `dst`, which has exactly the declared length. */
function decodeBody(src: Uint8Array, start: number, dst: Uint8Array): void {
  const srcLen = src.length;
  const dstLen = dst.length;
  let s = start;
  let d = 0;
  let offset = 0; // Offset of the previous copy, for S2 repeat codes; 0 = none yet.

  while (s < srcLen) {
    const at = s;
    const tag = src[s];
    let length: number;

    switch (tag & 3) {
      case TAG_LITERAL: {
        let n = tag >>> 2;
        if (n < 60) {
          s += 1;
        } else {
          // 60..63: the length-1 follows in 1..4 little-endian bytes.
          const extra = n - 59;
          if (extra >= srcLen - s) throw corrupt('literal length header runs past the end of the input', at);
          n = src[s + 1];
          if (extra > 1) n |= src[s + 2] << 8;
          if (extra > 2) n |= src[s + 3] << 16;
          if (extra > 3) n = (n | (src[s + 4] << 24)) >>> 0;
          s += 1 + extra;
        }
        length = n + 1;
        if (length > srcLen - s)
          throw corrupt(`literal of ${length} bytes runs past the end of the input`, at);
        if (length > dstLen - d) {
          throw corrupt(`literal of ${length} bytes overruns the declared length ${dstLen}`, at);
        }
        if (length < 16) {
          for (let i = 0; i < length; i++) dst[d + i] = src[s + i];
        } else {
          dst.set(src.subarray(s, s + length), d);
        }
        d += length;
        s += length;
        continue;
      }

      case TAG_COPY1: {
        if (srcLen - s < 2) throw corrupt('truncated copy1', at);
        length = (tag >>> 2) & 7;
        const off = ((tag & 0xe0) << 3) | src[s + 1];
        s += 2;
        if (off !== 0) {
          offset = off;
        } else if (length === 5) {
          // S2 repeat codes: keep the previous offset; fields 5..7 carry a longer length.
          if (srcLen - s < 1) throw corrupt('truncated repeat length', at);
          length = src[s] + 4;
          s += 1;
        } else if (length === 6) {
          if (srcLen - s < 2) throw corrupt('truncated repeat length', at);
          length = (src[s] | (src[s + 1] << 8)) + (1 << 8);
          s += 2;
        } else if (length === 7) {
          if (srcLen - s < 3) throw corrupt('truncated repeat length', at);
          length = (src[s] | (src[s + 1] << 8) | (src[s + 2] << 16)) + (1 << 16);
          s += 3;
        }
        length += 4;
        break;
      }

      case TAG_COPY2: {
        if (srcLen - s < 3) throw corrupt('truncated copy2', at);
        length = 1 + (tag >>> 2);
        offset = src[s + 1] | (src[s + 2] << 8);
        s += 3;
        break;
      }

      default: {
        // TAG_COPY4
        if (srcLen - s < 5) throw corrupt('truncated copy4', at);
        length = 1 + (tag >>> 2);
        offset = (src[s + 1] | (src[s + 2] << 8) | (src[s + 3] << 16) | (src[s + 4] << 24)) >>> 0;
        s += 5;
        break;
      }
    }

    if (offset === 0) throw corrupt('copy with offset 0, or a repeat before any copy', at);
    if (offset > d) {
      throw corrupt(`copy offset ${offset} reaches before the start of the output (at ${d})`, at);
    }
    if (length > dstLen - d) {
      throw corrupt(`copy of ${length} bytes overruns the declared length ${dstLen}`, at);
    }

    const from = d - offset;
    if (length < 32) {
      // Short copies: a forward byte loop is cheaper than a native call and handles overlap correctly.
      for (let i = 0; i < length; i++) dst[d + i] = dst[from + i];
    } else if (offset >= length) {
      dst.copyWithin(d, from, from + length);
    } else {
      // Overlapping copy of a pattern with period `offset`. [from, pos) is always a whole number of
      // periods, so it can be copied in one go and doubles each round: O(log length) native calls.
      const end = d + length;
      let pos = d;
      while (pos < end) {
        const n = Math.min(pos - from, end - pos);
        dst.copyWithin(pos, from, from + n);
        pos += n;
      }
    }
    d += length;
  }

  if (d !== dstLen) {
    throw new S2Error(`s2: corrupt input: decoded ${d} bytes but the header declares ${dstLen}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Encoder
// ---------------------------------------------------------------------------------------------------

/** Inputs shorter than this are stored as one literal (Go uses the same threshold, minNonLiteralBlockSize). */
const MIN_NON_LITERAL_LENGTH = 32;
/** Match searching stops this far from the end, so the 8-byte probe at `s` never reads past the input. */
const INPUT_MARGIN = 8;
const MAX_TABLE_BITS = 15;
const MIN_TABLE_BITS = 8;
/** Multiplicative hash of 4 bytes (Snappy's constant). */
const HASH_MUL = 0x1e35a7bd;
/** Longest repeat one chunk can carry (copy1 repeat, field 7). */
const MAX_REPEAT = 65540 + 0xffffff;
/** Scratch buffers up to this size are kept between calls. */
const KEEP_SCRATCH = 8 * 1024 * 1024;

let hashTable: Uint32Array | undefined;
let scratch = new Uint8Array(0);

function uvarintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function putUvarint(dst: Uint8Array, d: number, n: number): number {
  while (n >= 0x80) {
    dst[d++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  dst[d++] = n;
  return d;
}

/** Size of the header of a literal chunk of `n` bytes (n >= 1). */
function literalHeaderLength(n: number): number {
  if (n <= 60) return 1;
  if (n <= 0x100) return 2;
  if (n <= 0x10000) return 3;
  if (n <= 0x1000000) return 4;
  return 5;
}

/**
 * Upper bound on `s2Encode(src).length` for `src.length === n`: the size of the all-literal block (Go's
 * `s2.MaxEncodedLen` is this or one byte more). Throws RangeError for lengths a block cannot represent.
 */
export function s2MaxEncodedLength(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > MAX_BLOCK_LENGTH) {
    throw new RangeError(`s2: cannot encode a block of ${n} bytes`);
  }
  return uvarintLength(n) + (n === 0 ? 0 : literalHeaderLength(n)) + n;
}

/** Little-endian 32-bit load as a signed int (only ever compared and hashed). */
function load32(b: Uint8Array, i: number): number {
  return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
}

function emitLiteral(dst: Uint8Array, d: number, src: Uint8Array, start: number, end: number): number {
  const len = end - start;
  const n = len - 1;
  if (n < 60) {
    dst[d++] = n << 2;
  } else if (n < 0x100) {
    dst[d++] = 60 << 2;
    dst[d++] = n;
  } else if (n < 0x10000) {
    dst[d++] = 61 << 2;
    dst[d++] = n;
    dst[d++] = n >>> 8;
  } else if (n < 0x1000000) {
    dst[d++] = 62 << 2;
    dst[d++] = n;
    dst[d++] = n >>> 8;
    dst[d++] = n >>> 16;
  } else {
    dst[d++] = 63 << 2;
    dst[d++] = n;
    dst[d++] = n >>> 8;
    dst[d++] = n >>> 16;
    dst[d++] = n >>> 24;
  }
  if (len < 16) {
    for (let i = 0; i < len; i++) dst[d + i] = src[start + i];
  } else {
    dst.set(src.subarray(start, end), d);
  }
  return d + len;
}

/** Emit a copy of `length` (>= 4) bytes at the previous copy's offset, as S2 repeat chunk(s). */
function emitRepeat(dst: Uint8Array, d: number, offset: number, length: number): number {
  while (length > MAX_REPEAT) {
    // Leave at least 4 bytes for the final chunk.
    const n = length - MAX_REPEAT >= 4 ? MAX_REPEAT : length - 4;
    const v = n - 65540;
    dst[d++] = (7 << 2) | TAG_COPY1;
    dst[d++] = 0;
    dst[d++] = v;
    dst[d++] = v >>> 8;
    dst[d++] = v >>> 16;
    length -= n;
  }
  if (length <= 8) {
    dst[d++] = ((length - 4) << 2) | TAG_COPY1;
    dst[d++] = 0;
  } else if (length <= 11 && offset < 2048) {
    // A plain copy1 is 2 bytes where a repeat of 9..11 would need 3.
    dst[d++] = ((offset >>> 8) << 5) | ((length - 4) << 2) | TAG_COPY1;
    dst[d++] = offset;
  } else if (length <= 263) {
    dst[d++] = (5 << 2) | TAG_COPY1;
    dst[d++] = 0;
    dst[d++] = length - 8;
  } else if (length <= 65795) {
    const v = length - 260;
    dst[d++] = (6 << 2) | TAG_COPY1;
    dst[d++] = 0;
    dst[d++] = v;
    dst[d++] = v >>> 8;
  } else {
    const v = length - 65540;
    dst[d++] = (7 << 2) | TAG_COPY1;
    dst[d++] = 0;
    dst[d++] = v;
    dst[d++] = v >>> 8;
    dst[d++] = v >>> 16;
  }
  return d;
}

/** Emit a copy of `length` (>= 4) bytes from `offset` (>= 1) back; long copies continue as repeats. */
function emitCopy(dst: Uint8Array, d: number, offset: number, length: number): number {
  if (offset < 2048 && length <= 11) {
    dst[d++] = ((offset >>> 8) << 5) | ((length - 4) << 2) | TAG_COPY1;
    dst[d++] = offset;
    return d;
  }
  if (offset < 65536) {
    if (length <= 64) {
      dst[d++] = ((length - 1) << 2) | TAG_COPY2;
      dst[d++] = offset;
      dst[d++] = offset >>> 8;
      return d;
    }
    if (offset < 2048) {
      // 8 bytes as a 2-byte copy1, the rest (>= 57) as a repeat.
      dst[d++] = ((offset >>> 8) << 5) | (4 << 2) | TAG_COPY1;
      dst[d++] = offset;
      return emitRepeat(dst, d, offset, length - 8);
    }
    const first = length - 64 >= 4 ? 64 : 60;
    dst[d++] = ((first - 1) << 2) | TAG_COPY2;
    dst[d++] = offset;
    dst[d++] = offset >>> 8;
    return emitRepeat(dst, d, offset, length - first);
  }
  const first = length <= 64 ? length : length - 64 >= 4 ? 64 : 60;
  dst[d++] = ((first - 1) << 2) | 3;
  dst[d++] = offset;
  dst[d++] = offset >>> 8;
  dst[d++] = offset >>> 16;
  dst[d++] = offset >>> 24;
  return first === length ? d : emitRepeat(dst, d, offset, length - first);
}

/**
 * Greedy LZ77 over the whole input. Returns the end of the output in `dst`, or -1 as soon as the output
 * reaches `limit` (the all-literal size): the caller then stores the input as one literal.
 *
 * `dst` must hold n + n/16 + 16 bytes past `d`: every step (literal run + copy) writes at most its input
 * size plus 4 extra header bytes for runs of 60+ literals, and each copy costs less than its length
 * (far copies, which cost 5, are only taken for 8+ bytes).
 */
function encodeBlock(src: Uint8Array, dst: Uint8Array, d: number, limit: number): number {
  const n = src.length;
  let bits = MIN_TABLE_BITS;
  while (bits < MAX_TABLE_BITS && 1 << bits < n) bits++;
  const shift = 32 - bits;
  if (hashTable === undefined) hashTable = new Uint32Array(1 << MAX_TABLE_BITS);
  const table = hashTable;
  // Zeroed entries point at position 0, a real (if probably wrong) candidate: every candidate is verified.
  table.fill(0, 0, 1 << bits);

  const sLimit = n - INPUT_MARGIN;
  let nextEmit = 0;
  let s = 1; // Nothing to copy from at position 0.
  let lastOffset = 0; // No repeat codes before the first real copy.

  for (;;) {
    // Search for a match at s, s + step, ... Step grows by one every 32 misses (Snappy's heuristic), so
    // incompressible input is skipped quickly.
    let skip = 32;
    let candidate = 0;
    for (;;) {
      if (s > sLimit) {
        if (nextEmit < n) d = emitLiteral(dst, d, src, nextEmit, n);
        return d;
      }
      const cv = load32(src, s);
      // S2's repeat-offset probe: the previous copy's offset often matches again in structured data
      // (JSON records, fixed-width fields), and a repeat chunk is cheaper than a fresh copy.
      if (lastOffset !== 0 && load32(src, s - lastOffset) === cv) {
        candidate = s - lastOffset;
        break;
      }
      const h = Math.imul(cv, HASH_MUL) >>> shift;
      candidate = table[h];
      table[h] = s;
      if (
        load32(src, candidate) === cv &&
        // A copy4 costs 5 bytes, so far matches must be at least 8 long to be worth it.
        (s - candidate < 65536 || load32(src, s + 4) === load32(src, candidate + 4))
      ) {
        break;
      }
      const step = skip >>> 5;
      s += step;
      skip += step;
    }

    // Extend the match backwards over bytes not yet emitted, then emit the literals before it.
    while (s > nextEmit && candidate > 0 && src[s - 1] === src[candidate - 1]) {
      s--;
      candidate--;
    }
    if (s > nextEmit) d = emitLiteral(dst, d, src, nextEmit, s);

    // Extend forwards (the first 4 bytes are known to match).
    let end = s + 4;
    let c = candidate + 4;
    while (end < n && src[end] === src[c]) {
      end++;
      c++;
    }
    const offset = s - candidate;
    if (offset === lastOffset) {
      d = emitRepeat(dst, d, offset, end - s);
    } else {
      d = emitCopy(dst, d, offset, end - s);
      lastOffset = offset;
    }
    if (d >= limit) return -1;
    s = end;
    nextEmit = end;

    // Index two positions at the end of the match so the next search can find matches close behind.
    if (s <= sLimit) {
      table[Math.imul(load32(src, s - 2), HASH_MUL) >>> shift] = s - 2;
      table[Math.imul(load32(src, s - 1), HASH_MUL) >>> shift] = s - 1;
    }
  }
}

/**
 * Encode `src` as one S2 block that Go's `s2.Decode` (and {@link s2Decode}) accepts. Incompressible input is
 * stored as a single literal, so the result is never longer than {@link s2MaxEncodedLength}.
 */
export function s2Encode(src: Uint8Array): Buffer {
  const n = src.length;
  const maxLen = s2MaxEncodedLength(n);
  if (n >= MIN_NON_LITERAL_LENGTH) {
    const need = uvarintLength(n) + n + (n >>> 3) + 32;
    let work = scratch;
    if (work.length < need) {
      work = new Uint8Array(need);
      if (need <= KEEP_SCRATCH) scratch = work;
    }
    const end = encodeBlock(src, work, putUvarint(work, 0, n), maxLen);
    if (end >= 0 && end <= maxLen) {
      const out = Buffer.allocUnsafe(end);
      out.set(work.subarray(0, end));
      return out;
    }
  }
  const out = Buffer.allocUnsafe(maxLen);
  const d = putUvarint(out, 0, n);
  if (n > 0) emitLiteral(out, d, src, 0, n);
  return out;
}
