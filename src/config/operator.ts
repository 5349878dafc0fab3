/**
 * Operator mode keys: `operator` (and its aliases), `resolver` (MEMORY, or a `{ type: full }` block) and
 * `resolver_preload`, with nats-server's messages (server/opts.go, jwt.go readOperatorJWT and
 * validateTrustedOperators).
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  decodeAccountClaims,
  decodeOperatorClaims,
  isPublicKey,
  type OperatorClaims,
  parseDecoratedJwt,
} from '../auth/jwt.js';
import { type AuthorizationConfig, emptyAuthorization, type ResolverConfig } from '../auth/types.js';
import { parseGoDurationNanos } from '../conf/duration.js';
import type { ConfMap } from '../conf/types.js';
import { VERSION } from '../server/version.js';
import { type ConfigField, type ConfigReader, describeValue, isConfMap } from './reader.js';

/** Config keys nats-server reads as the trusted operators. */
export const OPERATOR_KEYS = ['operator', 'operators', 'root', 'roots', 'root_operator', 'root_operators'];
/** Config keys nats-server reads as the account resolver. */
export const RESOLVER_KEYS = ['resolver', 'account_resolver', 'accounts_resolver'];

const SUPPORTED = 'tsnats supports resolver: MEMORY and resolver { type: full|cache }';

/** The cache resolver's default `limit` (NewCacheDirAccResolver). */
const DEFAULT_CACHE_LIMIT = 1000;

/** nats-server's DEFAULT_ACCOUNT_FETCH_TIMEOUT. */
const DEFAULT_FETCH_TIMEOUT_MS = 1900;
/** The full resolver's default `interval` (NewDirAccResolver). */
const DEFAULT_SYNC_INTERVAL_MS = 60_000;

/** What the operator-mode keys of one file said. */
export class OperatorState {
  field: ConfigField | undefined;
  operators: { jwt: string; claims: OperatorClaims }[] = [];
  resolverField: ConfigField | undefined;
  /** The resolver configured, undefined when none (or when its block named no type). */
  resolver: ResolverConfig | undefined;
  preload: Record<string, string> | undefined;
  /** `resolver_pinned_accounts`. */
  pinned: string[] | undefined;
  pinnedField: ConfigField | undefined;
  /** `trusted_keys` (alias `trusted`): operator keys trusted without operator JWTs. */
  trustedKeys: string[] | undefined;
  trustedField: ConfigField | undefined;
}

/** nats-server's readOperatorJWT: a file, or the JWT inline (it starts with `eyJ`). */
function readOperatorJwt(r: ConfigReader, name: string): string {
  const file = path.isAbsolute(name) || r.file === '' ? name : path.resolve(path.dirname(r.file), name);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (!name.startsWith('eyJ')) throw err;
    text = name;
  }
  return parseDecoratedJwt(text);
}

export function parseOperatorKey(r: ConfigReader, f: ConfigField, state: OperatorState): void {
  const v = f.value;
  if (typeof v !== 'string' && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) {
    r.fail(f, `error parsing operators: unsupported type ${describeValue(v)}`);
  }
  const names = typeof v === 'string' ? [v] : (v as string[]);
  state.field = f;
  state.operators = [];
  for (const name of names) {
    try {
      const jwt = readOperatorJwt(r, name);
      state.operators.push({ jwt, claims: decodeOperatorClaims(jwt) });
    } catch (err) {
      r.error(f, `error parsing operator JWT: ${(err as Error).message}`);
    }
  }
}

