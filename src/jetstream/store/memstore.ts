/**
 * The message index both stores share, and the memory store built on it (nats-server's memstore.go).
 *
 * `IndexedStore` owns everything that is about sequences rather than bytes: the sequence index, the
 * per-subject index, the time index, the limits and the max_age timer, and the exact nats-server semantics
 * of purge / purgeEx / compact. A concrete store supplies an entry type and five hooks: `append` (persist a
 * new message), `read` (materialise one), `dropped` (one message left the index), `droppedAll` (purge) and
 * `commit` (end of every mutating operation). The memory store's entries hold the bytes; the file store's
 * entries point into block files (filestore/filestore.ts). Because the index is one piece of code, both
 * stores report identical state for the same operations, which the conformance suite checks.
 *
 * Index layout (all in memory, rebuilt from the log by the file store on open):
 * - `slots[seq - base]` is the entry for `seq`, or undefined for a removed (interior deleted) sequence;
 *   it always spans exactly [base, lastSeq], and `base <= firstSeq`. The front is trimmed in amortised O(1)
 *   as firstSeq advances. Sequences are never reused: purge and compact only move firstSeq forward.
 * - `times[i]` is the timestamp of slot i, kept for removed slots too, so timestamps are non-decreasing
 *   over the whole array (storeMsg clamps the clock so they are) and getSeqFromTime is a binary search.
 * - `subjects` maps each subject to a SubjectIndex: its live sequences in ascending order. That makes
 *   loadLastMsg, per-subject limits, filteredState and subjectsState O(log n) for a literal subject.
 *
 * Invariants: when msgs > 0, slots[firstSeq - base] is live and firstTs is its timestamp; when msgs == 0,
 * firstSeq == lastSeq + 1 (or 0 on a store that never held anything) and firstTs == 0n.
 */

import { randomFillSync } from 'node:crypto';
import { matchLiteral, subjectIsLiteral } from '../../routing/subject.js';
import {
  msgSize,
  nowNanos,
  type SimpleState,
  type StoredMsg,
  StoreError,
  type StoreLimits,
  type StoreRemovalHandler,
  type StreamState,
  type StreamStore,
} from './store.js';

/** No limits: what a stream gets when it sets none. */
export const DEFAULT_STORE_LIMITS: Readonly<StoreLimits> = {
  maxMsgs: -1,
  maxBytes: -1,
  maxAge: 0,
  maxMsgsPerSubject: -1,
};

/** setTimeout's largest delay; a longer max_age simply re-arms the timer when it fires. */
const MAX_TIMER_MS = 0x7fffffff;

/** The live sequences of one subject, ascending. Removing the oldest is O(1) amortised. */
export class SubjectIndex {
  readonly subject: string;
  /** Live sequences are seqs[head..]; entries before head are dead and trimmed in batches. */
  seqs: number[] = [];
  head = 0;
  /** One-entry memo for wildcard scans: the last filter tested and whether this subject matched. */
  private memoFilter: string | undefined;
  private memoMatch = false;

  constructor(subject: string) {
    this.subject = subject;
  }

  get msgs(): number {
    return this.seqs.length - this.head;
  }

  get first(): number {
    return this.seqs[this.head]!;
  }

  get last(): number {
    return this.seqs[this.seqs.length - 1]!;
  }

  /** matchLiteral(subject, filter), remembered for the last filter (consumers ask with the same one). */
  matches(filter: string): boolean {
    if (this.memoFilter !== filter) {
      this.memoFilter = filter;
      this.memoMatch = matchLiteral(this.subject, filter);
    }
    return this.memoMatch;
  }

