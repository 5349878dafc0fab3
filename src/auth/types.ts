/**
 * Authentication and authorization settings, shaped like nats-server's config blocks
 * (`authorization {}`, `accounts {}`, users, nkeys, permissions). Durations are in milliseconds.
 */
import type { MappingConfig } from '../routing/mapping.js';

/** `allow`/`deny` subject lists; a missing list means "not restricted" for allow and "nothing" for deny. */
export interface SubjectPermission {
  allow?: string[];
  deny?: string[];
}

/** `allow_responses`: a subscriber may publish to the reply subjects of requests it received. */
export interface ResponsePermission {
  /** Responses allowed per request (nats-server default 1). */
  max: number;
  /** How long a reply subject stays allowed (default 2 minutes). */
  expires: number;
}

export interface Permissions {
  publish?: SubjectPermission;
  subscribe?: SubjectPermission;
  responses?: ResponsePermission;
}

export interface UserConfig {
  user: string;
  /** Plain text, or a bcrypt hash (`$2a$...`). */
  password: string;
  permissions?: Permissions;
  /** Account name; the global account `$G` when absent. */
  account?: string;
  /** `allowed_connection_types`, e.g. ["STANDARD", "WEBSOCKET"]. */
  allowedConnectionTypes?: string[];
}

export interface NkeyUserConfig {
  /** Public user NKey (starts with U). */
  nkey: string;
  permissions?: Permissions;
  account?: string;
  allowedConnectionTypes?: string[];
}

/** An account's export: a stream (messages flow out) or a service (requests flow in). */
export interface ExportConfig {
  stream?: string;
  service?: string;
  /** Accounts allowed to import; everyone when absent. */
  accounts?: string[];
  /** Service response type: Singleton (default), Stream or Chunked. */
  responseType?: 'Singleton' | 'Stream' | 'Chunked';
}

/** An account's import of another account's stream or service. */
export interface ImportConfig {
  stream?: { account: string; subject: string };
  service?: { account: string; subject: string };
  /** Streams: subjects arrive with this prefix. */
  prefix?: string;
  /** Remap: streams arrive on, or services are requested as, this subject. */
  to?: string;
}

export interface AccountConfig {
  name: string;
  users: UserConfig[];
  nkeys: NkeyUserConfig[];
  exports: ExportConfig[];
  imports: ImportConfig[];
  /**
   * `jetstream` of the account: its limits when enabled, `false` when disabled; unset = not configured
   * (no JetStream, unless the global account is the only one).
   */
  jetstream?: JsAccountLimits | false;
  /** `mappings {}` of the account: messages its clients publish on a source go to a destination. */
  mappings?: MappingConfig[];
}

/** An account's JetStream limits (nats-server's JetStreamAccountLimits); -1 = unlimited. */
export interface JsAccountLimits {
  maxMemory: number;
  maxStore: number;
  maxStreams: number;
  maxConsumers: number;
  maxAckPending: number;
  memoryMaxStreamBytes: number;
  storeMaxStreamBytes: number;
  maxBytesRequired: boolean;
}

/**
 * An account's JetStream limits by tier (nats-server's map[string]JetStreamAccountLimits): '' for
 * limits over every stream, or "R1", "R3"... for the streams of that many replicas (jetstream/limit-tiers.ts).
 */
export type JsLimitTiers = ReadonlyMap<string, JsAccountLimits>;

/** `jetstream: enabled` (nats-server's dynamicJSAccountLimits): nothing limited. */
export function unlimitedJsAccount(): JsAccountLimits {
  return {
    maxMemory: -1,
    maxStore: -1,
    maxStreams: -1,
    maxConsumers: -1,
    maxAckPending: -1,
    memoryMaxStreamBytes: -1,
    storeMaxStreamBytes: -1,
    maxBytesRequired: false,
  };
}

/** Everything about who may connect and what they may do. */
export interface AuthorizationConfig {
  /** Single user (`--user/--pass`, `authorization { user, password }`). */
  user: string;
  password: string;
  /** Token (`--auth`, `authorization { token }`); may be a bcrypt hash. */
  token: string;
  /** `authorization { users = [...] }` and users of accounts are merged into this list by the loader. */
  users: UserConfig[];
  nkeys: NkeyUserConfig[];
  /** Applied to users without permissions of their own. */
  defaultPermissions?: Permissions;
  /** Permissions of the single user / token. */
  permissions?: Permissions;
  accounts: AccountConfig[];
  /** A user that clients without credentials are logged in as. */
  noAuthUser: string;
  /** Operator mode (decentralized JWT auth): users present JWTs; accounts come from account JWTs. */
  operator?: OperatorModeConfig;
}

/** `operator`, `resolver` and `resolver_preload` (nats-server's TrustedOperators and account resolvers). */
export interface OperatorModeConfig {
  /** The trusted operators' JWTs (self-signed). */
  operators: string[];
  /** `trusted_keys`: operator keys trusted without their JWTs (nats-server's TrustedKeys). */
  trustedKeys?: string[];
  /** `resolver_preload`: account public key → account JWT. */
  preload: Record<string, string>;
  /** Where account JWTs live; `resolver: MEMORY` when absent. */
  resolver?: ResolverConfig;
  /** `resolver_pinned_accounts` (with the system account): only their users may log in. */
  pinnedAccounts?: string[];
}

/**
 * `resolver: MEMORY` (nats-server's MemAccResolver), `resolver { type: full, dir: ... }` (its
 * DirAccResolver: every account JWT in a directory, updated over the system account), or
 * `resolver { type: cache, dir: ... }` (its CacheDirAccResolver).
 */
export type ResolverConfig =
  | { type: 'memory' }
  | {
      type: 'full';
      /** The directory of `<account key>.jwt` files (created when missing). */
      dir: string;
      /** `allow_delete`: `$SYS.REQ.CLAIMS.DELETE` renames files to `.jwt.deleted`. */
      allowDelete: boolean;
      /** Most JWTs the directory may hold (0 = no limit). */
      limit: number;
      /** `interval`: how often servers compare their directories (ms; nats-server's default 1 minute). */
      intervalMs: number;
      /** `timeout`: how long a lookup from another server may take (ms). */
      timeoutMs: number;
    }
  | {
      /** nats-server's CacheDirAccResolver: the JWTs in use, looked up from other servers when missing. */
      type: 'cache';
      dir: string;
      /** Most JWTs kept (default 1000); the least recently used goes first. */
      limit: number;
      /** `ttl`: a JWT's file goes this long after its last use (ms; 0: when the JWT expires). */
      ttlMs: number;
      timeoutMs: number;
    };

export function emptyAuthorization(): AuthorizationConfig {
  return { user: '', password: '', token: '', users: [], nkeys: [], accounts: [], noAuthUser: '' };
}
