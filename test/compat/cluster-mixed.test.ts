/**
 * Mixed clusters: tsnats nodes and reference nats-server (2.9) nodes in one mesh, over nats-server's own
 * route protocol. The same client scenarios as the tsnats-only cluster must pass in every direction.
 * Skipped when nats-server is not on the PATH.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  type ClusterNode,
  closeAll,
  connectAll,
  type NodeKind,
  queueExactlyOnce,
  RefNode,
  requestReply,
  sixDirections,
  startCluster,
  stopAll,
  TsNode,
  wildcards,
} from '../helpers/cluster.js';
import { connect as connectRaw } from '../helpers/raw-conn.js';
import { hasReference } from '../helpers/reference.js';

const skip = hasReference() ? false : 'nats-server is not on the PATH';

function mixed(title: string, kinds: NodeKind[]): void {
  describe(title, { skip }, () => {
    let nodes: ClusterNode[];
    let ncs: NatsConnection[];

    before(async () => {
      nodes = await startCluster(kinds, 'mixed');
      ncs = await connectAll(nodes);
    });

    after(async () => {
      await closeAll(ncs ?? []);
      await stopAll(nodes ?? []);
    });

    test('full mesh through gossip across implementations', async () => {
      for (const n of nodes) assert.equal(await n.numRoutes(), nodes.length - 1, n.name);
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

    test('wildcards', async () => {
      const { star, full } = await wildcards(nodes, ncs);
      assert.deepEqual(star.sort(), ['wc.a.x', 'wc.d.x']);
      assert.deepEqual(full.sort(), ['wc.a.x', 'wc.b.y', 'wc.c.x.d', 'wc.d.x']);
    });

    test('request/reply in all six directions', async () => {
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

    test('queue group: 1000 messages from each node, each exactly once', async () => {
      for (let pub = 0; pub < nodes.length; pub++) {
        const members = [0, 1, 2].filter((k) => k !== pub);
        const r = await queueExactlyOnce(nodes, ncs, members, pub, 1000, `q${pub}`);
        assert.equal(r.total, 1000, `from ${nodes[pub]!.name}: ${r.perNode}`);
        assert.equal(r.distinct, 1000);
        for (const k of members) assert.ok(r.perNode[k]! > 0, `${nodes[k]!.name} got some: ${r.perNode}`);
      }
    });
  });
}

mixed('one nats-server (seed) and two tsnats', ['nats-server', 'tsnats', 'tsnats']);
mixed('one tsnats (seed) and two nats-servers', ['tsnats', 'nats-server', 'nats-server']);

describe('route port edge cases, tsnats and nats-server side by side', { skip }, () => {
  let ref: RefNode;
  let ts: TsNode;
  before(async () => {
    ref = await RefNode.start({ name: 'r1', clusterName: 'edge' });
    ts = await TsNode.start({ name: 't1', clusterName: 'edge' });
  });
  after(async () => {
    await stopAll([ref, ts].filter((n) => n !== undefined));
  });

  /** Send `input` to the route port of both and return what each answers after its INFO. */
  async function both(input: string): Promise<[string, string]> {
    const out: string[] = [];
    for (const port of [ref.routePort, ts.routePort]) {
      const raw = await connectRaw(port);
      try {
        raw.send(input);
        out.push((await raw.readUntilClosed(3000)).text);
      } finally {
        raw.close();
      }
    }
    return out as [string, string];
  }

  test('route INFO carries the same fields', async () => {
    const infos: Record<string, unknown>[] = [];
    for (const port of [ref.routePort, ts.routePort]) {
      const raw = await connectRaw(port);
      infos.push(raw.info);
      raw.close();
    }
    const keys = (o: Record<string, unknown>): string[] => Object.keys(o).sort();
    assert.deepEqual(keys(infos[1]!), keys(infos[0]!));
  });

  test('a client CONNECT on the route port', async () => {
    const [r, t] = await both(
      'CONNECT {"verbose":false,"pedantic":false,"lang":"node","version":"1.0.0","protocol":1}\r\nPING\r\n',
    );
    assert.equal(t, r);
    assert.equal(t, "-ERR 'attempted to connect to route port'\r\n");
  });

  test('another cluster name', async () => {
    const [r, t] = await both('CONNECT {"name":"NX","cluster":"other"}\r\n');
    assert.equal(t, r);
  });

  test('garbage after a valid route handshake', async () => {
    const hs =
      'CONNECT {"echo":true,"verbose":false,"pedantic":false,"tls_required":false,"headers":true,"name":"NFAKE","cluster":"edge","lnoc":true}\r\n' +
      'INFO {"server_id":"NFAKE","server_name":"fake","version":"2.9.10","proto":2,"host":"127.0.0.1","port":1,"headers":true,"max_payload":1048576,"cluster":"edge","lnoc":true}\r\n';
    const [r, t] = await both(`${hs}PING\r\ngarbage\r\n`);
    // nats-server also sends its $SYS interest (RS+ $SYS ...), which tsnats does not have.
    const strip = (s: string): string => s.replace(/RS\+ \$SYS [^\r]*\r\n/g, '');
    assert.equal(strip(t), strip(r));
    assert.equal(strip(t), "PONG\r\n-ERR 'Unknown Protocol Operation'\r\n");
  });
});
