/**
 * Clustering between tsnats nodes: three embedded servers meshed over nats-server's route protocol, used
 * by real clients (@nats-io/transport-node) and by raw sockets for the protocol edge cases.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { makeCerts } from '../helpers/certs.js';
import {
  type ClusterNode,
  closeAll,
  connectAll,
  makeRouteCert,
  queueExactlyOnce,
  requestReply,
  sixDirections,
  startTsCluster,
  stopAll,
  TsNode,
  until,
  waitForInterest,
  waitForMesh,
  waitForNoInterest,
  wildcards,
} from '../helpers/cluster.js';
import { connect as connectRaw, type RawConn } from '../helpers/raw-conn.js';
import { waitFor } from '../helpers/wait-for.js';

/** A port that was free a moment ago (for two nodes that must know each other's route port up front). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const l = createServer();
    l.once('error', reject);
    l.listen(0, '127.0.0.1', () => {
      const addr = l.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      l.close(() => resolve(port));
    });
  });
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The next async INFO for which `ok` holds (earlier ones are skipped). */
async function nextInfo(raw: RawConn, ok: (info: { connect_urls?: string[] }) => boolean): Promise<string[]> {
  for (;;) {
    const line = await raw.expect(/INFO (\{.*\}) \r\n/, { take: true, timeoutMs: 5000 });
    const info = JSON.parse(/INFO (\{.*\}) \r\n/.exec(line)![1]!) as { connect_urls?: string[] };
    if (ok(info)) return info.connect_urls ?? [];
  }
}

/** Messages the route of `node` towards `peer` has sent so far. */
function routeOutMsgs(node: TsNode, peer: ClusterNode): number {
  const r = node.server.cluster!.routez().find((x) => x.remoteId === peer.id);
  assert.ok(r, `${node.name} has a route to ${peer.name}`);
  return r.outMsgs;
}

