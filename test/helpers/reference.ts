/**
 * The reference nats-server (Go), for byte-for-byte comparisons with tsnats: whether it is installed and
 * its config file for given limits. Start it with `launch({ kind: 'nats-server' })` (launcher.ts).
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const EXE = 'nats-server';

/** Limits and credentials in tsnats' ServerConfig names, for {@link referenceConfig}. */
export interface ReferenceLimits {
  maxPayload?: number;
  maxControlLine?: number;
  maxConnections?: number;
  maxSubscriptions?: number;
  maxPending?: number;
  /** ms */
  pingInterval?: number;
  pingMax?: number;
  /** ms */
  writeDeadline?: number;
  /** ms; nats-server takes it (in seconds) inside the authorization block only. */
  authTimeout?: number;
  serverName?: string;
  user?: string;
  password?: string;
  token?: string;
}

let cachedHasReference: boolean | undefined;

/** Whether nats-server is an executable on PATH. */
export function hasReference(): boolean {
  if (cachedHasReference !== undefined) return cachedHasReference;
  cachedHasReference = false;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, EXE), constants.X_OK);
      cachedHasReference = true;
      break;
    } catch {
      // not here
    }
  }
  return cachedHasReference;
}

/** nats-server's config file text for the same limits a tsnats ServerConfig would set. */
export function referenceConfig(l: ReferenceLimits): string {
  const lines: string[] = [];
  const q = (s: string): string => JSON.stringify(s);
  if (l.serverName !== undefined) lines.push(`server_name: ${q(l.serverName)}`);
  if (l.maxPayload !== undefined) lines.push(`max_payload: ${l.maxPayload}`);
  if (l.maxControlLine !== undefined) lines.push(`max_control_line: ${l.maxControlLine}`);
  if (l.maxConnections !== undefined) lines.push(`max_connections: ${l.maxConnections}`);
  if (l.maxSubscriptions !== undefined) lines.push(`max_subscriptions: ${l.maxSubscriptions}`);
  if (l.maxPending !== undefined) lines.push(`max_pending: ${l.maxPending}`);
  if (l.pingInterval !== undefined) lines.push(`ping_interval: "${l.pingInterval}ms"`);
  if (l.pingMax !== undefined) lines.push(`ping_max: ${l.pingMax}`);
  if (l.writeDeadline !== undefined) lines.push(`write_deadline: "${l.writeDeadline}ms"`);
  const auth: string[] = [];
  if (l.user !== undefined) auth.push(`user: ${q(l.user)}`);
  if (l.password !== undefined) auth.push(`password: ${q(l.password)}`);
  if (l.token !== undefined) auth.push(`token: ${q(l.token)}`);
  if (auth.length > 0 && l.authTimeout !== undefined) auth.push(`timeout: ${l.authTimeout / 1000}`);
  if (auth.length > 0) lines.push(`authorization {\n  ${auth.join('\n  ')}\n}`);
  return `${lines.join('\n')}\n`;
}
