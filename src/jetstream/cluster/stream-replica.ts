/**
 * One replica of a replicated stream (docs/design/jetstream-replication.md §1-3): the local Stream plus
 * its member of the stream's Raft group.
 *
 *   publish    only the leader subscribes to the subjects; it checks a message (stream.ts), proposes it
 *              as a streamMsgOp with the next cluster sequence and the time, and every replica stores it
 *              when the group commits it; the leader then answers the publisher (PubAck).
 *   purge,     the leader proposes the API request; every replica applies it; the leader answers.
 *   delete
 *   catch-up   a replica whose log the leader has compacted gets the leader's snapshot (the stream's
 *              state) through Raft, then asks the leader for the messages it lacks on the assignment's
 *              `$JSC.SYNC.<x>` subject; the leader streams them with flow control (catchup.ts).
 *
 * The failure count (clfs) decides which sequence a committed message gets, so it must survive a crash
 * exactly: file streams keep it in `<stream dir>/clfs`, written whenever it changes.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EntryType } from '../../raft/codec.js';
import type { CommittedEntry, RaftApplier, RaftNode } from '../../raft/node.js';
import { textToWire } from '../../routing/subject-text.js';
import type { JsAccount } from '../account.js';
import { sendStreamAction } from '../advisories.js';
import { nowNanos } from '../store/store.js';
import { ApplyResult, type Stream, type StreamReplica } from '../stream.js';
import type { StreamAssignment } from './assignments.js';
import { CatchupFollower, CatchupServer } from './catchup.js';
import type { ClusterContext } from './context.js';
import {
  decodeJsonOp,
  decodeStreamMsg,
  EntryOp,
  encodeJsonOp,
  encodeStreamMsg,
  type StreamMsgDeleteOp,
  type StreamPurgeOp,
  type StreamSnapshot,
} from './entries.js';
import { streamClusterInfo } from './info.js';

/** nats-server's stream snapshot thresholds: log entries and bytes, and a timer. */
const SNAPSHOT_ENTRIES = 65_536;
const SNAPSHOT_BYTES = 8 * 1024 * 1024;
const SNAPSHOT_INTERVAL = 120_000;

const CLFS_FILE = 'clfs';

