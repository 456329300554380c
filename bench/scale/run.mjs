// `npm run bench -- scale [--rows 1000000,4000000,10000000] [--threads <t>] [--keep] [--json]`: for each
// size, `sample` → `push` → `run --no-cache --no-publish` as CLI processes in a fresh project on the
// embedded store (wall time and peak RSS of each, our train step's time from the run record), then
// XGBoost `hist` and scikit-learn HistGradientBoosting fitted by bench/train/baselines.py with the same
// settings and thread count on the same rows and the run's own split (fit time, peak RSS, ROC-AUC).
// --json prints one line a measurement; the project, CSV and matrices are deleted unless --keep.
import { spawnSync } from 'node:child_process';
import {
  createReadStream,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { modelParams } from '../train/params.mjs';
import { CATEGORICAL, NUMERIC } from '../train/encoding.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'bin', 'pipewright.js');
const baselines = join(root, 'bench', 'train', 'baselines.py');
const out = join(root, 'bench', 'out', 'scale');
const python = '/usr/bin/python3';

const args = process.argv.slice(2);
const flag = (name) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const sizes = (flag('--rows') ?? '1000000,4000000,10000000').split(',').map(Number);
const threads = Number(flag('--threads') ?? cpus().length);
const json = args.includes('--json');
const keep = args.includes('--keep');
const log = (line) => {
  if (!json) process.stderr.write(`${line}\n`);
};
const { rocAuc } = await import(join(root, 'dist', 'ml', 'metrics.js'));

/** Runs a command under /usr/bin/time -v: wall seconds, peak RSS in MB, stdout. */
function timed(command, commandArgs, options = {}) {
  const result = spawnSync('/usr/bin/time', ['-v', command, ...commandArgs], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    ...options,
  });
  if (result.status !== 0)
    throw new Error(
      `${command} ${commandArgs.join(' ')} failed (${result.status}):\n${result.stderr.slice(-3000)}`,
    );
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(
    result.stderr,
  );
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr);
  return {
    seconds: Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]),
    peakRssMb: Math.round(Number(rss[1]) / 1024),
    stdout: result.stdout,
  };
}

const pipewright = (commandArgs, cwd) => timed(process.execPath, [bin, ...commandArgs], { cwd });

/** The gbdt block of pipewright.yaml with the bench's shared settings (bench/train/params.mjs). */
function modelBlock() {
  const { threads: _threads, ...params } = modelParams('gbdt', threads).pipewright;
  const flow = Object.entries(params)
    .map(([name, value]) => `${name}: ${value}`)
    .join(', ');
  return `model:\n  type: gbdt\n  threads: ${threads}\n  params: { ${flow} }\n`;
}

