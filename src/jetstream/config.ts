/**
 * Stream configuration: the wire type (nats-server 2.9's StreamConfig, snake_case as in the API and in
 * the stored meta file), decoding from a request, normalisation with nats-server's defaults and
 * validation errors (stream.go checkStreamCfg, configUpdateCheck), and encoding in Go's field order with
 * Go's omitempty rules, so responses carry exactly the keys nats-server sends.
 *
 * Durations (`max_age`, `duplicate_window`) are nanoseconds, as on the wire.
 */
import { createHash } from 'node:crypto';
import { destinationProblem } from '../routing/mapping.js';
import {
  isValidPublishSubject,
  isValidSubject,
  subjectIsSubsetMatch,
  subjectsCollide,
} from '../routing/subject.js';
import { SubjectTransform, TransformError } from '../routing/transform.js';
import {
  type ApiError,
  newJSMirrorInvalidStreamNameError,
  newJSMirrorInvalidSubjectFilterError,
  newJSMirrorMaxMessageSizeTooBigError,
  newJSMirrorMultipleFiltersNotAllowedError,
  newJSMirrorOverlappingSubjectFiltersError,
  newJSMirrorWithFirstSeqError,
  newJSMirrorWithSourcesError,
  newJSMirrorWithSubjectsError,
  newJSReplicasCountCannotBeNegativeError,
  newJSSourceDuplicateDetectedError,
  newJSSourceInvalidStreamNameError,
  newJSSourceInvalidSubjectFilterError,
  newJSSourceInvalidTransformDestinationError,
  newJSSourceMaxMessageSizeTooBigError,
  newJSSourceMultipleFiltersNotAllowedError,
  newJSSourceOverlappingSubjectFiltersError,
  newJSStreamCreateError,
  newJSStreamExternalApiOverlapError,
  newJSStreamExternalDelPrefixOverlapsError,
  newJSStreamInvalidConfigError,
  newJSStreamInvalidExternalDeliverySubjError,
  newJSStreamMirrorNotUpdatableError,
  newJSStreamReplicasNotSupportedError,
  newJSStreamUpdateError,
} from './api/errors.generated.js';
import { goJson, InvalidJsonError, JsonObject } from './api/json.js';
import { parseRfc3339Nano, rfc3339Nano } from './time.js';

/** nats-server's JSApiPrefix. */
const JS_API_PREFIX = '$JS.API';

export type RetentionPolicy = 'limits' | 'interest' | 'workqueue';
export type DiscardPolicy = 'old' | 'new';
export type StorageType = 'file' | 'memory';
/** nats-server 2.10's StoreCompression, as its JSON spells it. */
export type StoreCompression = 'none' | 's2';

export interface Placement {
  cluster?: string;
  tags?: string[];
}

/** nats-server's ExternalStream: how to reach a stream in another account or domain. */
export interface ExternalStream {
  /** API prefix (e.g. `$JS.hub.API`), replacing `$JS.API` in the consumer create request. */
  api: string;
  /** Prefix of the deliver subject of the consumer (an export/import of the other account). */
  deliver: string;
}

/** nats-server's StreamSource: the origin of a mirror, or one source of a stream. */
export interface StreamSource {
  name: string;
  /** 0 = not set. */
  opt_start_seq?: number;
  /** RFC 3339 as Go writes it (UTC), absent when not set. */
  opt_start_time?: string;
  filter_subject?: string;
  /**
   * nats-server 2.10: the origin's messages matching each `src` (several, not overlapping), stored under
   * the subject `src` maps to on `dest` (an empty `dest` keeps the subject). Not with `filter_subject`.
   */
  subject_transforms?: SubjectTransformConfig[];
  external?: ExternalStream;
}

/** nats-server's RePublish: publish each stored message again on `dest`. */
export interface RePublish {
  /** Subjects to republish (a subset of the stream's); '>' when not given. */
  src?: string;
  dest: string;
  headers_only?: boolean;
}

/** nats-server 2.10's SubjectTransformConfig: stored messages take the subject `src` maps to on `dest`. */
export interface SubjectTransformConfig {
  src: string;
  dest: string;
}

/** nats-server 2.10's StreamConsumerLimits: defaults and maximums for the stream's consumers (0 = none). */
export interface StreamConsumerLimits {
  /** Nanoseconds. */
  inactive_threshold?: number;
  max_ack_pending?: number;
}

/** nats-server 2.9's StreamConfig after normalisation (defaults filled in), with 2.10's additions. */
export interface StreamConfig {
  name: string;
  description?: string;
  subjects: string[];
  retention: RetentionPolicy;
  /** -1 = unlimited. */
  max_consumers: number;
  max_msgs: number;
  max_bytes: number;
  /** Nanoseconds; 0 = unlimited. */
  max_age: number;
  max_msgs_per_subject: number;
  /** -1 = unlimited (the server's max_payload still applies to publishes). */
  max_msg_size: number;
  discard: DiscardPolicy;
  storage: StorageType;
  num_replicas: number;
  no_ack?: boolean;
  template_owner?: string;
  /** Nanoseconds; defaults to 2m (or max_age when shorter). */
  duplicate_window: number;
  placement?: Placement;
  mirror?: StreamSource;
  sources?: StreamSource[];
  /**
   * nats-server 2.10: 's2' stores a file stream's sealed blocks compressed (absent = 'none'). Accepted
   * and reported for memory streams too, where it changes nothing, as in 2.10.
   */
  compression?: StoreCompression;
  /** nats-server 2.10: the sequence of the first message of a new stream (absent = 1). */
  first_seq?: number;
  /** nats-server 2.10: the transform applied to the subject of every message before it is stored. */
  subject_transform?: SubjectTransformConfig;
  republish?: RePublish;
  allow_direct: boolean;
  mirror_direct: boolean;
  discard_new_per_subject?: boolean;
  sealed: boolean;
  deny_delete: boolean;
  deny_purge: boolean;
  allow_rollup_hdrs: boolean;
  /** nats-server 2.10: absent when neither limit is set. */
  consumer_limits?: StreamConsumerLimits;
  /** nats-server 2.10's free-form metadata; 2.9 drops it, tsnats keeps and returns it. */
  metadata?: Record<string, string>;
}