  /** Index in `seqs` of the first live sequence >= seq (seqs.length when none). */
  lowerBound(seq: number): number {
    const s = this.seqs;
    let lo = this.head;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index in `seqs` of the last live sequence <= seq (head - 1 when none). */
  upperBound(seq: number): number {
    return this.lowerBound(seq + 1) - 1;
  }

  /** Remove a live sequence; true when the subject is now empty (the caller drops it). */
  remove(seq: number): boolean {
    const s = this.seqs;
    if (s[this.head] === seq) {
      this.head++;
      if (this.head === s.length) return true;
      if (this.head >= 32 && this.head * 2 >= s.length) {
        s.copyWithin(0, this.head);
        s.length -= this.head;
        this.head = 0;
      }
    } else if (s[s.length - 1] === seq) {
      s.pop();
    } else {
      const i = this.lowerBound(seq);
      if (s[i] === seq) s.splice(i, 1);
    }
    return false;
  }
}

/** What the shared index needs from a store's entry. */
export interface IndexedMsg {
  readonly seq: number;
  readonly ts: bigint;
  readonly subj: SubjectIndex;
  /** sizeOf() of the message, what it counts against max_bytes. */
  readonly size: number;
}

function isAll(filter: string): boolean {
  return filter === '' || filter === '>';
}

/**
 * The sequence/subject/time index, limits and removal semantics shared by the memory and file stores.
 * Every public mutating method ends with finishOp(): the store's commit(), then onRemove notifications.
 */
export abstract class IndexedStore<E extends IndexedMsg> implements StreamStore {
  protected limits: StoreLimits;
  protected slots: (E | undefined)[] = [];
  protected times: bigint[] = [];
  /** Sequence of slots[0]. */
  protected base = 1;
  protected readonly subjects = new Map<string, SubjectIndex>();
  protected msgs = 0;
  protected bytes = 0;
  protected firstSeq = 0;
  protected lastSeq = 0;
  protected firstTs = 0n;
  protected lastTs = 0n;
  protected closed = false;
  private readonly handlers: StoreRemovalHandler[] = [];
  /** Sequences removed by limits or expiry in the current operation, reported by finishOp. */
  private removedByLimits: number[] = [];
  private ageTimer: NodeJS.Timeout | undefined;

  constructor(limits?: Partial<StoreLimits>) {
    this.limits = { ...DEFAULT_STORE_LIMITS, ...limits };
  }

  // ---- hooks for the concrete store ----

  /** Persist a new message and return its entry. May throw (then nothing changed). */
  protected abstract append(
    seq: number,
    ts: bigint,
    subj: SubjectIndex,
    hdr: Buffer,
    data: Buffer,
    size: number,
  ): E;
  /** Materialise a live entry (undefined when it cannot be read). */
  protected abstract read(e: E): StoredMsg | undefined;
  /** `e` just left the index (state already updated: firstSeq has moved if `e` was the first). */
  protected abstract dropped(e: E, erase: boolean): void;
  /** Every message left at once (purge, compact past the end); firstSeq/lastSeq already set. */
  protected abstract droppedAll(): void;
  /** End of a mutating operation: make its effects as durable as the store promises. */
  protected abstract commit(): void;

  /** What a message counts for in `bytes` and against max_bytes (the file store counts its records). */
  protected sizeOf(subject: string, hdr: Buffer, data: Buffer): number {
    return msgSize(subject, hdr, data);
  }

  // ---- StreamStore ----

  storeMsg(subject: string, hdr: Buffer, data: Buffer, at?: bigint): { seq: number; ts: bigint } {
    this.checkOpen();
    const seq = this.lastSeq + 1;
    let ts = at ?? nowNanos();
    // The time index needs non-decreasing timestamps; the wall clock may have stepped back since the
    // last message (for example across a restart), so never go below the previous one.
    if (ts < this.lastTs) ts = this.lastTs;
    const size = this.sizeOf(subject, hdr, data);
    let subj = this.subjects.get(subject);
    const isNew = subj === undefined;
    if (subj === undefined) subj = new SubjectIndex(subject);
    const e = this.append(seq, ts, subj, hdr, data, size);
    if (isNew) this.subjects.set(subject, subj);
    this.indexAppended(e, subj, seq, ts, size);
    const maxPer = this.limits.maxMsgsPerSubject;
    if (maxPer > 0) {
      while (subj.msgs > maxPer) this.removeEntry(this.slots[subj.first - this.base]!, false, true);
    }
    this.enforceMsgLimits();
    this.finishOp();
    return { seq, ts };
  }

