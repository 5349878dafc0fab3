/**
 * The logger's file: one handle kept open across lines, reopened at the same path for log rotation
 * (SIGUSR1), switched when a reload names another file, closed at the end.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { Logger, type LoggerOptions } from '../../src/server/logger.js';
import { startServer, urlOf } from '../helpers/server.js';

const root = mkdtempSync(join(tmpdir(), 'tsnats-log-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const newDir = (): string => mkdtempSync(join(root, `d${++n}-`));

function options(logFile: string): LoggerOptions {
  return { debug: false, trace: false, logtime: true, logFile, noLog: false };
}

function lines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

/** `LVL message` of each line, without the pid and time. */
function entries(file: string): string[] {
  return lines(file).map((l) => l.replace(/^\[\d+\] (?:\S+ \S+ )?\[(\w+)\] /, '$1 '));
}

/** Run `fn` with process.stderr.write captured. */
function captureStderr(fn: () => void): string {
  const write = process.stderr.write;
  let out = '';
  process.stderr.write = ((chunk: string | Uint8Array): boolean => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = write;
  }
  return out;
}

describe('logger file', () => {
  test('lines keep going to the open file until reopen(); then to a new file at the original path', () => {
    const dir = newDir();
    const file = join(dir, 'tsnats.log');
    const log = new Logger(options(file));
    try {
      log.notice('one');
      log.warn('two');
      assert.deepEqual(entries(file), ['INF one', 'WRN two']);
      assert.match(
        lines(file)[0]!,
        new RegExp(`^\\[${process.pid}\\] \\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6} \\[INF\\] one$`),
      );
      // Rotation: the file is renamed; until reopen the open handle still writes into it.
      const rotated = join(dir, 'tsnats.log.1');
      renameSync(file, rotated);
      log.notice('three');
      assert.equal(existsSync(file), false, 'no file is opened per line');
      log.reopen();
      log.notice('four');
      log.error('five');
      assert.deepEqual(entries(rotated), ['INF one', 'WRN two', 'INF three']);
      assert.deepEqual(entries(file), ['INF File log re-opened', 'INF four', 'ERR five']);
    } finally {
      log.close();
    }
  });

  test('reopen() without a log file says so, as nats-server', () => {
    const log = new Logger({ ...options(''), logtime: false });
    const out = captureStderr(() => log.reopen());
    assert.equal(out, `[${process.pid}] [INF] File log re-open ignored, not a file logger\n`);
  });

  test('a reload naming another file moves the lines there; close() releases the file', () => {
    const dir = newDir();
    const a = join(dir, 'a.log');
    const b = join(dir, 'b.log');
    const opts = options(a);
    const log = new Logger(opts);
    log.notice('in a');
    // As reloadServer does: the options object is changed in place, then configure() is called.
    opts.logFile = b;
    log.configure(opts);
    log.notice('in b');
    log.close();
    log.close();
    assert.deepEqual(entries(a), ['INF in a']);
    // After close() a line opens the file again rather than being lost.
    log.notice('after close');
    log.close();
    assert.deepEqual(entries(b), ['INF in b', 'INF after close']);
  });

  test('a file that cannot be opened: lines go to stderr', () => {
    const dir = newDir();
    const log = new Logger({ ...options(join(dir, 'missing', 'x.log')), logtime: false });
    const out = captureStderr(() => log.notice('still here'));
    assert.equal(out, `[${process.pid}] [INF] still here\n`);
  });

  test("a running server's log rotates with logger.reopen()", async () => {
    const dir = newDir();
    const file = join(dir, 'server.log');
    const server = await startServer({ noLog: false, debug: true, logFile: file });
    try {
      assert.ok(lines(file).some((l) => l.endsWith('[INF] Server is ready')));
      renameSync(file, join(dir, 'server.log.1'));
      server.logger.reopen();
      const nc = await connect({ servers: urlOf(server), reconnect: false });
      await nc.close();
      const fresh = entries(file);
      assert.equal(fresh[0], 'INF File log re-opened');
      assert.ok(
        fresh.some((l) => /^DBG .* - Client connection created$/.test(l)),
        fresh.join('\n'),
      );
      assert.ok(statSync(join(dir, 'server.log.1')).size > 0);
    } finally {
      await server.shutdown();
      server.logger.close();
    }
  });
});
