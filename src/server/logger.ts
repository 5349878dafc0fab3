import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * Logging in nats-server's format: `[pid] 2026/11/28 17:17:44.616985 [INF] message`.
 * Levels: INF, WRN, ERR, FTL always; DBG with -D; TRC with -V.
 */
export interface LoggerOptions {
  debug: boolean;
  trace: boolean;
  logtime: boolean;
  logFile: string;
  noLog: boolean;
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

function timestamp(d: Date): string {
  // Microseconds like Go's log.Lmicroseconds; JS has milliseconds, so the last three digits are 000.
  return (
    `${d.getFullYear()}/${pad(d.getMonth() + 1, 2)}/${pad(d.getDate(), 2)} ` +
    `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}.${pad(d.getMilliseconds(), 3)}000`
  );
}

/**
 * Writes to stderr, or to `logFile` through one handle kept open (reopen() for rotation, close() at the
 * end). Every line is written synchronously, so nothing logged is lost if the process dies.
 */
export class Logger {
  debugEnabled: boolean;
  traceEnabled: boolean;
  private readonly prefix = `[${process.pid}] `;
  /** The open log file (opened on the first line for it), and its path. */
  private fd: number | undefined;
  private fdPath = '';

  constructor(private opts: LoggerOptions) {
    this.debugEnabled = opts.debug && !opts.noLog;
    this.traceEnabled = opts.trace && !opts.noLog;
  }

  /**
   * Apply new options (config reload). A different `logFile` is opened at the next line; the old file is
   * closed then.
   */
  configure(opts: LoggerOptions): void {
    this.opts = opts;
    this.debugEnabled = opts.debug && !opts.noLog;
    this.traceEnabled = opts.trace && !opts.noLog;
  }

  /**
   * Close the log file and open its path again (SIGUSR1, for log rotation: after the file was renamed,
   * the next lines go to a new file at the configured path). Logs as nats-server's ReOpenLogFile does.
   */
  reopen(): void {
    if (!this.opts.logFile) {
      this.notice('File log re-open ignored, not a file logger');
      return;
    }
    this.close();
    this.notice('File log re-opened');
  }

  /** Close the log file (shutdown). A line logged afterwards opens it again. */
  close(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    this.fdPath = '';
    try {
      closeSync(fd);
    } catch {
      // Already unusable: nothing more to release.
    }
  }

  /** The log file's descriptor, opened when needed (append, mode 0660, as nats-server); undefined if it can't be. */
  private file(path: string): number | undefined {
    if (this.fd !== undefined && this.fdPath === path) return this.fd;
    this.close();
    try {
      this.fd = openSync(path, 'a', 0o660);
      this.fdPath = path;
    } catch {
      return undefined;
    }
    return this.fd;
  }

  private write(level: string, msg: string): void {
    if (this.opts.noLog) return;
    const line = `${this.prefix}${this.opts.logtime ? `${timestamp(new Date())} ` : ''}[${level}] ${msg}\n`;
    if (this.opts.logFile) {
      const fd = this.file(this.opts.logFile);
      if (fd !== undefined) {
        try {
          const buf = Buffer.from(line);
          let off = 0;
          while (off < buf.length) {
            const n = writeSync(fd, buf, off);
            if (n <= 0) throw new Error('log file write made no progress');
            off += n;
          }
          return;
        } catch {
          // Fall through to stderr when the file cannot be written (and open it again next time).
          this.close();
        }
      }
    }
    process.stderr.write(line);
  }

  notice(msg: string): void {
    this.write('INF', msg);
  }
  warn(msg: string): void {
    this.write('WRN', msg);
  }
  error(msg: string): void {
    this.write('ERR', msg);
  }
  fatal(msg: string): void {
    this.write('FTL', msg);
  }
  debug(msg: string): void {
    if (this.debugEnabled) this.write('DBG', msg);
  }
  trace(msg: string): void {
    if (this.traceEnabled) this.write('TRC', msg);
  }
}
