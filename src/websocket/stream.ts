/**
 * A websocket as the byte stream the connection core reads and writes (a Duplex, like a TCP socket):
 * what the client sends arrives as the payload of its messages, one 'data' chunk per message; what the
 * server writes in one flush goes out as one binary message, as nats-server frames it. NATS is a byte
 * stream inside the frames: a message may hold several protocol messages or part of one, so nothing
 * here looks at the payload.
 *
 * Back-pressure works as on TCP: a write is done when the websocket has written its frame to the socket,
 * so `writableLength` counts what the peer has not taken yet (slow consumer and write deadline rules),
 * and reading stops (the websocket pauses its socket) while the connection does not read.
 *
 * Closing sends a close frame with the status nats-server uses for the reason (wsEnqueueCloseMessage).
 */
import { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { ClosedReason } from '../server/closed-reason.js';

/**
 * Browsers behave better with frames of at most this size (nats-server's wsFrameSizeForBrowsers): output
 * to a browser is cut into messages of this size when it is not compressed.
 */
const BROWSER_FRAME_SIZE = 4096;

/** RFC 6455 close status codes, as nats-server picks them. */
const CLOSE_NORMAL = 1000;
const CLOSE_GOING_AWAY = 1001;
const CLOSE_PROTOCOL_ERROR = 1002;
const CLOSE_POLICY_VIOLATION = 1008;
const CLOSE_MESSAGE_TOO_BIG = 1009;
const CLOSE_INTERNAL_ERROR = 1011;

/**
 * The close status for a reason (nats-server's wsEnqueueCloseMessage); 0 when nats-server would send
 * 1006 (abnormal closure) or 1015 (TLS failure), codes RFC 6455 reserves for connections that end
 * without a close frame: the connection is then cut without one.
 */
export function closeStatusFor(reason: ClosedReason): number {
  switch (reason) {
    case ClosedReason.ClientClosed:
      return CLOSE_NORMAL;
    case ClosedReason.AuthenticationTimeout:
    case ClosedReason.AuthenticationViolation:
    case ClosedReason.SlowConsumerPendingBytes:
    case ClosedReason.SlowConsumerWriteDeadline:
    case ClosedReason.MaxConnectionsExceeded:
    case ClosedReason.MaxControlLineExceeded:
    case ClosedReason.MaxSubscriptionsExceeded:
      return CLOSE_POLICY_VIOLATION;
    case ClosedReason.ParseError:
    case ClosedReason.ProtocolViolation:
    case ClosedReason.BadClientProtocolVersion:
      return CLOSE_PROTOCOL_ERROR;
    case ClosedReason.MaxPayloadExceeded:
      return CLOSE_MESSAGE_TOO_BIG;
    case ClosedReason.ServerShutdown:
      return CLOSE_GOING_AWAY;
    case ClosedReason.WriteError:
    case ClosedReason.ReadError:
    case ClosedReason.StaleConnection:
    case ClosedReason.TLSHandshakeError:
      return 0;
    default:
      return CLOSE_INTERNAL_ERROR;
  }
}

export class WebSocketStream extends Duplex {
  private closeStatus = CLOSE_NORMAL;
  private closeText = '';

  constructor(
    private readonly ws: WebSocket,
    /** Cut output into BROWSER_FRAME_SIZE messages (a browser, without compression). */
    private readonly browserFrames: boolean,
  ) {
    super({ allowHalfOpen: false });
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer) => {
      if (!this.push(data)) ws.pause();
    });
    ws.on('close', () => {
      this.push(null);
    });
    ws.on('error', (err) => this.destroy(err));
  }

  /** The status and text of the close frame the server sends when it ends the stream. */
  setCloseReason(reason: ClosedReason): void {
    this.closeStatus = closeStatusFor(reason);
    this.closeText = reason;
  }

  override _read(): void {
    if (this.ws.isPaused) this.ws.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.send(chunk, cb);
  }

  /** Writes queued while a frame was in flight go out together, as one message. */
  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    this.send(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), cb);
  }

  private send(data: Buffer, cb: (err?: Error | null) => void): void {
    const ws = this.ws;
    if (ws.readyState !== ws.OPEN) {
      cb(new Error('websocket is closed'));
      return;
    }
    if (!this.browserFrames || data.length <= BROWSER_FRAME_SIZE) {
      ws.send(data, { binary: true }, cb);
      return;
    }
    let off = 0;
    while (data.length - off > BROWSER_FRAME_SIZE) {
      ws.send(data.subarray(off, off + BROWSER_FRAME_SIZE), { binary: true });
      off += BROWSER_FRAME_SIZE;
    }
    ws.send(data.subarray(off), { binary: true }, cb);
  }

  /** The server ends the connection: a close frame after everything written (or a cut, see closeStatusFor). */
  override _final(cb: (err?: Error | null) => void): void {
    const ws = this.ws;
    if (this.closeStatus === 0) ws.terminate();
    else if (ws.readyState === ws.OPEN) ws.close(this.closeStatus, this.closeText);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.ws.readyState !== this.ws.CLOSED) this.ws.terminate();
    cb(err);
  }
}
