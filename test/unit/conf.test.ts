// Parser tests for the nats-server configuration format (cases of
// nats-server's conf/parse_test.go plus separators, comments, sizes,
// variables, includes, errors with positions and a realistic config).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ConfError,
  type ConfMap,
  type ConfValue,
  elementPosition,
  keyPosition,
  parseConf,
  parseConfFile,
  parseDuration,
} from '../../src/conf/index.js';

const NO_ENV = {};

function parse(text: string, env: Record<string, string> = NO_ENV): ConfMap {
  return parseConf(text, { env });
}

function expectError(
  fn: () => unknown,
  want: { line?: number; column?: number; file?: string; reason?: string | RegExp },
): ConfError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfError, `expected a ConfError, got ${String(caught)}`);
  if (want.line !== undefined) assert.equal(caught.line, want.line, caught.message);
  if (want.column !== undefined) assert.equal(caught.column, want.column, caught.message);
  if (want.file !== undefined) assert.equal(caught.file, want.file, caught.message);
  if (typeof want.reason === 'string') assert.equal(caught.reason, want.reason);
  else if (want.reason !== undefined) assert.match(caught.reason, want.reason);
  return caught;
}

function utc(iso: string): Date {
  return new Date(iso);
}

describe('values', () => {
  test('simple top level', () => {
    assert.deepEqual(parse("foo='1'; bar=2.2; baz=true; boo=22"), { foo: '1', bar: 2.2, baz: true, boo: 22 });
  });

  test('booleans in every spelling', () => {
    const table: [string, boolean][] = [
      ['true', true],
      ['TRUE', true],
      ['True', true],
      ['yes', true],
      ['YES', true],
      ['on', true],
      ['On', true],
      ['false', false],
      ['FALSE', false],
      ['no', false],
      ['No', false],
      ['off', false],
      ['OFF', false],
    ];
    for (const [src, want] of table) assert.deepEqual(parse(`foo=${src}`), { foo: want }, src);
    // quoted booleans are strings
    assert.deepEqual(parse('foo="true"; bar=\'off\''), { foo: 'true', bar: 'off' });
  });

  test('numbers', () => {
    const table: [string, number][] = [
      ['0', 0],
      ['123', 123],
      ['-123', -123],
      ['007', 7],
      ['22.2', 22.2],
      ['-1.5', -1.5],
      ['0.5', 0.5],
      ['9223372036854775807', Number(9223372036854775807n)],
      ['-9223372036854775808', -(2 ** 63)],
    ];
    for (const [src, want] of table) assert.deepEqual(parse(`n = ${src}`), { n: want }, src);
  });

  test('strings', () => {
    const table: [string, string][] = [
      ['"double quoted"', 'double quoted'],
      ["'single quoted'", 'single quoted'],
      ['unquoted', 'unquoted'],
      ['"tab\\there"', 'tab\there'],
      ['"nl\\ncr\\rq\\"bs\\\\"', 'nl\ncr\rq"bs\\'],
      ['"\\x41\\x42C"', 'ABC'],
      ["'raw \\t \\n $var'", 'raw \\t \\n $var'],
      ['""', ''],
      ["''", ''],
      ['3xyz', '3xyz'],
      ['127.0.0.1:4222', '127.0.0.1:4222'],
      ['nats://u:p@host:4222', 'nats://u:p@host:4222'],
      ['1.2.3', '1.2.3'],
      ['"multi\nline"', 'multi\nline'],
      ['unicode-ünï', 'unicode-ünï'],
    ];
    for (const [src, want] of table) assert.deepEqual(parse(`s = ${src}`), { s: want }, src);
  });

  test('block strings', () => {
    assert.deepEqual(parse('numbers (\n1234567890\n)\nafter = 1\n'), { numbers: '\n1234567890\n', after: 1 });
    assert.deepEqual(parse('text (\n  a (nested) b\n  (\n  )\n)\n'), {
      text: '\n  a (nested) b\n  (\n  )\n',
    });
  });

  test('ISO8601 Zulu datetimes become Dates', () => {
    const m = parse('\n  now = 2016-05-04T18:53:41Z\n  gmt = false\n\n');
    assert.deepEqual(m, { now: utc('2016-05-04T18:53:41Z'), gmt: false });
    assert.ok(m['now'] instanceof Date);
    assert.deepEqual(parse('d = 2024-02-29T23:59:59Z'), { d: utc('2024-02-29T23:59:59Z') });
    assert.deepEqual(parse('d = 0001-01-01T00:00:00Z')['d'], utc('0001-01-01T00:00:00Z'));
  });

  test('size suffixes: bare letter is decimal, b/i/ib forms are binary', () => {
    const K = 1000;
    const Ki = 1024;
    const table: [string, number][] = [
      ['8k', 8 * K],
      ['8K', 8 * K],
      ['4kb', 4 * Ki],
      ['4KB', 4 * Ki],
      ['3ki', 3 * Ki],
      ['4Ki', 4 * Ki],
      ['4kib', 4 * Ki],
      ['4KiB', 4 * Ki],
      ['1m', K ** 2],
      ['2MB', 2 * Ki ** 2],
      ['2Mi', 2 * Ki ** 2],
      ['64MiB', 64 * Ki ** 2],
      ['2g', 2 * K ** 3],
      ['22GB', 22 * Ki ** 3],
      ['22Gi', 22 * Ki ** 3],
      ['22GiB', 22 * Ki ** 3],
      ['3t', 3 * K ** 4],
      ['22TB', 22 * Ki ** 4],
      ['22Ti', 22 * Ki ** 4],
      ['22TiB', 22 * Ki ** 4],
      ['5p', 5 * K ** 5],
      ['22PB', 22 * Ki ** 5],
      ['22Pi', 22 * Ki ** 5],
      ['22PiB', 22 * Ki ** 5],
      ['1e', K ** 6],
      ['1EB', Ki ** 6],
      ['1Ei', Ki ** 6],
      ['1EiB', Ki ** 6],
      ['-1m', -(K ** 2)],
      ['-2GB', -2 * Ki ** 3],
    ];
    for (const [src, want] of table) assert.deepEqual(parse(`n = ${src}`), { n: want }, src);
  });

  test('size arithmetic is int64 with wrap-around (like the reference)', () => {
    assert.deepEqual(parse('n = 8eb'), { n: -(2 ** 63) });
    assert.deepEqual(parse('n = 10e'), { n: Number(BigInt.asIntN(64, 10n * 10n ** 18n)) });
  });

  test('unknown size suffix silently drops the key (like the reference)', () => {
    assert.deepEqual(parse('a = 1kbb; b = 2'), { b: 2 });
  });

  test('suffix-like strings stay strings', () => {
    assert.deepEqual(parse('a = 1Ghz; b = 2Pie; c = 3Mbs; d = 5Gø'), {
      a: '1Ghz',
      b: '2Pie',
      c: '3Mbs',
      d: '5Gø',
    });
    // Durations other than plain minutes are strings; "2m" unquoted is 2 mega!
    assert.deepEqual(parse('a = 10s; b = 1h; c = 500ms; d = 2m; e = "2m"'), {
      a: '10s',
      b: '1h',
      c: '500ms',
      d: 2_000_000,
      e: '2m',
    });
  });
});

