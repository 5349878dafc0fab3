/**
 * Writing a file-backed consumer's state and configuration to its store (store.ts). State changes are
 * coalesced: `markDirty` schedules one write STATE_FLUSH_MS later; `write` persists at once (before an
 * ack is confirmed, on a clean stop). Memory-backed consumers have no store and nothing is written.
 */
import { nowNanos } from '../store/store.js';
import type { Consumer } from './consumer.js';
import type { ConsumerFileStore } from './store.js';

/** How long state changes of file-backed consumers may wait before they are written. */
const STATE_FLUSH_MS = 10;

export class Persistence {
  /** Changes not written yet. */
  dirty = false;
  private storeFailed = false;
  private flushTimer: NodeJS.Timeout | undefined;

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
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        if (this.dirty && !this.c.closed) this.write();
      }, STATE_FLUSH_MS);
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
