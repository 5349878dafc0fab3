import { timingSafeEqual } from 'node:crypto';
import type { Client } from './client.js';

/** Credentials the server accepts. Empty fields mean that method is not configured. */
export interface AuthConfig {
  /** Single user and password (`--user`/`--pass`). */
  user: string;
  password: string;
  /** Token (`--auth`). */
  token: string;
}

function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

/** Checks CONNECT credentials (nats-server's checkAuthentication for the simple methods). */
export class Authenticator {
  constructor(private config: AuthConfig) {}

  update(config: AuthConfig): void {
    this.config = config;
  }

  /** True when clients must authenticate, so INFO says `auth_required`. */
  get required(): boolean {
    return this.config.token !== '' || this.config.user !== '';
  }

  check(c: Client): boolean {
    const cfg = this.config;
    if (cfg.token !== '') return safeEqual(c.opts.auth_token ?? '', cfg.token);
    if (cfg.user !== '') {
      return safeEqual(c.opts.user ?? '', cfg.user) && safeEqual(c.opts.pass ?? '', cfg.password);
    }
    return true;
  }
}