describe('syntax', () => {
  test('key/value separators', () => {
    for (const src of [
      'foo = 1',
      'foo=1',
      'foo: 1',
      'foo:1',
      'foo 1',
      'foo\t1',
      'foo  :  1',
      '"foo" = 1',
      "'foo': 1",
    ]) {
      assert.deepEqual(parse(src), { foo: 1 }, src);
    }
  });

  test('quoted keys keep special characters', () => {
    assert.deepEqual(parse('" a b " = 1\n"x.y-z" { "$k": v }'), { ' a b ': 1, 'x.y-z': { $k: 'v' } });
  });

  test('value terminators: newline, semicolon, comma', () => {
    const want = { a: 1, b: 'two', c: true };
    for (const src of [
      'a = 1\nb = two\nc = true',
      'a = 1; b = two; c = true;',
      'a = 1, b = two, c = true',
      'a = 1\r\nb = two\r\nc = true\r\n',
      '\n\n  a = 1  \n\t b = two ;\n c = true\n\n',
    ]) {
      assert.deepEqual(parse(src), want, JSON.stringify(src));
    }
  });

  test('maps with and without key separator, any terminator', () => {
    const want = { m: { a: 1, b: 2 } };
    for (const src of [
      'm { a = 1, b = 2 }',
      'm = { a: 1; b: 2 }',
      'm: {\n  a 1\n  b 2\n}',
      'm {a=1,b=2}',
      'm {\n a = 1,\n b = 2,\n}',
    ]) {
      assert.deepEqual(parse(src), want, JSON.stringify(src));
    }
  });

  test('arrays with commas or newlines', () => {
    const want = { a: [1, 'two', 3.5, true] };
    for (const src of [
      'a = [1, two, 3.5, true]',
      'a = [1,two,3.5,true]',
      'a [\n  1\n  two\n  3.5\n  true\n]',
      'a: [\n  1,\n  two,\n  3.5,\n  true,\n]',
    ]) {
      assert.deepEqual(parse(src), want, JSON.stringify(src));
    }
    assert.deepEqual(parse('a = []'), { a: [] });
    assert.deepEqual(parse('a = [ ]'), { a: [] });
  });

  test('a plain integer right before "]" is a reference quirk (error)', () => {
    expectError(() => parse('a = [1, 2, 3]'), { line: 1, column: 14 });
    assert.deepEqual(parse('a = [1, 2, 3 ]'), { a: [1, 2, 3] });
    assert.deepEqual(parse("a = [1, 2, '3']"), { a: [1, 2, '3'] });
  });

  test('nested maps and arrays (sample 1)', () => {
    const src = `
foo  {
  host {
    ip   = '127.0.0.1'
    port = 4242
  }
  servers = [ "a.com", "b.com", "c.com"]
}
`;
    assert.deepEqual(parse(src), {
      foo: { host: { ip: '127.0.0.1', port: 4242 }, servers: ['a.com', 'b.com', 'c.com'] },
    });
  });

  test('cluster block with both comment styles (sample 2)', () => {
    const src = `
cluster {
  port: 4244

  authorization {
    user: route_user
    password: top_secret
    timeout: 1
  }

  # Routes are actively solicited and connected to from this server.
  # Other servers can connect to us if they supply the correct credentials
  # in their routes definitions from above.

  // Test both styles of comments

  routes = [
    nats-route://foo:bar@apcera.me:4245
    nats-route://foo:bar@apcera.me:4246
  ]
}
`;
    assert.deepEqual(parse(src), {
      cluster: {
        port: 4244,
        authorization: { user: 'route_user', password: 'top_secret', timeout: 1 },
        routes: ['nats-route://foo:bar@apcera.me:4245', 'nats-route://foo:bar@apcera.me:4246'],
      },
    });
  });

  test('quotes inside strings and multi-line single quotes (sample 3)', () => {
    const src = `
foo  {
  expr = '(true == "false")'
  text = 'This is a multi-line
text block.'
}
`;
    assert.deepEqual(parse(src), {
      foo: { expr: '(true == "false")', text: 'This is a multi-line\ntext block.' },
    });
  });

  test('array of maps (sample 4)', () => {
    assert.deepEqual(parse('\n  array [\n    { abc: 123 }\n    { xyz: "word" }\n  ]\n'), {
      array: [{ abc: 123 }, { xyz: 'word' }],
    });
  });

  test('deeply nested mixtures', () => {
    assert.deepEqual(parse('a { b [ { c [ [1 ], { d { e = f } } ] } ] }'), {
      a: { b: [{ c: [[1], { d: { e: 'f' } }] }] },
    });
  });

  test('comments everywhere', () => {
    const src = `# leading comment
// another leading comment
a = 1 # after a value
b = 2 // after a value
m { # after a map start
  # inside a map
  c = 3 # after a map value
  // slash inside a map
  d = [ # after an array start
    4 # after an array element
    // between elements
    5, // after a comma
  ] # after an array
} // after a map
# trailing comment`;
    assert.deepEqual(parse(src), { a: 1, b: 2, m: { c: 3, d: [4, 5] } });
  });

  test('comment characters inside quoted strings are kept', () => {
    assert.deepEqual(parse('a = "x # y // z"; b = \'#\''), { a: 'x # y // z', b: '#' });
  });

  test('JSON documents are accepted', () => {
    const src = `{
  "http_port": 8227,
  "write_deadline": "1h",
  "cluster": {
    "port": 6222,
    "routes": [
      "nats://127.0.0.1:4222",
      "nats://127.0.0.1:4223"
    ]
  }
}
`;
    assert.deepEqual(parse(src), {
      http_port: 8227,
      write_deadline: '1h',
      cluster: { port: 6222, routes: ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4223'] },
    });
    assert.deepEqual(parse('{"a": 1,"b": {"c": [true, "x"]}}'), { a: 1, b: { c: [true, 'x'] } });
  });

  test('a key without a value is ignored (like the reference)', () => {
    assert.deepEqual(parse('foo'), {});
    assert.deepEqual(parse('a = 1\nfoo'), { a: 1 });
  });

  test('later duplicate keys win', () => {
    assert.deepEqual(parse('a = 1\na = 2\nm { x = 1 }\nm { y = 2 }'), { a: 2, m: { y: 2 } });
  });

  test('keys such as __proto__ are plain own properties', () => {
    const m = parse('__proto__ = 1\nconstructor { toString = 2 }');
    assert.equal(Object.getPrototypeOf(m), Object.prototype);
    assert.deepEqual(Object.keys(m), ['__proto__', 'constructor']);
    assert.equal(Object.getOwnPropertyDescriptor(m, '__proto__')?.value, 1);
    assert.deepEqual(m['constructor'], { toString: 2 });
  });

  test('inputs that must not loop forever', () => {
    for (const src of ['A@@Føøøø?˛ø:{øøøø˙˙', 'include "9/\uFFFD']) {
      expectError(() => parse(src), { reason: /Unexpected EOF/ });
    }
  });
});

describe('variables', () => {
  test('simple reference', () => {
    assert.deepEqual(parse('\n  index = 22\n  foo = $index\n'), { index: 22, foo: 22 });
  });

  test('block scoping: innermost definition first, then enclosing blocks', () => {
    const src = `
  index = 22
  nest {
    index = 11
    foo = $index
    deeper { bar = $index }
  }
  bar = $index
`;
    assert.deepEqual(parse(src), { index: 22, nest: { index: 11, foo: 11, deeper: { bar: 11 } }, bar: 22 });
  });

  test('arrays are skipped when resolving', () => {
    const src = 'V = top\nlist = [ { V = inner, a = $V }, { b = $V } ]\n';
    assert.deepEqual(parse(src), { V: 'top', list: [{ V: 'inner', a: 'inner' }, { b: 'top' }] });
  });

  test('any value type can be referenced, including maps and arrays', () => {
    const m = parse(
      'P = { publish: ">" }\nL = [1, 2 ]\nD = 2016-05-04T18:53:41Z\nu { p = $P, l = $L, d = $D }',
    );
    assert.deepEqual(m['u'], { p: { publish: '>' }, l: [1, 2], d: utc('2016-05-04T18:53:41Z') });
  });

  test('variables are whole unquoted values only', () => {
    const m = parse('x = 1\na = "$x"\nb = \'$x\'\nc = \\\\$x\nd = [ $x, "$x" ]');
    assert.deepEqual(m, { x: 1, a: '$x', b: '$x', c: '\\$x', d: [1, '$x'] });
  });

  test('a variable must be defined before it is used', () => {
    expectError(() => parse('a = $b\nb = 1'), {
      line: 1,
      column: 5,
      reason: "variable reference for 'b' can not be found",
    });
  });

  test('unknown variable is an error with its position', () => {
    const err = expectError(() => parseConf('a = 1\nm {\n  x = $nope\n}', { file: 'my.conf', env: NO_ENV }), {
      file: 'my.conf',
      line: 3,
      column: 7,
    });
    assert.equal(err.message, "my.conf:3:7: variable reference for 'nope' can not be found");
    assert.match(err.reason, /^variable reference/);
  });

  test('environment variables (from options.env)', () => {
    assert.deepEqual(parse('foo = $__UNIQ22__', { __UNIQ22__: '22' }), { foo: 22 });
    assert.deepEqual(parse('foo = $__UNIQ22__', { __UNIQ22__: 'xyz' }), { foo: 'xyz' });
    assert.deepEqual(parse('foo = $E', { E: '3Gyz' }), { foo: '3Gyz' });
    assert.deepEqual(parse('foo = $E', { E: '3xyz' }), { foo: '3xyz' });
    assert.deepEqual(parse('foo = $E', { E: "'3xyz'" }), { foo: '3xyz' });
    assert.deepEqual(parse('foo = $E', { E: '1MB' }), { foo: 1024 * 1024 });
    assert.deepEqual(parse('foo = $E', { E: 'true' }), { foo: true });
    assert.deepEqual(parse('foo = $E', { E: '' }), { foo: '' });
    assert.deepEqual(parse('foo = $E', { E: '{ a: 1, b: [x ] }' }), { foo: { a: 1, b: ['x'] } });
    assert.deepEqual(parse('foo = $E', { E: '$F', F: 'chained' }), { foo: 'chained' });
  });

  test('definitions in the file shadow the environment', () => {
    assert.deepEqual(parse('E = file\nfoo = $E', { E: 'env' }), { E: 'file', foo: 'file' });
  });

  test('environment variables default to process.env', () => {
    process.env['__TSNATS_CONF_TEST__'] = 'from-env';
    try {
      assert.deepEqual(parseConf('foo = $__TSNATS_CONF_TEST__'), { foo: 'from-env' });
    } finally {
      delete process.env['__TSNATS_CONF_TEST__'];
    }
  });

  test('unparseable environment value is an error at the reference', () => {
    expectError(() => parse('\n  foo = $E', { E: '"unterminated' }), {
      line: 2,
      column: 9,
      reason: "variable reference for 'E' could not be parsed: Unexpected EOF.",
    });
  });

  test('self-referencing environment values do not recurse forever', () => {
    expectError(() => parse('foo = $A', { A: '$A' }), { line: 1, column: 7, reason: /could not be parsed/ });
  });

  test('bcrypt hashes are not variables', () => {
    assert.deepEqual(parse('password: $2a$11$ooo'), { password: '$2a$11$ooo' });
  });
});

describe('errors', () => {
  const table: { src: string; line: number; column: number; reason: string | RegExp }[] = [
    { src: 'listen: "localhost:4242\n\nhttp: 8222\n', line: 4, column: 1, reason: 'Unexpected EOF.' },
    { src: "a = 'abc\n", line: 2, column: 1, reason: 'Unexpected EOF.' },
    { src: 'p = 1;\nq = 2;\n\n  r = "oops', line: 4, column: 12, reason: 'Unexpected EOF.' },
    {
      src: 'cluster {\n  port: 4244\n  routes = [a, b]\n',
      line: 4,
      column: 1,
      reason: 'Unexpected EOF processing map.',
    },
    { src: 'a = [\n  1,\n  2\n', line: 4, column: 1, reason: /^Expected an array value terminator/ },
    { src: 'x = (\nnot closed\n', line: 3, column: 1, reason: 'Unexpected EOF processing block.' },
    { src: 'a = [1, 2,, 3]', line: 1, column: 11, reason: "Unexpected array value terminator ','." },
    { src: 'a = .5', line: 1, column: 5, reason: 'Floats must start with a digit' },
    {
      src: 'a = 1.x',
      line: 1,
      column: 7,
      reason: "Floats must have a digit after the '.', but got 'x' instead.",
    },
    { src: 'a = -x', line: 1, column: 6, reason: "Expected a digit but got 'x'." },
    { src: 'a = 12-3', line: 1, column: 7, reason: 'All ISO8601 dates must be in full Zulu form.' },
    {
      src: 'a = 2016-05-04X18:53:41Z',
      line: 1,
      column: 15,
      reason: "Expected 'T' in ISO8601 datetime, but found 'X' instead.",
    },
    {
      src: '\n a = 2016-02-30T00:00:00Z',
      line: 2,
      column: 6,
      reason: "expected Zulu formatted DateTime, but got '2016-02-30T00:00:00Z'",
    },
    {
      src: 'a = 99999999999999999999',
      line: 1,
      column: 5,
      reason: "integer '99999999999999999999' is out of the range",
    },
    { src: 'a = "bad \\q escape"', line: 1, column: 11, reason: /^Invalid escape character 'q'/ },
    {
      src: 'k = "\\x4"',
      line: 1,
      column: 8,
      reason: "Expected two hexadecimal digits after '\\x', but got '4\"'",
    },
    {
      src: 'a = 1 2',
      line: 1,
      column: 7,
      reason: "Expected a top-level value to end with a new line, comment or EOF, but got '2' instead.",
    },
    { src: 'a = "x" b = 2', line: 1, column: 9, reason: /^Expected a top-level value to end/ },
    {
      src: 'm { a = 1 b = 2 }',
      line: 1,
      column: 11,
      reason: 'Expected a map value terminator "," or a map terminator "}", but got \'b\' instead.',
    },
    { src: 'm {\n  a = 1 ]\n}', line: 2, column: 9, reason: /^Expected a map value terminator/ },
    { src: 'm { ] }', line: 1, column: 5, reason: "Unexpected array end ']' processing map." },
    { src: ' = 1', line: 1, column: 2, reason: "Unexpected key separator '='" },
    { src: 'm { : 1 }', line: 1, column: 5, reason: "Unexpected key separator ':'." },
    { src: 'm { a = , }', line: 1, column: 9, reason: 'Unexpected map value terminator ",".' },
    { src: 'a =\n1', line: 1, column: 4, reason: 'Expected value but found new line' },
    { src: 'include [a]', line: 1, column: 9, reason: 'Expected include value but found start of an array' },
    { src: 'include {a}', line: 1, column: 9, reason: 'Expected include value but found start of a map' },
    {
      src: 'include 5.conf',
      line: 1,
      column: 9,
      reason: 'Expected include value but found start of a number',
    },
    { src: 'include "x.conf', line: 1, column: 16, reason: 'Unexpected EOF in double quoted include' },
    {
      src: 'a {\n  b = [\n    { c: $undefined }\n  ]\n}',
      line: 3,
      column: 10,
      reason: /'undefined' can not be found/,
    },
    { src: '/x = 1', line: 1, column: 2, reason: 'Unexpected EOF.' },
    { src: 'a = "\u00e9\u00e9\\q"', line: 1, column: 9, reason: /^Invalid escape character 'q'/ },
  ];
  for (const { src, line, column, reason } of table) {
    test(`${JSON.stringify(src)} -> ${line}:${column}`, () => {
      expectError(() => parse(src), { line, column, reason, file: '' });
    });
  }

  test('ConfError carries file, line, column and a prefixed message', () => {
    const err = expectError(() => parseConf('a = 1\nb = [1, 2,, 3]', { file: '/etc/nats/x.conf' }), {});
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'ConfError');
    assert.equal(err.file, '/etc/nats/x.conf');
    assert.equal(err.line, 2);
    assert.equal(err.column, 11);
    assert.equal(err.message, "/etc/nats/x.conf:2:11: Unexpected array value terminator ','.");
    const noFile = expectError(() => parse('a = .1'), {});
    assert.equal(noFile.message, '<string>:1:5: Floats must start with a digit');
  });

  test('columns count code points, not UTF-16 units', () => {
    expectError(() => parse('a = "😀😀\\q"'), { line: 1, column: 9 });
  });
});

