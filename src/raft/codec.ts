/**
 * NRG's binary messages, byte for byte as nats-server 2.9 encodes them (server/raft.go; the layouts and
 * the Go functions they come from are in docs/design/nrg.md, part 2). Every integer is fixed-width
 * little-endian; node ids are exactly 8 ASCII bytes with no length prefix; booleans are one byte.
 *
 *   appendEntry (AE)        42-byte header (leader, term, commit, pterm, pindex, count) + entries
 *   appendEntryResponse     25 bytes (term, index, peer, success). Go crashes on any other length.
 *   voteRequest             32 bytes (term, lastTerm, lastIndex, candidate)
 *   voteResponse            17 bytes (term, peer, granted)
 *   peerState               clusterSize, n, n ids, domainExt
 *
 * Terms and indexes are u64 on the wire; tsnats keeps them as JavaScript numbers (exact up to 2^53).
 */

/** Length of a node id (nats-server's idLen). */
export const ID_LEN = 8;
/** appendEntryBaseLen: leader id, four u64, u16 entry count. */
export const AE_HEADER_LEN = ID_LEN + 4 * 8 + 2;
export const AE_RESPONSE_LEN = 8 + 8 + ID_LEN + 1;
export const VOTE_REQUEST_LEN = 24 + ID_LEN;
export const VOTE_RESPONSE_LEN = 8 + ID_LEN + 1;
/** Most entries in one AE (u16 count). */
export const MAX_ENTRIES = 0xffff;

/** nats-server's EntryType. */
export const EntryType = {
  Normal: 0,
  OldSnapshot: 1,
  PeerState: 2,
  AddPeer: 3,
  RemovePeer: 4,
  LeaderTransfer: 5,
  Snapshot: 6,
} as const;
export type EntryType = number;

export interface Entry {
  type: EntryType;
  data: Buffer;
}

export interface AppendEntry {
  leader: string;
  term: number;
  commit: number;
  pterm: number;
  pindex: number;
  entries: Entry[];
}

export interface AppendEntryResponse {
  term: number;
  index: number;
  peer: string;
  success: boolean;
}

export interface VoteRequest {
  term: number;
  lastTerm: number;
  lastIndex: number;
  candidate: string;
}

export interface VoteResponse {
  term: number;
  peer: string;
  granted: boolean;
}

/** nats-server's domain-extension states carried in peer state (extUndetermined, ...). */
export const DomainExt = { Undetermined: 0, Extended: 1, NotExtended: 2 } as const;

export interface PeerState {
  clusterSize: number;
  knownPeers: string[];
  domainExt: number;
}

const TWO_32 = 2 ** 32;

/** A u64 from a number below 2^53, as two u32 (no BigInt on the replication path). */
export function writeU64(b: Buffer, off: number, v: number): void {
  b.writeUInt32LE(v >>> 0, off);
  b.writeUInt32LE(Math.floor(v / TWO_32) >>> 0, off + 4);
}

export function readU64(b: Buffer, off: number): number {
  return b.readUInt32LE(off) + b.readUInt32LE(off + 4) * TWO_32;
}

function writeId(b: Buffer, off: number, id: string): void {
  if (id.length !== ID_LEN)
    throw new RangeError(`node id must be ${ID_LEN} characters: ${JSON.stringify(id)}`);
  b.write(id, off, ID_LEN, 'latin1');
}

function readId(b: Buffer, off: number): string {
  return b.toString('latin1', off, off + ID_LEN);
}

// ---- append entry -------------------------------------------------------------------------------------

export function encodeAppendEntry(ae: AppendEntry): Buffer {
  if (ae.entries.length > MAX_ENTRIES) throw new RangeError('too many entries in one append entry');
  let size = AE_HEADER_LEN;
  for (const e of ae.entries) size += 4 + 1 + e.data.length;
  const b = Buffer.allocUnsafe(size);
  if (ae.leader === '') b.fill(0, 0, ID_LEN);
  else writeId(b, 0, ae.leader);
  writeU64(b, 8, ae.term);
  writeU64(b, 16, ae.commit);
  writeU64(b, 24, ae.pterm);
  writeU64(b, 32, ae.pindex);
  b.writeUInt16LE(ae.entries.length, 40);
  let o = AE_HEADER_LEN;
  for (const e of ae.entries) {
    b.writeUInt32LE(e.data.length + 1, o);
    b[o + 4] = e.type;
    e.data.copy(b, o + 5);
    o += 5 + e.data.length;
  }
  return b;
}

