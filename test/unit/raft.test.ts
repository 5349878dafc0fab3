/**
 * The Raft layer alone (src/raft/), on a simulated network: the wire encodings against nats-server's bytes,
 * elections, replication and commit, partitions (messages dropped), log truncation on a term change,
 * snapshot install and catch-up of a lagging member.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  decodeAppendEntry,
  decodeAppendEntryResponse,
  decodePeerState,
  decodeVoteRequest,
  decodeVoteResponse,
  EntryType,
  encodeAppendEntry,
  encodeAppendEntryResponse,
  encodePeerState,
  encodeVoteRequest,
  encodeVoteResponse,
} from '../../src/raft/codec.js';
import { nodeIdOf } from '../../src/raft/ids.js';
import { FileRaftStorage, MemRaftStorage } from '../../src/raft/storage.js';
import { leaderOf, Recorder, type SimMember, SimNet, startMember, until } from '../helpers/raft-sim.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('NRG encodings match nats-server 2.9 byte for byte (docs/design/nrg.md §1-2)', () => {
  test('node ids: getHash(server name)', () => {
    assert.equal(nodeIdOf('n1'), 'fjFyEjc1');
    assert.equal(nodeIdOf('n2'), '44jzkV9D');
    assert.equal(nodeIdOf('n3'), 'BXScrY9i');
    assert.equal(nodeIdOf('n4'), 'C7B8kAbl');
  });

  test('a heartbeat and an AddPeer append entry', () => {
    const hb = encodeAppendEntry({
      leader: 'fjFyEjc1',
      term: 1,
      commit: 4,
      pterm: 1,
      pindex: 4,
      entries: [],
    });
    assert.deepEqual(
      hb,
      hex('666a4679456a6331 0100000000000000 0400000000000000 0100000000000000 0400000000000000 0000'),
    );
    const add = encodeAppendEntry({
      leader: 'fjFyEjc1',
      term: 1,
      commit: 5,
      pterm: 1,
      pindex: 5,
      entries: [{ type: EntryType.AddPeer, data: Buffer.from('C7B8kAbl') }],
    });
    const wire = hex(
      '666a4679456a6331 0100000000000000 0500000000000000 0100000000000000 0500000000000000 0100 09000000 03 433742386b41626c',
    );
    assert.deepEqual(add, wire);
    const d = decodeAppendEntry(wire)!;
    assert.equal(d.leader, 'fjFyEjc1');
    assert.equal(d.pindex, 5);
    assert.equal(d.entries[0]!.type, EntryType.AddPeer);
    assert.equal(d.entries[0]!.data.toString(), 'C7B8kAbl');
    assert.equal(decodeAppendEntry(wire.subarray(0, 50)), undefined, 'a cut entry is malformed');
  });

  test('append entry response is exactly 25 bytes', () => {
    const r = encodeAppendEntryResponse({ term: 1, index: 6, peer: 'C7B8kAbl', success: true });
    assert.deepEqual(r, hex('0100000000000000 0600000000000000 433742386b41626c 01'));
    assert.deepEqual(decodeAppendEntryResponse(r), { term: 1, index: 6, peer: 'C7B8kAbl', success: true });
    assert.equal(decodeAppendEntryResponse(Buffer.concat([r, Buffer.from([0])])), undefined);
  });

  test('vote request and response', () => {
    const req = encodeVoteRequest({ term: 2, lastTerm: 1, lastIndex: 10, candidate: 'BXScrY9i' });
    assert.deepEqual(req, hex('0200000000000000 0100000000000000 0a00000000000000 4258536372593969'));
    assert.deepEqual(decodeVoteRequest(req), { term: 2, lastTerm: 1, lastIndex: 10, candidate: 'BXScrY9i' });
    const resp = encodeVoteResponse({ term: 1, peer: 'fjFyEjc1', granted: true });
    assert.deepEqual(resp, hex('0100000000000000 666a4679456a6331 01'));
    assert.deepEqual(decodeVoteResponse(resp), { term: 1, peer: 'fjFyEjc1', granted: true });
  });

  test('peer state', () => {
    const ps = { clusterSize: 3, knownPeers: ['BXScrY9i', 'fjFyEjc1', '44jzkV9D'], domainExt: 0 };
    const b = encodePeerState(ps);
    assert.deepEqual(b, hex('03000000 03000000 4258536372593969 666a4679456a6331 34346a7a6b563944 0000'));
    assert.deepEqual(decodePeerState(b), ps);
    assert.deepEqual(decodePeerState(b.subarray(0, b.length - 2)), ps, 'the trailing u16 is optional');
  });
});

const NAMES = ['n1', 'n2', 'n3'];

function cluster(net: SimNet, group = 'G', names = NAMES): SimMember[] {
  return names.map((n) => startMember(net, group, n, names, new MemRaftStorage()));
}

function stopAll(members: SimMember[]): void {
  for (const m of members) m.node.stop();
}

describe('Raft on a simulated network', () => {
  test('three nodes elect one leader; proposals commit everywhere in order', async () => {
    const net = new SimNet();
    const ms = cluster(net);
    try {
      await until(() => leaderOf(ms) !== undefined, 5000, 'a leader');
      const leader = leaderOf(ms)!;
      await until(() => ms.every((m) => m.node.leader === leader.id), 5000, 'everyone to follow it');
      const term = leader.node.currentTerm;
      assert.ok(ms.every((m) => m.node.currentTerm === term));
      for (let i = 0; i < 200; i++) assert.ok(leader.node.propose(Buffer.from(`m${i}`)));
      const want = Array.from({ length: 200 }, (_, i) => `m${i}`);
      await until(() => ms.every((m) => m.app.normals().length === 200), 5000, 'every node to apply');
      for (const m of ms) assert.deepEqual(m.app.normals(), want);
      // A follower cannot propose; it forwards to the leader instead.
      const follower = ms.find((m) => m !== leader)!;
      assert.equal(follower.node.propose(Buffer.from('x')), false);
      follower.node.forwardProposal(Buffer.from('forwarded'));
      await until(() => ms.every((m) => m.app.normals().at(-1) === 'forwarded'), 5000, 'the forwarded one');
      assert.equal(leader.app.leader, true);
    } finally {
      stopAll(ms);
    }
  });

  test('a partitioned leader loses its place; its uncommitted entries are truncated when it comes back', async () => {
    const net = new SimNet();
    const ms = cluster(net);
    const ids = ms.map((m) => m.id);
    try {
      await until(() => leaderOf(ms) !== undefined, 5000, 'a leader');
      const old = leaderOf(ms)!;
      old.node.propose(Buffer.from('before'));
      await until(() => ms.every((m) => m.app.normals().includes('before')), 5000, 'the first entry');
      const oldTerm = old.node.currentTerm;
      // Cut the leader off: what it proposes now can never reach a quorum.
      net.isolate([old.id], ids);
      const before = old.node.progressInfo().index;
      for (let i = 0; i < 5; i++) old.node.propose(Buffer.from(`lost${i}`));
      const rest = ms.filter((m) => m !== old);
      await until(() => leaderOf(rest) !== undefined, 5000, 'a new leader on the majority side');
      const fresh = leaderOf(rest)!;
      assert.ok(fresh.node.currentTerm > oldTerm);
      fresh.node.propose(Buffer.from('after'));
      await until(() => rest.every((m) => m.app.normals().includes('after')), 5000, 'the majority to commit');
      // The old leader notices it lost its quorum.
      await until(() => !old.node.isLeader(), 5000, 'the old leader to step down');
      assert.ok(!old.app.normals().some((s) => s.startsWith('lost')), 'nothing uncommitted was applied');
      assert.ok(old.node.progressInfo().index > before, 'it stored the lost entries in its log');
      net.heal();
      await until(
        () => old.app.normals().includes('after') && old.node.leader === fresh.id,
        8000,
        'the old leader to catch up',
      );
      // Its log now agrees with the leader's: the lost entries are gone.
      assert.deepEqual(old.app.normals(), fresh.app.normals());
      fresh.node.propose(Buffer.from('end'));
      await until(() => ms.every((m) => m.app.normals().at(-1) === 'end'), 5000, 'all three to agree');
      for (const m of ms) assert.deepEqual(m.app.normals(), ['before', 'after', 'end']);
    } finally {
      stopAll(ms);
    }
  });

  test('votes follow Go: the voter answers with its old term; a stale log gets no vote', async () => {
    const net = new SimNet();
    const ms = cluster(net);
    try {
      await until(() => leaderOf(ms) !== undefined, 5000, 'a leader');
      const leader = leaderOf(ms)!;
      for (let i = 0; i < 3; i++) leader.node.propose(Buffer.from(`v${i}`));
      await until(() => ms.every((m) => m.app.normals().length === 3), 5000, 'replication');
      // A candidate with an empty log asks for a vote in a much higher term: refused, but the term is adopted.
      const responses: Buffer[] = [];
      const probe = net.transportFor('probe123');
      probe.subscribe('$NRG.R.probe', (_r, d) => responses.push(d));
      const term = leader.node.currentTerm + 5;
      probe.send(
        '$NRG.V.G',
        '$NRG.R.probe',
        encodeVoteRequest({ term, lastTerm: 0, lastIndex: 0, candidate: 'probe123' }),
      );
      await until(() => responses.length === 3, 2000, 'three answers');
      for (const r of responses.map((b) => decodeVoteResponse(b)!)) {
        assert.equal(r.granted, false);
        assert.ok(r.term < term, 'the old term is in the answer');
      }
      await until(() => ms.every((m) => m.node.currentTerm >= term), 2000, 'the higher term to be adopted');
      // The group recovers with a leader of an even higher term.
      await until(
        () => leaderOf(ms) !== undefined && leaderOf(ms)!.node.currentTerm > term,
        8000,
        'a new leader',
      );
    } finally {
      stopAll(ms);
    }
  });

  test('a vote goes to a log with a newer last term even when it is shorter (§5.4.1, nats-server 2.10)', async () => {
    const net = new SimNet();
    const ms = cluster(net);
    try {
      await until(() => leaderOf(ms) !== undefined, 5000, 'a leader');
      const leader = leaderOf(ms)!;
      for (let i = 0; i < 5; i++) leader.node.propose(Buffer.from(`v${i}`));
      await until(() => ms.every((m) => m.app.normals().length === 5), 5000, 'replication');
      const lastTerm = leader.node.currentTerm;
      // One entry of a later term beats five of an earlier one (nats-server 2.9 refused it for its
      // shorter log, and three logs like that could refuse each other for good).
      const responses: Buffer[] = [];
      const probe = net.transportFor('probe123');
      probe.subscribe('$NRG.R.probe', (_r, d) => responses.push(d));
      probe.send(
        '$NRG.V.G',
        '$NRG.R.probe',
        encodeVoteRequest({
          term: lastTerm + 5,
          lastTerm: lastTerm + 1,
          lastIndex: 1,
          candidate: 'probe123',
        }),
      );
      await until(() => responses.length === 3, 2000, 'three answers');
      assert.deepEqual(
        responses.map((b) => decodeVoteResponse(b)!.granted),
        [true, true, true],
      );
    } finally {
      stopAll(ms);
    }
  });

  test('a follower whose catch-up stalls (its leader died) drops it and campaigns', async () => {
    const net = new SimNet();
    const ms = cluster(net);
    const ids = ms.map((m) => m.id);
    try {
      await until(() => leaderOf(ms) !== undefined, 5000, 'a leader');
      const leader = leaderOf(ms)!;
      const lagger = ms.find((m) => m !== leader)!;
      const other = ms.find((m) => m !== leader && m !== lagger)!;
      net.isolate([lagger.id], ids);
      for (let i = 0; i < 10; i++) leader.node.propose(Buffer.from(`c${i}`));
      await until(() => other.app.normals().length === 10, 5000, 'the majority to commit');
      // The catch-up stream never arrives: the lagger asks for it and waits.
      net.drop = (subject) => subject.startsWith('$NRG.CR.');
      net.heal();
      await until(() => (net.sent.get('$NRG.CR') ?? 0) > 0, 5000, 'the leader to start the catch-up');
      // Its leader dies and the lagger is alone: only its own election timer can move it.
      leader.node.stop();
      net.isolate([lagger.id], ids);
      const term = lagger.node.currentTerm;
      await until(() => lagger.node.currentTerm > term, 6000, 'the lagger to campaign');
      assert.notEqual(lagger.node.state, 'follower');
    } finally {
      stopAll(ms);
    }
  });

  test('a lagging member is caught up from a snapshot, then from the log', async () => {
    const net = new SimNet();
    const ms = cluster(net);
    const ids = ms.map((m) => m.id);
    try {
      await until(() => leaderOf(ms) !== undefined, 5000, 'a leader');
      let leader = leaderOf(ms)!;
      const lagger = ms.find((m) => m !== leader)!;
      net.isolate([lagger.id], ids);
      const rest = ms.filter((m) => m !== lagger);
      const state: string[] = [];
      // Five batches, so that the log holds several entries before the snapshot replaces them.
      for (let b = 0; b < 5; b++) {
        for (let i = b * 10; i < b * 10 + 10; i++) {
          state.push(`s${i}`);
          leader.node.propose(Buffer.from(`s${i}`));
        }
        const n = state.length;
        await until(() => rest.every((m) => m.app.normals().length === n), 5000, 'the majority to commit');
      }
      // The leader snapshots its state (the applied entries, joined) and compacts its log.
      leader = leaderOf(rest)!;
      assert.ok(leader.node.installSnapshot(Buffer.from(state.join(','))));
      assert.ok(leader.node.logSize().entries <= 2, 'the log was compacted');
      for (let i = 50; i < 55; i++) leader.node.propose(Buffer.from(`s${i}`));
      await until(() => rest.every((m) => m.app.normals().length === 55), 5000, 'more entries');
      net.heal();
      await until(() => lagger.app.normals().length === 55, 8000, 'the lagging member to catch up');
      assert.deepEqual(lagger.app.normals(), leader.app.normals());
      assert.ok(
        lagger.app.entries.some((ce) => ce.entries.some((e) => e.type === EntryType.Snapshot)),
        'it installed the snapshot',
      );
    } finally {
      stopAll(ms);
    }
  });

  test('leader transfer: step down in favour of a chosen member', async () => {
    const net = new SimNet();
    const ms = cluster(net);
    try {
      await until(() => leaderOf(ms) !== undefined, 5000, 'a leader');
      const leader = leaderOf(ms)!;
      leader.node.propose(Buffer.from('x'));
      await until(() => ms.every((m) => m.app.normals().length === 1), 5000, 'replication');
      const target = ms.find((m) => m !== leader)!;
      assert.ok(leader.node.stepDown(target.id));
      await until(() => target.node.isLeader(), 3000, 'the chosen member to lead');
      assert.equal(leaderOf(ms), target);
    } finally {
      stopAll(ms);
    }
  });

  test('a group shrunk to its leader commits alone; late answers of the dropped members do not add them back', async () => {
    const net = new SimNet();
    const ms = cluster(net);
    try {
      await until(() => leaderOf(ms) !== undefined, 5000, 'a leader');
      const leader = leaderOf(ms)!;
      leader.node.propose(Buffer.from('before'));
      await until(() => ms.every((m) => m.app.normals().length === 1), 5000, 'replication');
      // The meta layer scales the group down to the leader alone; the others still run for a while and
      // answer what the leader sends (its group subject reaches them).
      leader.node.updateKnownPeers([leader.id]);
      assert.equal(leader.node.clusterSize, 1);
      leader.node.propose(Buffer.from('alone'));
      await until(() => leader.app.normals().at(-1) === 'alone', 5000, 'a commit of one');
      const others = ms.filter((m) => m !== leader);
      await until(() => others.every((m) => m.app.normals().at(-1) === 'alone'), 5000, 'their late answers');
      for (const m of others) m.node.stop();
      leader.node.propose(Buffer.from('after'));
      await until(() => leader.app.normals().at(-1) === 'after', 5000, 'a commit once they are gone');
      assert.equal(leader.node.clusterSize, 1);
      assert.deepEqual(leader.node.peerIds(), [leader.id]);
    } finally {
      stopAll(ms);
    }
  });

  test('a new member is added when it answers the leader, and catches up', async () => {
    const net = new SimNet();
    const ms = cluster(net);
    try {
      await until(() => leaderOf(ms) !== undefined, 5000, 'a leader');
      const leader = leaderOf(ms)!;
      for (let i = 0; i < 10; i++) leader.node.propose(Buffer.from(`a${i}`));
      await until(() => ms.every((m) => m.app.normals().length === 10), 5000, 'replication');
      // n4 knows the others; they do not know it yet.
      const n4 = startMember(net, 'G', 'n4', [...NAMES, 'n4'], new MemRaftStorage(), new Recorder());
      ms.push(n4);
      await until(() => n4.app.normals().length === 10, 8000, 'n4 to catch up');
      await until(() => leader.node.clusterSize === 4, 5000, 'the leader to count four');
      assert.ok(leader.node.peerIds().includes(n4.id));
    } finally {
      stopAll(ms);
    }
  });
});

const CHILD = fileURLToPath(new URL('../fixtures/raft-crash-child.js', import.meta.url));

/** Run the child until killed `delayMs` after it is ready; the highest entry it reported applied. */
function runCrashChild(dir: string, round: number, delayMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(round)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TSNATS_RAFT_CRASH_CHILD: '1' },
    });
    let partial = '';
    let max = -1;
    let err = '';
    let killTimer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      // Only complete lines count: a line cut by the kill was never fully reported.
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready' && killTimer === undefined) {
          killTimer = setTimeout(() => child.kill('SIGKILL'), delayMs);
        } else if (line.startsWith('c ')) {
          max = Math.max(max, Number(line.slice(2)));
        }
      }
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(killTimer);
      if (signal !== 'SIGKILL') return reject(new Error(`child exited on its own: ${err}`));
      resolve(max);
    });
  });
}

