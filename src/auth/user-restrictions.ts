/**
 * A user JWT's connection restrictions (nats-server's validateSrc and validateTimes, server/jwt.go):
 * `src`, the networks a user may connect from (CIDRs, as a list or one comma-separated string), and
 * `times`, the daily windows (`HH:MM:SS` start and end, in `times_location` or the server's time zone)
 * it may connect in; a connection made in a window closes when the window ends.
 */
import { BlockList, isIP } from 'node:net';

/** jwt.CIDRList: a list, or a comma-separated string (lower-cased, trimmed, no empties). */
function cidrList(src: string[] | string | undefined): string[] {
  if (src === undefined) return [];
  const list = typeof src === 'string' ? src.toLowerCase().split(',') : src;
  return list.map((s) => s.trim()).filter((s) => s !== '');
}

/** Whether `host` (the client's address) is in one of the user's `src` networks; true without any. */
export function srcAllowed(src: string[] | string | undefined, host: string): boolean {
  const cidrs = cidrList(src);
  if (cidrs.length === 0) return true;
  const ip = host.startsWith('::ffff:') && isIP(host.slice(7)) === 4 ? host.slice(7) : host;
  const family = isIP(ip);
  if (family === 0) return false;
  for (const cidr of cidrs) {
    const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
    const netFamily = m !== null ? isIP(m[1]!) : 0;
    const bits = m !== null ? Number(m[2]) : -1;
    // Go's ParseCIDR refuses anything else, and nats-server then refuses the user.
    if (m === null || netFamily === 0 || bits > (netFamily === 4 ? 32 : 128)) return false;
    if (netFamily !== family) continue;
    const list = new BlockList();
    list.addSubnet(m[1]!, bits, family === 4 ? 'ipv4' : 'ipv6');
    if (list.check(ip, family === 4 ? 'ipv4' : 'ipv6')) return true;
  }
  return false;
}

/** A daily window of jwt.TimeRange. */
export interface TimeRange {
  start?: string;
  end?: string;
}

/** The wall-clock date in `zone` ('' for the server's own) at `nowMs`. */
function dateIn(zone: string, nowMs: number): { y: number; m: number; d: number } {
  if (zone === '') {
    const t = new Date(nowMs);
    return { y: t.getFullYear(), m: t.getMonth(), d: t.getDate() };
  }
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
  }).formatToParts(new Date(nowMs));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  return { y: get('year'), m: get('month') - 1, d: get('day') };
}

/** The instant of a wall-clock time in `zone` ('' for the server's own). */
function instantIn(zone: string, y: number, m: number, d: number, h: number, mi: number, s: number): number {
  if (zone === '') return new Date(y, m, d, h, mi, s).getTime();
  const utc = Date.UTC(y, m, d, h, mi, s);
  // The zone's offset at that moment, found by formatting; a second pass settles DST edges.
  let t = utc - offsetIn(zone, utc);
  t = utc - offsetIn(zone, t);
  return t;
}

function offsetIn(zone: string, ms: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(ms));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(ms / 1000) * 1000;
}

/** Go's "15:04:05" layout: hours in one or two digits, minutes and seconds in two. */
function clock(s: string | undefined): [number, number, number] | undefined {
  const m = /^(\d{1,2}):(\d{2}):(\d{2})$/.exec(s ?? '');
  if (m === null) return undefined;
  const [h, mi, sec] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return h < 24 && mi < 60 && sec < 60 ? [h, mi, sec] : undefined;
}

/**
 * Whether now is inside one of the windows, and for how long the connection may stay (ms; 0 with no
 * windows). As nats-server computes it, a window that crosses midnight is the one that starts today.
 */
export function timesAllowed(
  times: TimeRange[] | undefined,
  zone: string | undefined,
  nowMs = Date.now(),
): { allowed: boolean; validForMs: number } {
  if (times === undefined || times.length === 0) return { allowed: true, validForMs: 0 };
  const tz = zone ?? '';
  let today: { y: number; m: number; d: number };
  try {
    today = dateIn(tz, nowMs);
  } catch {
    return { allowed: false, validForMs: 0 };
  }
  for (const r of times) {
    const start = clock(r.start);
    const end = clock(r.end);
    if (start === undefined || end === undefined) return { allowed: false, validForMs: 0 };
    const { y, m, d } = today;
    const startMs = instantIn(tz, y, m, d, ...start);
    const overnight = start[0] * 3600 + start[1] * 60 + start[2] > end[0] * 3600 + end[1] * 60 + end[2];
    const endMs = instantIn(tz, y, m, d + (overnight ? 1 : 0), ...end);
    if (startMs < nowMs && endMs > nowMs) return { allowed: true, validForMs: endMs - nowMs };
  }
  return { allowed: false, validForMs: 0 };
}
