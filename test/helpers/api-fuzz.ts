/**
 * Differential fuzzing of the JetStream API: a seeded sequence of malformed and edge-case requests on
 * every `$JS.API` endpoint (bad JSON, deep nesting, wrong types, negative / -0 / fractional / huge
 * numbers, non-ASCII and odd tokens in names and subjects, unknown fields, duplicate and differently
 * cased keys, bodies on body-less requests), sent in the same order to tsnats and to nats-server, with the
 * same setup requests interleaved. `compareRuns` then lines the answers up request by request: whether
 * each refused it, and with which `err_code`.
 *
 * Used by test/integration/jetstream-api-fuzz.test.ts (fixed seed, bounded) and scripts/api-fuzz.mjs
 * (random seed, longer).
 */
import { connect } from '@nats-io/transport-node';
import { closeJetStream, openJetStream } from './jetstream.js';
import { launch } from './launcher.js';
import { rng } from './random.js';

/** One request: its subject and raw body; setup requests are not counted. */
export interface FuzzRequest {
  subject: string;
  body: Buffer;
  setup?: boolean;
}

/** How a server answered: 0 for success, the err_code, -1 for no answer, -2 for a non-JSON answer. */
export type Outcome = number;

type Rand = () => number;

const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** Stream and consumer names (subject tokens): existing, unknown, odd. */
const NAMES = [
  'S',
  'S',
  'M',
  'NEW',
  'X1',
  'é',
  'naïve',
  '日本',
  '*',
  '>',
  'a\\b',
  'a/b',
  'a"b',
  'a%b',
  '-',
  '_',
  '~',
  'x'.repeat(300),
  '$sys',
  'A\u007fB',
];
const CONSUMERS = ['C', 'C', 'D', 'NEWC', 'é', 'naïve', '*', '>', 'a/b', 'a\\b', 'x'.repeat(300), '_'];

/** Subjects and filters. */
const SUBJECTS = [
  's.>',
  's.1',
  's.*',
  'm.1',
  'new.>',
  'é.x',
  'ü',
  '>',
  '*',
  '',
  ' ',
  'a..b',
  '.a',
  'a.',
  'a.>.b',
  'a b',
  'a\tb',
  '$JS.API.>',
  'x.*.>',
  'NEW',
  's.1.>',
  'a*',
  'a>',
];

/** Raw JSON values, many of them wrong for the field they end up in. */
const NUMBERS = [
  '0',
  '-0',
  '1',
  '-1',
  '2',
  '5',
  '1.5',
  '1.0',
  '1e3',
  '1E0',
  '-1e3',
  '0.0',
  '-0.0',
  '2147483647',
  '2147483648',
  '-2147483649',
  '4294967296',
  '9007199254740993',
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775808',
  '-9223372036854775809',
  '18446744073709551615',
  '18446744073709551616',
  '1e400',
  '100000000000',
  '30000000000',
];
const OTHER_VALUES = [
  'null',
  'true',
  'false',
  '""',
  '"1"',
  '"abc"',
  '"é"',
  '"\\u0000"',
  '"\\ud800"',
  '[]',
  '[1]',
  '["a"]',
  '[null]',
  '{}',
  '{"a":1}',
  '"2021-01-01T00:00:00Z"',
  '"not a time"',
  '"limits"',
  '"file"',
  '"memory"',
  '"old"',
  '"new"',
  '"explicit"',
  '"none"',
  '"all"',
  '"last"',
  '"by_start_sequence"',
  '"instant"',
];

function randomValue(r: Rand): string {
  const roll = r();
  if (roll < 0.4) return pick(r, NUMBERS);
  if (roll < 0.8) return pick(r, OTHER_VALUES);
  if (roll < 0.9) return JSON.stringify(pick(r, SUBJECTS));
  return JSON.stringify([pick(r, SUBJECTS), pick(r, SUBJECTS)]);
}

/** An object's members, each a raw `"key":value` text (so keys can repeat and values be anything). */
type Members = [string, string][];

