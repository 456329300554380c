// `npm run bench -- serve [--rows 50000] [--duration 10] [--soak 10] [--soak-rss 30] [--skip-baseline]`:
// `pipewright serve` (1 and 2 worker processes) against the replaced project's stack (FastAPI + uvicorn
// --workers 2 + scikit-learn RandomForest), loaded with the same single-record requests: throughput,
// p99 latency at a fixed 1,000 requests/s, errors at concurrency 200, and RSS over a soak.
// `npm run bench -- serve --soak 600 --stall 30`: the soak mode instead (soak.mjs): --soak seconds at a
// paced 1,000 requests/s with the embedded store locked by another process for --stall seconds midway.
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  createWriteStream,
} from 'node:fs';
import { once } from 'node:events';
import { Buffer } from 'node:buffer';
import { Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const root = fileURLToPath(new URL('../../', import.meta.url));
const here = fileURLToPath(new URL('.', import.meta.url));
const bin = join(root, 'bin', 'pipewright.js');
const python = '/usr/bin/python3';

function flag(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}
const rows = flag('rows', 50_000);
const duration = flag('duration', 10);
const soak = flag('soak', 10);
const soakRss = flag('soak-rss', 30);
const stall = process.argv.includes('--stall') ? flag('stall', 30) : undefined;
const soakMode = stall !== undefined;
const skipBaseline = process.argv.includes('--skip-baseline') || soakMode;
const FOREST = {
  n_estimators: 200,
  max_depth: 10,
  min_samples_split: 7,
  min_samples_leaf: 6,
  criterion: 'entropy',
};
const TARGETS = { throughputRatio: 10, p99Ms: 5, errors: 0 };

const dist = (path) => import(join(root, 'dist', path));
const { syntheticCsv, syntheticVehicleInsurance } = await dist('data/synthetic.js');
const { loadSchema } = await dist('schema/schema.js');
const { compileCoercer } = await dist('schema/coerce.js');
const { frameFromRecordsSync } = await dist('ml/frame.js');
const { Preprocessor } = await dist('ml/transform/preprocessor.js');
const { createEstimator } = await dist('ml/models/index.js');
const { createBundle, serializeBundle } = await dist('ml/bundle.js');
const { computeReferenceStats } = await dist('ml/stats.js');
const { FolderRegistry } = await dist('registry/folder.js');

const work = join(root, 'bench', 'out', 'serve');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const log = (text) => process.stderr.write(`${text}\n`);

// --- data and models: the same synthetic rows for both ---------------------------------------------
const dataFile = join(work, 'data.csv');
{
  const stream = createWriteStream(dataFile);
  for (const chunk of syntheticCsv({ rows, seed: 42 })) if (!stream.write(chunk)) await once(stream, 'drain');
  stream.end();
  await once(stream, 'close');
}
const project = join(work, 'project');
mkdirSync(project, { recursive: true });
copyFileSync(join(root, 'templates', 'project', 'schema.yaml'), join(project, 'schema.yaml'));
writeFileSync(
  join(project, 'pipewright.yaml'),
  `project: bench-serve\nschema: schema.yaml\nmodel:\n  type: random_forest\nserve:\n  reload_interval_ms: 5000\n`,
);
const schema = loadSchema(join(project, 'schema.yaml'));
const coerce = compileCoercer(schema);
const typed = [];
for (const record of syntheticVehicleInsurance({ rows, seed: 42 })) typed.push(coerce(record).record);

log(`training our random forest on ${rows} rows (${JSON.stringify(FOREST)})`);
let started = performance.now();
const frame = frameFromRecordsSync(schema, typed);
const preprocessor = Preprocessor.fromConfig(schema, {});
const X = preprocessor.fitTransform(frame);
const forest = createEstimator('random_forest', { ...FOREST, random_state: 42 });
await forest.fit(X, frame.target);
const ourFitSeconds = (performance.now() - started) / 1000;
const bundle = createBundle({
  schema,
  preprocessor,
  model: forest,
  threshold: 0.5,
  metadata: {
    metrics: {},
    params: FOREST,
    dataHash: `synthetic-${rows}`,
    codeVersion: 'bench',
    createdAt: new Date().toISOString(),
    runId: '20240101-000000-000000',
    // As `pipewright run` publishes it, so the server's live drift window is on during the bench.
    referenceStats: computeReferenceStats(frame, undefined, forest.predict(X)),
  },
  goldenInputs: [0, 1, 2].map((row) => frame.record(row)),
});
const registry = new FolderRegistry(join(project, '.pipewright', 'registry'));
const published = await registry.publish(serializeBundle(bundle), {
  runId: '20240101-000000-000000',
  metrics: {},
  schemaFingerprint: schema.fingerprint,
  task: 'binary',
  modelType: 'random_forest',
});
await registry.setAlias('production', published.version);
const bundleMb = published.size / 1e6;
log(`  ${ourFitSeconds.toFixed(1)} s, bundle ${bundleMb.toFixed(1)} MB`);

let baselineFitSeconds = NaN;
const baselineModel = join(work, 'baseline-model.pkl');
if (!skipBaseline) {
  log('training the scikit-learn baseline (n_jobs=2 for training; prediction on one thread)');
  started = performance.now();
  const trained = spawnSync(python, [join(here, 'baseline_app.py'), 'train', dataFile, baselineModel], {
    encoding: 'utf8',
  });
  if (trained.status !== 0) throw new Error(`baseline training failed:\n${trained.stderr}`);
  baselineFitSeconds = (performance.now() - started) / 1000;
  log(`  ${baselineFitSeconds.toFixed(1)} s`);
}

// --- the requests: the same single records, as JSON, for both -------------------------------------
const FEATURES = schema.features.map((field) => field.name);
const bodies = [];
for (const record of syntheticVehicleInsurance({ rows: 16, seed: 7 })) {
  bodies.push(JSON.stringify(Object.fromEntries(FEATURES.map((name) => [name, record[name]]))));
}
const requests = bodies.map((body) => ({
  method: 'POST',
  path: '/predict',
  headers: { 'content-type': 'application/json' },
  body,
}));

// --- servers ---------------------------------------------------------------------------------------
async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

function cleanEnv(extra = {}) {
  const env = {};
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith('PIPEWRIGHT_') && !name.startsWith('MONGODB_')) env[name] = value;
  return { ...env, ...extra };
}

