/**
 * Scoped signing keys (jwt.UserScope): an account signing key that carries a template of permissions and
 * limits. A user JWT it signs must set none of its own (jwt's ValidateScopedSigner); the user gets the
 * template, with `{{name()}}`, `{{subject()}}`, `{{account-name()}}`, `{{account-subject()}}`,
 * `{{tag(x)}}` and `{{account-tag(x)}}` filled in (nats-server's processUserPermissionsTemplate,
 * server/auth.go).
 */
import { isValidSubject } from '../routing/subject.js';
import type { AccountClaims, JwtPermission, UserClaims, UserPermissionLimits } from './jwt.js';

/** The fields of jwt.UserPermissionLimits, which a scoped user's JWT must leave empty. */
const PERMISSION_LIMIT_FIELDS = [
  'pub',
  'sub',
  'resp',
  'src',
  'times',
  'times_location',
  'subs',
  'data',
  'payload',
  'bearer_token',
  'allowed_connection_types',
] as const;

/**
 * Whether the user JWT sets no permissions or limits (jwt's HasEmptyPermissions, a comparison with the
 * zero value: `pub: {}` is empty, `pub: { allow: [] }` or `subs: -1` is not).
 */
export function hasEmptyPermissions(u: UserClaims): boolean {
  const n = u.nats as Record<string, unknown>;
  for (const f of PERMISSION_LIMIT_FIELDS) {
    const v = n[f];
    if (v === undefined || v === null || v === false || v === 0 || v === '') continue;
    if ((f === 'pub' || f === 'sub') && typeof v === 'object') {
      const p = v as JwtPermission;
      if (p.allow == null && p.deny == null) continue;
    }
    return false;
  }
  return true;
}

/**
 * The template with its placeholders filled in for this user, or an error. A subject that comes out
 * invalid is dropped from an allow list (and an allow list left empty becomes "deny >"), and is an error
 * in a deny list.
 */
export function applyUserTemplate(
  template: UserPermissionLimits,
  user: UserClaims,
  account: AccountClaims,
): UserPermissionLimits | string {
  const fill = (list: string[] | undefined, failOnBad: boolean): string[] | undefined | string => {
    if (list == null || !list.some(hasPlaceholder)) return list;
    const out: string[] = [];
    for (const subject of list) {
      const tokens = subject.split('.');
      const tagValues: string[][] = [];
      const filled = tokens.map((tk) => {
        if (!isPlaceholder(tk)) return tk;
        const op = tk.slice(2, -2).toLowerCase();
        if (op === 'name()') return user.name ?? '';
        if (op === 'subject()') return user.sub;
        if (op === 'account-name()') return account.name ?? '';
        if (op === 'account-subject()') return user.nats.issuer_account ?? '';
        const tag = /^(account-)?tag\((.*)\)$/.exec(op);
        if (tag !== null) {
          const tags = (tag[1] !== undefined ? account.nats.tags : user.nats.tags) ?? [];
          const prefix = `${tag[2]!}:`;
          const values = tags.filter((t) => t.startsWith(prefix)).map((t) => t.slice(prefix.length));
          if (values.length > 0) tagValues.push(values);
          // An empty token marks where a tag value goes (and fails the subject check if none is found).
          return '';
        }
        // An unknown placeholder makes the subject invalid, on purpose.
        return ' ';
      });
      const candidates =
        tagValues.length === 0
          ? [filled.join('.')]
          : cartesian(tagValues).map((vals) => withTags(filled, vals));
      for (const c of candidates) {
        if (isValidSubject(c)) out.push(c);
        else if (failOnBad) return 'generated invalid subject';
      }
    }
    return out;
  };
  const pubAllowSet = (template.pub?.allow?.length ?? 0) > 0;
  const subAllowSet = (template.sub?.allow?.length ?? 0) > 0;
  const subAllow = fill(template.sub?.allow, false);
  const subDeny = fill(template.sub?.deny, true);
  const pubAllow = fill(template.pub?.allow, false);
  const pubDeny = fill(template.pub?.deny, true);
  for (const r of [subAllow, subDeny, pubAllow, pubDeny]) if (typeof r === 'string') return r;
  const sub: JwtPermission = {
    allow: subAllow as string[] | undefined,
    deny: subDeny as string[] | undefined,
  };
  const pub: JwtPermission = {
    allow: pubAllow as string[] | undefined,
    deny: pubDeny as string[] | undefined,
  };
  // Allow lists that were set but came out empty would allow everything: deny everything instead.
  if (subAllowSet && (sub.allow?.length ?? 0) === 0) sub.deny = [...(sub.deny ?? []), '>'];
  if (pubAllowSet && (pub.allow?.length ?? 0) === 0) pub.deny = [...(pub.deny ?? []), '>'];
  return { ...template, pub, sub };
}

function isPlaceholder(tk: string): boolean {
  return tk.startsWith('{{') && tk.endsWith('}}');
}

function hasPlaceholder(subject: string): boolean {
  return subject.split('.').some(isPlaceholder);
}

/** Every combination taking one value from each list. */
function cartesian(lists: string[][]): string[][] {
  let out: string[][] = [[]];
  for (const l of lists) out = out.flatMap((prefix) => l.map((v) => [...prefix, v]));
  return out;
}

/** The tokens with each empty one (a tag placeholder) replaced by the next value. */
function withTags(tokens: string[], values: string[]): string {
  let i = 0;
  return tokens.map((t) => (t === '' ? (values[i++] ?? '') : t)).join('.');
}