  loadMsg(seq: number): StoredMsg | undefined {
    const e = this.entry(seq);
    return e === undefined ? undefined : this.read(e);
  }

  loadNextMsg(filter: string, start: number): StoredMsg | undefined {
    const e = this.nextEntry(filter, start);
    return e === undefined ? undefined : this.read(e);
  }

  loadLastMsg(subject: string): StoredMsg | undefined {
    const e = this.lastEntry(subject);
    return e === undefined ? undefined : this.read(e);
  }

  removeMsg(seq: number, erase = false): boolean {
    this.checkOpen();
    const e = this.entry(seq);
    if (e === undefined) return false;
    this.removeEntry(e, erase, false);
    this.finishOp();
    return true;
  }

  purge(): number {
    this.checkOpen();
    const n = this.msgs;
    this.resetIndex(this.lastSeq + 1);
    this.droppedAll();
    this.finishOp();
    return n;
  }

  purgeEx(subject: string, seq: number, keep: number): number {
    if (seq > 1 && keep > 0) {
      throw new StoreError('ERR_PURGE_ARG_MISMATCH', 'sequence > 1 && keep > 0 not allowed');
    }
    this.checkOpen();
    if (isAll(subject)) {
      // nats-server: the whole stream is a purge, a compact to `seq`, or a compact keeping the last
      // `keep` *sequences* (so interior deletes among them mean fewer than `keep` messages stay).
      if (keep === 0 && (seq === 0 || seq === 1)) return this.purge();
      if (seq > 1) return this.compact(seq);
      if (keep > 0) {
        if (keep >= this.msgs) return 0;
        return this.compact(this.lastSeq - keep + 1);
      }
      return 0;
    }
    const ss = this.filteredState(1, subject);
    if (ss.msgs === 0) return 0;
    let max = ss.msgs;
    if (keep > 0) {
      if (keep >= ss.msgs) return 0;
      max = ss.msgs - keep;
    }
    const last = seq > 1 ? seq - 1 : ss.last;
    const seqs = this.matchingSeqs(subject, ss.first, last, max);
    for (const s of seqs) this.removeEntry(this.slots[s - this.base]!, false, false);
    this.finishOp();
    return seqs.length;
  }

  compact(seq: number): number {
    this.checkOpen();
    if (seq === 0) return this.purge();
    if (seq > this.lastSeq) {
      // Past the end: a purge that also moves the sequence on, so the next message gets `seq`.
      const n = this.msgs;
      this.resetIndex(seq);
      this.droppedAll();
      this.finishOp();
      return n;
    }
    let n = 0;
    while (this.msgs > 0 && this.firstSeq < seq) {
      this.removeEntry(this.slots[this.firstSeq - this.base]!, false, false);
      n++;
    }
    this.finishOp();
    return n;
  }

  /**
   * Added for snapshot restore: fill this empty store with the messages of `src`, keeping their
   * sequences, timestamps and subjects, the gaps between them (deleted messages) and the last sequence
   * (deletes at the end, or a purge). The store's limits are enforced once at the end.
   */
  importFrom(src: StreamStore): void {
    this.checkOpen();
    if (this.lastSeq !== 0 || this.msgs !== 0) throw new Error('import into a store that is not empty');
    const st = src.state();
    for (let m = src.loadNextMsg('', st.firstSeq); m !== undefined; m = src.loadNextMsg('', m.seq + 1)) {
      this.appendAt(m.seq, m.ts, m.subject, m.hdr, m.data);
    }
    if (st.lastSeq > this.lastSeq) {
      if (this.msgs === 0) {
        this.resetIndex(st.lastSeq + 1);
      } else {
        for (let seq = this.lastSeq + 1; seq <= st.lastSeq; seq++) {
          this.slots.push(undefined);
          this.times.push(this.lastTs);
        }
        this.lastSeq = st.lastSeq;
      }
    }
    if (st.lastTs > this.lastTs) this.lastTs = st.lastTs;
    this.droppedAllIfEmpty();
    this.enforceAllLimits();
    this.finishOp();
  }

