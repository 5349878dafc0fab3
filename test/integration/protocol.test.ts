/**
 * The client protocol, byte for byte, over raw TCP against an embedded tsnats. Expected bytes are what
 * nats-server 2.9.10 sends for the same input (checked against it; test/compat compares the two live).
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Server, ServerConfig } from '../../src/index.js';
import { VERSION } from '../../src/server/version.js';
import { connect, type RawConn } from '../helpers/raw-conn.js';
import { startServer } from '../helpers/server.js';

const HDR = 'NATS/1.0\r\nA: B\r\n\r\n'; // 18 bytes

let server: Server;
const conns = new Set<RawConn>();

async function open(port = server.port): Promise<RawConn> {
  const c = await connect(port);
  conns.add(c);
  c.closed.then(() => conns.delete(c));
  return c;
}

/** A connection that has sent CONNECT with `opts` (verbose off unless given) and been answered. */
async function ready(opts: Record<string, unknown> = {}, port = server.port): Promise<RawConn> {
  const c = await open(port);
  c.send(`CONNECT ${JSON.stringify({ verbose: false, ...opts })}\r\n`);
  assert.equal(await c.drain(), opts.verbose === true ? '+OK\r\n' : '');
  return c;
}

/** Run `fn` against a server started with `config`, shut down afterwards. */
async function withServer(config: ServerConfig, fn: (s: Server) => Promise<void>): Promise<void> {
  const s = await startServer(config);
  try {
    await fn(s);
  } finally {
    await s.shutdown();
  }
}

/**
 * Assert that the server closed the connection after sending exactly `expected`. With `probe` (the
 * default; for input that ends on a frame boundary) a PING follows, so that a server that stays open
 * answers PONG and the test fails at once instead of waiting for the timeout.
 */
async function expectClose(
  c: RawConn,
  expected: string,
  { probe = true, timeoutMs = 2000 }: { probe?: boolean; timeoutMs?: number } = {},
): Promise<void> {
  if (probe) {
    c.send('PING\r\n');
    await Promise.race([c.closed, c.expect('PONG\r\n', { timeoutMs }).catch(() => {})]);
  }
  const r = await c.readUntilClosed(probe ? 100 : timeoutMs);
  assert.equal(r.text, expected);
  assert.equal(r.closed, true, `expected the server to close the connection; got ${JSON.stringify(r.text)}`);
}

/** The server side of a raw connection (tsnats runs in this process). */
function serverSocketOf(s: Server, c: RawConn): Socket {
  const local = c.socket.localPort;
  for (const client of s.clients.values()) {
    if (client.port === local) return client.socket as Socket;
  }
  throw new Error(`no server-side socket for local port ${local}`);
}

/**
 * Send `parts` so that the server reads each in a read of its own: the next part goes out only once the
 * server's socket has read every byte before it.
 */
async function sendInReads(s: Server, c: RawConn, parts: Buffer[]): Promise<void> {
  const ss = serverSocketOf(s, c);
  const base = ss.bytesRead;
  let sent = 0;
  for (const p of parts) {
    c.send(p);
    sent += p.length;
    const deadline = Date.now() + 2000;
    while (ss.bytesRead - base < sent) {
      if (ss.destroyed || c.isClosed()) throw new Error('connection closed while sending parts');
      if (Date.now() > deadline) throw new Error(`server read ${ss.bytesRead - base} of ${sent} bytes`);
      await new Promise((r) => setImmediate(r));
    }
  }
}

before(async () => {
  server = await startServer();
});

after(async () => {
  for (const c of conns) c.close();
  await server.shutdown();
});

