/**
 * A JetStream cluster of tsnats and/or nats-server processes on 127.0.0.1 for the clustered JetStream
 * tests: each node has a server name (n1, n2, ...), a fixed route port (chosen free at start), a
 * monitoring port and its own store directory, which survives a kill so that the node can be restarted
 * on its data.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { type Launched, launch, type ServerKind } from './launcher.js';

export interface ClusterNode {
  readonly name: string;
  readonly kind: ServerKind;
  readonly storeDir: string;
  proc: Launched | undefined;
  /** The client URL of the running process. */
  url(): string;
}

/** A free TCP port on 127.0.0.1 (bind 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export class JsCluster {
  readonly nodes: ClusterNode[] = [];
  private readonly root = mkdtempSync(join(tmpdir(), 'tsnats-jscluster-'));
  private readonly routePorts: number[] = [];
  /** The output of each node's earlier (killed) processes, oldest first. */
  private readonly pastLogs = new Map<string, string[]>();

  private constructor(
    private readonly kinds: ServerKind[],
    private readonly clusterName: string,
  ) {}

  /** Start one node per kind (n1, n2, ...) and wait until every one serves clients. */
  static async start(kinds: ServerKind[], clusterName = 'C1'): Promise<JsCluster> {
    const c = new JsCluster(kinds, clusterName);
    for (let i = 0; i < kinds.length; i++) c.routePorts.push(await freePort());
    kinds.forEach((kind, i) => {
      const name = `n${i + 1}`;
      const storeDir = join(c.root, name);
      const node: ClusterNode = {
        name,
        kind,
        storeDir,
        proc: undefined,
        url: () => node.proc?.url ?? '',
      };
      c.nodes.push(node);
    });
    await Promise.all(c.nodes.map((n) => c.startNode(n)));
    return c;
  }

  private config(n: ClusterNode, i: number): string {
    const routes = this.routePorts.map((p) => `nats://127.0.0.1:${p}`).join(', ');
    return [
      `server_name: ${n.name}`,
      `jetstream { store_dir: "${n.storeDir}" }`,
      'cluster {',
      `  name: ${this.clusterName}`,
      '  host: 127.0.0.1',
      `  port: ${this.routePorts[i]}`,
      `  routes: [ ${routes} ]`,
      '}',
      '',
    ].join('\n');
  }

  /** Start (or restart, on its data) one node. */
  async startNode(n: ClusterNode): Promise<void> {
    const i = this.nodes.indexOf(n);
    n.proc = await launch({
      kind: n.kind,
      config: this.config(n, i),
      // TSNATS_CLUSTER_ARGS (e.g. "-D") adds flags to every node, for debugging a failed run.
      args: ['-m', '-1', ...(process.env.TSNATS_CLUSTER_ARGS ?? '').split(' ').filter((a) => a !== '')],
      listeners: ['nats', 'monitoring'],
      timeoutMs: 20_000,
    });
  }

  node(name: string): ClusterNode {
    const n = this.nodes.find((x) => x.name === name);
    if (n === undefined) throw new Error(`no node ${name}`);
    return n;
  }

  /** kill -9 a node and wait for it to be gone. */
  async kill(name: string): Promise<void> {
    const n = this.node(name);
    const p = n.proc;
    if (p === undefined) return;
    p.kill('SIGKILL');
    await p.exited;
    this.pastLogs.set(name, [...(this.pastLogs.get(name) ?? []), p.log()]);
    n.proc = undefined;
  }

  urls(): string[] {
    return this.nodes.filter((n) => n.proc !== undefined).map((n) => n.url());
  }

  /** GET a monitoring endpoint of a node. */
  async monitor(name: string, path: string): Promise<Record<string, unknown>> {
    const base = this.node(name).proc?.monitorUrl;
    if (base === undefined) throw new Error(`${name} is not running`);
    const r = await fetch(`${base}${path}`);
    return (await r.json()) as Record<string, unknown>;
  }

  /** Every process's output for `name`, the killed ones first, each under a header line. */
  logs(name: string): string {
    const all = [...(this.pastLogs.get(name) ?? []), this.node(name).proc?.log() ?? ''];
    return all.map((l, i) => `---- ${name} process ${i + 1}\n${l}`).join('');
  }

  /**
   * A short account of the cluster for a failed test's message: each node's view of the meta group (from
   * /jsz) and its last Raft and JetStream log lines about leaders, killed processes included.
   */
  async postMortem(): Promise<string> {
    const out: string[] = [];
    for (const n of this.nodes) {
      let view = 'not running';
      if (n.proc !== undefined) {
        const jsz = (await this.monitor(n.name, '/jsz').catch((e: Error) => ({ error: e.message }))) as {
          meta_cluster?: { leader?: string; replicas?: { name: string; current: boolean; active: number }[] };
          error?: string;
        };
        const m = jsz.meta_cluster;
        view =
          jsz.error ??
          `meta leader "${m?.leader ?? ''}", replicas ${JSON.stringify(m?.replicas?.map((r) => [r.name, r.current, r.active]) ?? [])}`;
      }
      const lines = this.logs(n.name)
        .split('\n')
        .filter((l) => /^---- |RAFT|leader|catch/i.test(l))
        .slice(-12)
        .map((l) => `    ${l.replace(/^\[\d+\] \d{4}\/\d\d\/\d\d /, '')}`);
      out.push(`  ${n.name}: ${view}`, ...lines);
    }
    return out.join('\n');
  }

  /** Run `check`; if it throws, the error's message gets the cluster's post-mortem appended. */
  async explained(check: () => Promise<void>): Promise<void> {
    try {
      await check();
    } catch (e) {
      if (e instanceof Error) e.message += `\ncluster at the failure:\n${await this.postMortem()}`;
      throw e;
    }
  }

  /**
   * Stop every node. With TSNATS_CLUSTER_LOGS set to a directory, each node's output (all of its
   * processes) is written there first, as <dir>/<cluster root name>-<node>.log, for a failed run's post-mortem.
   */
  async stop(): Promise<void> {
    const logDir = process.env.TSNATS_CLUSTER_LOGS;
    if (logDir !== undefined && logDir !== '') {
      mkdirSync(logDir, { recursive: true });
      for (const n of this.nodes)
        writeFileSync(join(logDir, `${basename(this.root)}-${n.name}.log`), this.logs(n.name));
    }
    await Promise.all(this.nodes.map(async (n) => n.proc?.stop('SIGKILL')));
    for (const n of this.nodes) n.proc = undefined;
    rmSync(this.root, { recursive: true, force: true });
  }

  get size(): number {
    return this.kinds.length;
  }
}
