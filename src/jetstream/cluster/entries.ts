/**
 * What replicated streams and consumers put in their Raft groups, byte for byte as nats-server 2.9 does
 * (docs/design/jetstream-replication.md §0.1, §1.5, §2.2, §3.1, §4.1, §4.6). The first byte of every Normal
 * entry is nats-server's entryOp; Go nodes panic on a value they do not expect, so only these are made.
 *
 *   stream group     4 streamMsgOp (binary), 5 purgeStreamOp (JSON), 6 deleteMsgOp (JSON),
 *                    14 compressedStreamMsgOp (S2 of a streamMsgOp body; decoded only)
 *   consumer group   7 updateDeliveredOp, 8 updateAcksOp (varints), 10 updateSkipOp (u64),
 *                    12/13 add/removePendingRequest (the reply subject)
 *   meta group       0-3, 9, 11 (meta.ts)
 */
import { s2Decode } from '../../util/s2.js';

export const EntryOp = {
  AssignStream: 0,
  AssignConsumer: 1,
  RemoveStream: 2,
  RemoveConsumer: 3,
  StreamMsg: 4,
  PurgeStream: 5,
  DeleteMsg: 6,
  UpdateDelivered: 7,
  UpdateAcks: 8,
  AssignCompressedConsumer: 9,
  UpdateSkip: 10,
  UpdateStream: 11,
  AddPendingRequest: 12,
  RemovePendingRequest: 13,
  CompressedStreamMsg: 14,
} as const;

// ---- stream messages ----------------------------------------------------------------------------------

/** One replicated message (or a skip / catch-up record, see the shapes in the spec §1.5). */
export interface StreamMsgEntry {
  subject: string;
  reply: string;
  hdr: Buffer;
  msg: Buffer;
  /** Proposals: messages (stored or failed) before this one; catch-up records: the message's sequence. */
  lseq: number;
  /** Nanoseconds since the epoch (0n for skips). */
  ts: bigint;
}

const EMPTY = Buffer.alloc(0);

export function encodeStreamMsg(m: StreamMsgEntry): Buffer {
  // The subject is text (as stored) and travels as its UTF-8 bytes, as nats-server's; the reply is wire form.
  const sl = Buffer.byteLength(m.subject, 'utf8');
  const rl = Buffer.byteLength(m.reply, 'latin1');
  const b = Buffer.allocUnsafe(27 + sl + rl + m.hdr.length + m.msg.length);
  let o = 0;
  b[o++] = EntryOp.StreamMsg;
  b.writeUInt32LE(m.lseq >>> 0, o);
  b.writeUInt32LE(Math.floor(m.lseq / 2 ** 32) >>> 0, o + 4);
  o += 8;
  b.writeBigInt64LE(m.ts, o);
  o += 8;
  b.writeUInt16LE(sl, o);
  o += 2;
  o += b.write(m.subject, o, 'utf8');
  b.writeUInt16LE(rl, o);
  o += 2;
  o += b.write(m.reply, o, 'latin1');
  b.writeUInt16LE(m.hdr.length, o);
  o += 2;
  o += m.hdr.copy(b, o);
  b.writeUInt32LE(m.msg.length, o);
  o += 4;
  m.msg.copy(b, o);
  return b;
}

/**
 * Decode an op 4 or op 14 entry (the op byte included). Throws on a malformed entry: the caller treats it
 * as corrupt replicated data (nats-server would panic).
 */
export function decodeStreamMsg(entry: Buffer): StreamMsgEntry {
  let b = entry.subarray(1);
  if (entry[0] === EntryOp.CompressedStreamMsg) b = s2Decode(b);
  else if (entry[0] !== EntryOp.StreamMsg) throw new Error(`not a stream message entry (op ${entry[0]})`);
  if (b.length < 26) throw new Error('stream message entry too short');
  let o = 0;
  const lseq = b.readUInt32LE(o) + b.readUInt32LE(o + 4) * 2 ** 32;
  o += 8;
  const ts = b.readBigInt64LE(o);
  o += 8;
  const take = (n: number): Buffer => {
    if (o + n > b.length) throw new Error('stream message entry truncated');
    const v = b.subarray(o, o + n);
    o += n;
    return v;
  };
  const sl = take(2).readUInt16LE(0);
  const subject = take(sl).toString('utf8');
  const rl = take(2).readUInt16LE(0);
  const reply = take(rl).toString('latin1');
  const hl = take(2).readUInt16LE(0);
  const hdr = hl === 0 ? EMPTY : Buffer.from(take(hl));
  const ml = take(4).readUInt32LE(0);
  const msg = ml === 0 ? EMPTY : Buffer.from(take(ml));
  return { subject, reply, hdr, msg, lseq, ts };
}

