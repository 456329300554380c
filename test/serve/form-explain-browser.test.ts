// The prediction form's explanation chart in a real browser (Debian's Chromium through playwright-core):
// after a prediction, an SVG bar chart names the fields that moved the answer most, each with its signed
// value, matching what POST /predict?explain=true answers for the same record.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium } from '../helpers/browser.js';
import {
  createTestProject,
  startTestServer,
  validRecord,
  type TestProject,
  type TestServer,
} from '../fixtures/model.js';

describe.skipIf(!chromiumAvailable)('the prediction form’s explanation chart in Chromium', () => {
  let project: TestProject;
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    project = await createTestProject({
      publish: { modelType: 'gbdt', params: { max_iter: 30 }, rows: 1200 },
    });
    server = await startTestServer(project);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    project?.cleanup();
  });

  it('draws the top contributions with field names and signs under the answer', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${server.url}/`);
    await page.getByLabel('Gender', { exact: true }).selectOption('Male');
    await page.getByLabel('Age', { exact: true }).fill('44');
    await page.getByLabel('Driving license', { exact: true }).selectOption('1');
    await page.getByLabel('Region code', { exact: true }).fill('28');
    await page.getByLabel('Previously insured', { exact: true }).selectOption('0');
    await page.getByLabel('Vehicle age', { exact: true }).selectOption('> 2 Years');
    await page.getByLabel('Vehicle damage', { exact: true }).selectOption('Yes');
    await page.getByLabel('Annual premium', { exact: true }).fill('40454');
    await page.getByLabel('Policy sales channel', { exact: true }).fill('26');
    await page.getByLabel('Vintage', { exact: true }).fill('217');
    await page.getByRole('button', { name: 'Predict' }).click();

    const chart = page.locator('#result-why svg');
    await chart.waitFor({ state: 'visible' });
    expect(await chart.getAttribute('role')).toBe('img');
    const rows = await page.locator('#result-why svg g').evaluateAll((groups) =>
      groups.map((group) => ({
        field: group.querySelector('text')?.textContent ?? '',
        value: group.querySelector('text.value')?.textContent ?? '',
        direction: group.getAttribute('class'),
      })),
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThanOrEqual(8);

    // The chart shows the API's largest contributions for the same record, in order, with their signs.
    const api = (await (
      await fetch(`${server.url}/predict?explain=true`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(validRecord()),
      })
    ).json()) as { explanation: { contributions: Record<string, number> } };
    const expected = Object.entries(api.explanation.contributions)
      .filter(([, value]) => value !== 0)
      .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
      .slice(0, rows.length);
    expect(rows.map((row) => row.field)).toEqual(expected.map(([field]) => field));
    rows.forEach((row, index) => {
      const value = expected[index][1];
      expect(row.value.startsWith(value > 0 ? '+' : '−')).toBe(true);
      expect(row.direction).toBe(value > 0 ? 'up' : 'down');
    });
    expect(await page.locator('#result-why-caption').textContent()).toMatch(/log-odds/);
    expect(problems).toEqual([]);
    await page.close();
  });
});