describe('cluster of three tsnats nodes', () => {
  let nodes: TsNode[];
  let ncs: NatsConnection[];

  before(async () => {
    nodes = await startTsCluster(3);
    ncs = await connectAll(nodes);
  });

  after(async () => {
    await closeAll(ncs);
    await stopAll(nodes);
  });

  test('the mesh is full, gossip included: each node has a route to both others', async () => {
    for (const n of nodes) {
      const routes = n.server.cluster!.routez();
      assert.equal(routes.length, 2);
      const peers = routes.map((r) => r.remoteName).sort();
      assert.deepEqual(
        peers,
        nodes
          .filter((x) => x !== n)
          .map((x) => x.name)
          .sort(),
      );
    }
    // n2 and n3 only know the seed n1: their route to each other is implicit (gossip).
    const r23 = nodes[1]!.server.cluster!.routez().find((r) => r.remoteId === nodes[2]!.id)!;
    assert.equal(r23.isConfigured, false);
  });

  test('pub/sub in all six directions', async () => {
    const got = await sixDirections(nodes, ncs);
    assert.deepEqual(got, [
      'dir.0.1:from n1',
      'dir.0.2:from n1',
      'dir.1.0:from n2',
      'dir.1.2:from n2',
      'dir.2.0:from n3',
      'dir.2.1:from n3',
    ]);
  });

  test('wildcard subscriptions across nodes', async () => {
    const { star, full } = await wildcards(nodes, ncs);
    assert.deepEqual(star.sort(), ['wc.a.x', 'wc.d.x']);
    assert.deepEqual(full.sort(), ['wc.a.x', 'wc.b.y', 'wc.c.x.d', 'wc.d.x']);
  });

  test('request/reply across nodes', async () => {
    const answers = await requestReply(nodes, ncs);
    assert.deepEqual(answers.sort(), [
      'n1 -> n2',
      'n1 -> n3',
      'n2 -> n1',
      'n2 -> n3',
      'n3 -> n1',
      'n3 -> n2',
    ]);
  });

  test('queue group across the cluster: each of 1000 messages exactly once', async () => {
    // Members on the other two nodes only: the groups are spread over both routes.
    const remote = await queueExactlyOnce(nodes, ncs, [1, 2], 0, 1000, 'remote');
    assert.equal(remote.total, 1000);
    assert.equal(remote.distinct, 1000);
    assert.ok(remote.perNode[1]! > 0 && remote.perNode[2]! > 0, `both nodes get some: ${remote.perNode}`);
    // Members on every node: the local ones are preferred, still exactly once.
    const all = await queueExactlyOnce(nodes, ncs, [0, 1, 2], 1, 1000, 'all');
    assert.equal(all.total, 1000);
    assert.equal(all.distinct, 1000);
    assert.equal(all.perNode[1], 1000);
  });

  test('queue weights follow the member count', async () => {
    const subject = 'weights';
    const extra = await Promise.all(
      [0, 1, 2].map(() => connect({ servers: nodes[1]!.url, reconnect: false })),
    );
    try {
      for (const c of extra) c.subscribe(subject, { queue: 'w' });
      await Promise.all(extra.map((c) => c.flush()));
      const weight = (): number | undefined => {
        for (const r of nodes[0]!.server.cluster!.routes.values()) {
          if (r.remoteId !== nodes[1]!.id) continue;
          return r.subs.get(`$G ${subject} w`)?.sub.qweight;
        }
        return undefined;
      };
      await waitFor(() => weight() === 3, 5000, 'queue weight 3');
      await extra[0]!.close();
      await waitFor(() => weight() === 2, 5000, 'queue weight 2');
    } finally {
      await closeAll(extra);
    }
    await waitForNoInterest([nodes[0]!], nodes[1]!, subject);
  });

  test('interest is withdrawn on UNSUB and on disconnect: no RMSG after', async () => {
    const [a, b] = [nodes[0]!, nodes[1]!];
    // UNSUB
    const sub = ncs[1]!.subscribe('gone.unsub');
    await ncs[1]!.flush();
    await waitForInterest([a], b, 'gone.unsub');
    sub.unsubscribe();
    await ncs[1]!.flush();
    await waitForNoInterest([a], b, 'gone.unsub');
    let before = routeOutMsgs(a, b);
    for (let i = 0; i < 10; i++) ncs[0]!.publish('gone.unsub');
    await ncs[0]!.flush();
    assert.equal(routeOutMsgs(a, b), before, 'no RMSG once the interest is gone');
    // Disconnect
    const c = await connect({ servers: b.url, reconnect: false });
    c.subscribe('gone.close');
    c.subscribe('gone.close', { queue: 'q' });
    await c.flush();
    await waitForInterest([a], b, 'gone.close');
    before = routeOutMsgs(a, b);
    ncs[0]!.publish('gone.close');
    await ncs[0]!.flush();
    await waitFor(() => routeOutMsgs(a, b) === before + 1, 5000, 'one RMSG while the interest exists');
    await c.close();
    await waitForNoInterest([a], b, 'gone.close');
    before = routeOutMsgs(a, b);
    for (let i = 0; i < 10; i++) ncs[0]!.publish('gone.close');
    await ncs[0]!.flush();
    assert.equal(routeOutMsgs(a, b), before);
  });

  test('one RMSG per route however many subscriptions match there', async () => {
    const [a, b] = [nodes[0]!, nodes[1]!];
    let n = 0;
    const got = until('three copies', 5000, (done) => {
      for (const s of ['multi.x', 'multi.*', 'multi.>']) {
        ncs[1]!.subscribe(s, {
          callback: () => {
            if (++n === 3) done();
          },
        });
      }
    });
    await ncs[1]!.flush();
    await waitForInterest([a], b, 'multi.>');
    await waitForInterest([a], b, 'multi.*');
    await waitForInterest([a], b, 'multi.x');
    const before = routeOutMsgs(a, b);
    ncs[0]!.publish('multi.x');
    await got;
    assert.equal(routeOutMsgs(a, b), before + 1);
  });

  test('headers cross routes (HMSG)', async () => {
    const { headers } = await import('@nats-io/transport-node');
    const got = new Promise<string>((resolve) => {
      ncs[2]!.subscribe('hdr.x', {
        max: 1,
        callback: (_e, m) => resolve(`${m.headers?.get('X-Test')}:${m.string()}`),
      });
    });
    await ncs[2]!.flush();
    await waitForInterest([nodes[0]!], nodes[2]!, 'hdr.x');
    const h = headers();
    h.set('X-Test', 'yes');
    ncs[0]!.publish('hdr.x', 'body', { headers: h });
    assert.equal(await got, 'yes:body');
  });

  test('connect_urls in INFO: every node lists the three client URLs', async () => {
    const urls = nodes.map((n) => `127.0.0.1:${n.clientPort}`).sort();
    for (const n of nodes) {
      const raw = await connectRaw(n.clientPort);
      try {
        assert.deepEqual((raw.info.connect_urls as string[]).slice().sort(), urls);
        assert.equal(raw.info.cluster, 'test');
        // The server's own URL comes first.
        assert.equal((raw.info.connect_urls as string[])[0], `127.0.0.1:${n.clientPort}`);
      } finally {
        raw.close();
      }
    }
  });

  test('/routez data', () => {
    const [r] = nodes[0]!.server.cluster!.routez({ subs: true }).filter((x) => x.remoteId === nodes[1]!.id);
    assert.ok(r);
    assert.equal(r.remoteName, 'n2');
    assert.equal(r.ip, '127.0.0.1');
    assert.ok(r.start instanceof Date);
    assert.ok(r.inMsgs > 0 && r.outMsgs > 0);
    assert.equal(r.subscriptions, r.subscriptionsList?.length ?? 0);
  });
});

