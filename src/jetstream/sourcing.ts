/**
 * Mirrors and sources (nats-server stream.go: setupMirrorConsumer, processInboundMirrorMsg,
 * setSourceConsumer, processInboundSourceMsg, startingSequenceForSources).
 *
 * A mirror or a source is fed by an ephemeral push consumer on the origin stream, created through the
 * JetStream API like any client would (`$JS.API.CONSUMER.CREATE.<origin>`, or with the `external.api`
 * prefix for another account or domain): ack none, max deliver 1, flow control, idle heartbeats every
 * second, `direct` (not listed by the API), delivering to an inbox of this stream (`$JS.M.<token>` or
 * `$JS.S.<token>`, under `external.deliver` when given). The ack reply of each message carries the origin
 * sequence, the delivery sequence, the timestamp and what is still pending:
 *
 * - a mirror stores each message at the origin's sequence with the origin's time, skipping sequences the
 *   origin no longer has; it answers direct gets for its origin (`mirror_direct`) once nearly caught up;
 * - a source stores each message as a new message with a `Nats-Stream-Source: <origin> <origin seq>`
 *   header, from which the sequence to resume at is found again after a restart. nats-server 2.10 adds
 *   `<filters> <destinations>` to tell sources of the same stream apart; tsnats writes that form where it
 *   is needed (a source with subject transforms, or several sources of one stream), the 2.9 form otherwise,
 *   and reads both as 2.10 does (a 2.9 header belongs to any source of its stream).
 *
 * nats-server 2.10's `subject_transforms` of a mirror or source: the consumer filters on every transform's
 * source (`filter_subjects`) and each message is stored under the subject of the first transform that
 * matches it.
 *
 * A gap in delivery sequences, a heartbeat naming another last delivery, three seconds without anything
 * from the consumer, an error answer or no answer within five seconds: the consumer is created again from
 * where the stream is (at most once every two seconds, nats-server's sourceConsumerRetryThreshold).
 *
 * Everything runs on the event loop; the internal subscription handlers run inside a delivery, so what
 * they publish (flow control answers) is deferred (delivery.ts, re-entrancy rule), and so is the consumer
 * create request, which may be sent from an API handler.
 */

import { textToWire, wireToText } from '../routing/subject-text.js';
import { SubjectTransform } from '../routing/transform.js';
import type { Subscription } from '../server/subscription.js';
import type { ApiError } from './api/errors.generated.js';
import { newJSInvalidJSONError } from './api/errors.generated.js';
import { goJson } from './api/json.js';
import {
  type StreamConfig,
  type StreamSource,
  type SubjectTransformConfig,
  sourceIndexName,
  sourceOriginName,
} from './config.js';
import { randomToken } from './consumer/token.js';
import { appendHeader, getHeader } from './headers.js';
import type { Stream, StreamHost } from './stream.js';
import { parseRfc3339Nano, rfc3339Nano } from './time.js';

/** nats-server's sourceHealthCheckInterval (also the consumers' idle heartbeat), ms. */
const HEALTH_CHECK_MS = 1000;
/** nats-server's sourceConsumerRetryThreshold, ms. */
const RETRY_THRESHOLD_MS = 2000;
/** How long to wait for the consumer create response, ms. */
const CREATE_TIMEOUT_MS = 5000;
/** nats-server's dgetCaughtUpThresh: a mirror answers direct gets when fewer are pending. */
const DGET_CAUGHT_UP = 10;
/** 22 hours in ns (the consumers' ack wait, as nats-server sets it). */
const ACK_WAIT_NS = 22 * 3600 * 1e9;

export const JS_STREAM_SOURCE = 'Nats-Stream-Source';
const JS_LAST_CONSUMER = 'Nats-Last-Consumer';
const JS_CONSUMER_STALLED = 'Nats-Consumer-Stalled';
const CONTROL_PREFIX = Buffer.from('NATS/1.0 100 ', 'latin1');
const EMPTY = Buffer.alloc(0);

/** nats-server's StreamSourceInfo as JSON (Go field order). */
export interface StreamSourceInfoJson {
  name: string;
  external?: { api: string; deliver: string };
  lag: number;
  /** ns since the last message or heartbeat, -1 when never heard from. */
  active: number;
  error?: ApiError;
  /** nats-server 2.10. */
  filter_subject?: string;
  subject_transforms?: SubjectTransformConfig[];
}

