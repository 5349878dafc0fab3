import type { Client } from './client.js';

/**
 * The far end of a route, as delivery sees it: a message matched by the route's interest is sent once
 * per route (with the names of the queue groups it should reach there), however many of the route's
 * subscriptions matched. Implemented by the cluster layer.
 */
export interface RemoteLink {
  /** Send RMSG/HMSG for `account`; `queues` lists queue groups the remote side should deliver to. */
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
 * One SUB of a client, or one interest (RS+) of a route. Held by the owner and the account's sublist.
 * Exactly one of `client`, `remote` and `internal` is set.
 */
export class Subscription {
  /** Messages delivered so far, for auto-unsubscribe. */
  nm = 0;
  /** Auto-unsubscribe after this many messages; 0 = no limit. */
  max = 0;
  closed = false;
  /** Queue weight of a route's queue interest (how many members the remote server has). */
  qweight = 1;

  constructor(
    readonly client: Client | undefined,
    readonly subject: string,
    readonly queue: string | undefined,
    readonly sid: string,
    readonly remote: RemoteLink | undefined = undefined,
    readonly internal: InternalHandler | undefined = undefined,
  ) {}
}