describe('INFO', () => {
  test('is the first line, with nats-server 2.10 fields and version, and a trailing space before CRLF', async () => {
    const c = await open();
    assert.match(c.infoLine, /^INFO \{.*\} \r\n$/);
    const info = c.info;
    assert.match(String(info.server_id), /^N[A-Z2-7]{55}$/, 'server_id is a 56-char server NKey');
    assert.equal(info.server_name, info.server_id, 'server_name defaults to the id');
    assert.equal(info.version, VERSION);
    assert.equal(info.version, '2.10.29');
    assert.equal(info.proto, 1);
    assert.equal(info.host, '127.0.0.1');
    assert.equal(info.port, server.port);
    assert.equal(info.headers, true);
    assert.equal(info.max_payload, 1024 * 1024);
    assert.equal(typeof info.client_id, 'number');
    assert.ok((info.client_id as number) > 0);
    assert.equal(info.client_ip, '127.0.0.1');
    assert.equal(info.auth_required, undefined, 'no auth_required without auth');
    // nats-server's key order (Go struct order), for the keys it sends here.
    const ref = [
      'server_id',
      'server_name',
      'version',
      'proto',
      'go',
      'host',
      'port',
      'headers',
      'max_payload',
      'client_id',
      'client_ip',
    ];
    assert.deepEqual(
      Object.keys(info).filter((k) => ref.includes(k)),
      ref,
    );
    // Nothing arrives after INFO until the client speaks.
    assert.equal(await c.drain(), '');
  });

  test('client ids increase per connection; server_name, max_payload and auth_required follow config', async () => {
    const a = await open();
    const b = await open();
    assert.ok((b.info.client_id as number) > (a.info.client_id as number));
    await withServer({ serverName: 'srv-x', maxPayload: 512, user: 'u', password: 'p' }, async (s) => {
      const c = await open(s.port);
      assert.equal(c.info.server_name, 'srv-x');
      assert.equal(c.info.max_payload, 512);
      assert.equal(c.info.auth_required, true);
      c.close();
    });
  });
});

describe('CONNECT, PING', () => {
  test('CONNECT {} is verbose: +OK', async () => {
    const c = await open();
    c.send('CONNECT {}\r\n');
    assert.equal(await c.drain(), '+OK\r\n');
  });

  test('CONNECT {"verbose":false} answers nothing', async () => {
    const c = await open();
    c.send('CONNECT {"verbose":false}\r\n');
    assert.equal(await c.drain(), '');
  });

  test('PING -> PONG, before and after CONNECT', async () => {
    const c = await open();
    c.send('PING\r\n');
    await c.expect('PONG\r\n', { take: true });
    c.send('CONNECT {"verbose":false}\r\nPING\r\nPING\r\n');
    assert.equal(await c.drain(), 'PONG\r\nPONG\r\n');
  });

  test('a second CONNECT is accepted again', async () => {
    const c = await open();
    c.send('CONNECT {}\r\nCONNECT {}\r\n');
    assert.equal(await c.drain(), '+OK\r\n+OK\r\n');
  });

  test('+OK and PONG from the client are accepted silently; text after PING is ignored', async () => {
    const c = await open();
    c.send('+OK\r\nPONG\r\nPING foo bar\r\n');
    assert.equal(await c.drain(), 'PONG\r\n');
  });
});

describe('telnet style input', () => {
  test('bare-LF lines, lower and mixed case ops, tabs as separators', async () => {
    const c = await open();
    c.send('ping\n');
    await c.expect('PONG\r\n', { take: true });
    c.send('sub foo 1\n');
    await c.expect('+OK\r\n', { take: true });
    c.send('pUb\tfoo\t\t5\nhello\r\n');
    assert.equal(await c.drain(), '+OK\r\nMSG foo 1 5\r\nhello\r\n');
    c.send('Sub\tbar  2\r\nPuB bar 2\r\nhi\r\nuNsUb 2\n');
    assert.equal(await c.drain(), '+OK\r\n+OK\r\nMSG bar 2 2\r\nhi\r\n+OK\r\n');
  });

  test('a payload ended by a bare LF is a protocol error (the payload must end in CRLF)', async () => {
    const c = await open();
    c.send('sub foo 1\npub foo 5\nhello\n');
    await expectClose(c, "+OK\r\n-ERR 'Unknown Protocol Operation'\r\n");
  });
});

