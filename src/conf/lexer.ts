/**
 * Lexer for the nats-server configuration format.
 *
 * This is a behavioural re-implementation of nats-server 2.9's `conf/lex.go`
 * state machine. The grammar is defined by that state machine (not by a
 * formal spec), including a number of quirks that real configuration files
 * may depend on, so the states and their transitions are kept 1:1 with the
 * reference. Some notable consequences (all verified against nats-server):
 *
 *  - Key/value separators are `=`, `:` or plain whitespace (even a newline:
 *    `foo\n1` is `foo = 1`).
 *  - Values end at a newline, `;`, `,` (and `}` / `]` depending on context).
 *  - Unquoted strings may contain `\t \n \r \" \\ \xHH` escapes; single-quoted
 *    strings are raw; double-quoted strings support the same escapes. There
 *    is no `\u` escape in the reference format.
 *  - A value that starts with a digit is an integer, a float, an ISO8601 Zulu
 *    datetime, an "IP-like" string (`127.0.0.1:4222`) or, once a character
 *    that cannot belong to a number is seen, a plain string (`3xyz`).
 *    Quirk: `]` does not terminate a number that has no size suffix, so
 *    `[1, 2]` fails to lex while `[1, 2 ]` works.
 *  - `include <path>` is recognised only when `include` (case-insensitive) is
 *    followed by whitespace in key position.
 *  - Block strings: `key (` ... `\n)\n` -- the `)` must sit alone on its line.
 *    Quirk: at the very end of input (no trailing newline) the `)` is kept as
 *    part of the string.
 *  - A NUL character is treated like end of input by most states.
 *
 * Positions are tracked as UTF-16 offsets into the input; the parser converts
 * them to 1-based line/column (in code points) for error messages.
 */

export type TokenType =
  | 'error'
  | 'eof'
  | 'key'
  | 'text'
  | 'string'
  | 'bool'
  | 'integer'
  | 'float'
  | 'datetime'
  | 'arrayStart'
  | 'arrayEnd'
  | 'mapStart'
  | 'mapEnd'
  | 'commentStart'
  | 'variable'
  | 'include';

export interface Token {
  type: TokenType;
  /** Token text (for strings: with escapes already applied; for errors: the message). */
  value: string;
  /** UTF-16 offset in the input where the token (or the error) is located. */
  offset: number;
}

type State = (lx: Lexer) => State | null;

/** Rune value returned at end of input (a literal NUL reads the same, as in the reference). */
const EOF = 0;

const CH = {
  mapStart: 0x7b, // {
  mapEnd: 0x7d, // }
  arrayStart: 0x5b, // [
  arrayEnd: 0x5d, // ]
  blockStart: 0x28, // (
  blockEnd: 0x29, // )
  equal: 0x3d, // =
  colon: 0x3a, // :
  comma: 0x2c, // ,
  semicolon: 0x3b, // ;
  hash: 0x23, // #
  slash: 0x2f, // /
  dquote: 0x22, // "
  squote: 0x27, // '
  backslash: 0x5c, // \
  dollar: 0x24, // $
  minus: 0x2d, // -
  dot: 0x2e, // .
  nl: 0x0a,
  cr: 0x0d,
  tab: 0x09,
  space: 0x20,
} as const;

const WHITE_SPACE_RE = /^\p{White_Space}$/u;
const DIGIT_RE = /^\p{Nd}$/u;

/** Go's unicode.IsSpace. */
function isSpace(r: number): boolean {
  if (r < 0x80) return r === 0x20 || (r >= 0x09 && r <= 0x0d);
  return WHITE_SPACE_RE.test(String.fromCodePoint(r));
}

/** Go's unicode.IsDigit (any Unicode decimal digit). */
function isDigit(r: number): boolean {
  if (r < 0x80) return r >= 0x30 && r <= 0x39;
  return DIGIT_RE.test(String.fromCodePoint(r));
}

