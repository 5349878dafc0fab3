/**
 * Clustered JetStream on this server (nats-server's jetStreamCluster): the meta group, the peers it knows,
 * the replicas it hosts and the API in the system account. Built by JetStream when the server is in a
 * cluster and has a server name (the name is its identity in every Raft group).
 *
 *   peers.ts      who the other servers are (route INFO, statsz, shutdown events)
 *   meta.ts       the `_meta_` group: stream and consumer assignments
 *   local.ts      the assets this server hosts (stream-replica.ts, consumer-replica.ts)
 *   api.ts        `$JS.API.>` in the system account: who answers what
 *   placement.ts  where new streams go
 *
 * Requests reach the system account as nats-server sends them: every JetStream account imports
 * `$JS.API.>` from it, and the import adds the `Nats-Request-Info` header (the requester's account and
 * cluster). Raft groups keep their state in `<store_dir>/jetstream/<system account>/_js_/<group>`.
 */
import { join } from 'node:path';
import { nodeIdOf } from '../../raft/ids.js';
import { GO_TIMING, type RaftApplier, RaftNode, type RaftTiming } from '../../raft/node.js';
import { FileRaftStorage, MemRaftStorage } from '../../raft/storage.js';
import { wireToText } from '../../routing/subject-text.js';
import type { Account } from '../../server/account.js';
import type { Client } from '../../server/client.js';
import type { ServerCore } from '../../server/core.js';
import type { Subscription } from '../../server/subscription.js';
import { VERSION } from '../../server/version.js';
import { requesterInfo } from '../advisories.js';
import { goJson } from '../api/json.js';
import type { JetStream } from '../jetstream.js';
import { ClusterApi, REQUEST_INFO_HEADER } from './api.js';
import {
  CONSUMER_ASSIGNMENT_RESULT,
  encodeConsumerEntry,
  encodeStreamEntry,
  type RaftGroupInfo,
  STREAM_ASSIGNMENT_RESULT,
} from './assignments.js';
import type { ClusterContext } from './context.js';
import { EntryOp } from './entries.js';
import { streamClusterInfo } from './info.js';
import { LocalAssets } from './local.js';
import { MetaGroup } from './meta.js';
import { ServerRaftTransport } from './nrg-transport.js';
import { PeerDirectory } from './peers.js';

/** What the cluster needs from the route manager (the composition root passes it). */
export interface RouteSource {
  readonly clusterName: string;
  onRouteRegistered(
    listener: (info: { server_name: string; server_id: string; jetstream: boolean; domain: string }) => void,
  ): void;
  /** Configured routes: the meta group's expected size at bootstrap. */
  readonly options: { routes: string[] };
}

export const META_GROUP = '_meta_';

export class JetStreamCluster implements ClusterContext {
  readonly core: ServerCore;
  readonly sys: Account;
  readonly selfId: string;
  readonly peers: PeerDirectory;
  readonly meta: MetaGroup;
  readonly local: LocalAssets;
  private readonly api: ClusterApi;
  private readonly subs: Subscription[] = [];
  private routes: RouteSource | undefined;
  private readonly groupsDir: string;
  private stopped = false;
  /** Test hook: Raft timing (defaults to nats-server's). */
  timing: Partial<RaftTiming> = GO_TIMING;
  /** Called when a new server is seen (the system services then publish this server's statsz). */
  onNewServer: () => void = () => {};

  constructor(
    readonly js: JetStream,
    sys: Account,
  ) {
    this.core = js.server;
    this.sys = sys;
    this.selfId = nodeIdOf(this.core.name);
    this.groupsDir = join(js.storeDir, sys.name, '_js_');
    this.peers = new PeerDirectory(js.domain, () => this.onNewServer());
    this.local = new LocalAssets(this, (isLeader) => this.metaLeaderChanged(isLeader));
    this.meta = new MetaGroup(this.local, (m) => this.log('warn', m));
    this.api = new ClusterApi(this, this.local);
    this.local.onPeerRemoved = (id) => this.api.peerRemoved(id);
  }

  get clusterName(): string {
    return this.routes?.clusterName ?? '';
  }

