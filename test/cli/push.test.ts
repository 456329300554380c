// `pipewright push`, `data stats` and `sample` through the real binary (dist/ must be built): exit
// codes, JSON output, messages for bad files, the MongoDB backend through the loopback wire server, and
// a push killed with SIGKILL part-way then run again.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { syntheticCsv } from '../../src/data/synthetic.js';
import { scaffold } from '../../src/project/scaffold.js';
import { EmbeddedStore } from '../../src/store/sqlite.js';
import { startWireServer, type WireServer } from '../fixtures/wire-server.js';
import { BIN, runCli, tempDir } from '../helpers/cli.js';

const HEADER =
  'id,Gender,Age,Driving_License,Region_Code,Previously_Insured,Vehicle_Age,Vehicle_Damage,Annual_Premium,Policy_Sales_Channel,Vintage,Response';

function row(id: number, age = String(20 + (id % 50))): string {
  return `${id},${id % 2 ? 'Male' : 'Female'},${age},1,28.0,0,1-2 Year,Yes,${2630 + id},26.0,${10 + id},${id % 3 === 0 ? 1 : 0}`;
}

/** Runs the CLI in-process against `project` (files are named by absolute path, so messages show them so). */
async function cli(
  project: string | undefined,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const config = project ? ['--config', join(project, 'pipewright.yaml')] : [];
  const code = await main(['node', 'pipewright', ...config, ...args], {
    stdout: sink((text) => (stdout += text)),
    stderr: sink((text) => (stderr += text)),
  });
  return { code, stdout, stderr };
}

function newProject(name = 'insurance'): string {
  const dir = join(tempDir('pipewright-cli-push-'), name);
  scaffold(dir, {
    values: { name, collection: 'records', metric: 'roc_auc', expected_score: '0.6', version: '0.0.0' },
  });
  return dir;
}

function storeFile(project: string): string {
  return join(project, '.pipewright', 'store.db');
}

