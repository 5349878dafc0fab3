/**
 * Byte-for-byte comparison with the reference nats-server 2.9.10: every row's raw input goes to a
 * nats-server and to a tsnats started with the same limits, and what each sends back after INFO (and
 * whether it closes the connection) must be identical. Each script runs twice: in one write, and one byte
 * per write. Adding a case is adding a row to ROWS. Skipped when nats-server is not on PATH.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Server, ServerConfig } from '../../src/index.js';
import { type Launched, launch } from '../helpers/launcher.js';
import { connect, type RawConn } from '../helpers/raw-conn.js';
import { hasReference, type ReferenceLimits, referenceConfig } from '../helpers/reference.js';
import { startServer } from '../helpers/server.js';

/** Server setups, named; each gets one nats-server and one tsnats (started on first use). */
const CONFIGS = {
  default: {},
  limits: { maxPayload: 8, maxControlLine: 64, maxSubscriptions: 2 },
  auth: { user: 'a', password: 'b' },
  authTimeout: { user: 'a', password: 'b', authTimeout: 200 },
  stale: { pingInterval: 100, pingMax: 1 },
  stale2: { pingInterval: 100, pingMax: 2 },
  maxConn: { maxConnections: 1 },
} satisfies Record<string, ReferenceLimits & ServerConfig>;
type ConfigName = keyof typeof CONFIGS;

/**
 * Send this text; or wait until the output so far contains `wait`; or have a second connection (opened
 * on first use, kept to the end of the run) send `peer`, after everything sent so far was processed.
 */
type Step = string | { wait: string } | { peer: string };

interface Row {
  /** The input. Steps allow a deterministic read boundary (send, wait for an answer, send more). */
  script: string | Step[];
  /** Server setup (default: 'default'). */
  config?: ConfigName;
  /**
   * How a run ends. 'ping' (default): a PING follows the script and the run ends at its PONG (the
   * connection stayed open) or when the server closes. 'close': nothing is added; the run ends when the
   * server closes (timer-driven cases), or after `timeoutMs`.
   */
  end?: 'ping' | 'close';
  timeoutMs?: number;
  /** Connections to open (and keep) before the one under test. */
  hold?: number;
  /**
   * Also run the script one byte per write (default true for string scripts). Off where nats-server's
   * own output depends on how its reads happen to fall (see the split-payload pedantic row).
   */
  bytewise?: boolean;
  /** Subtest name (default: the script, JSON-quoted). */
  name?: string;
  /**
   * Where nats-server's own order is not defined (a sublist node keeps its subscriptions and queue
   * groups in Go maps, so two on the same subject come out in random order): compare frames sorted.
   */
  unordered?: boolean;
}

const H = 'CONNECT {"headers":true}\r\n';
const HQ = 'CONNECT {"headers":true,"verbose":false}\r\n';
const NOV = 'CONNECT {"verbose":false}\r\n';
const HDR = 'NATS/1.0\r\n\r\n'; // 12 bytes
/**
 * Rows whose nats-server output depends on where its reads happen to split the input: a pedantic
 * 'Invalid Publish Subject' is sent once per processPub run (twice when the payload is in a later read),
 * and a bare CR inside a control line is kept in a line read whole but dropped from one split across
 * reads. Byte-per-write runs of these would compare nats-server's scheduling, not the protocol.
 */
const NOT_BYTEWISE = { bytewise: false } as const;

