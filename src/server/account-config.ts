import type { AccountConfig, ExportConfig } from '../auth/types.js';
import { SubjectMapper } from '../routing/mapping.js';
import { subjectIsSubsetMatch } from '../routing/subject.js';
import { Account, GLOBAL_ACCOUNT } from './account.js';

/** Whether `importer` may import `subject` under one of `exports` of the given kind. */
function exportFor(
  exports: ExportConfig[],
  kind: 'stream' | 'service',
  subject: string,
  importer: string,
): ExportConfig | undefined {
  for (const e of exports) {
    const exported = e[kind];
    if (exported === undefined) continue;
    if (subject !== exported && !subjectIsSubsetMatch(subject, exported)) continue;
    if (e.accounts !== undefined && e.accounts.length > 0 && !e.accounts.includes(importer)) continue;
    return e;
  }
  return undefined;
}

/**
 * Build the accounts of a configuration and connect their imports to the exports they name. An import
 * that no export allows is an error, as nats-server refuses it at start ("stream import not authorized").
 */
export function buildAccounts(configs: AccountConfig[], sublistCache = true): Map<string, Account> {
  const accounts = new Map<string, Account>([[GLOBAL_ACCOUNT, new Account(GLOBAL_ACCOUNT, sublistCache)]]);
  const byName = new Map<string, AccountConfig>();
  for (const c of configs) {
    if (!accounts.has(c.name)) accounts.set(c.name, new Account(c.name, sublistCache));
    byName.set(c.name, c);
    if (c.mappings !== undefined && c.mappings.length > 0) {
      accounts.get(c.name)!.mapper = new SubjectMapper(c.mappings);
    }
  }
  for (const c of configs) {
    const importer = accounts.get(c.name)!;
    for (const imp of c.imports) {
      if (imp.stream !== undefined) {
        const { account, subject } = imp.stream;
        const exporter = accounts.get(account);
        const ec = byName.get(account);
        if (exporter === undefined || ec === undefined)
          throw new Error(`account "${account}" not found for stream import`);
        if (exportFor(ec.exports, 'stream', subject, c.name) === undefined) {
          throw new Error(
            `stream import not authorized: account "${c.name}" importing "${subject}" from "${account}"`,
          );
        }
        exporter.addStreamImporter({ importer, subject, prefix: imp.prefix ?? '', to: imp.to ?? '' });
      } else if (imp.service !== undefined) {
        const { account, subject } = imp.service;
        const exporter = accounts.get(account);
        const ec = byName.get(account);
        if (exporter === undefined || ec === undefined)
          throw new Error(`account "${account}" not found for service import`);
        const e = exportFor(ec.exports, 'service', subject, c.name);
        if (e === undefined) {
          throw new Error(
            `service import not authorized: account "${c.name}" importing "${subject}" from "${account}"`,
          );
        }
        importer.addServiceImport({
          local: imp.to !== undefined && imp.to !== '' ? imp.to : subject,
          exporter,
          remote: subject,
          singleton: (e.responseType ?? 'Singleton') === 'Singleton',
        });
      }
    }
  }
  return accounts;
}