describe('include', () => {
  let dir = '';
  const write = (rel: string, text: string): string => {
    const p = path.join(dir, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, text);
    return p;
  };

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsnats-conf-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('included keys are merged at the point of inclusion (all quoting styles)', () => {
    write('inc/users.conf', 'user = alice\npass = secret\n');
    for (const inc of ['include "inc/users.conf"', "include 'inc/users.conf'", 'include inc/users.conf']) {
      const main = write('main.conf', `listen = 4222\n${inc}\nafter = true\n`);
      assert.deepEqual(
        parseConfFile(main),
        { listen: 4222, user: 'alice', pass: 'secret', after: true },
        inc,
      );
    }
  });

  test('includes inside a map, relative to the including file, nested', () => {
    write(
      'a/passwords.conf',
      'ALICE_PASS: $2a$10$UHR6GhotWhpLsKtVP0/i6.Nh9.fuY73cWjLoJjb2sKT8KISBcUW5q\ninclude sub/bob.conf\n',
    );
    write('a/sub/bob.conf', "BOB_PASS: '$2a$11$dZM98SpGeI7dCFFGSpt.JObQcix8YHml4TBUZoge9R1uxnMIln5ly'\n");
    const main = write(
      'simple.conf',
      `listen: 127.0.0.1:4222

authorization {
  include './a/passwords.conf'
  CAROL_PASS: foo
  users = [
    {user: alice, password: $ALICE_PASS}
    {user: bob,   password: $BOB_PASS}
    {user: carol, password: $CAROL_PASS}
  ]
  timeout: 0.5
}
`,
    );
    const alice = '$2a$10$UHR6GhotWhpLsKtVP0/i6.Nh9.fuY73cWjLoJjb2sKT8KISBcUW5q';
    const bob = '$2a$11$dZM98SpGeI7dCFFGSpt.JObQcix8YHml4TBUZoge9R1uxnMIln5ly';
    const m = parseConfFile(main);
    assert.deepEqual(m, {
      listen: '127.0.0.1:4222',
      authorization: {
        ALICE_PASS: alice,
        BOB_PASS: bob,
        CAROL_PASS: 'foo',
        users: [
          { user: 'alice', password: alice },
          { user: 'bob', password: bob },
          { user: 'carol', password: 'foo' },
        ],
        timeout: 0.5,
      },
    });
    // key positions point into the file that defined them
    const auth = m['authorization'] as ConfMap;
    assert.deepEqual(keyPosition(auth, 'ALICE_PASS'), {
      file: path.join(dir, 'a/passwords.conf'),
      line: 1,
      column: 1,
    });
    assert.deepEqual(keyPosition(auth, 'BOB_PASS'), {
      file: path.join(dir, 'a/sub/bob.conf'),
      line: 1,
      column: 1,
    });
    assert.deepEqual(keyPosition(auth, 'CAROL_PASS'), { file: main, line: 5, column: 3 });
  });

  test('parseConf resolves includes relative to options.file', () => {
    write('rel/part.conf', 'x = 1\n');
    assert.deepEqual(parseConf('include part.conf', { file: path.join(dir, 'rel', 'virtual.conf') }), {
      x: 1,
    });
  });

  test('parseConf without a file resolves includes relative to the working directory', () => {
    write('cwd/part.conf', 'y = 2\n');
    const old = process.cwd();
    process.chdir(path.join(dir, 'cwd'));
    try {
      assert.deepEqual(parseConf('include part.conf'), { y: 2 });
    } finally {
      process.chdir(old);
    }
  });

  test('included files cannot see the includer variables', () => {
    write('scoped/uses.conf', 'b = $TOP\n');
    const main = write('scoped/main.conf', 'TOP = 1\ninclude uses.conf\n');
    expectError(() => parseConfFile(main), {
      file: path.join(dir, 'scoped/uses.conf'),
      line: 1,
      column: 5,
      reason: `variable reference for 'TOP' can not be found (in file included from ${main}:2:9)`,
    });
  });

  test('missing include file is an error at the include', () => {
    const main = write('missing.conf', 'a = 1\nm {\n  include nope.conf\n}\n');
    expectError(() => parseConfFile(main), {
      file: main,
      line: 3,
      column: 11,
      reason: /^error parsing include file 'nope.conf', error opening config file: ENOENT/,
    });
  });

  test('syntax error inside an included file reports the included file position', () => {
    write('bad/broken.conf', 'ok = 1\n\nbroken = [1,, 2]\n');
    const main = write('bad/main.conf', '# main\ninclude "broken.conf"\n');
    const err = expectError(() => parseConfFile(main), {
      file: path.join(dir, 'bad/broken.conf'),
      line: 3,
      column: 13,
    });
    assert.match(
      err.message,
      /broken\.conf:3:13: Unexpected array value terminator ','\. \(in file included from .*main\.conf:2:10\)$/,
    );
  });

  test('include cycles are detected', () => {
    write('cycle/a.conf', 'a = 1\ninclude b.conf\n');
    write('cycle/b.conf', 'b = 1\ninclude a.conf\n');
    expectError(() => parseConfFile(path.join(dir, 'cycle/a.conf')), { reason: /include cycle detected/ });
  });

  test('unreadable main file', () => {
    const p = path.join(dir, 'does-not-exist.conf');
    const err = expectError(() => parseConfFile(p), { file: p, line: 0, column: 0 });
    assert.match(err.message, /does-not-exist\.conf: error opening config file: ENOENT/);
  });
});