describe('SUB / PUB / MSG', () => {
  test('MSG with and without reply, multiple spaces, empty payload', async () => {
    const c = await ready();
    c.send('SUB foo 1\r\nPUB foo 5\r\nhello\r\nPUB   foo   bar   3\r\nabc\r\nPUB foo 0\r\n\r\n');
    assert.equal(await c.drain(), 'MSG foo 1 5\r\nhello\r\nMSG foo 1 bar 3\r\nabc\r\nMSG foo 1 0\r\n\r\n');
  });

  test('verbose acknowledges SUB, PUB and UNSUB', async () => {
    const c = await open();
    c.send('SUB foo 1\r\nPUB foo 2\r\nhi\r\nUNSUB 1\r\nPUB foo 2\r\nhi\r\n');
    assert.equal(await c.drain(), '+OK\r\n+OK\r\nMSG foo 1 2\r\nhi\r\n+OK\r\n+OK\r\n');
  });

  test('binary payload with CRLF and NUL inside arrives unchanged', async () => {
    const c = await ready();
    const payload = Buffer.from([0, 13, 10, 255, 13, 10, 13, 10, 1, 0x80]);
    c.send('SUB bin 9\r\n');
    c.send(Buffer.concat([Buffer.from(`PUB bin ${payload.length}\r\n`), payload, Buffer.from('\r\n')]));
    const out = Buffer.from(await c.drain(), 'latin1');
    assert.deepEqual(
      out,
      Buffer.concat([Buffer.from(`MSG bin 9 ${payload.length}\r\n`), payload, Buffer.from('\r\n')]),
    );
  });

  test('wildcard subscriptions get the literal subject, in nats-server sublist order', async () => {
    const c = await ready();
    c.send('SUB foo.* 1\r\nSUB foo.> 2\r\nPUB foo.bar.baz 1\r\nx\r\nPUB foo.bar 1\r\ny\r\n');
    assert.equal(
      await c.drain(),
      'MSG foo.bar.baz 2 1\r\nx\r\nMSG foo.bar 2 1\r\ny\r\nMSG foo.bar 1 1\r\ny\r\n',
    );
  });

  test('messages go to subscribers on other connections', async () => {
    const sub = await ready();
    const pub = await ready();
    sub.send('SUB a.b 7\r\n');
    assert.equal(await sub.drain(), '');
    pub.send('PUB a.b r.1 5\r\nhello\r\n');
    assert.equal(await pub.drain(), '');
    assert.equal(await sub.drain(), 'MSG a.b 7 r.1 5\r\nhello\r\n');
  });

  test('a queue subscriber gets the payload (not other bytes of the read)', async () => {
    const c = await ready();
    c.send('SUB foo q 1\r\nPUB foo 5\r\nhello\r\n');
    assert.equal(await c.drain(), 'MSG foo 1 5\r\nhello\r\n');
  });

  test('queue group: one member of the group gets each message; plain subs get all', async () => {
    const a = await ready();
    const b = await ready();
    const p = await ready();
    a.send('SUB work g 1\r\nSUB work 9\r\n');
    b.send('SUB work g 2\r\n');
    assert.equal(await a.drain(), '');
    assert.equal(await b.drain(), '');
    const n = 20;
    for (let i = 0; i < n; i++) p.send(`PUB work 2\r\n${String(i).padStart(2, '0')}\r\n`);
    assert.equal(await p.drain(), '');
    const outA = await a.drain();
    const outB = await b.drain();
    const plain = outA.match(/MSG work 9 2\r\n\d\d\r\n/g) ?? [];
    const qa = outA.match(/MSG work 1 2\r\n\d\d\r\n/g) ?? [];
    const qb = outB.match(/MSG work 2 2\r\n\d\d\r\n/g) ?? [];
    assert.equal(plain.length, n, 'the plain subscription gets every message');
    assert.equal(qa.length + qb.length, n, 'the queue group gets each message once');
    const payloads = [...qa, ...qb].map((m) => m.slice(-4, -2)).sort();
    assert.deepEqual(
      payloads,
      Array.from({ length: n }, (_, i) => String(i).padStart(2, '0')),
    );
  });

  test('same sid twice keeps the first subscription', async () => {
    const c = await open();
    c.send('SUB foo 1\r\nSUB bar 1\r\nPUB bar 1\r\na\r\nPUB foo 1\r\nb\r\n');
    assert.equal(await c.drain(), '+OK\r\n+OK\r\n+OK\r\n+OK\r\nMSG foo 1 1\r\nb\r\n');
  });

  test('echo:false: own messages are not delivered back', async () => {
    const c = await ready({ echo: false });
    const other = await ready();
    c.send('SUB foo 1\r\nPUB foo 2\r\nme\r\n');
    assert.equal(await c.drain(), '');
    other.send('PUB foo 2\r\nyo\r\n');
    assert.equal(await other.drain(), '');
    assert.equal(await c.drain(), 'MSG foo 1 2\r\nyo\r\n');
  });
});

