/**
 * JetStream timestamps: nanoseconds since the Unix epoch as bigint (the store's unit), written as Go
 * writes a time.Time in JSON (RFC 3339 in UTC with up to nine fractional digits, trailing zeros dropped)
 * and Go's zero time for "never".
 */

/** Go's zero time.Time in JSON (what nats-server sends for first_ts of an empty stream). */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

const NS_PER_MS = 1_000_000n;

/** RFC 3339 with nanoseconds (Go's time.RFC3339Nano, UTC); 0n is Go's zero time. */
export function rfc3339Nano(ns: bigint): string {
  if (ns === 0n) return GO_ZERO_TIME;
  let ms = ns / NS_PER_MS;
  let rem = ns % NS_PER_MS;
  if (rem < 0n) {
    rem += NS_PER_MS;
    ms -= 1n;
  }
  const iso = new Date(Number(ms)).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const frac = (iso.slice(20, 23) + rem.toString().padStart(6, '0')).replace(/0+$/, '');
  return frac === '' ? `${iso.slice(0, 19)}Z` : `${iso.slice(0, 19)}.${frac}Z`;
}

/** Parse RFC 3339 (with optional fraction and offset) into nanoseconds; Go's zero time is 0n. */
export function parseRfc3339Nano(s: string): bigint {
  if (s === GO_ZERO_TIME) return 0n;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (m === null) throw new Error(`invalid RFC 3339 time "${s}"`);
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) throw new Error(`invalid RFC 3339 time "${s}"`);
  const frac = BigInt((m[2] ?? '').padEnd(9, '0'));
  return BigInt(ms) * NS_PER_MS + frac;
}
