import { randomInt } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** 22 random base62 characters, like nats-server's nuid.Next() (cluster names, `$LDS.` subjects). */
export function nuid(): string {
  let s = '';
  for (let i = 0; i < 22; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}
