/**
 * Consumer configuration (nats-server 2.9's ConsumerConfig, consumer.go): the wire type, decoding from a
 * request with Go's JSON rules, nats-server's defaults (setConsumerConfigDefaults), validation
 * (checkConsumerCfg), what an update may change (checkNewConsumerConfig) and encoding in Go's field order
 * with Go's omitempty rules, so responses carry exactly the keys nats-server sends.
 *
 * Durations (`ack_wait`, `backoff`, `idle_heartbeat`, `max_expires`, `inactive_threshold`) are
 * nanoseconds, as on the wire.
 */
import {
  isValidSubject,
  subjectIsLiteral,
  subjectIsSubsetMatch,
  subjectsCollide,
} from '../../routing/subject.js';
import {
  type ApiError,
  newJSConsumerCreateDurableAndNameMismatchError,
  newJSConsumerDeliverCycleError,
  newJSConsumerDeliverToWildcardsError,
  newJSConsumerDescriptionTooLongError,
  newJSConsumerDirectRequiresEphemeralError,
  newJSConsumerDirectRequiresPushError,
  newJSConsumerDuplicateFilterSubjectsError,
  newJSConsumerEmptyFilterError,
  newJSConsumerFCRequiresPushError,
  newJSConsumerHBRequiresPushError,
  newJSConsumerInactiveThresholdExcessError,
  newJSConsumerInvalidDeliverSubjectError,
  newJSConsumerInvalidPolicyError,
  newJSConsumerInvalidSamplingError,
  newJSConsumerMaxDeliverBackoffError,
  newJSConsumerMaxPendingAckExcessError,
  newJSConsumerMaxPendingAckPolicyRequiredError,
  newJSConsumerMaxRequestBatchNegativeError,
  newJSConsumerMaxRequestExpiresToSmallError,
  newJSConsumerMaxWaitingNegativeError,
  newJSConsumerMetadataLengthError,
  newJSConsumerNameExistError,
  newJSConsumerOverlappingSubjectFiltersError,
  newJSConsumerPullRequiresAckError,
  newJSConsumerPullWithRateLimitError,
  newJSConsumerPushMaxWaitingError,
  newJSConsumerReplicasExceedsStreamError,
  newJSConsumerSmallHeartbeatError,
  newJSConsumerWithFlowControlNeedsHeartbeatsError,
  newJSReplicasCountCannotBeNegativeError,
  newJSStreamInvalidConfigError,
} from '../api/errors.generated.js';
import { goInt, InvalidJsonError, type JsonObject } from '../api/json.js';
import {
  JS_MAX_DESCRIPTION_LEN,
  JS_MAX_METADATA_LEN,
  metadataLen,
  type StreamConfig,
  type StreamConsumerLimits,
} from '../config.js';
import { parseRfc3339Nano } from '../time.js';

export type DeliverPolicy =
  | 'all'
  | 'last'
  | 'new'
  | 'by_start_sequence'
  | 'by_start_time'
  | 'last_per_subject';
export type AckPolicy = 'none' | 'all' | 'explicit';
export type ReplayPolicy = 'instant' | 'original';

/** nats-server 2.9's ConsumerConfig (after defaults). Empty strings and zeros mean "not set". */
export interface ConsumerConfig {
  durable_name: string;
  name: string;
  description: string;
  deliver_policy: DeliverPolicy;
  opt_start_seq: number;
  /** RFC 3339 as Go writes it back ('' when not set). */
  opt_start_time: string;
  ack_policy: AckPolicy;
  ack_wait: number;
  max_deliver: number;
  backoff: number[];
  filter_subject: string;
  /** nats-server 2.10's several filters (empty = not set); never together with `filter_subject`. */
  filter_subjects: string[];
  replay_policy: ReplayPolicy;
  rate_limit_bps: number;
  sample_freq: string;
  max_waiting: number;
  max_ack_pending: number;
  idle_heartbeat: number;
  flow_control: boolean;
  headers_only: boolean;
  max_batch: number;
  max_expires: number;
  max_bytes: number;
  deliver_subject: string;
  deliver_group: string;
  inactive_threshold: number;
  num_replicas: number;
  mem_storage: boolean;
  direct: boolean;
  /** nats-server 2.10's free-form metadata (undefined or empty = not set). */
  metadata: Record<string, string> | undefined;
}

