/**
 * The monitoring HTTP server: a thin node:http adapter over the endpoint modules, answering as
 * nats-server's monitor does (same paths, JSON indented by two spaces, JSONP with `callback=`, 400 with a
 * plain-text reason for bad parameters, Go's 404 text for unknown paths), plus /metrics and the dashboard
 * at `/`.
 */
import { createHash } from 'node:crypto';
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { posix } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { secureContextOptions } from '../transport/tls.js';
import { nodeHttp, nodeHttps } from '../util/builtin.js';
import { accountStatz, accountz, parseAccountStatzQuery, parseAccountzQuery } from './accountz.js';
import { connz, parseConnzQuery } from './connz.js';
import { DASHBOARD_HTML, DASHBOARD_SCRIPT, DASHBOARD_STYLE } from './dashboard.js';
import { BadRequest, joinHostPort, monitorJson } from './format.js';
import { gatewayz, parseGatewayzQuery } from './gatewayz.js';
import { healthz, parseHealthzQuery } from './healthz.js';
import { jsz, parseJszQuery } from './jsz.js';
import { leafz, parseLeafzQuery } from './leafz.js';
import { LOOP_DELAY_RESOLUTION_MS, metrics, parseMetricsQuery } from './metrics.js';
import { hasRaft, parseRaftzQuery, raftz } from './raftz.js';
import { parseRoutezQuery, routez } from './routez.js';
import type { HealthCheck, MonitoredServer, MonitorState } from './state.js';
import { channelsz, clientsz, NotFound, serverz, storez } from './streamingz.js';
import { parseSubszQuery, subsz } from './subsz.js';
import { CpuSampler, varz } from './varz.js';