/** Counts a collection through a second connection, as another process sees it (0 when it does not exist yet). */
function countIn(project: string, collection: string): number {
  if (!existsSync(storeFile(project))) return 0;
  const store = EmbeddedStore.open(storeFile(project));
  try {
    const exists = store.db
      .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`)
      .get(collection);
    return exists
      ? (store.db.prepare(`SELECT count(*) AS n FROM "${collection}"`).get() as { n: number }).n
      : 0;
  } finally {
    store.db.close();
  }
}

function idSummary(
  project: string,
  collection: string,
): { n: number; total: number; low: number; high: number } {
  const store = EmbeddedStore.open(storeFile(project));
  try {
    return store.db
      .prepare(
        `SELECT count(*) AS n, sum(_id) AS total, min(_id) AS low, max(_id) AS high FROM "${collection}"`,
      )
      .get() as {
      n: number;
      total: number;
      low: number;
      high: number;
    };
  } finally {
    store.db.close();
  }
}

describe('pipewright push (CLI)', () => {
  let project: string;
  beforeAll(() => {
    project = newProject();
  });

  it('pushes a file, prints a summary, and says unchanged on the second push', async () => {
    writeFileSync(
      join(project, 'data', 'good.csv'),
      `${[HEADER, ...Array.from({ length: 40 }, (_, i) => row(i + 1))].join('\n')}\n`,
    );
    const first = await runCli(['push', 'data/good.csv'], { cwd: project });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('Pushed data/good.csv into embedded');
    expect(first.stdout).toMatch(/read 40 {2}inserted 40 {2}updated 0 {2}unchanged 0 {2}rejected 0/);
    const second = await runCli(['push', 'data/good.csv', '--json'], { cwd: project });
    expect(second.code, second.stderr).toBe(0);
    const summary = JSON.parse(second.stdout);
    expect(summary).toMatchObject({
      ok: true,
      read: 40,
      inserted: 0,
      updated: 0,
      unchanged: 40,
      rejected: 0,
      collection: 'records',
    });
    expect(summary.store).toBe(`embedded ${storeFile(project)}`);
    expect(typeof summary.seconds).toBe('number');
    expect(typeof summary.rows_per_s).toBe('number');
    expect(second.stderr).not.toContain('\r');
  });

  it('exits 1 with PW_ROWS_REJECTED when rows are rejected, and 0 with --allow-rejects', async () => {
    const file = join(project, 'data', 'bad.csv');
    writeFileSync(file, `${[HEADER, row(101), row(102, 'old'), row(103), row(104, '200')].join('\n')}\n`);
    const result = await cli(project, ['push', file, '--collection', 'partial']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `error PW_ROWS_REJECTED: 2 of 4 rows of ${file} were rejected; they are in ${file}.rejects.jsonl`,
    );
    expect(result.stdout).toContain('line 3: Age "old" is not an integer');
    expect(result.stdout).toContain('line 5: Age 200 is above the maximum 120');
    const rejects = readFileSync(`${file}.rejects.jsonl`, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(rejects.map((reject) => [reject.line, reject.field])).toEqual([
      [3, 'Age'],
      [5, 'Age'],
    ]);
    const json = await cli(project, ['push', file, '--collection', 'partial', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      rejected: 2,
      unchanged: 2,
      error: { code: 'PW_ROWS_REJECTED' },
    });
    const allowed = await cli(project, ['push', file, '--collection', 'partial', '--allow-rejects']);
    expect(allowed.code).toBe(0);
    expect(countIn(project, 'partial')).toBe(2);
  });

  it('names the file, line 1 and the fix for a misspelt header, and writes nothing', async () => {
    const file = join(project, 'data', 'typo.csv');
    writeFileSync(file, `${HEADER.replace('Vintage', 'Vintgae')}\n${row(1)}\n`);
    const result = await cli(project, ['push', file, '--collection', 'typo']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error PW_FILE_INVALID: ${file}:1: the header does not match the schema`);
    expect(result.stderr).toContain('unknown column "Vintgae" (did you mean "Vintage"?)');
    expect(result.stderr).toContain(`hint: In the header of ${file}, rename "Vintgae" to "Vintage"`);
    expect(countIn(project, 'typo')).toBe(0);
  });

  it('reports a missing file with PW_FILE_NOT_FOUND and bad flags as usage errors', async () => {
    const absent = join(project, 'data', 'nothing-here.csv');
    const missing = await cli(project, ['push', absent]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`error PW_FILE_NOT_FOUND: ${absent} does not exist`);
    const good = join(project, 'data', 'good.csv');
    const batch = await cli(project, ['push', good, '--batch-size', '0']);
    expect(batch.code).toBe(2);
    expect(batch.stderr).toContain('--batch-size must be a whole number above 0');
    expect((await cli(project, ['push', good, '--format', 'xml'])).code).toBe(2);
  });

  it('validates only with --dry-run, and reads JSONL with --format whatever the extension', async () => {
    const lines = [1, 2, 3].map((id) =>
      JSON.stringify({
        id,
        Gender: 'Male',
        Age: 30,
        Driving_License: 1,
        Region_Code: 28,
        Previously_Insured: 0,
        Vehicle_Age: '< 1 Year',
        Vehicle_Damage: 'No',
        Annual_Premium: 3000,
        Policy_Sales_Channel: 26,
        Vintage: 100,
        Response: 0,
      }),
    );
    const file = join(project, 'data', 'rows.txt');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const dry = await cli(project, [
      'push',
      file,
      '--format',
      'jsonl',
      '--collection',
      'fromjson',
      '--dry-run',
      '--json',
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      dry_run: true,
      format: 'jsonl',
      read: 3,
      valid: 3,
      inserted: 0,
    });
    expect(countIn(project, 'fromjson')).toBe(0);
    const real = await cli(project, ['push', file, '--format', 'jsonl', '--collection', 'fromjson']);
    expect(real.code, real.stderr).toBe(0);
    expect(countIn(project, 'fromjson')).toBe(3);
  });

  it('prints data stats: the store, the count and the missing values per field', async () => {
    const schemaFile = join(project, 'schema.yaml');
    writeFileSync(
      schemaFile,
      readFileSync(schemaFile, 'utf8').replace(
        '  Annual_Premium:\n    type: number\n',
        '  Annual_Premium:\n    type: number\n    nullable: true\n',
      ),
    );
    const rows = [HEADER, row(1), row(2).replace(',2632,', ',,'), row(3).replace(',2633,', ',NA,')];
    const file = join(project, 'data', 'gaps.csv');
    writeFileSync(file, `${rows.join('\n')}\n`);
    const push = await cli(project, ['push', file, '--collection', 'gaps']);
    expect(push.code, push.stderr).toBe(0);
    const stats = await cli(project, ['data', 'stats', '--collection', 'gaps', '--json']);
    expect(stats.code, stats.stderr).toBe(0);
    const parsed = JSON.parse(stats.stdout);
    expect(parsed).toMatchObject({ store: `embedded ${storeFile(project)}`, collection: 'gaps', count: 3 });
    expect(parsed.missing).toMatchObject({ Annual_Premium: 2, Age: 0, id: 0 });
    expect(Object.keys(parsed.missing)).toHaveLength(12);
    const human = await cli(project, ['data', 'stats', '--collection', 'gaps']);
    expect(human.stdout).toMatch(/Annual_Premium\s+2\s+66\.7%/);
  });

  it('reports an empty collection, and a store not created yet, without creating it', async () => {
    const fresh = newProject('fresh');
    const stats = await cli(fresh, ['data', 'stats', '--json']);
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({
      count: 0,
      collection: 'records',
      store: expect.stringContaining('(not created yet)'),
    });
    expect(existsSync(storeFile(fresh))).toBe(false);
  });
});

