// The subscription index: a trie over subject tokens plus a cache of match
// results keyed by published subject (the idea of nats-server's sublist.go).
//
// match() runs for every published message, so the common case must be a
// single Map.get on the cache. A subject enters the cache at its second miss
// (see CacheDoorkeeper): JetStream's ack and reply subjects are each published
// once, and caching them only churned the cache and the garbage collector.
// Cached results are shared and immutable: an insert replaces affected entries
// with copies that include the new subscription (copy-on-write, so results a
// caller still holds never change), and a remove deletes the affected entries
// so the next match rebuilds them.

import { matchLiteral, subjectIsLiteral } from './subject.js';

/** What the sublist needs from a subscription. Identity is the object itself. */
export interface SubscriptionLike {
  readonly subject: string;
  /** Queue group name; undefined for a plain subscription. */
  readonly queue?: string | undefined;
}

/**
 * Subscriptions interested in one subject: plain ones, and queue ones grouped
 * per queue name (each inner array is non-empty and holds one group). Results
 * are shared with the cache and other callers: never mutate them.
 */
export interface SublistResult<S> {
  psubs: S[];
  qsubs: S[][];
}

/** Same meaning as nats-server's SublistStats (reported by /subsz). */
export interface SublistStats {
  numSubscriptions: number;
  numCache: number;
  numInserts: number;
  numRemoves: number;
  numMatches: number;
  /** Cache hits / matches, 0 before the first match. */
  cacheHitRate: number;
  /** Largest psubs.length + qsubs.length among cached results. */
  maxFanout: number;
  /** Average psubs.length + qsubs.length among cached results. */
  avgFanout: number;
}

export class SublistError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SublistError';
  }
}

/** An empty array frozen at runtime but typed mutable to fit SublistResult. */
function frozenEmpty<T>(): T[] {
  const a: T[] = [];
  Object.freeze(a);
  return a;
}

/** The shared result for "no interest"; frozen so nobody can corrupt it. */
export const EMPTY_RESULT: SublistResult<never> = Object.freeze({
  psubs: frozenEmpty<never>(),
  qsubs: frozenEmpty<never[]>(),
});

/** Above this many cached subjects the cache is swept... */
export const SL_CACHE_MAX = 1024;
/** ...down to this many, so sweeps are rare (amortised O(1) per match). */
export const SL_CACHE_SWEEP = 512;

/**
 * In removeBatch, above this many wildcard subscriptions it is cheaper to
 * drop the whole cache than to scan it once per wildcard (a client with many
 * subscriptions disconnecting is the typical case).
 */
const BATCH_WILDCARD_SCAN_MAX = 16;

/** Bits of the cache doorkeeper's filter (a power of two; 4 KiB per sublist, allocated at the first miss). */
const DOORKEEPER_BITS = 32768;
/** The filter starts again empty after this many misses, so it never fills up. */
const DOORKEEPER_RESET = 4096;

/**
 * Decides which missed subjects enter the match cache: those that missed before, recently. It is a Bloom
 * filter of the subjects missed since it was last emptied (two bits per subject, emptied every
 * DOORKEEPER_RESET misses), so a subject is admitted at its second miss (the TinyLFU "doorkeeper").
 *
 * Why: every JetStream ack (`$JS.ACK.<stream>.<consumer>.<dc>.<sseq>...`) and every reply inbox of an
 * async publish is a subject published once. Cached, each one cost a Map insert and an eviction, and it
 * stayed alive long enough to survive young-generation collections and be promoted, so the old generation
 * filled with them. Measured: a unique subject's match took ~1.7 µs with the cache against ~0.6 µs without,
 * and jsfetchack ran 1.3× faster with no cache at all. A subject published repeatedly still gets its entry,
 * one miss later, also when thousands of subjects take turns. A false positive (a few percent when the
 * filter is fullest) only caches a subject at its first miss.
 */
class CacheDoorkeeper {
  private readonly bits = new Int32Array(DOORKEEPER_BITS >>> 5);
  private misses = 0;

