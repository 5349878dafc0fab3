/**
 * $JS.API.INFO's body (nats-server's JetStreamUsage): the account's usage and limits. With plain limits
 * they are the top level's `limits`; with tiered limits (an account JWT's `tiered_limits`) the top level
 * has the totals and all-zero limits, and `tiers` has each tier's usage, counts and limits: every tier
 * the account has limits for, and the tier of every stream.
 */
import type { JsAccountLimits } from '../../auth/types.js';
import type { JsAccount } from '../account.js';
import type { StreamConfig } from '../config.js';
import { DEFAULT_TIER, tierName, zeroLimits } from '../limit-tiers.js';
import { type JetStreamAccountLimits, ResponseType } from './types.js';

/** A stream as account info counts it: standalone, one of the account's; clustered, an assignment. */
export interface CountedStream {
  config: StreamConfig;
  consumers: number;
}

/** JetStreamTier. */
interface TierJson {
  memory: number;
  storage: number;
  streams: number;
  consumers: number;
  limits: JetStreamAccountLimits;
}

export function limitsJson(l: JsAccountLimits): JetStreamAccountLimits {
  return {
    max_memory: l.maxMemory,
    max_storage: l.maxStore,
    max_streams: l.maxStreams,
    max_consumers: l.maxConsumers,
    max_ack_pending: l.maxAckPending,
    memory_max_stream_bytes: l.memoryMaxStreamBytes,
    storage_max_stream_bytes: l.storeMaxStreamBytes,
    max_bytes_required: l.maxBytesRequired,
  };
}

/**
 * The account info response, in Go's field order. Bytes used are this server's streams'; `streams`
 * are what is counted (clustered: the meta group's assignments).
 */
export function accountInfoBody(
  jsa: JsAccount,
  streams: readonly CountedStream[],
  domain: string,
): Record<string, unknown> {
  const u = jsa.usage();
  let consumers = 0;
  for (const s of streams) consumers += s.consumers;
  const plain = jsa.tiers.get(DEFAULT_TIER);
  const body: Record<string, unknown> = {
    type: ResponseType.AccountInfo,
    memory: u.memory,
    storage: u.storage,
    streams: streams.length,
    consumers,
    limits: limitsJson(plain ?? zeroLimits()),
  };
  if (domain !== '') body.domain = domain;
  body.api = { total: jsa.apiTotal, errors: jsa.apiErrors };
  if (plain === undefined) body.tiers = tiersJson(jsa, streams);
  return body;
}

function tiersJson(jsa: JsAccount, streams: readonly CountedStream[]): Record<string, TierJson> {
  const names = new Set(jsa.tiers.keys());
  for (const s of streams) names.add(tierName(s.config));
  const out: Record<string, TierJson> = {};
  // Go writes map keys sorted.
  for (const name of [...names].sort()) {
    const u = jsa.usage(name);
    const counted = streams.filter((s) => tierName(s.config) === name);
    out[name] = {
      memory: u.memory,
      storage: u.storage,
      streams: counted.length,
      consumers: counted.reduce((n, s) => n + s.consumers, 0),
      limits: limitsJson(jsa.tiers.get(name) ?? zeroLimits()),
    };
  }
  return out;
}
