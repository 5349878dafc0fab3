/**
 * The configuration file's `leafnodes {}` block (alias `leaf`), as nats-server's parseLeafNodes and
 * parseRemoteLeafNodes, and the checks nats-server makes when it starts (validateLeafNode):
 *
 *   leafnodes {
 *     listen: "0.0.0.0:7422"                 # accept leafs (the hub side); or host/net and port
 *     advertise: "hub.example.com:7422"      # (leafnode_advertise)
 *     no_advertise: false
 *     authorization {
 *       user: leaf, password: s3cr3t, account: A, timeout: 2
 *       # or users: [ { user: a, password: pa, account: A }, ... ]
 *     }
 *     tls { cert_file, key_file, ca_file, verify, verify_and_map, timeout }
 *     reconnect: 1                           # seconds between attempts to reach a hub
 *     remotes: [                             # solicit (the leaf side)
 *       { url: "nats-leaf://leaf:s3cr3t@hub:7422", account: A, deny_imports: ["x.>"], deny_exports: [...] }
 *       { urls: [ ... ], credentials: "user.creds", tls { ca_file }, hub: false, no_randomize: true }
 *     ]
 *   }
 */
import { parsePermSubjects } from '../config/auth.js';
import { parseBlockListen } from '../config/listen.js';
import { type ConfigField, type ConfigReader, describeValue } from '../config/reader.js';
import { parseTls } from '../config/tls.js';
import {
  DEFAULT_LEAFNODE_PORT,
  defaultLeafNodeOptions,
  defaultRemoteLeafOptions,
  type LeafNodeOptions,
  type LeafUserConfig,
  type RemoteLeafOptions,
} from '../server/options.js';

/** The lowest version a `min_version` may ask for (nats-server's check). */
const MIN_LEAF_VERSION = [2, 8, 0] as const;

