/**
 * Operator mode: server accounts made from account JWTs, when first needed (a login, an import, the
 * system account at start), and kept in step with their JWT when it changes (nats-server's
 * fetchAccount and updateAccountClaimsWithRefresh, server/accounts.go):
 *
 * - the JWT's imports become the account's stream and service imports, where the exporter's JWT
 *   exports the subject; an exporter's changed exports re-check the imports of everyone importing;
 * - the limits `conn`, `subs` and `payload` apply to the account's clients at once: clients over a
 *   lowered `conn` are closed (the newest kept), the others take the new per-connection limits;
 * - users revoked since they logged in are closed (`User Authentication Revoked`), bearer users when
 *   bearer tokens are no longer allowed, and users whose signing key was removed;
 * - a deleted JWT closes the account's clients (`Account Authentication Expired`) and lets no one in.
 */
import { importAllowed } from '../auth/import-auth.js';
import { decodeUserClaims, isRevoked } from '../auth/jwt.js';
import { limitOf, type OperatorTrust, type TrustedAccount } from '../auth/operator.js';
import type { JsAccountLimits, JsLimitTiers } from '../auth/types.js';
import { untiered } from '../jetstream/limit-tiers.js';
import { type MappingConfig, mappingProblem, SubjectMapper } from '../routing/mapping.js';
import { Account } from './account.js';
import { ClosedReason } from './closed-reason.js';
import type { Logger } from './logger.js';

/** What this needs of the server core. */
export interface JwtAccountsHost {
  readonly accounts: Map<string, Account>;
  readonly logger: Logger;
  readonly auth: { readonly operator: OperatorTrust | undefined };
  readonly options: { readonly noSublistCache: boolean };
  /** The leaf connections bound to an account. */
  leafConnections(acc: Account): (JwtConnection & { readonly userJwt: string })[];
}

/** Timers stop at 2^31-1 ms; longer waits are re-armed. */
const MAX_TIMER = 2 ** 31 - 1;

export class JwtAccounts {
  /** Accounts whose JWT expires, and the timer that closes their clients then. */
  private readonly expiry = new Map<Account, NodeJS.Timeout>();
  /** Importers with an activation token that expires, and the timer that re-checks their imports. */
  private readonly activations = new Map<Account, NodeJS.Timeout>();
  /** Accounts whose imports are being made (an exporter made meanwhile must not remake them). */
  private readonly wiring = new Set<Account>();

  /**
   * Told when the service imports of an account change after it is in use (leaf connections announce
   * their subjects as interest): the local subjects before and after.
   */
  onServiceImportsChanged: ((acc: Account, before: string[], after: string[]) => void) | undefined;

  /** Told of every account JWT put in force (JetStream enables the account with its limits). */
  onApplied: ((acc: Account, limits: JsLimitTiers | undefined) => void) | undefined;

  constructor(private readonly host: JwtAccountsHost) {}

  private get trust(): OperatorTrust | undefined {
    return this.host.auth.operator;
  }

  /** The account named `name`, built from its JWT the first time it is asked for; undefined if none. */
  lookup(name: string): Account | undefined {
    const existing = this.host.accounts.get(name);
    if (existing?.jwt !== undefined) return existing;
    const t = this.trust?.account(name);
    if (t === undefined) return existing;
    const acc = existing ?? new Account(name, !this.host.options.noSublistCache);
    this.host.accounts.set(name, acc);
    this.host.logger.debug(`Account [${name}] loaded from its JWT`);
    this.apply(acc, t);
    return acc;
  }

  /**
   * The resolver holds a new JWT for `name`: apply it if the account is in use and the JWT verifies
   * (nats-server's DirJWTStore changed callback); else it waits for the next lookup.
   */
  changed(name: string, jwt: string): void {
    const trust = this.trust;
    if (trust === undefined) return;
    trust.forget(name);
    const acc = this.host.accounts.get(name);
    if (acc === undefined) return;
    const v = trust.verify(jwt, name);
    if (typeof v === 'string') {
      // The account keeps the claims it has, as in nats-server.
      this.host.logger.error(`update resulted in error ${v}`);
      if (acc.jwt !== undefined) trust.replace(acc.jwt);
      return;
    }
    trust.replace(v);
    this.apply(acc, v);
  }

