/**
 * NATS message headers (ADR-4): a block that starts with a version line and ends with an empty line,
 *
 *   NATS/1.0[ <status>[ <description>]]\r\n
 *   Key: Value\r\n
 *   ...\r\n
 *   \r\n
 *
 * JetStream reads a few headers of published messages (Nats-Msg-Id, Nats-Expected-*, Nats-Rollup) and
 * writes headers on messages it sends (direct get, status replies). Keys are compared exactly, as
 * nats-server's getHeader does (clients send them in canonical MIME case); a repeated key yields its
 * first value.
 */

/** Headers of published messages that JetStream acts on (nats-server stream.go). */
export const JSMsgId = 'Nats-Msg-Id';
export const JSExpectedStream = 'Nats-Expected-Stream';
export const JSExpectedLastSeq = 'Nats-Expected-Last-Sequence';
export const JSExpectedLastSubjSeq = 'Nats-Expected-Last-Subject-Sequence';
export const JSExpectedLastMsgId = 'Nats-Expected-Last-Msg-Id';
export const JSMsgRollup = 'Nats-Rollup';
/** Headers JetStream adds to messages it returns (direct get, republish). */
export const JSStream = 'Nats-Stream';
export const JSSequence = 'Nats-Sequence';
export const JSTimeStamp = 'Nats-Time-Stamp';
export const JSSubject = 'Nats-Subject';
export const JSLastSequence = 'Nats-Last-Sequence';

const HDR_LINE = 'NATS/1.0\r\n';
const CRLF = '\r\n';

/** `\r\n<key>:` search patterns of the keys looked up most (JetStream's own headers). */
const NEEDLES = new Map<string, Buffer>();

/** A parsed header block. */
export interface ParsedHeaders {
  /** Status code from the version line (e.g. 404), 0 when none. */
  status: number;
  /** Text after the status code. */
  description: string;
  /** Key/value pairs in order (keys as written, values trimmed). */
  entries: [string, string][];
}

/** Parse a header block (the bytes before the payload). Malformed lines are skipped. */
export function parseHeaders(hdr: Buffer): ParsedHeaders {
  const text = hdr.toString('latin1');
  const lines = text.split(CRLF);
  const first = lines[0] ?? '';
  let status = 0;
  let description = '';
  const m = /^NATS\/1\.0(?:\s+(\d{3})(?:\s+(.*))?)?$/.exec(first);
  if (m !== null && m[1] !== undefined) {
    status = Number(m[1]);
    description = (m[2] ?? '').trim();
  }
  const entries: [string, string][] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    entries.push([
      Buffer.from(line.slice(0, colon), 'latin1').toString('utf8'),
      Buffer.from(line.slice(colon + 1).trim(), 'latin1').toString('utf8'),
    ]);
  }
  return { status, description, entries };
}

/**
 * The value of header `key` in a header block, or undefined. A key must start a line (after CRLF) and be
 * followed by ':'; leading spaces of the value are skipped (nats-server's getHeader).
 */
export function getHeader(hdr: Buffer, key: string): string | undefined {
  if (hdr.length === 0) return undefined;
  let k = NEEDLES.get(key);
  if (k === undefined) {
    k = Buffer.from(`${CRLF}${key}:`, 'utf8');
    if (NEEDLES.size < 64) NEEDLES.set(key, k);
  }
  const i = hdr.indexOf(k);
  if (i < 0) return undefined;
  let start = i + k.length;
  while (start < hdr.length && hdr[start] === 0x20) start++;
  let end = hdr.indexOf(CRLF, start, 'latin1');
  if (end < 0) end = hdr.length;
  return hdr.toString('utf8', start, end);
}

function sanitize(v: string): string {
  return v.replace(/[\r\n]/g, ' ').trim();
}

/**
 * Append `key: value` to a header block (nats-server's genHeader): the block's final empty line is
 * moved after the new header; with no block, a new one is started.
 */
export function appendHeader(hdr: Buffer | null, key: string, value: string): Buffer {
  const line = `${key}: ${sanitize(value)}${CRLF}${CRLF}`;
  if (hdr === null || hdr.length <= 2) return Buffer.from(HDR_LINE + line, 'utf8');
  return Buffer.concat([hdr.subarray(0, hdr.length - 2), Buffer.from(line, 'utf8')]);
}

/** A header block with only a status line: `NATS/1.0 404 Message Not Found\r\n\r\n`. */
export function statusHeader(status: number, description: string): Buffer {
  return Buffer.from(`NATS/1.0 ${status} ${description}${CRLF}${CRLF}`, 'utf8');
}

/** A header block from key/value pairs (version line without status). */
export function buildHeaders(entries: readonly (readonly [string, string])[]): Buffer {
  let s = HDR_LINE;
  for (const [k, v] of entries) s += `${k}: ${sanitize(v)}${CRLF}`;
  return Buffer.from(s + CRLF, 'utf8');
}

/**
 * The headers of a published message that JetStream acts on, read in one pass. Sequences are parsed as
 * nats-server's parseInt64 does (digits only; anything else is -1, which never matches).
 */
export interface PublishHeaders {
  msgId: string;
  expectedStream: string;
  /** Present when the header was given. */
  expectedLastSeq: number | undefined;
  expectedLastSubjSeq: number | undefined;
  expectedLastMsgId: string;
  /** Lower-cased Nats-Rollup value, '' when absent. */
  rollup: string;
}

const NO_PUBLISH_HEADERS: Readonly<PublishHeaders> = Object.freeze({
  msgId: '',
  expectedStream: '',
  expectedLastSeq: undefined,
  expectedLastSubjSeq: undefined,
  expectedLastMsgId: '',
  rollup: '',
});

export function readPublishHeaders(hdr: Buffer): Readonly<PublishHeaders> {
  // All of them start with "Nats-": one scan tells whether there is anything to read.
  if (hdr.indexOf('\r\nNats-', 0, 'latin1') < 0) return NO_PUBLISH_HEADERS;
  const lastSeq = getHeader(hdr, JSExpectedLastSeq);
  const lastSubjSeq = getHeader(hdr, JSExpectedLastSubjSeq);
  return {
    msgId: getHeader(hdr, JSMsgId) ?? '',
    expectedStream: getHeader(hdr, JSExpectedStream) ?? '',
    expectedLastSeq: lastSeq === undefined || lastSeq === '' ? undefined : parseSeq(lastSeq),
    expectedLastSubjSeq: lastSubjSeq === undefined || lastSubjSeq === '' ? undefined : parseSeq(lastSubjSeq),
    expectedLastMsgId: getHeader(hdr, JSExpectedLastMsgId) ?? '',
    rollup: (getHeader(hdr, JSMsgRollup) ?? '').toLowerCase(),
  };
}

/** nats-server's parseInt64 on a header value: decimal digits only, else -1. */
function parseSeq(s: string): number {
  return /^\d+$/.test(s) ? Number(s) : -1;
}