/** A stream configuration as requested: what the client sent, before defaults. */
export interface StreamConfigRequest {
  name: string;
  description: string;
  subjects: string[];
  retention: RetentionPolicy;
  max_consumers: number;
  max_msgs: number;
  max_bytes: number;
  max_age: number;
  max_msgs_per_subject: number;
  max_msg_size: number;
  discard: DiscardPolicy;
  /** '' when not given (file is the default); 'any' is refused. */
  storage: StorageType | 'any' | '';
  num_replicas: number;
  no_ack: boolean;
  template_owner: string;
  duplicate_window: number;
  placement: Placement | undefined;
  mirror: StreamSource | undefined;
  sources: StreamSource[];
  compression: StoreCompression;
  first_seq: number;
  subject_transform: SubjectTransformConfig | undefined;
  republish: RePublish | undefined;
  allow_direct: boolean;
  mirror_direct: boolean;
  discard_new_per_subject: boolean;
  sealed: boolean;
  deny_delete: boolean;
  deny_purge: boolean;
  allow_rollup_hdrs: boolean;
  consumer_limits: StreamConsumerLimits | undefined;
  metadata: Record<string, string> | undefined;
}

/** nats-server's JSMaxNameLen and JSMaxDescriptionLen (bytes). */
export const JS_MAX_NAME_LEN = 255;
export const JS_MAX_DESCRIPTION_LEN = 4 * 1024;
/** nats-server 2.10's JSMaxMetadataLen: the bytes of all metadata keys and values together. */
export const JS_MAX_METADATA_LEN = 128 * 1024;

/** The size nats-server 2.10 checks against JS_MAX_METADATA_LEN (Go's len: bytes, keys and values). */
export function metadataLen(md: Record<string, string> | undefined): number {
  let n = 0;
  for (const [k, v] of Object.entries(md ?? {})) n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}
/** nats-server's StreamDefaultDuplicatesWindow, in ns. */
export const DEFAULT_DUPLICATE_WINDOW = 2 * 60 * 1e9;
/** nats-server's StreamMaxReplicas. */
const STREAM_MAX_REPLICAS = 5;
const MIN_WINDOW_NS = 100 * 1e6;

/** Decode a StreamConfig request body (see json.ts for Go's decoding rules). Throws InvalidJsonError. */
export function decodeStreamConfig(o: JsonObject): StreamConfigRequest {
  const placement = o.object('placement');
  return {
    name: o.string('name') ?? '',
    description: o.string('description') ?? '',
    subjects: o.strings('subjects') ?? [],
    retention: o.enumOf('retention', ['limits', 'interest', 'workqueue'] as const) ?? 'limits',
    max_consumers: o.int('max_consumers') ?? 0,
    max_msgs: o.int('max_msgs') ?? 0,
    max_bytes: o.int('max_bytes') ?? 0,
    max_age: o.int('max_age') ?? 0,
    max_msgs_per_subject: o.int('max_msgs_per_subject') ?? 0,
    max_msg_size: o.int('max_msg_size', 32) ?? 0,
    // Discard is the one policy nats-server reads case-insensitively.
    discard: o.enumOf('discard', ['old', 'new'] as const, (s) => s.toLowerCase()) ?? 'old',
    storage: o.enumOf('storage', ['file', 'memory', 'any'] as const) ?? '',
    num_replicas: o.int('num_replicas') ?? 0,
    no_ack: o.bool('no_ack') ?? false,
    template_owner: o.string('template_owner') ?? '',
    duplicate_window: o.int('duplicate_window') ?? 0,
    placement:
      placement === undefined
        ? undefined
        : {
            ...(placement.string('cluster') ? { cluster: placement.string('cluster')! } : {}),
            ...(placement.strings('tags')?.length ? { tags: placement.strings('tags')! } : {}),
          },
    mirror: decodeSource(o.object('mirror'), 'mirror'),
    sources: decodeSources(o.all('sources')),
    // Go's StoreCompression.UnmarshalJSON takes "s2" and "none" only ("", null and the rest: invalid JSON).
    compression: o.enumOf('compression', ['none', 's2'] as const) ?? 'none',
    first_seq: o.uint('first_seq') ?? 0,
    subject_transform: decodeTransform(o.object('subject_transform')),
    republish: decodeRepublish(o.object('republish')),
    allow_direct: o.bool('allow_direct') ?? false,
    mirror_direct: o.bool('mirror_direct') ?? false,
    discard_new_per_subject: o.bool('discard_new_per_subject') ?? false,
    sealed: o.bool('sealed') ?? false,
    deny_delete: o.bool('deny_delete') ?? false,
    deny_purge: o.bool('deny_purge') ?? false,
    allow_rollup_hdrs: o.bool('allow_rollup_hdrs') ?? false,
    consumer_limits: decodeConsumerLimits(o.object('consumer_limits')),
    metadata: o.stringMap('metadata'),
  };
}