/** Blanks allowed inside a line. */
function isWhitespace(r: number): boolean {
  return r === CH.tab || r === CH.space;
}

function isNL(r: number): boolean {
  return r === CH.nl || r === CH.cr;
}

function isKeySeparator(r: number): boolean {
  return r === CH.equal || r === CH.colon;
}

/** First letter of a size suffix: k, m, g, t, p, e (any case). */
function isNumberSuffix(r: number): boolean {
  switch (r | 0x20) {
    case 0x6b: // k
    case 0x6d: // m
    case 0x67: // g
    case 0x74: // t
    case 0x70: // p
    case 0x65: // e
      return r >= 0x41 && r <= 0x7a;
    default:
      return false;
  }
}

/** Go-compatible lower-casing for comparisons against ASCII keywords. */
function keywordLower(s: string): string {
  // Go maps U+0130 (capital I with dot) to a plain 'i'; JS yields "i\u0307".
  return s.replace(/\u0130/g, 'i').toLowerCase();
}

function showRune(r: number): string {
  switch (r) {
    case EOF:
      return 'EOF';
    case CH.nl:
      return '\\n';
    case CH.cr:
      return '\\r';
    case CH.tab:
      return '\\t';
    default:
      return String.fromCodePoint(r);
  }
}

/** A string fragment, or a raw byte produced by a `\xHH` escape. */
type Part = string | { byte: number };

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function joinParts(parts: Part[]): string {
  if (parts.every((p) => typeof p === 'string')) return (parts as string[]).join('');
  // `\xHH` escapes produce raw bytes (Go strings are byte strings). Reassemble
  // the bytes and decode them as UTF-8 so that e.g. "\xc3\xa9" yields "é";
  // if that is not valid UTF-8, map each raw byte to the code point of the
  // same value (Latin-1).
  const chunks: Uint8Array[] = parts.map((p) =>
    typeof p === 'string' ? Buffer.from(p, 'utf8') : Uint8Array.of(p.byte),
  );
  try {
    return utf8Decoder.decode(Buffer.concat(chunks));
  } catch {
    return parts.map((p) => (typeof p === 'string' ? p : String.fromCharCode(p.byte))).join('');
  }
}

export class Lexer {
  readonly input: string;
  /** Start of the pending (not yet emitted) text. */
  start = 0;
  /** Current read position. */
  pos = 0;
  /** Width of the last rune read (0 at end of input); `backup` steps back by it. */
  width = 0;
  /** Offset of the last rune read (or peeked); used to locate errors. */
  lastRune = 0;
  /** Offset reported for the next emitted token. */
  itemStart = 0;

  private state: State | null = lexTop;
  private readonly queue: Token[] = [];
  private readonly stack: State[] = [];
  private parts: Part[] = [];
  stringState: State = lexString;

  constructor(input: string) {
    this.input = input;
  }

  /** Returns the next token; after an 'error' or 'eof' token keeps returning 'eof'. */
  nextToken(): Token {
    for (;;) {
      const tok = this.queue.shift();
      if (tok !== undefined) return tok;
      if (this.state === null) return { type: 'eof', value: '', offset: this.pos };
      this.state = this.state(this);
    }
  }

  next(): number {
    if (this.pos >= this.input.length) {
      this.width = 0;
      this.lastRune = this.pos;
      return EOF;
    }
    const r = this.input.codePointAt(this.pos)!;
    this.width = r > 0xffff ? 2 : 1;
    this.lastRune = this.pos;
    this.pos += this.width;
    return r;
  }

  /** Steps back by the width of the last rune read (may be called twice, like the reference). */
  backup(): void {
    this.pos -= this.width;
  }

  peek(): number {
    const r = this.next();
    this.backup();
    return r;
  }

  ignore(): void {
    this.start = this.pos;
    this.itemStart = this.pos;
  }

  push(s: State): void {
    this.stack.push(s);
  }

  pop(): State | null {
    const s = this.stack.pop();
    if (s === undefined) return this.errorf('BUG in lexer: no states to pop.');
    return s;
  }

