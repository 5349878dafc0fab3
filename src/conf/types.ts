/** A value produced by the configuration parser. Integers and floats are both `number`. */
export type ConfValue = string | number | boolean | Date | ConfValue[] | ConfMap;

export interface ConfMap {
  [key: string]: ConfValue;
}

/** A location in a configuration file. `line` and `column` are 1-based (columns count code points). */
export interface ConfPosition {
  file: string;
  line: number;
  column: number;
}

/** Label used in messages when the text did not come from a named file. */
const NO_FILE = '<string>';

export function formatPosition(pos: ConfPosition): string {
  const file = pos.file === '' ? NO_FILE : pos.file;
  return pos.line > 0 ? `${file}:${pos.line}:${pos.column}` : file;
}

/**
 * A lexing/parsing error. `message` is `file:line:column: reason`
 * (or `file: reason` when there is no meaningful position, e.g. an unreadable file).
 */
export class ConfError extends Error {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The message without the position prefix. */
  readonly reason: string;

  constructor(reason: string, pos: ConfPosition, options?: { cause?: unknown }) {
    super(`${formatPosition(pos)}: ${reason}`, options);
    this.name = 'ConfError';
    this.file = pos.file;
    this.line = pos.line;
    this.column = pos.column;
    this.reason = reason;
  }
}

// Positions are kept in a side table so parsed objects stay plain data
// (deep-equality, JSON.stringify and spreading are unaffected).
const positions = new WeakMap<object, Map<string | number, ConfPosition>>();

export function recordPosition(
  container: ConfMap | ConfValue[],
  key: string | number,
  pos: ConfPosition,
): void {
  let table = positions.get(container);
  if (table === undefined) {
    table = new Map();
    positions.set(container, table);
  }
  table.set(key, pos);
}

/** Where `key` of a parsed map was defined (for included keys: in the included file). */
export function keyPosition(map: ConfMap, key: string): ConfPosition | undefined {
  return positions.get(map)?.get(key);
}

/** Where element `index` of a parsed array was written. */
export function elementPosition(array: ConfValue[], index: number): ConfPosition | undefined {
  return positions.get(array)?.get(index);
}

/** Converts UTF-16 offsets into 1-based line/column positions. Only '\n' starts a new line. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  at(offset: number): ConfPosition {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    const lineStart = this.starts[lo]!;
    let column = 1;
    for (let i = lineStart; i < o; i++) {
      const c = this.text.charCodeAt(i);
      // count a surrogate pair once
      if (c < 0xdc00 || c > 0xdfff || i === lineStart) column++;
    }
    return { file: this.file, line: lo + 1, column };
  }
}
