import type { Client } from './client.js';

/** One SUB of a client (or, later, a route's interest). Held by the client's sid map and the sublist. */
export class Subscription {
  /** Messages delivered so far, for auto-unsubscribe. */
  nm = 0;
  /** Auto-unsubscribe after this many messages; 0 = no limit. */
  max = 0;
  closed = false;

  constructor(
    readonly client: Client,
    readonly subject: string,
    readonly queue: string | undefined,
    readonly sid: string,
  ) {}
}
