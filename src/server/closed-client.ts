/**
 * What /connz?state=closed, /accountz and /metrics need of a closed client connection, kept in a bounded
 * ring (`max_closed_clients`, nats-server's DEFAULT_MAX_CLOSED_CLIENTS 10,000). A snapshot, not the Client
 * itself: a closed Client holds its socket, buffers and parser (~4 KiB of heap each, measured), and the ring is
 * filled fastest by connection storms. nats-server keeps a ConnInfo-like record for the same reason.
 */
import type { Client } from './client.js';

/** A subscription as it was when its connection closed. */
export interface ClosedSub {
  readonly subject: string;
  readonly queue: string | undefined;
  readonly sid: string;
  /** Messages delivered. */
  readonly nm: number;
  /** Auto-unsubscribe limit, 0 = none. */
  readonly max: number;
}

export class ClosedClient {
  readonly closed = true;
  readonly cid: number;
  readonly clientType: string;
  readonly host: string;
  readonly port: number;
  /** Epoch ms. */
  readonly start: number;
  readonly last: number;
  readonly stop: number;
  readonly closeReason: string;
  readonly rtt: number;
  readonly pendingBytes: number;
  readonly inMsgs: number;
  readonly outMsgs: number;
  readonly inBytes: number;
  readonly outBytes: number;
  readonly subs: readonly ClosedSub[];
  readonly name: string;
  readonly lang: string;
  readonly version: string;
  /** The user it authenticated as: nkey, user or token (nats-server's getRawAuthUser). */
  readonly authUser: string;
  readonly accountName: string;

  constructor(c: Client, subs: readonly ClosedSub[]) {
    this.cid = c.cid;
    this.clientType = c.clientType;
    this.host = c.host;
    this.port = c.port;
    this.start = c.start.getTime();
    this.last = c.last;
    this.stop = c.stop?.getTime() ?? Date.now();
    this.closeReason = c.closeReason;
    this.rtt = c.rtt;
    this.pendingBytes = c.pendingAtClose;
    this.inMsgs = c.inMsgs;
    this.outMsgs = c.outMsgs;
    this.inBytes = c.inBytes;
    this.outBytes = c.outBytes;
    this.subs = subs;
    const o = c.opts;
    this.name = o.name ?? '';
    this.lang = o.lang ?? '';
    this.version = o.version ?? '';
    this.authUser = rawAuthUser(o);
    this.accountName = c.account.name;
  }
}

/** The user a client authenticated as (nats-server's getRawAuthUser). */
export function rawAuthUser(o: { nkey?: string; user?: string; auth_token?: string }): string {
  if (o.nkey !== undefined && o.nkey !== '') return o.nkey;
  if (o.user !== undefined && o.user !== '') return o.user;
  if (o.auth_token !== undefined && o.auth_token !== '') return o.auth_token;
  return '';
}

/** The last `capacity` closed clients, oldest first; adding is O(1). */
export class ClosedClientRing implements Iterable<ClosedClient> {
  private readonly slots: (ClosedClient | undefined)[] = [];
  /** Index of the oldest entry once the ring is full. */
  private head = 0;

  constructor(private capacity: number) {}

  get length(): number {
    return this.slots.length;
  }

  push(c: ClosedClient): void {
    if (this.capacity <= 0) return;
    if (this.slots.length < this.capacity) {
      this.slots.push(c);
      return;
    }
    this.slots[this.head] = c;
    this.head = (this.head + 1) % this.capacity;
  }

  *[Symbol.iterator](): Iterator<ClosedClient> {
    const n = this.slots.length;
    for (let i = 0; i < n; i++) yield this.slots[(this.head + i) % n]!;
  }

  filter(keep: (c: ClosedClient) => boolean): ClosedClient[] {
    const out: ClosedClient[] = [];
    for (const c of this) if (keep(c)) out.push(c);
    return out;
  }
}
