/**
 * NATS JWTs (nats-io/jwt v2): `base64url(header).base64url(claims).base64url(signature)`, the header
 * `{"typ":"JWT","alg":"ed25519-nkey"}`, the signature an ed25519 signature by the issuer's NKey over
 * `header.claims` (version 2) or over `claims` alone (version 1). Decoding checks the header, the
 * signature, the claim type and the issuer's and subject's key types, as jwt.DecodeXClaims does; time
 * checks (exp/nbf) are separate (`timeProblem`), as jwt's Validate is.
 */
import { fromPublic } from '../util/nkeys.js';

/** `allow`/`deny` lists of a JWT (jwt.Permission). */
export interface JwtPermission {
  allow?: string[];
  deny?: string[];
}

/** jwt.Permissions: `resp.ttl` is a Go duration, in nanoseconds. */
export interface JwtPermissions {
  pub?: JwtPermission;
  sub?: JwtPermission;
  resp?: { max?: number; ttl?: number };
}

/** The registered claims every NATS JWT has (jwt.ClaimsData); times in seconds since the epoch. */
export interface ClaimsData {
  jti?: string;
  iat?: number;
  iss: string;
  sub: string;
  name?: string;
  exp?: number;
  nbf?: number;
  aud?: string;
}

export interface OperatorClaims extends ClaimsData {
  nats: {
    type?: string;
    version?: number;
    signing_keys?: string[];
    system_account?: string;
    account_server_url?: string;
    strict_signing_key_usage?: boolean;
    assert_server_version?: string;
  };
}

/** An account's export (jwt.Export). */
export interface JwtExport {
  name?: string;
  subject: string;
  type: string;
  token_req?: boolean;
  response_type?: string;
  /** Activation tokens revoked: importer account (or `*`) → issued at or before (seconds). */
  revocations?: Record<string, number>;
  /** The exported subject carries the importer's account key at this token (1-based). */
  account_token_position?: number;
}

/** An exporter's permission for one account to import (jwt.ActivationClaims). */
export interface ActivationClaims extends ClaimsData {
  nats: {
    /** The subject the import may have (or be contained in). */
    subject?: string;
    /** `stream` or `service`. */
    kind?: string;
    /** Set when a signing key of that account issued it. */
    issuer_account?: string;
    type?: string;
    version?: number;
  };
}

/** An account's import (jwt.Import): `subject` is the exporter's, `local_subject` the importer's. */
export interface JwtImport {
  name?: string;
  subject: string;
  account: string;
  token?: string;
  to?: string;
  local_subject?: string;
  type: string;
}

/** A scoped signing key of an account (jwt.UserScope). */
export interface JwtUserScope {
  kind: string;
  key: string;
  role?: string;
  /** What users this key signs get, in place of their own (jwt.UserPermissionLimits). */
  template?: UserPermissionLimits;
}

/** A user's permissions and limits (jwt.UserPermissionLimits), as a user JWT or a scope's template has them. */
export interface UserPermissionLimits extends JwtPermissions {
  src?: string[] | string;
  times?: unknown[];
  times_location?: string;
  subs?: number;
  data?: number;
  payload?: number;
  bearer_token?: boolean;
  allowed_connection_types?: string[];
}

export interface AccountClaims extends ClaimsData {
  nats: {
    type?: string;
    version?: number;
    tags?: string[];
    /** Plain keys, or scoped keys (objects). */
    signing_keys?: (string | JwtUserScope)[];
    /** User key (or `*`) → revoked for JWTs issued at or before this time (seconds). */
    revocations?: Record<string, number>;
    exports?: JwtExport[];
    imports?: JwtImport[];
    default_permissions?: JwtPermissions;
    limits?: AccountLimits;
    /** Subject mappings (jwt.Mapping): source subject → weighted destinations. */
    mappings?: Record<string, JwtWeightedMapping[]>;
  };
}

/** One destination of an account JWT mapping (jwt.WeightedMapping); a weight of 0 (or none) is 100. */
export interface JwtWeightedMapping {
  subject: string;
  weight?: number;
  cluster?: string;
}

/**
 * An account's operator limits (jwt.OperatorLimits); -1 is no limit. nats-server 2.9 enforces `conn`,
 * `subs` and `payload` (the last two per connection), `leaf`, and `disallow_bearer`.
 */
export interface AccountLimits {
  conn?: number;
  subs?: number;
  payload?: number;
  data?: number;
  leaf?: number;
  /** Counts of imports and exports the account may have, and whether exports may use wildcards. */
  imports?: number;
  exports?: number;
  wildcards?: boolean;
  disallow_bearer?: boolean;
  [key: string]: unknown;
}

export interface UserClaims extends ClaimsData {
  /** Per-connection limits `subs`/`payload`/`data` are jwt.NatsLimits; -1 is no limit. */
  nats: UserPermissionLimits & {
    type?: string;
    version?: number;
    issuer_account?: string;
    tags?: string[];
  };
}