  /** importFrom: one message at `seq` (> lastSeq); the sequences skipped are deleted ones. */
  private appendAt(seq: number, ts: bigint, subject: string, hdr: Buffer, data: Buffer): void {
    const size = this.sizeOf(subject, hdr, data);
    let subj = this.subjects.get(subject);
    if (subj === undefined) {
      subj = new SubjectIndex(subject);
      this.subjects.set(subject, subj);
    }
    const e = this.append(seq, ts, subj, hdr, data, size);
    if (this.slots.length === 0) {
      this.base = seq;
    } else {
      for (let s = this.lastSeq + 1; s < seq; s++) {
        this.slots.push(undefined);
        this.times.push(this.lastTs);
      }
    }
    this.indexAppended(e, subj, seq, ts, size);
  }

  /** The index's side of a message appended at `seq` (the next slot): counts, times, its subject. */
  private indexAppended(e: E, subj: SubjectIndex, seq: number, ts: bigint, size: number): void {
    if (this.msgs === 0) {
      this.firstSeq = seq;
      this.firstTs = ts;
    }
    this.slots.push(e);
    this.times.push(ts);
    this.msgs++;
    this.bytes += size;
    this.lastSeq = seq;
    this.lastTs = ts;
    subj.seqs.push(seq);
  }

  /** A store that ends up empty after an import keeps its sequence on disk (the file store's floor). */
  protected droppedAllIfEmpty(): void {
    if (this.msgs === 0 && this.lastSeq > 0) this.droppedAll();
  }

  getSeqFromTime(ts: bigint): number {
    if (this.msgs === 0) return this.lastSeq + 1;
    const times = this.times;
    let lo = this.firstSeq - this.base;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (times[mid]! < ts) lo = mid + 1;
      else hi = mid;
    }
    const slots = this.slots;
    while (lo < slots.length && slots[lo] === undefined) lo++;
    return lo < slots.length ? this.base + lo : this.lastSeq + 1;
  }

  filteredState(start: number, subject: string): SimpleState {
    const ss: SimpleState = { msgs: 0, first: 0, last: 0 };
    if (this.msgs === 0) return ss;
    if (start < this.firstSeq) start = this.firstSeq;
    if (start > this.lastSeq) return ss;
    if (isAll(subject)) {
      const first = this.scanForward(start);
      if (first === undefined) return ss;
      ss.first = first.seq;
      ss.last = this.scanBackward(this.lastSeq)!.seq;
      ss.msgs = ss.first === this.firstSeq ? this.msgs : this.countLive(ss.first, ss.last);
      return ss;
    }
    if (subjectIsLiteral(subject)) {
      const s = this.subjects.get(subject);
      if (s === undefined) return ss;
      const i = s.lowerBound(start);
      if (i < s.seqs.length) {
        ss.msgs = s.seqs.length - i;
        ss.first = s.seqs[i]!;
        ss.last = s.last;
      }
      return ss;
    }
    if (this.subjects.size <= this.lastSeq - start + 1) {
      for (const s of this.subjects.values()) {
        if (!s.matches(subject)) continue;
        const i = s.lowerBound(start);
        if (i >= s.seqs.length) continue;
        ss.msgs += s.seqs.length - i;
        if (ss.first === 0 || s.seqs[i]! < ss.first) ss.first = s.seqs[i]!;
        if (s.last > ss.last) ss.last = s.last;
      }
      return ss;
    }
    const slots = this.slots;
    for (let i = start - this.base; i < slots.length; i++) {
      const e = slots[i];
      if (e === undefined || !e.subj.matches(subject)) continue;
      ss.msgs++;
      if (ss.first === 0) ss.first = e.seq;
      ss.last = e.seq;
    }
    return ss;
  }

  subjectsState(filter: string): Map<string, SimpleState> {
    const out = new Map<string, SimpleState>();
    if (isAll(filter)) {
      for (const s of this.subjects.values())
        out.set(s.subject, { msgs: s.msgs, first: s.first, last: s.last });
    } else if (subjectIsLiteral(filter)) {
      const s = this.subjects.get(filter);
      if (s !== undefined) out.set(s.subject, { msgs: s.msgs, first: s.first, last: s.last });
    } else {
      for (const s of this.subjects.values()) {
        if (s.matches(filter)) out.set(s.subject, { msgs: s.msgs, first: s.first, last: s.last });
      }
    }
    return out;
  }

