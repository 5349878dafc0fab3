/**
 * Operator mode keys: `operator` (and its aliases), `resolver: MEMORY` and `resolver_preload`, with
 * nats-server's messages (server/opts.go, jwt.go readOperatorJWT and validateTrustedOperators).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  decodeAccountClaims,
  decodeOperatorClaims,
  type OperatorClaims,
  parseDecoratedJwt,
} from '../auth/jwt.js';
import { type AuthorizationConfig, emptyAuthorization } from '../auth/types.js';
import { type ConfigField, type ConfigReader, describeValue, isConfMap } from './reader.js';

/** Config keys nats-server reads as the trusted operators. */
export const OPERATOR_KEYS = ['operator', 'operators', 'root', 'roots', 'root_operator', 'root_operators'];
/** Config keys nats-server reads as the account resolver. */
export const RESOLVER_KEYS = ['resolver', 'account_resolver', 'accounts_resolver'];

const SUPPORTED = 'tsnats supports resolver: MEMORY with resolver_preload';

/** What the operator-mode keys of one file said. */
export class OperatorState {
  field: ConfigField | undefined;
  operators: { jwt: string; claims: OperatorClaims }[] = [];
  resolverField: ConfigField | undefined;
  memoryResolver = false;
  preload: Record<string, string> | undefined;
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
  state.memoryResolver = false;
  if (typeof v === 'string') {
    if (/^\s*MEM(ORY)?\s*$/i.test(v)) {
      state.memoryResolver = true;
      return;
    }
    if (/^\s*URL/i.test(v))
      r.fail(f, `${f.path}: the URL account resolver is not supported by tsnats yet (${SUPPORTED})`);
    r.fail(f, `${f.path}: unknown account resolver ${JSON.stringify(v)} (${SUPPORTED})`);
  }
  if (isConfMap(v)) {
    const type = typeof v.type === 'string' ? v.type : '';
    r.fail(
      f,
      `${f.path}: the ${type !== '' ? `${JSON.stringify(type)} ` : ''}NATS account resolver (type full/cache) is not supported by tsnats yet (${SUPPORTED})`,
    );
  }
  r.fail(f, `${f.path}: expected MEMORY, got ${describeValue(v)}`);
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
  if (f === undefined || state.operators.length === 0) return authz;
  if (!state.memoryResolver) {
    r.error(f, 'operators require an account resolver to be configured');
    return authz;
  }
  if (authz !== undefined && authz.accounts.length > 0) {
    r.error(f, 'operators do not allow Accounts to be configured directly');
  }
  if (authz !== undefined && (authz.users.length > 0 || authz.nkeys.length > 0)) {
    r.error(f, 'operators do not allow users to be configured directly');
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
  return {
    ...(authz ?? emptyAuthorization()),
    operator: { operators: state.operators.map((o) => o.jwt), preload: state.preload ?? {} },
  };
}
