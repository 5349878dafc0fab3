/**
 * Subject transforms for account mappings, republish and stream subject transforms, as nats-server 2.10's
 * subject_transform.go (NewSubjectTransformWithStrict, indexPlaceHolders, TransformTokenizedSubject): a
 * source subject with wildcards and a destination whose tokens may be mapping functions over the source's
 * `*` wildcards (numbered from 1):
 *
 *   $N, {{wildcard(N)}}          the N-th wildcard's token
 *   {{partition(P, N1, N2...)}}  FNV-1a 32 of the listed tokens (concatenated) modulo P
 *   {{splitFromLeft(N, pos)}}    the token split in two, pos bytes from the left (and FromRight)
 *   {{sliceFromLeft(N, size)}}   the token cut into tokens of size bytes from the left (and FromRight)
 *   {{split(N, delim)}}          the token split on delim, empty parts dropped
 *   {{left(N, len)}}             the token's first len bytes ({{right(N, len)}}: its last)
 *
 * and a trailing `>` for what the source's `>` matched. Function names match as nats-server's regular
 * expressions do: each word's first letter in either case (`splitfromleft`, `SplitFromLeft`), not
 * `SPLITFROMLEFT`.
 *
 * Subjects here are latin1 strings (one char per wire byte), so string offsets are nats-server's byte
 * offsets and the partition hash runs over the same bytes.
 */

/** Go's regexp `\s` (RE2 Perl class), narrower than JavaScript's. */
const WS = '[\\t\\n\\f\\r ]';

/** nats-server's function regular expressions: unanchored, like regexp.FindStringSubmatch. */
function fnRegExp(name: string): RegExp {
  // Go's `.` does not match \n only; JavaScript's also stops at \r and \u2028/9.
  return new RegExp(`\\{\\{${WS}*${name}${WS}*\\(([^\\n]*)\\)${WS}*\\}\\}`);
}

enum Fn {
  None,
  Wildcard,
  Partition,
  SplitFromLeft,
  SplitFromRight,
  SliceFromLeft,
  SliceFromRight,
  Split,
  Left,
  Right,
}

/** In nats-server's order of trial, which matters since the expressions are not anchored. */
const FUNCTIONS: readonly [RegExp, Fn][] = [
  [fnRegExp('[wW]ildcard'), Fn.Wildcard],
  [fnRegExp('[pP]artition'), Fn.Partition],
  [fnRegExp('[sS]plit[fF]rom[lL]eft'), Fn.SplitFromLeft],
  [fnRegExp('[sS]plit[fF]rom[rR]ight'), Fn.SplitFromRight],
  [fnRegExp('[sS]lice[fF]rom[lL]eft'), Fn.SliceFromLeft],
  [fnRegExp('[sS]lice[fF]rom[rR]ight'), Fn.SliceFromRight],
  [fnRegExp('[rR]ight'), Fn.Right],
  [fnRegExp('[lL]eft'), Fn.Left],
  [fnRegExp('[sS]plit'), Fn.Split],
];

/**
 * The functions nats-server 2.10's ValidateMappingDestination knows: account mappings refuse `left` and
 * `right` as unknown functions even though transforms (stream subject transforms) accept them.
 */
export const MAPPING_FUNCTIONS: readonly RegExp[] = FUNCTIONS.filter(
  ([, fn]) => fn !== Fn.Left && fn !== Fn.Right,
).map(([re]) => re);

const COMMA = new RegExp(`,${WS}*`);

/** nats-server's error texts (errors.go), "<reason> in <token>" as mappingDestinationErr prints them. */
const INVALID = 'invalid mapping destination';
export const TransformErrors = {
  badSubject: 'invalid subject',
  invalidSubject: `${INVALID}: invalid subject`,
  notUsingAllWildcards: `${INVALID}: not using all of the token wildcard(s)`,
  unknownFunction: `${INVALID}: unknown function`,
  indexOutOfRange: `${INVALID}: wildcard index out of range`,
  notEnoughArgs: `${INVALID}: not enough arguments passed to the function`,
  invalidArg: `${INVALID}: function argument is invalid or in the wrong format`,
  tooManyArgs: `${INVALID}: too many arguments passed to the function`,
  notSupportedForImport: `${INVALID}: the only mapping function allowed for import transforms is {{Wildcard()}}`,
} as const;

/** Why a transform cannot be created: nats-server's error message. */
export class TransformError extends Error {
  constructor(reason: string, token?: string) {
    super(token === undefined ? reason : `${reason} in ${token}`);
    this.name = 'TransformError';
  }
}

/** One destination token. */
interface DestToken {
  fn: Fn;
  /** The token as written (what Fn.None writes). */
  text: string;
  /** Source token indexes of the function's wildcard arguments. */
  src: number[];
  /** Partition count, split position, slice size or length. */
  n: number;
  /** split's delimiter. */
  delim: string;
}