/** A StreamSource as Go decodes it (unknown fields ignored; `null` is the same as absent). */
function decodeSource(o: JsonObject | undefined, field: string): StreamSource | undefined {
  if (o === undefined) return undefined;
  const s: StreamSource = { name: o.string('name') ?? '' };
  const seq = o.uint('opt_start_seq') ?? 0;
  if (seq > 0) s.opt_start_seq = seq;
  const t = o.string('opt_start_time');
  if (t !== undefined) {
    let ns: bigint;
    try {
      ns = parseRfc3339Nano(t);
    } catch {
      throw new InvalidJsonError(`field ${field}.opt_start_time: invalid time`);
    }
    s.opt_start_time = rfc3339Nano(ns);
  }
  const filter = o.string('filter_subject') ?? '';
  if (filter !== '') s.filter_subject = filter;
  const transforms = o.slice(
    'subject_transforms',
    (e) => {
      if (typeof e !== 'object' || Array.isArray(e)) {
        throw new InvalidJsonError(`field ${field}.subject_transforms: expected an object`);
      }
      return decodeTransform(new JsonObject(e as Record<string, unknown>))!;
    },
    { src: '', dest: '' },
  );
  if (transforms !== undefined && transforms.length > 0) s.subject_transforms = transforms;
  const ext = o.object('external');
  if (ext !== undefined) s.external = { api: ext.string('api') ?? '', deliver: ext.string('deliver') ?? '' };
  return s;
}

/** Every `sources` array is decoded (and type-checked) in turn; the last one is the value. */
function decodeSources(all: unknown[]): StreamSource[] {
  let out: StreamSource[] = [];
  for (const v of all) {
    if (!Array.isArray(v)) throw new InvalidJsonError('field sources: expected an array');
    out = [];
    for (const item of v) {
      if (item === null) continue;
      if (typeof item !== 'object' || Array.isArray(item)) {
        throw new InvalidJsonError('field sources: expected an object');
      }
      out.push(decodeSource(new JsonObject(item as Record<string, unknown>), 'sources')!);
    }
  }
  return out;
}

function decodeConsumerLimits(o: JsonObject | undefined): StreamConsumerLimits | undefined {
  if (o === undefined) return undefined;
  const l: StreamConsumerLimits = {};
  const it = o.int('inactive_threshold') ?? 0;
  const map = o.int('max_ack_pending', 32) ?? 0;
  if (it !== 0) l.inactive_threshold = it;
  if (map !== 0) l.max_ack_pending = map;
  return l.inactive_threshold === undefined && l.max_ack_pending === undefined ? undefined : l;
}

function decodeTransform(o: JsonObject | undefined): SubjectTransformConfig | undefined {
  if (o === undefined) return undefined;
  return { src: o.string('src') ?? '', dest: o.string('dest') ?? '' };
}

/**
 * Why a stream's subject transform can not be made (the error of nats-server 2.10's NewSubjectTransform), or
 * undefined when it can. An empty `dest` is no transform at all and an empty `src` is '>', as in nats-server.
 */
export function subjectTransformError(t: SubjectTransformConfig): string | undefined {
  if (t.dest === '') return undefined;
  const made = SubjectTransform.parse(t.src === '' ? '>' : t.src, t.dest);
  return made instanceof TransformError ? made.message : undefined;
}

/**
 * nats-server 2.10 makes the subject transform when it creates (10049) or updates (10069) the stream, so a
 * bad one is refused with that step's error rather than as an invalid config.
 */
export function subjectTransformApiError(cfg: StreamConfig, update: boolean): ApiError | undefined {
  const sourceErr = sourceTransformApiError(cfg, update);
  if (sourceErr !== undefined) return sourceErr;
  const t = cfg.subject_transform;
  const reason = t === undefined ? undefined : subjectTransformError(t);
  if (t === undefined || reason === undefined) return undefined;
  return update
    ? newJSStreamUpdateError(
        `stream configuration for subject transform from '${t.src}' to '${t.dest}': ${reason}`,
      )
    : newJSStreamCreateError(`stream subject transform from '${t.src}' to '${t.dest}': ${reason}`);
}

/**
 * What nats-server 2.10 finds when it makes the transforms of a mirror and of the sources (addStream,
 * 10049; on an update only new sources' transforms are made, 10069): a bad filter or transform source,
 * or a destination the source does not fit. An empty destination is no transform.
 */
