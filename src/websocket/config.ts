/**
 * The configuration file's `websocket {}` block (alias `ws`), as nats-server's parseWebsocket, and the
 * checks nats-server makes on it when the server starts (validateWebsocketOptions):
 *
 *   websocket {
 *     listen: "0.0.0.0:8080"        # or host/net and port (-1: a free port)
 *     advertise: "ws.example.com:443"
 *     no_tls: true                  # or tls { cert_file, key_file, ca_file, verify, verify_and_map }
 *     compression: true             # permessage-deflate
 *     same_origin: true
 *     allowed_origins: ["https://app.example.com"]
 *     handshake_timeout: "5s"
 *     authorization { user: wsuser, password: wspass, timeout: 2 }   # or token
 *     no_auth_user: guest
 *     jwt_cookie: my_jwt
 *   }
 *
 * As in nats-server, websocket is on only when the block gives a port.
 */
import type { AuthorizationConfig } from '../auth/types.js';
import { parseBlockListen } from '../config/listen.js';
import type { ConfigField, ConfigReader } from '../config/reader.js';
import { parseTls } from '../config/tls.js';
import { defaultWebsocketOptions, type WebsocketOptions } from '../server/options.js';

/** Parse `websocket {}` into WebsocketOptions, or undefined when it enables nothing (no port). */
export function parseWebsocketBlock(r: ConfigReader, f: ConfigField): WebsocketOptions | undefined {
  if (typeof f.value !== 'object' || f.value === null || Array.isArray(f.value)) {
    r.fail(f, `Expected websocket to be a map, got ${Array.isArray(f.value) ? 'array' : typeof f.value}`);
  }
  const block = r.map(f);
  const o = defaultWebsocketOptions();
  let host = '';
  let port = 0;
  const origins = (x: ConfigField): void => {
    const v = x.value;
    if (typeof v === 'string') {
      o.allowedOrigins = [v];
      return;
    }
    if (!Array.isArray(v)) r.fail(x, `error parsing allowed origins: unsupported type ${typeof v}`);
    o.allowedOrigins = [];
    for (const e of r.elements(x, v)) {
      if (typeof e.value !== 'string') {
        r.error(e, `error parsing allowed origins: unsupported type in array ${typeof e.value}`);
        continue;
      }
      o.allowedOrigins.push(e.value);
    }
  };
  r.forEachKey(block, f.path, {
    listen: (x) => {
      const [h, p] = parseBlockListen(r, x);
      host = h;
      port = p;
    },
    port: (x) => {
      port = r.integer(x, { min: -1, max: 65535 });
    },
    host: (x) => {
      host = r.string(x);
    },
    net: (x) => {
      host = r.string(x);
    },
    advertise: (x) => {
      o.advertise = r.string(x);
    },
    no_tls: (x) => {
      o.noTls = r.bool(x);
    },
    tls: (x) => {
      o.tls = parseTls(r, x);
    },
    same_origin: (x) => {
      o.sameOrigin = r.bool(x);
    },
    allowed_origins: origins,
    allowed_origin: origins,
    allow_origins: origins,
    allow_origin: origins,
    origins,
    origin: origins,
    handshake_timeout: (x) => {
      const v = x.value;
      if (typeof v === 'number' && Number.isInteger(v)) o.handshakeTimeout = v * 1000;
      else if (typeof v === 'string') o.handshakeTimeout = r.durationString(x);
      else r.fail(x, `error parsing handshake timeout: unsupported type ${typeof v}`);
      if (o.handshakeTimeout < 0) r.fail(x, `${x.path}: can not be negative`);
    },
    compress: (x) => {
      o.compression = r.bool(x);
    },
    compression: (x) => {
      o.compression = r.bool(x);
    },
    authorization: (x) => parseSimpleAuth(r, x, o),
    authentication: (x) => parseSimpleAuth(r, x, o),
    jwt_cookie: (x) => {
      o.jwtCookie = r.string(x);
    },
    no_auth_user: (x) => {
      o.noAuthUser = r.string(x);
    },
  });
  if (port === 0) return undefined;
  o.host = host !== '' ? host : o.host;
  o.port = port < 0 ? 0 : port;
  return o;
}

/** `authorization { user, password, token, timeout }` (nats-server's parseSimpleAuth; timeout in seconds). */
function parseSimpleAuth(r: ConfigReader, f: ConfigField, o: WebsocketOptions): void {
  const m = r.map(f);
  const user = (x: ConfigField): void => {
    o.user = r.string(x);
  };
  const pass = (x: ConfigField): void => {
    o.password = r.string(x);
  };
  r.forEachKey(m, f.path, {
    user,
    username: user,
    pass,
    password: pass,
    token: (x) => {
      o.token = r.string(x);
    },
    timeout: (x) => {
      // nats-server takes a number of seconds; anything else is its default of one second.
      o.authTimeout = typeof x.value === 'number' ? x.value * 1000 : 1000;
      if (o.authTimeout < 0) r.fail(x, `${x.path}: can not be negative`);
    },
  });
}

/**
 * nats-server's validateWebsocketOptions: the problem with the options as a whole, or undefined. Run by
 * the configuration loader (with the block's position) and when a server starts.
 */
export function websocketOptionsProblem(
  o: WebsocketOptions,
  authz: AuthorizationConfig,
  operatorMode = false,
): string | undefined {
  if (o.tls === undefined && !o.noTls) return 'websocket requires TLS configuration';
  for (const ao of o.allowedOrigins) {
    if (!URL.canParse(ao)) return `unable to parse allowed origin: parse ${JSON.stringify(ao)}: invalid URL`;
  }
  if (o.noAuthUser !== '') {
    if (authz.users.length === 0) {
      return `no_auth_user: ${JSON.stringify(o.noAuthUser)} present, but users are not defined`;
    }
    if (!authz.users.some((u) => u.user === o.noAuthUser)) {
      return `no_auth_user: ${JSON.stringify(o.noAuthUser)} not present as user in authorization block or account configuration`;
    }
  }
  if (authz.users.length > 0 || authz.nkeys.length > 0) {
    if (o.user !== '') return 'websocket authentication username not compatible with presence of users/nkeys';
    if (o.token !== '') return 'websocket authentication token not compatible with presence of users/nkeys';
  }
  if (o.jwtCookie !== '' && !operatorMode) {
    return `trusted operators or trusted keys configuration is required for JWT authentication via cookie ${JSON.stringify(o.jwtCookie)}`;
  }
  return undefined;
}

/**
 * Whether websocket clients authenticate with the block's own settings (nats-server's wsConfigAuth): a
 * user, a token or a `no_auth_user` in the block replaces the server's for them.
 */
export function websocketAuthOverride(o: WebsocketOptions): boolean {
  return o.user !== '' || o.token !== '' || o.noAuthUser !== '';
}
