/**
 * Parser for the nats-server configuration format, behaviourally equivalent
 * to nats-server 2.9's `conf/parse.go` (non-pedantic mode), plus positions.
 *
 * Value semantics:
 *  - integers -> number, with optional size suffix (case-insensitive):
 *
 *      suffix          multiplier      suffix              multiplier
 *      (none)          1
 *      k               1000            kb  ki  kib         1024
 *      m               1000^2          mb  mi  mib         1024^2
 *      g               1000^3          gb  gi  gib         1024^3
 *      t               1000^4          tb  ti  tib         1024^4
 *      p               1000^5          pb  pi  pib         1024^5
 *      e               1000^6          eb  ei  eib         1024^6
 *
 *    i.e. "kb" is 1024 (like "ki"/"kib"), only the bare letter is decimal.
 *    Any other suffix the lexer accepts (e.g. "1kbb") makes the reference
 *    silently drop the key; that is reproduced. Results are computed as
 *    int64 with wrap-around (e.g. 8eb == -2^63), then converted to number.
 *    Integers outside int64 are an error.
 *  - floats -> number; true/false/yes/no/on/off (any case) -> boolean;
 *    `YYYY-MM-DDTHH:MM:SSZ` -> Date (UTC); everything else -> string
 *    (durations such as "2m" stay strings: see parseDuration()).
 *  - `$name` (unquoted, as a whole value) is a variable reference, resolved
 *    from the enclosing maps (innermost first, arrays are skipped, only keys
 *    already defined above the reference), then from the environment; an
 *    environment value is parsed as if written `pk=<value>`. `$2a$...`
 *    (bcrypt hashes) is never a variable. Variables are not expanded inside
 *    quoted strings. Unknown variables are an error.
 *  - `include path` parses `path` (joined to the including file's directory,
 *    or the current directory for text without a file -- note that, like Go's
 *    filepath.Join, an absolute path is still appended to that directory) on
 *    its own (it cannot see the includer's variables) and merges its keys
 *    into the current map at that point. Include cycles are reported as
 *    errors (the reference would recurse forever).
 *  - Later duplicate keys overwrite earlier ones.
 */

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Lexer, type Token } from './lexer.js';
import {
  ConfError,
  type ConfMap,
  type ConfPosition,
  type ConfValue,
  formatPosition,
  keyPosition,
  LineIndex,
  recordPosition,
} from './types.js';

export interface ParseOptions {
  /**
   * Name of the file the text came from: used in error messages and
   * positions, and `include`s are resolved relative to its directory.
   */
  file?: string;
  /** Environment used to resolve `$VARIABLES` not defined in the file (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

interface Session {
  env: Readonly<Record<string, string | undefined>>;
  /** Absolute paths of the files currently being parsed (include cycle detection). */
  includeStack: string[];
  /** Nesting of environment-variable parses (guards against `A=$A`). */
  envDepth: number;
}

const MAX_INCLUDE_DEPTH = 64;
const MAX_ENV_DEPTH = 16;

/** Parses configuration text. */
export function parseConf(text: string, opts: ParseOptions = {}): ConfMap {
  const file = opts.file ?? '';
  return parseText(text, file, file === '' ? '.' : path.dirname(file), {
    env: opts.env ?? process.env,
    includeStack: file === '' ? [] : [path.resolve(file)],
    envDepth: 0,
  });
}

/** Reads and parses a configuration file. */
export function parseConfFile(file: string, opts: Omit<ParseOptions, 'file'> = {}): ConfMap {
  const text = readConfFile(file, { file, line: 0, column: 0 }, 'error opening config file');
  return parseText(text, file, path.dirname(file), {
    env: opts.env ?? process.env,
    includeStack: [path.resolve(file)],
    envDepth: 0,
  });
}

function readConfFile(file: string, where: ConfPosition, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfError(`${what}: ${err instanceof Error ? err.message : String(err)}`, where, {
      cause: err,
    });
  }
}

function parseText(text: string, file: string, baseDir: string, session: Session): ConfMap {
  return new Parser(text, file, baseDir, session).run();
}

function newMap(): ConfMap {
  return {};
}

