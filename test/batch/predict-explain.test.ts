// `pipewright predict --explain` through the real binary: one shap_<field> column per feature field and
// shap_base, adding up to the model's log-odds for every line.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { createTestProject, validRecord, type TestProject } from '../fixtures/model.js';

describe('pipewright predict --explain', () => {
  let project: TestProject;

  beforeAll(async () => {
    project = await createTestProject({
      publish: { modelType: 'gbdt', params: { max_iter: 30 }, rows: 1200 },
    });
  });
  afterAll(() => project?.cleanup());

  it('adds shap_base and shap_<field> columns that add up to each line’s log-odds', async () => {
    const records = [20, 33, 47, 61, 75].map((Age, index) => ({
      ...validRecord(),
      Age,
      Vehicle_Damage: index % 2 ? 'No' : 'Yes',
    }));
    const header = Object.keys(records[0]);
    const lines = records.map((record) =>
      header.map((name) => String(record[name as keyof typeof record])).join(','),
    );
    writeFileSync(join(project.dir, 'score.csv'), `${[header.join(','), ...lines].join('\n')}\n`);
    const result = await runCli(['predict', 'score.csv', '-o', 'out.csv', '--explain', '--json'], {
      cwd: project.dir,
    });
    expect(result.code, result.stderr).toBe(0);
    const [head, ...rows] = readFileSync(join(project.dir, 'out.csv'), 'utf8').trim().split('\n');
    const columns = head.split(',');
    const fields = project.schema.features.map((field) => field.name);
    expect(columns).toEqual([
      project.schema.key?.name ?? 'line',
      'probability',
      'label',
      'shap_base',
      ...fields.map((field) => `shap_${field}`),
    ]);
    expect(rows).toHaveLength(records.length);
    for (const row of rows) {
      const values = row.split(',').map(Number);
      const probability = values[1];
      const raw = values.slice(3).reduce((sum, value) => sum + value, 0);
      // the probability is written with 6 decimals: compare in probability space
      expect(Math.abs(1 / (1 + Math.exp(-raw)) - probability)).toBeLessThan(1e-6);
    }
  });

  it('writes no SHAP columns without --explain', async () => {
    const result = await runCli(['predict', 'score.csv', '-o', 'plain.csv', '--json'], { cwd: project.dir });
    expect(result.code, result.stderr).toBe(0);
    const head = readFileSync(join(project.dir, 'plain.csv'), 'utf8').split('\n')[0];
    expect(head).toBe(`${project.schema.key?.name ?? 'line'},probability,label`);
  });
});
