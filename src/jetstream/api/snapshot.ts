/**
 * `$JS.API.STREAM.SNAPSHOT.<stream>` and `$JS.API.STREAM.RESTORE.<stream>` (nats-server's
 * jsStreamSnapshotRequest and jsStreamRestoreRequest, single server): the checks in nats-server's order
 * and its answers; the work is in ../snapshot/.
 *
 * SNAPSHOT {deliver_subject, no_consumers?, chunk_size?, jsck?}: empty body 10003, unknown stream 10059,
 * bad JSON 10025, invalid deliver subject 10015; then {type, config, state} and the archive on the
 * deliver subject. One snapshot of a stream at a time, as nats-server's file store allows ("snapshot
 * failed: snapshot in progress", 10064).
 *
 * RESTORE {config, state}: empty body 10003, bad JSON 10025, config checks as on create (the name
 * defaults to the subject's), account limits, a stream with the subject's name exists 10130; then
 * {type, deliver_subject} and the upload (../snapshot/restore.ts).
 */

import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isValidSubject, tokenAt } from '../../routing/subject.js';
import { textToWire } from '../../routing/subject-text.js';
import { nuid } from '../../util/nuid.js';
import { requesterInfo, sendSnapshotAdvisory } from '../advisories.js';
import { checkReplicas, checkStreamConfig, decodeStreamConfig, isApiError } from '../config.js';
import { captureStream } from '../snapshot/capture.js';
import { RestoreSession } from '../snapshot/restore.js';
import { DEFAULT_SNAPSHOT_CHUNK_SIZE, sendSnapshot } from '../snapshot/sender.js';
import { nowNanos } from '../store/store.js';
import { rfc3339Nano } from '../time.js';
import type { ApiRequest, ApiRouter } from './dispatch.js';
import {
  type ApiError,
  newJSBadRequestError,
  newJSInvalidJSONError,
  newJSSnapshotDeliverSubjectInvalidError,
  newJSStreamNameContainsPathSeparatorsError,
  newJSStreamNameExistRestoreFailedError,
  newJSStreamNotFoundError,
  newJSStreamSnapshotError,
} from './errors.generated.js';
import { decodeRequest, InvalidJsonError, isEmptyRequest, type JsonObject } from './json.js';
import { ResponseType } from './types.js';

/** nats-server's snapStagingDir, under the JetStream store directory (cleared when JetStream starts). */
export const SNAP_STAGING_DIR = '.snap-staging';

/**
 * Largest chunk_size honoured. nats-server 2.9 takes any positive value (and panics on a negative one);
 * bounded here so one request cannot make the server allocate an arbitrary buffer per chunk.
 */
const MAX_CHUNK_SIZE = 8 * 1024 * 1024;

