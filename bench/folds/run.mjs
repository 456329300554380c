// `npm run bench -- folds [--rows 900,3971] [--threads 1,2] [--models gbdt,random_forest] [--folds 5] [--repeats 3] [--compare <checkout>] [--json]`:
// cross-validation on small tables, as `pipewright run` estimates a model on small data (a fit per fold,
// one process): the first rows of the real vehicle-insurance sample, the same repeated stratified folds
// and encoding for Pipewright, scikit-learn and XGBoost (the settings of bench/train), each
// implementation in its own process under /usr/bin/time. Prints the seconds of all the folds' fits and
// scoring, the first and the median fit, the mean ROC-AUC and our/their ratios; --compare runs another
// built checkout (e.g. the code before a change) as "pipewright-before"; --json prints one object a line:
// {"bench":"folds","impl":...,"model":...,"threads":T,"rows":N,"fits":K,"seconds":S,"first_fit_s":F,"median_fit_s":M,"roc_auc":A,"peak_rss_mb":R}
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelParams } from '../train/params.mjs';
import { encode, readCsv } from '../train/encoding.mjs';
import { measured, option, python, realSample, root } from '../common.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const out = join(root, 'bench', 'out', 'folds');

const args = process.argv.slice(2);
const flag = (name) => option(args, name);
const rowCounts = (flag('--rows') ?? '900,3971').split(',').map(Number);
const threadCounts = (flag('--threads') ?? '1,2').split(',').map(Number);
const models = (flag('--models') ?? 'gbdt,random_forest').split(',');
const folds = Number(flag('--folds') ?? 5);
const repeats = Number(flag('--repeats') ?? 3);
const compare = flag('--compare');
const json = args.includes('--json');
const log = (line) => {
  if (!json) process.stderr.write(`${line}\n`);
};

const { Random, deriveSeed } = await import(join(root, 'dist', 'core', 'random.js'));

/** Repeated stratified k-fold: each repeat deals each class's shuffled rows to the folds in turn. */
function foldAssignment(y) {
  const assignment = new Int32Array(repeats * y.length);
  for (let repeat = 0; repeat < repeats; repeat++) {
    const random = new Random(deriveSeed(0, repeat + 1));
    let turn = 0;
    for (const label of [0, 1]) {
      const order = [];
      for (let i = 0; i < y.length; i++) if (y[i] === label) order.push(i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = random.nextInt(i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
      for (const row of order) {
        assignment[repeat * y.length + row] = turn;
        turn = (turn + 1) % folds;
      }
    }
  }
  return assignment;
}

/** The first `rows` rows of the sample, encoded, with their folds, as files every implementation reads. */
function writeTable(records, rows) {
  const dir = join(out, String(rows));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const { names, columns, y } = encode(records.slice(0, rows));
  const X = new Float64Array(rows * names.length);
  columns.forEach((column, f) => X.set(column, f * rows));
  writeFileSync(join(dir, 'X.f64'), new Uint8Array(X.buffer));
  writeFileSync(join(dir, 'y.f64'), new Uint8Array(y.buffer));
  writeFileSync(join(dir, 'folds.i32'), new Uint8Array(foldAssignment(y).buffer));
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ names, rows, folds, repeats }));
  return dir;
}

function crossValidate(impl, model, threads, dir) {
  log(`  ${impl} ${model} threads=${threads} ...`);
  if (impl.startsWith('pipewright')) {
    const checkout = impl === 'pipewright' ? [] : [compare];
    return measured(process.execPath, [join(here, 'child.mjs'), dir, model, String(threads), ...checkout]);
  }
  const counts = String(threads);
  return measured(
    python,
    [join(here, 'baselines.py'), dir, impl, model, counts, JSON.stringify(modelParams(model, threads)[impl])],
    { OMP_NUM_THREADS: counts, OPENBLAS_NUM_THREADS: counts, MKL_NUM_THREADS: counts },
  );
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const records = readCsv(realSample);
log(
  `machine: ${cpus().length} cores, load average ${loadavg()
    .map((load) => load.toFixed(1))
    .join(' ')}`,
);
const results = [];
for (const rows of rowCounts) {
  const dir = writeTable(records, Math.min(rows, records.length));
  for (const model of models) {
    for (const threads of threadCounts) {
      const impls = [
        'pipewright',
        ...(compare ? ['pipewright-before'] : []),
        'sklearn',
        ...(model === 'gbdt' ? ['xgboost'] : []),
      ];
      for (const impl of impls) {
        const report = crossValidate(impl, model, threads, dir);
        const result = {
          bench: 'folds',
          impl,
          model,
          threads,
          rows,
          fits: report.fits.length,
          seconds: report.seconds,
          first_fit_s: report.fits[0],
          median_fit_s: median(report.fits),
          roc_auc: report.roc_auc,
          peak_rss_mb: report.peak_rss_mb,
        };
        results.push(result);
        if (json) console.log(JSON.stringify(result));
      }
    }
  }
}

if (!json) {
  const ours = (result) =>
    results.find(
      (other) =>
        other.impl === 'pipewright' &&
        other.model === result.model &&
        other.threads === result.threads &&
        other.rows === result.rows,
    );
  const oneThread = (result) =>
    results.find(
      (other) =>
        other.impl === result.impl &&
        other.model === result.model &&
        other.threads === 1 &&
        other.rows === result.rows,
    );
  const lines = [
    `\`npm run bench -- folds\`: ${repeats} × ${folds}-fold cross-validation, a fit per fold in one process`,
    '',
    '| impl | model | threads | rows | fits | seconds | first fit s | median fit s | roc_auc | peak_rss_mb | ours/theirs | this/1 thread |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.map((result) => {
      const mine = ours(result);
      const one = oneThread(result);
      return `| ${result.impl} | ${result.model} | ${result.threads} | ${result.rows.toLocaleString('en-US')} | ${result.fits} | ${result.seconds.toFixed(3)} | ${result.first_fit_s.toFixed(3)} | ${result.median_fit_s.toFixed(3)} | ${result.roc_auc.toFixed(4)} | ${result.peak_rss_mb.toFixed(0)} | ${mine && mine !== result ? (mine.seconds / result.seconds).toFixed(2) : ''} | ${one && one !== result ? (result.seconds / one.seconds).toFixed(2) : ''} |`;
    }),
    '',
    `Load average at the end: ${loadavg()
      .map((load) => load.toFixed(1))
      .join(' ')}.`,
  ];
  console.log(lines.join('\n'));
}
