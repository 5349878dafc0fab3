/**
 * Recovery of one block file: walk its records, verify checksums, and say what to keep and what to repair.
 * Pure (works on the file's bytes); filestore.ts applies the verdict (truncate, pad, tombstone).
 *
 * Damage handling, per record:
 * - framing sound, payload checksum bad, more records follow: the message is dropped (reported lost unless
 *   it was deleted anyway) and the store writes a tombstone for it, so the next open is clean.
 * - framing sound, payload bad, nothing sound after it: a torn final write; truncate before it.
 * - framing bad: look for the next offset where a record's framing checks (hcrc + lengths + a sequence
 *   after the last good one). Found: the gap is lost (one message) and is overwritten with a PAD record so
 *   the next open skips it silently. Not found: a torn or corrupt tail; truncate at the bad record.
 */

import { fileStoreSizeOf } from '../store.js';
import {
  BLOCK_HEADER_SIZE,
  type BlockHeader,
  checkRecord,
  decodeBlockHeader,
  payloadIntact,
  REC_FLOOR,
  REC_MSG,
  REC_OVERHEAD,
  REC_TOMBSTONE,
  viewRecord,
} from './format.js';

/** A message record found in a block. */
export interface ScannedMsg {
  seq: number;
  ts: bigint;
  subject: string;
  off: number;
  recLen: number;
  /** fileStoreMsgSize() of the message (what it counts for in the store's bytes). */
  size: number;
  /** Payload checksum failed (framing is fine). */
  bad: boolean;
}

export interface BlockScan {
  /** Undefined when the header is missing or damaged. */
  header: BlockHeader | undefined;
  msgs: ScannedMsg[];
  /** Sequences named by TOMBSTONE records in this block. */
  tombs: number[];
  /** Highest FLOOR record (0 when none). */
  floor: number;
  /** Truncate the file to this length (a torn or corrupt tail), or -1. */
  truncateAt: number;
  /** Regions [off, len] to overwrite with PAD records (damaged framing followed by good records). */
  pads: [number, number][];
  /** Bytes and messages of damaged regions (PAD gaps and truncated tails); bad payloads are counted later. */
  lostBytes: number;
  lostMsgs: number;
}

export function scanBlock(data: Buffer): BlockScan {
  const scan: BlockScan = {
    header: decodeBlockHeader(data),
    msgs: [],
    tombs: [],
    floor: 0,
    truncateAt: -1,
    pads: [],
    lostBytes: 0,
    lostMsgs: 0,
  };
  const end = data.length;
  let off = BLOCK_HEADER_SIZE;
  let lastSeq = 0;
  while (off < end) {
    const recLen = checkRecord(data, off, end);
    if (recLen < 0) {
      const next = resync(data, off + 1, end, lastSeq);
      scan.lostMsgs++;
      if (next < 0) {
        scan.lostBytes += end - off;
        scan.truncateAt = off;
        break;
      }
      scan.lostBytes += next - off;
      if (next - off >= REC_OVERHEAD) scan.pads.push([off, next - off]);
      off = next;
      continue;
    }
    const r = viewRecord(data, off);
    if (r.type === REC_MSG) {
      const bad = !payloadIntact(data, off, recLen);
      scan.msgs.push({
        seq: r.seq,
        ts: r.ts,
        subject: data.toString('utf8', off + 36, off + 36 + r.subjLen),
        off,
        recLen,
        size: fileStoreSizeOf(r.subjLen, r.hdrLen, r.dataLen),
        bad,
      });
      if (r.seq > lastSeq) lastSeq = r.seq;
    } else if (r.type === REC_TOMBSTONE) {
      scan.tombs.push(r.seq);
    } else if (r.type === REC_FLOOR) {
      if (r.seq > scan.floor) scan.floor = r.seq;
    }
    off += recLen;
  }
  // Damaged messages right before the end (or before a truncated tail) are part of the torn tail.
  let tail = scan.truncateAt >= 0 ? scan.truncateAt : end;
  for (;;) {
    const m = scan.msgs[scan.msgs.length - 1];
    if (m === undefined || !m.bad || m.off + m.recLen !== tail) break;
    scan.msgs.pop();
    scan.lostMsgs++;
    scan.lostBytes += m.recLen;
    tail = scan.truncateAt = m.off;
  }
  return scan;
}

/** Next offset >= `from` holding a record with sound framing (and, for a message, a later sequence). */
function resync(data: Buffer, from: number, end: number, lastSeq: number): number {
  for (let p = from; p + REC_OVERHEAD <= end; p++) {
    if (checkRecord(data, p, end) < 0) continue;
    const r = viewRecord(data, p);
    if (r.type === REC_MSG && r.seq <= lastSeq) continue;
    return p;
  }
  return -1;
}
