/**
 * The system account's client events (nats-server events.go, accountConnectEvent and
 * accountDisconnectEvent): `$SYS.ACCOUNT.<acc>.CONNECT` when a client logs in to an account other than
 * the global one, and `$SYS.ACCOUNT.<acc>.DISCONNECT` when it leaves, with who it is (ClientInfo) and,
 * on leaving, what it sent and received and why it closed. Sent whenever there is a system account,
 * with or without operator mode, as nats-server does.
 */
import { rfc3339 } from '../monitor/format.js';
import { nuid } from '../util/nuid.js';
import type { Account } from './account.js';
import type { Client } from './client.js';
import { rawAuthUser } from './closed-client.js';
import type { ServerCore } from './core.js';

type Json = Record<string, unknown>;

/**
 * A connection as its events describe it (what nats-server's ClientInfo is filled from): a client, or a
 * leaf node connection the server's own authentication let in.
 */
export interface EventSource {
  readonly start: Date;
  readonly stop: Date | undefined;
  readonly host: string;
  readonly id: number;
  readonly account: Account;
  /** nats-server's getRawAuthUser: the nkey, user name, user JWT's key or token given. */
  readonly user: string;
  readonly name: string;
  readonly lang: string;
  readonly version: string;
  /** ms; 0 when not measured. */
  readonly rtt: number;
  readonly jwt: string;
  readonly issuerKey: string;
  readonly nameTag: string;
  readonly tags: readonly string[];
  readonly kind: 'Client' | 'Leafnode';
  /** "nats" or "websocket" for clients, '' for leafs. */
  readonly clientType: string;
  readonly inMsgs: number;
  readonly inBytes: number;
  readonly outMsgs: number;
  readonly outBytes: number;
}

/** What the client and leaf code tells (ServerCore.clientEvents). */
export interface ClientEventsObserver {
  connected(c: EventSource): void;
  disconnected(c: EventSource, reason: string): void;
}

export class ClientEvents implements ClientEventsObserver {
  constructor(
    private readonly server: ServerCore,
    private readonly sys: Account,
    /** The `server` object of system events (SystemRequests.serverInfo). */
    private readonly serverInfo: () => Json,
  ) {}

  start(): void {
    this.server.clientEvents = this;
  }

  stop(): void {
    if (this.server.clientEvents === this) this.server.clientEvents = undefined;
  }

  connected(c: EventSource): void {
    if (c.account === this.server.globalAccount) return;
    const ev: Json = {
      ...typedEvent('io.nats.server.advisory.v1.client_connect'),
      server: this.serverInfo(),
      client: clientInfo(c, undefined),
    };
    this.send(`$SYS.ACCOUNT.${c.account.name}.CONNECT`, ev);
  }

  disconnected(c: EventSource, reason: string): void {
    if (c.account === this.server.globalAccount) return;
    const stop = c.stop ?? new Date();
    const ev: Json = {
      ...typedEvent('io.nats.server.advisory.v1.client_disconnect', stop),
      server: this.serverInfo(),
      client: clientInfo(c, stop),
      sent: { msgs: c.inMsgs, bytes: c.inBytes },
      received: { msgs: c.outMsgs, bytes: c.outBytes },
      reason,
    };
    this.send(`$SYS.ACCOUNT.${c.account.name}.DISCONNECT`, ev);
  }

  private send(subject: string, ev: Json): void {
    this.server.delivery.defer(this.sys, subject, '', null, Buffer.from(JSON.stringify(ev)));
  }
}

/** A client as its events describe it. */
export function clientEventSource(c: Client): EventSource {
  const o = c.opts;
  return {
    start: c.start,
    stop: c.stop,
    host: c.host,
    id: c.cid,
    account: c.account,
    user: authUser(c),
    name: o.name ?? '',
    lang: o.lang ?? '',
    version: o.version ?? '',
    rtt: c.rtt,
    jwt: o.jwt ?? '',
    issuerKey: c.issuerKey,
    nameTag: c.nameTag,
    tags: c.userTags,
    kind: 'Client',
    clientType: c.clientType,
    inMsgs: c.inMsgs,
    inBytes: c.inBytes,
    outMsgs: c.outMsgs,
    outBytes: c.outBytes,
  };
}

/** TypedEvent: `type`, `id`, `timestamp`. */
function typedEvent(type: string, at = new Date()): Json {
  return { type, id: nuid(), timestamp: rfc3339(at) };
}

/**
 * nats-server's ClientInfo of a client event, in its field order, empty fields left out (omitempty):
 * the round-trip time and the stop time only once the connection has closed.
 */
function clientInfo(c: EventSource, stop: Date | undefined): Json {
  const ci: Json = { start: rfc3339(c.start), host: c.host };
  if (c.id !== 0) ci.id = c.id;
  ci.acc = c.account.name;
  if (c.user !== '') ci.user = c.user;
  if (c.name !== '') ci.name = c.name;
  if (c.lang !== '') ci.lang = c.lang;
  if (c.version !== '') ci.ver = c.version;
  if (stop !== undefined) {
    // Go's time.Duration: nanoseconds.
    if (c.rtt > 0) ci.rtt = Math.round(c.rtt * 1e6);
    ci.stop = rfc3339(stop);
  }
  if (c.jwt !== '') ci.jwt = c.jwt;
  if (c.issuerKey !== '') ci.issuer_key = c.issuerKey;
  if (c.nameTag !== '') ci.name_tag = c.nameTag;
  if (c.tags.length > 0) ci.tags = [...c.tags];
  ci.kind = c.kind;
  if (c.clientType !== '') ci.client_type = c.clientType;
  return ci;
}

/** nats-server's getRawAuthUser: the nkey, user name, user JWT's key or token the client gave. */
function authUser(c: Client): string {
  const o = c.opts;
  if ((o.nkey ?? '') !== '' || (o.user ?? '') !== '') return rawAuthUser(o);
  if ((o.jwt ?? '') !== '') return c.authorizedUser;
  return rawAuthUser(o);
}
