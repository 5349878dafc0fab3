/**
 * /jsz: JetStream (nats-server's Jsz / JSInfo): limits, usage, API counters and totals; with `accounts`,
 * `streams`, `consumers`, `config` or `acc=<name>`, account details with their streams. When JetStream is
 * off, nats-server's answer for a disabled JetStream.
 */
import type { JsAccount } from '../jetstream/account.js';
import { publicConsumers } from '../jetstream/consumer/registry.js';
import type { JetStream } from '../jetstream/jetstream.js';
import { decodeBool, decodeInt, rfc3339, UINT64_MAX } from './format.js';
import type { MonitoredServer } from './state.js';

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

/** One stream in account details (nats-server's StreamDetail). */
export interface StreamDetailJson {
  name: string;
  created: string;
  cluster?: { leader: string };
  config?: Record<string, unknown>;
  state: Record<string, unknown>;
  /** With `consumers`: the stream's consumers (ConsumerInfo; `config` only with `config`). */
  consumer_detail?: Record<string, unknown>[];
}

/** nats-server's AccountDetail (JetStreamStats inlined). */
export interface AccountDetailJson {
  name: string;
  id: string;
  memory: number;
  storage: number;
  /** The account's max_memory / max_storage; unlimited is Go's uint64(-1), as nats-server prints it. */
  reserved_memory: number | bigint;
  reserved_storage: number | bigint;
  accounts: number;
  ha_assets: number;
  api: JetStreamApiStats;
  stream_detail?: StreamDetailJson[];
}

/** nats-server's JetStreamStats: usage, reservations and API counters of the whole server. */
export interface JetStreamStatsJson {
  memory: number;
  storage: number;
  reserved_memory: number;
  reserved_storage: number;
  accounts: number;
  /** Raft groups (clustered JetStream); always 0 in tsnats. */
  ha_assets: number;
  api: JetStreamApiStats;
}

/** nats-server's JSInfo with JetStreamStats inlined. */
export interface Jsz extends JetStreamStatsJson {
  server_id: string;
  now: string;
  disabled?: boolean;
  config: JetStreamConfigJson;
  streams: number;
  consumers: number;
  messages: number;
  bytes: number;
  /** Clustered JetStream: the meta group (nats-server's MetaClusterInfo). */
  meta_cluster?: Record<string, unknown>;
  account_details?: AccountDetailJson[];
  /** 2.10: the number of JetStream accounts (before any paging of account_details). */
  total: number;
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

/** nats-server's jetStream.usageStats, shared by /jsz and the `jetstream.stats` of /varz. */
export function jetStreamStats(js: JetStream): JetStreamStatsJson {
  const usage = js.usage();
  const reserved = js.reserved();
  return {
    memory: usage.memory,
    storage: usage.storage,
    reserved_memory: reserved.memory,
    reserved_storage: reserved.storage,
    accounts: js.accounts.size,
    ha_assets: js.cluster?.haAssets() ?? 0,
    api: { total: js.apiTotal, errors: js.apiErrors },
  };
}

export function jsz(server: MonitoredServer, opts: Partial<JszOptions> = {}): Jsz {
  const js = server.jetstream;
  if (js === undefined) {
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
      total: 0,
    };
  }
  const consumers = opts.consumers === true;
  const streams = consumers || opts.streams === true;
  const accounts = streams || opts.accounts === true;
  const totals = js.totals();
  // `total` comes last, as in nats-server's JSInfo.
  const out: Omit<Jsz, 'total'> = {
    server_id: server.id,
    now: rfc3339(Date.now()),
    config: js.configInfo(),
    ...jetStreamStats(js),
    streams: totals.streams,
    consumers: totals.consumers,
    messages: totals.messages,
    bytes: totals.bytes,
  };
  const meta = js.cluster?.metaClusterInfo();
  if (meta !== undefined) out.meta_cluster = meta;
  let list = [...js.accounts.values()];
  const filtered =
    opts.acc !== undefined && opts.acc !== '' ? list.filter((a) => a.account.name === opts.acc) : [];
  if (filtered.length > 0) {
    list = filtered;
  } else if (accounts) {
    list.sort((a, b) => (a.account.name < b.account.name ? -1 : a.account.name > b.account.name ? 1 : 0));
    const offset = Math.max(0, opts.offset ?? 0);
    const limit = opts.limit !== undefined && opts.limit > 0 ? opts.limit : 1024;
    list = list.slice(offset, offset + limit);
  } else {
    list = [];
  }
  if (list.length > 0) {
    out.account_details = list.map((a) => accountDetail(server, a, streams, opts.config === true, consumers));
  }
  return { ...out, total: js.accounts.size };
}

/**
 * One account's JetStream details (nats-server's JszAccount, for `$SYS.REQ.ACCOUNT.<account>.JSZ`): its
 * streams with `streams`, their consumers with `consumers` as well, their configurations with `config`.
 */
export function jszAccount(
  server: MonitoredServer,
  account: string,
  opts: Partial<JszOptions>,
): AccountDetailJson {
  const js = server.jetstream;
  if (js === undefined) throw new Error('jetstream not enabled');
  if (!server.accounts.has(account)) throw new Error(`account ${JSON.stringify(account)} not found`);
  const jsa = js.accounts.get(account);
  if (jsa === undefined) throw new Error(`account ${JSON.stringify(account)} not jetstream enabled`);
  return accountDetail(server, jsa, opts.streams === true, opts.config === true, opts.consumers === true);
}

/** nats-server's accountDetail. Reserved bytes are per-account limits, which tsnats does not set (0). */
function accountDetail(
  server: MonitoredServer,
  jsa: JsAccount,
  withStreams: boolean,
  withConfig: boolean,
  withConsumers = false,
): AccountDetailJson {
  const u = jsa.usage();
  const d: AccountDetailJson = {
    name: jsa.account.name,
    id: jsa.account.name,
    memory: u.memory,
    storage: u.storage,
    // Only plain (untiered) limits are reported here, as by nats-server; tiered ones give 0.
    reserved_memory: reservedBytes(jsa.tiers.get('')?.maxMemory),
    reserved_storage: reservedBytes(jsa.tiers.get('')?.maxStore),
    accounts: 0,
    ha_assets: 0,
    api: { total: jsa.apiTotal, errors: jsa.apiErrors },
  };
  if (withStreams && jsa.streams.size > 0) {
    d.stream_detail = [...jsa.streams.values()].map((st) => {
      const info = st.info();
      const sd = {
        name: st.name,
        created: info.created,
        cluster: { leader: server.name },
      } as StreamDetailJson;
      if (withConfig) sd.config = info.config;
      sd.state = info.state as unknown as Record<string, unknown>;
      if (withConsumers) {
        const cs = publicConsumers(st).map((c) => {
          const ci: Record<string, unknown> = { ...c.info() };
          if (!withConfig) delete ci.config;
          return ci;
        });
        if (cs.length > 0) sd.consumer_detail = cs;
      }
      return sd;
    });
  }
  return d;
}

/** An account's memory or storage limit as /jsz reports it: uint64 max when unlimited, 0 when tiered. */
function reservedBytes(limit: number | undefined): number | bigint {
  if (limit === undefined) return 0;
  return limit >= 0 ? limit : UINT64_MAX;
}
