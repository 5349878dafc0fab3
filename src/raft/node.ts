/**
 * One member of one Raft group, speaking nats-server 2.9's NRG (server/raft.go) so that tsnats nodes and
 * Go nodes can form one group. The behaviour follows Go's, quirks included where a Go peer would notice
 * (docs/design/nrg.md cites the Go functions; the section numbers below are that document's).
 *
 *   follower   answers every append entry (AE) it accepts, heartbeats included, with an AE response (AR)
 *              to the AE's reply subject; asks for a catch-up when the leader is ahead (§8.1, §9.1); votes
 *              (§5.4); becomes candidate when the election timer (4-9 s) fires.
 *   candidate  term + 1, votes for itself, asks the others on $NRG.V.<group>; a quorum of grants makes it
 *              leader; any AE makes it follower again (§5.3).
 *   leader     stores each proposal batch in its log, then sends it as one AE on $NRG.AE.<group>; commits
 *              an index once a quorum (itself included) has acknowledged it; heartbeats every second when
 *              idle; streams stored AEs (or its snapshot) to a follower that asks for a catch-up; steps
 *              down on a higher term or when it has not heard from a quorum for 10 s (§6).
 *
 * Everything runs on the event loop: handlers are called by the transport, timers by Node. Messages are
 * sent through the transport, which delivers them after the current delivery (the re-entrancy rule).
 * Committed entries go to the upper layer (`RaftApplier`) synchronously, in index order.
 */
import {
  type AppendEntry,
  type AppendEntryResponse,
  appendEntryTerm,
  DomainExt,
  decodeAppendEntry,
  decodeAppendEntryResponse,
  decodePeerState,
  decodeVoteRequest,
  decodeVoteResponse,
  type Entry,
  EntryType,
  encodeAppendEntry,
  encodeAppendEntryResponse,
  encodePeerState,
  encodeVoteRequest,
  encodeVoteResponse,
  ID_LEN,
  MAX_ENTRIES,
  type PeerState,
  type VoteRequest,
} from './codec.js';
import {
  appendSubject,
  newCatchupInbox,
  newReplyInbox,
  proposalSubject,
  removePeerSubject,
  voteSubject,
} from './ids.js';
import type { RaftStorage } from './storage.js';

/** How a node reaches the other members: the system account over the routes (transport.ts). */
export interface RaftTransport {
  /**
   * Subscribe a handler; returns a function that unsubscribes. A node never receives what it sends
   * itself (Go's noIcb).
   */
  subscribe(subject: string, handler: (reply: string, data: Buffer) => void): () => void;
  /** Send, after the current delivery, in order. */
  send(subject: string, reply: string, data: Buffer): void;
}

/** Committed entries, in index order: Normal, Snapshot, AddPeer and RemovePeer (the others stay inside). */
export interface CommittedEntry {
  index: number;
  entries: Entry[];
}

/** The upper layer (the meta group, a stream, a consumer). */
export interface RaftApplier {
  /** Apply what was committed. Called synchronously; the node counts it as applied when this returns. */
  apply(ce: CommittedEntry): void;
  /** This node became leader (true) or stopped being leader (false). */
  leaderChanged(isLeader: boolean): void;
  /** Index `index` is applied (whether or not it carried entries for the upper layer). */
  applied?(index: number): void;
}

export type RaftState = 'follower' | 'candidate' | 'leader' | 'closed';

/** A node's state for monitoring (RaftNode.raftzInfo). Times in ms since the epoch (0: never). */
export interface RaftzNodeInfo {
  id: string;
  state: RaftState;
  size: number;
  quorumNeeded: number;
  committed: number;
  applied: number;
  catchingUp: boolean;
  leader: string;
  everHadLeader: boolean;
  term: number;
  vote: string;
  pterm: number;
  pindex: number;
  /** Proposals waiting to be sent. */
  proposals: number;
  log: { count: number; bytes: number; firstIndex: number; lastIndex: number };
  /** The other peers this node knows of, members (`known`) or not. */
  peers: { id: string; known: boolean; lastIndex: number; lastSeen: number }[];
}

/** nats-server's timing (raft.go:229); tests scale them down. All in milliseconds. */
export interface RaftTiming {
  electionMin: number;
  electionMax: number;
  campaignMin: number;
  campaignMax: number;
  heartbeat: number;
  lostQuorum: number;
  /** A catch-up with no acknowledgement for this long is dropped (activityInterval). */
  catchupActivity: number;
}

export const GO_TIMING: RaftTiming = {
  electionMin: 4000,
  electionMax: 9000,
  campaignMin: 100,
  campaignMax: 800,
  heartbeat: 1000,
  lostQuorum: 10_000,
  catchupActivity: 2000,
};

export interface RaftConfig {
  /** The group name: `_meta_`, `S-R3F-...`, `C-R3F-...`. */
  group: string;
  /** This server's node id (ids.ts nodeIdOf). */
  id: string;
  storage: RaftStorage;
  transport: RaftTransport;
  applier: RaftApplier;
  /** Peers to start with when the group is new (bootstrap); ignored when peer state exists. */
  knownPeers: string[];
  /** Expected cluster size at bootstrap (defaults to knownPeers.length). */
  clusterSize?: number;
  timing?: Partial<RaftTiming>;
  log?: (level: 'debug' | 'notice' | 'warn', msg: string) => void;
  /** Whether an id belongs to a server that is known and not offline (StepDown's candidate filter). */
  isOnline?: (id: string) => boolean;
}

interface Peer {
  /** Last contact (ms). */
  ts: number;
  /** Last index this peer acknowledged (leader side). */
  li: number;
  /** An official member (counted in the cluster size). */
  kp: boolean;
}

/** A follower's catch-up (§9.1). */
interface FollowerCatchup {
  inbox: string;
  unsubscribe: () => void;
  cterm: number;
  cindex: number;
  pterm: number;
  pindex: number;
  /** When pindex last moved. */
  active: number;
}

/** The leader's catch-up of one follower (§9.2 runCatchup). */
interface LeaderCatchup {
  peer: string;
  subject: string;
  /** The leader's last index when the catch-up started. */
  last: number;
  next: number;
  outstanding: number;
  sizes: Map<number, number>;
  timer: NodeJS.Timeout | undefined;
}

/** Most AE bytes in flight to a catching-up follower (maxOutstanding). */
const CATCHUP_WINDOW = 2 * 1024 * 1024;
/** A proposal batch closes at this many bytes (maxBatch). */
const MAX_BATCH = 256 * 1024;
/** A follower whose catch-up made no progress for this long asks again (catchupStalled). */
const CATCHUP_STALL = 2000;

