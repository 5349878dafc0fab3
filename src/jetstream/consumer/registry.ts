/**
 * Creating consumers (nats-server's addConsumerWithAssignment, single server) and recovering the
 * consumers of file streams when the server starts (jetstream.go's consumer recovery).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { JsAccount } from '../account.js';
import {
  type ApiError,
  newJSConsumerAlreadyExistsError,
  newJSConsumerBadDurableNameError,
  newJSConsumerDoesNotExistError,
  newJSConsumerMaxPendingAckExcessError,
  newJSConsumerNameExistError,
  newJSConsumerNameTooLongError,
  newJSConsumerWQConsumerNotDeliverAllError,
  newJSConsumerWQConsumerNotUniqueError,
  newJSConsumerWQMultipleUnfilteredError,
  newJSConsumerWQRequiresExplicitAckError,
  newJSMaximumConsumersLimitError,
  newJSNoLimitsError,
} from '../api/errors.generated.js';
import { isValidName } from '../config.js';
import { nowNanos } from '../store/store.js';
import type { Stream } from '../stream.js';
import {
  type ConsumerAction,
  type ConsumerConfig,
  checkConsumerConfig,
  consumerFilters,
  isDurable,
  JS_MAX_NAME_LEN,
  sameConsumerConfig,
  setConsumerDefaults,
  type UpdateRefusal,
} from './config.js';
import { Consumer, filtersOverlap, randomToken } from './consumer.js';
import {
  CONSUMERS_DIR,
  ConsumerFileStore,
  type ConsumerState,
  consumerDir,
  readConsumerMeta,
} from './store.js';

/** nats-server's errConsumerStoreFailed (answered as 10012). */
export const CONSUMER_STORE_FAILED = 'error creating store for consumer';

/** What a recovered (or assigned) consumer brings along. */
export interface Recovered {
  name: string;
  created: bigint;
  store: ConsumerFileStore | undefined;
  state: ConsumerState | undefined;
}

/** The consumer's own consumers, typed (the stream's registry holds the StreamConsumer interface). */
export function lookupConsumer(stream: Stream, name: string): Consumer | undefined {
  const c = stream.consumers.get(name);
  return c instanceof Consumer ? c : undefined;
}