describe('pipewright push through its insert thread (the built binary)', () => {
  it('treats a key repeated in a later batch as the in-process push does, under fail and under warn', async () => {
    // Batches of 50, and each of the first 100 keys comes again 55 lines later, while the batch that
    // holds its first row is likely still with the insert thread: 60 identical repeats, 40 conflicting.
    const lines = [HEADER];
    for (let id = 1; id <= 400; id++) {
      lines.push(row(id));
      const repeated = id - 55;
      if (repeated >= 1 && repeated <= 100)
        lines.push(repeated <= 60 ? row(repeated) : row(repeated, String(70 + (repeated % 5))));
    }
    for (const policy of ['fail', 'warn'] as const) {
      const project = newProject(`threaded-${policy}`);
      const config = join(project, 'pipewright.yaml');
      writeFileSync(
        config,
        readFileSync(config, 'utf8')
          .replace(/batch_size: \d+/, 'batch_size: 50')
          .replace(/duplicate_keys: \w+/, `duplicate_keys: ${policy}`),
      );
      writeFileSync(join(project, 'data', 'repeats.csv'), `${lines.join('\n')}\n`);
      const pushed = await runCli(['push', 'data/repeats.csv', '--json', '--allow-rejects'], {
        cwd: project,
      });
      expect(pushed.code, pushed.stderr).toBe(0);
      const summary = JSON.parse(pushed.stdout);
      expect(summary).toMatchObject({
        read: 500,
        inserted: 400,
        updated: policy === 'warn' ? 40 : 0,
        unchanged: 60,
        rejected: policy === 'fail' ? 40 : 0,
        duplicate_keys: { policy, identical: 60, conflicting: 40 },
      });
      const ages = EmbeddedStore.open(storeFile(project));
      try {
        const changed = ages.db
          .prepare(`SELECT count(*) AS n FROM records WHERE json_extract(doc, '$.Age') >= 70`)
          .get() as { n: number };
        expect(changed.n).toBe(policy === 'warn' ? 40 : 0);
      } finally {
        ages.db.close();
      }
    }
  });
});