  /** The JWT of `name` was deleted: nobody may use the account any more (nats-server's removeCb). */
  deleted(name: string): void {
    this.trust?.forget(name);
    const acc = this.host.accounts.get(name);
    if (acc === undefined) return;
    this.host.logger.debug(`Disable account ${name} due to remove`);
    acc.maxConnections = 0;
    acc.maxSubs = 0;
    acc.maxPayload = 0;
    acc.maxLeafs = 0;
    acc.jwt = undefined;
    this.clearExpiry(acc);
    acc.expired = true;
    const before = serviceImportSubjects(acc);
    acc.removeServiceImports((i) => i.jwt === true);
    this.onServiceImportsChanged?.(acc, before, serviceImportSubjects(acc));
    for (const other of this.host.accounts.values()) other.removeStreamImporters((i) => i.importer === acc);
    this.clearTimer(this.activations, acc);
    expireClients(acc);
  }

  /** Close the account's clients when its JWT expires (nats-server's checkExpiration). */
  private scheduleExpiry(acc: Account, t: TrustedAccount): void {
    this.clearExpiry(acc);
    acc.expired = false;
    const exp = t.claims.exp;
    if (typeof exp !== 'number' || exp <= 0) return;
    const arm = (): void => {
      const left = exp * 1000 - Date.now();
      if (left <= 0) {
        this.expiry.delete(acc);
        acc.expired = true;
        this.host.logger.debug(`Account [${acc.name}] has expired`);
        expireClients(acc);
        return;
      }
      const timer = setTimeout(arm, Math.min(left, MAX_TIMER));
      timer.unref();
      this.expiry.set(acc, timer);
    };
    arm();
  }

  private clearExpiry(acc: Account): void {
    this.clearTimer(this.expiry, acc);
  }

  /** Stop the expiry timers (shutdown). */
  stop(): void {
    for (const timers of [this.expiry, this.activations]) {
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    }
  }

  /** Put `t` in force for `acc`: limits, imports (its own and those from it), then its clients. */
  private apply(acc: Account, t: TrustedAccount): void {
    const old = acc.jwt;
    acc.jwt = t;
    acc.updateTime = new Date();
    const limits = t.claims.nats.limits ?? {};
    // An absent limit is 0 whatever the version: jwt's version 1 account decoder, unlike its user
    // decoder, does not default the limits to -1.
    const version = 2;
    acc.maxConnections = limitOf(limits.conn, version);
    acc.maxSubs = limitOf(limits.subs, version);
    acc.maxPayload = limitOf(limits.payload, version);
    acc.maxLeafs = limitOf(limits.leaf, version);
    acc.mapper = this.mapperOf(acc, t);
    this.scheduleExpiry(acc, t);
    this.wireImports(acc);
    this.onApplied?.(acc, jsLimitsOf(t));
    // Others' imports from this account depend on its exports, and some may have waited for it to come
    // (nats-server's incomplete imports, completed when the exporter is loaded).
    for (const other of this.host.accounts.values()) {
      // An account whose imports are being made right now (this one was made for it) takes it there.
      if (other === acc || other.jwt === undefined || this.wiring.has(other)) continue;
      if ((other.jwt.claims.nats.imports ?? []).some((i) => i.account === acc.name)) this.wireImports(other);
    }
    if (old !== undefined) this.checkClients(acc, t, old);
  }

  /**
   * The JWT's `mappings` (nats-server's updateAccountClaimsWithRefresh): each replaces the account's
   * mapping of its source, and mappings the JWT no longer has go, so the JWT's list is the account's. A
   * weight of 0 is 100 (jwt's GetWeight). A mapping AddWeightedMappings refuses is left out (nats-server
   * ignores the error).
   */
  private mapperOf(acc: Account, t: TrustedAccount): SubjectMapper | null {
    const configs: MappingConfig[] = [];
    for (const [subject, list] of Object.entries(t.claims.nats.mappings ?? {})) {
      const c: MappingConfig = {
        subject,
        destinations: (Array.isArray(list) ? list : []).map((m) => ({
          subject: m.subject,
          weight: m.weight !== undefined && m.weight !== 0 ? m.weight : 100,
          ...(m.cluster !== undefined && m.cluster !== '' ? { cluster: m.cluster } : {}),
        })),
      };
      const problem = mappingProblem(c);
      if (problem !== undefined) {
        this.host.logger.debug(`account ${acc.name}: mapping ${subject} not added: ${problem}`);
        continue;
      }
      configs.push(c);
    }
    return configs.length > 0 ? new SubjectMapper(configs) : null;
  }

  /** (Re)make the imports `acc`'s JWT asks for, each where the exporter's JWT allows it. */
  private wireImports(acc: Account): void {
    const before = serviceImportSubjects(acc);
    this.wiring.add(acc);
    try {
      this.makeImports(acc);
    } finally {
      this.wiring.delete(acc);
    }
    this.onServiceImportsChanged?.(acc, before, serviceImportSubjects(acc));
  }

