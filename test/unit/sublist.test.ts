import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { matchLiteral } from '../../src/routing/subject.js';
import {
  EMPTY_RESULT,
  SL_CACHE_MAX,
  Sublist,
  SublistError,
  type SublistResult,
} from '../../src/routing/sublist.js';
import { rng } from '../helpers/random.js';

interface Sub {
  readonly id: number;
  readonly subject: string;
  readonly queue: string | undefined;
}

let nextId = 1;
function newSub(subject: string): Sub {
  return { id: nextId++, subject, queue: undefined };
}
function newQSub(subject: string, queue: string): Sub {
  return { id: nextId++, subject, queue };
}

/** Result with arrays replaced by sorted ids, groups keyed by queue name. */
function normalize(r: SublistResult<Sub>): { psubs: number[]; qsubs: Record<string, number[]> } {
  const qsubs: Record<string, number[]> = {};
  for (const group of r.qsubs) {
    assert.ok(group.length > 0, 'queue groups are never empty');
    const name = group[0]!.queue!;
    assert.equal(qsubs[name], undefined, `queue ${name} appears in a single group`);
    for (const s of group) assert.equal(s.queue, name, 'a group holds one queue name');
    qsubs[name] = group.map((s) => s.id).sort((a, b) => a - b);
  }
  return { psubs: r.psubs.map((s) => s.id).sort((a, b) => a - b), qsubs };
}

/** What match() must return, computed by testing every sub with matchLiteral. */
function bruteForce(
  subs: Iterable<Sub>,
  subject: string,
): { psubs: number[]; qsubs: Record<string, number[]> } {
  const psubs: number[] = [];
  const groups = new Map<string, number[]>();
  for (const s of subs) {
    if (!matchLiteral(subject, s.subject)) continue;
    if (s.queue === undefined) {
      psubs.push(s.id);
    } else {
      let g = groups.get(s.queue);
      if (g === undefined) {
        g = [];
        groups.set(s.queue, g);
      }
      g.push(s.id);
    }
  }
  const qsubs: Record<string, number[]> = {};
  for (const [name, g] of groups) qsubs[name] = g.sort((a, b) => a - b);
  return { psubs: psubs.sort((a, b) => a - b), qsubs };
}

function ids(subs: readonly Sub[]): number[] {
  return subs.map((s) => s.id).sort((a, b) => a - b);
}

