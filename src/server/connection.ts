/**
 * The connection core: everything a connection does whatever its kind (client, route, and later leaf
 * node or websocket), as nats-server's `client` struct does for all of its kinds:
 *
 *   read       socket 'data' goes to the host's read loop (io.ts), which runs the parser over it; the parser
 *              calls this object back (ParserSink) op by op.
 *   output     protocol lines and messages are encoded into `out` and written once per read batch (the
 *              host's flush list); a socket holding more than max_pending, or blocked past
 *              write_deadline, makes the connection a slow consumer; producers stalled on it wait in
 *              `drainWaiters` until it drains.
 *   keepalive  PING/PONG with RTT, the first PING early, stale detection (nats-server's processPingTimer).
 *   close      one path: flush what explains the close (an -ERR), end or destroy the socket, release
 *              stalled producers, then the kind's own clean-up (`onClosed`).
 *
 * A kind extends this class with its handshake (CONNECT/INFO), interest (SUB or RS+) and messages
 * (PUB or RMSG). The hot path (onMsg and delivery) stays in the kind; nothing here switches on the kind.
 */
import type { Duplex } from 'node:stream';
import { Outbound } from '../protocol/outbound.js';
import {
  ConnKind,
  ERR_MAX_CONTROL_LINE,
  type MsgArgs,
  Parser,
  type ParserSink,
  type SubOp,
} from '../protocol/parser.js';
import { isLatin1 } from '../routing/subject-text.js';
import { ClosedReason } from './closed-reason.js';
import type { Logger } from './logger.js';
import type { ServerOptions } from './options.js';
import { passOutputBarrier } from './output-barrier.js';
import { useSharedReadBuffer } from './read-buffers.js';
import type { ServerStats } from './stats.js';

/** What a connection needs from the server that owns it. */

export interface ConnectionHost {
  readonly options: ServerOptions;
  readonly logger: Logger;
  readonly stats: ServerStats;
  /** Parse one socket read and flush what it produced (io.ts). */
  onRead(c: Connection, buf: Buffer): void;
  /** Write `c`'s output at the end of the current batch. */
  queueFlush(c: Connection): void;
  /** Track a live connection (write-deadline sweep) until it closes. */
  track(c: Connection, live: boolean): void;
  /**
   * A SUB or UNSUB of `c`: false when this loop iteration's share of interest changes is used up, and `c`
   * must hold its input until `resumeTurn` (io.ts).
   */
  interestTurn(c: Connection): boolean;
}

/** nats-server's DEFAULT_RTT_MEASUREMENT_INTERVAL: a PING goes out at least this often to refresh RTT. */
const RTT_MEASUREMENT_INTERVAL = 60 * 60 * 1000;
/** How long a closing socket may wait for the peer to close its side before it is destroyed. */
const CLOSE_LINGER = 1000;

const PING = Buffer.from('PING\r\n');
const PONG = Buffer.from('PONG\r\n');

export abstract class Connection implements ParserSink {
  readonly parser: Parser;
  readonly out = new Outbound();
  readonly start = new Date();
  /** performance.now() at creation (the RTT estimate at CONNECT). */
  protected readonly startHr = performance.now();
  /** Time of the last inbound activity (ping timer, /connz `last_activity`). */
  last = Date.now();
  closed = false;
  closeReason: ClosedReason | '' = '';
  /** When the connection closed (closed clients stay listed in /connz?state=closed). */
  stop: Date | undefined;
  /** Queued for the host's end-of-batch flush. */
  flushQueued = false;
  /** Bytes the socket has not yet written, as of the last flush or drain. */
  sockPending = 0;
  /** When the socket last refused more (write returned false); 0 while it drains freely. */
  blockedSince = 0;
  /** Reading is paused until a slow consumer drains (io.ts stall). */
  stalled = false;
  /** Producers stalled until this connection drains. */
  drainWaiters: (() => void)[] = [];
  /** Bytes that were still queued when the connection closed (/connz of closed connections). */
  pendingAtClose = 0;
  /** Counters, as /connz and /routez report them. */
  inMsgs = 0;
  inBytes = 0;
  outMsgs = 0;
  outBytes = 0;
  /** Round-trip time of the last PING, ms with sub-millisecond resolution (0 until measured). */
  rtt = 0;
  pingsOut = 0;
  /** Date.now() of the last RTT PING (its age decides when RTT is refreshed). */
  private rttStart = 0;
  /** performance.now() of the PING whose PONG is awaited for RTT; 0 when none is. */
  private rttStartHr = 0;
  /** Date.now() of the last PING the peer sent: it proves the peer alive as well as its traffic does. */
  private lastPingIn = 0;
  private pingTimer: NodeJS.Timeout | undefined;
  private authTimer: NodeJS.Timeout | undefined;

