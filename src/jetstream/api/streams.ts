/**
 * Account info and stream API handlers (nats-server jetstream_api.go, single server): INFO,
 * STREAM.CREATE / UPDATE / INFO / DELETE / PURGE / NAMES / LIST and STREAM.MSG.GET / DELETE.
 * Each one checks what nats-server checks, in the same order, and answers with the same shape.
 */

import { tokenAt } from '../../routing/subject.js';
import { sendStreamAction } from '../advisories.js';
import {
  checkReplicas,
  checkStreamConfig,
  checkStreamUpdate,
  consumerLimitsUpdateError,
  decodeStreamConfig,
  isApiError,
  JS_MAX_NAME_LEN,
  subjectTransformApiError,
} from '../config.js';
import { Consumer } from '../consumer/consumer.js';
import type { PurgeRequest, Stream } from '../stream.js';
import { decodeMsgGetRequest } from '../stream.js';
import { rfc3339Nano } from '../time.js';
import { accountInfoBody } from './account-info.js';
import type { ApiRequest, ApiRouter } from './dispatch.js';
import {
  type ApiError,
  newJSBadRequestError,
  newJSClusterRequiredError,
  newJSInvalidJSONError,
  newJSNoMessageFoundError,
  newJSNotEmptyRequestError,
  newJSSequenceNotFoundError,
  newJSStreamGeneralError,
  newJSStreamInvalidConfigError,
  newJSStreamMismatchError,
  newJSStreamMsgDeleteFailedError,
  newJSStreamNameContainsPathSeparatorsError,
  newJSStreamNotFoundError,
  newJSStreamPurgeFailedError,
  newJSStreamSealedError,
  newJSStreamSubjectOverlapError,
  newJSStreamTemplateCreateError,
  newJSStreamTemplateNotFoundError,
  newJSTemplateNameNotMatchSubjectError,
} from './errors.generated.js';
import { decodeRequest, InvalidJsonError, isEmptyRequest, type JsonObject } from './json.js';
import {
  JS_API_LIST_LIMIT,
  JS_API_NAMES_LIMIT,
  JS_MAX_SUBJECT_DETAILS,
  ResponseType,
  type StoredMsgJson,
  type StreamStateJson,
} from './types.js';

/** Decode a body, or undefined after answering "invalid JSON" with `base` (the response's other fields). */
function decodeOr(router: ApiRouter, req: ApiRequest, base: object): JsonObject | undefined {
  try {
    return decodeRequest(req.body);
  } catch (e) {
    if (!(e instanceof InvalidJsonError)) throw e;
    router.respondError(req, withError(base, newJSInvalidJSONError()));
    return undefined;
  }
}

/** `base` with `error` inserted right after `type`, where Go puts it. */
function withError(base: object, error: ApiError): object {
  const { type, ...rest } = base as { type: string };
  return { type, error, ...rest };
}

