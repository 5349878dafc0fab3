import { randomBytes } from 'node:crypto';
import type { TrustedAccount } from '../auth/operator.js';
import type { SubjectMapper } from '../routing/mapping.js';
import { matchLiteral, subjectIsLiteral } from '../routing/subject.js';
import { textToWire } from '../routing/subject-text.js';
import { Sublist } from '../routing/sublist.js';
import type { Client } from './client.js';
import type { Subscription } from './subscription.js';

/** The global account every client belongs to unless configured otherwise. */
export const GLOBAL_ACCOUNT = '$G';

/** Reply subjects of requests that crossed into an exporting account start with this (nats-server's). */
export const RESPONSE_PREFIX = '_R_.';
/** How long a mapped reply subject lives (nats-server's DEFAULT_SERVICE_EXPORT_RESPONSE_THRESHOLD). */
const RESPONSE_TTL = 2 * 60 * 1000;

/** Another account receives this account's messages on `subject`, renamed. */
export interface StreamImporter {
  importer: Account;
  /** Subject (pattern) in this, the exporting, account. */
  subject: string;
  prefix: string;
  to: string;
  /** Made from the importer's account JWT (replaced when the JWT changes). */
  jwt?: boolean;
}

/** Requests on `local` in this account go to `exporter` as `remote`. */
export interface ServiceImport {
  local: string;
  exporter: Account;
  remote: string;
  /** Singleton: one response per request; Stream/Chunked: many until the mapping expires. */
  singleton: boolean;
  /**
   * Add nats-server's `Nats-Request-Info` header (the requester, as JSON) when a request crosses: the
   * `$JS.API.>` import of clustered JetStream. Returns the header's value.
   */
  requestInfo?: (from: Account, producer: Client | null) => string;
  /** Made from the importer's account JWT (replaced when the JWT changes). */
  jwt?: boolean;
}

/** Where a response published in an exporting account goes. */
interface ResponseRoute {
  account: Account;
  reply: string;
  singleton: boolean;
  expires: number;
}

/**
 * A subject space: clients of one account never see another account's messages, except through
 * stream and service imports of what the other account exports.
 */
export class Account {
  readonly sublist: Sublist<Subscription>;
  readonly streamImporters: StreamImporter[] = [];
  readonly serviceImports: ServiceImport[] = [];
  /**
   * serviceImports by local subject, when none has a wildcard (the usual case: every account has the system
   * imports, so every publish looks here); null when one has, undefined when stale. A map lookup instead of
   * a subject match per import, as nats-server's imports.services map.
   */
  private literalServiceImports: Map<string, ServiceImport[]> | null | undefined;
  /** The last subject serviceImportsFor was asked about and its answer (a publisher repeats its subject). */
  private lastImportSubject = '';
  private lastImports: readonly ServiceImport[] = NO_IMPORTS;
  private readonly responses = new Map<string, ResponseRoute>();
  /** In-process subscriptions (system requests, JetStream): not counted as clients' subscriptions. */
  internalSubs = 0;
  /** `mappings {}`: messages published by clients and leafs are routed on a mapped subject. */
  mapper: SubjectMapper | null = null;
  /** True when routing in this account must look beyond its own sublist. */
  crossAccount = false;
  /** Operator mode: the account JWT in force (jwt-accounts.ts), and when it was applied. */
  jwt: TrustedAccount | undefined;
  updateTime: Date | undefined;
  /**
   * Messages its clients and leafs published (`received`) and the deliveries they made (`sent`), as
   * the account connection events report them (nats-server's Account inMsgs ... outBytes).
   */
  readonly msgStats = { inMsgs: 0, inBytes: 0, outMsgs: 0, outBytes: 0 };
  /** The account JWT expired (or was deleted): nobody may log in. */
  expired = false;
  /** The account JWT's limits (-1: none): connections, and subscriptions and payload per connection. */
  maxConnections = -1;
  maxSubs = -1;
  maxPayload = -1;
  /** The account JWT's `leaf`: leaf node connections bound to this account (-1: no limit). */
  maxLeafs = -1;
  /** The clients logged in to this account. */
  readonly clients = new Set<Client>();
  /** Operator mode in a cluster: the other servers' connections to this account, by server id. */
  readonly remoteConns = new Map<string, { conns: number; leafs: number }>();

  /** `sublistCache: false` for `disable_sublist_cache`. */
  constructor(
    readonly name: string,
    sublistCache = true,
  ) {
    this.sublist = new Sublist<Subscription>({ cacheEnabled: sublistCache });
  }

  /** Subjects are given as text (configuration, JWT) and kept in wire form (routing/subject-text.ts). */
  addStreamImporter(imp: StreamImporter): void {
    imp.subject = textToWire(imp.subject);
    imp.prefix = textToWire(imp.prefix);
    imp.to = textToWire(imp.to);
    this.streamImporters.push(imp);
    this.crossAccount = true;
  }