const ROWS: Row[] = [
  // ---- PING / PONG / CONNECT basics
  { script: 'PING\r\n' },
  { script: 'ping\n' },
  { script: 'PiNg\r\n' },
  { script: 'PING foo bar\r\n' },
  { script: 'PINGX\r\n' },
  { script: 'PONG\r\n' },
  { script: 'CONNECT {}\r\n' },
  { script: 'connect {}\r\n' },
  { script: 'CONNECT {"verbose":false}\r\n' },
  { script: 'CONNECT\t{"verbose":false}\r\n' },
  { script: 'CONNECT    {}\r\n' },
  { script: 'CONNECT {}\r\nCONNECT {}\r\n' },
  { script: 'CONNECT {"verbose":false}\r\nCONNECT {"verbose":true}\r\nPING\r\n' },
  // ---- +OK / -ERR / INFO from the client
  { script: '+OK\r\n' },
  { script: '+ok\r\n' },
  { script: '+OKAY\r\n' },
  { script: '+O\r\n' },
  { script: "-ERR 'x'\r\n" },
  { script: '-err x\r\n' },
  { script: '-ERR\r\n' },
  { script: 'INFO {}\r\n' },
  { script: 'INFO null\r\n' },
  { script: 'INFO {"foo":1}\r\n' },
  { script: 'INFO {bad}\r\n' },
  { script: 'INFO\r\n' },
  { script: 'INFO []\r\n' },
  { script: 'INFO {"server_id":1}\r\n' },
  // ---- garbage and unknown ops
  { script: '\r\n' },
  { script: '\n' },
  { script: ' PING\r\n' },
  { script: '\tPING\r\n' },
  { script: 'FOO\r\n' },
  { script: 'garbage \x00\xff\r\n' },
  { script: '\x00' },
  { script: '\xff\xfe' },
  { script: 'P\r\n' },
  { script: 'PUB\r\n' },
  { script: 'SUB\r\n' },
  { script: 'UNSUB\r\n' },
  { script: 'PUBX foo 1\r\n' },
  { script: 'SUBSCRIBE foo 1\r\n' },
  { script: 'GET / HTTP/1.1\r\n' },
  { script: 'MSG foo 1 2\r\nhi\r\n' },
  { script: 'HMSG foo 1 2 2\r\nhi\r\n' },
  { script: 'RS+ foo\r\n' },
  { script: 'RMSG $G foo 1\r\na\r\n' },
  { script: 'LS+ foo\r\n' },
  { script: 'A+ foo\r\n' },
  // ---- SUB / PUB / MSG
  { script: 'SUB foo 1\r\nPUB foo 5\r\nhello\r\n' },
  { script: 'sub foo 1\npub foo 5\nhello\r\n' },
  { script: 'sub foo 1\npub foo 5\nhello\n' },
  { script: 'sUb foo 1\r\nPuB foo 2\r\nhi\r\n' },
  { script: 'SUB\tfoo\t1\r\nPUB\tfoo\t2\r\nhi\r\n' },
  { script: 'PUB  foo   5\r\nhello\r\n' },
  { script: 'SUB foo  \t 1 \r\n' },
  { script: 'SUB foo 1 \r\nPUB foo 1 \r\na\r\n' },
  { script: 'SUB foo 1\r\nPUB foo bar 5\r\nhello\r\n' },
  { script: 'SUB foo 1\r\nPUB foo 0\r\n\r\n' },
  { script: 'PUB foo 0\r\n\r\n' },
  { script: 'SUB foo 1\r\nPUB foo 05\r\nhello\r\n' },
  { script: 'SUB foo 1\r\nPUB foo bar 0005\r\nhello\r\n' },
  { script: 'SUB foo 1\r\nPUB foo 00\r\n\r\n' },
  { script: 'SUB foo 1\r\nPUB foo 4\r\na\r\nb\r\n' },
  { script: 'SUB foo 1\r\nPUB foo 6\r\n\x00\r\n\xff\r\n\r\n' },
  { script: `${NOV}SUB foo 1\r\nPUB foo 1\r\na\r\nPUB foo 1\r\nb\r\nPUB foo 1\r\nc\r\n` },
  { script: 'PUB foo bar\r\n' },
  { script: 'PUB foo -1\r\n' },
  { script: 'PUB foo +5\r\nhello\r\n' },
  { script: 'PUB foo 9999999999\r\n' },
  { script: 'PUB foo 1234567890\r\nx\r\n' },
  { script: 'PUB foo 999999999\r\n' },
  { script: 'PUB foo 3\r\nhello\r\n' },
  { script: 'PUB foo 5\r\nhel' },
  { script: 'PUB foo 1\na\n' },
  { script: 'PUB foo 1\ra\r\n' },
  { script: 'PUB  1\r\na\r\n' },
  { script: 'PUB a b c 1\r\nx\r\n' },
  { script: 'SUB foo\r\n' },
  { script: 'SUB a b c d\r\n' },
  { script: 'SUB foo\r1\r\n', ...NOT_BYTEWISE },
  { script: 'SUB > 1\r\nPUB fo\ro 1\r\na\r\n', ...NOT_BYTEWISE },
  { script: 'SUB > 1\r\nPUB foo bar\r1\r\na\r\n', ...NOT_BYTEWISE },
  { script: 'SUB foo 1\r\nPUB foo 5\r\nhello\r\r\n' },
  { script: 'SUB foo 1\r\nPUB foo 5\r\nhelloX\r\n' },
  { script: 'SUB foo abc\r\nSUB foo 99999999999999999999 \r\nPUB foo 1\r\na\r\n', unordered: true },
  { script: 'SUB foo\tq\t1\r\nPUB foo 1\r\na\r\n' },
  { script: 'SUB foo 1\r\nSUB foo 2\r\nUNSUB 1\r\nPUB foo 1\r\na\r\n' },
  { script: 'SUB foo 1\r\nSUB bar 1\r\nPUB bar 1\r\na\r\nPUB foo 1\r\nb\r\n' },
  {
    script: `${NOV}SUB foo.bar 1\r\nSUB foo.* 2\r\nSUB > 3\r\nSUB foo.> 4\r\nSUB *.bar 5\r\nPUB foo.bar 1\r\ny\r\n`,
  },
  {
    script:
      'SUB foo.> 1\r\nSUB > 2\r\nSUB foo.>.bar 3\r\nSUB foo..bar 4\r\nSUB .foo 5\r\nSUB foo. 6\r\nSUB * 7\r\n',
  },
  { script: 'SUB foo*.bar 1\r\nSUB foo.b>r 2\r\nSUB fo\x00o 3\r\n' },
  { script: 'SUB > 1\r\nPUB f\xc3\xb6 1\r\na\r\n' },
  { script: 'SUB > 1\r\nPUB foo bar.* 1\r\na\r\n' },
  { script: `${NOV}SUB foo 1\r\nPUB foo reply.with.a\ttab 1\r\na\r\n` },
  // ---- queue groups
  { script: 'SUB foo q 1\r\nPUB foo 5\r\nhello\r\n' },
  { script: 'SUB foo q 1\r\nSUB foo 2\r\nPUB foo 5\r\nhello\r\n' },
  { script: 'SUB foo q 1\r\nSUB foo q 2\r\nUNSUB 1\r\nPUB foo 1\r\na\r\n' },
  { script: 'SUB foo q.* 1\r\nSUB foo q> 2\r\n' },
  { script: `${NOV}SUB foo q1 1\r\nSUB foo q2 2\r\nPUB foo 3\r\nabc\r\n`, unordered: true },
  // ---- UNSUB
  { script: 'UNSUB 1\r\n' },
  { script: 'UNSUB 1 2\r\n' },
  { script: 'UNSUB 1 2 3\r\n' },
  { script: 'SUB foo 1\r\nUNSUB 2\r\n' },
  { script: 'SUB foo 1\r\nUNSUB 1 2\r\nPUB foo 1\r\na\r\nPUB foo 1\r\nb\r\nPUB foo 1\r\nc\r\n' },
  { script: 'SUB foo 1\r\nUNSUB 1 1\r\nPUB foo 1\r\na\r\nPUB foo 1\r\nb\r\n' },
  { script: 'SUB foo 1\r\nPUB foo 1\r\na\r\nPUB foo 1\r\nb\r\nUNSUB 1 1\r\nPUB foo 1\r\nc\r\n' },
  { script: 'SUB foo 1\r\nPUB foo 1\r\na\r\nUNSUB 1 2\r\nPUB foo 1\r\nb\r\nPUB foo 1\r\nc\r\n' },
  { script: 'SUB foo 1\r\nUNSUB 1 0\r\nPUB foo 1\r\na\r\n' },
  { script: 'SUB foo 1\r\nUNSUB 1 -1\r\nPUB foo 1\r\na\r\n' },
  { script: 'SUB foo 1\r\nUNSUB 1 x\r\nPUB foo 1\r\na\r\n' },
  { script: 'SUB foo 1\r\nUNSUB 1 999999999999\r\nPUB foo 1\r\na\r\n' },
  // ---- pedantic (the default before CONNECT) and echo
  { script: 'PUB foo.. 1\r\na\r\n', ...NOT_BYTEWISE },
  { script: 'PUB foo* 1\r\na\r\n' },
  { script: 'SUB > 1\r\nPUB foo.* 1\r\na\r\n', ...NOT_BYTEWISE },
  { script: 'CONNECT {"pedantic":false}\r\nSUB > 1\r\nPUB foo..bar 1\r\na\r\n' },
  { script: `${NOV}SUB > 1\r\nPUB foo.* 1\r\na\r\n`, ...NOT_BYTEWISE },
  {
    name: 'pedantic PUB with its payload in a later read: Invalid Publish Subject twice',
    script: [`${NOV}PUB foo.. 2\r\nh`, { wait: "-ERR 'Invalid Publish Subject'\r\n" }, 'i\r\n'],
  },
  { script: 'CONNECT {"echo":false}\r\nSUB foo 1\r\nPUB foo 5\r\nhello\r\n' },
  {
    script: [
      `CONNECT {"echo":false,"verbose":false}\r\nSUB foo 1\r\nPUB foo 1\r\na\r\n`,
      { peer: 'PUB foo 1\r\nb\r\n' },
    ],
  },
  // ---- two connections
  { script: ['SUB foo 1\r\n', { peer: 'SUB foo 2\r\nPUB foo r 2\r\nhi\r\n' }, 'PUB foo 2\r\nyo\r\n'] },
  { script: ['SUB foo 1\r\n', { peer: `${HQ}HPUB foo 12 17\r\n${HDR}hello\r\n` }] },
  { script: ['SUB foo 1\r\n', { peer: `${HQ}HPUB foo r 012 0017\r\n${HDR}hello\r\n` }] },
  { script: ['SUB foo 1\r\n', { peer: `${HQ}HPUB foo 12 12\r\n${HDR}\r\n` }] },
  { script: [`${HQ}SUB foo 1\r\n`, { peer: 'PUB foo 2\r\nhi\r\n' }] },
  {
    script: [
      `${NOV}SUB foo 1\r\nUNSUB 1 2\r\n`,
      { peer: 'PUB foo 1\r\na\r\nPUB foo 1\r\nb\r\nPUB foo 1\r\nc\r\n' },
    ],
  },
  {
    script: [
      'CONNECT {"headers":true,"no_responders":true,"verbose":false}\r\nSUB r 1\r\n',
      { peer: 'SUB svc 1\r\n' },
      'PUB svc r 0\r\n\r\nPUB nobody r 0\r\n\r\n',
    ],
  },
  // ---- CONNECT arguments
  { script: 'CONNECT {bad json}\r\n' },
  { script: 'CONNECT {"verbose":"yes"}\r\n' },
  { script: 'CONNECT\r\n' },
  { script: 'CONNECT \r\n' },
  { script: 'CONNECT null\r\n' },
  { script: 'CONNECT []\r\n' },
  { script: 'CONNECT "x"\r\n' },
  { script: 'CONNECT {} x\r\n' },
  { script: 'CONNECT {}{}\r\n' },
  { script: 'CONNECT {"verbose":null}\r\n' },
  { script: 'CONNECT {"verbose":false,"verbose":true}\r\n' },
  { script: 'CONNECT {"VERBOSE":false}\r\n' },
  { script: 'CONNECT {"Verbose":false}\r\n' },
  { script: 'CONNECT {"unknown_field":[1,{"a":2}],"verbose":false}\r\n' },
  { script: 'CONNECT {"name":1}\r\n' },
  { script: 'CONNECT {"echo":0}\r\n' },
  { script: 'CONNECT {"tls_required":"no"}\r\n' },
  { script: 'CONNECT {"protocol":1}\r\n' },
  { script: 'CONNECT {"protocol":0}\r\n' },
  { script: 'CONNECT {"protocol":2}\r\n' },
  { script: 'CONNECT {"protocol":-1}\r\n' },
  { script: 'CONNECT {"protocol":1.0}\r\n' },
  { script: 'CONNECT {"protocol":1e0}\r\n' },
  { script: 'CONNECT {"protocol":"1"}\r\n' },
  { script: 'CONNECT {"protocol":99999999999999999999}\r\n' },
  { script: 'CONNECT {"protocol":1,"sig":5}\r\n' },
  { script: 'CONNECT {"jwt":"x"}\r\n' },
  { script: 'CONNECT {"nkey":"x"}\r\n' },
  { script: 'CONNECT {"auth_token":"x"}\r\n' },
  { script: 'CONNECT {"user":"x","pass":"y"}\r\n' },
  { script: 'CONNECT {"new_account":true}\r\n' },
  { script: 'CONNECT {"account":"X"}\r\n' },
  { script: 'CONNECT {"account":""}\r\n' },
  { script: 'CONNECT {"name":"caf\xc3\xa9","lang":"\\u00e9"}\r\n' },
  { script: 'CONNECT {"verbose":false}  \t\r\n' },
  { script: 'CONNECT {"verbose":false,}\r\n' },
  { script: 'CONNECT {"headers":"true"}\r\n' },
  { script: 'CONNECT {"name":"\xff\xfe"}\r\n' },
  { script: 'CONNECT {"lang":"go","version":"1.0","protocol":1,"verbose":true,"pedantic":true}\r\nPING\r\n' },
  { script: 'CONNECT {"no_responders":true}\r\n' },
  { script: 'CONNECT {"no_responders":true,"headers":false}\r\n' },
  // ---- headers
  { script: `HPUB foo 12 17\r\n${HDR}hello\r\n` },
  { script: 'HPUB foo 10 5\r\n' },
  { script: `CONNECT {"headers":false}\r\nSUB foo 1\r\nHPUB foo 12 17\r\n${HDR}hello\r\n` },
  { script: `${H}SUB foo 1\r\nHPUB foo 12 17\r\n${HDR}hello\r\n` },
  { script: `${H}SUB foo 1\r\nHPUB foo bar 12 17\r\n${HDR}hello\r\n` },
  { script: `${HQ}SUB foo 1\r\nHPUB foo 16 21\r\nNATS/1.0\r\nA:B\r\n\r\nhello\r\n` },
  { script: `${HQ}SUB foo 1\r\nHPUB foo 0 5\r\nhello\r\n` },
  { script: `SUB foo 1\r\n${H}HPUB foo 0 5\r\nhello\r\n` },
  { script: `${HQ}SUB foo 1\r\nHPUB foo 5 5\r\nhello\r\n` },
  { script: `${HQ}SUB foo 1\r\nHPUB foo 012 0017\r\n${HDR}hello\r\n` },
  { script: `${HQ}SUB foo 1\r\nHPUB foo 3 3\r\nabc\r\n` },
  { script: `${HQ}SUB foo 1\r\nHPUB foo 12 12\r\n${HDR}\r\n` },
  { script: `${H}HPUB foo 5 2\r\n` },
  { script: `${H}HPUB foo x 2\r\n` },
  { script: `${H}HPUB foo 2\r\n` },
  { script: `${H}HPUB foo a b 2 2\r\n` },
  { script: `${H}HPUB foo 12 5\r\n` },
  { script: `${H}HPUB foo 2 2\r\nabcd\r\n` },
  { script: `${H}HPUB foo.. 3 3\r\nabc\r\n`, ...NOT_BYTEWISE },
  { script: `${HQ}hpub\tfoo\t12\t14\n${HDR}hi\r\n` },
  // ---- no responders
  { script: 'CONNECT {"headers":true,"no_responders":true}\r\nSUB r 1\r\nPUB foo r 0\r\n\r\n' },
  { script: 'CONNECT {"headers":true,"no_responders":true}\r\nPUB foo r 0\r\n\r\n' },
  {
    script: `CONNECT {"headers":true,"no_responders":true,"verbose":false}\r\nSUB r 1\r\nSUB x 2\r\nPUB x r 1\r\na\r\nHPUB y r 12 12\r\n${HDR}\r\n`,
  },
  {
    script:
      'CONNECT {"headers":true,"no_responders":true,"echo":false}\r\nSUB r 1\r\nSUB x 2\r\nPUB x r 0\r\n\r\n',
  },
  // ---- limits: max_payload 8, max_control_line 64, max_subscriptions 2
  { config: 'limits', script: 'PUB foo 9\r\n' },
  { config: 'limits', script: 'PUB foo 8\r\n12345678\r\n' },
  { config: 'limits', script: `${H}HPUB foo 2 9\r\n` },
  { config: 'limits', script: `${H}HPUB foo 2 8\r\nab123456\r\n` },
  { config: 'limits', script: 'PUB foo 100000\r\n' },
  { config: 'limits', script: 'PUB foo 9999999999\r\n' },
  { config: 'limits', script: 'SUB foo 1\r\nSUB bar 2\r\nPING\r\n' },
  { config: 'limits', script: 'SUB foo 1\r\nSUB bar 2\r\nSUB baz 3\r\nPUB foo 1\r\na\r\n' },
  { config: 'limits', script: 'SUB foo 1\r\nSUB bar 2\r\nSUB foo 1\r\n' },
  { config: 'limits', script: 'SUB foo 1\r\nUNSUB 1\r\nSUB bar 2\r\nSUB baz 3\r\n' },
  { config: 'limits', script: 'SUB foo..bar 1\r\nSUB a 2\r\nSUB b 3\r\nSUB c 4\r\n' },
  { config: 'limits', name: 'control line argument of 64 bytes', script: `SUB ${'a'.repeat(62)} 1\r\n` },
  { config: 'limits', name: 'control line argument of 65 bytes', script: `SUB ${'a'.repeat(63)} 1\r\n` },
  { config: 'limits', name: 'PUB control line over the limit', script: `PUB ${'a'.repeat(70)} 1\r\na\r\n` },
  {
    config: 'limits',
    name: 'CONNECT over the limit',
    script: `CONNECT {"verbose":false,"name":"${'x'.repeat(60)}"}\r\n`,
    // One byte per write, nats-server now and then closes before its -ERR is written (seen once in a
    // clean-clone run; tsnats always sends it): compared in whole writes only.
    bytewise: false,
  },
  { config: 'limits', name: 'PING with 100 bytes after it', script: `PING ${'x'.repeat(100)}\r\n` },
  { config: 'limits', name: '-ERR over the limit', script: `-ERR ${'x'.repeat(100)}\r\n` },
  { config: 'limits', name: 'INFO over the limit', script: `INFO {"a":"${'x'.repeat(100)}"}\r\n` },
  { config: 'limits', name: 'control line without a newline', script: `PUB ${'a'.repeat(100)}` },
  // ---- user/password
  { config: 'auth', script: 'CONNECT {"user":"a","pass":"x"}\r\n' },
  { config: 'auth', script: 'CONNECT {"user":"a","pass":"b"}\r\n' },
  {
    config: 'auth',
    script: 'connect {"user":"a","pass":"b","verbose":false}\r\nSUB foo 1\r\nPUB foo 1\r\na\r\n',
  },
  { config: 'auth', script: 'CONNECT {"user":"x","pass":"b"}\r\n' },
  { config: 'auth', script: 'CONNECT {}\r\n' },
  { config: 'auth', script: 'CONNECT {"user":"a","pass":"b","account":"X"}\r\n' },
  { config: 'auth', script: 'CONNECT {"user":"a","pass":"b","protocol":5}\r\n' },
  { config: 'auth', script: 'CONNECT {"user":"a","pass":"b"}\r\nCONNECT {"user":"a","pass":"x"}\r\n' },
  { config: 'auth', script: 'CONNECT {bad\r\n' },
  { config: 'auth', script: 'PUB foo 1\r\na\r\n' },
  { config: 'auth', script: 'PING\r\n' },
  { config: 'auth', script: 'ping\r\n' },
  { config: 'auth', script: 'SUB foo 1\r\n' },
  { config: 'auth', script: '+OK\r\n' },
  { config: 'auth', script: 'C\r\n' },
  { config: 'auth', script: 'FOO\r\n' },
  // ---- timers and connection limits
  { config: 'authTimeout', name: 'no CONNECT within auth_timeout', script: '', end: 'close' },
  { config: 'stale', name: 'no PONG, ping_max 1', script: '', end: 'close' },
  { config: 'stale', name: 'CONNECT, then no PONG, ping_max 1', script: NOV, end: 'close' },
  { config: 'stale2', name: 'no PONG, ping_max 2', script: '', end: 'close' },
  {
    config: 'maxConn',
    name: 'a second connection with max_connections 1',
    script: '',
    end: 'close',
    hold: 1,
  },
];

