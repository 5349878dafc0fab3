/**
 * A NATS Streaming subscription's state (nats-streaming-server's subState) and a queue group's
 * (queueState), and the record of a subscription kept in the state stream (state.ts).
 *
 * Kinds, as nats-streaming-server tells them apart:
 * - plain: no durable name, no queue group; gone when closed, unsubscribed or its client goes;
 * - durable: `durableName`, keyed by client ID + channel + durable name; close() (or the client going)
 *   leaves it offline with its position, unsubscribe() removes it;
 * - queue member: `qgroup`; a durable queue group's name is `<durable>:<group>` and, when its last member
 *   leaves without unsubscribing, the group stays as a "shadow" with the group's position.
 */
import type { Channel } from './channel.js';

export class QueueState {
  readonly subs: SubState[] = [];
  /** The state of a durable group whose members are all gone (closed, not unsubscribed). */
  shadow: SubState | undefined;
  /** Highest sequence sent to any member. */
  lastSent = 0;
  stalledSubCount = 0;
  /** Redelivery counts by sequence, shared by the members. */
  readonly rdlvCount = new Map<number, number>();
  newOnHold = false;

  constructor(readonly name: string) {}
}

export class SubState {
  /** Unique in the server (and in its state), never reused. */
  readonly id: number;
  readonly channel: Channel;
  /** The client's ID; '' when offline (an offline durable, or a queue group's shadow). */
  clientId: string;
  /** Client ID of an offline durable (its durable key and /streaming/channelsz). */
  savedClientId = '';
  readonly qgroup: string;
  inbox: string;
  ackInbox: string;
  readonly durableName: string;
  readonly isDurable: boolean;
  maxInFlight: number;
  ackWaitSecs: number;
  lastSent = 0;
  /** Unacknowledged sequences and when each expires (ms since the epoch; 0 = not known, after a restart). */
  readonly pending = new Map<number, number>();
  /** Redelivery counts by sequence (queue members count in their QueueState). */
  readonly rdlvCount = new Map<number, number>();
  /** max_in_flight reached: nothing new is sent until an ack. */
  stalled = false;
  /** A durable coming back with unacknowledged messages: they go out first. */
  newOnHold = false;
  /** The subscription response has been sent: messages may be sent. */
  initialized = false;
  /** Closed (not unsubscribed) durable, as recorded in the state. */
  isClosed = false;
  /** The client missed heartbeats: its acks are not expected, redeliveries wait. */
  hasFailedHB = false;
  qstate: QueueState | undefined;
  ackTimer: NodeJS.Timeout | undefined;

  constructor(
    channel: Channel,
    id: number,
    fields: {
      clientId: string;
      qgroup: string;
      inbox: string;
      ackInbox: string;
      durableName: string;
      isDurable: boolean;
      maxInFlight: number;
      ackWaitSecs: number;
    },
  ) {
    this.channel = channel;
    this.id = id;
    this.clientId = fields.clientId;
    this.qgroup = fields.qgroup;
    this.inbox = fields.inbox;
    this.ackInbox = fields.ackInbox;
    this.durableName = fields.durableName;
    this.isDurable = fields.isDurable;
    this.maxInFlight = fields.maxInFlight;
    this.ackWaitSecs = fields.ackWaitSecs;
  }

  get ackWaitMs(): number {
    return this.ackWaitSecs * 1000;
  }

  /** Durable subscriber (not a durable queue member): client ID + channel + durable name. */
  durableKey(): string {
    if (this.durableName === '') return '';
    return durableKey(
      this.clientId !== '' ? this.clientId : this.savedClientId,
      this.channel.name,
      this.durableName,
    );
  }

  clearAckTimer(): void {
    if (this.ackTimer !== undefined) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
  }

  record(): SubRecord {
    return {
      id: this.id,
      channel: this.channel.name,
      clientId: this.clientId !== '' ? this.clientId : this.savedClientId,
      offline: this.clientId === '',
      qgroup: this.qgroup,
      inbox: this.inbox,
      ackInbox: this.ackInbox,
      durableName: this.durableName,
      isDurable: this.isDurable,
      maxInFlight: this.maxInFlight,
      ackWaitSecs: this.ackWaitSecs,
      lastSent: this.lastSent,
      pending: [...this.pending.keys()],
      isClosed: this.isClosed,
    };
  }
}

export function durableKey(clientId: string, channel: string, durableName: string): string {
  return `${clientId}-${channel}-${durableName}`;
}

/** A subscription as the state stream keeps it (JSON). */
export interface SubRecord {
  id: number;
  channel: string;
  clientId: string;
  /** No client holds it (offline durable, shadow of a durable queue group). */
  offline: boolean;
  qgroup: string;
  inbox: string;
  ackInbox: string;
  durableName: string;
  isDurable: boolean;
  maxInFlight: number;
  ackWaitSecs: number;
  lastSent: number;
  pending: number[];
  isClosed: boolean;
}