/** Decode an AE (nats-server's decodeAppendEntry); undefined when malformed. Bytes after the entries are ignored. */
export function decodeAppendEntry(b: Buffer): AppendEntry | undefined {
  if (b.length < AE_HEADER_LEN) return undefined;
  const count = b.readUInt16LE(40);
  const entries: Entry[] = [];
  let o = AE_HEADER_LEN;
  for (let i = 0; i < count; i++) {
    if (o + 4 > b.length) return undefined;
    const le = b.readUInt32LE(o);
    o += 4;
    if (le <= 0 || o + le > b.length) return undefined;
    // Entry data is copied: the buffer may be the read buffer of a route.
    entries.push({ type: b[o]!, data: Buffer.from(b.subarray(o + 1, o + le)) });
    o += le;
  }
  return {
    leader: readId(b, 0),
    term: readU64(b, 8),
    commit: readU64(b, 16),
    pterm: readU64(b, 24),
    pindex: readU64(b, 32),
    entries,
  };
}

/** The header fields of an encoded AE without decoding its entries (the term of a stored entry). */
export function appendEntryTerm(b: Buffer): number {
  return readU64(b, 8);
}

// ---- append entry response ----------------------------------------------------------------------------

export function encodeAppendEntryResponse(r: AppendEntryResponse): Buffer {
  const b = Buffer.allocUnsafe(AE_RESPONSE_LEN);
  writeU64(b, 0, r.term);
  writeU64(b, 8, r.index);
  writeId(b, 16, r.peer);
  b[24] = r.success ? 1 : 0;
  return b;
}

export function decodeAppendEntryResponse(b: Buffer): AppendEntryResponse | undefined {
  if (b.length !== AE_RESPONSE_LEN) return undefined;
  return { term: readU64(b, 0), index: readU64(b, 8), peer: readId(b, 16), success: b[24] === 1 };
}

// ---- votes --------------------------------------------------------------------------------------------

export function encodeVoteRequest(v: VoteRequest): Buffer {
  const b = Buffer.allocUnsafe(VOTE_REQUEST_LEN);
  writeU64(b, 0, v.term);
  writeU64(b, 8, v.lastTerm);
  writeU64(b, 16, v.lastIndex);
  writeId(b, 24, v.candidate);
  return b;
}

export function decodeVoteRequest(b: Buffer): VoteRequest | undefined {
  if (b.length !== VOTE_REQUEST_LEN) return undefined;
  return {
    term: readU64(b, 0),
    lastTerm: readU64(b, 8),
    lastIndex: readU64(b, 16),
    candidate: readId(b, 24),
  };
}

export function encodeVoteResponse(v: VoteResponse): Buffer {
  const b = Buffer.allocUnsafe(VOTE_RESPONSE_LEN);
  writeU64(b, 0, v.term);
  writeId(b, 8, v.peer);
  b[16] = v.granted ? 1 : 0;
  return b;
}

export function decodeVoteResponse(b: Buffer): VoteResponse | undefined {
  if (b.length !== VOTE_RESPONSE_LEN) return undefined;
  return { term: readU64(b, 0), peer: readId(b, 8), granted: b[16] === 1 };
}

// ---- peer state ---------------------------------------------------------------------------------------

export function encodePeerState(ps: PeerState): Buffer {
  const n = ps.knownPeers.length;
  const b = Buffer.allocUnsafe(8 + ID_LEN * n + 2);
  b.writeUInt32LE(ps.clusterSize, 0);
  b.writeUInt32LE(n, 4);
  let o = 8;
  for (const id of ps.knownPeers) {
    writeId(b, o, id);
    o += ID_LEN;
  }
  b.writeUInt16LE(ps.domainExt, o);
  return b;
}

/** nats-server's decodePeerState: the trailing domainExt is optional. */
export function decodePeerState(b: Buffer): PeerState | undefined {
  if (b.length < 8) return undefined;
  const clusterSize = b.readUInt32LE(0);
  const n = b.readUInt32LE(4);
  if (8 + n * ID_LEN > b.length) return undefined;
  const knownPeers: string[] = [];
  for (let i = 0; i < n; i++) knownPeers.push(readId(b, 8 + i * ID_LEN));
  const o = 8 + n * ID_LEN;
  const domainExt = b.length >= o + 2 ? b.readUInt16LE(o) : DomainExt.Undetermined;
  return { clusterSize, knownPeers, domainExt };
}