describe('pipewright push with MONGODB_URL', () => {
  let server: WireServer;
  let project: string;
  beforeAll(async () => {
    server = await startWireServer();
    project = newProject('mongo');
    writeFileSync(
      join(project, 'data', 'rows.csv'),
      `${[HEADER, ...Array.from({ length: 25 }, (_, i) => row(i + 1))].join('\n')}\n`,
    );
  });
  afterAll(async () => {
    await server?.close();
  });

  /** Runs the CLI in-process with MONGODB_URL set, as a user's shell would have it. */
  async function withUrl(url: string, args: string[]) {
    const saved = process.env.MONGODB_URL;
    process.env.MONGODB_URL = url;
    try {
      return await cli(project, args);
    } finally {
      if (saved === undefined) delete process.env.MONGODB_URL;
      else process.env.MONGODB_URL = saved;
    }
  }

  it('pushes into MongoDB and reads the stats back from it, never touching the embedded file', async () => {
    const file = join(project, 'data', 'rows.csv');
    const first = await runCli(['push', 'data/rows.csv', '--json'], {
      cwd: project,
      env: { MONGODB_URL: `${server.url}pipewright` },
    });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ inserted: 25, rejected: 0 });
    expect(JSON.parse(first.stdout).store).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\//);
    const again = await withUrl(`${server.url}pipewright`, ['push', file, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ inserted: 0, unchanged: 25 });
    const stats = await withUrl(`${server.url}pipewright`, ['data', 'stats', '--json']);
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ collection: 'records', count: 25, missing: { Age: 0 } });
    expect(existsSync(storeFile(project))).toBe(false);
  });

  it('fails with PW_STORE_UNREACHABLE and never prints the password when nothing listens', async () => {
    const config = join(project, 'pipewright.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace('timeout_ms: 5000', 'timeout_ms: 300'));
    const url = 'mongodb://pipewright:Sup3r-Secret-9@127.0.0.1:9/pipewright';
    for (const args of [
      ['push', join(project, 'data', 'rows.csv')],
      ['data', 'stats', '--json'],
    ]) {
      const result = await withUrl(url, args);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('PW_STORE_UNREACHABLE');
      expect(result.stdout + result.stderr).not.toContain('Sup3r-Secret-9');
    }
  });
});

