/**
 * `authorization {}`, `accounts {}`, `no_auth_user`: users, NKey users, permissions, accounts with their
 * exports and imports, mapped onto tsnats' AuthorizationConfig with nats-server's rules and messages
 * (server/opts.go parseAuthorization, parseUsers, parseUserPermissions, parseAccounts, ...).
 */

import type {
  AccountConfig,
  AuthorizationConfig,
  ExportConfig,
  ImportConfig,
  NkeyUserConfig,
  Permissions,
  ResponsePermission,
  SubjectPermission,
  UserConfig,
} from '../auth/types.js';
import { parseAccountJetStream } from '../jetstream/config-file.js';
import { isValidSubject, subjectIsLiteral, subjectIsSubsetMatch } from '../routing/subject.js';
import { fromPublic } from '../util/nkeys.js';
import { parseMappings } from './mappings.js';
import { type ConfigField, type ConfigReader, describeValue, isConfMap } from './reader.js';

/** nats-server's DEFAULT_ALLOW_RESPONSE_MAX_MSGS and DEFAULT_ALLOW_RESPONSE_EXPIRATION. */
export const DEFAULT_ALLOW_RESPONSE_MAX_MSGS = 1;
export const DEFAULT_ALLOW_RESPONSE_EXPIRATION = 2 * 60 * 1000;

const GLOBAL_ACCOUNT = '$G';

const CONNECTION_TYPES = new Set(['STANDARD', 'WEBSOCKET', 'LEAFNODE', 'LEAFNODE_WS', 'MQTT', 'MQTT_WS']);

/** Per-account keys added by later features (see registerAccountConfigKey). */
export type AccountKeyHandler = (field: ConfigField, reader: ConfigReader, account: AccountConfig) => void;

interface UserEntry {
  field: ConfigField;
  user: UserConfig;
}
interface NkeyEntry {
  field: ConfigField;
  nkey: NkeyUserConfig;
}
interface ExportEntry {
  field: ConfigField;
  exp: ExportConfig;
}
interface ImportEntry {
  field: ConfigField;
  imp: ImportConfig;
}
interface AccountEntry {
  field: ConfigField;
  config: AccountConfig;
  usersField?: ConfigField;
  users: UserEntry[];
  nkeys: NkeyEntry[];
  exports: ExportEntry[];
  imports: ImportEntry[];
}

/** What the auth-related keys of one file said, checked together once every key is read. */
export class AuthState {
  /** The `authorization` key, when present. */
  authField: ConfigField | undefined;
  user = '';
  password = '';
  token = '';
  /** Users of `authorization { users }`; undefined when that block has no `users` key. */
  users: UserEntry[] | undefined;
  nkeys: NkeyEntry[] = [];
  defaultPermissions: Permissions | undefined;
  accounts = new Map<string, AccountEntry>();
  noAuthUser: { field: ConfigField; name: string } | undefined;

  get present(): boolean {
    return this.authField !== undefined || this.accounts.size > 0 || this.noAuthUser !== undefined;
  }
}

// ---------------------------------------------------------------------------------------------------
// Permissions

export function parsePermSubjects(r: ConfigReader, f: ConfigField): string[] {
  let subjects: string[];
  if (typeof f.value === 'string') subjects = [f.value];
  else if (Array.isArray(f.value)) {
    subjects = r.elements(f, f.value).map((e) => {
      if (typeof e.value !== 'string') r.fail(e, 'Subject in permissions array cannot be cast to string');
      return e.value;
    });
  } else {
    return r.fail(
      f,
      `Expected subject permissions to be a subject, or array of subjects, got ${describeValue(f.value)}`,
    );
  }
  for (const s of subjects) {
    if (isValidSubject(s)) continue;
    // A queue-group qualified subject: "subject queue".
    const parts = s.trim().split(/\s+/);
    if (parts.length !== 2) r.fail(f, `subject ${JSON.stringify(s)} is not a valid subject`);
    if (!isValidSubject(parts[0]!)) r.fail(f, `subject ${JSON.stringify(parts[0])} is not a valid subject`);
  }
  return subjects;
}

