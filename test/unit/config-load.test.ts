// Configuration file loading (src/config): every supported key and form, includes and variables, the
// AuthorizationConfig / TlsOptions shapes, every refusal with its file:line:col, the extension hooks,
// the command line (-c, -t, flags over the file) and the same verdict as `nats-server -t`.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createUser } from '@nats-io/nkeys';
import type { AccountConfig, AuthorizationConfig, Permissions } from '../../src/auth/types.js';
import { parseCommandLine } from '../../src/cli/flags.js';
import { parseConf } from '../../src/conf/index.js';
import { applyConfigFile, mergeCommandLine } from '../../src/config/cli.js';
import {
  ConfigError,
  configFromMap,
  findUsedVariables,
  type LoadedConfig,
  loadConfigFile,
  loadConfigText,
  NOT_SUPPORTED_YET,
  registerAccountConfigKey,
  registerConfigKey,
} from '../../src/config/index.js';
import { loadConfigFile as packageLoadConfigFile } from '../../src/index.js';
import type { ServerConfig } from '../../src/server/server.js';
import { makeCerts, type TestCerts } from '../helpers/certs.js';
import { launch, type RunResult, runTsnats as run, runProcess } from '../helpers/launcher.js';
import { connect } from '../helpers/raw-conn.js';
import { hasReference } from '../helpers/reference.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const NO_ENV = {};

let dir: string;
let counter = 0;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsnats-config-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Write `text` to a new file in the temp dir (or to `name`), returning its path. */
function write(text: string, name = `c${++counter}.conf`): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function load(text: string, env: Record<string, string> = NO_ENV): LoadedConfig {
  return loadConfigFile(write(text), { env });
}

/** The config a text maps to, without configFile (the absolute path of the temp file). */
function cfg(text: string, env: Record<string, string> = NO_ENV): ServerConfig {
  const { config } = load(text, env);
  delete config.configFile;
  return config;
}

function authz(text: string, env: Record<string, string> = NO_ENV): AuthorizationConfig {
  const a = cfg(text, env).authorization;
  assert.ok(a !== undefined, 'expected an authorization');
  return a;
}

/**
 * Loading `text` fails; the message names the file, the line and column `at`, and contains every `has`.
 * Returns the error for further checks.
 */
