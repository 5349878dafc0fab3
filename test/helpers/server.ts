import { Server, type ServerConfig } from '../../src/index.js';

/** Start an embedded tsnats on 127.0.0.1 and a random port, silent, without signal handlers. */
export async function startServer(config: ServerConfig = {}): Promise<Server> {
  const server = new Server({ host: '127.0.0.1', port: 0, noLog: true, noSigs: true, ...config });
  await server.ready();
  return server;
}

/** `nats://127.0.0.1:<port>` of a started server. */
export function urlOf(server: Server): string {
  return `nats://127.0.0.1:${server.port}`;
}
