/**
 * Formatting and query decoding shared by the monitoring endpoints, written to produce what nats-server's
 * Go code produces: durations as Go prints them, times as Go's RFC 3339 with nanoseconds, and the same
 * error texts for bad query parameters.
 */

/** A request the endpoint refuses; the HTTP adapter answers 400 with `message` as plain text. */
export class BadRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequest';
  }
}

/**
 * nats-server's `myUptime`: whole seconds, with minutes, hours, days and years (365 days) shown only once
 * they are reached: `42s`, `1m2s`, `3h0m5s`, `2d1h0m0s`, `1y2d3h4m5s`.
 */
export function myUptime(ms: number): string {
  const tsecs = Math.max(0, Math.floor(ms / 1000));
  const tmins = Math.floor(tsecs / 60);
  const thrs = Math.floor(tmins / 60);
  const tdays = Math.floor(thrs / 24);
  const tyrs = Math.floor(tdays / 365);
  if (tyrs > 0) return `${tyrs}y${tdays % 365}d${thrs % 24}h${tmins % 60}m${tsecs % 60}s`;
  if (tdays > 0) return `${tdays}d${thrs % 24}h${tmins % 60}m${tsecs % 60}s`;
  if (thrs > 0) return `${thrs}h${tmins % 60}m${tsecs % 60}s`;
  if (tmins > 0) return `${tmins}m${tsecs % 60}s`;
  return `${tsecs}s`;
}

/** Digits of `v / 10^prec` with trailing zeros (and a bare point) removed, as Go's fmtFrac leaves them. */
function fracString(v: bigint, prec: number): [string, bigint] {
  let digits = '';
  let print = false;
  for (let i = 0; i < prec; i++) {
    const d = v % 10n;
    print = print || d !== 0n;
    if (print) digits = d.toString() + digits;
    v /= 10n;
  }
  return [print ? `.${digits}` : '', v];
}

/**
 * Go's `time.Duration.String()` for a duration in nanoseconds: `0s`, `850ns`, `1.5µs`, `355µs`, `12.3ms`,
 * `1.5s`, `2m3s`, `1h0m0.5s`.
 */
export function goDuration(ns: number | bigint): string {
  let u = BigInt(typeof ns === 'number' ? Math.trunc(ns) : ns);
  const neg = u < 0n;
  if (neg) u = -u;
  const sign = neg ? '-' : '';
  if (u < 1_000_000_000n) {
    if (u === 0n) return '0s';
    if (u < 1000n) return `${sign}${u}ns`;
    if (u < 1_000_000n) {
      const [f, w] = fracString(u, 3);
      return `${sign}${w}${f}µs`;
    }
    const [f, w] = fracString(u, 6);
    return `${sign}${w}${f}ms`;
  }
  const [f, secsTotal] = fracString(u, 9);
  let out = `${secsTotal % 60n}${f}s`;
  const mins = secsTotal / 60n;
  if (mins > 0n) {
    out = `${mins % 60n}m${out}`;
    const hrs = mins / 60n;
    if (hrs > 0n) out = `${hrs}h${out}`;
  }
  return sign + out;
}

/** A duration in milliseconds as Go prints it (see {@link goDuration}). */
export function goDurationMs(ms: number): string {
  return goDuration(BigInt(Math.round(ms * 1e6)));
}

/**
 * A time as Go's encoding/json writes a `time.Time` in UTC: RFC 3339 with the fraction's trailing zeros
 * removed (`2026-11-28T17:25:02.5Z`, `2026-11-28T17:25:02Z`).
 */
export function rfc3339(t: Date | number): string {
  const iso = new Date(t).toISOString(); // always .sssZ
  return iso.replace(/\.?0+Z$/, 'Z');
}

/** `host:port`, with IPv6 hosts bracketed (Go's net.JoinHostPort). */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

// ---- query decoding (nats-server's decodeBool / decodeInt / decodeUint64 / decodeState) -------------

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** A boolean parameter as Go's strconv.ParseBool reads it; absent or empty is false. */
export function decodeBool(q: URLSearchParams, param: string): boolean {
  const s = q.get(param) ?? '';
  if (s === '') return false;
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  throw new BadRequest(
    `Error decoding boolean for '${param}': strconv.ParseBool: parsing ${goQuote(s)}: invalid syntax`,
  );
}

const INT64_MAX = 9223372036854775807n;

/** A signed integer parameter as Go's strconv.Atoi reads it; absent or empty is 0. */
export function decodeInt(q: URLSearchParams, param: string): number {
  const s = q.get(param) ?? '';
  if (s === '') return 0;
  const prefix = `Error decoding int for '${param}': strconv.Atoi: parsing ${goQuote(s)}`;
  if (!/^[+-]?\d+$/.test(s)) throw new BadRequest(`${prefix}: invalid syntax`);
  const v = BigInt(s);
  if (v > INT64_MAX || v < -INT64_MAX - 1n) throw new BadRequest(`${prefix}: value out of range`);
  return Number(v);
}

/** An unsigned integer parameter as Go's strconv.ParseUint reads it; absent or empty is 0. */
export function decodeUint64(q: URLSearchParams, param: string): number {
  const s = q.get(param) ?? '';
  if (s === '') return 0;
  const prefix = `Error decoding uint64 for '${param}': strconv.ParseUint: parsing ${goQuote(s)}`;
  if (!/^\d+$/.test(s)) throw new BadRequest(`${prefix}: invalid syntax`);
  const v = BigInt(s);
  if (v > UINT64_MAX) throw new BadRequest(`${prefix}: value out of range`);
  return Number(v);
}

/** `subs=1` lists subjects, `subs=detail` lists details (nats-server's decodeSubs). */
export function decodeSubs(q: URLSearchParams): { subs: boolean; detail: boolean } {
  if ((q.get('subs') ?? '').toLowerCase() === 'detail') return { subs: false, detail: true };
  return { subs: decodeBool(q, 'subs'), detail: false };
}

/** A string quoted the way Go's %q / strconv.Quote does for printable ASCII (enough for error texts). */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Go's uint64(-1): the largest uint64, as nats-server prints an unlimited limit in an unsigned field. */
export const UINT64_MAX = 18446744073709551615n;

const BIGINT_MARK = '\u0000bigint:';
const BIGINT_RE = /"\\u0000bigint:(\d+)"/g;

/**
 * JSON.stringify that also writes bigint values as plain JSON numbers (Go's uint64 fields beyond 2^53).
 * A bigint becomes a marked string first; no string of the data can carry the mark, since JSON.stringify
 * escapes a NUL character.
 */
export function monitorJson(data: unknown, indent?: number): string {
  const json = JSON.stringify(
    data,
    (_key, value: unknown) => (typeof value === 'bigint' ? `${BIGINT_MARK}${value}` : value),
    indent,
  );
  return json.includes('bigint:') ? json.replace(BIGINT_RE, '$1') : json;
}
