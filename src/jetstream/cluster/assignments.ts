/**
 * The meta group's records (docs/design/jetstream-meta.md §3): which streams and consumers exist, in which
 * Raft group, on which peers. JSON exactly as nats-server 2.9 writes it (streamAssignment,
 * consumerAssignment, raftGroup, ClientInfo), so that Go nodes and tsnats nodes read each other's entries
 * and meta snapshots.
 *
 * Entries of the meta group: op byte + JSON + "\n" (ops 0-3, 11); op 9 is an S2-compressed consumer
 * assignment (decoded; tsnats proposes op 1). Only these ops may be proposed: Go nodes panic on others.
 */
import { s2Decode, s2Encode } from '../../util/s2.js';
import { decodeRequest, goJson, JsonObject } from '../api/json.js';
import { configFromStored, encodeStreamConfig, type StreamConfig } from '../config.js';
import { type ConsumerConfig, decodeConsumerConfig, encodeConsumerConfig } from '../consumer/config.js';
import { parseRfc3339Nano, rfc3339Nano } from '../time.js';
import { EntryOp, encodeJsonOp } from './entries.js';

/** nats-server's ClientInfo as carried in assignments (only what JetStream uses). */
export type ClientInfo = Record<string, unknown> & { acc?: string; svc?: string; cluster?: string };

/** The account a request (or an assignment) belongs to: the service account, else the account. */
export function accountOf(ci: ClientInfo | undefined): string {
  if (ci === undefined) return '';
  const svc = typeof ci.svc === 'string' ? ci.svc : '';
  return svc !== '' ? svc : typeof ci.acc === 'string' ? ci.acc : '';
}

/**
 * Where a member that could not open its part of a new stream or consumer sends the error, for the meta
 * leader to answer the create and remove the assignment (nats-server's streamAssignmentSubj and
 * consumerAssignmentSubj).
 */
export const STREAM_ASSIGNMENT_RESULT = '$SYS.JSC.STREAM.ASSIGNMENT.RESULT';
export const CONSUMER_ASSIGNMENT_RESULT = '$SYS.JSC.CONSUMER.ASSIGNMENT.RESULT';

export interface RaftGroupInfo {
  name: string;
  peers: string[];
  store: 'file' | 'memory';
  cluster?: string;
  preferred?: string;
}

export interface StreamAssignment {
  client: ClientInfo | undefined;
  /** ns; 0n for removals. */
  created: bigint;
  config: StreamConfig;
  group: RaftGroupInfo;
  /** `$JSC.SYNC.<8>`: where a member asks the leader for missing messages. */
  sync: string;
  subject: string;
  reply: string;
  /** Consumers by name (not part of the entry; the meta state keeps them here). */
  consumers: Map<string, ConsumerAssignment>;
  /** This server answered the request that created it (never twice; replayed entries count as answered). */
  responded: boolean;
}

export interface ConsumerAssignment {
  client: ClientInfo | undefined;
  created: bigint;
  name: string;
  stream: string;
  config: ConsumerConfig;
  group: RaftGroupInfo;
  subject: string;
  reply: string;
  responded: boolean;
}

function encodeGroup(g: RaftGroupInfo): Record<string, unknown> {
  const o: Record<string, unknown> = { name: g.name, peers: g.peers, store: g.store };
  if (g.cluster !== undefined && g.cluster !== '') o.cluster = g.cluster;
  if (g.preferred !== undefined && g.preferred !== '') o.preferred = g.preferred;
  return o;
}

function decodeGroup(o: JsonObject | undefined): RaftGroupInfo {
  if (o === undefined) throw new Error('assignment without a group');
  const store = o.string('store') ?? 'file';
  return {
    name: o.string('name') ?? '',
    peers: o.strings('peers') ?? [],
    store: store === 'memory' ? 'memory' : 'file',
    cluster: o.string('cluster') ?? '',
    preferred: o.string('preferred') ?? '',
  };
}

function clientOf(o: JsonObject): ClientInfo | undefined {
  const c = o.get('client');
  return c !== undefined && typeof c === 'object' ? (c as ClientInfo) : undefined;
}

/** The JSON object of a stream assignment (writeableStreamAssignment for snapshots adds Consumers). */
export function streamAssignmentJson(sa: StreamAssignment, forSnapshot = false): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (sa.client !== undefined) o.client = sa.client;
  o.created = rfc3339Nano(sa.created);
  o.stream = encodeStreamConfig(sa.config);
  o.group = encodeGroup(sa.group);
  o.sync = sa.sync;
  if (forSnapshot) {
    o.Consumers = [...sa.consumers.values()].map((ca) => consumerAssignmentJson(ca));
  } else {
    o.subject = sa.subject;
    o.reply = sa.reply;
  }
  return o;
}

