/**
 * The JetStream meta group `_meta_` (docs/design/jetstream-meta.md §2-3): every JetStream server of the
 * cluster is a member; its committed entries say which streams and consumers exist and where. Every member
 * applies them (a member of an asset's group creates the asset locally, see local.ts); the meta leader
 * also decides API requests (api.ts) and proposes the entries.
 *
 * Applying follows nats-server's applyMetaEntries: assign/update/remove stream, assign/remove consumer,
 * and snapshots (an S2 block of JSON). While the node replays its own log at start-up, removals and updates
 * are held until the replay is done and every replayed assignment counts as answered (no reply twice).
 */
import { EntryType } from '../../raft/codec.js';
import type { CommittedEntry, RaftApplier, RaftNode } from '../../raft/node.js';
import {
  accountOf,
  type ConsumerAssignment,
  decodeMetaEntry,
  decodeMetaSnapshot,
  encodeMetaSnapshot,
  type StreamAssignment,
} from './assignments.js';

/** What applying assignments does on this server (local.ts). */
export interface AssignmentHandler {
  streamAssigned(sa: StreamAssignment, isUpdate: boolean): void;
  streamRemoved(sa: StreamAssignment): void;
  consumerAssigned(sa: StreamAssignment, ca: ConsumerAssignment): void;
  consumerRemoved(sa: StreamAssignment, ca: ConsumerAssignment): void;
  metaLeaderChanged(isLeader: boolean): void;
  peerAdded(id: string): void;
  peerRemoved(id: string): void;
}

/** How much applied log makes a snapshot worthwhile (nats-server compacts the meta log similarly). */
const SNAPSHOT_ENTRIES = 256;

export class MetaGroup implements RaftApplier {
  /** account -> stream -> assignment. */
  readonly streams = new Map<string, Map<string, StreamAssignment>>();
  node: RaftNode | undefined;
  /** Replaying our own log at start-up: nothing is answered. */
  recovering = true;
  private appliedSinceSnapshot = 0;
  private readonly started = Date.now();
  private lastSnapshot: Buffer | undefined;

  constructor(
    private readonly handler: AssignmentHandler,
    private readonly warn: (msg: string) => void,
  ) {}

  // ---- lookups --------------------------------------------------------------------------------------------

  stream(account: string, name: string): StreamAssignment | undefined {
    return this.streams.get(account)?.get(name);
  }

  consumer(account: string, stream: string, name: string): ConsumerAssignment | undefined {
    return this.stream(account, stream)?.consumers.get(name);
  }

  accountStreams(account: string): StreamAssignment[] {
    return [...(this.streams.get(account)?.values() ?? [])];
  }

  allStreams(): StreamAssignment[] {
    const out: StreamAssignment[] = [];
    for (const m of this.streams.values()) for (const sa of m.values()) out.push(sa);
    return out;
  }

  isLeader(): boolean {
    return this.node?.isLeader() ?? false;
  }

  /** Milliseconds since this meta group started. */
  age(): number {
    return Date.now() - this.started;
  }

  /** The replay of our own log is over (called once the node has started). */
  recovered(): void {
    this.recovering = false;
  }

  // ---- RaftApplier --------------------------------------------------------------------------------------

  apply(ce: CommittedEntry): void {
    for (const e of ce.entries) {
      try {
        if (e.type === EntryType.Snapshot) this.applySnapshot(e.data);
        else if (e.type === EntryType.AddPeer) {
          if (!this.recovering) this.handler.peerAdded(e.data.toString('latin1'));
        } else if (e.type === EntryType.RemovePeer) {
          if (!this.recovering) this.handler.peerRemoved(e.data.toString('latin1'));
        } else if (e.type === EntryType.Normal) this.applyEntry(e.data);
      } catch (err) {
        this.warn(`JetStream cluster could not apply a meta entry: ${(err as Error).message}`);
      }
    }
    this.appliedSinceSnapshot += ce.entries.length;
    if (this.appliedSinceSnapshot >= SNAPSHOT_ENTRIES) this.snapshot();
  }

  leaderChanged(isLeader: boolean): void {
    this.handler.metaLeaderChanged(isLeader);
  }

