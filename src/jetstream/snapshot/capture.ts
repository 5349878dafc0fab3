/**
 * Taking a stream snapshot: what goes into the archive, fixed at one point in time (the request), so the
 * archive is consistent while publishes, acks and deletes go on during the transfer.
 *
 * Archive entries (tar, see util/tar.ts; nats-server's layout, our own file formats inside):
 *   snapshot.json           {"format":"tsnats-stream-snapshot","version":1,"storage":...}: says what this is
 *   meta.inf                the stream's config and `created` (as the stream directory's meta.inf)
 *   msgs/<index>.blk        the messages, in the file store's block format (store/filestore/format.ts)
 *   obs/<consumer>/meta.inf each consumer's config and `created` (unless no_consumers)
 *   obs/<consumer>/o.dat    its state: delivered, ack floor, pending, redeliveries (consumer/store.ts)
 *
 * Point in time, without copying a file stream on the event loop: the file store hard-links its block
 * files into a staging directory and reports their lengths (FileStore.linkBlocks); later appends go past
 * those lengths, and a block rewritten in place is copied for the snapshot first. A memory stream's
 * messages are copied into block buffers at once (they are in memory already). Consumer states are
 * encoded from memory at once, so a state written a few milliseconds later does not matter.
 */

import { goJson } from '../api/json.js';
import { encodeStreamConfig } from '../config.js';
import { Consumer } from '../consumer/consumer.js';
import { encodeConsumerMeta, encodeState } from '../consumer/store.js';
import { FileStore } from '../store/filestore/filestore.js';
import type { Stream } from '../stream.js';
import { rfc3339Nano } from '../time.js';
import { encodeStoreBlocks } from './blocks.js';

/** The marker entry and what it says. */
export const SNAPSHOT_MARKER = 'snapshot.json';
export const SNAPSHOT_FORMAT = 'tsnats-stream-snapshot';
export const SNAPSHOT_VERSION = 1;

/** One file of the archive: its bytes, or the first `size` bytes of a file on disk. */
export type ArchiveFile =
  | { name: string; size: number; data: Buffer }
  | { name: string; size: number; path: string };

export interface Capture {
  files: ArchiveFile[];
  /** Give back what the capture holds (the file store's links); the caller removes `dir`. */
  release(): void;
}

/**
 * Fix the contents of a snapshot of `stream` now. `dir` is a fresh staging directory on the store's
 * filesystem (links of file stream blocks go there).
 */
export function captureStream(stream: Stream, dir: string, includeConsumers: boolean): Capture {
  const files: ArchiveFile[] = [];
  const text = (name: string, s: string): void => {
    const data = Buffer.from(s, 'utf8');
    files.push({ name, size: data.length, data });
  };
  text(
    SNAPSHOT_MARKER,
    goJson({ format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, storage: stream.config.storage }),
  );
  text('meta.inf', goJson({ created: rfc3339Nano(stream.created), ...encodeStreamConfig(stream.config) }));

  const store = stream.store;
  let release = (): void => {};
  if (store instanceof FileStore) {
    for (const b of store.linkBlocks(dir)) files.push({ name: `msgs/${b.name}`, size: b.size, path: b.path });
    release = () => store.releaseLinks(dir);
  } else {
    for (const b of encodeStoreBlocks(store))
      files.push({ name: `msgs/${b.name}`, size: b.data.length, data: b.data });
  }

  if (includeConsumers) {
    const consumers = [...stream.consumers.values()]
      .filter((c): c is Consumer => c instanceof Consumer && !c.internal)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const c of consumers) {
      text(`obs/${c.name}/meta.inf`, encodeConsumerMeta({ name: c.name, created: c.created, config: c.cfg }));
      const st = encodeState(c.state.snapshot());
      files.push({ name: `obs/${c.name}/o.dat`, size: st.length, data: st });
    }
  }
  return { files, release };
}