/** Defines an own enumerable property (safe for keys such as "__proto__"). */
function setKey(map: ConfMap, key: string, value: ConfValue): void {
  Object.defineProperty(map, key, { value, writable: true, enumerable: true, configurable: true });
}

interface Frame {
  container: ConfMap | ConfValue[];
  offset: number;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

const SIZE_SUFFIXES: ReadonlyMap<string, bigint> = (() => {
  const m = new Map<string, bigint>([['', 1n]]);
  ['k', 'm', 'g', 't', 'p', 'e'].forEach((letter, i) => {
    const power = BigInt(i + 1);
    m.set(letter, 1000n ** power);
    for (const s of ['b', 'i', 'ib']) m.set(letter + s, 1024n ** power);
  });
  return m;
})();

class Parser {
  private readonly lexer: Lexer;
  private readonly lines: LineIndex;
  private readonly root: ConfMap = newMap();
  private readonly stack: Frame[] = [{ container: this.root, offset: 0 }];
  private readonly keys: Token[] = [];

  constructor(
    text: string,
    file: string,
    private readonly baseDir: string,
    private readonly session: Session,
  ) {
    this.lexer = new Lexer(text);
    this.lines = new LineIndex(text, file);
  }

  run(): ConfMap {
    for (;;) {
      const tok = this.lexer.nextToken();
      if (tok.type === 'eof') return this.root;
      this.process(tok);
    }
  }

  private pos(offset: number): ConfPosition {
    return this.lines.at(offset);
  }

  private fail(reason: string, offset: number): never {
    throw new ConfError(reason, this.pos(offset));
  }

  private get top(): Frame {
    return this.stack[this.stack.length - 1]!;
  }

  private process(tok: Token): void {
    switch (tok.type) {
      case 'error':
        this.fail(tok.value, tok.offset);
        break;
      case 'key':
        this.keys.push(tok);
        break;
      case 'mapStart':
        this.stack.push({ container: newMap(), offset: tok.offset });
        break;
      case 'arrayStart':
        this.stack.push({ container: [], offset: tok.offset });
        break;
      case 'mapEnd':
      case 'arrayEnd': {
        const frame = this.stack.pop()!;
        if (this.stack.length === 0) this.fail('BUG in parser: context stack empty', tok.offset);
        this.setValue(frame.container, frame.offset);
        break;
      }
      case 'string':
        this.setValue(tok.value, tok.offset);
        break;
      case 'integer': {
        const n = this.integer(tok);
        if (n !== undefined) this.setValue(n, tok.offset);
        break;
      }
      case 'float':
        this.setValue(this.float(tok), tok.offset);
        break;
      case 'bool':
        this.setValue(this.bool(tok), tok.offset);
        break;
      case 'datetime':
        this.setValue(this.datetime(tok), tok.offset);
        break;
      case 'variable':
        this.setValue(this.variable(tok), tok.offset);
        break;
      case 'include':
        this.include(tok);
        break;
      case 'text':
      case 'commentStart':
      case 'eof':
        break;
    }
  }

  private setValue(value: ConfValue, offset: number, from?: ConfPosition): void {
    const ctx = this.top.container;
    if (Array.isArray(ctx)) {
      recordPosition(ctx, ctx.length, from ?? this.pos(offset));
      ctx.push(value);
      return;
    }
    const key = this.keys.pop();
    if (key === undefined) this.fail('BUG in parser: keys stack empty', offset);
    setKey(ctx, key.value, value);
    recordPosition(ctx, key.value, from ?? this.pos(key.offset));
  }

  private integer(tok: Token): number | undefined {
    const text = tok.value;
    // Leading digits and '-' (Unicode digits included, as in the reference;
    // those then fail the int64 conversion below).
    const m = /^[\p{Nd}-]*/u.exec(text)!;
    const digits = m[0];
    if (!/^-?[0-9]+$/.test(digits)) this.fail(`expected integer, but got '${text}'`, tok.offset);
    const n = BigInt(digits);
    if (n > INT64_MAX || n < INT64_MIN) this.fail(`integer '${text}' is out of the range`, tok.offset);
    const mult = SIZE_SUFFIXES.get(text.slice(digits.length).trim().toLowerCase());
    // Unknown suffix: the reference sets nothing (the key is dropped).
    if (mult === undefined) return undefined;
    return Number(BigInt.asIntN(64, n * mult));
  }

