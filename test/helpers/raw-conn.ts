/**
 * A raw TCP client for exact-bytes protocol tests: it speaks no NATS itself, it only sends what a test
 * gives it and collects every byte the server sends back. 127.0.0.1 only.
 *
 * Waiting is event driven: `expect` resolves on the read that completes the pattern, `drain` proves that
 * nothing else is pending by sending a PING and waiting for its PONG (a server processes a connection's
 * input in order), `readUntilClosed` resolves on the server's FIN/RST.
 */
import { connect as netConnect, type Socket } from 'node:net';

const DEFAULT_TIMEOUT = 2000;

export interface ClosedResult {
  /** Everything received (after the INFO line and what was already taken) up to the close or timeout. */
  text: string;
  bytes: Buffer;
  /** True when the server closed the connection, false when the timeout fired first. */
  closed: boolean;
}

export interface RawConn {
  /** The server's INFO, parsed. */
  info: Record<string, unknown>;
  /** The INFO line exactly as received, with its CRLF. */
  infoLine: string;
  socket: Socket;
  /** Write bytes as given (strings are sent as latin1 so that every char is one byte). */
  send(data: string | Buffer): void;
  /** Like send, resolving once the socket has handed the bytes to the kernel (or is closed). */
  sendAsync(data: string | Buffer): Promise<void>;
  /**
   * Wait until what was received and not yet taken contains `pattern` (a string) or matches it (a
   * RegExp). Returns the received text (latin1). `take` clears the buffer up to the end of the match.
   */
  expect(pattern: string | RegExp, opts?: { timeoutMs?: number; take?: boolean }): Promise<string>;
  /** Received and not yet taken, as latin1 text. */
  received(): string;
  /** Return and clear what was received so far. */
  take(): string;
  /**
   * Send PING, wait for its PONG and return (and clear) everything received before that PONG. Proves
   * that the server has nothing more to say about the input sent before. PINGs the test sent itself (any
   * line starting with `ping`, any case) are counted, so their PONGs are part of what is returned; a
   * payload line starting with "ping" would confuse the count.
   */
  drain(timeoutMs?: number): Promise<string>;
  /** Wait for the server to close; everything not yet taken is returned. */
  readUntilClosed(timeoutMs?: number): Promise<ClosedResult>;
  /** Resolves when the socket is closed (by either side). Never rejects. */
  closed: Promise<void>;
  isClosed(): boolean;
  /** The socket error, if any (ECONNRESET/EPIPE when the server reset the connection). */
  error(): Error | undefined;
  /** Destroy the socket (idempotent). */
  close(): void;
}

interface Waiter {
  check: () => boolean;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  onClose: boolean;
  what: () => string;
}

/** Show bytes readably in assertion messages. */
export function showBytes(s: string): string {
  return JSON.stringify(s);
}

/** Index of the `n`th (1-based) occurrence of `needle`, or -1. */
function nthIndexOf(haystack: string, needle: string, n: number): number {
  let at = -needle.length;
  for (let k = 0; k < n; k++) {
    at = haystack.indexOf(needle, at + needle.length);
    if (at < 0) return -1;
  }
  return at;
}

