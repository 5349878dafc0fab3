/**
 * The client `tls {}` block (nats-server's parseTLS and GenTLSConfig): the certificate, key and CA files
 * are loaded and checked at load time, as nats-server does, so `-t` catches a bad file.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TLS_TIMEOUT, type TlsOptions } from '../server/options.js';
import { nodeTls } from '../util/builtin.js';
import type { ConfigField, ConfigReader } from './reader.js';

/** nats-server's cipher suite names (Go's) and their OpenSSL names. */
export const CIPHER_SUITES: ReadonlyMap<string, string> = new Map([
  ['TLS_RSA_WITH_RC4_128_SHA', 'RC4-SHA'],
  ['TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'DES-CBC3-SHA'],
  ['TLS_RSA_WITH_AES_128_CBC_SHA', 'AES128-SHA'],
  ['TLS_RSA_WITH_AES_128_CBC_SHA256', 'AES128-SHA256'],
  ['TLS_RSA_WITH_AES_256_CBC_SHA', 'AES256-SHA'],
  ['TLS_RSA_WITH_AES_256_GCM_SHA384', 'AES256-GCM-SHA384'],
  ['TLS_ECDHE_ECDSA_WITH_RC4_128_SHA', 'ECDHE-ECDSA-RC4-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'ECDHE-ECDSA-AES128-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'ECDHE-ECDSA-AES256-SHA'],
  ['TLS_ECDHE_RSA_WITH_RC4_128_SHA', 'ECDHE-RSA-RC4-SHA'],
  ['TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA', 'ECDHE-RSA-DES-CBC3-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'ECDHE-RSA-AES128-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 'ECDHE-RSA-AES128-SHA256'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'ECDHE-ECDSA-AES128-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'ECDHE-RSA-AES256-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'ECDHE-RSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
  ['TLS_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256'],
  ['TLS_AES_256_GCM_SHA384', 'TLS_AES_256_GCM_SHA384'],
  ['TLS_CHACHA20_POLY1305_SHA256', 'TLS_CHACHA20_POLY1305_SHA256'],
]);

/** nats-server's curvePreferenceMap (Go names) -> OpenSSL group names. */
const CURVES = new Map<string, string>([
  ['X25519', 'X25519'],
  ['CurveP256', 'P-256'],
  ['CurveP384', 'P-384'],
  ['CurveP521', 'P-521'],
]);

/** Keys of nats-server's tls block that tsnats does not implement (refused, never ignored). */
const TLS_NOT_YET: Readonly<Record<string, string>> = {
  insecure: 'it only concerns outgoing connections',
  verify_cert_and_check_known_urls: 'it only concerns routes, gateways and leaf nodes',
  connection_rate_limit: 'TLS connection rate limits',
  pinned_certs: 'pinned certificates',
};

function readPem(r: ConfigReader, f: ConfigField, file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    return r.fail(
      f,
      `error parsing tls config, can not read ${what} ${JSON.stringify(file)}: ${(err as Error).message}`,
    );
  }
}

/**
 * `tls { cert_file, key_file, ca_file, verify, verify_and_map, timeout, cipher_suites }`. A server side
 * block needs a certificate; a client side one (`client`: a leaf connection to its hub) may have none,
 * only a CA to verify the other side with.
 */
export function parseTls(r: ConfigReader, f: ConfigField, opts: { client?: boolean } = {}): TlsOptions {
  const m = r.map(f);
  const tls: TlsOptions = {
    certFile: '',
    keyFile: '',
    caFile: '',
    verify: false,
    verifyAndMap: false,
    timeout: TLS_TIMEOUT,
  };
  const fields: Record<string, ConfigField> = {};
  const file = (name: 'certFile' | 'keyFile' | 'caFile', key: string) => (x: ConfigField) => {
    if (typeof x.value !== 'string') r.fail(x, `error parsing tls config, expected '${key}' to be filename`);
    tls[name] = x.value;
    fields[key] = x;
  };
  const boolean = (key: string, set: (v: boolean) => void) => (x: ConfigField) => {
    if (typeof x.value !== 'boolean')
      r.fail(x, `error parsing tls config, expected '${key}' to be a boolean`);
    set(x.value);
  };
  const handlers: Record<string, (x: ConfigField) => void> = {
    cert_file: file('certFile', 'cert_file'),
    key_file: file('keyFile', 'key_file'),
    ca_file: file('caFile', 'ca_file'),
    verify: boolean('verify', (v) => (tls.verify = v)),
    verify_and_map: boolean('verify_and_map', (v) => {
      // verify_and_map: true implies verify (nats-server).
      if (v) tls.verify = true;
      tls.verifyAndMap = v;
    }),
    timeout: (x) => {
      let ms: number;
      if (typeof x.value === 'number') ms = x.value * 1000;
      else if (typeof x.value === 'string') ms = r.durationString(x);
      else return r.fail(x, "error parsing tls config, 'timeout' wrong type");
      if (ms < 0) r.fail(x, "error parsing tls config, 'timeout' can not be negative");
      // 0 means the default, as in nats-server.
      tls.timeout = ms === 0 ? TLS_TIMEOUT : ms;
    },
    curve_preferences: (x) => {
      const list = r.array(x);
      if (list.length === 0) r.fail(x, "error parsing tls config, 'curve_preferences' cannot be empty");
      tls.curves = r.elements(x, list).map((e) => {
        const name = r.string(e);
        const curve = CURVES.get(name);
        if (curve === undefined) r.fail(e, `unrecognized curve preference ${name}`);
        return curve;
      });
    },
    cipher_suites: (x) => {
      const list = r.array(x);
      if (list.length === 0) r.fail(x, "error parsing tls config, 'cipher_suites' cannot be empty");
      const available = new Set(
        nodeTls()
          .getCiphers()
          .map((c) => c.toUpperCase()),
      );
      tls.ciphers = r.elements(x, list).map((e) => {
        const name = r.string(e);
        const openssl = CIPHER_SUITES.get(name);
        if (openssl === undefined) r.fail(e, `unrecognized cipher ${name}`);
        if (!available.has(openssl.toUpperCase())) {
          r.fail(e, `cipher ${name} (${openssl}) is not available in this Node.js build`);
        }
        return openssl;
      });
    },
  };
  for (const [key, what] of Object.entries(TLS_NOT_YET)) {
    handlers[key] = (x) => r.fail(x, `${x.path}: not supported by tsnats yet (${what})`);
  }
  r.forEachKey(m, f.path, handlers, {
    unknown: (x) => `error parsing tls config, unknown field [${JSON.stringify(x.key)}]`,
  });

  // nats-server's GenTLSConfig: the certificate and key are loaded now.
  if (tls.certFile !== '' && tls.keyFile === '') r.fail(f, "missing 'key_file' in TLS configuration");
  if (tls.certFile === '' && tls.keyFile !== '') r.fail(f, "missing 'cert_file' in TLS configuration");
  if (tls.certFile === '' && opts.client === true) {
    checkCaFile(r, fields, tls);
    return tls;
  }
  if (tls.certFile === '') {
    r.fail(f, `${f.path}: 'cert_file' and 'key_file' are required (tsnats serves TLS with a certificate)`);
  }
  const certField = fields['cert_file']!;
  const certPem = readPem(r, certField, tls.certFile, 'certificate');
  const keyPem = readPem(r, fields['key_file']!, tls.keyFile, 'key');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
    const key = createPrivateKey(keyPem);
    if (!cert.checkPrivateKey(key)) throw new Error('private key does not match public key');
  } catch (err) {
    return r.fail(certField, `error parsing X509 certificate/key pair: ${(err as Error).message}`);
  }
  checkCaFile(r, fields, tls);
  return tls;
}

/** The CA file must hold at least one certificate, all parseable (nats-server's check). */
function checkCaFile(r: ConfigReader, fields: Record<string, ConfigField>, tls: TlsOptions): void {
  if (tls.caFile !== '') {
    const caField = fields['ca_file']!;
    const caPem = readPem(r, caField, tls.caFile, 'CA file');
    const blocks = caPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    let ok = blocks.length > 0;
    for (const b of blocks) {
      try {
        new X509Certificate(b);
      } catch {
        ok = false;
      }
    }
    if (!ok) r.fail(caField, 'failed to parse root ca certificate');
  }
}
