// `node bench/explain/serve.mjs [--rows <n>] [--seconds <s>] [--rounds <n>]`: POST /predict against POST
// /predict?explain=true on one server process with the default gradient boosting (200 trees × 31 leaves),
// in the same run, alternating the two (so both see the same machine load); prints req/s of each, their
// ratio and the CPU µs per request of the process (server and client together).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import autocannon from 'autocannon';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dist = (path) => import(join(root, 'dist', path));
const flag = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const rows = flag('rows', 20_000);
const seconds = flag('seconds', 5);
const rounds = flag('rounds', 2);

const { loadSchema } = await dist('schema/schema.js');
const { compileCoercer } = await dist('schema/coerce.js');
const { syntheticVehicleInsurance } = await dist('data/synthetic.js');
const { frameFromRecordsSync } = await dist('ml/frame.js');
const { Preprocessor } = await dist('ml/transform/preprocessor.js');
const { createEstimator } = await dist('ml/models/index.js');
const { createBundle, serializeBundle } = await dist('ml/bundle.js');
const { FolderRegistry } = await dist('registry/folder.js');
const { buildServer } = await dist('serve/server.js');
const { silentLogger } = await dist('core/logger.js');
const { parseConfig } = await dist('core/config.js');

const work = join(root, 'bench', 'out', 'explain-serve');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const schema = loadSchema(join(root, 'templates', 'project', 'schema.yaml'));
const coerce = compileCoercer(schema);
const typed = [...syntheticVehicleInsurance({ rows, seed: 42 })].map((record) => coerce(record).record);
const frame = frameFromRecordsSync(schema, typed);
const preprocessor = Preprocessor.fromConfig(schema, {});
const X = preprocessor.fitTransform(frame);
const params = { max_iter: 200, max_leaf_nodes: 31, learning_rate: 0.1, early_stopping: false };
const model = createEstimator('gbdt', params);
await model.fit(X, frame.target);
const bundle = createBundle({
  schema,
  preprocessor,
  model,
  threshold: 0.5,
  metadata: {
    metrics: {},
    params,
    dataHash: `synthetic-${rows}`,
    codeVersion: 'bench',
    createdAt: new Date().toISOString(),
    runId: '20240101-000000-000000',
    referenceStats: null,
  },
  goldenInputs: [0, 1, 2].map((row) => frame.record(row)),
});
const registry = new FolderRegistry(join(work, 'registry'));
const published = await registry.publish(serializeBundle(bundle), {
  runId: '20240101-000000-000000',
  metrics: {},
  schemaFingerprint: schema.fingerprint,
  task: 'binary',
  modelType: 'gbdt',
});
await registry.setAlias('production', published.version);
const app = await buildServer({
  schema,
  registry,
  logger: silentLogger(),
  processMetrics: false,
  settings: {
    ...parseConfig('project: b\nschema: s.yaml\n', 'bench.yaml').serve,
    port: 0,
    reload_interval_ms: 60_000,
  },
});
await app.listen({ host: '127.0.0.1', port: 0 });
const url = `http://127.0.0.1:${app.server.address().port}`;
const bodies = typed.slice(0, 200).map((record) => {
  const body = {};
  for (const field of schema.features) body[field.name] = record[field.name];
  return JSON.stringify(body);
});

async function measure(path) {
  let next = 0;
  const cpuAt = process.cpuUsage();
  const result = await autocannon({
    url: `${url}${path}`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    connections: 16,
    duration: seconds,
    requests: [{ setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] }) }],
  });
  const cpu = process.cpuUsage(cpuAt);
  return {
    rps: result.requests.average,
    total: result.requests.total,
    errors: result.errors + result.non2xx,
    cpuUs: (cpu.user + cpu.system) / result.requests.total,
  };
}

const load = loadavg()
  .map((value) => value.toFixed(1))
  .join(' ');
// warm both paths (the first explain request builds the explainer's tables)
await globalThis.fetch(`${url}/predict?explain=true`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: bodies[0],
});
await measure('/predict');
const results = { plain: [], explain: [] };
for (let round = 0; round < rounds; round++) {
  results.plain.push(await measure('/predict'));
  results.explain.push(await measure('/predict?explain=true'));
}
const sum = (list, key) => list.reduce((total, item) => total + item[key], 0);
const plain = sum(results.plain, 'total') / (rounds * seconds);
const explained = sum(results.explain, 'total') / (rounds * seconds);
const cpu = (list) => list.reduce((total, item) => total + item.cpuUs * item.total, 0) / sum(list, 'total');
console.log(
  JSON.stringify({
    load_at_start: load,
    load_at_end: loadavg()
      .map((value) => value.toFixed(1))
      .join(' '),
    rows,
    plain_rps: Math.round(plain),
    explain_rps: Math.round(explained),
    ratio: Number((explained / plain).toFixed(2)),
    plain_cpu_us_per_request: Math.round(cpu(results.plain)),
    explain_cpu_us_per_request: Math.round(cpu(results.explain)),
    errors: sum(results.plain, 'errors') + sum(results.explain, 'errors'),
  }),
);
await app.close();
