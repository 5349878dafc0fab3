/** /jsz: JetStream. tsnats has no JetStream yet: nats-server's answer when JetStream is disabled. */
import type { Server } from '../server/server.js';
import { decodeBool, decodeInt, rfc3339 } from './format.js';

export interface JetStreamConfigJson {
  max_memory: number;
  max_storage: number;
  store_dir?: string;
  domain?: string;
}

export interface JetStreamApiStats {
  total: number;
  errors: number;
}

/** nats-server's JSInfo with JetStreamStats inlined. */
export interface Jsz {
  server_id: string;
  now: string;
  disabled?: boolean;
  config: JetStreamConfigJson;
  memory: number;
  storage: number;
  reserved_memory: number;
  reserved_storage: number;
  accounts: number;
  ha_assets: number;
  api: JetStreamApiStats;
  streams: number;
  consumers: number;
  messages: number;
  bytes: number;
}

export interface JszOptions {
  acc: string;
  accounts: boolean;
  streams: boolean;
  consumers: boolean;
  config: boolean;
  leaderOnly: boolean;
  offset: number;
  limit: number;
}

export function parseJszQuery(q: URLSearchParams): JszOptions {
  return {
    accounts: decodeBool(q, 'accounts'),
    streams: decodeBool(q, 'streams'),
    consumers: decodeBool(q, 'consumers'),
    config: decodeBool(q, 'config'),
    offset: decodeInt(q, 'offset'),
    limit: decodeInt(q, 'limit'),
    leaderOnly: decodeBool(q, 'leader-only'),
    acc: q.get('acc') ?? '',
  };
}

export function jsz(server: Server, _opts: Partial<JszOptions> = {}): Jsz {
  return {
    server_id: server.id,
    now: rfc3339(Date.now()),
    disabled: true,
    config: { max_memory: 0, max_storage: 0 },
    memory: 0,
    storage: 0,
    reserved_memory: 0,
    reserved_storage: 0,
    accounts: 0,
    ha_assets: 0,
    api: { total: 0, errors: 0 },
    streams: 0,
    consumers: 0,
    messages: 0,
    bytes: 0,
  };
}
