/**
 * One replica of a replicated consumer (docs/design/jetstream-replication.md §4): the local Consumer plus
 * its member of the consumer's Raft group. The leader delivers and takes acks as a single-server consumer
 * does, and proposes each delivery (updateDeliveredOp) and each ack (updateAcksOp); the other replicas
 * apply them to their copy of the state with nats-server's store rules, so that a new leader resumes where
 * the old one was: nothing acknowledged is delivered again, nothing unacknowledged is lost. An ack that
 * asked for a confirmation is confirmed once its proposal is committed.
 */
import { EntryType } from '../../raft/codec.js';
import type { CommittedEntry, RaftApplier, RaftNode } from '../../raft/node.js';
import type { JsAccount } from '../account.js';
import type { ApiError } from '../api/errors.generated.js';
import type { UpdateRefusal } from '../consumer/config.js';
import { Consumer, type ConsumerReplica, streamHasInterest } from '../consumer/consumer.js';
import { openAssignedConsumer } from '../consumer/registry.js';
import { nowNanos } from '../store/store.js';
import type { Stream } from '../stream.js';
import type { ConsumerAssignment, StreamAssignment } from './assignments.js';
import type { ClusterContext } from './context.js';
import {
  decodeAcks,
  decodeConsumerState,
  decodeDelivered,
  EntryOp,
  encodeAcks,
  encodeConsumerState,
  encodeDelivered,
  type ReplicatedConsumerState,
} from './entries.js';
import { streamClusterInfo } from './info.js';

/** nats-server's consumer snapshot thresholds (monitorConsumer). */
const SNAPSHOT_ENTRIES = 1024;
const SNAPSHOT_BYTES = 64 * 1024;

export class ReplicatedConsumer implements ConsumerReplica, RaftApplier {
  readonly node: RaftNode;
  private activeLeader = false;
  private waitIndex = -1;
  private stopped = false;

  private constructor(
    private readonly ctx: ClusterContext,
    readonly jsa: JsAccount,
    readonly stream: Stream,
    public sa: StreamAssignment,
    public ca: ConsumerAssignment,
    readonly consumer: Consumer,
  ) {
    consumer.replica = this;
    this.node = ctx.createNode(ca.group, this);
    if (ca.group.preferred === ctx.selfId && this.node.currentTerm === 0) this.node.campaign();
  }

  /** Open the consumer and its group on this server. */
  static open(
    ctx: ClusterContext,
    jsa: JsAccount,
    stream: Stream,
    sa: StreamAssignment,
    ca: ConsumerAssignment,
  ): ReplicatedConsumer | ApiError | UpdateRefusal {
    let rc: ReplicatedConsumer | undefined;
    const r = openAssignedConsumer(jsa, stream, ca.name, ca.created, ca.config, (c) => {
      // Followers do not deliver: only the group's leader subscribes and delivers.
      c.leader = false;
      rc = new ReplicatedConsumer(ctx, jsa, stream, sa, ca, c);
    });
    if (!(r instanceof Consumer)) return r;
    return rc!;
  }

  get name(): string {
    return this.consumer.name;
  }

  isLeader(): boolean {
    return this.activeLeader && this.node.isLeader();
  }

  update(ca: ConsumerAssignment): void {
    const shrunk = ca.group.peers.length < this.ca.group.peers.length;
    this.ca = ca;
    // The leader proposes the removals first (the members dropped learn it), then takes the new list.
    if (this.isLeader()) {
      for (const p of this.node.peerIds()) if (!ca.group.peers.includes(p)) this.node.proposeRemovePeer(p);
    }
    if (shrunk) this.node.updateKnownPeers(ca.group.peers);
    this.consumer.update(ca.config);
    if (this.isLeader() && !ca.responded) {
      ca.responded = true;
      this.ctx.respond(ca.reply, {
        type: 'io.nats.jetstream.api.v1.consumer_create_response',
        ...this.info(),
      });
    }
  }

  // ---- ConsumerReplica (the leader's consumer proposes) ------------------------------------------------------