export function parseResolverKey(r: ConfigReader, f: ConfigField, state: OperatorState): void {
  const v = f.value;
  state.resolverField = f;
  state.resolver = undefined;
  if (typeof v === 'string') {
    // nats-server's pattern is not anchored: any value mentioning MEM is the memory resolver.
    if (/(MEM|MEMORY)\s*/i.test(v)) {
      state.resolver = { type: 'memory' };
      return;
    }
    if (/^\s*URL/i.test(v))
      r.fail(f, `${f.path}: the URL account resolver is not supported by tsnats yet (${SUPPORTED})`);
    r.fail(f, `${f.path}: unknown account resolver ${JSON.stringify(v)} (${SUPPORTED})`);
  }
  if (isConfMap(v)) {
    state.resolver = parseResolverBlock(r, f, v);
    if (state.resolver === undefined) {
      r.fail(
        f,
        'error parsing account resolver, should be MEM or  URL("url") or a map containing dir and type state=[FULL|CACHE])',
      );
    }
    return;
  }
  r.fail(f, `error parsing operator resolver, wrong type ${describeValue(v)}`);
}

/** A Go duration string of a resolver block, in ms. */
function durationMs(r: ConfigReader, f: ConfigField, v: unknown, key: string): number {
  if (typeof v !== 'string')
    r.fail(f, `${f.path}.${key}: expected a duration string, got ${describeValue(v as never)}`);
  try {
    return Number(parseGoDurationNanos(v) / 1_000_000n);
  } catch (e) {
    return r.fail(f, (e as Error).message);
  }
}

/**
 * `resolver { type, dir, allow_delete, limit, ttl, interval, timeout }` as nats-server's opts.go reads it
 * (keys matched exactly; unknown ones ignored). A block without a known type configures no resolver.
 */
function parseResolverBlock(r: ConfigReader, f: ConfigField, m: ConfMap): ResolverConfig | undefined {
  const str = (key: string): string => {
    const x = m[key];
    if (x === undefined) return '';
    if (typeof x !== 'string') r.fail(f, `${f.path}.${key}: expected a string, got ${describeValue(x)}`);
    return x;
  };
  const dir = str('dir');
  const type = str('type');
  const del = m.allow_delete;
  if (del !== undefined && typeof del !== 'boolean')
    r.fail(f, `${f.path}.allow_delete: expected a boolean, got ${describeValue(del)}`);
  const lim = m.limit;
  if (lim !== undefined && !(typeof lim === 'number' && Number.isInteger(lim)))
    r.fail(f, `${f.path}.limit: expected an integer, got ${describeValue(lim)}`);
  const ttl = m.ttl !== undefined ? durationMs(r, f, m.ttl, 'ttl') : 0;
  const interval = m.interval !== undefined ? durationMs(r, f, m.interval, 'interval') : 0;
  const timeout = m.timeout !== undefined ? durationMs(r, f, m.timeout, 'timeout') : DEFAULT_FETCH_TIMEOUT_MS;
  if (m.timeout !== undefined && timeout <= 0) r.fail(f, `Fetch timeout ${m.timeout} is too smal`);
  if (dir === '') r.fail(f, 'dir has no value and needs to point to a directory');
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(dir);
  } catch {
    st = undefined;
  }
  // nats-server wants a directory its owner may write to (the 0200 bit).
  if (st !== undefined && (!st.isDirectory() || (st.mode & 0o200) === 0))
    r.fail(f, 'dir needs to point to an accessible directory');
  switch (type.toUpperCase()) {
    case 'CACHE':
      if (interval !== 0) r.fail(f, 'CACHE does not accept sync');
      if (del === true) r.fail(f, 'CACHE does not accept allow_delete');
      return {
        type: 'cache',
        dir,
        limit: typeof lim === 'number' && lim > 0 ? lim : DEFAULT_CACHE_LIMIT,
        ttlMs: ttl,
        timeoutMs: timeout,
      };
    case 'FULL':
      if (ttl !== 0) r.fail(f, 'FULL does not accept ttl');
      return {
        type: 'full',
        dir,
        allowDelete: del === true,
        limit: typeof lim === 'number' && lim > 0 ? lim : 0,
        intervalMs: interval > 0 ? interval : DEFAULT_SYNC_INTERVAL_MS,
        timeoutMs: timeout,
      };
  }
  return undefined;
}

