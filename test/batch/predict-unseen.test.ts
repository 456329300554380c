// Batch predict scores rows that are valid under the contract but outside the training data, and
// writes one flag a value to <output>.warnings.jsonl: line, field, reason, value and what was seen.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictFile, warningsFileFor } from '../../src/batch/predict.js';
import { createTestProject, openSchemaText, type TestProject } from '../fixtures/model.js';

const HEADER =
  'id,Gender,Age,Driving_License,Region_Code,Previously_Insured,Vehicle_Age,Vehicle_Damage,Annual_Premium,Policy_Sales_Channel,Vintage';

describe('predict with values unseen in training', () => {
  let project: TestProject;

  beforeAll(async () => {
    project = await createTestProject({
      schema: openSchemaText,
      publish: { rows: 600, modelType: 'random_forest', params: { n_estimators: 10 }, referenceStats: true },
    });
  });
  afterAll(() => project?.cleanup());

  it('scores every valid row, flags the unseen values by line and field, and refuses only contract breaks', async () => {
    const input = join(project.dir, 'new.csv');
    writeFileSync(
      input,
      [
        HEADER,
        '1,Male,44,1,28,0,> 2 Years,Yes,40454,26,217', // line 2: within training
        '2,Other,44,1,28,0,Hover car,Yes,40454,26,217', // line 3: two unknown categories
        '3,Female,250,1,28,0,1-2 Year,No,,26,217', // line 4: beyond the range, missing premium
        '4,Female,44,1,28,0,1-2 Year,Maybe,300,26,217', // line 5: Vehicle_Damage breaks the contract
        '',
      ].join('\n'),
    );
    const output = join(project.dir, 'scores.csv');
    const summary = await predictFile({
      file: input,
      output,
      schema: project.schema,
      registry: project.registry,
    });
    expect(summary).toMatchObject({ read: 4, predicted: 3, rejected: 1, flagged: 2, warnings: 4 });
    expect(summary.warnings_by_reason).toEqual({ unseen_category: 2, above_range: 1, unseen_missing: 1 });
    expect(summary.warnings_file).toBe(warningsFileFor(output));
    const flags = readFileSync(warningsFileFor(output), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(flags.map((flag) => [flag.line, flag.key, flag.field, flag.reason])).toEqual([
      [3, 2, 'Gender', 'unseen_category'],
      [3, 2, 'Vehicle_Age', 'unseen_category'],
      [4, 3, 'Age', 'above_range'],
      [4, 3, 'Annual_Premium', 'unseen_missing'],
    ]);
    const age = flags.find((flag) => flag.field === 'Age');
    expect(age.value).toBe(250);
    expect(age.seen.max).toBeLessThan(250);
    expect(flags.find((flag) => flag.field === 'Vehicle_Age').seen.examples).toContain('1-2 Year');
    expect(readFileSync(output, 'utf8').trim().split('\n')).toHaveLength(4); // header + 3 scored rows
  });

  it('writes no warnings file when every value is within the training data', async () => {
    const input = join(project.dir, 'known.csv');
    writeFileSync(input, `${HEADER}\n1,Male,44,1,28,0,> 2 Years,Yes,40454,26,217\n`);
    const output = join(project.dir, 'known-scores.csv');
    const summary = await predictFile({
      file: input,
      output,
      schema: project.schema,
      registry: project.registry,
    });
    expect(summary).toMatchObject({ predicted: 1, flagged: 0, warnings_file: null });
    expect(existsSync(warningsFileFor(output))).toBe(false);
  });

  it("leaves push's rejects file of the same input alone and writes its own beside the output", async () => {
    const input = join(project.dir, 'shared.csv');
    writeFileSync(input, `${HEADER}\n1,Male,44,1,28,0,> 2 Years,Maybe,40454,26,217\n`);
    writeFileSync(`${input}.rejects.jsonl`, '{"line":2,"from":"push"}\n');
    const output = join(project.dir, 'shared-scores.csv');
    const summary = await predictFile({
      file: input,
      output,
      schema: project.schema,
      registry: project.registry,
    });
    expect(summary.rejects_file).toBe(`${output}.rejects.jsonl`);
    expect(readFileSync(`${input}.rejects.jsonl`, 'utf8')).toBe('{"line":2,"from":"push"}\n');
    expect(JSON.parse(readFileSync(`${output}.rejects.jsonl`, 'utf8').trim())).toMatchObject({
      line: 2,
      field: 'Vehicle_Damage',
    });
    expect(readdirSync(project.dir).filter((name) => name.includes('.tmp'))).toEqual([]);
  });
});