function refused(text: string, at: [number, number], ...has: (string | RegExp)[]): ConfigError {
  const file = write(text);
  let caught: unknown;
  try {
    loadConfigFile(file, { env: NO_ENV });
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.ok(
    caught.message.includes(`${file}:${at[0]}:${at[1]}: `),
    `expected ${file}:${at[0]}:${at[1]} in:\n${caught.message}`,
  );
  for (const h of has) {
    if (typeof h === 'string')
      assert.ok(caught.message.includes(h), `expected "${h}" in:\n${caught.message}`);
    else assert.match(caught.message, h);
  }
  return caught;
}

const PUB_ALL: Permissions = {};

// -----------------------------------------------------------------------------------------------------

describe('server keys', () => {
  test('listen in all its forms, host/net and port', () => {
    assert.deepEqual(cfg('listen: 127.0.0.1:4333'), { host: '127.0.0.1', port: 4333 });
    assert.deepEqual(cfg('listen: "10.0.0.1:4333"'), { host: '10.0.0.1', port: 4333 });
    assert.deepEqual(cfg('listen: ":4333"'), { host: '0.0.0.0', port: 4333 });
    assert.deepEqual(cfg('listen: 4333'), { host: '0.0.0.0', port: 4333 });
    assert.deepEqual(cfg('listen: "[::1]:4333"'), { host: '::1', port: 4333 });
    // -1 is a random port (tsnats' 0), 0 nats-server's default port.
    assert.deepEqual(cfg('listen: "127.0.0.1:-1"'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(cfg('port: -1'), { port: 0 });
    assert.deepEqual(cfg('port: 0'), { port: 4222 });
    assert.deepEqual(cfg('host: 127.0.0.1\nport = 5222'), { host: '127.0.0.1', port: 5222 });
    assert.deepEqual(cfg('net "::"'), { host: '::' });
  });

  test('names, advertise, monitoring', () => {
    assert.deepEqual(cfg('server_name: "my server"\nclient_advertise: "nats.example.com:4222"'), {
      serverName: 'my server',
      clientAdvertise: 'nats.example.com:4222',
    });
    assert.deepEqual(cfg('http: "127.0.0.1:8222"'), { httpHost: '127.0.0.1', httpPort: 8222 });
    assert.deepEqual(cfg('http: 8222'), { httpHost: '', httpPort: 8222 });
    assert.deepEqual(cfg('http_port: 8222'), { httpPort: 8222 });
    assert.deepEqual(cfg('monitor_port: -1'), { httpPort: -1 });
  });

  test('limits, with sizes and nats-server defaults for 0', () => {
    assert.deepEqual(
      cfg(
        'max_payload: 2MB\nmax_pending: 100MB\nmax_control_line: 1k\nmax_connections: 100\nmax_subscriptions: 10\nping_max: 5',
      ),
      {
        maxPayload: 2 * 1024 * 1024,
        maxPending: 100 * 1024 * 1024,
        maxControlLine: 1000,
        maxConnections: 100,
        maxSubscriptions: 10,
        pingMax: 5,
      },
    );
    assert.deepEqual(cfg('max_conn: 7\nmax_subs: 3'), { maxConnections: 7, maxSubscriptions: 3 });
    assert.deepEqual(cfg('max_connections: 0'), { maxConnections: 65536 });
    assert.deepEqual(cfg('max_connections: -1'), { maxConnections: -1 });
    assert.deepEqual(cfg('max_payload: 0\nmax_pending: 0\nmax_control_line: 0\nping_max: 0'), {});
    assert.deepEqual(cfg('max_payload: 1kb'), { maxPayload: 1024 });
  });

  test('durations: strings, bare numbers of seconds (with a warning), unquoted 2m = 2000000 seconds', () => {
    assert.deepEqual(cfg('ping_interval: "30s"\nwrite_deadline: "1m30s"'), {
      pingInterval: 30000,
      writeDeadline: 90000,
    });
    assert.deepEqual(cfg('ping_interval: "250ms"'), { pingInterval: 250 });
    const n = load('ping_interval: 10\nwrite_deadline: 3');
    assert.equal(n.config.pingInterval, 10000);
    assert.equal(n.config.writeDeadline, 3000);
    assert.equal(n.warnings.length, 2);
    assert.match(
      n.warnings[0]!,
      /:1:1: invalid use of field "ping_interval": ping_interval should be converted to a duration$/,
    );
    assert.match(n.warnings[1]!, /:2:1: invalid use of field "write_deadline"/);
    // The lexer reads an unquoted 2m as the size 2 000 000; nats-server takes it as seconds.
    const m = load('ping_interval: 2m');
    assert.equal(m.config.pingInterval, 2_000_000_000);
    assert.equal(m.warnings.length, 1);
    // Longer than Node's timers can wait: clamped to 2^31-1 ms.
    assert.equal(cfg('ping_interval: 10m').pingInterval, 2 ** 31 - 1);
    assert.deepEqual(cfg('ping_interval: "0s"'), {});
    assert.deepEqual(load('ping_interval: "2m"').warnings, []);
  });

  test('logging, files, lame duck, auth_timeout; keys are case-insensitive', () => {
    assert.deepEqual(
      cfg(
        'debug: true\ntrace: yes\nlogtime: off\nlog_file: "/tmp/x.log"\npid_file: "/tmp/x.pid"\nports_file_dir: "/tmp"',
      ),
      {
        debug: true,
        trace: true,
        logtime: false,
        logFile: '/tmp/x.log',
        pidFile: '/tmp/x.pid',
        portsFileDir: '/tmp',
      },
    );
    assert.deepEqual(cfg('logfile: a.log\npidfile: a.pid\ntrace_verbose: true'), {
      logFile: 'a.log',
      pidFile: 'a.pid',
      trace: true,
    });
    assert.deepEqual(cfg('lame_duck_duration: "60s"\nlame_duck_grace_period: "5s"'), {
      lameDuckDuration: 60000,
      lameDuckGracePeriod: 5000,
    });
    assert.deepEqual(cfg('auth_timeout: 3'), { authTimeout: 3000 });
    assert.deepEqual(cfg('auth_timeout: 0.5'), { authTimeout: 500 });
    assert.deepEqual(cfg('PORT: 4333\nServer_Name: x\nDEBUG: true'), {
      port: 4333,
      serverName: 'x',
      debug: true,
    });
    assert.deepEqual(cfg('no_system_account: true'), { noSystemAccount: true });
    assert.deepEqual(cfg('system_account: SYS'), { systemAccount: 'SYS' });
  });

  test('configFile is the absolute path of the file', () => {
    const file = write('port: 4333');
    const rel = relative(process.cwd(), file);
    assert.equal(loadConfigFile(rel).config.configFile, file);
  });

  test('later keys win, as in nats-server', () => {
    assert.deepEqual(cfg('port: 1\nport: 2\nlisten: "127.0.0.1:3"\nhost: h'), { port: 3, host: 'h' });
  });
});

// -----------------------------------------------------------------------------------------------------

describe('includes and variables', () => {
  test('an include file relative to the including file', () => {
    mkdirSync(join(dir, 'inc'), { recursive: true });
    // PW is defined in an included file and used (so it may be unknown) in the including one.
    write('PW = "from-include"\n', 'inc/vars.conf');
    write('server_name: included\ninclude "more.conf"\n', 'inc/name.conf');
    write('max_payload: 1KB\n', 'inc/more.conf');
    const main = write(
      'port: 4333\ninclude "inc/vars.conf"\nauthorization {\n  user: alice\n  password: $PW\n}\ninclude "inc/name.conf"\n',
      'with-include.conf',
    );
    const { config } = loadConfigFile(main, { env: NO_ENV });
    assert.equal(config.port, 4333);
    assert.equal(config.serverName, 'included');
    assert.equal(config.maxPayload, 1024);
    assert.equal(config.authorization?.user, 'alice');
    assert.equal(config.authorization?.password, 'from-include');
    // An included file does not see the variables of the including file (nats-server's rule).
    write('authorization { user: a, password: $SECRET }\n', 'inc/auth-var.conf');
    const hidden = write('SECRET = "x"\ninclude "inc/auth-var.conf"\n');
    assert.throws(
      () => loadConfigFile(hidden, { env: NO_ENV }),
      /variable reference for 'SECRET' can not be found/,
    );
  });

  test('errors inside an include name the included file', () => {
    write('port: 4333\nbogus_key: 1\n', 'inc-bad.conf');
    const main = write('include "inc-bad.conf"\n', 'includes-bad.conf');
    assert.throws(
      () => loadConfigFile(main, { env: NO_ENV }),
      (e: Error) => e instanceof ConfigError && e.message.includes(`${join(dir, 'inc-bad.conf')}:2:1:`),
    );
    const missing = write('include "nope.conf"\n');
    assert.throws(
      () => loadConfigFile(missing, { env: NO_ENV }),
      (e: Error) => e instanceof ConfigError && e.line === 1 && /nope\.conf/.test(e.message),
    );
  });

  test('variables from the file, enclosing blocks and the environment', () => {
    const a = authz(
      'USER = "bob"\nauthorization {\n  PASS: "pw"\n  users = [ { user: $USER, password: $PASS } ]\n}\nport: $P',
      { P: '4333' },
    );
    assert.deepEqual(a.users, [{ user: 'bob', password: 'pw' }]);
    assert.equal(cfg('port: $P', { P: '4333' }).port, 4333);
    assert.equal(cfg('max_payload: $SIZE', { SIZE: '2MB' }).maxPayload, 2 * 1024 * 1024);
  });

  test('keys used as variables may be unknown; unused unknown keys are refused', () => {
    assert.deepEqual(cfg('MY_PORT = 4333\nport: $MY_PORT'), { port: 4333 });
    const perms = authz(
      'PERMS = { publish: "x" }\nauthorization { users: [ { user: a, permissions: $PERMS } ] }',
    );
    assert.deepEqual(perms.users[0]!.permissions, { publish: { allow: ['x'] } });
    refused('MY_PORT = 4333\nport: 4222', [1, 1], 'unknown field "MY_PORT"');
    // A bcrypt hash is not a variable.
    assert.equal(
      authz(
        'authorization { user: a, password: $2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG }',
      ).password,
      '$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG',
    );
  });

  test('findUsedVariables follows the parser scopes', () => {
    const text = 'A = 1\nb { A = 2, c: $A }\nd { e: $A }\n';
    // b.c resolves to b.A (2:5), d.e to the top-level A (1:1).
    assert.deepEqual([...findUsedVariables(text, 'f.conf')].sort(), ['f.conf:1:1', 'f.conf:2:5']);
    // A variable defined later is not visible; an array does not hold variables.
    assert.deepEqual([...findUsedVariables('x: [ { y: 1 } ]\nz: 1\n', 'f.conf')], []);
    assert.deepEqual([...findUsedVariables('a: 1\nb: [ $a ]\n', 'f.conf')], ['f.conf:1:1']);
  });

  test('configFromMap on a parsed map, loadConfigText on text', () => {
    const map = parseConf('port: 4333\nserver_name: x', { file: 'mem.conf' });
    assert.deepEqual(configFromMap(map, 'mem.conf').config, { port: 4333, serverName: 'x' });
    // Without the used variables every unknown key is an error.
    const withVar = parseConf('V = 1\nport: $V', { file: 'mem.conf' });
    assert.throws(() => configFromMap(withVar, 'mem.conf'), /mem\.conf:1:1: unknown field "V"/);
    assert.deepEqual(loadConfigText('V = 1\nport: $V', 'mem.conf').config, { port: 1 });
    assert.throws(
      () => loadConfigText('port: [', 'mem.conf'),
      (e: Error) => e instanceof ConfigError,
    );
  });
});

// -----------------------------------------------------------------------------------------------------

describe('authorization', () => {
  test('single user, pass alias, timeout, permissions for the single user', () => {
    const { config } = load(
      'authorization {\n  user: alice\n  pass: s3cret\n  timeout: 1.5\n  permissions { publish: "a.>" }\n}',
    );
    assert.equal(config.authTimeout, 1500);
    assert.deepEqual(config.authorization, {
      user: 'alice',
      password: 's3cret',
      token: '',
      users: [],
      nkeys: [],
      accounts: [],
      noAuthUser: '',
      permissions: { publish: { allow: ['a.>'] } },
    } satisfies AuthorizationConfig);
    assert.equal(authz('authorization { username: u, password: p }').user, 'u');
  });

  test('token, timeout as a duration string', () => {
    const { config } = load('authorization { token: "t0k3n", timeout: "3s" }');
    assert.equal(config.authorization?.token, 't0k3n');
    assert.equal(config.authTimeout, 3000);
    assert.equal(cfg('authorization { token: t, timeout: 0 }').authTimeout, undefined);
  });

  test('users with every permission form; default_permissions applied to users without their own', () => {
    const a = authz(`
authorization {
  default_permissions = {
    publish = "public.>"
    subscribe = ["public.>", "_INBOX.>"]
  }
  users = [
    { user: alice, password: a1, permissions: { publish: { allow: ["a.>", "b"], deny: "a.secret" }, subscribe: { deny: ["x.*"] } } }
    { user: bob, password: b1 }
    { user: carol, password: c1, permissions: { pub: "p", sub: "s workers", allow_responses: true } }
    { user: dave, password: d1, permissions: { import: ["i"], export: "e", allow_responses: { max: 5, expires: "1m" } } }
    { user: erin, password: e1, permissions: { subscribe: "s", publish_allow_responses: { max_msgs: -1, ttl: "0s" } } }
    { username: frank, pass: f1, permission: { publish: {} } }
  ]
}`);
    const defaults: Permissions = {
      publish: { allow: ['public.>'] },
      subscribe: { allow: ['public.>', '_INBOX.>'] },
    };
    assert.deepEqual(a.users, [
      {
        user: 'alice',
        password: 'a1',
        permissions: { publish: { allow: ['a.>', 'b'], deny: ['a.secret'] }, subscribe: { deny: ['x.*'] } },
      },
      { user: 'bob', password: 'b1', permissions: defaults },
      {
        user: 'carol',
        password: 'c1',
        permissions: {
          publish: { allow: ['p'] },
          subscribe: { allow: ['s workers'] },
          responses: { max: 1, expires: 120000 },
        },
      },
      {
        user: 'dave',
        password: 'd1',
        permissions: {
          publish: { allow: ['i'] },
          subscribe: { allow: ['e'] },
          responses: { max: 5, expires: 60000 },
        },
      },
      {
        user: 'erin',
        password: 'e1',
        // allow_responses turns off the blanket publish allow, as in nats-server.
        permissions: {
          subscribe: { allow: ['s'] },
          responses: { max: -1, expires: 120000 },
          publish: { allow: [] },
        },
      },
      // An empty allow/deny map is no restriction, as in nats-server.
      { user: 'frank', password: 'f1', permissions: PUB_ALL },
    ]);
    assert.equal(a.defaultPermissions, undefined);
    assert.equal(a.permissions, undefined);
    assert.equal(
      authz('authorization { users: [{user: a, permissions: { allow_responses: false }}] }').users[0]!
        .permissions?.responses,
      undefined,
    );
  });

  test('NKey users and allowed connection types', () => {
    const nk = createUser().getPublicKey();
    const a = authz(`
authorization {
  users = [
    { nkey: ${nk}, permissions: { subscribe: "n.>" }, allowed_connection_types: ["standard", "WEBSOCKET"] }
    { user: u, password: p, clients: "MQTT" }
  ]
}`);
    assert.deepEqual(a.nkeys, [
      {
        nkey: nk,
        permissions: { subscribe: { allow: ['n.>'] } },
        allowedConnectionTypes: ['STANDARD', 'WEBSOCKET'],
      },
    ]);
    assert.deepEqual(a.users, [{ user: 'u', password: 'p', allowedConnectionTypes: ['MQTT'] }]);
  });

  test('no_auth_user', () => {
    const a = authz(
      'no_auth_user: guest\nauthorization { users = [ {user: guest, password: ""}, {user: x, password: y} ] }',
    );
    assert.equal(a.noAuthUser, 'guest');
    refused('no_auth_user: bob\n', [1, 1], 'no_auth_user: "bob" present, but users are not defined');
    refused(
      'authorization { users = [ {user: a} ] }\nno_auth_user: bob\n',
      [2, 1],
      'no_auth_user: "bob" not present as user in authorization block or account configuration',
    );
  });
});

// -----------------------------------------------------------------------------------------------------

describe('accounts', () => {
  test('users, nkeys, default_permissions, exports and imports map into AccountConfig', () => {
    const nk = createUser().getPublicKey();
    const a = authz(`
accounts {
  SVC: {
    users = [ { user: svc, password: s } ]
    exports = [
      { stream: "events.>", accounts: [APP] }
      { service: "help.>", response_type: stream }
      { service: "time", accounts: [] }
    ]
  }
  APP: {
    default_permissions: { subscribe: "app.>" }
    users = [ { user: app, password: a }, { nkey: ${nk} }, { user: own, password: o, permissions: { publish: "own" } } ]
    imports = [
      { stream: { account: SVC, subject: "events.>" }, prefix: "svc" }
      { stream: { account: SVC, subject: "events.a" }, to: "local.a" }
      { service: { account: SVC, subject: "help.me" }, to: "help" }
      { service: { account: SVC, subject: "time" } }
    ]
  }
}
no_auth_user: app
`);
    const appPerms: Permissions = { subscribe: { allow: ['app.>'] } };
    const svcUser = { user: 'svc', password: 's', account: 'SVC' };
    const appUser = { user: 'app', password: 'a', permissions: appPerms, account: 'APP' };
    const ownUser = {
      user: 'own',
      password: 'o',
      permissions: { publish: { allow: ['own'] } },
      account: 'APP',
    };
    const nkUser = { nkey: nk, permissions: appPerms, account: 'APP' };
    assert.deepEqual(a.users, [svcUser, appUser, ownUser]);
    assert.deepEqual(a.nkeys, [nkUser]);
    assert.equal(a.noAuthUser, 'app');
    assert.deepEqual(a.accounts, [
      {
        name: 'SVC',
        users: [svcUser],
        nkeys: [],
        exports: [
          { stream: 'events.>', accounts: ['APP'] },
          { service: 'help.>', responseType: 'Stream' },
          { service: 'time' },
        ],
        imports: [],
      },
      {
        name: 'APP',
        users: [appUser, ownUser],
        nkeys: [nkUser],
        exports: [],
        imports: [
          { stream: { account: 'SVC', subject: 'events.>' }, prefix: 'svc' },
          { stream: { account: 'SVC', subject: 'events.a' }, to: 'local.a' },
          { service: { account: 'SVC', subject: 'help.me' }, to: 'help' },
          { service: { account: 'SVC', subject: 'time' } },
        ],
      },
    ] satisfies AccountConfig[]);
    assert.equal(a.user, '');
  });

  test('response types and the array form', () => {
    const exports = authz(
      'accounts { A: { exports: [ {service: a, response: singleton}, {service: b, response_type: Chunked}, {service: c, response_type: single}, {service: d, response: chunk} ] } }',
    ).accounts[0]!.exports;
    assert.deepEqual(
      exports.map((e) => e.responseType),
      ['Singleton', 'Chunked', 'Singleton', 'Chunked'],
    );
    assert.deepEqual(
      authz('accounts: [A, B]').accounts.map((x) => x.name),
      ['A', 'B'],
    );
  });

  test('authorization users and account users together', () => {
    const a = authz(
      'authorization { users: [ {user: g, password: g} ] }\naccounts { A: { users: [ {user: a, password: a} ] } }',
    );
    assert.deepEqual(
      a.users.map((u) => [u.user, u.account]),
      [
        ['g', undefined],
        ['a', 'A'],
      ],
    );
  });

  test('variables inside the accounts block are not accounts', () => {
    const a = authz('accounts {\n  PW: "x"\n  A: { users: [ {user: a, password: $PW} ] }\n}');
    assert.deepEqual(
      a.accounts.map((x) => x.name),
      ['A'],
    );
  });
});

describe('a realistic nats-server.conf (test/fixtures/config)', () => {
  const file = join(ROOT, 'test', 'fixtures', 'config', 'realistic.conf');

  test('loads without warnings into the expected options', () => {
    const { config, warnings } = loadConfigFile(file, { env: NO_ENV });
    assert.deepEqual(warnings, []);
    const { authorization, ...options } = config;
    assert.deepEqual(options, {
      serverName: 'edge-1',
      host: '127.0.0.1',
      port: 4333,
      httpHost: '127.0.0.1',
      httpPort: 8333,
      maxPayload: 2 * 1024 * 1024,
      maxPending: 32 * 1024 * 1024,
      maxControlLine: 8 * 1024,
      maxConnections: 1000,
      maxSubscriptions: 500,
      pingInterval: 60000,
      pingMax: 3,
      writeDeadline: 5000,
      debug: false,
      trace: false,
      logtime: true,
      lameDuckDuration: 60000,
      lameDuckGracePeriod: 5000,
      configFile: file,
    });
    assert.ok(authorization !== undefined);
    const billingDefaults: Permissions = {
      publish: { allow: ['billing.>', 'orders.lookup'], deny: ['billing.admin.>'] },
      subscribe: { allow: ['billing.>', 'from-orders.>', '_INBOX.>'] },
      responses: { max: 1, expires: 120000 },
    };
    assert.deepEqual(
      authorization.users.map((u) => [u.user, u.account, u.permissions]),
      [
        ['orders', 'ORDERS', undefined],
        [
          'guest',
          'ORDERS',
          { publish: { allow: ['orders.public.>'] }, subscribe: { allow: ['orders.public.>', '_INBOX.>'] } },
        ],
        ['billing', 'BILLING', billingDefaults],
        ['billing_workers', 'BILLING', { subscribe: { allow: ['billing.jobs workers'] } }],
      ],
    );
    assert.equal(authorization.users[0]!.password, 'orders-secret');
    assert.match(authorization.users[2]!.password, /^\$2a\$11\$/);
    assert.equal(authorization.noAuthUser, 'guest');
    assert.deepEqual(
      authorization.accounts.map((a) => [a.name, a.exports.length, a.imports.length]),
      [
        ['ORDERS', 2, 0],
        ['BILLING', 0, 2],
      ],
    );
  });

  test('nats-server -t accepts it too', {
    skip: !hasReference() && 'nats-server is not on PATH',
  }, async () => {
    const ref = await runReference(['-c', file, '-t']);
    assert.equal(ref.code, 0, ref.output);
  });
});

// -----------------------------------------------------------------------------------------------------

describe('tls', () => {
  let certs: TestCerts | undefined;
  before(() => {
    try {
      certs = makeCerts();
    } catch {
      certs = undefined; // no openssl: these tests are skipped
    }
  });
  after(() => certs?.cleanup());

  test('a full tls block', (t) => {
    if (certs === undefined) return t.skip('openssl is not available');
    const { config } = load(`
tls {
  cert_file: "${certs.serverCert}"
  key_file: "${certs.serverKey}"
  ca_file: "${certs.caCert}"
  verify: true
  timeout: 0.5
  cipher_suites: [ "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256" ]
}`);
    assert.deepEqual(config.tls, {
      certFile: certs.serverCert,
      keyFile: certs.serverKey,
      caFile: certs.caCert,
      verify: true,
      verifyAndMap: false,
      timeout: 500,
      ciphers: ['ECDHE-RSA-AES128-GCM-SHA256', 'TLS_AES_128_GCM_SHA256'],
    });
    // With TLS the default authentication timeout is the TLS timeout plus a second.
    assert.equal(config.authTimeout, 1500);
  });

  test('defaults, verify_and_map, duration timeout, explicit auth timeout', (t) => {
    if (certs === undefined) return t.skip('openssl is not available');
    const base = `cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}"`;
    const d = cfg(`tls { ${base} }`);
    assert.deepEqual(d.tls, {
      certFile: certs.serverCert,
      keyFile: certs.serverKey,
      caFile: '',
      verify: false,
      verifyAndMap: false,
      timeout: 2000,
    });
    assert.equal(d.authTimeout, 3000);
    const m = cfg(
      `tls { ${base}, ca_file: "${certs.caCert}", verify_and_map: true, timeout: "3s" }\nauthorization { token: t, timeout: 5 }`,
    );
    assert.equal(m.tls?.verify, true);
    assert.equal(m.tls?.verifyAndMap, true);
    assert.equal(m.tls?.timeout, 3000);
    assert.equal(m.authTimeout, 5000);
  });

  test('refusals: keys not supported, unknown keys, missing or bad files, bad ciphers', (t) => {
    if (certs === undefined) return t.skip('openssl is not available');
    const base = `cert_file: "${certs.serverCert}"\n  key_file: "${certs.serverKey}"`;
    refused(
      `tls {\n  ${base}\n  pinned_certs: []\n}`,
      [4, 3],
      'tls.pinned_certs: not supported by tsnats yet',
    );
    refused(`tls {\n  ${base}\n  insecure: true\n}`, [4, 3], 'tls.insecure: not supported by tsnats yet');
    refused(`tls {\n  ${base}\n  connection_rate_limit: 10\n}`, [4, 3], 'tls.connection_rate_limit');
    refused(
      `tls {\n  ${base}\n  verify_cert_and_check_known_urls: true\n}`,
      [4, 3],
      'tls.verify_cert_and_check_known_urls',
    );
    refused(`tls {\n  ${base}\n  bogus: 1\n}`, [4, 3], 'error parsing tls config, unknown field ["bogus"]');
    refused(
      `tls {\n  cert_file: "${certs.serverCert}"\n}`,
      [1, 1],
      "missing 'key_file' in TLS configuration",
    );
    refused(`tls {\n  key_file: "${certs.serverKey}"\n}`, [1, 1], "missing 'cert_file' in TLS configuration");
    refused('tls {\n  verify: true\n}', [1, 1], "tls: 'cert_file' and 'key_file' are required");
    refused(`tls {\n  cert_file: 5\n}`, [2, 3], "expected 'cert_file' to be filename");
    refused(`tls {\n  ${base}\n  verify: "yes"\n}`, [4, 3], "expected 'verify' to be a boolean");
    refused(`tls {\n  ${base}\n  timeout: true\n}`, [4, 3], "'timeout' wrong type");
    refused(
      `tls {\n  cert_file: "${join(dir, 'missing.pem')}"\n  key_file: "${certs.serverKey}"\n}`,
      [2, 3],
      'can not read certificate',
    );
    refused(
      `tls {\n  cert_file: "${certs.serverCert}"\n  key_file: "${certs.clientKey}"\n}`,
      [2, 3],
      'error parsing X509 certificate/key pair',
    );
    refused(
      `tls {\n  ${base}\n  ca_file: "${certs.serverKey}"\n}`,
      [4, 3],
      'failed to parse root ca certificate',
    );
    refused(`tls {\n  ${base}\n  cipher_suites: ["NOPE"]\n}`, [4, 20], 'unrecognized cipher NOPE');
    refused(`tls {\n  ${base}\n  cipher_suites: []\n}`, [4, 3], "'cipher_suites' cannot be empty");
    refused(`tls {\n  ${base}\n  curve_preferences: []\n}`, [4, 3], "'curve_preferences' cannot be empty");
    refused(
      `tls {\n  ${base}\n  curve_preferences: ["P256"]\n}`,
      [4, 24],
      'unrecognized curve preference P256',
    );
    refused('ocsp: true', [1, 1], 'ocsp: not supported by tsnats yet');
  });
});

// -----------------------------------------------------------------------------------------------------

describe('websocket', () => {
  test('every key and alias maps onto WebsocketOptions', () => {
    const c = cfg(`ws {
  listen: "127.0.0.1:8443"
  advertise: "ws.example.com:443"
  no_tls: true
  compress: true
  same_origin: true
  origins: ["https://a.example.com", "http://b.example.com:8080"]
  handshake_timeout: "3s"
  authentication { username: wsu, pass: wsp, timeout: 1.5 }
}
`);
    assert.deepEqual(c.websocket, {
      host: '127.0.0.1',
      port: 8443,
      advertise: 'ws.example.com:443',
      noTls: true,
      tls: undefined,
      sameOrigin: true,
      allowedOrigins: ['https://a.example.com', 'http://b.example.com:8080'],
      compression: true,
      handshakeTimeout: 3000,
      user: 'wsu',
      password: 'wsp',
      token: '',
      authTimeout: 1500,
      noAuthUser: '',
      jwtCookie: '',
    });
    const w = cfg(
      'websocket { host: "::1", port: -1, no_tls: true, allowed_origin: "http://x", handshake_timeout: 2 }\n',
    );
    assert.equal(w.websocket?.host, '::1');
    assert.equal(w.websocket?.port, 0, '-1 is a free port');
    assert.deepEqual(w.websocket?.allowedOrigins, ['http://x']);
    assert.equal(w.websocket?.handshakeTimeout, 2000, 'a number is seconds');
    // Without a port the block enables nothing, as in nats-server.
    assert.equal(cfg('websocket { no_tls: true }\n').websocket, undefined);
    assert.equal(cfg('websocket { port: 8080, no_tls: true }\n').websocket?.host, '0.0.0.0');
  });

  test("nats-server's start-time checks are made when the file is loaded", () => {
    refused('websocket {\n  port: 8080\n}\n', [1, 1], 'websocket requires TLS configuration');
    refused(
      'websocket { port: 8080, no_tls: true, no_auth_user: nobody }\n',
      [1, 1],
      'no_auth_user: "nobody" present, but users are not defined',
    );
    refused(
      'authorization { users: [{user: a, password: b}] }\nwebsocket { port: 8080, no_tls: true, no_auth_user: zz }\n',
      [2, 1],
      'no_auth_user: "zz" not present as user in authorization block or account configuration',
    );
    refused(
      'authorization { users: [{user: a, password: b}] }\nwebsocket { port: 8080, no_tls: true, authorization { user: u, password: p } }\n',
      [2, 1],
      'websocket authentication username not compatible with presence of users/nkeys',
    );
    refused(
      'websocket { port: 8080, no_tls: true, jwt_cookie: my_jwt }\n',
      [1, 1],
      'trusted operators or trusted keys configuration is required for JWT authentication via cookie "my_jwt"',
    );
    refused('websocket { port: 8080, no_tls: true, bogus: 1 }\n', [1, 39], 'unknown field "bogus"');
    refused('websocket { port: 8080, no_tls: true, compression: "yes please" }\n', [1, 39], 'compression');
  });
});

describe('JetStream in accounts', () => {
  test("enabled, disabled or a map of limits, with nats-server's aliases", () => {
    const unlimited = {
      maxMemory: -1,
      maxStore: -1,
      maxStreams: -1,
      maxConsumers: -1,
      maxAckPending: -1,
      memoryMaxStreamBytes: -1,
      storeMaxStreamBytes: -1,
      maxBytesRequired: false,
    };
    const accounts = cfg(`accounts {
  A: { jetstream: enabled }
  B: { jetstream: disabled }
  C: { jetstream: true }
  D: {}
  E: { jetstream: { mem: 1G, disk: 2G, streams: 3, consumers: 4, max_ack_pending: 5,
                    memory_max_stream_bytes: 6, store_max_stream_bytes: 7, max_bytes: true } }
}
`).authorization?.accounts;
    const js = Object.fromEntries((accounts ?? []).map((a) => [a.name, a.jetstream]));
    assert.deepEqual(js.A, unlimited);
    assert.equal(js.B, false);
    assert.deepEqual(js.C, unlimited);
    assert.equal(js.D, undefined);
    assert.deepEqual(js.E, {
      maxMemory: 1e9,
      maxStore: 2e9,
      maxStreams: 3,
      maxConsumers: 4,
      maxAckPending: 5,
      memoryMaxStreamBytes: 6,
      storeMaxStreamBytes: 7,
      maxBytesRequired: true,
    });
  });

  test("nats-server's errors", () => {
    refused(
      'accounts { A: { jetstream: maybe } }',
      [1, 17],
      "Expected 'enabled' or 'disabled' for string value, got 'maybe'",
    );
    refused(
      'accounts { A: { jetstream: { max_mem: "lots" } } }',
      [1, 30],
      'Expected a parseable size for "max_mem", got lots',
    );
    refused(
      'accounts { A: { jetstream: { max_bytes: 1 } } }',
      [1, 30],
      'Expected a parseable bool for "max_bytes", got 1',
    );
    refused('accounts { A: { jetstream: { bogus: 1 } } }', [1, 30], 'unknown field "bogus"');
  });
});

describe('monitoring over HTTPS', () => {
  test('https and https_port set the host and the HTTPS port', () => {
    const c = cfg('https: "127.0.0.1:8443"\n');
    assert.equal(c.httpHost, '127.0.0.1');
    assert.equal(c.httpsPort, 8443);
    assert.equal(cfg('https_port: -1\n').httpsPort, -1);
    assert.equal(parseCommandLine(['-ms', '8443']).config.httpsPort, 8443);
  });
});

describe('subject mappings', () => {
  test('the forms nats-server reads, top level and in accounts', () => {
    const c = cfg(`mappings {
  "a": "b"
  "c": { destination: "d", weight: 100, cluster: "east" }
  "e": [ { dest: "f", weight: "30%" }, { destination: "g", weight: 70 } ]
}
accounts { A: { maps: { "x.*": "y.$1" } } }
`);
    assert.deepEqual(c.mappings, [
      { subject: 'a', destinations: [{ subject: 'b', weight: 100 }] },
      { subject: 'c', destinations: [{ subject: 'd', weight: 100, cluster: 'east' }] },
      {
        subject: 'e',
        destinations: [
          { subject: 'f', weight: 30 },
          { subject: 'g', weight: 70 },
        ],
      },
    ]);
    assert.deepEqual(c.authorization?.accounts[0]?.mappings, [
      { subject: 'x.*', destinations: [{ subject: 'y.$1', weight: 100 }] },
    ]);
    refused('mappings { "e": [{ destination: "f", weight: 101 }] }\n', [1, 38], 'Invalid weight 101');
    refused(
      'mappings { "e": [{ destination: "f" }] }\n',
      [1, 18],
      'Missing weight for mapping destination "f"',
    );
    refused('mappings { "a.*": "b.$2" }\n', [1, 13], 'Error adding mapping for "a.*"');
  });

  test('mapping functions and their errors in nats-server words', () => {
    const c = cfg('mappings { "p.*": "p.{{ Partition(3,1) }}.$1", "u.*.*": "u.$2" }\n');
    assert.deepEqual(c.mappings?.[0]?.destinations, [{ subject: 'p.{{ Partition(3,1) }}.$1', weight: 100 }]);
    refused(
      'mappings { "a.*": "b.{{bogus(1)}}" }\n',
      [1, 13],
      'Error adding mapping for "a.*" to "b.{{bogus(1)}}" : invalid mapping destination: unknown function in {{bogus(1)}}',
    );
    refused(
      'mappings { "a.*": "b.{{left(1,2)}}" }\n',
      [1, 13],
      'invalid mapping destination: unknown function in {{left(1,2)}}',
    );
    refused(
      'mappings { "a.*": [{ destination: "b.{{partition(3)}}", weight: 100 }] }\n',
      [1, 13],
      'Error adding mapping for "a.*" : invalid mapping destination: not enough arguments passed to the function in {{partition(3)}}',
    );
    refused(
      'mappings { "a.*": "b.{{wildcard(2)}}" }\n',
      [1, 13],
      'invalid mapping destination: wildcard index out of range in {{wildcard(2)}}: [2]',
    );
    refused(
      'mappings { "a": [{ destination: "b", weight: 60, cluster: "e" }, { destination: "c", weight: 60, cluster: "e" }] }\n',
      [1, 13],
      'total weight needs to be <= 100',
    );
    // Totalled per cluster (2.10).
    assert.equal(
      cfg(
        'mappings { "a": [{ destination: "b", weight: 100 }, { destination: "c", weight: 100, cluster: "e" }] }\n',
      ).mappings?.length,
      1,
    );
  });
});

describe('server tags', () => {
  test('a string or a list, lowercased and trimmed, without repeats', () => {
    assert.deepEqual(cfg('server_tags: ["Region:EU ", "az:1", "region:eu", ""]\n').tags, [
      'region:eu',
      'az:1',
    ]);
    assert.deepEqual(cfg('server_tags: "GPU"\n').tags, ['gpu']);
    refused('server_tags: 1\n', [1, 1], 'error parsing tags: unsupported type');
  });
});

describe('leafnodes', () => {
  test('the hub side: listen, advertise, authorization and tls keys map onto LeafNodeOptions', () => {
    const c = cfg(`accounts { A: {} }
leafnodes {
  listen: "127.0.0.1:7423"
  leafnode_advertise: "hub.example.com:7422"
  no_advertise: true
  reconnect: 3
  min_version: "2.8.4"
  authorization { user: leaf, password: s3cr3t, account: A, timeout: 1.5 }
}
`);
    const l = c.leafnodes;
    assert.equal(l?.host, '127.0.0.1');
    assert.equal(l?.port, 7423);
    assert.equal(l?.advertise, 'hub.example.com:7422');
    assert.equal(l?.noAdvertise, true);
    assert.equal(l?.reconnectInterval, 3000, 'reconnect is seconds');
    assert.equal(l?.minVersion, '2.8.4');
    assert.equal(l?.user, 'leaf');
    assert.equal(l?.password, 's3cr3t');
    assert.equal(l?.account, 'A');
    assert.equal(l?.authTimeout, 1500);
    const users = cfg(
      'accounts { A: {}, B: {} }\nleaf { port: -1, authorization { users: [{user: a, password: pa, account: A}, {username: b, pass: pb}] } }\n',
    ).leafnodes;
    assert.equal(users?.port, -1, '-1 picks a free port');
    assert.equal(users?.host, '0.0.0.0');
    assert.deepEqual(users?.users, [
      { user: 'a', password: 'pa', account: 'A' },
      { user: 'b', password: 'pb' },
    ]);
    // Neither a port nor remotes: the block enables nothing, as in nats-server.
    assert.equal(cfg('leafnodes { no_advertise: true }\n').leafnodes, undefined);
  });

  test('the leaf side: remotes with url or urls, account, credentials, deny lists, hub', () => {
    const c = cfg(`accounts { A: {} }
leafnodes {
  remotes: [
    { url: "nats-leaf://u:p@hub1:7422", account: A, deny_imports: ["secret.>"], deny_export: "local.*" }
    { urls: ["hub2", "tls://hub3:7000"], credentials: "/tmp/user.creds", hub: true, no_randomize: true }
  ]
}
`);
    const [a, b] = c.leafnodes?.remotes ?? [];
    assert.deepEqual(a?.urls, ['nats-leaf://u:p@hub1:7422']);
    assert.equal(a?.account, 'A');
    assert.deepEqual(a?.denyImports, ['secret.>']);
    assert.deepEqual(a?.denyExports, ['local.*']);
    assert.deepEqual(b?.urls, ['hub2', 'tls://hub3:7000']);
    assert.equal(b?.credentials, '/tmp/user.creds');
    assert.equal(b?.hub, true);
    assert.equal(b?.noRandomize, true);
    assert.equal(c.leafnodes?.port, 0, 'remotes alone do not listen');
  });

  test("nats-server's checks: unknown accounts, bad URLs, mixed websocket remotes, duplicate users", () => {
    refused(
      'leafnodes {\n  port: 7422\n  authorization { user: a, password: b, account: NOPE }\n}\n',
      [1, 1],
      'cannot find local account "NOPE" specified in leafnode authorization',
    );
    refused(
      'leafnodes { remotes: [{ url: "nats-leaf://hub:7422", account: NOPE }] }\n',
      [1, 1],
      'cannot find local account "NOPE" specified in leafnode remote',
    );
    refused(
      'leafnodes { remotes: [{ urls: ["nats-leaf://a:7422", "ws://b:8080"] }] }\n',
      [1, 1],
      'remote leaf node configuration cannot have a mix of websocket and non-websocket urls',
    );
    refused(
      'leafnodes { port: 7422, authorization { users: [{user: a, password: b}, {user: a, password: c}] } }\n',
      [1, 25],
      'duplicate user "a" detected in leafnode authorization',
    );
    refused(
      'leafnodes { port: 7422, authorization { user: x, password: y, users: [{user: a, password: b}] } }\n',
      [1, 25],
      'can not have a single user/pass and a users array',
    );
    refused('leafnodes { port: 7422, min_version: "2.7.0" }\n', [1, 25], 'at least 2.8.0');
    refused('leafnodes { remotes: "nats-leaf://hub" }\n', [1, 13], 'Expected remotes field to be an array');
    refused('leafnodes { port: 7422, bogus: 1 }\n', [1, 25], 'unknown field "bogus"');
  });
});

describe('refusals name the key and its position', () => {
  test('every key of a later feature is refused as not supported yet', () => {
    for (const key of Object.keys(NOT_SUPPORTED_YET)) {
      refused(
        `port: 4222\n  ${key}: {}\n`,
        [2, 3],
        `${key}: not supported by tsnats yet (${NOT_SUPPORTED_YET[key]})`,
      );
    }
    refused('gateway {\n  port: 7222\n}\n', [1, 1], 'gateway: not supported by tsnats yet (gateways)');
    refused('default_js_domain: {}\n', [1, 1], 'default_js_domain: not supported by tsnats yet (JetStream)');
    refused(
      'accounts {\n  A: {\n    limits: {}\n  }\n}\n',
      [3, 5],
      'accounts.A.limits: not supported by tsnats yet (account limits)',
    );
    refused('accounts { A: { limits: {} } }', [1, 17], 'accounts.A.limits');
    refused(
      `accounts { A: { nkey: ${createUser().getPublicKey()} } }`,
      [1, 17],
      'accounts.A.nkey: not supported by tsnats yet',
    );
    refused(
      'accounts { A: { exports: [ { service: a, latency: "lat" } ] } }',
      [1, 42],
      'accounts.A.exports[0].latency: not supported by tsnats yet',
    );
    refused(
      'accounts { A: { exports: [ {service: a} ] }, B: { imports: [ { service: {account: A, subject: a}, share: true } ] } }',
      [1, 99],
      'accounts.B.imports[0].share',
    );
  });

  test('unknown keys at the top level and in every block', () => {
    refused('port: 4222\nbogus: 1\n', [2, 1], 'unknown field "bogus"');
    refused('authorization {\n  user: a\n  password: b\n  foo: 1\n}', [4, 3], 'unknown field "foo"');
    refused('authorization { users: [ { user: a, colour: red } ] }', [1, 37], 'unknown field "colour"');
    refused(
      'authorization { users: [ { user: a, permissions: { publish: "x", talk: true } } ] }',
      [1, 66],
      'Unknown field "talk" parsing permissions',
    );
    refused(
      'authorization { users: [ { user: a, permissions: { publish: { allow: "x", maybe: "y" } } } ] }',
      [1, 75],
      `Unknown field name "maybe" parsing subject permissions, only 'allow' or 'deny' are permitted`,
    );
    refused(
      'authorization { users: [ { user: a, permissions: { allow_responses: { max: 1, often: 2 } } } ] }',
      [1, 79],
      'Unknown field "often" parsing permissions',
    );
    refused('accounts { A: { color: red } }', [1, 17], 'unknown field "color"');
    refused('accounts { A: { exports: [ { stream: a, when: now } ] } }', [1, 41], 'unknown field "when"');
    refused(
      'accounts { A: { exports: [ {stream: a} ] }, B: { imports: [ { stream: {account: A, subject: a}, why: 1 } ] } }',
      [1, 97],
      'unknown field "why"',
    );
    refused(
      'accounts { A: { exports: [ {stream: a} ] }, B: { imports: [ { stream: {account: A, subject: a, x: 1} } ] } }',
      [1, 96],
      'unknown field "x"',
    );
    // A user entry may not name its account: accounts {} does that.
    refused('authorization { users: [ { user: a, account: A } ] }', [1, 37], 'unknown field "account"');
  });

  test('wrong types', () => {
    refused('port: "abc"', [1, 1], 'port: expected an integer, got string "abc"');
    refused('port: 1.5', [1, 1], 'port: expected an integer, got float 1.5');
    refused('debug: "yes"', [1, 1], 'debug: expected a boolean, got string "yes"');
    refused('server_name: 5', [1, 1], 'server_name: expected a string, got integer 5');
    refused('max_payload: "big"', [1, 1], 'max_payload: expected an integer');
    refused(
      'ping_interval: true',
      [1, 1],
      'ping_interval: expected a duration string or an integer number of seconds',
    );
    refused('ping_interval: "2 parsecs"', [1, 1], 'error parsing ping_interval: time: ');
    refused('write_deadline: [ 1 ]', [1, 1], 'write_deadline: expected a duration string');
    refused('lame_duck_duration: 60', [1, 1], 'lame_duck_duration: expected a duration string');
    refused('listen: true', [1, 1], 'expected port or host:port, got boolean true');
    refused('http: [ 1 ]', [1, 1], 'expected port or host:port, got array');
    refused('authorization: 5', [1, 1], 'authorization: expected a map, got integer 5');
    refused('authorization { user: 5 }', [1, 17], 'authorization.user: expected a string, got integer 5');
    refused(
      'authorization { timeout: true }',
      [1, 17],
      'authorization.timeout: expected a number of seconds',
    );
    refused('authorization { users: { user: a } }', [1, 17], 'Expected users field to be an array, got map');
    refused(
      'authorization { users: [ "a" ] }',
      [1, 27],
      'Expected user entry to be a map/struct, got string "a"',
    );
    refused('authorization { permissions: "all" }', [1, 17], 'Expected permissions to be a map/struct');
    refused(
      'authorization { users: [ {user: a, permissions: { publish: 5 } } ] }',
      [1, 51],
      'Expected subject permissions to be a subject, or array of subjects, got integer 5',
    );
    refused(
      'authorization { users: [ {user: a, permissions: { publish: ["a", 5 ] } } ] }',
      [1, 66],
      'Subject in permissions array cannot be cast to string',
    );
    refused(
      'authorization { users: [ {user: a, permissions: { allow_responses: "yes" } } ] }',
      [1, 51],
      'error parsing response permissions, expected a boolean or a map',
    );
    refused(
      'authorization { users: [ {user: a, permissions: { allow_responses: { expires: 5 } } } ] }',
      [1, 70],
      'error parsing expires, not a duration string',
    );
    refused('accounts: 5', [1, 1], 'accounts: expected a map of accounts or an array of account names');
    refused('accounts { A: 5 }', [1, 12], 'Expected map entries for accounts');
    refused('accounts { A: { exports: "a" } }', [1, 17], 'Exports should be an array, got string "a"');
    refused('accounts { A: { imports: {} } }', [1, 17], 'Imports should be an array, got map');
    refused('accounts { A: { exports: [ "a" ] } }', [1, 29], 'Export Items should be a map with type entry');
    refused('accounts { A: { imports: [ 1 ] } }', [1, 28], 'Import Items should be a map with type entry');
    refused(
      'accounts { A: { exports: [ { stream: 5 } ] } }',
      [1, 30],
      'Expected stream name to be string, got integer 5',
    );
    refused(
      'accounts { A: { imports: [ { stream: "a" } ] } }',
      [1, 30],
      'Stream entry should be an account map',
    );
    refused(
      'accounts { A: { exports: [ { service: a, response_type: 1 } ] } }',
      [1, 42],
      'Expected response type to be string',
    );
    refused('no_auth_user: 5', [1, 1], 'no_auth_user: expected a string');
    refused('tls: "on"', [1, 1], 'tls: expected a map');
  });

  test('values out of range or invalid', () => {
    refused('max_payload: 3GB', [1, 1], 'max_payload value is too big');
    refused('max_control_line: 3GB', [1, 1], 'max_control_line value is too big');
    refused('max_payload: -1', [1, 1], 'max_payload value can not be negative');
    refused('port: 70000', [1, 1], 'port: invalid port 70000');
    refused('port: -2', [1, 1], 'port: invalid port -2');
    refused('http_port: 99999', [1, 1], 'http_port: invalid port 99999');
    refused('listen: "4222"', [1, 1], 'could not parse address string "4222"');
    refused('listen: "a:b:4222"', [1, 1], 'could not parse address string "a:b:4222"');
    refused('listen: "host:port"', [1, 1], 'could not parse port "port"');
    refused('lame_duck_duration: "10s"', [1, 1], 'invalid lame_duck_duration of 10s, minimum is 30 seconds');
    refused('lame_duck_grace_period: "-1s"', [1, 1], 'invalid lame_duck_grace_period, needs to be positive');
    refused('lame_duck_duration: "1h5x"', [1, 1], 'error parsing lame_duck_duration: time: unknown unit');
    refused(
      'lame_duck_duration: "30s"\nlame_duck_grace_period: "30s"',
      [2, 1],
      'lame duck grace period (30s) should be strictly lower than lame duck duration (30s)',
    );
    refused(
      'max_payload: 10MB\nmax_pending: 1MB',
      [1, 1],
      'max_payload (10485760) cannot be higher than max_pending (1048576)',
    );
    refused('auth_timeout: -1', [1, 1], 'auth_timeout: can not be negative');
    refused(
      'authorization { users: [ {user: a, permissions: { subscribe: "foo..bar" } } ] }',
      [1, 51],
      'subject "foo..bar" is not a valid subject',
    );
    refused(
      'authorization { users: [ {user: a, permissions: { subscribe: "foo q extra" } } ] }',
      [1, 51],
      'subject "foo q extra" is not a valid subject',
    );
    refused(
      'authorization { users: [ {user: a, clients: ["TELNET"] } ] }',
      [1, 36],
      'unknown connection type "TELNET"',
    );
  });

  test('users, nkeys and credentials that do not go together', () => {
    refused('authorization {\n  user: a\n  token: t\n}', [1, 1], 'Cannot have a user/pass and token');
    refused(
      'authorization { user: a, users: [] }',
      [1, 1],
      'Can not have a single user/pass and a users array',
    );
    refused(
      'authorization { token: t, users: [ {user: b} ] }',
      [1, 1],
      'Can not have a token and a users array',
    );
    refused(
      'authorization { user: x, password: y }\naccounts { A: { users: [ {user: a} ] } }',
      [2, 17],
      'Can not have a single user/pass and accounts',
    );
    refused(
      'authorization { token: t }\naccounts { A: { users: [ {user: a} ] } }',
      [2, 17],
      'Can not have a token and accounts',
    );
    refused('authorization { users: [ {user: a}, {user: a} ] }', [1, 37], 'Duplicate user "a" detected');
    refused(
      'authorization { users: [ {user: a} ] }\naccounts { A: { users: [ {user: a} ] } }',
      [2, 26],
      'Duplicate user "a" detected',
    );
    const nk = createUser().getPublicKey();
    refused(
      `accounts { A: { users: [ {nkey: ${nk}} ] }, B: { users: [ {nkey: ${nk}} ] } }`,
      [1, 110],
      `Duplicate nkey "${nk}" detected`,
    );
    refused('authorization { users: [ { password: p } ] }', [1, 26], 'User entry requires a user');
    refused('authorization { users: [ { nkey: UBAD } ] }', [1, 26], 'Not a valid public nkey for a user');
    refused(
      `authorization { users: [ { nkey: ${nk}, password: p } ] }`,
      [1, 26],
      'Nkey users do not take usernames or passwords',
    );
  });

  test('accounts, exports and imports that do not fit', () => {
    refused('accounts { $G: {} }', [1, 12], '"$G" is a Reserved Account');
    refused('accounts: [ A, "$G" ]', [1, 17], '"$G" is a Reserved Account');
    refused('accounts: [ A, A ]', [1, 16], 'Duplicate Account Entry: A');
    refused(
      'accounts { A: { exports: [ { stream: a, accounts: [ B ] } ] } }',
      [1, 28],
      '"B" account not defined for stream export',
    );
    refused(
      'accounts { A: { imports: [ { service: { account: B, subject: a } } ] } }',
      [1, 28],
      '"B" account not defined for service import',
    );
    refused(
      'accounts { A: { exports: [ { stream: "foo.>" } ] }, B: { imports: [ { stream: { account: A, subject: "bar" } } ] } }',
      [1, 69],
      'Error adding stream import "bar": stream import not authorized',
    );
    refused(
      'accounts { A: { exports: [ { service: "s", accounts: [C] } ] }, B: {}, C: {}, D: { imports: [ { service: { account: A, subject: "s" } } ] } }',
      [1, 95],
      'Error adding service import "s": service import not authorized',
    );
    refused(
      'accounts { A: { exports: [ { accounts: [] } ] } }',
      [1, 28],
      "an export needs a 'stream' or a 'service'",
    );
    refused(
      'accounts { A: { imports: [ { prefix: p } ] } }',
      [1, 28],
      "an import needs a 'stream' or a 'service'",
    );
    refused(
      'accounts { A: { exports: [ { stream: a, service: b } ] } }',
      [1, 41],
      'Detected service "b" but already saw a stream',
    );
    refused(
      'accounts { A: { exports: [ { stream: a, response_type: stream } ] } }',
      [1, 41],
      'Detected response directive on non-service',
    );
    refused(
      'accounts { A: { exports: [ { service: a, response_type: lots } ] } }',
      [1, 42],
      'Unknown response type: "lots"',
    );
    refused(
      'accounts { A: { exports: [ { stream: "a b" } ] } }',
      [1, 30],
      'Error adding stream export "a b": invalid subject',
    );
    refused(
      'accounts { A: { imports: [ { stream: { account: A } } ] } }',
      [1, 30],
      'Expect an account name and a subject',
    );
    refused(
      'accounts { A: { exports: [ {stream: a} ] }, B: { imports: [ { stream: {account: A, subject: a}, prefix: p, to: t } ] } }',
      [1, 108],
      "Stream import can not have a 'prefix' and a 'to' property",
    );
    refused(
      'accounts { A: { exports: [ {stream: a} ] }, B: { imports: [ { stream: {account: A, subject: a}, prefix: "p.*" } ] } }',
      [1, 97],
      'stream import prefix can not contain wildcard tokens',
    );
    refused(
      'accounts { A: { exports: [ {service: a} ] }, B: { imports: [ { service: {account: A, subject: a}, prefix: p } ] } }',
      [1, 99],
      'only stream imports take a prefix',
    );
    refused(
      'accounts { A: { exports: [ {service: a}, {service: b} ] }, B: { imports: [ { service: {account: A, subject: a}, to: x }, { service: {account: A, subject: b}, to: x } ] } }',
      [1, 122],
      'Duplicate service import subject "x", previously used in import for account "A", subject "a"',
    );
  });

  test('every problem is reported, first one in the error fields', () => {
    const file = write('port: "x"\nbogus: 1\ngateway {}\nauthorization { user: a, token: b }\n');
    let err: ConfigError | undefined;
    try {
      loadConfigFile(file, { env: NO_ENV });
    } catch (e) {
      err = e as ConfigError;
    }
    assert.ok(err instanceof ConfigError);
    assert.equal(err.issues.length, 4);
    assert.deepEqual(
      err.issues.map((i) => [i.line, i.column, i.key]),
      [
        [1, 1, 'port'],
        [2, 1, 'bogus'],
        [3, 1, 'gateway'],
        [4, 1, 'authorization'],
      ],
    );
    assert.equal(err.file, file);
    assert.equal(err.line, 1);
    assert.equal(err.key, 'port');
    assert.equal(err.message.split('\n').length, 4);
  });

  test('syntax errors become ConfigErrors with the position', () => {
    const err = refused('port: 4222\nauthorization {\n  user: [\n', [4, 1]);
    assert.equal(err.line, 4);
    assert.throws(
      () => loadConfigFile(join(dir, 'does-not-exist.conf')),
      (e: Error) => e instanceof ConfigError && /error opening config file/.test(e.message),
    );
    refused('port: $NOPE', [1, 7], "variable reference for 'NOPE' can not be found");
  });
});

// -----------------------------------------------------------------------------------------------------

describe('extension hooks', () => {
  test('registerConfigKey handles a key that is otherwise refused', () => {
    const seen: string[] = [];
    const off = registerConfigKey(['gateway', 'GATEWAY_ALIAS'], (field, reader) => {
      const block = reader.map(field);
      let port = 6222;
      reader.forEachKey(block, field.path, {
        port: (f) => (port = reader.integer(f, { min: 0, max: 65535 })),
        name: (f) => seen.push(reader.string(f)),
      });
      (reader.config as Record<string, unknown>)['gatewayPortForTest'] = port;
    });
    try {
      const c = cfg('gateway {\n  name: c1\n  port: 7222\n}\n') as Record<string, unknown>;
      assert.equal(c['gatewayPortForTest'], 7222);
      assert.deepEqual(seen, ['c1']);
      assert.equal((cfg('gateway_alias {}') as Record<string, unknown>)['gatewayPortForTest'], 6222);
      // The handler's failures are positioned like the built-in ones.
      refused('gateway {\n  port: 99999\n}', [2, 3], 'gateway.port: value 99999 is too big (maximum 65535)');
      refused('gateway {\n  routes: []\n}', [2, 3], 'unknown field "routes"');
      assert.throws(() => registerConfigKey('gateway', () => {}), /already has a registered handler/);
    } finally {
      off();
    }
    refused('gateway {}', [1, 1], 'gateway: not supported by tsnats yet');
  });

  test('registerAccountConfigKey handles a key inside each account', () => {
    const off = registerAccountConfigKey('limits', (field, reader, account) => {
      (reader.config as Record<string, unknown>)[`limits_${account.name}`] = reader.string(field);
    });
    try {
      const c = cfg('accounts { A: { limits: one }, B: { limits: two } }') as Record<string, unknown>;
      assert.equal(c['limits_A'], 'one');
      assert.equal(c['limits_B'], 'two');
    } finally {
      off();
    }
    refused('accounts { A: { limits: one } }', [1, 17], 'accounts.A.limits: not supported by tsnats yet');
  });
});

// -----------------------------------------------------------------------------------------------------

describe('feature keys are known to the library', () => {
  /** A file with every feature block, as the package's own loadConfigFile sees it. */
  const FEATURES = (storeDir: string): string =>
    `jetstream {\n  store_dir: "${storeDir}"\n  max_file_store: "1G"\n}\n` +
    'cluster {\n  name: c1\n  listen: 127.0.0.1:-1\n  routes: [nats://127.0.0.1:7001]\n}\n';

  test('the exported loadConfigFile reads jetstream {} and cluster {} blocks', () => {
    const empty = packageLoadConfigFile(write('jetstream {}\ncluster {}\n'), { env: NO_ENV }).config;
    // An empty jetstream block turns JetStream on; a cluster block without a port enables nothing.
    assert.deepEqual(empty.jetstream, { storeDir: '' });
    assert.equal(empty.cluster, undefined);
    const { config } = packageLoadConfigFile(write(FEATURES('/data/js')), { env: NO_ENV });
    assert.deepEqual(config.jetstream, { storeDir: '/data/js', maxFile: 2 ** 30 });
    assert.deepEqual(
      [config.cluster?.name, config.cluster?.host, config.cluster?.port, config.cluster?.routes],
      ['c1', '127.0.0.1', 0, ['nats://127.0.0.1:7001']],
    );
    assert.deepEqual(load('store_dir: /x\njetstream: enabled\n').config.jetstream, { storeDir: '/x' });
  });

  test('a registered handler for a feature key replaces the built-in one only while registered', () => {
    const off = registerConfigKey('jetstream', (_f, reader) => {
      (reader.config as Record<string, unknown>)['mine'] = true;
    });
    try {
      assert.equal((cfg('jetstream {}') as Record<string, unknown>)['mine'], true);
    } finally {
      off();
    }
    assert.deepEqual(cfg('jetstream {}').jetstream, { storeDir: '' });
  });

  test('a program that imports only the package reads them (no registration by side effect)', async () => {
    const file = write(FEATURES('/data/js'));
    const index = join(ROOT, 'dist', 'src', 'index.js');
    const script =
      `const { loadConfigFile } = await import(${JSON.stringify(index)});\n` +
      `const { config } = loadConfigFile(${JSON.stringify(file)});\n` +
      'process.stdout.write(JSON.stringify([config.jetstream, config.cluster?.name]));\n';
    const r = await runProcess(process.execPath, ['--input-type=module', '-e', script]);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.stdout), [{ storeDir: '/data/js', maxFile: 2 ** 30 }, 'c1']);
  });
});

describe('command line over the file', () => {
  test('mergeCommandLine: explicit flags win', () => {
    const file: ServerConfig = { port: 4333, serverName: 'file', debug: true, maxPayload: 100 };
    assert.deepEqual(mergeCommandLine(file, { port: 0, debug: false }, new Set(['port', 'debug'])), {
      port: 0,
      serverName: 'file',
      debug: false,
      maxPayload: 100,
    });
    assert.deepEqual(mergeCommandLine(file, {}, new Set()), file);
  });

  test("-js keeps the file's jetstream block; -sd replaces only its store directory", () => {
    const file: ServerConfig = { jetstream: { storeDir: '/file', domain: 'hub', maxMemory: 1024 } };
    const js = parseCommandLine(['-js']);
    assert.deepEqual(mergeCommandLine(file, js.config, js.explicit).jetstream, file.jetstream);
    const jsSd = parseCommandLine(['-js', '-sd', '/flag']);
    assert.deepEqual(mergeCommandLine(file, jsSd.config, jsSd.explicit).jetstream, {
      storeDir: '/flag',
      domain: 'hub',
      maxMemory: 1024,
    });
    assert.deepEqual(mergeCommandLine({}, jsSd.config, jsSd.explicit).jetstream, { storeDir: '/flag' });
  });

  test('applyConfigFile: -t, warnings, errors, -t without -c', () => {
    const out: string[] = [];
    const w = (s: string): void => {
      out.push(s);
    };
    const ok = write('port: 4333\n');
    const base = { config: {}, explicit: new Set<string>(), configFile: ok, checkConfig: true };
    assert.deepEqual(applyConfigFile(base, w), { kind: 'exit', code: 0 });
    assert.deepEqual(out, [`tsnats: configuration file ${ok} is valid\n`]);
    out.length = 0;
    const warn = write('ping_interval: 10\n');
    assert.deepEqual(applyConfigFile({ ...base, configFile: warn }, w), { kind: 'exit', code: 1 });
    assert.match(out.join(''), /should be converted to a duration/);
    out.length = 0;
    // Without -t a warning is printed and the server runs.
    const run = applyConfigFile({ ...base, configFile: warn, checkConfig: false }, w);
    assert.equal(run.kind, 'run');
    assert.equal(out.length, 1);
    out.length = 0;
    assert.deepEqual(applyConfigFile({ ...base, configFile: '' }, w), { kind: 'exit', code: 1 });
    assert.match(out[0]!, /must specify \[-c, --config\] option to check configuration file syntax/);
    out.length = 0;
    const r = applyConfigFile(
      { config: { port: 0 }, explicit: new Set(['port']), configFile: ok, checkConfig: false },
      w,
    );
    assert.equal(r.kind, 'run');
    if (r.kind === 'run') {
      assert.equal(r.config.port, 0);
      assert.equal(r.config.configFile, ok);
    }
  });
});

// -----------------------------------------------------------------------------------------------------

function runReference(args: string[]): Promise<RunResult> {
  return runProcess('nats-server', args);
}

describe('tsnats -c FILE', () => {
  test('-t: valid → 0, malformed → 1 with file:line:col, unsupported key → 1 naming it', async () => {
    const ok = write('port: 4333\nserver_name: x\n');
    const v = await run(['-c', ok, '-t']);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stderr, `tsnats: configuration file ${ok} is valid\n`);
    const bad = write('port: 4333\nauthorization {\n  user = [\n');
    const b = await run(['-t', '--config', bad]);
    assert.equal(b.code, 1);
    assert.match(b.stderr, new RegExp(`^tsnats: ${bad.replaceAll('.', '\\.')}:4:1: `));
    const un = write('port: 4333\nmqtt {\n  port: 1883\n}\n');
    const u = await run(['-c', un, '-t']);
    assert.equal(u.code, 1);
    assert.equal(u.stderr, `tsnats: ${un}:2:1: mqtt: not supported by tsnats yet (MQTT)\n`);
    const none = await run(['-t']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /must specify \[-c, --config\]/);
  });

  test('the server runs with the file; INFO reflects it; -p on the command line overrides its port', async () => {
    // Hold a port so that the file's port is busy: only the -p override lets the server start.
    const holder: NetServer = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const busy = (holder.address() as { port: number }).port;
    const conf = write(`listen: "127.0.0.1:${busy}"\nserver_name: "from-config"\nmax_payload: 512KB\n`);
    try {
      // Without -p the file's (busy) port is used, so the server cannot listen.
      const failed = await run(['-c', conf]);
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, /Error listening on port/);

      // No -a: the host comes from the file's listen.
      const srv = await launch({ host: false, args: ['-c', conf] });
      try {
        const port = srv.port;
        assert.notEqual(port, busy);
        const conn = await connect(port);
        try {
          assert.equal(conn.info['server_name'], 'from-config');
          assert.equal(conn.info['max_payload'], 512 * 1024);
          assert.equal(conn.info['host'], '127.0.0.1');
        } finally {
          conn.close();
        }
      } finally {
        await srv.stop();
      }
    } finally {
      holder.close();
    }
  });
});