  /** The composition root hands over the routes (they are built after JetStream). */
  attachRoutes(routes: RouteSource): void {
    this.routes = routes;
    routes.onRouteRegistered((info) => this.peers.fromRoute(info, routes.clusterName));
  }

  log(level: 'debug' | 'notice' | 'warn', msg: string): void {
    const l = this.core.logger;
    if (level === 'debug') l.debug(msg);
    else if (level === 'notice') l.notice(msg);
    else l.warn(msg);
  }

  respond(reply: string, body: object): void {
    if (reply === '') return;
    this.core.delivery.defer(this.sys, reply, '', null, Buffer.from(goJson(body)));
  }

  createNode(group: RaftGroupInfo, applier: RaftApplier): RaftNode {
    const dir = join(this.groupsDir, group.name);
    const storage = group.store === 'memory' ? new MemRaftStorage() : new FileRaftStorage(dir);
    return new RaftNode({
      group: group.name,
      id: this.selfId,
      storage,
      transport: new ServerRaftTransport(this.core, this.sys),
      applier,
      knownPeers: group.peers,
      timing: this.timing,
      log: (level, msg) => this.log(level, `RAFT ${msg}`),
      isOnline: (id) => this.peers.isOnline(id),
    });
  }

  /** Start: peer tracking, the API, the meta group (whose log replay opens the hosted assets). */
  start(): void {
    const core = this.core;
    const sys = this.sys;
    this.peers.setSelf({
      name: core.name,
      serverId: core.id,
      version: VERSION,
      cluster: this.clusterName,
      domain: this.js.domain,
      tags: [...core.options.tags],
      js: true,
      cfg: { max_memory: this.js.maxMemory, max_storage: this.js.maxStore },
      stats: { memory: 0, storage: 0, reserved_memory: 0, reserved_storage: 0, ha_assets: 0 },
      offline: false,
      seen: Date.now(),
    });
    const json = (
      buf: Buffer,
      hdr: number,
      start: number,
      size: number,
    ): Record<string, unknown> | undefined => {
      try {
        return JSON.parse(buf.toString('utf8', hdr > 0 ? start + hdr : start, start + size)) as Record<
          string,
          unknown
        >;
      } catch {
        return undefined;
      }
    };
    this.subs.push(
      core.subscribeInternal(sys, '$SYS.SERVER.*.STATSZ', (_s, _r, hdr, buf, start, size) => {
        const m = json(buf, hdr, start, size);
        if (m !== undefined) this.peers.fromStatsz(m);
      }),
      core.subscribeInternal(sys, '$SYS.SERVER.*.SHUTDOWN', (_s, _r, hdr, buf, start, size) => {
        const m = json(buf, hdr, start, size);
        if (m !== undefined) this.peers.fromShutdown(m);
      }),
      core.subscribeInternal(sys, '$JS.API.>', (subject, reply, hdr, buf, start, size) => {
        const h = hdr > 0 ? buf.subarray(start, start + hdr) : Buffer.alloc(0);
        this.api.dispatch(subject, reply, h, buf.subarray(start + Math.max(hdr, 0), start + size));
      }),
      core.subscribeInternal(sys, '$JSC.SI.*.*', (subject, reply) => this.streamInfoRequest(subject, reply)),
      core.subscribeInternal(sys, '$JSC.CI.*.*.*', (subject, reply) =>
        this.consumerInfoRequest(subject, reply),
      ),
      core.subscribeInternal(sys, STREAM_ASSIGNMENT_RESULT, (_s, _r, hdr, buf, start, size) => {
        const m = json(buf, hdr, start, size);
        if (m !== undefined) this.streamAssignmentResult(m);
      }),
      core.subscribeInternal(sys, CONSUMER_ASSIGNMENT_RESULT, (_s, _r, hdr, buf, start, size) => {
        const m = json(buf, hdr, start, size);
        if (m !== undefined) this.consumerAssignmentResult(m);
      }),
    );
    // The meta group: bootstrap with ourselves and the size the configured routes suggest.
    const expected = Math.max(2, this.routes?.options.routes.length ?? 0);
    const node = new RaftNode({
      group: META_GROUP,
      id: this.selfId,
      storage: new FileRaftStorage(join(this.groupsDir, META_GROUP), { syncIntervalMs: 60_000 }),
      transport: new ServerRaftTransport(this.core, this.sys),
      applier: this.meta,
      knownPeers: [this.selfId],
      clusterSize: expected,
      timing: this.timing,
      log: (level, msg) => this.log(level, `RAFT ${msg}`),
      isOnline: (id) => this.peers.isOnline(id),
    });
    this.meta.node = node;
    this.meta.recovered();
    if (!node.hadPreviousLeader() && node.currentTerm === 0) node.campaign();
    this.log('notice', `JetStream cluster: this server is ${this.selfId} in the meta group`);
  }

