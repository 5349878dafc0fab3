/**
 * What the parts of clustered JetStream (replicas, the API, the meta group) need from the cluster that
 * holds them (cluster.ts), as an interface so that they do not import it.
 */
import type { RaftApplier, RaftNode } from '../../raft/node.js';
import type { Account } from '../../server/account.js';
import type { ServerCore } from '../../server/core.js';
import type { JetStream } from '../jetstream.js';
import type { RaftGroupInfo } from './assignments.js';
import type { MetaGroup } from './meta.js';
import type { PeerDirectory } from './peers.js';

export interface ClusterContext {
  readonly core: ServerCore;
  readonly js: JetStream;
  /** The system account: Raft, catch-ups and API responses travel there. */
  readonly sys: Account;
  /** This server's node id. */
  readonly selfId: string;
  readonly clusterName: string;
  readonly peers: PeerDirectory;
  readonly meta: MetaGroup;
  /** Start (or restart) the Raft node of an asset's group on this server. */
  createNode(group: RaftGroupInfo, applier: RaftApplier): RaftNode;
  /** Publish an API response in the system account (its reply subject routes back to the requester). */
  respond(reply: string, body: object): void;
  log(level: 'debug' | 'notice' | 'warn', msg: string): void;
}
