// What drives live predictions on /monitor: a sample of the requests is explained after they are
// answered, and the mean |SHAP| per field is shown beside the model card's reference from training.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleChecksum, type Bundle } from '../../src/ml/bundle.js';
import type { ModelCard } from '../../src/ml/card.js';
import type { MonitorSnapshot } from '../../src/serve/monitor-report.js';
import {
  createTestProject,
  publishBundle,
  startTestServer,
  type TestProject,
  type TestServer,
} from '../fixtures/model.js';
import { requestRecords, trainMonitoredBundle } from './monitor-fixture.js';

const EVERY = 20;

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

describe('mean |SHAP| of live traffic on /monitor', () => {
  let project: TestProject;
  let server: TestServer;
  const reference = { Age: 0.5, Vehicle_Damage: 0.25 };

  beforeAll(async () => {
    project = await createTestProject({ publish: false });
    const { bundle } = await trainMonitoredBundle(project.schema, {
      modelType: 'gbdt',
      params: { max_iter: 20 },
    });
    // the reference the run's evaluation would put on the card
    const { checksum: _checksum, ...body } = bundle;
    const card = {
      explanations: {
        space: 'log_odds',
        rows: 300,
        meanAbsShap: Object.entries(reference).map(([field, value]) => ({ field, value })),
      },
    } as unknown as ModelCard;
    const withCard = { ...body, metadata: { ...body.metadata, card } };
    const sealed: Bundle = { ...withCard, checksum: bundleChecksum(withCard) };
    await publishBundle(project.registry, sealed);
    server = await startTestServer(project, {
      monitor: { window: 500, minCount: 10, psiThreshold: 0.2, ksThreshold: 0.1, explainTimeShare: 1 },
    });
  });
  afterAll(async () => {
    await server?.close();
    project?.cleanup();
  });

  it('explains one request in 20 and shows the mean |SHAP| per field beside the reference', async () => {
    const records = requestRecords(project.schema, 3 * EVERY, 5);
    for (const record of records) await post(`${server.url}/predict`, record);
    const snapshot = (await (await fetch(`${server.url}/monitor.json`)).json()) as MonitorSnapshot;
    const attributions = snapshot.attributions!;
    expect(attributions.count).toBe(3);
    expect(attributions.every).toBe(EVERY);
    const fields = project.schema.features.map((field) => field.name);
    expect(attributions.fields.map((item) => item.field).sort()).toEqual([...fields].sort());
    for (const item of attributions.fields)
      expect(item.reference).toBe(reference[item.field as keyof typeof reference] ?? null);

    // the live means are those of the sampled requests: the 1st, 21st and 41st
    const sampled = [0, EVERY, 2 * EVERY].map((index) => records[index]);
    const explained = await Promise.all(
      sampled.map(
        async (record) =>
          (await post(`${server.url}/predict?explain=true`, record)).explanation as {
            contributions: Record<string, number>;
          },
      ),
    );
    for (const item of attributions.fields) {
      const mean =
        explained.reduce((sum, explanation) => sum + Math.abs(explanation.contributions[item.field]), 0) / 3;
      expect(Math.abs(item.live! - mean)).toBeLessThan(1e-9);
    }

    const page = await (await fetch(`${server.url}/monitor`)).text();
    expect(page).toContain('What drives predictions');
    expect(page).toContain('<th scope="row">Age</th>');
  });
});