  /** Subjects are given as text (configuration, JWT) and kept in wire form (routing/subject-text.ts). */
  addServiceImport(imp: ServiceImport): void {
    imp.local = textToWire(imp.local);
    imp.remote = textToWire(imp.remote);
    this.serviceImports.push(imp);
    this.importsChanged();
    this.crossAccount = true;
  }

  private importsChanged(): void {
    this.literalServiceImports = undefined;
    this.lastImportSubject = '';
    this.lastImports = NO_IMPORTS;
  }

  /** The service imports that may match `subject`, in the order they were added (callers still match). */
  serviceImportsFor(subject: string): readonly ServiceImport[] {
    if (subject === this.lastImportSubject) return this.lastImports;
    let index = this.literalServiceImports;
    if (index === undefined) index = this.literalServiceImports = indexLiteralImports(this.serviceImports);
    if (index === null) return this.serviceImports;
    const found = index.get(subject) ?? NO_IMPORTS;
    this.lastImportSubject = subject;
    this.lastImports = found;
    return found;
  }

  /** Whether a stream importer or a service import may take a message published on `subject` here. */
  mayImport(subject: string): boolean {
    return this.streamImporters.length > 0 || this.serviceImportsFor(subject).length > 0;
  }

  /**
   * The subscription count nats-server 2.10 reports for an account (AccountStat.num_subscriptions, its
   * `sl.Count()`), where each service import is an internal subscription of the importing account; tsnats
   * routes imports without one, so they are added.
   */
  numSubscriptionsReported(): number {
    return this.sublist.count() + this.serviceImports.length;
  }

  /** Clients of this account on the other servers of the cluster. */
  numRemoteConns(): number {
    let n = 0;
    for (const r of this.remoteConns.values()) n += r.conns;
    return n;
  }

  numRemoteLeafs(): number {
    let n = 0;
    for (const r of this.remoteConns.values()) n += r.leafs;
    return n;
  }

  /** Drop the stream importers `drop` picks (in place: delivery holds this array). */
  removeStreamImporters(drop: (imp: StreamImporter) => boolean): void {
    removeWhere(this.streamImporters, drop);
  }

  removeServiceImports(drop: (imp: ServiceImport) => boolean): void {
    removeWhere(this.serviceImports, drop);
    this.importsChanged();
  }

  /** A reply subject in this account that leads back to `reply` in `account`. */
  mapResponse(account: Account, reply: string, singleton: boolean): string {
    const mapped = RESPONSE_PREFIX + randomBytes(12).toString('base64url');
    this.responses.set(mapped, { account, reply, singleton, expires: Date.now() + RESPONSE_TTL });
    return mapped;
  }

  /** The destination of a response published on `subject`, if it is a mapped reply. */
  takeResponse(subject: string): ResponseRoute | undefined {
    const r = this.responses.get(subject);
    if (r === undefined) return undefined;
    if (r.singleton || r.expires < Date.now()) this.responses.delete(subject);
    return r.expires < Date.now() ? undefined : r;
  }

  /** The reply mappings in force: mapped subject, and the account and reply it leads back to. */
  responseRoutes(): [string, { account: Account; reply: string }][] {
    return [...this.responses].map(([k, r]) => [k, { account: r.account, reply: r.reply }]);
  }

  /** Drop expired reply mappings (called periodically). */
  pruneResponses(now: number): void {
    for (const [k, r] of this.responses) if (r.expires < now) this.responses.delete(k);
  }
}

/** The subject a stream import delivers `subject` on in the importing account. */
export function importedSubject(imp: StreamImporter, subject: string): string {
  if (imp.to !== '' && subjectIsLiteral(imp.subject)) return imp.to;
  if (imp.prefix !== '') return `${imp.prefix}.${subject}`;
  return subject;
}

/** The subject a service import turns a request on `subject` into in the exporting account. */
export function serviceSubject(imp: ServiceImport, subject: string): string {
  return imp.local === imp.remote || !subjectIsLiteral(imp.remote) ? subject : imp.remote;
}

export function matchesImport(subject: string, pattern: string): boolean {
  return matchLiteral(subject, pattern);
}

const NO_IMPORTS: readonly ServiceImport[] = [];

/** Imports by their local subject, or null when one of those subjects has a wildcard. */
function indexLiteralImports(imports: readonly ServiceImport[]): Map<string, ServiceImport[]> | null {
  const index = new Map<string, ServiceImport[]>();
  for (const imp of imports) {
    if (!subjectIsLiteral(imp.local)) return null;
    const list = index.get(imp.local);
    if (list === undefined) index.set(imp.local, [imp]);
    else list.push(imp);
  }
  return index;
}

function removeWhere<T>(list: T[], drop: (x: T) => boolean): void {
  let n = 0;
  for (const x of list) if (!drop(x)) list[n++] = x;
  list.length = n;
}