describe('UNSUB', () => {
  test('UNSUB with max auto-unsubscribes after N messages', async () => {
    const c = await ready();
    c.send('SUB foo 1\r\nUNSUB 1 2\r\n');
    for (const p of 'abc') c.send(`PUB foo 1\r\n${p}\r\n`);
    assert.equal(await c.drain(), 'MSG foo 1 1\r\na\r\nMSG foo 1 1\r\nb\r\n');
  });

  test('UNSUB max at or below what was already delivered unsubscribes at once', async () => {
    const c = await ready();
    c.send('SUB foo 1\r\nPUB foo 1\r\na\r\nPUB foo 1\r\nb\r\nUNSUB 1 1\r\nPUB foo 1\r\nc\r\n');
    assert.equal(await c.drain(), 'MSG foo 1 1\r\na\r\nMSG foo 1 1\r\nb\r\n');
  });

  test('UNSUB of an unknown sid is acknowledged; bad max unsubscribes', async () => {
    const c = await open();
    c.send('UNSUB 99\r\nSUB foo 1\r\nUNSUB 1 x\r\nPUB foo 1\r\na\r\n');
    assert.equal(await c.drain(), '+OK\r\n+OK\r\n+OK\r\n+OK\r\n');
  });
});

describe('headers', () => {
  test('HPUB -> HMSG for a subscriber with headers:true', async () => {
    const c = await ready({ headers: true });
    c.send(`SUB foo 1\r\nHPUB foo reply 18 23\r\n${HDR}hello\r\n`);
    assert.equal(await c.drain(), `HMSG foo 1 reply 18 23\r\n${HDR}hello\r\n`);
  });

  test('HPUB to a subscriber without headers arrives as MSG without the header', async () => {
    const pub = await ready({ headers: true });
    const sub = await ready();
    sub.send('SUB foo 3\r\n');
    assert.equal(await sub.drain(), '');
    pub.send(`HPUB foo 18 23\r\n${HDR}hello\r\n`);
    assert.equal(await pub.drain(), '');
    assert.equal(await sub.drain(), 'MSG foo 3 5\r\nhello\r\n');
  });

  test('HPUB with a zero header size arrives as MSG, even to a headers subscriber', async () => {
    const c = await ready({ headers: true });
    c.send('SUB foo 1\r\nHPUB foo 0 5\r\nhello\r\n');
    assert.equal(await c.drain(), 'MSG foo 1 5\r\nhello\r\n');
  });

  test('HPUB without headers:true closes the connection silently', async () => {
    const c = await open();
    c.send(`HPUB foo 18 23\r\n${HDR}hello\r\n`);
    await expectClose(c, '');
  });

  test('no_responders: a request nobody listens to gets a 503 status HMSG', async () => {
    const c = await ready({ headers: true, no_responders: true });
    c.send('SUB _INBOX.x 5\r\nPUB nobody _INBOX.x 2\r\nhi\r\n');
    assert.equal(await c.drain(), 'HMSG _INBOX.x 5 16 16\r\nNATS/1.0 503\r\n\r\n\r\n');
  });

  test('no_responders without headers support is refused', async () => {
    const c = await open();
    c.send('CONNECT {"no_responders":true}\r\n');
    await expectClose(c, "-ERR 'no responders requires headers support'\r\n");
  });
});

