/** Random tokens: ephemeral consumer names, advisory ids and flow control reply subjects. */
import { randomBytes } from 'node:crypto';

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `n` random characters of [0-9A-Za-z]. */
export function randomToken(n: number): string {
  const b = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += B62[b[i]! % 62];
  return s;
}
