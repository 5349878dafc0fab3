/**
 * The `cluster` block of stream and consumer info, and `meta_cluster` of /jsz (nats-server's clusterInfo,
 * docs/design/jetstream-replication.md §5): the cluster name, the leader's server name, and the other
 * replicas with whether they are current, when they were last heard from (ns) and how far behind they are.
 */
import type { RaftNode } from '../../raft/node.js';
import type { ClusterContext } from './context.js';

export interface PeerInfoJson {
  name: string;
  current: boolean;
  offline?: boolean;
  active: number;
  lag?: number;
  peer: string;
}

export interface ClusterInfoJson {
  name?: string;
  leader?: string;
  replicas?: PeerInfoJson[];
}

/** nats-server's lostQuorumInterval: a replica not heard from for this long is not current. */
const CURRENT_WINDOW_MS = 10_000;

function peerName(ctx: ClusterContext, id: string): string {
  const n = ctx.peers.nameOf(id);
  return n !== '' ? n : `Server name unknown at this time (peerID: ${id})`;
}

/** The cluster block of a group this server is a member of (`peers`: the assignment's). */
export function streamClusterInfo(
  ctx: ClusterContext,
  node: RaftNode,
  peers: readonly string[],
): ClusterInfoJson {
  const ci: ClusterInfoJson = { name: ctx.clusterName };
  const leaderId = node.leader;
  if (leaderId !== '') ci.leader = peerName(ctx, leaderId);
  const now = Date.now();
  const prog = node.progressInfo();
  const seen = new Map(node.peerInfo().map((p) => [p.id, p]));
  const replicas: PeerInfoJson[] = [];
  for (const id of peers) {
    if (id === leaderId) continue;
    if (id === ctx.selfId && leaderId !== '') continue;
    const p = seen.get(id);
    const known = ctx.peers.get(id);
    const lastSeen = p !== undefined && p.lastSeen > 0 ? now - p.lastSeen : 0;
    const r: PeerInfoJson = { name: peerName(ctx, id), current: false, active: 0, peer: id };
    if (id === ctx.selfId) {
      r.current = node.isCurrent();
    } else if (node.isLeader() && p !== undefined) {
      r.current = p.index >= prog.applied && lastSeen <= CURRENT_WINDOW_MS;
      r.active = lastSeen * 1_000_000;
      const lag = prog.commit - p.index;
      if (lag > 0 && known !== undefined) r.lag = lag;
    } else if (p !== undefined) {
      r.current = lastSeen <= CURRENT_WINDOW_MS && lastSeen > 0;
      r.active = lastSeen * 1_000_000;
    }
    if (known === undefined || known.offline) {
      r.offline = true;
      r.current = false;
    }
    replicas.push(r);
  }
  replicas.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (replicas.length > 0) ci.replicas = replicas;
  return ci;
}
