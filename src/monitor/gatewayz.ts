/** /gatewayz: super-cluster gateways. None exist in tsnats yet: nats-server's answer with gateways off. */
import type { ConnInfo } from './connz.js';
import { decodeBool, rfc3339 } from './format.js';
import type { MonitoredServer } from './state.js';

/** Interest mode of one account over a gateway (nats-server's AccountGatewayz). */
export interface AccountGatewayz {
  name: string;
  interest_mode: string;
  no_interest_count?: number;
  interest_only_threshold?: number;
  num_subs?: number;
  num_queue_subs?: number;
}

/** A gateway connection (nats-server's RemoteGatewayz). */
export interface RemoteGatewayz {
  configured: boolean;
  connection?: ConnInfo;
  accounts?: AccountGatewayz[];
}

export interface Gatewayz {
  server_id: string;
  now: string;
  name?: string;
  host?: string;
  port?: number;
  outbound_gateways: Record<string, RemoteGatewayz>;
  inbound_gateways: Record<string, RemoteGatewayz[]>;
}

export interface GatewayzOptions {
  /** Only the gateway with this name (`gw_name`). */
  name: string;
  /** Include accounts' interest (`accs`, implied by `acc_name`). */
  accounts: boolean;
  accountName: string;
}

export function parseGatewayzQuery(q: URLSearchParams): GatewayzOptions {
  const accs = decodeBool(q, 'accs');
  const accountName = q.get('acc_name') ?? '';
  return { name: q.get('gw_name') ?? '', accounts: accs || accountName !== '', accountName };
}

export function gatewayz(server: MonitoredServer, _opts: Partial<GatewayzOptions> = {}): Gatewayz {
  return { server_id: server.id, now: rfc3339(Date.now()), outbound_gateways: {}, inbound_gateways: {} };
}