  state(withDeleted = false): StreamState {
    const st: StreamState = {
      msgs: this.msgs,
      bytes: this.bytes,
      firstSeq: this.firstSeq,
      firstTs: this.firstTs,
      lastSeq: this.lastSeq,
      lastTs: this.lastTs,
      numSubjects: this.subjects.size,
      numDeleted: this.msgs === 0 ? 0 : this.lastSeq - this.firstSeq + 1 - this.msgs,
    };
    if (withDeleted) {
      const deleted: number[] = [];
      if (st.numDeleted > 0) {
        const slots = this.slots;
        for (let i = this.firstSeq - this.base; i < slots.length; i++) {
          if (slots[i] === undefined) deleted.push(this.base + i);
        }
      }
      st.deleted = deleted;
    }
    return st;
  }

  updateLimits(limits: StoreLimits): void {
    this.checkOpen();
    const ageChanged = limits.maxAge !== this.limits.maxAge;
    this.limits = { ...limits };
    const maxPer = limits.maxMsgsPerSubject;
    if (maxPer > 0) {
      for (const s of this.subjects.values()) {
        while (s.msgs > maxPer) this.removeEntry(this.slots[s.first - this.base]!, false, true);
      }
    }
    this.enforceMsgLimits();
    if (ageChanged) {
      this.clearAgeTimer();
      this.expire();
    }
    this.finishOp();
  }

  onRemove(handler: StoreRemovalHandler): void {
    this.handlers.push(handler);
  }

  abstract flush(): void;
  abstract stop(): void;
  abstract delete(): void;

  // ---- shared internals ----

  protected checkOpen(): void {
    if (this.closed) throw new StoreError('ERR_STORE_CLOSED', 'store is closed');
  }

  /** The live entry for `seq`, if any. */
  protected entry(seq: number): E | undefined {
    if (seq < this.firstSeq || seq > this.lastSeq) return undefined;
    return this.slots[seq - this.base];
  }

  /** Drop the whole index; the next message gets max(lastSeq + 1, first). */
  protected resetIndex(first: number): void {
    this.slots = [];
    this.times = [];
    this.subjects.clear();
    this.msgs = 0;
    this.bytes = 0;
    if (first > this.lastSeq + 1) this.lastSeq = first - 1;
    this.firstSeq = this.lastSeq + 1;
    this.firstTs = 0n;
    this.base = this.firstSeq;
  }

  /** Take one live entry out of the index and tell the store. */
  protected removeEntry(e: E, erase: boolean, byLimit: boolean): void {
    const seq = e.seq;
    this.slots[seq - this.base] = undefined;
    this.msgs--;
    this.bytes -= e.size;
    if (e.subj.remove(seq)) this.subjects.delete(e.subj.subject);
    if (this.msgs === 0) {
      this.firstSeq = this.lastSeq + 1;
      this.firstTs = 0n;
      this.slots = [];
      this.times = [];
      this.base = this.firstSeq;
    } else if (seq === this.firstSeq) {
      this.advanceFirst();
    }
    if (byLimit) this.removedByLimits.push(seq);
    this.dropped(e, erase);
  }

  /** Call at the end of every mutating operation. */
  protected finishOp(): void {
    this.commit();
    this.scheduleAge();
    if (this.removedByLimits.length > 0) {
      const seqs = this.removedByLimits;
      this.removedByLimits = [];
      for (const h of this.handlers) h(seqs);
    }
  }

  /** Run limits and expiry once more (the file store after recovery). */
  protected enforceAllLimits(): void {
    const maxPer = this.limits.maxMsgsPerSubject;
    if (maxPer > 0) {
      for (const s of this.subjects.values()) {
        while (s.msgs > maxPer) this.removeEntry(this.slots[s.first - this.base]!, false, true);
      }
    }
    this.enforceMsgLimits();
    this.expire();
  }

  protected stopTimers(): void {
    this.clearAgeTimer();
  }

