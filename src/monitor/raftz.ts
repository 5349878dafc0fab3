/**
 * /raftz and `$SYS.REQ.SERVER.PING.RAFTZ` (nats-server 2.10's Raftz): the Raft groups of clustered
 * JetStream this server runs, by account and group name (the meta group belongs to the system account, a
 * stream's or consumer's group to its account; without an account filter, the system account's).
 *
 * What tsnats cannot report as nats-server does: the WAL's first and last timestamps (its Raft log keeps
 * none: Go's zero time), and the lengths of the internal queues other than pending proposals (entries,
 * responses and applies are handled as they arrive: 0). `bytes` of the WAL counts the entries' data.
 */
import type { RaftzNodeInfo } from '../raft/node.js';
import { goDurationMs } from './format.js';
import type { MonitoredServer } from './state.js';

/** Go's zero time.Time, as encoding/json writes it. */
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/** nats-server's RaftzGroupPeer. */
export interface RaftzGroupPeer {
  name: string;
  known: boolean;
  last_replicated_index?: number;
  last_seen?: string;
}

/** nats-server's RaftzGroup. */
export interface RaftzGroup {
  id: string;
  state: string;
  size: number;
  quorum_needed: number;
  committed: number;
  applied: number;
  catching_up?: boolean;
  leader?: string;
  ever_had_leader: boolean;
  term: number;
  voted_for?: string;
  pterm: number;
  pindex: number;
  ipq_proposal_len: number;
  ipq_entry_len: number;
  ipq_resp_len: number;
  ipq_apply_len: number;
  wal: Record<string, unknown>;
  peers: Record<string, RaftzGroupPeer>;
}

/** Account name -> group name -> group. */
export type RaftzStatus = Record<string, Record<string, RaftzGroup>>;

export interface RaftzOptions {
  account: string;
  group: string;
}

export function parseRaftzQuery(q: URLSearchParams): RaftzOptions {
  return { account: q.get('acc') ?? '', group: q.get('group') ?? '' };
}

/** The options of a system request (nats-server's RaftzOptions JSON: `account`, `group`). */
export function raftzOptionsFromJson(o: Record<string, unknown>): RaftzOptions {
  return {
    account: typeof o.account === 'string' ? o.account : '',
    group: typeof o.group === 'string' ? o.group : '',
  };
}

/** Whether this server runs Raft at all (nats-server's /raftz answers 404 otherwise). */
export function hasRaft(server: MonitoredServer): boolean {
  return server.jetstream?.cluster !== undefined;
}

/** nats-server's Raftz; undefined when no account is given and there is no system account. */
export function raftz(server: MonitoredServer, opts: Partial<RaftzOptions> = {}): RaftzStatus | undefined {
  let account = opts.account ?? '';
  if (account === '') {
    const sys = server.systemAccount;
    if (sys === undefined) return undefined;
    account = sys.name;
  }
  const group = opts.group ?? '';
  const cluster = server.jetstream?.cluster;
  const out: RaftzStatus = {};
  const groups = (cluster?.raftGroups() ?? [])
    .filter((g) => g.account === account && (group === '' || g.node.group === group))
    .sort((a, b) => (a.node.group < b.node.group ? -1 : a.node.group > b.node.group ? 1 : 0));
  const now = Date.now();
  for (const g of groups) {
    out[g.account] ??= {};
    out[g.account]![g.node.group] = groupJson(
      g.node.raftzInfo(),
      now,
      (id) => cluster?.peers.nameOf(id) ?? '',
    );
  }
  return out;
}

function groupJson(n: RaftzNodeInfo, now: number, nameOf: (id: string) => string): RaftzGroup {
  const g: RaftzGroup = {
    id: n.id,
    state: n.state.toUpperCase(),
    size: n.size,
    quorum_needed: n.quorumNeeded,
    committed: n.committed,
    applied: n.applied,
    ever_had_leader: n.everHadLeader,
    term: n.term,
    pterm: n.pterm,
    pindex: n.pindex,
    ipq_proposal_len: n.proposals,
    ipq_entry_len: 0,
    ipq_resp_len: 0,
    ipq_apply_len: 0,
    wal: walState(n.log),
    peers: {},
  };
  // Go's field order: the optional fields sit between the others.
  const ordered: Record<string, unknown> = {};
  for (const k of Object.keys(g) as (keyof RaftzGroup)[]) {
    ordered[k] = g[k];
    if (k === 'applied' && n.catchingUp) ordered.catching_up = true;
    if (k === 'applied' && n.leader !== '') ordered.leader = n.leader;
    if (k === 'term' && n.vote !== '') ordered.voted_for = n.vote;
  }
  const peers = [...n.peers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const peerJson: Record<string, RaftzGroupPeer> = {};
  for (const p of peers) {
    const peer: RaftzGroupPeer = { name: nameOf(p.id), known: p.known };
    if (p.lastIndex > 0) peer.last_replicated_index = p.lastIndex;
    if (p.lastSeen > 0) peer.last_seen = goDurationMs(now - p.lastSeen);
    peerJson[p.id] = peer;
  }
  ordered.peers = peerJson;
  return ordered as unknown as RaftzGroup;
}

/** The Raft log as nats-server's StreamState of its WAL (FastState). */
function walState(log: RaftzNodeInfo['log']): Record<string, unknown> {
  const empty = log.count === 0;
  return {
    messages: log.count,
    bytes: log.bytes,
    // A new log holds nothing yet (0); one emptied by compaction starts after its last index.
    first_seq: empty ? (log.lastIndex === 0 ? 0 : log.lastIndex + 1) : log.firstIndex,
    first_ts: GO_ZERO_TIME,
    last_seq: log.lastIndex,
    last_ts: GO_ZERO_TIME,
    consumer_count: 0,
  };
}
