import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  isValidLiteralSubject,
  isValidPublishSubject,
  isValidSubject,
  matchLiteral,
  numTokens,
  subjectHasWildcard,
  subjectIsLiteral,
  subjectIsSubsetMatch,
  subjectsCollide,
  tokenAt,
} from '../../src/routing/subject.js';

type Case1 = readonly [string, boolean];
type Case2 = readonly [string, string, boolean];

function table1(name: string, fn: (s: string) => boolean, cases: readonly Case1[]): void {
  describe(name, () => {
    for (const [input, want] of cases) {
      test(`${JSON.stringify(input)} -> ${want}`, () => {
        assert.equal(fn(input), want);
      });
    }
  });
}

function table2(name: string, fn: (a: string, b: string) => boolean, cases: readonly Case2[]): void {
  describe(name, () => {
    for (const [a, b, want] of cases) {
      test(`${JSON.stringify(a)}, ${JSON.stringify(b)} -> ${want}`, () => {
        assert.equal(fn(a, b), want);
      });
    }
  });
}

// From nats-server's TestSublistValidLiteralSubjects.
table1('isValidLiteralSubject', isValidLiteralSubject, [
  ['foo', true],
  ['.foo', false],
  ['foo.', false],
  ['foo..bar', false],
  ['foo.bar.*', false],
  ['foo.bar.>', false],
  ['*', false],
  ['>', false],
  // Wildcard characters that are not whole tokens are literal.
  ['foo*', true],
  ['foo**', true],
  ['foo.**', true],
  ['foo*bar', true],
  ['foo.*bar', true],
  ['foo*.bar', true],
  ['*bar', true],
  ['foo>', true],
  ['foo>>', true],
  ['foo.>>', true],
  ['foo>bar', true],
  ['foo.>bar', true],
  ['foo>.bar', true],
  ['>bar', true],
  // Beyond the Go table.
  ['', false],
  ['.', false],
  ['a.*.b', false],
  ['a.>.b', false],
  ['foo.bar', true],
  // Like nats-server, the literal check does not look at whitespace.
  ['foo bar', true],
]);

// From nats-server's TestSublistValidSubjects.
table1('isValidSubject', isValidSubject, [
  ['.', false],
  ['.foo', false],
  ['foo.', false],
  ['foo..bar', false],
  ['>.bar', false],
  ['foo.>.bar', false],
  ['foo', true],
  ['foo.bar.*', true],
  ['foo.bar.>', true],
  ['*', true],
  ['>', true],
  ['foo*', true],
  ['foo**', true],
  ['foo.**', true],
  ['foo*bar', true],
  ['foo.*bar', true],
  ['foo*.bar', true],
  ['*bar', true],
  ['foo>', true],
  ['foo.>>', true],
  ['foo>bar', true],
  ['foo.>bar', true],
  ['foo>.bar', true],
  ['>bar', true],
  // Beyond the Go table.
  ['', false],
  ['..', false],
  ['foo.>.', false],
  ['>.>', false],
  ['*.*.>', true],
  ['a.*.b', true],
  ['foo bar', false],
  [' foo', false],
  ['foo.\tbar', false],
  ['foo\n', false],
  ['foo.\r', false],
  ['fo\fo', false],
  ['foo.> ', false],
  ['foo.\u00e9t\u00e9', true],
  ['$JS.API.INFO', true],
  ['_INBOX.abc123.*', true],
]);

table1('isValidPublishSubject', isValidPublishSubject, [
  ['foo', true],
  ['foo.bar', true],
  ['foo.*bar', true],
  ['foo.>bar', true],
  ['foo.*', false],
  ['foo.>', false],
  ['*', false],
  ['>', false],
  ['', false],
  ['foo.', false],
  ['foo bar', false],
  ['foo.\tbar', false],
]);

// From nats-server's TestSubjectIsLiteral.
table1('subjectIsLiteral', subjectIsLiteral, [
  ['foo', true],
  ['foo.bar', true],
  ['foo*.bar', true],
  ['*', false],
  ['>', false],
  ['foo.*', false],
  ['foo.>', false],
  ['foo.*.>', false],
  ['foo.*.bar', false],
  ['foo.bar.>', false],
  ['*.foo', false],
  ['>.foo', false],
  ['foo>.*bar', true],
  ['', true],
]);

test('subjectHasWildcard is the negation of subjectIsLiteral', () => {
  for (const s of ['foo', 'foo.*', 'foo.>', 'foo*.bar', '*', '>bar']) {
    assert.equal(subjectHasWildcard(s), !subjectIsLiteral(s));
  }
});

