import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Server, ServerConfig } from '../../src/index.js';
import { launch } from './launcher.js';
import { startServer, urlOf } from './server.js';

/** A JetStream-enabled tsnats with a connected client, its manager and a fresh store directory. */
export interface JsEnv {
  server: Server;
  dir: string;
  nc: NatsConnection;
  jsm: JetStreamManager;
  js: JetStreamClient;
}

/** Start one (a store directory may be passed to reopen it after a restart). */
export async function openJetStream(
  config: ServerConfig = {},
  dir = mkdtempSync(join(tmpdir(), 'tsnats-js-')),
): Promise<JsEnv> {
  let server: Server | undefined;
  let nc: NatsConnection | undefined;
  try {
    server = await startServer({ jetstream: { storeDir: dir }, ...config });
    nc = await connect({ servers: urlOf(server), reconnect: false });
    const jsm = await jetstreamManager(nc);
    return { server, dir, nc, jsm, js: jetstream(nc) };
  } catch (e) {
    await nc?.close();
    await server?.shutdown();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Close the client and the server; remove the store unless `keepDir` (to reopen it). */
export async function closeJetStream(env: JsEnv, keepDir = false): Promise<void> {
  await env.nc.close();
  await env.server.shutdown();
  if (!keepDir) rmSync(env.dir, { recursive: true, force: true });
}

/**
 * `run` against a reference `nats-server -js`, then against an embedded tsnats with JetStream (each given
 * its client port); both are stopped afterwards. Resolves with [reference's result, tsnats' result].
 */
export async function runOnBoth<T>(run: (port: number) => Promise<T>): Promise<[T, T]> {
  const ref = await launch({ kind: 'nats-server', jetstream: true });
  try {
    const ours = await openJetStream();
    try {
      return [await run(ref.port), await run(ours.server.port)];
    } finally {
      await closeJetStream(ours);
    }
  } finally {
    await ref.stop('SIGKILL');
  }
}

/** A raw request; the reply parsed as JSON. */
export async function jsonRequest(
  nc: NatsConnection,
  subject: string,
  body: unknown = undefined,
): Promise<Record<string, unknown>> {
  const data = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const m = await nc.request(subject, data, { timeout: 2000 });
  return JSON.parse(new TextDecoder().decode(m.data)) as Record<string, unknown>;
}

/** Every message of a stream (up to `count`), read with an ordered consumer in fetches of at most 1,000. */
export async function readAll(env: JsEnv, stream: string, count: number): Promise<JsMsg[]> {
  const oc = await env.js.consumers.get(stream);
  const out: JsMsg[] = [];
  while (out.length < count) {
    const it = await oc.fetch({ max_messages: Math.min(1000, count - out.length), expires: 5000 });
    const before = out.length;
    for await (const m of it) out.push(m);
    if (out.length === before) break;
  }
  return out;
}
