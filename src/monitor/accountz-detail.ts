/**
 * The parts of /accountz?acc=<name> that describe how an account is wired (nats-server monitor.go
 * accountInfo): its subject mappings, its exports (from the account JWT, or the config file's
 * `exports`), the stream and service imports it has, and the reply mappings of requests that crossed
 * into it (`responses`). Field names and order are those of nats-server's ExtExport and ExtImport.
 */

import type { JwtExport } from '../auth/jwt.js';
import type { AuthorizationConfig, ExportConfig } from '../auth/types.js';
import type { MappingDestination } from '../routing/mapping.js';
import { wireToText } from '../routing/subject-text.js';
import type { Account } from '../server/account.js';
import { rfc3339 } from './format.js';

/** nats-server's ExtExport (jwt.Export's fields the server knows, then its own). */
export interface ExtExport {
  subject: string;
  type: 'stream' | 'service';
  token_req?: boolean;
  response_type?: string;
  approved_accounts?: string[];
  revoked_activations?: Record<string, string>;
}

/** nats-server's ExtImport (jwt.Import's fields the server knows, then its own). */
export interface ExtImport {
  subject: string;
  account: string;
  to?: string;
  local_subject?: string;
  /** "stream" / "service"; a reply mapping's is the number 2 (Go writes jwt.Service unconverted there). */
  type: 'stream' | 'service' | 2;
  invalid: boolean;
  share: boolean;
  tracking: boolean;
}

/** Go writes a map's keys sorted. */
function byKey<T>(entries: [string, T][]): Record<string, T> {
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A service export's response type as the server names it (respType.String()). */
function responseTypeName(t: string | undefined): string {
  if (t === 'Stream') return 'Streamed';
  if (t === 'Chunked') return 'Chunked';
  return 'Singleton';
}

/** `mappings`: each source's destinations, cumulative weights (nats-server's ExtMap). */
export function mappingsOf(acc: Account): Record<string, MappingDestination[]> | undefined {
  const m = acc.mapper?.describe() ?? [];
  if (m.length === 0) return undefined;
  return byKey(m.map((x) => [x.src, x.dests]));
}

/**
 * `exports`: services, then streams, as nats-server lists them. From the account JWT in operator
 * mode, else from the config file's `exports` of the account.
 */
export function exportsOf(acc: Account, auth: AuthorizationConfig): ExtExport[] | undefined {
  const out =
    acc.jwt !== undefined
      ? jwtExports(acc.jwt.claims.nats.exports ?? [])
      : configExports(auth.accounts.find((c) => c.name === acc.name)?.exports ?? []);
  return out.length > 0 ? out : undefined;
}

function jwtExports(exports: readonly JwtExport[]): ExtExport[] {
  const one = (e: JwtExport): ExtExport => {
    const service = e.type === 'service';
    const x: ExtExport = { subject: e.subject, type: service ? 'service' : 'stream' };
    if (e.token_req === true) x.token_req = true;
    if (service) x.response_type = responseTypeName(e.response_type);
    // nats-server keeps no export record for a public stream (no token), so no revocations either.
    const revoked = Object.entries(e.revocations ?? {});
    if (revoked.length > 0 && (service || e.token_req === true)) {
      x.revoked_activations = byKey(revoked.map(([k, t]) => [k, rfc3339(new Date(t * 1000))]));
    }
    return x;
  };
  return [
    ...exports.filter((e) => e.type === 'service').map(one),
    ...exports.filter((e) => e.type !== 'service').map(one),
  ];
}

function configExports(exports: readonly ExportConfig[]): ExtExport[] {
  const one = (e: ExportConfig): ExtExport => {
    const service = e.service !== undefined;
    const x: ExtExport = {
      subject: (service ? e.service : e.stream) ?? '',
      type: service ? 'service' : 'stream',
    };
    if (service) x.response_type = responseTypeName(e.responseType);
    if ((e.accounts ?? []).length > 0) x.approved_accounts = [...e.accounts!].sort();
    return x;
  };
  return [
    ...exports.filter((e) => e.service !== undefined).map(one),
    ...exports.filter((e) => e.service === undefined).map(one),
  ];
}

/**
 * `imports`: the stream imports (found on their exporters), then the service imports. A stream import's
 * local subject is where its messages arrive; a service import's `subject` is the importer's and `to`
 * the exporter's.
 */
export function importsOf(acc: Account, accounts: readonly Account[]): ExtImport[] | undefined {
  const out: ExtImport[] = [];
  for (const exporter of accounts) {
    for (const imp of exporter.streamImporters) {
      if (imp.importer !== acc) continue;
      const local = imp.to !== '' ? imp.to : imp.prefix !== '' ? `${imp.prefix}.${imp.subject}` : imp.subject;
      out.push({
        subject: wireToText(imp.subject),
        account: exporter.name,
        local_subject: wireToText(local),
        type: 'stream',
        invalid: false,
        share: false,
        tracking: false,
      });
    }
  }
  for (const si of acc.serviceImports) {
    out.push({
      subject: wireToText(si.local),
      account: si.exporter.name,
      to: wireToText(si.remote),
      type: 'service',
      invalid: false,
      share: false,
      tracking: false,
    });
  }
  return out.length > 0 ? out : undefined;
}

/** `responses`: the reply mappings of requests that crossed into this account, by mapped subject. */
export function responsesOf(acc: Account): Record<string, ExtImport> | undefined {
  const routes = acc.responseRoutes();
  if (routes.length === 0) return undefined;
  return byKey(
    routes.map(([subject, r]) => [
      subject,
      {
        subject,
        account: r.account.name,
        to: r.reply,
        type: 2,
        invalid: false,
        share: false,
        tracking: false,
      },
    ]),
  );
}