  delivered(dseq: number, sseq: number, dc: number): void {
    // The delivery time, not the message's (nats-server sends the latter; its followers accept either):
    // a new leader then redelivers after ack_wait from the delivery, not at once.
    if (this.isLeader()) this.node.propose(encodeDelivered(dseq, sseq, dc, nowNanos()));
  }

  acked(dseq: number, sseq: number): void {
    if (this.isLeader()) this.node.propose(encodeAcks(dseq, sseq));
  }

  whenCommitted(confirm: () => void): void {
    this.node.whenCommitted(confirm);
  }

  // ---- RaftApplier ------------------------------------------------------------------------------------------

  apply(ce: CommittedEntry): void {
    if (this.stopped) return;
    // The leader already holds what it proposed (the node is being built while it replays its log).
    const leader = this.node?.isLeader() ?? false;
    for (const e of ce.entries) {
      try {
        if (e.type === EntryType.Snapshot) {
          if (!leader) this.applyState(decodeConsumerState(e.data));
          continue;
        }
        if (e.type !== EntryType.Normal || e.data.length === 0 || leader) continue;
        switch (e.data[0]) {
          case EntryOp.UpdateDelivered: {
            const d = decodeDelivered(e.data);
            this.applyDelivered(d.dseq, d.sseq, d.dc, d.ts);
            break;
          }
          case EntryOp.UpdateAcks: {
            const a = decodeAcks(e.data);
            this.applyAcks(a.dseq, a.sseq);
            break;
          }
          case EntryOp.UpdateSkip: {
            const sseq = Number(e.data.readBigUInt64LE(1));
            if (sseq > this.consumer.state.sseq) this.consumer.state.sseq = sseq;
            break;
          }
          default:
            // Pending pull requests (12/13): the waiting queue is not replicated here.
            break;
        }
      } catch (err) {
        this.ctx.log(
          'warn',
          `JetStream consumer '${this.name}' could not apply an entry: ${(err as Error).message}`,
        );
      }
    }
    this.consumer.persist.markDirty();
  }

  applied(index: number): void {
    // The node replays its log while it is being built: nothing to do until it exists.
    if (this.node === undefined) return;
    if (this.waitIndex >= 0 && index >= this.waitIndex && this.node.isLeader()) this.activate();
    // Here the applied index includes `index`, so a snapshot covers exactly what was applied.
    if (!this.stopped) this.maybeSnapshot();
  }

  leaderChanged(isLeader: boolean): void {
    if (this.stopped) return;
    if (isLeader) {
      const p = this.node.progressInfo();
      this.waitIndex = p.index;
      if (p.applied >= p.index) this.activate();
      return;
    }
    this.waitIndex = -1;
    if (this.activeLeader) {
      this.activeLeader = false;
      this.consumer.setLeader(false);
    }
  }

  private activate(): void {
    this.waitIndex = -1;
    if (this.activeLeader || this.stopped) return;
    this.activeLeader = true;
    this.consumer.setLeader(true);
    if (!this.ca.responded) {
      this.ca.responded = true;
      this.ctx.respond(this.ca.reply, {
        type: 'io.nats.jetstream.api.v1.consumer_create_response',
        ...this.info(),
      });
    }
    this.maybeSnapshot(true);
  }

  // ---- follower state (nats-server's store UpdateDelivered / UpdateAcks) -------------------------------------

  private applyDelivered(dseq: number, sseq: number, dc: number, ts: bigint): void {
    const s = this.consumer.state;
    if (dseq <= s.adflr) return;
    const tsMs = Number(ts / 1_000_000n);
    if (this.consumer.cfg.ack_policy === 'none') {
      s.adflr = dseq;
      s.asflr = sseq;
    } else {
      const p = s.pending.get(sseq);
      if (p !== undefined) p.ts = tsMs;
      else s.pending.set(sseq, { dseq, ts: tsMs });
      if (dc > 1) s.rdc.set(sseq, dc - 1);
    }
    if (dseq + 1 > s.dseq) s.dseq = dseq + 1;
    if (sseq + 1 > s.sseq) s.sseq = sseq + 1;
    s.ldt = nowNanos();
  }

