/**
 * Where NATS Streaming keeps things in JetStream, and the protocol's subjects.
 *
 *   channel `orders.new` of cluster `c1`  ->  stream `STAN_c1_orders_new`, subject `_STAN.ch.c1.orders.new`
 *   the server's state (clients, subscriptions, positions)  ->  stream `STAN_c1`, subjects `_STAN.state.c1.>`
 *
 * A channel's stream name keeps letters, digits, `-` and `_` and turns every other character into `_`, so
 * that JetStream clients see readable names; two channels that would share a stream (`a.b` and `a_b`) are
 * refused, as nats-streaming-server refuses two channels that differ only by case. The state stream's name
 * has no channel part, so no channel can take it.
 */

import { JsonObject } from '../jetstream/api/json.js';
import { checkStreamConfig, decodeStreamConfig, isApiError, type StreamConfig } from '../jetstream/config.js';

export const DISCOVER_PREFIX = '_STAN.discover';

export function channelStreamName(clusterId: string, channel: string): string {
  return `STAN_${clusterId}_${channel.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

export function channelSubjectPrefix(clusterId: string): string {
  return `_STAN.ch.${clusterId}.`;
}

export function channelSubject(clusterId: string, channel: string): string {
  return `${channelSubjectPrefix(clusterId)}${channel}`;
}

export function stateStreamName(clusterId: string): string {
  return `STAN_${clusterId}`;
}

export function stateSubjectPrefix(clusterId: string): string {
  return `_STAN.state.${clusterId}.`;
}

/** A complete stream configuration, JetStream's defaults for what is not given. */
export function streamConfig(fields: Record<string, unknown>): StreamConfig {
  const cfg = checkStreamConfig(decodeStreamConfig(new JsonObject(fields)));
  if (isApiError(cfg)) throw new Error(`invalid stream configuration: ${cfg.description}`);
  return cfg;
}
