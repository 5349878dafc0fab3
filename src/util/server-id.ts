/**
 * A server's ID: the public key of a fresh server nkey (`N...`, 56 characters), as nats-server's. Made with
 * Node's native Ed25519 key generation and the nkey encoding (prefix byte, key, CRC-16 little endian,
 * base32 without padding) instead of @nats-io/nkeys' pure-JavaScript keygen, which costs tens of
 * milliseconds at start-up (and loading the library another few). Only the public key is used: nothing is
 * signed with the server's key.
 */
import { generateKeyPairSync } from 'node:crypto';

/** nkeys' Prefix.Server (N). */
const SERVER_PREFIX = 13 << 3;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** CRC-16/XMODEM, nkeys' checksum. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** The nkey encoding of an Ed25519 public key with the server prefix. */
export function encodeServerPublicKey(pub: Uint8Array): string {
  const raw = new Uint8Array(35);
  raw[0] = SERVER_PREFIX;
  raw.set(pub, 1);
  const crc = crc16(raw.subarray(0, 33));
  raw[33] = crc & 0xff;
  raw[34] = crc >>> 8;
  return base32(raw);
}

/** A new server ID. */
export function newServerId(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  // SPKI DER of an Ed25519 key: a 12-byte header, then the 32-byte key.
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return encodeServerPublicKey(der.subarray(der.length - 32));
}