  /**
   * A member could not open its part of a new stream (nats-server's processStreamAssignmentResults): the
   * meta leader answers the create with the member's response, once (an update's every time), and removes
   * an assignment made less than 5 s ago (with no reply, so nobody gets a delete response). nats-server
   * also retries the placement in another cluster of a super-cluster; tsnats has no gateways.
   */
  private streamAssignmentResult(m: Record<string, unknown>): void {
    if (!this.meta.isLeader()) return;
    const { account, stream, is_update: update } = m;
    if (typeof account !== 'string' || typeof stream !== 'string') return;
    const sa = this.meta.stream(account, stream);
    if (sa === undefined || staleResult(m, sa.created)) return;
    const response = m.create_response ?? m.restore_response;
    if ((!sa.responded || update === true) && typeof response === 'object' && response !== null) {
      sa.responded = true;
      this.respond(sa.reply, response);
    }
    const ageNs = BigInt(Date.now()) * 1_000_000n - sa.created;
    if (update !== true && ageNs < 5_000_000_000n) {
      this.meta.node!.propose(
        encodeStreamEntry(EntryOp.RemoveStream, { ...sa, reply: '', subject: '', created: 0n, sync: '' }),
      );
    }
  }

  /**
   * A member could not open its part of a new consumer (nats-server's processConsumerAssignmentResults): the
   * meta leader answers the create with the member's response, once, and when that is an error removes the
   * assignment (with no reply, so nobody gets a delete response).
   */
  private consumerAssignmentResult(m: Record<string, unknown>): void {
    if (!this.meta.isLeader()) return;
    const { account, stream, consumer, response } = m;
    if (typeof account !== 'string' || typeof stream !== 'string' || typeof consumer !== 'string') return;
    const ca = this.meta.consumer(account, stream, consumer);
    if (ca === undefined || ca.responded || staleResult(m, ca.created)) return;
    ca.responded = true;
    if (typeof response !== 'object' || response === null) return;
    this.respond(ca.reply, response);
    if ('error' in response) {
      this.meta.node!.propose(
        encodeConsumerEntry(EntryOp.RemoveConsumer, { ...ca, reply: '', subject: '', created: 0n }),
      );
    }
  }

  /** The requester's details, as nats-server adds them to a `$JS.API` request crossing into the system account. */
  requestInfo(acc: Account, producer: Client | null): string {
    return JSON.stringify(requesterInfo(this.js, acc, producer));
  }

  static readonly requestInfoHeader = REQUEST_INFO_HEADER;

  private metaLeaderChanged(isLeader: boolean): void {
    if (isLeader) {
      this.log('notice', 'Self is new JetStream cluster metadata leader');
      // Every server answers with its statsz: placement knows who is there.
      this.core.delivery.defer(this.sys, '$SYS.REQ.SERVER.PING', '', null, Buffer.alloc(0));
    }
  }

  /** `$JSC.SI.<account>.<stream>`: the stream's leader answers with its info (the meta leader's lists). */
  private streamInfoRequest(subject: string, reply: string): void {
    if (reply === '') return;
    const [, , acc, name] = wireToText(subject).split('.');
    const sa = this.meta.stream(acc!, name!);
    if (sa === undefined) return;
    const replica = this.local.replicaOf(acc!, name!);
    let info: Record<string, unknown> | undefined;
    if (replica !== undefined) {
      if (replica.isLeader() || replica.node.leader === '') info = replica.info();
    } else {
      const s = this.local.localStream(sa);
      if (s !== undefined) info = this.local.r1Info(s);
    }
    if (info !== undefined) {
      (info.state as Record<string, unknown>).consumer_count = sa.consumers.size;
      this.respond(reply, info);
    }
  }

