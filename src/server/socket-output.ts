import type { Socket } from 'node:net';
import type { Outbound } from '../protocol/outbound.js';
import { ClosedReason } from './closed-reason.js';

/** What writing a connection's output needs: shared by clients and routes. */
export interface OutputTarget {
  readonly out: Outbound;
  socket: Socket;
  closed: boolean;
  flushQueued: boolean;
  /** Bytes the socket has not yet written, as of the last flush or drain. */
  sockPending: number;
  /** When the socket last refused more (write returned false); 0 while it drains freely. */
  blockedSince: number;
  /** Producers stalled until this connection drains (see Server.stall). */
  drainWaiters: (() => void)[];
  slowConsumer(reason: ClosedReason): void;
}

/** What wiring a socket needs: the read path, the output state and how to close. */
export interface SocketOwner extends OutputTarget {
  close(reason: ClosedReason): void;
}

/**
 * Wire a connection's socket: reads go to `onData`, 'drain' releases the output, errors and the peer's
 * close end the connection (`kind` names it in the debug log: "Client", "Router").
 */
export function wireSocket(
  t: SocketOwner,
  kind: string,
  onData: (buf: Buffer) => void,
  debug: (msg: string) => void,
): void {
  const s = t.socket;
  s.setNoDelay(true);
  s.on('data', onData);
  s.on('drain', () => onDrain(t));
  s.on('error', (err: NodeJS.ErrnoException) => {
    if (t.closed) return;
    debug(`${t} - ${kind} connection error: ${err.message}`);
    t.close(
      err.code === 'EPIPE' || err.code === 'ECONNRESET' ? ClosedReason.ClientClosed : ClosedReason.ReadError,
    );
  });
  s.on('end', () => t.close(ClosedReason.ClientClosed));
  s.on('close', () => t.close(ClosedReason.ClientClosed));
}

/** Write what is queued in one socket write; a socket holding more than `maxPending` is a slow consumer. */
export function flushOutput(t: OutputTarget, maxPending: number): void {
  t.flushQueued = false;
  if (t.out.len === 0 || t.closed) return;
  const s = t.socket;
  const ok = s.write(t.out.take());
  const pending = s.writableLength;
  t.sockPending = pending;
  t.out.release(pending === 0);
  if (!ok && t.blockedSince === 0) t.blockedSince = Date.now();
  if (pending > maxPending) t.slowConsumer(ClosedReason.SlowConsumerPendingBytes);
}

/** The socket's 'drain': it took everything; release producers waiting on it. */
export function onDrain(t: OutputTarget): void {
  t.sockPending = t.socket.writableLength;
  t.blockedSince = 0;
  releaseWaiters(t);
}

export function releaseWaiters(t: OutputTarget): void {
  const waiters = t.drainWaiters;
  if (waiters.length === 0) return;
  t.drainWaiters = [];
  for (const w of waiters) w();
}

/** nats-server's stallClientMinDuration / stallClientMaxDuration. */
const STALL_MIN = 100;
const STALL_MAX = 1000;

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
