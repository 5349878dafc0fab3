/**
 * The read loop and batched output shared by every connection (nats-server's readLoop + flushClients):
 *
 * - One socket read is parsed in one go; every connection that got output from it (subscribers, routes,
 *   the publisher's own +OK) is queued once in the flush list and written once at the end of the read.
 *   Output queued outside a read (timers, deferred publishes) is flushed on the next setImmediate.
 * - A producer whose read left a consumer holding more than half of max_pending unsent pauses until that
 *   consumer drains, or 100 ms to 1 s (nats-server's stalledWait), instead of pushing it into slow-consumer
 *   cut-off.
 * - Every 250 ms, connections whose socket stayed blocked past write_deadline are slow consumers.
 * - An exception from the parser or a handler costs that one connection, never the server; it is logged
 *   and published on the `tsnats:connection-error` diagnostics channel (tests assert that none happened).
 */
import { channel } from 'node:diagnostics_channel';
import { ClosedReason } from './closed-reason.js';
import type { Connection } from './connection.js';
import type { Logger } from './logger.js';
import type { ServerOptions } from './options.js';
import { inSharedReadBuffer, READ_RELEASE_BYTES, releaseReadBuffers } from './read-buffers.js';

/** Diagnostics channel for internal errors that closed a connection: `{ connection, error }`. */
export const CONNECTION_ERROR_CHANNEL = 'tsnats:connection-error';
const connectionErrors = channel(CONNECTION_ERROR_CHANNEL);

/** What the connection-error channel publishes. */
export interface ConnectionErrorEvent {
  /** The connection's log prefix, e.g. "127.0.0.1:5555 - cid:3". */
  connection: string;
  error: unknown;
}

/** nats-server's stallClientMinDuration / stallClientMaxDuration. */
const STALL_MIN = 100;
const STALL_MAX = 1000;
/** How often the write-deadline sweep looks at blocked sockets. */
const SWEEP_INTERVAL = 250;
/** SUB/UNSUB handled per loop iteration, all client connections together (interestTurn). */
const INTEREST_OPS_PER_ITERATION = 512;

/**
 * How long a producer waits for a consumer holding `pending` of `max` bytes (nats-server's
 * stallDuration): 100 ms, growing with how far past half of max_pending it is, 1 s at max_pending.
 */
export function stallDuration(pending: number, max: number): number {
  if (pending >= max) return STALL_MAX;
  const half = max / 2;
  if (pending <= half) return STALL_MIN;
  const step = half / 10;
  return Math.min(STALL_MAX, STALL_MIN + STALL_MIN * Math.floor((pending - half) / step));
}

export class IoLoop {
  /** Connections with output queued in this batch; each is flushed once. */
  private flushList: Connection[] = [];
  private inRead = false;
  private flushScheduled = false;
  private readonly flushAllBound = (): void => {
    this.flushAll();
  };
  /** SUB/UNSUB counted in this loop iteration, and the connections waiting for the next. */
  private interestOps = 0;
  private interestWaiting: Connection[] = [];
  private interestTurnScheduled = false;
  private readonly nextInterestTurnBound = (): void => this.nextInterestTurn();
  /** Every live connection of every kind, for the write-deadline sweep. */
  private readonly live = new Set<Connection>();
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Bytes read since read buffers were last released (read-buffers.ts). */
  private unreleased = 0;

  constructor(
    private readonly options: ServerOptions,
    private readonly logger: Logger,
    /** Extra periodic housekeeping run with the sweep. */
    private readonly onSweep: (now: number) => void = () => {},
  ) {}