function parseSubjectPermission(r: ConfigReader, f: ConfigField): SubjectPermission | undefined {
  if (!isConfMap(f.value)) return { allow: parsePermSubjects(r, f) }; // old style: a subject or a list
  const m = f.value;
  if (Object.keys(m).length === 0) return undefined;
  const p: SubjectPermission = {};
  r.forEachKey(
    m,
    f.path,
    {
      allow: (x) => (p.allow = parsePermSubjects(r, x)),
      deny: (x) => (p.deny = parsePermSubjects(r, x)),
    },
    {
      unknown: (x) =>
        `Unknown field name ${JSON.stringify(x.key)} parsing subject permissions, only 'allow' or 'deny' are permitted`,
    },
  );
  return p;
}

function parseAllowResponses(r: ConfigReader, f: ConfigField): ResponsePermission | undefined {
  if (typeof f.value === 'boolean') {
    return f.value
      ? { max: DEFAULT_ALLOW_RESPONSE_MAX_MSGS, expires: DEFAULT_ALLOW_RESPONSE_EXPIRATION }
      : undefined;
  }
  if (!isConfMap(f.value))
    return r.fail(f, 'error parsing response permissions, expected a boolean or a map');
  const rp: ResponsePermission = {
    max: DEFAULT_ALLOW_RESPONSE_MAX_MSGS,
    expires: DEFAULT_ALLOW_RESPONSE_EXPIRATION,
  };
  const max = (x: ConfigField): void => {
    // Negative values mean unlimited, 0 the default.
    const n = r.integer(x);
    if (n !== 0) rp.max = n;
  };
  const expires = (x: ConfigField): void => {
    if (typeof x.value !== 'string') r.fail(x, 'error parsing expires, not a duration string');
    const ms = r.durationString(x);
    if (ms !== 0) rp.expires = ms;
  };
  r.forEachKey(
    f.value,
    f.path,
    { max, max_msgs: max, max_messages: max, max_responses: max, expires, expiration: expires, ttl: expires },
    { unknown: (x) => `Unknown field ${JSON.stringify(x.key)} parsing permissions` },
  );
  return rp;
}

/** A `permissions {}` block in any of nats-server's forms. */
export function parsePermissions(r: ConfigReader, f: ConfigField): Permissions {
  if (!isConfMap(f.value)) {
    return r.fail(f, `Expected permissions to be a map/struct, got ${describeValue(f.value)}`);
  }
  const p: Permissions = {};
  const pub = (x: ConfigField): void => {
    const sp = parseSubjectPermission(r, x);
    if (sp === undefined) delete p.publish;
    else p.publish = sp;
  };
  const sub = (x: ConfigField): void => {
    const sp = parseSubjectPermission(r, x);
    if (sp === undefined) delete p.subscribe;
    else p.subscribe = sp;
  };
  const responses = (x: ConfigField): void => {
    const rp = parseAllowResponses(r, x);
    if (rp === undefined) delete p.responses;
    else p.responses = rp;
  };
  // For routes nats-server reads import as publish and export as subscribe; the aliases apply everywhere.
  r.forEachKey(
    f.value,
    f.path,
    {
      pub,
      publish: pub,
      import: pub,
      sub,
      subscribe: sub,
      export: sub,
      allow_responses: responses,
      publish_allow_responses: responses,
    },
    { unknown: (x) => `Unknown field ${JSON.stringify(x.key)} parsing permissions` },
  );
  if (p.responses !== undefined) {
    // allow_responses turns off the blanket publish allow (nats-server's parseUserPermissions).
    p.publish ??= {};
    p.publish.allow ??= [];
  }
  return p;
}

// ---------------------------------------------------------------------------------------------------
// Users

