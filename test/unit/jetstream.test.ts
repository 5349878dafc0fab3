/**
 * Unit tests of the JetStream layer's pure parts: NATS/1.0 headers, Go-compatible JSON and times, the
 * generated error catalogue, stream config validation, and the `jetstream` configuration keys and flags.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCommandLine, USAGE } from '../../src/cli/flags.js';
import { ConfigError, loadConfigText } from '../../src/config/index.js';
import {
  JSErrors,
  newJSStreamNotFoundError,
  newJSStreamWrongLastSequenceError,
} from '../../src/jetstream/api/errors.generated.js';
import { decodeRequest, goJson, InvalidJsonError, isEmptyRequest } from '../../src/jetstream/api/json.js';
import {
  checkStreamConfig,
  checkStreamUpdate,
  decodeStreamConfig,
  encodeStreamConfig,
  isApiError,
  type StreamConfig,
} from '../../src/jetstream/config.js';
import {
  appendHeader,
  buildHeaders,
  getHeader,
  parseHeaders,
  readPublishHeaders,
  statusHeader,
} from '../../src/jetstream/headers.js';
import { GO_ZERO_TIME, parseRfc3339Nano, rfc3339Nano } from '../../src/jetstream/time.js';
import { SubjectTransform } from '../../src/routing/transform.js';
import { runTsnats } from '../helpers/launcher.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function cfg(body: unknown): StreamConfig | { code: number; err_code: number; description: string } {
  return checkStreamConfig(decodeStreamConfig(decodeRequest(JSON.stringify(body))));
}

function ok(body: unknown): StreamConfig {
  const c = cfg(body);
  assert.ok(!isApiError(c), `expected a valid config, got ${JSON.stringify(c)}`);
  return c as StreamConfig;
}

function refused(body: unknown): string {
  const c = cfg(body);
  assert.ok(isApiError(c), 'expected an error');
  return `${c.err_code} ${c.description}`;
}

describe('headers (ADR-4)', () => {
  const hdr = Buffer.from('NATS/1.0\r\nNats-Msg-Id: abc\r\nX-Two: 1\r\nX-Two: 2\r\nNats-Rollup: SUB\r\n\r\n');

  test('getHeader: exact keys at line starts, first value, spaces skipped', () => {
    assert.equal(getHeader(hdr, 'Nats-Msg-Id'), 'abc');
    assert.equal(getHeader(hdr, 'X-Two'), '1');
    assert.equal(getHeader(hdr, 'nats-msg-id'), undefined);
    assert.equal(getHeader(hdr, 'Msg-Id'), undefined);
    assert.equal(getHeader(Buffer.alloc(0), 'X'), undefined);
  });

  test('readPublishHeaders reads what streams act on; bad sequences never match', () => {
    const h = readPublishHeaders(
      buildHeaders([
        ['Nats-Expected-Last-Sequence', '12'],
        ['Nats-Expected-Last-Subject-Sequence', 'x1'],
        ['Nats-Rollup', 'ALL'],
      ]),
    );
    assert.deepEqual(
      [h.msgId, h.expectedLastSeq, h.expectedLastSubjSeq, h.rollup, h.expectedStream],
      ['', 12, -1, 'all', ''],
    );
    assert.equal(readPublishHeaders(hdr).rollup, 'sub');
  });

  test('appendHeader moves the final empty line; statusHeader and parseHeaders', () => {
    assert.equal(
      appendHeader(Buffer.from('NATS/1.0\r\nA: 1\r\n\r\n'), 'Nats-Stream', 'S').toString(),
      'NATS/1.0\r\nA: 1\r\nNats-Stream: S\r\n\r\n',
    );
    assert.equal(appendHeader(null, 'K', 'v\r\nx').toString(), 'NATS/1.0\r\nK: v  x\r\n\r\n');
    assert.equal(statusHeader(404, 'Message Not Found').toString(), 'NATS/1.0 404 Message Not Found\r\n\r\n');
    const p = parseHeaders(Buffer.from('NATS/1.0 408 Bad Request\r\nA: b\r\n\r\n'));
    assert.deepEqual(p, { status: 408, description: 'Bad Request', entries: [['A', 'b']] });
  });
});

describe('Go-compatible JSON and times', () => {
  test('decodeRequest: objects only, null is empty, case-insensitive keys (exact match first)', () => {
    assert.deepEqual(decodeRequest('null').raw, {});
    for (const bad of ['', '[]', '"x"', '{x', '5']) assert.throws(() => decodeRequest(bad), InvalidJsonError);
    const o = decodeRequest('{"NAME":"a","Max_Msgs":5,"name":"b"}');
    assert.equal(o.string('name'), 'b');
    assert.equal(o.int('max_msgs'), 5);
    assert.throws(() => decodeRequest('{"seq":-1}').uint('seq'), InvalidJsonError);
    assert.throws(() => decodeRequest('{"n":1.5}').int('n'), InvalidJsonError);
    assert.throws(() => decodeRequest('{"n":3000000000}').int('n', 32), InvalidJsonError);
    assert.throws(() => decodeRequest('{"s":5}').string('s'), InvalidJsonError);
    assert.equal(decodeRequest('{"s":null}').string('s'), undefined);
  });

  test('isEmptyRequest as nats-server: nothing, {} or an object without keys', () => {
    for (const e of ['', '{}', ' { } ']) assert.equal(isEmptyRequest(Buffer.from(e)), true, e);
    for (const n of ['{"a":1}', '{', 'null', '[]']) assert.equal(isEmptyRequest(Buffer.from(n)), false, n);
  });

  test('goJson escapes <, > and & as Go does', () => {
    assert.equal(goJson({ s: 'a>b<c&d' }), '{"s":"a\\u003eb\\u003cc\\u0026d"}');
    assert.deepEqual(JSON.parse(goJson({ s: 'foo.>' })), { s: 'foo.>' });
  });

  test('RFC 3339 with nanoseconds, trailing zeros dropped; Go zero time', () => {
    assert.equal(rfc3339Nano(0n), GO_ZERO_TIME);
    assert.equal(rfc3339Nano(1_700_000_000_123_456_789n), '2023-11-14T22:13:20.123456789Z');
    assert.equal(rfc3339Nano(1_700_000_000_120_000_000n), '2023-11-14T22:13:20.12Z');
    assert.equal(rfc3339Nano(1_700_000_000_000_000_000n), '2023-11-14T22:13:20Z');
    assert.equal(parseRfc3339Nano('2023-11-14T22:13:20.123456789Z'), 1_700_000_000_123_456_789n);
    assert.equal(parseRfc3339Nano('2023-11-14T23:13:20.5+01:00'), 1_700_000_000_500_000_000n);
    assert.equal(parseRfc3339Nano(GO_ZERO_TIME), 0n);
  });
});

describe('error catalogue (errors.json -> errors.generated.ts)', () => {
  test('the generated table matches errors.json (nats-server 2.9.10)', () => {
    const json = JSON.parse(readFileSync(join(ROOT, 'src/jetstream/api/errors.json'), 'utf8')) as {
      constant: string;
      code: number;
      error_code: number;
      description: string;
    }[];
    const table = JSErrors as Record<string, { code: number; err_code: number; description: string }>;
    assert.equal(Object.keys(table).length, json.length);
    for (const e of json) {
      assert.deepEqual(table[e.constant], {
        code: e.code,
        err_code: e.error_code,
        description: e.description,
      });
    }
  });

  test('builders fill placeholders', () => {
    assert.deepEqual(newJSStreamNotFoundError(), {
      code: 404,
      err_code: 10059,
      description: 'stream not found',
    });
    assert.equal(newJSStreamWrongLastSequenceError(7).description, 'wrong last sequence: 7');
  });
});

describe('stream config (checkStreamCfg)', () => {
  test('defaults', () => {
    const c = ok({ name: 'S' });
    assert.deepEqual(c.subjects, ['S']);
    assert.deepEqual(
      [c.retention, c.storage, c.discard, c.num_replicas, c.max_msgs, c.max_bytes, c.max_msg_size],
      ['limits', 'file', 'old', 1, -1, -1, -1],
    );
    assert.deepEqual([c.max_consumers, c.max_msgs_per_subject, c.duplicate_window], [-1, -1, 120e9]);
    assert.equal(ok({ name: 'S', max_age: 30e9 }).duplicate_window, 30e9);
    assert.equal(ok({ name: 'S', discard: 'NEW' }).discard, 'new');
  });

  test('refusals with nats-server wording', () => {
    assert.equal(refused({ name: 'a.b' }), "10052 stream name is required and can not contain '.', '*', '>'");
    assert.equal(refused({ name: '' }), "10052 stream name is required and can not contain '.', '*', '>'");
    assert.equal(refused({ name: 'x'.repeat(256) }), '10052 stream name is too long, maximum allowed is 255');
    assert.equal(refused({ name: 'S', num_replicas: 6 }), '10052 maximum replicas is 5');
    assert.equal(refused({ name: 'S', num_replicas: -1 }), '10133 replicas count cannot be negative');
    assert.equal(refused({ name: 'S', max_age: 5 }), '10052 max age needs to be >= 100ms');
    assert.equal(
      refused({ name: 'S', duplicate_window: 50e6 }),
      '10052 duplicates window needs to be >= 100ms',
    );
    assert.equal(
      refused({ name: 'S', max_age: 1e9, duplicate_window: 2e9 }),
      '10052 duplicates window can not be larger then max age',
    );
    assert.equal(refused({ name: 'S', subjects: ['a', 'a'] }), '10052 duplicate subjects detected');
    assert.equal(refused({ name: 'S', subjects: ['a.*', 'a.b'] }), '10052 subject "a.*" overlaps with "a.b"');
    assert.equal(
      refused({ name: 'S', subjects: ['$JS.API.>'] }),
      '10052 subjects overlap with jetstream api',
    );
    assert.equal(refused({ name: 'S', subjects: ['a b'] }), '10052 invalid subject');
    assert.equal(
      refused({ name: 'S', subjects: ['s'], mirror: { name: 'M' } }),
      '10034 stream mirrors can not contain subjects',
    );
    assert.equal(refused({ name: 'S', mirror: { name: 'S' } }), '10052 detected cycle');
    assert.equal(
      refused({ name: 'S', subjects: ['s.>'], republish: { dest: 's.x' } }),
      '10052 stream configuration for republish destination forms a cycle',
    );
    // A mirror takes no subjects nor a duplicate window; a republish without src takes everything.
    const m = ok({ name: 'S', mirror: { name: 'M', opt_start_time: '2024-01-02T03:04:05.500+01:00' } });
    assert.deepEqual(m.subjects, []);
    assert.equal(m.duplicate_window, 0);
    assert.deepEqual(m.mirror, { name: 'M', opt_start_time: '2024-01-02T02:04:05.5Z' });
    assert.deepEqual(ok({ name: 'S', republish: { dest: 'x.>' } }).republish, { src: '>', dest: 'x.>' });
    assert.throws(() => decodeStreamConfig(decodeRequest('{"storage":"disk"}')), InvalidJsonError);
  });

  test('republish subject transforms (nats-server newTransform / Match)', () => {
    const tr = (src: string, dest: string, subject: string): string | undefined =>
      SubjectTransform.create(src, dest)?.match(subject);
    assert.equal(tr('>', 'rp.>', 'a.b'), 'rp.a.b');
    assert.equal(tr('a.*.c', 'x.$1', 'a.b.c'), 'x.b');
    assert.equal(tr('a.*.*', 'x.{{wildcard(2)}}.{{wildcard(1)}}', 'a.b.c'), 'x.c.b');
    assert.equal(tr('a.*.>', 'x.$1.>', 'a.b.c.d'), 'x.b.c.d');
    assert.equal(tr('a.b', 'x', 'a.b'), 'x');
    assert.equal(tr('a.b', 'x', 'a.c'), undefined);
    // Not valid: wildcards left unused, `*` in the destination, `>` on one side only, unknown functions.
    assert.equal(SubjectTransform.create('a.*', 'x'), undefined);
    assert.equal(SubjectTransform.create('a.>', 'x.*'), undefined);
    assert.equal(SubjectTransform.create('a.>', 'x'), undefined);
    assert.equal(SubjectTransform.create('a.*', 'x.{{partitionx(1)}}'), undefined);
    // Spaces inside a {{...}} function token are fine for nats-server (2.9.10 and 2.10).
    assert.equal(tr('a.*', 'x.{{ wildcard(1) }}', 'a.b'), 'x.b');
  });

  test('updates: what may not change; sealing implies its settings', () => {
    const old = ok({ name: 'S', deny_delete: true });
    const change = (o: object): string => {
      const r = checkStreamUpdate(old, ok({ name: 'S', deny_delete: true, ...o }));
      return isApiError(r) ? r.description : 'ok';
    };
    assert.equal(change({ storage: 'memory' }), 'stream configuration update can not change storage type');
    assert.equal(
      change({ retention: 'workqueue' }),
      'stream configuration update can not change retention policy',
    );
    assert.equal(change({ max_consumers: 3 }), 'stream configuration update can not change MaxConsumers');
    assert.equal(change({ max_msgs: 3, subjects: ['x', 'y'] }), 'ok');
    const r = checkStreamUpdate(old, ok({ name: 'S', deny_delete: false }));
    assert.ok(
      isApiError(r) && r.description === 'stream configuration update can not cancel deny message deletes',
    );
    const sealed = checkStreamUpdate(old, ok({ name: 'S', deny_delete: true, sealed: true, max_age: 1e9 }));
    assert.ok(!isApiError(sealed));
    assert.deepEqual([sealed.max_age, sealed.discard, sealed.deny_purge], [0, 'new', true]);
  });

  test('encoding keeps Go field order and omitempty rules', () => {
    const keys = Object.keys(encodeStreamConfig(ok({ name: 'S', description: 'd', no_ack: true })));
    assert.deepEqual(keys, [
      'name',
      'description',
      'subjects',
      'retention',
      'max_consumers',
      'max_msgs',
      'max_bytes',
      'max_age',
      'max_msgs_per_subject',
      'max_msg_size',
      'discard',
      'storage',
      'num_replicas',
      'no_ack',
      'duplicate_window',
      'compression',
      'allow_direct',
      'mirror_direct',
      'sealed',
      'deny_delete',
      'deny_purge',
      'allow_rollup_hdrs',
    ]);
  });
});

describe('configuration: jetstream {} and store_dir; -js and -sd', () => {
  function load(text: string) {
    return loadConfigText(text, 'js.conf').config.jetstream;
  }

  test('block, bool and string forms', () => {
    assert.deepEqual(
      load('jetstream { store_dir: "/data", max_memory_store: 1G, max_file_store: "2G", domain: hub }'),
      {
        storeDir: '/data',
        maxMemory: 1e9, // unquoted 1G is the conf parser's number (1000^3); "2G" is getStorageSize's 2 << 30
        maxFile: 2 * 1024 ** 3,
        domain: 'hub',
      },
    );
    assert.deepEqual(load('jetstream: enabled\nstore_dir: /x\n'), { storeDir: '/x' });
    assert.deepEqual(load('store_dir: /x\njetstream: true\n'), { storeDir: '/x' });
    assert.equal(load('store_dir: /x\n'), undefined);
    assert.equal(load('jetstream: disabled\n'), undefined);
    assert.equal(load('jetstream { enabled: false, store_dir: /y }'), undefined);
    assert.deepEqual(load('jetstream { sync_interval: "10s" }'), { storeDir: '', syncInterval: 10_000 });
  });

  test('mistakes are refused with nats-server wording', () => {
    const msg = (text: string): string => {
      try {
        load(text);
      } catch (e) {
        assert.ok(e instanceof ConfigError);
        return e.message;
      }
      return '';
    };
    assert.match(msg('jetstream: maybe\n'), /Expected 'enabled' or 'disabled' for string value, got 'maybe'/);
    assert.match(msg('store_dir: /a\njetstream { store_dir: /b }\n'), /Duplicate 'store_dir' configuration/);
    assert.match(msg('jetstream { max_mem: "5X" }\n'), /sizes defined as strings must end in K, M, G, T/);
    assert.match(msg('jetstream { cipher: aes }\n'), /not supported by tsnats yet \(encryption at rest\)/);
    assert.match(msg('jetstream { bogus: 1 }\n'), /unknown field "bogus"/);
  });

  test('-js enables JetStream with the -sd directory; -sd alone does not', () => {
    const cl = parseCommandLine(['-sd', '/tmp/x', '--jetstream']);
    assert.deepEqual(cl.config.jetstream, { storeDir: '/tmp/x' });
    assert.ok(cl.explicit.has('jetstream'));
    assert.equal(parseCommandLine(['--store_dir=/tmp/x']).config.jetstream, undefined);
    assert.deepEqual(parseCommandLine(['-js']).config.jetstream, { storeDir: '' });
    assert.match(USAGE, /-js, --jetstream/);
  });

  test('tsnats -t accepts a jetstream block', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsnats-jsconf-'));
    try {
      const file = join(dir, 'js.conf');
      writeFileSync(file, `jetstream {\n  store_dir: ${JSON.stringify(dir)}\n  max_file_store: 1G\n}\n`);
      const r = await runTsnats(['-c', file, '-t']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /is valid/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