// Every behavioural test runs with and without the cache.
for (const cacheEnabled of [true, false]) {
  const mk = (): Sublist<Sub> => new Sublist<Sub>({ cacheEnabled });

  describe(`Sublist (cache ${cacheEnabled ? 'on' : 'off'})`, () => {
    test('starts empty', () => {
      const s = mk();
      assert.equal(s.count(), 0);
      assert.equal(s.genid, 0);
      assert.equal(s.numLevels(), 0);
      assert.equal(s.cacheEnabled, cacheEnabled);
      assert.deepEqual(s.all(), []);
      assert.equal(s.match('foo'), EMPTY_RESULT);
    });

    test('insert counts', () => {
      const s = mk();
      s.insert(newSub('foo'));
      s.insert(newSub('bar'));
      s.insert(newSub('foo.bar'));
      assert.equal(s.count(), 3);
    });

    test('simple and multi-token literal match', () => {
      const s = mk();
      const a = newSub('foo');
      const b = newSub('foo.bar.baz');
      s.insert(a);
      s.insert(b);
      assert.deepEqual(s.match('foo').psubs, [a]);
      assert.deepEqual(s.match('foo.bar.baz').psubs, [b]);
      assert.equal(s.match('foo.bar').psubs.length, 0);
      assert.equal(s.match('bar').psubs.length, 0);
    });

    test('two-token publish does not match single-token sub', () => {
      const s = mk();
      const a = newSub('foo');
      s.insert(a);
      assert.deepEqual(s.match('foo').psubs, [a]);
      assert.equal(s.match('foo.bar').psubs.length, 0);
    });

    test('partial wildcard in the middle and at the end', () => {
      const s = mk();
      const lsub = newSub('a.b.c');
      const mid = newSub('a.*.c');
      const end = newSub('a.b.*');
      const first = newSub('*.b.c');
      for (const x of [lsub, mid, end, first]) s.insert(x);
      assert.deepEqual(ids(s.match('a.b.c').psubs), ids([lsub, mid, end, first]));
      assert.deepEqual(ids(s.match('a.x.c').psubs), ids([mid]));
      assert.deepEqual(ids(s.match('a.b.x').psubs), ids([end]));
      assert.deepEqual(ids(s.match('x.b.c').psubs), ids([first]));
      assert.equal(s.match('a.b').psubs.length, 0);
      assert.equal(s.match('a.b.c.d').psubs.length, 0);
    });

    test('full wildcard', () => {
      const s = mk();
      const lsub = newSub('a.b.c');
      const fsub = newSub('a.>');
      const all = newSub('>');
      s.insert(lsub);
      s.insert(fsub);
      s.insert(all);
      assert.deepEqual(ids(s.match('a.b.c').psubs), ids([lsub, fsub, all]));
      assert.deepEqual(ids(s.match('a.b').psubs), ids([fsub, all]));
      // '>' needs at least one token after the prefix.
      assert.deepEqual(ids(s.match('a').psubs), ids([all]));
      assert.deepEqual(ids(s.match('b').psubs), ids([all]));
      // As in nats-server, matching the pattern itself finds the '>' sub.
      assert.ok(s.match('a.>').psubs.includes(fsub));
    });

    test('mixed wildcards', () => {
      const s = mk();
      const a = newSub('*.*.>');
      const b = newSub('foo.*.baz');
      const c = newSub('*.bar.>');
      for (const x of [a, b, c]) s.insert(x);
      assert.deepEqual(ids(s.match('foo.bar.baz').psubs), ids([a, b, c]));
      assert.deepEqual(ids(s.match('foo.bar').psubs), []);
      assert.deepEqual(ids(s.match('x.bar.y.z').psubs), ids([a, c]));
    });

    test('wildcard characters inside tokens are literal', () => {
      const s = mk();
      for (const subject of ['foo.*-', 'foo.>-']) {
        const sub = newSub(subject);
        s.insert(sub);
        assert.equal(s.match('foo.bar').psubs.length, 0);
        assert.deepEqual(s.match(subject).psubs, [sub]);
        // Removing a different subject leaves it alone.
        assert.equal(s.remove(newSub('foo.bar')), false);
        assert.equal(s.count(), 1);
        assert.equal(s.remove(sub), true);
        assert.equal(s.count(), 0);
      }
    });

    test('publish subjects with empty tokens match nothing', () => {
      const s = mk();
      s.insert(newSub('>'));
      s.insert(newQSub('>', 'queue'));
      for (const subj of ['', '.foo', '..foo', 'foo..', 'foo.', 'foo..bar', 'foo...bar', '.']) {
        assert.equal(s.match(subj), EMPTY_RESULT, subj);
        assert.equal(s.hasInterest(subj), false, subj);
      }
      assert.equal(s.cacheCount(), 0, 'invalid subjects are not cached');
    });

    test('invalid subjects are refused on insert and leave no trace', () => {
      const s = mk();
      for (const subj of ['', '.foo', 'foo.', 'foo..bar', 'foo.bar..baz', 'foo.>.bar', '>.foo', '.']) {
        assert.throws(
          () => s.insert(newSub(subj)),
          (e: unknown) => e instanceof SublistError && e.message === 'invalid subject',
          subj,
        );
      }
      assert.equal(s.count(), 0);
      assert.equal(s.genid, 0);
      assert.equal(s.numLevels(), 0, 'no half-built trie branches');
    });

    test('remove of unknown or invalid subjects returns false', () => {
      const s = mk();
      const sub = newSub('a.b.c.d');
      s.insert(sub);
      assert.equal(s.remove(newSub('a.b.c')), false);
      assert.equal(s.remove(newSub('a.b.c.d')), false, 'same subject, different object');
      assert.equal(s.remove(newSub('a.b..d')), false);
      assert.equal(s.remove(newSub('a.>.b')), false);
      assert.equal(s.remove(newQSub('a.b.c.d', 'q')), false);
      assert.equal(s.count(), 1);
      assert.equal(s.remove(sub), true);
      assert.equal(s.remove(sub), false, 'second remove');
      assert.equal(s.count(), 0);
      assert.equal(s.match('a.b.c.d').psubs.length, 0);
    });

    test('remove with wildcards', () => {
      const s = mk();
      const sub = newSub('a.b.c.d');
      const psub = newSub('a.b.*.d');
      const fsub = newSub('a.b.>');
      s.insert(sub);
      s.insert(psub);
      s.insert(fsub);
      assert.equal(s.count(), 3);
      assert.equal(s.match('a.b.c.d').psubs.length, 3);
      assert.ok(s.remove(sub));
      assert.equal(s.count(), 2);
      assert.deepEqual(ids(s.match('a.b.c.d').psubs), ids([psub, fsub]));
      assert.ok(s.remove(fsub));
      assert.deepEqual(ids(s.match('a.b.c.d').psubs), ids([psub]));
      assert.ok(s.remove(psub));
      assert.equal(s.count(), 0);
      assert.equal(s.match('a.b.c.d').psubs.length, 0);
    });

    test('remove prunes the trie (literal and wildcard)', () => {
      const s = mk();
      const lit = newSub('a.b.c.d.e.f');
      s.insert(lit);
      assert.equal(s.numLevels(), 6);
      s.remove(lit);
      assert.equal(s.numLevels(), 0);

      const wc = newSub('a.b.*.d.e.>');
      s.insert(wc);
      assert.equal(s.numLevels(), 6);
      s.remove(wc);
      assert.equal(s.numLevels(), 0);
    });

    test('remove prunes only the emptied branch', () => {
      const s = mk();
      const short = newSub('a.b');
      const long = newSub('a.b.c.d');
      const q = newQSub('a.b.c.d.e', 'q');
      s.insert(short);
      s.insert(long);
      s.insert(q);
      assert.equal(s.numLevels(), 5);
      s.remove(q);
      assert.equal(s.numLevels(), 4);
      s.remove(long);
      assert.equal(s.numLevels(), 2);
      assert.deepEqual(s.match('a.b').psubs, [short]);
      s.remove(short);
      assert.equal(s.numLevels(), 0);
    });

    test('many subs on one subject; remove first, middle, last', () => {
      const s = mk();
      const subs: Sub[] = [];
      for (let i = 0; i < 512; i++) {
        const x = newSub('foo');
        subs.push(x);
        s.insert(x);
      }
      let r = s.match('foo');
      assert.equal(r.psubs.length, 512);
      s.remove(r.psubs[256]!);
      s.remove(r.psubs[0]!);
      s.remove(r.psubs[511]!);
      r = s.match('foo');
      assert.equal(r.psubs.length, 509);
      assert.deepEqual(ids(r.psubs), ids(subs.filter((_, i) => i !== 0 && i !== 256 && i !== 511)));
    });

    test('inserting the same object twice is a no-op', () => {
      const s = mk();
      const a = newSub('foo');
      const q = newQSub('foo', 'g');
      s.insert(a);
      s.insert(q);
      s.match('foo');
      const gen = s.genid;
      s.insert(a);
      s.insert(q);
      assert.equal(s.count(), 2);
      assert.equal(s.genid, gen);
      const r = s.match('foo');
      assert.deepEqual(r.psubs, [a]);
      assert.deepEqual(r.qsubs, [[q]]);
    });

    test('basic queue results (TestSublistBasicQueueResults)', () => {
      const s = mk();
      const subject = 'foo';
      const sub = newSub(subject);
      const sub1 = newQSub(subject, 'bar');
      const sub2 = newQSub(subject, 'baz');

      s.insert(sub1);
      assert.deepEqual(normalize(s.match(subject)), { psubs: [], qsubs: { bar: [sub1.id] } });
      s.insert(sub2);
      assert.deepEqual(normalize(s.match(subject)), { psubs: [], qsubs: { bar: [sub1.id], baz: [sub2.id] } });
      s.insert(sub);
      assert.deepEqual(normalize(s.match(subject)), {
        psubs: [sub.id],
        qsubs: { bar: [sub1.id], baz: [sub2.id] },
      });

      const sub3 = newQSub(subject, 'bar');
      const sub4 = newQSub(subject, 'baz');
      s.insert(sub3);
      s.insert(sub4);
      assert.deepEqual(normalize(s.match(subject)), {
        psubs: [sub.id],
        qsubs: { bar: [sub1.id, sub3.id], baz: [sub2.id, sub4.id] },
      });

      s.remove(sub);
      assert.deepEqual(normalize(s.match(subject)), {
        psubs: [],
        qsubs: { bar: [sub1.id, sub3.id], baz: [sub2.id, sub4.id] },
      });
      s.remove(sub1);
      assert.deepEqual(normalize(s.match(subject)), {
        psubs: [],
        qsubs: { bar: [sub3.id], baz: [sub2.id, sub4.id] },
      });
      s.remove(sub3);
      assert.deepEqual(normalize(s.match(subject)), { psubs: [], qsubs: { baz: [sub2.id, sub4.id] } });
      s.remove(sub2);
      s.remove(sub4);
      assert.deepEqual(normalize(s.match(subject)), { psubs: [], qsubs: {} });
      assert.equal(s.count(), 0);
      assert.equal(s.numLevels(), 0);
    });

    test('same queue name from different nodes merges into one group', () => {
      const s = mk();
      const a = newQSub('foo.*', 'q');
      const b = newQSub('foo.>', 'q');
      const c = newQSub('foo.bar', 'q');
      const d = newQSub('>', 'other');
      const p = newSub('foo.bar');
      for (const x of [a, b, c, d, p]) s.insert(x);
      const r = s.match('foo.bar');
      assert.equal(r.qsubs.length, 2);
      assert.deepEqual(normalize(r), {
        psubs: [p.id],
        qsubs: { q: ids([a, b, c]), other: [d.id] },
      });
      // Adding to an already cached result keeps groups merged.
      const e = newQSub('*.bar', 'q');
      s.insert(e);
      assert.deepEqual(normalize(s.match('foo.bar')), {
        psubs: [p.id],
        qsubs: { q: ids([a, b, c, e]), other: [d.id] },
      });
    });

    test('hasInterest', () => {
      const s = mk();
      assert.equal(s.hasInterest('foo'), false);
      const a = newSub('foo.*');
      const q = newQSub('bar.>', 'g');
      s.insert(a);
      s.insert(q);
      assert.equal(s.hasInterest('foo.x'), true);
      assert.equal(s.hasInterest('foo'), false);
      assert.equal(s.hasInterest('foo.x.y'), false);
      assert.equal(s.hasInterest('bar.x.y'), true);
      assert.equal(s.hasInterest('bar'), false);
      s.match('foo.x'); // now cached (when enabled)
      assert.equal(s.hasInterest('foo.x'), true);
      s.remove(a);
      assert.equal(s.hasInterest('foo.x'), false);
      s.remove(q);
      assert.equal(s.hasInterest('bar.x.y'), false);
    });

    test('genid changes on every insert and effective remove', () => {
      const s = mk();
      const a = newSub('a');
      const b = newSub('b.*');
      const c = newQSub('c', 'q');
      s.insert(a);
      assert.equal(s.genid, 1);
      s.insert(b);
      s.insert(c);
      assert.equal(s.genid, 3);
      s.match('a');
      assert.equal(s.genid, 3, 'match does not change it');
      s.remove(a);
      assert.equal(s.genid, 4);
      s.remove(a);
      assert.equal(s.genid, 4, 'no-op remove does not change it');
      s.removeBatch([b, c, newSub('zzz')]);
      assert.equal(s.genid, 5, 'one bump per batch');
      s.removeBatch([]);
      assert.equal(s.genid, 5);
    });

    test('removeBatch', () => {
      const s = mk();
      const subs = [newSub('foo'), newSub('bar'), newSub('foo.*'), newQSub('foo.>', 'q'), newSub('baz.>')];
      for (const x of subs) s.insert(x);
      s.match('foo');
      s.match('foo.bar');
      s.match('baz.x');
      s.removeBatch(new Set([subs[0]!, subs[2]!, subs[3]!]));
      assert.equal(s.count(), 2);
      assert.equal(s.match('foo').psubs.length, 0);
      assert.equal(s.match('foo.bar').qsubs.length, 0);
      assert.equal(s.match('foo.bar').psubs.length, 0);
      assert.deepEqual(s.match('bar').psubs, [subs[1]]);
      assert.deepEqual(s.match('baz.x').psubs, [subs[4]]);
      s.removeBatch(s.all());
      assert.equal(s.count(), 0);
      assert.equal(s.numLevels(), 0);
    });

    test('removeBatch with many wildcards', () => {
      const s = mk();
      const keep = newSub('x.>');
      s.insert(keep);
      const subs: Sub[] = [];
      for (let i = 0; i < 40; i++) {
        const x = newSub(`x.${i}.*`);
        subs.push(x);
        s.insert(x);
      }
      for (let i = 0; i < 40; i++) assert.equal(s.match(`x.${i}.y`).psubs.length, 2);
      s.removeBatch(subs);
      for (let i = 0; i < 40; i++) assert.deepEqual(s.match(`x.${i}.y`).psubs, [keep]);
      assert.equal(s.count(), 1);
    });

    test('all() returns every subscription', () => {
      const s = mk();
      const subs = [newSub('foo.bar.baz'), newSub('foo'), newSub('baz'), newSub('*'), newSub('>')];
      subs.push(newQSub('foo', 'q1'), newQSub('foo', 'q2'), newQSub('foo.*', 'q1'));
      for (const x of subs) s.insert(x);
      assert.deepEqual(ids(s.all()), ids(subs));
    });

    test('stats without cache report zero cache figures', () => {
      const s = mk();
      s.insert(newSub('foo'));
      s.insert(newSub('bar'));
      s.insert(newSub('baz'));
      s.insert(newSub('foo.bar.baz'));
      s.match('a.b.c');
      s.match('bar');
      const st = s.stats();
      assert.equal(st.numSubscriptions, 4);
      assert.equal(st.numInserts, 4);
      assert.equal(st.numRemoves, 0);
      assert.equal(st.numMatches, 2);
      if (!cacheEnabled) {
        assert.equal(st.numCache, 0);
        assert.equal(st.cacheHitRate, 0);
        assert.equal(st.maxFanout, 0);
        assert.equal(st.avgFanout, 0);
      }
    });

    test(`random insert/remove/match agrees with brute force (cache ${cacheEnabled})`, () => {
      runRandom(mk, 0xc0ffee, 4000, ['a', 'b', 'c'], 4);
    });

    test(`random ops with many distinct subjects (cache sweeps) (cache ${cacheEnabled})`, () => {
      runRandom(mk, 0x5eed, 6000, ['a', 'b', 'c', 'd', 'e', 'f', 'g'], 4);
    });
  });
}

