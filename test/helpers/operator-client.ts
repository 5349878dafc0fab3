/**
 * nats.js clients for operator-mode tests: connecting with `.creds` text, expecting refusals, and the
 * asynchronous errors a server sends before it closes a connection.
 */
import {
  type ConnectionOptions,
  connect,
  credsAuthenticator,
  type NatsConnection,
} from '@nats-io/transport-node';

export function credsOpts(creds: string): Partial<ConnectionOptions> {
  return { authenticator: credsAuthenticator(new TextEncoder().encode(creds)) };
}

export async function tryConnect(
  url: string,
  opts: Partial<ConnectionOptions>,
): Promise<NatsConnection | string> {
  try {
    return await connect({ servers: url, reconnect: false, ...opts });
  } catch (e) {
    return (e as Error).message;
  }
}

export async function mustConnect(url: string, opts: Partial<ConnectionOptions>): Promise<NatsConnection> {
  const nc = await tryConnect(url, opts);
  if (typeof nc === 'string') throw new Error(`connect failed: ${nc}`);
  return nc;
}

/** The error connecting gives, or 'connected' (the connection is closed again). */
export async function refused(url: string, opts: Partial<ConnectionOptions>): Promise<string> {
  const nc = await tryConnect(url, opts);
  if (typeof nc !== 'string') {
    await nc.close();
    return 'connected';
  }
  return nc;
}

/** The next asynchronous error the server reports on this connection ('' if it closes without one). */
export function nextError(nc: NatsConnection): Promise<string> {
  return (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'error') return String((s as { error?: Error }).error?.message ?? s);
    }
    return '';
  })();
}

/** Whether a message published by `pub` on `subject` reaches a subscription of `sub` (300 ms at most). */
export async function roundTrip(pub: NatsConnection, sub: NatsConnection, subject: string): Promise<boolean> {
  const s = sub.subscribe(subject, { max: 1 });
  await sub.flush();
  pub.publish(subject, 'x');
  await pub.flush();
  const got = (async () => {
    for await (const _ of s) return true;
    return false;
  })();
  const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), 300).unref());
  const ok = await Promise.race([got, timeout]);
  s.unsubscribe();
  return ok;
}
