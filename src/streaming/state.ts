/**
 * The streaming server's own state, kept as JSON records in one JetStream stream (`STAN_<cluster>`,
 * names.ts) used as a key-value store: one subject per record, one message kept per subject. Records are
 * the server's prefixes (`info`), each client (`client.<id>`) and each subscription (`sub.<id>`, with its
 * delivery position and unacknowledged sequences). A restart reads the last message of every subject.
 *
 * Writes that follow every delivery and ack are coalesced: `schedule` records which key changed, and the
 * record is built and written at most every FLUSH_MS (a busy subscription's record, with up to
 * max_in_flight unacknowledged sequences, is not rewritten for every ack). A process killed in between
 * loses those last positions: the messages are redelivered after the restart (at least once, as with
 * nats-streaming-server's buffered file store).
 */
import type { JsAccount } from '../jetstream/account.js';
import { isApiError } from '../jetstream/config.js';
import type { Stream } from '../jetstream/stream.js';
import { stateStreamName, stateSubjectPrefix, streamConfig } from './names.js';

const EMPTY = Buffer.alloc(0);
/** Most time a changed record waits before it is written. */
export const FLUSH_MS = 20;

export class StateStore {
  readonly stream: Stream;
  private readonly prefix: string;
  private readonly pending = new Map<string, () => object>();
  private flushScheduled: NodeJS.Timeout | undefined;

  constructor(jsa: JsAccount, clusterId: string, storage: 'file' | 'memory') {
    this.prefix = stateSubjectPrefix(clusterId);
    const name = stateStreamName(clusterId);
    const existing = jsa.lookupStream(name);
    if (existing !== undefined) {
      this.stream = existing;
      return;
    }
    const created = jsa.addStream(
      streamConfig({
        name,
        description: `NATS Streaming state of cluster ${clusterId}`,
        subjects: [`${this.prefix}>`],
        storage,
        max_msgs_per_subject: 1,
      }),
    );
    if (isApiError(created))
      throw new Error(`cannot create the streaming state stream: ${created.description}`);
    this.stream = created;
  }

  /** Every record: key and parsed JSON (records that do not parse are skipped). */
  entries(): [string, unknown][] {
    const out: [string, unknown][] = [];
    const store = this.stream.store;
    let seq = store.state().firstSeq;
    for (;;) {
      const m = store.loadNextMsg('', seq);
      if (m === undefined) break;
      seq = m.seq + 1;
      if (!m.subject.startsWith(this.prefix) || m.data.length === 0) continue;
      try {
        out.push([m.subject.slice(this.prefix.length), JSON.parse(m.data.toString('utf8'))]);
      } catch {
        // A torn record: the previous one was replaced by it, so this key is lost (see the file comment).
      }
    }
    return out;
  }

  /** Write a record now (and drop any scheduled write of the same key). */
  put(key: string, value: object): void {
    this.pending.delete(key);
    this.stream.processMsg(this.prefix + key, '', EMPTY, Buffer.from(JSON.stringify(value)));
  }

  /** Write a record within FLUSH_MS, built then by `value`. */
  schedule(key: string, value: () => object): void {
    this.pending.set(key, value);
    if (this.flushScheduled === undefined) {
      this.flushScheduled = setTimeout(() => this.flush(), FLUSH_MS);
      this.flushScheduled.unref();
    }
  }

  remove(key: string): void {
    this.pending.delete(key);
    this.stream.purge({ filter: this.prefix + key });
  }

  /** Write what is scheduled. */
  flush(): void {
    if (this.flushScheduled !== undefined) clearTimeout(this.flushScheduled);
    this.flushScheduled = undefined;
    const writes = [...this.pending];
    this.pending.clear();
    for (const [key, value] of writes) {
      this.stream.processMsg(this.prefix + key, '', EMPTY, Buffer.from(JSON.stringify(value())));
    }
  }
}
