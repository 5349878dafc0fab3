/**
 * The websocket listener (nats-server's startWebsocketServer and wsUpgrade): an HTTP (or HTTPS) server
 * whose only job is the websocket upgrade. The checks of RFC 6455 section 4.2.1 come first, in
 * nats-server's order and with its HTTP errors, then the origin rules (`same_origin`,
 * `allowed_origins`); the `ws` package completes the handshake (and negotiates `permessage-deflate`
 * when `compression` is on) and does all the framing. The upgraded connection becomes a client of the
 * server core like a TCP one (ServerCore.acceptWebsocket), its messages carried by a WebSocketStream.
 */
import type { IncomingMessage, Server } from 'node:http';
import { createRequire } from 'node:module';
import { isIP, type Socket } from 'node:net';
import type * as Ws from 'ws';
import type { WebSocketServer } from 'ws';
import type { ServerCore } from '../server/core.js';
import { hostPort } from '../server/core.js';
import type { WebsocketOptions } from '../server/options.js';
import { secureContextOptions } from '../transport/tls.js';
import { nodeHttp, nodeHttps } from '../util/builtin.js';
import { websocketOptionsProblem } from './config.js';
import { WebSocketStream } from './stream.js';

/** nats-server's wsCompressThreshold: output of 64 bytes or less is not worth compressing. */
const COMPRESS_THRESHOLD = 64;

/** A handshake refused with an HTTP status; `reason` is logged as nats-server logs it. */
class HandshakeError extends Error {
  constructor(
    readonly status: number,
    reason: string,
  ) {
    super(reason);
  }
}

export class WebsocketListener {
  /** The port the listener is bound to (known once started). */
  port = 0;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private closed: Promise<void> | undefined;
  /** Allowed origins by lower-case host: scheme and port (nats-server's allowedOrigins map). */
  private readonly allowedOrigins = new Map<string, { scheme: string; port: string }>();

  constructor(
    private readonly core: ServerCore,
    private readonly o: WebsocketOptions,
  ) {
    const problem = websocketOptionsProblem(o, core.authorizationConfig);
    if (problem !== undefined) throw new Error(problem);
    for (const ao of o.allowedOrigins) {
      const u = new URL(ao);
      const scheme = u.protocol.replace(/:$/, '');
      const [h, p] = originHostPort(scheme === 'https', u.host);
      this.allowedOrigins.set(h, { scheme, port: p });
    }
    const timeout = o.handshakeTimeout;
    const httpOptions = {
      // Node checks the timeouts below on this interval: make it fine enough for a short handshake_timeout.
      ...(timeout > 0 ? { connectionsCheckingInterval: Math.max(50, Math.min(timeout / 2, 30_000)) } : {}),
    };
    if (o.tls !== undefined) {
      const verify = o.tls.verify || o.tls.verifyAndMap;
      this.http = nodeHttps().createServer({
        ...httpOptions,
        ...secureContextOptions(o.tls),
        requestCert: verify,
        rejectUnauthorized: verify,
        ...(timeout > 0 ? { handshakeTimeout: timeout } : {}),
      });
    } else {
      this.http = nodeHttp().createServer(httpOptions);
    }
    if (timeout > 0) {
      this.http.headersTimeout = timeout;
      this.http.requestTimeout = timeout;
    }
    // ws is loaded only by servers with websocket on (it is a good part of the start-up time otherwise).
    const { WebSocketServer: Wss } = createRequire(import.meta.url)('ws') as typeof Ws;
    this.wss = new Wss({
      noServer: true,
      clientTracking: false,
      // A message may batch many protocol messages; bound it as the pending output of a connection is.
      maxPayload: core.options.maxPending,
      perMessageDeflate: o.compression
        ? {
            serverNoContextTakeover: true,
            clientNoContextTakeover: true,
            threshold: COMPRESS_THRESHOLD + 1,
            zlibDeflateOptions: { level: 1 },
          }
        : false,
    });
    // A plain HTTP request is not a websocket upgrade: nats-server answers 400.
    this.http.on('request', (req, res) => {
      const err = this.check(req) ?? new HandshakeError(400, "invalid value for header 'Upgrade'");
      this.logHandshakeError(req, err);
      res.setHeader('Sec-Websocket-Version', '13');
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.statusCode = err.status;
      res.end(`${nodeHttp().STATUS_CODES[err.status] ?? ''}\n`);
    });
    this.http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
    this.http.on('clientError', (err, socket) => {
      core.logger.debug(`websocket: ${err.message}`);
      socket.destroy();
    });
    this.http.on('tlsClientError', (err, socket) => {
      core.logger.error(
        `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0} - websocket TLS error: ${err.message}`,
      );
    });
  }

  /** The address the listener is bound to. */
  get host(): string {
    return this.o.host;
  }

  /** `ws://` or `wss://`. */
  get scheme(): string {
    return this.o.tls !== undefined ? 'wss' : 'ws';
  }