/** A placeholder as indexPlaceHolders reads it: wildcard numbers still, not source token indexes yet. */
interface Placeholder {
  fn: Fn;
  wildcards: number[];
  n: number;
  delim: string;
}

const MAX_INT64 = (1n << 63n) - 1n;
const MIN_INT64 = -(1n << 63n);

/** Go's strconv.Atoi (64-bit int): optional sign, decimal digits, in range; undefined otherwise. */
function atoi(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const v = BigInt(s);
  return v > MAX_INT64 || v < MIN_INT64 ? undefined : v;
}

/** Go's strings.Trim(s, " "): spaces only. */
function trimSpaces(s: string): string {
  return s.replace(/^ +| +$/g, '');
}

/** A wildcard number argument (Go int). Out-of-range values are refused later, against the source. */
function wildcardArg(s: string): number | undefined {
  const v = atoi(trimSpaces(s));
  return v === undefined ? undefined : Number(v);
}

/** A function with a wildcard and an int32 argument (transformIndexIntArgsHelper: ParseInt(.., 32)). */
function indexIntArgs(token: string, args: string[], fn: Fn): Placeholder {
  if (args.length < 2) throw new TransformError(TransformErrors.notEnoughArgs, token);
  if (args.length > 2) throw new TransformError(TransformErrors.tooManyArgs, token);
  const w = wildcardArg(args[0]!);
  const n = atoi(trimSpaces(args[1]!));
  if (w === undefined || n === undefined || n !== BigInt.asIntN(32, n)) {
    throw new TransformError(TransformErrors.invalidArg, token);
  }
  return { fn, wildcards: [w], n: Number(n), delim: '' };
}

/** nats-server's indexPlaceHolders: what a destination token asks for; throws its errors. */
function placeholder(token: string): Placeholder {
  const none: Placeholder = { fn: Fn.None, wildcards: [], n: -1, delim: '' };
  const len = token.length;
  if (len <= 1) return none;
  if (token[0] === '$') {
    const v = atoi(token.slice(1));
    // Other things rely on tokens starting with $, so a non-number is a literal, not an error.
    return v === undefined ? none : { fn: Fn.Wildcard, wildcards: [Number(v)], n: -1, delim: '' };
  }
  if (len <= 4 || !token.startsWith('{{') || !token.endsWith('}}')) return none;
  for (const [re, fn] of FUNCTIONS) {
    const m = re.exec(token);
    if (m === null) continue;
    const args = m[1]!.split(COMMA);
    switch (fn) {
      case Fn.Wildcard: {
        if (args.length === 1 && args[0] === '')
          throw new TransformError(TransformErrors.notEnoughArgs, token);
        if (args.length > 1) throw new TransformError(TransformErrors.tooManyArgs, token);
        const w = wildcardArg(args[0]!);
        if (w === undefined) throw new TransformError(TransformErrors.invalidArg, token);
        return { fn, wildcards: [w], n: -1, delim: '' };
      }
      case Fn.Partition: {
        if (args.length < 2) throw new TransformError(TransformErrors.notEnoughArgs, token);
        const p = atoi(trimSpaces(args[0]!));
        const wildcards = args.slice(1).map(wildcardArg);
        // A count of 0 makes nats-server divide by zero (a panic) on the first message it maps; refusing
        // it up front is the only sane reading. Other counts wrap to int32 as Go's conversion does.
        const count = p === undefined ? 0 : Number(BigInt.asIntN(32, p));
        if (count === 0 || wildcards.some((w) => w === undefined)) {
          throw new TransformError(TransformErrors.invalidArg, token);
        }
        return { fn, wildcards: wildcards as number[], n: count, delim: '' };
      }
      case Fn.Split: {
        if (args.length < 2) throw new TransformError(TransformErrors.notEnoughArgs, token);
        if (args.length > 2) throw new TransformError(TransformErrors.tooManyArgs, token);
        const w = wildcardArg(args[0]!);
        const delim = args[1]!;
        if (w === undefined || delim.includes(' ') || delim.includes('.')) {
          throw new TransformError(TransformErrors.invalidArg, token);
        }
        return { fn, wildcards: [w], n: -1, delim };
      }
      default:
        return indexIntArgs(token, args, fn);
    }
  }
  throw new TransformError(TransformErrors.unknownFunction, token);
}

/** Which of nats-server's transform constructors to follow (see SubjectTransform.parse). */
export type TransformRule = '2.10' | 'strict' | '2.9';

export class SubjectTransform {
  private constructor(
    readonly src: string,
    readonly dest: string,
    private readonly srcTokens: readonly string[],
    /** Empty when the source has no wildcards: the destination is then taken as it is. */
    private readonly destTokens: readonly DestToken[],
  ) {}

