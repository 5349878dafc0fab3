/**
 * A small tar (POSIX ustar + PAX) writer and a push-based reader: what stream snapshots are made of
 * (nats-server's snapshots are tar archives too, written by Go's archive/tar in PAX format).
 *
 * Layout: each file is a 512-byte header, its bytes, zero padding to a multiple of 512; the archive ends
 * with two zero blocks. Header fields used (offsets in the block): name 0..100, mode 100, uid 108,
 * gid 116, size 124 (11 octal digits), mtime 136, checksum 148 (sum of the header's bytes with this field
 * read as spaces), type flag 156, magic "ustar\0" + version "00" at 257, uname 265, gname 297,
 * prefix 345..500. A name that fits neither `name` nor `prefix/name` is carried by a PAX extended header
 * (type 'x', records "<len> path=<name>\n") in front of the file, as Go writes it.
 *
 * The reader accepts regular files ('0' and the old '\0'), PAX headers ('x' per file: path and size;
 * 'g' global: ignored), GNU long names ('L') and directories ('5', skipped); anything else (links,
 * devices) is refused, as nats-server refuses it in a snapshot.
 */

export const TAR_BLOCK = 512;
/** Largest size the 11 octal digits of a ustar header hold. */
const MAX_OCTAL_SIZE = 0o77777777777;

export class TarError extends Error {
  override name = 'TarError';
}

function writeString(h: Buffer, off: number, len: number, s: string): void {
  h.write(s, off, len, 'utf8');
}

function writeOctal(h: Buffer, off: number, len: number, v: number): void {
  // len - 1 digits, then NUL.
  h.write(
    Math.floor(v)
      .toString(8)
      .padStart(len - 1, '0'),
    off,
    len - 1,
    'ascii',
  );
  h[off + len - 1] = 0;
}

function checksum(h: Buffer): number {
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum;
}

function ustarHeader(name: string, prefix: string, size: number, mtimeSec: number, type: string): Buffer {
  const h = Buffer.alloc(TAR_BLOCK);
  writeString(h, 0, 100, name);
  writeOctal(h, 100, 8, 0o600);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, mtimeSec);
  h.write(type, 156, 1, 'ascii');
  h.write('ustar\u000000', 257, 8, 'latin1');
  writeString(h, 265, 32, 'nats');
  writeString(h, 297, 32, 'nats');
  writeString(h, 345, 155, prefix);
  const sum = checksum(h);
  h.write(sum.toString(8).padStart(6, '0'), 148, 6, 'ascii');
  h[154] = 0;
  h[155] = 0x20;
  return h;
}

/** Split a name into ustar's prefix and name fields, or undefined when it does not fit them. */
function splitUstar(name: string): [string, string] | undefined {
  const bytes = Buffer.byteLength(name);
  if (bytes <= 100) return ['', name];
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    const pre = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(pre) <= 155 && Buffer.byteLength(rest) <= 100 && rest !== '') return [pre, rest];
  }
  return undefined;
}

/** A PAX record "<len> <key>=<value>\n", where len counts the whole record including its own digits. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + String(bodyLen).length;
  if (String(len).length + bodyLen !== len) len = bodyLen + String(len).length;
  return `${len}${body}`;
}

/** Zero bytes that pad `size` bytes of file data to a whole block. */
export function tarPadding(size: number): Buffer {
  const rem = size % TAR_BLOCK;
  return Buffer.alloc(rem === 0 ? 0 : TAR_BLOCK - rem);
}

/**
 * The header block(s) of a regular file of `size` bytes (mode 0600, owner "nats" as nats-server writes
 * them). The caller writes the file's bytes and then tarPadding(size).
 */
export function tarFileHeader(name: string, size: number, mtime: Date = new Date()): Buffer {
  if (size > MAX_OCTAL_SIZE) throw new TarError(`tar: ${name} is too large (${size} bytes)`);
  const mtimeSec = Math.floor(mtime.getTime() / 1000);
  const split = splitUstar(name);
  if (split !== undefined) return ustarHeader(split[1], split[0], size, mtimeSec, '0');
  const pax = Buffer.from(paxRecord('path', name), 'utf8');
  const short = `PaxHeaders/${Buffer.from(name)
    .subarray(-80)
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, '_')}`;
  return Buffer.concat([
    ustarHeader(short.slice(0, 100), '', pax.length, mtimeSec, 'x'),
    pax,
    tarPadding(pax.length),
    ustarHeader(short.slice(0, 100), '', size, mtimeSec, '0'),
  ]);
}

/** The end of an archive: two zero blocks. */
export function tarEnd(): Buffer {
  return Buffer.alloc(2 * TAR_BLOCK);
}

/** What the reader reports, in archive order. */
export interface TarReaderEvents {
  /** A regular file starts; `size` bytes follow through `data`. */
  file(name: string, size: number): void;
  data(chunk: Buffer): void;
  /** The file's bytes are complete. */
  fileEnd(): void;
}

function parseOctal(h: Buffer, off: number, len: number): number {
  const s = h
    .toString('latin1', off, off + len)
    .replace(/\0.*$/s, '')
    .trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarError('tar: bad number in header');
  return Number.parseInt(s, 8);
}

function cString(h: Buffer, off: number, len: number): string {
  const end = h.indexOf(0, off);
  return h.toString('utf8', off, end < 0 || end > off + len ? off + len : end);
}

