import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { PeerCertificate, SecureContext, SecureContextOptions, TLSSocket } from 'node:tls';
import type { TlsOptions } from '../server/options.js';
import { nodeTls } from '../util/builtin.js';

/** A TLS record of type "handshake" starts with this byte: how we tell a TLS client from a plain one. */
const TLS_HANDSHAKE_RECORD = 0x16;

/** The certificate, key, CA and ciphers of a `tls {}` block, read from their files. */
export function secureContextOptions(o: TlsOptions): SecureContextOptions {
  return {
    cert: readFileSync(o.certFile),
    key: readFileSync(o.keyFile),
    ...(o.caFile !== '' ? { ca: readFileSync(o.caFile) } : {}),
    ...(o.ciphers !== undefined && o.ciphers.length > 0 ? { ciphers: o.ciphers.join(':') } : {}),
    ...(o.curves !== undefined && o.curves.length > 0 ? { ecdhCurve: o.curves.join(':') } : {}),
    minVersion: 'TLSv1.2',
  };
}

export function buildSecureContext(o: TlsOptions): SecureContext {
  return nodeTls().createSecureContext(secureContextOptions(o));
}

/** The TLS socket, or none when `allowPlain` let a plain client in (its first bytes are back in `raw`). */
export type UpgradeResult =
  | { ok: true; socket: TLSSocket | undefined }
  | { ok: false; plain: boolean; error: string };

/**
 * Server side of nats-server's TLS upgrade: INFO went out in plain text, now the client must start a TLS
 * handshake. A client that sends anything else (a plain CONNECT) or nothing before the timeout fails,
 * unless `allowPlain` (allow_non_tls): then what it sent is put back and it goes on without TLS.
 */
export function upgradeToTls(
  raw: Socket,
  ctx: SecureContext,
  o: TlsOptions,
  allowPlain = false,
): Promise<UpgradeResult> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: UpgradeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(
      () => finish({ ok: false, plain: true, error: 'TLS handshake timeout' }),
      o.timeout,
    );
    timer.unref();
    raw.once('error', (e) => finish({ ok: false, plain: false, error: e.message }));
    raw.once('close', () => finish({ ok: false, plain: false, error: 'closed during TLS handshake' }));
    raw.once('data', (first: Buffer) => {
      if (first[0] !== TLS_HANDSHAKE_RECORD) {
        if (allowPlain) {
          raw.pause();
          raw.unshift(first);
          finish({ ok: true, socket: undefined });
          return;
        }
        finish({ ok: false, plain: true, error: 'client did not start a TLS handshake' });
        return;
      }
      raw.pause();
      raw.unshift(first);
      const verify = o.verify || o.verifyAndMap;
      const tlsSock = new (nodeTls().TLSSocket)(raw, {
        isServer: true,
        secureContext: ctx,
        requestCert: verify,
        rejectUnauthorized: verify,
      });
      tlsSock.once('secure', () => finish({ ok: true, socket: tlsSock }));
      tlsSock.once('error', (e) => finish({ ok: false, plain: false, error: e.message }));
    });
  });
}

/**
 * Names a verified client certificate can map to a user by (verify_and_map): e-mail and DNS subject
 * alternative names, then the subject as an RFC 2253 distinguished name, as nats-server tries them.
 */
export function certificateIdentities(cert: PeerCertificate): string[] {
  const out: string[] = [];
  const san = cert.subjectaltname ?? '';
  for (const part of san.split(/,\s*/)) {
    const m = /^(email|DNS):(.*)$/.exec(part);
    if (m) out.push(m[2]!);
  }
  const subject = cert.subject as unknown as Record<string, string | string[]> | undefined;
  if (subject !== undefined) {
    // RFC 2253 lists the most specific RDN first: reverse of the certificate's order.
    const rdns = Object.entries(subject).flatMap(([k, v]) =>
      Array.isArray(v) ? v.map((x) => `${k}=${x}`) : [`${k}=${v}`],
    );
    out.push(rdns.reverse().join(','));
  }
  return out;
}