describe('cluster membership changes', () => {
  test('a node joining: async INFO with the new connect_urls to clients that sent CONNECT and PING', async () => {
    const nodes: TsNode[] = await startTsCluster(2, 'join');
    const raw = await connectRaw(nodes[0]!.clientPort);
    try {
      assert.equal((raw.info.connect_urls as string[]).length, 2);
      raw.send('CONNECT {"verbose":false,"protocol":1}\r\nPING\r\n');
      await raw.expect('PONG\r\n', { take: true });
      const n3 = await TsNode.start({ name: 'n3', clusterName: 'join', routes: [nodes[0]!.routeUrl] });
      nodes.push(n3);
      const n3url = `127.0.0.1:${n3.clientPort}`;
      const urls = await nextInfo(raw, (i) => (i.connect_urls ?? []).includes(n3url));
      assert.equal(urls.length, 3);
      await waitForMesh(nodes);
      // A node leaving: another async INFO without its URL.
      await n3.stop();
      const left = await nextInfo(raw, (i) => !(i.connect_urls ?? []).includes(n3url));
      assert.equal(left.length, 2);
    } finally {
      raw.close();
      await stopAll(nodes);
    }
  });

  test('a killed node: its clients fail over through connect_urls; the node restarts and the mesh heals', async () => {
    const nodes: TsNode[] = await startTsCluster(3, 'fail');
    const conns: NatsConnection[] = [];
    try {
      // This client knows only n1: the rest of the cluster it learns from connect_urls.
      const x = await connect({
        servers: nodes[0]!.url,
        reconnectTimeWait: 50,
        maxReconnectAttempts: -1,
        reconnectJitter: 0,
      });
      conns.push(x);
      const y = await connect({ servers: nodes[1]!.url, reconnect: false });
      conns.push(y);
      assert.ok(x.info?.connect_urls?.length === 3, JSON.stringify(x.info));
      const received: string[] = [];
      x.subscribe('fail.x', {
        callback: (_e, m) => {
          received.push(m.string());
        },
      });
      await x.flush();
      await waitForInterest([nodes[1]!], nodes[0]!, 'fail.x');
      const reconnected = until('the client to reconnect', 10000, (done) => {
        void (async () => {
          for await (const s of x.status()) if (s.type === 'reconnect') return done();
        })();
      });
      await nodes[0]!.stop();
      await reconnected;
      const now = x.getServer();
      assert.notEqual(now, `127.0.0.1:${nodes[0]!.clientPort}`);
      // Its subscription moved with it: y (on n2) reaches it wherever it landed.
      const landed = nodes.find((n) => `127.0.0.1:${n.clientPort}` === now)!;
      if (landed !== nodes[1]) await waitForInterest([nodes[1]!], landed, 'fail.x');
      const gotIt = waitFor(() => received.includes('after'), 5000, 'the message after failover');
      y.publish('fail.x', 'after');
      await gotIt;
      // And it still publishes.
      const back = new Promise<string>((resolve) => {
        y.subscribe('fail.y', { max: 1, callback: (_e, m) => resolve(m.string()) });
      });
      await y.flush();
      await waitForInterest([landed], nodes[1]!, 'fail.y');
      x.publish('fail.y', 'from x');
      assert.equal(await back, 'from x');
      // n1 comes back on the same ports; n2 and n3 had it configured and reconnect: the mesh heals.
      nodes[0] = await nodes[0]!.restart();
      await waitForMesh(nodes);
      const z = await connect({ servers: nodes[0]!.url, reconnect: false });
      conns.push(z);
      const fromZ = new Promise<string>((resolve) => {
        y.subscribe('heal', { max: 1, callback: (_e, m) => resolve(m.string()) });
      });
      await y.flush();
      await waitForInterest([nodes[0]!], nodes[1]!, 'heal');
      z.publish('heal', 'healed');
      assert.equal(await fromZ, 'healed');
    } finally {
      await closeAll(conns);
      await stopAll(nodes);
    }
  });
});