function sortByName(streams: Stream[]): Stream[] {
  return streams.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function registerStreamApi(router: ApiRouter): void {
  const err = (req: ApiRequest, base: object, e: ApiError): void =>
    router.respondError(req, withError(base, e));

  // $JS.API.INFO: account usage and limits (account-info.ts; -1 = unlimited).
  router.register('$JS.API.INFO', (req) => {
    const streams = [...req.jsa.streams.values()].map((s) => ({
      config: s.config,
      consumers: s.consumerCount,
    }));
    router.respond(req, accountInfoBody(req.jsa, streams, router.js.domain));
  });

  router.register('$JS.API.STREAM.CREATE.*', (req) => {
    const base = { type: ResponseType.StreamCreate };
    const o = decodeOr(router, req, base);
    if (o === undefined) return;
    let creq: ReturnType<typeof decodeStreamConfig>;
    try {
      creq = decodeStreamConfig(o);
    } catch (e) {
      if (!(e instanceof InvalidJsonError)) throw e;
      return err(req, base, newJSInvalidJSONError());
    }
    const name = tokenAt(req.subject, 5);
    if (name !== creq.name) return err(req, base, newJSStreamMismatchError());
    if (/[\\/]/.test(name)) return err(req, base, newJSStreamNameContainsPathSeparatorsError());
    if (creq.sealed) {
      return err(
        req,
        base,
        newJSStreamInvalidConfigError('stream configuration for create can not be sealed'),
      );
    }
    if (creq.mirror_direct && creq.mirror === undefined) {
      return err(
        req,
        base,
        newJSStreamInvalidConfigError('stream has no mirror but does have mirror direct'),
      );
    }
    const cfg = checkStreamConfig(creq, req.jsa.streamLookup());
    if (isApiError(cfg)) return err(req, base, cfg);
    const repl = checkReplicas(cfg);
    if (repl !== undefined) return err(req, base, repl);
    const overLimits = req.jsa.checkNewStream(cfg);
    if (overLimits !== undefined) return err(req, base, overLimits);
    const existed = req.jsa.lookupStream(cfg.name) !== undefined;
    const stream = req.jsa.addStream(cfg);
    if (isApiError(stream)) return err(req, base, stream);
    if (!existed) sendStreamAction(router.js, req.jsa.account, cfg.name, 'create');
    // nats-server's create response has no mirror or sources info.
    const { mirror: _m, sources: _s, ...info } = stream.info();
    router.respond(req, { ...base, ...info, did_create: true });
  });

  router.register('$JS.API.STREAM.UPDATE.*', (req) => {
    const base = { type: ResponseType.StreamUpdate };
    const o = decodeOr(router, req, base);
    if (o === undefined) return;
    let ureq: ReturnType<typeof decodeStreamConfig>;
    try {
      ureq = decodeStreamConfig(o);
    } catch (e) {
      if (!(e instanceof InvalidJsonError)) throw e;
      return err(req, base, newJSInvalidJSONError());
    }
    const checked = checkStreamConfig(ureq, req.jsa.streamLookup());
    if (isApiError(checked)) return err(req, base, checked);
    const name = tokenAt(req.subject, 5);
    if (name !== checked.name) return err(req, base, newJSStreamMismatchError());
    const stream = req.jsa.lookupStream(name);
    if (stream === undefined) return err(req, base, newJSStreamNotFoundError());
    const repl = checkReplicas(checked);
    if (repl !== undefined) return err(req, base, repl);
    const cfg = checkStreamUpdate(stream.config, checked);
    if (isApiError(cfg)) return err(req, base, cfg);
    const old = stream.config;
    const overLimits = req.jsa.checkStreamUpdate(old, cfg);
    if (overLimits !== undefined) return err(req, base, overLimits);
    if (cfg.max_bytes !== old.max_bytes || cfg.storage !== old.storage) {
      const limitErr = router.js.checkLimits(cfg, old.max_bytes > 0 ? old.max_bytes : 1);
      if (limitErr !== undefined) return err(req, base, limitErr);
    }
    const limitsErr = consumerLimitsUpdateError(
      old,
      cfg,
      [...stream.consumers.values()].flatMap((c) =>
        c instanceof Consumer ? [[c.name, c.cfg] as const] : [],
      ),
    );
    if (limitsErr !== undefined) return err(req, base, limitsErr);
    if (req.jsa.subjectsOverlap(cfg.subjects, stream))
      return err(req, base, newJSStreamSubjectOverlapError());
    const trErr = subjectTransformApiError(cfg, true);
    if (trErr !== undefined) return err(req, base, trErr);
    req.jsa.updateReservation(old, cfg);
    stream.update(cfg);
    sendStreamAction(router.js, req.jsa.account, stream.name, 'modify');
    router.respond(req, { ...base, ...stream.info() });
  });

  const namesOrList = (list: boolean) => (req: ApiRequest) => {
    const type = list ? ResponseType.StreamList : ResponseType.StreamNames;
    let offset = 0;
    let filter = '';
    if (!isEmptyRequest(req.body)) {
      const o = decodeOr(router, req, { type, total: 0, offset: 0, limit: 0, streams: list ? [] : null });
      if (o === undefined) return;
      try {
        offset = Math.max(0, o.int('offset') ?? 0);
        filter = o.string('subject') ?? '';
      } catch (e) {
        if (!(e instanceof InvalidJsonError)) throw e;
        return err(
          req,
          { type, total: 0, offset: 0, limit: 0, streams: list ? [] : null },
          newJSInvalidJSONError(),
        );
      }
    }
    const streams = sortByName(req.jsa.filteredStreams(filter));
    const total = streams.length;
    offset = Math.min(offset, total);
    const limit = list ? JS_API_LIST_LIMIT : JS_API_NAMES_LIMIT;
    const page = streams.slice(offset, offset + limit);
    if (list) {
      router.respond(req, { type, total, offset, limit, streams: page.map((s) => s.info()) });
    } else {
      router.respond(req, {
        type,
        total,
        offset,
        limit,
        streams: page.length > 0 ? page.map((s) => s.name) : null,
      });
    }
  };
  router.register('$JS.API.STREAM.NAMES', namesOrList(false));
  router.register('$JS.API.STREAM.LIST', namesOrList(true));

  router.register('$JS.API.STREAM.INFO.*', (req) => {
    const base = { type: ResponseType.StreamInfo, total: 0, offset: 0, limit: 0 };
    let details = false;
    let subjectsFilter = '';
    let offset = 0;
    if (!isEmptyRequest(req.body)) {
      const o = decodeOr(router, req, base);
      if (o === undefined) return;
      try {
        details = o.bool('deleted_details') ?? false;
        subjectsFilter = o.string('subjects_filter') ?? '';
        offset = Math.max(0, o.int('offset') ?? 0);
      } catch (e) {
        if (!(e instanceof InvalidJsonError)) throw e;
        return err(req, base, newJSInvalidJSONError());
      }
    }
    const stream = req.jsa.lookupStream(tokenAt(req.subject, 5));
    if (stream === undefined) return err(req, base, newJSStreamNotFoundError());
    const info = stream.info(details);
    const paged = { ...base };
    if (subjectsFilter !== '') {
      const mss = stream.store.subjectsState(subjectsFilter);
      if (mss.size > 0) {
        const keys = [...mss.keys()].sort();
        offset = Math.min(offset, keys.length);
        const end = Math.min(offset + JS_MAX_SUBJECT_DETAILS, keys.length);
        if (end > offset) {
          const sd: Record<string, number> = {};
          for (const k of keys.slice(offset, end)) sd[k] = mss.get(k)!.msgs;
          info.state = withSubjects(info.state, sd);
        }
        paged.offset = offset;
        paged.limit = JS_MAX_SUBJECT_DETAILS;
        paged.total = mss.size;
      }
    }
    router.respond(req, { ...paged, ...info });
  });

  router.register('$JS.API.STREAM.DELETE.*', (req) => {
    const base = { type: ResponseType.StreamDelete };
    if (!isEmptyRequest(req.body)) return err(req, base, newJSNotEmptyRequestError());
    const stream = req.jsa.lookupStream(tokenAt(req.subject, 5));
    if (stream === undefined) return err(req, base, newJSStreamNotFoundError());
    req.jsa.deleteStream(stream);
    sendStreamAction(router.js, req.jsa.account, stream.name, 'delete');
    router.respond(req, { ...base, success: true });
  });

  router.register('$JS.API.STREAM.PURGE.*', (req) => {
    const base = { type: ResponseType.StreamPurge, purged: 0 };
    let preq: PurgeRequest | undefined;
    if (!isEmptyRequest(req.body)) {
      const o = decodeOr(router, req, base);
      if (o === undefined) return;
      try {
        preq = { seq: o.uint('seq') ?? 0, filter: o.string('filter') ?? '', keep: o.uint('keep') ?? 0 };
      } catch (e) {
        if (!(e instanceof InvalidJsonError)) throw e;
        return err(req, base, newJSInvalidJSONError());
      }
      if (preq.seq! > 0 && preq.keep! > 0) return err(req, base, newJSBadRequestError());
    }
    const stream = req.jsa.lookupStream(tokenAt(req.subject, 5));
    if (stream === undefined) return err(req, base, newJSStreamNotFoundError());
    if (stream.config.sealed) return err(req, base, newJSStreamSealedError());
    if (stream.config.deny_purge)
      return err(req, base, newJSStreamPurgeFailedError('stream purge not permitted'));
    let purged: number;
    try {
      purged = stream.purge(preq);
    } catch (e) {
      // nats-server answers a failed purge through the normal (non-error) path.
      router.respond(req, withError(base, newJSStreamGeneralError((e as Error).message)));
      return;
    }
    router.respond(req, { type: base.type, success: true, purged });
  });

  router.register('$JS.API.STREAM.MSG.DELETE.*', (req) => {
    const base = { type: ResponseType.MsgDelete };
    if (isEmptyRequest(req.body)) return err(req, base, newJSBadRequestError());
    const o = decodeOr(router, req, base);
    if (o === undefined) return;
    let seq: number;
    let noErase: boolean;
    try {
      seq = o.uint('seq') ?? 0;
      noErase = o.bool('no_erase') ?? false;
    } catch (e) {
      if (!(e instanceof InvalidJsonError)) throw e;
      return err(req, base, newJSInvalidJSONError());
    }
    const stream = req.jsa.lookupStream(tokenAt(req.subject, 6));
    if (stream === undefined) return err(req, base, newJSStreamNotFoundError());
    if (stream.config.sealed) return err(req, base, newJSStreamSealedError());
    if (stream.config.deny_delete) {
      return err(req, base, newJSStreamMsgDeleteFailedError('message delete not permitted'));
    }
    let removed: boolean;
    try {
      removed = stream.removeMsg(seq, !noErase);
    } catch (e) {
      router.respond(req, withError(base, newJSStreamMsgDeleteFailedError((e as Error).message)));
      return;
    }
    // nats-server answers these through the normal (non-error) path. Its two stores word a missing
    // message differently: the file store fails the removal, the memory store reports it not found.
    if (removed) router.respond(req, { ...base, success: true });
    else if (stream.config.storage === 'file') {
      const why = seq > stream.state().lastSeq ? 'stream store EOF' : 'no message found';
      router.respond(req, withError(base, newJSStreamMsgDeleteFailedError(why)));
    } else router.respond(req, withError(base, newJSSequenceNotFoundError(seq)));
  });

  router.register('$JS.API.STREAM.MSG.GET.*', (req) => {
    const base = { type: ResponseType.MsgGet };
    if (isEmptyRequest(req.body)) return err(req, base, newJSBadRequestError());
    const o = decodeOr(router, req, base);
    if (o === undefined) return;
    let g: ReturnType<typeof decodeMsgGetRequest>;
    try {
      g = decodeMsgGetRequest(o);
    } catch (e) {
      if (!(e instanceof InvalidJsonError)) throw e;
      return err(req, base, newJSInvalidJSONError());
    }
    if (
      (g.seq > 0 && g.last_by_subj !== '') ||
      (g.seq === 0 && g.last_by_subj === '' && g.next_by_subj === '')
    ) {
      return err(req, base, newJSBadRequestError());
    }
    if (g.last_by_subj !== '' && g.next_by_subj !== '') return err(req, base, newJSBadRequestError());
    const stream = req.jsa.lookupStream(tokenAt(req.subject, 6));
    if (stream === undefined) return err(req, base, newJSStreamNotFoundError());
    const m = stream.lookupMsg(g);
    if (m === undefined) return err(req, base, newJSNoMessageFoundError());
    const message = { subject: m.subject, seq: m.seq } as StoredMsgJson;
    if (m.hdr.length > 0) message.hdrs = m.hdr.toString('base64');
    if (m.data.length > 0) message.data = m.data.toString('base64');
    message.time = rfc3339Nano(m.ts);
    // Not counted as an API request, as in nats-server.
    router.send(req, { ...base, message });
  });
}

/**
 * Stream API calls tsnats does not implement, answered rather than left to time out: leader stepdown and
 * peer removal need clustered JetStream (nats-server answers 10010 without it too); stream templates are
 * refused with nats-server's error codes for them. (Snapshots and restores: snapshot.ts.)
 */
export function registerUnsupportedApi(router: ApiRouter): void {
  const err = (req: ApiRequest, type: string, e: ApiError): void =>
    router.respondError(req, { type, error: e });
  const prefix = 'io.nats.jetstream.api.v1.';
  router.register('$JS.API.STREAM.LEADER.STEPDOWN.*', (req) =>
    err(req, `${prefix}stream_leader_stepdown_response`, newJSClusterRequiredError()),
  );
  router.register('$JS.API.STREAM.PEER.REMOVE.*', (req) =>
    err(req, `${prefix}stream_remove_peer_response`, newJSClusterRequiredError()),
  );
  // Templates: requests are checked as nats-server checks them (its JSON, its name and config checks)
  // and then refused, as tsnats keeps no templates.
  router.register('$JS.API.STREAM.TEMPLATE.NAMES', (req) => {
    const type = `${prefix}stream_template_names_response`;
    let offset = 0;
    if (!isEmptyRequest(req.body)) {
      try {
        offset = decodeRequest(req.body).int('offset') ?? 0;
      } catch (e) {
        if (!(e instanceof InvalidJsonError)) throw e;
        return err(req, type, newJSInvalidJSONError());
      }
    }
    router.respond(req, {
      type,
      total: 0,
      offset: Math.min(offset, 0),
      limit: JS_API_NAMES_LIMIT,
      streams: [],
    });
  });
  router.register('$JS.API.STREAM.TEMPLATE.CREATE.*', (req) => {
    const type = `${prefix}stream_template_create_response`;
    let name: string;
    let config: ReturnType<typeof decodeStreamConfig> | undefined;
    try {
      const o = decodeRequest(req.body);
      name = o.string('name') ?? '';
      const c = o.object('config');
      config = c === undefined ? undefined : decodeStreamConfig(c);
      o.int('max_streams', 32, true);
    } catch (e) {
      if (!(e instanceof InvalidJsonError)) throw e;
      return err(req, type, newJSInvalidJSONError());
    }
    if (tokenAt(req.subject, 6) !== name) return err(req, type, newJSTemplateNameNotMatchSubjectError());
    if (config !== undefined && config.name !== '') {
      return err(req, type, newJSStreamTemplateCreateError('template config name should be empty'));
    }
    if (Buffer.byteLength(name) > JS_MAX_NAME_LEN) {
      return err(
        req,
        type,
        newJSStreamTemplateCreateError(`template name is too long, maximum allowed is ${JS_MAX_NAME_LEN}`),
      );
    }
    if (config !== undefined) {
      const checked = checkStreamConfig({ ...config, name: '_' }, req.jsa.streamLookup());
      if (isApiError(checked)) return err(req, type, checked);
    }
    err(req, type, newJSStreamTemplateCreateError('stream templates are not supported by tsnats'));
  });
  router.register('$JS.API.STREAM.TEMPLATE.INFO.*', (req) => {
    const type = `${prefix}stream_template_info_response`;
    if (!isEmptyRequest(req.body)) return err(req, type, newJSNotEmptyRequestError());
    err(req, type, newJSStreamTemplateNotFoundError());
  });
  router.register('$JS.API.STREAM.TEMPLATE.DELETE.*', (req) => {
    const type = `${prefix}stream_template_delete_response`;
    if (!isEmptyRequest(req.body)) return err(req, type, newJSNotEmptyRequestError());
    err(req, type, newJSStreamTemplateNotFoundError());
  });
}

/** A state with `subjects` placed where Go's StreamState has it (after num_subjects). */
function withSubjects(st: StreamStateJson, subjects: Record<string, number>): StreamStateJson {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(st)) {
    if (k === 'num_deleted' || k === 'deleted' || k === 'consumer_count') {
      if (!('subjects' in out)) out.subjects = subjects;
    }
    out[k] = v;
  }
  return out as unknown as StreamStateJson;
}
