import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { startServer } from '../helpers/server.js';

test('lame duck: clients are told (ldm), closed, and move to another server', async () => {
  const a = await startServer({ lameDuckGracePeriod: 50, lameDuckDuration: 300 });
  const b = await startServer();
  try {
    const nc = await connect({
      servers: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`],
      noRandomize: true,
      reconnectTimeWait: 50,
    });
    assert.equal(nc.info?.port, a.port);
    const seen: string[] = [];
    const reconnected = (async () => {
      for await (const s of nc.status()) {
        seen.push(s.type);
        if (s.type === 'reconnect') return;
      }
    })();
    await a.lameDuck();
    await reconnected;
    assert.ok(seen.includes('ldm'), `status events: ${seen.join(',')}`);
    assert.equal(nc.info?.port, b.port);
    // The client works on the new server.
    const sub = nc.subscribe('after', { max: 1 });
    nc.publish('after', 'ok');
    for await (const m of sub) assert.equal(m.string(), 'ok');
    await nc.close();
    assert.equal(a.clients.size, 0);
  } finally {
    await a.shutdown();
    await b.shutdown();
  }
});
