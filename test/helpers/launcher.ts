/**
 * Server processes for tests: `bin/tsnats` or the reference `nats-server`, on 127.0.0.1 and random ports.
 *
 * `launch` starts one with `-a 127.0.0.1 -p -1 --ports_file_dir <tmp>` (plus a config file, a pid file, a
 * JetStream store and any other flags), waits for the `<exe>_<pid>.ports` file both servers write once they
 * listen (watching the temp dir, so there is no fixed sleep), and returns a handle that reads its ports and
 * log, waits for log lines, signals it by PID and stops it, removing the temp dir.
 *
 * `runProcess` / `runTsnats` run a command to completion (`tsnats -t`, `--signal`, examples) instead.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  type FSWatcher,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `bin/tsnats` of this checkout (from dist/test/helpers/). */
export const TSNATS_BIN = fileURLToPath(new URL('../../../bin/tsnats', import.meta.url));

export type ServerKind = 'tsnats' | 'nats-server';

/** The listeners a ports file can list. */
export type Listener = 'nats' | 'monitoring' | 'cluster' | 'websocket';

/** The ports file's JSON: URLs per listener. */
export type PortsFile = Partial<Record<Listener, string[]>> & Record<string, unknown>;

/** How a process ended: its exit code, or the signal that ended it. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LaunchOptions {
  /** Which server (default tsnats). */
  kind?: ServerKind;
  /** Flags after the launcher's own (they win over the config file in both servers). */
  args?: readonly string[];
  /** Config file text: written to `<dir>/server.conf` (see `configFile`) and passed with `-c`. */
  config?: string;
  /** `-a` host (default 127.0.0.1); false passes none, so the config file decides. */
  host?: string | false;
  /** `-P <dir>/server.pid` (see `pidFile`). */
  pidFile?: boolean;
  /** `-js -sd DIR`: true for `<dir>/store` (removed by stop), or a directory the caller owns. */
  jetstream?: boolean | string;
  /** Listeners the ports file must list before the server counts as started (default nats). */
  listeners?: readonly Listener[];
  /** How long to wait for the ports file (default 10 s). */
  timeoutMs?: number;
}