// ---- purge and delete (JSON) ----------------------------------------------------------------------------

/** `op byte` + Go's json.Encoder output (a trailing newline). */
export function encodeJsonOp(op: number, v: object): Buffer {
  const json = goEscape(JSON.stringify(v));
  const b = Buffer.allocUnsafe(1 + Buffer.byteLength(json) + 1);
  b[0] = op;
  b.write(json, 1);
  b[b.length - 1] = 0x0a;
  return b;
}

export function decodeJsonOp<T>(entry: Buffer): T {
  return JSON.parse(entry.toString('utf8', 1)) as T;
}

/** Go's encoding/json HTML escaping: <, > and & as \u003c, \u003e, \u0026. */
export function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** nats-server's streamPurge. */
export interface StreamPurgeOp {
  client?: Record<string, unknown>;
  stream: string;
  last_seq: number;
  subject: string;
  reply: string;
  request?: { filter?: string; seq?: number; keep?: number };
}

/** nats-server's streamMsgDelete. */
export interface StreamMsgDeleteOp {
  client?: Record<string, unknown>;
  stream: string;
  seq: number;
  no_erase?: boolean;
  subject: string;
  reply: string;
}

/** A stream's Raft snapshot (nats-server's streamSnapshot): plain JSON. */
export interface StreamSnapshot {
  messages: number;
  bytes: number;
  first_seq: number;
  last_seq: number;
  clfs: number;
  deleted?: number[];
}

// ---- consumer entries -----------------------------------------------------------------------------------

/** Go's binary.PutUvarint. */
export function putUvarint(out: number[], v: number | bigint): void {
  let x = BigInt(v);
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
}

/** Go's binary.PutVarint (zig-zag). */
export function putVarint(out: number[], v: bigint): void {
  const ux = v < 0n ? ((-v - 1n) << 1n) | 1n : v << 1n;
  putUvarint(out, ux);
}

export class VarintReader {
  off: number;
  constructor(
    private readonly b: Buffer,
    start = 0,
  ) {
    this.off = start;
  }

  uvarint(): bigint {
    let x = 0n;
    let s = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.off >= this.b.length) throw new Error('varint truncated');
      const c = this.b[this.off++]!;
      if (c < 0x80) return x | (BigInt(c) << s);
      x |= BigInt(c & 0x7f) << s;
      s += 7n;
    }
    throw new Error('varint overflows 64 bits');
  }

  uvarintNum(): number {
    return Number(this.uvarint());
  }

  varint(): bigint {
    const ux = this.uvarint();
    return ux & 1n ? -(ux >> 1n) - 1n : ux >> 1n;
  }

  get done(): boolean {
    return this.off >= this.b.length;
  }
}

export function encodeDelivered(dseq: number, sseq: number, dc: number, ts: bigint): Buffer {
  const out: number[] = [EntryOp.UpdateDelivered];
  putUvarint(out, dseq);
  putUvarint(out, sseq);
  putUvarint(out, dc);
  putVarint(out, ts);
  return Buffer.from(out);
}

export function decodeDelivered(e: Buffer): { dseq: number; sseq: number; dc: number; ts: bigint } {
  const r = new VarintReader(e, 1);
  return { dseq: r.uvarintNum(), sseq: r.uvarintNum(), dc: r.uvarintNum(), ts: r.varint() };
}

export function encodeAcks(dseq: number, sseq: number): Buffer {
  const out: number[] = [EntryOp.UpdateAcks];
  putUvarint(out, dseq);
  putUvarint(out, sseq);
  return Buffer.from(out);
}

export function decodeAcks(e: Buffer): { dseq: number; sseq: number } {
  const r = new VarintReader(e, 1);
  return { dseq: r.uvarintNum(), sseq: r.uvarintNum() };
}

