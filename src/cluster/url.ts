/**
 * Route URLs as nats-server reads them (opts.go overrideCluster, RoutesFromStr): `nats://host:port` or
 * `nats-route://user:pass@host:port`, any scheme, IPv6 hosts in brackets, port `-1` for a random port.
 */

/** The route listener address (`--cluster nats://[user:pass@]host:port`). */
export interface ClusterListen {
  host: string;
  /** 0 for a random free port (`-1` on the command line). */
  port: number;
  /** Route authorization taken from the URL's user info ('' when none). */
  user: string;
  password: string;
}

export class RouteUrlError extends Error {}

/** Parse `--cluster`/`--cluster_listen` (and config `listen`), as nats-server's overrideCluster. */
export function parseClusterListen(s: string): ClusterListen {
  let text = s.trim();
  let random = false;
  // url.Parse refuses ":-1": Go swaps it for ":0" and remembers that a random port was wanted.
  if (text.endsWith(':-1')) {
    text = `${text.slice(0, -3)}:0`;
    random = true;
  }
  const u = parseUrl(text);
  if (u.port === '') throw new RouteUrlError(`address ${u.hostname}: missing port in address`);
  const port = random ? 0 : Number(u.port);
  let user = '';
  let password = '';
  if (u.username !== '') {
    if (!/^[^/]*:\/\/[^/@:]+:[^/@]*@/.test(text))
      throw new RouteUrlError('expected cluster password to be set');
    user = decodeURIComponent(u.username);
    password = decodeURIComponent(u.password);
  }
  return { host: hostOfUrl(u), port, user, password };
}

/** `--routes url,url`: comma-separated, spaces trimmed, empty entries dropped. */
export function splitRoutes(s: string): string[] {
  return s
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
}

/** A route URL to solicit; throws RouteUrlError when it is not one. */
export function parseRouteUrl(s: string): URL {
  const u = parseUrl(s.trim());
  if (u.hostname === '') throw new RouteUrlError(`route URL ${JSON.stringify(s)} has no host`);
  if (u.port === '') throw new RouteUrlError(`route URL ${JSON.stringify(s)} has no port`);
  return u;
}

/** The host of a URL without IPv6 brackets, for net.connect. */
export function hostOfUrl(u: URL): string {
  const h = u.hostname;
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/** `host:port` of a route URL, lower-cased (nats-server compares route URLs by their host part). */
export function urlHostPort(u: URL): string {
  return `${u.hostname}:${u.port}`.toLowerCase();
}

export { joinHostPort } from '../transport/addresses.js';

function parseUrl(s: string): URL {
  // A bare host:port has no scheme: read it as nats://host:port.
  const text = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(s) ? s : `nats://${s}`;
  try {
    return new URL(text);
  } catch {
    throw new RouteUrlError(`invalid URL ${JSON.stringify(s)}`);
  }
}