/**
 * Applies a seeded random mix of insert/remove/removeBatch/match/hasInterest
 * and checks every match against a brute-force matcher. Also checks that
 * results handed out earlier are never mutated (copy-on-write cache).
 */
function runRandom(
  mk: () => Sublist<Sub>,
  seed: number,
  ops: number,
  alphabet: readonly string[],
  maxLen: number,
) {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const literal = (): string => {
    const n = 1 + Math.floor(rand() * maxLen);
    const toks: string[] = [];
    for (let i = 0; i < n; i++) toks.push(pick(alphabet));
    return toks.join('.');
  };
  const pattern = (): string => {
    const n = 1 + Math.floor(rand() * maxLen);
    const toks: string[] = [];
    for (let i = 0; i < n; i++) {
      const x = rand();
      if (i === n - 1 && x < 0.15) toks.push('>');
      else if (x < 0.35) toks.push('*');
      else toks.push(pick(alphabet));
    }
    return toks.join('.');
  };

  const s = mk();
  const live = new Set<Sub>();
  const held: { r: SublistResult<Sub>; snapshot: string }[] = [];
  const snap = (r: SublistResult<Sub>): string =>
    JSON.stringify([r.psubs.map((x) => x.id), r.qsubs.map((g) => g.map((x) => x.id))]);

  for (let op = 0; op < ops; op++) {
    const x = rand();
    if (x < 0.3) {
      const subj = rand() < 0.5 ? literal() : pattern();
      const q = rand() < 0.3 ? pick(['q1', 'q2', 'q3']) : undefined;
      const sub: Sub = { id: nextId++, subject: subj, queue: q };
      s.insert(sub);
      live.add(sub);
    } else if (x < 0.45) {
      if (live.size > 0) {
        const arr = [...live];
        const victim = pick(arr);
        assert.equal(s.remove(victim), true);
        live.delete(victim);
      } else {
        assert.equal(s.remove(newSub(literal())), false);
      }
    } else if (x < 0.48) {
      const arr = [...live];
      const batch: Sub[] = [];
      const k = Math.floor(rand() * 25);
      for (let i = 0; i < k && arr.length > 0; i++) {
        const j = Math.floor(rand() * arr.length);
        batch.push(arr[j]!);
        arr.splice(j, 1);
      }
      batch.push(newSub(literal())); // never inserted: ignored
      s.removeBatch(batch);
      for (const b of batch) live.delete(b);
    } else if (x < 0.9) {
      const subj = literal();
      const r = s.match(subj);
      assert.deepEqual(normalize(r), bruteForce(live, subj), `match ${subj} at op ${op}`);
      if (held.length < 200 && rand() < 0.2) held.push({ r, snapshot: snap(r) });
    } else {
      const subj = literal();
      const want = bruteForce(live, subj);
      assert.equal(s.hasInterest(subj), want.psubs.length > 0 || Object.keys(want.qsubs).length > 0);
    }
    assert.equal(s.count(), live.size);
    assert.ok(s.cacheCount() <= SL_CACHE_MAX);
  }

  for (const h of held) assert.equal(snap(h.r), h.snapshot, 'a returned result was mutated');
  assert.deepEqual(ids(s.all()), ids([...live]));
  s.removeBatch([...live]);
  assert.equal(s.count(), 0);
  assert.equal(s.numLevels(), 0);
}

