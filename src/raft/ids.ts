/**
 * Names in NRG (docs/design/nrg.md §1): node ids, reply inboxes and group names.
 *
 * A node id is the same for every group on a server: nats-server's getHash(server name), the first 8
 * bytes of SHA-256 each taken modulo 62 into [0-9A-Za-z]. Go servers map ids back to servers through the
 * route INFO `name` and statsz, so the server name tsnats hashes is the one it announces.
 */
import { createHash, randomBytes } from 'node:crypto';

const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE = 62;

/** nats-server's getHashSize(name, 8): e.g. "n1" -> "fjFyEjc1". */
export function nodeIdOf(serverName: string): string {
  const h = createHash('sha256').update(serverName, 'utf8').digest();
  let out = '';
  for (let i = 0; i < 8; i++) out += DIGITS[h[i]! % BASE];
  return out;
}

/** Eight random base62 characters (reply inbox suffixes, the random part of group names). */
export function randomToken8(): string {
  const b = randomBytes(8);
  let out = '';
  for (let i = 0; i < 8; i++) out += DIGITS[b[i]! % BASE];
  return out;
}

/** The subjects of one group (raft.go's raftVoteSubj, raftAppendSubj, ...). */
export function voteSubject(group: string): string {
  return `$NRG.V.${group}`;
}

export function appendSubject(group: string): string {
  return `$NRG.AE.${group}`;
}

export function proposalSubject(group: string): string {
  return `$NRG.P.${group}`;
}

export function removePeerSubject(group: string): string {
  return `$NRG.RP.${group}`;
}

export function newReplyInbox(): string {
  return `$NRG.R.${randomToken8()}`;
}

export function newCatchupInbox(): string {
  return `$NRG.CR.${randomToken8()}`;
}

/** `S-R3F-xxxxxxxx` / `C-R1M-...` (jetstream_cluster.go groupName): prefix, replicas, F(ile) or M(emory). */
export function groupName(prefix: 'S' | 'C', replicas: number, storage: 'file' | 'memory'): string {
  return `${prefix}-R${replicas}${storage === 'file' ? 'F' : 'M'}-${randomToken8()}`;
}
