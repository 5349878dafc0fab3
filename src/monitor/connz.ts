/**
 * /connz: open and recently closed client connections, with nats-server 2.9's `Connz`/`ConnInfo` fields,
 * sort options, pagination and errors.
 */

import { wireToText } from '../routing/subject-text.js';
import type { Client } from '../server/client.js';
import { type ClosedClient, type ClosedSub, rawAuthUser } from '../server/closed-client.js';
import {
  BadRequest,
  decodeBool,
  decodeInt,
  decodeSubs,
  decodeUint64,
  goDurationMs,
  myUptime,
  rfc3339,
} from './format.js';
import type { MonitoredServer } from './state.js';

/** nats-server's DefaultConnListSize. */
export const DEFAULT_CONN_LIST_SIZE = 1024;

/** The global account's name, left out of `account` as nats-server does. */
const GLOBAL = '$G';

/**
 * Sort orders. `cid`/`start` ascend, `uptime` ascends (as in nats-server), `reason` ascends, the rest
 * descend. `stop` and `reason` need `state=closed`.
 */
export const SORT_OPTIONS = [
  'cid',
  'start',
  'subs',
  'pending',
  'msgs_to',
  'msgs_from',
  'bytes_to',
  'bytes_from',
  'last',
  'idle',
  'uptime',
  'stop',
  'reason',
  'rtt',
] as const;
export type SortOpt = (typeof SORT_OPTIONS)[number];

export type ConnState = 'open' | 'closed' | 'any';

export interface ConnzOptions {
  sort: SortOpt;
  /** Include `authorized_user` and `account`. */
  auth: boolean;
  subs: boolean;
  subsDetail: boolean;
  offset: number;
  limit: number;
  /** Only this connection (0 = all). */
  cid: number;
  state: ConnState;
  /** Only connections of this user (with auth). */
  user: string;
  /** Only connections of this account. */
  acc: string;
}

/** One subscription of a connection (nats-server's SubDetail). */
export interface SubDetail {
  account?: string;
  subject: string;
  qgroup?: string;
  sid: string;
  msgs: number;
  max?: number;
  cid: number;
}

/** One connection (nats-server's ConnInfo). */
export interface ConnInfo {
  cid: number;
  kind: string;
  type: string;
  ip: string;
  port: number;
  start: string;
  last_activity: string;
  stop?: string;
  reason?: string;
  rtt: string;
  uptime: string;
  idle: string;
  pending_bytes: number;
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
  subscriptions: number;
  name?: string;
  lang?: string;
  version?: string;
  authorized_user?: string;
  account?: string;
  subscriptions_list?: string[];
  subscriptions_list_detail?: SubDetail[];
}

export interface Connz {
  server_id: string;
  now: string;
  num_connections: number;
  total: number;
  offset: number;
  limit: number;
  connections: ConnInfo[];
}

export function defaultConnzOptions(): ConnzOptions {
  return {
    sort: 'cid',
    auth: false,
    subs: false,
    subsDetail: false,
    offset: 0,
    limit: DEFAULT_CONN_LIST_SIZE,
    cid: 0,
    state: 'open',
    user: '',
    acc: '',
  };
}

/** Read /connz's query parameters; throws BadRequest with nats-server's texts. */
export function parseConnzQuery(q: URLSearchParams): ConnzOptions {
  const sort = q.get('sort') ?? '';
  const auth = decodeBool(q, 'auth');
  const { subs, detail } = decodeSubs(q);
  const offset = decodeInt(q, 'offset');
  const limit = decodeInt(q, 'limit');
  const cid = decodeUint64(q, 'cid');
  const stateStr = q.get('state') ?? '';
  let state: ConnState;
  switch (stateStr.toLowerCase()) {
    case '':
    case 'open':
      state = 'open';
      break;
    case 'closed':
      state = 'closed';
      break;
    case 'any':
    case 'all':
      state = 'any';
      break;
    default:
      throw new BadRequest(`Error decoding state for ${stateStr}`);
  }
  if (sort !== '' && !(SORT_OPTIONS as readonly string[]).includes(sort)) {
    throw new BadRequest(`invalid sorting option: ${sort}`);
  }
  return {
    sort: sort === '' ? 'cid' : (sort as SortOpt),
    auth,
    subs,
    subsDetail: detail,
    offset,
    limit,
    cid,
    state,
    user: q.get('user') ?? '',
    acc: q.get('acc') ?? '',
  };
}

