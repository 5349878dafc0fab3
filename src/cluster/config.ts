/**
 * The configuration file's `cluster {}` block (nats-server's parseCluster), mapped onto ClusterOptions:
 *
 *   cluster {
 *     name: my-cluster
 *     listen: 0.0.0.0:6222          # or host/net and port (-1 picks a random port)
 *     routes: [nats://a:6222, nats://b:6222]
 *     authorization { user: ruser, password: T0pS3cr3t, timeout: 2 }
 *     advertise: "10.0.0.1:6222"    # or cluster_advertise
 *     no_advertise: true
 *     connect_retries: 3
 *     tls { cert_file, key_file, ca_file, verify, timeout }
 *   }
 *
 * As in nats-server, clustering is on only when the block gives a port. The config loader
 * (config/load.ts) calls parseClusterBlock for the key.
 */
import { parsePermissions } from '../config/auth.js';
import { parseBlockListen } from '../config/listen.js';
import type { ConfigField, ConfigReader } from '../config/reader.js';
import { parseTls } from '../config/tls.js';
import { type ClusterOptions, defaultClusterOptions, type RoutePermissions } from '../server/options.js';
import { parseRouteUrl, RouteUrlError } from './url.js';

/** nats-server's AUTH_TIMEOUT; with route TLS the default is the TLS timeout plus a second. */
const AUTH_TIMEOUT = 2000;

/** Parse `cluster {}` into ClusterOptions, or undefined when it enables nothing (no port). */
export function parseClusterBlock(r: ConfigReader, f: ConfigField): ClusterOptions | undefined {
  const block = r.map(f);
  const c = defaultClusterOptions();
  let port = 0;
  let authTimeout = 0;
  r.forEachKey(block, f.path, {
    name: (x) => {
      c.name = r.string(x);
      if (/[\s]/.test(c.name)) r.fail(x, `${x.path}: cluster name cannot contain spaces or new lines`);
    },
    listen: (x) => {
      const [host, p] = parseBlockListen(r, x);
      if (host !== '') c.host = host;
      port = p;
    },
    port: (x) => {
      port = r.integer(x, { min: -1, max: 65535 });
    },
    host: (x) => {
      c.host = r.string(x);
    },
    net: (x) => {
      c.host = r.string(x);
    },
    authorization: (x) => {
      authTimeout = parseClusterAuthorization(r, x, c);
    },
    routes: (x) => {
      const urls = r.strings(x);
      const els = Array.isArray(x.value) ? r.elements(x, x.value) : [x];
      c.routes = [];
      urls.forEach((u, i) => {
        try {
          parseRouteUrl(u);
        } catch (e) {
          if (!(e instanceof RouteUrlError)) throw e;
          r.error(els[i] ?? x, `error parsing route url [${JSON.stringify(u)}]: ${e.message}`);
          return;
        }
        c.routes.push(u);
      });
    },
    tls: (x) => {
      c.tls = parseTls(r, x);
    },
    advertise: (x) => {
      c.advertise = r.string(x);
    },
    cluster_advertise: (x) => {
      c.advertise = r.string(x);
    },
    no_advertise: (x) => {
      c.noAdvertise = r.bool(x);
    },
    connect_retries: (x) => {
      c.connectRetries = r.integer(x, { min: 0 });
    },
    permissions: (x) => {
      c.permissions = parseRoutePermissions(r, x);
    },
  });
  if (port === 0) return undefined;
  c.port = port < 0 ? 0 : port;
  c.authTimeout = authTimeout > 0 ? authTimeout : c.tls !== undefined ? c.tls.timeout + 1000 : AUTH_TIMEOUT;
  return c;
}

/** `authorization { user, password, timeout }`: one user only, no token (nats-server's checks). */
function parseClusterAuthorization(r: ConfigReader, f: ConfigField, c: ClusterOptions): number {
  const m = r.map(f);
  let timeout = 0;
  r.forEachKey(m, f.path, {
    user: (x) => {
      c.user = r.string(x);
    },
    username: (x) => {
      c.user = r.string(x);
    },
    password: (x) => {
      c.password = r.string(x);
    },
    pass: (x) => {
      c.password = r.string(x);
    },
    timeout: (x) => {
      if (typeof x.value === 'number') timeout = x.value * 1000;
      else if (typeof x.value === 'string') timeout = r.durationString(x);
      else r.fail(x, `${x.path}: expected a number of seconds`);
      if (timeout < 0) r.fail(x, `${x.path}: can not be negative`);
    },
    users: (x) => {
      r.fail(x, 'Cluster authorization does not allow multiple users');
    },
    token: (x) => {
      r.fail(x, 'Cluster authorization does not support tokens');
    },
    permissions: (x) => {
      c.permissions = parseRoutePermissions(r, x);
    },
  });
  return timeout;
}

/**
 * `permissions { import, export }` of `cluster {}` or its `authorization {}` (nats-server reads them as a
 * user's permissions: import as publish, export as subscribe; no allow_responses).
 */
function parseRoutePermissions(r: ConfigReader, f: ConfigField): RoutePermissions {
  const p = parsePermissions(r, f);
  if (p.responses !== undefined) r.fail(f, 'Cluster permissions do not support dynamic responses');
  return {
    ...(p.publish !== undefined ? { import: p.publish } : {}),
    ...(p.subscribe !== undefined ? { export: p.subscribe } : {}),
  };
}
