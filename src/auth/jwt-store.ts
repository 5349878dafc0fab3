/**
 * Account JWTs in a directory, laid out as nats-server's DirJWTStore (server/dirstore.go) does for the
 * full resolver: one `<public key>.jwt` file per account directly in the directory (mode 0640, the
 * directory created 0750), deleted ones renamed to `<public key>.jwt.deleted`. The same directory can be
 * handed from nats-server to tsnats and back.
 *
 * The store keeps an index of the files it tracks (key → sha256 of the JWT), built from the directory at
 * start. Writes go through a temporary file and a rename, so a crash never leaves half a JWT behind.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeGenericClaims, isPublicKey } from './jwt.js';

const EXT = '.jwt';
const FILE_MODE = 0o640;
const DIR_MODE = 0o750;

/** What `delete` does: refuse (nats-server's NoDelete), rename to `.deleted`, or remove the file. */
export type DeleteMode = 'none' | 'rename' | 'hard';

export class JwtStoreError extends Error {}

export class DirJwtStore {
  readonly directory: string;
  /** Tracked keys → sha256 of their JWT (hex). */
  private readonly index = new Map<string, string>();

  constructor(
    dir: string,
    private readonly limit: number,
    readonly deleteMode: DeleteMode,
  ) {
    mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    this.directory = path.resolve(dir);
    for (const name of readdirSync(this.directory)) {
      if (!name.endsWith(EXT)) continue;
      const file = path.join(this.directory, name);
      try {
        if (!statSync(file).isFile()) continue;
        this.index.set(name.slice(0, -EXT.length), sha256(readFileSync(file, 'utf8')));
      } catch {
        // A file that vanished or cannot be read is simply not tracked, as in nats-server.
      }
    }
  }

  private pathFor(key: string): string {
    if (!isPublicKey(key, '')) throw new JwtStoreError('invalid public key');
    return path.join(this.directory, `${key}${EXT}`);
  }

  /** The JWT stored for `key`, or undefined. */
  load(key: string): string | undefined {
    let file: string;
    try {
      file = this.pathFor(key);
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  }

  /** The tracked keys, sorted as nats-server's directory walk lists them, expired JWTs left out. */
  keys(nowMs = Date.now()): string[] {
    const now = Math.floor(nowMs / 1000);
    const out: string[] = [];
    for (const key of [...this.index.keys()].sort()) {
      const jwt = this.load(key);
      if (jwt === undefined) continue;
      try {
        const exp = decodeGenericClaims(jwt).exp;
        if (typeof exp === 'number' && exp > 0 && exp < now) continue;
      } catch {
        // Listed anyway: nats-server only leaves out JWTs it can decode as expired.
      }
      out.push(key);
    }
    return out;
  }

  /**
   * Store `jwt` under `key` (nats-server's save): returns whether the file changed. Throws
   * JwtStoreError "jwt store is full" past the limit.
   */
  save(key: string, jwt: string): boolean {
    const file = this.pathFor(key);
    const hash = sha256(jwt);
    const old = this.index.get(key);
    if (old === hash) return false;
    if (old === undefined && this.limit > 0 && this.index.size >= this.limit) {
      throw new JwtStoreError('jwt store is full');
    }
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, jwt, { mode: FILE_MODE });
    renameSync(tmp, file);
    this.index.set(key, hash);
    return true;
  }

  /**
   * Store `jwt` unless the stored one is the same JWT (same `jti`) or was issued later (nats-server's
   * saveIfNewer, used for preloads). Returns whether the file changed.
   */
  saveIfNewer(key: string, jwt: string): boolean {
    const existing = this.load(key);
    if (existing !== undefined) {
      const next = decodeGenericClaims(jwt);
      let prev: ReturnType<typeof decodeGenericClaims> | undefined;
      try {
        prev = decodeGenericClaims(existing);
      } catch {
        prev = undefined;
      }
      if (prev !== undefined) {
        if (prev.jti !== undefined && prev.jti === next.jti) return false;
        if ((prev.iat ?? 0) > (next.iat ?? 0)) return false;
        if (next.sub !== key) throw new JwtStoreError('jwt subject nkey and provided nkey do not match');
        if (prev.sub !== next.sub) throw new JwtStoreError('subject of existing and new jwt do not match');
      }
    }
    return this.save(key, jwt);
  }

  /** Delete the JWT of `key` as configured; false when there was none. */
  delete(key: string): boolean {
    if (this.deleteMode === 'none') throw new JwtStoreError('store is not set up to for delete');
    const file = this.pathFor(key);
    try {
      if (this.deleteMode === 'rename') renameSync(file, `${file}.deleted`);
      else rmSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    this.index.delete(key);
    return true;
  }
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