function sourceTransformApiError(cfg: StreamConfig, update: boolean): ApiError | undefined {
  const reason = (t: SubjectTransformConfig): string | undefined =>
    t.dest === '' ? undefined : subjectTransformError(t);
  if (update) {
    for (const s of cfg.sources ?? []) {
      for (const t of s.subject_transforms ?? []) {
        const r = reason(t);
        if (r !== undefined)
          return newJSStreamUpdateError(`unable to get subject transform for source: ${r}`);
      }
    }
    return undefined;
  }
  const bad = (e: string): ApiError => newJSStreamCreateError(e);
  const m = cfg.mirror;
  if (m !== undefined) {
    const trs = m.subject_transforms ?? [];
    const f = m.filter_subject ?? '';
    // nats-server's text has no colon here.
    if (trs.length === 0 && f !== '' && !isValidSubject(f)) {
      return bad(`subject filter '${f}' for the mirror invalid subject`);
    }
    for (const t of trs) {
      if (t.src !== '' && !isValidSubject(t.src)) {
        return bad(`invalid subject transform source '${t.src}' for the mirror: invalid subject`);
      }
      const r = reason(t);
      if (r !== undefined)
        return bad(`subject transform from '${t.src}' to '${t.dest}' for the mirror: ${r}`);
    }
  }
  for (const s of cfg.sources ?? []) {
    const trs = s.subject_transforms ?? [];
    const f = s.filter_subject ?? '';
    if (trs.length === 0 && f !== '' && !isValidSubject(f)) {
      return bad(`subject filter '${f}' for the source: invalid subject`);
    }
    for (const t of trs) {
      if (t.src !== '' && !isValidSubject(t.src)) {
        return bad(`subject filter '${t.src}' for the source: invalid subject`);
      }
      const r = reason(t);
      if (r !== undefined)
        return bad(`subject transform from '${t.src}' to '${t.dest}' for the source: ${r}`);
    }
  }
  return undefined;
}

/**
 * nats-server 2.10's update check of consumer_limits: a changed limit may not be under what an existing
 * consumer has (a limit of 0 is none, as in later 2.10/2.11 releases). `consumers`: name and config.
 */
export function consumerLimitsUpdateError(
  old: StreamConfig,
  next: StreamConfig,
  consumers: Iterable<readonly [string, { inactive_threshold: number; max_ack_pending: number }]>,
): ApiError | undefined {
  const it = next.consumer_limits?.inactive_threshold ?? 0;
  const map = next.consumer_limits?.max_ack_pending ?? 0;
  if (
    it === (old.consumer_limits?.inactive_threshold ?? 0) &&
    map === (old.consumer_limits?.max_ack_pending ?? 0)
  ) {
    return undefined;
  }
  const bad: string[] = [];
  for (const [name, c] of consumers) {
    if ((it > 0 && c.inactive_threshold > it) || (map > 0 && c.max_ack_pending > map)) bad.push(name);
  }
  if (bad.length === 0) return undefined;
  // nats-server lists them in map order; sorted here so the answer is stable.
  return newJSStreamUpdateError(`change to limits violates consumers: ${bad.sort().join(', ')}`);
}

/** The transform of a stream's subject_transform (already checked), undefined when there is none. */
export function streamSubjectTransform(cfg: StreamConfig): SubjectTransform | undefined {
  const t = cfg.subject_transform;
  if (t === undefined || t.dest === '') return undefined;
  const made = SubjectTransform.parse(t.src === '' ? '>' : t.src, t.dest);
  return made instanceof TransformError ? undefined : made;
}

function decodeRepublish(o: JsonObject | undefined): RePublish | undefined {
  if (o === undefined) return undefined;
  const r: RePublish = { dest: o.string('dest') ?? '' };
  const src = o.string('src') ?? '';
  if (src !== '') r.src = src;
  if (o.bool('headers_only') === true) r.headers_only = true;
  return r;
}

/**
 * The origin part of a source's index name: the stream's name, plus a hash of an external API prefix (the
 * whole index name of nats-server 2.9, and what its Nats-Stream-Source header names).
 */
export function sourceOriginName(s: StreamSource): string {
  return s.external !== undefined ? `${s.name}:${nameHash(s.external.api)}` : s.name;
}

/**
 * The index name of a source, nats-server 2.10's composeIName: `<origin> <filters> <destinations>`, the
 * filters and destinations of several transforms joined by form feeds, empty ones as '>'. Two sources of
 * one stream are told apart by it (a duplicate is 10140).
 */
export function sourceIndexName(s: StreamSource): string {
  const orFwc = (x: string | undefined): string => (x === undefined || x === '' ? '>' : x);
  const trs = s.subject_transforms ?? [];
  const filters = trs.length === 0 ? orFwc(s.filter_subject) : trs.map((t) => orFwc(t.src)).join('\f');
  const dests = trs.length === 0 ? '>' : trs.map((t) => orFwc(t.dest)).join('\f');
  return `${sourceOriginName(s)} ${filters} ${dests}`;
}

/** nats-server's getHash: the first 8 bytes of SHA-256, each mapped to one of 62 digits. */
export function nameHash(name: string): string {
  const b = createHash('sha256').update(name).digest();
  let out = '';
  for (let i = 0; i < 8; i++) out += HASH_DIGITS[b[i]! % 62];
  return out;
}
const HASH_DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A request made from a normalised config (stream update keeps what is not changed). */
export function requestFromConfig(c: StreamConfig): StreamConfigRequest {
  return {
    name: c.name,
    description: c.description ?? '',
    subjects: [...c.subjects],
    retention: c.retention,
    max_consumers: c.max_consumers,
    max_msgs: c.max_msgs,
    max_bytes: c.max_bytes,
    max_age: c.max_age,
    max_msgs_per_subject: c.max_msgs_per_subject,
    max_msg_size: c.max_msg_size,
    discard: c.discard,
    storage: c.storage,
    num_replicas: c.num_replicas,
    no_ack: c.no_ack ?? false,
    template_owner: c.template_owner ?? '',
    duplicate_window: c.duplicate_window,
    placement: c.placement,
    mirror: c.mirror,
    sources: c.sources ?? [],
    compression: c.compression ?? 'none',
    first_seq: c.first_seq ?? 0,
    subject_transform: c.subject_transform,
    republish: c.republish,
    allow_direct: c.allow_direct,
    mirror_direct: c.mirror_direct,
    discard_new_per_subject: c.discard_new_per_subject ?? false,
    sealed: c.sealed,
    deny_delete: c.deny_delete,
    deny_purge: c.deny_purge,
    allow_rollup_hdrs: c.allow_rollup_hdrs,
    consumer_limits: c.consumer_limits,
    metadata: c.metadata,
  };
}