describe('errors', () => {
  test("unknown op: -ERR 'Unknown Protocol Operation' and close", async () => {
    const c = await open();
    c.send('FOO\r\n');
    await expectClose(c, "-ERR 'Unknown Protocol Operation'\r\n");
  });

  test('empty line and leading whitespace are unknown ops', async () => {
    for (const input of ['\r\n', ' PING\r\n', '\tPING\r\n']) {
      const c = await open();
      c.send(input);
      await expectClose(c, "-ERR 'Unknown Protocol Operation'\r\n");
    }
  });

  test('payload length mismatch is a protocol error', async () => {
    const c = await open();
    c.send('PUB foo 3\r\nhello\r\n');
    await expectClose(c, "-ERR 'Unknown Protocol Operation'\r\n");
  });

  test('malformed PUB/SUB/UNSUB arguments close without -ERR', async () => {
    for (const input of [
      'PUB foo bar\r\n',
      'PUB foo -1\r\n',
      'PUB foo 1234567890\r\n',
      'SUB foo\r\n',
      'SUB a b c d\r\n',
      'UNSUB 1 2 3\r\n',
    ]) {
      const c = await open();
      c.send(input);
      await expectClose(c, '');
    }
  });

  test('bad CONNECT JSON closes without -ERR', async () => {
    for (const input of ['CONNECT {bad json}\r\n', 'CONNECT {"verbose":"yes"}\r\n', 'CONNECT\r\n']) {
      const c = await open();
      c.send(input);
      await expectClose(c, '');
    }
  });

  test("-ERR 'Maximum Payload Violation' and close", async () => {
    await withServer({ maxPayload: 8 }, async (s) => {
      const ok = await open(s.port);
      ok.send('PUB foo 8\r\n12345678\r\n');
      assert.equal(await ok.drain(), '+OK\r\n');
      const c = await open(s.port);
      c.send('PUB foo 9\r\n123456789\r\n');
      await expectClose(c, "-ERR 'Maximum Payload Violation'\r\n");
    });
  });

  test("-ERR 'maximum control line exceeded' and close", async () => {
    await withServer({ maxControlLine: 64 }, async (s) => {
      const ok = await open(s.port);
      ok.send(`SUB ${'a'.repeat(58)} 1\r\n`); // 62 bytes
      assert.equal(await ok.drain(), '+OK\r\n');
      const c = await open(s.port);
      c.send(`SUB ${'a'.repeat(70)} 1\r\n`);
      await expectClose(c, "-ERR 'maximum control line exceeded'\r\n");
    });
  });

  test('a control line without a newline is cut off at max_control_line', async () => {
    await withServer({ maxControlLine: 64 }, async (s) => {
      const c = await open(s.port);
      c.send(`PUB ${'a'.repeat(100)}`);
      await expectClose(c, "-ERR 'maximum control line exceeded'\r\n", { probe: false });
    });
  });

  test("-ERR 'Invalid Subject' keeps the connection open", async () => {
    const c = await open();
    c.send('SUB foo..bar 1\r\nSUB foo.>.bar 2\r\nSUB foo 3\r\n');
    assert.equal(await c.drain(), "-ERR 'Invalid Subject'\r\n-ERR 'Invalid Subject'\r\n+OK\r\n");
  });

  test("pedantic: -ERR 'Invalid Publish Subject', stays open, and the message is still delivered", async () => {
    const c = await ready({ pedantic: true });
    c.send('SUB > 1\r\nPUB foo.* 1\r\na\r\n');
    assert.equal(await c.drain(), "-ERR 'Invalid Publish Subject'\r\nMSG foo.* 1 1\r\na\r\n");
    const np = await ready({ pedantic: false });
    np.send('SUB > 1\r\nPUB foo.* 1\r\nb\r\n');
    assert.equal(await np.drain(), 'MSG foo.* 1 1\r\nb\r\n');
  });

  test("pedantic: a PUB whose payload is in a later read gets 'Invalid Publish Subject' twice", async () => {
    // nats-server re-runs processPub (clonePubArg) when a payload is split from its control line.
    const c = await ready({ pedantic: true });
    c.send('PUB foo.. 2\r\nh');
    await c.expect("-ERR 'Invalid Publish Subject'\r\n");
    c.send('i\r\n');
    assert.equal(await c.drain(), "-ERR 'Invalid Publish Subject'\r\n-ERR 'Invalid Publish Subject'\r\n");
  });

  test("-ERR 'maximum connections exceeded' after INFO, and close", async () => {
    await withServer({ maxConnections: 1 }, async (s) => {
      const first = await open(s.port);
      assert.equal(await first.drain(), '');
      const c = await open(s.port);
      await expectClose(c, "-ERR 'maximum connections exceeded'\r\n", { probe: false });
      first.send('PING\r\n');
      await first.expect('PONG\r\n');
    });
  });

  test("-ERR 'maximum subscriptions exceeded' keeps the connection open", async () => {
    await withServer({ maxSubscriptions: 1 }, async (s) => {
      const c = await open(s.port);
      c.send('SUB foo 1\r\nSUB bar 2\r\nPUB bar 1\r\na\r\nPUB foo 1\r\nb\r\n');
      assert.equal(
        await c.drain(),
        "+OK\r\n-ERR 'maximum subscriptions exceeded'\r\n+OK\r\n+OK\r\nMSG foo 1 1\r\nb\r\n",
      );
    });
  });

  test("-ERR 'Stale Connection' when PINGs go unanswered", async () => {
    await withServer({ pingInterval: 100, pingMax: 1 }, async (s) => {
      const c = await open(s.port);
      await expectClose(c, "PING\r\n-ERR 'Stale Connection'\r\n", { probe: false });
    });
  });

  test('answering PINGs keeps the connection alive', async () => {
    await withServer({ pingInterval: 50, pingMax: 1 }, async (s) => {
      const c = await open(s.port);
      for (let i = 0; i < 3; i++) {
        await c.expect('PING\r\n', { take: true });
        c.send('PONG\r\n');
      }
      assert.equal(c.isClosed(), false);
    });
  });

  test("-ERR 'Authorization Violation': wrong password, and any op before CONNECT", async () => {
    await withServer({ user: 'a', password: 'b' }, async (s) => {
      const bad = await open(s.port);
      assert.equal(bad.info.auth_required, true);
      bad.send('CONNECT {"user":"a","pass":"x"}\r\n');
      await expectClose(bad, "-ERR 'Authorization Violation'\r\n", { probe: false });
      for (const input of ['PUB foo 1\r\na\r\n', 'PING\r\n', 'SUB foo 1\r\n']) {
        const c = await open(s.port);
        c.send(input);
        await expectClose(c, "-ERR 'Authorization Violation'\r\n", { probe: false });
      }
      const good = await open(s.port);
      good.send('connect {"user":"a","pass":"b"}\r\nPING\r\n');
      assert.equal(await good.drain(), '+OK\r\nPONG\r\n');
    });
  });

  test("-ERR 'Authentication Timeout' when CONNECT does not come in time", async () => {
    await withServer({ user: 'a', password: 'b', authTimeout: 200 }, async (s) => {
      const c = await open(s.port);
      const t0 = Date.now();
      await expectClose(c, "-ERR 'Authentication Timeout'\r\n", { probe: false });
      assert.ok(Date.now() - t0 >= 150, 'not before the timeout');
    });
  });

  test("-ERR 'invalid client protocol' for protocol 2", async () => {
    const c = await open();
    c.send('CONNECT {"protocol":2}\r\n');
    await expectClose(c, "-ERR 'invalid client protocol'\r\n");
  });

  test('-ERR from a client closes the connection (nats-server processErr)', async () => {
    const c = await open();
    c.send("-ERR 'x'\r\n");
    await expectClose(c, '');
  });
});

