/** A registered NATS Streaming client, and its record in the state stream (state.ts). */
import type { SubState } from './subscription.js';

/** A registered streaming client (nats-streaming-server's client / spb.ClientInfo). */
export interface StanClient {
  readonly id: string;
  readonly hbInbox: string;
  /** Hex of the connection ID the client sent (PubMsg and Ping carry it). */
  readonly connId: string;
  readonly protocol: number;
  readonly pingInterval: number;
  readonly pingMaxOut: number;
  readonly subs: Set<SubState>;
  /** Heartbeats failed in a row. */
  fhb: number;
  hbTimer: NodeJS.Timeout | undefined;
}

/** A client as the state stream keeps it (JSON). */
export interface ClientRecord {
  id: string;
  hbInbox: string;
  connId: string;
  protocol: number;
  pingInterval: number;
  pingMaxOut: number;
}