  pending(): string {
    return this.input.slice(this.start, this.pos);
  }

  emit(type: TokenType, offset = this.itemStart): void {
    const value = (this.parts.length > 0 ? joinParts(this.parts) : '') + this.pending();
    this.queue.push({ type, value, offset });
    this.start = this.pos;
    this.itemStart = this.pos;
  }

  emitString(): void {
    this.emit('string');
    this.parts = [];
  }

  hasEscapedParts(): boolean {
    return this.parts.length > 0;
  }

  /** Saves the pending text minus the trailing `trim` characters (the backslash). */
  addCurrentStringPart(trim: number): void {
    this.parts.push(this.input.slice(this.start, this.pos - trim));
    this.start = this.pos;
  }

  addStringPart(p: Part): State {
    this.parts.push(p);
    this.start = this.pos;
    return this.stringState;
  }

  errorf(message: string, offset = this.lastRune): null {
    this.queue.push({ type: 'error', value: message, offset });
    return null;
  }

  /** Is the pending text a boolean literal? */
  isBool(): boolean {
    switch (keywordLower(this.pending())) {
      case 'true':
      case 'false':
      case 'yes':
      case 'no':
      case 'on':
      case 'off':
        return true;
      default:
        return false;
    }
  }

  /** Is the pending text a `$variable`? If so, drops the `$`. */
  isVariable(): boolean {
    if (this.start >= this.input.length) return false;
    if (this.input.charCodeAt(this.start) === CH.dollar) {
      this.start += 1;
      return true;
    }
    return false;
  }
}

/** Lexes the whole input; mostly useful for tests and tooling. Stops after the first error. */
export function tokenize(input: string): Token[] {
  const lx = new Lexer(input);
  const out: Token[] = [];
  for (;;) {
    const t = lx.nextToken();
    out.push(t);
    if (t.type === 'eof' || t.type === 'error') return out;
  }
}

function skip(next: State): State {
  return (lx) => {
    lx.ignore();
    return next;
  };
}

// ---------------------------------------------------------------------------
// Top level

function lexTop(lx: Lexer): State | null {
  const r = lx.next();
  if (isSpace(r)) return skip(lexTop);
  switch (r) {
    case CH.mapStart: // an optional '{' around the whole document
      return skip(lexTop);
    case CH.hash:
      lx.push(lexTop);
      return lexCommentStart;
    case CH.slash: {
      if (lx.next() === CH.slash) {
        lx.push(lexTop);
        return lexCommentStart;
      }
      lx.backup();
      return topEnd(lx);
    }
    case EOF:
      return topEnd(lx);
  }
  // Only a key can start here.
  lx.backup();
  lx.push(lexTopValueEnd);
  return lexKeyStart;
}

function topEnd(lx: Lexer): State | null {
  if (lx.pos > lx.start) return lx.errorf('Unexpected EOF.');
  lx.emit('eof');
  return null;
}

/** After a top-level value: only blanks or a comment, then a newline, ';', ',', '}' or EOF. */
function lexTopValueEnd(lx: Lexer): State | null {
  const r = lx.next();
  if (r === CH.hash) {
    lx.push(lexTop);
    return lexCommentStart;
  }
  if (r === CH.slash) {
    if (lx.next() === CH.slash) {
      lx.push(lexTop);
      return lexCommentStart;
    }
    lx.backup();
    return lexTopValueEnd; // a lone '/' is skipped like a blank
  }
  if (isWhitespace(r)) return lexTopValueEnd;
  if (isNL(r) || r === EOF || r === CH.semicolon || r === CH.comma || r === CH.mapEnd) {
    lx.ignore();
    return lexTop;
  }
  return lx.errorf(
    `Expected a top-level value to end with a new line, comment or EOF, but got '${showRune(r)}' instead.`,
  );
}

// ---------------------------------------------------------------------------
// Top-level keys