/** Parse `leafnodes {}`; undefined when it enables nothing (no port and no remotes), as in nats-server. */
export function parseLeafNodesBlock(r: ConfigReader, f: ConfigField): LeafNodeOptions | undefined {
  if (typeof f.value !== 'object' || f.value === null || Array.isArray(f.value)) {
    r.fail(f, `Expected map to define a leafnode, got ${describeValue(f.value)}`);
  }
  const o = defaultLeafNodeOptions();
  let host = '';
  let port = 0;
  const advertise = (x: ConfigField): void => {
    o.advertise = r.string(x);
  };
  const reconnect = (x: ConfigField): void => {
    o.reconnectInterval = r.integer(x, { min: 0 }) * 1000;
  };
  const minVersion = (x: ConfigField): void => {
    const v = r.string(x);
    const problem = minVersionProblem(v);
    if (problem !== undefined) r.fail(x, problem);
    o.minVersion = v;
  };
  r.forEachKey(r.map(f), f.path, {
    listen: (x) => {
      [host, port] = parseBlockListen(r, x);
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
    authorization: (x) => parseLeafAuthorization(r, x, o),
    remotes: (x) => {
      if (!Array.isArray(x.value)) {
        r.fail(x, `Expected remotes field to be an array, got ${describeValue(x.value)}`);
      }
      o.remotes = [];
      for (const e of r.elements(x, x.value)) {
        const remote = parseRemote(r, e);
        if (remote !== undefined) o.remotes.push(remote);
      }
    },
    reconnect,
    reconnect_delay: reconnect,
    reconnect_interval: reconnect,
    tls: (x) => {
      o.tls = parseTls(r, x);
    },
    advertise,
    leafnode_advertise: advertise,
    no_advertise: (x) => {
      o.noAdvertise = r.bool(x);
    },
    min_version: minVersion,
    minimum_version: minVersion,
  });
  if (port === 0 && o.remotes.length === 0) return undefined;
  if (host !== '') o.host = host;
  o.port = port < 0 ? -1 : port;
  return o;
}

/** `authorization { user, password, account, users, timeout }` (nats-server's parseLeafAuthorization). */
function parseLeafAuthorization(r: ConfigReader, f: ConfigField, o: LeafNodeOptions): void {
  const user = (x: ConfigField): void => {
    o.user = r.string(x);
  };
  const pass = (x: ConfigField): void => {
    o.password = r.string(x);
  };
  r.forEachKey(r.map(f), f.path, {
    user,
    username: user,
    pass,
    password: pass,
    timeout: (x) => {
      // Seconds, an integer or a float; anything else is nats-server's default of one second.
      o.authTimeout = typeof x.value === 'number' ? x.value * 1000 : 1000;
      if (o.authTimeout < 0) r.fail(x, `${x.path}: can not be negative`);
    },
    account: (x) => {
      o.account = r.string(x);
    },
    users: (x) => {
      if (!Array.isArray(x.value)) {
        r.fail(x, `Expected users field to be an array, got ${describeValue(x.value)}`);
      }
      o.users = [];
      for (const e of r.elements(x, x.value)) {
        if (typeof e.value !== 'object' || e.value === null || Array.isArray(e.value)) {
          r.error(e, `Expected user entry to be a map/struct, got ${describeValue(e.value)}`);
          continue;
        }
        const u: LeafUserConfig = { user: '', password: '' };
        const uname = (y: ConfigField): void => {
          u.user = r.string(y);
        };
        const upass = (y: ConfigField): void => {
          u.password = r.string(y);
        };
        r.forEachKey(r.map(e), e.path, {
          user: uname,
          username: uname,
          pass: upass,
          password: upass,
          account: (y) => {
            u.account = r.string(y);
          },
        });
        o.users.push(u);
      }
    },
  });
  // nats-server's validateLeafNodeAuthOptions, made while parsing.
  if (o.users.length > 0) {
    if (o.user !== '') r.fail(f, 'can not have a single user/pass and a users array');
    const seen = new Set<string>();
    for (const u of o.users) {
      if (seen.has(u.user))
        r.fail(f, `duplicate user ${JSON.stringify(u.user)} detected in leafnode authorization`);
      seen.add(u.user);
    }
  }
}

/** One entry of `remotes` (nats-server's parseRemoteLeafNodes). */
function parseRemote(r: ConfigReader, f: ConfigField): RemoteLeafOptions | undefined {
  if (typeof f.value !== 'object' || f.value === null || Array.isArray(f.value)) {
    r.error(f, `Expected remote leafnode entry to be a map/struct, got ${describeValue(f.value)}`);
    return undefined;
  }
  const o = defaultRemoteLeafOptions();
  const urls = (x: ConfigField): void => {
    const list =
      typeof x.value === 'string' ? [x] : Array.isArray(x.value) ? r.elements(x, x.value) : undefined;
    if (list === undefined) {
      r.fail(x, `Expected remote leafnode url to be an array or string, got ${describeValue(x.value)}`);
    }
    for (const e of list) {
      const u = r.string(e).trim();
      if (o.urls.includes(u)) {
        r.warn(e, `${JSON.stringify(u)}: Duplicate leafnode entry detected`);
        continue;
      }
      if (parseLeafUrl(u) === undefined) {
        r.error(e, `error parsing leafnode url [${JSON.stringify(u)}]`);
        continue;
      }
      o.urls.push(u);
    }
  };
  const account = (x: ConfigField): void => {
    o.account = r.string(x);
  };
  const creds = (x: ConfigField): void => {
    o.credentials = r.string(x).replace(/^~(?=\/|$)/, process.env.HOME ?? '~');
  };
  const denyImports = (x: ConfigField): void => {
    o.denyImports = parsePermSubjects(r, x);
  };
  const denyExports = (x: ConfigField): void => {
    o.denyExports = parsePermSubjects(r, x);
  };
  const wsCompression = (x: ConfigField): void => {
    o.wsCompression = r.bool(x);
  };
  const wsNoMasking = (x: ConfigField): void => {
    o.wsNoMasking = r.bool(x);
  };
  const noRandomize = (x: ConfigField): void => {
    o.noRandomize = r.bool(x);
  };
  r.forEachKey(r.map(f), f.path, {
    url: urls,
    urls,
    account,
    local: account,
    creds,
    credentials: creds,
    tls: (x) => {
      o.tls = parseTls(r, x, { client: true });
    },
    hub: (x) => {
      o.hub = r.bool(x);
    },
    deny_imports: denyImports,
    deny_import: denyImports,
    deny_exports: denyExports,
    deny_export: denyExports,
    ws_compress: wsCompression,
    ws_compression: wsCompression,
    websocket_compress: wsCompression,
    websocket_compression: wsCompression,
    ws_no_masking: wsNoMasking,
    websocket_no_masking: wsNoMasking,
    no_randomize: noRandomize,
    dont_randomize: noRandomize,
    jetstream_cluster_migrate: (x) =>
      r.fail(x, `${x.path}: not supported by tsnats yet (JetStream cluster migration)`),
    js_cluster_migrate: (x) =>
      r.fail(x, `${x.path}: not supported by tsnats yet (JetStream cluster migration)`),
  });
  return o;
}

/** A remote's URL: any of nats-leaf://, nats://, tls://, ws://, wss:// with host and optional port. */
export function parseLeafUrl(u: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(u.includes('://') ? u : `nats-leaf://${u}`);
  } catch {
    return undefined;
  }
  if (url.hostname === '') return undefined;
  return url;
}

