/**
 * A client side of stream snapshots and restores that speaks the protocol as jsm.go (`nats stream
 * backup` / `nats stream restore`, snapshots.go) does, with raw requests (nats.js has no snapshot API).
 *
 * Snapshot: subscribe to an inbox, request `$JS.API.STREAM.SNAPSHOT.<stream>` with it as deliver_subject,
 * answer every chunk that has a reply subject with an empty message (the server's flow control), collect
 * the chunks until the empty message, whose `Status` header (if any, not 204) is an error.
 * Restore: request `$JS.API.STREAM.RESTORE.<stream>` with {config, state}, send the archive in 64 KiB
 * requests to the returned deliver_subject (each answered with an empty message), then an empty request,
 * whose answer is the final stream_create_response.
 */
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { createInbox } from '@nats-io/transport-node';

export interface SnapshotResult {
  /** The SNAPSHOT response: {type, config, state} or {type, error}. */
  response: Record<string, unknown>;
  /** The archive as received (an S2 stream of a tar). */
  data: Buffer;
  chunks: number;
  /** Reply subjects of the chunks. */
  replies: string[];
  /** The final empty message's status and description, when it had one. */
  status?: { code: string; description: string };
}

export interface SnapshotOptions {
  noConsumers?: boolean;
  chunkSize?: number;
  /** Answer the chunks' reply subjects (default true, as jsm.go). */
  ack?: boolean;
  timeoutMs?: number;
}

const dec = new TextDecoder();

/** Take a snapshot of `stream`; resolves once the final message arrived (or the response was an error). */
export async function takeSnapshot(
  nc: NatsConnection,
  stream: string,
  opts: SnapshotOptions = {},
): Promise<SnapshotResult> {
  const inbox = createInbox();
  const parts: Buffer[] = [];
  const replies: string[] = [];
  let status: SnapshotResult['status'];
  let done!: () => void;
  let failed!: (e: Error) => void;
  const finished = new Promise<void>((resolve, reject) => {
    done = resolve;
    failed = reject;
  });
  const sub = nc.subscribe(inbox, {
    callback: (err, m: Msg) => {
      if (err !== null) return failed(err);
      if (m.data.length === 0) {
        const code = m.headers?.code;
        if (m.headers !== undefined && code !== undefined && code !== 0 && code !== 204) {
          status = { code: String(code), description: m.headers.description };
        }
        done();
        return;
      }
      if (m.reply !== undefined && m.reply !== '') {
        replies.push(m.reply);
        if (opts.ack !== false) m.respond();
      }
      parts.push(Buffer.from(m.data));
    },
  });
  try {
    const body: Record<string, unknown> = { deliver_subject: inbox };
    if (opts.noConsumers) body.no_consumers = true;
    if (opts.chunkSize !== undefined) body.chunk_size = opts.chunkSize;
    const r = await nc.request(`$JS.API.STREAM.SNAPSHOT.${stream}`, JSON.stringify(body), { timeout: 5000 });
    const response = JSON.parse(dec.decode(r.data)) as Record<string, unknown>;
    if (response.error !== undefined) return { response, data: Buffer.alloc(0), chunks: 0, replies };
    await withTimeout(finished, opts.timeoutMs ?? 30_000, 'snapshot did not finish');
    const result: SnapshotResult = { response, data: Buffer.concat(parts), chunks: parts.length, replies };
    if (status !== undefined) result.status = status;
    return result;
  } finally {
    sub.unsubscribe();
  }
}

/** Restore `data` as `stream` with the snapshot's {config, state}; the final response (or the first error). */
export async function restoreSnapshot(
  nc: NatsConnection,
  stream: string,
  data: Buffer,
  meta: { config?: unknown; state?: unknown },
  chunkSize = 64 * 1024,
): Promise<Record<string, unknown>> {
  const r = await nc.request(`$JS.API.STREAM.RESTORE.${stream}`, JSON.stringify(meta), { timeout: 5000 });
  const response = JSON.parse(dec.decode(r.data)) as Record<string, unknown>;
  if (response.error !== undefined) return response;
  const deliver = response.deliver_subject as string;
  for (let off = 0; off < data.length; off += chunkSize) {
    const ack = await nc.request(deliver, data.subarray(off, off + chunkSize), { timeout: 5000 });
    if (ack.data.length > 0) return JSON.parse(dec.decode(ack.data)) as Record<string, unknown>;
  }
  const last = await nc.request(deliver, new Uint8Array(0), { timeout: 30_000 });
  return JSON.parse(dec.decode(last.data)) as Record<string, unknown>;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((_, reject) => {
        timer = setTimeout(() => reject(new Error(what)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
