/**
 * nats-server configuration file support: `parseConf` / `parseConfFile`
 * produce plain objects (see parser.ts for the value rules), `keyPosition`
 * recovers where a key was written, `parseDuration` interprets durations.
 */
export { parseDuration, parseGoDurationNanos } from './duration.js';
export { type Token, type TokenType, tokenize } from './lexer.js';
export { type ParseOptions, parseConf, parseConfFile } from './parser.js';
export {
  ConfError,
  type ConfMap,
  type ConfPosition,
  type ConfValue,
  elementPosition,
  formatPosition,
  keyPosition,
} from './types.js';