export function registerSnapshotApi(router: ApiRouter): void {
  const js = router.js;
  /** Streams being snapshotted, by account and name. */
  const inProgress = new Set<string>();

  const fail = (req: ApiRequest, type: string, e: ApiError, extra: object = {}): void =>
    router.respondError(req, { type, error: e, ...extra });

  router.register('$JS.API.STREAM.SNAPSHOT.*', (req) => {
    const type = ResponseType.StreamSnapshot;
    if (isEmptyRequest(req.body)) return fail(req, type, newJSBadRequestError());
    const stream = req.jsa.lookupStream(tokenAt(req.subject, 5));
    if (stream === undefined) return fail(req, type, newJSStreamNotFoundError());
    let o: JsonObject;
    let deliver: string;
    let noConsumers: boolean;
    let chunkSize: number;
    try {
      o = decodeRequest(req.body);
      deliver = o.string('deliver_subject') ?? '';
      noConsumers = o.bool('no_consumers') ?? false;
      chunkSize = o.int('chunk_size') ?? 0;
      o.bool('jsck');
    } catch (e) {
      if (!(e instanceof InvalidJsonError)) throw e;
      return fail(req, type, newJSInvalidJSONError());
    }
    if (!isValidSubject(deliver)) return fail(req, type, newJSSnapshotDeliverSubjectInvalidError());
    if (chunkSize <= 0) chunkSize = DEFAULT_SNAPSHOT_CHUNK_SIZE;
    chunkSize = Math.min(chunkSize, MAX_CHUNK_SIZE);

    const key = `${req.jsa.account.name}\u0000${stream.name}`;
    if (inProgress.has(key)) return fail(req, type, newJSStreamSnapshotError('snapshot in progress'));
    const log = js.server.logger;
    log.notice(`Starting snapshot for stream '${req.jsa.account.name} > ${stream.name}'`);
    const dir = join(js.storeDir, SNAP_STAGING_DIR, `snap-${nuid()}`);
    let capture: ReturnType<typeof captureStream>;
    try {
      mkdirSync(dir, { recursive: true });
      capture = captureStream(stream, dir, !noConsumers);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      const why = e instanceof Error ? e.message : String(e);
      log.warn(`Snapshot of stream '${req.jsa.account.name} > ${stream.name}' failed: ${why}`);
      return fail(req, type, newJSStreamSnapshotError(why));
    }
    const info = stream.info();
    router.respond(req, { type, config: info.config, state: info.state });
    const ci = req.ci ?? requesterInfo(js, req.jsa.account, req.producer ?? null);
    const wire = textToWire(stream.name);
    const acc = req.jsa.account;
    sendSnapshotAdvisory(js, acc, 'SNAPSHOT_CREATE', stream.name, wire, { state: info.state }, ci);
    inProgress.add(key);
    const started = Date.now();
    const start = rfc3339Nano(nowNanos());
    void sendSnapshot({
      jsa: req.jsa,
      streamName: stream.name,
      deliver: textToWire(deliver),
      chunkSize,
      capture,
    }).then(({ bytes, error }) => {
      inProgress.delete(key);
      rmSync(dir, { recursive: true, force: true });
      const secs = ((Date.now() - started) / 1000).toFixed(3);
      if (error !== undefined) {
        log.warn(`Snapshot of stream '${req.jsa.account.name} > ${stream.name}' failed: ${error}`);
      } else {
        log.notice(
          `Completed snapshot of ${bytes} bytes for stream '${req.jsa.account.name} > ${stream.name}' in ${secs}s`,
        );
      }
      const end = rfc3339Nano(nowNanos());
      sendSnapshotAdvisory(js, acc, 'SNAPSHOT_COMPLETE', stream.name, wire, { start, end }, ci);
    });
  });

  router.register('$JS.API.STREAM.RESTORE.*', (req) => {
    const type = ResponseType.StreamRestore;
    if (isEmptyRequest(req.body)) return fail(req, type, newJSBadRequestError(), { deliver_subject: '' });
    let creq: ReturnType<typeof decodeStreamConfig>;
    try {
      const o = decodeRequest(req.body);
      creq = decodeStreamConfig(o.object('config') ?? decodeRequest('{}'));
      o.object('state');
    } catch (e) {
      if (!(e instanceof InvalidJsonError)) throw e;
      return fail(req, type, newJSInvalidJSONError(), { deliver_subject: '' });
    }
    const name = tokenAt(req.subject, 5);
    if (creq.name === '') creq.name = name;
    const cfg = checkStreamConfig(creq, req.jsa.streamLookup());
    if (isApiError(cfg)) return fail(req, type, cfg, { deliver_subject: '' });
    // Added: nats-server 2.9 would join such a name into its store path.
    if (/[\\/]/.test(cfg.name)) {
      return fail(req, type, newJSStreamNameContainsPathSeparatorsError(), { deliver_subject: '' });
    }
    // Replicated streams need clustered JetStream; a restore makes an R1 stream or nothing.
    const repl = checkReplicas(cfg);
    if (repl !== undefined) return fail(req, type, repl, { deliver_subject: '' });
    const overLimits = req.jsa.checkNewStream(cfg);
    if (overLimits !== undefined) return fail(req, type, overLimits, { deliver_subject: '' });
    if (req.jsa.lookupStream(name) !== undefined) {
      return fail(req, type, newJSStreamNameExistRestoreFailedError(), { deliver_subject: '' });
    }
    js.server.logger.notice(`Starting restore for stream '${req.jsa.account.name} > ${cfg.name}'`);
    const ci = req.ci ?? requesterInfo(js, req.jsa.account, req.producer ?? null);
    const acc = req.jsa.account;
    const wire = textToWire(cfg.name);
    const start = rfc3339Nano(nowNanos());
    sendSnapshotAdvisory(js, acc, 'RESTORE_CREATE', cfg.name, wire, {}, ci);
    const dir = join(js.storeDir, SNAP_STAGING_DIR, `restore-${nuid()}`);
    const session = new RestoreSession(req.jsa, cfg, dir, (bytes) => {
      const end = rfc3339Nano(nowNanos());
      sendSnapshotAdvisory(js, acc, 'RESTORE_COMPLETE', cfg.name, wire, { start, end, bytes }, ci);
    });
    router.respond(req, { type, deliver_subject: session.deliverSubject });
  });
}