export function parseResolverPreload(r: ConfigReader, f: ConfigField, state: OperatorState): void {
  if (!isConfMap(f.value)) r.fail(f, 'preload should be a map of account_public_key:account_jwt');
  const map = f.value;
  const preload: Record<string, string> = {};
  for (const key of Object.keys(map)) {
    const kf = r.field(map, key, f.path);
    if (typeof kf.value !== 'string') {
      r.error(kf, 'preload map value should be a string JWT');
      continue;
    }
    try {
      decodeAccountClaims(kf.value);
    } catch {
      r.error(kf, 'invalid account JWT');
      continue;
    }
    preload[key] = kf.value;
  }
  state.preload = preload;
}

/** An operator's `assert_server_version` this server (nats-server 2.9.10) does not meet. */
function serverVersionProblem(op: OperatorClaims): string | undefined {
  const v = op.nats.assert_server_version ?? '';
  if (v === '') return undefined;
  const split = v.split('.');
  const prefix = `operator ${op.sub} expects version ${v} got error instead: `;
  if (split.length !== 3)
    return `${prefix}asserted server version must be of the form <major>.<minor>.<update>`;
  const want: number[] = [];
  for (const part of split) {
    if (!/^[+-]?\d+$/.test(part)) return `${prefix}asserted server version cant parse ${part} to int`;
    want.push(Number(part));
  }
  if (want.some((n) => n < 0)) return `${prefix}asserted server version can'b contain negative values: ${v}`;
  const have = VERSION.split('.').map(Number);
  const names = ['major', 'minor', 'update'];
  for (let i = 0; i < 3; i++) {
    if (want[i]! > have[i]!) {
      return `operator ${op.sub} expected ${names[i]} version ${want[i]} > server ${names[i]} version ${have[i]}`;
    }
    if (have[i]! > want[i]!) return undefined;
  }
  return undefined;
}

/**
 * `trusted_keys` (alias `trusted`): one operator public key or a list (nats-server's opts.go; its
 * messages, each bad key reported where the value ends, as nats-server reports it).
 */
export function parseTrustedKeys(r: ConfigReader, f: ConfigField, state: OperatorState): void {
  const v = f.value;
  state.trustedField = f;
  let keys: string[];
  let last: ConfigField = f;
  if (typeof v === 'string') {
    keys = [v];
  } else if (Array.isArray(v)) {
    keys = [];
    for (const ef of r.elements(f, v)) {
      last = ef;
      if (typeof ef.value === 'string') keys.push(ef.value);
      else r.error(ef, `error parsing trusted: unsupported type in array ${describeValue(ef.value)}`);
    }
  } else {
    r.fail(f, `error parsing trusted: unsupported type ${describeValue(v)}`);
  }
  state.trustedKeys = keys;
  for (const key of keys) {
    if (!isPublicKey(key, 'O'))
      r.error(last, `trust key "${key}" required to be a valid public operator nkey`);
  }
}

/** `resolver_pinned_accounts`: one key or a list (nats-server's opts.go). */
export function parsePinnedAccounts(r: ConfigReader, f: ConfigField, state: OperatorState): void {
  const v = f.value;
  state.pinnedField = f;
  if (typeof v === 'string') {
    state.pinned = [v];
    return;
  }
  if (!Array.isArray(v))
    r.fail(f, `error parsing resolver_pinned_accounts: unsupported type ${describeValue(v)}`);
  const keys: string[] = [];
  for (const ef of r.elements(f, v)) {
    if (typeof ef.value === 'string') keys.push(ef.value);
    else
      r.error(
        ef,
        `error parsing resolver_pinned_accounts: unsupported type in array ${describeValue(ef.value)}`,
      );
  }
  state.pinned = keys;
}

/**
 * nats-server's validateTrustedOperators: a resolver is required, no accounts or users are configured
 * directly, and `system_account` agrees with the operators'. Adds the operator mode to `authz` and the
 * operator's system account to the config when none is configured.
 */
