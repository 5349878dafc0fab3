/**
 * /metrics: Prometheus text exposition (format 0.0.4) of the monitoring counters and gauges.
 *
 * Names follow prometheus-nats-exporter (`gnatsd_<endpoint>_<json field>`, label `server_id`), so
 * dashboards built for nats-server through that exporter read tsnats directly. Unlike the exporter, which
 * declares everything a gauge, monotonic counters are typed `counter`. `connz=1` adds one series per open
 * connection (`gnatsd_connz_details_*`, labelled with cid, name, ip, ...).
 */
import { TSNATS_VERSION } from '../server/version.js';
import { connz } from './connz.js';
import { decodeBool } from './format.js';
import { healthz } from './healthz.js';
import type { MonitoredServer, MonitorState } from './state.js';
import { sublistStats } from './subsz.js';
import { type Varz, varz } from './varz.js';

/** The event loop delay histogram's sampling interval (monitor/http.ts). */
export const LOOP_DELAY_RESOLUTION_MS = 10;

export interface MetricsOptions {
  /** Per-connection series. */
  connz: boolean;
}

export function parseMetricsQuery(q: URLSearchParams): MetricsOptions {
  return { connz: decodeBool(q, 'connz') };
}

type MetricType = 'counter' | 'gauge';

interface Sample {
  labels: Record<string, string>;
  value: number;
}