/** A ConnInfo with the raw values the sort orders compare. */
interface Row {
  info: ConnInfo;
  start: number;
  last: number;
  stop: number;
  rttMs: number;
  closed: boolean;
}

/** A connection as /connz shows it: an open Client read now, or a closed one's snapshot. */
type ConnView = ClosedClient | OpenView;

interface OpenView extends Omit<ClosedClient, 'closed'> {
  readonly closed: false;
}

function openView(c: Client): OpenView {
  const o = c.opts;
  return {
    closed: false,
    cid: c.cid,
    clientType: c.clientType,
    host: c.host,
    port: c.port,
    start: c.start.getTime(),
    last: c.last,
    stop: 0,
    closeReason: '',
    rtt: c.rtt,
    pendingBytes: pendingBytes(c),
    inMsgs: c.inMsgs,
    outMsgs: c.outMsgs,
    inBytes: c.inBytes,
    outBytes: c.outBytes,
    subs: [...c.subs.values()],
    name: o.name ?? '',
    lang: o.lang ?? '',
    version: o.version ?? '',
    authUser: rawAuthUser(o),
    accountName: c.account.name,
  };
}

function subDetail(sub: ClosedSub, c: ConnView, withAccount: boolean): SubDetail {
  return {
    ...(withAccount ? { account: c.accountName } : {}),
    subject: wireToText(sub.subject),
    ...(sub.queue !== undefined && sub.queue !== '' ? { qgroup: wireToText(sub.queue) } : {}),
    sid: sub.sid,
    msgs: sub.nm,
    ...(sub.max > 0 ? { max: sub.max } : {}),
    cid: c.cid,
  };
}

/** Bytes queued for a client and not yet taken by the kernel. */
export function pendingBytes(c: Client): number {
  if (c.closed) return c.pendingAtClose;
  return c.out.len + (c.socket.destroyed ? 0 : c.socket.writableLength);
}

/** `{ [key]: value }` when value is not empty, else `{}` (Go's omitempty). */
function opt<K extends string, V>(key: K, value: V | undefined | ''): { [P in K]?: V } {
  return value === undefined || value === '' ? {} : ({ [key]: value } as { [P in K]?: V });
}

function row(c: ConnView, now: number, o: ConnzOptions): Row {
  const closed = c.closed;
  const stop = c.stop;
  const end = closed ? stop : now;
  const start = c.start;
  const subs = c.subs;
  let list: Pick<ConnInfo, 'subscriptions_list' | 'subscriptions_list_detail'> = {};
  if (subs.length > 0) {
    // Closed connections keep their subscriptions with the account, as nats-server saves them.
    if (o.subsDetail) list = { subscriptions_list_detail: subs.map((s) => subDetail(s, c, closed)) };
    else if (o.subs) list = { subscriptions_list: subs.map((s) => wireToText(s.subject)) };
  }
  const info: ConnInfo = {
    cid: c.cid,
    kind: 'Client',
    type: c.clientType,
    ip: c.host,
    port: c.port,
    start: rfc3339(start),
    last_activity: rfc3339(c.last),
    ...(closed ? { stop: rfc3339(stop), reason: c.closeReason } : {}),
    rtt: goDurationMs(c.rtt),
    uptime: myUptime(end - start),
    idle: myUptime(end - c.last),
    pending_bytes: c.pendingBytes,
    in_msgs: c.inMsgs,
    out_msgs: c.outMsgs,
    in_bytes: c.inBytes,
    out_bytes: c.outBytes,
    subscriptions: subs.length,
    ...opt('name', c.name),
    ...opt('lang', c.lang),
    ...opt('version', c.version),
    ...(o.auth ? opt('authorized_user', c.authUser) : {}),
    ...(o.auth && c.accountName !== GLOBAL ? { account: c.accountName } : {}),
    ...list,
  };
  return { info, start, last: c.last, stop, rttMs: c.rtt, closed };
}

