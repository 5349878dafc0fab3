/**
 * A simulated network for Raft nodes in one process: each node has a transport whose messages reach the
 * other nodes' subscriptions on the same subject (NRG subjects are literal) a tick later, unless the link
 * between the two nodes is cut. Used by the Raft tests to elect, partition and heal without routes.
 */
import type { Entry } from '../../src/raft/codec.js';
import { nodeIdOf } from '../../src/raft/ids.js';
import {
  type CommittedEntry,
  type RaftApplier,
  RaftNode,
  type RaftTiming,
  type RaftTransport,
} from '../../src/raft/node.js';
import type { RaftStorage } from '../../src/raft/storage.js';

type Handler = (reply: string, data: Buffer) => void;

/** Fast timing for tests (the Go values divided by about 20). */
export const FAST: Partial<RaftTiming> = {
  electionMin: 150,
  electionMax: 350,
  campaignMin: 5,
  campaignMax: 30,
  heartbeat: 40,
  lostQuorum: 500,
  catchupActivity: 300,
};

export class SimNet {
  private readonly subs = new Map<string, Map<string, Set<Handler>>>();
  private readonly cut = new Set<string>();
  /** Messages sent, by subject prefix ($NRG.AE, $NRG.V, ...), for assertions. */
  readonly sent = new Map<string, number>();
  /** Messages on subjects for which this returns true are counted as sent and never delivered. */
  drop: ((subject: string) => boolean) | undefined;

  transportFor(id: string): RaftTransport {
    return {
      subscribe: (subject, handler) => {
        let bySubject = this.subs.get(subject);
        if (bySubject === undefined) {
          bySubject = new Map();
          this.subs.set(subject, bySubject);
        }
        let set = bySubject.get(id);
        if (set === undefined) {
          set = new Set();
          bySubject.set(id, set);
        }
        set.add(handler);
        return () => {
          set.delete(handler);
        };
      },
      send: (subject, reply, data) => {
        const kind = subject.split('.').slice(0, 2).join('.');
        this.sent.set(kind, (this.sent.get(kind) ?? 0) + 1);
        const copy = Buffer.from(data);
        if (this.drop?.(subject) === true) return;
        setImmediate(() => {
          const bySubject = this.subs.get(subject);
          if (bySubject === undefined) return;
          for (const [to, handlers] of bySubject) {
            if (to === id || this.isCut(id, to)) continue;
            for (const h of [...handlers]) h(reply, copy);
          }
        });
      },
    };
  }

  private isCut(a: string, b: string): boolean {
    return this.cut.has(`${a}|${b}`);
  }

  /** Cut every link between `group` and the others (both directions). */
  isolate(group: string[], all: string[]): void {
    for (const a of group) for (const b of all) if (!group.includes(b)) this.cutLink(a, b);
  }

  cutLink(a: string, b: string): void {
    this.cut.add(`${a}|${b}`);
    this.cut.add(`${b}|${a}`);
  }

  heal(): void {
    this.cut.clear();
  }
}

/** An applier that records what it is given. */
export class Recorder implements RaftApplier {
  readonly entries: CommittedEntry[] = [];
  leader = false;
  leaderChanges = 0;
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  apply(ce: CommittedEntry): void {
    this.entries.push(ce);
    this.notify();
  }

  leaderChanged(isLeader: boolean): void {
    this.leader = isLeader;
    this.leaderChanges++;
    this.notify();
  }

  /** The Normal entries' data, as strings, in the order applied (a snapshot resets to its content). */
  normals(): string[] {
    const out: string[] = [];
    for (const ce of this.entries) {
      for (const e of ce.entries as Entry[]) {
        if (e.type === 0) out.push(e.data.toString());
        else if (e.type === 6) {
          out.length = 0;
          const text = e.data.toString();
          if (text !== '') out.push(...text.split(','));
        }
      }
    }
    return out;
  }

  waitFor(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      this.waiters.push({
        check,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
  }

  private notify(): void {
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.check()) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }
}

export interface SimMember {
  name: string;
  id: string;
  node: RaftNode;
  app: Recorder;
  storage: RaftStorage;
}

/** Start a node named `name` in `group` with the given peers (by server name). */
export function startMember(
  net: SimNet,
  group: string,
  name: string,
  peerNames: string[],
  storage: RaftStorage,
  app: Recorder = new Recorder(),
): SimMember {
  const id = nodeIdOf(name);
  const node = new RaftNode({
    group,
    id,
    storage,
    transport: net.transportFor(id),
    applier: app,
    knownPeers: peerNames.map(nodeIdOf),
    timing: FAST,
  });
  return { name, id, node, app, storage };
}

/** Poll until `check` holds (for conditions spread over several nodes), failing after `ms`. */
export async function until(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The single leader among `members`, if there is exactly one. */
export function leaderOf(members: SimMember[]): SimMember | undefined {
  const leaders = members.filter((m) => m.node.isLeader());
  return leaders.length === 1 ? leaders[0] : undefined;
}
