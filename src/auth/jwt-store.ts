/**
 * Account JWTs in a directory, laid out as nats-server's DirJWTStore (server/dirstore.go) does for the
 * full resolver: one `<public key>.jwt` file per account directly in the directory (mode 0640, the
 * directory created 0750), deleted ones renamed to `<public key>.jwt.deleted`. The same directory can be
 * handed from nats-server to tsnats and back.
 *
 * The store keeps an index of the files it tracks (key → sha256 of the JWT and when it expires), built
 * from the directory at start, in least-recently-used order. As nats-server's expiring store does, it
 * removes the files of expired JWTs (or, with a `ttl`, of JWTs not used for that long) on a timer, and
 * past its `limit` it refuses new JWTs or, as a cache, evicts the least recently used one. Writes go
 * through a temporary file and a rename, so a crash never leaves half a JWT behind.
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

export interface DirJwtStoreOptions {
  /** Most JWTs held (0: no limit). */
  limit: number;
  deleteMode: DeleteMode;
  /** Past the limit, evict the least recently used JWT (a cache) instead of refusing. */
  evictOnLimit: boolean;
  /** A JWT's file goes this long after it was last stored or loaded (0: when the JWT expires). */
  ttlMs: number;
}

interface Tracked {
  hash: Buffer;
  /** ms since the epoch; Infinity when never. */
  expires: number;
}

/** nats-server's expiry check: every minute at most, every ttl/2 with a shorter ttl. */
const MAX_CHECK_MS = 60_000;

export class DirJwtStore {
  readonly directory: string;
  /** Tracked keys, least recently used first. */
  private readonly index = new Map<string, Tracked>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    dir: string,
    private readonly opts: DirJwtStoreOptions,
  ) {
    mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    this.directory = path.resolve(dir);
    for (const name of readdirSync(this.directory)) {
      if (!name.endsWith(EXT)) continue;
      const file = path.join(this.directory, name);
      try {
        if (!statSync(file).isFile()) continue;
        this.track(name.slice(0, -EXT.length), readFileSync(file, 'utf8'));
      } catch {
        // A file that vanished or cannot be read is simply not tracked, as in nats-server.
      }
    }
    const every = opts.ttlMs > 0 ? Math.min(Math.max(1, opts.ttlMs / 2), MAX_CHECK_MS) : MAX_CHECK_MS;
    this.timer = setInterval(() => this.removeExpired(), every);
    this.timer.unref();
  }

  get deleteMode(): DeleteMode {
    return this.opts.deleteMode;
  }

  /** Stop the expiry timer. */
  close(): void {
    clearInterval(this.timer);
  }

  private track(key: string, jwt: string): void {
    let expires = Number.POSITIVE_INFINITY;
    if (this.opts.ttlMs > 0) expires = Date.now() + this.opts.ttlMs;
    else {
      try {
        const exp = decodeGenericClaims(jwt).exp;
        if (typeof exp === 'number' && exp > 0) expires = exp * 1000;
      } catch {
        // Kept indefinitely, as nats-server does with a JWT it cannot decode.
      }
    }
    this.index.delete(key);
    this.index.set(key, { hash: createHash('sha256').update(jwt).digest(), expires });
  }

  /** A JWT was used: it is the most recently used now, and its ttl starts again. */
  private touch(key: string): void {
    const t = this.index.get(key);
    if (t === undefined) return;
    if (this.opts.ttlMs > 0) t.expires = Date.now() + this.opts.ttlMs;
    this.index.delete(key);
    this.index.set(key, t);
  }

  /** Remove the files of expired JWTs (nats-server's expiration loop). */
  removeExpired(now = Date.now()): void {
    for (const [key, t] of [...this.index]) {
      if (t.expires > now) continue;
      try {
        rmSync(this.pathFor(key));
        this.index.delete(key);
      } catch {
        // Tried again on the next round.
      }
    }
  }

  /**
   * Read the directory again (nats-server's Reload on a configuration reload): files added or changed by
   * hand are tracked, and their keys returned; files removed are no longer tracked.
   */
  reload(): string[] {
    const changed: string[] = [];
    const seen = new Set<string>();
    for (const name of readdirSync(this.directory)) {
      if (!name.endsWith(EXT)) continue;
      const key = name.slice(0, -EXT.length);
      let jwt: string;
      try {
        const file = path.join(this.directory, name);
        if (!statSync(file).isFile()) continue;
        jwt = readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      seen.add(key);
      const before = this.index.get(key);
      this.track(key, jwt);
      if (before === undefined || !before.hash.equals(this.index.get(key)!.hash)) changed.push(key);
    }
    for (const key of [...this.index.keys()]) if (!seen.has(key)) this.index.delete(key);
    return changed;
  }

  /** The XOR of the sha256 of every tracked JWT: equal on servers that hold the same JWTs. */
  hash(): Buffer {
    const out = Buffer.alloc(32);
    for (const t of this.index.values()) for (let i = 0; i < 32; i++) out[i]! ^= t.hash[i]!;
    return out;
  }

  private pathFor(key: string): string {
    if (!isPublicKey(key, '')) throw new JwtStoreError('invalid public key');
    return path.join(this.directory, `${key}${EXT}`);
  }

  /** The JWT stored for `key`, or undefined. */
  load(key: string): string | undefined {
    let jwt: string;
    try {
      jwt = readFileSync(this.pathFor(key), 'utf8');
    } catch {
      return undefined;
    }
    this.touch(key);
    return jwt;
  }

  /** The tracked keys, sorted as nats-server's directory walk lists them, expired JWTs left out. */
  keys(nowMs = Date.now()): string[] {
    const now = Math.floor(nowMs / 1000);
    const out: string[] = [];
    for (const key of [...this.index.keys()].sort()) {
      let jwt: string;
      try {
        jwt = readFileSync(this.pathFor(key), 'utf8');
      } catch {
        continue;
      }
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
    const old = this.index.get(key);
    if (old !== undefined) {
      this.touch(key);
      if (old.hash.equals(createHash('sha256').update(jwt).digest())) return false;
    } else if (this.opts.limit > 0 && this.index.size >= this.opts.limit) {
      if (!this.opts.evictOnLimit) throw new JwtStoreError('jwt store is full');
      // A cache makes room: the least recently used JWT goes.
      const lru = this.index.keys().next().value as string;
      rmSync(this.pathFor(lru), { force: true });
      this.index.delete(lru);
    }
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, jwt, { mode: FILE_MODE });
    renameSync(tmp, file);
    this.track(key, jwt);
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
    if (this.opts.deleteMode === 'none') throw new JwtStoreError('store is not set up to for delete');
    const file = this.pathFor(key);
    try {
      if (this.opts.deleteMode === 'rename') renameSync(file, `${file}.deleted`);
      else rmSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    this.index.delete(key);
    return true;
  }
}
