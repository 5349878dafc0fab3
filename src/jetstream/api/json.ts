/**
 * JSON the way nats-server's Go code reads and writes it, so that requests are accepted and refused as
 * the reference does and responses are byte-compatible:
 *
 * - Decoding (encoding/json.Unmarshal into a struct): the body must be a JSON object (or `null`) in
 *   Go's strict syntax, nested at most 10,000 deep (anywhere, unknown fields included); keys match field
 *   names case-insensitively with Unicode simple folding (`ſ` matches `s`), the last of several keys
 *   for one field winning; unknown keys are ignored; `null` leaves a field at its zero value; a value of
 *   the wrong type, or a number whose literal Go's strconv would not take for the field (a fraction, an
 *   exponent, `-0` for an unsigned field, out of range) makes the whole request invalid (nats-server
 *   answers 10025 "invalid JSON"). Escaped lone surrogates become U+FFFD, as in Go.
 * - Encoding (json.Marshal): `<`, `>`, `&`, U+2028 and U+2029 inside strings are escaped as `\u003c`...,
 *   as Go's HTML-safe encoder does.
 */

/** The body is not JSON, or does not fit the request's shape (nats-server: "invalid JSON"). */
export class InvalidJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidJsonError';
  }
}

/** One member of a parsed object: its key, value and (for numbers) literal text. */
type Entry = readonly [key: string, value: unknown, num: string | undefined];

/** A member's value and number literal. */
interface Member {
  v: unknown;
  num: string | undefined;
}

/**
 * A decoded JSON object (the request), read as Go's decoder fills a struct: a field takes every member
 * whose key folds to its name, in order, so each of them must have the field's type (the first wrong one
 * makes the request invalid); the last non-null one is the value. Several objects for one field merge.
 */
export class JsonObject {
  private readonly fields = new Map<string, Member[]>();

  /** `raw` (and `more`, merged after it, as Go decodes a repeated object field into the same struct). */
  constructor(
    readonly raw: Readonly<Record<string, unknown>>,
    ...more: Readonly<Record<string, unknown>>[]
  ) {
    for (const r of [raw, ...more]) {
      const entries: readonly Entry[] =
        objectEntries.get(r) ?? Object.entries(r).map(([k, v]): Entry => [k, v, numberTexts.get(r)?.get(k)]);
      for (const [k, v, num] of entries) {
        const f = goFold(k);
        let l = this.fields.get(f);
        if (l === undefined) {
          l = [];
          this.fields.set(f, l);
        }
        l.push({ v, num });
      }
    }
    if (more.length > 0) this.raw = Object.assign({}, raw, ...more);
  }

  /** Every member for field `name`, nulls included, in order. */
  private members(name: string): Member[] {
    return this.fields.get(goFold(name)) ?? [];
  }

  /** The last non-null member for `name`. */
  private last(name: string): Member | undefined {
    const l = this.members(name);
    for (let i = l.length - 1; i >= 0; i--) if (l[i]!.v !== null) return l[i];
    return undefined;
  }

  /** The value for field `name` (the last non-null member); undefined for null or absent. */
  get(name: string): unknown {
    return this.last(name)?.v;
  }

