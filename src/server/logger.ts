import { appendFileSync } from 'node:fs';

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

export class Logger {
  debugEnabled: boolean;
  traceEnabled: boolean;
  private readonly prefix = `[${process.pid}] `;

  constructor(private opts: LoggerOptions) {
    this.debugEnabled = opts.debug && !opts.noLog;
    this.traceEnabled = opts.trace && !opts.noLog;
  }

  /** Apply new options (config reload, log file reopen). */
  configure(opts: LoggerOptions): void {
    this.opts = opts;
    this.debugEnabled = opts.debug && !opts.noLog;
    this.traceEnabled = opts.trace && !opts.noLog;
  }

  private write(level: string, msg: string): void {
    if (this.opts.noLog) return;
    const line = `${this.prefix}${this.opts.logtime ? `${timestamp(new Date())} ` : ''}[${level}] ${msg}\n`;
    if (this.opts.logFile) {
      try {
        appendFileSync(this.opts.logFile, line);
        return;
      } catch {
        // Fall through to stderr when the file cannot be written.
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