  /** Log name of the kind, as nats-server's kindString: "Client", "Router". */
  protected abstract readonly kindName: string;
  /** How the kind's -ERR from the peer is logged: "Client Error", "Route Error" (processErr). */
  protected abstract readonly errName: string;
  /** Upper bound of the first PING's delay (nats-server: 2s for clients, 1s for the other kinds). */
  protected abstract readonly firstPingInterval: number;
  /**
   * Whether this connection's reads pause while a consumer it fed drains (nats-server stalls producers
   * that are clients).
   */
  abstract readonly stallable: boolean;

  constructor(
    protected readonly ctx: ConnectionHost,
    public socket: Duplex,
    kind: ConnKind,
    /** Remote address of the connection. */
    readonly host: string,
    readonly port: number,
  ) {
    this.parser = new Parser(this, kind, ctx.options.maxControlLine);
  }

  // ---- socket -------------------------------------------------------------------------------------------

  /** Start reading: wire the socket's events to the read loop, the drain and the close path. */
  protected wire(): void {
    const s = this.socket;
    const ctx = this.ctx;
    const onRead = (buf: Buffer): void => ctx.onRead(this, buf);
    if (!useSharedReadBuffer(s, onRead)) s.on('data', onRead);
    s.on('drain', () => this.onDrain());
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (this.closed) return;
      ctx.logger.debug(`${this} - ${this.kindName} connection error: ${err.message}`);
      this.close(
        err.code === 'EPIPE' || err.code === 'ECONNRESET'
          ? ClosedReason.ClientClosed
          : ClosedReason.ReadError,
      );
    });
    s.on('end', () => this.close(ClosedReason.ClientClosed));
    s.on('close', () => this.close(ClosedReason.ClientClosed));
    ctx.track(this, true);
  }

  /** The socket took everything: release producers waiting on it. */
  private onDrain(): void {
    this.sockPending = this.socket.writableLength;
    this.blockedSince = 0;
    this.releaseWaiters();
  }

  private releaseWaiters(): void {
    const waiters = this.drainWaiters;
    if (waiters.length === 0) return;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * Hold the rest of the input (the parser keeps it) while a check that takes time runs, such as a bcrypt
   * comparison: nothing else waits for it.
   */
  protected suspendInput(): void {
    this.parser.suspended = true;
    this.socket.pause();
  }

  /** Carry on with the input held back by suspendInput. */
  protected resumeInput(): void {
    if (this.closed) return;
    this.ctx.onRead(this, this.parser.resume());
    if (!this.closed && !this.stalled && !this.parser.suspended) this.socket.resume();
  }

  /**
   * A SUB or UNSUB. Interest changes cost far more than messages (the sublist, its cache, every route and
   * leaf), so each loop iteration takes only so many of them (io.ts): a connection over the share holds the
   * rest of its input until the next iteration, after everyone else's reads. A subscription storm then
   * costs the stormers, not the other clients (nats-server gets that from a goroutine per connection).
   */
  protected countInterestOp(): void {
    if (!this.parser.suspended && !this.ctx.interestTurn(this)) this.suspendInput();
  }

  /** The next iteration: carry on with the input held by countInterestOp. */
  resumeTurn(): void {
    if (this.closed || !this.parser.suspended) return;
    this.resumeInput();
  }

  // ---- output -------------------------------------------------------------------------------------------

  /** Queue bytes (flushed with the batch). */
  protected enqueue(b: Buffer): void {
    if (this.closed) return;
    this.out.bytes(b);
    this.ctx.queueFlush(this);
  }

  /**
   * Queue a protocol line such as RS+ (flushed with the batch). Latin-1: subjects and other wire
   * arguments are held as one character per byte, so this writes back the bytes that were read.
   */
  enqueueProto(line: string): void {
    if (this.closed) return;
    this.out.latin1(line);
    this.ctx.queueFlush(this);
  }

  /** Queue an INFO line: JSON text in UTF-8. */
  sendInfo(line: string): void {
    if (this.closed) return;
    this.out.utf8(line);
    this.ctx.queueFlush(this);
  }

  /** `-ERR '<err>'` (nats-server's sendErr; traced as `->> [-ERR <err>]`). */
  sendErr(err: string): void {
    if (this.closed) return;
    this.traceOut(`-ERR ${err}`);
    // Errors quote subjects in wire form (one char per byte): written back as the bytes they were. Text
    // beyond latin-1 (no error of ours has any) goes as UTF-8.
    const line = `-ERR '${err}'\r\n`;
    if (isLatin1(line)) this.out.latin1(line);
    else this.out.utf8(line);
    this.ctx.queueFlush(this);
  }

  /**
   * Queue one RMSG/LMSG (HMSG with headers) for a route or leaf peer (`account` null: leaf, no account); a
   * peer without header support gets the payload only; past max_pending the peer is a slow consumer.
   */
  protected queueRemoteMsg(
    peerHeaders: boolean,
    account: string | null,
    subject: string,
    reply: string,
    queues: string[] | null,
    hdr: number,
    buf: Buffer,
    start: number,
    size: number,
  ): void {
    let withHdr = hdr > 0;
    if (withHdr && !peerHeaders) {
      start += hdr;
      size -= hdr;
      withHdr = false;
    }
    const out = this.out;
    const lineStart = out.remoteMsg(account, subject, reply, queues, withHdr ? hdr : -1, buf, start, size);
    if (this.ctx.logger.traceEnabled) {
      this.ctx.logger.trace(`${this} - ->> [${out.buf.latin1Slice(lineStart, out.len - size - 4)}]`);
    }
    this.outMsgs++;
    this.outBytes += size;
    if (!this.flushQueued) this.ctx.queueFlush(this);
    if (out.len + this.sockPending > this.ctx.options.maxPending) {
      this.slowConsumer(ClosedReason.SlowConsumerPendingBytes);
    }
  }

  /** Write what is queued in one socket write; a socket holding more than max_pending is a slow consumer. */
  flush(): void {
    this.flushQueued = false;
    if (this.out.len === 0 || this.closed) return;
    passOutputBarrier();
    const s = this.socket;
    const ok = s.write(this.out.take());
    const pending = s.writableLength;
    this.sockPending = pending;
    this.out.release(pending === 0);
    if (!ok && this.blockedSince === 0) this.blockedSince = Date.now();
    if (pending > this.ctx.options.maxPending) this.slowConsumer(ClosedReason.SlowConsumerPendingBytes);
  }

  /** Cut off a peer that cannot keep up (pending bytes or write deadline) without slowing anyone else. */
  slowConsumer(reason: ClosedReason): void {
    if (this.closed) return;
    const ctx = this.ctx;
    ctx.stats.slowConsumers++;
    const byKind = ctx.stats.slowConsumersByKind;
    const kind = this.parser.kind;
    if (kind === ConnKind.ROUTER) byKind.routes++;
    else if (kind === ConnKind.LEAF) byKind.leafs++;
    else byKind.clients++;
    const pending = this.out.len + this.socket.writableLength;
    const what = reason === ClosedReason.SlowConsumerWriteDeadline ? 'Write Deadline' : 'Pending Bytes';
    ctx.logger.notice(`${this} - Slow Consumer Detected: ${what} of ${pending} bytes`);
    this.pendingAtClose = pending;
    this.out.len = 0;
    this.close(reason);
  }

  // ---- tracing ------------------------------------------------------------------------------------------

  protected traceIn(op: string): void {
    const log = this.ctx.logger;
    if (log.traceEnabled) log.trace(`${this} - <<- [${op}]`);
  }

  protected traceOut(op: string): void {
    const log = this.ctx.logger;
    if (log.traceEnabled) log.trace(`${this} - ->> [${op}]`);
  }

  // ---- ParserSink: what every kind answers the same way -------------------------------------------------

  abstract onMsgArgs(pa: MsgArgs): boolean;
  abstract onMsg(pa: MsgArgs, buf: Buffer, start: number): void;
  abstract onConnect(arg: string): boolean;
  abstract onInfo(arg: string): boolean;
  abstract onSub(op: SubOp, args: string[]): boolean;
  abstract onUnsub(op: SubOp, args: string[]): boolean;

  onPing(): void {
    this.traceIn('PING');
    this.lastPingIn = Date.now();
    this.enqueue(PONG);
  }

  onPong(): void {
    this.traceIn('PONG');
    this.pingsOut = 0;
    if (this.rttStartHr > 0) {
      // nats-server's computeRTT: never 0 once measured (loopback RTTs are sub-millisecond).
      this.rtt = Math.max(performance.now() - this.rttStartHr, 0.001);
      this.rttStartHr = 0;
    }
  }

  onOk(): void {}

  /** The peer sent -ERR: nats-server logs it and closes the connection (processErr). */
  onErr(arg: string): void {
    this.ctx.logger.error(`${this} - ${this.errName} ${arg}`);
    this.close(ClosedReason.ParseError);
  }

  onParseError(err: string, detail: string): void {
    if (err !== '') this.sendErr(err);
    this.ctx.logger.error(`${this} - ${this.kindName} ${detail}`);
    this.close(
      err === ERR_MAX_CONTROL_LINE ? ClosedReason.MaxControlLineExceeded : ClosedReason.ProtocolViolation,
    );
  }

  onAuthRequiredViolation(): void {
    this.authFailed('');
  }

  /** Failed authentication: log it (with the user when known), `-ERR 'Authorization Violation'`, close. */
  protected authFailed(user: string): void {
    this.ctx.logger.error(`${this} - authentication error${user !== '' ? ` - User "${user}"` : ''}`);
    this.sendErr('Authorization Violation');
    this.close(ClosedReason.AuthenticationViolation);
  }

  /** Close for a protocol error seen by the kind (a malformed argument list): log `detail`, close. */
  protected protocolError(detail: string): false {
    this.ctx.logger.error(`${this} - ${detail}`);
    this.close(ClosedReason.ProtocolViolation);
    return false;
  }

  // ---- timers -------------------------------------------------------------------------------------------

  /** Give the peer `ms` to authenticate; CONNECT must arrive first. */
  protected startAuthTimer(ms: number): void {
    this.parser.awaitingAuth = true;
    this.authTimer = setTimeout(() => this.authTimeout(), ms);
    this.authTimer.unref();
  }

  protected clearAuthTimer(): void {
    if (this.authTimer !== undefined) clearTimeout(this.authTimer);
    this.authTimer = undefined;
  }

  private authTimeout(): void {
    this.authTimer = undefined;
    if (this.closed) return;
    this.ctx.logger.debug(`${this} - Authentication Timeout`);
    this.sendErr('Authentication Timeout');
    this.close(ClosedReason.AuthenticationTimeout);
  }

  /**
   * Close the connection when its credentials expire at `at` (ms since the epoch): a user JWT's `exp`
   * (nats-server's setExpiration / authExpired). Long waits are re-armed, as timers stop at 2^31-1 ms.
   */
  protected startExpiryTimer(at: number): void {
    this.clearAuthTimer();
    const left = at - Date.now();
    if (left <= 0) {
      this.authExpired();
      return;
    }
    this.authTimer = setTimeout(() => this.startExpiryTimer(at), Math.min(left, 2 ** 31 - 1));
    this.authTimer.unref();
  }

  private authExpired(): void {
    this.authTimer = undefined;
    if (this.closed) return;
    this.ctx.logger.debug(`${this} - User Authentication Expired`);
    this.sendErr('User Authentication Expired');
    this.close(ClosedReason.AuthenticationExpired);
  }

  /** The first PING goes out early (plus up to 20% jitter) to learn the RTT (setFirstPingTimer). */
  protected setFirstPingTimer(): void {
    const interval = this.ctx.options.pingInterval;
    if (interval <= 0) return;
    const d = Math.min(interval, this.firstPingInterval);
    this.setPingTimer(d + Math.floor(Math.random() * (d / 5)));
  }

  private setPingTimer(delay: number): void {
    if (delay <= 0 || this.closed) return;
    this.pingTimer = setTimeout(() => this.pingTimerFired(), delay);
    this.pingTimer.unref();
  }

  /**
   * nats-server's processPingTimer: no PING while the peer shows it is alive (traffic or its own PINGs
   * within the interval) and the RTT is fresh; a PING beyond ping_max unanswered means a stale connection.
   */
  private pingTimerFired(): void {
    this.pingTimer = undefined;
    if (this.closed) return;
    const o = this.ctx.options;
    const now = Date.now();
    const needRtt = this.rtt === 0 || now - this.rttStart > RTT_MEASUREMENT_INTERVAL;
    const active = now - this.last < o.pingInterval || now - this.lastPingIn < o.pingInterval;
    if (needRtt || !active) {
      if (this.pingsOut + 1 > o.pingMax) {
        this.ctx.logger.debug(`${this} - Stale Client Connection - Closing`);
        this.sendErr('Stale Connection');
        this.close(ClosedReason.StaleConnection);
        return;
      }
      this.sendPing();
    }
    this.setPingTimer(o.pingInterval);
  }

  private sendPing(): void {
    this.pingsOut++;
    this.rttStart = Date.now();
    this.rttStartHr = performance.now();
    this.traceOut('PING');
    this.enqueue(PING);
  }

  /** Measure RTT now (monitoring asks when a connection has none yet, as nats-server's /connz does). */
  sendRttPing(): void {
    if (this.closed || this.rttStartHr > 0) return;
    this.sendPing();
  }

  // ---- close --------------------------------------------------------------------------------------------

  /**
   * Close the connection: flush what is queued (the -ERR that explains the close), end the socket (destroy
   * it for a slow consumer), release stalled producers, then the kind's clean-up. Idempotent.
   */
  close(reason: ClosedReason): void {
    if (this.closed) return;
    const s = this.socket;
    if (this.out.len > 0 && !s.destroyed) {
      passOutputBarrier();
      s.write(this.out.take());
    }
    this.closed = true;
    this.closeReason = reason;
    this.stop = new Date();
    if (this.pingTimer !== undefined) clearTimeout(this.pingTimer);
    this.clearAuthTimer();
    if (
      reason === ClosedReason.SlowConsumerPendingBytes ||
      reason === ClosedReason.SlowConsumerWriteDeadline
    ) {
      s.destroy();
    } else {
      s.end();
      // Read (and drop) until the peer closes its side, so that a paused socket can finish closing; do
      // not wait forever for a peer that never closes.
      s.resume();
      setTimeout(() => s.destroy(), CLOSE_LINGER).unref();
    }
    this.releaseWaiters();
    if (this.pendingAtClose === 0) this.pendingAtClose = this.out.len + (s.destroyed ? 0 : s.writableLength);
    this.out.discard();
    this.ctx.track(this, false);
    this.onClosed(reason);
  }

  /** The kind's clean-up after the socket is closed: drop its interest, unregister. */
  protected abstract onClosed(reason: ClosedReason): void;

  /** "127.0.0.1:54321 - cid:5": the prefix nats-server puts on the connection's log lines. */
  abstract toString(): string;
}