export class RaftNode {
  readonly group: string;
  readonly id: string;
  private readonly timing: RaftTiming;
  private readonly storage: RaftStorage;
  private readonly transport: RaftTransport;
  private readonly applier: RaftApplier;
  private readonly logFn: NonNullable<RaftConfig['log']>;
  private readonly isOnline: (id: string) => boolean;

  private st: RaftState = 'follower';
  private term = 0;
  private vote = '';
  private leaderId = '';
  private hadLeader = false;
  /** Term and index of the last log entry. */
  private pterm = 0;
  private pindex = 0;
  private commitIndex = 0;
  private appliedIndex = 0;
  private csz = 1;
  private qn = 1;
  private extSt: number = DomainExt.Undetermined;
  private readonly peers = new Map<string, Peer>();
  private readonly removed = new Set<string>();
  /** Leader: who acknowledged each index it stored (itself included). */
  private readonly acks = new Map<number, Set<string>>();
  private votes = new Set<string>();
  private catchup: FollowerCatchup | undefined;
  private readonly progress = new Map<string, LeaderCatchup>();
  /** We were chosen by a leader transfer: AEs do not reset the election timer until the vote. */
  private lxfer = false;
  /** Leader: when an AE with entries last went out. */
  private active = 0;
  /** Leader: when the cluster size last grew (lost-quorum grace). */
  private lsut = 0;
  private proposals: Entry[] = [];
  private proposalBytes = 0;
  /** Leader: callbacks waiting for the queued proposals to commit, then for their index. */
  private batchWaiters: (() => void)[] = [];
  private commitWaiters: { index: number; cb: () => void }[] = [];
  private flushScheduled = false;
  private readonly vreply = newReplyInbox();
  private readonly areply = newReplyInbox();
  private readonly unsubs: (() => void)[] = [];
  private leaderUnsubs: (() => void)[] = [];
  private electTimer: NodeJS.Timeout | undefined;
  private hbTimer: NodeJS.Timeout | undefined;
  private quorumTimer: NodeJS.Timeout | undefined;

  constructor(cfg: RaftConfig) {
    this.group = cfg.group;
    this.id = cfg.id;
    if (cfg.id.length !== ID_LEN) throw new RangeError(`node id must be ${ID_LEN} characters`);
    this.timing = { ...GO_TIMING, ...cfg.timing };
    this.storage = cfg.storage;
    this.transport = cfg.transport;
    this.applier = cfg.applier;
    this.logFn = cfg.log ?? (() => {});
    this.isOnline = cfg.isOnline ?? (() => true);
    this.startUp(cfg);
  }

  // ---- public API ---------------------------------------------------------------------------------------

  get state(): RaftState {
    return this.st;
  }

  isLeader(): boolean {
    return this.st === 'leader';
  }

  /** The current leader's id, '' when unknown. */
  get leader(): string {
    return this.leaderId;
  }

  get currentTerm(): number {
    return this.term;
  }

  get clusterSize(): number {
    return this.csz;
  }

  /** Index and term of the last log entry, the commit index and the applied index. */
  progressInfo(): { index: number; term: number; commit: number; applied: number } {
    return { index: this.pindex, term: this.pterm, commit: this.commitIndex, applied: this.appliedIndex };
  }

  /** The node's state as nats-server 2.10's Raftz reports it (monitor/raftz.ts puts it in that shape). */
  raftzInfo(): RaftzNodeInfo {
    const log = this.storage.log;
    const peers: RaftzNodeInfo['peers'] = [];
    for (const [id, p] of this.peers) {
      if (id !== this.id) peers.push({ id, known: p.kp, lastIndex: p.li, lastSeen: p.ts });
    }
    return {
      id: this.id,
      state: this.st,
      size: this.csz,
      quorumNeeded: this.qn,
      committed: this.commitIndex,
      applied: this.appliedIndex,
      catchingUp: this.catchup !== undefined,
      leader: this.leaderId,
      everHadLeader: this.hadLeader,
      term: this.term,
      vote: this.vote,
      pterm: this.pterm,
      pindex: this.pindex,
      proposals: this.proposals.length,
      log: { count: log.count, bytes: log.bytes, firstIndex: log.firstIndex, lastIndex: log.lastIndex },
      peers,
    };
  }

  /** Whether the group has ever had a leader. */
  hadPreviousLeader(): boolean {
    return this.hadLeader;
  }

  /** Official members, this node included. */
  peerIds(): string[] {
    return [...this.peers].filter(([, p]) => p.kp).map(([id]) => id);
  }

  /** Every peer this node has heard of, members or not (nats-server's Peers(), used for placement). */
  allPeerIds(): string[] {
    return [...this.peers.keys()];
  }

  /** Per-peer view for monitoring: last contact and last index acknowledged (leader's view). */
  peerInfo(): { id: string; lastSeen: number; index: number; current: boolean }[] {
    const now = Date.now();
    const out: { id: string; lastSeen: number; index: number; current: boolean }[] = [];
    for (const [id, p] of this.peers) {
      if (id === this.id || !p.kp) continue;
      out.push({ id, lastSeen: p.ts, index: p.li, current: now - p.ts < 2 * this.timing.heartbeat + 1000 });
    }
    return out;
  }

  /**
   * nats-server's isCurrent: a leader is current; a follower is current when it has heard from a leader
   * recently, is not catching up and has applied what it knows is committed.
   */
  isCurrent(): boolean {
    if (this.st === 'closed') return false;
    if (this.st === 'leader') return true;
    if (this.leaderId === '' || this.catchup !== undefined) return false;
    const lp = this.peers.get(this.leaderId);
    if (lp === undefined || Date.now() - lp.ts > 2 * this.timing.heartbeat) return false;
    return this.commitIndex === this.appliedIndex;
  }

  /** Whether a quorum has been heard from recently (leader) or a leader exists (follower). */
  hasQuorum(): boolean {
    if (this.st === 'leader') return !this.lostQuorum();
    return this.leaderId !== '';
  }

  /** Propose `data` as a Normal entry (leader only; false otherwise). */
  propose(data: Buffer): boolean {
    if (this.st !== 'leader') return false;
    this.queueEntry({ type: EntryType.Normal, data });
    return true;
  }

