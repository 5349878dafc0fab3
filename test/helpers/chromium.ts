/** Debian's chromium for the browser tests, driven by playwright-core. */
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';

/** Headless, sandbox-free (containers), and quiet: no network of its own, no updates, no sync. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A `skip` reason when chromium is not installed (`apt-get install -y chromium`), else false. */
export function chromiumMissing(): string | false {
  return !existsSync(CHROMIUM) && `${CHROMIUM} not installed`;
}
