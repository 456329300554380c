// The prediction API over real HTTP on loopback: predictions (JSON, batch, CSV), validation errors,
// limits, the informational endpoints, security headers, CORS, metrics and the prediction log.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { register as globalRegistry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Predictor } from '../../src/ml/bundle.js';
import { FolderRegistry } from '../../src/registry/folder.js';
import { compileCoercer } from '../../src/schema/coerce.js';
import { parseSchema } from '../../src/schema/schema.js';
import { buildServer } from '../../src/serve/server.js';
import { EmbeddedStore } from '../../src/store/sqlite.js';
import { silentLogger } from '../../src/core/logger.js';
import { connect } from 'node:net';
import {
  createTestProject,
  publishBundle,
  startTestServer,
  validRecord,
  type TestProject,
  type TestServer,
} from '../fixtures/model.js';
import { readFileSync } from 'node:fs';

type Json = Record<string, any>;

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: Json;
  try {
    parsed = JSON.parse(text) as Json;
  } catch {
    parsed = { text };
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

describe('the prediction API', () => {
  let project: TestProject;
  let server: TestServer;
  let predictor: Predictor;

  beforeAll(async () => {
    project = await createTestProject({ serve: { max_batch: 50, body_limit_bytes: 20_000 } });
    server = await startTestServer(project);
    predictor = Predictor.load((await project.registry.load('v1')).bytes, project.schema);
  });
  afterAll(async () => {
    await server?.close();
    project?.cleanup();
  });

  it('scores one JSON record with the probability, the label at the threshold, the version and a request id', async () => {
    const response = await post(`${server.url}/predict`, validRecord());
    expect(response.status).toBe(200);
    const coerced = compileCoercer(project.schema, { fields: 'inputs' })(validRecord());
    expect(coerced.ok).toBe(true);
    const expected = predictor.score(coerced.record);
    expect(response.body.probability).toBeCloseTo(expected, 12);
    expect(response.body.label).toBe(expected >= predictor.threshold ? 1 : 0);
    expect(response.body.version).toBe('v1');
    expect(typeof response.body.requestId).toBe('string');
    expect(response.headers.get('x-request-id')).toBe(response.body.requestId);
  });

  it('accepts values given as text, as a CSV or form would send them', async () => {
    const asText = Object.fromEntries(
      Object.entries(validRecord()).map(([name, value]) => [name, String(value)]),
    );
    const [typed, text] = await Promise.all([
      post(`${server.url}/predict`, validRecord()),
      post(`${server.url}/predict`, asText),
    ]);
    expect(text.status).toBe(200);
    expect(text.body.probability).toBe(typed.body.probability);
  });

  it('reuses a sane x-request-id and replaces one that is not', async () => {
    const sane = await post(`${server.url}/predict`, validRecord(), { 'x-request-id': 'client-42.a' });
    expect(sane.body.requestId).toBe('client-42.a');
    const insane = await post(`${server.url}/predict`, validRecord(), { 'x-request-id': 'bad id <script>' });
    expect(insane.body.requestId).not.toContain('<');
    expect(insane.headers.get('x-request-id')).toBe(insane.body.requestId);
  });

  it('refuses an invalid record with 400 and one reason per field, without a stack or the schema', async () => {
    const record: Json = { ...validRecord(), Age: 'forty', Gender: 'Robot', Annual_Premium: -5 };
    delete record.Vintage;
    const response = await post(`${server.url}/predict`, record);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('PW_ROW_INVALID');
    const byField = Object.fromEntries(response.body.error.fields.map((f: Json) => [f.field, f.reason]));
    expect(Object.keys(byField).sort()).toEqual(['Age', 'Annual_Premium', 'Gender', 'Vintage']);
    expect(byField.Age).toMatch(/not an integer/);
    expect(byField.Gender).toMatch(/not one of/);
    expect(byField.Annual_Premium).toMatch(/below the minimum 0/);
    expect(byField.Vintage).toMatch(/missing/);
    expect(response.body.error.message).toMatch(/Age/);
    expect(typeof response.body.requestId).toBe('string');
    const text = JSON.stringify(response.body);
    expect(text).not.toMatch(/\.ts:\d+|\.js:\d+|at [A-Za-z]+ \(/);
    expect(text).not.toContain(project.schema.fingerprint);
    expect(text).not.toContain('Policy_Sales_Channel');
  });

  it('scores {"records": [...]} in order, the same as one at a time', async () => {
    const second = { ...validRecord(), Age: 23, Vehicle_Damage: 'No', Previously_Insured: 1 };
    const batch = await post(`${server.url}/predict`, { records: [validRecord(), second] });
    expect(batch.status).toBe(200);
    expect(batch.body.version).toBe('v1');
    expect(batch.body.predictions).toHaveLength(2);
    const single = await post(`${server.url}/predict`, second);
    expect(batch.body.predictions[1]).toEqual({
      probability: single.body.probability,
      label: single.body.label,
    });
  });

  it('refuses a batch with an invalid record whole, naming the record', async () => {
    const response = await post(`${server.url}/predict`, {
      records: [validRecord(), { ...validRecord(), Age: 300 }, 'text'],
    });
    expect(response.status).toBe(400);
    expect(response.body.error.fields).toEqual([
      { field: 'Age', reason: '300 is above the maximum 120', record: 1 },
      { field: '(record)', reason: 'is not an object of field values', record: 2 },
    ]);
  });

  it('refuses more records than max_batch with 413', async () => {
    const response = await post(`${server.url}/predict`, {
      records: Array.from({ length: 51 }, validRecord),
    });
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('PW_REQUEST_TOO_LARGE');
    expect(response.body.error.limit).toBe(50);
  });

  it('answers a CSV body with CSV: the key, the probability and the label of each line', async () => {
    const header = ['id', ...Object.keys(validRecord())];
    const row = (id: number, record: Json) =>
      [id, ...Object.keys(validRecord()).map((name) => record[name])].join(',');
    const young = { ...validRecord(), Age: 23 };
    const csv = `${header.join(',')}\n${row(7, validRecord())}\n${row(8, young)}\n`;
    const response = await fetch(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: csv,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await response.text()).trim().split('\n');
    expect(lines[0]).toBe('id,probability,label');
    const single = await post(`${server.url}/predict`, young);
    expect(lines[2]).toBe(`8,${single.body.probability},${single.body.label}`);
    expect(lines).toHaveLength(3);
  });

  it('names the CSV line and field of an invalid value', async () => {
    const header = Object.keys(validRecord());
    const values = (record: Json) => header.map((name) => record[name]).join(',');
    const csv = `${header.join(',')}\n${values(validRecord())}\n${values({ ...validRecord(), Gender: 'Other' })}\n`;
    const response = await fetch(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: csv,
    });
    const body = (await response.json()) as Json;
    expect(response.status).toBe(400);
    expect(body.error.fields).toEqual([
      { field: 'Gender', reason: expect.stringMatching(/"Other" is not one of/), line: 3 },
    ]);
    expect(body.error.message).toMatch(/line 3, Gender/);
  });

  it('refuses a CSV header without a required column before reading the rows', async () => {
    const response = await fetch(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: 'Gender,Age\nMale,30\n',
    });
    const body = (await response.json()) as Json;
    expect(response.status).toBe(400);
    expect(body.error.fields.map((f: Json) => f.field)).toContain('Vintage');
    expect(body.error.fields[0].reason).toMatch(/not a column of the CSV header/);
  });

  it('refuses bodies that are not a record: bad JSON, arrays, scalars, other media types, too large', async () => {
    const bad = await post(`${server.url}/predict`, '{"Age": 4');
    expect([bad.status, bad.body.error.code]).toEqual([400, 'PW_REQUEST_INVALID']);
    const array = await post(`${server.url}/predict`, [validRecord()]);
    expect([array.status, array.body.error.code]).toEqual([400, 'PW_REQUEST_INVALID']);
    expect(array.body.error.message).toMatch(/"records"/);
    const scalar = await post(`${server.url}/predict`, '42');
    expect(scalar.status).toBe(400);
    const proto = await post(`${server.url}/predict`, '{"__proto__": {"Age": 1}}');
    expect(proto.status).toBe(400);
    const plain = await post(`${server.url}/predict`, 'Age=4', { 'content-type': 'text/plain' });
    expect([plain.status, plain.body.error.code]).toEqual([415, 'PW_MEDIA_TYPE']);
    const large = await post(`${server.url}/predict`, { ...validRecord(), padding: 'x'.repeat(30_000) });
    expect([large.status, large.body.error.code]).toEqual([413, 'PW_REQUEST_TOO_LARGE']);
    const notArray = await post(`${server.url}/predict`, { records: 'all' });
    expect(notArray.status).toBe(400);
  });

  it('reports liveness, readiness and the model being served', async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, version: 'v1' });
    const model = (await (await fetch(`${server.url}/model`)).json()) as Json;
    expect(model.version).toBe('v1');
    expect(model.reference).toBe('production');
    expect(model.task).toBe('binary');
    expect(model.metrics).toEqual({ roc_auc: 0.8 });
    expect(model.threshold).toBe(0.5);
    expect(model.modelType).toBe('logistic');
    expect(model.schema.fingerprint).toBe(project.schema.fingerprint);
    expect(model.schema.features.map((f: Json) => f.name)).toEqual(
      project.schema.features.map((f) => f.name),
    );
    expect(model.schema.features.find((f: Json) => f.name === 'Age')).toMatchObject({
      type: 'integer',
      min: 18,
      max: 120,
    });
  });

  it('describes every input field in /openapi.json with its type, range and allowed values', async () => {
    const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as Json;
    expect(openapi.openapi).toBe('3.1.0');
    const record = openapi.components.schemas.Record;
    expect(record.properties.Age).toMatchObject({ type: 'integer', minimum: 18, maximum: 120 });
    expect(record.properties.Gender).toMatchObject({ type: 'string', enum: ['Male', 'Female'] });
    expect(record.properties.Driving_License).toMatchObject({ type: 'integer', enum: [0, 1] });
    expect(record.required).toContain('Annual_Premium');
    expect(record.required).not.toContain('id');
    expect(record.properties.Response).toBeUndefined();
    expect(openapi.components.schemas.Prediction.properties.label.enum).toEqual([0, 1]);
    expect(openapi.paths['/predict'].post.requestBody.content['text/csv']).toBeDefined();
  });

  it('serves a docs page built from the OpenAPI document, with nothing loaded from elsewhere', async () => {
    const response = await fetch(`${server.url}/docs`);
    const html = await response.text();
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    for (const field of project.schema.features) expect(html).toContain(`<code>${field.name}</code>`);
    expect(html).toContain('POST');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!HOST)/);
    const policy = response.headers.get('content-security-policy')!;
    expect(policy).toContain("default-src 'none'");
    expect(policy).not.toContain('unsafe-inline');
  });

  it('serves a form with one control per feature, its script from the server, and a policy that allows exactly its inline style and its own scripts', async () => {
    const response = await fetch(`${server.url}/`);
    const html = await response.text();
    expect(html).toMatch(
      /<label for="field-Age">Age<\/label><input type="number" id="field-Age" name="Age" step="1" min="18" max="120" required/,
    );
    expect(html).toMatch(
      /<select id="field-Gender" name="Gender" required[^>]*><option value="">Choose…<\/option><option value="0">Male<\/option><option value="1">Female<\/option>/,
    );
    expect(html).not.toContain('name="Response"');
    expect(html).not.toContain('name="id"');
    const policy = response.headers.get('content-security-policy')!;
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
    const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain(`style-src ${hash(style)}`);
    expect(policy).not.toContain('unsafe-inline');
    expect(html).not.toMatch(/\sstyle="|\son[a-z]+="/);
    // Every script the page runs comes from the server; the only inline block is JSON data.
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map((match) => match[1].trim())).toEqual([
      'type="application/json" id="field-spec"',
      'type="module" src="form.js"',
    ]);
    const script = await fetch(`${server.url}/form.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    const source = await script.text();
    expect(source).toContain("addEventListener('submit'");
    expect(source).not.toContain('sourceMappingURL');
  });

  it('sets security headers on every response, errors and unknown routes included', async () => {
    for (const path of ['/health', '/nowhere', '/model']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    }
    const missing = await fetch(`${server.url}/nowhere`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as Json).error.code).toBe('PW_NOT_FOUND');
  });

  it('exposes request counts, latency, predictions by label and the model version on its own metrics registry', async () => {
    await post(`${server.url}/predict`, validRecord());
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(
      /pipewright_http_requests_total\{route="\/predict",method="POST",status="200"\} [1-9]/,
    );
    expect(text).toMatch(
      /pipewright_http_requests_total\{route="\/predict",method="POST",status="400"\} [1-9]/,
    );
    expect(text).toMatch(
      /pipewright_http_request_duration_seconds_bucket\{le="0\.005",route="\/predict",method="POST",status="200"\}/,
    );
    expect(text).toMatch(/pipewright_predictions_total\{label="[01]",version="v1"\} [1-9]/);
    expect(text).toMatch(
      /pipewright_model_info\{version="v1",alias="production",model_type="logistic",schema_fingerprint="[0-9a-f]{64}"\} 1/,
    );
    expect(await globalRegistry.metrics()).not.toContain('pipewright_http_requests_total');
  });
});

describe('the server around the API', () => {
  it('includes process metrics when asked', async () => {
    const project = await createTestProject();
    const server = await startTestServer(project, { processMetrics: true });
    try {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(text).toMatch(/pipewright_process_resident_memory_bytes \d+/);
      expect(text).toMatch(/pipewright_nodejs_eventloop_lag_seconds/);
    } finally {
      await server.close();
      project.cleanup();
    }
  });

  it('logs a sample of predictions to the store, written in batches, and none when the rate is 0', async () => {
    const project = await createTestProject();
    const store = EmbeddedStore.open(join(project.dir, 'store.db'));
    const collection = store.collection('predictions');
    const all = await startTestServer(project, { predictions: collection, settings: { log_predictions: 1 } });
    await post(`${all.url}/predict`, validRecord(), { 'x-request-id': 'logged-1' });
    await post(`${all.url}/predict`, { records: [validRecord(), { ...validRecord(), Age: 30 }] });
    await all.close();
    const documents = [];
    for await (const document of collection.find({})) documents.push(document);
    expect(documents).toHaveLength(3);
    const single = documents.find((document) => document.requestId === 'logged-1')!;
    expect(single).toMatchObject({ version: 'v1', input: { Age: 44, Gender: 'Male' } });
    expect(typeof single.probability).toBe('number');
    expect([0, 1]).toContain(single.label);
    expect(Number.isNaN(Date.parse(single.time as string))).toBe(false);
    expect(
      documents
        .filter((document) => document.requestId !== 'logged-1')
        .map((document) => (document.input as Json).Age)
        .sort(),
    ).toEqual([30, 44]);

    const none = await startTestServer(project, {
      predictions: collection,
      settings: { log_predictions: 0 },
    });
    await post(`${none.url}/predict`, validRecord());
    await none.close();
    expect(await collection.countDocuments({})).toBe(3);
    await store.close();
    project.cleanup();
  });

  it('allows cross-origin calls only from the configured origins', async () => {
    const project = await createTestProject();
    const server = await startTestServer(project, { settings: { cors_origins: ['https://app.example'] } });
    try {
      const allowed = await fetch(`${server.url}/predict`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      });
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
      const other = await fetch(`${server.url}/health`, { headers: { origin: 'https://evil.example' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await server.close();
      project.cleanup();
    }
  });

  it('is not ready while the alias names a bundle that does not load, and becomes ready when it moves to one that does', async () => {
    const project = await createTestProject({ serve: { reload_interval_ms: 100 } });
    const broken = await publishBundle(project.registry, new TextEncoder().encode('not a bundle'));
    const server = await startTestServer(project, { waitForModel: false });
    try {
      let ready = await fetch(`${server.url}/ready`);
      for (
        let tries = 0;
        ready.status === 503 &&
        ((await ready.clone().json()) as Json).reason === 'loading the model' &&
        tries < 100;
        tries++
      ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        ready = await fetch(`${server.url}/ready`);
      }
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as Json).refused).toMatchObject({
        version: broken.version,
        code: 'PW_BUNDLE_INVALID',
      });
      const refused = await post(`${server.url}/predict`, validRecord());
      expect([refused.status, refused.body.error.code]).toEqual([503, 'PW_SERVE_NO_MODEL']);
      await project.registry.setAlias('production', 'v1');
      for (let tries = 0; ready.status !== 200 && tries < 300; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        ready = await fetch(`${server.url}/ready`);
      }
      expect(await ready.json()).toEqual({ ready: true, version: 'v1' });
      expect((await post(`${server.url}/predict`, validRecord())).status).toBe(200);
    } finally {
      await server.close();
      project.cleanup();
    }
  });

  it('answers 408 when a request body does not arrive within the request timeout', async () => {
    const project = await createTestProject();
    const server = await startTestServer(project, { settings: { request_timeout_ms: 300 } });
    try {
      const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
      let response = '';
      socket.on('data', (chunk: Buffer) => (response += chunk.toString()));
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write(
        'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"Age"',
      );
      await closed;
      expect(response).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await server.close();
      project.cleanup();
    }
  });

  it('answers a regression model with the predicted value, in JSON and in CSV', async () => {
    const project = await createTestProject({
      // Annual_Premium becomes the target; Response is not known when predicting.
      schema: (text) =>
        text
          .replace(/(Annual_Premium:\n\s+type: number\n)/, '$1    role: target\n')
          .replace(/(Response:\n\s+type: integer\n\s+)role: target/, '$1role: ignore'),
      publish: { modelType: 'gbdt', params: { loss: 'squared_error', max_iter: 20 }, rows: 800 },
    });
    const server = await startTestServer(project);
    try {
      expect(project.schema.task).toBe('regression');
      const record: Json = validRecord();
      delete record.Annual_Premium;
      const response = await post(`${server.url}/predict`, record);
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(['requestId', 'value', 'version']);
      expect(Number.isFinite(response.body.value)).toBe(true);
      const header = Object.keys(record);
      const csv = `${header.join(',')}\n${header.map((name) => record[name]).join(',')}\n`;
      const answer = await fetch(`${server.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv' },
        body: csv,
      });
      expect((await answer.text()).trim().split('\n')).toEqual(['value', String(response.body.value)]);
      const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as Json;
      expect(Object.keys(openapi.components.schemas.Prediction.properties)).toEqual(['value', 'warnings']);
    } finally {
      await server.close();
      project.cleanup();
    }
  });

  it('refuses to start when the alias does not exist, with a hint to run the pipeline', async () => {
    const project = await createTestProject({ publish: false });
    try {
      await expect(startTestServer(project)).rejects.toMatchObject({
        code: 'PW_SERVE_NO_MODEL',
        hint: expect.stringMatching(/pipewright run/),
      });
    } finally {
      project.cleanup();
    }
  });

  it('refuses to start with a model trained on another schema', async () => {
    const project = await createTestProject();
    try {
      const changed = parseSchema(
        readFileSync(join(project.dir, 'schema.yaml'), 'utf8').replace('max: 120', 'max: 99'),
      );
      await expect(
        buildServer({
          schema: changed,
          registry: new FolderRegistry(project.registry.root),
          settings: project.config.serve,
          logger: silentLogger(),
          processMetrics: false,
        }),
      ).rejects.toMatchObject({
        code: 'PW_MODEL_SCHEMA_MISMATCH',
        message: expect.stringMatching(/Age\.max was 120 and is now 99/),
      });
    } finally {
      project.cleanup();
    }
  });
});
