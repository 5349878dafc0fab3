/**
 * Serves the browser example: `index.html` and the NATS websocket client bundle (nats.ws) on
 * http://127.0.0.1:8000, and answers the page's `demo.time` requests from Node over TCP.
 *
 *   npm run build
 *   ./bin/tsnats -c examples/browser/websocket.conf &
 *   node dist/examples/browser/serve.js       # then open http://127.0.0.1:8000
 *
 * PORT changes the page's port, NATS_URL the server the responder uses (default nats://127.0.0.1:4222);
 * the page connects to ws://<page host>:8080 unless given `?server=ws://host:port`.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { connect } from '@nats-io/transport-node';

/** dist/examples/browser/ -> examples/browser/ of the checkout. */
const PAGE = fileURLToPath(new URL('../../../examples/browser/index.html', import.meta.url));
/** The browser (ES module) build of nats.ws. */
const CLIENT = join(dirname(createRequire(import.meta.url).resolve('nats.ws')), '../esm/nats.js');

/** An HTTP server for the page and the client bundle, listening on `port` (0: any) of `host`. */
export async function servePage(port: number, host = '127.0.0.1'): Promise<Server> {
  const files: Record<string, [string, Buffer]> = {
    '/': ['text/html; charset=utf-8', readFileSync(PAGE)],
    '/nats.js': ['text/javascript; charset=utf-8', readFileSync(CLIENT)],
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = files[path === '/index.html' ? '/' : path];
    if (file === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': file[0], 'Cache-Control': 'no-store' }).end(file[1]);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 8000);
  const server = await servePage(port);
  const nc = await connect({
    servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    name: 'example responder',
  });
  nc.subscribe('demo.time', {
    callback: (_err, m) => {
      m.respond(`it is ${new Date().toISOString()}`);
    },
  });
  console.log(`page on http://127.0.0.1:${port}/ ; answering demo.time via ${nc.getServer()}`);
  const stop = async (): Promise<void> => {
    server.close();
    await nc.drain();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(`error: ${(err as Error).message}`);
    process.exit(1);
  });
}
