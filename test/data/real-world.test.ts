// One table as other tools save it (Python's csv and openpyxl, DuckDB's Parquet writer): each file
// goes through `init --from` → push → run → predict with no edits and gives the plain CSV's rows
// (the same data hash) and the same model (the same predictions).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, runCli, tempDir } from '../helpers/cli.js';

const python = '/usr/bin/python3';
const haveOpenpyxl = spawnSync(python, ['-c', 'import openpyxl']).status === 0;
if (!haveOpenpyxl)
  console.warn(
    'skipping the real-world files test: /usr/bin/python3 cannot import openpyxl (apt-get install python3-openpyxl)',
  );

const dir = tempDir('pipewright-real-world-');

interface Flow {
  config: Record<string, unknown>;
  schema: { fields: Record<string, Record<string, unknown>> };
  push: { read: number; inserted: number; rejected: number };
  run: { status: string; dataHash: string };
  predictions: string;
}

async function flow(file: string): Promise<Flow> {
  const name = file.replace(/\W/g, '-');
  const project = join(dir, name);
  const step = async (args: string[], cwd?: string) => {
    const result = await runCli([...args, '--json'], cwd ? { cwd } : {});
    expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(0);
    return JSON.parse(result.stdout);
  };
  await step(['init', project, '--from', join(dir, file), '--target', 'bought']);
  const push = await step(['push', `data/${file}`], project);
  const run = await step(['run'], project);
  await step(['predict', `data/${file}`, '-o', 'predictions.csv'], project);
  return {
    config: parse(readFileSync(join(project, 'pipewright.yaml'), 'utf8')),
    schema: parse(readFileSync(join(project, 'schema.yaml'), 'utf8')),
    push,
    run,
    predictions: readFileSync(join(project, 'predictions.csv'), 'utf8'),
  };
}

describe.skipIf(!haveOpenpyxl || !existsSync(join(ROOT, 'dist')))('files made by other tools', () => {
  let plain: Flow;

  beforeAll(async () => {
    const written = spawnSync(python, [join(ROOT, 'test/fixtures/real-world/write_table.py'), dir], {
      encoding: 'utf8',
    });
    expect(written.status, written.stderr).toBe(0);
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    // DuckDB parses the day-first dates itself and stores them as Parquet DATEs.
    await duck.run(
      `COPY (SELECT id::BIGINT AS id, city, amount::DOUBLE AS amount, visits::INTEGER AS visits,
                    strptime(signup, '%d/%m/%Y')::DATE AS signup, bought
             FROM read_csv('${join(dir, 'plain.csv')}', header = true, all_varchar = true))
       TO '${join(dir, 'table.parquet')}' (FORMAT parquet, COMPRESSION snappy)`,
    );
    duck.closeSync();
    plain = await flow('plain.csv');
  }, 120_000);

  it('reads the plain CSV with a day-first date format the data settle', () => {
    expect(plain.push).toMatchObject({ read: 240, inserted: 240, rejected: 0 });
    expect(plain.run.status).toBe('succeeded');
    expect(plain.schema.fields.signup).toMatchObject({ type: 'datetime', format: 'DD/MM/YYYY' });
    expect(plain.config.input).toBeUndefined();
  });

  it('lets flags override what is sniffed', async () => {
    const infer = async (...flags: string[]) => {
      const result = await runCli(['schema', 'infer', join(dir, 'euro.csv'), '--json', ...flags]);
      expect(result.code, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as { fields: { name: string; type: string }[] };
    };
    const sniffed = await infer();
    expect(sniffed.fields.find((field) => field.name === 'amount')?.type).toBe('number');
    const pointed = await infer('--decimal', '.');
    expect(pointed.fields.find((field) => field.name === 'amount')?.type).not.toBe('number');
    // Split on commas, every row has two fields against a header of one: nothing is left to learn from.
    const commas = await runCli(['schema', 'infer', join(dir, 'euro.csv'), '--delimiter', ',']);
    expect(commas.code).not.toBe(0);
    expect(commas.stderr).toContain('PW_FILE_INVALID');
  });

  it.each([
    ['euro.csv', { delimiter: ';', decimal: ',' }],
    ['latin1.csv', { encoding: 'windows-1252' }],
    ['utf16.csv', { delimiter: '\t', encoding: 'utf-16le' }],
    ['table.xlsx', undefined],
    ['table.parquet', undefined],
  ])(
    '%s gives the same rows and the same model as the plain CSV, with how it was read in pipewright.yaml',
    async (file, input) => {
      const result = await flow(file);
      expect(result.config.input).toEqual(input);
      expect(result.push).toMatchObject({ read: 240, inserted: 240, rejected: 0 });
      expect(result.run.dataHash).toBe(plain.run.dataHash);
      expect(result.predictions).toBe(plain.predictions);
    },
    120_000,
  );
});
