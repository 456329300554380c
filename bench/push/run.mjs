// `npm run bench -- push [--sizes 381109,2000000] [--format-rows 100000]`: CSV -> embedded store throughput
// and peak memory of `pipewright push`, side by side with a Python standard-library baseline (csv + json +
// sqlite3, one transaction) on the same synthetic files, plus the embedded store's own write and
// streaming-read rates, and the same rows pushed from a semicolon CSV with decimal commas, .xlsx and .parquet.
import { spawnSync } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { once } from 'node:events';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = join(root, 'bench', 'out');
const bin = join(root, 'bin', 'pipewright.js');
const python = '/usr/bin/python3';
const seed = 42;

const args = process.argv.slice(2);
const sizesFlag = args.indexOf('--sizes');
const sizes = sizesFlag >= 0 ? args[sizesFlag + 1].split(',').map(Number) : [381_109, 2_000_000];

const formatRowsFlag = args.indexOf('--format-rows');
const formatRows = formatRowsFlag >= 0 ? Number(args[formatRowsFlag + 1]) : 100_000;

const TARGET_ROWS_PER_S = 150_000;
const TARGET_RSS_MB = 250;

const { syntheticCsv } = await import(join(root, 'dist', 'data', 'synthetic.js'));
const { scaffold } = await import(join(root, 'dist', 'project', 'scaffold.js'));

/** The synthetic CSV for `rows`, generated once and cached under bench/out/. */
async function csvFile(rows) {
  const file = join(out, `push-${rows}-seed${seed}.csv`);
  if (existsSync(file)) return file;
  const partial = `${file}.partial`;
  const stream = createWriteStream(partial);
  for (const chunk of syntheticCsv({ rows, seed })) {
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'close');
  renameSync(partial, file);
  return file;
}

/** Runs a command under /usr/bin/time -v; returns its stdout and peak RSS in MB. */
function timed(command, commandArgs, options = {}) {
  const result = spawnSync('/usr/bin/time', ['-v', command, ...commandArgs], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    ...options,
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${commandArgs.join(' ')} failed (${result.status}):\n${result.stderr.slice(-2000)}`,
    );
  }
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(result.stderr);
  const seconds = wall ? wall[1].split(':').reduce((total, part) => total * 60 + Number(part), 0) : NaN;
  return { stdout: result.stdout, rssMb: rss ? Number(rss[1]) / 1024 : NaN, wallSeconds: seconds };
}

function removeDatabase(file) {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
}

const project = join(out, 'push-project');
rmSync(project, { recursive: true, force: true });
scaffold(project, {
  values: {
    name: 'bench',
    collection: 'records',
    metric: 'roc_auc',
    expected_score: '0.6',
    version: 'bench',
  },
});

const format = (value, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '?';

console.log(
  `push benchmark: node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')}`,
);
const rows = [];
for (const size of sizes) {
  const file = await csvFile(size);
  removeDatabase(join(project, '.pipewright', 'store.db'));
  const { MONGODB_URL: _unused, ...env } = process.env;
  const ours = timed(process.execPath, [bin, 'push', file, '--json', '--quiet'], { cwd: project, env });
  const summary = JSON.parse(ours.stdout);
  if (summary.read !== size || summary.inserted !== size)
    throw new Error(`pipewright pushed ${summary.inserted} of ${size} rows`);
  const baselineDb = join(out, 'push-baseline.db');
  removeDatabase(baselineDb);
  const theirs = timed(python, [join(root, 'bench', 'push', 'baseline.py'), file, baselineDb]);
  const baseline = JSON.parse(theirs.stdout);
  removeDatabase(baselineDb);
  rows.push({
    rows: size,
    oursRate: summary.rows_per_s,
    oursWall: ours.wallSeconds,
    oursRss: ours.rssMb,
    theirsRate: baseline.rows_per_s,
    theirsWall: theirs.wallSeconds,
    theirsRss: baseline.rows_per_s ? theirs.rssMb : NaN,
  });
  console.log(`  ${format(size)} rows done`);
}

// The store alone: upserts of 5,000 documents per transaction, then one streaming read of them all.
const storeScript = `
const { EmbeddedStore } = await import(${JSON.stringify(join(root, 'dist', 'store', 'sqlite.js'))});
const { syntheticVehicleInsurance } = await import(${JSON.stringify(join(root, 'dist', 'data', 'synthetic.js'))});
const file = ${JSON.stringify(join(out, 'push-store.db'))};
const store = EmbeddedStore.open(file);
const collection = store.collection('records', { keyType: 'integer' });
let batch = [], written = 0, writeSeconds = 0;
for (const record of syntheticVehicleInsurance({ rows: ${sizes[0]}, seed: ${seed} })) {
  batch.push({ _id: record.id, ...record });
  if (batch.length === 5000) { const t = performance.now(); await collection.upsertMany(batch); writeSeconds += (performance.now() - t) / 1000; written += batch.length; batch = []; }
}
if (batch.length) { const t = performance.now(); await collection.upsertMany(batch); writeSeconds += (performance.now() - t) / 1000; written += batch.length; }
let read = 0; const started = performance.now();
for await (const document of collection.find({}, { batchSize: 5000 })) read += document._id > 0 ? 1 : 0;
const readSeconds = (performance.now() - started) / 1000;
await store.close();
console.log(JSON.stringify({ written, writeRate: written / writeSeconds, read, readRate: read / readSeconds }));
`;
removeDatabase(join(out, 'push-store.db'));
const storeRun = timed(process.execPath, ['--input-type=module', '-e', storeScript]);
const storeResult = JSON.parse(storeRun.stdout);
removeDatabase(join(out, 'push-store.db'));

const header = ['rows', 'pipewright rows/s', 'peak RSS', 'Python rows/s', 'peak RSS', 'ratio', 'targets'];
const table = rows.map((row) => {
  const ratio = row.oursRate / row.theirsRate;
  const misses = [];
  if (row.oursRate < TARGET_ROWS_PER_S) misses.push(`< ${format(TARGET_ROWS_PER_S)} rows/s`);
  if (ratio < 1) misses.push('slower than Python');
  if (row.rows >= 2_000_000 && row.oursRss >= TARGET_RSS_MB) misses.push(`RSS >= ${TARGET_RSS_MB} MB`);
  return [
    format(row.rows),
    `${format(row.oursRate)} (${format(row.oursWall, 1)} s)`,
    `${format(row.oursRss)} MB`,
    `${format(row.theirsRate)} (${format(row.theirsWall, 1)} s)`,
    `${format(row.theirsRss)} MB`,
    `${format(ratio, 2)}x`,
    misses.length ? `MISSED: ${misses.join(', ')}` : 'met',
  ];
});
const widths = header.map((title, column) =>
  Math.max(title.length, ...table.map((row) => row[column].length)),
);
const line = (cells) => `| ${cells.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`;
console.log('');
console.log(
  'CSV -> embedded store (`pipewright push`, default batch size 5,000; Python: csv + json + sqlite3, one transaction)',
);
console.log(line(header));
console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
for (const row of table) console.log(line(row));
console.log('');
console.log(
  `embedded store alone, ${format(storeResult.written)} documents: upsertMany ${format(storeResult.writeRate)} docs/s (5,000 per transaction), ` +
    `find streamed ${format(storeResult.readRate)} docs/s, peak RSS ${format(storeRun.rssMb)} MB (including generating the documents)`,
);
console.log(
  `pipewright rows/s counts the whole command: reading, validating every row against the schema, and writing.`,
);

// The same rows in other file formats: each pushed into an empty store, against the CSV of those rows.
// DuckDB writes the Parquet file (an independent writer); exceljs's streaming writer the workbook.
async function formatFiles(size) {
  const csv = await csvFile(size);
  const base = join(out, `push-${size}-seed${seed}`);
  const euro = `${base}.euro.csv`;
  const parquet = `${base}.parquet`;
  const xlsx = `${base}.xlsx`;
  if (!existsSync(euro)) {
    const text = readFileSync(csv, 'utf8');
    // Semicolons, and the premium written with a decimal comma as a European spreadsheet saves it.
    writeFileSync(
      euro,
      text
        .replaceAll(',', ';')
        .replace(/^((?:[^;\n]*;){8})(\d+)(;)/gm, (_, head, premium, tail) => `${head}${premium},00${tail}`),
    );
  }
  if (!existsSync(parquet)) {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const connection = await (await DuckDBInstance.create(':memory:')).connect();
    await connection.run(
      // Yes/No stays text (DuckDB would make it BOOLEAN), as the schema's category says.
      `COPY (SELECT * FROM read_csv('${csv}', header = true, auto_type_candidates = ['BIGINT', 'DOUBLE', 'VARCHAR'])) TO '${parquet}' (FORMAT parquet, COMPRESSION snappy)`,
    );
    connection.closeSync();
  }
  if (!existsSync(xlsx)) {
    const { default: ExcelJS } = await import('exceljs');
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: xlsx, useSharedStrings: true });
    const sheet = workbook.addWorksheet('rows');
    for (const line of readFileSync(csv, 'utf8').trimEnd().split('\n'))
      sheet.addRow(line.split(',').map((cell) => (/^\d+$/.test(cell) ? Number(cell) : cell))).commit();
    sheet.commit();
    await workbook.commit();
  }
  return [
    ['CSV', csv],
    ['CSV ; and decimal commas', euro],
    ['.xlsx (exceljs stream)', xlsx],
    ['.parquet (hyparquet)', parquet],
  ];
}