function parseUsers(r: ConfigReader, f: ConfigField): { users: UserEntry[]; nkeys: NkeyEntry[] } {
  if (!Array.isArray(f.value)) {
    return r.fail(f, `Expected users field to be an array, got ${describeValue(f.value)}`);
  }
  const users: UserEntry[] = [];
  const nkeys: NkeyEntry[] = [];
  for (const e of r.elements(f, f.value)) {
    r.attempt(() => {
      if (!isConfMap(e.value)) {
        r.fail(e, `Expected user entry to be a map/struct, got ${describeValue(e.value)}`);
      }
      let user: string | undefined;
      let password: string | undefined;
      let nkey: string | undefined;
      let permissions: Permissions | undefined;
      let types: string[] | undefined;
      const errorsBefore = r.errors.length;
      const setUser = (x: ConfigField): void => {
        user = r.string(x);
      };
      const setPass = (x: ConfigField): void => {
        password = r.string(x);
      };
      const setPerms = (x: ConfigField): void => {
        permissions = parsePermissions(r, x);
      };
      const setTypes = (x: ConfigField): void => {
        types = r.strings(x).map((t) => {
          const up = t.toUpperCase();
          if (!CONNECTION_TYPES.has(up)) r.fail(x, `unknown connection type ${JSON.stringify(t)}`);
          return up;
        });
      };
      r.forEachKey(e.value, e.path, {
        nkey: (x) => (nkey = r.string(x)),
        user: setUser,
        username: setUser,
        pass: setPass,
        password: setPass,
        permission: setPerms,
        permissions: setPerms,
        authorization: setPerms,
        allowed_connection_types: setTypes,
        connection_types: setTypes,
        clients: setTypes,
      });
      if (r.errors.length > errorsBefore) return;
      if ((nkey === undefined || nkey === '') && (user === undefined || user === '')) {
        r.fail(e, 'User entry requires a user');
      }
      if (nkey !== undefined && nkey !== '') {
        if (!isValidPublicUserKey(nkey)) r.fail(e, 'Not a valid public nkey for a user');
        if (user !== undefined || password !== undefined) {
          r.fail(e, 'Nkey users do not take usernames or passwords');
        }
        const n: NkeyUserConfig = { nkey };
        if (permissions !== undefined) n.permissions = permissions;
        if (types !== undefined) n.allowedConnectionTypes = types;
        nkeys.push({ field: e, nkey: n });
      } else {
        const u: UserConfig = { user: user!, password: password ?? '' };
        if (permissions !== undefined) u.permissions = permissions;
        if (types !== undefined) u.allowedConnectionTypes = types;
        users.push({ field: e, user: u });
      }
    });
  }
  return { users, nkeys };
}

function isValidPublicUserKey(key: string): boolean {
  if (!key.startsWith('U')) return false;
  try {
    fromPublic(key);
    return true;
  } catch {
    return false;
  }
}

function applyDefaultPermissions(
  users: readonly UserEntry[],
  nkeys: readonly NkeyEntry[],
  p: Permissions | undefined,
): void {
  if (p === undefined) return;
  for (const u of users) u.user.permissions ??= p;
  for (const n of nkeys) n.nkey.permissions ??= p;
}

// ---------------------------------------------------------------------------------------------------
// authorization {}

/** `authorization { user, password, token, timeout, users, permissions, default_permissions }`. */
export function parseAuthorization(r: ConfigReader, f: ConfigField, state: AuthState): void {
  const m = r.map(f);
  state.authField = f;
  const setUser = (x: ConfigField): void => {
    state.user = r.string(x);
  };
  const setPass = (x: ConfigField): void => {
    state.password = r.string(x);
  };
  const setPerms = (x: ConfigField): void => {
    state.defaultPermissions = parsePermissions(r, x);
  };
  r.forEachKey(m, f.path, {
    user: setUser,
    username: setUser,
    pass: setPass,
    password: setPass,
    token: (x) => (state.token = r.string(x)),
    timeout: (x) => setAuthTimeout(r, x),
    users: (x) => {
      const { users, nkeys } = parseUsers(r, x);
      state.users = users;
      state.nkeys = nkeys;
    },
    default_permission: setPerms,
    default_permissions: setPerms,
    permissions: setPerms,
  });
}