interface Outcome {
  output: string;
  closed: boolean;
  /** What the peer connection received, when the row has one. */
  peer?: { output: string; closed: boolean };
}

interface Pair {
  ref: Launched;
  ts: Server;
}

const pairs = new Map<ConfigName, Promise<Pair>>();

function pair(name: ConfigName): Promise<Pair> {
  let p = pairs.get(name);
  if (p === undefined) {
    const cfg: ReferenceLimits & ServerConfig = CONFIGS[name];
    p = (async () => {
      const [ref, ts] = await Promise.all([
        launch({ kind: 'nats-server', config: referenceConfig(cfg) }),
        startServer({ ...cfg }),
      ]);
      return { ref, ts };
    })();
    pairs.set(name, p);
  }
  return p;
}

function nameOf(row: Row): string {
  const base =
    row.name ??
    JSON.stringify(
      typeof row.script === 'string'
        ? row.script
        : row.script
            .map((s) => (typeof s === 'string' ? s : 'wait' in s ? `<wait ${s.wait}>` : `<peer ${s.peer}>`))
            .join(''),
    );
  return row.config !== undefined && row.config !== 'default' ? `[${row.config}] ${base}` : base;
}

/** Everything the server sends up to the PONG of a drain PING, or up to its close. */
async function settle(c: RawConn, timeoutMs: number): Promise<{ output: string; closed: boolean }> {
  try {
    return { output: await c.drain(timeoutMs), closed: false };
  } catch (err) {
    if (!c.isClosed()) throw err;
    return { output: c.take(), closed: true };
  }
}

