/**
 * JSON the way nats-server's Go code reads and writes it, so that requests are accepted and refused as
 * the reference does and responses are byte-compatible:
 *
 * - Decoding (encoding/json.Unmarshal into a struct): the body must be a JSON object (or `null`); keys
 *   match field names case-insensitively (an exact match wins); unknown keys are ignored; `null` leaves a
 *   field at its zero value; a value of the wrong type, a fraction or an out-of-range number for an
 *   integer field makes the whole request invalid (nats-server answers 10025 "invalid JSON").
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

/** A decoded JSON object (the request), with Go's case-insensitive field lookup. */
export class JsonObject {
  private readonly lower = new Map<string, string>();

  constructor(readonly raw: Readonly<Record<string, unknown>>) {
    for (const k of Object.keys(raw)) {
      const l = k.toLowerCase();
      // Later keys win, as with Go's decoder filling the same field twice.
      this.lower.set(l, k);
    }
  }

  /** The value for field `name`: an exact key first, else a case-insensitive one; undefined for null. */
  get(name: string): unknown {
    let v: unknown;
    if (Object.hasOwn(this.raw, name)) v = this.raw[name];
    else {
      const k = this.lower.get(name.toLowerCase());
      v = k === undefined ? undefined : this.raw[k];
    }
    return v === null ? undefined : v;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  string(name: string): string | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new InvalidJsonError(`field ${name}: expected a string`);
    return v;
  }

  bool(name: string): boolean | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw new InvalidJsonError(`field ${name}: expected a boolean`);
    return v;
  }

  /** A Go integer field of `bits` bits (signed unless `unsigned`). */
  int(name: string, bits: 32 | 64 = 64, unsigned = false): number | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new InvalidJsonError(`field ${name}: expected an integer`);
    }
    const max = bits === 32 ? (unsigned ? 2 ** 32 - 1 : 2 ** 31 - 1) : unsigned ? 2 ** 64 - 1 : 2 ** 63 - 1;
    const min = unsigned ? 0 : bits === 32 ? -(2 ** 31) : -(2 ** 63);
    if (v < min || v > max) throw new InvalidJsonError(`field ${name}: integer out of range`);
    return v;
  }

  uint(name: string): number | undefined {
    return this.int(name, 64, true);
  }

  strings(name: string): string[] | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw new InvalidJsonError(`field ${name}: expected an array of strings`);
    return v.map((e) => {
      // Go decodes a null element of []string as "".
      if (e === null) return '';
      if (typeof e !== 'string') throw new InvalidJsonError(`field ${name}: expected an array of strings`);
      return e;
    });
  }

  object(name: string): JsonObject | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || Array.isArray(v))
      throw new InvalidJsonError(`field ${name}: expected an object`);
    return new JsonObject(v as Record<string, unknown>);
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

/**
 * Decode a request body into an object, as json.Unmarshal into a struct does: `null` is an empty
 * object; anything but an object (or malformed JSON, or an empty body) is invalid.
 */
export function decodeRequest(body: Buffer | string): JsonObject {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new InvalidJsonError((e as Error).message);
  }
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
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
  } catch {
    return false;
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
