/**
 * The child process of `startServer({ childProcess: true })`: starts a server from the options in
 * `TSNATS_TEST_SERVER` (JSON), reports `{"port":N}` (or `{"error":"..."}`) as one line on stdout, stops on
 * SIGTERM/SIGINT as the tsnats command does, and exits when its parent goes away (stdin ends).
 */
import { Server } from './server/server.js';

function report(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function main(): Promise<void> {
  const options = JSON.parse(process.env.TSNATS_TEST_SERVER ?? '{}') as ConstructorParameters<
    typeof Server
  >[0];
  let server: Server;
  try {
    server = new Server({ ...options, noSigs: false });
    await server.ready();
  } catch (e) {
    report({ error: (e as Error).message });
    process.exit(1);
  }
  report({ port: server.port });
  process.stdin.on('end', () => {
    void server.shutdown().then(() => process.exit(0));
  });
  process.stdin.resume();
}

void main();
