/**
 * @nats-io/nkeys (and the tweetnacl it carries), loaded on first use: only servers with NKey users, JWTs or
 * leaf node credentials need it, and loading it is a noticeable part of start-up otherwise.
 */
import { createRequire } from 'node:module';
import type * as NKeys from '@nats-io/nkeys';

export type KeyPair = NKeys.KeyPair;

let lib: typeof NKeys | undefined;
function nkeys(): typeof NKeys {
  lib ??= createRequire(import.meta.url)('@nats-io/nkeys') as typeof NKeys;
  return lib;
}

/** nkeys' fromPublic: a key pair that verifies, from a public key (throws on a malformed key). */
export function fromPublic(key: string): KeyPair {
  return nkeys().fromPublic(key);
}

/** nkeys' fromSeed: a key pair that signs, from an encoded seed. */
export function fromSeed(seed: Uint8Array): KeyPair {
  return nkeys().fromSeed(seed);
}