/**
 * Run one row against a server on `port`: what the server sends after INFO, and whether it closed.
 *
 * When a server closes while our bytes are still arriving, its kernel answers them with an RST, and a
 * write of ours that meets the RST makes Node destroy the socket before it has read what the server sent
 * last (its -ERR). Such a run says nothing about the server, so it is run again.
 */
async function runRow(port: number, row: Row, bytewise: boolean): Promise<Outcome> {
  // A reset run may or may not have lost the tail: keep the longest output seen.
  let best: Outcome | undefined;
  for (let attempt = 0; attempt < 8; attempt++) {
    const r = await runRowOnce(port, row, bytewise);
    if (!r.reset) return r.outcome;
    if (best === undefined || r.outcome.output.length > best.output.length) best = r.outcome;
  }
  return best!;
}

async function runRowOnce(
  port: number,
  row: Row,
  bytewise: boolean,
): Promise<{ outcome: Outcome; reset: boolean }> {
  const held: RawConn[] = [];
  let c: RawConn | undefined;
  let peer: RawConn | undefined;
  const timeoutMs = row.timeoutMs ?? 2000;
  try {
    for (let i = 0; i < (row.hold ?? 0); i++) {
      const h = await connect(port);
      held.push(h);
      // nats-server sends INFO before it registers the client: a PONG proves it counts.
      await h.drain(timeoutMs);
    }
    c = await connect(port);
    let output = '';
    let peerOut: Outcome['peer'];
    const steps = typeof row.script === 'string' ? [row.script] : row.script;
    for (const step of steps) {
      if (typeof step !== 'string') {
        if ('wait' in step) {
          await c.expect(step.wait, { timeoutMs });
          continue;
        }
        const before = await settle(c, timeoutMs);
        output += before.output;
        if (before.closed) return { outcome: { output, closed: true }, reset: c.error() !== undefined };
        peer ??= await connect(port);
        peer.send(step.peer);
        const p = await settle(peer, timeoutMs);
        peerOut = { output: (peerOut?.output ?? '') + p.output, closed: p.closed };
      } else if (bytewise) {
        const bytes = Buffer.from(step, 'latin1');
        for (let i = 0; i < bytes.length && !c.isClosed(); i++) {
          await c.sendAsync(bytes.subarray(i, i + 1));
          // Let the event loop read what the server answered (and see its FIN) before the next byte.
          await new Promise((r) => setImmediate(r));
        }
      } else {
        c.send(step);
      }
    }
    let end: { output: string; closed: boolean };
    if ((row.end ?? 'ping') === 'close') {
      const r = await c.readUntilClosed(timeoutMs);
      end = { output: r.text, closed: r.closed };
    } else {
      end = await settle(c, timeoutMs);
    }
    const out: Outcome = { output: output + end.output, closed: end.closed };
    if (peerOut !== undefined) out.peer = peerOut;
    return { outcome: out, reset: c.error() !== undefined };
  } finally {
    c?.close();
    peer?.close();
    for (const h of held) h.close();
  }
}

