/**
 * Sending a captured snapshot to the requester's deliver subject (nats-server's streamSnapshot).
 *
 * The archive (capture.ts) is written as tar (util/tar.ts), compressed as an S2 stream
 * (util/s2-stream.ts) and cut into messages of `chunk_size` bytes. As nats-server 2.9:
 * - it waits up to 2 s for interest in the deliver subject before starting;
 * - each chunk's reply subject is `$JS.SNAPSHOT.ACK.<stream>.<id>.<chunk bytes>.<chunk index>`; an ack
 *   (any message there) takes that many bytes off the count in flight;
 * - with more than 8 MiB in flight, each chunk waits for an ack, but at most 10 ms (so a client that
 *   never acks is sent the snapshot at a bounded rate rather than stalling it);
 * - it stops when the interest goes away;
 * - an empty message ends it.
 * Added: when the snapshot cannot be completed (a file could not be read), that empty message carries a
 * status header `NATS/1.0 500 <why>`, which jsm.go (`nats stream backup`) reports as an error; nats-server
 * 2.9 instead adds an errors.txt entry to the archive, which no client reads.
 */

import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { textToWire } from '../../routing/subject-text.js';
import type { Account } from '../../server/account.js';
import type { Subscription } from '../../server/subscription.js';
import { nodeFsPromises } from '../../util/builtin.js';
import { nuid } from '../../util/nuid.js';
import { S2StreamWriter } from '../../util/s2-stream.js';
import { tarEnd, tarFileHeader, tarPadding } from '../../util/tar.js';
import type { JsAccount } from '../account.js';
import type { ArchiveFile, Capture } from './capture.js';

/** nats-server's defaultSnapshotChunkSize and defaultSnapshotWindowSize. */
export const DEFAULT_SNAPSHOT_CHUNK_SIZE = 128 * 1024;
export const SNAPSHOT_WINDOW_SIZE = 8 * 1024 * 1024;
/** How long a chunk waits for an ack when the window is full, and for interest at the start. */
const ACK_WAIT_MS = 10;
const INTEREST_WAIT_MS = 2000;
/** Files are read in pieces of this size. */
const READ_PIECE = 1024 * 1024;

export interface SnapshotSend {
  jsa: JsAccount;
  streamName: string;
  /** Where the chunks go (wire form). */
  deliver: string;
  chunkSize: number;
  capture: Capture;
}

/** Stream the archive out; resolves when the final message is sent. Never rejects. */
export async function sendSnapshot(s: SnapshotSend): Promise<{ bytes: number; error?: string }> {
  const sender = new Sender(s);
  return sender.run();
}

class Sender {
  private readonly acc: Account;
  private readonly ackSubject: string;
  private ackSub: Subscription | undefined;
  /** Bytes sent and not acknowledged yet. */
  private inFlight = 0;
  private ackWaiter: (() => void) | undefined;
  private readonly encoder = new S2StreamWriter();
  /** Encoded bytes not sent yet. */
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private index = 0;
  private sent = 0;
  private lostInterest = false;

  constructor(private readonly s: SnapshotSend) {
    this.acc = s.jsa.account;
    this.ackSubject = `$JS.SNAPSHOT.ACK.${textToWire(s.streamName)}.${nuid()}`;
  }

  async run(): Promise<{ bytes: number; error?: string }> {
    let error: string | undefined;
    try {
      if (!(await this.waitForInterest())) this.lostInterest = true;
      this.ackSub = this.s.jsa.subscribe(`${this.ackSubject}.>`, (subject) => this.onAck(subject));
      for (const f of this.s.capture.files) {
        if (this.lostInterest) break;
        await this.add(tarFileHeader(f.name, f.size));
        await this.addFile(f);
        await this.add(tarPadding(f.size));
      }
      if (!this.lostInterest) {
        await this.add(tarEnd());
        await this.flushEncoded(this.encoder.end(), true);
      }
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    } finally {
      if (this.ackSub !== undefined) this.s.jsa.unsubscribe(this.ackSub);
      this.ackSub = undefined;
      this.s.capture.release();
    }
    // The end: an empty message, with a status when the snapshot is incomplete.
    const hdr = error === undefined ? null : Buffer.from(`NATS/1.0 500 ${oneLine(error)}\r\n\r\n`);
    this.s.jsa.out.defer(this.acc, this.s.deliver, '', hdr);
    return error === undefined ? { bytes: this.sent } : { bytes: this.sent, error };
  }

