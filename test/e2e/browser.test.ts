// e2e-target: offline-only — drives the offline runtime's live console in a local browser
/**
 * The live console in headless Chromium (a system Chromium if there is one, else the one shipped
 * in the `@sparticuz/chromium` npm package; driven by playwright-core): it connects with a dev token, shows events written during the test,
 * survives a server-side drop without losing any, shows an event's audit trail, and leaves a
 * screenshot in test-artifacts/console.png.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { writeEventsResponseSchema } from '../../local/console/apiSchemas.js';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { findChromium } from '../helpers/chromium.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const TENANT = 'tenant-browser-e2e';
const CHANNEL = 'orders';
const WAIT = { timeout: 120_000 };

async function countShown(page: Page): Promise<number> {
  return Number(await page.textContent('#count'));
}

async function waitForCount(page: Page, count: number): Promise<void> {
  await page.waitForFunction((n) => Number(document.querySelector('#count')?.textContent) >= n, count, WAIT);
}

describe('live console in headless Chromium', () => {
  let runtime: Runtime;
  let context: BrowserContext | undefined;
  const userDataDir = mkdtempSync(join(tmpdir(), 'outbox-relay-chromium-'));

  beforeAll(async () => {
    runtime = await startRuntime({ quiet: true });
    const browser = await findChromium();
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: browser.executablePath,
      headless: true,
      viewport: { width: 1440, height: 900 },
      args: [...browser.args],
    });
  });
  afterAll(async () => {
    await context?.close();
    await runtime?.stop();
    rmSync(userDataDir, { recursive: true, force: true });
  });

  it('shows live events, survives a forced disconnect without losing any, and shows the audit trail', async () => {
    if (!context) throw new Error('Chromium did not start');
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    try {
      await exerciseConsole(page);
    } finally {
      // Also on failure: the picture shows what the page was showing.
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'console.png') });
    }
    expect(pageErrors).toEqual([]);
  }, 300_000);

  async function exerciseConsole(page: Page): Promise<void> {
    await page.goto(runtime.endpoints.console);
    await page.waitForSelector('body[data-ready="true"]', WAIT);

    await page.fill('#tenant', TENANT);
    await page.fill('#channels', CHANNEL);
    await page.click('#connect');
    await page.waitForSelector('#state[data-live="true"]', WAIT);

    // Written through the page's own button.
    await page.fill('#demo-channel', CHANNEL);
    await page.fill('#demo-count', '20');
    await page.click('#write');
    await waitForCount(page, 20);

    // Write 40 more and drop the socket from the server side while they are still flowing.
    const writing = fetch(new URL('/console/api/events', runtime.endpoints.console), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        tenantId: TENANT,
        channel: CHANNEL,
        count: 40,
        message: 'written around the drop',
      }),
    });
    await waitForCount(page, 25);
    await page.click('#drop');
    await page.waitForFunction(
      () => document.querySelector('#reconnects')?.textContent === '1',
      undefined,
      WAIT,
    );
    const { eventIds: aroundDrop } = writeEventsResponseSchema.parse(await (await writing).json());
    await waitForCount(page, 60);
    await page.waitForSelector('#state[data-live="true"]', WAIT);
    await runtime.waitForIdle({ timeoutMs: 60_000 });

    const shown = z
      .array(z.string())
      .parse(await page.$$eval('#events tr', (rows) => rows.map((row) => row.getAttribute('data-event-id'))));
    expect(await countShown(page)).toBe(60);
    expect(new Set(shown).size).toBe(60);
    // Demo events have strictly increasing times, and ULIDs sort by time: position order is id order.
    expect(shown).toEqual([...shown].sort());
    expect(shown.slice(20)).toEqual(aroundDrop);
    expect(await page.textContent('#reconnects')).toBe('1');

    // The audit trail of an event written while disconnected.
    await page.click(`#events tr[data-event-id="${aroundDrop[30]}"]`);
    await page.waitForFunction(
      () =>
        document.querySelector('#details-body')?.textContent?.includes('Recorded in the audit log') ?? false,
      undefined,
      WAIT,
    );
    expect(await page.textContent('#details-body')).toMatch(/websocket/);
  }
});