  private makeImports(acc: Account): void {
    acc.removeServiceImports((i) => i.jwt === true);
    for (const other of this.host.accounts.values()) {
      other.removeStreamImporters((i) => i.jwt === true && i.importer === acc);
    }
    this.clearTimer(this.activations, acc);
    let recheckAt = Number.POSITIVE_INFINITY;
    for (const i of acc.jwt?.claims.nats.imports ?? []) {
      const type = String(i.type).toLowerCase();
      const exporter = this.lookup(i.account);
      const auth =
        exporter?.jwt !== undefined ? importAllowed(exporter.jwt, acc.name, i) : { ok: false as const };
      if (exporter === undefined) {
        // Maybe another server has the exporter's JWT: when it comes, the exporter is made and this import
        // wired then (see apply).
        this.host.logger.debug(
          `account ${acc.name}: exporter ${i.account} of ${type} import ${i.subject} unknown`,
        );
        void this.trust?.fetchAccount(i.account).then((got) => {
          if (got) this.lookup(i.account);
        });
        continue;
      }
      if (!auth.ok) {
        this.host.logger.debug(
          `account ${acc.name}: ${type} import ${i.subject} from ${i.account} not authorized`,
        );
        continue;
      }
      // An activation token that expires takes its import away then (nats-server's activationExpired).
      if (auth.expiresAt !== undefined) recheckAt = Math.min(recheckAt, auth.expiresAt);
      const local = i.local_subject !== undefined && i.local_subject !== '' ? i.local_subject : '';
      if (type === 'stream') {
        exporter.addStreamImporter({
          importer: acc,
          subject: i.subject,
          prefix: local === '' ? (i.to ?? '') : '',
          to: local,
          jwt: true,
        });
      } else if (type === 'service') {
        // With local_subject the importer publishes there; else on subject, sent to `to`.
        const remote = local !== '' ? i.subject : i.to || i.subject;
        const rt = auth.export.response_type;
        acc.addServiceImport({
          local: local !== '' ? local : i.subject,
          exporter,
          remote,
          singleton: rt !== 'Stream' && rt !== 'Chunked',
          jwt: true,
        });
      }
    }
    if (recheckAt !== Number.POSITIVE_INFINITY) {
      const timer = setTimeout(
        () => this.wireImports(acc),
        Math.min(Math.max(recheckAt - Date.now(), 0) + 1, MAX_TIMER),
      );
      timer.unref();
      this.activations.set(acc, timer);
    }
  }

  private clearTimer(timers: Map<Account, NodeJS.Timeout>, acc: Account): void {
    const timer = timers.get(acc);
    if (timer !== undefined) clearTimeout(timer);
    timers.delete(acc);
  }

  /**
   * The account's clients under its new JWT (the loop at the end of nats-server's
   * updateAccountClaimsWithRefresh): the oldest clients over `conn` go first.
   */
  private checkClients(acc: Account, t: TrustedAccount, old: TrustedAccount): void {
    const clients = [...acc.clients].sort((a, b) => b.start.getTime() - a.start.getTime());
    clients.forEach((c, i) => {
      if (c.closed) return;
      if (acc.maxConnections >= 0 && i >= acc.maxConnections) {
        c.maxAccountConnExceeded();
        return;
      }
      c.applyAccountLimits();
      enforce(c, userStanding(acc, t, old, c.opts.jwt ?? ''));
    });
    // Leaf connections bound to the account: the same checks, against `leaf`.
    const leafs = this.host.leafConnections(acc).sort((a, b) => b.start.getTime() - a.start.getTime());
    leafs.forEach((l, i) => {
      if (l.closed) return;
      if (acc.maxLeafs >= 0 && i >= acc.maxLeafs) {
        l.sendErr('maximum account active connections exceeded');
        l.close(ClosedReason.MaxAccountConnectionsExceeded);
        return;
      }
      enforce(l, userStanding(acc, t, old, l.userJwt));
    });
  }
}

/** A JWT's JetStream limits, plain or of one tier (jwt v2's JetStreamLimits). */
type JwtJsLimits = Record<string, number | boolean | undefined>;

/**
 * The JetStream limits an account JWT gives (nats-server's updateAccountClaimsWithRefresh, jwt's
 * IsJSEnabled): with `tiered_limits`, every tier as it is (one without storage still limits its tier to
 * nothing) and the plain limits ignored (jwt's decoder clears them then); else the plain limits, as the
 * default tier. JetStream is on when a tier, or the plain limits, give memory or disk storage; never for
 * a version 1 JWT.
 */
