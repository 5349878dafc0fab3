/**
 * Who an accepted leaf node connection is, and which account it binds to (nats-server's
 * isLeafNodeAuthorized), from the CONNECT the leaf sent:
 *
 *   1. `leafnodes { authorization { user, password, account } }`: that user, bound to `account`;
 *   2. `leafnodes { authorization { users: [ { user, password, account } ] } }`: one of those users;
 *   3. otherwise the server's own authentication: in operator mode the leaf's user JWT (with the nonce
 *      signed, as for clients; `allowed_connection_types` must allow LEAFNODE), bound to its account;
 *      without any, every leaf is bound to the global account;
 *      with users, a leaf naming one must give its password (and the user must allow LEAFNODE
 *      connections), and gets its permissions and account; a leaf naming no user is accepted and bound
 *      to `authorization { account }` of the leafnodes block (nats-server 2.9 does the same).
 *
 * Passwords may be bcrypt hashes; checks are asynchronous so they never block the server.
 */
import { connectionTypeAllowed, secretMatches } from '../auth/authenticator.js';
import type { OperatorTrust } from '../auth/operator.js';
import type { AuthorizationConfig, Permissions } from '../auth/types.js';
import type { LeafNodeOptions } from '../server/options.js';

/** What an accepted leaf presents in CONNECT. */
export interface LeafCredentials {
  user: string;
  pass: string;
  /** Operator mode: the user JWT and the nonce signature. */
  jwt?: string;
  sig?: string;
}

/** How the leaf's connection looks to JWT checks. */
export interface LeafContext {
  nonce: string;
  host: string;
  /** Operator mode: the trusted operators, when configured. */
  operator: OperatorTrust | undefined;
  /** Why a JWT was refused, for the debug log. */
  onReject?: (reason: string) => void;
}

/** The outcome of a successful check: the account ('' = global) and the user's permissions, if any. */
export interface LeafIdentity {
  account: string;
  user: string;
  permissions: Permissions | undefined;
  /**
   * Decided by the server's own authentication (step 3, nats-server's isClientAuthorized), which also
   * sends the account's client connect and disconnect events for the leaf; with the user JWT's signer,
   * name and tags in operator mode.
   */
  serverAuth?: { issuerKey: string; nameTag: string; tags: readonly string[] };
}

export async function authenticateLeaf(
  cfg: LeafNodeOptions,
  authz: AuthorizationConfig,
  serverAuthRequired: boolean,
  cr: LeafCredentials,
  ctx?: LeafContext,
): Promise<LeafIdentity | undefined> {
  if (cfg.user !== '') {
    const ok = cr.user === cfg.user && (await secretMatches(cr.pass, cfg.password));
    return ok ? { account: cfg.account, user: cfg.user, permissions: undefined } : undefined;
  }
  if (cfg.users.length > 0) {
    const u = cfg.users.find((x) => x.user === cr.user);
    if (u === undefined || !(await secretMatches(cr.pass, u.password))) return undefined;
    return { account: u.account ?? '', user: u.user, permissions: undefined };
  }
  const trust = ctx?.operator;
  if (trust !== undefined) {
    await trust.prefetch(cr.jwt);
    const r = trust.authenticate(cr.jwt, cr.sig, ctx!.nonce, 'LEAFNODE', ctx!.host);
    if (!r.ok) {
      ctx!.onReject?.(r.reason);
      return undefined;
    }
    const { account, user, permissions, issuerKey, nameTag, tags } = r.identity;
    return { account, user, permissions, serverAuth: { issuerKey, nameTag, tags } };
  }
  const serverAuth = { issuerKey: '', nameTag: '', tags: [] };
  if (!serverAuthRequired) return { account: '', user: '', permissions: undefined, serverAuth };
  if (cr.user !== '') {
    const u = authz.users.find((x) => x.user === cr.user);
    if (u === undefined || !connectionTypeAllowed(u.allowedConnectionTypes, 'LEAFNODE')) return undefined;
    if (!(await secretMatches(cr.pass, u.password))) return undefined;
    return {
      account: u.account ?? '',
      user: u.user,
      permissions: u.permissions ?? authz.defaultPermissions,
      serverAuth,
    };
  }
  return { account: cfg.account, user: '', permissions: undefined, serverAuth };
}
