/**
 * Clusters for tests: embedded tsnats servers and reference nats-server processes behind one interface,
 * on 127.0.0.1 and random ports. A cluster is built from a seed: the first node has no routes, the others
 * route to the seed only, so the rest of the mesh comes from gossip (implicit routes), as in production.
 *
 * Route state has no events a test can await, so `waitForMesh` and `waitForInterest` poll (wait-for.ts).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Server, type ServerConfig } from '../../src/index.js';
import { type ClusterOptions, defaultClusterOptions } from '../../src/server/options.js';
import { type Launched, launch } from './launcher.js';
import { waitFor } from './wait-for.js';

/** One server of a test cluster, whichever implementation. */
export interface ClusterNode {
  readonly kind: 'tsnats' | 'nats-server';
  readonly name: string;
  /** Server id (known once started). */
  readonly id: string;
  readonly clientPort: number;
  readonly routePort: number;
  /** `nats://127.0.0.1:<client port>` */
  readonly url: string;
  /** `nats://127.0.0.1:<route port>`, for other nodes' routes. */
  readonly routeUrl: string;
  /** Registered routes. */
  numRoutes(): Promise<number>;
  /** Whether the route from server `fromId` carries interest in `subject` (in `$G`). */
  hasRemoteInterest(subject: string, fromId: string): Promise<boolean>;
  stop(): Promise<void>;
}

export interface TsNodeOptions {
  name: string;
  clusterName?: string;
  routes?: string[];
  /** Fixed ports (for a restart on the same ports); 0 = random. */
  clientPort?: number;
  routePort?: number;
  /** Cluster options beyond name, routes and ports (authorization, no_advertise...). */
  cluster?: Partial<ClusterOptions>;
  /** Extra server options. */
  config?: ServerConfig;
}

/** An embedded tsnats node with its route listener on 127.0.0.1. */
export class TsNode implements ClusterNode {
  readonly kind = 'tsnats' as const;
  constructor(
    readonly server: Server,
    readonly opts: TsNodeOptions,
  ) {}

  static async start(opts: TsNodeOptions): Promise<TsNode> {
    const cluster: ClusterOptions = {
      ...defaultClusterOptions(),
      name: opts.clusterName ?? 'test',
      host: '127.0.0.1',
      routes: opts.routes ?? [],
      ...opts.cluster,
      port: opts.routePort ?? 0,
    };
    const server = new Server({
      host: '127.0.0.1',
      noLog: true,
      noSigs: true,
      serverName: opts.name,
      ...opts.config,
      port: opts.clientPort ?? 0,
      cluster,
    });
    await server.ready();
    return new TsNode(server, opts);
  }

  get name(): string {
    return this.opts.name;
  }
  get id(): string {
    return this.server.id;
  }
  get clientPort(): number {
    return this.server.port;
  }
  get routePort(): number {
    return this.server.cluster!.port;
  }
  get url(): string {
    return `nats://127.0.0.1:${this.clientPort}`;
  }
  get routeUrl(): string {
    return `nats://127.0.0.1:${this.routePort}`;
  }
  async numRoutes(): Promise<number> {
    return this.server.cluster!.numRoutes();
  }
  async hasRemoteInterest(subject: string, fromId: string): Promise<boolean> {
    for (const r of this.server.cluster!.routes.values()) {
      if (r.remoteId !== fromId) continue;
      for (const { sub } of r.subs.values()) if (sub.subject === subject) return true;
    }
    return false;
  }
  /** A fresh server with the same options and the same client and route ports. */
  restart(): Promise<TsNode> {
    return TsNode.start({ ...this.opts, clientPort: this.clientPort, routePort: this.routePort });
  }
  stop(): Promise<void> {
    return this.server.shutdown();
  }
}

export interface RefNodeOptions {
  name: string;
  clusterName?: string;
  routes?: string[];
  /** Route port; -1 (default) lets nats-server pick one, reported in its ports file. */
  routePort?: number;
}

/** A reference nats-server with a route listener and monitoring (for /routez), all on random ports. */
export class RefNode implements ClusterNode {
  readonly kind = 'nats-server' as const;
  id = '';

  private constructor(
    readonly name: string,
    private readonly proc: Launched,
  ) {}

