/**
 * Operator mode: trust in operators, the accounts they signed (found through the account resolver:
 * in memory, nats-server's MemAccResolver, or in a directory, its DirAccResolver) and the user JWTs
 * clients present in CONNECT (nats-server's processClientOrLeafAuthentication JWT path, server/auth.go).
 */

import { fromPublic } from '../util/nkeys.js';
import {
  type AccountClaims,
  accountValidationErrors,
  decodeAccountClaims,
  decodeOperatorClaims,
  decodeUserClaims,
  isPublicKey,
  isRevoked,
  type JwtPermissions,
  type JwtUserScope,
  type OperatorClaims,
  timeProblem,
  type UserClaims,
} from './jwt.js';
import { DirJwtStore } from './jwt-store.js';
import { type AccountResolver, DirResolver, MemoryResolver } from './resolver.js';
import { applyUserTemplate, hasEmptyPermissions } from './scoped-keys.js';
import type { OperatorModeConfig, Permissions, ResolverConfig } from './types.js';
import { srcAllowed, type TimeRange, timesAllowed } from './user-restrictions.js';

/** nats-server's known connection types (jwt.ConnectionType*). */
const KNOWN_CONNECTION_TYPES = new Set([
  'STANDARD',
  'WEBSOCKET',
  'LEAFNODE',
  'LEAFNODE_WS',
  'MQTT',
  'MQTT_WS',
]);

/** Defaults of `resp` when its fields are zero (nats-server's validateResponsePermissions). */
const DEFAULT_RESP_MAX = 1;
const DEFAULT_RESP_EXPIRES_MS = 2 * 60 * 1000;

/** The user a JWT authenticated. */
export interface JwtIdentity {
  /** The user's public key. */
  user: string;
  /** The account's public key (its name in the server). */
  account: string;
  permissions: Permissions | undefined;
  /** When the user JWT expires (ms since the epoch), if it does. */
  expiresAt: number | undefined;
  /** The user JWT's own limits (-1: none): subscriptions and payload per connection. */
  maxSubs: number;
  maxPayload: number;
  /** The signing key that issued the user JWT, or the account when the account itself did. */
  issuerKey: string;
  /** The user JWT's `name` and `tags`. */
  nameTag: string;
  tags: string[];
}

export type JwtAuthResult = { ok: true; identity: JwtIdentity } | { ok: false; reason: string };

/** nats-server's buildPermissionsFromJwt: only what the JWT sets; undefined when it sets nothing. */
export function permissionsFromJwt(p: JwtPermissions | undefined): Permissions | undefined {
  if (p === undefined || p === null) return undefined;
  let out: Permissions | undefined;
  const pub = p.pub ?? {};
  const sub = p.sub ?? {};
  if ((pub.allow?.length ?? 0) > 0 || (pub.deny?.length ?? 0) > 0) {
    out = {
      publish: {
        ...(pub.allow?.length ? { allow: pub.allow } : {}),
        ...(pub.deny?.length ? { deny: pub.deny } : {}),
      },
    };
  }
  if ((sub.allow?.length ?? 0) > 0 || (sub.deny?.length ?? 0) > 0) {
    out ??= {};
    out.subscribe = {
      ...(sub.allow?.length ? { allow: sub.allow } : {}),
      ...(sub.deny?.length ? { deny: sub.deny } : {}),
    };
  }
  if (p.resp !== undefined && p.resp !== null) {
    out ??= {};
    const max = p.resp.max ?? 0;
    const ttlNs = p.resp.ttl ?? 0;
    out.responses = {
      max: max === 0 ? DEFAULT_RESP_MAX : max,
      expires: ttlNs === 0 ? DEFAULT_RESP_EXPIRES_MS : Math.max(1, Math.round(ttlNs / 1e6)),
    };
  }
  return out;
}