/** `authorization { timeout }` (and tsnats' top-level `auth_timeout`): seconds, or a duration string. */
export function setAuthTimeout(r: ConfigReader, f: ConfigField): void {
  let ms: number;
  if (typeof f.value === 'number') ms = f.value * 1000;
  else if (typeof f.value === 'string') ms = r.durationString(f);
  else r.fail(f, `${f.path}: expected a number of seconds, got ${describeValue(f.value)}`);
  if (ms < 0) r.fail(f, `${f.path}: can not be negative`);
  // 0 means the default, as in nats-server.
  if (ms === 0) delete r.config.authTimeout;
  else r.config.authTimeout = ms;
}

// ---------------------------------------------------------------------------------------------------
// accounts {}

function parseExport(r: ConfigReader, f: ConfigField): ExportConfig | undefined {
  if (!isConfMap(f.value)) {
    return r.fail(f, `Export Items should be a map with type entry, got ${describeValue(f.value)}`);
  }
  const exp: ExportConfig = {};
  let responseField: ConfigField | undefined;
  const subjectOf = (x: ConfigField, what: string): string => {
    if (typeof x.value !== 'string') {
      r.fail(x, `Expected ${what} name to be string, got ${describeValue(x.value)}`);
    }
    if (!isValidSubject(x.value))
      r.fail(x, `Error adding ${what} export ${JSON.stringify(x.value)}: invalid subject`);
    return x.value;
  };
  const response = (x: ConfigField): void => {
    if (responseField !== undefined) r.fail(x, 'Duplicate response type definition');
    responseField = x;
    if (typeof x.value !== 'string') {
      r.fail(x, `Expected response type to be string, got ${describeValue(x.value)}`);
    }
    switch (x.value.toLowerCase()) {
      case 'single':
      case 'singleton':
        exp.responseType = 'Singleton';
        break;
      case 'stream':
        exp.responseType = 'Stream';
        break;
      case 'chunk':
      case 'chunked':
        exp.responseType = 'Chunked';
        break;
      default:
        r.fail(x, `Unknown response type: ${JSON.stringify(x.value)}`);
    }
  };
  const notYet = (x: ConfigField): void => r.fail(x, `${x.path}: not supported by tsnats yet`);
  r.forEachKey(f.value, f.path, {
    stream: (x) => {
      if (exp.service !== undefined) {
        r.fail(x, `Detected stream ${JSON.stringify(x.value)} but already saw a service`);
      }
      exp.stream = subjectOf(x, 'stream');
    },
    service: (x) => {
      if (exp.stream !== undefined) {
        r.fail(x, `Detected service ${JSON.stringify(x.value)} but already saw a stream`);
      }
      exp.service = subjectOf(x, 'service');
    },
    response: response,
    response_type: response,
    accounts: (x) => {
      // An empty list is a public export, as no list.
      const list = r.strings(x);
      if (list.length > 0) exp.accounts = list;
      else delete exp.accounts;
    },
    threshold: notYet,
    response_threshold: notYet,
    response_max_time: notYet,
    response_time: notYet,
    latency: notYet,
    account_token_position: notYet,
  });
  if (exp.stream !== undefined && responseField !== undefined) {
    r.fail(responseField, 'Detected response directive on non-service');
  }
  if (exp.stream === undefined && exp.service === undefined) {
    r.fail(f, `${f.path}: an export needs a 'stream' or a 'service' subject`);
  }
  return exp;
}