/** nats-server's isValidName: non-empty, no whitespace, '.', '*' or '>'. */
export function isValidName(name: string): boolean {
  return name !== '' && !/[ \t\r\n\f.*>]/.test(name);
}

function invalid(reason: string): ApiError {
  return newJSStreamInvalidConfigError(reason);
}

/** What checkStreamConfig needs to see of the account's other streams (mirrors and sources). */
export interface StreamLookup {
  /** The config of another stream of the account, undefined when there is none. */
  stream(name: string): StreamConfig | undefined;
  /** The server is recovering streams (some errors are not raised then, as in nats-server). */
  recovering?: boolean;
}

const NO_STREAMS: StreamLookup = { stream: () => undefined };

/**
 * nats-server's checkStreamCfg (no account limits): fill in defaults and validate, looking at the
 * account's other streams through `lookup` for mirrors and sources. Returns the normalised config or the
 * API error nats-server answers with.
 */
export function checkStreamConfig(
  req: StreamConfigRequest,
  lookup: StreamLookup = NO_STREAMS,
): StreamConfig | ApiError {
  if (!isValidName(req.name)) return invalid("stream name is required and can not contain '.', '*', '>'");
  if (Buffer.byteLength(req.name) > JS_MAX_NAME_LEN) {
    return invalid(`stream name is too long, maximum allowed is ${JS_MAX_NAME_LEN}`);
  }
  if (Buffer.byteLength(req.description) > JS_MAX_DESCRIPTION_LEN) {
    return invalid(`stream description is too long, maximum allowed is ${JS_MAX_DESCRIPTION_LEN}`);
  }
  if (metadataLen(req.metadata) > JS_MAX_METADATA_LEN) {
    return invalid(`stream metadata exceeds maximum size of ${JS_MAX_METADATA_LEN} bytes`);
  }
  // nats-server 2.9.10 accepts "any" here and then fails to create a store for it.
  if (req.storage === 'any') return invalid('stream storage type must be file or memory');
  const replicas = req.num_replicas === 0 ? 1 : req.num_replicas;
  if (replicas > STREAM_MAX_REPLICAS) return invalid(`maximum replicas is ${STREAM_MAX_REPLICAS}`);
  if (replicas < 0) return newJSReplicasCountCannotBeNegativeError();
  const mirror = req.mirror;
  let dupes = req.duplicate_window;
  if (dupes === 0 && mirror === undefined)
    dupes =
      req.max_age !== 0 && req.max_age < DEFAULT_DUPLICATE_WINDOW ? req.max_age : DEFAULT_DUPLICATE_WINDOW;
  if (req.max_age > 0 && req.max_age < MIN_WINDOW_NS) return invalid('max age needs to be >= 100ms');
  if (dupes < 0) return invalid('duplicates window can not be negative');
  if (req.max_age !== 0 && dupes > req.max_age)
    return invalid('duplicates window can not be larger then max age');
  if (dupes > 0 && dupes < MIN_WINDOW_NS) return invalid('duplicates window needs to be >= 100ms');
  if (req.deny_purge && req.allow_rollup_hdrs) return invalid('roll-ups require the purge permission');
  const maxPer = req.max_msgs_per_subject === 0 ? -1 : req.max_msgs_per_subject;
  if (req.discard_new_per_subject) {
    if (req.discard !== 'new')
      return invalid('discard new per subject requires discard new policy to be set');
    if (maxPer <= 0) return invalid('discard new per subject requires max msgs per subject > 0');
  }
  const maxMsgSize = req.max_msg_size === 0 ? -1 : req.max_msg_size;
  const sources = req.sources;
  let mirrorDirect = req.mirror_direct;

  // Mirrors and sources (nats-server checks what it can see of the origin streams). A filter need not
  // overlap the origin's subjects: nats-server 2.10 dropped 2.9's check of that.
  const streamSubs: string[] = [];
  const deliveryPrefixes: string[] = [];
  const apiPrefixes: string[] = [];
  if (mirror !== undefined) {
    if (req.first_seq > 0) return newJSMirrorWithFirstSeqError();
    if (req.subjects.length > 0) return newJSMirrorWithSubjectsError();
    if (sources.length > 0) return newJSMirrorWithSourcesError();
    const trErr = sourceTransformsError(mirror, true);
    if (trErr !== undefined) return trErr;
    // Names stored before 2.10's check are left alone when recovering.
    if (mirror.external === undefined && !lookup.recovering && !isValidName(mirror.name)) {
      return newJSMirrorInvalidStreamNameError();
    }
    const origin = lookup.stream(mirror.name);
    if (origin !== undefined) {
      streamSubs.push(...origin.subjects);
      if (maxMsgSize > 0 && origin.max_msg_size > 0 && maxMsgSize < origin.max_msg_size) {
        return newJSMirrorMaxMessageSizeTooBigError();
      }
      // A mirror answers direct gets for its origin when the origin allows them.
      mirrorDirect = origin.allow_direct;
    }
    if (mirror.external !== undefined) {
      if (mirror.external.deliver !== '') deliveryPrefixes.push(mirror.external.deliver);
      if (mirror.external.api !== '') apiPrefixes.push(mirror.external.api);
    }
  }
  const indexNames = new Set<string>();
  for (const src of sources) {
    if (!lookup.recovering) {
      if (!isValidName(src.name)) return newJSSourceInvalidStreamNameError();
      const iname = sourceIndexName(src);
      if (indexNames.has(iname)) return newJSSourceDuplicateDetectedError();
      indexNames.add(iname);
    }
    const origin = lookup.stream(src.name);
    if (origin !== undefined) {
      streamSubs.push(...origin.subjects);
      if (maxMsgSize > 0 && origin.max_msg_size > 0 && maxMsgSize < origin.max_msg_size) {
        return newJSSourceMaxMessageSizeTooBigError();
      }
    }
    if (src.external === undefined) {
      // nats-server 2.10 checks the transforms of a source of this account or domain only.
      const trErr = sourceTransformsError(src, false);
      if (trErr !== undefined) return trErr;
      continue;
    }
    if (src.external.deliver !== '') deliveryPrefixes.push(src.external.deliver);
    if (src.external.api !== '') apiPrefixes.push(src.external.api);
  }
  for (const pfx of deliveryPrefixes) {
    if (!isValidPublishSubject(pfx)) return newJSStreamInvalidExternalDeliverySubjError(pfx);
    for (const sub of streamSubs) {
      if (subjectsCollide(sub, `${pfx}.${sub}`)) return newJSStreamExternalDelPrefixOverlapsError(pfx, sub);
    }
  }
  for (const pfx of apiPrefixes) {
    if (!isValidPublishSubject(pfx)) {
      return invalid(
        `stream external api prefix ${JSON.stringify(pfx)} must be a valid subject without wildcards`,
      );
    }
    if (subjectsCollide(pfx, JS_API_PREFIX)) return newJSStreamExternalApiOverlapError(pfx, JS_API_PREFIX);
  }
  // Cycles through sources and mirrors of this account. As in nats-server 2.10, a source back to a stream
  // already on the path is a cycle only when its filter takes some of the subjects of the stream that
  // sources it (no filter takes everything).
  {
    type Visit = { name: string; subjects: readonly string[]; sources: readonly StreamSource[] };
    const toVisit: (Visit & { mirror: StreamSource | undefined })[] = [
      { name: req.name, subjects: req.subjects, sources, mirror },
    ];
    const visit = (o: StreamConfig) =>
      toVisit.push({ name: o.name, subjects: o.subjects, sources: o.sources ?? [], mirror: o.mirror });
    const takes = (c: Visit, filter: string | undefined): boolean =>
      (filter ?? '') === '' || c.subjects.some((s) => subjectsCollide(s, filter!));
    const visited = new Set<string>();
    while (toVisit.length > 0) {
      const c = toVisit.shift()!;
      visited.add(c.name);
      for (const src of c.sources) {
        if (src.external !== undefined) continue;
        if (visited.has(src.name)) {
          if (takes(c, src.filter_subject)) return invalid('detected cycle');
          continue;
        }
        const o = lookup.stream(src.name);
        if (o !== undefined) visit(o);
      }
      const m = c.mirror;
      if (m !== undefined && m.external === undefined) {
        if (visited.has(m.name)) return invalid('detected cycle');
        const o = lookup.stream(m.name);
        if (o !== undefined) visit(o);
      }
    }
  }

  let subjects = req.subjects;
  if (subjects.length === 0) {
    subjects = mirror === undefined && sources.length === 0 ? [req.name] : [];
  } else {
    const seen = new Set<string>();
    for (const subj of subjects) {
      if (seen.has(subj)) return invalid('duplicate subjects detected');
      if (subjectIsSubsetMatch(subj, '$JS.API.>')) return invalid('subjects overlap with jetstream api');
      if (!isValidSubject(subj)) return invalid('invalid subject');
      seen.add(subj);
    }
  }
  if (subjects.length > 1) {
    for (const subj of subjects) {
      for (const tsubj of subjects) {
        if (tsubj !== subj && subjectsCollide(tsubj, subj)) {
          return invalid(`subject ${JSON.stringify(subj)} overlaps with ${JSON.stringify(tsubj)}`);
        }
      }
    }
  }
  let republish: RePublish | undefined;
  if (req.republish !== undefined) {
    const rp = req.republish;
    const src = rp.src !== undefined && rp.src !== '' ? rp.src : '>';
    if (!subjects.some((s) => subjectsCollide(src, s))) {
      return invalid('stream configuration for republish source is not valid subset of subjects');
    }
    if (subjects.some((s) => subjectsCollide(rp.dest, s))) {
      return invalid('stream configuration for republish destination forms a cycle');
    }
    if (SubjectTransform.create(src, rp.dest) === undefined) {
      return invalid('stream configuration for republish not valid');
    }
    republish = { src, dest: rp.dest, ...(rp.headers_only ? { headers_only: true } : {}) };
  }
  const cfg: StreamConfig = {
    name: req.name,
    ...(req.description !== '' ? { description: req.description } : {}),
    subjects: [...subjects],
    retention: req.retention,
    max_consumers: req.max_consumers === 0 ? -1 : req.max_consumers,
    max_msgs: req.max_msgs === 0 ? -1 : req.max_msgs,
    max_bytes: req.max_bytes === 0 ? -1 : req.max_bytes,
    max_age: req.max_age,
    max_msgs_per_subject: maxPer,
    max_msg_size: maxMsgSize,
    discard: req.discard,
    storage: req.storage === 'memory' ? 'memory' : 'file',
    num_replicas: replicas,
    ...(req.no_ack ? { no_ack: true } : {}),
    ...(req.template_owner !== '' ? { template_owner: req.template_owner } : {}),
    duplicate_window: dupes,
    ...(req.placement !== undefined ? { placement: req.placement } : {}),
    ...(mirror !== undefined ? { mirror } : {}),
    ...(sources.length > 0 ? { sources } : {}),
    ...(req.compression === 's2' ? { compression: 's2' as const } : {}),
    ...(req.first_seq > 0 ? { first_seq: req.first_seq } : {}),
    ...(req.subject_transform !== undefined ? { subject_transform: { ...req.subject_transform } } : {}),
    ...(republish !== undefined ? { republish } : {}),
    allow_direct: req.allow_direct,
    mirror_direct: mirrorDirect,
    ...(req.discard_new_per_subject ? { discard_new_per_subject: true } : {}),
    sealed: req.sealed,
    deny_delete: req.deny_delete,
    deny_purge: req.deny_purge,
    allow_rollup_hdrs: req.allow_rollup_hdrs,
    ...(req.consumer_limits !== undefined ? { consumer_limits: { ...req.consumer_limits } } : {}),
    ...(req.metadata !== undefined && Object.keys(req.metadata).length > 0 ? { metadata: req.metadata } : {}),
  };
  return cfg;
}

