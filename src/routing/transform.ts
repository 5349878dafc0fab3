/**
 * Subject transforms for account mappings and republish (nats-server's newTransform / transform.Match in
 * accounts.go): a source subject with wildcards and a destination that may use them, `$N` or
 * `{{wildcard(N)}}` for the N-th `*` of the source, and a trailing `>` for what the source's `>` matched.
 *
 * tsnats supports the wildcard mapping only; nats-server 2.9's other mapping functions (partition, split,
 * slice) are refused as an invalid destination.
 */

const WILDCARD_FN = /^\{\{\s*wildcard\s*\((.*)\)\s*\}\}$/i;

/** One destination token: a literal, or the index (into the subject's tokens) of a source wildcard. */
type DestToken = string | number;

export class SubjectTransform {
  private constructor(
    readonly src: string,
    readonly dest: string,
    private readonly srcTokens: readonly string[],
    private readonly destTokens: readonly DestToken[],
    /** Whether the destination has mapping tokens or `>` (nats-server's dtokmftypes is non-empty). */
    private readonly mapped: boolean,
  ) {}

  /** nats-server's newTransform: undefined when the pair is not a valid transform. */
  static create(src: string, dest: string): SubjectTransform | undefined {
    const s = subjectInfo(src);
    const d = subjectInfo(dest);
    if (s === undefined || d === undefined || d.pwcs > 0 || s.fwc !== d.fwc) return undefined;
    // The source token index of each `*`, by wildcard number (1-based).
    const wildcards: number[] = [];
    s.tokens.forEach((t, i) => {
      if (t === '*') wildcards.push(i);
    });
    const destTokens: DestToken[] = [];
    const mapped = s.pwcs > 0 || s.fwc;
    let used = 0;
    for (const t of d.tokens) {
      if (!mapped) {
        destTokens.push(t);
        continue;
      }
      const idx = placeholder(t);
      if (idx === 'bad') return undefined;
      if (idx === undefined) {
        destTokens.push(t);
        continue;
      }
      if (idx > s.pwcs || idx < 1) return undefined;
      used++;
      destTokens.push(wildcards[idx - 1]!);
    }
    if (mapped && used < s.pwcs) return undefined;
    return new SubjectTransform(src, dest, s.tokens, destTokens, mapped);
  }

  /** The destination of a literal subject, or undefined when it does not match the source. */
  match(subject: string): string | undefined {
    if ((this.src === '>' || this.src === '') && (this.dest === '>' || this.dest === '')) return subject;
    const tokens = subject.split('.');
    if (this.src !== '>' && this.src !== '' && !subsetMatch(tokens, this.srcTokens)) return undefined;
    if (!this.mapped) return this.dest;
    const out: string[] = [];
    const dt = this.destTokens;
    for (let i = 0; i < dt.length; i++) {
      const t = dt[i]!;
      if (t === '>') break;
      out.push(typeof t === 'number' ? tokens[t]! : t);
    }
    if (dt[dt.length - 1] === '>') {
      for (let i = this.srcTokens.length - 1; i < tokens.length; i++) out.push(tokens[i]!);
    }
    return out.join('.');
  }
}

/** nats-server's subjectInfo: tokens, number of `*`, whether it ends in `>`; undefined when invalid. */
function subjectInfo(subject: string): { tokens: string[]; pwcs: number; fwc: boolean } | undefined {
  if (subject === '') return undefined;
  const tokens = subject.split('.');
  let pwcs = 0;
  let fwc = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === '') return undefined;
    if (t === '*') pwcs++;
    else if (t === '>') {
      if (i !== tokens.length - 1) return undefined;
      fwc = true;
    } else if (/[\s]/.test(t)) return undefined;
  }
  return { tokens, pwcs, fwc };
}

/** A destination token's wildcard number, undefined for a literal, 'bad' for a function tsnats lacks. */
function placeholder(token: string): number | undefined | 'bad' {
  if (token.length > 1 && token[0] === '$') {
    const n = Number(token.slice(1));
    return /^\d+$/.test(token.slice(1)) && Number.isSafeInteger(n) ? n : undefined;
  }
  if (token.length > 4 && token.startsWith('{{') && token.endsWith('}}')) {
    const m = WILDCARD_FN.exec(token);
    if (m === null) return 'bad';
    const arg = m[1]!.trim();
    return /^\d+$/.test(arg) ? Number(arg) : 'bad';
  }
  return undefined;
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