/** Split server output into frames (a MSG/HMSG with its payload is one frame) and sort them. */
function sortFrames(out: string): string {
  const frames: string[] = [];
  let i = 0;
  while (i < out.length) {
    let eol = out.indexOf('\r\n', i);
    if (eol < 0) eol = out.length - 2;
    let end = eol + 2;
    const line = out.slice(i, eol);
    if (/^H?MSG /.test(line)) {
      const size = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (Number.isInteger(size)) end += size + 2;
    }
    frames.push(out.slice(i, end));
    i = end;
  }
  return frames.sort().join('');
}

async function compare(row: Row, bytewise: boolean): Promise<void> {
  const { ref, ts } = await pair(row.config ?? 'default');
  const expected = await runRow(ref.port, row, bytewise);
  const actual = await runRow(ts.port, row, bytewise);
  if (row.unordered) {
    for (const o of [expected, actual]) {
      o.output = sortFrames(o.output);
      if (o.peer) o.peer.output = sortFrames(o.peer.output);
    }
  }
  assert.deepEqual(actual, expected, `tsnats (actual) differs from nats-server (expected)`);
}

describe('byte-for-byte compatibility with nats-server', {
  skip: !hasReference() && 'nats-server not on PATH',
}, () => {
  after(async () => {
    const all = await Promise.allSettled([...pairs.values()]);
    await Promise.all(
      all.map(async (r) => {
        if (r.status !== 'fulfilled') return;
        await Promise.all([r.value.ref.stop('SIGKILL'), r.value.ts.shutdown()]);
      }),
    );
  });

  describe('INFO', () => {
    // Values that are per server or per process; every other field must match.
    const PER_SERVER = new Set(['server_id', 'server_name', 'go', 'port', 'client_id']);
    for (const name of Object.keys(CONFIGS) as ConfigName[]) {
      if (name === 'maxConn' || name.startsWith('stale')) continue;
      test(`INFO fields match nats-server [${name}]`, async (t) => {
        const { ref, ts } = await pair(name);
        const a = await connect(ref.port);
        const b = await connect(ts.port);
        try {
          for (const c of [a, b]) assert.match(c.infoLine, /^INFO \{.*\} \r\n$/);
          const refKeys = Object.keys(a.info);
          const tsKeys = Object.keys(b.info);
          const extra = tsKeys.filter((k) => !refKeys.includes(k));
          if (extra.length > 0) t.diagnostic(`tsnats-only INFO keys: ${extra.join(', ')}`);
          assert.deepEqual(
            tsKeys.filter((k) => refKeys.includes(k)),
            refKeys,
            'the same keys as nats-server, in the same order',
          );
          for (const k of refKeys) {
            if (PER_SERVER.has(k)) {
              assert.equal(typeof b.info[k], typeof a.info[k], `type of ${k}`);
            } else if (k === 'version') {
              // The reference binary is 2.9.10; tsnats reports the 2.10 feature level it implements.
              assert.equal(a.info[k], '2.9.10');
              assert.equal(b.info[k], '2.10.29');
            } else {
              assert.deepEqual(b.info[k], a.info[k], `value of ${k}`);
            }
          }
          assert.match(String(b.info.server_id), /^N[A-Z2-7]{55}$/);
        } finally {
          a.close();
          b.close();
        }
      });
    }
  });

  describe('one write', () => {
    for (const row of ROWS) test(nameOf(row), () => compare(row, false));
  });

  describe('one byte per write', () => {
    for (const row of ROWS) {
      if (typeof row.script !== 'string' || row.script === '' || row.bytewise === false) continue;
      test(nameOf(row), () => compare(row, true));
    }
  });
});