/**
 * nats-server 2.10's checks of a mirror's or a source's `subject_transforms`: not with `filter_subject`
 * (10150 / 10144); for a source, each destination a valid mapping destination (10146); each filter a valid
 * subject (10151 / 10145) that does not overlap another one (10152 / 10147: a mirror's may not collide, a
 * source's may not be a subset of another, as nats-server tests them).
 */
function sourceTransformsError(s: StreamSource, mirror: boolean): ApiError | undefined {
  const trs = s.subject_transforms ?? [];
  if (trs.length > 0 && (s.filter_subject ?? '') !== '') {
    return mirror ? newJSMirrorMultipleFiltersNotAllowedError() : newJSSourceMultipleFiltersNotAllowedError();
  }
  if (!mirror) {
    for (const t of trs) {
      if (t.dest !== '' && destinationProblem(t.dest) !== undefined) {
        return newJSSourceInvalidTransformDestinationError();
      }
    }
  }
  for (let i = 0; i < trs.length; i++) {
    const src = trs[i]!.src;
    if (!isValidSubject(src)) {
      return mirror ? newJSMirrorInvalidSubjectFilterError() : newJSSourceInvalidSubjectFilterError();
    }
    for (let j = 0; j < trs.length; j++) {
      if (i === j) continue;
      const other = trs[j]!.src;
      if (mirror ? subjectsCollide(src, other) : subjectIsSubsetMatch(src, other)) {
        return mirror
          ? newJSMirrorOverlappingSubjectFiltersError()
          : newJSSourceOverlappingSubjectFiltersError();
      }
    }
  }
  return undefined;
}