function readIndices(file) {
  const bytes = readFileSync(file);
  return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/**
 * The CSV as bench/train's encoding (numbers as they are, each category one 0/1 column, categories
 * sorted), written column-major for baselines.py on the run's own train and test rows. Read once into
 * typed columns: frame row i is CSV row i, because `sample` numbers the rows from 1 in key order.
 */
async function writeBaselineData(csv, rows, split, dir) {
  mkdirSync(dir, { recursive: true });
  const numeric = NUMERIC.map(() => new Float64Array(rows));
  const codes = CATEGORICAL.map(() => new Uint8Array(rows));
  const dictionaries = CATEGORICAL.map(() => new Map());
  const y = new Float64Array(rows);
  let numericAt;
  let categoryAt;
  let targetAt;
  let row = 0;
  for await (const line of createInterface({ input: createReadStream(csv), crlfDelay: Infinity })) {
    const cells = line.split(',');
    if (!numericAt) {
      numericAt = NUMERIC.map((name) => cells.indexOf(name));
      categoryAt = CATEGORICAL.map((name) => cells.indexOf(name));
      targetAt = cells.indexOf('Response');
      continue;
    }
    for (let f = 0; f < numericAt.length; f++) numeric[f][row] = Number(cells[numericAt[f]]);
    for (let c = 0; c < categoryAt.length; c++) {
      const value = cells[categoryAt[c]];
      let code = dictionaries[c].get(value);
      if (code === undefined) dictionaries[c].set(value, (code = dictionaries[c].size));
      codes[c][row] = code;
    }
    y[row] = Number(cells[targetAt]);
    row++;
  }
  if (row !== rows) throw new Error(`${csv} holds ${row} rows, not ${rows}`);
  // One function per output column: the value of that column at a row.
  const outputs = [
    ...NUMERIC.map((name, f) => ({ name, at: (i) => numeric[f][i] })),
    ...CATEGORICAL.flatMap((name, c) =>
      [...dictionaries[c].keys()].sort().map((value) => {
        const code = dictionaries[c].get(value);
        return { name: `${name}_${value}`, at: (i) => (codes[c][i] === code ? 1 : 0) };
      }),
    ),
  ];
  const writeColumns = (file, indices) => {
    const descriptor = openSync(join(dir, file), 'w');
    const column = new Float64Array(indices.length);
    for (const output of outputs) {
      for (let i = 0; i < indices.length; i++) column[i] = output.at(indices[i]);
      writeSync(descriptor, new Uint8Array(column.buffer));
    }
    closeSync(descriptor);
  };
  writeColumns('X_train.f64', split.train);
  writeColumns('X_test.f64', split.test);
  const yTrain = Float64Array.from(split.train, (i) => y[i]);
  writeFileSync(join(dir, 'y_train.f64'), new Uint8Array(yTrain.buffer));
  writeFileSync(
    join(dir, 'meta.json'),
    JSON.stringify({
      names: outputs.map((output) => output.name),
      rows,
      trainRows: split.train.length,
      testRows: split.test.length,
    }),
  );
  return Float64Array.from(split.test, (i) => y[i]);
}

function baseline(impl, dir, yTest) {
  const predictions = join(dir, `predictions-${impl}.f64`);
  const params = modelParams('gbdt', threads)[impl];
  const run = timed(
    python,
    [baselines, dir, impl, 'gbdt', String(threads), JSON.stringify(params), predictions],
    {
      env: {
        ...process.env,
        OMP_NUM_THREADS: String(threads),
        OPENBLAS_NUM_THREADS: String(threads),
        MKL_NUM_THREADS: String(threads),
      },
    },
  );
  const report = JSON.parse(run.stdout.trim().split('\n').pop());
  const bytes = readFileSync(predictions);
  const scores = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
  return { seconds: report.fit_s, peakRssMb: run.peakRssMb, rocAuc: rocAuc(yTest, scores) };
}

const results = [];
function measurement(impl, step, rows, seconds, peakRssMb, auc) {
  const line = {
    bench: 'scale',
    impl,
    step,
    rows,
    threads,
    seconds: Number(seconds.toFixed(3)),
    peak_rss_mb: peakRssMb,
    roc_auc: auc === null ? null : Number(auc.toFixed(6)),
  };
  results.push(line);
  if (json) process.stdout.write(`${JSON.stringify(line)}\n`);
}

const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
log(
  `bench scale: rows ${sizes.map((n) => n.toLocaleString('en-US')).join(', ')}, threads ${threads}, ${cpus().length} CPUs, load average ${load()}`,
);
for (const rows of sizes) {
  const project = join(out, String(rows));
  rmSync(project, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  pipewright(['init', project, '--name', 'scale', '-q'], root);
  const config = join(project, 'pipewright.yaml');
  writeFileSync(config, readFileSync(config, 'utf8').replace(/model:\n(?: {2}.*\n)+/, modelBlock()));
  const csv = join(project, 'data', 'train.csv');
  try {
    const sampled = pipewright(
      ['sample', 'vehicle-insurance', '--rows', String(rows), '--seed', '42', '-o', csv, '-q'],
      project,
    );
    log(
      `${rows.toLocaleString('en-US')} rows: sample ${sampled.seconds.toFixed(1)} s, ${sampled.peakRssMb} MB`,
    );
    const push = pipewright(['push', csv, '-q'], project);
    measurement('pipewright', 'push', rows, push.seconds, push.peakRssMb, null);
    log(
      `  push ${push.seconds.toFixed(1)} s (${Math.round(rows / push.seconds).toLocaleString('en-US')} rows/s), ${push.peakRssMb} MB`,
    );
    const run = pipewright(['run', '--no-cache', '--no-publish', '--json', '-q'], project);
    const record = JSON.parse(run.stdout);
    const auc = record.metrics.roc_auc;
    measurement('pipewright', 'run', rows, run.seconds, run.peakRssMb, auc);
    const train = record.steps.find((step) => step.name === 'train');
    measurement('pipewright', 'train', rows, train.seconds, train.memory?.peakRssMb ?? null, auc);
    log(
      `  run ${run.seconds.toFixed(1)} s, ${run.peakRssMb} MB; ${record.steps
        .filter((step) => step.seconds !== undefined)
        .map((step) => `${step.name} ${step.seconds.toFixed(1)} s (${step.memory?.peakRssMb ?? '?'} MB peak)`)
        .join(', ')}`,
    );
    const artifacts = join(project, 'artifacts', record.id, 'split');
    const split = {
      train: readIndices(join(artifacts, 'train.i32')),
      test: readIndices(join(artifacts, 'test.i32')),
    };
    const data = join(project, 'baseline');
    const yTest = await writeBaselineData(csv, rows, split, data);
    for (const impl of ['xgboost', 'sklearn']) {
      const fit = baseline(impl, data, yTest);
      measurement(impl, 'fit', rows, fit.seconds, fit.peakRssMb, fit.rocAuc);
      log(
        `  ${impl} fit ${fit.seconds.toFixed(1)} s, ${fit.peakRssMb} MB (whole process), ROC-AUC ${fit.rocAuc.toFixed(4)}`,
      );
    }
  } finally {
    if (!keep) rmSync(project, { recursive: true, force: true });
  }
}
log(`load average at the end ${load()}`);

if (!json) {
  const find = (impl, step, rows) =>
    results.find((r) => r.impl === impl && r.step === step && r.rows === rows);
  const lines = [
    `| rows | push s (rows/s, MB) | run s (MB) | train s | XGBoost fit s (MB) | sklearn fit s (MB) | ROC-AUC ours / XGBoost / sklearn |`,
    `| ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
  ];
  for (const rows of sizes) {
    const push = find('pipewright', 'push', rows);
    const run = find('pipewright', 'run', rows);
    const train = find('pipewright', 'train', rows);
    const xgboost = find('xgboost', 'fit', rows);
    const sklearn = find('sklearn', 'fit', rows);
    if (!run) continue;
    lines.push(
      `| ${rows.toLocaleString('en-US')} | ${push.seconds.toFixed(1)} (${Math.round(rows / push.seconds).toLocaleString('en-US')}, ${push.peak_rss_mb}) | ${run.seconds.toFixed(1)} (${run.peak_rss_mb}) | ${train.seconds.toFixed(1)} | ${xgboost.seconds.toFixed(1)} (${xgboost.peak_rss_mb}) | ${sklearn.seconds.toFixed(1)} (${sklearn.peak_rss_mb}) | ${run.roc_auc.toFixed(4)} / ${xgboost.roc_auc.toFixed(4)} / ${sklearn.roc_auc.toFixed(4)} |`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  const smallest = find('pipewright', 'run', Math.min(...sizes));
  for (const rows of sizes) {
    const run = find('pipewright', 'run', rows);
    const push = find('pipewright', 'push', rows);
    const train = find('pipewright', 'train', rows);
    const xgboost = find('xgboost', 'fit', rows);
    if (!run) continue;
    process.stdout.write(
      `${rows.toLocaleString('en-US')} rows: run peak ${run.peak_rss_mb} MB (bound 3,072: ${run.peak_rss_mb <= 3072 ? 'met' : 'missed'}); ` +
        `run ${(run.seconds / smallest.seconds).toFixed(2)}× the ${smallest.rows.toLocaleString('en-US')}-row run for ${(rows / smallest.rows).toFixed(1)}× the rows (bound 1.1 × the row ratio: ${run.seconds / smallest.seconds <= (1.1 * rows) / smallest.rows ? 'met' : 'missed'}); ` +
        `push ${Math.round(rows / push.seconds).toLocaleString('en-US')} rows/s (bound 150,000: ${rows / push.seconds >= 150_000 ? 'met' : 'missed'}); ` +
        `train ${(train.seconds / xgboost.seconds).toFixed(2)}× XGBoost's fit\n`,
    );
  }
}
