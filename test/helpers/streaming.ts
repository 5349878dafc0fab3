/**
 * NATS Streaming tests: a tsnats with JetStream and streaming on a temporary store, and promise wrappers
 * around the real node-nats-streaming client's events.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as stan from 'node-nats-streaming';
import type { Server, ServerConfig } from '../../src/index.js';
import type { StreamingOptions } from '../../src/server/options.js';
import { within } from './async.js';
import { startServer } from './server.js';

export const CLUSTER_ID = 'test-cluster';

export interface StreamingServer {
  server: Server;
  dir: string;
  url: string;
  /** Shut the server down (the store stays until `cleanup`). */
  stop(): Promise<void>;
  /** Shut down and remove the store. */
  cleanup(): Promise<void>;
}

/**
 * A tsnats with NATS Streaming on a temporary store directory (or `dir`, to restart on the same data);
 * `config.jetstream` may set JetStream's limits, not its directory.
 */
export async function startStreaming(
  streaming: Partial<StreamingOptions> = {},
  config: ServerConfig = {},
  dir = mkdtempSync(join(tmpdir(), 'tsnats-stan-')),
): Promise<StreamingServer> {
  const { jetstream, ...rest } = config;
  const server = await startServer({
    // JetStream's other settings may be given; its store is always `dir`.
    jetstream: { ...jetstream, storeDir: dir },
    streaming: { clusterId: CLUSTER_ID, ...streaming },
    ...rest,
  });
  const stop = (): Promise<void> => server.shutdown();
  return {
    server,
    dir,
    url: `nats://127.0.0.1:${server.port}`,
    stop,
    cleanup: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Connect a streaming client; resolves on `connect`, rejects on `error`. */
export function stanConnect(
  url: string,
  clientId: string,
  opts: stan.StanOptions = {},
  clusterId = CLUSTER_ID,
): Promise<stan.Stan> {
  const sc = stan.connect(clusterId, clientId, { url, reconnect: false, ...opts });
  return within(
    new Promise<stan.Stan>((resolve, reject) => {
      sc.once('connect', () => resolve(sc));
      sc.once('error', (e: unknown) => reject(e instanceof Error ? e : new Error(String(e))));
    }),
    5000,
    `streaming connect of ${clientId}`,
  );
}

/** Close a streaming client (the close request), resolving once it is closed. */
export function stanClose(sc: stan.Stan): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      sc.once('close', () => resolve());
      sc.close();
    }),
    5000,
    'streaming close',
  );
}

/** Publish and wait for the PubAck; resolves to the GUID. */
export function publish(sc: stan.Stan, subject: string, data: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    sc.publish(subject, data, (err, guid) => (err ? reject(err) : resolve(guid)));
  });
}

/** Messages received by subscriptions made with `subscribe`, not yet taken by `collect`. */
const inboxes = new WeakMap<stan.Subscription, { msgs: stan.Message[]; wake: (() => void) | undefined }>();

/**
 * Subscribe and wait for the server's response; rejects with the server's error. Messages are buffered
 * from the start: the client emits the first ones in the same turn as `ready`, before a listener attached
 * after it could see them.
 */
export function subscribe(
  sc: stan.Stan,
  subject: string,
  opts: stan.SubscriptionOptions,
  qGroup?: string,
): Promise<stan.Subscription> {
  const sub = qGroup !== undefined ? sc.subscribe(subject, qGroup, opts) : sc.subscribe(subject, opts);
  const box: { msgs: stan.Message[]; wake: (() => void) | undefined } = { msgs: [], wake: undefined };
  inboxes.set(sub, box);
  sub.on('message', (m: stan.Message) => {
    box.msgs.push(m);
    box.wake?.();
  });
  return within(
    new Promise<stan.Subscription>((resolve, reject) => {
      sub.once('ready', () => resolve(sub));
      sub.once('error', (e: Error) => reject(e));
    }),
    5000,
    `subscription on ${subject}`,
  );
}

/** Wait for a subscription event (`unsubscribed`, `closed`). */
export function subEvent(sub: stan.Subscription, event: 'unsubscribed' | 'closed'): Promise<void> {
  return within(
    new Promise<void>((resolve, reject) => {
      sub.once(event, () => resolve());
      sub.once('error', (e: Error) => reject(e));
    }),
    5000,
    `subscription ${event}`,
  );
}

/** The next `n` messages of a subscription made with `subscribe`. */
export async function collect(sub: stan.Subscription, n: number, ms = 10_000): Promise<stan.Message[]> {
  const box = inboxes.get(sub);
  if (box === undefined) throw new Error('collect() needs a subscription made with subscribe()');
  const wait = new Promise<void>((resolve) => {
    const check = (): void => {
      if (box.msgs.length >= n) {
        box.wake = undefined;
        resolve();
      }
    };
    box.wake = check;
    check();
  });
  await within(wait, ms, `${n} messages`);
  return box.msgs.splice(0, n);
}

/** Messages received and not collected yet. */
export function received(sub: stan.Subscription): stan.Message[] {
  return inboxes.get(sub)?.msgs ?? [];
}
