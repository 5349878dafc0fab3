/**
 * What this server hosts of the cluster's streams and consumers (nats-server's processStreamAssignment,
 * processClusterCreateStream, processConsumerAssignment ...): when the meta group assigns an asset to a
 * group this server belongs to, the asset is opened here (with its Raft node for more than one replica);
 * when the assignment goes or no longer lists this server, it is stopped and its data removed.
 *
 * A single-replica asset has no Raft group: its only member answers the create request at once. A
 * replicated one answers when its group has elected a leader (stream-replica.ts, consumer-replica.ts).
 */

import type { JsAccount } from '../account.js';
import { sendStreamAction } from '../advisories.js';
import { newJSNoAccountError, newJSStreamNotFoundError } from '../api/errors.generated.js';
import { Consumer } from '../consumer/consumer.js';
import { lookupConsumer, openAssignedConsumer } from '../consumer/registry.js';
import type { Stream } from '../stream.js';
import {
  accountOf,
  CONSUMER_ASSIGNMENT_RESULT,
  type ConsumerAssignment,
  STREAM_ASSIGNMENT_RESULT,
  type StreamAssignment,
} from './assignments.js';
import { ReplicatedConsumer } from './consumer-replica.js';
import type { ClusterContext } from './context.js';
import type { AssignmentHandler } from './meta.js';
import { ReplicatedStream } from './stream-replica.js';

export class LocalAssets implements AssignmentHandler {
  /** Replicated streams hosted here, by "account stream". */
  readonly streams = new Map<string, ReplicatedStream>();
  /** Replicated consumers hosted here, by "account stream consumer". */
  readonly consumers = new Map<string, ReplicatedConsumer>();

  constructor(
    private readonly ctx: ClusterContext,
    private readonly onMetaLeader: (isLeader: boolean) => void,
  ) {}

  private isMember(peers: readonly string[]): boolean {
    return peers.includes(this.ctx.selfId);
  }

  replicaOf(account: string, stream: string): ReplicatedStream | undefined {
    return this.streams.get(`${account} ${stream}`);
  }

  consumerReplicaOf(account: string, stream: string, consumer: string): ReplicatedConsumer | undefined {
    return this.consumers.get(`${account} ${stream} ${consumer}`);
  }

  /** The local stream of an assignment, if this server hosts it. */
  localStream(sa: StreamAssignment): Stream | undefined {
    return this.ctx.js.lookupAccount(accountOf(sa.client))?.lookupStream(sa.config.name);
  }

  // ---- streams --------------------------------------------------------------------------------------------

  streamAssigned(sa: StreamAssignment, isUpdate: boolean): void {
    const accName = accountOf(sa.client);
    const key = `${accName} ${sa.config.name}`;
    const jsa = this.ctx.js.lookupAccount(accName);
    if (!this.isMember(sa.group.peers)) {
      // Moved away from this server (or never here): drop a local copy.
      if (jsa?.lookupStream(sa.config.name) !== undefined) this.dropStream(sa, true);
      return;
    }
    if (jsa === undefined) {
      this.ctx.log(
        'warn',
        `JetStream cluster: account "${accName}" of stream '${sa.config.name}' is not enabled here`,
      );
      this.streamFailed(sa, isUpdate, newJSNoAccountError());
      return;
    }
    const existing = this.streams.get(key);
    if (existing !== undefined) {
      existing.reassigned(sa);
      if (isUpdate) {
        existing.stream.update(sa.config);
        if (existing.isLeader() && !sa.responded) {
          sa.responded = true;
          this.ctx.respond(sa.reply, {
            type: 'io.nats.jetstream.api.v1.stream_update_response',
            ...existing.info(),
          });
          sendStreamAction(this.ctx.js, jsa.account, sa.config.name, 'modify');
        }
      }
      return;
    }
    const local = jsa.lookupStream(sa.config.name);
    if (local !== undefined && sa.group.peers.length > 1) {
      // Scaled up from one replica: the running stream joins a group it leads first, and sends its
      // state to the new replicas once elected.
      if (isUpdate) local.update(sa.config);
      this.streams.set(key, new ReplicatedStream(this.ctx, jsa, sa, local, true));
      return;
    }
    if (local !== undefined && sa.config.num_replicas <= 1) {
      if (isUpdate) local.update(sa.config);
      if (!sa.responded) {
        sa.responded = true;
        const type = isUpdate ? 'stream_update_response' : 'stream_create_response';
        this.ctx.respond(sa.reply, { type: `io.nats.jetstream.api.v1.${type}`, ...this.r1Info(local) });
        sendStreamAction(this.ctx.js, jsa.account, sa.config.name, isUpdate ? 'modify' : 'create');
      }
      return;
    }
    let replica: ReplicatedStream | undefined;
    const r = jsa.openAssignedStream(sa.config, sa.created, (stream) => {
      if (sa.group.peers.length > 1) replica = new ReplicatedStream(this.ctx, jsa, sa, stream);
    });
    if (!('store' in r)) {
      this.streamFailed(sa, isUpdate, r);
      return;
    }
    if (replica !== undefined) {
      this.streams.set(key, replica);
      return;
    }
    if (!sa.responded) {
      sa.responded = true;
      this.ctx.respond(sa.reply, {
        type: 'io.nats.jetstream.api.v1.stream_create_response',
        ...this.r1Info(r),
        did_create: true,
      });
      sendStreamAction(this.ctx.js, jsa.account, sa.config.name, 'create');
    }
  }