/**
 * nats-server 2.10's ConsumerAction: `create` refuses to change an existing consumer, `update` refuses
 * to make a new one, '' (absent) does either, as before 2.10.
 */
export type ConsumerAction = 'create' | 'update' | '';

/** CONSUMER.CREATE request body (nats-server's CreateConsumerRequest). */
export interface CreateConsumerRequest {
  stream_name: string;
  config: ConsumerConfig;
  action: ConsumerAction;
}

/** nats-server's JsAckWaitDefault, JsDeleteWaitTimeDefault, JsDefaultMaxAckPending, JSWaitQueueDefaultMax. */
export const ACK_WAIT_DEFAULT = 30e9;
export const DELETE_WAIT_DEFAULT = 5e9;
export const MAX_ACK_PENDING_DEFAULT = 1000;
export const WAIT_QUEUE_DEFAULT_MAX = 512;
/** nats-server's JSMaxNameLen. */
export const JS_MAX_NAME_LEN = 255;

const DELIVER_POLICIES: readonly string[] = [
  'all',
  'last',
  'new',
  'by_start_sequence',
  'by_start_time',
  'last_per_subject',
];

/** A consumer config with nothing set (Go's zero value). */
export function emptyConsumerConfig(): ConsumerConfig {
  return {
    durable_name: '',
    name: '',
    description: '',
    deliver_policy: 'all',
    opt_start_seq: 0,
    opt_start_time: '',
    ack_policy: 'none',
    ack_wait: 0,
    max_deliver: 0,
    backoff: [],
    filter_subject: '',
    filter_subjects: [],
    replay_policy: 'instant',
    rate_limit_bps: 0,
    sample_freq: '',
    max_waiting: 0,
    max_ack_pending: 0,
    idle_heartbeat: 0,
    flow_control: false,
    headers_only: false,
    max_batch: 0,
    max_expires: 0,
    max_bytes: 0,
    deliver_subject: '',
    deliver_group: '',
    inactive_threshold: 0,
    num_replicas: 0,
    mem_storage: false,
    direct: false,
    metadata: undefined,
  };
}

function policy<T extends string>(o: JsonObject, field: string, allowed: readonly string[], dflt: T): T {
  // DeliverPolicy also takes "undefined" as "all".
  const all = field === 'deliver_policy' ? [...allowed, 'undefined'] : allowed;
  const v = o.enumOf(field, all);
  if (v === undefined) return dflt;
  return (v === 'undefined' ? 'all' : v) as T;
}

/** A []time.Duration (each element an int64 literal), decoded as Go fills a slice. */
function durations(o: JsonObject, field: string): number[] {
  return (
    o.slice(
      field,
      (d, num) => {
        if (typeof d !== 'number') throw new InvalidJsonError(`field ${field}: expected integers`);
        return goInt(d, num, 64, false, field);
      },
      0,
    ) ?? []
  );
}

/**
 * Go's time.Time from JSON: RFC 3339, written back with RFC3339Nano (trailing zeros of the fraction
 * dropped, the offset kept). Throws InvalidJsonError for anything else.
 */
export function normalizeStartTime(s: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$/.exec(s);
  if (m === null) throw new InvalidJsonError(`parsing time ${JSON.stringify(s)} as RFC 3339`);
  try {
    parseRfc3339Nano(`${m[1]}${m[2] !== undefined ? `.${m[2]}` : ''}${m[3] === 'z' ? 'Z' : m[3]}`);
  } catch {
    throw new InvalidJsonError(`parsing time ${JSON.stringify(s)} as RFC 3339`);
  }
  const frac = (m[2] ?? '').replace(/0+$/, '');
  const zone = m[3] === 'z' || m[3] === '+00:00' ? 'Z' : m[3]!;
  return `${m[1]}${frac !== '' ? `.${frac}` : ''}${zone}`;
}

/** The start time in nanoseconds since the epoch. */
export function startTimeNanos(cfg: ConsumerConfig): bigint {
  return cfg.opt_start_time === '' ? 0n : parseRfc3339Nano(cfg.opt_start_time);
}