/** The port of a leaf URL (7422 when it has none, as nats-server adds). */
export function leafUrlPort(url: URL): number {
  return url.port !== '' ? Number(url.port) : DEFAULT_LEAFNODE_PORT;
}

/** Whether a leaf URL is a websocket one (`ws://`, `wss://`). */
export function isWebsocketUrl(url: URL): boolean {
  return url.protocol === 'ws:' || url.protocol === 'wss:';
}

function minVersionProblem(v: string): string | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(v);
  if (m === null) return `invalid leafnode's minimum version: invalid semver`;
  const parts = [Number(m[1]), Number(m[2]), Number(m[3])];
  for (let i = 0; i < 3; i++) {
    if (parts[i]! > MIN_LEAF_VERSION[i]!) return undefined;
    if (parts[i]! < MIN_LEAF_VERSION[i]!) return 'the minimum version should be at least 2.8.0';
  }
  return undefined;
}

/** Whether `version` (a leaf's CONNECT `version`) is at least `min`. */
export function versionAtLeast(version: string, min: string): boolean {
  const parse = (s: string): number[] => {
    const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(s);
    return m === null ? [0, 0, 0] : [Number(m[1]), Number(m[2]), Number(m[3])];
  };
  const a = parse(version);
  const b = parse(min);
  for (let i = 0; i < 3; i++) {
    if (a[i]! !== b[i]!) return a[i]! > b[i]!;
  }
  return true;
}

/**
 * nats-server's validateLeafNode (config mode): the accounts named must exist, and a remote's URLs must
 * be all websocket or none. Returns the problem, or undefined.
 */
export function leafNodeOptionsProblem(
  o: LeafNodeOptions,
  accounts: ReadonlySet<string>,
  systemAccount: string | undefined,
): string | undefined {
  const exists = (name: string): boolean =>
    name === '' || name === '$G' || accounts.has(name) || name === systemAccount;
  if (!exists(o.account)) {
    return `cannot find local account ${JSON.stringify(o.account)} specified in leafnode authorization`;
  }
  for (const u of o.users) {
    if (u.account !== undefined && !exists(u.account)) {
      return `cannot find local account ${JSON.stringify(u.account)} specified in leafnode authorization`;
    }
  }
  for (const remote of o.remotes) {
    if (!exists(remote.account)) {
      return `cannot find local account ${JSON.stringify(remote.account)} specified in leafnode remote`;
    }
    const urls = remote.urls.map((u) => parseLeafUrl(u)).filter((u): u is URL => u !== undefined);
    if (urls.length >= 2) {
      const ws = isWebsocketUrl(urls[0]!);
      if (urls.some((u) => isWebsocketUrl(u) !== ws)) {
        return `remote leaf node configuration cannot have a mix of websocket and non-websocket urls: ${JSON.stringify(remote.urls.map(redactUrl))}`;
      }
    }
  }
  return undefined;
}

/** A URL with its password replaced, for messages and logs (nats-server's redactURLString). */
export function redactUrl(u: string): string {
  const url = parseLeafUrl(u);
  if (url === undefined || url.password === '') return u;
  url.password = 'xxxxx';
  return url.toString().replace(/\/$/, '');
}
