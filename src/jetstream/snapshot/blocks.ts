/**
 * A store's messages as file store block files (store/filestore/format.ts), for snapshots of streams
 * that have no files: memory streams. A restore then reads every snapshot the same way, with a FileStore
 * opened on the archive's `msgs/` directory, whatever the storage of the stream it came from.
 *
 * Only live messages are written; the sequences between them are absent, which the file store reads as
 * deleted. Block headers carry the first sequence as their floor; when the last sequence is not a live
 * message (deleted at the end, or purged), a final empty block whose base is lastSeq + 1 carries it.
 */

import {
  BLOCK_HEADER_SIZE,
  blockFileName,
  encodeBlockHeader,
  encodeMsgRecord,
  REC_OVERHEAD,
} from '../store/filestore/format.js';
import type { StreamStore } from '../store/store.js';

/** Target size of one block (the file store's default). */
const BLOCK_SIZE = 8 * 1024 * 1024;

export interface EncodedBlock {
  name: string;
  data: Buffer;
}

/** Copy every message of `store` (now) into block files. */
export function encodeStoreBlocks(store: StreamStore): EncodedBlock[] {
  const st = store.state();
  // A store that never held a message has no floor (it reopens at first sequence 0, as it was).
  const floor = st.msgs > 0 ? st.firstSeq : st.lastSeq === 0 ? 0 : st.lastSeq + 1;
  const out: EncodedBlock[] = [];
  let parts: Buffer[] = [];
  let size = 0;
  let index = 1;
  let prevTs = 0n;
  let lastWritten = 0;

  const startBlock = (base: number): void => {
    const h = Buffer.allocUnsafe(BLOCK_HEADER_SIZE);
    encodeBlockHeader(h, 0, { base, floor, lastTs: prevTs });
    parts = [h];
    size = BLOCK_HEADER_SIZE;
  };
  const endBlock = (): void => {
    out.push({ name: blockFileName(index++), data: Buffer.concat(parts, size) });
    parts = [];
    size = 0;
  };

  for (let m = store.loadNextMsg('', st.firstSeq); m !== undefined; m = store.loadNextMsg('', m.seq + 1)) {
    if (m.seq > st.lastSeq) break;
    const subjLen = Buffer.byteLength(m.subject);
    const recLen = REC_OVERHEAD + subjLen + m.hdr.length + m.data.length;
    if (size > BLOCK_HEADER_SIZE && size + recLen > BLOCK_SIZE) endBlock();
    if (size === 0) startBlock(m.seq);
    const rec = Buffer.allocUnsafe(recLen);
    encodeMsgRecord(rec, 0, m.seq, m.ts, m.subject, subjLen, m.hdr, m.data);
    parts.push(rec);
    size += recLen;
    prevTs = m.ts;
    lastWritten = m.seq;
  }
  if (size > 0) endBlock();
  if (lastWritten < st.lastSeq || out.length === 0) {
    // The last sequence (and its time) when no live message holds it: an empty newest block says it.
    prevTs = st.lastTs;
    startBlock(st.lastSeq + 1);
    endBlock();
  }
  return out;
}