function parseImportSource(
  r: ConfigReader,
  x: ConfigField,
  what: string,
): { account: string; subject: string } {
  if (!isConfMap(x.value)) {
    return r.fail(x, `${what} entry should be an account map, got ${describeValue(x.value)}`);
  }
  let account = '';
  let subject = '';
  r.forEachKey(x.value, x.path, {
    account: (y) => (account = r.string(y)),
    subject: (y) => (subject = r.string(y)),
  });
  if (account === '' || subject === '') r.fail(x, 'Expect an account name and a subject');
  if (!isValidSubject(subject)) {
    r.fail(x, `Error adding ${what.toLowerCase()} import ${JSON.stringify(subject)}: invalid subject`);
  }
  return { account, subject };
}

function parseImport(r: ConfigReader, f: ConfigField): ImportConfig {
  if (!isConfMap(f.value)) {
    return r.fail(f, `Import Items should be a map with type entry, got ${describeValue(f.value)}`);
  }
  const imp: ImportConfig = {};
  let prefixField: ConfigField | undefined;
  let toField: ConfigField | undefined;
  r.forEachKey(f.value, f.path, {
    stream: (x) => {
      if (imp.service !== undefined) r.fail(x, 'Detected stream but already saw a service');
      imp.stream = parseImportSource(r, x, 'Stream');
    },
    service: (x) => {
      if (imp.stream !== undefined) r.fail(x, 'Detected service but already saw a stream');
      imp.service = parseImportSource(r, x, 'Service');
    },
    prefix: (x) => {
      imp.prefix = r.string(x);
      prefixField = x;
    },
    to: (x) => {
      imp.to = r.string(x);
      toField = x;
    },
    share: (x) => {
      if (r.bool(x)) r.fail(x, `${x.path}: not supported by tsnats yet (service latency tracking)`);
    },
  });
  if (imp.stream === undefined && imp.service === undefined) {
    r.fail(f, `${f.path}: an import needs a 'stream' or a 'service'`);
  }
  if (imp.stream !== undefined && prefixField !== undefined && toField !== undefined) {
    r.fail(toField, "Stream import can not have a 'prefix' and a 'to' property");
  }
  if (imp.service !== undefined && prefixField !== undefined) {
    r.fail(prefixField, `${prefixField.path}: only stream imports take a prefix (use 'to' for services)`);
  }
  if (prefixField !== undefined && imp.prefix !== undefined && !subjectIsLiteral(imp.prefix)) {
    r.fail(prefixField, 'stream import prefix can not contain wildcard tokens');
  }
  if (toField !== undefined && imp.to !== undefined && !isValidSubject(imp.to)) {
    r.fail(toField, `${toField.path}: ${JSON.stringify(imp.to)} is not a valid subject`);
  }
  return imp;
}

function parseAccount(
  r: ConfigReader,
  f: ConfigField,
  entry: AccountEntry,
  extensions: ReadonlyMap<string, AccountKeyHandler>,
): void {
  const acc = entry.config;
  let defaults: Permissions | undefined;
  let users: UserEntry[] = [];
  let nkeys: NkeyEntry[] = [];
  const notYet = (what: string) => (x: ConfigField) =>
    r.fail(x, `${x.path}: not supported by tsnats yet (${what})`);
  const handlers: Record<string, (x: ConfigField) => void> = {
    users: (x) => {
      entry.usersField = x;
      ({ users, nkeys } = parseUsers(r, x));
    },
    default_permissions: (x) => (defaults = parsePermissions(r, x)),
    exports: (x) => {
      const arr = Array.isArray(x.value)
        ? x.value
        : r.fail(x, `Exports should be an array, got ${describeValue(x.value)}`);
      for (const e of r.elements(x, arr)) {
        r.attempt(() => {
          const exp = parseExport(r, e);
          if (exp !== undefined) entry.exports.push({ field: e, exp });
        });
      }
    },
    imports: (x) => {
      const arr = Array.isArray(x.value)
        ? x.value
        : r.fail(x, `Imports should be an array, got ${describeValue(x.value)}`);
      const services = new Map<string, ImportConfig>();
      for (const e of r.elements(x, arr)) {
        r.attempt(() => {
          const imp = parseImport(r, e);
          if (imp.service !== undefined) {
            const to = imp.to ?? imp.service.subject;
            const dup = services.get(to);
            if (dup !== undefined) {
              r.fail(
                e,
                `Duplicate service import subject ${JSON.stringify(to)}, previously used in import for account ${JSON.stringify(dup.service!.account)}, subject ${JSON.stringify(dup.service!.subject)}`,
              );
            }
            services.set(to, imp);
          }
          entry.imports.push({ field: e, imp });
        });
      }
    },
    nkey: notYet('account NKeys belong to JWT/operator mode'),
    jetstream: (x) => (acc.jetstream = parseAccountJetStream(r, x)),
    mappings: (x) => (acc.mappings = parseMappings(r, x)),
    maps: (x) => (acc.mappings = parseMappings(r, x)),
    limits: notYet('account limits'),
  };
  for (const [name, handler] of extensions) handlers[name] = (x) => handler(x, r, acc);
  r.forEachKey(r.map(f), f.path, handlers);
  applyDefaultPermissions(users, nkeys, defaults);
  for (const u of users) u.user.account = acc.name;
  for (const n of nkeys) n.nkey.account = acc.name;
  acc.users = users.map((u) => u.user);
  acc.nkeys = nkeys.map((n) => n.nkey);
  entry.users = users;
  entry.nkeys = nkeys;
}