function lexKeyStart(lx: Lexer): State | null {
  const r = lx.peek();
  if (isKeySeparator(r)) return lx.errorf(`Unexpected key separator '${showRune(r)}'`);
  if (isSpace(r)) {
    lx.next();
    return skip(lexKeyStart);
  }
  if (r === CH.dquote) {
    lx.next();
    return skip(lexDubQuotedKey);
  }
  if (r === CH.squote) {
    lx.next();
    return skip(lexQuotedKey);
  }
  lx.ignore();
  lx.next();
  return lexKey;
}

function quotedTopKey(quote: number): State {
  const self: State = (lx) => {
    const r = lx.peek();
    if (r === quote) {
      lx.emit('key');
      lx.next();
      return skip(lexKeyEnd);
    }
    if (r === EOF) return topEnd(lx);
    lx.next();
    return self;
  };
  return self;
}

const lexDubQuotedKey = quotedTopKey(CH.dquote);
const lexQuotedKey = quotedTopKey(CH.squote);

/** When a key is followed by whitespace it may be the `include` keyword. */
function keyOrKeyword(lx: Lexer, afterKey: State, afterInclude: State | null): State {
  if (keywordLower(lx.pending()) === 'include') {
    lx.ignore();
    if (afterInclude !== null) lx.push(afterInclude);
    return lexIncludeStart;
  }
  lx.emit('key');
  return afterKey;
}

function lexKey(lx: Lexer): State | null {
  const r = lx.peek();
  if (isSpace(r)) return keyOrKeyword(lx, lexKeyEnd, null);
  if (isKeySeparator(r) || r === EOF) {
    lx.emit('key');
    return lexKeyEnd;
  }
  lx.next();
  return lexKey;
}

function lexKeyEnd(lx: Lexer): State | null {
  const r = lx.next();
  if (isSpace(r)) return skip(lexKeyEnd);
  if (isKeySeparator(r)) return skip(lexValue);
  if (r === EOF) {
    lx.emit('eof');
    return null;
  }
  lx.backup();
  return lexValue;
}

// ---------------------------------------------------------------------------
// include

function lexIncludeStart(lx: Lexer): State | null {
  const r = lx.next();
  if (isWhitespace(r)) return skip(lexIncludeStart);
  lx.backup();
  return lexInclude;
}

function lexInclude(lx: Lexer): State | null {
  const r = lx.next();
  switch (r) {
    case CH.squote:
      lx.ignore();
      return lexIncludeQuoted;
    case CH.dquote:
      lx.ignore();
      return lexIncludeDubQuoted;
    case CH.arrayStart:
      return lx.errorf('Expected include value but found start of an array');
    case CH.mapStart:
      return lx.errorf('Expected include value but found start of a map');
    case CH.blockStart:
      return lx.errorf('Expected include value but found start of a block');
    case CH.backslash:
      return lx.errorf('Expected include value but found escape sequence');
  }
  if (isDigit(r) || r === CH.minus) return lx.errorf('Expected include value but found start of a number');
  if (isNL(r)) return lx.errorf('Expected include value but found new line');
  lx.backup();
  return lexIncludeString;
}

function quotedInclude(quote: number, what: string): State {
  const self: State = (lx) => {
    const r = lx.next();
    if (r === quote) {
      lx.backup();
      lx.emit('include');
      lx.next();
      lx.ignore();
      return lx.pop();
    }
    if (r === EOF) return lx.errorf(`Unexpected EOF in ${what} include`);
    return self;
  };
  return self;
}

const lexIncludeQuoted = quotedInclude(CH.squote, 'quoted');
const lexIncludeDubQuoted = quotedInclude(CH.dquote, 'double quoted');

function lexIncludeString(lx: Lexer): State | null {
  const r = lx.next();
  if (isNL(r) || r === EOF || r === CH.semicolon || r === CH.mapEnd || isWhitespace(r)) {
    lx.backup();
    lx.emit('include');
    return lx.pop();
  }
  if (r === CH.squote) {
    lx.backup();
    lx.emit('include');
    lx.next();
    lx.ignore();
    return lx.pop();
  }
  return lexIncludeString;
}

