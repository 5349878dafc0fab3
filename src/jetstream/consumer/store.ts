/**
 * Where a consumer of a file stream keeps itself across restarts, as nats-server does:
 * `<stream dir>/obs/<consumer>/meta.inf` holds the configuration (JSON: created, name, config) and
 * `<stream dir>/obs/<consumer>/o.dat` the state: delivered and ack floor (consumer and stream sequence),
 * the pending acknowledgements (stream sequence -> delivery sequence and time) and the redelivery counts.
 *
 * The state file is binary (tsnats' own layout, not nats-server's): a version byte, unsigned varints, and
 * a CRC-32 of everything before it. It is replaced atomically (write to `o.dat.tmp`, then rename), so a
 * crash, even SIGKILL, leaves either the previous or the new state, never a torn one. Consumers write it
 * a few milliseconds after a change (coalescing bursts of deliveries and acks), and at once before
 * confirming an acknowledgement to a client that asked for a confirmation (double ack), so a confirmed
 * ack survives a crash. Memory streams and `mem_storage` consumers keep their state in memory only.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRequest, goJson } from '../api/json.js';
import { crc32 } from '../store/filestore/crc32.js';
import { parseRfc3339Nano, rfc3339Nano } from '../time.js';
import { type ConsumerConfig, decodeConsumerConfig, encodeConsumerConfig } from './config.js';

/** nats-server's consumer directory inside a stream's directory, and its file names. */
export const CONSUMERS_DIR = 'obs';
export const CONSUMER_META_FILE = 'meta.inf';
export const CONSUMER_STATE_FILE = 'o.dat';
const META_FILE = CONSUMER_META_FILE;
const STATE_FILE = CONSUMER_STATE_FILE;
const STATE_VERSION = 1;

/** An unacknowledged delivery: its first delivery sequence and when it was (last) sent, in ms. */
export interface PendingDelivery {
  dseq: number;
  ts: number;
}

/** nats-server's ConsumerState. */
export interface ConsumerState {
  delivered: { consumer: number; stream: number };
  ackFloor: { consumer: number; stream: number };
  /** By stream sequence. */
  pending: Map<number, PendingDelivery>;
  /** Stream sequence -> times redelivered (delivery count - 1). */
  redelivered: Map<number, number>;
}

/** What meta.inf holds. */
export interface ConsumerMeta {
  name: string;
  /** ns since the epoch. */
  created: bigint;
  config: ConsumerConfig;
}

class Writer {
  buf = Buffer.allocUnsafe(256);
  len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  /** Unsigned varint for integers up to 2^53. */
  uvarint(v: number): void {
    this.ensure(10);
    let n = v < 0 ? 0 : v;
    while (n >= 0x80) {
      this.buf[this.len++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.len++] = n;
  }

  uint32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.len);
    this.len += 4;
  }
}

class Reader {
  pos = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly end: number,
  ) {}

  byte(): number {
    if (this.pos >= this.end) throw new Error('consumer state: truncated');
    return this.buf[this.pos++]!;
  }

  uvarint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      v += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return v;
      mul *= 0x80;
    }
    throw new Error('consumer state: bad varint');
  }
}

/** Encode a state (pending and redelivered as deltas from the ack floor, sorted). */
export function encodeState(st: ConsumerState): Buffer {
  const w = new Writer();
  w.byte(STATE_VERSION);
  w.uvarint(st.delivered.consumer);
  w.uvarint(st.delivered.stream);
  w.uvarint(st.ackFloor.consumer);
  w.uvarint(st.ackFloor.stream);
  const pending = [...st.pending.entries()].sort((a, b) => a[0] - b[0]);
  w.uvarint(pending.length);
  let base = 0;
  for (const [seq, p] of pending) {
    w.uvarint(seq - base);
    base = seq;
    w.uvarint(p.dseq);
    w.uvarint(p.ts);
  }
  const rdc = [...st.redelivered.entries()].sort((a, b) => a[0] - b[0]);
  w.uvarint(rdc.length);
  base = 0;
  for (const [seq, n] of rdc) {
    w.uvarint(seq - base);
    base = seq;
    w.uvarint(n);
  }
  w.uint32(crc32(w.buf, 0, w.len));
  return w.buf.subarray(0, w.len);
}

/** Decode a state file; throws when it is damaged or of another version. */
export function decodeState(buf: Buffer): ConsumerState {
  if (buf.length < 5) throw new Error('consumer state: truncated');
  const end = buf.length - 4;
  if (crc32(buf, 0, end) >>> 0 !== buf.readUInt32LE(end))
    throw new Error('consumer state: checksum mismatch');
  const r = new Reader(buf, end);
  if (r.byte() !== STATE_VERSION) throw new Error('consumer state: unknown version');
  const st: ConsumerState = {
    delivered: { consumer: r.uvarint(), stream: r.uvarint() },
    ackFloor: { consumer: r.uvarint(), stream: r.uvarint() },
    pending: new Map(),
    redelivered: new Map(),
  };
  let n = r.uvarint();
  let base = 0;
  for (let i = 0; i < n; i++) {
    base += r.uvarint();
    st.pending.set(base, { dseq: r.uvarint(), ts: r.uvarint() });
  }
  n = r.uvarint();
  base = 0;
  for (let i = 0; i < n; i++) {
    base += r.uvarint();
    st.redelivered.set(base, r.uvarint());
  }
  return st;
}

function writeAtomic(dir: string, file: string, data: Buffer | string): void {
  const tmp = join(dir, `${file}.tmp`);
  writeFileSync(tmp, data);
  renameSync(tmp, join(dir, file));
}

/** The text of a consumer's meta.inf (stream snapshots carry the same file). */
export function encodeConsumerMeta(meta: ConsumerMeta): string {
  return goJson({
    name: meta.name,
    created: rfc3339Nano(meta.created),
    config: encodeConsumerConfig(meta.config),
  });
}

/** The directory of a consumer of a stream whose directory is `streamDir`. */
export function consumerDir(streamDir: string, name: string): string {
  return join(streamDir, CONSUMERS_DIR, name);
}

/** A consumer's files. Methods throw on I/O errors; the consumer logs them. */
export class ConsumerFileStore {
  constructor(readonly dir: string) {}

  writeMeta(meta: ConsumerMeta): void {
    mkdirSync(this.dir, { recursive: true });
    writeAtomic(this.dir, META_FILE, encodeConsumerMeta(meta));
  }

  /** The stored state, undefined when there is none (or it cannot be read). */
  readState(): ConsumerState | undefined {
    let buf: Buffer;
    try {
      buf = readFileSync(join(this.dir, STATE_FILE));
    } catch {
      return undefined;
    }
    return decodeState(buf);
  }

  writeState(st: ConsumerState): void {
    writeAtomic(this.dir, STATE_FILE, encodeState(st));
  }

  delete(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Read `<dir>/meta.inf`. Throws when missing or malformed. nats-server's own meta.inf (its
 * FileConsumerInfo, the config's fields inline) is read too.
 */
export function readConsumerMeta(dir: string): ConsumerMeta {
  const o = decodeRequest(readFileSync(join(dir, META_FILE), 'utf8'));
  const created = o.string('created');
  const name = o.string('name') ?? '';
  let config = o.object('config');
  if (config === undefined) {
    // nats-server: the consumer's name hides the config's (Go's embedded struct), so it has none.
    const { name: _name, created: _created, ...inline } = o.raw;
    config = decodeRequest(JSON.stringify(inline));
  }
  return {
    name,
    created: created === undefined ? 0n : parseRfc3339Nano(created),
    config: decodeConsumerConfig(config),
  };
}