  /** Propose several entries at once, sent as one AE (Go's ProposeDirect). */
  proposeDirect(entries: Entry[]): boolean {
    if (this.st !== 'leader') return false;
    for (const e of entries) this.queueEntry(e);
    return true;
  }

  /**
   * Call `cb` once what was proposed so far is committed (leader only; dropped if leadership is lost
   * first). Lets the upper layer confirm something to a client only when it is safe on a quorum.
   */
  whenCommitted(cb: () => void): void {
    if (this.st !== 'leader') return;
    if (this.proposals.length > 0) this.batchWaiters.push(cb);
    else if (this.commitIndex >= this.pindex) cb();
    else this.commitWaiters.push({ index: this.pindex, cb });
  }

  /**
   * Propose the upper layer's snapshot as a replicated entry (nats-server's SendSnapshot): followers that
   * lack the state it describes fetch it (a stream that grew from one replica).
   */
  proposeSnapshot(data: Buffer): boolean {
    if (this.st !== 'leader') return false;
    this.queueEntry({ type: EntryType.Snapshot, data });
    return true;
  }

  /** A non-leader hands a proposal to the leader on $NRG.P (fire and forget); the leader proposes it. */
  forwardProposal(data: Buffer): void {
    if (this.st === 'leader') {
      this.propose(data);
      return;
    }
    this.transport.send(proposalSubject(this.group), '', data);
  }

  proposeAddPeer(peer: string): boolean {
    if (this.st !== 'leader') return false;
    this.queueEntry({ type: EntryType.AddPeer, data: Buffer.from(peer, 'latin1') });
    return true;
  }

  proposeRemovePeer(peer: string): void {
    const data = Buffer.from(peer, 'latin1');
    if (this.st === 'leader') {
      this.doRemovePeerAsLeader(peer);
      this.queueEntry({ type: EntryType.RemovePeer, data });
      return;
    }
    this.transport.send(removePeerSubject(this.group), '', data);
  }

  /** Start an election soon (100-800 ms), e.g. the preferred member of a new group. */
  campaign(): void {
    if (this.st === 'leader' || this.st === 'closed') return;
    this.resetElectionTimer(randomBetween(this.timing.campaignMin, this.timing.campaignMax));
  }

  /**
   * Step down as leader, handing leadership to `preferred` (or a live peer) with a LeaderTransfer entry
   * (raft.go StepDown). Returns false when not leader.
   */
  stepDown(preferred = ''): boolean {
    if (this.st !== 'leader') return false;
    const now = Date.now();
    let target = '';
    // In random order, as Go's map iteration: no peer is always the one chosen.
    const order = [...this.peers].sort(() => Math.random() - 0.5);
    for (const [id, p] of order) {
      if (id === this.id || !p.kp) continue;
      if (now - p.ts > 3 * this.timing.heartbeat) continue;
      if (preferred !== '' && id !== preferred) continue;
      if (!this.isOnline(id)) continue;
      target = id;
      break;
    }
    if (target !== '') {
      this.flushProposals();
      this.sendAppendEntry([{ type: EntryType.LeaderTransfer, data: Buffer.from(target, 'latin1') }]);
    }
    this.switchToFollower('');
    return true;
  }

  /**
   * Take a snapshot of the applied state: the upper layer's `data` replaces the log up to the applied
   * index (raft.go InstallSnapshot). Refused while a follower is being caught up.
   */
  installSnapshot(data: Buffer): boolean {
    if (this.st === 'closed' || this.progress.size > 0 || this.appliedIndex === 0) return false;
    const log = this.storage.log;
    const lastIndex = this.appliedIndex;
    const lastTerm = log.termAt(lastIndex) ?? log.termAt(log.firstIndex) ?? this.pterm;
    this.storage.writeSnapshot({ lastTerm, lastIndex, peerState: this.currentPeerState(), data });
    log.compact(lastIndex);
    return true;
  }

  /** Entries held in the log (to decide when to snapshot). */
  logSize(): { entries: number; bytes: number } {
    return { entries: this.storage.log.count, bytes: this.storage.log.bytes };
  }

  /**
   * Replace the member list (the meta layer changed the group's peers; raft.go UpdateKnownPeers). The
   * members dropped count as removed: a late response from one of them must not add it back (trackPeer),
   * or a group shrunk to one would wait for its acks forever.
   */
  updateKnownPeers(ids: string[]): void {
    if (ids.length > this.peers.size) return;
    for (const id of this.peers.keys()) if (id !== this.id && !ids.includes(id)) this.removed.add(id);
    this.processPeerState({ clusterSize: ids.length, knownPeers: ids, domainExt: this.extSt });
    if (this.st === 'leader') this.sendPeerState();
  }

  /** Stop timers and subscriptions; the state stays on disk. `remove` also deletes it. */
  stop(remove = false): void {
    if (this.st === 'closed') return;
    const wasLeader = this.st === 'leader';
    this.st = 'closed';
    this.clearTimers();
    this.cancelCatchup();
    for (const c of this.progress.values()) if (c.timer !== undefined) clearTimeout(c.timer);
    this.progress.clear();
    for (const u of this.leaderUnsubs) u();
    this.leaderUnsubs = [];
    for (const u of this.unsubs) u();
    this.unsubs.length = 0;
    if (wasLeader) this.applier.leaderChanged(false);
    if (remove) this.storage.delete();
    else this.storage.close();
  }

  // ---- start-up -------------------------------------------------------------------------------------------