function decodeSig(sig: string): Uint8Array | undefined {
  // nats-server tries raw URL-safe base64 first and falls back to standard base64.
  if (!/^[A-Za-z0-9_\-+/]*={0,2}$/.test(sig)) return undefined;
  const b = Buffer.from(sig.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return b.length > 0 ? new Uint8Array(b) : undefined;
}

/** A trusted account: its JWT, claims, plain signing keys and scoped signing keys. */
export interface TrustedAccount {
  jwt: string;
  claims: AccountClaims;
  signingKeys: Set<string>;
  scopes: Map<string, JwtUserScope>;
}

/** How long a failed account lookup is remembered. */
const MISS_TTL_MS = 1000;

/** nats-server's ErrAccountValidation. */
const ACCOUNT_VALIDATION = 'account validation failed';

/**
 * The operators trusted by the server and the accounts they signed, decoded when first asked for and
 * kept until they change. Problems with preloaded account JWTs are in `warnings`.
 */
export class OperatorTrust {
  readonly operators: OperatorClaims[];
  private readonly operatorJwts: string[];
  /** `trusted_keys` as configured (a reload may not change them). */
  private readonly trustedKeyList: string[];
  /** Keys that may sign accounts: each operator (unless strict_signing_key_usage) and its signing keys. */
  readonly trustedKeys = new Set<string>();
  readonly warnings: string[] = [];
  readonly resolverConfig: ResolverConfig;
  readonly resolver: AccountResolver;
  /** The directory of the full or cache resolver. */
  readonly store: DirJwtStore | undefined;
  /** Accounts decoded and verified so far. */
  private readonly accounts = new Map<string, TrustedAccount>();
  /** Names found without a usable JWT, until when (ms) that answer stands. */
  private readonly misses = new Map<string, number>();
  /** Fetches from other servers under way. */
  private readonly fetching = new Map<string, Promise<boolean>>();
  /** `resolver_pinned_accounts`: when set, users of other accounts are refused. */
  pinned: Set<string> | undefined;
  /** Logins refused as not pinned (/varz `pinned_account_fails`). */
  pinnedFails = 0;
  /**
   * The full resolver: asks the other servers for an account JWT missing here (nats-server's
   * DirAccResolver.Fetch), resolving to undefined after its timeout. Set by the server.
   */
  fetcher: ((name: string) => Promise<string | undefined>) | undefined;

  constructor(config: OperatorModeConfig) {
    this.operators = config.operators.map((j) => decodeOperatorClaims(j));
    this.operatorJwts = [...config.operators];
    this.trustedKeyList = [...(config.trustedKeys ?? [])];
    for (const op of this.operators) {
      if (op.nats.strict_signing_key_usage !== true) this.trustedKeys.add(op.sub);
      for (const k of op.nats.signing_keys ?? []) this.trustedKeys.add(k);
    }
    for (const k of config.trustedKeys ?? []) this.trustedKeys.add(k);
    this.resolverConfig = config.resolver ?? { type: 'memory' };
    this.pinned = config.pinnedAccounts !== undefined ? new Set(config.pinnedAccounts) : undefined;
    const rc = this.resolverConfig;
    if (rc.type === 'full') {
      this.store = new DirJwtStore(rc.dir, {
        limit: rc.limit,
        deleteMode: rc.allowDelete ? 'rename' : 'none',
        evictOnLimit: false,
        ttlMs: 0,
      });
      this.resolver = new DirResolver(this.store);
    } else if (rc.type === 'cache') {
      this.store = new DirJwtStore(rc.dir, {
        limit: rc.limit,
        deleteMode: 'hard',
        evictOnLimit: true,
        ttlMs: rc.ttlMs,
      });
      this.resolver = new DirResolver(this.store);
    } else {
      this.resolver = new MemoryResolver();
    }
    this.preload(config.preload);
  }

  /** Store the preloaded JWTs, warning about those that will not be usable (checkResolvePreloads). */
  private preload(preload: Record<string, string>): void {
    for (const [key, jwt] of Object.entries(preload)) {
      const v = this.verify(jwt, key);
      if (typeof v === 'string') {
        this.warnings.push(`resolver_preload: account ${key}: ${v}`);
        // nats-server's checkResolvePreloads lists the validation issues.
        try {
          for (const e of accountValidationErrors(decodeAccountClaims(jwt)))
            this.warnings.push(`resolver_preload: account ${key}:   - ${e}`);
        } catch {
          // Already reported.
        }
      } else {
        const problem = timeProblem(v.claims);
        if (problem !== undefined) this.warnings.push(`resolver_preload: account ${key}: ${problem}`);
      }
      try {
        this.resolver.store(key, jwt);
      } catch (e) {
        this.warnings.push(`resolver_preload: account ${key}: ${(e as Error).message}`);
      }
    }
  }

  /**
   * A configuration reload with the same operators and resolver (nats-server's configureResolver and
   * Reload): new preloads are stored, the pinned accounts replaced, a directory read again. Returns the
   * accounts whose JWT may have changed.
   */
  reload(config: OperatorModeConfig): string[] {
    this.pinned = config.pinnedAccounts !== undefined ? new Set(config.pinnedAccounts) : undefined;
    const before = new Map(Object.keys(config.preload).map((k) => [k, this.resolver.fetch(k)]));
    this.preload(config.preload);
    const changed = new Set<string>(this.store?.reload() ?? []);
    for (const [k, old] of before) if (this.resolver.fetch(k) !== old) changed.add(k);
    for (const k of changed) this.forget(k);
    return [...changed];
  }

  /** Whether `config` names the same operators and resolver (all a reload may not change). */
  sameTrust(config: OperatorModeConfig): boolean {
    return (
      JSON.stringify(config.operators) === JSON.stringify(this.operatorJwts) &&
      JSON.stringify(config.trustedKeys ?? []) === JSON.stringify(this.trustedKeyList) &&
      JSON.stringify(config.resolver ?? { type: 'memory' }) === JSON.stringify(this.resolverConfig)
    );
  }

  /** The system account the first operator names, if any. */
  get systemAccount(): string | undefined {
    const s = this.operators[0]?.nats.system_account;
    return s !== undefined && s !== '' ? s : undefined;
  }

  /** The first operator's key, and whether it may not sign accounts itself (nats-server's getOperatorKeys). */
  get firstOperator(): { key: string; strict: boolean } | undefined {
    const op = this.operators[0];
    return op === undefined ? undefined : { key: op.sub, strict: op.nats.strict_signing_key_usage === true };
  }

  /**
   * Decode and check an account JWT as nats-server's verifyAccountClaims does: signed by a trusted key,
   * not expired, for the expected account. Returns the trusted account or why not.
   */
  verify(jwt: string, name?: string): TrustedAccount | string {
    let claims: AccountClaims;
    try {
      claims = decodeAccountClaims(jwt);
    } catch (e) {
      return `invalid account JWT: ${(e as Error).message}`;
    }
    if (name !== undefined && claims.sub !== name) return `JWT subject ${claims.sub} does not match`;
    if (!this.trustedKeys.has(claims.iss)) return 'not signed by a trusted operator';
    if (timeProblem(claims) === 'claim is expired') return ACCOUNT_VALIDATION;
    if (accountValidationErrors(claims).length > 0) return ACCOUNT_VALIDATION;
    const signingKeys = new Set<string>();
    const scopes = new Map<string, JwtUserScope>();
    for (const sk of claims.nats.signing_keys ?? []) {
      if (typeof sk === 'string') signingKeys.add(sk);
      else if (sk !== null && typeof sk === 'object' && sk.kind === 'user_scope') scopes.set(sk.key, sk);
    }
    return { jwt, claims, signingKeys, scopes };
  }

  /** The trusted account named `name`, fetched from the resolver the first time; undefined if none. */
  account(name: string): TrustedAccount | undefined {
    const known = this.accounts.get(name);
    if (known !== undefined) return known;
    // Routed messages ask for accounts by name, maybe unknown ones, for every message: a miss is
    // remembered for a second rather than read from the directory each time.
    const missed = this.misses.get(name);
    if (missed !== undefined && missed > Date.now()) return undefined;
    const jwt = isPublicKey(name, 'A') ? this.resolver.fetch(name) : undefined;
    const v = jwt !== undefined ? this.verify(jwt, name) : 'no JWT';
    if (typeof v === 'string') {
      this.misses.set(name, Date.now() + MISS_TTL_MS);
      return undefined;
    }
    this.misses.delete(name);
    this.accounts.set(name, v);
    return v;
  }

  /**
   * Make sure the account a user JWT belongs to is here if another server has it: fetch it and store it
   * (unless a newer one arrived meanwhile). Nothing to do when it is known or there is no fetcher.
   */
  async prefetch(userJwt: string | undefined): Promise<void> {
    if (this.fetcher === undefined || userJwt === undefined || userJwt === '') return;
    let name: string;
    try {
      const u = decodeUserClaims(userJwt);
      name =
        u.nats.issuer_account !== undefined && u.nats.issuer_account !== '' ? u.nats.issuer_account : u.iss;
    } catch {
      return;
    }
    await this.fetchAccount(name);
  }

  /**
   * Fetch the JWT of `name` from the other servers unless it is here, and store it. Resolves to whether
   * a JWT was fetched; concurrent fetches of one account share one request.
   */
  fetchAccount(name: string): Promise<boolean> {
    const fetcher = this.fetcher;
    if (
      fetcher === undefined ||
      this.account(name) !== undefined ||
      this.resolver.fetch(name) !== undefined
    ) {
      return Promise.resolve(false);
    }
    const pending = this.fetching.get(name);
    if (pending !== undefined) return pending;
    const p = fetcher(name).then((jwt) => {
      this.fetching.delete(name);
      if (jwt === undefined) return false;
      try {
        this.resolver.store(name, jwt);
        this.misses.delete(name);
        return true;
      } catch (e) {
        this.warnings.push(`fetched account ${name}: ${(e as Error).message}`);
        return false;
      }
    });
    this.fetching.set(name, p);
    return p;
  }

  /** Use `acc` for its account from now on (a claims update that verified). */
  replace(acc: TrustedAccount): void {
    this.accounts.set(acc.claims.sub, acc);
  }

  /** Forget what is known about `name` (its JWT changed or was deleted). */
  forget(name: string): void {
    this.accounts.delete(name);
    this.misses.delete(name);
  }

  /** Check the JWT and nonce signature of a CONNECT. */
  authenticate(
    jwt: string | undefined,
    sig: string | undefined,
    nonce: string,
    kind: string,
    /** The client's address, for `src`. */
    host = '',
    nowMs = Date.now(),
  ): JwtAuthResult {
    if (jwt === undefined || jwt === '') return { ok: false, reason: 'Authentication requires a user JWT' };
    let u: UserClaims;
    try {
      u = decodeUserClaims(jwt);
    } catch (e) {
      return { ok: false, reason: `User JWT not valid: ${(e as Error).message}` };
    }
    const tp = timeProblem(u, nowMs);
    if (tp !== undefined) return { ok: false, reason: `User JWT no longer valid: ${tp}` };
    const types = u.nats.allowed_connection_types ?? [];
    const known = types.map((t) => t.toUpperCase()).filter((t) => KNOWN_CONNECTION_TYPES.has(t));
    if (types.length > 0 && known.length === 0) return { ok: false, reason: 'no known connection type' };
    if (known.length > 0 && !known.includes(kind))
      return { ok: false, reason: 'Connection type not allowed' };
    const issuerAccount = u.nats.issuer_account;
    const name = issuerAccount !== undefined && issuerAccount !== '' ? issuerAccount : u.iss;
    if (this.pinned !== undefined && !this.pinned.has(name)) {
      this.pinnedFails++;
      return { ok: false, reason: `Account ${name} not listed as operator pinned account` };
    }
    const acc = this.account(name);
    if (acc === undefined) return { ok: false, reason: `Account JWT lookup error: ${name} unknown` };
    if (u.iss !== name && !acc.signingKeys.has(u.iss)) {
      const scope = acc.scopes.get(u.iss);
      if (scope === undefined) return { ok: false, reason: 'User JWT issuer is not known' };
      // A scoped signing key: the user gets the scope's template in place of its own (empty) claims.
      if (!hasEmptyPermissions(u))
        return {
          ok: false,
          reason: 'User JWT is not valid: scoped users require no permissions or limits set',
        };
      const t = applyUserTemplate(scope.template ?? {}, u, acc.claims);
      if (typeof t === 'string') return { ok: false, reason: 'User JWT generated invalid permissions' };
      // Template limits left out are no limit (jwt.NewUserScope starts from -1).
      u = {
        ...u,
        nats: { ...u.nats, ...t, subs: t.subs ?? -1, data: t.data ?? -1, payload: t.payload ?? -1 },
      };
    }
    if (timeProblem(acc.claims, nowMs) === 'claim is expired')
      return { ok: false, reason: 'Account JWT has expired' };
    const bearer = u.nats.bearer_token === true;
    if (bearer && acc.claims.nats.limits?.disallow_bearer === true) {
      return { ok: false, reason: 'Account does not allow bearer token' };
    }
    if (!bearer) {
      if (sig === undefined || sig === '') return { ok: false, reason: 'Signature missing' };
      const raw = decodeSig(sig);
      if (raw === undefined || nonce === '') return { ok: false, reason: 'Signature not valid base64' };
      let verified = false;
      try {
        verified = fromPublic(u.sub).verify(new TextEncoder().encode(nonce), raw);
      } catch {
        verified = false;
      }
      if (!verified) return { ok: false, reason: 'Signature not verified' };
    }
    if (isRevoked(acc.claims, u.sub, u.iat)) return { ok: false, reason: 'User authentication revoked' };
    if (!srcAllowed(u.nats.src, host)) return { ok: false, reason: `Bad src Ip ${host}` };
    const times = timesAllowed(u.nats.times as TimeRange[] | undefined, u.nats.times_location, nowMs);
    if (!times.allowed) return { ok: false, reason: 'Outside connect times' };
    const permissions = permissionsFromJwt(u.nats) ?? permissionsFromJwt(acc.claims.nats.default_permissions);
    // The connection ends with the JWT or with its connect-time window, whichever comes first.
    let expiresAt = typeof u.exp === 'number' && u.exp > 0 ? u.exp * 1000 : undefined;
    if (times.validForMs > 0)
      expiresAt = Math.min(expiresAt ?? Number.POSITIVE_INFINITY, nowMs + times.validForMs);
    return {
      ok: true,
      identity: {
        user: u.sub,
        account: name,
        permissions,
        expiresAt,
        maxSubs: limitOf(u.nats.subs, u.nats.version),
        maxPayload: limitOf(u.nats.payload, u.nats.version),
        // nats-server's buildInternalNkeyUser: the signing key only when `issuer_account` names the account.
        issuerKey: issuerAccount !== undefined && issuerAccount !== '' ? u.iss : name,
        nameTag: typeof u.name === 'string' ? u.name : '',
        tags: Array.isArray(u.nats.tags) ? u.nats.tags.filter((t) => typeof t === 'string') : [],
      },
    };
  }
}

/**
 * A JWT limit as a number (-1: no limit). An absent one is 0 in a version 2 JWT, as Go's JSON decoding
 * leaves it (nsc always writes -1), and no limit in a version 1 JWT, which jwt's v1 decoder defaults.
 */
export function limitOf(v: unknown, version: number | undefined): number {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  return (version ?? 1) >= 2 ? 0 : -1;
}