  start(): void {
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_INTERVAL);
    this.sweepTimer.unref();
  }

  stop(): void {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  track(c: Connection, live: boolean): void {
    if (live) this.live.add(c);
    else this.live.delete(c);
  }

  /** One socket read: parse it, then write every connection's output that the read produced, once each. */
  onRead(c: Connection, buf: Buffer): void {
    if (!inSharedReadBuffer(buf)) this.unreleased += buf.length;
    if (this.unreleased >= READ_RELEASE_BYTES) {
      this.unreleased = 0;
      releaseReadBuffers();
    }
    if (c.closed) return;
    c.last = Date.now();
    this.inRead = true;
    try {
      c.parser.parse(buf);
    } catch (error) {
      this.internalError(c, error);
    }
    this.inRead = false;
    const consumer = this.flushAll(true);
    if (consumer !== null && consumer !== c && c.stallable) this.stall(c, consumer);
  }

  /**
   * Whether `c` may change interest now: up to INTEREST_OPS_PER_ITERATION per loop iteration; past that
   * it waits, in arrival order, for the next iteration (its input is held by the connection).
   */
  interestTurn(c: Connection): boolean {
    if (!this.interestTurnScheduled) {
      this.interestTurnScheduled = true;
      setImmediate(this.nextInterestTurnBound);
    }
    if (++this.interestOps <= INTEREST_OPS_PER_ITERATION) return true;
    this.interestWaiting.push(c);
    return false;
  }

  /** A new iteration: a fresh share, the waiting connections go on in order (and may wait again). */
  private nextInterestTurn(): void {
    this.interestTurnScheduled = false;
    this.interestOps = 0;
    const waiting = this.interestWaiting;
    this.interestWaiting = [];
    for (const c of waiting) c.resumeTurn();
  }

  /** A bug must cost one connection, never the server: log it, publish it, close the connection. */
  internalError(c: Connection, error: unknown): void {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    this.logger.error(`${c} - Internal error processing input: ${text}`);
    if (connectionErrors.hasSubscribers) {
      connectionErrors.publish({ connection: String(c), error } satisfies ConnectionErrorEvent);
    }
    c.close(ClosedReason.ProtocolViolation);
  }

  /**
   * Pause reading from `producer` until `consumer` drains or the stall times out (nats-server's
   * stalledWait), so a fast publisher slows down instead of pushing a consumer into slow-consumer cut-off.
   */
  private stall(producer: Connection, consumer: Connection): void {
    if (producer.stalled || producer.closed) return;
    producer.stalled = true;
    producer.socket.pause();
    const resume = (): void => {
      if (!producer.stalled) return;
      producer.stalled = false;
      clearTimeout(timer);
      if (!producer.closed && !producer.parser.suspended) producer.socket.resume();
    };
    consumer.drainWaiters.push(resume);
    const timer = setTimeout(resume, stallDuration(consumer.sockPending, this.options.maxPending));
  }

  /** Mark a connection as having output to write at the end of this batch. */
  queueFlush(c: Connection): void {
    if (c.flushQueued) return;
    c.flushQueued = true;
    this.flushList.push(c);
    if (!this.inRead && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushAllBound);
    }
  }

  /**
   * Flush every connection with queued output, once each. With `findStalled`, returns the connection
   * left holding the most unsent bytes if that is over half of max_pending (a reason to stall the producer).
   */
  flushAll(findStalled = false): Connection | null {
    this.flushScheduled = false;
    const list = this.flushList;
    if (list.length === 0) return null;
    this.flushList = [];
    const half = this.options.maxPending / 2;
    let worst: Connection | null = null;
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      c.flush();
      if (
        findStalled &&
        c.sockPending > half &&
        !c.closed &&
        (worst === null || c.sockPending > worst.sockPending)
      ) {
        worst = c;
      }
    }
    return worst;
  }

  /** Close connections whose socket stayed blocked past write_deadline (slow consumers). */
  private sweep(): void {
    const deadline = this.options.writeDeadline;
    const now = Date.now();
    this.onSweep(now);
    for (const c of this.live) {
      if (c.blockedSince !== 0 && now - c.blockedSince > deadline) {
        c.slowConsumer(ClosedReason.SlowConsumerWriteDeadline);
      }
    }
  }
}