export function encodeSkip(sseq: number): Buffer {
  const b = Buffer.allocUnsafe(9);
  b[0] = EntryOp.UpdateSkip;
  b.writeBigUInt64LE(BigInt(sseq), 1);
  return b;
}

export function decodeSkip(e: Buffer): number {
  if (e.length < 9) throw new Error('skip entry too short');
  return Number(e.readBigUInt64LE(1));
}

export function encodePendingRequest(op: 12 | 13, reply: string): Buffer {
  return Buffer.concat([Buffer.from([op]), Buffer.from(reply, 'latin1')]);
}

// ---- consumer state (snapshot and store), nats-server's encodeConsumerState ------------------------------

export interface ReplicatedConsumerState {
  delivered: { consumer_seq: number; stream_seq: number };
  ack_floor: { consumer_seq: number; stream_seq: number };
  /** Stream sequence -> delivery sequence and timestamp (ns). */
  pending: Map<number, { sequence: number; ts: bigint }>;
  /** Stream sequence -> number of redeliveries. */
  redelivered: Map<number, number>;
}

const CONSUMER_MAGIC = 22;
const CONSUMER_VERSION = 2;

export function encodeConsumerState(st: ReplicatedConsumerState, nowNs: bigint): Buffer {
  const out: number[] = [CONSUMER_MAGIC, CONSUMER_VERSION];
  const asflr = st.ack_floor.stream_seq;
  const adflr = st.ack_floor.consumer_seq;
  putUvarint(out, adflr);
  putUvarint(out, asflr);
  putUvarint(out, st.delivered.consumer_seq);
  putUvarint(out, st.delivered.stream_seq);
  putUvarint(out, st.pending.size);
  if (st.pending.size > 0) {
    const mints = (nowNs + 500_000_000n) / 1_000_000_000n;
    putVarint(out, mints);
    for (const [sseq, p] of st.pending) {
      putUvarint(out, sseq - asflr);
      putUvarint(out, p.sequence - adflr);
      putVarint(out, mints - p.ts / 1_000_000_000n);
    }
  }
  putUvarint(out, st.redelivered.size);
  for (const [sseq, n] of st.redelivered) {
    putUvarint(out, sseq - asflr);
    putUvarint(out, n);
  }
  return Buffer.from(out);
}

export function decodeConsumerState(b: Buffer): ReplicatedConsumerState {
  if (b.length < 2 || b[0] !== CONSUMER_MAGIC) throw new Error('consumer state: bad magic');
  const version = b[1]!;
  if (version !== 1 && version !== 2) throw new Error(`consumer state: unknown version ${version}`);
  const r = new VarintReader(b, 2);
  const adflr = r.uvarintNum();
  const asflr = r.uvarintNum();
  let dcons = r.uvarintNum();
  let dstrm = r.uvarintNum();
  if (version === 1) {
    // Version 1 stored the next sequences.
    if (dcons > 0) dcons--;
    if (dstrm > 0) dstrm--;
  }
  const st: ReplicatedConsumerState = {
    delivered: { consumer_seq: dcons, stream_seq: dstrm },
    ack_floor: { consumer_seq: adflr, stream_seq: asflr },
    pending: new Map(),
    redelivered: new Map(),
  };
  const np = r.uvarintNum();
  if (np > 0) {
    const mints = r.varint();
    for (let i = 0; i < np; i++) {
      const sseq = r.uvarintNum() + asflr;
      if (sseq === 0) throw new Error('consumer state: corrupt pending entry');
      let dseq = 0;
      if (version === 2) dseq = r.uvarintNum() + adflr;
      const d = r.varint();
      const ts = version === 1 ? (d + mints) * 1_000_000_000n : (mints - d) * 1_000_000_000n;
      st.pending.set(sseq, { sequence: dseq, ts });
    }
  }
  const nr = r.done ? 0 : r.uvarintNum();
  for (let i = 0; i < nr; i++) {
    const sseq = r.uvarintNum() + asflr;
    const n = r.uvarintNum();
    if (sseq > 0 && n > 0) st.redelivered.set(sseq, n);
  }
  return st;
}
