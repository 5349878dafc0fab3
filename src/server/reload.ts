import { ClientPermissions } from '../auth/permissions.js';
import type { AuthorizationConfig } from '../auth/types.js';
import { certificateIdentities } from '../transport/tls.js';
import type { Client } from './client.js';
import type { ServerCore } from './core.js';
import { authorizationOf, resolveOptions, type ServerConfig, type ServerOptions } from './options.js';

/** Options a running server cannot change (nats-server refuses to reload them too). */
const FIXED: (keyof ServerOptions)[] = [
  'host',
  'port',
  'serverName',
  'cluster',
  'httpPort',
  'httpHost',
  'tls',
  'websocket',
  'streaming',
  'allowNonTls',
  'httpsPort',
  'httpBasePath',
  'maxSubTokens',
  'noSublistCache',
];

/** Options applied in place on reload: limits, logging, timers. */
const RELOADABLE: (keyof ServerOptions)[] = [
  'maxPayload',
  'maxControlLine',
  'maxConnections',
  'maxSubscriptions',
  'maxPending',
  'pingInterval',
  'pingMax',
  'writeDeadline',
  'authTimeout',
  'debug',
  'trace',
  'logtime',
  'logFile',
  'lameDuckDuration',
  'lameDuckGracePeriod',
  'tags',
  'maxTracedMsgLen',
  'connectErrorReports',
  'reconnectErrorReports',
];

export class ReloadError extends Error {}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Accounts' structure (names, imports, exports) cannot change on reload; their users can. */
function accountShape(authz: AuthorizationConfig): unknown {
  return authz.accounts.map((a) => ({ name: a.name, imports: a.imports, exports: a.exports }));
}

/**
 * Apply a new configuration to a running server without dropping connections (SIGHUP / --signal
 * reload): limits, logging and authorization change; every client is checked again against the new
 * users and permissions, and subscriptions it may no longer hold are removed with nats-server's error.
 * Once it all applied, the time is recorded as the configuration's load time (`configLoadTime`).
 */
export async function reloadServer(
  server: ServerCore,
  next: ServerConfig,
  current: AuthorizationConfig,
): Promise<void> {
  const opts = server.options;
  // Options that cannot change keep their current value when the new config leaves them out.
  const fixedNow: Partial<ServerOptions> = {};
  for (const key of FIXED) (fixedNow as Record<string, unknown>)[key] = opts[key];
  const nextOpts = resolveOptions({ ...fixedNow, ...next });
  for (const key of FIXED) {
    if (!same(opts[key], nextOpts[key])) {
      throw new ReloadError(
        `config reload not supported for ${key}: old=${JSON.stringify(opts[key])}, new=${JSON.stringify(nextOpts[key])}`,
      );
    }
  }
  const authz = authorizationOf(next);
  if (!same(accountShape(current), accountShape(authz))) {
    throw new ReloadError('config reload not supported for accounts: imports, exports or names changed');
  }
  // Operator mode: the operators and the resolver stay; preloads, pinned accounts and the resolver's
  // directory are read again. Moving to or from operator mode is refused too.
  const trust = server.auth.operator;
  if ((trust === undefined) !== (authz.operator === undefined)) {
    throw new ReloadError('config reload does not support moving to or from an account resolver');
  }
  if (trust !== undefined && authz.operator !== undefined && !trust.sameTrust(authz.operator)) {
    throw new ReloadError('config reload not supported for operators or the account resolver');
  }
  const mutable = opts as unknown as Record<string, unknown>;
  for (const key of RELOADABLE) mutable[key] = nextOpts[key];
  server.logger.configure(opts);
  server.auth.update(authz);
  if (trust !== undefined && authz.operator !== undefined) {
    for (const key of trust.reload(authz.operator)) {
      const jwt = trust.resolver.fetch(key);
      if (jwt !== undefined) server.jwtAccounts?.changed(key, jwt);
    }
  }
  const clients = [...server.clients.values()];
  for (const c of clients) c.parser.maxControlLine = opts.maxControlLine;
  await Promise.all(clients.map((c) => recheckClient(server, c)));
  server.configLoadTime = new Date();
  server.logger.notice('Reloaded server configuration');
}

async function recheckClient(server: ServerCore, c: Client): Promise<void> {
  if (!c.connectReceived || c.closed) return;
  const certIds = c.tls !== undefined ? certificateIdentities(c.tls.getPeerCertificate()) : [];
  const identity = await server.auth.authenticate(c.opts, c.nonce, certIds, server.authContext(c), c.host);
  if (c.closed) return;
  const account =
    identity?.account !== undefined ? server.lookupAccount(identity.account) : server.globalAccount;
  if (identity === undefined || account !== c.account) {
    c.authViolation();
    return;
  }
  c.authorizedUser = identity.name;
  c.perms = identity.permissions !== undefined ? new ClientPermissions(identity.permissions) : undefined;
  c.permissionsConfig = identity.permissions;
  const perms = c.perms;
  if (perms === undefined) return;
  for (const sub of [...c.subs.values()]) {
    const allowed =
      perms.canSubscribe(sub.subject, undefined) ||
      (sub.queue !== undefined && perms.canSubscribe(sub.subject, sub.queue));
    if (!allowed) {
      c.unsubscribe(sub);
      c.sendErr(
        `Permissions Violation for Subscription to ${JSON.stringify(sub.subject)} (sid ${JSON.stringify(sub.sid)})`,
      );
      server.logger.notice(
        `Removed sub "${sub.subject}" (sid "${sub.sid}") for ${c.authorizedUser} - not authorized`,
      );
    }
  }
}