  /** Every non-null value for field `name`, in order (Go type-checks each one). */
  all(name: string): unknown[] {
    return this.members(name)
      .filter((m) => m.v !== null)
      .map((m) => m.v);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Values checked with `check` (each non-null member); the last one. */
  private typed<T>(name: string, check: (m: Member) => T): T | undefined {
    let out: T | undefined;
    for (const m of this.members(name)) if (m.v !== null) out = check(m);
    return out;
  }

  string(name: string): string | undefined {
    return this.typed(name, ({ v }) => {
      if (typeof v !== 'string') throw new InvalidJsonError(`field ${name}: expected a string`);
      return v;
    });
  }

  bool(name: string): boolean | undefined {
    return this.typed(name, ({ v }) => {
      if (typeof v !== 'boolean') throw new InvalidJsonError(`field ${name}: expected a boolean`);
      return v;
    });
  }

  /**
   * A string enum with a Go UnmarshalJSON (RetentionPolicy, AckPolicy, ...): every member, `null`
   * included (Go hands it to UnmarshalJSON, which refuses it), must be one of `allowed` (after `map`).
   */
  enumOf<T extends string>(
    name: string,
    allowed: readonly T[],
    map: (s: string) => string = (s) => s,
  ): T | undefined {
    let out: T | undefined;
    for (const { v } of this.members(name)) {
      const s = typeof v === 'string' ? map(v) : undefined;
      if (s === undefined || !(allowed as readonly string[]).includes(s)) {
        throw new InvalidJsonError(`field ${name}: can not unmarshal ${JSON.stringify(v)}`);
      }
      out = s as T;
    }
    return out;
  }

  /** A Go integer field of `bits` bits (signed unless `unsigned`). */
  int(name: string, bits: 32 | 64 = 64, unsigned = false): number | undefined {
    return this.typed(name, ({ v, num }) => {
      if (typeof v !== 'number') throw new InvalidJsonError(`field ${name}: expected an integer`);
      return goInt(v, num, bits, unsigned, name);
    });
  }

  uint(name: string): number | undefined {
    return this.int(name, 64, true);
  }

  /**
   * A []string field. As Go decodes a repeated array into the same slice, element by element, a `null`
   * element keeps what an earlier array had at that index ("" when none); a `null` array resets it.
   */
  strings(name: string): string[] | undefined {
    return goSlice(
      this.members(name),
      name,
      (e) => {
        if (typeof e !== 'string') throw new InvalidJsonError(`field ${name}: expected an array of strings`);
        return e;
      },
      '',
    );
  }

  /** A slice field of any element type (see {@link strings}); `elem` decodes one non-null element. */
  slice<T>(name: string, elem: (e: unknown, num: string | undefined) => T, zero: T): T[] | undefined {
    return goSlice(this.members(name), name, (e, a, i) => elem(e, numberTexts.get(a)?.get(i)), zero);
  }

  /** A (pointer to a) struct field: the objects after the last `null`, merged. */
  object(name: string): JsonObject | undefined {
    let objs: Record<string, unknown>[] = [];
    for (const { v } of this.members(name)) {
      if (v === null) {
        objs = [];
        continue;
      }
      if (typeof v !== 'object' || Array.isArray(v))
        throw new InvalidJsonError(`field ${name}: expected an object`);
      objs.push(v as Record<string, unknown>);
    }
    if (objs.length === 0) return undefined;
    const [first, ...rest] = objs;
    return new JsonObject(first!, ...rest);
  }

  /** A map of string to string (e.g. metadata). */
  stringMap(name: string): Record<string, string> | undefined {
    const o = this.object(name);
    if (o === undefined) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.raw)) {
      if (v === null) out[k] = '';
      else if (typeof v === 'string') out[k] = v;
      else throw new InvalidJsonError(`field ${name}: expected string values`);
    }
    return out;
  }
}

/** Go's decoding of each array member into one slice (see {@link JsonObject.strings}). */
function goSlice<T>(
  members: readonly Member[],
  name: string,
  elem: (e: unknown, a: unknown[], i: number) => T,
  zero: T,
): T[] | undefined {
  let backing: T[] = [];
  let out: T[] | undefined;
  for (const { v } of members) {
    if (v === null) {
      backing = [];
      out = undefined;
      continue;
    }
    if (!Array.isArray(v)) throw new InvalidJsonError(`field ${name}: expected an array`);
    v.forEach((e, i) => {
      if (e !== null) backing[i] = elem(e, v, i);
      else if (i >= backing.length) backing[i] = zero;
    });
    out = backing.slice(0, v.length);
  }
  return out;
}

/**
 * Decode a request body into an object, as json.Unmarshal into a struct does: `null` is an empty
 * object; anything but an object (or malformed JSON, or an empty body) is invalid.
 */
