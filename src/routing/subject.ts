// Subject syntax: validation, wildcard detection and literal-vs-pattern matching.
//
// A subject is a list of tokens separated by '.'. In a subscription pattern the
// token '*' matches exactly one token and the token '>' matches one or more
// trailing tokens. '*' and '>' are wildcards only when they are a whole token:
// "foo*" or ">bar" are ordinary literal tokens. These rules (and their corner
// cases) follow nats-server's sublist.go so that tsnats accepts and rejects
// exactly the same subjects.
//
// The validators and matchLiteral() run on every PUB/SUB (or on every cache
// update), so they scan UTF-16 code units with charCodeAt and never allocate.
// Working on code units instead of Go's bytes gives identical answers because
// every character that matters ('.', '*', '>', whitespace) is ASCII.

const DOT = 0x2e; // '.'
const PWC = 0x2a; // '*'
const FWC = 0x3e; // '>'
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const FF = 0x0c;
const CR = 0x0d;

/** The characters nats-server refuses anywhere in a subject: "\t\n\f\r ". */
function isSubjectWhitespace(c: number): boolean {
  return c === SPACE || c === TAB || c === LF || c === CR || c === FF;
}

/**
 * True if `subject` is a valid subject or subscription pattern: at least one
 * token, no empty token, no whitespace (space, \t, \n, \f, \r), and a
 * full-token '>' only in the last position. Wildcards are allowed.
 * Mirrors nats-server's IsValidSubject.
 */
export function isValidSubject(subject: string): boolean {
  const len = subject.length;
  if (len === 0) return false;
  let start = 0;
  for (let i = 0; i < len; i++) {
    const c = subject.charCodeAt(i);
    if (c === DOT) {
      if (i === start) return false; // empty token
      // A token follows a full-wildcard token: '>' must be terminal.
      if (i - start === 1 && subject.charCodeAt(start) === FWC) return false;
      start = i + 1;
    } else if (c <= SPACE && isSubjectWhitespace(c)) {
      return false;
    }
  }
  return start < len; // a trailing '.' leaves an empty last token
}

/**
 * True if `subject` has no empty token and no '*' or '>' token.
 * Mirrors nats-server's IsValidLiteralSubject, which (unlike isValidSubject)
 * does not look for whitespace; nats-server uses it for the pedantic check of
 * PUB subjects, where the protocol parser has already split on whitespace.
 */
export function isValidLiteralSubject(subject: string): boolean {
  const len = subject.length;
  let start = 0;
  for (let i = 0; i <= len; i++) {
    if (i === len || subject.charCodeAt(i) === DOT) {
      const tokenLen = i - start;
      if (tokenLen === 0) return false;
      if (tokenLen === 1) {
        const c = subject.charCodeAt(start);
        if (c === PWC || c === FWC) return false;
      }
      start = i + 1;
    }
  }
  return true;
}

/**
 * True if `subject` is a valid subject (see isValidSubject) with no wildcard
 * tokens, i.e. something a message can be published to.
 * Mirrors nats-server's IsValidPublishSubject.
 */
export function isValidPublishSubject(subject: string): boolean {
  return isValidSubject(subject) && subjectIsLiteral(subject);
}

/**
 * True if no token of `subject` is a lone '*' or '>'. Does not validate the
 * subject otherwise; this is the cheap test the match cache relies on.
 */
export function subjectIsLiteral(subject: string): boolean {
  const len = subject.length;
  for (let i = 0; i < len; i++) {
    const c = subject.charCodeAt(i);
    if (
      (c === PWC || c === FWC) &&
      (i === 0 || subject.charCodeAt(i - 1) === DOT) &&
      (i + 1 === len || subject.charCodeAt(i + 1) === DOT)
    ) {
      return false;
    }
  }
  return true;
}

/** True if some token of `subject` is a lone '*' or '>'. */
export function subjectHasWildcard(subject: string): boolean {
  return !subjectIsLiteral(subject);
}

/**
 * True if the literal subject `literal` is matched by the subscription
 * pattern `pattern` (which may contain '*' and '>' tokens). `literal` is not
 * validated; wildcard characters in it are compared as plain characters.
 * Mirrors nats-server's matchLiteral, including its treatment of '*'/'>'
 * that are not whole tokens as ordinary characters.
 */
export function matchLiteral(literal: string, pattern: string): boolean {
  let li = 0;
  const ll = literal.length;
  const lp = pattern.length;
  for (let i = 0; i < lp; i++) {
    if (li >= ll) return false;
    const c = pattern.charCodeAt(i);
    if (c === PWC) {
      // Only a whole token is a wildcard; otherwise fall through and compare.
      if (i === 0 || pattern.charCodeAt(i - 1) === DOT) {
        if (i === lp - 1) {
          // Last pattern token: the rest of the literal must be one token.
          for (; li < ll; li++) {
            if (literal.charCodeAt(li) === DOT) return false;
          }
          return true;
        }
        if (pattern.charCodeAt(i + 1) === DOT) {
          // Skip one literal token; it must be followed by a separator,
          // which the common comparison below checks against the pattern's '.'.
          for (;;) {
            if (li >= ll) return false;
            if (literal.charCodeAt(li) === DOT) break;
            li++;
          }
          i++;
        }
      }
    } else if (c === FWC) {
      // '>' is a wildcard only as the final, whole token; it needs something
      // left in the literal to match, which the `li >= ll` check guarantees.
      if ((i === 0 || pattern.charCodeAt(i - 1) === DOT) && i === lp - 1) return true;
    }
    if (pattern.charCodeAt(i) !== literal.charCodeAt(li)) return false;
    li++;
  }
  // The whole literal must have been consumed.
  return li >= ll;
}

