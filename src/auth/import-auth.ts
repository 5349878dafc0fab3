/**
 * Whether an account JWT's import is allowed by the exporter's JWT (nats-server's
 * checkStreamExportApproved / checkServiceExportApproved and checkActivation, server/accounts.go):
 *
 * - a public export allows everyone;
 * - an export with `account_token_position` allows the account whose key is at that token of the subject;
 * - an export with `token_req` allows an import carrying an activation token: an activation JWT issued by
 *   the exporter (or one of its signing keys, naming it in `issuer_account`) to the importer, for this
 *   kind and a subject containing the import's, not expired and not revoked by the export.
 */
import { subjectIsSubsetMatch } from '../routing/subject.js';
import { decodeActivationClaims, isRevokedIn, type JwtExport, type JwtImport, timeProblem } from './jwt.js';
import type { TrustedAccount } from './operator.js';

export type ImportAuth = { ok: true; export: JwtExport; expiresAt?: number } | { ok: false };

/** The subject the exporter sees for this import: a service's `to`/`subject`, a stream's `subject`. */
export function exportedSubject(i: JwtImport): string {
  const local = i.local_subject !== undefined && i.local_subject !== '';
  return String(i.type).toLowerCase() === 'service' && !local && i.to ? i.to : i.subject;
}

export function importAllowed(
  exporter: TrustedAccount,
  importer: string,
  i: JwtImport,
  nowMs = Date.now(),
): ImportAuth {
  const type = String(i.type).toLowerCase();
  const subject = exportedSubject(i);
  const exports = (exporter.claims.nats.exports ?? []).filter((e) => String(e.type).toLowerCase() === type);
  // A direct match decides alone; otherwise any export the subject falls under.
  const direct = exports.find((e) => e.subject === subject);
  const candidates =
    direct !== undefined ? [direct] : exports.filter((e) => subjectIsSubsetMatch(subject, e.subject));
  for (const e of candidates) {
    const pos = e.account_token_position ?? 0;
    if (pos > 0) {
      if (subject.split('.')[pos - 1] === importer) return { ok: true, export: e };
      continue;
    }
    if (e.token_req !== true) return { ok: true, export: e };
    const expiresAt = activationValid(exporter, importer, i, e, type, subject, nowMs);
    if (expiresAt !== false)
      return expiresAt === 0 ? { ok: true, export: e } : { ok: true, export: e, expiresAt };
  }
  return { ok: false };
}

/** The activation token's expiry (ms, 0 for none) when it is valid, else false. */
function activationValid(
  exporter: TrustedAccount,
  importer: string,
  i: JwtImport,
  e: JwtExport,
  type: string,
  subject: string,
  nowMs: number,
): number | false {
  if (i.token === undefined || i.token === '') return false;
  let act: ReturnType<typeof decodeActivationClaims>;
  try {
    act = decodeActivationClaims(i.token);
  } catch {
    return false;
  }
  const name = exporter.claims.sub;
  const issuerAccount = act.nats.issuer_account ?? '';
  // jwt's Import.Validate: issued by the exporter, to the importer, for this kind and subject.
  if (act.iss !== name && issuerAccount !== name) return false;
  if (act.sub !== importer) return false;
  if (String(act.nats.kind ?? '').toLowerCase() !== type) return false;
  if (!isContainedIn(subject, act.nats.subject ?? '')) return false;
  // isIssuerClaimTrusted: a signing key must be one of the exporter's.
  if (
    issuerAccount !== '' &&
    act.iss !== name &&
    !exporter.signingKeys.has(act.iss) &&
    !exporter.scopes.has(act.iss)
  )
    return false;
  if (timeProblem(act, nowMs) !== undefined) return false;
  if (isRevokedIn(e.revocations, act.sub, act.iat)) return false;
  return typeof act.exp === 'number' && act.exp > 0 ? act.exp * 1000 : 0;
}

/** jwt's Subject.IsContainedIn: `subject` is `other` or falls under its wildcards. */
function isContainedIn(subject: string, other: string): boolean {
  const mine = subject.split('.');
  const theirs = other.split('.');
  if (mine.length > theirs.length && theirs[theirs.length - 1] !== '>') return false;
  if (mine.length < theirs.length) return false;
  for (let i = 0; i < theirs.length; i++) {
    const tok = theirs[i]!;
    if (i === theirs.length - 1 && tok === '>') return true;
    if (tok !== mine[i] && tok !== '*') return false;
  }
  return true;
}