  /**
   * A transform for republish and stream subject transforms: undefined when the pair is not valid. Also
   * requires every source wildcard to be placed, as nats-server 2.9.10's newTransform did (the republish
   * errors are compared with 2.9.10); use parse() for 2.10's rule.
   */
  static create(src: string, dest: string): SubjectTransform | undefined {
    const r = SubjectTransform.parse(src, dest, '2.9');
    return r instanceof SubjectTransform ? r : undefined;
  }

  /**
   * nats-server's NewSubjectTransformWithStrict, with its error. An empty source is `>`. Rules:
   * - '2.10' (NewSubjectTransform): wildcards may go unused.
   * - 'strict' (NewSubjectTransformStrict, for transforms that must be reversible: imports): only
   *   wildcard placeholders, every wildcard used.
   * - '2.9' (2.9.10's newTransform): as '2.10', plus as many placeholder tokens as source wildcards
   *   (2.9 counted tokens, not function arguments).
   */
  static parse(src: string, dest: string, rule: TransformRule = '2.10'): SubjectTransform | TransformError {
    const strict = rule === 'strict';
    if (src === '') src = '>';
    const s = subjectInfo(src);
    const d = subjectInfo(dest);
    if (s === undefined || d === undefined || d.pwcs > 0 || s.fwc !== d.fwc) {
      return new TransformError(TransformErrors.badSubject);
    }
    try {
      const destTokens: DestToken[] = [];
      if (s.pwcs > 0 || s.fwc) {
        // Source token index by wildcard number. Numbers below 1 find none and Go's map lookup yields 0,
        // so they stand for the first token, as in nats-server.
        const wildcardAt: number[] = [];
        s.tokens.forEach((t, i) => {
          if (t === '*') wildcardAt.push(i);
        });
        let used = 0;
        let placeholders = 0;
        for (const t of d.tokens) {
          const p = placeholder(t);
          if (strict && p.fn !== Fn.None && p.fn !== Fn.Wildcard) {
            throw new TransformError(TransformErrors.notSupportedForImport, t);
          }
          used += p.wildcards.length;
          if (p.fn !== Fn.None) placeholders++;
          const srcIdx = p.wildcards.map((w) => {
            if (w > s.pwcs) throw new TransformError(TransformErrors.indexOutOfRange, `${t}: [${w}]`);
            return w >= 1 ? wildcardAt[w - 1]! : 0;
          });
          destTokens.push({ fn: p.fn, text: t, src: srcIdx, n: p.n, delim: p.delim });
        }
        if ((strict && used < s.pwcs) || (rule === '2.9' && placeholders < s.pwcs)) {
          throw new TransformError(TransformErrors.notUsingAllWildcards, dest);
        }
      } else {
        // No wildcards in the source: no function has anything to work on.
        for (const t of d.tokens) {
          if (placeholder(t).fn !== Fn.None) throw new TransformError(TransformErrors.indexOutOfRange, t);
        }
      }
      return new SubjectTransform(src, dest, s.tokens, destTokens);
    } catch (err) {
      if (err instanceof TransformError) return err;
      throw err;
    }
  }

  /** The destination of a literal subject, or undefined when it does not match the source. */
  match(subject: string): string | undefined {
    if (this.src === '>' && (this.dest === '>' || this.dest === '')) return subject;
    const tokens = subject.split('.');
    if (!isValidLiteral(tokens)) return undefined;
    if (this.src !== '>' && !subsetMatch(tokens, this.srcTokens)) return undefined;
    return this.transformTokens(tokens);
  }

  /** The destination of a subject known to match the source (nats-server's TransformTokenizedSubject). */
  transformTokens(tokens: readonly string[]): string {
    const dt = this.destTokens;
    if (dt.length === 0) return this.dest;
    let out = '';
    for (let i = 0; i < dt.length; i++) {
      const d = dt[i]!;
      if (d.fn === Fn.None && d.text === '>') break;
      out += apply(d, tokens);
      if (i < dt.length - 1) out += '.';
    }
    if (dt[dt.length - 1]!.text === '>') {
      out += tokens.slice(this.srcTokens.length - 1).join('.');
    }
    return out;
  }
}

