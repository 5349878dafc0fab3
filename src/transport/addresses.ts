/** Addresses of listeners and peers, as nats-server computes and writes them. */
import { networkInterfaces } from 'node:os';

/** `host:port` with IPv6 hosts bracketed (Go's net.JoinHostPort). */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** `host[:port]` (optionally with a scheme) with a default port, as nats-server's parseHostPort. */
export function splitHostPort(s: string, defaultPort: number): [string, number] {
  let t = s.trim().replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//, '');
  t = t.replace(/\/.*$/, '');
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(t) ?? /^([^:]+)(?::(\d+))?$/.exec(t);
  if (m === null) return [t, defaultPort];
  const port = m[2] !== undefined ? Number(m[2]) : defaultPort;
  return [m[1]!, port > 0 ? port : defaultPort];
}

/** An IPv4 peer address as Node reports it on a dual-stack socket (`::ffff:1.2.3.4`), without the prefix. */
export function plainIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/** Go's net.IP.IsGlobalUnicast: not loopback, link-local, multicast or unspecified. */
export function isGlobalUnicast(address: string, family: string | number): boolean {
  if (family === 'IPv4' || family === 4) {
    if (address.startsWith('127.') || address.startsWith('169.254.') || address === '0.0.0.0') return false;
    const first = Number(address.split('.')[0]);
    return first < 224;
  }
  const a = address.toLowerCase();
  if (
    a === '::1' ||
    a === '::' ||
    a.startsWith('fe8') ||
    a.startsWith('fe9') ||
    a.startsWith('fea') ||
    a.startsWith('feb')
  ) {
    return false;
  }
  return !a.startsWith('ff');
}

/**
 * The `host:port` URLs a listener is reached at (nats-server's getConnectURLs): the advertised address,
 * the listen host, or every global unicast IP of the machine for 0.0.0.0 / :: (none if it has none).
 */
export function listenerUrls(advertise: string, host: string, port: number): string[] {
  if (advertise !== '') {
    const [h, p] = splitHostPort(advertise, port);
    return [joinHostPort(h, p)];
  }
  if (host === '0.0.0.0' || host === '::' || host === '') {
    const ips: string[] = [];
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) if (isGlobalUnicast(a.address, a.family)) ips.push(a.address);
    }
    return ips.map((ip) => joinHostPort(ip, port));
  }
  return [joinHostPort(host, port)];
}