describe('pipewright sample', () => {
  it('writes the same synthetic rows for the same seed, and says they are synthetic', async () => {
    const dir = tempDir('pipewright-sample-');
    const first = await cli(undefined, [
      'sample',
      'vehicle-insurance',
      '--rows',
      '120',
      '--seed',
      '9',
      '-o',
      join(dir, 'a.csv'),
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('120 SYNTHETIC rows (vehicle-insurance, seed 9)');
    const again = await cli(undefined, [
      'sample',
      'vehicle-insurance',
      '--rows',
      '120',
      '--seed',
      '9',
      '-o',
      join(dir, 'b.csv'),
      '--json',
    ]);
    expect(JSON.parse(again.stdout)).toMatchObject({
      synthetic: true,
      rows: 120,
      seed: 9,
      dataset: 'vehicle-insurance',
      format: 'csv',
    });
    const text = readFileSync(join(dir, 'a.csv'), 'utf8');
    expect(readFileSync(join(dir, 'b.csv'), 'utf8')).toBe(text);
    expect(text.split('\n')[0]).toBe(HEADER);
    expect(text.trim().split('\n')).toHaveLength(121);
    const other = await cli(undefined, [
      'sample',
      'vehicle-insurance',
      '--rows',
      '120',
      '--seed',
      '10',
      '-o',
      join(dir, 'c.csv'),
    ]);
    expect(other.code).toBe(0);
    expect(readFileSync(join(dir, 'c.csv'), 'utf8')).not.toBe(text);
    expect((await cli(undefined, ['sample', 'titanic', '-o', join(dir, 'd.csv')])).code).toBe(2);
    const folder = await cli(undefined, ['sample', 'vehicle-insurance', '--rows', '5', '-o', dir]);
    expect(folder.code).toBe(1);
    expect(folder.stderr).toContain('PW_FILE_UNWRITABLE');
  });

  it('writes a sample that pushes into a new project with no rejects', async () => {
    const project = newProject('demo');
    const file = join(project, 'data', 'sample.jsonl');
    const sample = await cli(project, [
      'sample',
      'vehicle-insurance',
      '--rows',
      '2000',
      '--seed',
      '1',
      '-o',
      file,
    ]);
    expect(sample.code, sample.stderr).toBe(0);
    const push = await cli(project, ['push', file, '--json']);
    expect(push.code, push.stderr).toBe(0);
    expect(JSON.parse(push.stdout)).toMatchObject({
      format: 'jsonl',
      read: 2000,
      inserted: 2000,
      rejected: 0,
    });
  });
});

describe('crash safety', () => {
  const ROWS = 100_000;
  const BAD_EVERY = 20_000;
  let project: string;
  let file: string;
  let validCount = 0;
  let validIdTotal = 0;

  beforeAll(() => {
    project = newProject('crash');
    file = join(project, 'data', 'big.csv');
    const parts: string[] = [];
    for (const chunk of syntheticCsv({ rows: ROWS, seed: 5 })) parts.push(chunk);
    // Every BAD_EVERY-th row gets an Age that is not a number, so the file has rejects too.
    const lines = parts.join('').split('\n');
    for (let index = 1; index < lines.length; index++) {
      if (!lines[index]) continue;
      if (index % BAD_EVERY === 0) lines[index] = lines[index].replace(/^(\d+),(\w+),\d+,/, '$1,$2,unknown,');
      else {
        validCount++;
        validIdTotal += index;
      }
    }
    writeFileSync(file, lines.join('\n'));
  });

  /** Starts a push and kills it with SIGKILL once `collection` holds some rows but fewer than all. */
  async function pushAndKill(args: string[], watched: string): Promise<number> {
    const child = spawn(
      process.execPath,
      [BIN, 'push', 'data/big.csv', '--batch-size', '2000', '--allow-rejects', ...args],
      {
        cwd: project,
        stdio: 'ignore',
      },
    );
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    let seen = 0;
    let finished = false;
    void exited.then(() => (finished = true));
    while (!finished) {
      seen = countIn(project, watched);
      if (seen >= 2000) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    child.kill('SIGKILL');
    const { signal } = await exited;
    expect(signal, 'the push finished before it could be killed').toBe('SIGKILL');
    return seen;
  }

  it('leaves exactly the valid rows after a push killed part-way is run again', async () => {
    const seen = await pushAndKill([], 'records');
    const partial = countIn(project, 'records');
    expect(partial).toBeGreaterThanOrEqual(seen);
    expect(partial).toBeLessThan(validCount);
    const again = await cli(project, ['push', file, '--batch-size', '2000', '--allow-rejects', '--json']);
    expect(again.code, again.stderr).toBe(0);
    const summary = JSON.parse(again.stdout);
    expect(summary).toMatchObject({ read: ROWS, rejected: ROWS / BAD_EVERY, updated: 0 });
    expect(summary.inserted + summary.unchanged).toBe(validCount);
    expect(summary.unchanged).toBe(partial);
    expect(idSummary(project, 'records')).toEqual({
      n: validCount,
      total: validIdTotal,
      low: 1,
      high: ROWS - 1,
    });
  });

  it('keeps the previous documents when a --replace is killed, and replaces them when run again', async () => {
    const old = join(project, 'data', 'old.csv');
    writeFileSync(
      old,
      `${[HEADER, ...Array.from({ length: 300 }, (_, i) => row(1_000_001 + i))].join('\n')}\n`,
    );
    const seeded = await cli(project, ['push', old, '--collection', 'replaced']);
    expect(seeded.code, seeded.stderr).toBe(0);
    await pushAndKill(['--replace', '--collection', 'replaced'], 'replaced__pipewright_staging');
    expect(idSummary(project, 'replaced')).toMatchObject({ n: 300, low: 1_000_001, high: 1_000_300 });
    const again = await cli(project, [
      'push',
      file,
      '--replace',
      '--collection',
      'replaced',
      '--allow-rejects',
      '--json',
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ inserted: validCount, replace: true });
    expect(idSummary(project, 'replaced')).toEqual({
      n: validCount,
      total: validIdTotal,
      low: 1,
      high: ROWS - 1,
    });
    expect(countIn(project, 'replaced__pipewright_staging')).toBe(0);
  });
});
