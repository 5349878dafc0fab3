/**
 * `npm start` serves the whole product: the flags of package.json's start script give clients, monitoring
 * and JetStream. Run here with random ports and a temp store added after them (later flags win).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launch } from '../helpers/launcher.js';

const pkg = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8'),
) as {
  scripts: Record<string, string>;
};

test('the start script turns on monitoring and JetStream', async () => {
  const m = /^\.\/bin\/tsnats (.*)$/.exec(pkg.scripts.start ?? '');
  assert.ok(m, `start script: ${pkg.scripts.start}`);
  const flags = m[1]!.split(/\s+/);
  assert.ok(flags.includes('-js'), 'JetStream is on');
  assert.ok(flags.includes('-m'), 'monitoring is on');
  const store = mkdtempSync(join(tmpdir(), 'tsnats-start-'));
  // The script's flags, then random ports and a temp store instead of 4222, 8222 and ./data.
  const srv = await launch({ args: [...flags, '-m', '-1', '-sd', store], listeners: ['nats', 'monitoring'] });
  try {
    const varz = (await (await fetch(`${srv.monitorUrl}/varz`)).json()) as {
      jetstream: { config?: { store_dir?: string } };
    };
    assert.equal(varz.jetstream.config?.store_dir, join(store, 'jetstream'));
  } finally {
    await srv.stop();
    rmSync(store, { recursive: true, force: true });
  }
});