  /**
   * This server could not open its part of a new stream: it tells the meta leader, which answers the create
   * with the error and removes the assignment (nats-server's stream assignment result; cluster.ts takes
   * them when it leads). Replayed assignments count as answered and are left alone.
   */
  private streamFailed(sa: StreamAssignment, isUpdate: boolean, error: object): void {
    if (sa.responded) return;
    this.ctx.respond(STREAM_ASSIGNMENT_RESULT, {
      account: accountOf(sa.client),
      stream: sa.config.name,
      create_response: { type: 'io.nats.jetstream.api.v1.stream_create_response', error },
      is_update: isUpdate ? true : undefined,
      // Not in nats-server's result (it ignores the field): which assignment failed, so that a late result
      // does not fail a stream created again under the same name.
      created: String(sa.created),
    });
  }

  /** Info of a single-replica stream hosted here. */
  r1Info(s: Stream, details = false): Record<string, unknown> {
    const i = s.info(details) as unknown as Record<string, unknown>;
    return { ...i, cluster: { name: this.ctx.clusterName, leader: this.ctx.core.name } };
  }

  streamRemoved(sa: StreamAssignment): void {
    const accName = accountOf(sa.client);
    const replica = this.streams.get(`${accName} ${sa.config.name}`);
    const local = this.localStream(sa);
    if (local === undefined) return;
    // The leader answers (a single replica is its own leader; a leaderless group: every member).
    const answer =
      replica === undefined ||
      replica.isLeader() ||
      (replica.node.leader === '' && this.isMember(sa.group.peers));
    this.dropStream(sa, true);
    if (answer && !sa.responded && sa.reply !== '') {
      sa.responded = true;
      this.ctx.respond(sa.reply, { type: 'io.nats.jetstream.api.v1.stream_delete_response', success: true });
      const acc = this.ctx.js.lookupAccount(accName)?.account;
      if (acc !== undefined) sendStreamAction(this.ctx.js, acc, sa.config.name, 'delete');
    }
  }

  private dropStream(sa: StreamAssignment, remove: boolean): void {
    const accName = accountOf(sa.client);
    const key = `${accName} ${sa.config.name}`;
    for (const [k, c] of this.consumers) {
      if (k.startsWith(`${key} `)) {
        c.stop(remove);
        this.consumers.delete(k);
      }
    }
    const replica = this.streams.get(key);
    this.streams.delete(key);
    replica?.stop(remove);
    const jsa = this.ctx.js.lookupAccount(accName);
    const local = jsa?.lookupStream(sa.config.name);
    if (jsa !== undefined && local !== undefined) {
      if (remove) jsa.deleteStream(local);
      else local.stop(false);
    }
  }

  // ---- consumers --------------------------------------------------------------------------------------------

  consumerAssigned(sa: StreamAssignment, ca: ConsumerAssignment): void {
    const accName = accountOf(sa.client);
    const key = `${accName} ${sa.config.name} ${ca.name}`;
    const jsa = this.ctx.js.lookupAccount(accName);
    const stream = jsa?.lookupStream(sa.config.name);
    if (!this.isMember(ca.group.peers)) {
      const c = this.consumers.get(key);
      if (c !== undefined) {
        this.consumers.delete(key);
        c.stop(true);
      } else if (stream !== undefined) lookupConsumer(stream, ca.name)?.delete();
      return;
    }
    if (jsa === undefined || stream === undefined) {
      this.ctx.log(
        'warn',
        `JetStream cluster: consumer '${sa.config.name} > ${ca.name}' assigned without its stream`,
      );
      this.consumerFailed(sa, ca, jsa === undefined ? newJSNoAccountError() : newJSStreamNotFoundError());
      return;
    }
    const existing = this.consumers.get(key);
    if (existing !== undefined) {
      existing.update(ca);
      return;
    }
    const local = lookupConsumer(stream, ca.name);
    if (local !== undefined && ca.group.peers.length <= 1) {
      local.update(ca.config);
      if (!ca.responded) {
        ca.responded = true;
        this.ctx.respond(ca.reply, {
          type: 'io.nats.jetstream.api.v1.consumer_create_response',
          ...this.consumerInfo(local),
        });
      }
      return;
    }
    if (ca.group.peers.length <= 1) {
      this.openSingleReplicaConsumer(jsa, stream, sa, ca);
      return;
    }
    const rc = ReplicatedConsumer.open(this.ctx, jsa, stream, sa, ca);
    if (!(rc instanceof ReplicatedConsumer)) {
      this.consumerFailed(
        sa,
        ca,
        typeof rc === 'string' ? { code: 500, err_code: 10012, description: rc } : rc,
      );
      return;
    }
    this.consumers.set(key, rc);
  }