/** Number of tokens in `subject` ('.'-separated); 0 for the empty string. */
export function numTokens(subject: string): number {
  const len = subject.length;
  if (len === 0) return 0;
  let n = 1;
  for (let i = 0; i < len; i++) {
    if (subject.charCodeAt(i) === DOT) n++;
  }
  return n;
}

/**
 * The token at 1-based `index` (tokenAt("a.b", 1) === "a"), or "" when the
 * index is 0 or past the last token. Mirrors nats-server's tokenAt.
 */
export function tokenAt(subject: string, index: number): string {
  let ti = 1;
  let start = 0;
  const len = subject.length;
  for (let i = 0; i < len; i++) {
    if (subject.charCodeAt(i) === DOT) {
      if (ti === index) return subject.slice(start, i);
      start = i + 1;
      ti++;
    }
  }
  return ti === index ? subject.slice(start) : '';
}

function isLoneChar(token: string, c: number): boolean {
  return token.length === 1 && token.charCodeAt(0) === c;
}

/**
 * Token-wise subset test behind subjectIsSubsetMatch. Kept faithful to
 * nats-server, including that a `test` token merely *starting* with '*'
 * accepts any token.
 */
function isSubsetMatchTokenized(tokens: readonly string[], test: readonly string[]): boolean {
  for (let i = 0; i < test.length; i++) {
    if (i >= tokens.length) return false;
    const t2 = test[i]!;
    if (t2.length === 0) return false;
    if (isLoneChar(t2, FWC)) return true;
    const t1 = tokens[i]!;
    if (t1.length === 0 || isLoneChar(t1, FWC)) return false;
    if (isLoneChar(t1, PWC)) {
      if (!isLoneChar(t2, PWC)) return false;
      continue;
    }
    if (t2.charCodeAt(0) !== PWC && t1 !== t2) return false;
  }
  return tokens.length === test.length;
}

/**
 * True if every literal subject matched by `subject` is also matched by
 * `test`; both may contain wildcards. E.g. "foo.*" is a subset of ">", "*.*"
 * and "foo.*", but not of "foo.bar". Subjects with empty tokens never match.
 * Mirrors nats-server's subjectIsSubsetMatch.
 */
export function subjectIsSubsetMatch(subject: string, test: string): boolean {
  return isSubsetMatchTokenized(subject.split('.'), test.split('.'));
}

/** Whether any token is a lone '*' (pwc) and/or a lone '>' (fwc). */
function analyzeTokens(tokens: readonly string[]): { pwc: boolean; fwc: boolean } {
  let pwc = false;
  let fwc = false;
  for (const t of tokens) {
    if (t.length !== 1) continue;
    const c = t.charCodeAt(0);
    if (c === PWC) pwc = true;
    else if (c === FWC) fwc = true;
  }
  return { pwc, fwc };
}

/**
 * Whether two tokens at the same position could match one literal token.
 * Like nats-server, this looks only at the first character for wildcards.
 */
function tokensCanMatch(t1: string, t2: string): boolean {
  if (t1.length === 0 || t2.length === 0) return false;
  const c1 = t1.charCodeAt(0);
  const c2 = t2.charCodeAt(0);
  if (c1 === PWC || c2 === PWC || c1 === FWC || c2 === FWC) return true;
  return t1 === t2;
}

/**
 * True if the two subjects (either may contain wildcards) could both match
 * one literal subject. Used to refuse overlapping subjects, e.g. between
 * JetStream streams. Mirrors nats-server's SubjectsCollide.
 */
export function subjectsCollide(subj1: string, subj2: string): boolean {
  if (subj1 === subj2) return true;
  const toks1 = subj1.split('.');
  const toks2 = subj2.split('.');
  const a1 = analyzeTokens(toks1);
  const a2 = analyzeTokens(toks2);
  const lit1 = !(a1.pwc || a1.fwc);
  const lit2 = !(a2.pwc || a2.fwc);
  // Two distinct literals never collide (equality was checked above).
  if (lit1 && lit2) return false;
  // Exactly one literal: it collides iff the pattern matches it.
  if (lit1) return isSubsetMatchTokenized(toks1, toks2);
  if (lit2) return isSubsetMatchTokenized(toks2, toks1);
  // Both have wildcards. Without a '>' the token counts must agree; with
  // different counts, the shorter one needs the '>' to absorb the rest.
  const lt1 = toks1.length;
  const lt2 = toks2.length;
  if (lt1 !== lt2) {
    if ((lt1 < lt2 && !a1.fwc) || (lt2 < lt1 && !a2.fwc)) return false;
  }
  const stop = Math.min(lt1, lt2);
  for (let i = 0; i < stop; i++) {
    if (!tokensCanMatch(toks1[i]!, toks2[i]!)) return false;
  }
  return true;
}