  private applyAcks(dseq: number, sseq: number): void {
    const c = this.consumer;
    const s = c.state;
    const policy = c.cfg.ack_policy;
    if (policy === 'none' || dseq <= s.adflr) return;
    if (policy === 'all') {
      const low = s.asflr;
      s.adflr = dseq;
      s.asflr = sseq;
      for (const seq of [...s.pending.keys()]) if (seq <= sseq) s.pending.delete(seq);
      for (const seq of [...s.rdc.keys()]) if (seq <= sseq) s.rdc.delete(seq);
      this.streamAckRange(low + 1, sseq);
      s.lat = nowNanos();
      return;
    }
    const p = s.pending.get(sseq);
    if (p === undefined) return;
    s.pending.delete(sseq);
    s.rdc.delete(sseq);
    if (s.pending.size === 0) {
      s.adflr = s.dseq - 1;
      s.asflr = s.sseq - 1;
    } else if (p.dseq === s.adflr + 1) {
      s.adflr = p.dseq;
      s.asflr = sseq;
      let first = 0;
      let fp: { dseq: number } | undefined;
      for (const [seq, q] of s.pending) {
        if (seq > sseq && (first === 0 || seq < first)) {
          first = seq;
          fp = q;
        }
      }
      if (fp !== undefined) {
        s.adflr = fp.dseq - 1;
        s.asflr = first - 1;
      }
    }
    this.streamAckRange(sseq, sseq);
    s.lat = nowNanos();
  }

  /** Interest and work-queue streams drop what no consumer needs any more (processReplicatedAck). */
  private streamAckRange(from: number, to: number): void {
    const stream = this.stream;
    if (stream.config.retention === 'limits' || stream.closed) return;
    for (let seq = from; seq <= to; seq++) {
      if (stream.config.retention === 'interest' && streamHasInterest(stream, seq, this.consumer)) continue;
      stream.removeMsg(seq, false);
    }
  }

  private applyState(st: ReplicatedConsumerState): void {
    const s = this.consumer.state;
    if (st.delivered.consumer_seq < s.dseq - 1) return;
    s.dseq = st.delivered.consumer_seq + 1;
    s.sseq = Math.max(s.sseq, st.delivered.stream_seq + 1);
    s.adflr = st.ack_floor.consumer_seq;
    s.asflr = st.ack_floor.stream_seq;
    s.pending = new Map();
    for (const [seq, p] of st.pending)
      s.pending.set(seq, { dseq: p.sequence, ts: Number(p.ts / 1_000_000n) });
    s.rdc = new Map(st.redelivered);
  }

  private maybeSnapshot(force = false): void {
    const size = this.node.logSize();
    if (!force && size.entries < SNAPSHOT_ENTRIES && size.bytes < SNAPSHOT_BYTES) return;
    const s = this.consumer.state;
    const st: ReplicatedConsumerState = {
      delivered: { consumer_seq: s.dseq - 1, stream_seq: s.sseq - 1 },
      ack_floor: { consumer_seq: s.adflr, stream_seq: s.asflr },
      pending: new Map(
        [...s.pending].map(([seq, p]) => [seq, { sequence: p.dseq, ts: BigInt(p.ts) * 1_000_000n }]),
      ),
      redelivered: new Map(s.rdc),
    };
    this.node.installSnapshot(encodeConsumerState(st, nowNanos()));
  }

  // ---- info and stop ----------------------------------------------------------------------------------------

  info(): Record<string, unknown> {
    return { ...this.consumer.info(), cluster: streamClusterInfo(this.ctx, this.node, this.ca.group.peers) };
  }

  stop(remove: boolean): void {
    if (this.stopped) return;
    this.stopped = true;
    this.node.stop(remove);
    if (remove) this.consumer.delete();
    else this.consumer.stop(false);
  }
}