/** Parse PAX records; returns path and size overrides. */
function parsePax(buf: Buffer): { path?: string; size?: number } {
  const out: { path?: string; size?: number } = {};
  let off = 0;
  while (off < buf.length) {
    const sp = buf.indexOf(0x20, off);
    if (sp < 0) break;
    const len = Number.parseInt(buf.toString('ascii', off, sp), 10);
    if (!Number.isInteger(len) || len <= 0 || off + len > buf.length)
      throw new TarError('tar: bad PAX record');
    const rec = buf.toString('utf8', sp + 1, off + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) {
      const key = rec.slice(0, eq);
      const value = rec.slice(eq + 1);
      if (key === 'path') out.path = value;
      else if (key === 'size') out.size = Number.parseInt(value, 10);
    }
    off += len;
  }
  return out;
}

enum State {
  Header,
  Body,
  Padding,
  Meta,
  Done,
}

/**
 * Push-based tar reader: `push` bytes as they arrive, in any cut; events fire as files complete. `end()`
 * checks that the archive ended properly. Throws TarError on malformed or unsupported input.
 */
export class TarReader {
  private state = State.Header;
  private header = Buffer.alloc(TAR_BLOCK);
  private headerFill = 0;
  /** Bytes left in the current body (file data or metadata). */
  private remaining = 0;
  private padding = 0;
  private meta: Buffer[] = [];
  private metaType = '';
  private next: { path?: string; size?: number } = {};
  private zeroBlocks = 0;
  /** The current body is a file's (reported), not a directory's (skipped). */
  private emit = false;

  constructor(private readonly events: TarReaderEvents) {}

  get done(): boolean {
    return this.state === State.Done;
  }

  push(buf: Buffer): void {
    let off = 0;
    while (off < buf.length) {
      switch (this.state) {
        case State.Done:
          return; // whatever follows the end marker (Go pads archives to a record) is ignored
        case State.Header: {
          const n = Math.min(TAR_BLOCK - this.headerFill, buf.length - off);
          buf.copy(this.header, this.headerFill, off, off + n);
          this.headerFill += n;
          off += n;
          if (this.headerFill === TAR_BLOCK) {
            this.headerFill = 0;
            this.onHeader();
          }
          break;
        }
        case State.Body:
        case State.Meta: {
          const n = Math.min(this.remaining, buf.length - off);
          const piece = buf.subarray(off, off + n);
          off += n;
          this.remaining -= n;
          if (this.state === State.Body) {
            if (n > 0 && this.emit) this.events.data(piece);
          } else {
            this.meta.push(Buffer.from(piece));
          }
          if (this.remaining === 0) this.endBody();
          break;
        }
        case State.Padding: {
          const n = Math.min(this.padding, buf.length - off);
          off += n;
          this.padding -= n;
          if (this.padding === 0) this.state = State.Header;
          break;
        }
      }
    }
  }

  /** The input is complete: throws unless the archive ended (two zero blocks, or at least one). */
  end(): void {
    if (this.state === State.Done) return;
    if (this.state === State.Header && this.headerFill === 0 && this.zeroBlocks > 0) return;
    throw new TarError('tar: unexpected end of archive');
  }

  private onHeader(): void {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      if (++this.zeroBlocks >= 2) this.state = State.Done;
      return;
    }
    this.zeroBlocks = 0;
    const stored = parseOctal(h, 148, 8);
    if (stored !== checksum(h)) throw new TarError('tar: header checksum mismatch');
    const type = String.fromCharCode(h[156]!);
    let size = parseOctal(h, 124, 12);
    if (type === 'x' || type === 'g' || type === 'L') {
      this.metaType = type;
      this.meta = [];
      this.startBody(size, State.Meta);
      return;
    }
    const magic = h.toString('latin1', 257, 262);
    let name = cString(h, 0, 100);
    if (magic === 'ustar') {
      const prefix = cString(h, 345, 155);
      if (prefix !== '') name = `${prefix}/${name}`;
    }
    if (this.next.path !== undefined) name = this.next.path;
    if (this.next.size !== undefined) size = this.next.size;
    this.next = {};
    if (type === '5') {
      this.emit = false;
      this.startBody(size, State.Body);
      return;
    }
    if (type !== '0' && type !== '\0')
      throw new TarError(`tar: unsupported entry type '${type}' for ${name}`);
    this.events.file(name, size);
    this.emit = true;
    this.startBody(size, State.Body);
  }

  private startBody(size: number, state: State.Body | State.Meta): void {
    this.state = state;
    this.remaining = size;
    const rem = size % TAR_BLOCK;
    this.padding = rem === 0 ? 0 : TAR_BLOCK - rem;
    if (size === 0) this.endBody();
  }

  private endBody(): void {
    if (this.state === State.Body) {
      if (this.emit) this.events.fileEnd();
    } else {
      const m = Buffer.concat(this.meta);
      this.meta = [];
      if (this.metaType === 'x') this.next = { ...this.next, ...parsePax(m) };
      else if (this.metaType === 'L') this.next = { ...this.next, path: cString(m, 0, m.length) };
      this.metaType = '';
    }
    this.state = this.padding > 0 ? State.Padding : State.Header;
  }
}
