/**
 * The NATS Streaming client protocol's messages (stan.go pb/protocol.proto, the schema every streaming
 * client library compiles), encoded and decoded with protobufjs from the schema text below. Only the
 * protocol messages are here; the server's own state is JSON in a JetStream stream (state.ts).
 *
 * uint64 / int64 fields are decoded as numbers: sequences stay far below 2^53, and the one int64 that does
 * not (MsgProto.timestamp, nanoseconds) is encoded from a bigint through its decimal string.
 */
import { createRequire } from 'node:module';
import type * as Protobuf from 'protobufjs';

const PROTOCOL = `
syntax = "proto3";
package pb;
message PubMsg {
  string clientID = 1;
  string guid = 2;
  string subject = 3;
  string reply = 4;
  bytes data = 5;
  bytes connID = 6;
  bytes sha256 = 10;
}
message PubAck {
  string guid = 1;
  string error = 2;
}
message MsgProto {
  uint64 sequence = 1;
  string subject = 2;
  string reply = 3;
  bytes data = 4;
  int64 timestamp = 5;
  bool redelivered = 6;
  uint32 redeliveryCount = 7;
  uint32 CRC32 = 10;
}
message Ack {
  string subject = 1;
  uint64 sequence = 2;
}
message ConnectRequest {
  string clientID = 1;
  string heartbeatInbox = 2;
  int32 protocol = 3;
  bytes connID = 4;
  int32 pingInterval = 5;
  int32 pingMaxOut = 6;
}
message ConnectResponse {
  string pubPrefix = 1;
  string subRequests = 2;
  string unsubRequests = 3;
  string closeRequests = 4;
  string error = 5;
  string subCloseRequests = 6;
  string pingRequests = 7;
  int32 pingInterval = 8;
  int32 pingMaxOut = 9;
  int32 protocol = 10;
  string publicKey = 100;
}
message Ping {
  bytes connID = 1;
}
message PingResponse {
  string error = 1;
}
enum StartPosition {
  NewOnly = 0;
  LastReceived = 1;
  TimeDeltaStart = 2;
  SequenceStart = 3;
  First = 4;
}
message SubscriptionRequest {
  string clientID = 1;
  string subject = 2;
  string qGroup = 3;
  string inbox = 4;
  int32 maxInFlight = 5;
  int32 ackWaitInSecs = 6;
  string durableName = 7;
  StartPosition startPosition = 10;
  uint64 startSequence = 11;
  int64 startTimeDelta = 12;
}
message SubscriptionResponse {
  string ackInbox = 2;
  string error = 3;
}
message UnsubscribeRequest {
  string clientID = 1;
  string subject = 2;
  string inbox = 3;
  string durableName = 4;
}
message CloseRequest {
  string clientID = 1;
}
message CloseResponse {
  string error = 1;
}
`;

/**
 * protobufjs and the parsed schema, loaded on first use: a server without NATS Streaming does not pay for
 * them at start-up.
 */
let schema: Protobuf.Root | undefined;
function root(): Protobuf.Root {
  if (schema === undefined) {
    const protobuf = createRequire(import.meta.url)('protobufjs') as typeof Protobuf;
    schema = protobuf.parse(PROTOCOL, { keepCase: true }).root;
  }
  return schema;
}

/** StartPosition of a SubscriptionRequest. */
export const StartPosition = {
  NewOnly: 0,
  LastReceived: 1,
  TimeDeltaStart: 2,
  SequenceStart: 3,
  First: 4,
} as const;

export interface PubMsg {
  clientID: string;
  guid: string;
  subject: string;
  reply: string;
  data: Buffer;
  connID: Buffer;
}

export interface PubAck {
  guid: string;
  error?: string;
}

export interface MsgProto {
  sequence: number;
  subject: string;
  reply?: string;
  data: Buffer;
  /** Nanoseconds since the epoch. */
  timestamp: bigint;
  redelivered?: boolean;
  redeliveryCount?: number;
}

export interface Ack {
  subject: string;
  sequence: number;
}

export interface ConnectRequest {
  clientID: string;
  heartbeatInbox: string;
  protocol: number;
  connID: Buffer;
  pingInterval: number;
  pingMaxOut: number;
}

