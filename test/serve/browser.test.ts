// The prediction form in a real browser (Debian's Chromium through playwright-core): filled in with the
// keyboard and the mouse, checked in the page before sending, and showing label, probability and version.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium } from '../helpers/browser.js';
import {
  createTestProject,
  ROOT,
  startTestServer,
  validRecord,
  type TestProject,
  type TestServer,
} from '../fixtures/model.js';

const available = chromiumAvailable;

describe.skipIf(!available)('the prediction form in Chromium', () => {
  let project: TestProject;
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    project = await createTestProject();
    server = await startTestServer(project);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1000, height: 1100 } });
    // A blocked inline script or style (CSP) or any script error shows up here.
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
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

  it('checks the inputs in the page before sending anything', async () => {
    await page.goto(`${server.url}/`);
    await page.getByLabel('Age', { exact: true }).fill('12');
    await page.getByRole('button', { name: 'Predict' }).click();
    await expect.poll(() => page.locator('#error-Age').textContent()).not.toBe('');
    expect(await page.getByLabel('Age', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#error-Gender').textContent()).toBe('Choose a value.');
    expect(await page.locator('#result').isHidden()).toBe(true);
    // The first invalid control takes the focus, so a keyboard user lands on it.
    expect(
      await page.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document
            .activeElement?.id,
      ),
    ).toBe('field-Gender');
  });

  it('predicts from the filled-in form and shows the label, the probability and the model version', async () => {
    await page.goto(`${server.url}/`);
    // Keyboard first: the first control is reachable with Tab after the skip link.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(
      await page.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document
            .activeElement?.id,
      ),
    ).toBe('field-Gender');
    await page.keyboard.press('ArrowDown');
    await page.getByLabel('Age', { exact: true }).fill('44');
    await page.getByLabel('Driving license', { exact: true }).selectOption('1');
    await page.getByLabel('Region code', { exact: true }).fill('28');
    await page.getByLabel('Previously insured', { exact: true }).selectOption('0');
    await page.getByLabel('Vehicle age', { exact: true }).selectOption('> 2 Years');
    await page.getByLabel('Vehicle damage', { exact: true }).selectOption('Yes');
    await page.getByLabel('Annual premium', { exact: true }).fill('40454');
    await page.getByLabel('Policy sales channel', { exact: true }).fill('26');
    await page.getByLabel('Vintage', { exact: true }).fill('217');
    await page.getByLabel('Vintage', { exact: true }).press('Enter');

    await page.locator('#result').waitFor({ state: 'visible' });
    const label = await page.locator('#result-label').textContent();
    const probability = await page.locator('#result-probability').textContent();
    const version = await page.locator('#result-version').textContent();
    expect(['0', '1']).toContain(label);
    expect(probability).toMatch(/^\d{1,3}\.\d%$/);
    expect(version).toBe('v1');
    expect(await page.locator('#result-request').textContent()).not.toBe('');

    // The page shows what the API answers for the same record.
    const api = (await (
      await fetch(`${server.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(validRecord()),
      })
    ).json()) as { probability: number; label: number };
    expect(probability).toBe(`${(api.probability * 100).toFixed(1)}%`);
    expect(label).toBe(String(api.label));

    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-results', 'serve-form.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