// -----------------------------------------------------------------------------------------------------

describe('same verdict as nats-server -t', { skip: !hasReference() && 'nats-server is not on PATH' }, () => {
  const nk = createUser().getPublicKey();
  const cases: [name: string, text: string, valid: boolean][] = [
    [
      'basic keys',
      'listen: "127.0.0.1:4333"\nserver_name: s\nmax_payload: 2MB\nmax_pending: 64MB\nping_interval: "1m"\nping_max: 3\nwrite_deadline: "5s"\ndebug: true\ntrace: false\nlogtime: true\nmax_connections: 10\nmax_subs: 5\nhttp: 8222\n',
      true,
    ],
    ['lame duck', 'lame_duck_duration: "45s"\nlame_duck_grace_period: "5s"\n', true],
    ['server tags', 'server_tags: ["a:1", "B"]\n', true],
    ['allow_non_tls', 'allow_non_tls: true\n', true],
    [
      'mappings',
      'mappings { "a": "b", "c.*": "d.$1", "e": [{ destination: "f", weight: 60% }, { destination: "g", weight: 40 }] }\naccounts { A: { mappings: { "x": "y" } } }\n',
      true,
    ],
    [
      'mapping weights over 100',
      'mappings { "e": [{ destination: "f", weight: 60% }, { destination: "g", weight: 50 }] }\n',
      false,
    ],
    ['mapping without weight', 'mappings { "e": [{ destination: "f" }] }\n', false],
    ['mapping to an unknown wildcard', 'mappings { "c.*": "d.$2" }\n', false],
    [
      'mapping functions',
      'mappings { "p.*.*": "p.{{partition(10,1,2)}}.$1.$2", "s.*": "s.{{splitFromLeft(1,2)}}", "x.*": "x.{{ SliceFromRight(1,3) }}", "sp.*": "sp.{{split(1,-)}}" }\naccounts { A: { mappings: { "a.*": "{{Wildcard(1)}}.{{sliceFromLeft(1,2)}}" } } }\n',
      true,
    ],
    ['mapping to an unknown function', 'mappings { "a.*": "b.{{bogus(1)}}" }\n', false],
    ['mapping function, too few arguments', 'mappings { "a.*": "b.{{partition(3)}}" }\n', false],
    ['mapping function, too many arguments', 'mappings { "a.*": "b.{{split(1,-,+)}}" }\n', false],
    ['mapping function, not a number', 'mappings { "a.*": "b.{{splitFromLeft(1,x)}}" }\n', false],
    ['mapping function, wildcard out of range', 'mappings { "a.*": "b.{{sliceFromLeft(2,1)}}" }\n', false],
    ['mapping with left() (stream transforms only)', 'mappings { "a.*": "b.{{left(1,2)}}" }\n', false],
    [
      'small keys',
      'max_sub_tokens: 3\nmax_traced_msg_len: 5\ndisable_sublist_cache: true\nconnect_error_reports: 10\nreconnect_error_reports: 2\nhttp_base_path: "/nats"\n',
      true,
    ],
    ['max_sub_tokens too big', 'max_sub_tokens: 300\n', false],
    ['https', 'https: "127.0.0.1:8443"\n', true],
    ['https_port', 'https_port: 8443\n', true],
    ['https not a listen', 'https: "nohost"\n', false],
    ['allow_non_tls not a bool', 'allow_non_tls: "maybe"\n', false],
    [
      'jetstream in accounts',
      'accounts { A: { jetstream: enabled }, B: { jetstream: { max_mem: 1G, max_file: 1G, max_streams: 2, max_bytes_required: true } }, C: { jetstream: disabled } }\n',
      true,
    ],
    ['jetstream in an account, bad string', 'accounts { A: { jetstream: maybe } }\n', false],
    ['jetstream in an account, unknown limit', 'accounts { A: { jetstream: { bogus: 1 } } }\n', false],
    ['one server tag', 'server_tags: "a:1"\n', true],
    ['server tags of the wrong type', 'server_tags: 1\n', false],
    ['variables', 'PW = "x"\nauthorization { user: a, password: $PW, timeout: 2 }\n', true],
    [
      'users and permissions',
      `authorization {\n  default_permissions { publish: "p.>" }\n  users = [\n    { user: a, password: b, permissions: { publish: { allow: ["x", "y.*"], deny: "y.z" }, subscribe: ["q g"], allow_responses: { max: 2, expires: "1m" } } }\n    { nkey: ${nk} }\n  ]\n}\n`,
      true,
    ],
    [
      'accounts with imports and exports',
      'accounts {\n  A: { users: [{user: a, password: a}], exports: [{stream: "s.>"}, {service: "svc", response_type: "stream"}] }\n  B: { users: [{user: b, password: b}], imports: [{stream: {account: A, subject: "s.>"}, prefix: "from.a"}, {service: {account: A, subject: "svc"}, to: "a.svc"}] }\n}\nno_auth_user: b\n',
      true,
    ],
    ['unknown top-level key', 'port: 4222\nprot: 4223\n', false],
    ['unknown key in authorization', 'authorization { user: a, pasword: b }\n', false],
    ['wrong type', 'port: "4222"\n', false],
    ['bad listen', 'listen: "nohost"\n', false],
    ['duration as a number', 'write_deadline: 2\n', false],
    ['lame duck too short', 'lame_duck_duration: "5s"\n', false],
    [
      'import not exported',
      'accounts {\n  A: {}\n  B: { imports: [{stream: {account: A, subject: "x"}}] }\n}\n',
      false,
    ],
    ['reserved account', 'accounts { $G: {} }\n', false],
    ['user and token', 'authorization { user: a, token: b }\n', false],
    [
      'bad permission field',
      'authorization { users: [{user: a, permissions: {publish: "x", bogus: 1}}] }\n',
      false,
    ],
    ['bad subject', 'authorization { users: [{user: a, permissions: {publish: "a..b"}}] }\n', false],
    ['tls without key_file', 'tls { cert_file: "x.pem" }\n', false],
    ['syntax error', 'authorization {\n  user: [\n', false],
    ['unknown tls field', 'tls { cert_file: "a", key_file: "b", bogus: 1 }\n', false],
    [
      'websocket',
      'websocket { listen: "127.0.0.1:8080", no_tls: true, compression: true, same_origin: true, allowed_origins: ["http://a.b"], handshake_timeout: "2s", authorization { user: u, password: p, timeout: 2 } }\n',
      true,
    ],
    ['unknown websocket field', 'websocket { port: 8080, no_tls: true, bogus: 1 }\n', false],
    [
      'leafnodes hub and remotes',
      'accounts { A: { users: [{user: a, password: a}] } }\nleafnodes { listen: "127.0.0.1:7422", advertise: "h:7422", authorization { users: [{user: l, password: p, account: A}], timeout: 2 }, remotes: [{ url: "nats-leaf://x:y@127.0.0.1:7000", account: A, deny_imports: ["a.>"] }, { urls: ["nats://127.0.0.1:7001"], hub: true }] }\n',
      true,
    ],
    ['leafnodes unknown field', 'leafnodes { port: 7422, bogus: 1 }\n', false],
  ];
  for (const [name, text, valid] of cases) {
    test(name, async () => {
      const file = write(text);
      const [ours, ref] = await Promise.all([run(['-c', file, '-t']), runReference(['-c', file, '-t'])]);
      assert.equal(ref.code === 0, valid, `nats-server: ${ref.output}`);
      assert.equal(ours.code === 0, valid, `tsnats: ${ours.stderr}`);
    });
  }
});