/** A message that arrived before the consumer create response (nats-server queues them too). */
interface Held {
  subject: string;
  reply: string;
  hdr: Buffer;
  data: Buffer;
}

/** One mirror origin or one source (nats-server's sourceInfo). */
class SourceLink {
  /** Consumer name ('' until the create response). */
  cname = '';
  /** Last origin sequence and last delivery sequence processed. */
  sseq = 0;
  dseq = 0;
  lag = 0;
  err: ApiError | undefined;
  /** When the consumer was last heard from (ms), 0 = never. */
  last = 0;
  /** When a consumer was last requested (ms). */
  lreq = 0;
  /** Setup in progress: waiting for the create response. */
  sip = false;
  /** Time (ns) to fall back to for a source whose messages are gone (the stream's last message time). */
  start = 0n;
  sub: Subscription | undefined;
  crSub: Subscription | undefined;
  /** Mirror direct get subscriptions on the origin's direct get subjects. */
  dsubs: Subscription[] = [];
  held: Held[] | undefined;
  retryTimer: NodeJS.Timeout | undefined;
  respTimer: NodeJS.Timeout | undefined;

  /** Write the 2.10 form of the Nats-Stream-Source header (see the file comment; set by StreamSourcing). */
  longHeader = false;
  /** The filter and the transforms (nats-server's sf, sfs and trs), as configured. */
  readonly filter: string;
  readonly transforms: readonly SubjectTransformConfig[];
  /** Made from `transforms`; undefined where the destination is empty (the subject is kept). */
  private readonly made: (SubjectTransform | undefined)[];

  constructor(
    readonly name: string,
    readonly iname: string,
    readonly mirror: boolean,
    src: StreamSource,
  ) {
    this.transforms = (src.subject_transforms ?? []).map((t) => ({ src: t.src, dest: t.dest }));
    this.filter = this.transforms.length === 0 ? (src.filter_subject ?? '') : '';
    // Checked when the stream was created: a transform that can not be made is left out, as nats-server.
    this.made = this.transforms.map((t) => {
      if (t.dest === '') return undefined;
      const tr = SubjectTransform.parse(t.src, t.dest);
      return tr instanceof SubjectTransform ? tr : undefined;
    });
  }

  /** The subject a message is stored under: the first transform that matches it, or its own. */
  transform(subject: string): string {
    for (const tr of this.made) {
      if (tr === undefined) continue;
      const out = tr.match(subject);
      if (out !== undefined) return out;
    }
    return subject;
  }

  /** The consumer's filters: filter_subject, or filter_subjects (every transform's source). */
  consumerFilters(): { filter_subject?: string; filter_subjects?: string[] } {
    if (this.transforms.length > 0) return { filter_subjects: this.transforms.map((t) => t.src) };
    return this.filter !== '' ? { filter_subject: this.filter } : {};
  }

  /** The Nats-Stream-Source header of a message with origin sequence `seq` (text, from the reply). */
  header(seq: string): string {
    const sp = this.iname.indexOf(' ');
    const origin = this.iname.slice(0, sp);
    // The filters and destinations go whole (a mapping function may hold a space; nats-server cuts there).
    return this.longHeader ? `${origin} ${seq} ${this.iname.slice(sp + 1)}` : `${origin} ${seq}`;
  }
}

/** The origin sequence, delivery sequence, deliveries, timestamp and pending count of an ack reply. */
function replyInfo(reply: string): { sseq: number; dseq: number; dc: number; ts: bigint; pending: number } {
  const t = reply.split('.');
  if (t.length !== 9 || t[0] !== '$JS' || t[1] !== 'ACK')
    return { sseq: 0, dseq: 0, dc: 0, ts: 0n, pending: 0 };
  const num = (s: string): number => (/^\d+$/.test(s) ? Number(s) : -1);
  let ts = 0n;
  if (/^\d+$/.test(t[7]!)) ts = BigInt(t[7]!);
  return { dc: num(t[4]!), sseq: num(t[5]!), dseq: num(t[6]!), ts, pending: num(t[8]!) };
}

/**
 * nats-server 2.10's streamAndSeq: the origin, the index name and the origin sequence of a
 * Nats-Stream-Source header. The index name is '' for the 2.9 form (`<origin> <seq>`, or an ack reply),
 * which stands for any source of that origin.
 */
