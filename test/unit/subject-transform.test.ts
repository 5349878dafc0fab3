/**
 * Subject transforms and their mapping functions, case by case as nats-server 2.10's
 * subject_transform_test.go (TestSubjectTransforms, TestPlaceHolderIndex) has them, plus the partition
 * hash against values Go's hash/fnv computed, and the account-mapping validation
 * (ValidateMappingDestination, sublist_test.go).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { destinationProblem, mappingProblem, SubjectMapper } from '../../src/routing/mapping.js';
import { fnv1a32, SubjectTransform, TransformError } from '../../src/routing/transform.js';

const rule = (strict: boolean) => (strict ? 'strict' : '2.10');

/** [src, dest, strict, the error's text or a part of it] */
const REFUSED: [string, string, boolean, string][] = [
  ['foo..', 'bar', false, 'invalid subject'],
  ['foo.*', 'bar.*', false, 'invalid subject'],
  ['foo.*', 'bar.$2', false, 'wildcard index out of range in $2: [2]'],
  ['foo.*', 'bar.$1.>', false, 'invalid subject'],
  ['foo.>', 'bar.baz', false, 'invalid subject'],
  ['foo.*.*', 'bar.$2', true, 'not using all of the token wildcard(s) in bar.$2'],
  ['foo.*', 'foo.$foo', true, 'not using all of the token wildcard(s)'],
  ['foo.*', 'bar.{{Partition(2,1)}}', true, 'the only mapping function allowed for import transforms'],
  ['foo.*', 'foo.{{wildcard(2)}}', false, 'wildcard index out of range in {{wildcard(2)}}: [2]'],
  ['foo.*', 'foo.{{unimplemented(1)}}', false, 'unknown function in {{unimplemented(1)}}'],
  ['foo.*', 'foo.{{partition(10)}}', false, 'not enough arguments passed to the function'],
  ['foo.*', 'foo.{{wildcard(foo)}}', false, 'function argument is invalid or in the wrong format'],
  ['foo.*', 'foo.{{wildcard()}}', false, 'not enough arguments passed to the function'],
  ['foo.*', 'foo.{{wildcard(1,2)}}', false, 'too many arguments passed to the function'],
  ['foo.*', 'foo.{{ wildcard5) }}', false, 'unknown function'],
  ['foo.*', 'foo.{{splitLeft(2,2}}', false, 'unknown function'],
  ['foo', 'bla.{{wildcard(1)}}', false, 'wildcard index out of range in {{wildcard(1)}}'],
  // Beyond nats-server's own list: argument counts and types of each function.
  ['*', '{{splitFromLeft(1)}}', false, 'not enough arguments'],
  ['*', '{{sliceFromRight(1,2,3)}}', false, 'too many arguments'],
  ['*', '{{left(1,x)}}', false, 'function argument is invalid'],
  ['*', '{{right(1,2147483648)}}', false, 'function argument is invalid'],
  ['*', '{{split(1)}}', false, 'not enough arguments'],
  ['*', '{{split(1,-,+)}}', false, 'too many arguments'],
  ['*', '{{split(1,- )}}', false, 'function argument is invalid'],
  ['*', '{{partition(x,1)}}', false, 'function argument is invalid'],
  ['*', '{{partition(3,1,y)}}', false, 'function argument is invalid'],
  ['*', '{{partition(3,2)}}', false, 'wildcard index out of range'],
  // A count of 0 would divide by zero (nats-server panics on the first message); tsnats refuses it.
  ['*', '{{partition(0,1)}}', false, 'function argument is invalid'],
  // Names match per word's first letter only, as nats-server's regular expressions.
  ['*', '{{WILDCARD(1)}}', false, 'unknown function'],
  ['*', '{{splitFROMleft(1,1)}}', false, 'unknown function'],
];

const ACCEPTED: [string, string, boolean][] = [
  ['foo.*', 'bar.{{Wildcard(1)}}', true],
  ['foo.*.*', 'bar.$2', false],
  ['foo.*.*', 'bar.{{wildcard(1)}}', false],
  ['foo', 'bar', false],
  ['foo.*.bar.*.baz', 'req.$2.$1', false],
  ['baz.>', 'mybaz.>', false],
  ['*', '{{splitfromleft(1,1)}}', false],
  ['', 'prefix.>', false],
  ['*.*', '{{partition(10,1,2)}}', false],
  ['foo.*.*', 'foo.{{wildcard(1)}}.{{wildcard(2)}}.{{partition(5,1,2)}}', false],
  ['foo.*', 'foo.$foo', false], // `$` and no number: a literal
  ['*', '{{ Partition (10,1) }}', false],
];