function newAccount(name: string, field: ConfigField): AccountEntry {
  return {
    field,
    config: { name, users: [], nkeys: [], exports: [], imports: [] },
    users: [],
    nkeys: [],
    exports: [],
    imports: [],
  };
}

/** `accounts { NAME: {...} }` or `accounts: [NAME, ...]`. */
export function parseAccounts(
  r: ConfigReader,
  f: ConfigField,
  state: AuthState,
  extensions: ReadonlyMap<string, AccountKeyHandler>,
): void {
  if (Array.isArray(f.value)) {
    const seen = new Set<string>();
    for (const e of r.elements(f, f.value)) {
      r.attempt(() => {
        const name = r.string(e);
        if (name === GLOBAL_ACCOUNT) r.fail(e, `${JSON.stringify(name)} is a Reserved Account`);
        if (seen.has(name)) r.fail(e, `Duplicate Account Entry: ${name}`);
        seen.add(name);
        state.accounts.set(name, newAccount(name, e));
      });
    }
    return;
  }
  const m = isConfMap(f.value)
    ? f.value
    : r.fail(
        f,
        `${f.path}: expected a map of accounts or an array of account names, got ${describeValue(f.value)}`,
      );
  for (const name of Object.keys(m)) {
    const af = r.field(m, name, f.path);
    // Variables defined inside the accounts block are not accounts.
    if (r.isUsedVariable(af)) continue;
    r.attempt(() => {
      if (!isConfMap(af.value)) r.fail(af, 'Expected map entries for accounts');
      if (name === GLOBAL_ACCOUNT) r.fail(af, `${JSON.stringify(name)} is a Reserved Account`);
      const entry = newAccount(name, af);
      state.accounts.set(name, entry);
      parseAccount(r, af, entry, extensions);
    });
  }
}

/** `no_auth_user`. */
export function parseNoAuthUser(r: ConfigReader, f: ConfigField, state: AuthState): void {
  state.noAuthUser = { field: f, name: r.string(f) };
}

// ---------------------------------------------------------------------------------------------------
// Cross-checks and the result

function exportAllows(
  exp: ExportConfig,
  subject: string,
  importer: string,
  kind: 'stream' | 'service',
): boolean {
  const exported = kind === 'stream' ? exp.stream : exp.service;
  if (exported === undefined) return false;
  if (exported !== subject && !subjectIsSubsetMatch(subject, exported)) return false;
  return exp.accounts === undefined || exp.accounts.length === 0 || exp.accounts.includes(importer);
}

/**
 * Checks that need every key (single user vs users vs accounts, duplicate users, `no_auth_user`,
 * accounts named by exports and imports, imports allowed by exports) and builds the AuthorizationConfig.
 */
