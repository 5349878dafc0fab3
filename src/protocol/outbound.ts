import '../util/buffer-methods.js';

/**
 * A connection's outbound buffer: protocol frames are encoded straight into one growing Buffer during a
 * read batch, then handed to the socket in a single write (nats-server's per-read `flushClients`).
 * Strings are written as latin1 because every subject we hold was decoded as latin1 from the wire, so the
 * bytes go back out unchanged.
 */

/**
 * Small: most connections are idle most of the time (INFO, PONG and the odd message fit in 512 bytes); a busy
 * one grows its buffer once and keeps the size.
 */
const INITIAL_SIZE = 512;
/** A buffer that grew past this is dropped after a flush rather than kept around for an idle client. */
const KEEP_MAX = 1024 * 1024;

const EMPTY = Buffer.alloc(0);

/** Below these sizes a plain JS loop beats the native call's fixed cost. */
const SMALL_COPY = 64;
const SMALL_STRING = 48;

/** Write a latin1 string at `o` (the buffer has room), returning the new offset. */
export function writeLatin1(b: Buffer, o: number, s: string): number {
  const n = s.length;
  if (n < SMALL_STRING) {
    for (let k = 0; k < n; k++) b[o + k] = s.charCodeAt(k);
    return o + n;
  }
  return o + b.latin1Write(s, o);
}

export class Outbound {
  buf: Buffer = Buffer.allocUnsafe(INITIAL_SIZE);
  len = 0;

  /** Make room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    let size = Math.max(INITIAL_SIZE, this.buf.length * 2);
    while (size < need) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }

  /** Append raw bytes. */
  bytes(src: Buffer): void {
    this.ensure(src.length);
    src.copy(this.buf, this.len);
    this.len += src.length;
  }

  /** Append an ASCII/latin1 string. */
  latin1(s: string): void {
    this.ensure(s.length);
    this.len += this.buf.latin1Write(s, this.len);
  }

  /** Append a UTF-8 string (INFO/-ERR text that may carry non-ASCII). */
  utf8(s: string): void {
    const n = Buffer.byteLength(s);
    this.ensure(n);
    this.len += this.buf.utf8Write(s, this.len);
  }

  /**
   * Append `MSG <subject> <sid> [reply] <size>\r\n<payload>\r\n`, or HMSG with a header size when
   * `hdr` >= 0. Headers + payload are `size` bytes of `src` from `start`.
   */
  msg(
    subject: string,
    sid: string,
    reply: string,
    hdr: number,
    src: Buffer,
    start: number,
    size: number,
    /** Digits to write instead of `hdr`/`size` (a publisher's leading zeros, repeated as nats-server does). */
    hdb = '',
    szb = '',
  ): void {
    // 32 covers "HMSG " + separators + two 10-digit numbers + CRLFs.
    this.ensure(subject.length + sid.length + reply.length + size + hdb.length + szb.length + 32);
    const b = this.buf;
    let o = this.len;
    if (hdr >= 0) {
      b[o++] = 0x48; // H
    }
    b[o++] = 0x4d; // M
    b[o++] = 0x53; // S
    b[o++] = 0x47; // G
    b[o++] = 0x20;
    o = writeLatin1(b, o, subject);
    b[o++] = 0x20;
    o = writeLatin1(b, o, sid);
    b[o++] = 0x20;
    if (reply.length > 0) {
      o = writeLatin1(b, o, reply);
      b[o++] = 0x20;
    }
    if (hdr >= 0) {
      o = hdb === '' ? writeInt(b, o, hdr) : writeLatin1(b, o, hdb);
      b[o++] = 0x20;
    }
    o = szb === '' ? writeInt(b, o, size) : writeLatin1(b, o, szb);
    b[o++] = 0x0d;
    b[o++] = 0x0a;
    if (size < SMALL_COPY) {
      for (let k = 0; k < size; k++) b[o + k] = src[start + k]!;
      o += size;
    } else {
      o += src.copy(b, o, start, start + size);
    }
    b[o++] = 0x0d;
    b[o++] = 0x0a;
    this.len = o;
  }

