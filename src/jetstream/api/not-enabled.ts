/**
 * The API of an account without JetStream. nats-server 2.9.10 answers each request with error 10039
 * "JetStream not enabled for account" in that endpoint's response (with the fields its Go struct always
 * writes), except where another check comes first: consumer creation decodes its body first (10025),
 * consumer info refuses a body first (10038), leader step-downs and peer removal need clustering (10010).
 * Direct gets, `CONSUMER.MSG.NEXT` and subjects it does not know get no answer. Observed request by
 * request against nats-server 2.9.10.
 */
import type { Account } from '../../server/account.js';
import type { Delivery } from '../../server/delivery.js';
import {
  type ApiError,
  newJSClusterRequiredError,
  newJSInvalidJSONError,
  newJSNotEmptyRequestError,
  newJSNotEnabledForAccountError,
} from './errors.generated.js';
import { goJson, isEmptyRequest } from './json.js';
import { ResponseType } from './types.js';

const PAGED = { total: 0, offset: 0, limit: 0 };

type Answer = (body: Buffer) => object;

/** `{type, error, ...rest}` in Go's field order. */
function reply(type: string, error: ApiError, rest: object = {}): object {
  return { type, error, ...rest };
}

function notEnabled(type: string, rest: object = {}): Answer {
  return () => reply(type, newJSNotEnabledForAccountError(), rest);
}

function validJson(body: Buffer): boolean {
  try {
    JSON.parse(body.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

const consumerCreate: Answer = (body) =>
  reply(
    ResponseType.ConsumerCreate,
    validJson(body) ? newJSNotEnabledForAccountError() : newJSInvalidJSONError(),
  );

const clusterRequired =
  (type: string): Answer =>
  () =>
    reply(type, newJSClusterRequiredError());

/** Subject patterns (after `$JS.API.`) and their answers; `*` is one token. */
const ANSWERS: [pattern: string, answer: Answer][] = [
  ['INFO', notEnabled(ResponseType.AccountInfo)],
  ['STREAM.CREATE.*', notEnabled(ResponseType.StreamCreate)],
  ['STREAM.UPDATE.*', notEnabled(ResponseType.StreamUpdate)],
  ['STREAM.NAMES', notEnabled(ResponseType.StreamNames, { ...PAGED, streams: null })],
  ['STREAM.LIST', notEnabled(ResponseType.StreamList, { ...PAGED, streams: [] })],
  ['STREAM.INFO.*', notEnabled(ResponseType.StreamInfo, PAGED)],
  ['STREAM.DELETE.*', notEnabled(ResponseType.StreamDelete)],
  ['STREAM.PURGE.*', notEnabled(ResponseType.StreamPurge, { purged: 0 })],
  ['STREAM.MSG.DELETE.*', notEnabled(ResponseType.MsgDelete)],
  ['STREAM.MSG.GET.*', notEnabled(ResponseType.MsgGet)],
  ['STREAM.LEADER.STEPDOWN.*', clusterRequired(ResponseType.StreamLeaderStepDown)],
  ['STREAM.PEER.REMOVE.*', clusterRequired(ResponseType.StreamRemovePeer)],
  ['STREAM.SNAPSHOT.*', notEnabled(ResponseType.StreamSnapshot)],
  ['STREAM.RESTORE.*', notEnabled(ResponseType.StreamRestore, { deliver_subject: '' })],
  ['STREAM.TEMPLATE.NAMES', notEnabled(ResponseType.TemplateNames, { ...PAGED, streams: null })],
  ['STREAM.TEMPLATE.CREATE.*', notEnabled(ResponseType.TemplateCreate)],
  ['STREAM.TEMPLATE.INFO.*', notEnabled(ResponseType.TemplateInfo)],
  ['STREAM.TEMPLATE.DELETE.*', notEnabled(ResponseType.TemplateDelete)],
  ['CONSUMER.CREATE.*', consumerCreate],
  ['CONSUMER.CREATE.*.*', consumerCreate],
  ['CONSUMER.CREATE.*.*.*', consumerCreate],
  ['CONSUMER.DURABLE.CREATE.*.*', consumerCreate],
  ['CONSUMER.NAMES.*', notEnabled(ResponseType.ConsumerNames, { ...PAGED, consumers: [] })],
  ['CONSUMER.LIST.*', notEnabled(ResponseType.ConsumerList, { ...PAGED, consumers: [] })],
  [
    'CONSUMER.INFO.*.*',
    (body) =>
      reply(
        ResponseType.ConsumerInfo,
        isEmptyRequest(body) ? newJSNotEnabledForAccountError() : newJSNotEmptyRequestError(),
      ),
  ],
  ['CONSUMER.DELETE.*.*', notEnabled(ResponseType.ConsumerDelete)],
  ['CONSUMER.LEADER.STEPDOWN.*.*', clusterRequired(ResponseType.ConsumerLeaderStepDown)],
];

const API_PREFIX = '$JS.API.';

function matches(pattern: string[], tokens: string[]): boolean {
  if (pattern.length !== tokens.length) return false;
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== '*' && pattern[i] !== tokens[i]) return false;
  }
  return true;
}

const PATTERNS = ANSWERS.map(([p, a]) => [p.split('.'), a] as const);

/** Answer a `$JS.API.>` request of an account without JetStream (or not at all, as nats-server). */
export function answerNotEnabled(
  out: Delivery,
  acc: Account,
  subject: string,
  reply: string,
  body: Buffer,
): void {
  if (reply === '' || !subject.startsWith(API_PREFIX)) return;
  const tokens = subject.slice(API_PREFIX.length).split('.');
  for (const [pattern, answer] of PATTERNS) {
    if (matches(pattern, tokens)) {
      out.deferString(acc, reply, goJson(answer(body)));
      return;
    }
  }
}