/** What a handler answers. */
interface Reply {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

type Handler = (q: URLSearchParams) => Reply;

const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain; charset=utf-8';

/** A JSONP callback name we are willing to echo into JavaScript (dotted identifiers only). */
const CALLBACK_RE = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$/;

const cspHash = (s: string): string => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
/** The dashboard's inline script and style are allowed by hash; it may only fetch from this origin. */
const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${cspHash(DASHBOARD_SCRIPT)}`,
  `style-src ${cspHash(DASHBOARD_STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The HTTP monitor of one server. `start()` listens on `httpHost` (default: the client host) and
 * `httpPort` (-1 or 0 here: a random port); `port` is then the bound port.
 */
export class Monitor {
  readonly state: MonitorState;
  /** The bound port (after start()). */
  port = 0;
  private http: HttpServer | undefined;
  private readonly routes = new Map<string, [stat: string, handler: Handler]>();

  constructor(readonly server: MonitoredServer) {
    const o = server.options;
    this.state = {
      httpHost: o.httpHost !== '' ? o.httpHost : o.host,
      httpReqStats: {},
      cpu: new CpuSampler(),
      healthChecks: new Map(),
      stopping: false,
      loopDelay: monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS }),
    };
    this.state.loopDelay.enable();
    const json =
      (f: (q: URLSearchParams) => unknown, compact = false): Handler =>
      (q) =>
        jsonReply(f(q), q, compact);
    const s = server;
    const st = this.state;
    this.route('/', '/', () => ({
      status: 200,
      contentType: 'text/html; charset=utf-8',
      body: DASHBOARD_HTML,
      headers: { 'Content-Security-Policy': DASHBOARD_CSP, 'Cache-Control': 'no-store' },
    }));
    this.route(
      '/varz',
      '/varz',
      json(() => varz(s, st)),
    );
    this.route(
      '/connz',
      '/connz',
      json((q) => connz(s, parseConnzQuery(q))),
    );
    this.route(
      '/routez',
      '/routez',
      json((q) => routez(s, parseRoutezQuery(q))),
    );
    this.route(
      '/gatewayz',
      '/gatewayz',
      json((q) => gatewayz(s, parseGatewayzQuery(q))),
    );
    this.route(
      '/leafz',
      '/leafz',
      json((q) => leafz(s, parseLeafzQuery(q))),
    );
    const subszHandler = json((q) => subsz(s, parseSubszQuery(q)));
    this.route('/subsz', '/subsz', subszHandler);
    this.route('/subscriptionsz', '/subsz', subszHandler);
    this.route(
      '/accountz',
      '/accountz',
      json((q) => accountz(s, parseAccountzQuery(q))),
    );
    this.route(
      '/accstatz',
      '/accstatz',
      json((q) => accountStatz(s, parseAccountStatzQuery(q))),
    );
    this.route(
      '/jsz',
      '/jsz',
      json((q) => jsz(s, parseJszQuery(q))),
    );
    // 2.10's /raftz: 404 with a text without Raft, or for filters that leave nothing to look at.
    // nats-server does not count /raftz in http_req_stats (no stat name).
    this.route('/raftz', '', (q) => {
      if (!hasRaft(s)) return notFoundText('No Raft nodes registered');
      const groups = raftz(s, parseRaftzQuery(q));
      if (groups === undefined) return notFoundText('No Raft nodes returned, check supplied filters');
      return jsonReply(groups, q, false, 3);
    });
    this.route('/healthz', '/healthz', (q) => {
      const { status_code: code = 200, ...h } = healthz(s, st, parseHealthzQuery(q));
      if (h.error !== undefined) s.logger.warn(`Healthcheck failed: ${JSON.stringify(h.error)}`);
      else if (h.errors !== undefined) s.logger.warn(`Healthcheck failed: ${h.errors.length} errors`);
      // The status code is the HTTP status; nats-server leaves it out of the body.
      return { ...jsonReply(h, q, true), status: code };
    });
    const stan = s.streaming;
    if (stan !== undefined) {
      // nats-streaming-server's endpoints; "not found" is a 404 with its text, as http.Error writes it.
      const found =
        (f: (q: URLSearchParams) => unknown): Handler =>
        (q) => {
          try {
            return jsonReply(f(q), q, false);
          } catch (e) {
            if (!(e instanceof NotFound)) throw e;
            return { status: 404, contentType: TEXT_TYPE, body: `${e.message}\n` };
          }
        };
      this.route(
        '/streaming/serverz',
        '/streaming/serverz',
        found(() => serverz(stan)),
      );
      this.route(
        '/streaming/storez',
        '/streaming/storez',
        found(() => storez(stan)),
      );
      this.route(
        '/streaming/clientsz',
        '/streaming/clientsz',
        found((q) => clientsz(stan, q)),
      );
      this.route(
        '/streaming/channelsz',
        '/streaming/channelsz',
        found((q) => channelsz(stan, q)),
      );
    }
    this.route('/metrics', '/metrics', (q) => ({
      status: 200,
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      body: metrics(s, st, parseMetricsQuery(q)),
    }));
  }

  private route(path: string, stat: string, handler: Handler): void {
    this.routes.set(path, [stat, handler]);
  }

  /** `http://host:port` (or `https://`) of the running monitor, with 0.0.0.0 / :: shown as 127.0.0.1. */
  get url(): string {
    const h = this.state.httpHost;
    const host = h === '0.0.0.0' || h === '' || h === '::' ? '127.0.0.1' : h;
    return `${this.secure ? 'https' : 'http'}://${joinHostPort(host, this.port)}`;
  }

  /** Whether it serves HTTPS (`https_port`) with the server's TLS certificate. */
  get secure(): boolean {
    return this.server.options.httpsPort !== 0;
  }

  /**
   * The endpoint a request path names, under `http_base_path` (nats-server's basePath: path.Join of the
   * normalised base and the endpoint, so the root is the base itself); '' when outside the base.
   */
  private endpointPath(pathname: string): string {
    const base = this.basePath;
    if (base === '/') return pathname;
    if (pathname === base) return '/';
    return pathname.startsWith(`${base}/`) ? pathname.slice(base.length) : '';
  }

  /** nats-server's normalizeBasePath of `http_base_path`: a leading slash, cleaned, no trailing slash. */
  private get basePath(): string {
    const p = this.server.options.httpBasePath;
    if (p === '') return '/';
    const clean = posix.normalize(p.startsWith('/') ? p : `/${p}`);
    return clean.length > 1 ? clean.replace(/\/+$/, '') : clean;
  }

  /** Register a readiness check for /healthz (e.g. JetStream's); the first failing one answers 503. */
  addHealthCheck(name: string, check: HealthCheck): void {
    this.state.healthChecks.set(name, check);
  }

  removeHealthCheck(name: string): void {
    this.state.healthChecks.delete(name);
  }

  /** Listen; rejects with nats-server's message when the port cannot be had. */
  async start(): Promise<void> {
    const o = this.server.options;
    const host = this.state.httpHost;
    const wanted = this.secure ? o.httpsPort : o.httpPort;
    const port = wanted < 0 ? 0 : wanted;
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.handle(req, res);
    // HTTPS with the server's certificate, no client certificate asked (nats-server's monitoring TLS).
    const http =
      this.secure && o.tls !== undefined
        ? nodeHttps().createServer(secureContextOptions(o.tls), handler)
        : nodeHttp().createServer(handler);
    http.keepAliveTimeout = 5000;
    this.http = http;
    try {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen({ host, port }, () => {
          http.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.http = undefined;
      throw new Error(`can't listen to the monitor port: ${(err as Error).message}`);
    }
    http.on('error', (err) => this.server.logger.error(`monitoring: ${err.message}`));
    this.port = (http.address() as AddressInfo).port;
    const scheme = this.secure ? 'https' : 'http';
    this.server.logger.notice(`Starting ${scheme} monitor on ${joinHostPort(host, this.port)}`);
  }

  /** Stop answering (in-flight requests finish, /healthz says unavailable meanwhile) and close. */
  async stop(): Promise<void> {
    this.state.stopping = true;
    this.state.loopDelay.disable();
    const http = this.http;
    if (http === undefined) return;
    this.http = undefined;
    await new Promise<void>((resolve) => {
      http.close(() => resolve());
      http.closeIdleConnections();
      // Requests still running get a moment; then their connections go too.
      setTimeout(() => http.closeAllConnections(), 200).unref();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let reply: Reply;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = this.routes.get(this.endpointPath(url.pathname));
    if (route === undefined) {
      reply = {
        status: 404,
        contentType: TEXT_TYPE,
        body: '404 page not found\n',
        headers: { 'X-Content-Type-Options': 'nosniff' },
      };
    } else {
      const [stat, handler] = route;
      const stats = this.state.httpReqStats;
      if (stat !== '') stats[stat] = (stats[stat] ?? 0) + 1;
      try {
        reply = handler(url.searchParams);
      } catch (err) {
        if (err instanceof BadRequest) {
          reply = { status: 400, contentType: TEXT_TYPE, body: err.message };
        } else {
          this.server.logger.error(
            `Error answering ${url.pathname} request: ${(err as Error).stack ?? String(err)}`,
          );
          reply = { status: 500, contentType: TEXT_TYPE, body: 'internal error' };
        }
      }
    }
    const body = Buffer.from(reply.body, 'utf8');
    res.writeHead(reply.status, {
      'Content-Type': reply.contentType,
      'Content-Length': body.length,
      ...reply.headers,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

/** JSON (or JSONP with `callback=`) as nats-server's ResponseHandler writes it. */
/** A 404 with a bare text, as nats-server writes one with WriteHeader and Write (no newline). */
function notFoundText(text: string): Reply {
  return { status: 404, contentType: TEXT_TYPE, body: text };
}

function jsonReply(data: unknown, q: URLSearchParams, compact: boolean, indent = 2): Reply {
  const json = compact ? monitorJson(data) : monitorJson(data, indent);
  const callback = q.get('callback') ?? '';
  if (callback === '') return { status: 200, contentType: JSON_TYPE, body: json };
  if (!CALLBACK_RE.test(callback)) throw new BadRequest(`invalid callback name: ${callback}`);
  return { status: 200, contentType: 'application/javascript', body: `${callback}(${json})` };
}
