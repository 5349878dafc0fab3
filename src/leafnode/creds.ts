/**
 * A `.creds` file (a user JWT and its NKey seed, as `nsc` writes them) for a remote whose hub runs in
 * operator mode: CONNECT carries the JWT and the nonce of the hub's INFO signed with the seed.
 */
import { readFileSync } from 'node:fs';
import { fromSeed } from '../util/nkeys.js';

export interface Creds {
  jwt: string;
  seed: string;
}

/** The blocks of a creds file (nats-server's and the clients' pattern: the line after the dashes). */
const BLOCK = /-{3,}[^\n]*-{3,}\r?\n([\w\-.=]+)\r?\n-{3,}[^\n]*-{3,}/g;

export function readCreds(path: string): Creds {
  const text = readFileSync(path, 'utf8');
  const blocks = [...text.matchAll(BLOCK)].map((m) => m[1]!);
  const jwt = blocks[0];
  const seed = blocks.find((b) => b.startsWith('SU'));
  if (jwt === undefined || seed === undefined) throw new Error(`no user JWT and seed in ${path}`);
  return { jwt, seed };
}

/** The nonce signed with the seed, base64url without padding (as the hub checks `sig`). */
export function signNonce(creds: Creds, nonce: string): string {
  const kp = fromSeed(new TextEncoder().encode(creds.seed));
  return Buffer.from(kp.sign(new TextEncoder().encode(nonce))).toString('base64url');
}
