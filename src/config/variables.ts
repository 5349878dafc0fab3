/**
 * Which keys of a configuration file are referenced as `$variables`.
 *
 * nats-server does not report a key it does not know as an error when that key is used as a variable
 * elsewhere in the file (`PASS = "s3cret"` ... `password: $PASS`): its parser marks the referenced
 * definition as used. The conf module keeps parsed values as plain data, so this module replays the
 * parser's scoping rules over the token stream (innermost enclosing map first, arrays skipped, only
 * keys defined above the reference, included files merged into the including map) and returns the
 * positions of the referenced definitions, formatted as `file:line:column` (see `formatPosition`), so
 * they can be compared with `keyPosition` of the parsed maps.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { formatPosition } from '../conf/index.js';
import { Lexer, type Token } from '../conf/lexer.js';
import { LineIndex } from '../conf/types.js';

const MAX_INCLUDE_DEPTH = 64;

const SIZE_SUFFIX = /^(?:|[kmgtpe](?:b|i|ib)?)$/;

interface Frame {
  /** Keys defined so far in a map (name -> formatted position); null for arrays. */
  defs: Map<string, string> | null;
}

/** Positions (`file:line:column`) of the key definitions that a `$variable` refers to. */
export function findUsedVariables(text: string, file: string): Set<string> {
  const used = new Set<string>();
  scan(text, file, file === '' ? '.' : path.dirname(file), used, 0);
  return used;
}

/** Scans one file; returns its top-level definitions (name -> position), for `include`. */
function scan(
  text: string,
  file: string,
  baseDir: string,
  used: Set<string>,
  depth: number,
): Map<string, string> {
  const lines = new LineIndex(text, file);
  const root: Frame = { defs: new Map() };
  const stack: Frame[] = [root];
  const keys: Token[] = [];
  const lexer = new Lexer(text);

  const setValue = (): void => {
    const top = stack[stack.length - 1]!;
    if (top.defs === null) return;
    const key = keys.pop();
    if (key !== undefined) top.defs.set(key.value, formatPosition(lines.at(key.offset)));
  };

  for (;;) {
    const tok = lexer.nextToken();
    switch (tok.type) {
      case 'eof':
      case 'error':
        return root.defs!;
      case 'key':
        keys.push(tok);
        break;
      case 'mapStart':
        stack.push({ defs: new Map() });
        break;
      case 'arrayStart':
        stack.push({ defs: null });
        break;
      case 'mapEnd':
      case 'arrayEnd':
        if (stack.length > 1) stack.pop();
        setValue();
        break;
      case 'integer': {
        // An unknown size suffix makes the parser drop the value (and keep the key pending).
        const digits = /^[\p{Nd}-]*/u.exec(tok.value)![0];
        if (SIZE_SUFFIX.test(tok.value.slice(digits.length).trim().toLowerCase())) setValue();
        break;
      }
      case 'variable': {
        if (!tok.value.startsWith('2a$')) {
          for (let i = stack.length - 1; i >= 0; i--) {
            const pos = stack[i]!.defs?.get(tok.value);
            if (pos !== undefined) {
              used.add(pos);
              break;
            }
          }
        }
        setValue();
        break;
      }
      case 'string':
      case 'float':
      case 'bool':
      case 'datetime':
        setValue();
        break;
      case 'include': {
        if (depth >= MAX_INCLUDE_DEPTH) break;
        const target = path.join(baseDir, tok.value);
        let included: Map<string, string>;
        try {
          included = scan(readFileSync(target, 'utf8'), target, path.dirname(target), used, depth + 1);
        } catch {
          break; // the parser has already reported unreadable includes
        }
        for (const [name, pos] of included) {
          const top = stack[stack.length - 1]!;
          // Like the parser: inside an array the key stays pending.
          if (top.defs === null) keys.push({ type: 'key', value: name, offset: tok.offset });
          else top.defs.set(name, pos);
        }
        break;
      }
      case 'text':
      case 'commentStart':
        break;
    }
  }
}