/** Any signed NATS JWT (jwt.GenericClaims): `nats` holds the claim's own fields. */
export interface GenericClaims extends ClaimsData {
  nats: Record<string, unknown>;
}

export class JwtError extends Error {}

type Kind = 'operator' | 'account' | 'user' | 'activation';

/** The NKey prefix character of each kind's subject, and the prefixes its issuer may have. */
const KEYS: Record<Kind, { subject: string; issuers: string }> = {
  operator: { subject: 'O', issuers: 'O' },
  // A self-signed account JWT decodes (jwt's ExpectedPrefixes); it is never trusted.
  account: { subject: 'A', issuers: 'OA' },
  user: { subject: 'U', issuers: 'A' },
  activation: { subject: 'A', issuers: 'OA' },
};

const B64URL = /^[A-Za-z0-9_-]*$/;

function decodeSegment(s: string): Buffer {
  if (!B64URL.test(s)) throw new JwtError('illegal base64 data');
  return Buffer.from(s, 'base64url');
}

/** Whether `key` is a valid public NKey of the given prefix (O, A, U). */
export function isPublicKey(key: unknown, prefix: string): key is string {
  if (typeof key !== 'string' || !key.startsWith(prefix)) return false;
  try {
    fromPublic(key);
    return true;
  } catch {
    return false;
  }
}

