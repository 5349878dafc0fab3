/**
 * Extension points for configuration keys the loader does not handle itself (gateways, leaf nodes, ...,
 * or an embedding program's own keys): a handler registered for a key is called instead of refusing the
 * key as "not supported by tsnats yet". The handler validates its block with the reader's typed helpers
 * (every failure is reported with the file, line and column) and stores its options in `reader.config`.
 *
 * The keys of tsnats' own features (`cluster`, `jetstream`, `store_dir`) are built into the loader
 * (config/load.ts), so that every program using it knows them without registering anything.
 *
 * ```ts
 * registerConfigKey('gateway', (field, reader) => {
 *   const block = reader.map(field);
 *   reader.forEachKey(block, field.path, {
 *     name: (f) => (gatewayName = reader.string(f)),
 *     listen: (f) => { ... },
 *   });
 *   (reader.config as ServerConfig & { gateway?: GatewayOptions }).gateway = { ... };
 * });
 * ```
 */
import type { AccountKeyHandler } from './auth.js';
import type { ConfigField, ConfigReader } from './reader.js';

/** Handles one top-level key. Throwing via `reader.fail` reports the problem and skips the key. */
export type ConfigKeyHandler = (field: ConfigField, reader: ConfigReader) => void;

export type { AccountKeyHandler };

const topLevel = new Map<string, ConfigKeyHandler>();
const accountLevel = new Map<string, AccountKeyHandler>();

function register<H>(table: Map<string, H>, names: string | readonly string[], handler: H): () => void {
  const list = (typeof names === 'string' ? [names] : names).map((n) => n.toLowerCase());
  for (const n of list) {
    if (table.has(n)) throw new Error(`configuration key "${n}" already has a registered handler`);
  }
  for (const n of list) table.set(n, handler);
  return () => {
    for (const n of list) if (table.get(n) === handler) table.delete(n);
  };
}

/**
 * Handle top-level key(s) `names` (matched case-insensitively, like every key). A registered handler
 * takes precedence over tsnats' built-in handling of the key. Returns a function that unregisters it.
 * Throws if another handler is already registered for one of the names.
 */
export function registerConfigKey(names: string | readonly string[], handler: ConfigKeyHandler): () => void {
  return register(topLevel, names, handler);
}

/**
 * Handle key(s) `names` inside each account of `accounts { NAME: { ... } }` (e.g. an account's
 * `jetstream`). The handler also receives the AccountConfig being built. Returns an unregister function.
 */
export function registerAccountConfigKey(
  names: string | readonly string[],
  handler: AccountKeyHandler,
): () => void {
  return register(accountLevel, names, handler);
}

/** Registered top-level handlers (lower-case names). */
export function registeredConfigKeys(): ReadonlyMap<string, ConfigKeyHandler> {
  return topLevel;
}

/** Registered per-account handlers (lower-case names). */
export function registeredAccountConfigKeys(): ReadonlyMap<string, AccountKeyHandler> {
  return accountLevel;
}
