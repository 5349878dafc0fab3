// What the Node benchmark scripts share: starting tsnats or nats-server on free ports and reading its ports
// file, a free port for configs that need one up front, and the median of a round's figures.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const EXE = { tsnats: './bin/tsnats', 'nats-server': 'nats-server' };

/** A port that was free a moment ago (for a config that must name it before the server starts). */
export function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Start `kind` on 127.0.0.1 and a free client port, with `config` (file text) and `args`; resolves with the
 * ports file once `ready(ports)` holds, and a `stop()` that ends the process and removes its directory.
 * `spawnAs(exe, args)` may run it another way (under a profiler).
 */
export async function startServer(kind, { config, args = [], ready = () => true, spawnAs } = {}) {
  const dir = mkdtempSync(join(tmpdir(), `bench-${kind}-`));
  const argv = ['-a', '127.0.0.1', '-p', '-1', '--ports_file_dir', dir, ...args];
  if (config !== undefined) {
    const file = join(dir, 'server.conf');
    writeFileSync(file, config);
    argv.unshift('-c', file);
  }
  const child =
    spawnAs !== undefined ? spawnAs(EXE[kind], argv) : spawn(EXE[kind], argv, { stdio: 'ignore' });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 400; i++) {
    const f = readdirSync(dir).find((n) => n.endsWith('.ports'));
    if (f) {
      try {
        const ports = JSON.parse(readFileSync(join(dir, f), 'utf8'));
        if (ready(ports)) return { url: ports.nats[0], ports, dir, stop };
      } catch {}
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  await stop();
  throw new Error(`${kind} did not start`);
}

export const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
