/**
 * Hubs and leafs for the leaf node tests: tsnats or nats-server processes (launcher.ts) with a
 * `leafnodes {}` block, monitoring on, and the state of their leaf connections read from /leafz (the
 * same JSON on both servers), so a test waits for what it needs instead of sleeping.
 */
import { type Launched, launch, type ServerKind } from './launcher.js';
import { waitFor } from './wait-for.js';

export interface Hub extends Launched {
  /** The port leafs connect to. */
  readonly leafPort: number;
}

/** nats-server's and tsnats' log line for the leafnode listener. */
const LEAF_LISTEN = /Listening for leafnode connections on [^\n]*:(\d+)/;

/**
 * A hub: `leafnodes { listen }` on `leafPort` (a free one when 0), plus `config` (accounts, users, the
 * leafnodes block's own authorization via `leafBlock`).
 */
export async function startHub(
  kind: ServerKind,
  opts: { config?: string; leafBlock?: string; leafPort?: number; name?: string; jetstream?: boolean } = {},
): Promise<Hub> {
  const port = opts.leafPort ?? -1;
  const srv = await launch({
    kind,
    config: `server_name: ${opts.name ?? 'hub'}\n${opts.config ?? ''}\nleafnodes {\n  listen: "127.0.0.1:${port}"\n  ${opts.leafBlock ?? ''}\n}\n`,
    args: ['-m', '-1'],
    listeners: ['nats', 'monitoring'],
    ...(opts.jetstream === true ? { jetstream: true } : {}),
  });
  await srv.waitForLog(LEAF_LISTEN);
  const m = LEAF_LISTEN.exec(srv.log());
  return { ...srv, leafPort: Number(m![1]) };
}

/** A leaf soliciting `url` (a `nats-leaf://` URL, credentials in it), plus `remote` keys and `config`. */
export function startLeaf(
  kind: ServerKind,
  url: string,
  opts: { remote?: string; config?: string; name?: string; jetstream?: boolean } = {},
): Promise<Launched> {
  return launch({
    kind,
    config: `server_name: ${opts.name ?? 'leaf'}\n${opts.config ?? ''}\nleafnodes {\n  reconnect: 1\n  remotes: [ { url: "${url}"\n ${opts.remote ?? ''} } ]\n}\n`,
    args: ['-m', '-1'],
    listeners: ['nats', 'monitoring'],
    ...(opts.jetstream === true ? { jetstream: true } : {}),
  });
}

interface LeafzJson {
  leafnodes: number;
  leafs: { account: string; in_msgs: number; out_msgs: number; subscriptions_list?: string[] }[] | null;
}

export async function leafz(srv: Launched): Promise<LeafzJson> {
  const r = await fetch(`${srv.monitorUrl}/leafz?subs=1`);
  return (await r.json()) as LeafzJson;
}

/** Wait until `srv` has `n` leaf connections. */
export async function waitForLeafs(srv: Launched, n: number, timeoutMs = 15000): Promise<void> {
  await waitFor(
    async () => (await leafz(srv)).leafnodes === n,
    timeoutMs,
    `${n} leaf connection(s) on ${srv.kind}`,
  );
}

/** The subjects the other side of `srv`'s leaf connections has announced (its LS+). */
export async function announced(srv: Launched): Promise<string[]> {
  const z = await leafz(srv);
  return (z.leafs ?? []).flatMap((l) => l.subscriptions_list ?? []);
}

/** Wait until the other side announced `subject` (present) or withdrew it (absent). */
export async function waitForAnnounced(
  srv: Launched,
  subject: string,
  present = true,
  timeoutMs = 10000,
): Promise<void> {
  await waitFor(
    async () => (await announced(srv)).includes(subject) === present,
    timeoutMs,
    `${subject} ${present ? 'announced to' : 'withdrawn from'} ${srv.kind}`,
  );
}

/** Messages sent over `srv`'s leaf connections so far. */
export async function leafOutMsgs(srv: Launched): Promise<number> {
  const z = await leafz(srv);
  return (z.leafs ?? []).reduce((n, l) => n + l.out_msgs, 0);
}
