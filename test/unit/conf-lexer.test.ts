// Token-level tests for the configuration lexer, covering the cases of
// nats-server's conf/lex_test.go (expected token types and values follow the
// reference; positions are our own 1-based line:column).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type TokenType, tokenize } from '../../src/conf/index.js';

type Tok = [TokenType, string];

/** Tokens without the trailing EOF; comments are included. */
function toks(input: string): Tok[] {
  const out = tokenize(input);
  const last = out[out.length - 1]!;
  assert.ok(last.type === 'eof' || last.type === 'error');
  return out.filter((t) => t.type !== 'eof').map((t) => [t.type, t.value]);
}

const K = (v: string): Tok => ['key', v];
const S = (v: string): Tok => ['string', v];
const I = (v: string): Tok => ['integer', v];
const F = (v: string): Tok => ['float', v];
const B = (v: string): Tok => ['bool', v];
const V = (v: string): Tok => ['variable', v];
const C = (text: string): Tok[] => [
  ['commentStart', ''],
  ['text', text],
];
const E = (msg: string): Tok => ['error', msg];
const AS: Tok = ['arrayStart', ''];
const AE: Tok = ['arrayEnd', ''];
const MS: Tok = ['mapStart', ''];
const ME: Tok = ['mapEnd', ''];
/** A top-level '}' on its own line lexes as a key without value (the parser ignores it). */
const TOP_CLOSE: Tok = ['key', '}'];

interface Case {
  name: string;
  inputs: string[];
  expect: Tok[];
}