describe('positions', () => {
  test('keyPosition and elementPosition', () => {
    const src =
      'port: 4222\n\ncluster {\n  name: "c1"\n  routes = [\n    nats://a:6222\n    nats://b:6222\n  ]\n}\n';
    const m = parseConf(src, { file: 'server.conf' });
    assert.deepEqual(keyPosition(m, 'port'), { file: 'server.conf', line: 1, column: 1 });
    assert.deepEqual(keyPosition(m, 'cluster'), { file: 'server.conf', line: 3, column: 1 });
    const cluster = m['cluster'] as ConfMap;
    assert.deepEqual(keyPosition(cluster, 'name'), { file: 'server.conf', line: 4, column: 3 });
    assert.deepEqual(keyPosition(cluster, 'routes'), { file: 'server.conf', line: 5, column: 3 });
    const routes = cluster['routes'] as ConfValue[];
    assert.deepEqual(elementPosition(routes, 1), { file: 'server.conf', line: 7, column: 5 });
    assert.equal(keyPosition(m, 'nope'), undefined);
    assert.equal(keyPosition({}, 'port'), undefined);
    // positions do not show up as data
    assert.deepEqual(Object.keys(m), ['port', 'cluster']);
    assert.equal(
      JSON.stringify(m),
      '{"port":4222,"cluster":{"name":"c1","routes":["nats://a:6222","nats://b:6222"]}}',
    );
  });

  test('quoted keys and keys in arrays of maps', () => {
    const m = parse('users = [\n  { user: a }\n  {"user": b}\n]');
    const users = m['users'] as ConfMap[];
    assert.deepEqual(keyPosition(users[0]!, 'user'), { file: '', line: 2, column: 5 });
    assert.deepEqual(keyPosition(users[1]!, 'user'), { file: '', line: 3, column: 5 }); // after the quote
    assert.deepEqual(elementPosition(m['users'] as ConfValue[], 1), { file: '', line: 3, column: 3 });
  });
});

