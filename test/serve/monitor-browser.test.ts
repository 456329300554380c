// The drift page in a real browser (Debian's Chromium through playwright-core): the status, one table
// row per feature with PSI, KS and status, and inline SVG bars of reference and live shares, all
// rendered under the page's Content-Security-Policy with nothing loaded from elsewhere.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium } from '../helpers/browser.js';
import {
  createTestProject,
  publishBundle,
  ROOT,
  startTestServer,
  type TestProject,
  type TestServer,
} from '../fixtures/model.js';
import { requestRecords, shifted, trainMonitoredBundle } from './monitor-fixture.js';

const available = chromiumAvailable;

describe.skipIf(!available)('the drift page in Chromium', () => {
  let project: TestProject;
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let bins: Map<string, number>;
  const problems: string[] = [];

  beforeAll(async () => {
    project = await createTestProject({ publish: false });
    const { bundle, stats } = await trainMonitoredBundle(project.schema);
    bins = new Map(stats.features.map((feature) => [feature.field, feature.proportions.length]));
    await publishBundle(project.registry, bundle);
    server = await startTestServer(project, { monitor: { window: 1000, minCount: 200 } });
    // Half steady, half shifted traffic: some features drift, others stay.
    const records = requestRecords(project.schema, 300, 21);
    for (const body of [records, records.map(shifted)]) {
      for (let index = 0; index < body.length; index += 100) {
        const response = await fetch(`${server.url}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ records: body.slice(index, index + 100) }),
        });
        expect(response.status).toBe(200);
      }
    }
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    // A style blocked by the CSP or any error in the page shows up here.
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('request', (request) => {
      if (!request.url().startsWith(server.url))
        problems.push(`request outside the server: ${request.url()}`);
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    project?.cleanup();
  });

  it('shows the verdict, a row per feature with its PSI and status, and reference and live bars', async () => {
    const response = await page.goto(`${server.url}/monitor`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'none'");
    await expect.poll(() => page.locator('h1').textContent()).toContain('drift monitor');
    expect(await page.locator('#status .badge').textContent()).toBe('drift');
    expect(await page.locator('#status').textContent()).toContain('Age');

    const rows = page.locator('#features tbody tr');
    expect(await rows.count()).toBe(project.schema.features.length);
    for (const field of project.schema.features.map((f) => f.name)) {
      const row = page.locator(`#features tbody tr[data-feature="${field}"]`);
      expect(Number(await row.locator('td.psi').textContent()), field).toBeGreaterThanOrEqual(0);
      // One reference and one live bar per bin, drawn with a visible size.
      const bars = row.locator('svg.bars');
      expect(await bars.locator('rect').count(), field).toBe(2 * bins.get(field)!);
      const box = await bars.boundingBox();
      expect(box?.width, field).toBeGreaterThan(20);
      expect(box?.height, field).toBeGreaterThan(20);
      expect(await bars.getAttribute('aria-label'), field).toContain('reference then live');
    }
    expect(await page.locator('tr[data-feature="Age"] .status').textContent()).toBe('drift');
    expect(await page.locator('tr[data-feature="Gender"] .status').textContent()).toBe('stable');
    // Drifted features come first.
    expect(await rows.first().getAttribute('class')).toBe('drifted');

    // The inline style applied (the CSP allows it by hash): live bars are filled, reference bars muted.
    const fills = await page.evaluate(() => {
      const view = globalThis as unknown as {
        document: { querySelector(selector: string): unknown };
        getComputedStyle(element: unknown): { fill: string; opacity: string };
      };
      const live = view.getComputedStyle(view.document.querySelector('tr[data-feature="Gender"] rect.live'));
      const reference = view.getComputedStyle(
        view.document.querySelector('tr[data-feature="Gender"] rect.reference'),
      );
      return { live: live.fill, referenceOpacity: reference.opacity };
    });
    expect(fills.live).not.toBe('rgb(0, 0, 0)');
    expect(fills.referenceOpacity).toBe('0.55');

    expect(await page.locator('#predictions svg.bars rect').count()).toBeGreaterThan(0);
    expect(await page.locator('#predictions').textContent()).toContain('Mean score');

    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-results', 'monitor.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