const cases: Case[] = [
  { name: 'plain key without value', inputs: ['foo'], expect: [K('foo')] },
  {
    name: 'simple string values',
    inputs: ['foo = "bar"', "foo = 'bar'", "foo='bar'", "foo='bar'\r\n", "foo=\t'bar'\t"],
    expect: [K('foo'), S('bar')],
  },
  {
    name: 'single quotes are raw',
    inputs: ["foo = 'bar\\r\\n  \\t'"],
    expect: [K('foo'), S('bar\\r\\n  \\t')],
  },
  {
    name: 'strings starting with a number',
    inputs: ['foo = 3xyz', 'foo = 3xyz,', 'foo = 3xyz;', '\n        foo = 3xyz\n        '],
    expect: [K('foo'), S('3xyz')],
  },
  {
    name: 'string starting with a number closing a map',
    inputs: [
      '\n        map {\n          foo = 3xyz}\n        ',
      '\n        map {\n          foo = 3xyz;\n        }\n',
    ],
    expect: [K('map'), MS, K('foo'), S('3xyz'), ME],
  },
  {
    name: 'strings starting with numbers in a map',
    inputs: ['\n        map {\n          foo = 3xyz,\n          bar = 4wqs\n        }\n        '],
    expect: [K('map'), MS, K('foo'), S('3xyz'), K('bar'), S('4wqs'), ME],
  },
  { name: 'hex escape', inputs: ['foo = \\x65'], expect: [K('foo'), S('e')] },
  // Go keeps the raw byte 0xE9; as a JS string a lone non-UTF-8 byte maps to U+00E9.
  { name: 'hex escape latin1', inputs: ['foo = \\xe9'], expect: [K('foo'), S('\u00e9')] },
  {
    name: 'hex escapes forming UTF-8',
    inputs: ['foo = "\\xc3\\xa9t\\xc3\\xa9"'],
    expect: [K('foo'), S('été')],
  },
  { name: 'integer', inputs: ['foo = 123', 'foo=123', 'foo=123\r\n'], expect: [K('foo'), I('123')] },
  {
    name: 'negative integer',
    inputs: ['foo = -123', 'foo=-123', 'foo=-123\r\n'],
    expect: [K('foo'), I('-123')],
  },
  ...['1k', '1K', '1m', '1M', '1g', '1G', '1MB', '1Gb', '-1m'].map(
    (v): Case => ({ name: `size suffix ${v}`, inputs: [`foo = ${v}`], expect: [K('foo'), I(v)] }),
  ),
  { name: 'negative size with trailing blank', inputs: ['foo = -1GB '], expect: [K('foo'), I('-1GB')] },
  { name: 'not a size: 1Ghz', inputs: ['foo = 1Ghz'], expect: [K('foo'), S('1Ghz')] },
  { name: 'not a size: 2Pie', inputs: ['foo = 2Pie'], expect: [K('foo'), S('2Pie')] },
  { name: 'not a size: 3Mbs', inputs: ['foo = 3Mbs,'], expect: [K('foo'), S('3Mbs')] },
  {
    name: 'size followed by non-size',
    inputs: ['foo = 4Gb, bar = 5Gø'],
    expect: [K('foo'), I('4Gb'), K('bar'), S('5Gø')],
  },
  { name: 'float', inputs: ['foo = 22.2', 'foo=22.2', 'foo=22.2\r\n'], expect: [K('foo'), F('22.2')] },
  {
    name: 'hex escape cut by newline (no digit)',
    inputs: ['foo = xyz\\x\n'],
    expect: [K('foo'), E("Expected two hexadecimal digits after '\\x', but hit end of line")],
  },
  {
    name: 'hex escape cut by newline (one digit)',
    inputs: ['foo = xyz\\xF\n'],
    expect: [K('foo'), E("Expected two hexadecimal digits after '\\x', but hit end of line")],
  },
  {
    name: 'hex escape without digits',
    inputs: ['foo = "[\\x]"'],
    expect: [K('foo'), E("Expected two hexadecimal digits after '\\x', but got ']\"'")],
  },
  {
    name: 'hex escape with one digit',
    inputs: ['foo = "[\\xe]"'],
    expect: [K('foo'), E("Expected two hexadecimal digits after '\\x', but got 'e]'")],
  },
  {
    name: 'float without leading digit',
    inputs: ['foo = .2'],
    expect: [K('foo'), E('Floats must start with a digit')],
  },
  {
    name: 'key starting with separator',
    inputs: [' :foo = 22'],
    expect: [E("Unexpected key separator ':'")],
  },
  { name: 'bool', inputs: ['foo = true', 'foo=true', 'foo=true\r\n'], expect: [K('foo'), B('true')] },
  {
    name: 'hash comment',
    inputs: ['# This is a comment', '# This is a comment\r\n'],
    expect: C(' This is a comment'),
  },
  { name: 'slash comment', inputs: ['// This is a comment\r\n'], expect: C(' This is a comment') },
  {
    name: 'values followed by comments',
    inputs: ['foo = 123 // This is a comment', 'foo=123    # This is a comment'],
    expect: [K('foo'), I('123'), ...C(' This is a comment')],
  },
  { name: 'unquoted string', inputs: ['foo = bar', "foo = bar' "], expect: [K('foo'), S('bar')] },
  {
    name: 'datetime',
    inputs: ['foo = 2016-05-04T18:53:41Z'],
    expect: [K('foo'), ['datetime', '2016-05-04T18:53:41Z']],
  },
  { name: 'variables', inputs: ['foo = $bar', 'foo =$bar', 'foo $bar'], expect: [K('foo'), V('bar')] },
  {
    name: 'arrays',
    inputs: ["foo = [1, 2, 3, 'bar']", "foo = [1,2,3,'bar']", "foo = [1, 2,3,'bar']"],
    expect: [K('foo'), AS, I('1'), I('2'), I('3'), S('bar'), AE],
  },
  {
    name: 'multi-line array with comments',
    inputs: [
      '\n# top level comment\nfoo = [\n 1, # One\n 2, // Two\n 3 # Three\n \'bar\'     ,\n "bar"\n]\n',
    ],
    expect: [
      ...C(' top level comment'),
      K('foo'),
      AS,
      I('1'),
      ...C(' One'),
      I('2'),
      ...C(' Two'),
      I('3'),
      ...C(' Three'),
      S('bar'),
      S('bar'),
      AE,
    ],
  },
  {
    name: 'multi-line array without separators',
    inputs: ['\n# top level comment\nfoo = [\n 1 // foo\n 2\n 3\n \'bar\'\n "bar"\n]\n'],
    expect: [
      ...C(' top level comment'),
      K('foo'),
      AS,
      I('1'),
      ...C(' foo'),
      I('2'),
      I('3'),
      S('bar'),
      S('bar'),
      AE,
    ],
  },
  {
    name: 'simple map',
    inputs: ["foo = {ip='127.0.0.1', port = 4242}"],
    expect: [K('foo'), MS, K('ip'), S('127.0.0.1'), K('port'), I('4242'), ME],
  },
  {
    name: 'multi-line map with comments',
    inputs: ["\nfoo = {\n  ip = '127.0.0.1' # the IP\n  port= 4242 // the port\n}\n"],
    expect: [
      K('foo'),
      MS,
      K('ip'),
      S('127.0.0.1'),
      ...C(' the IP'),
      K('port'),
      I('4242'),
      ...C(' the port'),
      ME,
    ],
  },
  {
    name: 'nested maps',
    inputs: [
      "\nfoo = {\n  host = {\n    ip = '127.0.0.1'\n    port= 4242\n  }\n}\n",
      "\nfoo  {\n  host  {\n    ip = '127.0.0.1'\n    port= 4242\n  }\n}\n",
    ],
    expect: [K('foo'), MS, K('host'), MS, K('ip'), S('127.0.0.1'), K('port'), I('4242'), ME, ME],
  },
  {
    name: 'colon separator',
    inputs: ['foo : 123', 'foo:123', 'foo: 123', 'foo:  123\r\n'],
    expect: [K('foo'), I('123')],
  },
  { name: 'quoted keys', inputs: ["'foo' : 123", '"foo" : 123'], expect: [K('foo'), I('123')] },
  {
    name: 'quoted keys with a space',
    inputs: ["' foo' : 123", '" foo" : 123'],
    expect: [K(' foo'), I('123')],
  },
  {
    name: 'whitespace separator',
    inputs: ['foo 123', 'foo\t123', 'foo\t\t123\r\n', 'foo\n123'],
    expect: [K('foo'), I('123')],
  },
  {
    name: 'escapes in unquoted strings',
    inputs: ['\nfoo  = \\t\nbar  = \\r\nbaz  = \\n\nq    = \\"\nbs   = \\\\\n'],
    expect: [K('foo'), S('\t'), K('bar'), S('\r'), K('baz'), S('\n'), K('q'), S('"'), K('bs'), S('\\')],
  },
  { name: 'compound escape-string', inputs: ['foo = "\\\\end"'], expect: [K('foo'), S('\\end')] },
  { name: 'compound string-escape', inputs: ['foo = "start\\\\"'], expect: [K('foo'), S('start\\')] },
  { name: 'compound escape-escape', inputs: ['foo = \\x45\\x71'], expect: [K('foo'), S('Eq')] },
  {
    name: 'compound string-escape-escape',
    inputs: ['foo = start\\x45\\x71'],
    expect: [K('foo'), S('startEq')],
  },
  {
    name: 'compound string-escape-string',
    inputs: ['foo = start\\x7Cend'],
    expect: [K('foo'), S('start|end')],
  },
  { name: 'compound escape-escape-string', inputs: ['foo = \\x3c\\x3eend'], expect: [K('foo'), S('<>end')] },
  {
    name: 'compound escape-string-escape',
    inputs: ['foo = \\x3cmiddle\\x3E'],
    expect: [K('foo'), S('<middle>')],
  },
  {
    name: 'invalid escape',
    inputs: ['foo = \\y'],
    expect: [
      K('foo'),
      E(
        "Invalid escape character 'y'. Only the following escape characters are allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\.",
      ),
    ],
  },
  { name: 'escaped text is never a bool', inputs: ['foo = \\\\true'], expect: [K('foo'), S('\\true')] },
  { name: 'escaped text is never a variable', inputs: ['foo = \\\\$var'], expect: [K('foo'), S('\\$var')] },
  { name: 'empty double-quoted string', inputs: ['foo = ""'], expect: [K('foo'), S('')] },
  { name: 'empty single-quoted string', inputs: ["foo = ''"], expect: [K('foo'), S('')] },
  {
    name: 'optional semicolons',
    inputs: ["\nfoo = 123;\nbar = 'baz';\nbaz = 'boo'\nmap {\n id = 1;\n}\n"],
    expect: [K('foo'), I('123'), K('bar'), S('baz'), K('baz'), S('boo'), K('map'), MS, K('id'), I('1'), ME],
  },
  {
    name: 'semicolon chaining',
    inputs: ["foo='1'; bar=2.2; baz=true;"],
    expect: [K('foo'), S('1'), K('bar'), F('2.2'), K('baz'), B('true')],
  },
  {
    name: 'non-quoted strings',
    inputs: [
      '\nfoo = 123\nbar = baz\nbaz=boo\nmap {\n id:one\n id2 : onetwo\n}\nt true\nf false\ntstr "true"\n' +
        'tkey = two\nfkey = five # This should be a string\n',
    ],
    expect: [
      K('foo'),
      I('123'),
      K('bar'),
      S('baz'),
      K('baz'),
      S('boo'),
      K('map'),
      MS,
      K('id'),
      S('one'),
      K('id2'),
      S('onetwo'),
      ME,
      K('t'),
      B('true'),
      K('f'),
      B('false'),
      K('tstr'),
      S('true'),
      K('tkey'),
      S('two'),
      K('fkey'),
      S('five'),
      ...C(' This should be a string'),
    ],
  },
  {
    name: 'dangling double quote',
    inputs: ['\nlisten: "localhost:4242\n\nhttp: localhost:8222\n'],
    expect: [K('listen'), E('Unexpected EOF.')],
  },
  {
    name: 'dangling single quote',
    inputs: ["\nlisten: 'localhost:4242\n\nhttp: localhost:8222\n"],
    expect: [K('listen'), E('Unexpected EOF.')],
  },
  {
    name: 'quoted strings spanning lines then a dangling quote',
    inputs: [
      '\nfoo = "\nlisten: "\n\nhttp: localhost:8222\n\n"\n',
      "\nfoo = '\nlisten: '\n\nhttp: localhost:8222\n\n'\n",
    ],
    expect: [K('foo'), S('\nlisten: '), K('http'), S('localhost:8222'), E('Unexpected EOF.')],
  },
  {
    name: 'dangling map',
    inputs: ['\nlisten = 4222\n\ncluster = {\n\n  foo = bar\n\n'],
    expect: [
      K('listen'),
      I('4222'),
      K('cluster'),
      MS,
      K('foo'),
      S('bar'),
      E('Unexpected EOF processing map.'),
    ],
  },
  {
    name: 'dangling block',
    inputs: ['\nlisten = 4222\n\nquote = (\n\n  foo = bar\n\n'],
    expect: [K('listen'), I('4222'), K('quote'), E('Unexpected EOF processing block.')],
  },
  {
    name: 'quoted map keys',
    inputs: ["foo = {'bar' = 4242}", 'foo = {"bar" = 4242}'],
    expect: [K('foo'), MS, K('bar'), I('4242'), ME],
  },
  {
    name: 'special characters in quoted map keys',
    inputs: ["foo = {'bar-1.2.3' = { port:4242 }}", 'foo = {"bar-1.2.3" = { port:4242 }}'],
    expect: [K('foo'), MS, K('bar-1.2.3'), MS, K('port'), I('4242'), ME, ME],
  },
  {
    name: 'double nested maps with newlines',
    inputs: ['\nsystems {\n  allinone {\n    description: "This is a description."\n  }\n}\n'],
    expect: [K('systems'), MS, K('allinone'), MS, K('description'), S('This is a description.'), ME, ME],
  },
  {
    name: 'block string',
    inputs: ['\nnumbers (\n1234567890\n)\n'],
    expect: [K('numbers'), S('\n1234567890\n')],
  },
  {
    name: 'block string ended by NUL',
    inputs: ['\nnumbers (\n1234567890\n)\u0000'],
    expect: [K('numbers'), S('\n1234567890\n')],
  },
  {
    // reference quirk: without a newline after the closing ')', it is kept
    name: 'block string at the very end of input',
    inputs: ['\nnumbers (\n1234567890\n)'],
    expect: [K('numbers'), S('\n1234567890\n)')],
  },
  {
    name: 'multi-line block string',
    inputs: ['\nnumbers (\n  12(34)56\n  (\n    7890\n  )\n)\n'],
    expect: [K('numbers'), S('\n  12(34)56\n  (\n    7890\n  )\n')],
  },
  {
    name: 'unquoted IP and port',
    inputs: ['listen: 127.0.0.1:4222'],
    expect: [K('listen'), S('127.0.0.1:4222')],
  },
  { name: 'unquoted IP', inputs: ['listen: 127.0.0.1'], expect: [K('listen'), S('127.0.0.1')] },
  {
    name: 'unquoted host and port',
    inputs: ['listen: apcera.me:80'],
    expect: [K('listen'), S('apcera.me:80')],
  },
  {
    name: 'unquoted host and random port',
    inputs: ['listen: nats.io:-1'],
    expect: [K('listen'), S('nats.io:-1')],
  },
  { name: 'negative port', inputs: ['listen: -1'], expect: [K('listen'), I('-1')] },
  { name: 'port only, random', inputs: ['listen: :-1'], expect: [K('listen'), S(':-1')] },
  { name: 'port only', inputs: ['listen = :80'], expect: [K('listen'), S(':80')] },
  {
    name: 'array of host:port',
    inputs: ['listen = [localhost:4222, localhost:4333]'],
    expect: [K('listen'), AS, S('localhost:4222'), S('localhost:4333'), AE],
  },
  {
    name: 'array of maps',
    inputs: [
      '\nauthorization {\n    users = [\n      {user: alice, password: foo}\n      {user: bob,   password: bar}\n' +
        '    ]\n    timeout: 0.5\n}\n',
    ],
    expect: [
      K('authorization'),
      MS,
      K('users'),
      AS,
      MS,
      K('user'),
      S('alice'),
      K('password'),
      S('foo'),
      ME,
      MS,
      K('user'),
      S('bob'),
      K('password'),
      S('bar'),
      ME,
      AE,
      K('timeout'),
      F('0.5'),
      ME,
    ],
  },
  {
    name: 'include',
    inputs: ['include "users.conf"', "include 'users.conf'", 'include users.conf', 'INCLUDE users.conf'],
    expect: [['include', 'users.conf']],
  },
  {
    name: 'include in a map',
    inputs: [
      'foo { include users.conf }',
      'foo {include users.conf}',
      "foo { include 'users.conf' }",
      'foo { include "users.conf"}',
    ],
    expect: [K('foo'), MS, ['include', 'users.conf'], ME],
  },
  {
    name: '"include" not followed by a blank is a key',
    inputs: ['include=1', 'include:1'],
    expect: [K('include'), I('1')],
  },
  // reference quirk: "include" followed by a blank is always the keyword
  {
    name: '"include = x" includes a file named "="',
    inputs: ['include = x'],
    expect: [
      ['include', '='],
      E("Expected a top-level value to end with a new line, comment or EOF, but got 'x' instead."),
    ],
  },
  {
    name: 'JSON: single item',
    inputs: [
      '\n                        {\n                          "http_port": 8223\n                        }\n',
    ],
    expect: [K('http_port'), I('8223'), TOP_CLOSE],
  },
  {
    name: 'JSON: several items',
    inputs: [
      '\n{\n  "http_port": 8223,\n  "port": 4223,\n  "max_payload": "5MB",\n  "debug": true,\n' +
        '  "max_control_line": 1024\n}\n',
    ],
    expect: [
      K('http_port'),
      I('8223'),
      K('port'),
      I('4223'),
      K('max_payload'),
      S('5MB'),
      K('debug'),
      B('true'),
      K('max_control_line'),
      I('1024'),
      TOP_CLOSE,
    ],
  },
  {
    name: 'JSON: not prettified',
    inputs: ['{"http_port": 8224,"port": 4224}\n'],
    expect: [K('http_port'), I('8224'), K('port'), I('4224')],
  },
  {
    name: 'JSON: not prettified, closing brace on its own line',
    inputs: ['{"http_port": 8224,"port": 4224\n  }\n'],
    expect: [K('http_port'), I('8224'), K('port'), I('4224'), TOP_CLOSE],
  },
  {
    name: 'JSON: uglified with inner blocks',
    inputs: [
      '{"http_port": 8227,"port": 4227,"write_deadline": "1h","cluster": {"port": 6222,"routes": ' +
        '["nats://127.0.0.1:4222","nats://127.0.0.1:4223","nats://127.0.0.1:4224"]}}\n',
    ],
    expect: [
      K('http_port'),
      I('8227'),
      K('port'),
      I('4227'),
      K('write_deadline'),
      S('1h'),
      K('cluster'),
      MS,
      K('port'),
      I('6222'),
      K('routes'),
      AS,
      S('nats://127.0.0.1:4222'),
      S('nats://127.0.0.1:4223'),
      S('nats://127.0.0.1:4224'),
      AE,
      ME,
    ],
  },
  {
    name: 'JSON: prettified with inner blocks',
    inputs: [
      '\n{\n  "http_port": 8227,\n  "cluster": {\n    "port": 6222,\n    "routes": [\n      "nats://127.0.0.1:4222"\n' +
        '    ]\n  }\n}\n',
    ],
    expect: [
      K('http_port'),
      I('8227'),
      K('cluster'),
      MS,
      K('port'),
      I('6222'),
      K('routes'),
      AS,
      S('nats://127.0.0.1:4222'),
      AE,
      ME,
      TOP_CLOSE,
    ],
  },
  {
    // reference quirk: ']' does not end a plain number, so "3]" continues as a string
    name: 'number directly before ] is not terminated',
    inputs: ['foo = [1,2,3]'],
    expect: [
      K('foo'),
      AS,
      I('1'),
      I('2'),
      S('3]'),
      E('Expected an array value terminator "," or an array terminator "]", but got \'EOF\' instead.'),
    ],
  },
  {
    name: 'number before " ]" is fine',
    inputs: ['foo = [1, 2, 3 ]'],
    expect: [K('foo'), AS, I('1'), I('2'), I('3'), AE],
  },
  {
    name: 'ISO date must be complete',
    inputs: ['d = 2016-05'],
    expect: [K('d'), E("Expected '-' in ISO8601 datetime, but found 'EOF' instead.")],
  },
  {
    name: 'dash after non-year digits',
    inputs: ['d = 12-3'],
    expect: [K('d'), E('All ISO8601 dates must be in full Zulu form.')],
  },
];