/** Replication needs clustered JetStream, which tsnats does not have (nats-server's 10074). */
export function checkReplicas(cfg: StreamConfig): ApiError | undefined {
  return cfg.num_replicas > 1 ? newJSStreamReplicasNotSupportedError() : undefined;
}

/**
 * nats-server's configUpdateCheck: what an update may not change. `next` is already normalised.
 * Returns the config to apply (sealing turns on its implied settings) or the error.
 */
export function checkStreamUpdate(old: StreamConfig, next: StreamConfig): StreamConfig | ApiError {
  if (next.name !== old.name) return invalid('stream configuration name must match original');
  if (next.max_consumers !== old.max_consumers) {
    return invalid('stream configuration update can not change MaxConsumers');
  }
  if (next.storage !== old.storage) return invalid('stream configuration update can not change storage type');
  if (next.retention !== old.retention) {
    return invalid('stream configuration update can not change retention policy');
  }
  if ((old.template_owner ?? '') !== '') {
    return invalid('stream configuration update not allowed on template owned stream');
  }
  if ((next.template_owner ?? '') !== '') {
    return invalid('stream configuration update can not be owned by a template');
  }
  if (!next.sealed && old.sealed)
    return invalid('stream configuration update can not unseal a sealed stream');
  if (!next.deny_delete && old.deny_delete) {
    return invalid('stream configuration update can not cancel deny message deletes');
  }
  if (!next.deny_purge && old.deny_purge)
    return invalid('stream configuration update can not cancel deny purge');
  if (goJson(next.mirror ?? null) !== goJson(old.mirror ?? null)) return newJSStreamMirrorNotUpdatableError();
  if (goJson(next.republish ?? null) !== goJson(old.republish ?? null)) {
    return invalid('stream configuration update can not change RePublish');
  }
  const cfg = { ...next };
  if (cfg.sealed) {
    cfg.max_age = 0;
    cfg.discard = 'new';
    cfg.deny_delete = true;
    cfg.deny_purge = true;
    cfg.allow_rollup_hdrs = false;
  }
  return cfg;
}

