// `init --from` → push → run → predict → serve through the real binary (needs dist/), on public tables
// that ship inside Debian packages, with the held-out score compared to scikit-learn's
// HistGradientBoosting trained and tested on the same rows.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BIN, ROOT, runCli, tempDir } from '../helpers/cli.js';
import {
  anes96Csv,
  breastCancerCsv,
  diabetesCsv,
  digitsCsv,
  hasSklearnTables,
  hasStatsmodelsTables,
  irisCsv,
  pythonHasSklearn,
  sklearnBaseline,
  type BaselineScores,
} from '../fixtures/public-tables.js';

const built = existsSync(join(ROOT, 'dist', 'cli', 'commands', 'schema.js'));
const haveTables = hasSklearnTables();
if (!haveTables)
  console.warn(
    "skipping init --from tests: python3-sklearn's data sets are not installed (apt-get install python3-sklearn)",
  );
if (!hasStatsmodelsTables())
  console.warn(
    'skipping the categorical-table test: python3-statsmodels is not installed (apt-get install python3-statsmodels)',
  );
const compare = pythonHasSklearn();
if (!compare)
  console.warn(
    'not comparing with scikit-learn: /usr/bin/python3 cannot import sklearn and pandas (apt-get install python3-sklearn)',
  );

interface Flow {
  dir: string;
  dataFile: string;
  init: { inferred: { task: string; key: string | null; metric: string; warnings: string[] } };
  push: { read: number; inserted: number; rejected: number };
  run: {
    id: string;
    status: string;
    metrics: Record<string, number>;
    outcome: { published: boolean; version?: string };
  };
  predictions: string[];
}

/** init --from, push, run and predict, each through the binary; fails on any non-zero exit. */
async function flow(csv: string, target: string, extra: string[] = []): Promise<Flow> {
  const dir = join(tempDir('pipewright-init-from-'), basename(csv, '.csv').replace(/_/g, '-'));
  const step = async (args: string[], cwd?: string) => {
    const result = await runCli([...args, '--json'], cwd ? { cwd } : {});
    expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(0);
    return JSON.parse(result.stdout);
  };
  const init = await step(['init', dir, '--from', csv, '--target', target, ...extra]);
  // These tables are compared with scikit-learn on the run's own hold-out: keep it (small data would
  // otherwise be cross-validated, with no test part to compare on).
  const configFile = join(dir, 'pipewright.yaml');
  writeFileSync(configFile, readFileSync(configFile, 'utf8').replace(/(\n\s+use:) auto/, '$1 never'));
  const dataFile = `data/${basename(csv)}`;
  const push = await step(['push', dataFile], dir);
  const run = await step(['run'], dir);
  await step(['predict', dataFile, '-o', 'predictions.csv'], dir);
  const predictions = readFileSync(join(dir, 'predictions.csv'), 'utf8').trim().split('\n');
  return { dir, dataFile, init, push, run, predictions };
}