  static async start(opts: RefNodeOptions): Promise<RefNode> {
    const args = [
      '-m',
      '-1',
      '-n',
      opts.name,
      '--cluster',
      `nats://127.0.0.1:${opts.routePort ?? -1}`,
      '--cluster_name',
      opts.clusterName ?? 'test',
    ];
    if (opts.routes !== undefined && opts.routes.length > 0) args.push('--routes', opts.routes.join(','));
    const proc = await launch({
      kind: 'nats-server',
      args,
      listeners: ['nats', 'cluster', 'monitoring'],
      timeoutMs: 5000,
    });
    const node = new RefNode(opts.name, proc);
    try {
      const varz = (await node.http('/varz')) as { server_id: string };
      node.id = varz.server_id;
      return node;
    } catch (err) {
      await node.stop();
      throw err;
    }
  }

  async http(path: string): Promise<unknown> {
    const res = await fetch(`${this.proc.monitorUrl}${path}`);
    return res.json();
  }

  get clientPort(): number {
    return this.proc.port;
  }
  get routePort(): number {
    return this.proc.clusterPort;
  }
  get url(): string {
    return `nats://127.0.0.1:${this.clientPort}`;
  }
  get routeUrl(): string {
    return `nats://127.0.0.1:${this.routePort}`;
  }
  /** What nats-server logged so far (for failure messages). */
  log(): string {
    return this.proc.log();
  }
  async numRoutes(): Promise<number> {
    const r = (await this.http('/routez')) as { num_routes: number };
    return r.num_routes;
  }
  async hasRemoteInterest(subject: string, fromId: string): Promise<boolean> {
    const r = (await this.http('/routez?subs=1')) as {
      routes: { remote_id: string; subscriptions_list?: string[] }[];
    };
    return r.routes.some((x) => x.remote_id === fromId && (x.subscriptions_list ?? []).includes(subject));
  }
  async stop(): Promise<void> {
    await this.proc.stop('SIGKILL');
  }
}

export type NodeKind = 'tsnats' | 'nats-server';

/**
 * Start a cluster of the given kinds: the first is the seed, the others route to it; resolves once every
 * node has a route to every other (full mesh).
 */
export async function startCluster(kinds: NodeKind[], clusterName = 'test'): Promise<ClusterNode[]> {
  const nodes: ClusterNode[] = [];
  try {
    for (let i = 0; i < kinds.length; i++) {
      const name = `n${i + 1}`;
      const routes = i === 0 ? [] : [nodes[0]!.routeUrl];
      nodes.push(
        kinds[i] === 'tsnats'
          ? await TsNode.start({ name, clusterName, routes })
          : await RefNode.start({ name, clusterName, routes }),
      );
    }
    await waitForMesh(nodes);
    return nodes;
  } catch (err) {
    await stopAll(nodes);
    throw err;
  }
}

/** Three embedded tsnats nodes in a full mesh. */
export function startTsCluster(n = 3, clusterName = 'test'): Promise<TsNode[]> {
  return startCluster(new Array<NodeKind>(n).fill('tsnats'), clusterName) as Promise<TsNode[]>;
}

/** Poll until every node has `nodes.length - 1` routes. */
export async function waitForMesh(nodes: readonly ClusterNode[], timeoutMs = 10000): Promise<void> {
  const want = nodes.length - 1;
  await waitFor(
    async () => {
      for (const n of nodes) if ((await n.numRoutes()) !== want) return false;
      return true;
    },
    timeoutMs,
    `a full mesh of ${nodes.length} nodes`,
  );
}

/** Poll until every node in `at` has the interest in `subject` of the server `from` (over its route). */
export async function waitForInterest(
  at: readonly ClusterNode[],
  from: ClusterNode,
  subject: string,
  timeoutMs = 5000,
): Promise<void> {
  await waitFor(
    async () => {
      for (const n of at) if (n !== from && !(await n.hasRemoteInterest(subject, from.id))) return false;
      return true;
    },
    timeoutMs,
    `interest in ${subject} from ${from.name}`,
  );
}

