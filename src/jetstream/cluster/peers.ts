/**
 * What this server knows about the other servers of the cluster (nats-server's nodeToInfo; docs/design/
 * jetstream-meta.md §1.1): node id -> name, cluster, version, tags, JetStream limits and usage, offline.
 * Filled from route INFO, from statsz events (`$SYS.SERVER.<id>.STATSZ`) and shutdown events
 * (`$SYS.SERVER.<id>.SHUTDOWN`). Placement uses it to pick peers; cluster info uses it to name them.
 */
import { nodeIdOf } from '../../raft/ids.js';

export interface PeerJsConfig {
  max_memory: number;
  max_storage: number;
}

export interface PeerJsStats {
  memory: number;
  storage: number;
  reserved_memory: number;
  reserved_storage: number;
  ha_assets: number;
}

export interface PeerInfo {
  name: string;
  /** The server id (`N...`), for shutdown events. */
  serverId: string;
  version: string;
  cluster: string;
  domain: string;
  tags: string[];
  js: boolean;
  cfg: PeerJsConfig | undefined;
  stats: PeerJsStats | undefined;
  offline: boolean;
  /** When statsz was last seen (ms). */
  seen: number;
}

type Json = Record<string, unknown>;

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export class PeerDirectory {
  private readonly peers = new Map<string, PeerInfo>();

  constructor(
    private readonly domain: string,
    /** Called when a server is seen for the first time through its statsz (nats-server then answers with its own). */
    private readonly onNewServer: () => void,
  ) {}

  get(id: string): PeerInfo | undefined {
    return this.peers.get(id);
  }

  all(): Map<string, PeerInfo> {
    return this.peers;
  }

  /** Our own entry (JetStream limits from our configuration, usage updated by the caller). */
  setSelf(p: PeerInfo): void {
    this.peers.set(nodeIdOf(p.name), p);
  }

  /** A route registered: name, id and JetStream flag (route.go addRoute). */
  fromRoute(
    info: { server_name: string; server_id: string; jetstream: boolean; domain: string },
    cluster: string,
  ): void {
    if (info.server_name === '' || !this.sameDomain(info.domain)) return;
    const id = nodeIdOf(info.server_name);
    const p = this.peers.get(id);
    if (p !== undefined) {
      p.serverId = info.server_id;
      p.js = info.jetstream;
      return;
    }
    this.peers.set(id, {
      name: info.server_name,
      serverId: info.server_id,
      version: '',
      cluster,
      domain: info.domain,
      tags: [],
      js: info.jetstream,
      cfg: undefined,
      stats: undefined,
      offline: false,
      seen: 0,
    });
  }

  /** A statsz event: overwrite the peer's entry (events.go remoteServerUpdate). */
  fromStatsz(msg: Json): void {
    const si = msg.server as Json | undefined;
    if (si === undefined || typeof si !== 'object') return;
    const name = str(si.name);
    if (name === '' || !this.sameDomain(str(si.domain))) return;
    const id = nodeIdOf(name);
    const statsz = (msg.statsz ?? {}) as Json;
    const js = (statsz.jetstream ?? {}) as Json;
    const cfg = js.config as Json | undefined;
    const stats = js.stats as Json | undefined;
    const known = this.peers.get(id);
    const isNew = known === undefined || known.seen === 0;
    this.peers.set(id, {
      name,
      serverId: str(si.id),
      version: str(si.ver),
      cluster: str(si.cluster),
      domain: str(si.domain),
      tags: Array.isArray(si.tags)
        ? (si.tags as unknown[]).filter((t): t is string => typeof t === 'string')
        : [],
      js: si.jetstream === true,
      cfg:
        cfg !== undefined && cfg !== null
          ? { max_memory: num(cfg.max_memory), max_storage: num(cfg.max_storage) }
          : undefined,
      stats:
        stats !== undefined && stats !== null
          ? {
              memory: num(stats.memory),
              storage: num(stats.storage),
              reserved_memory: num(stats.reserved_memory),
              reserved_storage: num(stats.reserved_storage),
              ha_assets: num(stats.ha_assets),
            }
          : undefined,
      offline: false,
      seen: Date.now(),
    });
    if (isNew) this.onNewServer();
  }

  /** A shutdown event: the server is offline until its next statsz. */
  fromShutdown(msg: Json): void {
    const name = str(msg.name);
    if (name !== '') {
      const p = this.peers.get(nodeIdOf(name));
      if (p !== undefined) p.offline = true;
    }
    const sid = str(msg.id);
    for (const p of this.peers.values()) if (sid !== '' && p.serverId === sid) p.offline = true;
  }

  /** The name to show for a peer id (nats-server's serverNameForNode). */
  nameOf(id: string): string {
    return this.peers.get(id)?.name ?? '';
  }

  isOnline(id: string): boolean {
    const p = this.peers.get(id);
    return p !== undefined && !p.offline;
  }

  private sameDomain(d: string): boolean {
    return d === '' || this.domain === '' || d === this.domain;
  }
}