  private applyEntry(data: Buffer): void {
    const me = decodeMetaEntry(data);
    switch (me.op) {
      case 'assignStream':
        this.assignStream(me.sa, false);
        break;
      case 'updateStream':
        this.assignStream(me.sa, true);
        break;
      case 'removeStream':
        this.removeStream(me.sa);
        break;
      case 'assignConsumer':
        this.assignConsumer(me.ca);
        break;
      case 'removeConsumer':
        this.removeConsumer(me.ca);
        break;
    }
  }

  private assignStream(sa: StreamAssignment, isUpdate: boolean): void {
    const acc = accountOf(sa.client);
    let m = this.streams.get(acc);
    if (m === undefined) {
      m = new Map();
      this.streams.set(acc, m);
    }
    const prev = m.get(sa.config.name);
    if (prev !== undefined) {
      for (const [k, ca] of prev.consumers) sa.consumers.set(k, ca);
      if (isUpdate) sa.created = prev.created;
    } else if (isUpdate) {
      // An update for a stream we do not know is ignored (processUpdateStreamAssignment).
      return;
    }
    if (this.recovering) {
      sa.responded = true;
      sa.group.preferred = '';
    }
    m.set(sa.config.name, sa);
    this.handler.streamAssigned(sa, isUpdate);
  }

  private removeStream(sa: StreamAssignment): void {
    const acc = accountOf(sa.client);
    const m = this.streams.get(acc);
    const cur = m?.get(sa.config.name);
    if (m === undefined || cur === undefined) return;
    m.delete(sa.config.name);
    if (m.size === 0) this.streams.delete(acc);
    if (this.recovering) sa.responded = true;
    // The removal's reply and client are the delete request's; the group is the assignment's.
    cur.reply = sa.reply;
    cur.subject = sa.subject;
    cur.responded = sa.responded;
    this.handler.streamRemoved(cur);
  }

  private assignConsumer(ca: ConsumerAssignment): void {
    const sa = this.stream(accountOf(ca.client), ca.stream);
    if (sa === undefined) return;
    if (this.recovering) {
      ca.responded = true;
      ca.group.preferred = '';
    }
    sa.consumers.set(ca.name, ca);
    this.handler.consumerAssigned(sa, ca);
  }

  private removeConsumer(ca: ConsumerAssignment): void {
    const sa = this.stream(accountOf(ca.client), ca.stream);
    const cur = sa?.consumers.get(ca.name);
    if (sa === undefined || cur === undefined) return;
    sa.consumers.delete(ca.name);
    if (this.recovering) ca.responded = true;
    cur.reply = ca.reply;
    cur.subject = ca.subject;
    cur.responded = ca.responded;
    this.handler.consumerRemoved(sa, cur);
  }

  /** applyMetaSnapshot: the snapshot is the whole state; diff it against ours. */
  private applySnapshot(data: Buffer): void {
    const next = decodeMetaSnapshot(data);
    const want = new Map<string, StreamAssignment>();
    for (const sa of next) want.set(`${accountOf(sa.client)} ${sa.config.name}`, sa);
    for (const cur of this.allStreams()) {
      const key = `${accountOf(cur.client)} ${cur.config.name}`;
      const n = want.get(key);
      if (n === undefined) {
        cur.responded = true;
        this.removeStream(cur);
        continue;
      }
      want.delete(key);
      for (const ca of [...cur.consumers.values()]) {
        if (!n.consumers.has(ca.name)) {
          ca.responded = true;
          this.removeConsumer(ca);
        }
      }
      for (const ca of n.consumers.values()) {
        if (!cur.consumers.has(ca.name)) {
          ca.responded = true;
          this.assignConsumer(ca);
        }
      }
    }
    for (const sa of want.values()) {
      const consumers = [...sa.consumers.values()];
      sa.consumers = new Map();
      sa.responded = true;
      this.assignStream(sa, false);
      for (const ca of consumers) {
        ca.responded = true;
        this.assignConsumer(ca);
      }
    }
  }

  /** Replace the applied log with a snapshot of the assignments (when it changed). */
  snapshot(): void {
    const node = this.node;
    if (node === undefined || this.recovering) return;
    const data = encodeMetaSnapshot(this.allStreams());
    if (this.lastSnapshot !== undefined && data.equals(this.lastSnapshot)) {
      this.appliedSinceSnapshot = 0;
      return;
    }
    if (node.installSnapshot(data)) {
      this.lastSnapshot = data;
      this.appliedSinceSnapshot = 0;
    }
  }
}