/** [src, dest, subject, expected] */
const MATCHES: [string, string, string, string][] = [
  ['', 'prefix.>', 'foo', 'prefix.foo'],
  ['foo', 'bar', 'foo', 'bar'],
  ['foo.*.bar.*.baz', 'req.$2.$1', 'foo.A.bar.B.baz', 'req.B.A'],
  ['foo.*.bar.*.baz', 'req.{{wildcard(2)}}.{{wildcard(1)}}', 'foo.A.bar.B.baz', 'req.B.A'],
  ['baz.>', 'my.pre.>', 'baz.1.2.3', 'my.pre.1.2.3'],
  ['baz.>', 'foo.bar.>', 'baz.1.2.3', 'foo.bar.1.2.3'],
  ['*', 'foo.bar.$1', 'foo', 'foo.bar.foo'],
  ['*', '{{splitfromleft(1,3)}}', '12345', '123.45'],
  ['*', '{{SplitFromRight(1,3)}}', '12345', '12.345'],
  ['*', '{{SliceFromLeft(1,3)}}', '1234567890', '123.456.789.0'],
  ['*', '{{SliceFromRight(1,3)}}', '1234567890', '1.234.567.890'],
  ['*', '{{split(1,-)}}', '-abc-def--ghi-', 'abc.def.ghi'],
  ['*', '{{split(1,-)}}', 'abc-def--ghi-', 'abc.def.ghi'],
  ['*.*', '{{split(2,-)}}.{{splitfromleft(1,2)}}', 'foo.-abc-def--ghij-', 'abc.def.ghij.fo.o'],
  ['*', '{{right(1,1)}}', '1234', '4'],
  ['*', '{{right(1,3)}}', '1234', '234'],
  ['*', '{{right(1,6)}}', '1234', '1234'],
  ['*', '{{left(1,1)}}', '1234', '1'],
  ['*', '{{left(1,3)}}', '1234', '123'],
  ['*', '{{left(1,6)}}', '1234', '1234'],
  // Sizes that do not split or slice: the token as it is.
  ['*', '{{splitFromLeft(1,0)}}', '12345', '12345'],
  ['*', '{{splitFromRight(1,5)}}', '12345', '12345'],
  ['*', '{{sliceFromLeft(1,-2)}}', '12345', '12345'],
  ['*', '{{sliceFromRight(1,2)}}', '123456', '12.34.56'],
  ['*', '{{sliceFromLeft(1,2)}}', '123456', '12.34.56'],
  // An empty delimiter splits into characters (UTF-8 sequences kept whole: subjects are latin1 bytes).
  ['*', '{{split(1,)}}', 'abc', 'a.b.c'],
  ['*', '{{split(1,)}}', '\xc3\xa9x\xff', '\xc3\xa9.x.\xff'],
  ['*', '{{split(1,ab)}}', 'xabyabab', 'x.y'],
  // Partitions: values from Go's hash/fnv (New32a over the concatenated tokens).
  ['*.*', '{{partition(10,1,2)}}', 'user42.eu', '8'],
  ['*.*', 'p.{{partition(5,1,2)}}', 'user42.eu', 'p.3'],
  ['*.*', '{{partition(10,2,1)}}', 'b.a', '6'],
  ['foo.*.*', 'foo.{{wildcard(1)}}.{{wildcard(2)}}.{{partition(5,1,2)}}', 'foo.user42.eu', 'foo.user42.eu.3'],
  ['*', '{{partition(10,1)}}', '\xe9t\xe9', '1'],
  ['*', '{{partition(-3,1)}}', 'a', '3826002220'], // Go's uint32 of a negative count
  ['*', '{{partition(4294967306,1)}}', 'ab', '6'], // the count wraps to int32 (10)
  // Wildcard numbers below 1 find no wildcard; nats-server's map lookup then yields the first token.
  ['foo.*', 'bar.$0', 'foo.x', 'bar.foo'],
  ['a.*.*', '$+2.$1', 'a.b.c', 'c.b'],
  // Wildcards and `>` together, the tail after the function tokens.
  ['a.*.>', '{{splitFromLeft(1,1)}}.>', 'a.xy.1.2', 'x.y.1.2'],
];

