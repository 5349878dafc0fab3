/**
 * Where a consumer stands in its stream, with nats-server's field names: `sseq` is the next stream
 * sequence to look at and `dseq` the next delivery sequence; `adflr`/`asflr` the ack floor (delivery and
 * stream sequence below which everything is acknowledged); `pending` the unacknowledged deliveries
 * (explicit/all ack), `rdc` the redelivery counts, `rdq` the sequences due for redelivery; `npc`/`npcm` a
 * cached count of messages left to deliver and the highest sequence it covers.
 *
 * Plain state: the consumer's collaborators (acks.ts, pull.ts, ...) change it and mark it dirty for
 * persistence.ts, which writes the `snapshot`.
 */
import type { StreamStore } from '../store/store.js';
import type { Stream } from '../stream.js';
import { type ConsumerConfig, startTimeNanos } from './config.js';
import type { ConsumerState, PendingDelivery } from './store.js';

/** deliver_policy last_per_subject: the last sequence of each subject, delivered first, then `resume`. */
export interface LastPerSubject {
  resume: number;
  seqs: number[];
  i: number;
}

export class DeliveryState {
  sseq = 1;
  dseq = 1;
  adflr = 0;
  asflr = 0;
  npc = 0;
  npcm = 0;
  pending = new Map<number, PendingDelivery>();
  rdc = new Map<number, number>();
  rdq: number[] = [];
  /** The sequences in `rdq`. */
  readonly rdqi = new Set<number>();
  lss: LastPerSubject | undefined;
  /** Last delivery and last ack, ns since the epoch (0n = never). */
  ldt = 0n;
  lat = 0n;

  /** nats-server's selectStartingSeqNo. */
  selectStartingSeqNo(store: StreamStore, cfg: ConsumerConfig): void {
    const st = store.state();
    if (cfg.opt_start_seq === 0) {
      if (cfg.deliver_policy === 'all') {
        this.sseq = st.firstSeq;
      } else if (cfg.deliver_policy === 'last') {
        this.sseq = st.lastSeq;
        if (cfg.filter_subject !== '') this.sseq = store.filteredState(1, cfg.filter_subject).last;
      } else if (cfg.deliver_policy === 'last_per_subject') {
        const mss = store.subjectsState(cfg.filter_subject);
        if (mss.size > 0) {
          const seqs = [...mss.values()].map((s) => s.last).sort((a, b) => a - b);
          this.lss = { resume: st.lastSeq, seqs, i: 0 };
          this.sseq = seqs[0]!;
        } else {
          this.sseq = st.lastSeq;
        }
      } else if (cfg.opt_start_time !== '') {
        this.sseq = store.getSeqFromTime(startTimeNanos(cfg));
      } else {
        this.sseq = st.lastSeq + 1;
      }
    } else {
      this.sseq = cfg.opt_start_seq;
    }
    if (st.firstSeq === 0) this.sseq = 1;
    else if (this.sseq < st.firstSeq) this.sseq = st.firstSeq;
    else if (this.sseq > st.lastSeq) this.sseq = st.lastSeq + 1;
    this.dseq = 1;
    this.adflr = 0;
    this.asflr = this.sseq - 1;
  }

  /** nats-server's applyState (the pending timer is started by acks.ts). */
  apply(st: ConsumerState): void {
    if (this.sseq <= st.delivered.stream) this.sseq = st.delivered.stream + 1;
    this.dseq = st.delivered.consumer + 1;
    this.adflr = st.ackFloor.consumer;
    this.asflr = st.ackFloor.stream;
    this.pending = st.pending;
    this.rdc = st.redelivered;
  }

  /** What persistence.ts writes. */
  snapshot(): ConsumerState {
    return {
      delivered: { consumer: this.dseq - 1, stream: this.sseq - 1 },
      ackFloor: { consumer: this.adflr, stream: this.asflr },
      pending: this.pending,
      redelivered: this.rdc,
    };
  }

  // ---- pending count ----------------------------------------------------------------------------------

  /** nats-server's streamNumPending: recount what is left to deliver. */
  streamNumPending(stream: Stream, cfg: ConsumerConfig): number {
    const store = stream.store;
    if (stream.closed) {
      this.npc = 0;
      this.npcm = 0;
    } else if (cfg.deliver_policy === 'last_per_subject') {
      this.npc = 0;
      this.npcm = 0;
      for (const ss of store.subjectsState(cfg.filter_subject).values()) {
        if (this.sseq <= ss.last) {
          this.npc++;
          if (ss.last > this.npcm) this.npcm = ss.last;
        }
      }
    } else {
      const ss = store.filteredState(this.sseq, cfg.filter_subject);
      this.npc = ss.msgs;
      this.npcm = ss.last;
    }
    return this.npc;
  }

  numPending(stream: Stream, cfg: ConsumerConfig): number {
    if (this.npcm === 0) this.streamNumPending(stream, cfg);
    return this.npc < 0 ? 0 : this.npc;
  }

  // ---- redelivery queue -------------------------------------------------------------------------------

  addToRedeliverQueue(seq: number): void {
    this.rdq.push(seq);
    this.rdqi.add(seq);
  }

  removeFromRedeliverQueue(seq: number): void {
    if (!this.rdqi.delete(seq)) return;
    const i = this.rdq.indexOf(seq);
    if (i >= 0) this.rdq.splice(i, 1);
  }

  /** Count one more delivery of `seq`; returns its delivery count. */
  incDeliveryCount(seq: number): number {
    const n = (this.rdc.get(seq) ?? 0) + 1;
    this.rdc.set(seq, n);
    return n + 1;
  }
}
