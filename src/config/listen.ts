import type { ConfigField, ConfigReader } from './reader.js';

/**
 * `listen: "host:port"`, `listen: ":port"` or `listen: port` inside a block such as `cluster {}` or
 * `websocket {}` (nats-server's parseListen): [host ('' when not given), port (-1: a free port)].
 */
export function parseBlockListen(r: ConfigReader, f: ConfigField): [string, number] {
  const v = f.value;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) r.fail(f, `${f.path}: expected an integer port`);
    return ['', v < 0 ? -1 : v];
  }
  if (typeof v !== 'string') return r.fail(f, `${f.path}: expected port or host:port, got ${typeof v}`);
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(-?\d+)$/.exec(v.trim());
  if (m === null) return r.fail(f, `${f.path}: could not parse address string ${JSON.stringify(v)}`);
  const port = Number(m[3]);
  if (port < -1 || port > 65535) return r.fail(f, `${f.path}: could not parse port ${JSON.stringify(m[3])}`);
  return [m[1] ?? m[2] ?? '', port];
}