describe('parseDuration', () => {
  test('Go time.ParseDuration syntax, in milliseconds', () => {
    const table: [string, number][] = [
      ['0', 0],
      ['-0', 0],
      ['1h2m3.5s', 3_723_500],
      ['500ms', 500],
      ['2m', 120_000],
      ['1h', 3_600_000],
      ['1.5h', 5_400_000],
      ['-1.5h', -5_400_000],
      ['+5s', 5000],
      ['.5s', 500],
      ['1.s', 1000],
      ['1us', 0.001],
      ['1\u00b5s', 0.001],
      ['1\u03bcs', 0.001],
      ['10ns', 0.00001],
      ['1m30s', 90_000],
      ['1h1m1s1ms1us1ns', 3_661_001.001001],
      ['2562047h47m16.854775807s', Number(9_223_372_036_854_775_807n) / 1e6],
    ];
    for (const [src, want] of table) {
      const got = parseDuration(src);
      assert.ok(Math.abs(got - want) <= Math.abs(want) * 1e-12, `${src}: got ${got}, want ${want}`);
    }
  });

  test('numbers are seconds', () => {
    assert.equal(parseDuration(10), 10_000);
    assert.equal(parseDuration(0), 0);
    assert.equal(parseDuration(0.5), 500);
  });

  test('invalid durations', () => {
    const table: [string, RegExp][] = [
      ['', /invalid duration ""/],
      ['1', /missing unit in duration "1"/],
      ['10', /missing unit/],
      ['abc', /invalid duration "abc"/],
      ['1x', /unknown unit "x" in duration "1x"/],
      ['1hour', /unknown unit "hour"/],
      ['.s', /invalid duration/],
      ['-', /invalid duration/],
      ['1h-2m', /unknown unit "h-"/],
      ['1 h', /unknown unit " h"/],
      ['9223372036854775808ns', /invalid duration/],
      ['2562048h', /invalid duration/],
    ];
    for (const [src, re] of table) assert.throws(() => parseDuration(src), re, src);
    assert.throws(
      () => parseDuration(true),
      /expected a duration string or a number of seconds, got boolean/,
    );
    assert.throws(() => parseDuration([]), /got array/);
    assert.throws(() => parseDuration({}), /got map/);
    assert.throws(() => parseDuration(Number.NaN), /invalid duration/);
  });

  test('durations from a parsed config', () => {
    const m = parse('ping_interval = 10\nwrite_deadline = "2s"\nlame = 1h30m\nauth_timeout: 0.5');
    assert.equal(parseDuration(m['ping_interval']!), 10_000);
    assert.equal(parseDuration(m['write_deadline']!), 2000);
    assert.equal(parseDuration(m['lame']!), 5_400_000);
    assert.equal(parseDuration(m['auth_timeout']!), 500);
  });
});