/** Decode a ConsumerConfig (see json.ts for Go's decoding rules). Throws InvalidJsonError. */
export function decodeConsumerConfig(o: JsonObject | undefined): ConsumerConfig {
  const c = emptyConsumerConfig();
  if (o === undefined) return c;
  c.durable_name = o.string('durable_name') ?? '';
  c.name = o.string('name') ?? '';
  c.description = o.string('description') ?? '';
  c.deliver_policy = policy(o, 'deliver_policy', DELIVER_POLICIES, 'all');
  c.opt_start_seq = o.uint('opt_start_seq') ?? 0;
  const st = o.string('opt_start_time');
  c.opt_start_time = st === undefined ? '' : normalizeStartTime(st);
  c.ack_policy = policy(o, 'ack_policy', ['none', 'all', 'explicit'], 'none');
  c.ack_wait = o.int('ack_wait') ?? 0;
  c.max_deliver = o.int('max_deliver') ?? 0;
  c.backoff = durations(o, 'backoff');
  c.filter_subject = o.string('filter_subject') ?? '';
  c.filter_subjects = o.strings('filter_subjects') ?? [];
  c.replay_policy = policy(o, 'replay_policy', ['instant', 'original'], 'instant');
  c.rate_limit_bps = o.uint('rate_limit_bps') ?? 0;
  c.sample_freq = o.string('sample_freq') ?? '';
  c.max_waiting = o.int('max_waiting') ?? 0;
  c.max_ack_pending = o.int('max_ack_pending') ?? 0;
  c.idle_heartbeat = o.int('idle_heartbeat') ?? 0;
  c.flow_control = o.bool('flow_control') ?? false;
  c.headers_only = o.bool('headers_only') ?? false;
  c.max_batch = o.int('max_batch') ?? 0;
  c.max_expires = o.int('max_expires') ?? 0;
  c.max_bytes = o.int('max_bytes') ?? 0;
  c.deliver_subject = o.string('deliver_subject') ?? '';
  c.deliver_group = o.string('deliver_group') ?? '';
  c.inactive_threshold = o.int('inactive_threshold') ?? 0;
  c.num_replicas = o.int('num_replicas') ?? 0;
  c.mem_storage = o.bool('mem_storage') ?? false;
  c.direct = o.bool('direct') ?? false;
  c.metadata = o.stringMap('metadata');
  return c;
}

/** Decode CONSUMER.CREATE's body. Throws InvalidJsonError. */
export function decodeCreateRequest(o: JsonObject): CreateConsumerRequest {
  return {
    stream_name: o.string('stream_name') ?? '',
    config: decodeConsumerConfig(o.object('config')),
    // Go's UnmarshalJSON of ConsumerAction: exactly these strings; anything else (null too) is invalid JSON.
    action: o.enumOf('action', ['create', 'update', ''] as const) ?? '',
  };
}

/**
 * nats-server 2.10's gatherSubjectFilters: every filter of the consumer, one list whether it came from
 * `filter_subject` or `filter_subjects`; empty when the consumer takes the whole stream.
 */
export function consumerFilters(c: ConsumerConfig): string[] {
  return c.filter_subject !== '' ? [c.filter_subject] : c.filter_subjects;
}

export function isDurable(c: ConsumerConfig): boolean {
  return c.durable_name !== '';
}

export function isPush(c: ConsumerConfig): boolean {
  return c.deliver_subject !== '';
}

/** nats-server's setConsumerConfigDefaults (tsnats has no server or account consumer limits). */
/**
 * nats-server's setConsumerConfigDefaults; `accountMaxAckPending` (the account's `max_ack_pending`, when
 * positive) lowers the default of acknowledged consumers.
 */
export function setConsumerDefaults(
  c: ConsumerConfig,
  accountMaxAckPending = -1,
  /** nats-server 2.10's stream consumer_limits: the defaults of both values, whatever the ack policy. */
  limits: StreamConsumerLimits | undefined = undefined,
): void {
  if (c.deliver_subject === '' && c.max_waiting === 0) c.max_waiting = WAIT_QUEUE_DEFAULT_MAX;
  const acks = c.ack_policy === 'explicit' || c.ack_policy === 'all';
  if (c.ack_wait === 0 && acks) c.ack_wait = ACK_WAIT_DEFAULT;
  if (c.max_deliver === 0) c.max_deliver = -1;
  if (c.backoff.length > 0) c.ack_wait = c.backoff[0]!;
  if (c.max_ack_pending === 0) c.max_ack_pending = limits?.max_ack_pending ?? 0;
  if (c.inactive_threshold === 0) c.inactive_threshold = limits?.inactive_threshold ?? 0;
  if (acks && c.max_ack_pending === 0) {
    c.max_ack_pending =
      accountMaxAckPending > 0
        ? Math.min(accountMaxAckPending, MAX_ACK_PENDING_DEFAULT)
        : MAX_ACK_PENDING_DEFAULT;
  }
}

