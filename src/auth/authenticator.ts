import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as Bcrypt from 'bcryptjs';
import { fromPublic } from '../util/nkeys.js';
import { OperatorTrust } from './operator.js';
import type { AuthorizationConfig, NkeyUserConfig, Permissions, UserConfig } from './types.js';

/** What a client presents in CONNECT. */
export interface Credentials {
  user?: string | undefined;
  pass?: string | undefined;
  auth_token?: string | undefined;
  nkey?: string | undefined;
  sig?: string | undefined;
  /** A user JWT (operator mode). */
  jwt?: string | undefined;
}

/** Who a client turned out to be. */
export interface Identity {
  /** The user name or nkey, for /connz `authorized_user` (never the secret). */
  name: string;
  account: string | undefined;
  permissions: Permissions | undefined;
  /** Operator mode: when the user JWT expires (ms since the epoch). */
  expiresAt?: number | undefined;
  /** Operator mode: the user JWT's limits (-1: none). */
  jwtLimits?: { maxSubs: number; maxPayload: number } | undefined;
  /**
   * Who vouches for the user, as system events show it (nats-server's issuerForClient): the signing
   * key of a user JWT issued by one, else the account; for an NKey user, its account.
   */
  issuerKey?: string | undefined;
  /** Operator mode: the user JWT's `name` and `tags` (nats-server's nameTag and tags). */
  nameTag?: string | undefined;
  tags?: readonly string[] | undefined;
}

/** Length of the nonce sent in INFO when NKey users exist (nats-server's nonceLen). */
const NONCE_LEN = 22;

function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

/** How a client connected, as `allowed_connection_types` names it (nats-server's jwt.ConnectionType*). */
export type ConnectionType = 'STANDARD' | 'WEBSOCKET' | 'LEAFNODE';

/**
 * Authentication settings that replace the server's for one kind of connection: a `websocket {}` block
 * with its own user, token or `no_auth_user` (nats-server's authOverride).
 */
export interface AuthOverride {
  user: string;
  password: string;
  token: string;
  noAuthUser: string;
}

/** What authentication needs to know about the connection besides its CONNECT. */
export interface AuthContext {
  connectionType: ConnectionType;
  /** The kind's own settings (websocket), when it has some. */
  override?: AuthOverride | undefined;
  /** TLS `verify_and_map` of the listener the client came through; the server's when absent. */
  verifyAndMap?: boolean;
}

const STANDARD: AuthContext = { connectionType: 'STANDARD' };

/** `allowed_connection_types`: an empty list allows every kind. */
export function connectionTypeAllowed(types: string[] | undefined, kind: ConnectionType): boolean {
  return types === undefined || types.length === 0 || types.some((t) => t.toUpperCase() === kind);
}

function isBcrypt(s: string): boolean {
  return s.startsWith('$2a$') || s.startsWith('$2b$') || s.startsWith('$2y$');
}

/** bcryptjs, loaded with the first bcrypt password checked (most servers have none). */
let bcrypt: typeof Bcrypt | undefined;
function bcryptjs(): typeof Bcrypt {
  bcrypt ??= createRequire(import.meta.url)('bcryptjs') as typeof Bcrypt;
  return bcrypt;
}

/** Compare a presented secret with a configured one, plain or bcrypt-hashed. */
export async function secretMatches(given: string, configured: string): Promise<boolean> {
  if (isBcrypt(configured)) return bcryptjs().compare(given, configured);
  return safeEqual(given, configured);
}

