/**
 * JetStream account limits by tier (nats-server 2.9's tiered limits). An account JWT's `tiered_limits`
 * give limits per replica count, "R1", "R3", ..., each counted over the streams of that tier only; plain
 * limits (a config file's `jetstream {}`, or a JWT without tiers) are the default tier '', which every
 * stream falls in. A stream of a tier the account has no limits for cannot be made (10120).
 */
import type { JsAccountLimits, JsLimitTiers } from '../auth/types.js';

/** The tier of plain (untiered) limits. */
export const DEFAULT_TIER = '';

/** Limits that are not tiered: the default tier alone. */
export function untiered(limits: JsAccountLimits): JsLimitTiers {
  return new Map([[DEFAULT_TIER, limits]]);
}

/** nats-server's tierName: a stream's tier is named by its replica count. */
export function tierName(cfg: { num_replicas: number }): string {
  return `R${Math.max(1, cfg.num_replicas)}`;
}

/** Limits picked for a stream, and the tier they come from ('' for the default tier). */
export interface SelectedLimits {
  tier: string;
  limits: JsAccountLimits;
}

/**
 * nats-server's selectLimits: the default tier's limits when there are some, else those of the stream's
 * tier; undefined when neither exists.
 */
export function selectLimits(tiers: JsLimitTiers, cfg: { num_replicas: number }): SelectedLimits | undefined {
  const plain = tiers.get(DEFAULT_TIER);
  if (plain !== undefined) return { tier: DEFAULT_TIER, limits: plain };
  const tier = tierName(cfg);
  const limits = tiers.get(tier);
  return limits === undefined ? undefined : { tier, limits };
}

/** Whether a stream counts against `tier` (every stream counts against the default tier). */
export function inTier(tier: string, cfg: { num_replicas: number }): boolean {
  return tier === DEFAULT_TIER || tierName(cfg) === tier;
}

/** The all-zero limits nats-server reports at the top of account info when the limits are tiered. */
export function zeroLimits(): JsAccountLimits {
  return {
    maxMemory: 0,
    maxStore: 0,
    maxStreams: 0,
    maxConsumers: 0,
    maxAckPending: 0,
    memoryMaxStreamBytes: 0,
    storeMaxStreamBytes: 0,
    maxBytesRequired: false,
  };
}
