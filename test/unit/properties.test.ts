/**
 * Property tests (fast-check, fixed seed, bounded runs; `TSNATS_PROPERTY_RUNS` and `TSNATS_PROPERTY_SEED`
 * make a longer or different run):
 * - the protocol parser gives the same events however its input is cut into reads, and never throws;
 * - the subscription trie answers every match as a brute-force scan of its subscriptions does, through
 *   inserts, removes and its match cache;
 * - the configuration parser either returns a map or throws its own ConfError, whatever the text.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseConf } from '../../src/conf/parser.js';
import { ConfError } from '../../src/conf/types.js';
import { ConnKind, Parser } from '../../src/protocol/parser.js';
import { matchLiteral } from '../../src/routing/subject.js';
import { Sublist } from '../../src/routing/sublist.js';
import { RecordingSink } from '../helpers/recording-sink.js';

const RUNS = Number(process.env.TSNATS_PROPERTY_RUNS ?? 200);
const SEED = Number(process.env.TSNATS_PROPERTY_SEED ?? 20261206);
const params = { numRuns: RUNS, seed: SEED };

const token = fc.constantFrom('a', 'b', 'foo', 'bar', '*', '>', 'x1', '');
const subject = fc.array(token, { minLength: 1, maxLength: 4 }).map((t) => t.join('.'));
const literalToken = fc.constantFrom('a', 'b', 'foo', 'bar', 'x1');
const literal = fc.array(literalToken, { minLength: 1, maxLength: 4 }).map((t) => t.join('.'));

/** Protocol operations a client might send, valid or not, as text. */
const op = fc.oneof(
  fc.constant('PING\r\n'),
  fc.constant('PONG\r\n'),
  fc.constant('CONNECT {"verbose":false,"headers":true}\r\n'),
  fc.tuple(subject, fc.nat(99)).map(([s, sid]) => `SUB ${s} ${sid}\r\n`),
  fc.tuple(subject, literalToken, fc.nat(99)).map(([s, q, sid]) => `SUB ${s} ${q} ${sid}\r\n`),
  fc
    .tuple(fc.nat(99), fc.option(fc.nat(5)))
    .map(([sid, max]) => `UNSUB ${sid}${max === null ? '' : ` ${max}`}\r\n`),
  fc
    .tuple(literal, fc.string({ maxLength: 20 }))
    .map(([s, p]) => `PUB ${s} ${Buffer.byteLength(p)}\r\n${p}\r\n`),
  fc
    .tuple(literal, literal, fc.string({ maxLength: 10 }))
    .map(([s, r, p]) => `PUB ${s} ${r} ${Buffer.byteLength(p)}\r\n${p}\r\n`),
  fc.string({ maxLength: 10 }).map((p) => {
    const hdr = 'NATS/1.0\r\nk: v\r\n\r\n';
    return `HPUB s ${hdr.length} ${hdr.length + Buffer.byteLength(p)}\r\n${hdr}${p}\r\n`;
  }),
  fc.string({ maxLength: 12 }),
);

function runParser(input: Buffer, cuts: number[], kind: ConnKind): string[] {
  const sink = new RecordingSink();
  const p = new Parser(sink, kind, 4096);
  let at = 0;
  for (const end of [...cuts, input.length]) {
    if (end <= at) continue;
    const chunk = Buffer.from(input.subarray(at, end));
    at = end;
    if (!p.parse(chunk)) break;
    chunk.fill(0x58); // the parser must not keep views of a read after parse() returns
  }
  return sink.events;
}

describe('properties', () => {
  test('the parser gives the same events however the input is cut into reads', () => {
    fc.assert(
      fc.property(
        fc.array(op, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(400), { maxLength: 8 }),
        (ops, rawCuts) => {
          const input = Buffer.from(ops.join(''), 'latin1');
          const cuts = [...new Set(rawCuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
          const whole = runParser(input, [], ConnKind.CLIENT);
          const pieces = runParser(input, cuts, ConnKind.CLIENT);
          assert.deepEqual(pieces, whole);
          const bytes = runParser(
            input,
            Array.from({ length: input.length }, (_, i) => i + 1),
            ConnKind.CLIENT,
          );
          assert.deepEqual(bytes, whole);
        },
      ),
      params,
    );
  });

  test('the sublist matches as a brute-force scan does, through inserts, removes and its cache', () => {
    type Sub = { subject: string; queue?: string; id: number };
    const action = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), subject, queue: fc.option(literalToken) }),
      fc.record({ kind: fc.constant('remove' as const), index: fc.nat(50) }),
      fc.record({ kind: fc.constant('match' as const), subject: literal }),
    );
    fc.assert(
      fc.property(fc.array(action, { maxLength: 60 }), fc.boolean(), (actions, cache) => {
        const sl = new Sublist<Sub>({ cacheEnabled: cache });
        const live: Sub[] = [];
        let next = 0;
        for (const a of actions) {
          if (a.kind === 'insert') {
            const sub: Sub = {
              subject: a.subject,
              id: next++,
              ...(a.queue !== null ? { queue: a.queue } : {}),
            };
            try {
              sl.insert(sub);
              live.push(sub);
            } catch {
              // An invalid subject is refused, and the trie is unchanged.
            }
          } else if (a.kind === 'remove') {
            if (live.length === 0) continue;
            const [sub] = live.splice(a.index % live.length, 1);
            assert.equal(sl.remove(sub!), true);
          } else {
            const r = sl.match(a.subject);
            const got = [...r.psubs, ...r.qsubs.flat()].map((s) => s.id).sort((x, y) => x - y);
            const want = live
              .filter((s) => matchLiteral(a.subject, s.subject))
              .map((s) => s.id)
              .sort((x, y) => x - y);
            assert.deepEqual(got, want, `match ${a.subject}`);
          }
        }
      }),
      params,
    );
  });

  test('the configuration parser returns a map or throws ConfError, never anything else', () => {
    const piece = fc.oneof(
      fc.constantFrom('port: 4222\n', 'a { b: 1 }\n', 'x = [1, 2]\n', '"q": "s"\n', '$V\n', 'include x\n'),
      fc.constantFrom('{', '}', '[', ']', ':', '=', '"', "'", '#', '\n', ' ', '$', '\\', '1k', '1.5', '-'),
      fc.string({ maxLength: 8 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 20 }), (pieces) => {
        const text = pieces.join('');
        try {
          const m = parseConf(text);
          assert.equal(typeof m, 'object');
        } catch (e) {
          assert.ok(e instanceof ConfError, `not a ConfError for ${JSON.stringify(text)}: ${String(e)}`);
        }
      }),
      params,
    );
  });
});
