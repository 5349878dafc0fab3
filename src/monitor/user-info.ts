/**
 * `$SYS.REQ.USER.INFO` (nats-server 2.10, events.go userInfoReq): a client asks who it is. Every account
 * imports the subject from the system account, mapped to `$SYS.REQ.USER.<account>.INFO`; the answer
 * describes the client that sent the request (nats-server's UserInfo): user, account, permissions and the
 * time left before its user JWT expires.
 */
import type { Permissions } from '../auth/types.js';
import type { Client } from '../server/client.js';

/** nats-server's SubjectPermission: both lists left out when empty. */
interface SubjectPermissionJson {
  allow?: string[];
  deny?: string[];
}

/** nats-server's Permissions as client.publicPermissions returns them. */
export interface PermissionsJson {
  publish: SubjectPermissionJson;
  subscribe: SubjectPermissionJson;
  /** allow_responses: `ttl` in nanoseconds (Go's time.Duration). */
  responses?: { max: number; ttl: number };
}

/** nats-server's UserInfo. */
export interface UserInfo {
  user: string;
  account: string;
  permissions?: PermissionsJson;
  /** Nanoseconds until the user JWT expires, truncated to the second; left out when it never does. */
  expires?: number;
}

function subjectPermission(allow: string[] | undefined, deny: string[] | undefined): SubjectPermissionJson {
  const out: SubjectPermissionJson = {};
  if (allow !== undefined && allow.length > 0) out.allow = [...allow];
  if (deny !== undefined && deny.length > 0) out.deny = [...deny];
  return out;
}

/** A client's permissions as nats-server reports them: undefined for an unrestricted client. */
export function publicPermissions(p: Permissions | undefined): PermissionsJson | undefined {
  if (p === undefined) return undefined;
  const out: PermissionsJson = {
    publish: subjectPermission(p.publish?.allow, p.publish?.deny),
    subscribe: subjectPermission(p.subscribe?.allow, p.subscribe?.deny),
  };
  if (p.responses !== undefined) out.responses = { max: p.responses.max, ttl: p.responses.expires * 1e6 };
  return out;
}

/** What `$SYS.REQ.USER.INFO` answers for `client` at `now` (ms since the epoch). */
export function userInfo(client: Client, now: number): UserInfo {
  const info: UserInfo = { user: client.authorizedUser, account: client.account.name };
  const permissions = publicPermissions(client.permissionsConfig);
  if (permissions !== undefined) info.permissions = permissions;
  // nats-server's claimExpiration: time.Until(expires).Truncate(time.Second), left out when zero.
  if (client.expiresAt !== undefined) {
    const seconds = Math.trunc((client.expiresAt - now) / 1000);
    if (seconds !== 0) info.expires = seconds * 1e9;
  }
  return info;
}