  /** True when `subject` probably missed since the filter was last emptied; remembers it otherwise. */
  admit(subject: string): boolean {
    // FNV-1a over the UTF-16 code units, and a second index from a multiplicative remix of it.
    let h = 0x811c9dc5;
    for (let i = 0; i < subject.length; i++) h = Math.imul(h ^ subject.charCodeAt(i), 0x01000193);
    const i1 = h & (DOORKEEPER_BITS - 1);
    const i2 = Math.imul(h, 0x9e3779b1) >>> 17;
    const bits = this.bits;
    const m1 = 1 << (i1 & 31);
    const m2 = 1 << (i2 & 31);
    if ((bits[i1 >>> 5]! & m1) !== 0 && (bits[i2 >>> 5]! & m2) !== 0) return true;
    if (++this.misses > DOORKEEPER_RESET) {
      bits.fill(0);
      this.misses = 1;
    }
    bits[i1 >>> 5]! |= m1;
    bits[i2 >>> 5]! |= m2;
    return false;
  }
}

class TrieNode<S> {
  readonly psubs = new Set<S>();
  /** Created on the first queue subscription; empty groups are deleted. */
  qsubs: Map<string, Set<S>> | undefined = undefined;
  /** Created when a longer subject passes through; dropped when empty. */
  next: TrieLevel<S> | undefined = undefined;
}

class TrieLevel<S> {
  readonly nodes = new Map<string, TrieNode<S>>();
  /** The '*' token lives outside `nodes` so matching never looks it up by name. */
  pwc: TrieNode<S> | undefined = undefined;
  /** The '>' token, likewise. */
  fwc: TrieNode<S> | undefined = undefined;
}

function levelIsEmpty<S>(l: TrieLevel<S>): boolean {
  return l.nodes.size === 0 && l.pwc === undefined && l.fwc === undefined;
}

function nodeHasSubs<S>(n: TrieNode<S>): boolean {
  return n.psubs.size > 0 || (n.qsubs !== undefined && n.qsubs.size > 0);
}

/**
 * Splits `subject` on '.' into `out` (reused across calls to save
 * allocations) and returns the token count, or -1 if a token is empty.
 */
function tokenize(subject: string, out: string[]): number {
  let n = 0;
  let start = 0;
  for (;;) {
    const dot = subject.indexOf('.', start);
    const end = dot === -1 ? subject.length : dot;
    if (end === start) return -1;
    const tok = subject.slice(start, end);
    if (n < out.length) out[n] = tok;
    else out.push(tok);
    n++;
    if (dot === -1) return n;
    start = dot + 1;
  }
}

/** Accumulates a match; qidx merges same-named queue groups across nodes. */
class Collector<S> {
  readonly psubs: S[] = [];
  readonly qsubs: S[][] = [];
  qidx: Map<string, S[]> | undefined = undefined;

  addNode(n: TrieNode<S>): void {
    for (const sub of n.psubs) this.psubs.push(sub);
    if (n.qsubs === undefined) return;
    for (const [queue, group] of n.qsubs) {
      this.qidx ??= new Map();
      let out = this.qidx.get(queue);
      if (out === undefined) {
        out = [];
        this.qidx.set(queue, out);
        this.qsubs.push(out);
      }
      for (const sub of group) out.push(sub);
    }
  }
}

/**
 * Collects every node matching tokens[i..end) below level `l`. A '>' node
 * matches whatever remains, a '*' node consumes one token (recursing for the
 * rest), and a literal node continues the walk.
 */
function matchLevel<S>(
  level: TrieLevel<S> | undefined,
  tokens: readonly string[],
  i: number,
  end: number,
  out: Collector<S>,
): void {
  let l = level;
  let pwc: TrieNode<S> | undefined;
  let n: TrieNode<S> | undefined;
  for (; i < end; i++) {
    if (l === undefined) return;
    if (l.fwc !== undefined) out.addNode(l.fwc);
    pwc = l.pwc;
    if (pwc !== undefined) matchLevel(pwc.next, tokens, i + 1, end, out);
    // A level below a wildcard often has no literal tokens (`$JS.ACK.<s>.<c>.*.*.*.*.*`): no lookup then.
    n = l.nodes.size === 0 ? undefined : l.nodes.get(tokens[i]!);
    l = n?.next;
  }
  // Reached only with all tokens consumed: n and pwc belong to the last level.
  if (n !== undefined) out.addNode(n);
  if (pwc !== undefined) out.addNode(pwc);
}