// ---------------------------------------------------------------------------
// Values

function lexValue(lx: Lexer): State | null {
  // Blanks may precede a value, newlines may not (arrays/maps skip those themselves).
  const r = lx.next();
  if (isWhitespace(r)) return skip(lexValue);
  switch (r) {
    case CH.arrayStart: {
      const at = lx.lastRune;
      lx.ignore();
      lx.emit('arrayStart', at);
      return lexArrayValue;
    }
    case CH.mapStart: {
      const at = lx.lastRune;
      lx.ignore();
      lx.emit('mapStart', at);
      return lexMapKeyStart;
    }
    case CH.squote:
      lx.ignore();
      return lexQuotedString;
    case CH.dquote:
      lx.ignore();
      lx.stringState = lexDubQuotedString;
      return lexDubQuotedString;
    case CH.minus:
      return lexNegNumberStart;
    case CH.blockStart:
      lx.ignore();
      return lexBlock;
    case CH.dot:
      return lx.errorf('Floats must start with a digit');
  }
  if (isDigit(r)) {
    lx.backup();
    return lexNumberOrDateOrStringOrIPStart;
  }
  if (isNL(r)) return lx.errorf('Expected value but found new line');
  lx.backup();
  lx.stringState = lexString;
  return lexString;
}

// ---------------------------------------------------------------------------
// Arrays

function lexArrayValue(lx: Lexer): State | null {
  const r = lx.next();
  if (isSpace(r)) return skip(lexArrayValue);
  switch (r) {
    case CH.hash:
      lx.push(lexArrayValue);
      return lexCommentStart;
    case CH.slash:
      if (lx.next() === CH.slash) {
        lx.push(lexArrayValue);
        return lexCommentStart;
      }
      lx.backup();
      return lx.errorf("Unexpected array value terminator ','.");
    case CH.comma:
      return lx.errorf("Unexpected array value terminator ','.");
    case CH.arrayEnd:
      return lexArrayEnd;
  }
  lx.backup();
  lx.push(lexArrayValueEnd);
  return lexValue;
}

function lexArrayValueEnd(lx: Lexer): State | null {
  const r = lx.next();
  if (isWhitespace(r)) return skip(lexArrayValueEnd);
  switch (r) {
    case CH.hash:
      lx.push(lexArrayValueEnd);
      return lexCommentStart;
    case CH.slash:
      if (lx.next() === CH.slash) {
        lx.push(lexArrayValueEnd);
        return lexCommentStart;
      }
      lx.backup();
      return skip(lexArrayValue); // a lone '/' acts as a separator
    case CH.comma:
      return skip(lexArrayValue);
    case CH.arrayEnd:
      return lexArrayEnd;
  }
  if (isNL(r)) return skip(lexArrayValue);
  return lx.errorf(
    `Expected an array value terminator "," or an array terminator "]", but got '${showRune(r)}' instead.`,
  );
}

function lexArrayEnd(lx: Lexer): State | null {
  lx.ignore();
  lx.emit('arrayEnd');
  return lx.pop();
}

// ---------------------------------------------------------------------------
// Maps

function lexMapKeyStart(lx: Lexer): State | null {
  const r = lx.peek();
  if (isKeySeparator(r)) return lx.errorf(`Unexpected key separator '${showRune(r)}'.`);
  if (r === CH.arrayEnd) return lx.errorf(`Unexpected array end '${showRune(r)}' processing map.`);
  if (isSpace(r)) {
    lx.next();
    return skip(lexMapKeyStart);
  }
  switch (r) {
    case CH.mapEnd:
      lx.next();
      return skip(lexMapEnd);
    case CH.hash:
      lx.next();
      lx.push(lexMapKeyStart);
      return lexCommentStart;
    case CH.slash:
      lx.next();
      if (lx.next() === CH.slash) {
        lx.push(lexMapKeyStart);
        return lexCommentStart;
      }
      lx.backup(); // a lone '/' is dropped; the key starts after it
      break;
    case CH.squote:
      lx.next();
      return skip(lexMapQuotedKey);
    case CH.dquote:
      lx.next();
      return skip(lexMapDubQuotedKey);
    case EOF:
      return lx.errorf('Unexpected EOF processing map.');
  }
  lx.ignore();
  lx.next();
  return lexMapKey;
}