async function waitReady(url, child, what) {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before it was ready`);
    try {
      const response = await globalThis.fetch(`${url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: bodies[0],
      });
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what} was not ready within 120 s`);
}

/** Resident memory of a process and its descendants, in MB (Linux /proc). */
function treeRssMb(pid) {
  let kb = 0;
  const visit = (id) => {
    try {
      const status = readFileSync(`/proc/${id}/status`, 'utf8');
      kb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      for (const task of readdirSync(`/proc/${id}/task`)) {
        const children = readFileSync(`/proc/${id}/task/${task}/children`, 'utf8').trim();
        for (const child of children ? children.split(/\s+/) : []) visit(child);
      }
    } catch {
      // the process ended
    }
  };
  visit(pid);
  return kb / 1024;
}

async function startOurs(workers) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [bin, '--quiet', 'serve', '--port', String(port), '--workers', String(workers)],
    {
      cwd: project,
      env: cleanEnv(),
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, child, `pipewright serve --workers ${workers}`);
  return { url, child, stderr: () => stderr };
}

async function startBaseline(workers) {
  const port = await freePort();
  const child = spawn(
    python,
    [
      '-m',
      'uvicorn',
      'baseline_app:app',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--workers',
      String(workers),
      '--log-level',
      'warning',
      '--no-access-log',
    ],
    {
      cwd: here,
      env: cleanEnv({ BASELINE_MODEL: baselineModel }),
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, child, `uvicorn --workers ${workers}`);
  return { url, child, stderr: () => stderr };
}

async function stop(server) {
  if (server.child.exitCode !== null) return server.child.exitCode;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 30_000);
  const [code] = await once(server.child, 'exit');
  clearTimeout(timer);
  return code;
}

function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** One autocannon run; latencies also collected exactly (autocannon's own histogram has 1 ms steps). */
async function load(url, options) {
  const samples = [];
  const instance = autocannon({ url, requests, timeout: 10, ...options });
  instance.on('response', (_client, _status, _bytes, responseTime) => samples.push(responseTime));
  const result = await instance;
  samples.sort((a, b) => a - b);
  return {
    rps: result.requests.average,
    total: result.requests.total,
    p50: percentile(samples, 0.5),
    p99: percentile(samples, 0.99),
    p99Corrected: result.latency.p99,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  };
}

/**
 * An open-loop load at a fixed rate: one request every 1/rate s whatever the answers. (autocannon's
 * `overallRate` sends each connection's share of a second back to back and then waits for the next
 * second, so its "1,000 req/s" is a burst at full speed every second.) Latency is measured from each
 * send, and from the moment the request was due, so that a stalled server or generator is not hidden.
 */
async function pacedLoad(url, { rate, seconds, maxInFlight = 256 }) {
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: maxInFlight });
  const fromSchedule = [];
  const fromSend = [];
  let errors = 0;
  let non2xx = 0;
  let skipped = 0;
  let inFlight = 0;
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const start = performance.now();
  await new Promise((resolve) => {
    let settled = 0;
    const settle = () => {
      if (++settled === total) resolve();
    };
    const send = (index) => {
      if (inFlight >= maxInFlight) {
        skipped++;
        settle();
        return;
      }
      inFlight++;
      const due = start + index * interval;
      const sentAt = performance.now();
      const body = bodies[index % bodies.length];
      const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
      const request = httpRequest(
        { host: target.hostname, port: target.port, path: '/predict', method: 'POST', agent, headers },
        (response) => {
          response.resume();
          response.on('end', () => {
            inFlight--;
            if (response.statusCode < 200 || response.statusCode >= 300) non2xx++;
            const now = performance.now();
            fromSchedule.push(now - due);
            fromSend.push(now - sentAt);
            settle();
          });
        },
      );
      request.on('error', () => {
        inFlight--;
        errors++;
        settle();
      });
      request.end(body);
    };
    let next = 0;
    const tick = () => {
      const elapsed = performance.now() - start;
      while (next < total && next * interval <= elapsed) send(next++);
      if (next < total) setTimeout(tick, Math.max(0, Math.min(1, next * interval - elapsed)));
    };
    tick();
  });
  agent.destroy();
  fromSchedule.sort((a, b) => a - b);
  fromSend.sort((a, b) => a - b);
  return {
    rps: fromSend.length / ((performance.now() - start) / 1000),
    p50: percentile(fromSend, 0.5),
    p99: percentile(fromSend, 0.99),
    p99Scheduled: percentile(fromSchedule, 0.99),
    errors,
    non2xx,
    skipped,
  };
}

async function measure(name, start, { rss }) {
  log(`\n${name}`);
  const server = await start();
  const idleRss = treeRssMb(server.child.pid);
  await load(server.url, { connections: 32, duration: 2 });
  const throughput = await load(server.url, { connections: 64, duration });
  log(
    `  throughput ${throughput.rps.toFixed(0)} req/s, p99 ${throughput.p99.toFixed(2)} ms at 64 connections`,
  );
  const fixed = await pacedLoad(server.url, { rate: 1000, seconds: duration });
  log(
    `  paced 1,000 req/s: got ${fixed.rps.toFixed(0)} req/s, p50 ${fixed.p50.toFixed(2)} ms, p99 ${fixed.p99.toFixed(2)} ms from send, ${fixed.p99Scheduled.toFixed(2)} ms from schedule, ${fixed.errors + fixed.non2xx} errors, ${fixed.skipped} not sent (256 in flight)`,
  );
  const bursts = await load(server.url, { connections: 32, duration, overallRate: 1000 });
  log(
    `  autocannon overallRate 1,000: got ${bursts.rps.toFixed(0)} req/s, p50 ${bursts.p50.toFixed(2)} ms, p99 ${bursts.p99.toFixed(2)} ms (its own corrected p99 ${bursts.p99Corrected} ms)`,
  );
  const crowd = await load(server.url, { connections: 200, duration: soak });
  log(
    `  200 connections for ${soak} s: ${crowd.total} requests, ${crowd.errors} errors, ${crowd.timeouts} timeouts, ${crowd.non2xx} non-2xx`,
  );
  let memory;
  if (rss) {
    const samples = [];
    const sampler = setInterval(() => samples.push(treeRssMb(server.child.pid)), 1000);
    const soaked = await load(server.url, { connections: 50, duration: soakRss });
    clearInterval(sampler);
    const settled = samples.slice(Math.floor(samples.length * 0.2));
    const first = settled[0];
    const last = settled[settled.length - 1];
    memory = {
      idle: idleRss,
      start: first,
      end: last,
      max: Math.max(...samples),
      growth: (last - first) / first,
      requests: soaked.total,
      errors: soaked.errors + soaked.non2xx,
    };
    log(
      `  RSS over ${soakRss} s at 50 connections: ${first.toFixed(0)} -> ${last.toFixed(0)} MB (max ${memory.max.toFixed(0)}, ${soaked.total} requests)`,
    );
  }
  const busyRss = treeRssMb(server.child.pid);
  const exitCode = await stop(server);
  if (exitCode !== 0 && name.startsWith('pipewright'))
    log(`  exit ${exitCode}:\n${server.stderr().slice(-2000)}`);
  return { name, throughput, fixed, bursts, crowd, memory, idleRss, busyRss, exitCode };
}

if (soakMode) {
  const { runSoak } = await import('./soak.mjs');
  const loadAtStart = loadavg();
  log(`\nsoak: ${soak} s at a paced 1,000 req/s, the store locked for ${stall} s midway`);
  const result = await runSoak({
    start: () => startOurs(1),
    stop,
    rss: treeRssMb,
    bodies,
    storeFile: join(project, '.pipewright', 'store.db'),
    cwd: root,
    seconds: soak,
    stall,
    log,
  });
  if (result.exitCode !== 0) log(`  exit ${result.exitCode}:\n${result.stderr.slice(-2000)}`);
  const number = (value, digits = 0) =>
    Number.isFinite(value)
      ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
      : 'n/a';
  const serverErrors = result.phases.reduce((sum, phase) => sum + phase.status5xx, 0);
  const rssMax = Math.max(...result.phases.map((phase) => phase.rssMax).filter(Number.isFinite));
  const lines = [
    '| phase | seconds | responses | rate (req/s) | p50 / p99 (ms) | 5xx | other non-2xx / connection errors | not sent (256 in flight) | log records written / dropped | RSS max / at end (MB) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...result.phases.map(
      (phase) =>
        `| ${phase.name === 'stall' ? `store locked` : `${phase.name} the stall`} | ${number(phase.seconds)} | ${number(phase.requests)} | ${number(phase.rate)} | ${number(phase.p50, 2)} / ${number(phase.p99, 2)} | ${phase.status5xx} | ${phase.otherNon2xx} / ${phase.errors} | ${number(phase.skipped)} | ${number(phase.written)} / ${number(phase.dropped)} | ${number(phase.rssMax)} / ${number(phase.rssEnd)} |`,
    ),
  ];
  const verdicts = [
    `- 5xx over the whole soak: ${serverErrors} (target 0: a locked store costs log records, never a request): ${serverErrors === 0 ? 'met' : 'NOT met'}`,
    `- RSS: ${number(result.idleRss)} MB idle, at most ${number(rssMax)} MB under load (${number(rssMax - result.idleRss)} MB above idle), ${number(result.busyRss)} MB at the end`,
    `- SIGTERM after the soak: exit ${result.exitCode} in ${number(result.exitMs)} ms (serve.shutdown_timeout_ms 10,000)`,
  ];
  const shortForm =
    soak < 600
      ? `This is the short form (\`--soak ${soak} --stall ${stall}\`) of the 10-minute soak (\`--soak 600 --stall 30\`): the machine is shared. `
      : '';
  const setup = [
    `${shortForm}One \`pipewright serve\` process with the product defaults (every prediction logged to the embedded store from a writer thread, serve.prediction_log.max_pending 10,000, write_timeout_ms 5,000) serving the random forest above; single records as JSON from an open-loop generator at 1,000 req/s in the bench process (a request due while 256 are in flight is not sent, and counted); phases are by when a request was due; log records are counted from /metrics at the phase edges, so records of the stall written after it count after it; from ${number(result.stallStart)} s to ${number(result.stallEnd)} s another process holds \`BEGIN EXCLUSIVE\` on the store. ${cpus().length}-core machine shared with other work: load average ${loadAtStart.map((v) => v.toFixed(1)).join(' ')} at the start, ${loadavg()
      .map((v) => v.toFixed(1))
      .join(' ')} at the end.`,
  ];
  const table = [...lines, '', ...verdicts, '', ...setup].join('\n');
  console.log(`\n${table}\n`);
  const readme = join(root, 'bench', 'README.md');
  const section = `## serve soak\n\n\`npm run bench -- serve --soak ${soak} --stall ${stall}\` (${new Date().toISOString().slice(0, 10)}):\n\n${table}\n`;
  let text = readFileSync(readme, 'utf8');
  const sectionPattern = /^## serve soak\n[\s\S]*?(?=^## |(?![\s\S]))/m;
  text = sectionPattern.test(text)
    ? text.replace(sectionPattern, `${section}\n`)
    : `${text.trimEnd()}\n\n${section}`;
  writeFileSync(readme, `${text.trimEnd()}\n`);
  log(`wrote the table to ${readme}`);
  process.exit(serverErrors === 0 && result.exitCode === 0 ? 0 : 1);
}

