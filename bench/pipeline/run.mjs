// `npm run bench -- pipeline [--rows <n>] [--json]`: the whole `pipewright run` on the synthetic
// table in the embedded store, next to a Python script doing the replaced project's steps on the
// same rows (pandas read, get_dummies, scaling, RandomForest with its hyperparameters), in one run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = join(root, 'bench', 'out');
const bin = join(root, 'bin', 'pipewright.js');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : fallback;
};
const rows = Number(option('rows', '381109'));
const json = args.includes('--json');
const python = '/usr/bin/python3';

function log(text) {
  if (!json) process.stderr.write(`${text}\n`);
}

/** Runs a command under /usr/bin/time -v; returns wall seconds, peak RSS in MB and stdout. */
function timed(command, commandArgs, cwd) {
  const result = spawnSync('/usr/bin/time', ['-v', command, ...commandArgs], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (result.status !== 0)
    throw new Error(`${command} ${commandArgs.join(' ')} failed:\n${result.stderr.slice(-3000)}`);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(
    result.stderr,
  );
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr);
  const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  return { seconds, peakRssMb: Math.round(Number(rss[1]) / 1024), stdout: result.stdout };
}

function pipewright(commandArgs, cwd) {
  execFileSync(process.execPath, [bin, ...commandArgs], { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
}

mkdirSync(out, { recursive: true });
const project = join(out, `pipeline-${rows}`);
rmSync(project, { recursive: true, force: true });
pipewright(['init', project, '--name', 'bench', '-q'], root);
const csv = join(project, 'data', 'train.csv');
log(`generating ${rows.toLocaleString('en')} synthetic rows and pushing them into the embedded store…`);
pipewright(['sample', 'vehicle-insurance', '--rows', String(rows), '--seed', '42', '-o', csv, '-q'], project);
pipewright(['push', csv, '-q'], project);

const config = join(project, 'pipewright.yaml');
const template = readFileSync(config, 'utf8');
const results = [];

function ours(label, modelBlock) {
  writeFileSync(config, template.replace(/model:\n(?: {2}.*\n)+/, modelBlock));
  log(`pipewright run (${label})…`);
  const run = timed(process.execPath, [bin, 'run', '--no-cache', '--no-publish', '--json', '-q'], project);
  const record = JSON.parse(run.stdout);
  const steps = Object.fromEntries(record.steps.map((step) => [step.name, step.seconds]));
  results.push({
    impl: 'pipewright',
    model: label,
    rows,
    seconds: run.seconds,
    peak_rss_mb: run.peakRssMb,
    roc_auc: record.metrics.roc_auc,
    steps,
  });
}

ours(
  'gbdt',
  'model:\n  type: gbdt\n  params: { learning_rate: 0.1, max_iter: 200, max_leaf_nodes: 31, early_stopping: true }\n',
);
ours(
  'random_forest',
  'model:\n  type: random_forest\n  params: { n_estimators: 200, max_depth: 10, min_samples_split: 7, min_samples_leaf: 6, criterion: entropy }\n',
);

const script = `
import sys, time, json
t0 = time.time()
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
df = pd.read_csv(sys.argv[1])
y = df.pop('Response')
df = df.drop(columns=['id'])
X = pd.get_dummies(df, columns=['Gender', 'Vehicle_Age', 'Vehicle_Damage'], drop_first=True).astype(float)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42, stratify=y)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
model = RandomForestClassifier(n_estimators=200, max_depth=10, min_samples_split=7, min_samples_leaf=6, criterion='entropy', n_jobs=int(sys.argv[2]), random_state=42)
model.fit(X_train, y_train)
auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
print(json.dumps({'roc_auc': auc, 'seconds': time.time() - t0}))
`;
writeFileSync(join(out, 'pipeline_baseline.py'), script);
if (existsSync(python)) {
  for (const jobs of [2]) {
    log(`python baseline (pandas + scikit-learn RandomForest, n_jobs=${jobs})…`);
    const run = timed(python, [join(out, 'pipeline_baseline.py'), csv, String(jobs)], project);
    const reported = JSON.parse(run.stdout.trim().split('\n').pop());
    results.push({
      impl: 'python-sklearn',
      model: `random_forest (n_jobs=${jobs})`,
      rows,
      seconds: run.seconds,
      peak_rss_mb: run.peakRssMb,
      roc_auc: Number(reported.roc_auc.toFixed(6)),
    });
  }
} else {
  log(`${python} not found: install python3-sklearn and python3-pandas for the baseline`);
}

if (json) {
  for (const result of results) process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const baseline = results.find((r) => r.impl === 'python-sklearn');
  const lines = [
    `| implementation | model | rows | wall s | peak RSS MB | ROC-AUC | speed-up vs baseline |`,
    `| --- | --- | ---: | ---: | ---: | ---: | ---: |`,
    ...results.map(
      (r) =>
        `| ${r.impl} | ${r.model} | ${r.rows.toLocaleString('en')} | ${r.seconds.toFixed(2)} | ${r.peak_rss_mb} | ${r.roc_auc.toFixed(4)} | ${baseline ? `${(baseline.seconds / r.seconds).toFixed(1)}×` : '-'} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const r of results.filter((x) => x.steps)) {
    process.stdout.write(
      `\n${r.model} steps: ${Object.entries(r.steps)
        .map(([name, s]) => `${name} ${s === undefined ? '-' : s.toFixed(2)} s`)
        .join(', ')}\n`,
    );
  }
}