function quotedMapKey(quote: number, what: string): State {
  const self: State = (lx) => {
    const r = lx.peek();
    if (r === EOF) return lx.errorf(`Unexpected EOF processing ${what} map key.`);
    if (r === quote) {
      lx.emit('key');
      lx.next();
      return skip(lexMapKeyEnd);
    }
    lx.next();
    return self;
  };
  return self;
}

const lexMapQuotedKey = quotedMapKey(CH.squote, 'quoted');
const lexMapDubQuotedKey = quotedMapKey(CH.dquote, 'double quoted');

function lexMapKey(lx: Lexer): State | null {
  const r = lx.peek();
  if (r === EOF) return lx.errorf('Unexpected EOF processing map key.');
  if (isSpace(r)) return keyOrKeyword(lx, lexMapKeyEnd, lexMapValueEnd);
  if (isKeySeparator(r)) {
    lx.emit('key');
    return lexMapKeyEnd;
  }
  lx.next();
  return lexMapKey;
}

function lexMapKeyEnd(lx: Lexer): State | null {
  const r = lx.next();
  if (isSpace(r)) return skip(lexMapKeyEnd);
  if (isKeySeparator(r)) return skip(lexMapValue);
  lx.backup();
  return lexMapValue;
}

function lexMapValue(lx: Lexer): State | null {
  const r = lx.next();
  if (isSpace(r)) return skip(lexMapValue);
  if (r === CH.comma) return lx.errorf('Unexpected map value terminator ",".');
  if (r === CH.mapEnd) return skip(lexMapEnd);
  lx.backup();
  lx.push(lexMapValueEnd);
  return lexValue;
}

function lexMapValueEnd(lx: Lexer): State | null {
  const r = lx.next();
  if (isWhitespace(r)) return skip(lexMapValueEnd);
  switch (r) {
    case CH.hash:
      lx.push(lexMapValueEnd);
      return lexCommentStart;
    case CH.slash:
      if (lx.next() === CH.slash) {
        lx.push(lexMapValueEnd);
        return lexCommentStart;
      }
      lx.backup();
      return skip(lexMapKeyStart); // a lone '/' acts as a separator
    case CH.semicolon:
    case CH.comma:
      return skip(lexMapKeyStart);
    case CH.mapEnd:
      return skip(lexMapEnd);
  }
  if (isNL(r)) return skip(lexMapKeyStart);
  return lx.errorf(
    `Expected a map value terminator "," or a map terminator "}", but got '${showRune(r)}' instead.`,
  );
}

function lexMapEnd(lx: Lexer): State | null {
  lx.ignore();
  lx.emit('mapEnd');
  return lx.pop();
}

// ---------------------------------------------------------------------------
// Strings

/** Single-quoted: raw contents, may span lines. */
function lexQuotedString(lx: Lexer): State | null {
  const r = lx.next();
  if (r === CH.squote) {
    lx.backup();
    lx.emit('string');
    lx.next();
    lx.ignore();
    return lx.pop();
  }
  if (r === EOF) return topEnd(lx);
  return lexQuotedString;
}

/** Double-quoted: escapes are processed, may span lines. */
function lexDubQuotedString(lx: Lexer): State | null {
  const r = lx.next();
  if (r === CH.backslash) {
    lx.addCurrentStringPart(1);
    return lexStringEscape;
  }
  if (r === CH.dquote) {
    lx.backup();
    lx.emitString();
    lx.next();
    lx.ignore();
    return lx.pop();
  }
  if (r === EOF) return topEnd(lx);
  return lexDubQuotedString;
}