export function consumerAssignmentJson(ca: ConsumerAssignment): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (ca.client !== undefined) o.client = ca.client;
  o.created = rfc3339Nano(ca.created);
  o.name = ca.name;
  o.stream = ca.stream;
  o.consumer = encodeConsumerConfig(ca.config);
  o.group = encodeGroup(ca.group);
  o.subject = ca.subject;
  o.reply = ca.reply;
  return o;
}

export function decodeStreamAssignment(o: JsonObject): StreamAssignment {
  const cfgObj = o.object('stream');
  if (cfgObj === undefined) throw new Error('stream assignment without a config');
  const config = configFromStored(cfgObj);
  const sa: StreamAssignment = {
    client: clientOf(o),
    created: parseRfc3339Nano(o.string('created') ?? '0001-01-01T00:00:00Z'),
    config,
    group: decodeGroup(o.object('group')),
    sync: o.string('sync') ?? '',
    subject: o.string('subject') ?? '',
    reply: o.string('reply') ?? '',
    consumers: new Map(),
    responded: false,
  };
  const consumers = o.get('Consumers') ?? o.get('consumers');
  if (Array.isArray(consumers)) {
    for (const c of consumers) {
      if (c === null || typeof c !== 'object') continue;
      const ca = decodeConsumerAssignmentObject(new JsonObject(c as Record<string, unknown>));
      sa.consumers.set(ca.name, ca);
    }
  }
  return sa;
}

function decodeConsumerAssignmentObject(o: JsonObject): ConsumerAssignment {
  return {
    client: clientOf(o),
    created: parseRfc3339Nano(o.string('created') ?? '0001-01-01T00:00:00Z'),
    name: o.string('name') ?? '',
    stream: o.string('stream') ?? '',
    config: decodeConsumerConfig(o.object('consumer')),
    group: decodeGroup(o.object('group')),
    subject: o.string('subject') ?? '',
    reply: o.string('reply') ?? '',
    responded: false,
  };
}

// ---- meta entries ---------------------------------------------------------------------------------------

export type MetaEntry =
  | { op: 'assignStream' | 'removeStream' | 'updateStream'; sa: StreamAssignment }
  | { op: 'assignConsumer' | 'removeConsumer'; ca: ConsumerAssignment };

export function encodeStreamEntry(
  op: typeof EntryOp.AssignStream | typeof EntryOp.RemoveStream | typeof EntryOp.UpdateStream,
  sa: StreamAssignment,
): Buffer {
  return encodeJsonOp(op, streamAssignmentJson(sa));
}

export function encodeConsumerEntry(
  op: typeof EntryOp.AssignConsumer | typeof EntryOp.RemoveConsumer,
  ca: ConsumerAssignment,
): Buffer {
  return encodeJsonOp(op, consumerAssignmentJson(ca));
}

/** Decode one meta group entry; throws on an op that does not belong in the meta group. */
export function decodeMetaEntry(e: Buffer): MetaEntry {
  const op = e[0];
  switch (op) {
    case EntryOp.AssignStream:
      return { op: 'assignStream', sa: decodeStreamAssignment(decodeRequest(e.subarray(1))) };
    case EntryOp.RemoveStream:
      return { op: 'removeStream', sa: decodeStreamAssignment(decodeRequest(e.subarray(1))) };
    case EntryOp.UpdateStream:
      return { op: 'updateStream', sa: decodeStreamAssignment(decodeRequest(e.subarray(1))) };
    case EntryOp.AssignConsumer:
      return { op: 'assignConsumer', ca: decodeConsumerAssignmentObject(decodeRequest(e.subarray(1))) };
    case EntryOp.AssignCompressedConsumer:
      return {
        op: 'assignConsumer',
        ca: decodeConsumerAssignmentObject(decodeRequest(s2Decode(e.subarray(1)))),
      };
    case EntryOp.RemoveConsumer:
      return { op: 'removeConsumer', ca: decodeConsumerAssignmentObject(decodeRequest(e.subarray(1))) };
    default:
      throw new Error(`unknown meta entry op ${op}`);
  }
}

// ---- meta snapshot ------------------------------------------------------------------------------------

/** s2(JSON([]writeableStreamAssignment)); empty when there are no streams (metaSnapshot). */
export function encodeMetaSnapshot(streams: StreamAssignment[]): Buffer {
  if (streams.length === 0) return Buffer.alloc(0);
  return s2Encode(Buffer.from(goJson(streams.map((sa) => streamAssignmentJson(sa, true)))));
}

export function decodeMetaSnapshot(data: Buffer): StreamAssignment[] {
  if (data.length === 0) return [];
  const v: unknown = JSON.parse(s2Decode(data).toString('utf8'));
  if (!Array.isArray(v)) throw new Error('meta snapshot is not a list');
  return v.map((o) => decodeStreamAssignment(decodeRequest(JSON.stringify(o))));
}