/** One destination token's output for the subject's tokens. */
function apply(d: DestToken, tokens: readonly string[]): string {
  if (d.fn === Fn.None) return d.text;
  if (d.fn === Fn.Partition) {
    let key = '';
    for (const i of d.src) key += tokens[i] ?? '';
    // Go's uint32(int(count)): a negative count wraps.
    return String(fnv1a32(key) % (d.n >>> 0));
  }
  // nats-server 2.10 writes nothing for a wildcard past the subject's end (a transform applied to a
  // subject that does not match its source).
  const tok = tokens[d.src[0]!] ?? '';
  const n = d.n;
  const len = tok.length;
  switch (d.fn) {
    case Fn.Wildcard:
      return tok;
    case Fn.SplitFromLeft:
      return n > 0 && n < len ? `${tok.slice(0, n)}.${tok.slice(n)}` : tok;
    case Fn.SplitFromRight:
      return n > 0 && n < len ? `${tok.slice(0, len - n)}.${tok.slice(len - n)}` : tok;
    case Fn.SliceFromLeft: {
      if (!(n > 0 && n < len)) return tok;
      const parts: string[] = [];
      for (let i = 0; i < len; i += n) parts.push(tok.slice(i, i + n));
      return parts.join('.');
    }
    case Fn.SliceFromRight: {
      if (!(n > 0 && n < len)) return tok;
      const parts: string[] = [];
      const rem = len % n;
      if (rem > 0) parts.push(tok.slice(0, rem));
      for (let i = rem; i < len; i += n) parts.push(tok.slice(i, i + n));
      return parts.join('.');
    }
    case Fn.Split:
      return splitToken(tok, d.delim);
    case Fn.Left:
      return n > 0 && n < len ? tok.slice(0, n) : tok;
    case Fn.Right:
      return n > 0 && n < len ? tok.slice(len - n) : tok;
    default:
      return tok;
  }
}

/**
 * nats-server's split: the parts of strings.Split joined with dots, empty parts dropped (so a leading,
 * trailing or doubled delimiter makes no empty token).
 */
function splitToken(tok: string, delim: string): string {
  const parts = delim === '' ? explodeUtf8(tok) : tok.split(delim);
  let out = '';
  for (let j = 0; j < parts.length; j++) {
    const p = parts[j]!;
    out += p;
    if (j < parts.length - 1 && parts[j + 1] !== '' && !(j === 0 && p === '')) out += '.';
  }
  return out;
}

/**
 * Go's strings.Split(s, ""): one part per UTF-8 sequence (an invalid byte is a part of its own). The
 * string holds bytes as latin1 chars.
 */
function explodeUtf8(s: string): string[] {
  const parts: string[] = [];
  let i = 0;
  while (i < s.length) {
    const n = utf8SeqLen(s, i);
    parts.push(s.slice(i, i + n));
    i += n;
  }
  return parts;
}

/** Length of the valid UTF-8 sequence at i (as Go's utf8.DecodeRuneInString accepts it), else 1. */
function utf8SeqLen(s: string, i: number): number {
  const b0 = s.charCodeAt(i) & 0xff;
  if (b0 < 0x80) return 1;
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) n = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    if (b0 === 0xe0) lo = 0xa0; // overlong
    if (b0 === 0xed) hi = 0x9f; // surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    if (b0 === 0xf0) lo = 0x90; // overlong
    if (b0 === 0xf4) hi = 0x8f; // past U+10FFFF
  } else return 1;
  if (i + n > s.length) return 1;
  for (let k = 1; k < n; k++) {
    const b = s.charCodeAt(i + k) & 0xff;
    if (b < (k === 1 ? lo : 0x80) || b > (k === 1 ? hi : 0xbf)) return 1;
  }
  return n;
}

/** FNV-1a 32 over the string's bytes (latin1), as Go's hash/fnv New32a. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i) & 0xff;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * nats-server's subjectInfo: tokens, number of `*`, whether it ends in `>`; undefined when invalid.
 * nats-server accepts whitespace anywhere here; tsnats refuses it outside a `{{...}}` token, which is
 * what account mappings (ValidateMappingDestination) and subject validation elsewhere do anyway.
 */
function subjectInfo(subject: string): { tokens: string[]; pwcs: number; fwc: boolean } | undefined {
  if (subject === '') return undefined;
  const tokens = subject.split('.');
  let pwcs = 0;
  let fwc = false;
  for (const t of tokens) {
    if (t === '' || fwc) return undefined;
    if (t === '*') pwcs++;
    else if (t === '>') fwc = true;
    else if (!isMustache(t) && /\s/.test(t)) return undefined;
  }
  return { tokens, pwcs, fwc };
}

/** What nats-server takes for a mapping function token: `{{...}}`, more than 4 bytes. */
export function isMustache(t: string): boolean {
  return t.length > 4 && t.startsWith('{{') && t.endsWith('}}');
}

/** nats-server's isValidLiteralSubject over tokens. */
function isValidLiteral(tokens: readonly string[]): boolean {
  for (const t of tokens) {
    if (t === '' || t === '*' || t === '>') return false;
  }
  return true;
}

/** Whether literal `tokens` match the pattern's tokens. */
function subsetMatch(tokens: readonly string[], pattern: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p === '>') return tokens.length > i;
    if (i >= tokens.length) return false;
    if (p !== '*' && p !== tokens[i]) return false;
  }
  return tokens.length === pattern.length;
}