  private float(tok: Token): number {
    if (!/^-?[0-9]+\.[0-9]+$/.test(tok.value))
      this.fail(`expected float, but got '${tok.value}'`, tok.offset);
    const n = Number(tok.value);
    if (!Number.isFinite(n)) this.fail(`float '${tok.value}' is out of the range`, tok.offset);
    return n;
  }

  private bool(tok: Token): boolean {
    switch (tok.value.toLowerCase()) {
      case 'true':
      case 'yes':
      case 'on':
        return true;
      case 'false':
      case 'no':
      case 'off':
        return false;
      default:
        return this.fail(`expected boolean value, but got '${tok.value}'`, tok.offset);
    }
  }

  private datetime(tok: Token): Date {
    const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z$/.exec(tok.value);
    const bad = (): never =>
      this.fail(`expected Zulu formatted DateTime, but got '${tok.value}'`, tok.offset);
    if (m === null) return bad();
    const [year, month, day, hour, min, sec] = m.slice(1).map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    if (month < 1 || month > 12 || hour > 23 || min > 59 || sec > 59) return bad();
    const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    const maxDay = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
    if (day < 1 || day > maxDay) return bad();
    const d = new Date(0);
    d.setUTCFullYear(year, month - 1, day);
    d.setUTCHours(hour, min, sec, 0);
    return d;
  }

  private variable(tok: Token): ConfValue {
    const name = tok.value;
    // Raw bcrypt hashes ("$2a$...") are not variable references.
    if (name.startsWith('2a$')) return `$${name}`;

    for (let i = this.stack.length - 1; i >= 0; i--) {
      const ctx = this.stack[i]!.container;
      if (!Array.isArray(ctx) && Object.hasOwn(ctx, name)) return ctx[name]!;
    }

    const envValue = Object.hasOwn(this.session.env, name) ? this.session.env[name] : undefined;
    if (typeof envValue === 'string') {
      if (this.session.envDepth >= MAX_ENV_DEPTH) {
        this.fail(
          `variable reference for '${name}' could not be parsed: too many nested environment variable references`,
          tok.offset,
        );
      }
      // The environment value is parsed like the value of a key.
      let parsed: ConfMap;
      try {
        parsed = parseText(`pk=${envValue}`, `<env ${name}>`, '.', {
          ...this.session,
          envDepth: this.session.envDepth + 1,
        });
      } catch (err) {
        if (!(err instanceof ConfError)) throw err;
        this.fail(`variable reference for '${name}' could not be parsed: ${err.reason}`, tok.offset);
      }
      if (Object.hasOwn(parsed, 'pk')) return parsed['pk']!;
    }
    return this.fail(`variable reference for '${name}' can not be found`, tok.offset);
  }

  private include(tok: Token): void {
    const where = this.pos(tok.offset);
    const target = path.join(this.baseDir, tok.value);
    const resolved = path.resolve(target);
    const chain = this.session.includeStack;
    if (chain.includes(resolved)) {
      this.fail(`include cycle detected: ${[...chain, resolved].join(' -> ')}`, tok.offset);
    }
    if (chain.length >= MAX_INCLUDE_DEPTH) this.fail(`includes nested too deeply`, tok.offset);

    const text = readConfFile(
      target,
      where,
      `error parsing include file '${tok.value}', error opening config file`,
    );
    let included: ConfMap;
    try {
      included = parseText(text, target, path.dirname(target), {
        ...this.session,
        includeStack: [...chain, resolved],
      });
    } catch (err) {
      if (!(err instanceof ConfError)) throw err;
      // Report the position inside the included file, and where it was included from.
      throw new ConfError(
        `${err.reason} (in file included from ${formatPosition(where)})`,
        { file: err.file, line: err.line, column: err.column },
        { cause: err },
      );
    }
    for (const [key, value] of Object.entries(included)) {
      this.keys.push({ type: 'key', value: key, offset: tok.offset });
      this.setValue(value, tok.offset, keyPosition(included, key));
    }
  }
}
