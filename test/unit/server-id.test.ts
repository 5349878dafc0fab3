/** Server IDs are server public nkeys, as nats-server's: what @nats-io/nkeys reads as one. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createServer, fromPublic } from '@nats-io/nkeys';
import { encodeServerPublicKey, newServerId } from '../../src/util/server-id.js';

test('a new server ID is a valid server public key, different each time', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const id = newServerId();
    assert.match(id, /^N[A-Z2-7]{55}$/);
    assert.equal(fromPublic(id).getPublicKey(), id, 'nkeys decodes it (prefix and checksum)');
    ids.add(id);
  }
  assert.equal(ids.size, 50);
});

/** The 32 key bytes of a public nkey (base32 decoded, prefix and checksum dropped). */
function keyBytes(nkey: string): Uint8Array {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of nkey) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out.slice(1, 33));
}

test('the encoding is the one @nats-io/nkeys writes for the same key', () => {
  for (let i = 0; i < 50; i++) {
    const pub = createServer().getPublicKey();
    assert.equal(encodeServerPublicKey(keyBytes(pub)), pub);
  }
});