const obj = (m: Members): string => `{${m.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;

const STREAM_FIELDS = [
  'name',
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
  'duplicate_window',
  'no_ack',
  'placement',
  'mirror',
  'sources',
  'sealed',
  'deny_delete',
  'deny_purge',
  'allow_rollup_hdrs',
  'allow_direct',
  'mirror_direct',
  'republish',
  'discard_new_per_subject',
  'description',
  'template_owner',
];
const CONSUMER_FIELDS = [
  'durable_name',
  'name',
  'description',
  'deliver_policy',
  'opt_start_seq',
  'opt_start_time',
  'ack_policy',
  'ack_wait',
  'max_deliver',
  'backoff',
  'filter_subject',
  'replay_policy',
  'rate_limit_bps',
  'sample_freq',
  'max_waiting',
  'max_ack_pending',
  'flow_control',
  'idle_heartbeat',
  'headers_only',
  'max_batch',
  'max_expires',
  'max_bytes',
  'inactive_threshold',
  'num_replicas',
  'mem_storage',
  'deliver_subject',
  'deliver_group',
  'direct',
];

/** Randomly recase a key (Go matches field names case-insensitively). */
function recase(r: Rand, k: string): string {
  const roll = r();
  if (roll < 0.5) return k.toUpperCase();
  if (roll < 0.8) return k.slice(0, 1).toUpperCase() + k.slice(1);
  return k.replace(/s/g, '\u017f'); // LATIN SMALL LETTER LONG S folds to s in Go
}

/**
 * Values nats-server 2.9.10 panics (and exits) on are left out: a negative `offset` in the names and
 * list requests (`msets[offset:]`), a null source (`sources: [null]`, checkStreamCfg dereferences it).
 */
function safeValue(k: string, v: string): string {
  const f = k.toLowerCase().replace(/\u017f/g, 's');
  if (f === 'offset' && /^-[1-9][0-9]*$/.test(v)) return v.slice(1);
  if (f === 'sources' && v.includes('null')) return '[]';
  return v;
}

/** Damage a well-formed member list: change a value, add unknown/duplicate/recased keys, drop one. */
function mutateMembers(r: Rand, m: Members, fields: readonly string[]): Members {
  const out = m.slice();
  const n = 1 + Math.floor(r() * 2);
  for (let i = 0; i < n; i++) {
    const roll = r();
    if (roll < 0.55) out.push([pick(r, fields), randomValue(r)]);
    else if (roll < 0.65 && out.length > 0) out.splice(Math.floor(r() * out.length), 1);
    else if (roll < 0.75) out.push([pick(r, ['unknown', 'x', '', 'é']), randomValue(r)]);
    else if (roll < 0.85 && out.length > 0) {
      const [k, v] = out[Math.floor(r() * out.length)]!;
      out.push([recase(r, k), r() < 0.5 ? v : randomValue(r)]);
    } else if (out.length > 0) {
      const [k] = out[Math.floor(r() * out.length)]!;
      out.push([k, randomValue(r)]);
    }
  }
  return out.map(([k, v]) => [k, safeValue(k, v)]);
}

function deep(depth: number, inner = '1'): string {
  return '['.repeat(depth) + inner + ']'.repeat(depth);
}

/** Bodies that are not JSON objects, or not JSON at all. */
function rawBody(r: Rand): Buffer {
  const roll = Math.floor(r() * 24);
  switch (roll) {
    case 0:
      return Buffer.alloc(0);
    case 1:
      return Buffer.from('{}');
    case 2:
      return Buffer.from('null');
    case 3:
      return Buffer.from('[]');
    case 4:
      return Buffer.from('"x"');
    case 5:
      return Buffer.from('1');
    case 6:
      return Buffer.from('{');
    case 7:
      return Buffer.from('{"a":}');
    case 8:
      return Buffer.from(`{"x":${deep(10000)}}`);
    case 9:
      return Buffer.from(`{"x":${deep(9999)}}`);
    case 10:
      return Buffer.from(deep(10001));
    case 11:
      return Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]); // {"a":"\xff\xfe"}
    case 12:
      return Buffer.from('{} x');
    case 13:
      return Buffer.from(' { } ');
    case 14:
      return Buffer.from('\ufeff{}');
    case 15:
      return Buffer.from('{"a":1,}');
    case 16:
      return Buffer.from("{'a':1}");
    case 17:
      return Buffer.from('{"a":NaN}');
    case 18:
      return Buffer.from('{"a":01}');
    case 19:
      return Buffer.from('{"a":"\t"}');
    case 20:
      return Buffer.from('{"a":1}{"b":2}');
    case 21:
      return Buffer.from('{"a":{"b":{"c":[1,2,{"d":null}]}}}');
    case 22:
      return Buffer.from(`{"x":${'{"a":'.repeat(10000)}1${'}'.repeat(10000)}}`);
    default:
      return Buffer.from('{"a":-}');
  }
}

function streamMembers(r: Rand, name: string): Members {
  const m: Members = [];
  if (r() < 0.9) m.push(['name', JSON.stringify(r() < 0.85 ? name : pick(r, NAMES))]);
  if (r() < 0.6) m.push(['subjects', JSON.stringify([`${name}.>`.toLowerCase()])]);
  if (r() < 0.3) m.push(['storage', r() < 0.5 ? '"memory"' : '"file"']);
  return m;
}

function consumerMembers(r: Rand, stream: string, durable: string | undefined): Members {
  const cfg: Members = [];
  if (durable !== undefined && r() < 0.85) cfg.push(['durable_name', JSON.stringify(durable)]);
  if (r() < 0.5) cfg.push(['ack_policy', '"explicit"']);
  const mutatedCfg = r() < 0.7 ? mutateMembers(r, cfg, CONSUMER_FIELDS) : cfg;
  const m: Members = [];
  if (r() < 0.9) m.push(['stream_name', JSON.stringify(r() < 0.9 ? stream : pick(r, NAMES))]);
  m.push(['config', r() < 0.9 ? obj(mutatedCfg) : randomValue(r)]);
  return r() < 0.15 ? mutateMembers(r, m, ['stream_name', 'config']) : m;
}

/** A body for an endpoint with request fields `fields` (none for body-less requests). */
function fieldsBody(r: Rand, fields: readonly string[]): Buffer {
  const roll = r();
  if (roll < 0.25) return rawBody(r);
  if (roll < 0.35 || fields.length === 0)
    return Buffer.from(obj(mutateMembers(r, [], ['unknown', ...fields])));
  return Buffer.from(obj(mutateMembers(r, [], fields)));
}

/** The `i`th fuzzed request. */
function fuzzRequest(r: Rand): FuzzRequest {
  const stream = pick(r, NAMES);
  const consumer = pick(r, CONSUMERS);
  const p = '$JS.API';
  const roll = Math.floor(r() * 25);
  const bodyOr = (b: () => Buffer): Buffer => (r() < 0.2 ? rawBody(r) : b());
  switch (roll) {
    case 0:
    case 1:
    case 2: {
      const body = bodyOr(() => {
        const m = streamMembers(r, stream);
        return Buffer.from(obj(r() < 0.8 ? mutateMembers(r, m, STREAM_FIELDS) : m));
      });
      return { subject: `${p}.STREAM.CREATE.${stream}`, body };
    }
    case 3:
    case 4: {
      const body = bodyOr(() => {
        const m = streamMembers(r, stream);
        return Buffer.from(obj(r() < 0.8 ? mutateMembers(r, m, STREAM_FIELDS) : m));
      });
      return { subject: `${p}.STREAM.UPDATE.${stream}`, body };
    }
    case 5:
      return { subject: `${p}.STREAM.NAMES`, body: fieldsBody(r, ['offset', 'subject']) };
    case 6:
      return { subject: `${p}.STREAM.LIST`, body: fieldsBody(r, ['offset', 'subject']) };
    case 7:
      return {
        subject: `${p}.STREAM.INFO.${stream}`,
        body: fieldsBody(r, ['deleted_details', 'subjects_filter', 'offset']),
      };
    case 8:
      return {
        subject: `${p}.STREAM.DELETE.${pick(r, ['X1', 'NEW', 'é', '*', 'nope'])}`,
        body: fieldsBody(r, []),
      };
    case 9:
      return { subject: `${p}.STREAM.PURGE.${stream}`, body: fieldsBody(r, ['seq', 'filter', 'keep']) };
    case 10:
      return { subject: `${p}.STREAM.MSG.DELETE.${stream}`, body: fieldsBody(r, ['seq', 'no_erase']) };
    case 11:
      return {
        subject: `${p}.STREAM.MSG.GET.${stream}`,
        body: fieldsBody(r, ['seq', 'last_by_subj', 'next_by_subj']),
      };
    case 12:
    case 13:
    case 14: {
      const kind = Math.floor(r() * 4);
      const subject =
        kind === 0
          ? `${p}.CONSUMER.CREATE.${stream}`
          : kind === 1
            ? `${p}.CONSUMER.DURABLE.CREATE.${stream}.${consumer}`
            : kind === 2
              ? `${p}.CONSUMER.CREATE.${stream}.${consumer}`
              : `${p}.CONSUMER.CREATE.${stream}.${consumer}.${pick(r, ['s.1', 's.*', 'x', 'é.>'])}`;
      const durable =
        kind === 0 ? (r() < 0.2 ? consumer : undefined) : r() < 0.8 ? consumer : pick(r, CONSUMERS);
      const body = bodyOr(() => Buffer.from(obj(consumerMembers(r, stream, durable))));
      return { subject, body };
    }
    case 15:
      return { subject: `${p}.CONSUMER.NAMES.${stream}`, body: fieldsBody(r, ['offset']) };
    case 16:
      return { subject: `${p}.CONSUMER.LIST.${stream}`, body: fieldsBody(r, ['offset']) };
    case 17:
      return { subject: `${p}.CONSUMER.INFO.${stream}.${consumer}`, body: fieldsBody(r, []) };
    case 18:
      return {
        subject: `${p}.CONSUMER.DELETE.${stream}.${pick(r, ['D', 'NEWC', 'é', 'nope'])}`,
        body: fieldsBody(r, []),
      };
    case 19:
      return { subject: `${p}.INFO`, body: fieldsBody(r, []) };
    case 20: {
      // A template config must be an object with an empty name: nats-server 2.9.10 dereferences a missing
      // one (and exits), and tsnats has no templates to create, so creation always fails on both.
      const name = pick(r, ['T', 'é', '*', 'a/b']);
      return {
        subject: `${p}.STREAM.TEMPLATE.CREATE.${name}`,
        body: bodyOr(() =>
          Buffer.from(
            obj(
              mutateMembers(
                r,
                [
                  ['name', JSON.stringify(r() < 0.8 ? name : pick(r, NAMES))],
                  ['max_streams', pick(r, NUMBERS)],
                ],
                ['name', 'max_streams', 'config'],
              ).concat([['config', '{"name":"x"}']]),
            ),
          ),
        ),
      };
    }
    case 21:
      return { subject: `${p}.STREAM.TEMPLATE.NAMES`, body: fieldsBody(r, ['offset']) };
    case 22:
      return { subject: `${p}.STREAM.TEMPLATE.INFO.${pick(r, ['T', 'é'])}`, body: fieldsBody(r, []) };
    case 23:
      return { subject: `${p}.STREAM.TEMPLATE.DELETE.${pick(r, ['T', 'é'])}`, body: fieldsBody(r, []) };
    default:
      return {
        subject: pick(r, [
          `${p}.STREAM.LEADER.STEPDOWN.${stream}`,
          `${p}.CONSUMER.LEADER.STEPDOWN.${stream}.${consumer}`,
          `${p}.STREAM.PEER.REMOVE.${stream}`,
        ]),
        body: fieldsBody(r, ['peer']),
      };
  }
}

/** The setup both servers get first and again every so often: streams S and M, messages, consumers. */
function setupRequests(): FuzzRequest[] {
  const req = (subject: string, body: unknown): FuzzRequest => ({
    subject,
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    setup: true,
  });
  return [
    req('$JS.API.STREAM.CREATE.S', { name: 'S', subjects: ['s.>'], storage: 'file' }),
    req('$JS.API.STREAM.CREATE.M', { name: 'M', subjects: ['m.>'], storage: 'memory', deny_delete: true }),
    req('s.1', 'one'),
    req('s.2', 'two'),
    req('m.1', 'one'),
    req('$JS.API.CONSUMER.DURABLE.CREATE.S.C', {
      stream_name: 'S',
      config: { durable_name: 'C', ack_policy: 'explicit' },
    }),
    req('$JS.API.CONSUMER.DURABLE.CREATE.S.D', {
      stream_name: 'S',
      config: { durable_name: 'D', ack_policy: 'explicit' },
    }),
  ];
}

/** The seeded request sequence: `count` fuzzed requests with the setup before them and every 50. */
export function fuzzRequests(seed: number, count: number): FuzzRequest[] {
  const r = rng(seed);
  const out: FuzzRequest[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 50 === 0) out.push(...setupRequests());
    out.push(fuzzRequest(r));
  }
  return out;
}

/**
 * Send the sequence to the server on `port`, one request at a time; the outcome of each. With the
 * reference's outcomes (`ref`), a consumer the reference refused only for 2.9's filter subset check (10093,
 * dropped in 2.10, see changedIn210) is deleted again, so both servers go on with the same consumers.
 */
export async function runSequence(
  port: number,
  reqs: readonly FuzzRequest[],
  timeoutMs = 250,
  ref?: readonly Outcome[],
): Promise<Outcome[]> {
  const nc = await connect({ servers: `127.0.0.1:${port}`, reconnect: false, maxPingOut: 100 });
  const out: Outcome[] = [];
  try {
    for (const q of reqs) {
      if (!q.subject.startsWith('$JS.API.')) {
        nc.publish(q.subject, q.body);
        await nc.flush();
        out.push(0);
        continue;
      }
      try {
        const m = await nc.request(q.subject, q.body, { timeout: timeoutMs });
        let v: { error?: { err_code?: number }; stream_name?: string; name?: string };
        try {
          v = JSON.parse(new TextDecoder().decode(m.data));
        } catch {
          out.push(-2);
          continue;
        }
        out.push(v.error === undefined ? 0 : (v.error.err_code ?? -3));
        const theirs = ref?.[out.length - 1];
        if (theirs === FILTER_NOT_SUBSET && v.error === undefined && v.name !== undefined) {
          await nc.request(`$JS.API.CONSUMER.DELETE.${v.stream_name}.${v.name}`, '', { timeout: timeoutMs });
        }
        // 2.9.10 ignored a one-token filter after the consumer's name and made the consumer: so does this,
        // without the filter, when tsnats refused the filter as 2.10 does.
        if (theirs === 0 && isOneTokenFilterCreate(q.subject) && (v.error?.err_code ?? 0) > 0) {
          const unfiltered = q.subject.slice(0, q.subject.lastIndexOf('.'));
          await nc.request(unfiltered, q.body, { timeout: timeoutMs }).catch(() => undefined);
        }
      } catch {
        out.push(-1);
      }
    }
  } finally {
    await nc.close();
  }
  return out;
}

/** Run the sequence on a fresh `nats-server -js` and a fresh tsnats; [reference, tsnats] outcomes. */
export async function runOnReferenceAndTsnats(reqs: readonly FuzzRequest[]): Promise<[Outcome[], Outcome[]]> {
  const ref = await launch({ kind: 'nats-server', jetstream: true });
  let theirs: Outcome[];
  try {
    theirs = await runSequence(ref.port, reqs);
  } finally {
    await ref.stop('SIGKILL');
  }
  const env = await openJetStream();
  try {
    return [theirs, await runSequence(env.server.port, reqs, undefined, theirs)];
  } finally {
    await closeJetStream(env);
  }
}

export interface Disagreement {
  index: number;
  subject: string;
  body: string;
  reference: Outcome;
  tsnats: Outcome;
}

/** nats-server 2.9's "consumer filter subject is not a valid subset of the interest subjects". */
const FILTER_NOT_SUBSET = 10093;

/**
 * Where tsnats follows nats-server 2.10 and the reference (2.9.10) answers otherwise, so a difference is
 * expected: 2.10 dropped the check that a consumer's filter selects some of the stream's subjects (10093;
 * 2.10 accepts the filter, or refuses it as an invalid subject, 10052), and reads a one-token filter after
 * the consumer's name in `CONSUMER.CREATE.<stream>.<name>.<filter>` (2.9.10 ignored it), which must then
 * be the body's filter (10131, 10137).
 */
export function changedIn210(q: FuzzRequest, ref: Outcome, ours: Outcome): boolean {
  if (ref === FILTER_NOT_SUBSET && (ours === 0 || ours === 10052)) return true;
  return isOneTokenFilterCreate(q.subject) && ref !== ours && (ours === 10131 || ours === 10137);
}

/** `$JS.API.CONSUMER.CREATE.<stream>.<name>.<filter>` with a filter of one token. */
function isOneTokenFilterCreate(subject: string): boolean {
  return /^\$JS\.API\.CONSUMER\.CREATE\.[^.]+\.[^.]+\.[^.]+$/.test(subject);
}

export interface FuzzReport {
  /** Fuzzed requests sent. */
  total: number;
  /** Refused by both. */
  bothRejected: number;
  /** Refused by both with the same err_code. */
  sameCode: number;
  /** sameCode / bothRejected (1 when none). */
  agreement: number;
  /** Accepted by tsnats, refused by nats-server. */
  acceptedByTsnatsOnly: Disagreement[];
  /** Refused by tsnats, accepted by nats-server. */
  refusedByTsnatsOnly: Disagreement[];
  /** Both refused, different codes. */
  codeDiffers: Disagreement[];
  /** One answered, the other did not (or answered non-JSON). */
  answerDiffers: Disagreement[];
  /** Answered differently as nats-server 2.10 does (changedIn210); not counted above. */
  changedIn210: Disagreement[];
}

function shortBody(b: Buffer): string {
  const s = b.toString('utf8');
  return s.length > 160 ? `${s.slice(0, 150)}...(${s.length} chars)` : s;
}

export function compareRuns(reqs: readonly FuzzRequest[], ref: Outcome[], ours: Outcome[]): FuzzReport {
  const rep: FuzzReport = {
    total: 0,
    bothRejected: 0,
    sameCode: 0,
    agreement: 1,
    acceptedByTsnatsOnly: [],
    refusedByTsnatsOnly: [],
    codeDiffers: [],
    answerDiffers: [],
    changedIn210: [],
  };
  reqs.forEach((q, i) => {
    if (q.setup) return;
    rep.total++;
    const a = ref[i]!;
    const b = ours[i]!;
    const d: Disagreement = {
      index: i,
      subject: q.subject,
      body: shortBody(q.body),
      reference: a,
      tsnats: b,
    };
    if (a < 0 || b < 0) {
      if (a !== b) rep.answerDiffers.push(d);
      return;
    }
    if (changedIn210(q, a, b)) {
      rep.changedIn210.push(d);
      return;
    }
    if (a > 0 && b > 0) {
      rep.bothRejected++;
      if (a === b) rep.sameCode++;
      else rep.codeDiffers.push(d);
    } else if (a > 0) rep.acceptedByTsnatsOnly.push(d);
    else if (b > 0) rep.refusedByTsnatsOnly.push(d);
  });
  rep.agreement = rep.bothRejected === 0 ? 1 : rep.sameCode / rep.bothRejected;
  return rep;
}

/** A readable summary with the disagreements (at most `max` of each kind). */
export function formatReport(rep: FuzzReport, max = 40): string {
  const lines = [
    `${rep.total} requests; both refused ${rep.bothRejected}, same err_code ${rep.sameCode} ` +
      `(${(rep.agreement * 100).toFixed(2)}%); accepted only by tsnats ${rep.acceptedByTsnatsOnly.length}; ` +
      `refused only by tsnats ${rep.refusedByTsnatsOnly.length}; answer differs ${rep.answerDiffers.length}; ` +
      `as 2.10 (not counted) ${rep.changedIn210.length}`,
  ];
  const list = (title: string, ds: Disagreement[]): void => {
    if (ds.length === 0) return;
    lines.push(`${title}:`);
    for (const d of ds.slice(0, max)) {
      lines.push(
        `  #${d.index} ${d.subject} ${JSON.stringify(d.body)} nats-server=${d.reference} tsnats=${d.tsnats}`,
      );
    }
    if (ds.length > max) lines.push(`  ... and ${ds.length - max} more`);
  };
  list('accepted by tsnats, refused by nats-server', rep.acceptedByTsnatsOnly);
  list('refused by tsnats, accepted by nats-server', rep.refusedByTsnatsOnly);
  list('different err_code', rep.codeDiffers);
  list('answered by one only', rep.answerDiffers);
  list('answered as nats-server 2.10 does', rep.changedIn210);
  return lines.join('\n');
}