export function jsLimitsOf(t: TrustedAccount): JsLimitTiers | undefined {
  // jwt's migration of a version 1 account JWT leaves its JetStream limits out.
  if ((t.claims.nats.version ?? 1) < 2) return undefined;
  const l = (t.claims.nats.limits ?? {}) as JwtJsLimits;
  const rawTiers = t.claims.nats.limits?.tiered_limits;
  const tiers =
    typeof rawTiers === 'object' && rawTiers !== null
      ? Object.entries(rawTiers as Record<string, JwtJsLimits>)
      : [];
  const hasStorage = (js: JwtJsLimits): boolean =>
    num(js, 'mem_storage') !== 0 || num(js, 'disk_storage') !== 0;
  if (tiers.length > 0) {
    if (!tiers.some(([, js]) => hasStorage(js))) return undefined;
    return new Map(tiers.map(([name, js]) => [name, accountLimitsOf(js)]));
  }
  return hasStorage(l) ? untiered(accountLimitsOf(l)) : undefined;
}

function num(js: JwtJsLimits, k: string): number {
  const v = js[k];
  return typeof v === 'number' ? v : 0;
}

/** jwt's JetStreamLimits as JetStreamAccountLimits: 0 for the per-stream bounds means unlimited (-1). */
function accountLimitsOf(js: JwtJsLimits): JsAccountLimits {
  const unlimited = (v: number): number => (v > 0 ? v : -1);
  return {
    maxMemory: num(js, 'mem_storage'),
    maxStore: num(js, 'disk_storage'),
    maxStreams: num(js, 'streams'),
    maxConsumers: num(js, 'consumer'),
    maxAckPending: unlimited(num(js, 'max_ack_pending')),
    memoryMaxStreamBytes: unlimited(num(js, 'mem_max_stream_bytes')),
    storeMaxStreamBytes: unlimited(num(js, 'disk_max_stream_bytes')),
    maxBytesRequired: js.max_bytes_required === true,
  };
}

/** The subjects the account's clients send requests on through its service imports. */
function serviceImportSubjects(acc: Account): string[] {
  return acc.serviceImports.map((i) => i.local);
}

/** The account's JWT expired or was deleted: its clients go (nats-server's accountAuthExpired). */
function expireClients(acc: Account): void {
  for (const c of [...acc.clients]) {
    c.server.logger.debug(`${c} - Account Authentication Expired`);
    c.sendErr('Account Authentication Expired');
    c.close(ClosedReason.AuthenticationExpired);
  }
}

/** A connection logged in with a user JWT: a client or a leaf. */
export interface JwtConnection {
  readonly start: Date;
  readonly closed: boolean;
  sendErr(err: string): void;
  close(reason: ClosedReason): void;
}

/** Where a connection's user stands under the account's new JWT. */
type Standing = 'ok' | 'violation' | 'revoked' | 'signer-gone';

/**
 * nats-server's checks of each connection after an account update: the user JWT still decodes, is not a
 * bearer token the account now refuses, is not revoked, and its signing key (or scope) is unchanged.
 */
function userStanding(acc: Account, t: TrustedAccount, old: TrustedAccount, jwt: string): Standing {
  if (jwt === '') return 'ok';
  let user: ReturnType<typeof decodeUserClaims>;
  try {
    user = decodeUserClaims(jwt);
  } catch {
    return 'violation';
  }
  if (t.claims.nats.limits?.disallow_bearer === true && user.nats.bearer_token === true) return 'violation';
  if (isRevoked(t.claims, user.sub, user.iat)) return 'revoked';
  if (user.iss === acc.name || t.signingKeys.has(user.iss)) return 'ok';
  const scope = t.scopes.get(user.iss);
  if (scope === undefined || JSON.stringify(scope) !== JSON.stringify(old.scopes.get(user.iss))) {
    return 'signer-gone';
  }
  return 'ok';
}

function enforce(c: JwtConnection, standing: Standing): void {
  switch (standing) {
    case 'violation':
      c.sendErr('Authorization Violation');
      c.close(ClosedReason.AuthenticationViolation);
      break;
    case 'revoked':
      c.sendErr('User Authentication Revoked');
      c.close(ClosedReason.Revocation);
      break;
    case 'signer-gone':
      // nats-server closes these without a word.
      c.close(ClosedReason.AuthenticationViolation);
      break;
  }
}