/** Open a raw connection to 127.0.0.1:`port` and wait for the server's INFO line. */
export function connect(port: number, opts: { timeoutMs?: number } = {}): Promise<RawConn> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT;
  const socket = netConnect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  let buf = '';
  /** Everything received after INFO, including what was taken, for drain's PONG accounting. */
  let total = '';
  let isClosed = false;
  let socketError: Error | undefined;
  const waiters = new Set<Waiter>();
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => {
    resolveClosed = r;
  });

  const settle = (): void => {
    for (const w of [...waiters]) {
      if (w.check()) {
        waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve();
      } else if (isClosed && !w.onClose) {
        waiters.delete(w);
        clearTimeout(w.timer);
        w.reject(
          new Error(
            `connection closed${socketError ? ` (${socketError.message})` : ''} while waiting for ${w.what()}; received ${showBytes(buf)}`,
          ),
        );
      }
    }
  };

  const waitUntil = (check: () => boolean, ms: number, what: () => string, onClose = false): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (check()) return resolve();
      if (isClosed && !onClose) {
        return reject(
          new Error(`connection already closed while waiting for ${what()}; received ${showBytes(buf)}`),
        );
      }
      const w: Waiter = {
        check,
        resolve,
        reject,
        onClose,
        what,
        timer: setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`timed out after ${ms}ms waiting for ${what()}; received ${showBytes(buf)}`));
        }, ms),
      };
      waiters.add(w);
    });

  // PING ops sent (at the start of a line, any case), so that drain knows which PONG is its own.
  let pingsSent = 0;
  let sentTail = '\n';
  const countPings = (text: string): void => {
    const s = sentTail + text;
    const re = /\nping/gi;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      if (m.index + 5 > sentTail.length) pingsSent++;
    }
    sentTail = s.slice(-5);
  };

  let gotInfo = false;
  let infoLine = '';
  let info: Record<string, unknown> = {};

  return new Promise<RawConn>((resolve, reject) => {
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    const infoTimer = setTimeout(
      () => fail(new Error(`no INFO within ${timeoutMs}ms; received ${showBytes(buf)}`)),
      timeoutMs,
    );

    socket.on('data', (chunk: Buffer) => {
      const s = chunk.toString('latin1');
      if (!gotInfo) {
        buf += s;
        const eol = buf.indexOf('\r\n');
        if (eol < 0) return;
        infoLine = buf.slice(0, eol + 2);
        buf = buf.slice(eol + 2);
        total = buf;
        gotInfo = true;
        clearTimeout(infoTimer);
        if (!infoLine.startsWith('INFO ')) {
          fail(new Error(`expected INFO, got ${showBytes(infoLine)}`));
          return;
        }
        try {
          info = JSON.parse(infoLine.slice(5).trim()) as Record<string, unknown>;
        } catch (e) {
          fail(new Error(`INFO is not JSON (${(e as Error).message}): ${showBytes(infoLine)}`));
          return;
        }
        resolve(conn);
      } else {
        buf += s;
        total += s;
      }
      settle();
    });
    socket.on('error', (err) => {
      socketError = err;
    });
    socket.on('close', () => {
      isClosed = true;
      resolveClosed();
      if (!gotInfo) {
        clearTimeout(infoTimer);
        reject(
          new Error(
            `closed before INFO${socketError ? ` (${socketError.message})` : ''}; received ${showBytes(buf)}`,
          ),
        );
        return;
      }
      settle();
    });

    const conn: RawConn = {
      get info() {
        return info;
      },
      get infoLine() {
        return infoLine;
      },
      socket,
      send(data) {
        // After the server's FIN a write would only provoke an RST (and Node then drops unread input).
        if (isClosed || socket.destroyed || socket.readableEnded) return;
        const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
        countPings(b.toString('latin1'));
        socket.write(b);
      },
      sendAsync(data) {
        if (isClosed || socket.destroyed || socket.readableEnded) return Promise.resolve();
        const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
        countPings(b.toString('latin1'));
        return new Promise<void>((r) => {
          socket.write(b, () => r());
        });
      },
      async expect(pattern, o = {}) {
        const ms = o.timeoutMs ?? DEFAULT_TIMEOUT;
        let end = -1;
        const check = (): boolean => {
          if (typeof pattern === 'string') {
            const at = buf.indexOf(pattern);
            if (at >= 0) end = at + pattern.length;
          } else {
            const m = pattern.exec(buf);
            if (m) end = m.index + m[0].length;
          }
          return end >= 0;
        };
        await waitUntil(check, ms, () =>
          typeof pattern === 'string' ? showBytes(pattern) : String(pattern),
        );
        const text = buf;
        if (o.take) buf = buf.slice(end);
        return text;
      },
      received() {
        return buf;
      },
      take() {
        const t = buf;
        buf = '';
        return t;
      },
      async drain(ms = DEFAULT_TIMEOUT) {
        conn.send('PING\r\n');
        // Every PING sent so far is answered in order: ours is the last PONG to come.
        const want = pingsSent;
        let pongAt = -1;
        await waitUntil(
          () => {
            pongAt = nthIndexOf(total, 'PONG\r\n', want);
            return pongAt >= 0;
          },
          ms,
          () => `the PONG of a drain PING (PONG #${want})`,
        );
        // `buf` is the tail of `total` not yet taken.
        const inBuf = pongAt - (total.length - buf.length);
        const out = buf.slice(0, Math.max(0, inBuf));
        buf = buf.slice(inBuf + 6);
        return out;
      },
      async readUntilClosed(ms = DEFAULT_TIMEOUT) {
        let closedInTime = true;
        try {
          await waitUntil(
            () => isClosed,
            ms,
            () => 'the server to close',
            true,
          );
        } catch {
          closedInTime = false;
        }
        const text = conn.take();
        return { text, bytes: Buffer.from(text, 'latin1'), closed: closedInTime };
      },
      closed,
      isClosed() {
        return isClosed;
      },
      error() {
        return socketError;
      },
      close() {
        socket.destroy();
      },
    };
  });
}