export function decodeRequest(body: Buffer | string): JsonObject {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  const v = parseGoJson(text);
  if (v === null) return new JsonObject({});
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidJsonError('expected a JSON object');
  return new JsonObject(v as Record<string, unknown>);
}

/**
 * nats-server's isEmptyRequest: no body, `{}`, or any JSON object without keys. Malformed JSON is not
 * empty (the handler then reports it as invalid).
 */
export function isEmptyRequest(body: Buffer): boolean {
  if (body.length === 0) return true;
  const text = body.toString('utf8');
  if (text === '{}') return true;
  try {
    const v = parseGoJson(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
  } catch {
    return false;
  }
}

/** Go's encoding/json nesting limit (scanner.go maxNestingDepth). */
export const MAX_JSON_DEPTH = 10000;

/** The literal text of number members, per parsed object or array, for Go's integer decoding. */
const numberTexts = new WeakMap<object, Map<string | number, string>>();
/** Every member of a parsed object in order, duplicates included (Go decodes each one). */
const objectEntries = new WeakMap<object, Entry[]>();

/**
 * Go's case folding of field names (bytes.EqualFold): ASCII upper case, and for other characters the
 * upper case of the lower case, so that `ſ` (U+017F) matches `s` and the Kelvin sign matches `k`.
 */
export function goFold(k: string): string {
  if (/^[\x00-\x7f]*$/.test(k)) return k.toUpperCase();
  let out = '';
  for (const c of k) {
    if (c.charCodeAt(0) < 0x80) out += c.toUpperCase();
    else {
      const f = c.toLowerCase().toUpperCase();
      out += [...f].length === 1 ? f : c;
    }
  }
  return out;
}

const INT_RE = /^-?(?:0|[1-9][0-9]*)$/;

/**
 * A number decoded into a Go integer field: strconv.ParseInt / ParseUint of its literal (no fraction,
 * no exponent, no sign for unsigned, in range). Without the literal, the value itself is checked.
 */
export function goInt(
  v: number,
  text: string | undefined,
  bits: 32 | 64,
  unsigned: boolean,
  name: string,
): number {
  const bad = (why: string): never => {
    throw new InvalidJsonError(`field ${name}: ${why}`);
  };
  const max =
    bits === 32 ? (unsigned ? 2n ** 32n - 1n : 2n ** 31n - 1n) : unsigned ? 2n ** 64n - 1n : 2n ** 63n - 1n;
  const min = unsigned ? 0n : bits === 32 ? -(2n ** 31n) : -(2n ** 63n);
  if (text !== undefined) {
    if (!INT_RE.test(text)) bad('expected an integer');
    if (unsigned && text.startsWith('-')) bad('expected an unsigned integer');
    const b = BigInt(text);
    if (b < min || b > max) bad('integer out of range');
    return Number(b);
  }
  if (!Number.isInteger(v)) bad('expected an integer');
  if (unsigned && Object.is(v, -0)) bad('expected an unsigned integer');
  if (v < Number(min) || v > Number(max)) bad('integer out of range');
  return v;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const NUMBER_RE = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const STRING_RE = /"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * JSON text parsed as Go's encoding/json scans it: strict RFC 8259 syntax, at most
 * {@link MAX_JSON_DEPTH} nested arrays and objects, escaped lone surrogates as U+FFFD. Values are what
 * JSON.parse gives (the last of duplicate keys wins); the literal of every number member is kept for
 * {@link JsonObject.int}. Iterative, so depth does not use the call stack. Throws InvalidJsonError.
 */
export function parseGoJson(text: string): unknown {
  const n = text.length;
  let i = 0;
  const fail = (what: string): never => {
    throw new InvalidJsonError(`invalid JSON at offset ${i}: ${what}`);
  };
  const ws = (): void => {
    while (i < n && WS.has(text.charCodeAt(i))) i++;
  };
  const readString = (): string => {
    STRING_RE.lastIndex = i;
    const m = STRING_RE.exec(text);
    if (m === null) return fail('invalid string');
    i += m[0].length;
    const s = m[0].includes('\\') ? (JSON.parse(m[0]) as string) : m[0].slice(1, -1);
    return s.includes('\\u') || /[\ud800-\udfff]/.test(s) ? s.replace(LONE_SURROGATE, '\ufffd') : s;
  };
  interface Frame {
    c: Record<string, unknown> | unknown[];
    key: string;
  }
  const stack: Frame[] = [];
  let root: unknown;
  const put = (v: unknown, num?: string): void => {
    const top = stack[stack.length - 1];
    if (top === undefined) {
      root = v;
      return;
    }
    const c = top.c;
    const slot: string | number = Array.isArray(c) ? c.length : top.key;
    if (Array.isArray(c)) c.push(v);
    else {
      Object.defineProperty(c, top.key, { value: v, writable: true, enumerable: true, configurable: true });
      let entries = objectEntries.get(c);
      if (entries === undefined) {
        entries = [];
        objectEntries.set(c, entries);
      }
      entries.push([top.key, v, num]);
    }
    let nums = numberTexts.get(c);
    if (num !== undefined) {
      if (nums === undefined) {
        nums = new Map();
        numberTexts.set(c, nums);
      }
      nums.set(slot, num);
    } else nums?.delete(slot);
  };
  const readKey = (top: Frame): void => {
    ws();
    if (text.charCodeAt(i) !== 0x22) fail('expected a key');
    top.key = readString();
    ws();
    if (text.charCodeAt(i) !== 0x3a) fail('expected a colon');
    i++;
  };
  for (;;) {
    // A value.
    ws();
    const ch = text.charCodeAt(i);
    let opened = false;
    if (ch === 0x7b || ch === 0x5b) {
      if (stack.length >= MAX_JSON_DEPTH) fail('exceeded max depth');
      const frame: Frame = { c: ch === 0x7b ? {} : [], key: '' };
      i++;
      ws();
      const close = ch === 0x7b ? 0x7d : 0x5d;
      if (text.charCodeAt(i) === close) {
        i++;
        put(frame.c);
      } else {
        stack.push(frame);
        if (ch === 0x7b) readKey(frame);
        opened = true;
      }
    } else if (ch === 0x22) put(readString());
    else if (ch === 0x2d || (ch >= 0x30 && ch <= 0x39)) {
      NUMBER_RE.lastIndex = i;
      const m = NUMBER_RE.exec(text);
      if (m === null) fail('invalid number');
      const lit = m![0];
      i += lit.length;
      put(Number(lit), lit);
    } else if (text.startsWith('true', i)) {
      i += 4;
      put(true);
    } else if (text.startsWith('false', i)) {
      i += 5;
      put(false);
    } else if (text.startsWith('null', i)) {
      i += 4;
      put(null);
    } else fail(i >= n ? 'unexpected end of JSON input' : 'invalid character');
    if (opened) continue;
    // After a value: close containers, or go on to the next member.
    for (;;) {
      ws();
      const top = stack[stack.length - 1];
      if (top === undefined) {
        if (i < n) fail('invalid character after top-level value');
        return root;
      }
      const c = text.charCodeAt(i);
      const isArray = Array.isArray(top.c);
      if (c === 0x2c) {
        i++;
        if (!isArray) readKey(top);
        break;
      }
      if (c === (isArray ? 0x5d : 0x7d)) {
        i++;
        stack.pop();
        put(top.c);
        continue;
      }
      fail(i >= n ? 'unexpected end of JSON input' : 'expected a comma or a closing bracket');
    }
  }
}

const GO_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** JSON.stringify with Go's HTML-safe escaping of `<`, `>`, `&`, U+2028 and U+2029. */
export function goJson(v: unknown): string {
  const s = JSON.stringify(v);
  return /[<>&\u2028\u2029]/.test(s) ? s.replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c]!) : s;
}
