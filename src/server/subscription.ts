import type { Client } from './client.js';

/** What kind of server connection a RemoteLink is. */
export const RemoteKind = { ROUTE: 0, LEAF: 1 } as const;
export type RemoteKind = (typeof RemoteKind)[keyof typeof RemoteKind];

/**
 * The far end of a route or a leaf node connection, as delivery sees it: a message matched by its
 * interest is sent once per connection (with the names of the queue groups it should reach there),
 * however many of its subscriptions matched. Implemented by the cluster and leaf node layers.
 */
export interface RemoteLink {
  readonly linkKind: RemoteKind;
  /**
   * Leaf nodes: this server is the spoke of the connection (it solicited it without `hub: true`). A spoke
   * sends only local interest and does not pass the hub's messages to its routes.
   */
  readonly spoke: boolean;
  /** Leaf nodes: the cluster of the server at the other end ('' when none), for cluster-wide no-echo. */
  readonly remoteCluster: string;
  /** Send RMSG/LMSG for `account`; `queues` lists queue groups the remote side should deliver to. */
  sendMsg(
    account: string,
    subject: string,
    reply: string,
    queues: string[] | null,
    hdr: number,
    buf: Buffer,
    start: number,
    size: number,
  ): void;
}

/**
 * An in-process subscriber (JetStream's API and streams): called synchronously for each message, with
 * headers + payload as `size` bytes of `buf` from `start` (valid only during the call; copy to keep).
 */
export type InternalHandler = (
  subject: string,
  reply: string,
  hdr: number,
  buf: Buffer,
  start: number,
  size: number,
) => void;

/**
 * One SUB of a client, or one interest (RS+, LS+) of a route or leaf node. Held by the owner and the
 * account's sublist.
 * Exactly one of `client`, `remote` and `internal` is set.
 */
export class Subscription {
  /** Messages delivered so far, for auto-unsubscribe. */
  nm = 0;
  /** Auto-unsubscribe after this many messages; 0 = no limit. */
  max = 0;
  closed = false;
  /** Queue weight of a remote queue interest (how many members the remote server has). */
  qweight = 1;
  /**
   * An in-process handler that copies whatever it keeps before it returns (JetStream's stream ingest and
   * acks, the hot ones): delivery hands it the shared read buffer as it is instead of a copy.
   */
  copiesInput = false;

  constructor(
    readonly client: Client | undefined,
    readonly subject: string,
    readonly queue: string | undefined,
    readonly sid: string,
    readonly remote: RemoteLink | undefined = undefined,
    readonly internal: InternalHandler | undefined = undefined,
  ) {}
}