/** Unquoted string (also booleans and `$variables`). */
function lexString(lx: Lexer): State | null {
  const r = lx.next();
  if (r === CH.backslash) {
    lx.addCurrentStringPart(1);
    return lexStringEscape;
  }
  if (
    isNL(r) ||
    r === EOF ||
    r === CH.semicolon ||
    r === CH.comma ||
    r === CH.arrayEnd ||
    r === CH.mapEnd ||
    isWhitespace(r)
  ) {
    lx.backup();
    if (lx.hasEscapedParts()) lx.emitString();
    else if (lx.isBool()) lx.emit('bool');
    else if (lx.isVariable()) lx.emit('variable');
    else lx.emitString();
    return lx.pop();
  }
  if (r === CH.squote) {
    // A stray single quote ends an unquoted string and is dropped.
    lx.backup();
    lx.emitString();
    lx.next();
    lx.ignore();
    return lx.pop();
  }
  return lexString;
}

/** `( ... )` block: everything up to a `)` alone on its own line. */
function lexBlock(lx: Lexer): State | null {
  const r = lx.next();
  if (r === CH.blockEnd) {
    lx.backup();
    lx.backup();
    if (lx.next() !== CH.nl) {
      lx.next();
      return lexBlock;
    }
    lx.next(); // the ')'
    const after = lx.next();
    if (after === CH.nl || after === EOF) {
      // Note: at the real end of input the width is 0, so these are no-ops
      // and the ')' stays in the string (reference behaviour).
      lx.backup();
      lx.backup();
      lx.emit('string');
      lx.next();
      lx.ignore();
      return lx.pop();
    }
    lx.backup();
    return lexBlock;
  }
  if (r === EOF) return lx.errorf('Unexpected EOF processing block.');
  return lexBlock;
}

function lexStringEscape(lx: Lexer): State | null {
  const r = lx.next();
  switch (r) {
    case 0x78: // x
      return lexStringBinary;
    case 0x74: // t
      return lx.addStringPart('\t');
    case 0x6e: // n
      return lx.addStringPart('\n');
    case 0x72: // r
      return lx.addStringPart('\r');
    case CH.dquote:
      return lx.addStringPart('"');
    case CH.backslash:
      return lx.addStringPart('\\');
  }
  return lx.errorf(
    `Invalid escape character '${showRune(r)}'. Only the following escape characters are allowed: ` +
      '\\xXX, \\t, \\n, \\r, \\", \\\\.',
  );
}

function lexStringBinary(lx: Lexer): State | null {
  const first = lx.pos;
  if (isNL(lx.next())) return lx.errorf("Expected two hexadecimal digits after '\\x', but hit end of line");
  if (isNL(lx.next())) return lx.errorf("Expected two hexadecimal digits after '\\x', but hit end of line");
  const hex = lx.input.slice(lx.pos - 2, lx.pos);
  if (!/^[0-9a-fA-F]{2}$/.test(hex)) {
    return lx.errorf(`Expected two hexadecimal digits after '\\x', but got '${hex}'`, first);
  }
  lx.addStringPart({ byte: Number.parseInt(hex, 16) });
  return lx.stringState;
}

// ---------------------------------------------------------------------------
// Numbers, dates, IPs

function lexNumberOrDateOrStringOrIPStart(lx: Lexer): State | null {
  const r = lx.next();
  if (!isDigit(r)) {
    if (r === CH.dot) return lx.errorf("Floats must start with a digit, not '.'.");
    return lx.errorf(`Expected a digit but got '${showRune(r)}'.`);
  }
  return lexNumberOrDateOrStringOrIP;
}

/** Ends an integer (no suffix) or a suffixed integer. Note: ']' is not in this set. */
function endsNumber(r: number): boolean {
  return (
    isNL(r) ||
    r === EOF ||
    r === CH.mapEnd ||
    r === CH.semicolon ||
    r === CH.comma ||
    isWhitespace(r) ||
    isDigit(r)
  );
}