/** A started server process. */
export interface Launched {
  readonly kind: ServerKind;
  readonly pid: number;
  /** The temp dir with the ports file (and the config and pid files). Removed by `stop`. */
  readonly dir: string;
  readonly configFile: string | undefined;
  readonly pidFile: string | undefined;
  readonly storeDir: string | undefined;
  /** The ports file as read at start. */
  readonly ports: PortsFile;
  /** Client port and `nats://host:port` URL. */
  readonly port: number;
  readonly url: string;
  /** Route port (0 without a cluster listener). */
  readonly clusterPort: number;
  /** `http://host:port` of the monitor, if it listens. */
  readonly monitorUrl: string | undefined;
  /** `ws://host:port` (or `wss://`) of the websocket listener, if it listens. */
  readonly websocketUrl: string | undefined;
  /** Everything it wrote to stdout and stderr so far (the first MiB). */
  log(): string;
  /** Resolves once the log contains `pattern`; rejects if the process exits first or after `timeoutMs`. */
  waitForLog(pattern: string | RegExp, timeoutMs?: number): Promise<void>;
  /** Whether the process has not exited yet. */
  running(): boolean;
  /** Resolves when the process has exited (and its output is complete). */
  readonly exited: Promise<Exit>;
  /** Send `signal` (default SIGKILL) by PID now, unless it has exited; does not wait. */
  kill(signal?: NodeJS.Signals): void;
  /**
   * Send `signal` (default SIGTERM) if it still runs, wait for the exit and remove the temp dir. Idempotent:
   * later calls return the first call's exit.
   */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

const LOG_LIMIT = 1 << 20;

function portOf(url: string | undefined): number {
  return url === undefined ? 0 : Number(new URL(url).port);
}

/** Start a server and wait for its ports file; on failure the error carries the process's output. */
export async function launch(opts: LaunchOptions = {}): Promise<Launched> {
  const kind = opts.kind ?? 'tsnats';
  const dir = mkdtempSync(join(tmpdir(), `tsnats-${kind}-`));
  const argv: string[] = [];
  let configFile: string | undefined;
  let pidFile: string | undefined;
  let storeDir: string | undefined;
  if (opts.config !== undefined) {
    configFile = join(dir, 'server.conf');
    writeFileSync(configFile, opts.config);
    argv.push('-c', configFile);
  }
  const host = opts.host ?? '127.0.0.1';
  if (host !== false) argv.push('-a', host);
  argv.push('-p', '-1', '--ports_file_dir', dir);
  if (opts.pidFile === true) {
    pidFile = join(dir, 'server.pid');
    argv.push('-P', pidFile);
  }
  if (opts.jetstream !== undefined && opts.jetstream !== false) {
    storeDir = opts.jetstream === true ? join(dir, 'store') : opts.jetstream;
    mkdirSync(storeDir, { recursive: true });
    argv.push('-js', '-sd', storeDir);
  }
  argv.push(...(opts.args ?? []));

  const exe = kind === 'tsnats' ? TSNATS_BIN : 'nats-server';
  const proc = new ServerProcess(kind, dir, spawn(exe, argv, { stdio: ['ignore', 'pipe', 'pipe'] }));
  try {
    const ports = await proc.waitForPorts(opts.listeners ?? ['nats'], opts.timeoutMs ?? 10000);
    return proc.started({ ports, configFile, pidFile, storeDir });
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
}

class ServerProcess {
  readonly exited: Promise<Exit>;
  private output = '';
  private exit: Exit | undefined;
  /** Called on new output and on exit. */
  private readonly listeners = new Set<() => void>();
  private stopping: Promise<Exit> | undefined;

  constructor(
    readonly kind: ServerKind,
    readonly dir: string,
    private readonly child: ChildProcess,
  ) {
    const append = (d: string): void => {
      if (this.output.length < LOG_LIMIT) this.output += d;
      for (const l of this.listeners) l();
    };
    for (const s of [child.stdout, child.stderr]) {
      s?.setEncoding('utf8');
      s?.on('data', append);
    }
    this.exited = new Promise<Exit>((resolve) => {
      const done = (exit: Exit): void => {
        if (this.exit !== undefined) return;
        this.exit = exit;
        resolve(exit);
        for (const l of this.listeners) l();
      };
      // 'close' rather than 'exit': by then all of its output has been read.
      child.once('close', (code, signal) => done({ code, signal }));
      child.once('error', (err) => {
        append(`${err.message}\n`);
        done({ code: null, signal: null });
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  log(): string {
    return this.output;
  }

  running(): boolean {
    return this.exit === undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.running() || this.child.pid === undefined) return;
    try {
      process.kill(this.child.pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    this.stopping ??= (async () => {
      this.kill(signal);
      const exit = await this.exited;
      rmSync(this.dir, { recursive: true, force: true });
      return exit;
    })();
    return this.stopping;
  }

  waitForLog(pattern: string | RegExp, timeoutMs = 10000): Promise<void> {
    const has = (): boolean =>
      typeof pattern === 'string' ? this.output.includes(pattern) : this.output.search(pattern) !== -1;
    return this.until(has, timeoutMs, `${String(pattern)} in its log`);
  }

  /** The ports file once it lists `listeners` (looked at on every change in the dir and on output). */
  waitForPorts(listeners: readonly Listener[], timeoutMs: number): Promise<PortsFile> {
    let ports: PortsFile | undefined;
    const check = (): boolean => {
      ports = readPorts(this.dir, listeners);
      return ports !== undefined;
    };
    // The ports file is written once the server listens; the dir watcher reports each change to it.
    let watcher: FSWatcher | undefined;
    let poll: NodeJS.Timeout | undefined;
    const recheck = (): void => {
      for (const l of this.listeners) l();
    };
    try {
      watcher = watch(this.dir, recheck);
      watcher.on('error', () => {
        watcher?.close();
        poll ??= setInterval(recheck, 10);
      });
    } catch {
      // No inotify (or no watcher left): look every 10 ms instead.
      poll = setInterval(recheck, 10);
    }
    return this.until(check, timeoutMs, `a ports file listing ${listeners.join(', ')}`)
      .then(() => ports!)
      .finally(() => {
        watcher?.close();
        clearInterval(poll);
      });
  }

  /** Resolve once `check()` holds: checked now, on output, on `recheck`; fail on exit or after `ms`. */
  private until(check: () => boolean, ms: number, what: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        this.listeners.delete(onChange);
        if (err === undefined) resolve();
        else reject(err);
      };
      const onChange = (): void => {
        if (check()) finish();
        else if (this.exit !== undefined)
          finish(
            new Error(
              `${this.kind} exited (code ${this.exit.code}, signal ${this.exit.signal}) while waiting for ${what}; its output:\n${this.output}`,
            ),
          );
      };
      const timer = setTimeout(
        () =>
          finish(
            new Error(
              `${this.kind}: timed out after ${ms}ms waiting for ${what}; its output:\n${this.output}`,
            ),
          ),
        ms,
      );
      this.listeners.add(onChange);
      onChange();
    });
  }

  started(s: {
    ports: PortsFile;
    configFile: string | undefined;
    pidFile: string | undefined;
    storeDir: string | undefined;
  }): Launched {
    return {
      kind: this.kind,
      pid: this.pid,
      dir: this.dir,
      ...s,
      port: portOf(s.ports.nats?.[0]),
      url: s.ports.nats?.[0] ?? '',
      clusterPort: portOf(s.ports.cluster?.[0]),
      monitorUrl: s.ports.monitoring?.[0],
      websocketUrl: s.ports.websocket?.[0],
      exited: this.exited,
      log: () => this.log(),
      waitForLog: (pattern, timeoutMs) => this.waitForLog(pattern, timeoutMs),
      running: () => this.running(),
      kill: (signal) => this.kill(signal),
      stop: (signal) => this.stop(signal),
    };
  }
}

/** The ports file in `dir` once it is complete and lists every one of `listeners`. */
function readPorts(dir: string, listeners: readonly Listener[]): PortsFile | undefined {
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.ports')) continue;
    try {
      const ports = JSON.parse(readFileSync(join(dir, f), 'utf8')) as PortsFile;
      if (listeners.every((l) => portOf(ports[l]?.[0]) > 0)) return ports;
    } catch {
      // Created but not completely written yet: the next change event looks again.
    }
  }
  return undefined;
}

// ---- commands run to completion ------------------------------------------------------------------------

export interface RunResult {
  /** Exit code; null when a signal ended it (a timeout) or it could not be started. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout followed by stderr. */
  output: string;
}

/** Run `file args` to completion (killed after `timeoutMs` if given), with its output. */
export function runProcess(
  file: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(file, args, { env: opts.env, timeout: opts.timeoutMs ?? 0 }, (err, stdout, stderr) => {
      let code: number | null = 0;
      if (err !== null) {
        code = typeof err.code === 'number' ? err.code : null;
        // Not started at all (ENOENT...): say why.
        if (typeof err.code === 'string') stderr += err.message;
      }
      resolve({ code, stdout, stderr, output: stdout + stderr });
    });
  });
}

/** Run `bin/tsnats args` to completion (`-t`, `--signal`, `-v`...). */
export function runTsnats(args: readonly string[]): Promise<RunResult> {
  return runProcess(TSNATS_BIN, args);
}
