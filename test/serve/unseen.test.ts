// Over real HTTP: a record valid under the contract but outside the training data is scored and
// flagged (JSON and batch answers), counted in /metrics and on /monitor; the form offers the
// categories seen for an open category, and the OpenAPI document sets no enum for it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestProject,
  openSchemaText,
  startTestServer,
  validRecord,
  type TestProject,
  type TestServer,
} from '../fixtures/model.js';

type Json = Record<string, any>;

async function post(url: string, body: unknown): Promise<{ status: number; body: Json }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

describe('serving values unseen in training', () => {
  let project: TestProject;
  let server: TestServer;

  beforeAll(async () => {
    project = await createTestProject({
      schema: openSchemaText,
      publish: { rows: 600, modelType: 'gbdt', params: { max_iter: 20 }, referenceStats: true },
    });
    server = await startTestServer(project);
  });
  afterAll(async () => {
    await server?.close();
    project?.cleanup();
  });

  it('scores a record with an unknown category and a number beyond the range, naming field and reason', async () => {
    const answer = await post(`${server.url}/predict`, {
      ...validRecord(),
      Vehicle_Age: 'Hover car',
      Age: 250,
    });
    expect(answer.status).toBe(200);
    expect(answer.body.probability).toBeGreaterThanOrEqual(0);
    expect(answer.body.warnings).toEqual(
      expect.arrayContaining([
        { field: 'Vehicle_Age', reason: 'unseen_category' },
        { field: 'Age', reason: 'above_range' },
      ]),
    );
    expect(answer.body.warnings).toHaveLength(2);
  });

  it('answers a record within the training data without warnings', async () => {
    const answer = await post(`${server.url}/predict`, validRecord());
    expect(answer.status).toBe(200);
    expect(answer.body).not.toHaveProperty('warnings');
  });

  it('flags each record of a batch on its own', async () => {
    const answer = await post(`${server.url}/predict`, {
      records: [validRecord(), { ...validRecord(), Gender: 'Other', Annual_Premium: null }],
    });
    expect(answer.status).toBe(200);
    expect(answer.body.predictions[0]).not.toHaveProperty('warnings');
    expect(answer.body.predictions[1].warnings).toEqual(
      expect.arrayContaining([
        { field: 'Gender', reason: 'unseen_category' },
        { field: 'Annual_Premium', reason: 'unseen_missing' },
      ]),
    );
  });

  it('still refuses a record that breaks the contract', async () => {
    const answer = await post(`${server.url}/predict`, { ...validRecord(), Vehicle_Damage: 'Maybe' });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('PW_ROW_INVALID');
  });

  it('counts the flags by field and reason in /metrics and on /monitor', async () => {
    await post(`${server.url}/predict`, { ...validRecord(), Vehicle_Age: 'Boat' });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const count = (field: string, reason: string): number => {
      const match = new RegExp(
        `pipewright_unseen_values_total\\{field="${field}",reason="${reason}"\\} (\\d+)`,
      ).exec(metrics);
      return match ? Number(match[1]) : 0;
    };
    expect(count('Vehicle_Age', 'unseen_category')).toBe(2);
    expect(count('Age', 'above_range')).toBe(1);
    expect(count('Gender', 'unseen_category')).toBe(1);
    const monitor = (await (await fetch(`${server.url}/monitor.json`)).json()) as Json;
    expect(monitor.unseen).toEqual(
      expect.arrayContaining([{ field: 'Vehicle_Age', reason: 'unseen_category', count: 2 }]),
    );
    const page = await (await fetch(`${server.url}/monitor`)).text();
    expect(page).toContain('data-feature="Vehicle_Age" data-reason="unseen_category"');
  });

  it('offers the categories seen for an open category in the form, and sets no enum in OpenAPI', async () => {
    const form = await (await fetch(`${server.url}/`)).text();
    expect(form).toMatch(
      /<input type="text" id="field-Vehicle_Age" name="Vehicle_Age" list="seen-Vehicle_Age"/,
    );
    expect(form).toMatch(/<datalist id="seen-Vehicle_Age">.*<option value="&gt; 2 Years">/);
    const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as Json;
    const text = JSON.stringify(openapi);
    const property = /"Vehicle_Age":(\{[^}]*\})/.exec(text);
    expect(property).not.toBeNull();
    expect(JSON.parse(property![1])).not.toHaveProperty('enum');
  });
});