type Cmp = (a: Row, b: Row) => number;
const byCid: Cmp = (a, b) => a.info.cid - b.info.cid;
const desc =
  (key: (r: Row) => number): Cmp =>
  (a, b) =>
    key(b) - key(a) || byCid(a, b);

function comparator(sort: SortOpt, now: number): Cmp {
  switch (sort) {
    case 'cid':
    case 'start':
      return byCid;
    case 'subs':
      return desc((r) => r.info.subscriptions);
    case 'pending':
      return desc((r) => r.info.pending_bytes);
    case 'msgs_to':
      return desc((r) => r.info.out_msgs);
    case 'msgs_from':
      return desc((r) => r.info.in_msgs);
    case 'bytes_to':
      return desc((r) => r.info.out_bytes);
    case 'bytes_from':
      return desc((r) => r.info.in_bytes);
    case 'last':
      return desc((r) => r.last);
    case 'idle':
      // Longest idle first (nats-server 2.10's meaning; 2.9 compared last_activity - start).
      return desc((r) => (r.closed ? r.stop : now) - r.last);
    case 'uptime': {
      const up = (r: Row): number => (r.closed ? r.stop : now) - r.start;
      return (a, b) => up(a) - up(b) || byCid(a, b);
    }
    case 'stop':
      return desc((r) => r.stop);
    case 'reason':
      return (a, b) => cmpStr(a.info.reason ?? '', b.info.reason ?? '') || byCid(a, b);
    case 'rtt':
      return desc((r) => r.rttMs);
  }
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compute /connz. Throws BadRequest for option combinations nats-server refuses. */
export function connz(server: MonitoredServer, opts: Partial<ConnzOptions> = {}): Connz {
  const o: ConnzOptions = { ...defaultConnzOptions(), ...opts };
  if (o.sort === 'stop' && o.state !== 'closed') {
    throw new BadRequest('sort by stop only valid on closed connections');
  }
  if (o.sort === 'reason' && o.state !== 'closed') {
    throw new BadRequest('sort by reason only valid on closed connections');
  }
  const offset = o.offset < 0 ? 0 : o.offset;
  let limit = o.limit <= 0 ? DEFAULT_CONN_LIST_SIZE : o.limit;
  if (o.cid > 0) limit = 1;
  const nowMs = Date.now();

  const inAccount = (c: ConnView): boolean => o.acc === '' || c.accountName === o.acc;
  const open = o.state === 'closed' ? [] : [...server.clients.values()].map(openView).filter(inAccount);
  const closed = o.state === 'open' ? [] : server.closedClients.filter(inAccount);
  const total = open.length + closed.length;

  let candidates = [...open, ...closed];
  if (o.cid > 0) candidates = candidates.filter((c) => c.cid === o.cid).slice(0, 1);
  if (o.user !== '') candidates = candidates.filter((c) => c.authUser === o.user);

  const rows = candidates.map((c) => row(c, nowMs, o));
  rows.sort(comparator(o.sort, nowMs));
  const n = rows.length;
  const minoff = Math.min(offset, n);
  const maxoff = Math.min(offset + limit, n);
  const connections = rows.slice(minoff, maxoff).map((r) => r.info);
  return {
    server_id: server.id,
    now: rfc3339(nowMs),
    num_connections: connections.length,
    total,
    offset,
    limit,
    connections,
  };
}
