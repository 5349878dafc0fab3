/**
 * NRG over the server (docs/design/nrg.md §1.3): Raft messages are plain messages in the system account,
 * carried to the other servers by the routes as RMSG. Subscriptions are in-process subscriptions whose
 * interest reaches the routes (RS+), as nats-server's internal system client does. A node never receives
 * its own messages: they go to clients and routes only (Go's noIcb). Sends are deferred, in order, so a
 * handler that answers from inside a delivery keeps the re-entrancy rule.
 */
import type { RaftTransport } from '../../raft/node.js';
import type { Account } from '../../server/account.js';
import type { ServerCore } from '../../server/core.js';

export class ServerRaftTransport implements RaftTransport {
  constructor(
    private readonly core: ServerCore,
    private readonly sys: Account,
  ) {}

  subscribe(subject: string, handler: (reply: string, data: Buffer) => void): () => void {
    const sub = this.core.subscribeInternal(this.sys, subject, (_s, reply, hdr, buf, start, size) => {
      // Copied: the buffer is a read buffer that the next read reuses.
      const from = hdr > 0 ? start + hdr : start;
      handler(reply, Buffer.from(buf.subarray(from, start + size)));
    });
    return () => this.core.unsubscribeInternal(this.sys, sub);
  }

  send(subject: string, reply: string, data: Buffer): void {
    this.core.delivery.deferToOthers(this.sys, subject, reply, data);
  }
}