if (formatRows > 0) {
  const formatTable = [];
  for (const [label, file] of await formatFiles(formatRows)) {
    removeDatabase(join(project, '.pipewright', 'store.db'));
    const { MONGODB_URL: _unused, ...env } = process.env;
    const run = timed(process.execPath, [bin, 'push', file, '--json', '--quiet'], { cwd: project, env });
    const summary = JSON.parse(run.stdout);
    if (summary.inserted !== formatRows || summary.rejected !== 0)
      throw new Error(
        `${label}: pushed ${summary.inserted} of ${formatRows} rows, ${summary.rejected} rejected`,
      );
    formatTable.push({
      label,
      rate: summary.rows_per_s,
      wall: run.wallSeconds,
      rss: run.rssMb,
      size: statSync(file).size,
    });
  }
  const csvRate = formatTable[0].rate;
  const formatHeader = ['file', 'size', 'rows/s', 'peak RSS', 'vs CSV'];
  const cells = formatTable.map((row) => [
    row.label,
    `${format(row.size / 1e6, 1)} MB`,
    `${format(row.rate)} (${format(row.wall, 1)} s)`,
    `${format(row.rss)} MB`,
    `${format(row.rate / csvRate, 2)}x`,
  ]);
  const formatWidths = formatHeader.map((title, column) =>
    Math.max(title.length, ...cells.map((row) => row[column].length)),
  );
  const formatLine = (row) =>
    `| ${row.map((cell, column) => cell.padEnd(formatWidths[column])).join(' | ')} |`;
  console.log('');
  console.log(
    `the same ${format(formatRows)} rows from each file format -> embedded store (\`pipewright push\`)`,
  );
  console.log(formatLine(formatHeader));
  console.log(`|${formatWidths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of cells) console.log(formatLine(row));
}
