/**
 * `tsnats/testing`: a NATS server for tests in one line, on 127.0.0.1 and a free port, in this process or in
 * a child process.
 *
 *   import { startServer } from 'tsnats/testing';
 *   await using srv = await startServer({ jetstream: true });   // or: const srv = ...; await srv.stop()
 *   const nc = await connect({ servers: srv.url });
 *
 * `jetstream: true` gives JetStream with a temporary store directory, removed by `stop()`. Options are
 * `new Server()`'s: camelCase or configuration file keys (`max_payload: '64KB'`). `childProcess: true` runs
 * the server in its own Node process (a crash or `kill()` of the server then does not take the test down).
 * `startCluster(n)` starts `n` servers with routes to each other (and, with JetStream, waits for the meta
 * group's leader). The servers log nothing unless given `noLog: false` (and `debug`/`trace` as usual).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MixedServerOptions, ServerInput } from './config/embedded.js';
import { defaultClusterOptions, type JetStreamOptions, type ServerConfig } from './server/options.js';
import { Server } from './server/server.js';

/**
 * `new Server()`'s options (camelCase or configuration file keys), with `jetstream: true` for JetStream in a
 * temporary directory; a JetStream block without a store directory also gets one.
 */
export type TestServerOptions = (Omit<ServerConfig, 'jetstream'> | Omit<MixedServerOptions, 'jetstream'>) & {
  jetstream?: boolean | Partial<JetStreamOptions> | MixedServerOptions['jetstream'];
  /** Run the server in a child Node process instead of this one. */
  childProcess?: boolean;
};

