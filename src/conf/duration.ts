import type { ConfValue } from './types.js';

/** Nanoseconds per unit, as accepted by Go's time.ParseDuration. */
const UNITS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n], // micro sign
  ['\u03bcs', 1_000n], // greek mu
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

const LIMIT = 1n << 63n;

function isAsciiDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/**
 * Parses a duration with the syntax of Go's time.ParseDuration
 * (`[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, e.g. "1h2m3.5s", "500ms", "1us", "10ns";
 * "0" needs no unit) and returns nanoseconds as a bigint.
 * Throws an Error with Go's message on invalid input.
 */
export function parseGoDurationNanos(input: string): bigint {
  const invalid = (): Error => new Error(`time: invalid duration ${JSON.stringify(input)}`);
  let s = input;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();

  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || isAsciiDigit(s[0]))) throw invalid();

    let i = 0;
    while (isAsciiDigit(s[i])) i++;
    const pre = i > 0;
    const whole = pre ? BigInt(s.slice(0, i)) : 0n;
    if (whole > LIMIT) throw invalid();
    s = s.slice(i);

    let frac = 0n;
    let scale = 1;
    let post = false;
    if (s[0] === '.') {
      s = s.slice(1);
      let j = 0;
      while (isAsciiDigit(s[j])) j++;
      post = j > 0;
      // Like Go, stop accumulating precision once the fraction no longer fits in int64.
      const digits = s.slice(0, j);
      for (const d of digits) {
        const next = frac * 10n + BigInt(d);
        if (next >= LIMIT) break;
        frac = next;
        scale *= 10;
      }
      s = s.slice(j);
    }
    if (!pre && !post) throw invalid();

    let k = 0;
    while (k < s.length && s[k] !== '.' && !isAsciiDigit(s[k])) k++;
    if (k === 0) throw new Error(`time: missing unit in duration ${JSON.stringify(input)}`);
    const unitName = s.slice(0, k);
    s = s.slice(k);
    const unit = UNITS.get(unitName);
    if (unit === undefined) {
      throw new Error(`time: unknown unit ${JSON.stringify(unitName)} in duration ${JSON.stringify(input)}`);
    }

    if (whole > LIMIT / unit) throw invalid();
    let v = whole * unit;
    if (frac > 0n) {
      v += BigInt(Math.trunc(Number(frac) * (Number(unit) / scale)));
      if (v > LIMIT) throw invalid();
    }
    total += v;
    if (total > LIMIT) throw invalid();
  }
  if (neg) return -total;
  if (total > LIMIT - 1n) throw invalid();
  return total;
}

/**
 * Converts a configuration value to a duration in milliseconds (possibly fractional).
 *
 * - strings use Go's time.ParseDuration syntax: "1h2m3.5s", "500ms", "1us", "10ns", "-1.5h";
 * - numbers are seconds (nats-server's backward-compatible form, e.g. `ping_interval = 10`).
 *
 * Throws an Error for anything else.
 */
export function parseDuration(value: ConfValue): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`invalid duration ${value}`);
    return value * 1000;
  }
  if (typeof value === 'string') return Number(parseGoDurationNanos(value)) / 1e6;
  const kind = Array.isArray(value) ? 'array' : value instanceof Date ? 'date' : typeof value;
  throw new Error(
    `expected a duration string or a number of seconds, got ${kind === 'object' ? 'map' : kind}`,
  );
}