describe('Raft on file storage', () => {
  test('leaders killed with entries in flight, in any order: the group always elects again and agrees', async () => {
    // Seeded, so that a failure can be replayed: SEED=<n> in the environment.
    const seed = Number(process.env.SEED ?? Date.now() % 100_000);
    let x = seed;
    const rand = (n: number): number => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x % n;
    };
    const dir = mkdtempSync(join(tmpdir(), 'tsnats-raft-chaos-'));
    const net = new SimNet();
    const start = (name: string): SimMember =>
      startMember(net, 'G', name, NAMES, new FileRaftStorage(join(dir, name)));
    const ms = NAMES.map(start);
    const ticks = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
    };
    try {
      let next = 0;
      const down: number[] = [];
      for (let round = 0; round < 25; round++) {
        const up = ms.filter((_m, i) => !down.includes(i));
        await until(() => leaderOf(up) !== undefined, 8000, `seed ${seed}, round ${round}: a leader`);
        const leader = leaderOf(up)!;
        // A burst of proposals, then the leader dies a few network ticks later: some of the burst is
        // committed, some only replicated, some only in its own log.
        const burst = 1 + rand(12);
        for (let i = 0; i < burst; i++) leader.node.propose(Buffer.from(`e${next++}`));
        await ticks(rand(6));
        leader.node.stop();
        const li = ms.indexOf(leader);
        // Bring back a member that is down (at most one is down at a time, so that two can elect), and
        // the dead leader now or in a later round.
        for (const i of down.splice(0)) ms[i] = start(NAMES[i]!);
        if (rand(2) === 0) ms[li] = start(NAMES[li]!);
        else down.push(li);
      }
      for (const i of down.splice(0)) ms[i] = start(NAMES[i]!);
      await until(() => leaderOf(ms) !== undefined, 8000, `seed ${seed}: a leader at the end`);
      leaderOf(ms)!.node.propose(Buffer.from('last'));
      await until(
        () => ms.every((m) => m.app.normals().includes('last')),
        8000,
        `seed ${seed}: the last entry`,
      );
      const ref = ms[0]!.app.normals();
      for (const m of ms) assert.deepEqual(m.app.normals(), ref, `seed ${seed}: ${m.name} agrees`);
      assert.equal(new Set(ref).size, ref.length, `seed ${seed}: no entry twice`);
    } finally {
      stopAll(ms);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('restart from the write-ahead log after kill -9: nothing committed is lost, the group carries on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsnats-raft-crash-'));
    try {
      for (let round = 0; round < 3; round++) {
        const applied = await runCrashChild(dir, round, 400 + round * 150);
        assert.ok(applied >= 0, `round ${round}: the child committed entries before it was killed`);
        // Restart the three nodes from their directories in this process.
        const net = new SimNet();
        const ms = NAMES.map((n) => startMember(net, 'G', n, NAMES, new FileRaftStorage(join(dir, n))));
        try {
          await until(() => leaderOf(ms) !== undefined, 8000, 'a leader after the restart');
          const leader = leaderOf(ms)!;
          leader.node.propose(Buffer.from(`r${round}`));
          await until(
            () => ms.every((m) => m.app.normals().includes(`r${round}`)),
            8000,
            'a new entry to commit',
          );
          const ref = leader.app.normals();
          for (const m of ms) assert.deepEqual(m.app.normals(), ref, `round ${round}: ${m.name} agrees`);
          // Every entry reported applied before the kill is there, in order, once.
          const es = ref.filter((x) => x.startsWith(`e${round}.`)).map((x) => Number(x.split('.')[1]));
          for (let i = 0; i <= applied; i++)
            assert.equal(es[i], i, `round ${round}: entry e${round}.${i} in place`);
          assert.equal(new Set(es).size, es.length, 'no entry twice');
        } finally {
          stopAll(ms);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