/** scikit-learn's scores on the rows the run trained and tested on, with the run's model settings. */
function baselineFor(result: Flow, task: 'binary' | 'multiclass' | 'regression'): BaselineScores {
  const artifacts = join(result.dir, 'artifacts', result.run.id);
  const readRows = (name: string) => {
    const bytes = readFileSync(join(artifacts, 'split', name));
    return Array.from(new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
  };
  // Frame rows are in key order; the key `id` numbers the file's rows from 1.
  const frame = tableFromIPC(readFileSync(join(artifacts, 'ingest', 'frame.arrow')));
  const ids = frame.getChild('id')!.toArray() as string[];
  const fileRow = (frameRow: number) => Number(ids[frameRow]) - 1;
  const schema = parse(readFileSync(join(result.dir, 'schema.yaml'), 'utf8')) as {
    fields: Record<string, { type: string; role?: string }>;
    missing_values?: string[];
  };
  const config = parse(readFileSync(join(result.dir, 'pipewright.yaml'), 'utf8')) as {
    model: { params: Record<string, unknown> };
    split: { seed: number };
  };
  const fields = Object.entries(schema.fields);
  const target = fields.find(([, field]) => field.role === 'target')![0];
  const params = config.model.params;
  return sklearnBaseline({
    csv: join(result.dir, result.dataFile),
    target,
    task,
    drop: fields.filter(([, field]) => field.role === 'key' || field.role === 'ignore').map(([name]) => name),
    categorical: fields
      .filter(
        ([, field]) =>
          (field.role ?? 'feature') === 'feature' && (field.type === 'category' || field.type === 'string'),
      )
      .map(([name]) => name),
    missingValues: schema.missing_values ?? ['', 'NA', 'N/A', 'NaN', 'null', 'NULL', 'None'],
    train: readRows('train.i32').map(fileRow),
    test: readRows('test.i32').map(fileRow),
    params: {
      learning_rate: params.learning_rate as number,
      max_iter: params.max_iter as number,
      max_leaf_nodes: params.max_leaf_nodes as number,
      min_samples_leaf: 20,
      early_stopping: params.early_stopping as 'auto',
      random_state: config.split.seed,
    },
  });
}

const servers: ChildProcess[] = [];
afterAll(() => {
  for (const server of servers) if (server.exitCode === null) server.kill('SIGKILL');
});

/** Starts `pipewright serve --port 0` in the project and posts one record to /predict. */
async function servePredict(dir: string, record: Record<string, unknown>): Promise<Record<string, unknown>> {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('MONGODB_') && !name.startsWith('PIPEWRIGHT_') && !name.startsWith('VITEST'))
      env[name] = value;
  }
  const child = spawn(process.execPath, [BIN, '--json', 'serve', '--port', '0'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  servers.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /"url": "(http:\/\/[^"]+)"/.exec(stdout);
      if (match) resolve(match[1]);
    });
    child.on('exit', () => reject(new Error(`serve exited before listening:\n${stderr}`)));
  });
  try {
    const response = await fetch(`${url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(record),
    });
    const body = (await response.json()) as Record<string, unknown>;
    expect(response.status, JSON.stringify(body)).toBe(200);
    return body;
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

/** The first data row of a CSV file as a record of its feature columns (the target and key left out). */
function firstRecord(csv: string, leaveOut: string[]): Record<string, unknown> {
  const [header, first] = readFileSync(csv, 'utf8').split('\n');
  const names = header.split(',');
  const cells = first.split(',');
  return Object.fromEntries(
    names.map((name, i) => [name, cells[i]]).filter(([name]) => !leaveOut.includes(name)),
  );
}

describe.skipIf(!haveTables)('init --from on public tables, through push, run, predict and serve', () => {
  let folder: string;
  beforeAll(() => {
    expect(built, 'dist/ is missing: run `npx tsc -p tsconfig.build.json`').toBe(true);
    folder = tempDir('pipewright-tables-');
  });

  it('binary (breast cancer): ROC-AUC within 0.02 of scikit-learn on the same split, and serve gives a probability', async () => {
    const csv = breastCancerCsv(folder);
    const result = await flow(csv, 'diagnosis');
    expect(result.init.inferred).toMatchObject({ task: 'binary', key: 'id', metric: 'roc_auc' });
    expect(result.push).toMatchObject({ read: 569, inserted: 569, rejected: 0 });
    expect(result.run).toMatchObject({ status: 'succeeded', outcome: { published: true, version: 'v1' } });
    expect(result.predictions[0]).toBe('id,probability,label');
    expect(result.predictions).toHaveLength(570);
    const served = await servePredict(result.dir, firstRecord(csv, ['id', 'diagnosis']));
    expect(served.probability).toEqual(expect.any(Number));
    expect(['benign', 'malignant']).toContain(served.label);
    if (!compare) return;
    const baseline = baselineFor(result, 'binary');
    console.info(
      `breast cancer ROC-AUC: pipewright ${result.run.metrics.roc_auc.toFixed(4)}, scikit-learn ${baseline.roc_auc!.toFixed(4)}`,
    );
    expect(Math.abs(result.run.metrics.roc_auc - baseline.roc_auc!)).toBeLessThanOrEqual(0.02);
  }, 60_000);

  it('multiclass (digits): macro-F1 within 0.03 of scikit-learn on the same split, with ten class probabilities', async () => {
    const csv = digitsCsv(folder);
    const result = await flow(csv, 'digit');
    expect(result.init.inferred).toMatchObject({ task: 'multiclass', key: 'id' });
    expect(result.push).toMatchObject({ read: 1797, rejected: 0 });
    expect(result.run).toMatchObject({ status: 'succeeded', outcome: { published: true } });
    expect(result.predictions[0]).toBe(
      `id,label,${Array.from({ length: 10 }, (_, digit) => `probability_${digit}`).join(',')}`,
    );
    const [, label, ...probabilities] = result.predictions[1].split(',');
    expect(Number(label)).toBe(0); // the first digit in the file is a 0
    expect(probabilities.map(Number).reduce((sum, p) => sum + p, 0)).toBeCloseTo(1, 4);
    if (!compare) return;
    const baseline = baselineFor(result, 'multiclass');
    console.info(
      `digits macro-F1: pipewright ${result.run.metrics.macro_f1.toFixed(4)}, scikit-learn ${baseline.macro_f1!.toFixed(4)}`,
    );
    expect(Math.abs(result.run.metrics.macro_f1 - baseline.macro_f1!)).toBeLessThanOrEqual(0.03);
  }, 90_000);

  it('regression (diabetes): R² within 0.03 of scikit-learn on the same split, and serve gives a value', async () => {
    const csv = diabetesCsv(folder);
    const result = await flow(csv, 'progression');
    expect(result.init.inferred).toMatchObject({ task: 'regression', key: 'id', metric: 'r2' });
    expect(result.run).toMatchObject({ status: 'succeeded', outcome: { published: true } });
    expect(result.predictions[0]).toBe('id,prediction');
    expect(Number(result.predictions[1].split(',')[1])).toBeGreaterThan(25);
    const served = await servePredict(result.dir, firstRecord(csv, ['id', 'progression']));
    expect(served.value).toEqual(expect.any(Number));
    expect(served).not.toHaveProperty('probability');
    // A config that names no loss still trains a regression schema with squared error.
    const config = join(result.dir, 'pipewright.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace(/^\s*loss: squared_error.*\n/m, ''));
    expect(readFileSync(config, 'utf8')).not.toMatch(/loss:/);
    const again = await runCli(['run', '--no-cache', '--json'], { cwd: result.dir });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).metrics.r2).toBe(result.run.metrics.r2);
    if (!compare) return;
    const baseline = baselineFor(result, 'regression');
    console.info(
      `diabetes R²: pipewright ${result.run.metrics.r2.toFixed(4)}, scikit-learn ${baseline.r2!.toFixed(4)}`,
    );
    expect(Math.abs(result.run.metrics.r2 - baseline.r2!)).toBeLessThanOrEqual(0.03);
  }, 60_000);

  it('a table with missing values written ?, NA and empty: lists ? among the missing values and stays close to scikit-learn', async () => {
    const csv = diabetesCsv(folder, { missing: true });
    const result = await flow(csv, 'progression');
    const schema = parse(readFileSync(join(result.dir, 'schema.yaml'), 'utf8'));
    expect(schema.missing_values).toContain('?');
    expect(schema.fields.bmi.nullable).toBe(true);
    // Features take missing values (imputed); what training held is information beside the contract.
    expect(schema.fields.age.nullable).toBe(true);
    expect(schema.fields.age.observed.missing).toBe(0);
    expect(result.push).toMatchObject({ read: 442, rejected: 0 });
    expect(result.run).toMatchObject({ status: 'succeeded', outcome: { published: true } });
    if (!compare) return;
    const baseline = baselineFor(result, 'regression');
    console.info(
      `diabetes with missing values R²: pipewright ${result.run.metrics.r2.toFixed(4)}, scikit-learn ${baseline.r2!.toFixed(4)}`,
    );
    expect(Math.abs(result.run.metrics.r2 - baseline.r2!)).toBeLessThanOrEqual(0.03);
  }, 60_000);

  it.skipIf(!hasStatsmodelsTables())(
    'a table with many categorical columns (ANES 1996): one-hot categories, ROC-AUC within 0.02 of scikit-learn',
    async () => {
      const csv = anes96Csv(folder);
      const result = await flow(csv, 'vote');
      const schema = parse(readFileSync(join(result.dir, 'schema.yaml'), 'utf8'));
      const categories = Object.entries(schema.fields as Record<string, { type: string }>)
        .filter(([, field]) => field.type === 'category')
        .map(([name]) => name);
      expect(categories).toEqual([
        'self_left_right',
        'clinton_left_right',
        'dole_left_right',
        'party',
        'education',
        'income',
        'vote',
      ]);
      expect(result.push).toMatchObject({ read: 944, rejected: 0 });
      expect(result.run).toMatchObject({ status: 'succeeded', outcome: { published: true } });
      if (!compare) return;
      const baseline = baselineFor(result, 'binary');
      console.info(
        `ANES 1996 ROC-AUC: pipewright ${result.run.metrics.roc_auc.toFixed(4)}, scikit-learn ${baseline.roc_auc!.toFixed(4)}`,
      );
      expect(Math.abs(result.run.metrics.roc_auc - baseline.roc_auc!)).toBeLessThanOrEqual(0.02);
    },
    60_000,
  );

  it('a table without a key column (iris): rows are keyed by content, and predict and serve work', async () => {
    const csv = irisCsv(folder);
    const result = await flow(csv, 'species');
    expect(result.init.inferred).toMatchObject({ task: 'multiclass', key: null, metric: 'accuracy' });
    expect(result.init.inferred.warnings.join('\n')).toMatch(/1 row repeats an earlier row/);
    // One row of iris repeats another exactly: a table without a key keeps it.
    expect(result.push).toMatchObject({ read: 150, inserted: 150, rejected: 0 });
    expect(result.run).toMatchObject({ status: 'succeeded', outcome: { published: true } });
    expect(result.run.metrics.accuracy).toBeGreaterThan(0.85);
    expect(result.predictions[0]).toBe(
      'line,label,probability_setosa,probability_versicolor,probability_virginica',
    );
    expect(result.predictions).toHaveLength(151);
    const served = await servePredict(result.dir, firstRecord(csv, ['species']));
    expect(served.label).toBe('setosa');
    expect(Object.keys(served.probabilities as object)).toEqual(['setosa', 'versicolor', 'virginica']);
  }, 60_000);
});

describe('init --from and schema infer on a small file', () => {
  let dir: string;
  let csv: string;
  beforeAll(() => {
    expect(built, 'dist/ is missing: run `npx tsc -p tsconfig.build.json`').toBe(true);
    dir = tempDir('pipewright-infer-cli-');
    const rows = Array.from({ length: 60 }, (_, i) => [
      i + 1,
      ['north', 'south', 'east', 'west'][i % 4],
      (20 + ((i * 7) % 50)).toString(),
      i % 4 === 0 ? '?' : (i * 1.5).toFixed(1),
      i % 3 === 1 ? 'yes' : 'no',
      i % 3 === 1 ? 'yes' : 'no',
    ]);
    csv = join(dir, 'leads.csv');
    writeFileSync(
      csv,
      `lead_id,region,age,spend,converted_copy,converted\n${rows.map((row) => row.join(',')).join('\n')}\n`,
    );
  });

  it('prints a commented schema and warns on stderr about a column equal to the target', async () => {
    const result = await runCli(['schema', 'infer', csv, '--target', 'converted'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^# The data contract, inferred from leads\.csv \(60 rows\)/);
    expect(result.stdout).toMatch(/missing_values: \[.*"\?"\]/);
    expect(result.stderr).toMatch(
      /warn\s+converted_copy: equals the target converted in 100% of rows: likely leakage/,
    );
  });

  it('names the flag the user typed when the data refuses what it asks for', async () => {
    const result = await runCli(['schema', 'infer', csv, '--target', 'converted', '--task', 'multiclass'], {
      cwd: dir,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/PW_USAGE: --target converted: the multiclass task needs three classes/);
  });

  it('writes the schema with -o and refuses to overwrite it without --force', async () => {
    const first = await runCli(['schema', 'infer', 'leads.csv', '-t', 'converted', '-o', 'schema.yaml'], {
      cwd: dir,
    });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(
      /Wrote schema\.yaml: 6 fields from 60 rows, key lead_id, target converted \(binary\), 1 warning/,
    );
    expect(readFileSync(join(dir, 'schema.yaml'), 'utf8')).toMatch(/role: target/);
    const again = await runCli(['schema', 'infer', 'leads.csv', '-o', 'schema.yaml'], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/PW_INIT_EXISTS: schema\.yaml already exists/);
    expect(
      (await runCli(['schema', 'infer', 'leads.csv', '-o', 'schema.yaml', '--force'], { cwd: dir })).code,
    ).toBe(0);
  });

  it('reads the values given with --missing as missing, and writes that list into the schema', async () => {
    writeFileSync(join(dir, 'dashes.csv'), 'id,amount,kind\n1,3.5,a\n2,-,b\n3,4,-\n4,2,a\n5,"",b\n');
    const result = await runCli(['schema', 'infer', 'dashes.csv', '--missing', '"",-', '--json'], {
      cwd: dir,
    });
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.missing_values).toEqual(['', '-']);
    expect(summary.fields.find((f: { name: string }) => f.name === 'amount')).toMatchObject({
      type: 'number',
      nullable: true,
      missing: 2,
    });
    expect(summary.fields.find((f: { name: string }) => f.name === 'kind')).toMatchObject({
      type: 'category',
      nullable: true,
      observed: { missing: 1, categories: { a: 2, b: 2 } },
    });
  });

  it('writes the values of a category named in --closed as its contract, and names the flag for a column that is not one', async () => {
    writeFileSync(join(dir, 'kinds.csv'), 'id,amount,kind\n1,3.5,a\n2,4,b\n3,4,a\n4,2,a\n5,1,b\n');
    const closed = await runCli(['schema', 'infer', 'kinds.csv', '--closed', 'kind', '--json'], { cwd: dir });
    expect(closed.code, closed.stderr).toBe(0);
    const kind = JSON.parse(closed.stdout).fields.find((f: { name: string }) => f.name === 'kind');
    expect(kind).toMatchObject({ type: 'category', values: ['a', 'b'] });
    const wrong = await runCli(['schema', 'infer', 'kinds.csv', '--closed', 'amount'], { cwd: dir });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/PW_USAGE: --closed amount/);
  });

  it('needs --target with --from, and --from with --target, writing nothing', async () => {
    const project = join(dir, 'no-target');
    const missingTarget = await runCli(['init', project, '--from', csv]);
    expect(missingTarget.code).toBe(2);
    expect(missingTarget.stderr).toMatch(/PW_USAGE: --from needs --target <column>/);
    const missingFrom = await runCli(['init', project, '--target', 'converted']);
    expect(missingFrom.code).toBe(2);
    expect(missingFrom.stderr).toMatch(/--target applies only with --from <file>/);
    expect(existsSync(join(project, 'pipewright.yaml'))).toBe(false);
    expect(existsSync(join(project, 'schema.yaml'))).toBe(false);
  });

  it('names the nearest column for a --target the file lacks, writing nothing', async () => {
    const project = join(dir, 'bad-target');
    const result = await runCli(['init', project, '--from', csv, '--target', 'convert']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--target convert: the file has no column "convert"/);
    expect(result.stderr).toMatch(/Did you mean "converted"\?/);
    expect(existsSync(join(project, 'pipewright.yaml'))).toBe(false);
  });

  it('uses a data file already inside the project folder where it is, and the project checks', async () => {
    const project = join(dir, 'inside');
    const data = join(project, 'raw');
    mkdirSync(data, { recursive: true });
    copyFileSync(csv, join(data, 'leads.csv'));
    const result = await runCli([
      'init',
      project,
      '--from',
      join(data, 'leads.csv'),
      '--target',
      'converted',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.inferred).toMatchObject({
      data: 'raw/leads.csv',
      key: 'lead_id',
      task: 'binary',
      metric: 'roc_auc',
    });
    expect(summary.files).not.toContain('data/leads.csv');
    expect(readFileSync(join(project, 'README.md'), 'utf8')).toContain('pipewright push raw/leads.csv');
    const check = await runCli(['check', '--json'], { cwd: project });
    expect(check.code, check.stderr).toBe(0);
    expect(JSON.parse(check.stdout).schema).toMatchObject({
      key: 'lead_id',
      target: 'converted',
      task: 'binary',
    });
  });
});
