/**
 * `tsnats/testing`: a NATS server for tests in one line, in this process, on 127.0.0.1 and a free port.
 *
 *   import { startServer } from 'tsnats/testing';
 *   await using srv = await startServer({ jetstream: true });   // or: const srv = ...; await srv.stop()
 *   const nc = await connect({ servers: srv.url });
 *
 * `jetstream: true` gives JetStream with a temporary store directory, removed by `stop()`. `startCluster(n)`
 * starts `n` servers with routes to each other (and, with JetStream, waits for the meta group's leader).
 * The servers log nothing unless given `noLog: false` (and `debug`/`trace` as usual).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultClusterOptions, type JetStreamOptions } from './server/options.js';
import { Server, type ServerConfig } from './server/server.js';

/** `ServerConfig`, with `jetstream: true` for JetStream in a temporary directory. */
export type TestServerOptions = Omit<ServerConfig, 'jetstream'> & {
  jetstream?: boolean | Partial<JetStreamOptions>;
};

export interface TestServer {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** The JetStream store directory ('' without JetStream). */
  readonly storeDir: string;
  /** Shut the server down and remove its temporary store directory. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface TestCluster {
  readonly urls: string[];
  readonly servers: TestServer[];
  /** Stop every server. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

function toConfig(opts: TestServerOptions): { config: ServerConfig; tempDir: string } {
  const { jetstream, ...rest } = opts;
  // Quiet unless asked: a test's output is the test's.
  const config: ServerConfig = { host: '127.0.0.1', port: 0, noLog: true, ...rest };
  let tempDir = '';
  if (jetstream !== undefined && jetstream !== false) {
    const given = jetstream === true ? {} : jetstream;
    let storeDir = given.storeDir ?? '';
    if (storeDir === '') {
      tempDir = mkdtempSync(join(tmpdir(), 'tsnats-test-'));
      storeDir = tempDir;
    }
    config.jetstream = { ...given, storeDir };
  }
  return { config, tempDir };
}

/** Start a server on 127.0.0.1 and a free port; resolves once it accepts clients. */
export async function startServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const { config, tempDir } = toConfig(opts);
  const removeTemp = (): void => {
    if (tempDir !== '') rmSync(tempDir, { recursive: true, force: true });
  };
  const server = new Server(config);
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
    storeDir: config.jetstream?.storeDir ?? '',
    stop,
    [Symbol.asyncDispose]: stop,
  };
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
export async function startCluster(n = 3, opts: TestServerOptions = {}): Promise<TestCluster> {
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
