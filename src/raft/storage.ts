/**
 * What a Raft node keeps besides its log (docs/design/nrg.md §12): the current term and vote, the peer
 * state (cluster size and known peers), and the newest snapshot. nats-server keeps them in `tav.idx`,
 * `peers.idx` and `snapshots/snap.<term>.<index>` in the group's directory; tsnats uses the same names and,
 * for tav.idx and peers.idx, the same bytes. The snapshot file is nats-server's layout with a CRC-32
 * instead of HighwayHash-64 as its checksum (the file never goes on the wire).
 *
 * Every write is durable against a process crash when it returns: small files are written whole to a
 * temporary name and renamed over the old one, so a crash leaves the old or the new content, never half.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from '../jetstream/store/filestore/crc32.js';
import { decodePeerState, encodePeerState, ID_LEN, type PeerState, readU64, writeU64 } from './codec.js';
import { FileRaftLog, MemRaftLog, type RaftLog } from './log.js';

export interface TermVote {
  term: number;
  /** The id voted for in `term`, '' for none. */
  vote: string;
}

/** A snapshot: the state up to and including `lastIndex`, as the upper layer encoded it. */
export interface Snapshot {
  lastTerm: number;
  lastIndex: number;
  peerState: PeerState;
  data: Buffer;
}

export interface RaftStorage {
  readonly log: RaftLog;
  readTermVote(): TermVote | undefined;
  writeTermVote(tv: TermVote): void;
  readPeerState(): PeerState | undefined;
  writePeerState(ps: PeerState): void;
  readSnapshot(): Snapshot | undefined;
  writeSnapshot(s: Snapshot): void;
  /** Forget the snapshot (the log was truncated below it). */
  removeSnapshot(): void;
  close(): void;
  /** Close and remove everything. */
  delete(): void;
}

/** Memory-only storage: a group of a memory stream, and tests. Survives nothing. */
export class MemRaftStorage implements RaftStorage {
  readonly log: RaftLog = new MemRaftLog();
  private tv: TermVote | undefined;
  private ps: PeerState | undefined;
  private snap: Snapshot | undefined;

  readTermVote(): TermVote | undefined {
    return this.tv;
  }
  writeTermVote(tv: TermVote): void {
    this.tv = { ...tv };
  }
  readPeerState(): PeerState | undefined {
    return this.ps;
  }
  writePeerState(ps: PeerState): void {
    this.ps = { ...ps, knownPeers: [...ps.knownPeers] };
  }
  readSnapshot(): Snapshot | undefined {
    return this.snap;
  }
  writeSnapshot(s: Snapshot): void {
    this.snap = s;
  }
  removeSnapshot(): void {
    this.snap = undefined;
  }
  close(): void {
    this.log.close();
  }
  delete(): void {
    this.log.delete();
  }
}

const TAV = 'tav.idx';
const PEERS = 'peers.idx';
const SNAPSHOTS = 'snapshots';
const WAL = 'msgs';

/** The group's directory: tav.idx, peers.idx, snapshots/, msgs/ (the log). */
export class FileRaftStorage implements RaftStorage {
  readonly log: FileRaftLog;
  private readonly snapDir: string;

  constructor(
    readonly dir: string,
    opts: { syncIntervalMs?: number } = {},
  ) {
    mkdirSync(dir, { recursive: true });
    this.snapDir = join(dir, SNAPSHOTS);
    mkdirSync(this.snapDir, { recursive: true });
    this.log = new FileRaftLog(join(dir, WAL), opts);
  }

  /** nats-server's tav.idx: u64 term, then the 8-byte vote when there is one. */
  readTermVote(): TermVote | undefined {
    const b = readIfExists(join(this.dir, TAV));
    if (b === undefined || b.length < 8) return undefined;
    return { term: readU64(b, 0), vote: b.length >= 8 + ID_LEN ? b.toString('latin1', 8, 8 + ID_LEN) : '' };
  }

  writeTermVote(tv: TermVote): void {
    const b = Buffer.alloc(tv.vote === '' ? 8 : 8 + ID_LEN);
    writeU64(b, 0, tv.term);
    if (tv.vote !== '') b.write(tv.vote, 8, ID_LEN, 'latin1');
    writeAtomically(join(this.dir, TAV), b);
  }

  readPeerState(): PeerState | undefined {
    const b = readIfExists(join(this.dir, PEERS));
    return b === undefined ? undefined : decodePeerState(b);
  }

  writePeerState(ps: PeerState): void {
    writeAtomically(join(this.dir, PEERS), encodePeerState(ps));
  }

  /** The newest valid `snap.<term>.<index>`; others (and damaged ones) are removed, as nats-server does. */
  readSnapshot(): Snapshot | undefined {
    const found: { term: number; index: number; name: string }[] = [];
    for (const name of readdirSync(this.snapDir)) {
      const m = /^snap\.(\d+)\.(\d+)$/.exec(name);
      if (m === null) {
        tryUnlink(join(this.snapDir, name));
        continue;
      }
      found.push({ term: Number(m[1]), index: Number(m[2]), name });
    }
    found.sort((a, b) => b.term - a.term || b.index - a.index);
    let snap: Snapshot | undefined;
    for (const f of found) {
      const path = join(this.snapDir, f.name);
      if (snap === undefined) {
        snap = decodeSnapshotFile(readFileSync(path));
        if (snap !== undefined) continue;
      }
      tryUnlink(path);
    }
    return snap;
  }

  writeSnapshot(s: Snapshot): void {
    const name = `snap.${s.lastTerm}.${s.lastIndex}`;
    writeAtomically(join(this.snapDir, name), encodeSnapshotFile(s));
    for (const other of readdirSync(this.snapDir)) if (other !== name) tryUnlink(join(this.snapDir, other));
  }

  removeSnapshot(): void {
    for (const name of readdirSync(this.snapDir)) tryUnlink(join(this.snapDir, name));
  }

  close(): void {
    this.log.close();
  }

  delete(): void {
    this.log.delete();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** nats-server's snapshot file layout (raft.go encodeSnapshot) with a CRC-32 in the last 8 bytes' first 4. */
export function encodeSnapshotFile(s: Snapshot): Buffer {
  const ps = encodePeerState(s.peerState);
  const b = Buffer.alloc(20 + ps.length + s.data.length + 8);
  writeU64(b, 0, s.lastTerm);
  writeU64(b, 8, s.lastIndex);
  b.writeUInt32LE(ps.length, 16);
  ps.copy(b, 20);
  s.data.copy(b, 20 + ps.length);
  const end = b.length - 8;
  b.writeUInt32LE(crc32(b, 0, end), end);
  return b;
}

export function decodeSnapshotFile(b: Buffer): Snapshot | undefined {
  if (b.length < 28) return undefined;
  const end = b.length - 8;
  if (b.readUInt32LE(end) !== crc32(b, 0, end)) return undefined;
  const psLen = b.readUInt32LE(16);
  if (20 + psLen > end) return undefined;
  const peerState = decodePeerState(b.subarray(20, 20 + psLen));
  if (peerState === undefined) return undefined;
  return {
    lastTerm: readU64(b, 0),
    lastIndex: readU64(b, 8),
    peerState,
    data: Buffer.from(b.subarray(20 + psLen, end)),
  };
}

function readIfExists(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

function writeAtomically(path: string, data: Buffer): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
