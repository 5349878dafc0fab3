/**
 * The per-account monitoring requests of the system account (nats-server's events.go, monAccSrvc):
 * `$SYS.REQ.ACCOUNT.<account>.<EP>` for SUBSZ, CONNZ, LEAFZ, JSZ, INFO and STATZ, and
 * `$SYS.REQ.ACCOUNT.PING.STATZ` (every server answers for the accounts asked about). The request body
 * carries the endpoint's options as JSON; the account comes from the subject and overrides any given.
 *
 * Every other account imports a few of them from the system account (nats-server's registerSystemImports),
 * so that its users can ask about their own account without system access:
 *   `$SYS.REQ.ACCOUNT.PING.CONNZ` and `$SYS.REQ.SERVER.PING.CONNZ` -> `$SYS.REQ.ACCOUNT.<account>.CONNZ`
 *   `$SYS.REQ.ACCOUNT.PING.STATZ` -> `$SYS.REQ.ACCOUNT.<account>.STATZ`
 *   `$SYS.REQ.USER.INFO` -> `$SYS.REQ.USER.<account>.INFO` (the system account imports this one from itself)
 */
import type { Account, ServiceImport } from '../server/account.js';
import { type AccountStatz, accountStatz, accountz } from './accountz.js';
import { connz, parseConnzQuery } from './connz.js';
import { jszAccount, parseJszQuery } from './jsz.js';
import { leafz, parseLeafzQuery } from './leafz.js';
import type { MonitoredServer } from './state.js';
import { parseSubszQuery, subsz } from './subsz.js';

type Json = Record<string, unknown>;

/** Returned by an endpoint that has nothing to say: no reply at all (nats-server's errSkipZreq). */
export const NO_REPLY: unique symbol = Symbol('no reply');

/** An account endpoint: the account named in the subject, the request's options as JSON and as a query. */
export type AccountEndpoint = (account: string, opts: Json, q: URLSearchParams) => unknown;

/** nats-server's AccountStatzOptions, from a request body. */
function statzOptions(opts: Json): { accounts: string[]; includeUnused: boolean } {
  const accounts = Array.isArray(opts.accounts)
    ? opts.accounts.filter((a): a is string => typeof a === 'string')
    : [];
  return { accounts, includeUnused: opts.include_unused === true };
}

/**
 * nats-server's AccountStatz: the named accounts (all when none is named), those without connections only
 * with `include_unused`; no reply when that leaves none and unused ones were not asked for.
 */
export function accountStatzRequest(server: MonitoredServer, opts: Json): AccountStatz | typeof NO_REPLY {
  const o = statzOptions(opts);
  const all = accountStatz(server, { unused: o.includeUnused });
  const stz =
    o.accounts.length === 0
      ? all
      : { ...all, account_statz: all.account_statz.filter((a) => o.accounts.includes(a.acc)) };
  if (stz.account_statz.length === 0 && !o.includeUnused) return NO_REPLY;
  return stz;
}

/** The endpoints of `$SYS.REQ.ACCOUNT.<account>.<EP>`, by EP. */
export function accountEndpoints(server: MonitoredServer): Record<string, AccountEndpoint> {
  const withAccount = (q: URLSearchParams, account: string): URLSearchParams => {
    q.set('acc', account);
    return q;
  };
  return {
    SUBSZ: (account, _opts, q) => {
      q.set('subs', '1');
      return subsz(server, parseSubszQuery(withAccount(q, account)));
    },
    CONNZ: (account, _opts, q) => connz(server, parseConnzQuery(withAccount(q, account))),
    LEAFZ: (account, _opts, q) => leafz(server, parseLeafzQuery(withAccount(q, account))),
    JSZ: (account, _opts, q) => jszAccount(server, account, parseJszQuery(q)),
    INFO: (account) => accountz(server, { account }).account_detail,
    STATZ: (account, opts) => {
      // `$SYS.REQ.ACCOUNT.PING.STATZ` has its own handler; the wildcard one leaves it alone.
      if (account === 'PING') return NO_REPLY;
      return accountStatzRequest(server, { ...opts, accounts: [account] });
    },
  };
}

/** The imports from the system account every other account gets (see the file comment). */
function systemImports(acc: Account, sys: Account): ServiceImport[] {
  const connz = `$SYS.REQ.ACCOUNT.${acc.name}.CONNZ`;
  const imports: ServiceImport[] = [
    { local: '$SYS.REQ.ACCOUNT.PING.CONNZ', exporter: sys, remote: connz, singleton: false },
    { local: '$SYS.REQ.SERVER.PING.CONNZ', exporter: sys, remote: connz, singleton: false },
    {
      local: '$SYS.REQ.ACCOUNT.PING.STATZ',
      exporter: sys,
      remote: `$SYS.REQ.ACCOUNT.${acc.name}.STATZ`,
      singleton: false,
    },
  ];
  return [...imports, userInfoImport(acc, sys)];
}

function userInfoImport(acc: Account, sys: Account): ServiceImport {
  return {
    local: '$SYS.REQ.USER.INFO',
    exporter: sys,
    remote: `$SYS.REQ.USER.${acc.name}.INFO`,
    singleton: true,
  };
}

/**
 * Give `acc` the system imports it lacks; an import the configuration already has for the same subject
 * from the system account is kept (nats-server's serviceImportExists check). Returns those added.
 */
export function addSystemImports(acc: Account, sys: Account): ServiceImport[] {
  const wanted = acc === sys ? [userInfoImport(sys, sys)] : systemImports(acc, sys);
  const added: ServiceImport[] = [];
  for (const imp of wanted) {
    if (acc.serviceImports.some((i) => i.exporter === sys && i.local === imp.local)) continue;
    acc.addServiceImport(imp);
    added.push(imp);
  }
  return added;
}
