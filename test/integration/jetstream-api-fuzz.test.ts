/**
 * Differential fuzzing of the JetStream API (test/helpers/api-fuzz.ts): the same seeded sequence of
 * malformed and edge-case requests on every `$JS.API` endpoint goes to a fresh nats-server -js and a fresh
 * tsnats; tsnats must refuse what nats-server refuses, with the same err_code. The seed is fixed here;
 * `node scripts/api-fuzz.mjs` runs longer with a random one (API_FUZZ_SEED / API_FUZZ_COUNT override both
 * here).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  compareRuns,
  type FuzzRequest,
  formatReport,
  fuzzRequests,
  runOnReferenceAndTsnats,
} from '../helpers/api-fuzz.js';
import { hasReference } from '../helpers/reference.js';

const SEED = Number(process.env.API_FUZZ_SEED ?? 20240617);
const COUNT = Number(process.env.API_FUZZ_COUNT ?? 1500);

/** The cases the issue reported, always sent after the fuzzed ones. */
const REPORTED: FuzzRequest[] = [
  ['$JS.API.STREAM.CREATE.é', '{"name":"é","subjects":["é.>"]}'],
  [
    '$JS.API.CONSUMER.DURABLE.CREATE.S.é',
    '{"stream_name":"S","config":{"durable_name":"é","ack_policy":"explicit"}}',
  ],
  ['$JS.API.CONSUMER.INFO.S.é', ''],
  ['$JS.API.STREAM.NAMES', `{"x":${'['.repeat(10000)}1${']'.repeat(10000)}}`],
  ['$JS.API.STREAM.NAMES', `{"x":${'['.repeat(9999)}1${']'.repeat(9999)}}`],
  ['$JS.API.STREAM.MSG.DELETE.S', '{"seq":-0}'],
  ['$JS.API.STREAM.MSG.DELETE.S', '{"seq":1.0}'],
  ['$JS.API.STREAM.TEMPLATE.CREATE.T', '{"name":"U","max_streams":-1,"config":{"name":"x"}}'],
  ['$JS.API.STREAM.TEMPLATE.CREATE.T', '{"name":"U","config":{"name":"x"}}'],
  ['$JS.API.STREAM.TEMPLATE.INFO.T', '{"a":1}'],
  ['$JS.API.STREAM.NAMES', '{"offset":[0,0]}'],
  ['$JS.API.STREAM.INFO.S', '{"offset":"1","offset":1}'],
  ['$JS.API.CONSUMER.CREATE.S', '{"stream_name":"S","config":{"ack_policy":null}}'],
  ['$JS.API.STREAM.CREATE.Q', '{"name":"Q","subjects":["q.>"],"subjects":[null]}'],
].map(([subject, body]) => ({ subject: subject!, body: Buffer.from(body!) }));

/**
 * Requests nats-server 2.10 answers differently from the reference 2.9.10, and tsnats as 2.10 does: a
 * filter outside the stream's subjects (2.9's 10093, dropped in 2.10), and a one-token filter in the create
 * subject (2.9.10 ignored it). Sent last; each must be told apart as such, and the consumer 2.9.10 refused
 * must not linger on tsnats (the INFO after it agrees).
 */
const CHANGED_IN_210: FuzzRequest[] = [
  [
    '$JS.API.CONSUMER.CREATE.S.F1',
    '{"stream_name":"S","config":{"name":"F1","filter_subject":"nowhere.>","ack_policy":"explicit"}}',
  ],
  ['$JS.API.CONSUMER.CREATE.S.F2.x', '{"stream_name":"S","config":{"name":"F2","ack_policy":"explicit"}}'],
].map(([subject, body]) => ({ subject: subject!, body: Buffer.from(body!) }));
const AFTER_CHANGED: FuzzRequest[] = [{ subject: '$JS.API.CONSUMER.INFO.S.F1', body: Buffer.alloc(0) }];

test('the JetStream API refuses malformed requests as nats-server does (differential fuzzing)', {
  skip: !hasReference() && 'nats-server is not installed',
  timeout: 60_000,
}, async () => {
  const reqs = [...fuzzRequests(SEED, COUNT), ...REPORTED, ...CHANGED_IN_210, ...AFTER_CHANGED];
  const [ref, ours] = await runOnReferenceAndTsnats(reqs);
  const rep = compareRuns(reqs, ref, ours);
  const report = `seed ${SEED}: ${formatReport(rep)}`;
  assert.ok(rep.bothRejected > COUNT / 2, report);
  assert.equal(rep.acceptedByTsnatsOnly.length, 0, report);
  assert.ok(rep.agreement >= 0.98, report);
  // The requests the issue reported agree exactly.
  const tail = reqs.length - REPORTED.length - CHANGED_IN_210.length - AFTER_CHANGED.length;
  assert.deepEqual(ours.slice(tail, tail + REPORTED.length), ref.slice(tail, tail + REPORTED.length), report);
  // The 2.10 changes are recognised (and only those), and leave both servers with the same consumers.
  const changed = rep.changedIn210.map((d) => d.subject);
  for (const q of CHANGED_IN_210) assert.ok(changed.includes(q.subject), report);
  assert.deepEqual(ref.slice(-CHANGED_IN_210.length - 1, -1), [10093, 0], report);
  assert.deepEqual(ours.slice(-CHANGED_IN_210.length - 1, -1), [0, 10131], report);
  assert.equal(ours.at(-1), ref.at(-1), report);
});