/** Matches `subject` twice: a subject enters the cache at its second miss. */
function warm(s: Sublist<Sub>, subject: string): SublistResult<Sub> {
  s.match(subject);
  return s.match(subject);
}

describe('Sublist cache', () => {
  test('cache hit returns the same result object', () => {
    const s = new Sublist<Sub>();
    s.insert(newSub('foo.*'));
    const r1 = warm(s, 'foo.bar');
    const r2 = s.match('foo.bar');
    assert.equal(r1, r2);
    assert.equal(s.cacheCount(), 1);
  });

  test('a subject asked again and again sees every insert and remove in between', () => {
    const s = new Sublist<Sub>();
    const a = newSub('foo.bar');
    s.insert(a);
    for (let i = 0; i < 3; i++) assert.deepEqual(s.match('foo.bar').psubs, [a]);
    const b = newSub('foo.*');
    s.insert(b);
    assert.deepEqual(s.match('foo.bar').psubs, [a, b]);
    const q = newQSub('>', 'q');
    s.insert(q);
    assert.deepEqual(normalize(s.match('foo.bar')).qsubs, { q: [q.id] });
    s.remove(a);
    assert.deepEqual(s.match('foo.bar').psubs, [b]);
    s.removeBatch([b, q]);
    assert.equal(s.match('foo.bar'), EMPTY_RESULT);
    assert.deepEqual(s.match('foo.baz').psubs, []);
    const stats = s.stats();
    assert.equal(stats.numMatches, 8);
  });

  test('a subject enters the cache at its second miss; subjects published once never do', () => {
    const s = new Sublist<Sub>();
    const w = newSub('$JS.ACK.S.C.*.*.*.*.*');
    s.insert(w);
    for (let seq = 1; seq <= 5000; seq++) {
      assert.deepEqual(s.match(`$JS.ACK.S.C.1.${seq}.${seq}.1765049952123456789.0`).psubs, [w]);
    }
    // Only the doorkeeper's false positives are cached (2.6% here).
    assert.ok(s.cacheCount() < 250, `unique subjects stay out of the cache (${s.cacheCount()} cached)`);
    const cached = s.cacheCount();
    const first = s.match('$JS.ACK.S.C.1.1.1.1.1');
    assert.deepEqual(first.psubs, [w]);
    assert.equal(s.cacheCount(), cached, 'not cached at the first miss');
    const second = s.match('$JS.ACK.S.C.1.1.1.1.1');
    const third = s.match('$JS.ACK.S.C.1.1.1.1.1');
    assert.equal(third, second, 'cached at the second miss');
    assert.equal(s.stats().numMatches, 5003);
  });

  test('subjects taking turns are all cached from their second round on', () => {
    const s = new Sublist<Sub>();
    s.insert(newSub('bench.*.x'));
    const n = 1000;
    for (let round = 0; round < 2; round++) for (let i = 0; i < n; i++) s.match(`bench.${i}.x`);
    const before = s.stats();
    for (let i = 0; i < n; i++) assert.equal(s.match(`bench.${i}.x`).psubs.length, 1);
    const after = s.stats();
    assert.equal(after.numMatches - before.numMatches, n);
    const hits = (st: { cacheHitRate: number; numMatches: number }): number =>
      Math.round(st.cacheHitRate * st.numMatches);
    assert.equal(hits(after) - hits(before), n);
    assert.equal(s.cacheCount(), n);
  });

  test('empty results are one shared frozen object', () => {
    const s = new Sublist<Sub>();
    const r1 = s.match('foo');
    const r2 = s.match('bar');
    assert.equal(r1, r2);
    assert.equal(r1, EMPTY_RESULT);
    assert.ok(Object.isFrozen(EMPTY_RESULT.psubs));
    assert.ok(Object.isFrozen(EMPTY_RESULT.qsubs));
    // Populating a cached empty subject must not touch EMPTY_RESULT.
    s.insert(newSub('foo'));
    s.insert(newQSub('foo', 'q'));
    assert.equal(s.match('foo').psubs.length, 1);
    assert.equal(EMPTY_RESULT.psubs.length, 0);
    assert.equal(EMPTY_RESULT.qsubs.length, 0);
  });

  test('TestSublistCache: add/remove logistics and wildcard insert', () => {
    let s = new Sublist<Sub>();
    const subject = 'a.b.c.d';
    const sub = newSub(subject);
    const psub = newSub('a.b.*.d');
    const fsub = newSub('a.b.>');
    s.insert(sub);
    assert.equal(s.match(subject).psubs.length, 1);
    s.insert(psub);
    s.insert(fsub);
    assert.equal(s.count(), 3);
    assert.equal(s.match(subject).psubs.length, 3);
    s.remove(sub);
    s.remove(fsub);
    s.remove(psub);
    assert.equal(s.count(), 0);
    assert.equal(s.cacheCount(), 0, 'removes drop the cached entry');
    assert.equal(s.match(subject).psubs.length, 0);

    s = new Sublist<Sub>();
    s.insert(newSub('foo.*'));
    s.insert(newSub('foo.bar'));
    assert.equal(s.match('foo.baz').psubs.length, 1);
    assert.equal(s.match('foo.bar').psubs.length, 2);
    s.insert(newSub('foo.>'));
    assert.equal(s.match('foo.bar').psubs.length, 3);
    assert.equal(s.match('foo.baz').psubs.length, 2);
  });

  test('cache stays bounded by SL_CACHE_MAX', () => {
    const s = new Sublist<Sub>();
    s.insert(newSub('>'));
    for (let i = 0; i < 2 * SL_CACHE_MAX + 7; i++) {
      warm(s, `foo-${i}`);
      assert.ok(s.cacheCount() <= SL_CACHE_MAX);
    }
    assert.ok(s.cacheCount() > 0);
    // Entries that survived a sweep are still correct.
    assert.equal(s.match(`foo-${2 * SL_CACHE_MAX}`).psubs.length, 1);
  });

  test('remove only drops affected cache entries', () => {
    const s = new Sublist<Sub>();
    const a = newSub('a.*');
    const b = newSub('b.x');
    s.insert(a);
    s.insert(b);
    warm(s, 'a.1');
    warm(s, 'a.2');
    const rb = warm(s, 'b.x');
    warm(s, 'c');
    assert.equal(s.cacheCount(), 4);
    s.remove(a);
    assert.equal(s.cacheCount(), 2);
    assert.equal(s.match('b.x'), rb, 'unaffected entry still cached');
    s.remove(b);
    assert.equal(s.cacheCount(), 1);
  });

  test('insert updates cached results without mutating handed-out ones', () => {
    const s = new Sublist<Sub>();
    const a = newSub('foo.bar');
    s.insert(a);
    const before = warm(s, 'foo.bar');
    assert.deepEqual(before.psubs, [a]);
    const w = newSub('foo.*');
    const q = newQSub('>', 'g');
    s.insert(w);
    s.insert(q);
    const after = s.match('foo.bar');
    assert.notEqual(after, before);
    assert.deepEqual(before.psubs, [a]);
    assert.deepEqual(before.qsubs, []);
    assert.deepEqual(ids(after.psubs), ids([a, w]));
    assert.deepEqual(after.qsubs, [[q]]);
    assert.equal(s.cacheCount(), 1, 'entry updated in place, not dropped');
  });

  test('stats: hit rate and fanout (TestSublistAddCacheHitRate)', () => {
    const s = new Sublist<Sub>();
    s.insert(newSub('foo'));
    for (let i = 0; i < 4; i++) s.match('foo');
    let st = s.stats();
    // Two misses (the second admits 'foo' to the cache), then two hits.
    assert.equal(st.cacheHitRate, 0.5);
    assert.equal(st.numMatches, 4);
    assert.equal(st.numCache, 1);
    assert.equal(st.maxFanout, 1);
    assert.equal(st.avgFanout, 1);

    s.insert(newSub('*'));
    s.insert(newQSub('bar', 'q1'));
    s.insert(newQSub('bar', 'q2'));
    s.insert(newQSub('bar', 'q2'));
    warm(s, 'bar'); // 1 psub + 2 groups = fanout 3
    warm(s, 'baz'); // fanout 1
    st = s.stats();
    assert.equal(st.numCache, 3);
    assert.equal(st.maxFanout, 3);
    assert.equal(st.avgFanout, (2 + 3 + 1) / 3);
    assert.equal(st.numSubscriptions, 5);
    assert.equal(st.numInserts, 5);
    assert.equal(st.numMatches, 8);
    assert.equal(st.cacheHitRate, 2 / 8);
    s.remove(s.all()[0]!);
    assert.equal(s.stats().numRemoves, 1);
  });
});
