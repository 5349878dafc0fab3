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
import { type ConsumerConfig, consumerFilters, startTimeNanos } from './config.js';
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
        const filters = consumerFilters(cfg);
        if (filters.length > 0) this.sseq = filteredState(store, 1, filters).last;
      } else if (cfg.deliver_policy === 'last_per_subject') {
        const mss = subjectsState(store, consumerFilters(cfg));
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
    // nats-server sets the ack floor to sseq - 1 here, then, taking leadership, reads it back from the
    // consumer store, where SetStarting recorded only the delivered sequence: a new consumer's stream ack
    // floor is 0 until something is delivered (ack none) or acknowledged, in its info and in needAck.
    this.adflr = 0;
    this.asflr = 0;
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
      for (const ss of subjectsState(store, consumerFilters(cfg)).values()) {
        if (this.sseq <= ss.last) {
          this.npc++;
          if (ss.last > this.npcm) this.npcm = ss.last;
        }
      }
    } else {
      const ss = filteredState(store, this.sseq, consumerFilters(cfg));
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

// ---- several filters (nats-server 2.10's filter_subjects) ----------------------------------------------
// The filters of one consumer never overlap (checkConsumerConfig), so counts add up without double
// counting a message.

/** The messages from `start` on matching any of `filters` (all messages when there are none). */
export function filteredState(
  store: StreamStore,
  start: number,
  filters: readonly string[],
): { msgs: number; first: number; last: number } {
  if (filters.length <= 1) return store.filteredState(start, filters[0] ?? '');
  const out = { msgs: 0, first: 0, last: 0 };
  for (const f of filters) {
    const ss = store.filteredState(start, f);
    if (ss.msgs === 0) continue;
    out.msgs += ss.msgs;
    if (out.first === 0 || ss.first < out.first) out.first = ss.first;
    if (ss.last > out.last) out.last = ss.last;
  }
  return out;
}

/** The per-subject state of every subject matching any of `filters`. */
export function subjectsState(
  store: StreamStore,
  filters: readonly string[],
): ReturnType<StreamStore['subjectsState']> {
  if (filters.length <= 1) return store.subjectsState(filters[0] ?? '');
  const out: ReturnType<StreamStore['subjectsState']> = new Map();
  for (const f of filters) for (const [subj, ss] of store.subjectsState(f)) out.set(subj, ss);
  return out;
}

/** The first message at or after `start` matching any of `filters`: stream order across filters. */
export function loadNextMsg(
  store: StreamStore,
  filters: readonly string[],
  start: number,
): ReturnType<StreamStore['loadNextMsg']> {
  if (filters.length <= 1) return store.loadNextMsg(filters[0] ?? '', start);
  let best: ReturnType<StreamStore['loadNextMsg']>;
  for (const f of filters) {
    const m = store.loadNextMsg(f, start);
    if (m !== undefined && (best === undefined || m.seq < best.seq)) best = m;
  }
  return best;
}