/** matchLevel that stops at the first subscription found. */
function hasInterestLevel<S>(
  level: TrieLevel<S> | undefined,
  tokens: readonly string[],
  i: number,
  end: number,
): boolean {
  let l = level;
  let pwc: TrieNode<S> | undefined;
  let n: TrieNode<S> | undefined;
  for (; i < end; i++) {
    if (l === undefined) return false;
    if (l.fwc !== undefined && nodeHasSubs(l.fwc)) return true;
    pwc = l.pwc;
    if (pwc !== undefined && hasInterestLevel(pwc.next, tokens, i + 1, end)) return true;
    n = l.nodes.get(tokens[i]!);
    l = n?.next;
  }
  return (n !== undefined && nodeHasSubs(n)) || (pwc !== undefined && nodeHasSubs(pwc));
}

/** A copy of `r` that also contains `sub`; `r` itself is left untouched. */
function addSubToResult<S extends SubscriptionLike>(r: SublistResult<S>, sub: S): SublistResult<S> {
  const queue = sub.queue;
  if (queue === undefined) return { psubs: [...r.psubs, sub], qsubs: r.qsubs };
  // Untouched groups are shared between old and new result: both are immutable.
  const qsubs = r.qsubs.slice();
  for (let i = 0; i < qsubs.length; i++) {
    const group = qsubs[i]!;
    if (group[0]!.queue === queue) {
      qsubs[i] = [...group, sub];
      return { psubs: r.psubs, qsubs };
    }
  }
  qsubs.push([sub]);
  return { psubs: r.psubs, qsubs };
}

function collectAll<S>(l: TrieLevel<S>, out: S[]): void {
  const visit = (n: TrieNode<S>): void => {
    for (const sub of n.psubs) out.push(sub);
    if (n.qsubs !== undefined) {
      for (const group of n.qsubs.values()) for (const sub of group) out.push(sub);
    }
    if (n.next !== undefined) collectAll(n.next, out);
  };
  for (const n of l.nodes.values()) visit(n);
  if (l.pwc !== undefined) visit(l.pwc);
  if (l.fwc !== undefined) visit(l.fwc);
}

function levelDepth<S>(l: TrieLevel<S> | undefined, depth: number): number {
  if (l === undefined || levelIsEmpty(l)) return depth;
  const d = depth + 1;
  let max = d;
  for (const n of l.nodes.values()) max = Math.max(max, levelDepth(n.next, d));
  if (l.pwc !== undefined) max = Math.max(max, levelDepth(l.pwc.next, d));
  if (l.fwc !== undefined) max = Math.max(max, levelDepth(l.fwc.next, d));
  return max;
}

export class Sublist<S extends SubscriptionLike> {
  private readonly root = new TrieLevel<S>();
  /** Published subject -> result; undefined when caching is disabled. */
  private readonly cache: Map<string, SublistResult<S>> | undefined;
  private doorkeeper: CacheDoorkeeper | undefined;
  /** Scratch token buffer for match/hasInterest (synchronous, never re-entered). */
  private readonly scratch: string[] = [];
  private numSubs = 0;
  private gen = 0;
  private inserts = 0;
  private removes = 0;
  private matches = 0;
  private cacheHits = 0;
  /**
   * The last subject the cache answered, with its result while `gen` is unchanged: a publisher repeats
   * its subject, and one comparison (the same string object, from the parser's subject cache) is cheaper
   * than a Map lookup. It holds only cache answers, so it counts as a cache hit.
   */
  private lastSubject = '';
  private lastResult: SublistResult<S> = EMPTY_RESULT;
  private lastGen = -1;

  constructor(opts?: { cacheEnabled?: boolean }) {
    this.cache = opts?.cacheEnabled === false ? undefined : new Map();
  }

  /**
   * Generation number, bumped by every insert and every remove/removeBatch
   * that changed something, so holders of derived state (per-connection
   * caches) can tell when to refresh.
   */
  get genid(): number {
    return this.gen;
  }

  get cacheEnabled(): boolean {
    return this.cache !== undefined;
  }

