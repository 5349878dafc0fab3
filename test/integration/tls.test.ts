import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { emptyAuthorization } from '../../src/auth/types.js';
import type { TlsOptions } from '../../src/server/options.js';
import { makeCerts, type TestCerts } from '../helpers/certs.js';
import { startServer } from '../helpers/server.js';

describe('TLS', () => {
  let certs: TestCerts;
  before(() => {
    certs = makeCerts();
  });
  after(() => certs.cleanup());

  const tlsOpts = (extra: Partial<TlsOptions> = {}): TlsOptions => ({
    certFile: certs.serverCert,
    keyFile: certs.serverKey,
    caFile: '',
    verify: false,
    verifyAndMap: false,
    timeout: 2000,
    ...extra,
  });

  test('TLS client connects and exchanges messages; INFO says tls_required', async () => {
    const server = await startServer({ tls: tlsOpts() });
    try {
      const nc = await connect({
        servers: `127.0.0.1:${server.port}`,
        tls: { caFile: certs.caCert },
        reconnect: false,
      });
      assert.equal(nc.info?.tls_required, true);
      const sub = nc.subscribe('secure', { max: 1 });
      nc.publish('secure', 'hush');
      for await (const m of sub) assert.equal(m.string(), 'hush');
      await nc.close();
    } finally {
      await server.shutdown();
    }
  });

  test('a plain client gets -ERR Secure Connection - TLS Required', async () => {
    const server = await startServer({ tls: tlsOpts() });
    try {
      const sock = createConnection({ host: '127.0.0.1', port: server.port });
      let got = '';
      sock.setEncoding('latin1');
      sock.on('data', (d: string) => {
        got += d;
        if (got.includes('\r\n') && !got.includes('CONNECT_SENT')) {
          sock.write('CONNECT {}\r\n');
          got += 'CONNECT_SENT';
        }
      });
      await new Promise<void>((resolve) => sock.on('close', () => resolve()));
      assert.match(got, /"tls_required":true/);
      assert.match(got, /-ERR 'Secure Connection - TLS Required'\r\n$/);
    } finally {
      await server.shutdown();
    }
  });

  test('verify: client certificate required and checked', async () => {
    const server = await startServer({ tls: tlsOpts({ verify: true, caFile: certs.caCert }) });
    try {
      const nc = await connect({
        servers: `127.0.0.1:${server.port}`,
        tls: { caFile: certs.caCert, certFile: certs.clientCert, keyFile: certs.clientKey },
        reconnect: false,
      });
      assert.equal(nc.info?.tls_verify, true);
      await nc.flush();
      await nc.close();
      await assert.rejects(
        connect({ servers: `127.0.0.1:${server.port}`, tls: { caFile: certs.caCert }, reconnect: false }),
      );
    } finally {
      await server.shutdown();
    }
  });

  test('verify_and_map: the certificate e-mail names the user', async () => {
    const authorization = emptyAuthorization();
    authorization.users = [
      { user: certs.clientEmail, password: '', permissions: { publish: { allow: ['allowed'] } } },
    ];
    const server = await startServer({
      tls: tlsOpts({ verifyAndMap: true, caFile: certs.caCert }),
      authorization,
    });
    try {
      const nc = await connect({
        servers: `127.0.0.1:${server.port}`,
        tls: { caFile: certs.caCert, certFile: certs.clientCert, keyFile: certs.clientKey },
        reconnect: false,
      });
      const client = [...server.clients.values()][0]!;
      assert.equal(client.authorizedUser, certs.clientEmail);
      await nc.close();
    } finally {
      await server.shutdown();
    }
  });
});
