/**
 * Socket read buffers: one reused buffer for plain TCP connections, and for the others (TLS, websocket)
 * read buffers given back while the input flows.
 *
 * Node hands every socket read to JavaScript in a fresh buffer (up to 64 KiB, allocated outside the V8
 * heap), which is freed only when a garbage collection finds its Buffer object dead. A publisher that
 * makes little garbage (the publish path allocates almost nothing per message) triggers no collection,
 * so V8 lets up to its external-memory limit (64 MiB) of dead read buffers pile up first: on a fresh
 * process every one of them is new memory that the kernel maps in page by page. Measured on a fresh server,
 * the first 1,000,000 16-byte PUBs (30 MB of input) took ~9,500 page faults and ~80 ms of kernel time
 * (BENCHMARKS.md, issue 12, third round). nats-server reads into one reused buffer.
 *
 * **Plain TCP sockets read into one shared buffer** (`useSharedReadBuffer`), as nats-server does, through
 * the mechanism behind net.Socket's `onread` option: Node then calls us with the bytes in that buffer
 * instead of allocating one per read. The option exists only for sockets we create, so it is applied to an
 * accepted socket through the same (internal) properties, found on a probe socket made with the option;
 * where they cannot be found (another Node), the socket stays on 'data' events. The bytes are valid only
 * during the read's synchronous processing: the parser copies what it keeps (a frame split across reads,
 * input held back), client and route output is copied into the outbound buffers, and in-process
 * subscribers get a copy (delivery.ts), since they may keep what they are given.
 *
 * **Other reads** (TLS, websocket, a socket with bytes already buffered): every READ_RELEASE_BYTES of such
 * input, unless V8 collected the young generation by itself meanwhile (a JetStream publish, for one, makes
 * garbage enough), a young-generation collection frees the read buffers of the past few megabytes, so the
 * allocator reuses their memory. A scavenge costs well under a millisecond when little is alive in the
 * young generation; at this interval that is a few nanoseconds per message.
 */
import { createRequire } from 'node:module';
import { Socket, type SocketConstructorOpts } from 'node:net';
import type { Duplex } from 'node:stream';
import type * as V8 from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Size of the shared read buffer: what Node reads at once into its own buffers. */
const SHARED_READ_SIZE = 64 * 1024;

/** Read into by every plain TCP connection, one read at a time. */
const sharedReadBuffer = Buffer.allocUnsafeSlow(SHARED_READ_SIZE);

/** Whether `buf` is (a view of) the shared read buffer: its bytes are overwritten by the next read. */
export function inSharedReadBuffer(buf: Buffer): boolean {
  return buf.buffer === sharedReadBuffer.buffer;
}

/** net.Socket's internal properties behind `onread`: undefined before the probe, null when not found. */
let onreadKeys: { buffer: symbol; callback: symbol } | null | undefined;

function findOnreadKeys(): { buffer: symbol; callback: symbol } | null {
  try {
    // `onread` is in Node's documentation (net.Socket, since 12) but not in its type definitions.
    const opts = {
      onread: { buffer: Buffer.alloc(1), callback: () => true },
    } as unknown as SocketConstructorOpts;
    const probe = new Socket(opts);
    const symbols = Object.getOwnPropertySymbols(probe);
    probe.destroy();
    const buffer = symbols.find((x) => x.description === 'kBuffer');
    const callback = symbols.find((x) => x.description === 'kBufferCb');
    return buffer !== undefined && callback !== undefined ? { buffer, callback } : null;
  } catch {
    return null;
  }
}

interface UserBufferHandle {
  useUserBuffer?: (buf: Uint8Array) => void;
}

/**
 * Make `socket` read into the shared buffer and call `onRead` with each read's bytes (a view valid until
 * `onRead` returns) instead of emitting 'data'. Only a plain TCP socket with nothing buffered yet
 * qualifies; returns false (and changes nothing) otherwise, and the caller listens for 'data'.
 * TSNATS_NO_SHARED_READ_BUFFER=1 in the environment turns it off (for comparisons).
 */
export function useSharedReadBuffer(socket: Duplex, onRead: (buf: Buffer) => void): boolean {
  if (!(socket instanceof Socket) || 'encrypted' in socket) return false;
  if (socket.readableLength > 0 || socket.isPaused()) return false;
  const handle = (socket as unknown as { _handle?: UserBufferHandle | null })._handle;
  if (handle?.useUserBuffer === undefined) return false;
  if (onreadKeys === undefined) {
    onreadKeys = process.env.TSNATS_NO_SHARED_READ_BUFFER === '1' ? null : findOnreadKeys();
  }
  if (onreadKeys === null) return false;
  const s = socket as unknown as Record<symbol, unknown>;
  s[onreadKeys.buffer] = sharedReadBuffer;
  s[onreadKeys.callback] = (n: number, buf: Buffer): void => onRead(buf.subarray(0, n));
  handle.useUserBuffer(sharedReadBuffer);
  return true;
}

/** node:v8, loaded at the first release rather than at start-up (~3 ms). */
let v8: typeof V8 | undefined;
function loadV8(): typeof V8 {
  v8 ??= createRequire(import.meta.url)('node:v8') as typeof V8;
  return v8;
}

/** Socket input between two collections. */
export const READ_RELEASE_BYTES = 4 * 1024 * 1024;

type GcFunction = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

/** undefined: not looked up yet; null: not available (nothing is done then). */
let gcFunction: GcFunction | null | undefined;

/**
 * V8's `gc` function: the global one when Node runs with --expose-gc, otherwise taken from a new context
 * after turning the flag on (the flag only gives new contexts a `gc`; the application's global object
 * is left as it was). Looked up at the first use, not at start-up: the flag is then not in effect when
 * bin/tsnats writes its code cache at start-up, so the cache still matches a plain start.
 */
function lookUpGc(): GcFunction | null {
  const global = (globalThis as { gc?: unknown }).gc;
  if (typeof global === 'function') return global as GcFunction;
  try {
    loadV8().setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as GcFunction) : null;
  } catch {
    return null;
  }
}

/** Bytes in use in the young generation at the previous call. */
let youngUsedBefore = 0;

function youngGenerationUsed(): number {
  for (const space of loadV8().getHeapSpaceStatistics()) {
    if (space.space_name === 'new_space') return space.space_used_size;
  }
  return 0;
}

/**
 * Collect the young generation, where the dead read buffers' Buffer objects are, unless it was collected
 * since the previous call: allocation only fills it, so less in use than then means a collection ran.
 */
export function releaseReadBuffers(): void {
  const used = youngGenerationUsed();
  if (used < youngUsedBefore) {
    youngUsedBefore = used;
    return;
  }
  if (gcFunction === undefined) gcFunction = lookUpGc();
  if (gcFunction !== null) gcFunction({ type: 'minor' });
  youngUsedBefore = youngGenerationUsed();
}