export function finishOperator(
  r: ConfigReader,
  state: OperatorState,
  authz: AuthorizationConfig | undefined,
): AuthorizationConfig | undefined {
  const f = state.field;
  if (f === undefined || state.operators.length === 0) return finishTrustedKeys(r, state, authz);
  if (state.resolver === undefined) {
    r.error(f, 'operators require an account resolver to be configured');
    return authz;
  }
  if (authz !== undefined && authz.accounts.length > 0) {
    r.error(f, 'operators do not allow Accounts to be configured directly');
  }
  if (authz !== undefined && (authz.users.length > 0 || authz.nkeys.length > 0)) {
    r.error(f, 'operators do not allow users to be configured directly');
  }
  if (state.trustedKeys !== undefined && state.trustedKeys.length > 0) {
    r.error(f, "conflicting options for 'TrustedKeys' and 'TrustedOperators'");
  }
  const c = r.config;
  if (c.systemAccount === undefined && state.operators.length === 1) {
    const sys = state.operators[0]!.claims.nats.system_account;
    if (sys !== undefined && sys !== '') c.systemAccount = sys;
  } else if (c.systemAccount !== undefined) {
    const named = state.operators.map((o) => o.claims.nats.system_account ?? '').filter((s) => s !== '');
    if (named.length > 0 && !named.includes(c.systemAccount)) {
      r.error(f, 'system_account in config and operator JWT must be identical');
    }
  }
  if (c.systemAccount === undefined && state.resolver !== undefined && state.resolver.type !== 'memory') {
    r.error(
      f,
      'using nats based account resolver - the system account needs to be specified in configuration or the operator jwt',
    );
  }
  for (const { claims } of state.operators) {
    const problem = serverVersionProblem(claims);
    if (problem !== undefined) r.error(f, problem);
  }
  // Pinned accounts must be account keys; the system account may always connect.
  let pinned: string[] | undefined;
  if (state.pinned !== undefined && state.pinned.length > 0) {
    for (const key of state.pinned) {
      if (!isPublicKey(key, 'A'))
        r.error(state.pinnedField ?? f, `pinned account key "${key}" is not a valid public account nkey`);
    }
    pinned = [...state.pinned];
    if (c.systemAccount !== undefined && !pinned.includes(c.systemAccount)) pinned.push(c.systemAccount);
  }
  return {
    ...(authz ?? emptyAuthorization()),
    operator: {
      operators: state.operators.map((o) => o.jwt),
      preload: state.preload ?? {},
      resolver: state.resolver,
      ...(pinned !== undefined ? { pinnedAccounts: pinned } : {}),
    },
  };
}

/**
 * `trusted_keys` without operators: nats-server's validateTrustedOperators checks nothing then (no
 * resolver is required; without one no account is found and every login fails), and the server trusts
 * the keys for account JWTs and asks every client for a user JWT. Pinned accounts apply as with
 * operators. Only `resolver: MEMORY` works.
 */
function finishTrustedKeys(
  r: ConfigReader,
  state: OperatorState,
  authz: AuthorizationConfig | undefined,
): AuthorizationConfig | undefined {
  const keys = state.trustedKeys;
  // An empty list trusts nothing and asks nothing: nats-server copies it with append([]string(nil), ...),
  // which stays nil, so the server runs without operator mode (seen running it).
  if (keys === undefined || keys.length === 0 || state.trustedField === undefined) return authz;
  // The NATS resolvers answer claims updates signed by the operator (getOperatorKeys): nats-server
  // refuses to start them without an operator JWT.
  if (state.resolver !== undefined && state.resolver.type !== 'memory') {
    r.error(state.resolverField ?? state.trustedField, 'Could not start resolver: no operator key found');
  }
  return {
    ...(authz ?? emptyAuthorization()),
    operator: {
      operators: [],
      trustedKeys: [...keys],
      preload: state.preload ?? {},
      resolver: state.resolver ?? { type: 'memory' },
      ...(state.pinned !== undefined && state.pinned.length > 0 ? { pinnedAccounts: [...state.pinned] } : {}),
    },
  };
}