  private startUp(cfg: RaftConfig): void {
    let ps = this.storage.readPeerState();
    if (ps === undefined) {
      // Bootstrap (raft.go bootstrapRaftNode): the known peers and the expected size.
      const known = cfg.knownPeers.includes(this.id) ? cfg.knownPeers : [...cfg.knownPeers, this.id];
      ps = {
        clusterSize: Math.max(cfg.clusterSize ?? known.length, 1),
        knownPeers: known,
        domainExt: DomainExt.Undetermined,
      };
      this.storage.writePeerState(ps);
    }
    this.setClusterSize(ps.clusterSize);
    this.extSt = ps.domainExt;
    const tv = this.storage.readTermVote();
    if (tv !== undefined && tv.term > 0) {
      this.term = tv.term;
      this.vote = tv.vote;
    }
    const log = this.storage.log;
    const snap = this.storage.readSnapshot();
    if (snap !== undefined) {
      this.pindex = snap.lastIndex;
      this.pterm = snap.lastTerm;
      this.commitIndex = snap.lastIndex;
      this.appliedIndex = snap.lastIndex;
      this.applier.apply({ index: snap.lastIndex, entries: [{ type: EntryType.Snapshot, data: snap.data }] });
      if (log.firstIndex <= snap.lastIndex) log.compact(snap.lastIndex + 1);
    }
    // Replay the log: each stored AE knows its term and commit (§4).
    for (let i = log.firstIndex; i <= log.lastIndex; i++) {
      const e = log.get(i);
      const ae = e === undefined ? undefined : decodeAppendEntry(e.data);
      if (ae === undefined || ae.pindex !== i - 1) {
        this.logFn(
          'warn',
          `[${this.group}] log entry ${i} is damaged or out of order: truncating the log there`,
        );
        log.truncateAfter(i - 1);
        break;
      }
      this.pterm = ae.term;
      this.pindex = i;
      if (ae.commit > this.commitIndex) this.commitIndex = Math.min(ae.commit, log.lastIndex);
    }
    if (this.commitIndex > this.appliedIndex) {
      const target = this.commitIndex;
      this.commitIndex = this.appliedIndex;
      for (let i = this.appliedIndex + 1; i <= target; i++) if (!this.applyCommit(i)) break;
    }
    const now = Date.now();
    this.peers.set(this.id, { ts: now, li: 0, kp: true });
    for (const p of ps.knownPeers) if (p !== this.id) this.peers.set(p, { ts: 0, li: 0, kp: true });
    const t = this.transport;
    this.unsubs.push(t.subscribe(this.vreply, (_r, d) => this.onVoteResponse(d)));
    this.unsubs.push(t.subscribe(voteSubject(this.group), (r, d) => this.onVoteRequest(r, d)));
    this.unsubs.push(t.subscribe(this.areply, (r, d) => this.onAppendEntryResponse(r, d)));
    this.unsubs.push(t.subscribe(appendSubject(this.group), (r, d) => this.onAppendEntry(r, d, 'live')));
    this.resetElectionTimer();
  }

  // ---- timers -----------------------------------------------------------------------------------------

  private resetElectionTimer(ms = randomBetween(this.timing.electionMin, this.timing.electionMax)): void {
    if (this.st === 'closed') return;
    if (this.electTimer !== undefined) clearTimeout(this.electTimer);
    this.electTimer = setTimeout(() => this.electionTimeout(), ms);
    this.electTimer.unref();
  }

  private clearTimers(): void {
    if (this.electTimer !== undefined) clearTimeout(this.electTimer);
    if (this.hbTimer !== undefined) clearInterval(this.hbTimer);
    if (this.quorumTimer !== undefined) clearInterval(this.quorumTimer);
    this.electTimer = this.hbTimer = this.quorumTimer = undefined;
  }

  private electionTimeout(): void {
    this.electTimer = undefined;
    if (this.st === 'leader' || this.st === 'closed') return;
    // A follower that is catching up does not campaign, but a catch-up that has stalled (no entry for
    // CATCHUP_STALL, e.g. its leader died) is dropped, so that the next timeout can start an election
    // (nats-server 2.10; 2.9 never re-armed the timer, and such a follower never campaigned again).
    if (this.st === 'follower' && this.catchup !== undefined) {
      if (this.catchupStalled()) this.cancelCatchup();
      this.resetElectionTimer();
      return;
    }
    this.switchToCandidate();
  }

  // ---- state changes --------------------------------------------------------------------------------------

  private writeTermVote(): void {
    this.storage.writeTermVote({ term: this.term, vote: this.vote });
  }

  private switchToFollower(leader: string): void {
    if (this.st === 'closed') return;
    const wasLeader = this.st === 'leader';
    this.lxfer = false;
    this.leaderId = leader;
    // A candidate that steps down on the new leader's append entry knows a leader from here: step 10 of
    // processAppendEntry no longer sees a new one (ever_had_leader in /raftz stayed false).
    if (leader !== '') this.hadLeader = true;
    this.st = 'follower';
    this.votes.clear();
    this.leaveLeader();
    this.writeTermVote();
    this.resetElectionTimer();
    if (wasLeader) {
      this.logFn('notice', `[${this.group}] stepping down as leader (term ${this.term})`);
      this.applier.leaderChanged(false);
    }
  }

  private switchToCandidate(): void {
    const wasLeader = this.st === 'leader';
    this.leaveLeader();
    this.term++;
    this.leaderId = '';
    this.st = 'candidate';
    this.vote = this.id;
    this.votes = new Set([this.id]);
    this.writeTermVote();
    this.resetElectionTimer();
    if (wasLeader) this.applier.leaderChanged(false);
    this.logFn('debug', `[${this.group}] campaigning for term ${this.term}`);
    this.transport.send(
      voteSubject(this.group),
      this.vreply,
      encodeVoteRequest({
        term: this.term,
        lastTerm: this.pterm,
        lastIndex: this.pindex,
        candidate: this.id,
      }),
    );
    if (this.votes.size >= this.qn) this.switchToLeader();
  }

  private switchToLeader(): void {
    this.st = 'leader';
    this.leaderId = this.id;
    this.hadLeader = true;
    this.lxfer = false;
    this.votes.clear();
    this.writeTermVote();
    if (this.electTimer !== undefined) clearTimeout(this.electTimer);
    this.electTimer = undefined;
    this.logFn('notice', `[${this.group}] elected leader (term ${this.term})`);
    const t = this.transport;
    this.leaderUnsubs.push(t.subscribe(proposalSubject(this.group), (_r, d) => this.onForwardedProposal(d)));
    this.leaderUnsubs.push(t.subscribe(removePeerSubject(this.group), (_r, d) => this.onForwardedRemove(d)));
    const now = Date.now();
    this.active = now;
    this.lsut = now;
    for (const p of this.peers.values()) p.li = 0;
    this.hbTimer = setInterval(() => this.heartbeatTick(), this.timing.heartbeat);
    this.hbTimer.unref();
    this.quorumTimer = setInterval(() => this.quorumTick(), this.timing.lostQuorum);
    this.quorumTimer.unref();
    if (this.storage.log.lastIndex > this.commitIndex) this.sendHeartbeat();
    // A real entry of this term: committing it commits what earlier terms left uncommitted.
    this.sendPeerState();
    this.applier.leaderChanged(true);
  }