/** nats-server's deliveryFormsCycle: the deliver subject would be stored by the stream again. */
function deliveryFormsCycle(cfg: StreamConfig, deliver: string): boolean {
  return cfg.subjects.some((s) => subjectIsSubsetMatch(deliver, s));
}

/**
 * nats-server 2.10's checkConsumerCfg (no account limits). A filter need not select any of the stream's
 * subjects: 2.10 dropped 2.9's check of that (10093, "consumer filter subject is not a valid subset of the
 * interest subjects"), so a consumer may wait for subjects a source, a mirror or a transform brings later.
 */
export function checkConsumerConfig(c: ConsumerConfig, stream: StreamConfig): ApiError | undefined {
  if (c.num_replicas > 0 && c.num_replicas > stream.num_replicas)
    return newJSConsumerReplicasExceedsStreamError();
  if (c.num_replicas < 0) return newJSReplicasCountCannotBeNegativeError();
  if (c.backoff.length > 0 && c.max_deliver <= c.backoff.length) return newJSConsumerMaxDeliverBackoffError();
  if (Buffer.byteLength(c.description) > JS_MAX_DESCRIPTION_LEN) {
    return newJSConsumerDescriptionTooLongError(JS_MAX_DESCRIPTION_LEN);
  }
  if (c.deliver_subject !== '') {
    if (!subjectIsLiteral(c.deliver_subject)) return newJSConsumerDeliverToWildcardsError();
    if (!isValidSubject(c.deliver_subject)) return newJSConsumerInvalidDeliverSubjectError();
    if (deliveryFormsCycle(stream, c.deliver_subject)) return newJSConsumerDeliverCycleError();
    if (c.max_waiting !== 0) return newJSConsumerPushMaxWaitingError();
    if (c.max_ack_pending > 0 && c.ack_policy === 'none')
      return newJSConsumerMaxPendingAckPolicyRequiredError();
    if (c.idle_heartbeat > 0 && c.idle_heartbeat < 100e6) return newJSConsumerSmallHeartbeatError();
  } else {
    if (c.ack_policy === 'none' && stream.retention === 'workqueue')
      return newJSConsumerPullRequiresAckError();
    if (c.rate_limit_bps > 0) return newJSConsumerPullWithRateLimitError();
    if (c.max_waiting < 0) return newJSConsumerMaxWaitingNegativeError();
    if (c.idle_heartbeat > 0) return newJSConsumerHBRequiresPushError();
    if (c.flow_control) return newJSConsumerFCRequiresPushError();
    if (c.max_batch < 0) return newJSConsumerMaxRequestBatchNegativeError();
    if (c.max_expires !== 0 && c.max_expires < 1e6) return newJSConsumerMaxRequestExpiresToSmallError();
  }
  // nats-server 2.10: the stream's consumer_limits are maximums too.
  const lim = stream.consumer_limits;
  if ((lim?.max_ack_pending ?? 0) > 0 && c.max_ack_pending > lim!.max_ack_pending!) {
    return newJSConsumerMaxPendingAckExcessError(lim!.max_ack_pending!);
  }
  if ((lim?.inactive_threshold ?? 0) > 0 && c.inactive_threshold > lim!.inactive_threshold!) {
    return newJSConsumerInactiveThresholdExcessError(goDurationString(lim!.inactive_threshold!));
  }
  if (c.direct) {
    if (c.deliver_subject === '') return newJSConsumerDirectRequiresPushError();
    if (isDurable(c)) return newJSConsumerDirectRequiresEphemeralError();
  }
  // nats-server 2.10's checks of the filters, in its order: not both forms, each a non-empty valid
  // subject, none overlapping another (a message would match twice).
  if (c.filter_subject !== '' && c.filter_subjects.length > 0)
    return newJSConsumerDuplicateFilterSubjectsError();
  if (c.filter_subject !== '' && !isValidSubject(c.filter_subject)) {
    return newJSStreamInvalidConfigError('invalid subject');
  }
  if (c.filter_subjects.includes('')) return newJSConsumerEmptyFilterError();
  const filters = consumerFilters(c);
  for (let i = 0; i < filters.length; i++) {
    if (!isValidSubject(filters[i]!)) return newJSStreamInvalidConfigError('invalid subject');
    for (let j = 0; j < filters.length; j++) {
      if (i !== j && subjectsCollide(filters[i]!, filters[j]!)) {
        return newJSConsumerOverlappingSubjectFiltersError();
      }
    }
  }
  const badStart = (dp: string, start: string): ApiError =>
    newJSConsumerInvalidPolicyError(
      `consumer delivery policy is deliver ${dp}, but optional start ${start} is also set`,
    );
  const notSet = (dp: string, what: string): ApiError =>
    newJSConsumerInvalidPolicyError(
      `consumer delivery policy is deliver ${dp}, but optional ${what} is not set`,
    );
  const hasTime = c.opt_start_time !== '';
  switch (c.deliver_policy) {
    case 'all':
      if (c.opt_start_seq > 0) return badStart('all', 'sequence');
      if (hasTime) return badStart('all', 'time');
      break;
    case 'last':
      if (c.opt_start_seq > 0) return badStart('last', 'sequence');
      if (hasTime) return badStart('last', 'time');
      break;
    case 'last_per_subject':
      if (c.opt_start_seq > 0) return badStart('last per subject', 'sequence');
      if (hasTime) return badStart('last per subject', 'time');
      if (consumerFilters(c).length === 0) return notSet('last per subject', 'filter subject');
      break;
    case 'new':
      if (c.opt_start_seq > 0) return badStart('new', 'sequence');
      if (hasTime) return badStart('new', 'time');
      break;
    case 'by_start_sequence':
      if (c.opt_start_seq === 0) return notSet('by start sequence', 'start sequence');
      if (hasTime) return badStart('by start sequence', 'time');
      break;
    case 'by_start_time':
      if (!hasTime) return notSet('by start time', 'start time');
      if (c.opt_start_seq !== 0) return badStart('by start time', 'start sequence');
      break;
  }
  if (c.sample_freq !== '') {
    const s = c.sample_freq.endsWith('%') ? c.sample_freq.slice(0, -1) : c.sample_freq;
    if (!/^[+-]?\d+$/.test(s)) {
      return newJSConsumerInvalidSamplingError(`strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
    }
    // Go: a negative frequency is refused with a nil error.
    if (Number(s) < 0) return newJSConsumerInvalidSamplingError('<nil>');
  }
  if (c.flow_control && c.idle_heartbeat === 0) return newJSConsumerWithFlowControlNeedsHeartbeatsError();
  if (c.durable_name !== '' && c.name !== '' && c.name !== c.durable_name) {
    return newJSConsumerCreateDurableAndNameMismatchError();
  }
  if (metadataLen(c.metadata) > JS_MAX_METADATA_LEN) {
    return newJSConsumerMetadataLengthError(`${JS_MAX_METADATA_LEN / 1024}KB`);
  }
  return undefined;
}

/** The sampling frequency in percent (sample_freq "50%" or "50"); 0 when not set. */
export function sampleFrequency(c: ConsumerConfig): number {
  if (c.sample_freq === '') return 0;
  const s = c.sample_freq.endsWith('%') ? c.sample_freq.slice(0, -1) : c.sample_freq;
  const n = Number(s);
  return Number.isInteger(n) ? n : 0;
}

/** Two configs are the same (nats-server's reflect.DeepEqual). */
export function sameConsumerConfig(a: ConsumerConfig, b: ConsumerConfig): boolean {
  return JSON.stringify(encodeConsumerConfig(a)) === JSON.stringify(encodeConsumerConfig(b));
}

/** An update refused: either nats-server's plain error text (sent as 10012) or an API error. */
export type UpdateRefusal = string | ApiError;

/**
 * nats-server's checkNewConsumerConfig: what a create on an existing consumer may change.
 * `deliverInterest` says whether the current deliver subject has subscribers.
 */
export function checkConsumerUpdate(
  cur: ConsumerConfig,
  next: ConsumerConfig,
  deliverInterest: boolean,
): UpdateRefusal | undefined {
  if (sameConsumerConfig(cur, next)) return undefined;
  if (cur.deliver_policy !== next.deliver_policy) return 'deliver policy can not be updated';
  if (cur.opt_start_seq !== next.opt_start_seq) return 'start sequence can not be updated';
  // Go compares the *time.Time pointers here: two configs that both have one always differ.
  if (cur.opt_start_time !== '' || next.opt_start_time !== '') return 'start time can not be updated';
  if (cur.ack_policy !== next.ack_policy) return 'ack policy can not be updated';
  if (cur.replay_policy !== next.replay_policy) return 'replay policy can not be updated';
  if (cur.idle_heartbeat !== next.idle_heartbeat) return 'heart beats can not be updated';
  if (cur.flow_control !== next.flow_control) return 'flow control can not be updated';
  if (cur.max_waiting !== next.max_waiting) return 'max waiting can not be updated';
  if (cur.deliver_subject !== next.deliver_subject) {
    if (cur.deliver_subject === '') return 'can not update pull consumer to push based';
    if (next.deliver_subject === '') return 'can not update push consumer to pull based';
    if (deliverInterest) return newJSConsumerNameExistError();
  }
  if (next.backoff.length > 0 && next.max_deliver <= next.backoff.length)
    return newJSConsumerMaxDeliverBackoffError();
  return undefined;
}

/** The config as nats-server 2.9 marshals it: Go's field order, omitempty fields left out. */
export function encodeConsumerConfig(c: ConsumerConfig): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (c.durable_name !== '') o.durable_name = c.durable_name;
  if (c.name !== '') o.name = c.name;
  if (c.description !== '') o.description = c.description;
  o.deliver_policy = c.deliver_policy;
  if (c.opt_start_seq !== 0) o.opt_start_seq = c.opt_start_seq;
  if (c.opt_start_time !== '') o.opt_start_time = c.opt_start_time;
  o.ack_policy = c.ack_policy;
  if (c.ack_wait !== 0) o.ack_wait = c.ack_wait;
  if (c.max_deliver !== 0) o.max_deliver = c.max_deliver;
  if (c.backoff.length > 0) o.backoff = c.backoff;
  if (c.filter_subject !== '') o.filter_subject = c.filter_subject;
  if (c.filter_subjects.length > 0) o.filter_subjects = c.filter_subjects;
  o.replay_policy = c.replay_policy;
  if (c.rate_limit_bps !== 0) o.rate_limit_bps = c.rate_limit_bps;
  if (c.sample_freq !== '') o.sample_freq = c.sample_freq;
  if (c.max_waiting !== 0) o.max_waiting = c.max_waiting;
  if (c.max_ack_pending !== 0) o.max_ack_pending = c.max_ack_pending;
  if (c.idle_heartbeat !== 0) o.idle_heartbeat = c.idle_heartbeat;
  if (c.flow_control) o.flow_control = true;
  if (c.headers_only) o.headers_only = true;
  if (c.max_batch !== 0) o.max_batch = c.max_batch;
  if (c.max_expires !== 0) o.max_expires = c.max_expires;
  if (c.max_bytes !== 0) o.max_bytes = c.max_bytes;
  if (c.deliver_subject !== '') o.deliver_subject = c.deliver_subject;
  if (c.deliver_group !== '') o.deliver_group = c.deliver_group;
  if (c.inactive_threshold !== 0) o.inactive_threshold = c.inactive_threshold;
  o.num_replicas = c.num_replicas;
  if (c.mem_storage) o.mem_storage = true;
  if (c.direct) o.direct = true;
  if (c.metadata !== undefined && Object.keys(c.metadata).length > 0) o.metadata = c.metadata;
  return o;
}

/** Go's time.Duration.String (for status descriptions such as "Exceeded MaxRequestExpires of 1s"). */
export function goDurationString(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let u = Math.abs(ns);
  const frac = (v: number, div: number): string => {
    const whole = Math.floor(v / div);
    const rest = v - whole * div;
    if (rest === 0) return String(whole);
    const digits = String(div).length - 1;
    return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
  };
  if (u < 1e9) {
    if (u < 1e3) return `${sign}${u}ns`;
    if (u < 1e6) return `${sign}${frac(u, 1e3)}µs`;
    return `${sign}${frac(u, 1e6)}ms`;
  }
  const h = Math.floor(u / 3.6e12);
  u -= h * 3.6e12;
  const m = Math.floor(u / 6e10);
  u -= m * 6e10;
  const s = `${frac(u, 1e9)}s`;
  if (h > 0) return `${sign}${h}h${m}m${s}`;
  if (m > 0) return `${sign}${m}m${s}`;
  return `${sign}${s}`;
}
