/**
 * Receiving a stream restore (nats-server's processStreamRestore): after the RESTORE request was
 * accepted, the client sends the archive to `$JS.SNAPSHOT.RESTORE.<stream>.<id>` in messages with a reply
 * subject; each is acknowledged with an empty message, and an empty message ends the upload. The stream
 * is then built from the archive and the answer to that last message is a stream_create_response (stream
 * info, or error 10062 "restore failed: ...").
 *
 * As nats-server: a chunk without a reply subject aborts the restore (nothing can be answered); the
 * bytes received count against the server's storage limit (10023 when they would exceed it); an upload
 * with no chunk for 5 s is abandoned silently (logged, staging files removed). Unlike nats-server, which
 * stages the raw upload in a temporary file and unpacks it at the end, the archive is decompressed
 * (util/s2-stream.ts) and unpacked (util/tar.ts) into the staging directory as it arrives; a damaged
 * archive is still only reported in the final answer, as nats-server does.
 */

import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { textToWire } from '../../routing/subject-text.js';
import type { Subscription } from '../../server/subscription.js';
import { nuid } from '../../util/nuid.js';
import { S2StreamReader } from '../../util/s2-stream.js';
import { TarReader } from '../../util/tar.js';
import type { JsAccount } from '../account.js';
import {
  type ApiError,
  newJSInsufficientResourcesError,
  newJSStreamRestoreError,
} from '../api/errors.generated.js';
import { goJson } from '../api/json.js';
import { ResponseType } from '../api/types.js';
import type { StreamConfig } from '../config.js';
import { isApiError } from '../config.js';

/** nats-server's activityInterval: an upload idle this long is abandoned. */
export const RESTORE_IDLE_MS = 5000;

const EMPTY = Buffer.alloc(0);

export class RestoreSession {
  /** Where the client sends the archive (wire form). */
  readonly deliverSubject: string;
  private readonly sub: Subscription;
  private readonly reader: S2StreamReader;
  private readonly tar: TarReader;
  /** The file being written, -1 between files. */
  private fd = -1;
  private total = 0;
  /** The first thing that went wrong with the archive; reported in the final answer. */
  private failure: string | undefined;
  private idle: NodeJS.Timeout;
  private finished = false;
  private readonly started = Date.now();

  constructor(
    private readonly jsa: JsAccount,
    private readonly cfg: StreamConfig,
    /** A fresh staging directory for the unpacked archive (on the store's filesystem). */
    private readonly dir: string,
    /** The upload ended and was answered (not when abandoned), with the bytes received. */
    private readonly onComplete: (bytes: number) => void,
  ) {
    mkdirSync(dir, { recursive: true });
    this.deliverSubject = `$JS.SNAPSHOT.RESTORE.${textToWire(cfg.name)}.${nuid()}`;
    this.tar = new TarReader({
      file: (name, size) => this.openFile(name, size),
      data: (chunk) => {
        for (let off = 0; this.fd >= 0 && off < chunk.length; ) off += writeSync(this.fd, chunk, off);
      },
      fileEnd: () => this.closeFile(),
    });
    this.reader = new S2StreamReader((data) => this.tar.push(data));
    this.sub = jsa.subscribe(this.deliverSubject, (_subject, reply, hdr, buf, start, size) => {
      const body = buf.subarray(start + Math.max(hdr, 0), start + size);
      this.onChunk(reply, body);
    });
    this.idle = this.armIdle();
  }

  private armIdle(): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.log('warn', `Restore for stream '${this.jsa.account.name} > ${this.cfg.name}' is stalled`);
      this.end();
    }, RESTORE_IDLE_MS);
    t.unref();
    return t;
  }

  private onChunk(reply: string, body: Buffer): void {
    if (this.finished) return;
    if (reply === '') {
      this.log(
        'warn',
        `Restore for stream '${this.jsa.account.name} > ${this.cfg.name}' requires reply subject for each chunk`,
      );
      this.end();
      return;
    }
    clearTimeout(this.idle);
    if (body.length === 0) {
      this.complete(reply);
      return;
    }
    this.total += body.length;
    const js = this.jsa.js;
    if (js.maxStore >= 0 && js.usage().storage + this.total > js.maxStore) {
      this.answer(reply, newJSInsufficientResourcesError());
      this.end();
      this.onComplete(this.total);
      return;
    }
    if (this.failure === undefined) {
      try {
        this.reader.push(Buffer.from(body));
      } catch (e) {
        this.failure = e instanceof Error ? e.message : String(e);
        this.closeFile();
      }
    }
    this.jsa.out.defer(this.jsa.account, reply, '', null, EMPTY);
    this.idle = this.armIdle();
  }

  /** The upload is complete: build the stream and answer. */
  private complete(reply: string): void {
    if (this.failure === undefined) {
      try {
        this.reader.end();
        this.tar.end();
      } catch (e) {
        this.failure = e instanceof Error ? e.message : String(e);
      }
    }
    this.closeFile();
    const name = `'${this.jsa.account.name} > ${this.cfg.name}'`;
    let result: ReturnType<JsAccount['restoreStream']> | Error;
    if (this.failure !== undefined) result = new Error(this.failure);
    else {
      try {
        result = this.jsa.restoreStream(this.cfg, this.dir);
      } catch (e) {
        result = e instanceof Error ? e : new Error(String(e));
      }
    }
    if (result instanceof Error || isApiError(result)) {
      const why = result instanceof Error ? result.message : result.description;
      this.log('warn', `Restore failed for ${this.total} bytes for stream ${name}: ${why}`);
      // As nats-server's NewJSStreamRestoreError(err, Unless(err)): an API error is answered as it is.
      this.answer(reply, isApiError(result) ? result : newJSStreamRestoreError(why));
    } else {
      const secs = ((Date.now() - this.started) / 1000).toFixed(3);
      this.log('notice', `Completed restore of ${this.total} bytes for stream ${name} in ${secs}s`);
      const { config, created, state } = result.info();
      this.send(reply, { type: ResponseType.StreamCreate, config, created, state });
    }
    this.end();
    this.onComplete(this.total);
  }

  private answer(reply: string, error: ApiError): void {
    this.send(reply, { type: ResponseType.StreamCreate, error });
  }

  private send(reply: string, body: object): void {
    this.jsa.out.defer(this.jsa.account, reply, '', null, Buffer.from(goJson(body), 'utf8'));
  }

  /** Stop listening and remove whatever staging files are left. */
  private end(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.idle);
    this.jsa.unsubscribe(this.sub);
    this.closeFile();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private openFile(name: string, _size: number): void {
    this.closeFile();
    // Only relative paths inside the staging directory (nats-server refuses others as "unexpected content").
    const clean = normalize(name);
    if (isAbsolute(clean) || clean === '..' || clean.startsWith(`..${sep}`) || clean === '.') {
      throw new Error('unexpected content in snapshot');
    }
    const path = join(this.dir, clean);
    if (!path.startsWith(this.dir + sep)) throw new Error('unexpected content in snapshot');
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'w');
  }

  private closeFile(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  private log(level: 'warn' | 'notice', msg: string): void {
    const log = this.jsa.js.server.logger;
    if (level === 'warn') log.warn(msg);
    else log.notice(msg);
  }
}