export class ReplicatedStream implements StreamReplica, RaftApplier {
  readonly node: RaftNode;
  /** Leader: the cluster sequence of the next proposal (nats-server's clseq). */
  private clseq = 0;
  /** Leader: takes messages once everything committed before its election is applied. */
  private waitIndex = -1;
  private activeLeader = false;
  private catchupServer: CatchupServer | undefined;
  private catchup: CatchupFollower | undefined;
  /** Entries committed while a catch-up runs: applied once it is done (nats-server pauses apply). */
  private held: CommittedEntry[] = [];
  private snapTimer: NodeJS.Timeout | undefined;
  private lastSnapshot = '';
  private lastClfs: number;
  private readonly clfsPath: string | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: ClusterContext,
    readonly jsa: JsAccount,
    public sa: StreamAssignment,
    readonly stream: Stream,
    /** The stream had one replica and now has more: once leader, send its state to the new replicas. */
    private sendSnapshot = false,
  ) {
    stream.replica = this;
    // A stream that was running alone stops taking messages until its group elects it.
    stream.setLeader(false);
    stream.refreshDirect();
    this.clfsPath =
      stream.config.storage === 'file' ? join(jsa.streamDir(stream.name), CLFS_FILE) : undefined;
    stream.clfs = this.readClfs();
    this.lastClfs = stream.clfs;
    this.node = ctx.createNode(sa.group, this);
    this.snapTimer = setInterval(() => this.maybeSnapshot(true), SNAPSHOT_INTERVAL + Math.random() * 60_000);
    this.snapTimer.unref();
    if (sa.group.preferred === ctx.selfId && this.node.currentTerm === 0) this.node.campaign();
  }

  get name(): string {
    return this.stream.name;
  }

  isLeader(): boolean {
    return this.activeLeader && this.node.isLeader();
  }

  // ---- StreamReplica (the stream's side) ------------------------------------------------------------------

  propose(subject: string, reply: string, hdr: Buffer, data: Buffer): void {
    if (!this.isLeader()) return;
    const entry = encodeStreamMsg({ subject, reply, hdr, msg: data, lseq: this.clseq, ts: nowNanos() });
    if (this.node.propose(entry)) this.clseq++;
  }

  // ---- RaftApplier ----------------------------------------------------------------------------------------

  apply(ce: CommittedEntry): void {
    if (this.stopped) return;
    if (this.catchup !== undefined) {
      this.held.push(ce);
      return;
    }
    this.applyEntries(ce);
  }

  applied(index: number): void {
    // The node replays its log while it is being built: nothing to do until it exists.
    if (this.node === undefined) return;
    if (this.waitIndex >= 0 && index >= this.waitIndex && this.node.isLeader()) this.activate();
    // Here the applied index includes `index`, so a snapshot covers exactly what was applied.
    if (!this.stopped) this.maybeSnapshot(false);
  }

  leaderChanged(isLeader: boolean): void {
    if (this.stopped) return;
    if (isLeader) {
      // Take messages only once what earlier leaders committed is applied here (nats-server 2.9 does not
      // wait, and can then propose sequences its followers skip).
      const p = this.node.progressInfo();
      this.waitIndex = p.index;
      if (p.applied >= p.index) this.activate();
      return;
    }
    this.waitIndex = -1;
    if (this.activeLeader) {
      this.activeLeader = false;
      this.stream.setLeader(false);
      this.catchupServer?.stop();
      this.catchupServer = undefined;
    }
  }

  private activate(): void {
    this.waitIndex = -1;
    if (this.activeLeader || this.stopped) return;
    this.activeLeader = true;
    this.clseq = this.stream.lastSeq + this.stream.clfs;
    this.checkPeers();
    this.catchupServer = new CatchupServer(this.ctx, this.stream, this.sa.sync);
    this.stream.setLeader(true);
    this.ctx.log(
      'debug',
      `JetStream cluster new stream leader for '${this.jsa.account.name} > ${this.name}'`,
    );
    this.advisoryLeaderElected();
    if (this.sendSnapshot) {
      this.sendSnapshot = false;
      this.node.proposeSnapshot(Buffer.from(JSON.stringify(this.stream.snapshotState())));
    }
    if (!this.sa.responded) {
      this.sa.responded = true;
      const update = this.sa.subject.startsWith('$JS.API.STREAM.UPDATE.');
      this.ctx.respond(this.sa.reply, {
        type: `io.nats.jetstream.api.v1.stream_${update ? 'update' : 'create'}_response`,
        ...this.info(),
        ...(update ? {} : { did_create: true }),
      });
      sendStreamAction(this.ctx.js, this.jsa.account, this.name, update ? 'modify' : 'create');
    }
    this.maybeSnapshot(false);
  }

  private applyEntries(ce: CommittedEntry): void {
    const s = this.stream;
    for (const e of ce.entries) {
      if (e.type === EntryType.Snapshot) {
        this.applySnapshot(e.data);
        continue;
      }
      if (e.type === EntryType.RemovePeer) {
        if (e.data.toString('latin1') === this.ctx.selfId && !this.sa.group.peers.includes(this.ctx.selfId)) {
          this.ctx.log('notice', `JetStream removed from the group of stream '${this.name}'`);
        }
        continue;
      }
      if (e.type !== EntryType.Normal || e.data.length === 0) continue;
      const op = e.data[0];
      if (op === EntryOp.StreamMsg || op === EntryOp.CompressedStreamMsg) {
        let m: ReturnType<typeof decodeStreamMsg>;
        try {
          m = decodeStreamMsg(e.data);
        } catch (err) {
          this.ctx.log(
            'warn',
            `JetStream stream '${this.name}' got a malformed entry: ${(err as Error).message}`,
          );
          continue;
        }
        const r = s.processMsg(m.subject, m.reply, m.hdr, m.msg, {
          lseq: m.lseq,
          ts: m.ts,
          leader: this.isLeader(),
        });
        if (r === ApplyResult.Mismatch) {
          this.resync(m.lseq);
          return;
        }
      } else if (op === EntryOp.PurgeStream) {
        const p = decodeJsonOp<StreamPurgeOp>(e.data);
        let purged = 0;
        let error: string | undefined;
        try {
          purged = s.purge(p.request);
        } catch (err) {
          error = (err as Error).message;
        }
        if (this.isLeader() && p.reply !== '') {
          this.ctx.respond(
            p.reply,
            error === undefined
              ? { type: 'io.nats.jetstream.api.v1.stream_purge_response', success: true, purged }
              : {
                  type: 'io.nats.jetstream.api.v1.stream_purge_response',
                  error: { code: 500, err_code: 10051, description: error },
                },
          );
        }
      } else if (op === EntryOp.DeleteMsg) {
        const d = decodeJsonOp<StreamMsgDeleteOp>(e.data);
        const removed = s.removeMsg(d.seq, d.no_erase !== true);
        if (this.isLeader() && d.reply !== '') {
          this.ctx.respond(
            d.reply,
            removed
              ? { type: 'io.nats.jetstream.api.v1.stream_msg_delete_response', success: true }
              : {
                  type: 'io.nats.jetstream.api.v1.stream_msg_delete_response',
                  error: { code: 400, err_code: 10043, description: `sequence [${d.seq}] not found` },
                },
          );
        }
      }
    }
    this.saveClfs();
  }

  /** Propose a purge (the API on the leader; nats-server's jsClusteredStreamPurgeRequest). */
  proposePurge(op: StreamPurgeOp): boolean {
    return this.isLeader() && this.node.propose(encodeJsonOp(EntryOp.PurgeStream, op));
  }

  /** Propose a message deletion (nats-server's jsClusteredMsgDeleteRequest). */
  proposeDelete(op: StreamMsgDeleteOp): boolean {
    return this.isLeader() && this.node.propose(encodeJsonOp(EntryOp.DeleteMsg, op));
  }

  // ---- snapshots and catch-up -----------------------------------------------------------------------------

  private applySnapshot(data: Buffer): void {
    let snap: StreamSnapshot;
    try {
      snap = JSON.parse(data.toString('utf8')) as StreamSnapshot;
    } catch {
      this.ctx.log('warn', `JetStream stream '${this.name}' got a snapshot it cannot read`);
      return;
    }
    if (this.node?.isLeader()) return;
    const s = this.stream;
    // Our own snapshot replayed at start-up: the persisted failure count is the newer one.
    if (s.lastSeq >= snap.last_seq) {
      if (this.clfsPath === undefined) s.clfs = snap.clfs;
      return;
    }
    const next = s.applySnapshotDeletes(snap);
    this.saveClfs();
    if (next <= snap.last_seq) this.startCatchup(next, snap.last_seq);
  }

  /** The group committed a message this replica cannot place: get what is missing from the leader. */
  private resync(lseq: number): void {
    this.ctx.log(
      'warn',
      `JetStream stream '${this.jsa.account.name} > ${this.name}' is out of step (entry ${lseq}, have ${this.stream.lastSeq}+${this.stream.clfs}): catching up`,
    );
    if (this.node?.isLeader()) this.node.stepDown();
    this.startCatchup(this.stream.lastSeq + 1, Number.MAX_SAFE_INTEGER);
  }

  private startCatchup(first: number, last: number): void {
    if (this.catchup !== undefined) return;
    this.catchup = new CatchupFollower(this.ctx, this.stream, this.sa.sync, first, last, (ok) => {
      this.catchup = undefined;
      this.saveClfs();
      if (!ok) this.ctx.log('warn', `JetStream stream '${this.name}' catch-up did not finish; will retry`);
      const held = this.held;
      this.held = [];
      for (const ce of held) this.apply(ce);
    });
  }

  /** The assignment changed (an update): fewer peers means members leave the group. */
  reassigned(sa: StreamAssignment): void {
    const shrunk = sa.group.peers.length < this.sa.group.peers.length;
    this.sa = sa;
    // The leader proposes the removals first (the members dropped learn it), then takes the new list.
    this.checkPeers();
    if (shrunk) this.node.updateKnownPeers(sa.group.peers);
  }

  /** nats-server's checkPeers: the leader removes from the group the members the assignment dropped. */
  private checkPeers(): void {
    if (!this.isLeader()) return;
    for (const p of this.node.peerIds()) if (!this.sa.group.peers.includes(p)) this.node.proposeRemovePeer(p);
  }

  /** Whether this replica is up to date with its group (health checks, cluster info). */
  isCurrent(): boolean {
    return this.catchup === undefined && this.node.isCurrent();
  }

  private maybeSnapshot(force: boolean): void {
    if (this.catchup !== undefined) return;
    const size = this.node.logSize();
    if (!force && size.entries < SNAPSHOT_ENTRIES && size.bytes < SNAPSHOT_BYTES) return;
    const data = JSON.stringify(this.stream.snapshotState());
    if (data === this.lastSnapshot && !force) return;
    if (this.node.installSnapshot(Buffer.from(data))) this.lastSnapshot = data;
  }

  private readClfs(): number {
    if (this.clfsPath === undefined) return 0;
    try {
      const n = Number(readFileSync(this.clfsPath, 'utf8'));
      return Number.isFinite(n) && n >= 0 ? n : 0;
    } catch {
      return 0;
    }
  }

  private saveClfs(): void {
    const n = this.stream.clfs;
    if (n === this.lastClfs) return;
    this.lastClfs = n;
    if (this.clfsPath === undefined) return;
    try {
      writeFileSync(this.clfsPath, String(n));
    } catch (e) {
      this.ctx.log(
        'warn',
        `JetStream could not save the failure count of stream '${this.name}': ${String(e)}`,
      );
    }
  }

  // ---- info -----------------------------------------------------------------------------------------------

  /** Stream info with the `cluster` block. */
  info(details = false): Record<string, unknown> {
    const i = this.stream.info(details) as unknown as Record<string, unknown>;
    const state = i.state as Record<string, unknown>;
    state.consumer_count = this.sa.consumers.size;
    return { ...i, cluster: streamClusterInfo(this.ctx, this.node, this.sa.group.peers) };
  }

  private advisoryLeaderElected(): void {
    const body = {
      type: 'io.nats.jetstream.advisory.v1.stream_leader_elected',
      id: randomId(),
      timestamp: new Date().toISOString(),
      stream: this.name,
      leader: this.ctx.core.name,
      replicas: streamClusterInfo(this.ctx, this.node, this.sa.group.peers).replicas ?? [],
    };
    this.ctx.core.delivery.defer(
      this.jsa.account,
      textToWire(`$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.${this.name}`),
      '',
      null,
      Buffer.from(JSON.stringify(body)),
    );
  }

  /** Stop the replica (the stream stays unless `remove`; the Raft state goes with `remove`). */
  stop(remove: boolean): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.snapTimer !== undefined) clearInterval(this.snapTimer);
    this.catchupServer?.stop();
    this.catchup?.stop();
    this.saveClfs();
    this.node.stop(remove);
  }
}

function randomId(): string {
  const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let s = '';
  for (let i = 0; i < 22; i++) s += DIGITS[Math.floor(Math.random() * 62)];
  return s;
}
