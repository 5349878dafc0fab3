/**
 * The full account resolver's requests in the system account (nats-server's DirAccResolver.Start,
 * server/accounts.go), with its replies:
 *
 * - `$SYS.REQ.ACCOUNT.<key>.CLAIMS.UPDATE` (and the older `$SYS.ACCOUNT.<key>.CLAIMS.UPDATE`, which other
 *   servers of a cluster send on as they store an update) and `$SYS.REQ.CLAIMS.UPDATE`: store an
 *   account JWT and apply it to the account in use;
 * - `$SYS.REQ.ACCOUNT.<key>.CLAIMS.LOOKUP`: the stored JWT, as is (no answer when there is none);
 * - `$SYS.REQ.CLAIMS.LIST`: the stored accounts' keys;
 * - `$SYS.REQ.CLAIMS.DELETE`: with `allow_delete`, a JWT self-signed by the operator (or one of its
 *   signing keys) listing `accounts` to delete;
 * - `$SYS.REQ.CLAIMS.PACK`: every `interval` each server sends the hash of its directory; a server whose
 *   hash differs answers with its JWTs, one `<key>|<jwt>` per message and an empty one to end, and the
 *   asker keeps those newer than its own.
 *
 * As in nats-server, an update is stored once it decodes, without checking who signed it: the account
 * only takes it when it verifies against the trusted operators.
 *
 * The cache resolver (CacheDirAccResolver) answers the same requests but LOOKUP, stores only updates of
 * accounts in use ("jwt update cache skipped" for the others), words its replies "jwt updated cache",
 * and deletes files outright.
 */
import {
  type AccountClaims,
  accountValidationErrors,
  decodeAccountClaims,
  decodeGenericClaims,
  isPublicKey,
} from '../auth/jwt.js';
import type { DirJwtStore } from '../auth/jwt-store.js';
import type { OperatorTrust } from '../auth/operator.js';
import { nuid } from '../util/nuid.js';
import type { Account } from './account.js';
import type { ServerCore } from './core.js';
import type { JwtAccounts } from './jwt-accounts.js';
import type { Subscription } from './subscription.js';

type Json = Record<string, unknown>;

const UPDATE_NEW = '$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE';
const UPDATE_OLD = '$SYS.ACCOUNT.*.CLAIMS.UPDATE';
const UPDATE_ANY = '$SYS.REQ.CLAIMS.UPDATE';
const LOOKUP = '$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP';
const LIST = '$SYS.REQ.CLAIMS.LIST';
const DELETE = '$SYS.REQ.CLAIMS.DELETE';
const PACK = '$SYS.REQ.CLAIMS.PACK';

