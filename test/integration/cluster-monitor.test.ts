import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { stopAll, TsNode, waitForInterest, waitForMesh } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait-for.js';

test('/routez and /varz report the routes, their interest and traffic', async () => {
  const a = await TsNode.start({ name: 'a', config: { httpPort: -1 } });
  const b = await TsNode.start({ name: 'b', routes: [a.routeUrl] });
  try {
    await waitForMesh([a, b]);
    const nb = await connect({ servers: b.url });
    const got: string[] = [];
    nb.subscribe('metrics.x', {
      callback: (_e, m) => {
        got.push(m.string());
      },
    });
    await nb.flush();
    await waitForInterest([a], b, 'metrics.x');
    const na = await connect({ servers: a.url });
    for (let i = 0; i < 5; i++) na.publish('metrics.x', 'hello');
    await na.flush();
    // Wait for delivery on b before reading counters.
    await waitFor(() => got.length === 5, 5000, 'delivery on b');
    const base = a.server.monitor!.url;
    const routez = (await (await fetch(`${base}/routez?subs=1`)).json()) as {
      num_routes: number;
      routes: {
        remote_id: string;
        out_msgs: number;
        out_bytes: number;
        subscriptions_list: string[];
        did_solicit: boolean;
      }[];
    };
    assert.equal(routez.num_routes, 1);
    const r = routez.routes[0]!;
    assert.equal(r.remote_id, b.id);
    assert.equal(r.did_solicit, false);
    assert.equal(r.out_msgs, 5);
    assert.equal(r.out_bytes, 25);
    assert.ok(r.subscriptions_list.includes('metrics.x'), JSON.stringify(r.subscriptions_list));
    const varz = (await (await fetch(`${base}/varz`)).json()) as {
      routes: number;
      cluster: { name?: string };
    };
    assert.equal(varz.routes, 1);
    assert.equal(varz.cluster.name, 'test');
    await na.close();
    await nb.close();
  } finally {
    await stopAll([a, b]);
  }
});