export function streamAndSeq(shdr: string): [string, string, number] {
  const num = (s: string): number => (/^\d+$/.test(s) ? Number(s) : 0);
  if (shdr.startsWith('$JS.ACK.')) {
    const t = shdr.split('.');
    if (t.length !== 9 || t[1] !== 'ACK') return ['', '', 0];
    return [t[2]!, '', num(t[5]!)];
  }
  const f = shdr.split(' ');
  if (f.length === 2) return [f[0]!, '', num(f[1]!)];
  if (f.length >= 4) return [f[0]!, [f[0], ...f.slice(2)].join(' '), num(f[1]!)];
  return ['', '', 0];
}

/** Remove header `key` from a header block (nats-server's removeHeaderIfPresent). */
function removeHeader(hdr: Buffer, key: string): Buffer {
  const needle = Buffer.from(`\r\n${key}:`, 'latin1');
  const i = hdr.indexOf(needle);
  if (i < 0) return hdr;
  const end = hdr.indexOf('\r\n', i + 2, 'latin1');
  if (end < 0) return hdr;
  const out = Buffer.concat([hdr.subarray(0, i), hdr.subarray(end)]);
  return out.length <= 12 ? EMPTY : out;
}

/**
 * Remove every header line whose name starts with `prefix` (case-sensitive, nats-server 2.10's
 * removeHeaderIfPrefixPresent); an empty block is no headers.
 */
function removeHeadersWithPrefix(hdr: Buffer, prefix: string): Buffer {
  const lines = hdr.toString('latin1').split('\r\n');
  // The first line is the status line; a header block ends with an empty line.
  const kept = lines.filter((l, i) => i === 0 || !l.startsWith(prefix));
  if (kept.length === lines.length) return hdr;
  const out = Buffer.from(kept.join('\r\n'), 'latin1');
  return out.length <= 12 ? EMPTY : out;
}