  /** Leader-only state goes when leaving leadership. */
  private leaveLeader(): void {
    if (this.hbTimer !== undefined) clearInterval(this.hbTimer);
    if (this.quorumTimer !== undefined) clearInterval(this.quorumTimer);
    this.hbTimer = this.quorumTimer = undefined;
    for (const u of this.leaderUnsubs) u();
    this.leaderUnsubs = [];
    for (const c of this.progress.values()) if (c.timer !== undefined) clearTimeout(c.timer);
    this.progress.clear();
    this.acks.clear();
    this.proposals = [];
    this.proposalBytes = 0;
    this.batchWaiters = [];
    this.commitWaiters = [];
  }

  private setClusterSize(n: number): void {
    this.csz = Math.max(n, 1);
    this.qn = Math.floor(this.csz / 2) + 1;
  }

  /** raft.go adjustClusterSizeAndQuorum: the size is the number of official members. */
  private adjustClusterSize(): void {
    const before = this.csz;
    let n = 0;
    for (const p of this.peers.values()) if (p.kp) n++;
    this.setClusterSize(n);
    if (this.csz > before) this.lsut = Date.now();
    else if (this.csz < before && this.st === 'leader') this.sendHeartbeat();
  }

  private currentPeerState(): PeerState {
    return { clusterSize: this.csz, knownPeers: this.peerIds(), domainExt: this.extSt };
  }

  private writePeerState(): void {
    this.storage.writePeerState(this.currentPeerState());
  }

  /** A committed peer state replaces the members and the size (raft.go processPeerState). */
  private processPeerState(ps: PeerState): void {
    this.setClusterSize(ps.clusterSize);
    this.extSt = ps.domainExt;
    const keep = new Set(ps.knownPeers);
    for (const id of [...this.peers.keys()]) if (!keep.has(id)) this.peers.delete(id);
    for (const id of ps.knownPeers) {
      const p = this.peers.get(id);
      if (p === undefined) this.peers.set(id, { ts: 0, li: 0, kp: true });
      else p.kp = true;
    }
    this.writePeerState();
  }

  /** raft.go trackPeer: a leader adds a member it hears from and does not know. */
  private trackPeer(id: string): void {
    if (id === this.id) return;
    const p = this.peers.get(id);
    if (this.st === 'leader' && (p === undefined || !p.kp) && !this.removed.has(id)) this.proposeAddPeer(id);
    if (p !== undefined) p.ts = Date.now();
    else if (!this.removed.has(id)) this.peers.set(id, { ts: Date.now(), li: 0, kp: false });
  }

  // ---- votes ------------------------------------------------------------------------------------------

  private onVoteRequest(reply: string, data: Buffer): void {
    if (this.st === 'closed') return;
    const req = decodeVoteRequest(data);
    if (req === undefined) {
      this.logFn('warn', `[${this.group}] malformed vote request`);
      return;
    }
    this.processVoteRequest(req, reply);
  }

  /**
   * raft.go processVoteRequest (§5.4.1), as nats-server 2.10 has it: the voter answers with its old term;
   * a log is at least as up to date when its last term is higher, or equal with an index at least as high
   * (2.9's rule wanted both higher or equal, so that a log with a newer last term but fewer entries got no
   * vote, and three logs could each refuse the other two for good). Only a granted vote delays our own
   * election; a voter with the better log that has not voted campaigns soon, so that a stale candidate
   * asking again and again does not hold the elections of the up-to-date members back.
   */
  private processVoteRequest(req: VoteRequest, reply: string): void {
    this.trackPeer(req.candidate);
    const resp = { term: this.term, peer: this.id, granted: false };
    if (req.term >= this.term) {
      if (req.term > this.term) {
        if (this.st !== 'follower') this.switchToFollower('');
        this.cancelCatchup();
        this.term = req.term;
        this.vote = '';
        this.writeTermVote();
      }
      const upToDate =
        req.lastTerm > this.pterm || (req.lastTerm === this.pterm && req.lastIndex >= this.pindex);
      if ((this.vote === '' || this.vote === req.candidate) && upToDate) {
        this.vote = req.candidate;
        this.writeTermVote();
        this.resetElectionTimer();
        resp.granted = true;
      } else if (this.vote === '' && this.st === 'follower') {
        this.resetElectionTimer(randomBetween(this.timing.campaignMin, this.timing.campaignMax));
      }
    }
    if (reply !== '') this.transport.send(reply, '', encodeVoteResponse(resp));
  }

  private onVoteResponse(data: Buffer): void {
    if (this.st !== 'candidate' && this.st !== 'leader') return;
    const vr = decodeVoteResponse(data);
    if (vr === undefined) {
      this.logFn('warn', `[${this.group}] malformed vote response`);
      return;
    }
    if (vr.term > this.term) {
      this.term = vr.term;
      this.vote = '';
      this.switchToFollower('');
      return;
    }
    if (this.st === 'leader') {
      this.trackPeer(vr.peer);
      return;
    }
    if (vr.granted && vr.term <= this.term) {
      this.trackPeer(vr.peer);
      this.votes.add(vr.peer);
      if (this.votes.size >= this.qn) this.switchToLeader();
    }
  }

  // ---- leader: proposals and append entries ---------------------------------------------------------------