test('a realistic nats-server.conf', () => {
  const src = `# nats-server configuration
server_name: "n1-east"
listen: 0.0.0.0:4222
http: 8222
max_payload: 1MB
max_connections: 64K
max_pending: 64MB
ping_interval: "2m"
ping_max: 3
write_deadline: "10s"
debug: false
trace: off
logtime: yes

PASS: "s3cr3t"

authorization {
  default_permissions = {
    publish = "SANDBOX.*"
    subscribe = ["PUBLIC.>", "_INBOX.>"]
  }
  ADMIN = {
    publish = ">"
    subscribe = ">"
  }
  users = [
    {user: admin, password: $PASS, permissions: $ADMIN}
    {user: client, password: "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG"}
    {
      user: "svc"
      password: $2a$11$dZM98SpGeI7dCFFGSpt.JObQcix8YHml4TBUZoge9R1uxnMIln5ly
      permissions: {
        publish: { allow: ["svc.>"], deny: ["svc.admin.>"] }
        subscribe: { allow: "_INBOX.>" }
        allow_responses: { max: 1, expires: "1m" }
      }
    }
  ]
  timeout: 0.5
}

tls {
  cert_file: "/etc/nats/certs/server.pem"
  key_file:  "/etc/nats/certs/server-key.pem"
  ca_file:   "./certs/ca.pem"
  verify:    true
  timeout:   2
  cipher_suites: [
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
  ]
}

cluster {
  name: east
  listen: 0.0.0.0:6222
  authorization {
    user: route_user
    password: $PASS
    timeout: 1
  }
  routes = [
    nats-route://route_user:s3cr3t@10.0.0.2:6222
    nats-route://route_user:s3cr3t@10.0.0.3:6222
  ]
  pool_size: 3
}

jetstream {
  store_dir: "/data/jetstream"
  max_memory_store: 1G
  max_file_store: 10GB
  domain: hub
}
`;
  const m = parseConf(src, { file: 'nats-server.conf', env: NO_ENV });
  assert.deepEqual(m, {
    server_name: 'n1-east',
    listen: '0.0.0.0:4222',
    http: 8222,
    max_payload: 1024 * 1024,
    max_connections: 64_000,
    max_pending: 64 * 1024 * 1024,
    ping_interval: '2m',
    ping_max: 3,
    write_deadline: '10s',
    debug: false,
    trace: false,
    logtime: true,
    PASS: 's3cr3t',
    authorization: {
      default_permissions: { publish: 'SANDBOX.*', subscribe: ['PUBLIC.>', '_INBOX.>'] },
      ADMIN: { publish: '>', subscribe: '>' },
      users: [
        { user: 'admin', password: 's3cr3t', permissions: { publish: '>', subscribe: '>' } },
        { user: 'client', password: '$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG' },
        {
          user: 'svc',
          password: '$2a$11$dZM98SpGeI7dCFFGSpt.JObQcix8YHml4TBUZoge9R1uxnMIln5ly',
          permissions: {
            publish: { allow: ['svc.>'], deny: ['svc.admin.>'] },
            subscribe: { allow: '_INBOX.>' },
            allow_responses: { max: 1, expires: '1m' },
          },
        },
      ],
      timeout: 0.5,
    },
    tls: {
      cert_file: '/etc/nats/certs/server.pem',
      key_file: '/etc/nats/certs/server-key.pem',
      ca_file: './certs/ca.pem',
      verify: true,
      timeout: 2,
      cipher_suites: ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'],
    },
    cluster: {
      name: 'east',
      listen: '0.0.0.0:6222',
      authorization: { user: 'route_user', password: 's3cr3t', timeout: 1 },
      routes: [
        'nats-route://route_user:s3cr3t@10.0.0.2:6222',
        'nats-route://route_user:s3cr3t@10.0.0.3:6222',
      ],
      pool_size: 3,
    },
    jetstream: {
      store_dir: '/data/jetstream',
      max_memory_store: 1_000_000_000,
      max_file_store: 10 * 1024 ** 3,
      domain: 'hub',
    },
  });
  assert.equal(parseDuration(m['ping_interval']!), 120_000);
  const cluster = m['cluster'] as ConfMap;
  assert.deepEqual(keyPosition(cluster, 'routes'), { file: 'nats-server.conf', line: 62, column: 3 });
  const users = (m['authorization'] as ConfMap)['users'] as ConfMap[];
  assert.deepEqual(keyPosition(users[2]!, 'permissions'), { file: 'nats-server.conf', line: 32, column: 7 });
});