describe('cluster topology', () => {
  test('two nodes that solicit each other end with one route (duplicate resolution)', async () => {
    const [pa, pb] = await Promise.all([freePort(), freePort()]);
    const a = await TsNode.start({
      name: 'a',
      clusterName: 'dup',
      routePort: pa,
      routes: [`nats://127.0.0.1:${pb}`],
    });
    const b = await TsNode.start({
      name: 'b',
      clusterName: 'dup',
      routePort: pb,
      routes: [`nats://127.0.0.1:${pa}`],
    });
    const conns: NatsConnection[] = [];
    try {
      await waitForMesh([a, b]);
      conns.push(...(await connectAll([a, b])));
      const got = new Promise<string>((resolve) => {
        conns[1]!.subscribe('dup.x', { max: 1, callback: (_e, m) => resolve(m.string()) });
      });
      await conns[1]!.flush();
      await waitForInterest([a], b, 'dup.x');
      conns[0]!.publish('dup.x', 'once');
      assert.equal(await got, 'once');
      assert.equal(await a.numRoutes(), 1);
      assert.equal(await b.numRoutes(), 1);
    } finally {
      await closeAll(conns);
      await stopAll([a, b]);
    }
  });

  test('a route to itself is detected and dropped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsnats-self-'));
    const logFile = join(dir, 'log');
    const port = await freePort();
    const n = await TsNode.start({
      name: 'self',
      clusterName: 'self',
      routePort: port,
      routes: [`nats://127.0.0.1:${port}`],
      config: { noLog: false, debug: true, logFile },
    });
    try {
      const closes = (): number =>
        (readLog(logFile).match(/Router connection closed: Duplicate Route/g) ?? []).length;
      await waitFor(() => closes() === 2, 5000, 'both ends of the self route closed');
      assert.equal(await n.numRoutes(), 0);
    } finally {
      await n.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('no_advertise: no connect_urls for clients', async () => {
    const a = await TsNode.start({ name: 'a', clusterName: 'noadv' });
    const b = await TsNode.start({
      name: 'b',
      clusterName: 'noadv',
      routes: [a.routeUrl],
      cluster: { noAdvertise: true },
    });
    try {
      await waitForMesh([a, b]);
      for (const n of [a, b]) {
        const raw = await connectRaw(n.clientPort);
        assert.equal(raw.info.connect_urls, undefined, n.name);
        raw.close();
      }
      const rinfo = await connectRaw(b.routePort);
      assert.equal(rinfo.info.connect_urls, undefined);
      rinfo.close();
    } finally {
      await stopAll([a, b]);
    }
  });

  test('lame duck mode: the routes are told, the peers stop offering its URL', async () => {
    const a = await TsNode.start({
      name: 'a',
      clusterName: 'ldm',
      config: { lameDuckGracePeriod: 200, lameDuckDuration: 400 },
    });
    const b = await TsNode.start({ name: 'b', clusterName: 'ldm', routes: [a.routeUrl] });
    const onA = await connectRaw(a.clientPort);
    const onB = await connectRaw(b.clientPort);
    try {
      await waitForMesh([a, b]);
      for (const raw of [onA, onB]) {
        raw.send('CONNECT {"verbose":false,"protocol":1}\r\nPING\r\n');
        await raw.expect('PONG\r\n', { take: true });
      }
      const aUrl = `127.0.0.1:${a.clientPort}`;
      const bUrl = `127.0.0.1:${b.clientPort}`;
      const done = a.server.lameDuck();
      // a's clients: INFO with ldm, listing only the other server.
      let info: { ldm?: boolean; connect_urls?: string[] } = {};
      await nextInfo(onA, (i) => {
        info = i;
        return (i as { ldm?: boolean }).ldm === true;
      });
      assert.deepEqual(info.connect_urls, [bUrl]);
      // b's clients: a is no longer offered.
      const urls = await nextInfo(onB, (i) => !(i.connect_urls ?? []).includes(aUrl));
      assert.deepEqual(urls, [bUrl]);
      await done;
    } finally {
      onA.close();
      onB.close();
      await stopAll([a, b]);
    }
  });
});

