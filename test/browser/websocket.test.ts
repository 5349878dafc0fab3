/**
 * A real browser on websocket: Debian's chromium (driven by playwright-core) loads the browser example
 * (examples/browser/index.html with the nats.ws bundle, served by examples/browser/serve.ts), which
 * connects to the server over websocket. A Node client's messages (small ones and one of 200 KB, which
 * goes to a browser in many frames) must appear on the page, text typed on the page must reach the Node
 * client, and the page's request must be answered by a Node responder. Run against tsnats and, when
 * installed, nats-server 2.9.10 with the same configuration file.
 *
 * Skipped when /usr/bin/chromium is missing (`apt-get install -y chromium`).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type BrowserContext, chromium } from 'playwright-core';
import { servePage } from '../../examples/browser/serve.js';
import { deferred, within } from '../helpers/async.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from '../helpers/chromium.js';
import { type Launched, launch, type ServerKind } from '../helpers/launcher.js';
import { hasReference } from '../helpers/reference.js';

/** The page's globals, typed for the one use here (this project compiles without the DOM library). */
interface PageGlobals {
  document: { body: { dataset: Record<string, string | undefined> } };
}

const KINDS: ServerKind[] = hasReference() ? ['tsnats', 'nats-server'] : ['tsnats'];

describe('websocket in chromium', { skip: chromiumMissing() }, () => {
  for (const kind of KINDS) {
    for (const compression of [false, true]) {
      test(`the browser example talks to ${kind} (compression: ${compression})`, async () => {
        const srv: Launched = await launch({
          kind,
          config: `websocket { listen: "127.0.0.1:-1", no_tls: true, compression: ${compression} }\n`,
          listeners: ['nats', 'websocket'],
        });
        const userDataDir = mkdtempSync(join(tmpdir(), 'tsnats-chromium-'));
        let page: HttpServer | undefined;
        let context: BrowserContext | undefined;
        let nc: NatsConnection | undefined;
        try {
          page = await servePage(0);
          const addr = page.address();
          const pagePort = typeof addr === 'object' && addr !== null ? addr.port : 0;

          nc = await connect({ servers: srv.url, reconnect: false });
          const asked = deferred<string>();
          nc.subscribe('demo.time', {
            callback: (_e, m) => {
              asked.resolve(m.string());
              m.respond('time to test');
            },
          });
          const typed = nc.subscribe('demo.chat', { max: 1 });
          await nc.flush();

          context = await chromium.launchPersistentContext(userDataDir, {
            executablePath: CHROMIUM,
            args: CHROMIUM_ARGS,
            headless: true,
          });
          const tab = context.pages()[0] ?? (await context.newPage());
          const problems: string[] = [];
          tab.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
          tab.on('console', (m) => {
            if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
          });
          const server = encodeURIComponent(srv.websocketUrl!);
          await tab.goto(`http://127.0.0.1:${pagePort}/?server=${server}`);
          await tab.waitForFunction(
            () => (globalThis as unknown as PageGlobals).document.body.dataset.subscribed === 'true',
            undefined,
            { timeout: 10000 },
          );
          assert.match((await tab.textContent('#status')) ?? '', /^connected to /);

          // Node -> page: small messages and a 200 KB one, in order.
          const big = 'x'.repeat(200 * 1024);
          nc.publish('demo.news', 'hello browser');
          nc.publish('demo.news.big', big);
          nc.publish('demo.news', 'goodbye browser');
          await tab.waitForFunction(
            () => Number((globalThis as unknown as PageGlobals).document.body.dataset.received) >= 3,
            undefined,
            { timeout: 10000 },
          );
          const items = await tab.$$eval('#messages li', (lis) =>
            lis.map((li) => [
              li.textContent ?? '',
              (li as unknown as PageGlobals['document']['body']).dataset.bytes,
            ]),
          );
          assert.equal(items.length, 3);
          assert.deepEqual(items[0], ['demo.news: hello browser', '13']);
          assert.equal(items[1]![1], String(big.length));
          assert.equal(items[1]![0], `demo.news.big: ${big}`);
          assert.deepEqual(items[2], ['demo.news: goodbye browser', '15']);

          // Page -> Node: a message typed in the form.
          await tab.fill('#text', 'typed in chromium');
          await tab.click('#publish button');
          const chat = await within(
            (async () => {
              for await (const m of typed) return m.string();
              return '';
            })(),
            10000,
            'the message published by the page',
          );
          assert.equal(chat, 'typed in chromium');

          // The page's request, answered by the Node responder.
          await tab.click('#ask');
          assert.equal(await within(asked.promise, 10000, 'the page’s request'), 'what time is it?');
          await tab.waitForFunction(
            () =>
              (
                globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }
              ).document.getElementById('reply').textContent !== '',
            undefined,
            { timeout: 10000 },
          );
          assert.equal(await tab.textContent('#reply'), 'time to test');
          assert.deepEqual(problems, []);
        } finally {
          await context?.close();
          await nc?.close();
          page?.close();
          rmSync(userDataDir, { recursive: true, force: true });
          await srv.stop();
        }
      });
    }
  }
});