function decode(token: string, kind: Kind | undefined): ClaimsData & { nats: Record<string, unknown> } {
  const chunks = token.trim().split('.');
  if (chunks.length !== 3) throw new JwtError('expected 3 chunks');
  const [h, c, s] = chunks as [string, string, string];
  let header: { typ?: unknown; alg?: unknown };
  let claims: ClaimsData & { nats?: Record<string, unknown> };
  try {
    header = JSON.parse(decodeSegment(h).toString('utf8'));
    claims = JSON.parse(decodeSegment(c).toString('utf8'));
  } catch (e) {
    throw e instanceof JwtError ? e : new JwtError(`invalid JSON: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || String(header.typ).toUpperCase() !== 'JWT') {
    throw new JwtError(`not supported type ${JSON.stringify(header?.typ)}`);
  }
  const alg = String(header.alg).toLowerCase();
  if (alg !== 'ed25519' && alg !== 'ed25519-nkey') {
    throw new JwtError(`unexpected ${JSON.stringify(header.alg)} algorithm`);
  }
  if (typeof claims !== 'object' || claims === null) throw new JwtError('claims are not an object');
  const nats = typeof claims.nats === 'object' && claims.nats !== null ? claims.nats : {};
  // Typed claims say their version; a generic claim goes by the header's algorithm (jwt.DecodeGeneric).
  const version =
    kind === undefined ? (alg === 'ed25519' ? 1 : 2) : typeof nats.version === 'number' ? nats.version : 1;
  if (kind !== undefined && version > 2) throw new JwtError(`JWT version ${version} is not supported`);
  const sig = decodeSegment(s);
  const signed = version <= 1 ? c : `${h}.${c}`;
  let ok = false;
  try {
    ok = fromPublic(String(claims.iss)).verify(new TextEncoder().encode(signed), new Uint8Array(sig));
  } catch {
    ok = false;
  }
  if (!ok) throw new JwtError(`claim failed V${version <= 1 ? 1 : 2} signature verification`);
  if (kind === undefined) return { ...claims, nats };
  if (version >= 2 && nats.type !== kind) throw new JwtError(`not ${kind} claim`);
  if (!KEYS[kind].issuers.includes(String(claims.iss).charAt(0))) {
    throw new JwtError(`unable to validate issuer prefix of ${kind} claim`);
  }
  if (!isPublicKey(claims.sub, KEYS[kind].subject)) {
    throw new JwtError(`subject ${JSON.stringify(claims.sub)} is not a valid ${kind} key`);
  }
  return { ...claims, nats };
}

/** Any signed JWT, its signature checked but not its type or keys (jwt.DecodeGeneric). */
export function decodeGenericClaims(token: string): GenericClaims {
  return decode(token, undefined) as GenericClaims;
}

export function decodeOperatorClaims(token: string): OperatorClaims {
  const c = decode(token, 'operator') as OperatorClaims;
  if (c.iss !== c.sub) throw new JwtError('operator JWT must be self-signed');
  return c;
}

export function decodeAccountClaims(token: string): AccountClaims {
  return decode(token, 'account') as AccountClaims;
}

export function decodeActivationClaims(token: string): ActivationClaims {
  return decode(token, 'activation') as ActivationClaims;
}

export function decodeUserClaims(token: string): UserClaims {
  return decode(token, 'user') as UserClaims;
}

/** "claim is expired" / "claim is not yet valid", or undefined (jwt's ClaimsData.Validate). */
export function timeProblem(c: ClaimsData, nowMs = Date.now()): string | undefined {
  const now = Math.floor(nowMs / 1000);
  if (typeof c.exp === 'number' && c.exp > 0 && now > c.exp) return 'claim is expired';
  if (typeof c.nbf === 'number' && c.nbf > 0 && c.nbf > now) return 'claim is not yet valid';
  return undefined;
}

/**
 * The JWT in a file's text (jwt.ParseDecoratedJWT): the first `-----BEGIN ... JWT-----` block of a
 * `.creds`/`.jwt` file, or the whole text trimmed.
 */
export function parseDecoratedJwt(text: string): string {
  const m = /-{3,}[^\n]*JWT[^\n]*-{3,}\r?\n([\s\S]*?)\r?\n\s*-{3,}/.exec(text);
  return (m !== null ? m[1]! : text).trim();
}

/** Revoked: the account revoked this user key (or all, `*`) at or after the JWT was issued. */
export function isRevoked(account: AccountClaims, user: string, issuedAt: number | undefined): boolean {
  return isRevokedIn(account.nats.revocations, user, issuedAt);
}

/** A revocation list (key or `*` → time in seconds) revokes `key`'s JWT issued at `issuedAt`. */
export function isRevokedIn(
  r: Record<string, number> | undefined | null,
  key: string,
  issuedAt: number | undefined,
): boolean {
  if (r === undefined || r === null) return false;
  const iat = issuedAt ?? 0;
  const all = r['*'];
  if (typeof all === 'number' && all >= iat) return true;
  const ts = r[key];
  return typeof ts === 'number' && ts >= iat;
}

/** jwt.Subject.HasWildCards: a `*` or `>` token (tested on the string, as jwt does). */
function hasWildcards(v: string): boolean {
  return (
    v.endsWith('.>') || v.includes('.*.') || v.endsWith('.*') || v.startsWith('*.') || v === '*' || v === '>'
  );
}

/** jwt.Subject.Validate. */
function subjectErrors(v: string): string[] {
  if (v === '') return ['subject cannot be empty'];
  if (v.includes(' ')) return [`subject ${JSON.stringify(v)} cannot have spaces`];
  return [];
}

/**
 * The blocking errors of jwt v2's Account.Validate that nats-server 2.9.10 acts on and tsnats checks:
 * a blank JetStream tier name, the mappings (jwt.Mapping.Validate) and the operator limits on imports,
 * exports and wildcard exports.
 * Any of them makes the account JWT unusable (ErrAccountValidation) and an update refused. An absent
 * limit in a version 2 JWT is 0 (Go's decoding), so imports without `imports: -1` are too many.
 */
export function accountValidationErrors(claims: AccountClaims): string[] {
  const n = claims.nats;
  const errors: string[] = [];
  // OperatorLimits.Validate (its other check, plain and tiered JetStream limits together, cannot fail:
  // jwt's decoder drops the plain ones when there are tiers).
  const tiers = n.limits?.tiered_limits;
  if (typeof tiers === 'object' && tiers !== null && Object.hasOwn(tiers, '')) {
    errors.push('Tiered JetStream Limits can not contain a blank "" tier name');
  }
  for (const [from, list] of Object.entries(n.mappings ?? {})) {
    errors.push(...subjectErrors(from));
    let total = 0;
    for (const wm of Array.isArray(list) ? list : []) {
      const to = String(wm.subject ?? '');
      errors.push(...subjectErrors(to));
      if (hasWildcards(to)) {
        errors.push(
          `Subject ${JSON.stringify(to)} in weighted mapping ${JSON.stringify(from)} is not allowed to contains wildcard`,
        );
      }
      // jwt sums in a uint8.
      total = (total + (wm.weight !== undefined && wm.weight !== 0 ? wm.weight : 100)) & 0xff;
    }
    if (total > 100)
      errors.push(`Mapping ${JSON.stringify(from)} exceeds 100% among all of it's weighted to mappings`);
  }
  // jwt's v1 and v2 decoders both leave an absent limit 0 and `wildcards` false.
  const limits = n.limits ?? {};
  const limit = (x: unknown): number => (typeof x === 'number' ? x : 0);
  const maxImports = limit(limits.imports);
  const maxExports = limit(limits.exports);
  const imports = n.imports?.length ?? 0;
  const exports = n.exports ?? [];
  const tooMany = 'the account contains more imports than allowed by the operator';
  // jwt checks the import count twice, the first time only when some limit is set (Limits.IsEmpty).
  const someLimit = Object.values(limits).some(
    (x) =>
      x !== 0 &&
      x !== false &&
      x !== null &&
      x !== undefined &&
      !(typeof x === 'object' && Object.keys(x).length === 0),
  );
  if (someLimit && maxImports >= 0 && imports > maxImports) errors.push(tooMany);
  if (maxImports !== -1 && imports > maxImports) errors.push(tooMany);
  if (maxExports !== -1) {
    if (exports.length > maxExports)
      errors.push('the account contains more exports than allowed by the operator');
    if (limits.wildcards !== true) {
      for (const e of exports) {
        if (hasWildcards(String(e.subject ?? ''))) {
          errors.push('the account contains wildcard exports that are not allowed by the operator');
        }
      }
    }
  }
  return errors;
}