  async start(): Promise<void> {
    const o = this.o;
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen({ host: o.host, port: o.port, backlog: 8192 }, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    this.http.on('error', (err) => this.core.logger.error(`Websocket listener error: ${err.message}`));
    const addr = this.http.address();
    this.port = typeof addr === 'object' && addr !== null ? addr.port : o.port;
    this.core.websocketPort = this.port;
    const log = this.core.logger;
    log.notice(`Listening for websocket clients on ${this.scheme}://${hostPort(o.host, this.port)}`);
    if (o.tls === undefined) log.warn('Websocket not configured with TLS. DO NOT USE IN PRODUCTION!');
  }

  /** Stop accepting; resolves once the websocket connections are closed too. */
  close(): Promise<void> {
    if (this.closed === undefined) {
      const http = this.http;
      this.closed = http.listening
        ? new Promise<void>((resolve) => {
            http.close(() => resolve());
            http.closeIdleConnections();
          })
        : Promise.resolve();
    }
    return this.closed;
  }

  // ---- the upgrade ---------------------------------------------------------------------------------------

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    let err = this.check(req);
    if (err === undefined && head.length > 0) {
      err = new HandshakeError(400, 'client sent data before handshake is complete');
    }
    if (err !== undefined) {
      this.logHandshakeError(req, err);
      refuse(socket, err.status);
      return;
    }
    socket.setNoDelay(true);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const ua = req.headers['user-agent'] ?? '';
      const compressed = ws.extensions.includes('permessage-deflate');
      const browser = ua.startsWith('Mozilla/');
      const stream = new WebSocketStream(ws, browser && !compressed);
      const fwd = firstHeader(req.headers['x-forwarded-for']);
      this.core.acceptWebsocket(stream, socket, {
        setCloseReason: (reason) => stream.setCloseReason(reason),
        browser,
        clientIP: fwd !== '' && isIP(fwd) !== 0 ? fwd : '',
        cookieJwt: this.o.jwtCookie !== '' ? cookie(req.headers.cookie, this.o.jwtCookie) : '',
      });
    });
  }

  /** RFC 6455 section 4.2.1 and the origin rules, as nats-server's wsUpgrade checks them. */
  private check(req: IncomingMessage): HandshakeError | undefined {
    if (req.method !== 'GET') return new HandshakeError(405, 'request method must be GET');
    const h = req.headers;
    if ((h.host ?? '') === '') return new HandshakeError(400, "'Host' missing in request");
    if (!headerContains(h.upgrade, 'websocket')) {
      return new HandshakeError(400, "invalid value for header 'Upgrade'");
    }
    if (!headerContains(h.connection, 'Upgrade')) {
      return new HandshakeError(400, "invalid value for header 'Connection'");
    }
    if (firstHeader(h['sec-websocket-key']) === '') return new HandshakeError(400, 'key missing');
    if (!headerContains(h['sec-websocket-version'], '13')) return new HandshakeError(400, 'invalid version');
    const origin = this.checkOrigin(req);
    if (origin !== undefined) return new HandshakeError(403, `origin not allowed: ${origin}`);
    return undefined;
  }

  /**
   * nats-server's checkOrigin: without `same_origin` and `allowed_origins` (or without an Origin header)
   * anything goes; otherwise the origin must be the request's host, and in the list. Returns the reason
   * for a refusal.
   */
  private checkOrigin(req: IncomingMessage): string | undefined {
    const o = this.o;
    if (!o.sameOrigin && this.allowedOrigins.size === 0) return undefined;
    const origin = firstHeader(req.headers.origin) || firstHeader(req.headers['sec-websocket-origin']);
    if (origin === '') return undefined;
    let u: URL;
    try {
      u = new URL(origin);
    } catch {
      return `parse ${JSON.stringify(origin)}: invalid URI for request`;
    }
    const scheme = u.protocol.replace(/:$/, '');
    const [oh, op] = originHostPort(scheme === 'https', u.host);
    if (o.sameOrigin) {
      const [rh, rp] = originHostPort(o.tls !== undefined, req.headers.host ?? '');
      if (oh !== rh || op !== rp) return 'not same origin';
    }
    if (this.allowedOrigins.size > 0) {
      const ao = this.allowedOrigins.get(oh);
      if (ao === undefined || scheme !== ao.scheme || op !== ao.port) return 'not in the allowed list';
    }
    return undefined;
  }

  private logHandshakeError(req: IncomingMessage, err: HandshakeError): void {
    const s = req.socket;
    this.core.logger.error(
      `${hostPort(s.remoteAddress ?? '', s.remotePort ?? 0)} - websocket handshake error: ${err.message}`,
    );
  }
}

/** Answer a refused upgrade with nats-server's HTTP error and close (http.Error). */
function refuse(socket: Socket, status: number): void {
  const body = `${nodeHttp().STATUS_CODES[status] ?? ''}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${nodeHttp().STATUS_CODES[status] ?? ''}\r\n` +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      'Sec-Websocket-Version: 13\r\n' +
      'X-Content-Type-Options: nosniff\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/** A header's tokens (comma separated, any case) include `value` (nats-server's wsHeaderContains). */
function headerContains(header: string | string[] | undefined, value: string): boolean {
  if (header === undefined) return false;
  const want = value.toLowerCase();
  for (const line of Array.isArray(header) ? header : [header]) {
    for (const t of line.split(',')) if (t.trim().toLowerCase() === want) return true;
  }
  return false;
}

function firstHeader(header: string | string[] | undefined): string {
  if (header === undefined) return '';
  return Array.isArray(header) ? (header[0] ?? '') : header;
}

/** Host (lower case) and port of an origin or Host header; the scheme's port when none is given. */
function originHostPort(tls: boolean, hp: string): [string, string] {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(hp);
  const host = (m?.[1] ?? hp).replace(/^\[|\]$/g, '').toLowerCase();
  const port = m?.[2] !== undefined && m[2] !== '' ? m[2] : tls ? '443' : '80';
  return [host, port];
}

/** The value of cookie `name` in a Cookie header, '' when absent. */
function cookie(header: string | undefined, name: string): string {
  if (header === undefined) return '';
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name)
      return part
        .slice(i + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
  }
  return '';
}