// From nats-server's TestSublistMatchLiterals: (literal, pattern, matches).
table2('matchLiteral', matchLiteral, [
  ['foo', 'foo', true],
  ['foo', 'bar', false],
  ['foo', '*', true],
  ['foo', '>', true],
  ['foo.bar', '>', true],
  ['foo.bar', 'foo.>', true],
  ['foo.bar', 'bar.>', false],
  ['stats.test.22', 'stats.>', true],
  ['stats.test.22', 'stats.*.*', true],
  ['foo.bar', 'foo', false],
  ['stats.test.foos', 'stats.test.foos', true],
  ['stats.test.foos', 'stats.test.foo', false],
  ['stats.test', 'stats.test.*', false],
  ['stats.test.foos', 'stats.*', false],
  ['stats.test.foos', 'stats.*.*.foos', false],
  // Wildcard characters that are not whole tokens are compared literally.
  ['*bar', '*bar', true],
  ['foo*', 'foo*', true],
  ['foo*bar', 'foo*bar', true],
  ['foo.***.bar', 'foo.***.bar', true],
  ['>bar', '>bar', true],
  ['foo>', 'foo>', true],
  ['foo>bar', 'foo>bar', true],
  ['foo.>>>.bar', 'foo.>>>.bar', true],
  // Beyond the Go table.
  ['foo', 'foo.>', false],
  ['foo', 'foo.*', false],
  ['foo.bar', '*.bar', true],
  ['foo.bar', '*.baz', false],
  ['foo.bar.baz', '*.bar.>', true],
  ['foo.bar', '*.*.>', false],
  ['foo.bar.baz', '*.*', false],
  ['a.b.c', 'a.*.c', true],
  ['a.bb.c', 'a.*.c', true],
  ['a.b', 'a.*.c', false],
  ['xbar', '*bar', false],
  ['foo.bar', 'foo.ba', false],
  ['foo.ba', 'foo.bar', false],
  ['foo', '', false],
  ['', 'foo', false],
]);

test('tokenAt is 1-based (TestSubjectToken)', () => {
  const s = 'foo.bar.baz.*';
  assert.equal(tokenAt(s, 0), '');
  assert.equal(tokenAt(s, 1), 'foo');
  assert.equal(tokenAt(s, 2), 'bar');
  assert.equal(tokenAt(s, 3), 'baz');
  assert.equal(tokenAt(s, 4), '*');
  assert.equal(tokenAt(s, 5), '');
  assert.equal(tokenAt('foo', 1), 'foo');
  assert.equal(tokenAt('', 1), '');
});

test('numTokens', () => {
  assert.equal(numTokens(''), 0);
  assert.equal(numTokens('foo'), 1);
  assert.equal(numTokens('foo.bar'), 2);
  assert.equal(numTokens('foo.bar.>'), 3);
  assert.equal(numTokens('foo..bar'), 3);
});

// From nats-server's TestIsSubsetMatch: (subject, test, subject is a subset of test).
table2('subjectIsSubsetMatch', subjectIsSubsetMatch, [
  ['foo.*', '>', true],
  ['foo.*', '*.*', true],
  ['foo.*', 'foo.*', true],
  ['foo.*', 'foo.bar', false],
  ['foo.>', '>', true],
  ['foo.>', '*.>', true],
  ['foo.>', 'foo.>', true],
  ['foo.>', 'foo.bar', false],
  ['foo..bar', 'foo.*', false],
  ['foo.*', 'foo..bar', false],
  // Beyond the Go table.
  ['foo.bar', 'foo.*', true],
  ['foo.bar', 'foo.>', true],
  ['foo.bar', 'foo.bar', true],
  ['foo.bar', 'foo', false],
  ['foo', 'foo.bar', false],
  ['>', 'foo.>', false],
  ['*', '>', true],
  ['foo.>', 'foo.*', false],
]);

// From nats-server's TestSublistSubjectCollide, plus more.
table2('subjectsCollide', subjectsCollide, [
  ['foo.*', 'foo.*.bar.>', false],
  ['foo.*.bar.>', 'foo.*', false],
  ['foo.*', 'foo.foo', true],
  ['foo.*', '*.foo', true],
  ['foo.bar.>', '*.bar.foo', true],
  ['foo', 'foo', true],
  ['foo', 'bar', false],
  ['foo.bar', 'foo.*', true],
  ['foo.*', 'foo.bar', true],
  ['foo.bar', '>', true],
  ['foo', 'foo.>', false],
  ['foo.>', 'foo.*.*', true],
  ['foo.*', 'bar.*', false],
  ['foo.*', '*.*.*', false],
  ['*.>', 'foo.bar.baz', true],
  ['orders.*', 'orders.new.>', false],
  ['orders.>', 'orders.new.>', true],
  ['a.*.c', 'a.b.*', true],
  ['a.*.c', 'a.b.d', false],
]);