const loadStart = loadavg();
const results = [];
results.push(await measure('pipewright serve, 1 process', () => startOurs(1), { rss: true }));
results.push(await measure('pipewright serve, 2 workers', () => startOurs(2), { rss: false }));
if (!skipBaseline)
  results.push(
    await measure('FastAPI + uvicorn --workers 2 + scikit-learn', () => startBaseline(2), { rss: false }),
  );

// --- report ----------------------------------------------------------------------------------------
const baseline = results.find((result) => result.name.startsWith('FastAPI'));
const best = results
  .filter((result) => result.name.startsWith('pipewright'))
  .sort((a, b) => b.throughput.rps - a.throughput.rps)[0];
const ratio = (result) => (baseline ? result.throughput.rps / baseline.throughput.rps : NaN);
const number = (value, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';
const lines = [
  `| server | throughput (req/s, 64 conn.) | vs baseline | paced 1,000 req/s: rate, p50 / p99 (ms) | p99 from schedule (ms) | autocannon overallRate 1,000: p99 (ms) | errors at 200 conn. (${soak} s) | RSS idle / loaded (MB) |`,
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...results.map(
    (result) =>
      `| ${result.name} | ${number(result.throughput.rps)} | ${baseline ? `${number(ratio(result), 1)}×` : 'n/a'} | ${number(result.fixed.rps)}, ${number(result.fixed.p50, 2)} / ${number(result.fixed.p99, 2)} | ${number(result.fixed.p99Scheduled, 2)} | ${number(result.bursts.p99, 2)} | ${result.crowd.errors + result.crowd.timeouts + result.crowd.non2xx} of ${number(result.crowd.total)} | ${number(result.idleRss)} / ${number(result.busyRss)} |`,
  ),
];
const ours = results.filter((result) => result.name.startsWith('pipewright'));
const ours1 = results[0];
const crowdErrors = (result) => result.crowd.errors + result.crowd.timeouts + result.crowd.non2xx;
const verdicts = [
  `- throughput: ${best.name} ${number(best.throughput.rps)} req/s = ${number(ratio(best), 1)}× the baseline (target ≥ ${TARGETS.throughputRatio}×): ${ratio(best) >= TARGETS.throughputRatio ? 'met' : 'NOT met'}`,
  `- p99 at a paced 1,000 req/s, from send: ${ours.map((r) => `${r.name} ${number(r.fixed.p99, 2)} ms`).join(', ')} (target ≤ ${TARGETS.p99Ms} ms): ${ours.some((r) => r.fixed.p99 <= TARGETS.p99Ms) ? 'met' : 'NOT met'}`,
  `- errors at 200 connections for ${soak} s: ${ours.map((r) => `${r.name} ${crowdErrors(r)}`).join(', ')} (target 0): ${ours.every((r) => crowdErrors(r) === 0) ? 'met' : 'NOT met'}`,
  ours1.memory
    ? `- RSS over a ${soakRss} s soak at 50 connections (${number(ours1.memory.requests)} requests, 1 process): ${number(ours1.memory.start)} → ${number(ours1.memory.end)} MB after warm-up (${ours1.memory.growth >= 0 ? '+' : ''}${number(ours1.memory.growth * 100, 1)}%), max ${number(ours1.memory.max)} MB`
    : '',
].filter(Boolean);
const setup = [
  `Model: random forest (${Object.entries(FOREST)
    .map(([k, v]) => `${k}=${v}`)
    .join(
      ', ',
    )}) on ${number(rows)} synthetic rows; ours fitted in ${number(ourFitSeconds, 1)} s (bundle ${number(bundleMb, 1)} MB), scikit-learn in ${number(baselineFitSeconds, 1)} s.`,
  `Requests: the same 16 single records as JSON, cycled. Throughput, concurrency and soak loads come from autocannon; the paced load from an open-loop generator (one request every millisecond). Both run in the bench process on this ${cpus().length}-core machine and share its cores with the servers (load average ${loadStart.map((v) => v.toFixed(1)).join(' ')} at the start, ${loadavg()
    .map((v) => v.toFixed(1))
    .join(' ')} at the end).`,
  "Ours runs with the product defaults (every prediction logged to the embedded store from a writer thread, live drift monitoring over a 10,000-request window, sampled access log); uvicorn runs without its access log. autocannon's `overallRate` sends each second's requests back to back and then waits, so its p99 is that of a burst at full speed every second, not of a steady 1,000 req/s.",
];
const table = [...lines, '', ...verdicts, '', ...setup].join('\n');
console.log(`\n${table}\n`);

const readme = join(root, 'bench', 'README.md');
const section = `## serve\n\n\`npm run bench -- serve --soak ${soak} --soak-rss ${soakRss}\` (${new Date().toISOString().slice(0, 10)}):\n\n${table}\n`;
let text = existsSync(readme)
  ? readFileSync(readme, 'utf8')
  : '# Benchmarks\n\nNumbers from `npm run bench -- <name>`, each with its baseline measured in the same run.\n';
const sectionPattern = /^## serve\n[\s\S]*?(?=^## |(?![\s\S]))/m;
// The section keeps a blank line before whatever section follows it.
text = sectionPattern.test(text)
  ? text.replace(sectionPattern, `${section}\n`)
  : `${text.trimEnd()}\n\n${section}`;
writeFileSync(readme, `${text.trimEnd()}\n`);
log(`wrote the table to ${readme}`);
