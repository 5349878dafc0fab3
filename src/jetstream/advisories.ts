/**
 * JetStream's account-level advisories (nats-server's jetstream_events.go): the API audit on
 * `$JS.EVENT.ADVISORY.API` after every API response, and a stream's life cycle on
 * `$JS.EVENT.ADVISORY.STREAM.<CREATED|UPDATED|DELETED>.<stream>`. They are published in the requester's
 * account, through the deferred queue (delivery.ts, re-entrancy rule), and only built when someone there
 * listens. Consumer advisories are in consumer/advisories.ts.
 */

import { textToWire } from '../routing/subject-text.js';
import type { Account } from '../server/account.js';
import type { Client } from '../server/client.js';
import { nuid } from '../util/nuid.js';
import { goJson } from './api/json.js';
import type { JetStream } from './jetstream.js';
import { nowNanos } from './store/store.js';
import { rfc3339Nano } from './time.js';

export const API_AUDIT_SUBJECT = '$JS.EVENT.ADVISORY.API';
const STREAM_ACTION_PREFIX = '$JS.EVENT.ADVISORY.STREAM.';

/** nats-server's ActionAdvisoryType values. */
export type StreamAction = 'create' | 'modify' | 'delete';

const ACTION_SUBJECT: Record<StreamAction, string> = {
  create: 'CREATED',
  modify: 'UPDATED',
  delete: 'DELETED',
};

/** A ClientInfo of the requester as nats-server puts it in the audit and Nats-Request-Info. */
export type ClientInfo = Record<string, unknown>;

/**
 * The requester's ClientInfo as nats-server fills it for a JetStream request: its account, RTT (ns, when
 * measured), this server's name and, clustered, the cluster's.
 */
export function requesterInfo(js: JetStream, acc: Account, producer: Client | null): ClientInfo {
  const ci: ClientInfo = { acc: acc.name };
  if (producer !== null && producer.rtt > 0) ci.rtt = Math.round(producer.rtt * 1e6);
  ci.server = js.server.name;
  const cluster = js.server.clusterView?.clusterName ?? '';
  if (js.cluster !== undefined && cluster !== '') ci.cluster = cluster;
  return ci;
}

function typedEvent(type: string): { type: string; id: string; timestamp: string } {
  return { type, id: nuid(), timestamp: rfc3339Nano(nowNanos()) };
}

function domainOf(js: JetStream): { domain?: string } {
  return js.domain !== '' ? { domain: js.domain } : {};
}

/** nats-server's sendJetStreamAPIAuditAdvisory (JSAPIAudit). */
export function sendApiAudit(
  js: JetStream,
  acc: Account,
  ci: ClientInfo | undefined,
  subject: string,
  request: string,
  response: string,
): void {
  if (!acc.sublist.hasInterest(API_AUDIT_SUBJECT)) return;
  const audit = {
    ...typedEvent('io.nats.jetstream.advisory.v1.api_audit'),
    server: js.server.name,
    client: ci ?? null,
    subject,
    ...(request !== '' ? { request } : {}),
    response,
    ...domainOf(js),
  };
  js.out.deferString(acc, API_AUDIT_SUBJECT, goJson(audit));
}

/** nats-server's sendCreateAdvisory / sendUpdateAdvisoryLocked / sendDeleteAdvisoryLocked of a stream. */
export function sendStreamAction(js: JetStream, acc: Account, stream: string, action: StreamAction): void {
  const subject = `${STREAM_ACTION_PREFIX}${ACTION_SUBJECT[action]}.${textToWire(stream)}`;
  if (!acc.sublist.hasInterest(subject)) return;
  const advisory = {
    ...typedEvent('io.nats.jetstream.advisory.v1.stream_action'),
    stream,
    action,
    ...domainOf(js),
  };
  js.out.deferString(acc, subject, goJson(advisory));
}

/** The snapshot and restore advisories (nats-server's JSSnapshotCreateAdvisory and the three others). */
export type SnapshotEvent = 'SNAPSHOT_CREATE' | 'SNAPSHOT_COMPLETE' | 'RESTORE_CREATE' | 'RESTORE_COMPLETE';

const SNAPSHOT_EVENT_TYPE: Record<SnapshotEvent, string> = {
  SNAPSHOT_CREATE: 'io.nats.jetstream.advisory.v1.snapshot_create',
  SNAPSHOT_COMPLETE: 'io.nats.jetstream.advisory.v1.snapshot_complete',
  RESTORE_CREATE: 'io.nats.jetstream.advisory.v1.restore_create',
  RESTORE_COMPLETE: 'io.nats.jetstream.advisory.v1.restore_complete',
};

/**
 * `$JS.EVENT.ADVISORY.STREAM.<event>.<stream>`: `fields` go between `stream` and `client` in Go's order
 * (state for SNAPSHOT_CREATE; start, end (and bytes) for the COMPLETE ones).
 */
export function sendSnapshotAdvisory(
  js: JetStream,
  acc: Account,
  event: SnapshotEvent,
  stream: string,
  wireStream: string,
  fields: Record<string, unknown>,
  client: ClientInfo,
): void {
  const subject = `${STREAM_ACTION_PREFIX}${event}.${wireStream}`;
  if (!acc.sublist.hasInterest(subject)) return;
  const advisory = { ...typedEvent(SNAPSHOT_EVENT_TYPE[event]), stream, ...fields, client, ...domainOf(js) };
  js.out.deferString(acc, subject, goJson(advisory));
}