describe('nats-server details (what 2.9.10 sends for odd but legal input)', () => {
  test('MSG repeats the size digits as the publisher sent them', async () => {
    const c = await ready();
    c.send('SUB foo 1\r\nPUB foo 05\r\nhello\r\nPUB foo r 00\r\n\r\n');
    assert.equal(await c.drain(), 'MSG foo 1 05\r\nhello\r\nMSG foo 1 r 00\r\n\r\n');
  });

  test('HMSG repeats both size fields as the publisher sent them', async () => {
    const c = await ready({ headers: true });
    c.send(`SUB foo 1\r\nHPUB foo 012 0017\r\nNATS/1.0\r\n\r\nhello\r\n`);
    assert.equal(await c.drain(), 'HMSG foo 1 012 0017\r\nNATS/1.0\r\n\r\nhello\r\n');
  });

  test('a bare CR inside a PUB line is not a separator: it stays in the subject', async () => {
    const c = await ready();
    c.send('SUB > 1\r\nPUB fo\ro 1\r\na\r\n');
    assert.equal(await c.drain(), 'MSG fo\ro 1 1\r\na\r\n');
  });

  test('a bare CR inside the PUB size makes it invalid: silent close', async () => {
    const c = await open();
    c.send('PUB foo bar\r1\r\na\r\n');
    await expectClose(c, '');
  });

  test('INFO from a client must be valid JSON for the Info struct, else silent close', async () => {
    for (const input of ['INFO {bad}\r\n', 'INFO\r\n', 'INFO []\r\n', 'INFO {"server_id":1}\r\n']) {
      const c = await open();
      c.send(input);
      await expectClose(c, '');
    }
    const ok = await open();
    ok.send('INFO {"foo":1}\r\nINFO null\r\n');
    assert.equal(await ok.drain(), '');
  });

  test('CONNECT is decoded like Go encoding/json', async () => {
    // Field names match case-insensitively.
    for (const input of ['CONNECT {"VERBOSE":false}\r\n', 'CONNECT {"Verbose":false}\r\n']) {
      const c = await open();
      c.send(input);
      assert.equal(await c.drain(), '', input);
    }
    // null decodes to nothing: the defaults stay (verbose).
    const n = await open();
    n.send('CONNECT null\r\n');
    assert.equal(await n.drain(), '+OK\r\n');
    // An int field takes only integer literals that fit: anything else is a decode error (silent close).
    for (const input of [
      'CONNECT {"protocol":1.0}\r\n',
      'CONNECT {"protocol":1e0}\r\n',
      'CONNECT {"protocol":99999999999999999999}\r\n',
    ]) {
      const c = await open();
      c.send(input);
      await expectClose(c, '');
    }
  });
});

