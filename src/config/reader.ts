/**
 * Typed, positioned access to a parsed configuration: every check fails with `file:line:column: reason`
 * pointing at the key (or array element) concerned, and the loader collects the failures of all keys so
 * that one run reports every problem, as nats-server does.
 */
import {
  type ConfMap,
  type ConfPosition,
  type ConfValue,
  elementPosition,
  formatPosition,
  keyPosition,
  parseGoDurationNanos,
} from '../conf/index.js';
import type { ServerConfig } from '../server/options.js';
import { type ConfigIssue, IssueSignal, makeIssue } from './errors.js';

/** A value in the configuration together with where it sits: a key of a map or an element of an array. */
export interface ConfigField {
  /** The map or array holding the value. */
  readonly parent: ConfMap | ConfValue[];
  /** The key as written (maps) or the index (arrays). */
  readonly key: string | number;
  readonly value: ConfValue;
  /** Dotted path for messages, e.g. `authorization.users[0].password`. */
  readonly path: string;
}

export function isConfMap(v: ConfValue | undefined): v is ConfMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** How a value is named in messages: `string "x"`, `integer 5`, `map`, ... */
export function describeValue(v: ConfValue): string {
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  if (typeof v === 'number') return Number.isInteger(v) ? `integer ${v}` : `float ${v}`;
  if (typeof v === 'boolean') return `boolean ${v}`;
  if (v instanceof Date) return `datetime ${v.toISOString()}`;
  if (Array.isArray(v)) return 'array';
  return 'map';
}

/** Handlers for the keys of one block, by lower-case key name. */
export type KeyHandlers = Readonly<Record<string, (field: ConfigField) => void>>;

export interface ForEachKeyOptions {
  /** The message for a key no handler knows (default nats-server's `unknown field "<key>"`). */
  unknown?: (field: ConfigField) => string;
}

/**
 * The state of one load: the configuration being built, the file, the problems found so far, and the
 * typed readers. Extension handlers (see `registerConfigKey`) receive it.
 */