export function finishAuthorization(r: ConfigReader, state: AuthState): AuthorizationConfig | undefined {
  if (!state.present) return undefined;
  const authField = state.authField;
  const accountsList = [...state.accounts.values()];
  const users: UserEntry[] = [];
  const nkeys: NkeyEntry[] = [];

  if (authField !== undefined) {
    if ((state.user !== '' || state.password !== '') && state.token !== '') {
      r.error(authField, 'Cannot have a user/pass and token');
    }
    if (state.users !== undefined) {
      if (state.user !== '') r.error(authField, 'Can not have a single user/pass and a users array');
      else if (state.token !== '') r.error(authField, 'Can not have a token and a users array');
    }
    applyDefaultPermissions(state.users ?? [], state.nkeys, state.defaultPermissions);
    users.push(...(state.users ?? []));
    nkeys.push(...state.nkeys);
  }

  for (const acc of accountsList) {
    if (acc.users.length === 0 && acc.nkeys.length === 0) continue;
    const at = acc.usersField ?? acc.field;
    if (state.user !== '') r.error(at, 'Can not have a single user/pass and accounts');
    else if (state.token !== '') r.error(at, 'Can not have a token and accounts');
    users.push(...acc.users);
    nkeys.push(...acc.nkeys);
  }

  const names = new Set<string>();
  for (const u of users) {
    if (names.has(u.user.user)) r.error(u.field, `Duplicate user ${JSON.stringify(u.user.user)} detected`);
    names.add(u.user.user);
  }
  for (const n of nkeys) {
    if (names.has(n.nkey.nkey)) r.error(n.field, `Duplicate nkey ${JSON.stringify(n.nkey.nkey)} detected`);
    names.add(n.nkey.nkey);
  }

  // Exports name existing accounts; imports name existing accounts and are allowed by their exports.
  for (const acc of accountsList) {
    for (const { field, exp } of acc.exports) {
      const kind = exp.stream !== undefined ? 'stream' : 'service';
      for (const an of exp.accounts ?? []) {
        if (!state.accounts.has(an)) {
          r.error(field, `${JSON.stringify(an)} account not defined for ${kind} export`);
        }
      }
      acc.config.exports.push(exp);
    }
    for (const { field, imp } of acc.imports) {
      const kind = imp.stream !== undefined ? 'stream' : 'service';
      const src = (imp.stream ?? imp.service)!;
      const from = state.accounts.get(src.account);
      if (from === undefined) {
        r.error(field, `${JSON.stringify(src.account)} account not defined for ${kind} import`);
        continue;
      }
      if (!from.exports.some((e) => exportAllows(e.exp, src.subject, acc.config.name, kind))) {
        r.error(
          field,
          `Error adding ${kind} import ${JSON.stringify(src.subject)}: ${kind} import not authorized`,
        );
        continue;
      }
      acc.config.imports.push(imp);
    }
  }

  if (state.noAuthUser !== undefined) {
    const { field, name } = state.noAuthUser;
    if (users.length === 0) {
      r.error(field, `no_auth_user: ${JSON.stringify(name)} present, but users are not defined`);
    } else if (!users.some((u) => u.user.user === name)) {
      r.error(
        field,
        `no_auth_user: ${JSON.stringify(name)} not present as user in authorization block or account configuration`,
      );
    }
  }

  const result: AuthorizationConfig = {
    user: state.user,
    password: state.password,
    token: state.token,
    users: users.map((u) => u.user),
    nkeys: nkeys.map((n) => n.nkey),
    accounts: accountsList.map((a) => a.config),
    noAuthUser: state.noAuthUser?.name ?? '',
  };
  // tsnats applies `permissions` / `default_permissions` to the single user or token too.
  if ((state.user !== '' || state.token !== '') && state.defaultPermissions !== undefined) {
    result.permissions = state.defaultPermissions;
  }
  return result;
}