/** Whether a value is an ApiError (the validators return either a config or an error). */
export function isApiError(v: unknown): v is ApiError {
  return typeof v === 'object' && v !== null && 'err_code' in v && 'description' in v;
}

/**
 * The config as nats-server 2.9 marshals it, with 2.10's fields: Go's field order, omitempty fields left
 * out when empty.
 * (Key order matters to nobody's parser, but keeps responses byte-comparable with the reference.)
 */
export function encodeStreamConfig(c: StreamConfig): Record<string, unknown> {
  const o: Record<string, unknown> = { name: c.name };
  if (c.description !== undefined && c.description !== '') o.description = c.description;
  if (c.subjects.length > 0) o.subjects = c.subjects;
  o.retention = c.retention;
  o.max_consumers = c.max_consumers;
  o.max_msgs = c.max_msgs;
  o.max_bytes = c.max_bytes;
  o.max_age = c.max_age;
  o.max_msgs_per_subject = c.max_msgs_per_subject;
  if (c.max_msg_size !== 0) o.max_msg_size = c.max_msg_size;
  o.discard = c.discard;
  o.storage = c.storage;
  o.num_replicas = c.num_replicas;
  if (c.no_ack) o.no_ack = true;
  if (c.template_owner !== undefined && c.template_owner !== '') o.template_owner = c.template_owner;
  if (c.duplicate_window !== 0) o.duplicate_window = c.duplicate_window;
  if (c.placement !== undefined) o.placement = c.placement;
  if (c.mirror !== undefined) o.mirror = encodeSource(c.mirror);
  if (c.sources !== undefined && c.sources.length > 0) o.sources = c.sources.map(encodeSource);
  // 2.10 always writes `compression` (StoreCompression has no omitempty). It also always writes
  // `consumer_limits` ({} when empty), which tsnats leaves out when empty (see below).
  o.compression = c.compression ?? 'none';
  if (c.first_seq !== undefined && c.first_seq > 0) o.first_seq = c.first_seq;
  if (c.subject_transform !== undefined) {
    o.subject_transform = { src: c.subject_transform.src, dest: c.subject_transform.dest };
  }
  if (c.republish !== undefined) {
    const r: Record<string, unknown> = {};
    if (c.republish.src !== undefined && c.republish.src !== '') r.src = c.republish.src;
    r.dest = c.republish.dest;
    if (c.republish.headers_only) r.headers_only = true;
    o.republish = r;
  }
  o.allow_direct = c.allow_direct;
  o.mirror_direct = c.mirror_direct;
  if (c.discard_new_per_subject) o.discard_new_per_subject = true;
  o.sealed = c.sealed;
  o.deny_delete = c.deny_delete;
  o.deny_purge = c.deny_purge;
  o.allow_rollup_hdrs = c.allow_rollup_hdrs;
  if (c.consumer_limits !== undefined) {
    const l: Record<string, unknown> = {};
    if ((c.consumer_limits.inactive_threshold ?? 0) !== 0)
      l.inactive_threshold = c.consumer_limits.inactive_threshold;
    if ((c.consumer_limits.max_ack_pending ?? 0) !== 0) l.max_ack_pending = c.consumer_limits.max_ack_pending;
    o.consumer_limits = l;
  }
  if (c.metadata !== undefined && Object.keys(c.metadata).length > 0) o.metadata = c.metadata;
  return o;
}

/** A StreamSource in Go's field order with its omitempty rules. */
export function encodeSource(s: StreamSource): Record<string, unknown> {
  const o: Record<string, unknown> = { name: s.name };
  if (s.opt_start_seq !== undefined && s.opt_start_seq > 0) o.opt_start_seq = s.opt_start_seq;
  if (s.opt_start_time !== undefined) o.opt_start_time = s.opt_start_time;
  if (s.filter_subject !== undefined && s.filter_subject !== '') o.filter_subject = s.filter_subject;
  if (s.subject_transforms !== undefined && s.subject_transforms.length > 0) {
    o.subject_transforms = s.subject_transforms.map((t) => ({ src: t.src, dest: t.dest }));
  }
  if (s.external !== undefined) o.external = { api: s.external.api, deliver: s.external.deliver };
  return o;
}

/** Two normalised configs are the same (nats-server compares with reflect.DeepEqual). */
export function sameConfig(a: StreamConfig, b: StreamConfig): boolean {
  return goJson(encodeStreamConfig(a)) === goJson(encodeStreamConfig(b));
}

/** Read a config back from the stored meta file (trusted input written by encodeStreamConfig). */
export function configFromStored(o: JsonObject, lookup?: StreamLookup): StreamConfig {
  const req = decodeStreamConfig(o);
  // nats-server's fixCfgMirrorWithDedupWindow: a mirror has no duplicate window.
  if (req.mirror !== undefined) req.duplicate_window = 0;
  const cfg = checkStreamConfig(req, { stream: (n) => lookup?.stream(n), recovering: true });
  if (isApiError(cfg)) throw new Error(cfg.description);
  // Keep sealed-implied settings and other normalised values exactly as stored.
  return cfg;
}