describe('conf lexer (lex_test.go cases)', () => {
  for (const c of cases) {
    test(c.name, () => {
      for (const input of c.inputs)
        assert.deepEqual(toks(input), c.expect, `input: ${JSON.stringify(input)}`);
    });
  }
});

/** Renders tokens with their position as "type:value@line:col". */
function located(input: string): string[] {
  const lines = input.split('\n');
  return tokenize(input)
    .filter((t) => t.type !== 'eof')
    .map((t) => {
      let off = t.offset;
      let line = 0;
      while (line < lines.length - 1 && off > lines[line]!.length) {
        off -= lines[line]!.length + 1;
        line++;
      }
      return `${t.type}:${t.value}@${line + 1}:${off + 1}`;
    });
}

test('token offsets point at the start of keys and values', () => {
  assert.deepEqual(located("foo = {ip='127.0.0.1', port = 4242}"), [
    'key:foo@1:1',
    'mapStart:@1:7',
    'key:ip@1:8',
    'string:127.0.0.1@1:12', // just after the opening quote
    'key:port@1:24',
    'integer:4242@1:31',
    'mapEnd:@1:36',
  ]);
  assert.deepEqual(located('\nfoo = [\n 1, # One\n $x\n]\n'), [
    'key:foo@2:1',
    'arrayStart:@2:7',
    'integer:1@3:2',
    'commentStart:@3:6',
    'text: One@3:6',
    'variable:x@4:2',
    'arrayEnd:@5:2',
  ]);
});