export interface ConnectResponse {
  pubPrefix?: string;
  subRequests?: string;
  unsubRequests?: string;
  closeRequests?: string;
  error?: string;
  subCloseRequests?: string;
  pingRequests?: string;
  pingInterval?: number;
  pingMaxOut?: number;
  protocol?: number;
}

export interface Ping {
  connID: Buffer;
}

export interface SubscriptionRequest {
  clientID: string;
  subject: string;
  qGroup: string;
  inbox: string;
  maxInFlight: number;
  ackWaitInSecs: number;
  durableName: string;
  startPosition: number;
  startSequence: number;
  /** Nanoseconds. */
  startTimeDelta: number;
}

export interface UnsubscribeRequest {
  clientID: string;
  subject: string;
  inbox: string;
  durableName: string;
}

export interface CloseRequest {
  clientID: string;
}

const CONVERSION: Protobuf.IConversionOptions = {
  longs: Number,
  enums: Number,
  bytes: Buffer,
  defaults: true,
};

/** A decoder for one message type: every field present (proto3 defaults), longs as numbers. */
function decoder<T>(name: string): (buf: Uint8Array) => T {
  let type: Protobuf.Type | undefined;
  return (buf) => {
    type ??= root().lookupType(`pb.${name}`);
    return type.toObject(type.decode(buf), CONVERSION) as T;
  };
}

function encoder<T extends object>(name: string): (msg: T) => Buffer {
  let type: Protobuf.Type | undefined;
  return (msg) => {
    type ??= root().lookupType(`pb.${name}`);
    return Buffer.from(type.encode(type.fromObject(msg as Record<string, unknown>)).finish());
  };
}

let msgProto: Protobuf.Type | undefined;
const msgProtoType = (): Protobuf.Type => {
  msgProto ??= root().lookupType('pb.MsgProto');
  return msgProto;
};

// Decoders throw on malformed input; callers answer with the protocol's "invalid ... request" error.
export const decodePubMsg = decoder<PubMsg>('PubMsg');
export const decodeAck = decoder<Ack>('Ack');
export const decodeConnectRequest = decoder<ConnectRequest>('ConnectRequest');
export const decodePing = decoder<Ping>('Ping');
export const decodeSubscriptionRequest = decoder<SubscriptionRequest>('SubscriptionRequest');
export const decodeUnsubscribeRequest = decoder<UnsubscribeRequest>('UnsubscribeRequest');
export const decodeCloseRequest = decoder<CloseRequest>('CloseRequest');

export const encodePubAck = encoder<PubAck>('PubAck');
export const encodeConnectResponse = encoder<ConnectResponse>('ConnectResponse');
export const encodePingResponse = encoder<{ error?: string }>('PingResponse');
export const encodeSubscriptionResponse = encoder<{ ackInbox?: string; error?: string }>(
  'SubscriptionResponse',
);
export const encodeCloseResponse = encoder<{ error?: string }>('CloseResponse');

/** Encoding for tests and tools that play the client's side. */
export const encodeConnectRequest = encoder<ConnectRequest>('ConnectRequest');
export const decodeConnectResponse = decoder<Required<ConnectResponse>>('ConnectResponse');
export const encodePing = encoder<Ping>('Ping');
export const decodePingResponse = decoder<{ error: string }>('PingResponse');
export const decodeMsgProto = decoder<Omit<MsgProto, 'timestamp'> & { timestamp: number }>('MsgProto');

/** A message for a subscriber; the timestamp (ns) goes through its decimal string to keep all 64 bits. */
export function encodeMsgProto(m: MsgProto): Buffer {
  const o: Record<string, unknown> = {
    sequence: m.sequence,
    subject: m.subject,
    data: m.data,
    timestamp: m.timestamp.toString(),
  };
  if (m.reply !== undefined && m.reply !== '') o.reply = m.reply;
  if (m.redelivered === true) o.redelivered = true;
  if (m.redeliveryCount !== undefined && m.redeliveryCount > 0) o.redeliveryCount = m.redeliveryCount;
  const t = msgProtoType();
  return Buffer.from(t.encode(t.fromObject(o)).finish());
}
