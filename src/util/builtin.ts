/**
 * Node built-in modules loaded at their first use instead of at start-up: most servers never use them (TLS,
 * the monitor, websocket, JetStream's checksums and snapshots, `--signal` are all configured separately).
 * Loading `tls`, `http`, `https`, `zlib`, `child_process` and `fs/promises` after `net` takes ~14 ms on
 * their own; measured on the command, a start-up took 0.975 of the time and 0.85 MiB less RSS
 * (BENCHMARKS.md, issue 12, third round).
 */

import type * as ChildProcess from 'node:child_process';
import type * as FsPromises from 'node:fs/promises';
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import { createRequire } from 'node:module';
import type * as Tls from 'node:tls';
import type * as Zlib from 'node:zlib';

const load = createRequire(import.meta.url);

/** A getter that requires `name` at its first call. */
function lazy<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => {
    loaded ??= load(name) as T;
    return loaded;
  };
}

export const nodeTls = lazy<typeof Tls>('node:tls');
export const nodeHttp = lazy<typeof Http>('node:http');
export const nodeHttps = lazy<typeof Https>('node:https');
export const nodeZlib = lazy<typeof Zlib>('node:zlib');
export const nodeChildProcess = lazy<typeof ChildProcess>('node:child_process');
export const nodeFsPromises = lazy<typeof FsPromises>('node:fs/promises');