interface Family {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

/** Varz numeric fields exported, with their type and help. */
const VARZ_FIELDS: [keyof Varz, MetricType, string][] = [
  ['connections', 'gauge', 'Open client connections'],
  ['total_connections', 'counter', 'Client connections accepted since start'],
  ['subscriptions', 'gauge', 'Subscriptions across all accounts'],
  ['slow_consumers', 'counter', 'Connections closed as slow consumers since start'],
  ['in_msgs', 'counter', 'Messages received from clients'],
  ['out_msgs', 'counter', 'Messages delivered to clients'],
  ['in_bytes', 'counter', 'Payload bytes received from clients'],
  ['out_bytes', 'counter', 'Payload bytes delivered to clients'],
  ['routes', 'gauge', 'Cluster routes'],
  ['remotes', 'gauge', 'Remote servers in the cluster'],
  ['leafnodes', 'gauge', 'Leafnode connections'],
  ['mem', 'gauge', 'Resident set size of the process in bytes'],
  ['cpu', 'gauge', 'Process CPU usage in percent of one core'],
  ['cores', 'gauge', 'Logical CPUs available to the process'],
  ['gomaxprocs', 'gauge', 'Threads executing server code at once (1 for Node.js)'],
  ['max_connections', 'gauge', 'Configured maximum client connections'],
  ['max_payload', 'gauge', 'Configured maximum message payload in bytes'],
  ['max_pending', 'gauge', 'Configured maximum pending bytes per connection'],
  ['max_control_line', 'gauge', 'Configured maximum protocol control line in bytes'],
  ['ping_interval', 'gauge', 'Configured interval between server PINGs in nanoseconds'],
  ['ping_max', 'gauge', 'Configured unanswered PINGs before a connection is stale'],
  ['write_deadline', 'gauge', 'Configured write deadline in nanoseconds'],
  ['auth_timeout', 'gauge', 'Configured authentication timeout in seconds'],
  ['port', 'gauge', 'Client port'],
];

const SUBSZ_FIELDS: [string, MetricType, string][] = [
  ['num_subscriptions', 'gauge', 'Subscriptions in the subscription index'],
  ['num_cache', 'gauge', 'Subjects with a cached match result'],
  ['num_inserts', 'counter', 'Subscriptions inserted since start'],
  ['num_removes', 'counter', 'Subscriptions removed since start'],
  ['num_matches', 'counter', 'Subject matches performed since start'],
  ['cache_hit_rate', 'gauge', 'Share of matches answered by the cache'],
  ['max_fanout', 'gauge', 'Largest number of subscriptions one cached subject matches'],
  ['avg_fanout', 'gauge', 'Average number of subscriptions a cached subject matches'],
];

/** Escape a label value (backslash, double quote, newline). */
function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Escape HELP text (backslash, newline). */
function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

function render(families: Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
    lines.push(`# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(',');
      lines.push(`${f.name}${labels === '' ? '' : `{${labels}}`} ${formatValue(s.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The Prometheus exposition of the server's monitoring data. */
export function metrics(
  server: MonitoredServer,
  state: MonitorState,
  opts: Partial<MetricsOptions> = {},
): string {
  const id = { server_id: server.id };
  const families: Family[] = [];
  const one = (name: string, type: MetricType, help: string, value: number): void => {
    families.push({ name, type, help, samples: [{ labels: id, value }] });
  };

  const v = varz(server, state);
  for (const [key, type, help] of VARZ_FIELDS) one(`gnatsd_varz_${key}`, type, help, v[key] as number);
  one(
    'gnatsd_varz_start_time_seconds',
    'gauge',
    'MonitoredServer start time in seconds since the epoch',
    server.startTime.getTime() / 1000,
  );
  families.push({
    name: 'gnatsd_varz_server_name',
    type: 'gauge',
    help: 'MonitoredServer name (in the value label)',
    samples: [{ labels: { ...id, value: server.name }, value: 1 }],
  });
  families.push({
    name: 'gnatsd_varz_version',
    type: 'gauge',
    help: 'nats-server protocol version implemented (in the value label)',
    samples: [{ labels: { ...id, value: v.version }, value: 1 }],
  });
  families.push({
    name: 'tsnats_info',
    type: 'gauge',
    help: 'tsnats and Node.js versions (in labels)',
    samples: [
      { labels: { ...id, tsnats_version: TSNATS_VERSION, node_version: process.versions.node }, value: 1 },
    ],
  });
  // tsnats: how long ready work waited for the event loop since the previous scrape. The histogram holds
  // the interval between its timer's ticks, so the timer's own resolution comes off.
  const h = state.loopDelay;
  const sec = (ns: number): number =>
    Number.isFinite(ns) ? Math.max(0, ns - LOOP_DELAY_RESOLUTION_MS * 1e6) / 1e9 : 0;
  families.push({
    name: 'tsnats_event_loop_delay_seconds',
    type: 'gauge',
    help: 'Event loop delay since the previous scrape, by quantile (1 = the maximum)',
    samples: [0.5, 0.99, 1].map((q) => ({
      labels: { ...id, quantile: String(q) },
      value: h.count === 0 ? 0 : sec(q === 1 ? h.max : h.percentile(q * 100)),
    })),
  });
  h.reset();
  families.push({
    name: 'gnatsd_varz_http_req_stats',
    type: 'counter',
    help: 'Monitoring HTTP requests served, by endpoint path',
    samples: Object.entries(v.http_req_stats).map(([path, n]) => ({ labels: { ...id, path }, value: n })),
  });

  // Connections: sums over the open ones (gauges: they fall when a connection closes).
  const open = connz(server, { limit: Number.MAX_SAFE_INTEGER });
  const sum = (f: (c: (typeof open.connections)[number]) => number): number =>
    open.connections.reduce((acc, c) => acc + f(c), 0);
  one('gnatsd_connz_num_connections', 'gauge', 'Open client connections', open.num_connections);
  one('gnatsd_connz_total', 'gauge', 'Open client connections (before paging)', open.total);
  one(
    'gnatsd_connz_pending_bytes',
    'gauge',
    'Bytes queued to open connections',
    sum((c) => c.pending_bytes),
  );
  one(
    'gnatsd_connz_subscriptions',
    'gauge',
    'Subscriptions of open connections',
    sum((c) => c.subscriptions),
  );
  one(
    'gnatsd_connz_in_msgs',
    'gauge',
    'Messages received from the open connections',
    sum((c) => c.in_msgs),
  );
  one(
    'gnatsd_connz_out_msgs',
    'gauge',
    'Messages sent to the open connections',
    sum((c) => c.out_msgs),
  );
  one(
    'gnatsd_connz_in_bytes',
    'gauge',
    'Bytes received from the open connections',
    sum((c) => c.in_bytes),
  );
  one(
    'gnatsd_connz_out_bytes',
    'gauge',
    'Bytes sent to the open connections',
    sum((c) => c.out_bytes),
  );
  const reasons = new Map<string, number>();
  for (const c of server.closedClients) {
    const r = c.closeReason === '' ? 'Unknown' : c.closeReason;
    reasons.set(r, (reasons.get(r) ?? 0) + 1);
  }
  families.push({
    name: 'gnatsd_connz_closed_connections',
    type: 'gauge',
    help: 'Recently closed connections kept for /connz?state=closed, by close reason',
    samples: [...reasons].map(([reason, n]) => ({ labels: { ...id, reason }, value: n })),
  });

  if (opts.connz) {
    const detail: [string, MetricType, string, (c: (typeof open.connections)[number]) => number][] = [
      ['in_msgs', 'counter', 'Messages received from this connection', (c) => c.in_msgs],
      ['out_msgs', 'counter', 'Messages sent to this connection', (c) => c.out_msgs],
      ['in_bytes', 'counter', 'Bytes received from this connection', (c) => c.in_bytes],
      ['out_bytes', 'counter', 'Bytes sent to this connection', (c) => c.out_bytes],
      ['pending_bytes', 'gauge', 'Bytes queued to this connection', (c) => c.pending_bytes],
      ['subscriptions', 'gauge', 'Subscriptions of this connection', (c) => c.subscriptions],
      ['rtt_seconds', 'gauge', 'Round-trip time of the last server PING', (c) => rttSeconds(server, c.cid)],
      ['uptime_seconds', 'gauge', 'Time since the connection was accepted', (c) => secondsSince(c.start)],
      [
        'idle_seconds',
        'gauge',
        'Time since the connection last sent anything',
        (c) => secondsSince(c.last_activity),
      ],
    ];
    for (const [key, type, help, get] of detail) {
      families.push({
        name: `gnatsd_connz_details_${key}`,
        type,
        help,
        samples: open.connections.map((c) => ({
          labels: {
            ...id,
            cid: String(c.cid),
            kind: c.kind,
            type: c.type,
            ip: c.ip,
            port: String(c.port),
            name: c.name ?? '',
            lang: c.lang ?? '',
            version: c.version ?? '',
          },
          value: get(c),
        })),
      });
    }
  }

  const sl = sublistStats(server) as unknown as Record<string, number>;
  for (const [key, type, help] of SUBSZ_FIELDS) one(`gnatsd_subsz_${key}`, type, help, sl[key]!);
  one('gnatsd_routez_num_routes', 'gauge', 'Cluster routes', server.cluster?.numRoutes() ?? 0);
  one('gnatsd_leafz_leafnodes', 'gauge', 'Leafnode connections', server.leafnodes?.connections().length ?? 0);
  one(
    'gnatsd_healthz_status',
    'gauge',
    'Health: 0 when /healthz reports ok, 1 otherwise',
    healthz(server, state).status === 'ok' ? 0 : 1,
  );
  return render(families);
}

function secondsSince(rfc: string): number {
  return Math.max(0, (Date.now() - Date.parse(rfc)) / 1000);
}

function rttSeconds(server: MonitoredServer, cid: number): number {
  const c = server.clients.get(cid);
  return c === undefined ? 0 : c.rtt / 1000;
}
