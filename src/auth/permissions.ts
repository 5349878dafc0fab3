import { subjectHasWildcard, subjectIsSubsetMatch } from '../routing/subject.js';
import { textToWire } from '../routing/subject-text.js';
import { Sublist } from '../routing/sublist.js';
import type { Permissions, ResponsePermission } from './types.js';

/** An allow/deny entry: a subject, optionally with a queue group ("foo.* workers"). */
interface PermEntry {
  subject: string;
  queue: string | undefined;
}

/** "subject [queue]" as in nats-server's splitSubjectQueue. */
export function splitSubjectQueue(s: string): PermEntry {
  const parts = s.trim().split(/\s+/);
  if (parts.length === 1) return { subject: parts[0]!, queue: undefined };
  if (parts.length === 2) return { subject: parts[0]!, queue: parts[1]! };
  throw new Error(`invalid subject-queue "${s}"`);
}

/**
 * Permissions are given as text (configuration, JWT) and checked against subjects and queue names in wire
 * form (routing/subject-text.ts).
 */
function buildList(entries: string[] | undefined, withQueues: boolean): Sublist<PermEntry> | null {
  if (entries === undefined) return null;
  const sl = new Sublist<PermEntry>();
  for (const e of entries) {
    if (withQueues) {
      const { subject, queue } = splitSubjectQueue(e);
      sl.insert({ subject: textToWire(subject), queue: queue === undefined ? undefined : textToWire(queue) });
    } else {
      sl.insert({ subject: textToWire(e), queue: undefined });
    }
  }
  return sl;
}

/** Whether a queue group name is covered by a permission's queue entries (nats-server's queueMatches). */
function queueMatches(queue: string, qsubs: PermEntry[][]): boolean {
  if (qsubs.length === 0) return true;
  for (const group of qsubs) {
    const qname = group[0]!.queue!;
    if (queue === qname || (subjectHasWildcard(qname) && subjectIsSubsetMatch(queue, qname))) return true;
  }
  return false;
}

/** Publish results are cached per subject; the cache is cleared when it grows past this. */
const PUB_CACHE_MAX = 128;
/** Reply subjects remembered for allow_responses are pruned past this many. */
const REPLY_LIMIT = 10000;

interface ReplyGrant {
  time: number;
  n: number;
}

/**
 * A connection's permissions, compiled into sublists (as nats-server's setPermissions does), with a
 * per-subject cache for publish checks, which sit on the hot path.
 */
export class ClientPermissions {
  private readonly pubAllow: Sublist<PermEntry> | null;
  private readonly pubDeny: Sublist<PermEntry> | null;
  private readonly subAllow: Sublist<PermEntry> | null;
  private readonly subDeny: Sublist<PermEntry> | null;
  private readonly subDenyList: string[];
  private readonly pubCache = new Map<string, boolean>();
  /** allow_responses: reply subjects this client may publish to, with use counts. */
  readonly responses: ResponsePermission | undefined;
  private readonly replies = new Map<string, ReplyGrant>();
  /** Set when a wildcard subscription overlaps the subscribe deny list: deliveries are checked too. */
  deliveryDenyCheck = false;
  private readonly denyCache = new Map<string, boolean>();

  constructor(p: Permissions) {
    this.pubAllow = buildList(p.publish?.allow, false);
    this.pubDeny =
      p.publish?.deny !== undefined && p.publish.deny.length > 0 ? buildList(p.publish.deny, false) : null;
    this.subAllow =
      p.subscribe?.allow !== undefined && p.subscribe.allow.length > 0
        ? buildList(p.subscribe.allow, true)
        : null;
    this.subDeny =
      p.subscribe?.deny !== undefined && p.subscribe.deny.length > 0
        ? buildList(p.subscribe.deny, true)
        : null;
    this.subDenyList = (p.subscribe?.deny ?? []).map(textToWire);
    this.responses = p.responses;
  }

  /** True when the permissions restrict publishing at all. */
  get restrictsPublish(): boolean {
    return this.pubAllow !== null || this.pubDeny !== null;
  }

  /** May this client publish to `subject`? (nats-server's pubAllowedFullCheck.) */
  canPublish(subject: string): boolean {
    const cached = this.pubCache.get(subject);
    if (cached !== undefined) return cached;
    let allowed = true;
    if (this.pubAllow !== null) allowed = this.pubAllow.match(subject).psubs.length > 0;
    if (allowed && this.pubDeny !== null) allowed = this.pubDeny.match(subject).psubs.length === 0;
    if (!allowed && this.responses !== undefined) {
      // A reply to a request this client received is allowed; not cached (it is used up).
      return this.useReply(subject);
    }
    if (this.pubCache.size >= PUB_CACHE_MAX) this.pubCache.clear();
    this.pubCache.set(subject, allowed);
    return allowed;
  }

  /** Remember that the client received a request with this reply subject (allow_responses). */
  grantReply(reply: string): void {
    if (this.responses === undefined) return;
    this.replies.set(reply, { time: Date.now(), n: 0 });
    if (this.replies.size > REPLY_LIMIT) this.pruneReplies();
  }

  private useReply(subject: string): boolean {
    const g = this.replies.get(subject);
    if (g === undefined) return false;
    const rp = this.responses!;
    if (rp.expires > 0 && Date.now() - g.time > rp.expires) {
      this.replies.delete(subject);
      return false;
    }
    g.n++;
    if (rp.max > 0 && g.n >= rp.max) this.replies.delete(subject);
    return true;
  }

  private pruneReplies(): void {
    const rp = this.responses!;
    const now = Date.now();
    for (const [k, g] of this.replies) {
      if ((rp.expires > 0 && now - g.time > rp.expires) || (rp.max > 0 && g.n >= rp.max))
        this.replies.delete(k);
    }
  }

  /** May this client subscribe to `subject` (with an optional queue group)? (nats-server's canSubscribe.) */
  canSubscribe(subject: string, queue: string | undefined): boolean {
    let allowed = true;
    if (this.subAllow !== null) {
      const r = this.subAllow.match(subject);
      allowed = r.psubs.length > 0;
      if (queue !== undefined && r.qsubs.length > 0) allowed = queueMatches(queue, r.qsubs);
    }
    if (allowed && this.subDeny !== null) {
      const r = this.subDeny.match(subject);
      allowed = r.psubs.length === 0;
      if (queue !== undefined && r.qsubs.length > 0) allowed = !queueMatches(queue, r.qsubs);
      // A wildcard subscription wider than a deny entry is allowed, but what the deny entry covers must
      // not be delivered on it: turn on the delivery-time check.
      if (allowed && !this.deliveryDenyCheck && subjectHasWildcard(subject)) {
        for (const d of this.subDenyList) {
          if (subjectIsSubsetMatch(splitSubjectQueue(d).subject, subject)) {
            this.deliveryDenyCheck = true;
            break;
          }
        }
      }
    }
    return allowed;
  }

  /** With the delivery-time check on: is a message on `subject` denied to this client? */
  deniedDelivery(subject: string): boolean {
    const cached = this.denyCache.get(subject);
    if (cached !== undefined) return cached;
    const denied = this.subDeny !== null && this.subDeny.match(subject).psubs.length > 0;
    if (this.denyCache.size >= PUB_CACHE_MAX) this.denyCache.clear();
    this.denyCache.set(subject, denied);
    return denied;
  }
}