/** What every started test server has, in-process or not. */
export interface TestServerBase {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The JetStream store directory ('' without JetStream). */
  readonly storeDir: string;
  /** Shut the server down and remove its temporary store directory. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A server in this process. */
export interface TestServer extends TestServerBase {
  readonly server: Server;
}

/** A server in a child process (`childProcess: true`). */
export interface TestServerProcess extends TestServerBase {
  readonly pid: number;
  /**
   * Send a signal to the server process (default SIGKILL) and wait until it has exited; the temporary store
   * stays until `stop()`, so a test can start a server on it again (`jetstream: { storeDir }`).
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface TestCluster {
  readonly urls: string[];
  readonly servers: TestServer[];
  /** Stop every server. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const FILE_STORE_KEYS = ['store_dir', 'storedir', 'store'];

function toConfig(opts: TestServerOptions): { config: ServerInput; tempDir: string; storeDir: string } {
  const { jetstream, childProcess: _child, ...rest } = opts;
  // Quiet unless asked: a test's output is the test's.
  const config: Record<string, unknown> = { host: '127.0.0.1', port: 0, noLog: true, ...rest };
  let tempDir = '';
  let storeDir = '';
  const makeTemp = (): string => {
    tempDir = mkdtempSync(join(tmpdir(), 'tsnats-test-'));
    return tempDir;
  };
  if (jetstream === true) {
    storeDir = makeTemp();
    config.jetstream = { storeDir };
  } else if (typeof jetstream === 'object' && jetstream !== null && !Array.isArray(jetstream)) {
    const block = jetstream as Record<string, unknown>;
    const given = Object.keys(block).find(
      (k) => k === 'storeDir' || FILE_STORE_KEYS.includes(k.toLowerCase()),
    );
    if (given !== undefined && typeof block[given] === 'string' && block[given] !== '') {
      storeDir = block[given];
      config.jetstream = block;
    } else {
      storeDir = makeTemp();
      // camelCase block or file-style block: the store directory in the same form.
      const fileStyle = Object.keys(block).some((k) => k.includes('_'));
      config.jetstream = { ...block, [fileStyle ? 'store_dir' : 'storeDir']: storeDir };
    }
  } else if (jetstream !== undefined && jetstream !== false) {
    config.jetstream = jetstream; // e.g. 'enabled', checked as the file's value
  }
  return { config: config as ServerInput, tempDir, storeDir };
}

/** Start a server on 127.0.0.1 and a free port; resolves once it accepts clients. */
export function startServer(opts: TestServerOptions & { childProcess: true }): Promise<TestServerProcess>;
export function startServer(opts?: TestServerOptions & { childProcess?: false }): Promise<TestServer>;
export function startServer(opts: TestServerOptions = {}): Promise<TestServer | TestServerProcess> {
  return opts.childProcess === true ? startChild(opts) : startInProcess(opts);
}

async function startInProcess(opts: TestServerOptions): Promise<TestServer> {
  const { config, tempDir, storeDir } = toConfig(opts);
  const removeTemp = (): void => {
    if (tempDir !== '') rmSync(tempDir, { recursive: true, force: true });
  };
  let server: Server;
  try {
    server = new Server(config);
  } catch (e) {
    removeTemp();
    throw e;
  }
  try {
    await server.ready();
  } catch (e) {
    await server.shutdown().catch(() => {});
    removeTemp();
    throw e;
  }
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= server.shutdown().finally(removeTemp);
    return stopping;
  };
  return {
    url: `nats://127.0.0.1:${server.port}`,
    port: server.port,
    server,
    storeDir,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** The child's entry point (testing-child.ts, next to this file once compiled). */
const CHILD_ENTRY = fileURLToPath(new URL('./testing-child.js', import.meta.url));

/** The line the child writes on stdout once it accepts clients (or the error that stopped it). */
interface ChildReport {
  port?: number;
  error?: string;
}

async function startChild(opts: TestServerOptions): Promise<TestServerProcess> {
  const { config, tempDir, storeDir } = toConfig(opts);
  const removeTemp = (): void => {
    if (tempDir !== '') rmSync(tempDir, { recursive: true, force: true });
  };
  const quiet = (config as { noLog?: boolean }).noLog !== false;
  // stdin stays open: when this process dies, the child sees its end and exits (no orphans).
  const child = spawn(process.execPath, [CHILD_ENTRY], {
    stdio: ['pipe', 'pipe', quiet ? 'ignore' : 'inherit'],
    env: { ...process.env, TSNATS_TEST_SERVER: JSON.stringify(config) },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let report: ChildReport;
  try {
    report = await readReport(child);
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    removeTemp();
    throw e;
  }
  if (report.port === undefined) {
    await exited;
    removeTemp();
    throw new Error(report.error ?? 'the server process stopped before it was ready');
  }
  const port = report.port;
  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    await exited;
  };
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= signal('SIGTERM').finally(removeTemp);
    return stopping;
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? 0,
    storeDir,
    kill: (sig: NodeJS.Signals = 'SIGKILL') => signal(sig),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** The child's first stdout line, parsed; rejects if it exits first. */
function readReport(child: ChildProcess): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      const nl = text.indexOf('\n');
      if (nl === -1) return;
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      try {
        resolve(JSON.parse(text.slice(0, nl)) as ChildReport);
      } catch {
        reject(new Error(`unexpected output from the server process: ${text.slice(0, nl)}`));
      }
    };
    const onExit = (code: number | null, sig: NodeJS.Signals | null): void => {
      reject(new Error(`the server process exited before it was ready (${sig ?? `code ${code}`})`));
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Poll `check` every 10 ms until it holds; rejects after `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`startCluster: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Start `n` servers named n1..nN in one cluster (routes from every server to the first, gossip does the
 * rest); resolves once every server has a route to every other and, with JetStream, the meta group has a
 * leader that every server knows.
 */
export async function startCluster(
  n = 3,
  opts: TestServerOptions & { childProcess?: false } = {},
): Promise<TestCluster> {
  const servers: TestServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    const clusterName = `test-${Math.random().toString(36).slice(2, 8)}`;
    for (let i = 0; i < n; i++) {
      const routes = i === 0 ? [] : [`nats://127.0.0.1:${servers[0]!.server.cluster!.port}`];
      servers.push(
        await startServer({
          ...opts,
          serverName: `n${i + 1}`,
          cluster: { ...defaultClusterOptions(), host: '127.0.0.1', port: 0, name: clusterName, routes },
        }),
      );
    }
    await until(() => servers.every((s) => s.server.cluster?.numRoutes() === n - 1), 15_000, 'a full mesh');
    if (opts.jetstream !== undefined && opts.jetstream !== false && n > 1) {
      await until(
        () => servers.every((s) => (s.server.jetstream?.cluster?.meta.node?.leader ?? '') !== ''),
        15_000,
        'a JetStream meta leader',
      );
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    urls: servers.map((s) => s.url),
    servers,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
