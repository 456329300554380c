// POST /predict?explain=true through the real server: the explanation's shape in JSON (one record and a
// batch) and CSV, its local accuracy (base + Σ contributions is the model's raw output) and /openapi.json.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestProject,
  startTestServer,
  validRecord,
  type TestProject,
  type TestServer,
} from '../fixtures/model.js';

type Json = any;

async function post(url: string, body: unknown): Promise<{ status: number; body: Json }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

const logOdds = (probability: number): number => Math.log(probability / (1 - probability));
const total = (explanation: { base: number; contributions: Record<string, number> }): number =>
  Object.values(explanation.contributions).reduce((sum, value) => sum + value, explanation.base);

describe.each([
  ['gradient boosting', { modelType: 'gbdt' as const, params: { max_iter: 30 }, rows: 1200 }],
  ['logistic regression', { modelType: 'logistic' as const }],
])('POST /predict?explain=true, %s', (_name, publish) => {
  let project: TestProject;
  let server: TestServer;
  let fields: string[];

  beforeAll(async () => {
    project = await createTestProject({ publish });
    server = await startTestServer(project);
    fields = project.schema.features.map((field) => field.name);
  });
  afterAll(async () => {
    await server?.close();
    project?.cleanup();
  });

  it('explains one record in log-odds, adding up to the probability the answer gives', async () => {
    const plain = await post(`${server.url}/predict`, validRecord());
    expect(plain.body.explanation).toBeUndefined();
    const answer = await post(`${server.url}/predict?explain=true`, validRecord());
    expect(answer.status).toBe(200);
    expect(answer.body.probability).toBe(plain.body.probability);
    const explanation = answer.body.explanation;
    expect(explanation.space).toBe('log_odds');
    expect(Object.keys(explanation.contributions).sort()).toEqual([...fields].sort());
    expect(Math.abs(total(explanation) - logOdds(answer.body.probability))).toBeLessThan(1e-6);
  });

  it('explains every record of a batch, each adding up to its own probability', async () => {
    const records = [18, 35, 52, 70].map((Age, index) => ({
      ...validRecord(),
      Age,
      Previously_Insured: index % 2,
      Vehicle_Damage: index % 2 ? 'No' : 'Yes',
    }));
    const answer = await post(`${server.url}/predict?explain=true`, { records });
    expect(answer.status).toBe(200);
    expect(answer.body.predictions).toHaveLength(records.length);
    // an explained record is scored from the explainer's encoding: the same answer as without
    const plain = await post(`${server.url}/predict`, { records });
    answer.body.predictions.forEach((prediction: Json, index: number) => {
      const { explanation, ...scored } = prediction;
      expect(explanation).toBeDefined();
      expect(scored).toEqual(plain.body.predictions[index]);
    });
    for (const prediction of answer.body.predictions) {
      expect(Object.keys(prediction.explanation.contributions).sort()).toEqual([...fields].sort());
      expect(Math.abs(total(prediction.explanation) - logOdds(prediction.probability))).toBeLessThan(1e-6);
    }
    const bases = new Set(answer.body.predictions.map((prediction: Json) => prediction.explanation.base));
    expect(bases.size).toBe(1);
  });

  it('answers explained requests sent at once each with its own record, as when sent alone', async () => {
    const records = Array.from({ length: 24 }, (_, index) => ({
      ...validRecord(),
      Age: 18 + index * 2,
      Previously_Insured: index % 2,
      Vehicle_Damage: index % 3 ? 'No' : 'Yes',
    }));
    const together = await Promise.all(
      records.map((record) => post(`${server.url}/predict?explain=true`, record)),
    );
    for (const [index, record] of records.entries()) {
      const alone = await post(`${server.url}/predict?explain=true`, record);
      const { requestId: _together, ...answer } = together[index].body;
      const { requestId: _alone, ...expected } = alone.body;
      expect(together[index].status).toBe(200);
      expect(answer).toEqual(expected);
    }
    expect(new Set(together.map((answer) => answer.body.probability)).size).toBeGreaterThan(1);
  });

  it('adds shap_base and one shap_<field> column per field to a CSV answer', async () => {
    const record = validRecord();
    const header = Object.keys(record);
    const csv = `${header.join(',')}\n${header.map((name) => record[name]).join(',')}\n`;
    const response = await fetch(`${server.url}/predict?explain=true`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: csv,
    });
    expect(response.status).toBe(200);
    const [head, line] = (await response.text()).trim().split('\n');
    const columns = head.split(',');
    expect(columns).toEqual(['probability', 'label', 'shap_base', ...fields.map((field) => `shap_${field}`)]);
    const values = line.split(',').map(Number);
    const sum = values.slice(2).reduce((acc, value) => acc + value, 0);
    expect(Math.abs(sum - logOdds(values[0]))).toBeLessThan(1e-6);
  });

  it('refuses an explain value that is neither true nor false', async () => {
    const answer = await post(`${server.url}/predict?explain=maybe`, validRecord());
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('PW_REQUEST_INVALID');
  });

  it('documents the parameter and the explanation in /openapi.json', async () => {
    const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as Json;
    const parameters = openapi.paths['/predict'].post.parameters as Json[];
    expect(parameters.map((parameter) => parameter.name)).toContain('explain');
    const schema = openapi.components.schemas.Explanation;
    expect(Object.keys(schema.properties.contributions.properties).sort()).toEqual([...fields].sort());
  });
});
