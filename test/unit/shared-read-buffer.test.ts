/**
 * Plain TCP connections read into one shared buffer (src/server/read-buffers.ts), through the internal
 * properties behind net.Socket's `onread` option, on real sockets accepted by a Node server: the bytes
 * arrive whole and in order, each read is a view of the shared buffer, end of input and pause/resume
 * still work, and a socket that already holds buffered input is left on 'data' events.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { inSharedReadBuffer, useSharedReadBuffer } from '../../src/server/read-buffers.js';

describe('the shared read buffer on accepted sockets', () => {
  let server: Server;
  let port = 0;
  const accepted: Socket[] = [];
  const waiting: ((s: Socket) => void)[] = [];

  before(async () => {
    server = createServer((s) => {
      const w = waiting.shift();
      if (w !== undefined) w(s);
      else accepted.push(s);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as { port: number }).port;
  });

  after(() => {
    server.close();
  });

  /** A client socket and the server's side of it. */
  async function pair(): Promise<{ client: Socket; served: Socket }> {
    const served = new Promise<Socket>((resolve) => {
      const s = accepted.shift();
      if (s !== undefined) resolve(s);
      else waiting.push(resolve);
    });
    const { connect } = await import('node:net');
    const client = connect(port, '127.0.0.1');
    await once(client, 'connect');
    return { client, served: await served };
  }

  test('reads arrive whole and in order, each in the shared buffer, and the end is seen', async () => {
    const { client, served } = await pair();
    const got: Buffer[] = [];
    let allShared = true;
    const onRead = (b: Buffer): void => {
      if (!inSharedReadBuffer(b)) allShared = false;
      got.push(Buffer.from(b));
    };
    assert.equal(useSharedReadBuffer(served, onRead), true, 'the socket qualifies');
    let dataEvents = 0;
    served.on('data', () => dataEvents++);
    const ended = once(served, 'end');
    // 3 MB in distinct 1 KB blocks, so that a read overwritten by the next would show.
    const blocks = Array.from({ length: 3000 }, (_, i) => Buffer.alloc(1000, i % 251));
    for (const b of blocks) client.write(b);
    client.end();
    await ended;
    assert.ok(allShared, 'every read is a view of the shared buffer');
    assert.equal(dataEvents, 0, "no 'data' events");
    assert.ok(got.length > 1, `${got.length} reads`);
    assert.ok(Buffer.concat(got).equals(Buffer.concat(blocks)), 'the bytes, whole and in order');
    served.destroy();
  });

  test('pause stops the reads and resume starts them again', async () => {
    const { client, served } = await pair();
    let n = 0;
    useSharedReadBuffer(served, (b) => {
      n += b.length;
    });
    client.write(Buffer.alloc(10, 1));
    while (n < 10) await new Promise((r) => setImmediate(r));
    served.pause();
    client.write(Buffer.alloc(10, 2));
    // The bytes reach the server's kernel buffer; a paused socket does not read them.
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(n, 10, 'nothing read while paused');
    served.resume();
    while (n < 20) await new Promise((r) => setImmediate(r));
    assert.equal(n, 20);
    client.destroy();
    served.destroy();
  });

  test('a socket with input already buffered, or paused, stays on data events', async () => {
    const { client, served } = await pair();
    served.pause();
    client.write('held');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(
      useSharedReadBuffer(served, () => {}),
      false,
    );
    const data = once(served, 'data');
    served.resume();
    const [first] = (await data) as [Buffer];
    assert.equal(first.toString(), 'held');
    assert.equal(inSharedReadBuffer(first), false);
    client.destroy();
    served.destroy();
  });
});
