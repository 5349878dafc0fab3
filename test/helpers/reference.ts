/**
 * The reference nats-server (Go) as a child process, for byte-for-byte comparisons with tsnats.
 * It listens on 127.0.0.1 and a random port, which it reports in a ports file in a private temp dir.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  accessSync,
  constants,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const EXE = 'nats-server';

/** A nats-server child process with its stderr captured (up to `logLimit` chars) and its exit awaited. */
export function spawnNatsServer(
  args: string[],
  logLimit: number,
): { child: ChildProcess; exited: Promise<void>; hasExited: () => boolean; log: () => string } {
  const child = spawn(EXE, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    if (log.length < logLimit) log += d;
  });
  let done = false;
  const exited = new Promise<void>((resolve) => {
    const finish = (): void => {
      done = true;
      resolve();
    };
    child.once('exit', finish);
    child.once('error', finish);
  });
  return { child, exited, hasExited: () => done, log: () => log };
}

export interface ReferenceServer {
  port: number;
  /** The temp dir holding the ports file (and the config file, if any). */
  dir: string;
  /** Stop the process and remove the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Limits and credentials in tsnats' ServerConfig names, for {@link referenceConfig}. */
export interface ReferenceLimits {
  maxPayload?: number;
  maxControlLine?: number;
  maxConnections?: number;
  maxSubscriptions?: number;
  maxPending?: number;
  /** ms */
  pingInterval?: number;
  pingMax?: number;
  /** ms */
  writeDeadline?: number;
  /** ms; nats-server takes it (in seconds) inside the authorization block only. */
  authTimeout?: number;
  serverName?: string;
  user?: string;
  password?: string;
  token?: string;
}

let cachedHasReference: boolean | undefined;

/** Whether nats-server is an executable on PATH. */
export function hasReference(): boolean {
  if (cachedHasReference !== undefined) return cachedHasReference;
  cachedHasReference = false;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, EXE), constants.X_OK);
      cachedHasReference = true;
      break;
    } catch {
      // not here
    }
  }
  return cachedHasReference;
}

/** nats-server's config file text for the same limits a tsnats ServerConfig would set. */
export function referenceConfig(l: ReferenceLimits): string {
  const lines: string[] = [];
  const q = (s: string): string => JSON.stringify(s);
  if (l.serverName !== undefined) lines.push(`server_name: ${q(l.serverName)}`);
  if (l.maxPayload !== undefined) lines.push(`max_payload: ${l.maxPayload}`);
  if (l.maxControlLine !== undefined) lines.push(`max_control_line: ${l.maxControlLine}`);
  if (l.maxConnections !== undefined) lines.push(`max_connections: ${l.maxConnections}`);
  if (l.maxSubscriptions !== undefined) lines.push(`max_subscriptions: ${l.maxSubscriptions}`);
  if (l.maxPending !== undefined) lines.push(`max_pending: ${l.maxPending}`);
  if (l.pingInterval !== undefined) lines.push(`ping_interval: "${l.pingInterval}ms"`);
  if (l.pingMax !== undefined) lines.push(`ping_max: ${l.pingMax}`);
  if (l.writeDeadline !== undefined) lines.push(`write_deadline: "${l.writeDeadline}ms"`);
  const auth: string[] = [];
  if (l.user !== undefined) auth.push(`user: ${q(l.user)}`);
  if (l.password !== undefined) auth.push(`password: ${q(l.password)}`);
  if (l.token !== undefined) auth.push(`token: ${q(l.token)}`);
  if (auth.length > 0 && l.authTimeout !== undefined) auth.push(`timeout: ${l.authTimeout / 1000}`);
  if (auth.length > 0) lines.push(`authorization {\n  ${auth.join('\n  ')}\n}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Start `nats-server -a 127.0.0.1 -p -1 --ports_file_dir <tmp> ...args`. With `config`, that text is
 * written to `<tmp>/nats.conf` and passed with `-c` (flags still win over it).
 */
export async function startReference(
  args: string[] = [],
  opts: { config?: string; timeoutMs?: number } = {},
): Promise<ReferenceServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tsnats-ref-'));
  const argv = ['-a', '127.0.0.1', '-p', '-1', '--ports_file_dir', dir];
  if (opts.config !== undefined) {
    const conf = join(dir, 'nats.conf');
    writeFileSync(conf, opts.config);
    argv.push('-c', conf);
  }
  argv.push(...args);
  const { child, exited: exitedP, hasExited, log } = spawnNatsServer(argv, 16384);
  const exited = hasExited;
  const stderr = log;

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await killChild(child, exitedP, exited);
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    const port = await waitForPort(dir, opts.timeoutMs ?? 5000, exited, stderr);
    return { port, dir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function killChild(child: ChildProcess, exitedP: Promise<void>, exited: () => boolean): Promise<void> {
  if (exited()) return;
  child.kill('SIGKILL');
  await exitedP;
}

/** Poll the temp dir for nats-server's `<exe>_<pid>.ports` file (it has no other readiness event). */
async function waitForPort(
  dir: string,
  timeoutMs: number,
  exited: () => boolean,
  stderr: () => string,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited()) throw new Error(`nats-server exited before it was ready: ${stderr()}`);
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.ports')) continue;
      try {
        const ports = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { nats?: string[] };
        const url = ports.nats?.[0];
        if (url !== undefined) {
          const port = Number(new URL(url).port);
          if (port > 0) return port;
        }
      } catch {
        // Written but not complete yet: look again.
      }
    }
    if (Date.now() > deadline)
      throw new Error(`nats-server wrote no ports file in ${timeoutMs}ms: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
