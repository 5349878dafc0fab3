/**
 * The per-server control requests nats-server 2.10 added (events.go kickClient, ldmClient):
 * `$SYS.REQ.SERVER.<id>.KICK` closes a client (or leaf) connection, `$SYS.REQ.SERVER.<id>.LDM` tells one
 * client that this server is going away (an INFO with `ldm`), so it moves to another one. Both take
 * `{"cid": <connection id>}`.
 */
import { ClosedReason } from '../server/closed-reason.js';
import type { MonitoredServer } from './state.js';

/** The connection id of a KICK or LDM request; undefined when the body is not such a request. */
export function requestedCid(body: string): number | undefined {
  try {
    const v: unknown = JSON.parse(body);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    const cid = (v as { cid?: unknown }).cid;
    if (cid === undefined) return 0;
    return typeof cid === 'number' && Number.isInteger(cid) && cid >= 0 ? cid : undefined;
  } catch {
    return undefined;
  }
}

/** nats-server's DisconnectClientByID: a client first, else a leaf connection with that id. */
export function kickConnection(server: MonitoredServer, cid: number): void {
  const client = server.clients.get(cid);
  if (client !== undefined) {
    client.close(ClosedReason.Kicked);
    return;
  }
  const leaf = server.leafnodes?.connections().find((l) => l.lid === cid);
  if (leaf === undefined) throw new Error('no such client or leafnode id');
  leaf.close(ClosedReason.Kicked);
}

/** nats-server's LDMClientByID: the lame duck INFO, to a client that has finished connecting. */
export function lameDuckClient(server: MonitoredServer, cid: number): void {
  const client = server.clients.get(cid);
  if (client === undefined) throw new Error('no such client id');
  if (client.opts.protocol < 1 || !client.firstPongSent) {
    throw new Error('client does not support Lame Duck Mode or is not ready to receive the notification');
  }
  client.sendInfo(server.infoFor(client, true));
}
