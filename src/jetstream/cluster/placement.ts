/**
 * Where a new stream's replicas go (nats-server's selectPeerGroup, docs/design/jetstream-meta.md §4):
 * among the meta group's peers, those of the requested cluster that are online, report JetStream limits
 * and usage, carry the requested tags and have room for max_bytes; the ones with the fewest replicated
 * assets first, then the most room. Consumers are placed on their stream's peers.
 */
import type { StreamConfig } from '../config.js';
import type { PeerDirectory } from './peers.js';

export interface PlacementResult {
  peers: string[];
  /** nats-server's selectPeerError text when there are not enough peers. */
  error: string;
}

/** Pick `r` peers in `cluster` for a stream with `cfg`, keeping `existing` ones first. */
export function selectPeerGroup(
  r: number,
  cluster: string,
  cfg: StreamConfig,
  metaPeers: string[],
  dir: PeerDirectory,
  existing: string[] = [],
): PlacementResult {
  if (cluster === '') return { peers: [], error: 'no suitable peers for placement, miscellaneous issue' };
  if (existing.length >= r) return { peers: existing.slice(0, r), error: '' };
  const tags = cfg.placement?.tags ?? [];
  const maxBytes = cfg.max_bytes > 0 ? cfg.max_bytes : 0;
  const flags = { offline: false, excludeTag: false, noStorage: false, misc: false };
  const noMatchTags = new Set<string>();
  const candidates: { id: string; avail: number; ha: number }[] = [];
  for (const id of shuffled(metaPeers)) {
    const ni = dir.get(id);
    if (ni === undefined) {
      flags.misc = true;
      continue;
    }
    if (ni.cluster !== cluster) continue;
    if (ni.offline || ((ni.cfg === undefined || ni.stats === undefined) && (!ni.js || maxBytes > 0))) {
      // nats-server also refuses a JetStream peer whose statsz it has not seen yet; tsnats accepts one
      // its route announced as a JetStream server when the stream asks for no space (right after start).
      flags.offline = true;
      continue;
    }
    if (existing.includes(id)) continue;
    if (ni.tags.includes('!jetstream')) {
      flags.excludeTag = true;
      continue;
    }
    const missing = tags.filter((t) => !ni.tags.includes(t));
    if (missing.length > 0) {
      for (const t of missing) noMatchTags.add(t);
      continue;
    }
    const c = ni.cfg;
    const st = ni.stats;
    const avail =
      c === undefined || st === undefined
        ? 0
        : cfg.storage === 'memory'
          ? Math.max(0, c.max_memory - Math.max(st.memory, st.reserved_memory))
          : Math.max(0, c.max_storage - Math.max(st.storage, st.reserved_storage));
    if (avail < maxBytes) {
      flags.noStorage = true;
      continue;
    }
    candidates.push({ id, avail, ha: st?.ha_assets ?? 0 });
  }
  const need = r - existing.length;
  if (candidates.length < need) {
    let text = 'no suitable peers for placement';
    if (flags.offline) text += ', peer offline';
    if (flags.excludeTag) text += ', exclude tag set';
    if (flags.noStorage) text += ', insufficient storage';
    if (flags.misc) text += ', miscellaneous issue';
    if (metaPeers.length === 0) text += ', jetstream not enabled in cluster';
    if (noMatchTags.size > 0)
      text += `, tags not matched [${[...noMatchTags].map((t) => `'${t}'`).join(', ')}]`;
    return { peers: [], error: text };
  }
  candidates.sort((a, b) => b.avail - a.avail);
  if (cfg.num_replicas > 1) candidates.sort((a, b) => a.ha - b.ha);
  return { peers: [...existing, ...candidates.slice(0, need).map((c) => c.id)], error: '' };
}

function shuffled<T>(a: readonly T[]): T[] {
  const out = [...a];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