/** Public consumers of a stream, sorted by name (nats-server's getPublicConsumers + sort). */
export function publicConsumers(stream: Stream): Consumer[] {
  const out: Consumer[] = [];
  for (const c of stream.consumers.values()) if (c instanceof Consumer && !c.internal) out.push(c);
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** nats-server's partitionUnique: no work-queue filter may overlap another consumer's. */
function partitionUnique(stream: Stream, filters: readonly string[], except = ''): boolean {
  for (const f of filters) {
    for (const c of stream.consumers.values()) {
      if (c.name === except) continue;
      if (c.filterSubjects.length === 0) return false;
      for (const cf of c.filterSubjects) if (filtersOverlap(f, cf)) return false;
    }
  }
  return true;
}

/**
 * Create a consumer from a requested config (defaults not applied yet), or update the existing one with
 * its name. Returns the consumer, an API error, or a plain error text (answered as 10012).
 */
export function addConsumer(
  jsa: JsAccount,
  stream: Stream,
  config: ConsumerConfig,
  recovered?: Recovered,
  setup?: (c: Consumer) => void,
  action: ConsumerAction = '',
): Consumer | ApiError | UpdateRefusal {
  // The limits of the stream's tier (nats-server's jsa.limits[mset.tier]).
  const selected = jsa.selectLimits(stream.config);
  if (selected === undefined) return newJSNoLimitsError();
  const limits = selected.limits;
  setConsumerDefaults(config, limits.maxAckPending, stream.config.consumer_limits);
  const bad = checkConsumerConfig(config, stream.config);
  if (bad !== undefined) return bad;
  if (limits.maxAckPending > 0 && config.max_ack_pending > limits.maxAckPending && recovered === undefined) {
    return newJSConsumerMaxPendingAckExcessError(limits.maxAckPending);
  }
  if (stream.closed) return 'invalid stream';

  const cname = isDurable(config) ? config.durable_name : config.name;
  if (cname !== '') {
    const existing = lookupConsumer(stream, cname);
    if (existing !== undefined) {
      // 2.10: `create` accepts an existing consumer only when nothing would change.
      if (action === 'create' && !sameConsumerConfig(config, existing.cfg)) {
        return newJSConsumerAlreadyExistsError();
      }
      // 2.10: an update may change the filters; a work queue's partitions must stay apart.
      if (
        stream.config.retention === 'workqueue' &&
        recovered === undefined &&
        !partitionUnique(stream, consumerFilters(config), cname)
      ) {
        return newJSConsumerWQConsumerNotUniqueError();
      }
      const refusal = existing.update(config);
      return refusal ?? existing;
    }
  }
  if (action === 'update') return newJSConsumerDoesNotExistError();
  if (!stream.canAddConsumer(limits.maxConsumers)) return newJSMaximumConsumersLimitError();
  if (stream.config.retention === 'workqueue' && !config.direct) {
    if (config.ack_policy !== 'explicit') return newJSConsumerWQRequiresExplicitAckError();
    if (stream.consumers.size > 0) {
      if (consumerFilters(config).length === 0) return newJSConsumerWQMultipleUnfilteredError();
      if (!partitionUnique(stream, consumerFilters(config))) {
        if (recovered === undefined) return newJSConsumerWQConsumerNotUniqueError();
        jsa.warn(
          `Consumer "${stream.name}" > "${recovered.name}" has a filter subject that overlaps with other consumers, which is not allowed for a stream with WorkQueue policy, it should be administratively deleted`,
        );
      }
    }
    if (config.deliver_policy !== 'all') return newJSConsumerWQConsumerNotDeliverAllError();
  }

  let name: string;
  if (isDurable(config)) {
    if (Buffer.byteLength(config.durable_name) > JS_MAX_NAME_LEN)
      return newJSConsumerNameTooLongError(JS_MAX_NAME_LEN);
    name = config.durable_name;
  } else if (recovered !== undefined) {
    name = recovered.name;
  } else if (config.name !== '') {
    name = config.name;
  } else {
    // Legacy ephemeral: a generated name, which the config does not show (as in nats-server).
    do name = randomToken(8);
    while (stream.consumers.has(name));
  }
  if (!isValidName(name)) return newJSConsumerBadDurableNameError();
  if (stream.consumers.has(name)) return newJSConsumerNameExistError();

  let store = recovered?.store;
  const created = recovered?.created ?? nowNanos();
  if (store === undefined && stream.config.storage === 'file' && !config.mem_storage && !config.direct) {
    store = new ConsumerFileStore(consumerDir(jsa.streamDir(stream.name), name));
    try {
      store.writeMeta({ name, created, config });
    } catch (e) {
      jsa.warn(`Consumer create failed for '${jsa.account.name} > ${stream.name} > ${name}': ${String(e)}`);
      try {
        store.delete();
      } catch {
        // Nothing was created.
      }
      return CONSUMER_STORE_FAILED;
    }
  }
  const c = new Consumer(jsa, stream, { name, config, created, store, state: recovered?.state });
  setup?.(c);
  c.start();
  return c;
}

/**
 * Open a consumer the meta group assigned to this server: its state from disk when it was here before
 * (file streams), else new. `setup` runs before it starts (a replicated consumer attaches its group).
 */
export function openAssignedConsumer(
  jsa: JsAccount,
  stream: Stream,
  name: string,
  created: bigint,
  config: ConsumerConfig,
  setup: (c: Consumer) => void,
): Consumer | ApiError | UpdateRefusal {
  let store: ConsumerFileStore | undefined;
  let state: ConsumerState | undefined;
  if (stream.config.storage === 'file' && !config.mem_storage && !config.direct) {
    store = new ConsumerFileStore(consumerDir(jsa.streamDir(stream.name), name));
    try {
      state = store.readState();
    } catch {
      state = undefined;
    }
    try {
      store.writeMeta({ name, created, config });
    } catch (e) {
      jsa.warn(`Consumer create failed for '${jsa.account.name} > ${stream.name} > ${name}': ${String(e)}`);
      return CONSUMER_STORE_FAILED;
    }
  }
  return addConsumer(jsa, stream, config, { name, created, store, state }, setup);
}

/** Recreate the consumers stored under a file stream's directory (at server start). */
export function recoverConsumers(jsa: JsAccount, stream: Stream): void {
  const root = join(jsa.streamDir(stream.name), CONSUMERS_DIR);
  let names: string[];
  try {
    names = readdirSync(root).sort();
  } catch {
    return;
  }
  if (names.length === 0) return;
  const log = jsa.js.server.logger;
  log.notice(`  Recovering ${names.length} consumers for stream - '${jsa.account.name} > ${stream.name}'`);
  for (const dirName of names) {
    const dir = join(root, dirName);
    try {
      const meta = readConsumerMeta(dir);
      const store = new ConsumerFileStore(dir);
      let state: ConsumerState | undefined;
      try {
        state = store.readState();
      } catch (e) {
        log.warn(`    Error restoring consumer "${dirName}" state: ${String(e)}`);
      }
      const r = addConsumer(jsa, stream, meta.config, { name: dirName, created: meta.created, store, state });
      if (!(r instanceof Consumer)) {
        const why = typeof r === 'string' ? r : r.description;
        log.warn(`    Error adding consumer "${dirName}": ${why}`);
      }
    } catch (e) {
      log.warn(`    Error recovering consumer "${dirName}": ${String(e)}`);
    }
  }
}
