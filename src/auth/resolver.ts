/**
 * Where account JWTs are found by their public key (nats-server's AccountResolver): in memory
 * (`resolver: MEMORY`, MemAccResolver) or in a directory (`resolver { type: full|cache }`, its
 * DirAccResolver and CacheDirAccResolver over a DirJWTStore).
 */
import type { DirJwtStore } from './jwt-store.js';

/** Where account JWTs are found by their public key (nats-server's AccountResolver). */
export interface AccountResolver {
  fetch(name: string): string | undefined;
  /** Store a preloaded JWT (memory: as is; directory: unless the stored one is newer). */
  store(name: string, jwt: string): void;
}

export class MemoryResolver implements AccountResolver {
  private readonly jwts = new Map<string, string>();
  fetch(name: string): string | undefined {
    return this.jwts.get(name);
  }
  store(name: string, jwt: string): void {
    this.jwts.set(name, jwt);
  }
}

export class DirResolver implements AccountResolver {
  constructor(private readonly dir: DirJwtStore) {}
  fetch(name: string): string | undefined {
    return this.dir.load(name);
  }
  store(name: string, jwt: string): void {
    this.dir.saveIfNewer(name, jwt);
  }
}