  private advanceFirst(): void {
    const slots = this.slots;
    let i = this.firstSeq - this.base + 1;
    while (slots[i] === undefined) i++; // msgs > 0, so a live slot exists
    const e = slots[i]!;
    this.firstSeq = e.seq;
    this.firstTs = e.ts;
    if (i >= 1024 && i * 2 >= slots.length) {
      slots.splice(0, i);
      this.times.splice(0, i);
      this.base += i;
    }
  }

  private removeFirst(byLimit: boolean): void {
    this.removeEntry(this.slots[this.firstSeq - this.base]!, false, byLimit);
  }

  private enforceMsgLimits(): void {
    const { maxMsgs, maxBytes } = this.limits;
    if (maxMsgs > 0) while (this.msgs > maxMsgs) this.removeFirst(true);
    if (maxBytes > 0) while (this.bytes > maxBytes) this.removeFirst(true);
  }

  private scanForward(seq: number): E | undefined {
    const slots = this.slots;
    for (let i = seq - this.base; i < slots.length; i++) {
      const e = slots[i];
      if (e !== undefined) return e;
    }
    return undefined;
  }

  private scanBackward(seq: number): E | undefined {
    const slots = this.slots;
    const lo = this.firstSeq - this.base;
    for (let i = seq - this.base; i >= lo; i--) {
      const e = slots[i];
      if (e !== undefined) return e;
    }
    return undefined;
  }

  /** Live messages in [from, to], counting whichever side of the range is shorter. */
  private countLive(from: number, to: number): number {
    const slots = this.slots;
    const inside = to - from + 1;
    const outside = this.lastSeq - this.firstSeq + 1 - inside;
    if (inside <= outside) {
      let n = 0;
      for (let i = from - this.base; i <= to - this.base; i++) if (slots[i] !== undefined) n++;
      return n;
    }
    let n = this.msgs;
    for (let i = this.firstSeq - this.base; i < from - this.base; i++) if (slots[i] !== undefined) n--;
    for (let i = to - this.base + 1; i < slots.length; i++) if (slots[i] !== undefined) n--;
    return n;
  }

  /**
   * First live entry at or after `start` matching `filter`. A wildcard filter first scans a short stretch
   * of the log (consumers usually find the next match at once), then, when the log ahead is longer than
   * the subject list, asks each matching subject's index instead.
   */
  private nextEntry(filter: string, start: number): E | undefined {
    if (this.msgs === 0) return undefined;
    if (start < this.firstSeq) start = this.firstSeq;
    if (start > this.lastSeq) return undefined;
    if (isAll(filter)) return this.scanForward(start);
    if (subjectIsLiteral(filter)) {
      const s = this.subjects.get(filter);
      if (s === undefined) return undefined;
      const i = s.lowerBound(start);
      return i < s.seqs.length ? this.slots[s.seqs[i]! - this.base] : undefined;
    }
    const slots = this.slots;
    const end = slots.length;
    let i = start - this.base;
    const probe = Math.min(end, i + Math.max(64, this.subjects.size));
    for (; i < probe; i++) {
      const e = slots[i];
      if (e?.subj.matches(filter)) return e;
    }
    if (end - i > this.subjects.size) {
      let best = Number.POSITIVE_INFINITY;
      const from = this.base + i;
      for (const s of this.subjects.values()) {
        if (!s.matches(filter)) continue;
        const j = s.lowerBound(from);
        if (j < s.seqs.length && s.seqs[j]! < best) best = s.seqs[j]!;
      }
      return best === Number.POSITIVE_INFINITY ? undefined : slots[best - this.base];
    }
    for (; i < end; i++) {
      const e = slots[i];
      if (e?.subj.matches(filter)) return e;
    }
    return undefined;
  }

  private lastEntry(subject: string): E | undefined {
    if (this.msgs === 0) return undefined;
    if (isAll(subject)) return this.scanBackward(this.lastSeq);
    if (subjectIsLiteral(subject)) {
      const s = this.subjects.get(subject);
      return s === undefined ? undefined : this.slots[s.last - this.base];
    }
    let best = 0;
    for (const s of this.subjects.values()) {
      if (s.matches(subject) && s.last > best) best = s.last;
    }
    return best === 0 ? undefined : this.slots[best - this.base];
  }