  /**
   * Adds `sub`. Throws SublistError('invalid subject') for a subject with an
   * empty token or a non-terminal '>' (the trie's structural rules, as in
   * nats-server; full syntax checks such as whitespace belong to the caller,
   * see isValidSubject). Inserting the same object twice is a no-op.
   * The sub's subject and queue must not change while it is inserted.
   */
  insert(sub: S): void {
    const subject = sub.subject;
    const tokens: string[] = [];
    const nt = tokenize(subject, tokens);
    if (nt < 0) throw new SublistError('invalid subject');
    for (let i = 0; i < nt - 1; i++) {
      if (tokens[i] === '>') throw new SublistError('invalid subject');
    }

    // Validated before touching the trie, so a bad subject leaves no nodes.
    let l = this.root;
    let n: TrieNode<S> | undefined;
    for (let i = 0; i < nt; i++) {
      const t = tokens[i]!;
      if (t === '*') {
        n = l.pwc ??= new TrieNode();
      } else if (t === '>') {
        n = l.fwc ??= new TrieNode();
      } else {
        n = l.nodes.get(t);
        if (n === undefined) {
          n = new TrieNode();
          l.nodes.set(t, n);
        }
      }
      if (i < nt - 1) l = n.next ??= new TrieLevel();
    }
    const node = n!;

    const queue = sub.queue;
    if (queue === undefined) {
      if (node.psubs.has(sub)) return;
      node.psubs.add(sub);
    } else {
      node.qsubs ??= new Map();
      let group = node.qsubs.get(queue);
      if (group === undefined) {
        group = new Set();
        node.qsubs.set(queue, group);
      } else if (group.has(sub)) {
        return;
      }
      group.add(sub);
    }

    this.numSubs++;
    this.inserts++;
    this.gen++;
    this.addToCache(subject, sub);
  }

  /** Removes `sub` (by identity). Returns false if it was not present. */
  remove(sub: S): boolean {
    if (!this.removeFromTrie(sub)) return false;
    this.gen++;
    const cache = this.cache;
    if (cache !== undefined) {
      const subject = sub.subject;
      if (subjectIsLiteral(subject)) cache.delete(subject);
      else this.dropCachedMatches(cache, [subject]);
    }
    return true;
  }

  /** Removes every given subscription that is present. */
  removeBatch(subs: Iterable<S>): void {
    let removed = 0;
    const wildcards: string[] = [];
    const cache = this.cache;
    for (const sub of subs) {
      if (!this.removeFromTrie(sub)) continue;
      removed++;
      if (cache === undefined) continue;
      const subject = sub.subject;
      if (subjectIsLiteral(subject)) cache.delete(subject);
      else wildcards.push(subject);
    }
    if (removed === 0) return;
    this.gen++;
    if (cache !== undefined && wildcards.length > 0) {
      if (wildcards.length > BATCH_WILDCARD_SCAN_MAX) cache.clear();
      else this.dropCachedMatches(cache, wildcards);
    }
  }

  /**
   * Subscriptions interested in the literal subject `subject`. A subject with
   * an empty token matches nothing. The result is shared: do not mutate it.
   */
  match(subject: string): SublistResult<S> {
    this.matches++;
    if (subject === this.lastSubject && this.lastGen === this.gen) {
      this.cacheHits++;
      return this.lastResult;
    }
    const cache = this.cache;
    if (cache !== undefined) {
      const r = cache.get(subject);
      if (r !== undefined) {
        this.cacheHits++;
        this.lastSubject = subject;
        this.lastResult = r;
        this.lastGen = this.gen;
        return r;
      }
    }
    return this.matchAndCache(subject, cache);
  }

  /** Whether any subscription matches `subject`; does not fill the cache. */
  hasInterest(subject: string): boolean {
    const cache = this.cache;
    if (cache !== undefined) {
      const r = cache.get(subject);
      if (r !== undefined) return r.psubs.length > 0 || r.qsubs.length > 0;
    }
    const tokens = this.scratch;
    const nt = tokenize(subject, tokens);
    return nt > 0 && hasInterestLevel(this.root, tokens, 0, nt);
  }

  /** Number of subscriptions. */
  count(): number {
    return this.numSubs;
  }

  /** Number of subjects with a cached result. */
  cacheCount(): number {
    return this.cache?.size ?? 0;
  }

  stats(): SublistStats {
    let maxFanout = 0;
    let totFanout = 0;
    const cache = this.cache;
    if (cache !== undefined) {
      for (const r of cache.values()) {
        const f = r.psubs.length + r.qsubs.length;
        totFanout += f;
        if (f > maxFanout) maxFanout = f;
      }
    }
    const numCache = cache?.size ?? 0;
    return {
      numSubscriptions: this.numSubs,
      numCache,
      numInserts: this.inserts,
      numRemoves: this.removes,
      numMatches: this.matches,
      cacheHitRate: this.matches > 0 ? this.cacheHits / this.matches : 0,
      maxFanout,
      avgFanout: totFanout > 0 ? totFanout / numCache : 0,
    };
  }