describe('subject transforms (nats-server 2.10 subject_transform_test.go)', () => {
  test('refused, with nats-server error text', () => {
    for (const [src, dest, strict, text] of REFUSED) {
      const r = SubjectTransform.parse(src, dest, rule(strict));
      assert.ok(r instanceof TransformError, `${src} -> ${dest} (strict ${strict}) should be refused`);
      assert.ok(r.message.includes(text), `${src} -> ${dest}: "${r.message}" lacks "${text}"`);
      if (!strict) assert.equal(SubjectTransform.create(src, dest), undefined);
    }
  });

  test('accepted', () => {
    for (const [src, dest, strict] of ACCEPTED) {
      const r = SubjectTransform.parse(src, dest, rule(strict));
      assert.ok(r instanceof SubjectTransform, `${src} -> ${dest}: ${r instanceof Error ? r.message : ''}`);
    }
  });

  test('matched subjects', () => {
    for (const [src, dest, subject, expected] of MATCHES) {
      const tr = SubjectTransform.parse(src, dest);
      assert.ok(tr instanceof SubjectTransform, `${src} -> ${dest}`);
      assert.equal(tr.match(subject), expected, `${src} -> ${dest} on ${subject}`);
    }
  });

  test('no match, or not a literal subject', () => {
    const tr = SubjectTransform.create('foo.*', 'bar.$1')!;
    assert.equal(tr.match('foo'), undefined);
    assert.equal(tr.match('foo.a.b'), undefined);
    assert.equal(tr.match('baz.a'), undefined);
    assert.equal(tr.match('foo.*'), undefined);
    // A token missing from the subject writes nothing (TestSubjectTransformDoesntPanicTransformingMissingToken).
    assert.equal(
      SubjectTransform.create('foo.*', 'one.two.{{wildcard(1)}}')!.transformTokens(['foo']),
      'one.two.',
    );
    // `>` to `>` is the subject itself.
    assert.equal(SubjectTransform.create('>', '>')!.match('a.b'), 'a.b');
  });

  test("create(): 2.9.10's every-wildcard-placed rule on top (republish is compared with 2.9.10)", () => {
    assert.equal(SubjectTransform.create('a.*', 'x'), undefined);
    assert.ok(SubjectTransform.parse('a.*', 'x') instanceof SubjectTransform);
    // 2.9 counted placeholder tokens, not the wildcards they use.
    assert.equal(SubjectTransform.create('a.*.*', 'x.{{partition(3,1,2)}}'), undefined);
    assert.equal(SubjectTransform.create('a.*.*', 'x.$1.$1')?.match('a.b.c'), 'x.b.b');
    assert.equal(SubjectTransform.create('a.*.*', 'x.{{partition(3,1,2)}}.$2')?.match('a.ab.c'), 'x.2.c');
    assert.equal(SubjectTransform.create('a.*', 'x.{{ wildcard(1) }}')?.match('a.b'), 'x.b');
  });

  test('FNV-1a 32 as Go hash/fnv', () => {
    assert.equal(fnv1a32(''), 2166136261);
    assert.equal(fnv1a32('a'), 3826002220);
    assert.equal(fnv1a32('foobar'), 3214735720);
    assert.equal(fnv1a32('orders1'), 669482471);
    assert.equal(fnv1a32('\xe9t\xe9'), 2745047931);
  });
});

describe('account mapping destinations (ValidateMappingDestination, AddWeightedMappings)', () => {
  test('every known function but left/right; no whitespace outside a function', () => {
    assert.equal(destinationProblem('foo.{{partition(2,1)}}'), undefined);
    assert.equal(destinationProblem('foo.{{ SplitFromLeft (1,2) }}.>'), undefined);
    assert.equal(destinationProblem('foo.$1'), undefined);
    assert.equal(
      destinationProblem('foo.{{left(1,2)}}'),
      'invalid mapping destination: unknown function in {{left(1,2)}}',
    );
    assert.equal(
      destinationProblem('foo.{{right(1,2)}}'),
      'invalid mapping destination: unknown function in {{right(1,2)}}',
    );
    assert.equal(
      destinationProblem('foo.{{bogus(1)}}'),
      'invalid mapping destination: unknown function in {{bogus(1)}}',
    );
    assert.equal(destinationProblem('foo..bar'), 'invalid mapping destination: invalid subject in ');
    assert.equal(destinationProblem('foo.>.bar'), 'invalid mapping destination: invalid subject in bar');
    assert.equal(destinationProblem('foo.a b'), 'invalid mapping destination: invalid subject');
  });

  test('weights total per cluster; errors from the transform', () => {
    const m = (subject: string, ...destinations: { subject: string; weight: number; cluster?: string }[]) =>
      mappingProblem({ subject, destinations });
    assert.equal(
      m('a', { subject: 'b', weight: 100 }, { subject: 'c', weight: 100, cluster: 'east' }),
      undefined,
      'a global and a cluster-scoped destination each at 100',
    );
    assert.equal(
      m('a', { subject: 'b', weight: 60, cluster: 'east' }, { subject: 'c', weight: 60, cluster: 'east' }),
      'total weight needs to be <= 100',
    );
    assert.equal(
      m('a.*', { subject: 'b.{{partition(3)}}', weight: 100 }),
      'invalid mapping destination: not enough arguments passed to the function in {{partition(3)}}',
    );
    assert.equal(m('a.*.*', { subject: 'b.$2', weight: 100 }), undefined, '2.10: not every wildcard needed');
  });

  test('a mapper with functions, per cluster', () => {
    const mapper = new SubjectMapper([
      {
        subject: 'orders.*.*',
        destinations: [
          { subject: 'p.{{partition(10,1,2)}}.{{wildcard(1)}}.$2', weight: 100 },
          { subject: 'east.{{splitFromLeft(1,4)}}', weight: 100, cluster: 'east' },
        ],
      },
    ]);
    assert.equal(mapper.map('orders.user42.eu', ''), 'p.8.user42.eu');
    assert.equal(mapper.map('orders.user42.eu', 'west'), 'p.8.user42.eu');
    assert.equal(mapper.map('orders.user42.eu', 'east'), 'east.user.42');
    assert.equal(mapper.map('other', ''), 'other');
  });
});