  /** `$JSC.CI.<account>.<stream>.<consumer>`: the consumer's leader answers with its info. */
  private consumerInfoRequest(subject: string, reply: string): void {
    if (reply === '') return;
    const [, , acc, stream, name] = wireToText(subject).split('.');
    const rc = this.local.consumerReplicaOf(acc!, stream!, name!);
    if (rc !== undefined) {
      if (rc.isLeader()) this.respond(reply, rc.info());
      return;
    }
    const s = this.js.lookupAccount(acc!)?.lookupStream(stream!);
    const c = s?.consumers.get(name!);
    if (c !== undefined && 'info' in c) this.respond(reply, this.local.consumerInfo(c as never));
  }

  /** Raft groups on this server (statsz, /jsz ha_assets). */
  haAssets(): number {
    return this.local.haAssets();
  }

  /** `meta_cluster` of /jsz and `meta` of statsz (nats-server's raftNodeToClusterInfo). */
  metaClusterInfo(forStatsz = false): Record<string, unknown> | undefined {
    const node = this.meta.node;
    if (node === undefined) return undefined;
    const leaderName = node.leader !== '' ? this.peers.nameOf(node.leader) : '';
    const info: Record<string, unknown> = {};
    if (node.isLeader() || !forStatsz) info.name = this.clusterName;
    else info.name = META_GROUP;
    if (leaderName !== '') info.leader = leaderName;
    info.peer = node.leader !== '' ? node.leader : nodeIdOf('');
    if (node.isLeader()) {
      const ci = streamClusterInfo(this, node, node.peerIds());
      if (ci.replicas !== undefined) info.replicas = ci.replicas;
    }
    info.cluster_size = node.clusterSize;
    // 2.10: API requests waiting to be processed (jsAPIRoutedReqs); tsnats answers each as it arrives.
    info.pending = 0;
    return info;
  }

  /**
   * The Raft groups this server runs, each with the account it belongs to as nats-server names it: the
   * meta group the system account's, a stream's or consumer's group its account's (for /raftz).
   */
  raftGroups(): { account: string; node: RaftNode }[] {
    const out: { account: string; node: RaftNode }[] = [];
    const meta = this.meta.node;
    if (meta !== undefined) out.push({ account: this.sys.name, node: meta });
    for (const r of this.local.streams.values()) out.push({ account: r.jsa.account.name, node: r.node });
    for (const c of this.local.consumers.values()) out.push({ account: c.jsa.account.name, node: c.node });
    return out;
  }

  /** Health (nats-server's healthz for clustered JetStream): '' when healthy, else why not. */
  health(serverOnly = false): string {
    const node = this.meta.node;
    if (node === undefined) return '';
    if (node.leader === '') return 'JetStream has not established contact with a meta leader';
    if (!node.isCurrent()) return 'JetStream is not current with the meta leader';
    if (serverOnly) return '';
    for (const r of this.local.streams.values()) {
      if (!r.isCurrent() && !r.isLeader())
        return `JetStream stream '${r.jsa.account.name} > ${r.name}' is not current`;
    }
    return '';
  }

  /** Step down from every group this server leads (shutdown; nats-server's stepdownRaftNodes). */
  stepDownAll(): void {
    for (const r of this.local.streams.values()) if (r.node.isLeader()) r.node.stepDown();
    for (const c of this.local.consumers.values()) if (c.node.isLeader()) c.node.stepDown();
    if (this.meta.node?.isLeader()) this.meta.node.stepDown();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const s of this.subs) this.core.unsubscribeInternal(this.sys, s);
    this.subs.length = 0;
    this.local.stop();
    this.meta.node?.stop();
  }
}

/**
 * An assignment result about an earlier assignment of the same name: tsnats members add the assignment's
 * `created` (nanoseconds, as a string); nats-server's results have none and always count.
 */
function staleResult(m: Record<string, unknown>, created: bigint): boolean {
  return typeof m.created === 'string' && m.created !== String(created);
}
