/**
 * The seam between JetStream's stream logic and where messages live (nats-server's StreamStore,
 * server/store.go). One interface, two implementations (memory and file), one conformance suite run
 * against both. Sequences start at 1; timestamps are nanoseconds since the epoch as bigint (JetStream's
 * wire format carries nanoseconds).
 */

/** A stored message. `hdr` is the raw NATS/1.0 header block (empty when none). */
export interface StoredMsg {
  subject: string;
  seq: number;
  /** Nanoseconds since the Unix epoch. */
  ts: bigint;
  hdr: Buffer;
  data: Buffer;
}

/** Limits the store enforces on every append (the stream decides discard policy before calling). */
export interface StoreLimits {
  /** Maximum messages, -1 = unlimited. */
  maxMsgs: number;
  /** Maximum bytes (as the store counts them: msgSize or fileStoreMsgSize), -1 = unlimited. */
  maxBytes: number;
  /** Maximum age in ms, 0 = unlimited. Expiry runs on a timer inside the store. */
  maxAge: number;
  /** Maximum messages per subject, -1 or 0 = unlimited. */
  maxMsgsPerSubject: number;
}

/** nats-server's StreamState. */
export interface StreamState {
  msgs: number;
  bytes: number;
  firstSeq: number;
  /** Nanoseconds; 0n when empty. */
  firstTs: bigint;
  lastSeq: number;
  lastTs: bigint;
  numSubjects: number;
  numDeleted: number;
  /** Deleted (interior) sequences, only when asked for. */
  deleted?: number[];
}

/** Per-subject state (nats-server's SimpleState). */
export interface SimpleState {
  msgs: number;
  first: number;
  last: number;
}

/** Called after messages are removed by limits or expiry (for consumers and interest tracking). */
export type StoreRemovalHandler = (seqs: number[]) => void;

export interface StreamStore {
  /**
   * Append with the next sequence and the current time (or `ts`, the time a replicated message got on its
   * stream leader, in ns); returns the sequence and timestamp. Timestamps never go below the last one.
   */
  storeMsg(subject: string, hdr: Buffer, data: Buffer, ts?: bigint): { seq: number; ts: bigint };
  /** Load one message, undefined when missing or deleted. */
  loadMsg(seq: number): StoredMsg | undefined;
  /** The first message at or after `start` whose subject matches `filter` ('' or '>' = any; wildcards allowed). */
  loadNextMsg(filter: string, start: number): StoredMsg | undefined;
  /** The last message on exactly this subject (or matching a wildcard filter). */
  loadLastMsg(subject: string): StoredMsg | undefined;
  /** Remove (interior deletes allowed); `erase` overwrites the bytes on disk. False when not present. */
  removeMsg(seq: number, erase?: boolean): boolean;
  /** Remove everything; returns how many were removed. The next sequence continues after the last one. */
  purge(): number;
  /**
   * nats-server's PurgeEx: remove messages matching `subject` ('' = all) below sequence `seq` (0 = no bound),
   * keeping the newest `keep` of them (0 = keep none). Returns how many were removed.
   * Throws StoreError `ERR_PURGE_ARG_MISMATCH` when seq > 1 and keep > 0 (nats-server refuses the pair too).
   */
  purgeEx(subject: string, seq: number, keep: number): number;
  /** Remove everything below `seq` (first sequence becomes `seq`). */
  compact(seq: number): number;
  /** First sequence whose timestamp is >= `ts` (ns); lastSeq+1 when none. */
  getSeqFromTime(ts: bigint): number;
  /** State of messages matching `subject` from sequence `start`. */
  filteredState(start: number, subject: string): SimpleState;
  /** Per-subject state for subjects matching `filter` ('' = all). */
  subjectsState(filter: string): Map<string, SimpleState>;
  state(withDeleted?: boolean): StreamState;
  /** Change limits (stream update); enforce them at once. */
  updateLimits(limits: StoreLimits): void;
  /**
   * Added for the file store: a stream update changed `compression` ('none' | 's2'); blocks sealed from
   * then on follow it. Absent where it means nothing (the memory store).
   */
  setCompression?(alg: 'none' | 's2'): void;
  /** Called with sequences removed by limits/expiry. */
  onRemove(handler: StoreRemovalHandler): void;
  /** Flush what is buffered to disk (file store); no-op for memory. */
  flush(): void;
  /** Stop timers and close files; the data stays. */
  stop(): void;
  /** Stop and delete all data. */
  delete(): void;
  /**
   * Added for the file store: what recovery could not keep when the store was opened (a torn or corrupt
   * record; see filestore/format.ts), undefined when nothing was lost. The stream layer reports it, like
   * nats-server's StreamState.Lost. Optional because a memory store never loses anything.
   */
  lostData?(): LostData | undefined;
}

/** Messages and bytes dropped by recovery (nats-server's LostStreamData, counted rather than listed). */
export interface LostData {
  msgs: number;
  bytes: number;
}

/**
 * Added: errors a store throws, with a stable `code` (STYLE.md: internal errors are classes with a code).
 * `ERR_STORE_CLOSED` after stop(); `ERR_PURGE_ARG_MISMATCH` for purgeEx with seq > 1 and keep > 0
 * (nats-server's ErrPurgeArgMismatch); `ERR_STORE_IO` wraps a failed disk operation (the store then
 * closes); `ERR_STORE_NO_SPACE`: a write failed for lack of space (ENOSPC, EDQUOT, EFBIG), the operation
 * changed nothing and the store stays open, so it keeps serving reads and accepts writes once space is
 * freed (nats-server keeps its message block usable after a write error the same way).
 */
export class StoreError extends Error {
  readonly code: 'ERR_STORE_CLOSED' | 'ERR_PURGE_ARG_MISMATCH' | 'ERR_STORE_IO' | 'ERR_STORE_NO_SPACE';
  constructor(code: StoreError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}

/**
 * Bytes a message counts for in a memory store, against max_bytes and in `state.bytes` (nats-server's
 * memStoreMsgSize: subject + header + payload + 16, for the sequence and timestamp).
 */
export function msgSize(subject: string, hdr: Buffer, data: Buffer): number {
  return Buffer.byteLength(subject) + hdr.length + data.length + 16;
}

/**
 * Bytes a message counts for in a file store (nats-server's fileStoreMsgSize, the size of its record on
 * disk): record length 4 + sequence 8 + timestamp 8 + subject length 2, the subject, the payload and an
 * 8-byte hash; a message with headers adds a 4-byte header length and the headers. nats-server reports
 * these for file streams, so `state.bytes` and max_bytes agree with it even though our own records
 * (filestore/format.ts) are laid out differently.
 */
export function fileStoreMsgSize(subject: string, hdr: Buffer, data: Buffer): number {
  return fileStoreSizeOf(Buffer.byteLength(subject), hdr.length, data.length);
}

/** fileStoreMsgSize from the byte lengths (recovery has them, not the buffers). */
export function fileStoreSizeOf(subjLen: number, hdrLen: number, dataLen: number): number {
  return 30 + subjLen + dataLen + (hdrLen > 0 ? 4 + hdrLen : 0);
}

/** Nanoseconds since the epoch, now (monotonic within the process: timeOrigin + a monotonic clock). */
export function nowNanos(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}