  /** Every subscription, for monitoring and for replaying interest to peers. */
  all(): S[] {
    const out: S[] = [];
    collectAll(this.root, out);
    return out;
  }

  /** Depth of the trie (0 when empty); lets tests check that remove prunes. */
  numLevels(): number {
    return levelDepth(this.root, 0);
  }

  private matchAndCache(subject: string, cache: Map<string, SublistResult<S>> | undefined): SublistResult<S> {
    const tokens = this.scratch;
    const nt = tokenize(subject, tokens);
    // Not cached: such subjects are protocol errors, not worth cache slots.
    if (nt < 0) return EMPTY_RESULT;

    const c = new Collector<S>();
    matchLevel(this.root, tokens, 0, nt, c);
    const r: SublistResult<S> =
      c.psubs.length === 0 && c.qsubs.length === 0 ? EMPTY_RESULT : { psubs: c.psubs, qsubs: c.qsubs };

    if (cache !== undefined && this.admit(subject)) {
      cache.set(subject, r);
      if (cache.size > SL_CACHE_MAX) {
        // Map iterates in insertion order, so this evicts the oldest entries.
        for (const key of cache.keys()) {
          cache.delete(key);
          if (cache.size <= SL_CACHE_SWEEP) break;
        }
      }
    }
    return r;
  }

  /** Whether a missed subject should be cached now (see CacheDoorkeeper). */
  private admit(subject: string): boolean {
    if (this.doorkeeper === undefined) this.doorkeeper = new CacheDoorkeeper();
    return this.doorkeeper.admit(subject);
  }

  /** Adds a newly inserted sub to the cached results it belongs to. */
  private addToCache(subject: string, sub: S): void {
    const cache = this.cache;
    if (cache === undefined) return;
    // A literal subscription can only be in the result for its own subject.
    if (subjectIsLiteral(subject)) {
      const r = cache.get(subject);
      if (r !== undefined) cache.set(subject, addSubToResult(r, sub));
      return;
    }
    // Overwriting existing keys while iterating a Map is well defined.
    for (const [key, r] of cache) {
      if (matchLiteral(key, subject)) cache.set(key, addSubToResult(r, sub));
    }
  }

  /** Drops cached results for subjects matched by any of the given patterns. */
  private dropCachedMatches(cache: Map<string, SublistResult<S>>, patterns: readonly string[]): void {
    for (const key of cache.keys()) {
      for (const p of patterns) {
        if (matchLiteral(key, p)) {
          cache.delete(key);
          break;
        }
      }
    }
  }

  /** Removes `sub` from the trie, pruning emptied nodes; no cache or genid work. */
  private removeFromTrie(sub: S): boolean {
    const tokens: string[] = [];
    const nt = tokenize(sub.subject, tokens);
    if (nt < 0) return false;

    // Remember the path so emptied nodes can be pruned bottom-up.
    const levels: TrieLevel<S>[] = [];
    const nodes: TrieNode<S>[] = [];
    let l: TrieLevel<S> | undefined = this.root;
    for (let i = 0; i < nt; i++) {
      if (l === undefined) return false;
      const t = tokens[i]!;
      const n: TrieNode<S> | undefined = t === '*' ? l.pwc : t === '>' ? l.fwc : l.nodes.get(t);
      if (n === undefined) return false;
      levels.push(l);
      nodes.push(n);
      l = n.next;
    }

    const node = nodes[nt - 1]!;
    const queue = sub.queue;
    if (queue === undefined) {
      if (!node.psubs.delete(sub)) return false;
    } else {
      const group = node.qsubs?.get(queue);
      if (group === undefined || !group.delete(sub)) return false;
      if (group.size === 0) node.qsubs!.delete(queue);
    }
    this.numSubs--;
    this.removes++;

    for (let i = nt - 1; i >= 0; i--) {
      const n = nodes[i]!;
      if (n.next !== undefined && levelIsEmpty(n.next)) n.next = undefined;
      // An ancestor of a non-empty node is non-empty too.
      if (n.next !== undefined || nodeHasSubs(n)) break;
      const parent = levels[i]!;
      const t = tokens[i]!;
      if (t === '*') parent.pwc = undefined;
      else if (t === '>') parent.fwc = undefined;
      else parent.nodes.delete(t);
    }
    return true;
  }
}