  private queueEntry(e: Entry): void {
    this.proposals.push(e);
    this.proposalBytes += e.data.length + 1;
    if (this.proposalBytes >= MAX_BATCH || this.proposals.length >= MAX_ENTRIES) {
      this.flushProposals();
      return;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => {
        this.flushScheduled = false;
        this.flushProposals();
      });
    }
  }

  /** Send what was proposed as one AE (Go's leader loop batches the proposal queue). */
  private flushProposals(): void {
    if (this.proposals.length === 0 || this.st !== 'leader') return;
    const entries = this.proposals;
    this.proposals = [];
    this.proposalBytes = 0;
    const waiters = this.batchWaiters;
    this.batchWaiters = [];
    this.sendAppendEntry(entries);
    for (const cb of waiters) this.commitWaiters.push({ index: this.pindex, cb });
    this.runCommitWaiters();
  }

  private runCommitWaiters(): void {
    const w = this.commitWaiters;
    if (w.length === 0 || w[0]!.index > this.commitIndex) return;
    let i = 0;
    while (i < w.length && w[i]!.index <= this.commitIndex) i++;
    const ready = w.splice(0, i);
    for (const { cb } of ready) {
      try {
        cb();
      } catch (e) {
        this.logFn('warn', `[${this.group}] commit callback failed: ${(e as Error).message}`);
      }
    }
  }

  private onForwardedProposal(data: Buffer): void {
    if (this.st !== 'leader') return;
    this.queueEntry({ type: EntryType.Normal, data: Buffer.from(data) });
  }

  private onForwardedRemove(data: Buffer): void {
    if (this.st !== 'leader') return;
    if (data.length !== ID_LEN) {
      this.logFn('warn', `[${this.group}] received invalid peer name for remove proposal`);
      return;
    }
    this.proposeRemovePeer(data.toString('latin1'));
  }

  private doRemovePeerAsLeader(peer: string): void {
    this.removed.add(peer);
    if (this.peers.delete(peer)) {
      this.adjustClusterSize();
      this.writePeerState();
    }
  }

  /** raft.go sendAppendEntry: store (when it has entries), then send; a heartbeat has none. */
  private sendAppendEntry(entries: Entry[]): void {
    const ae: AppendEntry = {
      leader: this.id,
      term: this.term,
      commit: this.commitIndex,
      pterm: this.pterm,
      pindex: this.pindex,
      entries,
    };
    const buf = encodeAppendEntry(ae);
    if (entries.length > 0) {
      const index = this.pindex + 1;
      this.storage.log.append(index, this.term, buf);
      this.pterm = this.term;
      this.pindex = index;
      this.acks.set(index, new Set([this.id]));
      this.active = Date.now();
      for (const e of entries)
        if (e.type === EntryType.RemovePeer) this.removed.add(e.data.toString('latin1'));
    }
    this.transport.send(appendSubject(this.group), this.areply, buf);
    // A group of one commits on its own store.
    if (entries.length > 0 && this.qn <= 1) this.commitThrough(this.pindex);
  }

  private sendHeartbeat(): void {
    this.sendAppendEntry([]);
  }

  private sendPeerState(): void {
    this.sendAppendEntry([{ type: EntryType.PeerState, data: encodePeerState(this.currentPeerState()) }]);
  }

  private heartbeatTick(): void {
    if (this.st !== 'leader') return;
    if (Date.now() - this.active >= this.timing.heartbeat) this.sendHeartbeat();
  }

  /** raft.go lostQuorumLocked: fewer than a quorum heard from within the interval. */
  private lostQuorum(): boolean {
    const now = Date.now();
    if (now - this.lsut < this.timing.lostQuorum) return false;
    let nc = 1;
    for (const [id, p] of this.peers) if (id !== this.id && now - p.ts < this.timing.lostQuorum) nc++;
    return nc < this.qn;
  }

  private quorumTick(): void {
    if (this.st !== 'leader') return;
    if (this.lostQuorum()) {
      this.logFn('warn', `[${this.group}] lost quorum: stepping down`);
      this.switchToFollower('');
    }
  }

  private onAppendEntryResponse(reply: string, data: Buffer): void {
    if (this.st !== 'leader') return;
    const ar = decodeAppendEntryResponse(data);
    if (ar === undefined) {
      this.logFn('warn', `[${this.group}] malformed append entry response`);
      return;
    }
    this.processAppendEntryResponse(ar, reply);
  }

  /** raft.go processAppendEntryResponse + trackResponse (§6.4). */
  private processAppendEntryResponse(ar: AppendEntryResponse, reply: string): void {
    const p = this.peers.get(ar.peer);
    if (ar.success && p !== undefined && ar.index > p.li) p.li = ar.index;
    this.trackPeer(ar.peer);
    if (ar.success) {
      const cu = this.progress.get(ar.peer);
      if (cu !== undefined) this.catchupAdvance(cu, ar.index);
      if (ar.index <= this.commitIndex) return;
      const acks = this.acks.get(ar.index);
      if (acks === undefined) return;
      acks.add(ar.peer);
      if (acks.size >= this.qn) {
        this.commitThrough(ar.index);
        if (this.proposals.length === 0) this.sendHeartbeat();
      }
    } else if (ar.term > this.term) {
      this.term = ar.term;
      this.vote = '';
      this.switchToFollower('');
    } else if (reply !== '') {
      this.catchupFollower(ar, reply);
    }
  }

  private commitThrough(index: number): void {
    for (let i = this.commitIndex + 1; i <= index; i++) {
      if (!this.applyCommit(i)) break;
      this.acks.delete(i);
    }
    this.runCommitWaiters();
  }

  // ---- committing and applying --------------------------------------------------------------------------

  /** raft.go applyCommit (§2.4): apply the entries of `index`, pass the upper layer's ones up. */
  private applyCommit(index: number): boolean {
    if (index <= this.commitIndex) return true;
    const e = this.storage.log.get(index);
    const ae = e === undefined ? undefined : decodeAppendEntry(e.data);
    if (ae === undefined) return false;
    this.commitIndex = index;
    const up: Entry[] = [];
    for (const ent of ae.entries) {
      switch (ent.type) {
        case EntryType.Normal:
        case EntryType.Snapshot:
          up.push(ent);
          break;
        case EntryType.OldSnapshot:
          up.push({ type: EntryType.Snapshot, data: ent.data });
          break;
        case EntryType.PeerState:
          if (this.st !== 'leader') {
            const ps = decodePeerState(ent.data);
            if (ps !== undefined) this.processPeerState(ps);
          }
          break;
        case EntryType.AddPeer: {
          const id = ent.data.toString('latin1');
          this.removed.delete(id);
          const p = this.peers.get(id);
          if (p === undefined) this.peers.set(id, { ts: 0, li: 0, kp: true });
          else p.kp = true;
          this.adjustClusterSize();
          this.writePeerState();
          up.push(ent);
          break;
        }
        case EntryType.RemovePeer: {
          const id = ent.data.toString('latin1');
          this.removed.add(id);
          if (this.peers.delete(id)) {
            this.adjustClusterSize();
            this.writePeerState();
          }
          up.push(ent);
          if (id === this.id && this.st === 'leader') this.stepDown();
          break;
        }
        default:
          // LeaderTransfer and unknown types stay inside.
          break;
      }
    }
    if (up.length > 0) this.applier.apply({ index, entries: up });
    this.appliedIndex = index;
    this.applier.applied?.(index);
    return true;
  }

  // ---- follower: append entries -------------------------------------------------------------------------

  private onAppendEntry(reply: string, data: Buffer, via: 'live' | 'catchup', inbox = ''): void {
    if (this.st === 'closed') return;
    const ae = decodeAppendEntry(data);
    if (ae === undefined) {
      this.logFn('warn', `[${this.group}] malformed append entry`);
      return;
    }
    this.processAppendEntry(ae, data, reply, via, inbox);
  }

  private respond(reply: string, term: number, index: number, success: boolean, replyTo = ''): void {
    if (reply === '') return;
    this.transport.send(reply, replyTo, encodeAppendEntryResponse({ term, index, peer: this.id, success }));
  }

  /** raft.go processAppendEntry (§8), step by step. */
  private processAppendEntry(
    ae: AppendEntry,
    raw: Buffer,
    reply: string,
    via: 'live' | 'catchup',
    inbox: string,
  ): void {
    const isNew = via === 'live';
    // 1. Any AE proves a leader alive (unless we were chosen to take over).
    if (!this.lxfer) this.resetElectionTimer();
    // 3. A leader: a higher term makes it follow; otherwise refuse.
    if (this.st === 'leader') {
      if (ae.term > this.term) {
        this.term = ae.term;
        this.vote = '';
        this.switchToFollower(ae.leader);
      } else {
        this.respond(reply, this.term, this.pindex, false);
        return;
      }
    }
    // 4. A candidate steps down on any AE.
    if (this.st === 'candidate') {
      if (ae.term > this.term) {
        this.term = ae.term;
        this.vote = '';
      }
      this.switchToFollower(ae.leader);
    }
    // 5. The leader is alive and an official member.
    if (isNew && ae.leader !== '') {
      const lp = this.peers.get(ae.leader);
      if (lp === undefined) this.peers.set(ae.leader, { ts: Date.now(), li: 0, kp: true });
      else lp.ts = Date.now();
    }
    // 6. A stale leader is told our term.
    if (isNew && ae.term < this.term) {
      this.respond(reply, this.term, this.pindex, false);
      return;
    }
    // 7-8. Catching up: only the catch-up inbox counts until we have what was asked for.
    const cu = this.catchup;
    if (cu !== undefined) {
      if (!isNew && inbox !== cu.inbox) return;
      if (this.pterm >= cu.cterm && this.pindex >= cu.cindex) {
        this.cancelCatchup();
      } else if (isNew) {
        if (this.catchupStalled()) {
          const next = this.createCatchup(ae);
          this.respond(reply, this.pterm, this.pindex, false, next);
        }
        return;
      }
    }
    // 9. A higher term.
    if (ae.term > this.term) {
      this.term = ae.term;
      this.vote = '';
      if (isNew) this.writeTermVote();
    }
    // 10. A new leader.
    if (isNew && ae.leader !== this.leaderId && this.st === 'follower') {
      this.leaderId = ae.leader;
      this.hadLeader = true;
      this.writeTermVote();
      this.logFn('debug', `[${this.group}] following ${ae.leader} (term ${ae.term})`);
    }
    // 11. Does the AE follow our last entry?
    if (ae.pterm !== this.pterm || ae.pindex !== this.pindex) {
      if (!this.reconcile(ae, reply, isNew)) return;
    }
    // 12. Store the entries.
    if (ae.entries.length > 0) {
      const index = ae.pindex + 1;
      try {
        this.storage.log.append(index, ae.term, raw);
      } catch (e) {
        this.logFn('warn', `[${this.group}] could not store entry ${index}: ${(e as Error).message}`);
        return;
      }
      this.pterm = ae.term;
      this.pindex = index;
      if (this.catchup !== undefined) this.catchup.active = Date.now();
      for (const ent of ae.entries) {
        if (ent.type === EntryType.LeaderTransfer) {
          if (isNew && ent.data.toString('latin1') === this.id) {
            this.lxfer = true;
            this.resetElectionTimer(10);
          }
        } else if (ent.type === EntryType.AddPeer && ent.data.length === ID_LEN) {
          const id = ent.data.toString('latin1');
          const p = this.peers.get(id);
          if (p === undefined) this.peers.set(id, { ts: Date.now(), li: 0, kp: false });
          else p.ts = Date.now();
        }
      }
    }
    // 13. Apply what the leader says is committed.
    if (ae.commit > this.commitIndex) {
      const upto = Math.min(ae.commit, this.pindex);
      for (let i = this.commitIndex + 1; i <= upto; i++) if (!this.applyCommit(i)) break;
    }
    // 14. Acknowledge (heartbeats and catch-up entries too).
    this.respond(reply, this.pterm, this.pindex, true);
  }

  /**
   * §8.1: the AE does not follow our last entry. Returns true when the entries are to be stored anyway
   * (Go's term conflict on the last index falls through), false when handled here.
   */
  private reconcile(ae: AppendEntry, reply: string, _isNew: boolean): boolean {
    const log = this.storage.log;
    // A. The leader is behind us, or a duplicate: compare terms at the same index and truncate on conflict.
    if (ae.pindex < this.pindex) {
      // An entry we compacted away was committed: it matches any legitimate leader's.
      const ourTerm = ae.pindex === 0 ? 0 : ae.pindex < log.firstIndex ? ae.pterm : log.termAt(ae.pindex);
      let success = true;
      if (ourTerm === undefined || ourTerm !== ae.pterm) {
        if (ourTerm !== undefined) this.truncateLog(ae.pterm, ae.pindex);
        this.cancelCatchup();
        success = false;
      } else {
        // Our entry at pindex matches: what follows is a duplicate we already hold.
        const next = log.get(ae.pindex + 1);
        if (next !== undefined && ae.entries.length > 0 && appendEntryTerm(next.data) !== ae.term) {
          this.truncateLog(ae.pterm, ae.pindex);
          return true;
        }
      }
      this.respond(reply, ae.pterm, ae.pindex, success);
      return false;
    }
    // Same index, different term: our last entry conflicts with the leader's. It goes, and we ask for
    // what follows the entry before it (Go keeps the entry and adopts the leader's term instead, which
    // can leave it with a log that differs from the leader's; Go leaders answer this request normally).
    if (ae.pindex === this.pindex) {
      this.truncateLog(0, this.pindex - 1);
      const inbox = this.createCatchup(ae);
      this.respond(reply, this.pterm, this.pindex, false, inbox);
      return false;
    }
    // B. Catching up and the leader is ahead: this must be the catch-up snapshot.
    if (this.catchup !== undefined) {
      const [snap, peers] = ae.entries;
      if (
        ae.entries.length !== 2 ||
        snap!.type !== EntryType.Snapshot ||
        peers!.type !== EntryType.PeerState
      ) {
        this.logFn('warn', `[${this.group}] expected a snapshot to catch up from; cancelling the catch-up`);
        this.cancelCatchup();
        return false;
      }
      const ps = decodePeerState(peers!.data);
      if (ps !== undefined) this.processPeerState(ps);
      this.pindex = ae.pindex;
      this.pterm = ae.pterm;
      this.commitIndex = ae.pindex;
      log.compact(ae.pindex + 1);
      this.storage.writeSnapshot({
        lastTerm: ae.pterm,
        lastIndex: ae.pindex,
        peerState: this.currentPeerState(),
        data: snap!.data,
      });
      this.applier.apply({ index: ae.pindex, entries: [snap!] });
      this.appliedIndex = ae.pindex;
      this.catchup!.active = Date.now();
      return false;
    }
    // C. The leader is ahead: ask for a catch-up on a new inbox.
    const inbox = this.createCatchup(ae);
    this.respond(reply, this.pterm, this.pindex, false, inbox);
    return false;
  }

  /** Keep entries <= index; our last entry becomes (term at index, index). */
  private truncateLog(term: number, index: number): void {
    const log = this.storage.log;
    if (index < log.firstIndex - 1) return;
    log.truncateAfter(index);
    this.pindex = index;
    this.pterm = log.termAt(index) ?? term;
    if (this.commitIndex > index) this.commitIndex = index;
    if (this.appliedIndex > index) this.appliedIndex = index;
    const snap = this.storage.readSnapshot();
    if (snap !== undefined && snap.lastIndex > index) this.storage.removeSnapshot();
  }

  private createCatchup(ae: AppendEntry): string {
    this.cancelCatchup();
    const inbox = newCatchupInbox();
    const unsubscribe = this.transport.subscribe(inbox, (r, d) => this.onAppendEntry(r, d, 'catchup', inbox));
    this.catchup = {
      inbox,
      unsubscribe,
      cterm: ae.pterm,
      cindex: ae.pindex,
      pterm: this.pterm,
      pindex: this.pindex,
      active: Date.now(),
    };
    this.logFn('debug', `[${this.group}] catching up from ${this.pindex} to ${ae.pindex}`);
    return inbox;
  }

  /** raft.go catchupStalled: our last index has not moved for CATCHUP_STALL. */
  private catchupStalled(): boolean {
    const cu = this.catchup;
    if (cu === undefined) return false;
    if (cu.pindex === this.pindex) return Date.now() - cu.active > CATCHUP_STALL;
    cu.pindex = this.pindex;
    cu.active = Date.now();
    return false;
  }

  private cancelCatchup(): void {
    const c = this.catchup;
    if (c === undefined) return;
    this.catchup = undefined;
    c.unsubscribe();
  }

  // ---- leader: catching a follower up -------------------------------------------------------------------

  /** raft.go catchupFollower (§9.2): stream stored AEs (after the snapshot if needed) to `subject`. */
  private catchupFollower(ar: AppendEntryResponse, subject: string): void {
    const old = this.progress.get(ar.peer);
    if (old !== undefined && old.timer !== undefined) clearTimeout(old.timer);
    this.progress.delete(ar.peer);
    const log = this.storage.log;
    let start = ar.index + 1;
    let didSnap = false;
    if (start < log.firstIndex || (log.count === 0 && start <= log.lastIndex)) {
      const snap = this.storage.readSnapshot();
      if (snap === undefined) {
        this.logFn('warn', `[${this.group}] no snapshot to catch ${ar.peer} up from: stepping down`);
        this.stepDown();
        return;
      }
      const pindex = Math.max(snap.lastIndex, log.firstIndex - 1);
      const ae = encodeAppendEntry({
        leader: this.id,
        term: this.term,
        commit: this.commitIndex,
        pterm: snap.lastTerm,
        pindex,
        entries: [
          { type: EntryType.Snapshot, data: snap.data },
          { type: EntryType.PeerState, data: encodePeerState(snap.peerState) },
        ],
      });
      this.transport.send(subject, this.areply, ae);
      if (log.count === 0) return;
      start = snap.lastIndex;
      didSnap = true;
    }
    let first = log.get(start);
    if (first === undefined) {
      first = log.get(log.firstIndex);
      if (first === undefined) return;
    }
    const firstPindex = first.index - 1;
    const cu: LeaderCatchup = {
      peer: ar.peer,
      subject,
      last: this.pindex,
      next: 0,
      outstanding: 0,
      sizes: new Map(),
      timer: undefined,
    };
    this.progress.set(ar.peer, cu);
    this.logFn('debug', `[${this.group}] catching ${ar.peer} up from ${firstPindex + 1} to ${cu.last}`);
    this.catchupAdvance(cu, didSnap ? firstPindex + 1 : firstPindex);
  }

  /** The follower acknowledged `index` (or the seed): send more within the window, or finish. */
  private catchupAdvance(cu: LeaderCatchup, index: number): void {
    if (cu.timer !== undefined) clearTimeout(cu.timer);
    cu.timer = setTimeout(() => this.catchupDone(cu, 'stalled'), this.timing.catchupActivity);
    cu.timer.unref();
    const sz = cu.sizes.get(index);
    if (sz !== undefined) {
      cu.outstanding -= sz;
      cu.sizes.delete(index);
    }
    if (cu.next === 0) cu.next = index;
    if (index > cu.last) {
      this.catchupDone(cu, 'done');
      return;
    }
    const log = this.storage.log;
    while (cu.outstanding <= CATCHUP_WINDOW) {
      cu.next++;
      if (cu.next > cu.last) {
        // Everything is on its way (Go ends the catch-up here too).
        this.catchupDone(cu, 'done');
        return;
      }
      const e = log.get(cu.next);
      if (e === undefined) {
        this.catchupDone(cu, 'done');
        return;
      }
      cu.sizes.set(cu.next, e.data.length);
      cu.outstanding += e.data.length;
      this.transport.send(cu.subject, this.areply, e.data);
    }
  }

  private catchupDone(cu: LeaderCatchup, why: 'done' | 'stalled'): void {
    if (cu.timer !== undefined) clearTimeout(cu.timer);
    cu.timer = undefined;
    if (this.progress.get(cu.peer) === cu) this.progress.delete(cu.peer);
    if (why === 'stalled') this.logFn('debug', `[${this.group}] catch-up of ${cu.peer} stalled`);
    if (this.st === 'leader' && !this.peers.has(cu.peer)) this.proposeAddPeer(cu.peer);
  }
}

function randomBetween(min: number, max: number): number {
  return min + Math.floor(Math.random() * Math.max(max - min, 1));
}