  /**
   * Append a message for another server: `RMSG <account> <subject> ...` on a route (HMSG with headers),
   * `LMSG <subject> ...` on a leaf node connection (HMSG with headers, no account). Between subject and
   * sizes: the reply, or `+ <reply> <queue...>` / `| <queue...>` naming the queue groups the other
   * server delivers to (nats-server's msgHeaderForRouteOrLeaf). Returns where the control line starts
   * (it ends before the CRLF preceding the payload), for traces.
   */
  remoteMsg(
    account: string | null,
    subject: string,
    reply: string,
    queues: string[] | null,
    hdr: number,
    src: Buffer,
    start: number,
    size: number,
  ): number {
    let qlen = 0;
    if (queues !== null) for (let i = 0; i < queues.length; i++) qlen += queues[i]!.length + 1;
    this.ensure((account?.length ?? 0) + subject.length + reply.length + qlen + size + 40);
    const b = this.buf;
    let o = this.len;
    const lineStart = o;
    b[o++] = hdr > 0 ? 0x48 : account === null ? 0x4c : 0x52; // H | L | R
    b[o++] = 0x4d; // M
    b[o++] = 0x53; // S
    b[o++] = 0x47; // G
    b[o++] = 0x20;
    if (account !== null) {
      o = writeLatin1(b, o, account);
      b[o++] = 0x20;
    }
    o = writeLatin1(b, o, subject);
    b[o++] = 0x20;
    if (queues !== null) {
      if (reply.length > 0) {
        b[o++] = 0x2b; // +
        b[o++] = 0x20;
        o = writeLatin1(b, o, reply);
        b[o++] = 0x20;
      } else {
        b[o++] = 0x7c; // |
        b[o++] = 0x20;
      }
      for (let i = 0; i < queues.length; i++) {
        o = writeLatin1(b, o, queues[i]!);
        b[o++] = 0x20;
      }
    } else if (reply.length > 0) {
      o = writeLatin1(b, o, reply);
      b[o++] = 0x20;
    }
    if (hdr > 0) {
      o = writeInt(b, o, hdr);
      b[o++] = 0x20;
    }
    o = writeInt(b, o, size);
    b[o++] = 0x0d;
    b[o++] = 0x0a;
    o += src.copy(b, o, start, start + size);
    b[o++] = 0x0d;
    b[o++] = 0x0a;
    this.len = o;
    return lineStart;
  }

  /**
   * The bytes to write; `release()` afterwards decides whether the same memory can be used again.
   */
  take(): Buffer {
    const out = this.buf.subarray(0, this.len);
    this.len = 0;
    return out;
  }

  /** Drop the buffer of a closed connection (closed connections are kept for monitoring). */
  discard(): void {
    this.buf = EMPTY;
    this.len = 0;
  }

  /** After a write the socket may still reference the buffer: allocate a new one unless it was drained. */
  release(drained: boolean): void {
    // Not drained: the socket still holds the bytes, so write the next batch elsewhere (same size: a busy
    // connection does not grow its buffer again every time).
    if (this.buf.length > KEEP_MAX) this.buf = Buffer.allocUnsafe(INITIAL_SIZE);
    else if (!drained) this.buf = Buffer.allocUnsafe(this.buf.length);
  }
}

/** Write a non-negative integer in decimal at `o`, returning the new offset. */
export function writeInt(b: Buffer, o: number, n: number): number {
  if (n < 10) {
    b[o] = 0x30 + n;
    return o + 1;
  }
  let digits = 1;
  for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
  let p = o + digits - 1;
  let v = n;
  while (v >= 10) {
    const q = Math.floor(v / 10);
    b[p--] = 0x30 + (v - q * 10);
    v = q;
  }
  b[p] = 0x30 + v;
  return o + digits;
}
