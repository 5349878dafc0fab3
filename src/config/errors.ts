import { type ConfPosition, formatPosition } from '../conf/index.js';

/** One problem found in a configuration file. */
export interface ConfigIssue {
  /** File, line and column (1-based) of the offending key or value. */
  file: string;
  line: number;
  column: number;
  /** Dotted path of the key, e.g. `authorization.users[0].password` ('' when not about a key). */
  key: string;
  /** The message without the position. */
  reason: string;
  /** `file:line:column: reason`, as nats-server formats its configuration errors. */
  message: string;
}

export function makeIssue(pos: ConfPosition, key: string, reason: string): ConfigIssue {
  return {
    file: pos.file,
    line: pos.line,
    column: pos.column,
    key,
    reason,
    message: `${formatPosition(pos)}: ${reason}`,
  };
}

/**
 * A configuration file that cannot be used: malformed, a wrong type or value, an unknown key, or a key
 * tsnats does not support. Every problem found is in `issues` (one per line of `message`); `file`,
 * `line`, `column`, `key` and `reason` describe the first one.
 */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly key: string;
  readonly reason: string;

  constructor(issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    if (issues.length === 0) throw new TypeError('ConfigError needs at least one issue');
    super(issues.map((i) => i.message).join('\n'), options);
    this.name = 'ConfigError';
    this.issues = issues;
    const first = issues[0]!;
    this.file = first.file;
    this.line = first.line;
    this.column = first.column;
    this.key = first.key;
    this.reason = first.reason;
  }
}

/** Thrown inside the loader to abandon one key; collected into a ConfigError by the caller. */
export class IssueSignal extends Error {
  constructor(readonly issue: ConfigIssue) {
    super(issue.message);
    this.name = 'IssueSignal';
  }
}
