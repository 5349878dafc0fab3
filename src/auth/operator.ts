/**
 * Operator mode: trust in operators, the accounts they signed (preloaded in memory, nats-server's
 * MemAccResolver) and the user JWTs clients present in CONNECT (nats-server's
 * processClientOrLeafAuthentication JWT path, server/auth.go).
 */

import { subjectIsSubsetMatch } from '../routing/subject.js';
import { fromPublic } from '../util/nkeys.js';
import {
  type AccountClaims,
  decodeAccountClaims,
  decodeOperatorClaims,
  decodeUserClaims,
  isRevoked,
  type JwtPermissions,
  type OperatorClaims,
  timeProblem,
  type UserClaims,
} from './jwt.js';
import type { AccountConfig, ExportConfig, ImportConfig, OperatorModeConfig, Permissions } from './types.js';

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

/** A trusted account: its claims, and its plain signing keys. */
interface TrustedAccount {
  claims: AccountClaims;
  signingKeys: Set<string>;
}

/**
 * The operators and accounts trusted by the server, decoded once. Problems (untrusted or mismatched
 * account JWTs, scoped signing keys, imports that cannot be made) are in `warnings`.
 */
export class OperatorTrust {
  readonly operators: OperatorClaims[];
  /** Keys that may sign accounts: each operator (unless strict_signing_key_usage) and its signing keys. */
  readonly trustedKeys = new Set<string>();
  readonly accounts = new Map<string, TrustedAccount>();
  readonly warnings: string[] = [];

  constructor(config: OperatorModeConfig) {
    this.operators = config.operators.map((j) => decodeOperatorClaims(j));
    for (const op of this.operators) {
      if (op.nats.strict_signing_key_usage !== true) this.trustedKeys.add(op.sub);
      for (const k of op.nats.signing_keys ?? []) this.trustedKeys.add(k);
    }
    for (const [key, jwt] of Object.entries(config.preload)) {
      let claims: AccountClaims;
      try {
        claims = decodeAccountClaims(jwt);
      } catch (e) {
        this.warnings.push(`resolver_preload: account ${key}: invalid account JWT: ${(e as Error).message}`);
        continue;
      }
      if (claims.sub !== key) {
        this.warnings.push(`resolver_preload: account ${key}: JWT subject ${claims.sub} does not match`);
        continue;
      }
      if (!this.trustedKeys.has(claims.iss)) {
        this.warnings.push(`resolver_preload: account ${key}: not signed by a trusted operator`);
        continue;
      }
      const problem = timeProblem(claims);
      if (problem !== undefined) this.warnings.push(`resolver_preload: account ${key}: ${problem}`);
      const signingKeys = new Set<string>();
      for (const sk of claims.nats.signing_keys ?? []) {
        if (typeof sk === 'string') signingKeys.add(sk);
        else
          this.warnings.push(`account ${key}: scoped signing key ${sk.key} is not supported by tsnats yet`);
      }
      this.accounts.set(key, { claims, signingKeys });
    }
  }

  /** The system account the first operator names, if any. */
  get systemAccount(): string | undefined {
    const s = this.operators[0]?.nats.system_account;
    return s !== undefined && s !== '' ? s : undefined;
  }

  /**
   * The trusted accounts as server accounts (named by their public keys) with their exports and the
   * imports an export allows. Exports that need activation tokens are left out (not supported yet).
   */
  accountConfigs(): AccountConfig[] {
    const out = new Map<string, AccountConfig>();
    for (const [name, { claims }] of this.accounts) {
      const exports: ExportConfig[] = [];
      for (const e of claims.nats.exports ?? []) {
        if (e.token_req === true) {
          this.warnings.push(
            `account ${name}: export ${e.subject} requires activation tokens, not supported yet`,
          );
          continue;
        }
        const type = String(e.type).toLowerCase();
        if (type === 'stream') exports.push({ stream: e.subject });
        else if (type === 'service') {
          const rt = e.response_type;
          exports.push({
            service: e.subject,
            ...(rt === 'Stream' || rt === 'Chunked' ? { responseType: rt } : {}),
          });
        }
      }
      out.set(name, { name, users: [], nkeys: [], exports, imports: [] });
    }
    for (const [name, { claims }] of this.accounts) {
      const importer = out.get(name)!;
      for (const i of claims.nats.imports ?? []) {
        const type = String(i.type).toLowerCase();
        const from = out.get(i.account);
        const allowed = from?.exports.some((e) => {
          const exported = type === 'stream' ? e.stream : e.service;
          return (
            exported !== undefined && (exported === i.subject || subjectIsSubsetMatch(i.subject, exported))
          );
        });
        if (from === undefined || allowed !== true) {
          this.warnings.push(`account ${name}: ${type} import ${i.subject} from ${i.account} not authorized`);
          continue;
        }
        let imp: ImportConfig;
        if (type === 'stream') {
          imp = { stream: { account: i.account, subject: i.subject } };
          if (i.local_subject !== undefined && i.local_subject !== '') imp.to = i.local_subject;
          else if (i.to !== undefined && i.to !== '') imp.prefix = i.to;
        } else {
          // nats-server: with local_subject the importer publishes there; else on subject, sent to `to`.
          const local = i.local_subject !== undefined && i.local_subject !== '' ? i.local_subject : i.subject;
          const remote =
            i.local_subject !== undefined && i.local_subject !== '' ? i.subject : i.to || i.subject;
          imp = { service: { account: i.account, subject: remote }, to: local };
        }
        importer.imports.push(imp);
      }
    }
    return [...out.values()];
  }

  /** Check the JWT and nonce signature of a CONNECT. */
  authenticate(
    jwt: string | undefined,
    sig: string | undefined,
    nonce: string,
    kind: string,
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
    const acc = this.accounts.get(name);
    if (acc === undefined) return { ok: false, reason: `Account JWT lookup error: ${name} unknown` };
    if (u.iss !== name && !acc.signingKeys.has(u.iss))
      return { ok: false, reason: 'User JWT issuer is not known' };
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
    const src = u.nats.src;
    if (
      (Array.isArray(src) ? src.length > 0 : typeof src === 'string' && src !== '') ||
      (u.nats.times?.length ?? 0) > 0
    ) {
      // Refused rather than ignored, so a restriction is never silently lifted.
      return { ok: false, reason: 'User JWT src/times restrictions are not supported by tsnats yet' };
    }
    const permissions = permissionsFromJwt(u.nats) ?? permissionsFromJwt(acc.claims.nats.default_permissions);
    const expiresAt = typeof u.exp === 'number' && u.exp > 0 ? u.exp * 1000 : undefined;
    return { ok: true, identity: { user: u.sub, account: name, permissions, expiresAt } };
  }
}
