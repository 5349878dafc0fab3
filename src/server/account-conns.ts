/**
 * Account connection events (nats-server's, server/events.go), whenever there is a system account; in
 * operator mode in a cluster they make an account JWT's `conn` and `leaf` limits count the account's
 * connections on every server:
 *
 * - when an account's local connections change (and every 30 s while it has some), this server sends
 *   `$SYS.SERVER.ACCOUNT.<acc>.CONNS` and `$SYS.ACCOUNT.<acc>.SERVER.CONNS` with its counts;
 * - from the other servers' events it keeps their counts for the accounts in use here; when the total is
 *   over the limit, the newest local clients go (`maximum account active connections exceeded`), as
 *   nats-server does ("conservative and a bit harsh": each server may trim);
 * - a server that shuts down (`$SYS.SERVER.<id>.SHUTDOWN`) no longer counts.
 */
import { nuid } from '../util/nuid.js';
import type { Account } from './account.js';
import type { Client } from './client.js';
import type { ServerCore } from './core.js';
import type { Subscription } from './subscription.js';

type Json = Record<string, unknown>;

/** nats-server's eventsHBInterval. */
const HEARTBEAT_MS = 30_000;

export class AccountConns {
  private readonly subs: Subscription[] = [];
  private readonly heartbeats = new Map<Account, NodeJS.Timeout>();

  constructor(
    private readonly server: ServerCore,
    private readonly sys: Account,
    /** The `server` object of system events (SystemRequests.serverInfo). */
    private readonly serverInfo: () => Json,
  ) {}

  start(): void {
    const s = this.server;
    const body = (hdr: number, buf: Buffer, start: number, size: number): string =>
      buf.toString('utf8', hdr > 0 ? start + hdr : start, start + size);
    this.subs.push(
      s.subscribeInternal(this.sys, '$SYS.SERVER.ACCOUNT.*.CONNS', (_subj, _reply, hdr, buf, start, size) =>
        this.remoteUpdate(body(hdr, buf, start, size)),
      ),
      s.subscribeInternal(this.sys, '$SYS.SERVER.*.SHUTDOWN', (subj) => this.serverGone(subj.split('.')[2]!)),
    );
    s.accountConnsObserver = (acc) => this.localChange(acc);
  }

  stop(): void {
    this.server.accountConnsObserver = undefined;
    for (const sub of this.subs) this.server.unsubscribeInternal(this.sys, sub);
    this.subs.length = 0;
    for (const t of this.heartbeats.values()) clearTimeout(t);
    this.heartbeats.clear();
  }

  /** A client or leaf joined or left `acc` here: tell the others (nats-server's accConnsUpdate). */
  private localChange(acc: Account): void {
    // nats-server also reports the global account, when a connection is made and before it logs in (every
    // connection starts there); tsnats leaves it out.
    if (acc === this.server.globalAccount) return;
    const conns = acc.clients.size;
    const leafs = this.server.leafsOf(acc);
    const ev: Json = {
      type: 'io.nats.server.advisory.v1.account_connections',
      id: nuid(),
      timestamp: new Date().toISOString(),
      server: this.serverInfo(),
      acc: acc.name,
      conns,
      leafnodes: leafs,
      total_conns: conns + leafs,
      num_subscriptions: acc.numSubscriptionsReported(),
      sent: { msgs: acc.msgStats.outMsgs, bytes: acc.msgStats.outBytes },
      received: { msgs: acc.msgStats.inMsgs, bytes: acc.msgStats.inBytes },
      // Not counted per account by tsnats.
      slow_consumers: 0,
    };
    const data = Buffer.from(JSON.stringify(ev));
    for (const subject of [
      `$SYS.SERVER.ACCOUNT.${acc.name}.CONNS`,
      `$SYS.ACCOUNT.${acc.name}.SERVER.CONNS`,
    ]) {
      this.server.delivery.defer(this.sys, subject, '', null, data);
    }
    const hb = this.heartbeats.get(acc);
    if (hb !== undefined) clearTimeout(hb);
    this.heartbeats.delete(acc);
    if (conns + leafs > 0) {
      const t = setTimeout(() => this.localChange(acc), HEARTBEAT_MS);
      t.unref();
      this.heartbeats.set(acc, t);
    }
  }

  /** Another server's counts for an account (nats-server's remoteConnsUpdate / updateRemoteServer). */
  private remoteUpdate(text: string): void {
    let m: { server?: { id?: unknown }; acc?: unknown; conns?: unknown; leafnodes?: unknown };
    try {
      m = JSON.parse(text) as typeof m;
    } catch (e) {
      this.server.logger.error(
        `Error unmarshalling account connection event message: ${(e as Error).message}`,
      );
      return;
    }
    const id = typeof m.server?.id === 'string' ? m.server.id : '';
    if (id === '' || id === this.server.id || typeof m.acc !== 'string') return;
    // Only accounts in use here are tracked; the event never loads one.
    const acc = this.server.accounts.get(m.acc);
    if (acc === undefined) return;
    acc.remoteConns.set(id, {
      conns: typeof m.conns === 'number' ? m.conns : 0,
      leafs: typeof m.leafnodes === 'number' ? m.leafnodes : 0,
    });
    if (acc.maxConnections < 0) return;
    const over = acc.clients.size + acc.numRemoteConns() - acc.maxConnections;
    if (over <= 0) return;
    const newest: Client[] = [...acc.clients].sort((a, b) => b.start.getTime() - a.start.getTime());
    for (const c of newest.slice(0, over)) c.maxAccountConnExceeded();
  }

  private serverGone(id: string): void {
    for (const acc of this.server.accounts.values()) acc.remoteConns.delete(id);
  }
}