  private async addFile(f: ArchiveFile): Promise<void> {
    if ('data' in f) {
      for (let off = 0; off < f.size && !this.lostInterest; off += READ_PIECE) {
        await this.add(f.data.subarray(off, Math.min(f.size, off + READ_PIECE)));
      }
      return;
    }
    const fh = await nodeFsPromises().open(f.path, 'r');
    try {
      let pos = 0;
      while (pos < f.size && !this.lostInterest) {
        const want = Math.min(READ_PIECE, f.size - pos);
        const buf = Buffer.allocUnsafe(want);
        let got = 0;
        while (got < want) {
          const { bytesRead } = await fh.read(buf, got, want - got, pos + got);
          if (bytesRead === 0) throw new Error(`snapshot file ${f.name} is shorter than ${f.size} bytes`);
          got += bytesRead;
        }
        pos += want;
        await this.add(buf);
      }
    } finally {
      await fh.close();
    }
  }

  /** Archive bytes: compress, then send whatever makes whole chunks. */
  private async add(raw: Buffer): Promise<void> {
    if (raw.length === 0) return;
    await this.flushEncoded(this.encoder.write(raw), false);
  }

  private async flushEncoded(encoded: Buffer[], last: boolean): Promise<void> {
    for (const b of encoded) {
      this.pending.push(b);
      this.pendingLen += b.length;
    }
    const size = this.s.chunkSize;
    while (!this.lostInterest && (this.pendingLen >= size || (last && this.pendingLen > 0))) {
      const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingLen);
      const n = Math.min(size, all.length);
      const chunk = all.subarray(0, n);
      this.pending = n < all.length ? [all.subarray(n)] : [];
      this.pendingLen = all.length - n;
      await this.sendChunk(chunk);
    }
  }

  private async sendChunk(chunk: Buffer): Promise<void> {
    if (this.inFlight > SNAPSHOT_WINDOW_SIZE) await this.waitForAck();
    if (!this.hasInterest()) {
      this.lostInterest = true;
      return;
    }
    this.index++;
    const reply = `${this.ackSubject}.${chunk.length}.${this.index}`;
    this.s.jsa.out.defer(this.acc, this.s.deliver, reply, null, Buffer.from(chunk));
    this.inFlight += chunk.length;
    this.sent += chunk.length;
    // Let the event loop deliver this chunk and serve everyone else before the next one.
    await yieldToLoop();
  }

  private onAck(subject: string): void {
    // $JS.SNAPSHOT.ACK.<stream>.<id>.<bytes>.<index>: the stream name is one token.
    const t = subject.split('.');
    const n = Number(t[t.length - 2]);
    if (Number.isFinite(n)) this.inFlight -= n;
    if (this.inFlight < SNAPSHOT_WINDOW_SIZE) {
      const w = this.ackWaiter;
      this.ackWaiter = undefined;
      w?.();
    }
  }

  private waitForAck(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.ackWaiter = undefined;
        resolve();
      }, ACK_WAIT_MS);
      this.ackWaiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private hasInterest(): boolean {
    return this.acc.sublist.hasInterest(this.s.deliver);
  }

  private async waitForInterest(): Promise<boolean> {
    const until = Date.now() + INTEREST_WAIT_MS;
    while (!this.hasInterest()) {
      if (Date.now() >= until) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}