function lexNumberOrDateOrStringOrIP(lx: Lexer): State | null {
  const r = lx.next();
  if (r === CH.minus) {
    // "YYYY-" (the reference counts UTF-8 bytes here)
    if (Buffer.byteLength(lx.pending(), 'utf8') !== 5) {
      return lx.errorf('All ISO8601 dates must be in full Zulu form.');
    }
    return lexDateAfterYear;
  }
  if (isDigit(r)) return lexNumberOrDateOrStringOrIP;
  if (r === CH.dot) return lexFloatStart; // could still turn out to be an IP
  if (isNumberSuffix(r)) return lexConvenientNumber;
  if (!endsNumber(r)) {
    // Not a number after all (e.g. "3xyz"); the rune just read stays consumed.
    lx.stringState = lexString;
    return lexString;
  }
  lx.backup();
  lx.emit('integer');
  return lx.pop();
}

/** After a size suffix letter: more 'b'/'i' letters, then the end of the number. */
function lexConvenientNumber(lx: Lexer): State | null {
  const r = lx.next();
  if (r === 0x62 || r === 0x42 || r === 0x69 || r === 0x49) return lexConvenientNumber; // b B i I
  lx.backup();
  if (endsNumber(r)) {
    lx.emit('integer');
    return lx.pop();
  }
  lx.stringState = lexString;
  return lexString;
}

const DATE_TAIL = '00-00T00:00:00Z';

function lexDateAfterYear(lx: Lexer): State | null {
  for (const f of DATE_TAIL) {
    const r = lx.next();
    if (f === '0') {
      if (!isDigit(r)) {
        return lx.errorf(`Expected digit in ISO8601 datetime, but found '${showRune(r)}' instead.`);
      }
    } else if (f.codePointAt(0) !== r) {
      return lx.errorf(`Expected '${f}' in ISO8601 datetime, but found '${showRune(r)}' instead.`);
    }
  }
  lx.emit('datetime');
  return lx.pop();
}

function lexNegNumberStart(lx: Lexer): State | null {
  const r = lx.next();
  if (!isDigit(r)) {
    if (r === CH.dot) return lx.errorf("Floats must start with a digit, not '.'.");
    return lx.errorf(`Expected a digit but got '${showRune(r)}'.`);
  }
  return lexNegNumber;
}

function lexNegNumber(lx: Lexer): State | null {
  const r = lx.next();
  if (isDigit(r)) return lexNegNumber;
  if (r === CH.dot) return lexFloatStart;
  if (isNumberSuffix(r)) return lexConvenientNumber;
  lx.backup();
  lx.emit('integer');
  return lx.pop();
}

function lexFloatStart(lx: Lexer): State | null {
  const r = lx.next();
  if (!isDigit(r)) {
    return lx.errorf(`Floats must have a digit after the '.', but got '${showRune(r)}' instead.`);
  }
  return lexFloat;
}

function lexFloat(lx: Lexer): State | null {
  const r = lx.next();
  if (isDigit(r)) return lexFloat;
  if (r === CH.dot) return lexIPAddr; // a second '.': it was an IP address
  lx.backup();
  lx.emit('float');
  return lx.pop();
}

function lexIPAddr(lx: Lexer): State | null {
  const r = lx.next();
  if (isDigit(r) || r === CH.dot || r === CH.colon || r === CH.minus) return lexIPAddr;
  lx.backup();
  lx.emit('string');
  return lx.pop();
}

// ---------------------------------------------------------------------------
// Comments

function lexCommentStart(lx: Lexer): State | null {
  lx.ignore();
  lx.emit('commentStart');
  return lexComment;
}

function lexComment(lx: Lexer): State | null {
  const r = lx.peek();
  if (isNL(r) || r === EOF) {
    lx.emit('text');
    return lx.pop();
  }
  lx.next();
  return lexComment;
}