  /**
   * This server could not open its part of a new consumer: it tells the meta leader, which answers the
   * create with the error and removes the assignment (nats-server's consumer assignment result, on
   * `$SYS.JSC.CONSUMER.ASSIGNMENT.RESULT`; cluster.ts takes them when it leads). Without that the create
   * went unanswered and the assignment stayed. Assignments replayed from the log at start-up or from a
   * snapshot count as answered and are left alone, so that a restart never removes a consumer.
   */
  private consumerFailed(sa: StreamAssignment, ca: ConsumerAssignment, error: object): void {
    if (ca.responded) return;
    this.ctx.respond(CONSUMER_ASSIGNMENT_RESULT, {
      account: accountOf(sa.client),
      stream: sa.config.name,
      consumer: ca.name,
      response: { type: 'io.nats.jetstream.api.v1.consumer_create_response', error },
      created: String(ca.created),
    });
  }

  /**
   * A consumer of one replica (the ephemerals of the KV and object store clients, ordered consumers): no
   * Raft group, as nats-server's createRaftGroup makes none for a single peer. Its only member leads it at
   * once and answers the create, instead of waiting out a campaign (up to 800 ms, or an election timeout
   * of seconds when the assignment is replayed at start-up).
   */
  private openSingleReplicaConsumer(
    jsa: JsAccount,
    stream: Stream,
    sa: StreamAssignment,
    ca: ConsumerAssignment,
  ): void {
    const r = openAssignedConsumer(jsa, stream, ca.name, ca.created, ca.config, () => {});
    if (!(r instanceof Consumer)) {
      this.consumerFailed(sa, ca, typeof r === 'string' ? { code: 500, err_code: 10012, description: r } : r);
      return;
    }
    if (ca.responded) return;
    ca.responded = true;
    this.ctx.respond(ca.reply, {
      type: 'io.nats.jetstream.api.v1.consumer_create_response',
      ...this.consumerInfo(r),
    });
  }

  /** Consumer info with the cluster block, for a consumer hosted here. */
  consumerInfo(c: Consumer): Record<string, unknown> {
    const key = `${c.acc.name} ${c.stream.name} ${c.name}`;
    const rc = this.consumers.get(key);
    if (rc !== undefined) return rc.info();
    return { ...c.info(), cluster: { name: this.ctx.clusterName, leader: this.ctx.core.name } };
  }

  consumerRemoved(sa: StreamAssignment, ca: ConsumerAssignment): void {
    const accName = accountOf(sa.client);
    const key = `${accName} ${sa.config.name} ${ca.name}`;
    const rc = this.consumers.get(key);
    const stream = this.ctx.js.lookupAccount(accName)?.lookupStream(sa.config.name);
    const local = stream === undefined ? undefined : lookupConsumer(stream, ca.name);
    if (rc === undefined && local === undefined) return;
    const answer =
      rc === undefined || rc.isLeader() || (rc.node?.leader === '' && this.isMember(ca.group.peers));
    if (rc !== undefined) {
      this.consumers.delete(key);
      rc.stop(true);
    } else local?.delete();
    if (answer && !ca.responded && ca.reply !== '') {
      ca.responded = true;
      this.ctx.respond(ca.reply, {
        type: 'io.nats.jetstream.api.v1.consumer_delete_response',
        success: true,
      });
    }
  }

  // ---- meta events ------------------------------------------------------------------------------------------

  metaLeaderChanged(isLeader: boolean): void {
    this.onMetaLeader(isLeader);
  }

  peerAdded(_id: string): void {}

  /** Set by the cluster: the meta leader remaps the streams of a removed server. */
  onPeerRemoved: (id: string) => void = () => {};

  peerRemoved(id: string): void {
    this.onPeerRemoved(id);
  }

  /** Raft groups hosted here (the meta group included): nats-server's ha_assets. */
  haAssets(): number {
    return 1 + this.streams.size + this.consumers.size;
  }

  /** Stop every replica (server shutdown); state stays. */
  stop(): void {
    for (const c of this.consumers.values()) c.stop(false);
    for (const s of this.streams.values()) s.stop(false);
    this.consumers.clear();
    this.streams.clear();
  }
}