describe('route protocol edge cases', () => {
  let nodes: TsNode[];
  before(async () => {
    nodes = await startTsCluster(2, 'edge');
  });
  after(async () => {
    await stopAll(nodes);
  });

  test('a plain client on the route port is refused as nats-server refuses it', async () => {
    const raw = await connectRaw(nodes[0]!.routePort);
    try {
      // The route INFO, not the client one.
      assert.equal(raw.info.cluster, 'edge');
      assert.equal(raw.info.proto, 2);
      assert.equal(raw.info.lnoc, true);
      raw.send(
        'CONNECT {"verbose":false,"pedantic":false,"lang":"node","version":"1.0.0","protocol":1}\r\nPING\r\n',
      );
      const r = await raw.readUntilClosed();
      assert.equal(r.text, "-ERR 'attempted to connect to route port'\r\n");
      assert.ok(r.closed);
    } finally {
      raw.close();
    }
    // A real client library fails to connect there too.
    await assert.rejects(connect({ servers: `127.0.0.1:${nodes[0]!.routePort}`, reconnect: false }));
  });

  test('a route peer that sends garbage is closed; clients and the real route are unaffected', async () => {
    const [a, b] = nodes as [TsNode, TsNode];
    const [ca, cb] = await connectAll(nodes);
    try {
      const raw = await connectRaw(a.routePort);
      raw.send(
        'CONNECT {"echo":true,"verbose":false,"pedantic":false,"tls_required":false,"headers":true,"name":"NFAKE","cluster":"edge","lnoc":true}\r\n' +
          'INFO {"server_id":"NFAKE","server_name":"fake","version":"2.9.10","proto":2,"host":"127.0.0.1","port":1,"headers":true,"max_payload":1048576,"cluster":"edge","lnoc":true}\r\n' +
          'RS+ $G fake.interest\r\nPING\r\n',
      );
      await raw.expect('PONG\r\n');
      await waitFor(() => a.server.cluster!.numRoutes() === 2, 5000, 'the fake route registered');
      raw.send('garbage\r\n');
      const r = await raw.readUntilClosed();
      assert.ok(r.closed);
      assert.match(r.text, /-ERR 'Unknown Protocol Operation'\r\n$/);
      await waitFor(() => a.server.cluster!.numRoutes() === 1, 5000, 'the fake route gone');
      // Its interest went with it.
      assert.equal(a.server.globalAccount.sublist.match('fake.interest').psubs.length, 0);
      // The real route and the clients still work.
      const got = new Promise<string>((resolve) => {
        cb!.subscribe('after.garbage', { max: 1, callback: (_e, m) => resolve(m.string()) });
      });
      await cb!.flush();
      await waitForInterest([a], b, 'after.garbage');
      ca!.publish('after.garbage', 'still here');
      assert.equal(await got, 'still here');
    } finally {
      await closeAll([ca!, cb!]);
    }
  });

  test('interest sent to routes is coalesced, and goes out before the messages that follow it', async () => {
    const [a] = nodes as [TsNode, TsNode];
    const fake = await connectRaw(a.routePort);
    const client = await connectRaw(a.clientPort);
    try {
      fake.send(
        'CONNECT {"echo":true,"verbose":false,"pedantic":false,"tls_required":false,"headers":true,"name":"NCOAL","cluster":"edge","lnoc":true}\r\n' +
          'INFO {"server_id":"NCOAL","server_name":"coal","version":"2.9.10","proto":2,"host":"127.0.0.1","port":1,"headers":true,"max_payload":1048576,"cluster":"edge","lnoc":true}\r\n' +
          'RS+ $G coal.req\r\nPING\r\n',
      );
      await fake.expect('PONG\r\n');
      await waitFor(() => a.server.cluster!.numRoutes() === 2, 5000, 'the fake route registered');
      fake.take();
      client.send('CONNECT {"verbose":false,"pedantic":false,"protocol":1}\r\nPING\r\n');
      await client.expect('PONG\r\n');
      // One write: a SUB and its UNSUB, a queue group growing to three members, a reply subject, and a
      // request that the fake route has interest in.
      client.send(
        'SUB coal.gone 1\r\nUNSUB 1\r\n' +
          'SUB coal.q w 2\r\nSUB coal.q w 3\r\nSUB coal.q w 4\r\n' +
          'SUB coal.reply 5\r\nPUB coal.req coal.reply 2\r\nhi\r\nPING\r\n',
      );
      await client.expect('PONG\r\n');
      const got = await fake.expect(/RMSG \$G coal\.req coal\.reply 2\r\nhi\r\n/);
      const before = got.slice(0, got.indexOf('RMSG'));
      assert.doesNotMatch(before, /coal\.gone/, 'a SUB and its UNSUB in one read send nothing');
      assert.deepEqual(
        before.split('\r\n').filter((l) => l.startsWith('RS')),
        ['RS+ $G coal.q w 3', 'RS+ $G coal.reply'],
        'one RS+ for the group with its final weight, and the reply subject before the request',
      );
    } finally {
      client.close();
      fake.close();
      await waitFor(() => a.server.cluster!.numRoutes() === 1, 5000, 'the fake route gone');
    }
  });

  test('route authorization and cluster name mismatch', async () => {
    const secured = await TsNode.start({
      name: 's1',
      clusterName: 'sec',
      cluster: { user: 'ruser', password: 'rpass' },
    });
    const extra: TsNode[] = [secured];
    try {
      assert.equal(secured.server.cluster!.authRequired, true);
      // Wrong credentials: Authorization Violation.
      const raw = await connectRaw(secured.routePort);
      assert.equal(raw.info.auth_required, true);
      raw.send('CONNECT {"user":"ruser","pass":"nope","name":"NX","cluster":"sec"}\r\n');
      const r = await raw.readUntilClosed();
      assert.equal(r.text, "-ERR 'Authorization Violation'\r\n");
      // Right credentials in the route URL: the route forms.
      const good = await TsNode.start({
        name: 's2',
        clusterName: 'sec',
        routes: [`nats://ruser:rpass@127.0.0.1:${secured.routePort}`],
      });
      extra.push(good);
      await waitForMesh([secured, good]);
      // Another cluster name: rejected with nats-server's message.
      const raw2 = await connectRaw(nodes[0]!.routePort);
      raw2.send('CONNECT {"name":"NY","cluster":"other"}\r\n');
      const r2 = await raw2.readUntilClosed();
      assert.equal(r2.text, `-ERR 'Rejecting connection, cluster name "other" does not match "edge"'\r\n`);
    } finally {
      await stopAll(extra);
    }
  });

  test('route TLS: both sides verify; a peer without TLS is refused', async () => {
    const certs = makeCerts();
    const { cert, key } = makeRouteCert(certs.dir);
    const tls = {
      certFile: cert,
      keyFile: key,
      caFile: certs.caCert,
      verify: true,
      verifyAndMap: false,
      timeout: 2000,
    };
    const extra: TsNode[] = [];
    try {
      const t1 = await TsNode.start({ name: 'tls1', clusterName: 'tls', cluster: { tls } });
      extra.push(t1);
      const t2 = await TsNode.start({
        name: 'tls2',
        clusterName: 'tls',
        routes: [t1.routeUrl],
        cluster: { tls },
      });
      extra.push(t2);
      await waitForMesh([t1, t2]);
      const [c1, c2] = await connectAll([t1, t2]);
      try {
        const got = new Promise<string>((resolve) => {
          c2!.subscribe('tls.x', { max: 1, callback: (_e, m) => resolve(m.string()) });
        });
        await c2!.flush();
        await waitForInterest([t1], t2, 'tls.x');
        c1!.publish('tls.x', 'secret');
        assert.equal(await got, 'secret');
      } finally {
        await closeAll([c1!, c2!]);
      }
      // A plain peer never gets an INFO: the route listener expects a TLS handshake and drops it.
      const sock = netConnect({ host: '127.0.0.1', port: t1.routePort });
      const chunks: Buffer[] = [];
      sock.on('data', (d: Buffer) => chunks.push(d));
      sock.on('error', () => {});
      sock.write('CONNECT {"name":"NPLAIN","cluster":"tls"}\r\n');
      await new Promise<void>((resolve) => sock.once('close', () => resolve()));
      assert.ok(!Buffer.concat(chunks).toString('latin1').includes('INFO'));
      assert.equal(await t1.numRoutes(), 1);
    } finally {
      await stopAll(extra);
      certs.cleanup();
    }
  });

  test('a dynamic cluster name adopts the configured one of its peer', async () => {
    const fixed = await TsNode.start({ name: 'f1', clusterName: 'fixed' });
    const dyn = await TsNode.start({ name: 'd1', clusterName: '', routes: [fixed.routeUrl] });
    try {
      await waitForMesh([fixed, dyn], 10000);
      assert.equal(dyn.server.cluster!.clusterName, 'fixed');
    } finally {
      await stopAll([fixed, dyn]);
    }
  });
});