function decodeSig(sig: string): Uint8Array | undefined {
  // nats-server accepts raw URL-safe base64 and falls back to standard base64.
  const b = Buffer.from(sig.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return b.length > 0 ? new Uint8Array(b) : undefined;
}

/**
 * Checks CONNECT credentials the way nats-server's processClientOrLeafAuthentication does for the
 * configured methods: NKey users (signed nonce), users (plain or bcrypt passwords, `no_auth_user`), a
 * single user/password, or a token. Password checks are asynchronous so bcrypt never blocks the server.
 */
export class Authenticator {
  private config: AuthorizationConfig;
  private users = new Map<string, UserConfig>();
  private nkeys = new Map<string, NkeyUserConfig>();
  /** Operator mode: the trusted operators and accounts; users authenticate with JWTs only. */
  operator: OperatorTrust | undefined;
  /** Why the last operator-mode authentication failed (nats-server's debug line), for the log. */
  onReject: ((reason: string) => void) | undefined;

  constructor(
    config: AuthorizationConfig,
    /** TLS `verify_and_map`: users are found by their client certificate. */
    private readonly verifyAndMap = false,
  ) {
    this.config = config;
    this.update(config);
  }

  update(config: AuthorizationConfig): void {
    this.config = config;
    this.users = new Map(config.users.map((u) => [u.user, u]));
    this.nkeys = new Map(config.nkeys.map((n) => [n.nkey, n]));
    // On reload the same operators and resolver keep their trust (the resolver's directory, the accounts
    // known); what else changed is applied by reload() (see reload.ts).
    const keep =
      this.operator !== undefined &&
      config.operator !== undefined &&
      this.operator.sameTrust(config.operator);
    if (!keep) this.operator = config.operator !== undefined ? new OperatorTrust(config.operator) : undefined;
  }

  /** Clients must authenticate (INFO `auth_required`). */
  get required(): boolean {
    const c = this.config;
    return (
      this.operator !== undefined ||
      c.token !== '' ||
      c.user !== '' ||
      this.users.size > 0 ||
      this.nkeys.size > 0
    );
  }

  /** Clients of this kind must authenticate: the server requires it, or the kind has its own settings. */
  requiredFor(ctx: AuthContext): boolean {
    return this.required || ctx.override !== undefined;
  }

  /** NKey users exist, so INFO carries a nonce for the client to sign. */
  get nonceRequired(): boolean {
    return this.operator !== undefined || this.nkeys.size > 0;
  }

  newNonce(): string {
    return randomBytes(NONCE_LEN).toString('base64url').slice(0, NONCE_LEN);
  }

  /** The user clients without credentials are logged in as, if configured and known. */
  noAuthUser(ctx: AuthContext = STANDARD): UserConfig | undefined {
    const name = ctx.override !== undefined ? ctx.override.noAuthUser : this.config.noAuthUser;
    return name !== '' ? this.users.get(name) : undefined;
  }

  /** Resolve credentials to an identity, or undefined when authentication fails. */
  async authenticate(
    cr: Credentials,
    nonce: string,
    certIdentities: string[] = [],
    ctx: AuthContext = STANDARD,
    /** The client's address (a user JWT's `src`). */
    host = '',
  ): Promise<Identity | undefined> {
    const cfg = this.config;
    const kind = ctx.connectionType;
    if (!this.requiredFor(ctx)) return { name: '', account: undefined, permissions: undefined };
    if (this.operator !== undefined) {
      // Operator mode: a user JWT is required, whatever else is configured (nats-server's trustedKeys).
      // An account only another server has is fetched first (the full resolver).
      await this.operator.prefetch(cr.jwt);
      const r = this.operator.authenticate(cr.jwt, cr.sig, nonce, kind, host);
      if (!r.ok) {
        this.onReject?.(r.reason);
        return undefined;
      }
      const { user, account, permissions, expiresAt, maxSubs, maxPayload, issuerKey, nameTag, tags } =
        r.identity;
      return {
        name: user,
        account,
        permissions,
        expiresAt,
        jwtLimits: { maxSubs, maxPayload },
        issuerKey,
        nameTag,
        tags,
      };
    }
    if (ctx.verifyAndMap ?? this.verifyAndMap) {
      // TLS verify_and_map: the verified certificate names the user; no password.
      for (const id of certIdentities) {
        const u = this.users.get(id);
        if (u !== undefined && connectionTypeAllowed(u.allowedConnectionTypes, kind))
          return { name: u.user, account: u.account, permissions: u.permissions ?? cfg.defaultPermissions };
      }
      return undefined;
    }
    if (this.nkeys.size > 0 && cr.nkey !== undefined && cr.nkey !== '') {
      const nk = this.nkeys.get(cr.nkey);
      if (nk === undefined || cr.sig === undefined || nonce === '') return undefined;
      if (!connectionTypeAllowed(nk.allowedConnectionTypes, kind)) return undefined;
      const sig = decodeSig(cr.sig);
      if (sig === undefined) return undefined;
      try {
        if (!fromPublic(cr.nkey).verify(new TextEncoder().encode(nonce), sig)) return undefined;
      } catch {
        return undefined;
      }
      return {
        name: nk.nkey,
        account: nk.account,
        permissions: nk.permissions ?? cfg.defaultPermissions,
        issuerKey: nk.account,
      };
    }
    if (this.users.size > 0) {
      let name = cr.user ?? '';
      let pass = cr.pass ?? '';
      const noCreds = name === '' && pass === '' && (cr.auth_token ?? '') === '';
      if (noCreds) {
        const na = this.noAuthUser(ctx);
        if (na !== undefined) {
          if (!connectionTypeAllowed(na.allowedConnectionTypes, kind)) return undefined;
          name = na.user;
          pass = na.password;
          return { name, account: na.account, permissions: na.permissions ?? cfg.defaultPermissions };
        }
      }
      if (name !== '') {
        const u = this.users.get(name);
        if (u === undefined || !connectionTypeAllowed(u.allowedConnectionTypes, kind)) return undefined;
        if (!(await secretMatches(pass, u.password))) return undefined;
        return { name: u.user, account: u.account, permissions: u.permissions ?? cfg.defaultPermissions };
      }
    }
    // The single user or token: the kind's own when it has some (they carry no permissions).
    const o = ctx.override;
    const token = o !== undefined ? o.token : cfg.token;
    const user = o !== undefined ? o.user : cfg.user;
    const password = o !== undefined ? o.password : cfg.password;
    const permissions = o !== undefined ? undefined : cfg.permissions;
    if (token !== '') {
      const ok = await secretMatches(cr.auth_token ?? '', token);
      return ok ? { name: '', account: undefined, permissions } : undefined;
    }
    if (user !== '') {
      const ok = (cr.user ?? '') === user && (await secretMatches(cr.pass ?? '', password));
      return ok ? { name: user, account: undefined, permissions } : undefined;
    }
    return undefined;
  }
}
