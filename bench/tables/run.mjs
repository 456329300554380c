// `npm run bench -- tables [--json] [--only name,name]`: puts each table of the "anyone's table" corpus
// (test/fixtures/table-corpus.ts) through the real CLI (init --from train.csv, push, run, predict
// test.csv) and scores scikit-learn's HistGradientBoosting (defaults) on the same split in the same run.
// Prints a Markdown table, or with --json one JSON object a table.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = join(root, 'bench', 'out', 'tables');
const args = process.argv.slice(2);
const json = args.includes('--json');
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? args[onlyAt + 1].split(',') : null;
const log = (line) => {
  if (!json) process.stderr.write(`${line}\n`);
};

// The corpus is written in TypeScript for the tests; transpile its two files as they are (each imports
// only the other, Node.js built-ins and `yaml`), so the bench and the tests share one definition.
mkdirSync(out, { recursive: true });
for (const name of ['public-tables', 'table-corpus']) {
  const source = readFileSync(join(root, 'test', 'fixtures', `${name}.ts`), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  writeFileSync(join(out, `${name}.js`), outputText);
}
const { CORPUS, runTable, resultsTable } = await import(join(out, 'table-corpus.js'));
const { pythonHasSklearn } = await import(join(out, 'public-tables.js'));

const baseline = pythonHasSklearn();
if (!baseline) log('not comparing with scikit-learn: /usr/bin/python3 cannot import sklearn and pandas');
const tables = CORPUS.filter((table) => !only || only.includes(table.name));
const workDir = mkdtempSync(join(tmpdir(), 'pipewright-bench-tables-'));
const loadBefore = loadavg();
const started = Date.now();
const results = [];
for (const table of tables) {
  log(`  ${table.name} ...`);
  const result = await runTable(table, { bin: join(root, 'bin', 'pipewright.js'), workDir, baseline });
  results.push(result);
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
}
const loadAfter = loadavg();
rmSync(workDir, { recursive: true, force: true });
if (!json) {
  const load = (values) => values.map((value) => value.toFixed(1)).join(' ');
  console.log(resultsTable(results));
  console.log('');
  console.log(
    `${results.filter((result) => result.published && result.refused === 0).length} of ${results.length} tables published a model and scored every test row; ` +
      `${((Date.now() - started) / 1000).toFixed(0)} s in all (node ${process.version}, ${cpus().length} CPUs, ` +
      `load average ${load(loadBefore)} at the start, ${load(loadAfter)} at the end).`,
  );
  for (const result of results) if (result.note) console.log(`- ${result.table}: ${result.note}`);
}
