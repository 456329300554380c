// Live drift monitoring in a real server on loopback: the drift gauges on /metrics and /monitor.json,
// the drift flag flipping when the traffic shifts, and a fresh window when the alias moves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestProject,
  publishBundle,
  startTestServer,
  type TestProject,
  type TestServer,
} from '../fixtures/model.js';
import type { MonitorSnapshot } from '../../src/serve/monitor-report.js';
import { requestRecords, shifted, trainMonitoredBundle } from './monitor-fixture.js';

const WINDOW = 500;

async function post(url: string, body: unknown): Promise<void> {
  const response = await fetch(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 200)
    throw new Error(`POST /predict answered ${response.status}: ${await response.text()}`);
}

/** Sends records as single requests (the first few) and batches (the rest), as clients do. */
async function send(url: string, records: Record<string, unknown>[]): Promise<void> {
  const singles = Math.min(40, records.length);
  for (let index = 0; index < singles; index++) await post(url, records[index]);
  for (let index = singles; index < records.length; index += 100)
    await post(url, { records: records.slice(index, index + 100) });
}

/** Gauge values by series, e.g. `pipewright_feature_drift{feature="Age"}` -> 1. */
async function gauges(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!/^pipewright_(feature_|prediction_psi|prediction_drift|monitor_)/.test(line)) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

async function snapshot(url: string): Promise<MonitorSnapshot> {
  return (await (await fetch(`${url}/monitor.json`)).json()) as MonitorSnapshot;
}

describe('live drift monitoring in serve', () => {
  let project: TestProject;
  let server: TestServer;

  beforeAll(async () => {
    project = await createTestProject({ publish: false });
    await publishBundle(project.registry, (await trainMonitoredBundle(project.schema)).bundle);
    server = await startTestServer(project, {
      monitor: { window: WINDOW, minCount: 300, psiThreshold: 0.2, ksThreshold: 0.1 },
    });
  });
  afterAll(async () => {
    await server?.close();
    project?.cleanup();
  });

  it('exposes PSI, drift flags and the window size on /metrics, and flags drift once the traffic shifts', async () => {
    const before = await gauges(server.url);
    expect(before.get('pipewright_monitor_window_size')).toBe(0);

    const records = requestRecords(project.schema, WINDOW, 11);
    await send(server.url, records);
    const steady = await gauges(server.url);
    expect(steady.get('pipewright_monitor_window_size')).toBe(WINDOW);
    for (const feature of ['Age', 'Gender', 'Vehicle_Damage', 'Annual_Premium']) {
      expect(steady.get(`pipewright_feature_psi{feature="${feature}"}`), feature).toBeLessThan(0.2);
      expect(steady.get(`pipewright_feature_drift{feature="${feature}"}`), feature).toBe(0);
    }
    expect(steady.get('pipewright_prediction_psi')).toBeLessThan(0.2);
    expect(steady.get('pipewright_prediction_drift')).toBe(0);
    expect((await snapshot(server.url)).status).toBe('ok');

    // A full window of shifted traffic replaces the steady one.
    await send(server.url, records.map(shifted));
    const moved = await gauges(server.url);
    expect(moved.get('pipewright_monitor_window_size')).toBe(WINDOW);
    for (const feature of ['Age', 'Vehicle_Damage', 'Annual_Premium']) {
      expect(moved.get(`pipewright_feature_psi{feature="${feature}"}`), feature).toBeGreaterThan(0.2);
      expect(moved.get(`pipewright_feature_drift{feature="${feature}"}`), feature).toBe(1);
    }
    expect(moved.get('pipewright_feature_drift{feature="Gender"}')).toBe(0);
    expect(moved.get('pipewright_prediction_drift')).toBe(1);
    const drifted = await snapshot(server.url);
    expect(drifted.status).toBe('drift');
    expect(drifted.window).toMatchObject({ size: WINDOW, count: WINDOW, observed: 2 * WINDOW });
    expect(drifted.features.find((feature) => feature.field === 'Age')).toMatchObject({ drifted: true });
  });

  it('starts a new window against the new reference when the alias moves to another version', async () => {
    expect((await snapshot(server.url)).window.count).toBeGreaterThan(0);
    const next = await publishBundle(
      project.registry,
      (await trainMonitoredBundle(project.schema, { seed: 8 })).bundle,
    );
    await expect
      .poll(async () => (await snapshot(server.url)).version, { timeout: 10_000, interval: 50 })
      .toBe(next.version);
    const fresh = await snapshot(server.url);
    expect(fresh.window.count).toBe(0);
    expect(fresh.features.every((feature) => feature.psi === null)).toBe(true);
    await send(server.url, requestRecords(project.schema, 10, 12));
    expect((await snapshot(server.url)).window).toMatchObject({ count: 10, observed: 10 });
  });
});
