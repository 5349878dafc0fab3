/**
 * Writing a file-backed consumer's state and configuration to its store (store.ts). State changes are
 * coalesced as nats-server's consumer flusher does: at most one write per STATE_FLUSH_MS ("about 10 updates per
 * second per consumer under load"), the first change after a quiet spell written at once (in the next turn
 * of the event loop); `write` persists at once (before an ack is confirmed, on a clean stop). Memory-backed consumers have no store and nothing is written.
 */
import { nowNanos } from '../store/store.js';
import type { Consumer } from './consumer.js';
import type { ConsumerFileStore } from './store.js';

/**
 * The shortest time between two state writes of a file-backed consumer (nats-server's flushLoop minTime). It
 * was 10 ms: under a fetch-and-ack load, writing and renaming the state file 100 times a second cost ~10% of
 * the server's time.
 */
const STATE_FLUSH_MS = 100;

export class Persistence {
  /** Changes not written yet. */
  dirty = false;
  private storeFailed = false;
  private flushTimer: NodeJS.Timeout | undefined;
  /** When the state was last written (ms, performance.now()). */
  private lastWrite = -STATE_FLUSH_MS;

  constructor(
    private readonly c: Consumer,
    private readonly store: ConsumerFileStore | undefined,
  ) {}

  /** Persist now (file-backed consumers). */
  write(): void {
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    this.dirty = false;
    if (this.store === undefined) return;
    this.lastWrite = performance.now();
    try {
      this.store.writeState(this.c.state.snapshot());
      this.storeFailed = false;
    } catch (e) {
      if (!this.storeFailed) this.c.warn(`could not write its state: ${String(e)}`);
      this.storeFailed = true;
    }
  }

  markDirty(): void {
    if (this.store === undefined || this.c.closed) return;
    this.dirty = true;
    if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(
        () => {
          this.flushTimer = undefined;
          if (this.dirty && !this.c.closed) this.write();
        },
        Math.max(0, STATE_FLUSH_MS - (performance.now() - this.lastWrite)),
      );
      this.flushTimer.unref();
    }
  }

  /** A delivery (or a progress update) changed the state (nats-server's updateDelivered). */
  updateDelivered(): void {
    this.c.state.ldt = nowNanos();
    this.markDirty();
  }

  /** An ack changed the state (nats-server's updateAcks). */
  updateAcks(): void {
    this.c.state.lat = nowNanos();
    this.markDirty();
  }

  /** Write the configuration again after an update (registry.ts writes it at creation). */
  saveMeta(): void {
    if (this.store === undefined) return;
    const c = this.c;
    try {
      this.store.writeMeta({ name: c.name, created: c.created, config: c.cfg });
    } catch (e) {
      c.warn(`could not write its configuration: ${String(e)}`);
    }
  }

  /** Remove the consumer's directory (the consumer is deleted). */
  remove(): void {
    if (this.store === undefined) return;
    try {
      this.store.delete();
    } catch (e) {
      this.c.warn(`could not remove its directory: ${String(e)}`);
    }
  }

  /** The consumer stops: no more coalesced writes. */
  stop(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }
}