export class ClaimsRequests {
  private readonly subs: Subscription[] = [];
  /** Where the answers to this server's PACK requests arrive. */
  private readonly packInbox = `$SYS._INBOX.${nuid()}`;
  private packTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly server: ServerCore,
    private readonly sys: Account,
    private readonly trust: OperatorTrust,
    private readonly store: DirJwtStore,
    private readonly accounts: JwtAccounts,
    /** The `server` object of system replies (SystemRequests.serverInfo). */
    private readonly serverInfo: () => Json,
  ) {}

  private get cache(): boolean {
    return this.trust.resolverConfig.type === 'cache';
  }

  /** The reply words of the full resolver, or the cache's. */
  private get words(): { failed: string; updated: string } {
    return this.cache
      ? { failed: 'jwt update cache resulted in error', updated: 'jwt updated cache' }
      : { failed: 'jwt update resulted in error', updated: 'jwt updated' };
  }

  start(): void {
    const on = (
      subject: string,
      fn: (subject: string, reply: string, body: string, raw: Buffer) => void,
    ): void => {
      this.subs.push(
        this.server.subscribeInternal(this.sys, subject, (subj, reply, hdr, buf, start, size) => {
          const raw = buf.subarray(hdr > 0 ? start + hdr : start, start + size);
          fn(subj, reply, raw.toString('utf8'), raw);
        }),
      );
    };
    on(UPDATE_NEW, (subj, reply, body) => this.updateFor(subj.split('.')[3]!, reply, body));
    on(UPDATE_OLD, (subj, reply, body) => this.updateFor(subj.split('.')[2]!, reply, body));
    on(UPDATE_ANY, (_subj, reply, body) => this.update(reply, body));
    if (!this.cache) on(LOOKUP, (subj, reply) => this.lookup(subj.split('.')[3]!, reply));
    on(LIST, (_subj, reply) => {
      if (reply !== '')
        this.send(reply, JSON.stringify({ data: this.store.keys(), server: this.serverInfo() }));
    });
    on(DELETE, (_subj, reply, body) => this.delete(reply, body));
    const rc = this.trust.resolverConfig;
    if (rc.type === 'full') {
      // A plain subscription, not nats-server's queue group: this server's own requests would pick it.
      on(PACK, (_subj, reply, _body, raw) => this.pack(reply, raw));
      on(this.packInbox, (_subj, _reply, body) => this.merge(body));
      this.packTimer = setInterval(
        () => this.server.delivery.defer(this.sys, PACK, this.packInbox, null, this.store.hash()),
        rc.intervalMs,
      );
      this.packTimer.unref();
    }
    this.trust.fetcher = (name) => this.fetch(name);
    this.server.logger.notice(
      `Managing ${this.cache ? 'some' : 'all'} jwt in exclusive directory ${this.store.directory}`,
    );
  }

  /**
   * Ask the other servers for an account's JWT (`$SYS.REQ.ACCOUNT.<key>.CLAIMS.LOOKUP`): the first
   * answer, or undefined after the resolver's `timeout` (nats-server's Server.fetch).
   */
  fetch(name: string): Promise<string | undefined> {
    const rc = this.trust.resolverConfig;
    const timeoutMs = rc.type === 'memory' ? 1900 : rc.timeoutMs;
    const inbox = `$SYS._INBOX.${nuid()}`;
    return new Promise((resolve) => {
      let sub: Subscription | undefined;
      const done = (jwt: string | undefined): void => {
        clearTimeout(timer);
        if (sub !== undefined) this.server.unsubscribeInternal(this.sys, sub);
        sub = undefined;
        resolve(jwt);
      };
      const timer = setTimeout(() => {
        this.server.logger.warn(`Account fetch failed: fetching jwt timed out (${name})`);
        done(undefined);
      }, timeoutMs);
      timer.unref();
      sub = this.server.subscribeInternal(this.sys, inbox, (_subj, _reply, hdr, buf, start, size) => {
        if (sub === undefined) return;
        done(buf.toString('utf8', hdr > 0 ? start + hdr : start, start + size));
      });
      this.server.delivery.defer(this.sys, `$SYS.REQ.ACCOUNT.${name}.CLAIMS.LOOKUP`, inbox, null);
    });
  }

  stop(): void {
    this.trust.fetcher = undefined;
    if (this.packTimer !== undefined) clearInterval(this.packTimer);
    this.packTimer = undefined;
    for (const sub of this.subs) this.server.unsubscribeInternal(this.sys, sub);
    this.subs.length = 0;
  }

  /** An update for the account the subject names. */
  private updateFor(key: string, reply: string, body: string): void {
    const { failed } = this.words;
    let claims: AccountClaims;
    try {
      claims = decodeAccountClaims(body);
    } catch (e) {
      this.respond(reply, this.cache ? key : 'n/a', failed, (e as Error).message);
      return;
    }
    const { sub, iss } = claims;
    // The full resolver validates first, the cache just before saving (in save).
    if (!this.cache && this.invalid(reply, claims)) return;
    if (sub !== key) this.respond(reply, key, failed, 'subject does not match jwt content');
    else if (this.strictlyOperator(iss))
      this.respond(reply, key, failed, 'operator requires issuer to be a signing key');
    else this.save(reply, key, body, claims);
  }

  /** An update for the account the JWT names. */
  private update(reply: string, body: string): void {
    const { failed } = this.words;
    let claims: AccountClaims;
    try {
      claims = decodeAccountClaims(body);
    } catch (e) {
      this.respond(reply, 'n/a', failed, (e as Error).message);
      return;
    }
    const { sub, iss } = claims;
    if (this.strictlyOperator(iss))
      this.respond(reply, sub, failed, 'operator requires issuer to be a signing key');
    else if (this.cache || !this.invalid(reply, claims)) this.save(reply, sub, body, claims);
  }

  /** Signed by the operator itself while it demands signing keys (strict_signing_key_usage). */
  private strictlyOperator(iss: string): boolean {
    const op = this.trust.firstOperator;
    return op !== undefined && op.strict && iss === op.key;
  }

  /**
   * jwt's Account.Validate refusing the claims (nats-server's claimValidate): answered with its errors as
   * Go prints a slice of them.
   */
  private invalid(reply: string, claims: AccountClaims): boolean {
    const errors = accountValidationErrors(claims);
    if (errors.length === 0) return false;
    const message = this.cache ? 'jwt update cache validation failed' : 'jwt validation failed';
    this.respond(reply, claims.sub, message, `validation errors: [${errors.join(' ')}]`);
    return true;
  }

  private save(reply: string, key: string, jwt: string, claims: AccountClaims): void {
    const { failed, updated } = this.words;
    // A cache keeps only the accounts in use.
    if (this.cache && !this.server.accounts.has(key)) {
      this.respond(reply, key, 'jwt update cache skipped');
      return;
    }
    if (this.cache && this.invalid(reply, claims)) return;
    let changed: boolean;
    try {
      changed = this.store.save(key, jwt);
    } catch (e) {
      this.respond(reply, key, failed, (e as Error).message);
      return;
    }
    if (changed) this.accounts.changed(key, jwt);
    this.respond(reply, key, updated);
  }

  private lookup(key: string, reply: string): void {
    if (reply === '') return;
    const jwt = this.store.load(key);
    if (jwt === undefined) {
      // Nobody answers for an account this server does not have; another server may.
      this.server.logger.debug(`lookup request for unknown account ${key}`);
      return;
    }
    this.send(reply, jwt);
  }

  /** Answer another server's PACK request: nothing to send when the hashes agree, else every JWT. */
  private pack(reply: string, theirHash: Buffer): void {
    if (reply === '' || reply === this.packInbox) return;
    if (!this.store.hash().equals(theirHash)) {
      for (const key of this.store.keys()) {
        const jwt = this.store.load(key);
        if (jwt !== undefined) this.send(reply, `${key}|${jwt}`);
      }
    }
    // An empty message ends the answer.
    this.send(reply, '');
  }

  /** JWTs from another server's PACK answer: kept when newer than ours (nats-server's Merge). */
  private merge(body: string): void {
    if (body === '') return;
    for (const line of body.split('\n')) {
      if (line === '') continue;
      const parts = line.split('|');
      const [key, jwt] = parts as [string, string];
      if (parts.length !== 2 || !isPublicKey(key, 'A')) {
        this.server.logger.error(
          `Merging resulted in error: line in package didn't contain 2 entries: ${JSON.stringify(line)}`,
        );
        return;
      }
      try {
        if (this.store.saveIfNewer(key, jwt)) this.accounts.changed(key, jwt);
      } catch (e) {
        this.server.logger.error(`Merging resulted in error: ${(e as Error).message}`);
        return;
      }
    }
  }

  /** nats-server's handleDeleteRequest. */
  private delete(reply: string, body: string): void {
    let subject = '';
    let keys: string[] = [];
    let err: string | undefined;
    try {
      const gc = decodeGenericClaims(body);
      subject = gc.sub;
      const list = gc.nats.accounts;
      if (this.store.deleteMode === 'none') err = 'delete must be enabled in server config';
      else if (gc.sub !== gc.iss) err = 'not self signed';
      else if (!this.operatorKeys().has(gc.iss)) err = 'not trusted';
      else if (!Array.isArray(list)) err = 'malformed request';
      else {
        const sys = this.server.systemAccount?.name ?? '';
        for (const k of list) {
          if (typeof k !== 'string' || !isPublicKey(k, 'A')) {
            err = 'malformed request';
            break;
          }
          if (k === sys) {
            err = 'not allowed to delete system account';
            break;
          }
        }
        keys = list as string[];
      }
    } catch (e) {
      err = (e as Error).message;
    }
    if (err !== undefined) {
      this.respond(reply, '', `delete accounts request by ${subject} failed`, err);
      return;
    }
    const errors: string[] = [];
    let passed = 0;
    for (const k of keys) {
      try {
        if (this.store.delete(k)) this.accounts.deleted(k);
        passed++;
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    if (errors.length === 0) this.respond(reply, '', `deleted ${passed} accounts`);
    else
      this.respond(reply, '', `deleted ${passed} accounts, failed for ${errors.length}`, errors.join('\n'));
  }

  /** The first operator's keys that may delete (nats-server's getOperatorKeys). */
  private operatorKeys(): Set<string> {
    const keys = new Set<string>();
    const op = this.trust.operators[0];
    if (op === undefined) return keys;
    if (op.nats.strict_signing_key_usage !== true) keys.add(op.sub);
    for (const k of op.nats.signing_keys ?? []) keys.add(k);
    return keys;
  }

  /** nats-server's respondToUpdate: log it, and answer `{data: ...}` or `{error: ...}` when asked. */
  private respond(reply: string, account: string, message: string, err?: string): void {
    const log = this.server.logger;
    const who = account === '' ? '' : ` - ${account}`;
    if (err === undefined) log.debug(`${message}${who}`);
    else log.error(`${message}${who} - ${err}`);
    if (reply === '') return;
    const m: Json = {};
    if (account !== '') m.account = account;
    m.code = err === undefined ? 200 : 500;
    if (err === undefined) m.message = message;
    else m.description = `${message} - ${err}`;
    // Go marshals the reply map with its keys sorted.
    const out =
      err === undefined ? { data: m, server: this.serverInfo() } : { error: m, server: this.serverInfo() };
    this.send(reply, JSON.stringify(out));
  }

  /** Inside a delivery: deferred (delivery.ts, re-entrancy rule). */
  private send(reply: string, text: string): void {
    this.server.delivery.defer(this.sys, reply, '', null, Buffer.from(text, 'utf8'));
  }
}