export class ConfigReader {
  /** The configuration being built; handlers add their options to it. */
  readonly config: ServerConfig = {};
  readonly errors: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];

  constructor(
    /** The configuration file (as given), for messages. */
    readonly file: string,
    private readonly usedVariables: ReadonlySet<string> = new Set(),
  ) {}

  /** The field for `key` of `map` (whose own path is `parentPath`). */
  field(map: ConfMap, key: string, parentPath = ''): ConfigField {
    return { parent: map, key, value: map[key]!, path: parentPath === '' ? key : `${parentPath}.${key}` };
  }

  /** The fields of an array's elements. */
  elements(field: ConfigField, array: ConfValue[]): ConfigField[] {
    return array.map((value, i) => ({ parent: array, key: i, value, path: `${field.path}[${i}]` }));
  }

  /** Where a field was written; falls back to the file itself. */
  position(field: ConfigField): ConfPosition {
    const p = Array.isArray(field.parent)
      ? elementPosition(field.parent, field.key as number)
      : keyPosition(field.parent, field.key as string);
    return p ?? { file: this.file, line: 0, column: 0 };
  }

  /** Abandon the current key with an error at `field`. */
  fail(field: ConfigField, reason: string): never {
    throw new IssueSignal(makeIssue(this.position(field), field.path, reason));
  }

  /** Record an error at `field` and carry on. */
  error(field: ConfigField, reason: string): void {
    this.errors.push(makeIssue(this.position(field), field.path, reason));
  }

  /** Record a warning at `field` (nats-server's `invalid use of field "x": ...`). */
  warn(field: ConfigField, reason: string): void {
    this.warnings.push(makeIssue(this.position(field), field.path, reason));
  }

  /** Run `fn`; a failure inside it is recorded and the load continues with the next key. */
  attempt(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof IssueSignal) this.errors.push(err.issue);
      else throw err;
    }
  }

  /** Whether the key of `field` is referenced as a `$variable` (such keys may be unknown). */
  isUsedVariable(field: ConfigField): boolean {
    if (Array.isArray(field.parent)) return false;
    const p = keyPosition(field.parent, field.key as string);
    return p !== undefined && this.usedVariables.has(formatPosition(p));
  }

  /**
   * Calls the handler of every key of `map` (matched case-insensitively, as nats-server does), each in
   * its own `attempt`. Keys without a handler are errors, unless they are used as variables.
   */
  forEachKey(map: ConfMap, parentPath: string, handlers: KeyHandlers, opts: ForEachKeyOptions = {}): void {
    for (const key of Object.keys(map)) {
      const field = this.field(map, key, parentPath);
      const lower = key.toLowerCase();
      const handler = Object.hasOwn(handlers, lower) ? handlers[lower] : undefined;
      this.attempt(() => {
        if (handler !== undefined) handler(field);
        else if (!this.isUsedVariable(field)) {
          this.fail(field, opts.unknown?.(field) ?? `unknown field ${JSON.stringify(key)}`);
        }
      });
    }
  }

  // ---- typed readers: each fails at the field with a message naming it ----

  private expected(field: ConfigField, what: string): never {
    return this.fail(field, `${field.path}: expected ${what}, got ${describeValue(field.value)}`);
  }

  string(field: ConfigField): string {
    return typeof field.value === 'string' ? field.value : this.expected(field, 'a string');
  }

  bool(field: ConfigField): boolean {
    return typeof field.value === 'boolean' ? field.value : this.expected(field, 'a boolean');
  }

  /** An integer, optionally within [min, max]. */
  integer(field: ConfigField, range: { min?: number; max?: number } = {}): number {
    const v = field.value;
    if (typeof v !== 'number' || !Number.isInteger(v)) return this.expected(field, 'an integer');
    if (range.min !== undefined && v < range.min) {
      this.fail(field, `${field.path}: value ${v} is too small (minimum ${range.min})`);
    }
    if (range.max !== undefined && v > range.max) {
      this.fail(field, `${field.path}: value ${v} is too big (maximum ${range.max})`);
    }
    return v;
  }

  /** An integer or a float. */
  number(field: ConfigField): number {
    return typeof field.value === 'number' ? field.value : this.expected(field, 'a number');
  }

  map(field: ConfigField): ConfMap {
    return isConfMap(field.value) ? field.value : this.expected(field, 'a map');
  }

  array(field: ConfigField): ConfValue[] {
    return Array.isArray(field.value) ? field.value : this.expected(field, 'an array');
  }

  /** A string or an array of strings (nats-server's parseStringArray). */
  strings(field: ConfigField): string[] {
    const v = field.value;
    if (typeof v === 'string') return [v];
    if (!Array.isArray(v)) return this.expected(field, 'a string or an array of strings');
    return this.elements(field, v).map((e) => this.string(e));
  }

  /** A Go duration string ("2m", "1h30m", "500ms"), in milliseconds. */
  durationString(field: ConfigField): number {
    const v = field.value;
    if (typeof v !== 'string') return this.expected(field, 'a duration string such as "30s"');
    try {
      return Number(parseGoDurationNanos(v)) / 1e6;
    } catch (err) {
      return this.fail(field, `error parsing ${field.path}: ${(err as Error).message}`);
    }
  }

  /**
   * nats-server's parseDuration: a duration string, or (backward compatible) a number of seconds, which
   * is accepted with nats-server's warning `<key> should be converted to a duration`. Milliseconds.
   */
  duration(field: ConfigField): number {
    const v = field.value;
    if (typeof v === 'number') {
      if (!Number.isInteger(v))
        return this.expected(field, 'a duration string or an integer number of seconds');
      this.warn(
        field,
        `invalid use of field ${JSON.stringify(String(field.key))}: ${String(field.key)} should be converted to a duration`,
      );
      return v * 1000;
    }
    if (typeof v !== 'string')
      return this.expected(field, 'a duration string or an integer number of seconds');
    return this.durationString(field);
  }
}