export class StreamSourcing {
  private mirrorLink: SourceLink | undefined;
  private readonly sources = new Map<string, SourceLink>();
  private healthTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly stream: Stream,
    private readonly host: StreamHost,
  ) {}

  private get cfg(): StreamConfig {
    return this.stream.config;
  }

  /** Start feeding the stream (it became its group's leader, or started). */
  start(): void {
    this.stopped = false;
    if (this.cfg.mirror !== undefined) this.setupMirrorConsumer();
    else if ((this.cfg.sources?.length ?? 0) > 0) this.setupSourceConsumers();
    if (this.healthTimer === undefined) {
      this.healthTimer = setInterval(() => this.healthCheck(), HEALTH_CHECK_MS);
      this.healthTimer.unref();
    }
  }

  /** Stop every consumer link (stream stopped or no longer leader). */
  stop(): void {
    this.stopped = true;
    if (this.healthTimer !== undefined) clearInterval(this.healthTimer);
    this.healthTimer = undefined;
    if (this.mirrorLink !== undefined) this.cancel(this.mirrorLink);
    for (const si of this.sources.values()) this.cancel(si);
  }

  // ---- info -------------------------------------------------------------------------------------------

  mirrorInfo(): StreamSourceInfoJson | undefined {
    return this.mirrorLink === undefined ? undefined : this.sourceInfo(this.mirrorLink);
  }

  sourcesInfo(): StreamSourceInfoJson[] {
    return [...this.sources.values()].map((si) => this.sourceInfo(si));
  }

  private sourceInfo(si: SourceLink): StreamSourceInfoJson {
    const ext = si.mirror ? this.cfg.mirror?.external : this.streamSource(si.iname)?.external;
    const o: Partial<StreamSourceInfoJson> = { name: si.name };
    if (ext !== undefined) o.external = { api: ext.api, deliver: ext.deliver };
    o.lag = si.lag;
    o.active = si.last === 0 ? -1 : (Date.now() - si.last) * 1e6;
    if (si.err !== undefined) o.error = si.err;
    if (si.filter !== '') o.filter_subject = si.filter;
    if (si.transforms.length > 0) o.subject_transforms = si.transforms.map((t) => ({ ...t }));
    return o as StreamSourceInfoJson;
  }

  private streamSource(iname: string): StreamSource | undefined {
    return this.cfg.sources?.find((s) => sourceIndexName(s) === iname);
  }

  // ---- shared plumbing --------------------------------------------------------------------------------

  /** nats-server's cancelSourceInfo: drop the subscriptions and forget the consumer. */
  private cancel(si: SourceLink): void {
    if (si.sub !== undefined) this.host.unsubscribe(si.sub);
    si.sub = undefined;
    if (si.crSub !== undefined) this.host.unsubscribe(si.crSub);
    si.crSub = undefined;
    for (const s of si.dsubs) this.host.unsubscribe(s);
    si.dsubs = [];
    si.cname = '';
    si.held = undefined;
    si.sip = false;
    if (si.retryTimer !== undefined) clearTimeout(si.retryTimer);
    si.retryTimer = undefined;
    if (si.respTimer !== undefined) clearTimeout(si.respTimer);
    si.respTimer = undefined;
  }

  /** Call `fn` once the retry threshold since the last request has passed (plus 10-60 ms). */
  private scheduleRetry(si: SourceLink, fn: () => void): void {
    if (si.retryTimer !== undefined) clearTimeout(si.retryTimer);
    const next =
      Math.max(0, RETRY_THRESHOLD_MS - (Date.now() - si.lreq)) + 10 + Math.floor(Math.random() * 50);
    si.retryTimer = setTimeout(() => {
      si.retryTimer = undefined;
      if (!this.stopped && !this.stream.closed) fn();
    }, next);
    si.retryTimer.unref();
  }

  /** The deliver subject of a new consumer: `$JS.M.<token>` / `$JS.S.<token>`, or under `external.deliver`. */
  private deliverSubject(kind: 'M' | 'S', src: StreamSource): string {
    const ext = src.external;
    if (ext !== undefined && ext.deliver !== '') {
      return `${ext.deliver}.${kind}.${randomToken(8)}`.replaceAll('..', '.');
    }
    return `$JS.${kind}.${randomToken(8)}`;
  }

  /**
   * Send the consumer create request for `si` and wait for its answer (`onCreated` with the consumer info,
   * or a retry on an error or no answer). Messages delivered before the answer are held until then.
   */
  private requestConsumer(
    si: SourceLink,
    src: StreamSource,
    config: Record<string, unknown>,
    onCreated: (info: Record<string, unknown>) => void,
    retry: () => void,
  ): void {
    const deliver = config.deliver_subject as string;
    let subject: string;
    if (src.filter_subject !== undefined && src.filter_subject !== '') {
      config.name = `${si.mirror ? 'mirror' : 'src'}-${randomToken(8)}`;
      subject = `$JS.API.CONSUMER.CREATE.${src.name}.${config.name as string}.${src.filter_subject}`;
    } else {
      subject = `$JS.API.CONSUMER.CREATE.${src.name}`;
    }
    if (src.external !== undefined) {
      subject = subject.replace('$JS.API', src.external.api).replaceAll('..', '.');
    }
    const reply = `$JSC.R.${randomToken(8)}`;
    si.crSub = this.host.subscribe(reply, (_s, _r, hdr, buf, start, size) => {
      if (si.crSub !== undefined) this.host.unsubscribe(si.crSub);
      si.crSub = undefined;
      if (si.respTimer !== undefined) clearTimeout(si.respTimer);
      si.respTimer = undefined;
      const body = buf.toString('utf8', start + Math.max(hdr, 0), start + size);
      let resp: Record<string, unknown>;
      try {
        resp = JSON.parse(body) as Record<string, unknown>;
      } catch {
        this.host.warn(`JetStream bad ${si.mirror ? 'mirror' : 'source'} consumer create response: ${body}`);
        si.err = newJSInvalidJSONError();
        si.sip = false;
        this.scheduleRetry(si, retry);
        return;
      }
      si.sip = false;
      const error = resp.error as ApiError | undefined;
      if (error !== undefined || typeof resp.name !== 'string') {
        this.host.warn(
          `JetStream error response for create ${si.mirror ? 'mirror' : 'source'} consumer: ${goJson(error ?? null)}`,
        );
        si.err = error;
        this.scheduleRetry(si, retry);
        return;
      }
      si.err = undefined;
      onCreated(resp);
      const held = si.held;
      si.held = undefined;
      if (held !== undefined) for (const m of held) this.inbound(si, m.subject, m.reply, m.hdr, m.data);
    });
    si.held = [];
    si.sub = this.host.subscribe(deliver, (wire, rep, hdr, buf, start, size) => {
      // Stored subjects are text (subject-text.ts).
      const subj = wireToText(wire);
      const copy = Buffer.allocUnsafe(size);
      buf.copy(copy, 0, start, start + size);
      const h = hdr > 0 ? copy.subarray(0, hdr) : EMPTY;
      const data = hdr > 0 ? copy.subarray(hdr) : copy;
      if (si.held !== undefined) si.held.push({ subject: subj, reply: rep, hdr: h, data });
      else this.inbound(si, subj, rep, h, data);
    });
    si.err = undefined;
    si.sip = true;
    const body = Buffer.from(goJson({ stream_name: src.name, config }), 'utf8');
    this.host.out.defer(this.stream.account, textToWire(subject), reply, null, body);
    si.respTimer = setTimeout(() => {
      si.respTimer = undefined;
      if (si.crSub !== undefined) this.host.unsubscribe(si.crSub);
      si.crSub = undefined;
      si.sip = false;
      if (!this.stopped && !this.stream.closed) this.scheduleRetry(si, retry);
    }, CREATE_TIMEOUT_MS);
    si.respTimer.unref();
  }

  private inbound(si: SourceLink, subject: string, reply: string, hdr: Buffer, data: Buffer): void {
    if (this.stopped || this.stream.closed) return;
    if (si.mirror) this.processInboundMirrorMsg(si, subject, reply, hdr, data);
    else this.processInboundSourceMsg(si, subject, reply, hdr, data);
  }

  /** Flow control requests and heartbeats: true when a heartbeat says messages were missed. */
  private handleControl(si: SourceLink, reply: string, hdr: Buffer): boolean {
    if (reply !== '') {
      this.host.out.defer(this.stream.account, reply, '', null, EMPTY);
      return false;
    }
    const ld = getHeader(hdr, JS_LAST_CONSUMER);
    const ldseq = ld !== undefined && /^\d+$/.test(ld) ? Number(ld) : -1;
    if (ldseq > 0 && ldseq !== si.dseq) return true;
    const fc = getHeader(hdr, JS_CONSUMER_STALLED);
    if (fc !== undefined && fc !== '') this.host.out.defer(this.stream.account, fc, '', null, EMPTY);
    return false;
  }

  private static isCurrent(si: SourceLink, reply: string): boolean {
    if (si.cname === '' || !reply.startsWith('$JS.ACK.')) return false;
    const t = reply.split('.', 4);
    return t[3] === si.cname;
  }

  private static isControl(hdr: Buffer, data: Buffer): boolean {
    return (
      data.length === 0 && hdr.length > CONTROL_PREFIX.length && hdr.subarray(0, 13).equals(CONTROL_PREFIX)
    );
  }

  private healthCheck(): void {
    if (this.stopped || this.stream.closed) return;
    const now = Date.now();
    const m = this.mirrorLink;
    if (m !== undefined && !m.sip && m.last !== 0 && now - m.last > 3 * HEALTH_CHECK_MS) {
      this.setupMirrorConsumer();
    }
    for (const si of this.sources.values()) {
      if (!si.sip && si.last !== 0 && now - si.last > 3 * HEALTH_CHECK_MS) {
        this.setSourceConsumer(si.iname, si.sseq + 1, 0n);
      }
    }
  }

  // ---- mirror -----------------------------------------------------------------------------------------

  /** nats-server's setupMirrorConsumer. */
  private setupMirrorConsumer(): void {
    const mcfg = this.cfg.mirror;
    if (mcfg === undefined || this.stopped) return;
    let mirror = this.mirrorLink;
    if (mirror === undefined) {
      mirror = new SourceLink(mcfg.name, mcfg.name, true, mcfg);
      this.mirrorLink = mirror;
    } else {
      this.cancel(mirror);
      mirror.sseq = this.stream.lastSeq;
    }
    const si = mirror;
    if (Date.now() - si.lreq < RETRY_THRESHOLD_MS || si.sip) {
      this.scheduleRetry(si, () => this.setupMirrorConsumer());
      return;
    }
    si.lreq = Date.now();
    const st = this.stream.store.state();
    const config: Record<string, unknown> = {
      deliver_policy: 'by_start_sequence',
      opt_start_seq: st.lastSeq + 1,
    };
    // The start options apply only to a mirror that never stored anything.
    if (st.msgs === 0 && st.firstSeq === 0) {
      delete config.opt_start_seq;
      if ((mcfg.opt_start_seq ?? 0) > 0) config.opt_start_seq = mcfg.opt_start_seq;
      else if (mcfg.opt_start_time !== undefined) {
        config.opt_start_time = mcfg.opt_start_time;
        config.deliver_policy = 'by_start_time';
      }
    }
    if (config.opt_start_seq === undefined && config.opt_start_time === undefined)
      config.deliver_policy = 'all';
    this.requestConsumer(
      si,
      mcfg,
      this.consumerConfig(this.deliverSubject('M', mcfg), config, si),
      (info) => {
        // Sequences the origin no longer has are skipped, so the mirror keeps the origin's numbering.
        const delivered =
          ((info.delivered as Record<string, unknown> | undefined)?.stream_seq as number) ?? 0;
        const last = this.stream.store.state().lastSeq;
        if (last !== delivered) this.stream.skipMsgs(last + 1, delivered);
        si.cname = info.name as string;
        si.dseq = 0;
        si.sseq = delivered;
        si.last = Date.now();
      },
      () => this.setupMirrorConsumer(),
    );
  }

  /** nats-server's processInboundMirrorMsg. */
  private processInboundMirrorMsg(
    si: SourceLink,
    subject: string,
    reply: string,
    hdr: Buffer,
    data: Buffer,
  ): void {
    const control = StreamSourcing.isControl(hdr, data);
    if (!control && !StreamSourcing.isCurrent(si, reply)) return;
    si.last = Date.now();
    if (control) {
      if (this.handleControl(si, reply, hdr)) this.setupMirrorConsumer();
      return;
    }
    const { sseq, dseq, dc, ts, pending } = replyInfo(reply);
    if (dc > 1) return;
    const olag = si.lag;
    const osseq = si.sseq;
    const odseq = si.dseq;
    if (sseq === si.sseq + 1) {
      si.dseq = dseq;
      si.sseq++;
    } else if (sseq <= si.sseq) {
      return;
    } else if (dseq === si.dseq + 1) {
      // The origin expired or deleted the messages in between.
      this.stream.skipMsgs(si.sseq + 1, sseq - 1);
      si.dseq++;
      si.sseq = sseq;
    } else {
      this.setupMirrorConsumer();
      return;
    }
    si.lag = pending === 0 ? 0 : pending - 1;
    if (this.cfg.mirror_direct && si.dsubs.length === 0 && pending < DGET_CAUGHT_UP) {
      si.dsubs = this.stream.subscribeDirectFor(si.name);
    }
    const r = this.stream.processMsg(si.transform(subject), '', hdr, data, {
      lseq: sseq - 1,
      ts,
      leader: true,
    });
    if (r === -1) {
      // Older than what is stored: ignore.
      si.lag = olag;
      si.sseq = osseq;
      si.dseq = odseq;
    } else if (r === -2) {
      si.dseq = odseq;
      si.sseq = osseq;
      this.setupMirrorConsumer();
    }
  }

  // ---- sources ----------------------------------------------------------------------------------------

  /** A link for source `s`, not started. */
  private newSourceLink(s: StreamSource): SourceLink {
    const si = new SourceLink(s.name, sourceIndexName(s), false, s);
    this.sources.set(si.iname, si);
    return si;
  }

  /**
   * Which header form each source writes: the 2.10 one when it has transforms or its origin is sourced
   * more than once (the 2.9 form, the origin's name, could not tell the sources apart).
   */
  private setHeaderForms(): void {
    const perOrigin = new Map<string, number>();
    for (const s of this.cfg.sources ?? []) {
      const o = sourceOriginName(s);
      perOrigin.set(o, (perOrigin.get(o) ?? 0) + 1);
    }
    for (const s of this.cfg.sources ?? []) {
      const si = this.sources.get(sourceIndexName(s));
      if (si === undefined) continue;
      si.longHeader = si.transforms.length > 0 || (perOrigin.get(sourceOriginName(s)) ?? 0) > 1;
    }
  }

  /** Whether a Nats-Stream-Source header read as (origin, index name) was written by source `si`. */
  private writtenBy(si: SourceLink, origin: string, iname: string): boolean {
    // A 2.9 header names the origin only: it belongs to any source of that origin, as in nats-server 2.10.
    return iname !== '' ? iname === si.iname : origin === si.iname.split(' ')[0];
  }

  /** nats-server's setupSourceConsumers: find where each source stopped, then start its consumer. */
  private setupSourceConsumers(): void {
    for (const si of this.sources.values()) this.cancel(si);
    this.startingSequenceForSources();
    for (const s of this.cfg.sources ?? []) {
      const si = this.sources.get(sourceIndexName(s));
      if (si !== undefined) this.setSourceConsumer(si.iname, si.sseq + 1, 0n);
    }
  }

  /**
   * nats-server's startingSequenceForSources: scan the stored messages from the newest for the last one of
   * each source (its Nats-Stream-Source header); remember the last message time as a fallback start.
   */
  private startingSequenceForSources(): void {
    for (const si of this.sources.values()) this.cancel(si);
    this.sources.clear();
    for (const s of this.cfg.sources ?? []) this.newSourceLink(s);
    this.setHeaderForms();
    const st = this.stream.store.state();
    if (st.lastTs !== 0n) for (const si of this.sources.values()) si.start = st.lastTs;
    if (st.msgs === 0) return;
    const found = new Set<string>();
    for (let seq = st.lastSeq; seq >= st.firstSeq && seq > 0; seq--) {
      const m = this.stream.store.loadMsg(seq);
      if (m === undefined || m.hdr.length === 0) continue;
      const ss = getHeader(m.hdr, JS_STREAM_SOURCE);
      if (ss === undefined || ss === '') continue;
      const [origin, iname, sseq] = streamAndSeq(ss);
      for (const si of this.sources.values()) {
        if (found.has(si.iname) || !this.writtenBy(si, origin, iname)) continue;
        found.add(si.iname);
        if (sseq !== 0) {
          si.sseq = sseq;
          si.dseq = 0;
        }
      }
      if (found.size === this.sources.size) return;
    }
  }

  /** nats-server's setStartingSequenceForSource: the last origin sequence stored from one source. */
  private setStartingSequenceForSource(iname: string): void {
    const si = this.sources.get(iname);
    if (si === undefined) return;
    const st = this.stream.store.state();
    if (st.msgs === 0) {
      si.dseq = 0;
      return;
    }
    for (let seq = st.lastSeq; seq >= st.firstSeq && seq > 0; seq--) {
      const m = this.stream.store.loadMsg(seq);
      if (m === undefined || m.hdr.length === 0) continue;
      const ss = getHeader(m.hdr, JS_STREAM_SOURCE);
      if (ss === undefined || ss === '') continue;
      const [origin, headerIname, sseq] = streamAndSeq(ss);
      if (this.writtenBy(si, origin, headerIname)) {
        si.sseq = sseq;
        si.dseq = 0;
        return;
      }
    }
  }

  private retrySourceConsumer(iname: string): void {
    const si = this.sources.get(iname);
    if (si === undefined) return;
    this.setStartingSequenceForSource(iname);
    this.setSourceConsumer(iname, si.sseq + 1, 0n);
  }

  /** nats-server's setSourceConsumer: a consumer from `seq` (or from `startTime`, ns, when given). */
  private setSourceConsumer(iname: string, seq: number, startTime: bigint): void {
    const si = this.sources.get(iname);
    if (si === undefined || this.stopped) return;
    this.cancel(si);
    const ssi = this.streamSource(iname);
    if (ssi === undefined) return;
    if (Date.now() - si.lreq < RETRY_THRESHOLD_MS || si.sip) {
      this.scheduleRetry(si, () => this.setSourceConsumer(iname, seq, startTime));
      return;
    }
    si.lreq = Date.now();
    const config: Record<string, unknown> = { deliver_policy: 'all' };
    if (startTime !== 0n && seq > 1) {
      config.opt_start_time = rfc3339Nano(startTime);
      config.deliver_policy = 'by_start_time';
    } else if (seq <= 1) {
      if ((ssi.opt_start_seq ?? 0) > 0) {
        config.opt_start_seq = ssi.opt_start_seq;
        config.deliver_policy = 'by_start_sequence';
      } else if (ssi.opt_start_time !== undefined) {
        // After a restart, do not go back before what is already here.
        const t = parseRfc3339Nano(ssi.opt_start_time);
        config.opt_start_time = t < si.start ? rfc3339Nano(si.start) : ssi.opt_start_time;
        config.deliver_policy = 'by_start_time';
      } else if (si.start !== 0n) {
        // Messages were stored but none is left to say where this source stopped (purge, limits).
        config.opt_start_time = rfc3339Nano(si.start);
        config.deliver_policy = 'by_start_time';
      }
    } else {
      config.opt_start_seq = seq;
      config.deliver_policy = 'by_start_sequence';
    }
    this.requestConsumer(
      si,
      ssi,
      this.consumerConfig(this.deliverSubject('S', ssi), config, si),
      (info) => {
        const delivered =
          ((info.delivered as Record<string, unknown> | undefined)?.stream_seq as number) ?? 0;
        if (si.sseq !== delivered) si.sseq = delivered + 1;
        si.cname = info.name as string;
        si.dseq = 0;
        si.last = Date.now();
      },
      () => this.setSourceConsumer(iname, seq, startTime),
    );
  }

  /** nats-server's processInboundSourceMsg. */
  private processInboundSourceMsg(
    si: SourceLink,
    subject: string,
    reply: string,
    hdr: Buffer,
    data: Buffer,
  ): void {
    const control = StreamSourcing.isControl(hdr, data);
    if (!control && !StreamSourcing.isCurrent(si, reply)) return;
    si.last = Date.now();
    if (control) {
      if (this.handleControl(si, reply, hdr)) this.setSourceConsumer(si.iname, si.sseq + 1, 0n);
      return;
    }
    const { sseq, dseq, dc, pending } = replyInfo(reply);
    if (dc > 1) return;
    if (dseq === si.dseq + 1) {
      si.dseq++;
      si.sseq = sseq;
    } else if (dseq > si.dseq) {
      this.setSourceConsumer(si.iname, si.sseq + 1, 0n);
      return;
    } else {
      return;
    }
    si.lag = pending === 0 ? 0 : pending - 1;
    let h = hdr.length > 0 ? removeHeader(hdr, JS_STREAM_SOURCE) : hdr;
    // nats-server 2.10: the origin's expectations (Nats-Expected-Stream, -Last-Sequence, ...) were checked
    // when the message was stored there; here they would refuse it.
    if (h.length > 0) h = removeHeadersWithPrefix(h, 'Nats-Expected-');
    // The origin's sequence (from the ack reply) says where to resume after a restart.
    h = appendHeader(h.length > 0 ? h : null, JS_STREAM_SOURCE, si.header(reply.split('.')[5] ?? '1'));
    if (this.stream.processMsg(si.transform(subject), '', h, data) <= 0) this.retrySourceConsumer(si.iname);
  }

  /**
   * nats-server 2.10's source part of a stream update. A source is known by its index name (origin, filters
   * and transforms), so a changed filter or transform is a source removed and a new one added: the new one
   * starts after the last message stored from it (or, with a 2.9 header, from its origin), the removed one
   * stops.
   */
  updateSources(old: StreamConfig, next: StreamConfig): void {
    if (next.mirror !== undefined || this.stopped) return;
    const current = new Set((old.sources ?? []).map(sourceIndexName));
    const added: SourceLink[] = [];
    for (const s of next.sources ?? []) {
      const iname = sourceIndexName(s);
      if (current.delete(iname) && this.sources.has(iname)) continue;
      added.push(this.newSourceLink(s));
    }
    for (const iname of current) {
      const si = this.sources.get(iname);
      if (si !== undefined) this.cancel(si);
      this.sources.delete(iname);
    }
    this.setHeaderForms();
    for (const si of added) {
      this.setStartingSequenceForSource(si.iname);
      this.setSourceConsumer(si.iname, si.sseq + 1, 0n);
    }
  }

  /** The consumer config nats-server asks for (ack none, one delivery, heartbeats, flow control, direct). */
  private consumerConfig(
    deliver: string,
    start: Record<string, unknown>,
    si: SourceLink,
  ): Record<string, unknown> {
    const c: Record<string, unknown> = { deliver_policy: start.deliver_policy };
    if (start.opt_start_seq !== undefined) c.opt_start_seq = start.opt_start_seq;
    if (start.opt_start_time !== undefined) c.opt_start_time = start.opt_start_time;
    c.ack_policy = 'none';
    c.ack_wait = ACK_WAIT_NS;
    c.max_deliver = 1;
    Object.assign(c, si.consumerFilters());
    c.replay_policy = 'instant';
    c.idle_heartbeat = HEALTH_CHECK_MS * 1e6;
    c.flow_control = true;
    c.deliver_subject = deliver;
    c.num_replicas = 0;
    c.direct = true;
    return c;
  }
}