/** Poll until no node in `at` has interest in `subject` from `from` any more. */
export async function waitForNoInterest(
  at: readonly ClusterNode[],
  from: ClusterNode,
  subject: string,
  timeoutMs = 5000,
): Promise<void> {
  await waitFor(
    async () => {
      for (const n of at) if (n !== from && (await n.hasRemoteInterest(subject, from.id))) return false;
      return true;
    },
    timeoutMs,
    `interest in ${subject} from ${from.name} to go`,
  );
}

/** Stop every node (errors ignored: cleanup must reach them all). */
export async function stopAll(nodes: readonly ClusterNode[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
}

// ---- scenarios shared by the tsnats-only and the mixed-cluster tests -------------------------------------

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Resolve when `check` passes after a message callback, reject after `ms` (a lost message fails fast). */
export function until(what: string, ms: number, setup: (done: () => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms}ms waiting for ${what}`)), ms);
    setup(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** One client per node (no reconnect: a test that loses its server must fail, not hang). */
export async function connectAll(nodes: readonly ClusterNode[]): Promise<NatsConnection[]> {
  return Promise.all(nodes.map((n) => connect({ servers: n.url, reconnect: false })));
}

export async function closeAll(conns: readonly NatsConnection[]): Promise<void> {
  await Promise.all(conns.map((c) => c.close().catch(() => {})));
}

/** A message published on node i reaches a subscriber on node j, for every ordered pair (i, j). */
export async function sixDirections(
  nodes: readonly ClusterNode[],
  ncs: readonly NatsConnection[],
): Promise<string[]> {
  const got: string[] = [];
  const waits: Promise<void>[] = [];
  for (let i = 0; i < nodes.length; i++) {
    for (let j = 0; j < nodes.length; j++) {
      if (i === j) continue;
      const subject = `dir.${i}.${j}`;
      waits.push(
        until(`${subject} on ${nodes[j]!.name}`, 5000, (done) => {
          ncs[j]!.subscribe(subject, {
            max: 1,
            callback: (_e, m) => {
              got.push(`${m.subject}:${m.string()}`);
              done();
            },
          });
        }),
      );
    }
  }
  await Promise.all(ncs.map((c) => c.flush()));
  for (let i = 0; i < nodes.length; i++) {
    for (let j = 0; j < nodes.length; j++) {
      if (i !== j) await waitForInterest([nodes[i]!], nodes[j]!, `dir.${i}.${j}`);
    }
  }
  for (let i = 0; i < nodes.length; i++) {
    for (let j = 0; j < nodes.length; j++)
      if (i !== j) ncs[i]!.publish(`dir.${i}.${j}`, `from ${nodes[i]!.name}`);
  }
  await Promise.all(waits);
  return got.sort();
}

/** `*` and `>` subscriptions on two nodes, published to from a third: exact counts. */
export async function wildcards(
  nodes: readonly ClusterNode[],
  ncs: readonly NatsConnection[],
): Promise<{ star: string[]; full: string[] }> {
  const star: string[] = [];
  const full: string[] = [];
  const [p, a, b] = [0, 1, 2];
  let fence = 0;
  const fenced = until('the fences', 5000, (done) => {
    for (const k of [a, b]) {
      ncs[k]!.subscribe('wcfence', {
        callback: () => {
          if (++fence === 2) done();
        },
      });
    }
  });
  ncs[a]!.subscribe('wc.*.x', {
    callback: (_e, m) => {
      star.push(m.subject);
    },
  });
  ncs[b]!.subscribe('wc.>', {
    callback: (_e, m) => {
      full.push(m.subject);
    },
  });
  await Promise.all(ncs.map((c) => c.flush()));
  await waitForInterest([nodes[p]!], nodes[a]!, 'wc.*.x');
  await waitForInterest([nodes[p]!], nodes[b]!, 'wc.>');
  await waitForInterest([nodes[p]!], nodes[a]!, 'wcfence');
  await waitForInterest([nodes[p]!], nodes[b]!, 'wcfence');
  for (const s of ['wc.a.x', 'wc.b.y', 'wc.c.x.d', 'other.a.x', 'wc.d.x']) ncs[p]!.publish(s);
  // The fence follows the same routes: once it arrived, everything published before it has too.
  ncs[p]!.publish('wcfence');
  await fenced;
  return { star, full };
}

/** A requester on every node gets the answer of a responder on every other node. */
export async function requestReply(
  nodes: readonly ClusterNode[],
  ncs: readonly NatsConnection[],
): Promise<string[]> {
  for (let j = 0; j < nodes.length; j++) {
    ncs[j]!.subscribe(`svc.${j}`, {
      callback: (_e, m) => {
        m.respond(enc.encode(`${m.string()} -> ${nodes[j]!.name}`));
      },
    });
  }
  await Promise.all(ncs.map((c) => c.flush()));
  for (let i = 0; i < nodes.length; i++) {
    for (let j = 0; j < nodes.length; j++)
      if (i !== j) await waitForInterest([nodes[i]!], nodes[j]!, `svc.${j}`);
  }
  const answers: string[] = [];
  for (let i = 0; i < nodes.length; i++) {
    for (let j = 0; j < nodes.length; j++) {
      if (i === j) continue;
      const r = await ncs[i]!.request(`svc.${j}`, enc.encode(nodes[i]!.name), { timeout: 3000 });
      answers.push(dec.decode(r.data));
    }
  }
  return answers;
}

export interface QueueResult {
  /** Messages received by the members of each node. */
  perNode: number[];
  /** Distinct message numbers received. */
  distinct: number;
  /** Total copies received (must equal `distinct`). */
  total: number;
}

/**
 * Queue group members on the nodes `members` (two per node), `count` messages published on node `pub`:
 * each message must reach exactly one member cluster-wide.
 */
export async function queueExactlyOnce(
  nodes: readonly ClusterNode[],
  ncs: readonly NatsConnection[],
  members: readonly number[],
  pub: number,
  count: number,
  tag: string,
): Promise<QueueResult> {
  const subject = `work.${tag}`;
  const fenceSubject = `fence.${tag}`;
  const perNode = nodes.map(() => 0);
  const seen = new Set<number>();
  let total = 0;
  let fences = 0;
  const fenced = until(`fences of ${tag}`, 10000, (done) => {
    for (const k of members) {
      ncs[k]!.subscribe(fenceSubject, {
        callback: () => {
          if (++fences === members.length) done();
        },
      });
    }
  });
  // Extra connections, so that two members live on each node.
  const extra = await Promise.all(members.map((k) => connect({ servers: nodes[k]!.url, reconnect: false })));
  try {
    members.forEach((k, idx) => {
      for (const c of [ncs[k]!, extra[idx]!]) {
        c.subscribe(subject, {
          queue: 'workers',
          callback: (_e, m) => {
            perNode[k]!++;
            total++;
            seen.add(Number(m.string()));
          },
        });
      }
    });
    await Promise.all([...ncs, ...extra].map((c) => c.flush()));
    for (const k of members) {
      if (k !== pub) {
        await waitForInterest([nodes[pub]!], nodes[k]!, subject);
        await waitForInterest([nodes[pub]!], nodes[k]!, fenceSubject);
      }
    }
    for (let i = 0; i < count; i++) ncs[pub]!.publish(subject, String(i));
    ncs[pub]!.publish(fenceSubject);
    await fenced;
    // Each member connection got the fence after every message published before it.
    await Promise.all([...ncs, ...extra].map((c) => c.flush()));
  } finally {
    await closeAll(extra);
  }
  return { perNode, distinct: seen.size, total };
}

/**
 * A certificate for route TLS, signed by the test CA of `caDir` (ca.pem, ca-key.pem): servers present it
 * both as server and as client, so it carries both extended key usages and 127.0.0.1.
 */
export function makeRouteCert(caDir: string): { cert: string; key: string } {
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: caDir, stdio: 'pipe' });
  };
  writeFileSync(
    join(caDir, 'route.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  run([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'route-key.pem',
    '-out',
    'route.csr',
    '-subj',
    '/CN=route',
  ]);
  run([
    'x509',
    '-req',
    '-in',
    'route.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca-key.pem',
    '-CAcreateserial',
    '-out',
    'route.pem',
    '-days',
    '2',
    '-extfile',
    'route.ext',
  ]);
  return { cert: join(caDir, 'route.pem'), key: join(caDir, 'route-key.pem') };
}
