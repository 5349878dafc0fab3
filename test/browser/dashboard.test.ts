/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core loads `/` from a server
 * with live traffic; the numbers shown must match /varz once traffic stops, the charts must grow, the
 * tables must list the connections, closed connections and subscriptions, sorting must work, nothing may
 * be blocked by the page's CSP, and a phone-sized viewport must not scroll sideways.
 *
 * Skipped when /usr/bin/chromium is missing (`apt-get install -y chromium`). Set TSNATS_SCREENSHOT_DIR to
 * keep laptop and phone screenshots.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import type { Server } from '../../src/index.js';
import type { Varz } from '../../src/monitor/varz.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from '../helpers/chromium.js';
import { startServer, urlOf } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * The page's globals, typed for the few uses here: this project compiles without the DOM library, and
 * the page's CSP forbids string evaluation, so page functions (serialized into the page, so self-contained)
 * reach them through globalThis.
 */
interface PageGlobals {
  innerWidth: number;
  document: {
    body: { dataset: Record<string, string | undefined> };
    documentElement: { scrollWidth: number };
  };
}

/** The number shown in an element, thousands separators removed. */
async function shown(page: Page, id: string): Promise<number> {
  const text = (await page.textContent(`#${id}`)) ?? '';
  const n = Number(text.replace(/,/g, ''));
  assert.ok(!Number.isNaN(n), `#${id} shows a number: ${JSON.stringify(text)}`);
  return n;
}

async function attr(page: Page, selector: string, name: string): Promise<number> {
  return Number((await page.getAttribute(selector, name)) ?? 'NaN');
}

/** Wait for the page to finish `n` more polls than it had. */
async function polls(page: Page, n: number): Promise<void> {
  const start = await attr(page, 'body', 'data-polls');
  await page.waitForFunction(
    (target) => Number((globalThis as unknown as PageGlobals).document.body.dataset.polls) >= target,
    start + n,
    {
      timeout: 10000,
    },
  );
}

describe('dashboard in chromium', { skip: chromiumMissing() }, () => {
  test('shows live numbers that match /varz and charts that move', async () => {
    const server: Server = await startServer({ httpPort: -1, serverName: 'dash-test' });
    const base = `http://127.0.0.1:${server.monitor!.port}`;
    const userDataDir = mkdtempSync(join(tmpdir(), 'tsnats-chromium-'));
    const conns: NatsConnection[] = [];
    let context: BrowserContext | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      const sub = await connect({ servers: urlOf(server), reconnect: false, name: 'dash-sub' });
      const pub = await connect({ servers: urlOf(server), reconnect: false, name: 'dash-pub' });
      conns.push(sub, pub);
      let received = 0;
      sub.subscribe('demo.>', {
        callback: () => {
          received++;
        },
      });
      sub.subscribe('demo.orders', { queue: 'workers', callback: () => {} });
      await sub.flush();
      const gone = await connect({ servers: urlOf(server), reconnect: false, name: 'dash-gone' });
      await gone.close();
      await waitFor(() => server.closedClients.length === 1, 3000, 'the closed connection');

      // Live traffic: a few messages every 20 ms until stopped.
      let published = 0;
      const payload = new Uint8Array(64).fill(0x41);
      timer = setInterval(() => {
        for (let i = 0; i < 5; i++) pub.publish(i % 2 === 0 ? 'demo.orders' : 'demo.events', payload);
        published += 5;
      }, 20);

      context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        args: CHROMIUM_ARGS,
        headless: true,
        viewport: { width: 1280, height: 900 },
      });
      const page = context.pages()[0] ?? (await context.newPage());
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      await page.goto(`${base}/?interval=250`);
      await polls(page, 2);
      assert.equal(await page.textContent('#server-name'), 'dash-test');
      assert.equal(await page.textContent('#server-id'), server.id);

      // The charts grow while traffic flows, and show a non-zero rate.
      const p0 = await attr(page, '#chart-msgs', 'data-points');
      await polls(page, 3);
      const p1 = await attr(page, '#chart-msgs', 'data-points');
      assert.ok(p1 >= p0 + 2, `chart points grew: ${p0} -> ${p1}`);
      assert.ok((await attr(page, '#chart-msgs', 'data-max')) > 0, 'msgs chart has a scale');
      assert.ok((await attr(page, '#chart-bytes', 'data-points')) >= p1 - 1);
      assert.match((await page.textContent('#rate-msgs')) ?? '', /in .* out msg\/s/);

      // Stop the traffic; once every message is delivered, the numbers shown equal /varz.
      clearInterval(timer);
      timer = undefined;
      await pub.flush();
      await sub.flush();
      await waitFor(() => received === published, 5000, 'every message delivered');
      await polls(page, 2);
      const v = (await (await fetch(`${base}/varz`)).json()) as Varz;
      assert.equal(v.in_msgs, published);
      for (const k of [
        'connections',
        'total_connections',
        'subscriptions',
        'slow_consumers',
        'in_msgs',
        'out_msgs',
        'in_bytes',
        'out_bytes',
      ] as const) {
        assert.equal(await shown(page, `v-${k}`), v[k], k);
      }
      assert.match((await page.textContent('#server-uptime')) ?? '', /^(\d+[ydhm])*\d+s$/);

      // Tables: open connections, the closed one with its reason, subscriptions by subject, no routes.
      const cids = await page.$$eval('#conns tbody tr[data-cid]', (rows) =>
        rows.map((r) => Number(r.getAttribute('data-cid'))),
      );
      assert.deepEqual(
        cids,
        [...server.clients.keys()].sort((a, b) => a - b),
      );
      const closed = await page.textContent('#closed tbody');
      assert.match(closed ?? '', /dash-gone.*Client Closed/s);
      const subjects = await page.$$eval('#subs tbody tr', (rows) =>
        rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)),
      );
      assert.deepEqual(
        subjects.map((r) => r.slice(0, 3)),
        [
          ['demo.>', '', '1'],
          ['demo.orders', 'workers', '1'],
        ],
      );
      assert.match((await page.textContent('#routes tbody')) ?? '', /No routes/);

      // Sorting by "Msgs in": the publisher first.
      await page.click('#conns th[data-sort="msgs_from"]');
      await polls(page, 2);
      assert.equal(await page.getAttribute('#conns th[data-sort="msgs_from"]', 'aria-sort'), 'descending');
      const first = await page.textContent('#conns tbody tr:first-child td:nth-child(2)');
      assert.equal(first, 'dash-pub');

      const shots = process.env.TSNATS_SCREENSHOT_DIR;
      if (shots) await page.screenshot({ path: join(shots, 'dashboard-laptop.png'), fullPage: true });

      // A phone: everything fits the width (wide tables scroll inside their panel).
      await page.setViewportSize({ width: 390, height: 844 });
      await polls(page, 1);
      const overflow = await page.evaluate(() => {
        const w = globalThis as unknown as PageGlobals;
        return w.document.documentElement.scrollWidth - w.innerWidth;
      });
      assert.ok(overflow <= 0, `no sideways scrolling on a phone (overflow ${overflow}px)`);
      if (shots) await page.screenshot({ path: join(shots, 'dashboard-phone.png'), fullPage: true });

      assert.deepEqual(problems, [], 'no script errors, no CSP violations');
    } finally {
      if (timer) clearInterval(timer);
      await context?.close();
      await Promise.all(conns.map((c) => c.close()));
      await server.shutdown();
      rmSync(userDataDir, { recursive: true, force: true });
    }
  });
});
