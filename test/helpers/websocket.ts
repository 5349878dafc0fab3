/**
 * Websocket clients for tests: the real NATS client over websocket (`wsconnect` of @nats-io/nats-core,
 * given the `ws` package's WebSocket, since Node 20 has none built in), and a raw websocket that sees
 * each frame the server sends, for exact bytes.
 */
import { type ConnectionOptions, type NatsConnection, wsconnect } from '@nats-io/nats-core';
import WebSocket, { type ClientOptions } from 'ws';
import { deferred, within } from './async.js';

export interface WsConnectOptions extends ConnectionOptions {
  /** Options of the `ws` WebSocket (e.g. `perMessageDeflate`, `headers`). */
  ws?: ClientOptions;
  /** Called with each WebSocket the client opens (to look at the negotiated extensions). */
  onSocket?: (ws: WebSocket) => void;
}

/** Connect the real NATS client over websocket to `url` (`ws://host:port`). */
export function wsConnect(url: string, opts: WsConnectOptions = {}): Promise<NatsConnection> {
  const { ws: wsOptions, onSocket, ...rest } = opts;
  return wsconnect({
    servers: url,
    reconnect: false,
    ...rest,
    wsFactory: (u: string) => {
      const socket = new WebSocket(u, { perMessageDeflate: false, ...wsOptions });
      onSocket?.(socket);
      // The client drives the socket through the W3C API, which `ws` implements.
      return Promise.resolve({ socket: socket as unknown as globalThis.WebSocket, encrypted: false });
    },
  } as ConnectionOptions);
}

/** A frame the server sent. */
export interface Frame {
  data: Buffer;
  binary: boolean;
}

/** A raw websocket to the server: every message it receives is kept, in order. */
export class RawWs {
  readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  closeCode = 0;
  closeReason = '';
  readonly closed = deferred<void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, binary: boolean) => {
      this.frames.push({ data, binary });
      this.wake();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.closed.resolve();
      this.wake();
    });
  }

  static async open(url: string, opts: ClientOptions = {}): Promise<RawWs> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...opts });
    const raw = new RawWs(ws);
    const opened = deferred<void>();
    ws.once('open', () => opened.resolve());
    ws.once('error', (e) => opened.reject(e));
    await within(opened.promise, 5000, 'the websocket to open');
    return raw;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Everything received so far, as text. */
  text(): string {
    return Buffer.concat(this.frames.map((f) => f.data)).toString('latin1');
  }

  /** Resolve once the text received contains `s`. */
  async waitFor(s: string, ms = 5000): Promise<string> {
    const p = new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.text().includes(s)) resolve();
        else if (this.closeCode !== 0)
          reject(new Error(`closed (${this.closeCode}) before ${JSON.stringify(s)}`));
        else this.waiters.push(check);
      };
      check();
    });
    await within(p, ms, `${JSON.stringify(s)} from the server; got ${JSON.stringify(this.text())}`);
    return this.text();
  }

  send(data: string | Buffer, binary = true): void {
    this.ws.send(data, { binary });
  }

  close(): void {
    this.ws.terminate();
  }
}