describe('frames split across reads', () => {
  // Every op kind, a reply, headers, a payload holding CRLF, an auto-unsubscribe.
  const script =
    'CONNECT {"verbose":false,"headers":true}\r\n' +
    'SUB foo 1\r\n' +
    'sub\tbar 2\r\n' +
    'PUB foo reply 5\r\nhello\r\n' +
    `HPUB bar 18 20\r\n${HDR}hi\r\n` +
    'PUB foo 4\r\n\r\n\r\n\r\n' +
    'UNSUB 1 3\r\n' +
    'PUB foo 1\r\nx\r\n' +
    'PUB foo 1\r\ny\r\n' +
    'ping\n';
  const expected =
    'MSG foo 1 reply 5\r\nhello\r\n' +
    `HMSG bar 2 18 20\r\n${HDR}hi\r\n` +
    'MSG foo 1 4\r\n\r\n\r\n\r\n' +
    'MSG foo 1 1\r\nx\r\n' +
    'PONG\r\n';
  const bytes = Buffer.from(script, 'latin1');

  async function runParts(parts: Buffer[]): Promise<void> {
    const c = await open();
    try {
      await sendInReads(server, c, parts);
      assert.equal(await c.drain(), expected, `parts: ${JSON.stringify(parts.map((p) => p.length))}`);
    } finally {
      c.close();
    }
  }

  test('in one read', async () => {
    await runParts([bytes]);
  });

  test('split in two at every offset', async () => {
    for (let k = 1; k < bytes.length; k++) await runParts([bytes.subarray(0, k), bytes.subarray(k)]);
  });

  test('one byte per read', async () => {
    await runParts(Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)));
  });

  test('random chunks (seeded)', async () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 40; round++) {
      const parts: Buffer[] = [];
      for (let i = 0; i < bytes.length; ) {
        const n = 1 + rnd(12);
        parts.push(bytes.subarray(i, i + n));
        i += n;
      }
      await runParts(parts);
    }
  });

  test('errors are found in split input too', async () => {
    const bad = Buffer.from('SUB foo 1\r\nPUB foo 3\r\nhello\r\n');
    for (let k = 1; k < bad.length; k++) {
      const c = await open();
      try {
        const ss = serverSocketOf(server, c);
        c.send(bad.subarray(0, k));
        const deadline = Date.now() + 2000;
        while (ss.bytesRead < k && !c.isClosed() && Date.now() < deadline) {
          await new Promise((r) => setImmediate(r));
        }
        c.send(bad.subarray(k));
        await expectClose(c, "+OK\r\n-ERR 'Unknown Protocol Operation'\r\n");
      } finally {
        c.close();
      }
    }
  });
});

describe('subscription storms', () => {
  test('a connection sending thousands of SUB/UNSUB at once waits its turns, in order, losing nothing', async () => {
    const storm = await ready();
    const other = await ready();
    // 5,000 subscriptions, each followed by a message to it, then the UNSUB of the previous one; the
    // server takes this over many loop iterations, so the order must survive the pauses.
    const n = 5000;
    let input = '';
    for (let i = 1; i <= n; i++) {
      input += `SUB s.${i} ${i}\r\nPUB s.${i} ${String(i).length}\r\n${i}\r\n`;
      if (i > 1) input += `UNSUB ${i - 1}\r\n`;
    }
    storm.send(input);
    // Meanwhile another connection is answered.
    other.send('PING\r\n');
    await other.expect('PONG\r\n');
    const out = await storm.drain(20_000);
    const msgs = out.match(/MSG s\.(\d+) (\d+) \d+\r\n(\d+)\r\n/g) ?? [];
    assert.equal(msgs.length, n, 'every message reached its subscription');
    const order = msgs.map((m) => Number(/MSG s\.(\d+)/.exec(m)![1]));
    assert.deepEqual(
      order,
      Array.from({ length: n }, (_, i) => i + 1),
    );
    const client = [...server.clients.values()].find((c) => c.port === storm.socket.localPort);
    assert.equal(client?.subs.size, 1, 'only the last subscription is left');
    storm.close();
    other.close();
  });
});