  /** Up to `max` live sequences in [from, to] matching `filter` (not ''/'>'), ascending. */
  private matchingSeqs(filter: string, from: number, to: number, max: number): number[] {
    const out: number[] = [];
    const collect = (s: SubjectIndex): void => {
      const end = s.upperBound(to);
      for (let i = s.lowerBound(from); i <= end; i++) out.push(s.seqs[i]!);
    };
    if (subjectIsLiteral(filter)) {
      const s = this.subjects.get(filter);
      if (s !== undefined) collect(s);
    } else {
      for (const s of this.subjects.values()) if (s.matches(filter)) collect(s);
      out.sort((a, b) => a - b);
    }
    if (out.length > max) out.length = max;
    return out;
  }

  private scheduleAge(): void {
    const maxAge = this.limits.maxAge;
    if (maxAge <= 0 || this.msgs === 0 || this.closed) {
      this.clearAgeTimer();
      return;
    }
    if (this.ageTimer !== undefined) return;
    // Fire when the oldest message reaches max_age; the handler re-arms for the next oldest.
    const due = this.firstTs + BigInt(Math.round(maxAge * 1e6));
    const delay = Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(Number(due - nowNanos()) / 1e6)));
    this.ageTimer = setTimeout(this.onAgeTimer, delay);
    this.ageTimer.unref();
  }

  private readonly onAgeTimer = (): void => {
    this.ageTimer = undefined;
    if (this.closed) return;
    this.expire();
    this.finishOp();
  };

  private clearAgeTimer(): void {
    if (this.ageTimer !== undefined) {
      clearTimeout(this.ageTimer);
      this.ageTimer = undefined;
    }
  }

  /** Remove every message older than max_age (nats-server: ts <= now - max_age). */
  private expire(): void {
    const maxAge = this.limits.maxAge;
    if (maxAge <= 0 || this.msgs === 0) return;
    const minTs = nowNanos() - BigInt(Math.round(maxAge * 1e6));
    while (this.msgs > 0 && this.firstTs <= minTs) this.removeFirst(true);
  }
}

/** A memory store entry: the message bytes (header then payload) in one buffer. */
class MemEntry implements IndexedMsg {
  constructor(
    readonly seq: number,
    readonly ts: bigint,
    readonly subj: SubjectIndex,
    readonly size: number,
    readonly buf: Buffer,
    readonly hdrLen: number,
  ) {}
}

/**
 * nats-server's memStore: `new MemStore(limits?)`. Messages are copied in on store (the caller's buffers may be a reused read
 * buffer); loads return views of the stored copy, which callers must not modify.
 */
/** The headers of a message without any (shared; a zero-length Buffer cannot be written to). */
const NO_BYTES = Buffer.alloc(0);

export class MemStore extends IndexedStore<MemEntry> {
  protected append(
    seq: number,
    ts: bigint,
    subj: SubjectIndex,
    hdr: Buffer,
    data: Buffer,
    size: number,
  ): MemEntry {
    const buf = Buffer.allocUnsafe(hdr.length + data.length);
    hdr.copy(buf, 0);
    data.copy(buf, hdr.length);
    return new MemEntry(seq, ts, subj, size, buf, hdr.length);
  }

  protected read(e: MemEntry): StoredMsg {
    // Most messages have no headers: no views to make then (this runs for every delivery).
    const h = e.hdrLen;
    return {
      subject: e.subj.subject,
      seq: e.seq,
      ts: e.ts,
      hdr: h === 0 ? NO_BYTES : e.buf.subarray(0, h),
      data: h === 0 ? e.buf : e.buf.subarray(h),
    };
  }

  protected dropped(e: MemEntry, erase: boolean): void {
    if (erase) randomFillSync(e.buf);
  }

  protected droppedAll(): void {}

  protected commit(): void {}

  flush(): void {}

  stop(): void {
    this.closed = true;
    this.stopTimers();
  }

  delete(): void {
    if (!this.closed) this.purge();
    this.stop();
  }
}
