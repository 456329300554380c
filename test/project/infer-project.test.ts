// A project from a data file: streaming inference from CSV and JSONL files, the settings chosen per
// task and class balance, and the commented schema.yaml and pipewright.yaml rendered from them.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig, parseConfig } from '../../src/core/config.js';
import { renderProjectConfig } from '../../src/project/config-text.js';
import { inferFile } from '../../src/project/infer-file.js';
import { chooseSettings, ONE_HOT_LIMIT } from '../../src/project/settings.js';
import { render, scaffold, TEMPLATE_DIR } from '../../src/project/scaffold.js';
import {
  renderSchemaText,
  SchemaInferrer,
  yamlScalar,
  type InferOptions,
  type InferredSchema,
} from '../../src/schema/infer/index.js';
import { loadSchema, parseSchema } from '../../src/schema/schema.js';
import { compileCoercer } from '../../src/schema/coerce.js';

function folder(): string {
  return mkdtempSync(join(tmpdir(), 'pipewright-infer-project-'));
}

function writeFile(name: string, text: string): string {
  const file = join(folder(), name);
  writeFileSync(file, text);
  return file;
}

function csv(header: string[], rows: (string | number)[][]): string {
  return `${[header, ...rows].map((row) => row.join(',')).join('\n')}\n`;
}

function inferColumns(columns: Record<string, string[]>, options: InferOptions = {}): InferredSchema {
  const names = Object.keys(columns);
  const inferrer = new SchemaInferrer(names, options);
  for (let i = 0; i < columns[names[0]].length; i++)
    inferrer.add(Object.fromEntries(names.map((name) => [name, columns[name][i]])), i + 2);
  return inferrer.finish();
}

const range = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

const TEMPLATE_VALUES = { name: 'shop', collection: 'shop', version: '0.0.0' };

function configFor(inferred: InferredSchema): string {
  const settings = chooseSettings(inferred);
  const text = render(readFileSync(join(TEMPLATE_DIR, 'pipewright.yaml'), 'utf8'), {
    ...TEMPLATE_VALUES,
    metric: settings.metric,
    expected_score: String(settings.expectedScore),
  });
  return renderProjectConfig(text, settings);
}

describe('inferring from a file', () => {
  it('streams a CSV file and stops at --sample rows, saying the file has more', async () => {
    const file = writeFile(
      'rows.csv',
      csv(
        ['id', 'n', 'y'],
        range(50, (i) => [i + 1, i % 7, i % 2 ? 'a' : 'b']),
      ),
    );
    const whole = await inferFile(file, { target: 'y' });
    expect(whole).toMatchObject({ format: 'csv', truncated: false });
    expect(whole.inferred.rows).toBe(50);
    const sampled = await inferFile(file, { target: 'y', sample: 20 });
    expect(sampled.truncated).toBe(true);
    expect(sampled.inferred.rows).toBe(20);
    expect(sampled.inferred.fields.find((f) => f.name === 'id')!.summary.present).toBe(20);
  });

  it('counts lines the CSV reader cannot read and warns that push rejects them', async () => {
    const file = writeFile('broken.csv', 'a,b\n1,x\n2,y,extra\n3,x\n4,y\n');
    const { inferred } = await inferFile(file);
    expect(inferred.rows).toBe(3);
    expect(inferred.unreadable.count).toBe(1);
    expect(inferred.warnings.join('\n')).toMatch(/1 line could not be read as a record \(first: line 3/);
  });

  it('reads JSON Lines: JSON types, and fields that appear only in later records are nullable', async () => {
    const lines = range(12, (i) =>
      JSON.stringify({
        id: `k${i}`,
        amount: i * 1.5,
        paid: i % 2 === 0,
        ...(i > 3 ? { note: `n${i % 2}` } : {}),
      }),
    );
    const { inferred, format } = await inferFile(writeFile('rows.jsonl', `${lines.join('\n')}\n`), {
      target: 'paid',
    });
    expect(format).toBe('jsonl');
    const byName = Object.fromEntries(inferred.fields.map((f) => [f.name, f]));
    expect(byName.id).toMatchObject({ type: 'string', role: 'key' });
    expect(byName.amount).toMatchObject({ type: 'number', min: 0, max: 16.5 });
    expect(byName.paid).toMatchObject({ type: 'boolean', role: 'target' });
    expect(byName.note).toMatchObject({ type: 'category', nullable: true });
    expect(byName.note.summary.firstMissingLine).toBe(1);
    expect(inferred.task).toBe('binary');
  });

  it('refuses a sample that is not a whole number of rows', async () => {
    const file = writeFile('rows.csv', csv(['a'], [[1]]));
    await expect(inferFile(file, { sample: 0 })).rejects.toMatchObject({
      code: 'PW_USAGE',
      details: { option: 'sample', value: 0 },
    });
  });
});

describe('settings per task and class balance', () => {
  const table = (labels: string[], extra: Record<string, string[]> = {}) =>
    inferColumns({ x: labels.map((_, i) => String((i * 13) % 17)), ...extra, y: labels }, { target: 'y' });

  it('scores a balanced binary task by ROC-AUC with a floor a tenth of the way from 0.5 to 1', () => {
    expect(chooseSettings(table(range(100, (i) => (i % 2 ? 'a' : 'b'))))).toMatchObject({
      metric: 'roc_auc',
      expectedScore: 0.55,
      loss: 'log_loss',
    });
  });

  it('scores a binary task with a rare class by PR-AUC, with a floor above the positive share', () => {
    const settings = chooseSettings(table(range(100, (i) => (i % 20 === 0 ? 'yes' : 'no'))));
    expect(settings.metric).toBe('pr_auc');
    expect(settings.expectedScore).toBeCloseTo(0.05 + 0.1 * 0.95, 3);
    expect(settings.metricNote).toMatch(/rare class \(no 95%, yes 5\.0%; positive yes\)/);
  });

  it('scores multiclass tasks by accuracy when classes are of similar size, by macro-F1 when not', () => {
    const balanced = chooseSettings(table(range(90, (i) => ['a', 'b', 'c'][i % 3])));
    expect(balanced).toMatchObject({ metric: 'accuracy' });
    expect(balanced.expectedScore).toBeCloseTo(0.4, 3);
    const unequal = chooseSettings(table(range(100, (i) => (i < 80 ? 'a' : i < 95 ? 'b' : 'c'))));
    expect(unequal).toMatchObject({ metric: 'macro_f1' });
    expect(unequal.expectedScore).toBeCloseTo(0.4, 3);
  });

  it('scores regression by R² with squared-error boosting', () => {
    const inferred = inferColumns(
      { x: range(50, (i) => String(i % 4)), price: range(50, (i) => String(i * 1.25)) },
      { target: 'price' },
    );
    expect(chooseSettings(inferred)).toMatchObject({
      metric: 'r2',
      expectedScore: 0.1,
      loss: 'squared_error',
    });
  });

  it('codes categories with many values and text features as one ordinal column', () => {
    const many = range(400, (i) => `v${i % (ONE_HOT_LIMIT + 5)}`);
    const few = range(400, (i) => ['s', 'm', 'l'][i % 3]);
    const text = range(400, (i) => `t${i % 150}`);
    const inferred = table(
      range(400, (i) => (i % 2 ? 'a' : 'b')),
      { many, few, text },
    );
    expect(chooseSettings(inferred).fieldOverrides.map((o) => [o.field, o.encoder])).toEqual([
      ['many', 'ordinal'],
      ['text', 'ordinal'],
    ]);
  });

  it('asks validation for about half the inferred rows, at most 100', () => {
    expect(chooseSettings(table(range(60, (i) => (i % 2 ? 'a' : 'b')))).minRows).toBe(30);
    expect(chooseSettings(table(range(1000, (i) => (i % 2 ? 'a' : 'b')))).minRows).toBe(100);
  });
});

describe('the rendered schema.yaml', () => {
  const inferred = () =>
    inferColumns(
      {
        id: range(40, (i) => String(i + 1)),
        'mean radius': range(40, (i) => (i % 10 === 3 ? '?' : String(10 + i / 4))),
        answer: range(40, (i) => ['yes', 'no', 'a: b'][i % 3]),
        true: range(40, (i) => String(i % 5)),
        copy: range(40, (i) => (i % 2 ? 'won' : 'lost')),
        outcome: range(40, (i) => (i % 2 ? 'won' : 'lost')),
      },
      { target: 'outcome' },
    );

  it('reads back as exactly the inferred contract', () => {
    const text = renderSchemaText(inferred(), { name: 'deals', source: 'data/deals.csv' });
    const schema = parseSchema(text);
    expect(schema.key?.name).toBe('id');
    expect(schema.target?.name).toBe('outcome');
    expect(schema.task).toBe('binary');
    expect(schema.missingValues).toContain('?');
    expect(schema.fields.map((f) => f.name)).toEqual([
      'id',
      'mean radius',
      'answer',
      'true',
      'copy',
      'outcome',
    ]);
    // What was seen is information: an open category, a number without limits, features nullable.
    const answer = schema.fields.find((f) => f.name === 'answer')!;
    expect(answer).toMatchObject({ type: 'category', nullable: true });
    expect(answer.values).toBeUndefined();
    const radius = schema.fields.find((f) => f.name === 'mean radius')!;
    expect(radius).toMatchObject({ type: 'number', nullable: true });
    expect(radius.min).toBeUndefined();
    expect(radius.max).toBeUndefined();
    expect(schema.fields.find((f) => f.name === 'copy')!.nullable).toBe(true);
    expect(schema.key).toMatchObject({ nullable: false });
    expect(schema.target).toMatchObject({ nullable: false, values: ['lost', 'won'] });
    const written = parse(text) as { fields: Record<string, { observed?: Record<string, unknown> }> };
    expect(written.fields['mean radius'].observed).toEqual({ missing: 4, min: 10, max: 19.75 });
    expect(written.fields.answer.observed).toEqual({
      missing: 0,
      categories: { 'a: b': 13, no: 13, yes: 14 },
    });
  });

  it('writes the values of a category the user declares closed as the contract', () => {
    const text = renderSchemaText(
      inferColumns(
        {
          kind: range(40, (i) => ['x', 'y'][i % 2]),
          size: range(40, (i) => String(i)),
          y: range(40, (i) => (i % 3 ? 'a' : 'b')),
        },
        { target: 'y', closedCategories: ['kind'] },
      ),
      { name: 'closed', source: 'closed.csv' },
    );
    expect(parseSchema(text).fields.find((f) => f.name === 'kind')!.values).toEqual(['x', 'y']);
  });

  it('says where it came from, that only the contract is enforced and observed is information, and why each field is what it is', () => {
    const text = renderSchemaText(inferred(), { name: 'deals', source: 'data/deals.csv' });
    expect(text).toMatch(/^# The data contract, inferred from data\/deals\.csv \(40 rows\)\./);
    expect(text).toMatch(/Push, predict and serve refuse a value that breaks the contract/);
    expect(text).toMatch(/features are nullable \(a missing value is imputed/);
    expect(text).toMatch(/`observed` is what this file held/);
    expect(text).toMatch(/# key: its name reads as an identifier/);
    expect(text).toMatch(/# numbers from 10 to 19\.75 \(36 distinct values\)/);
    expect(text).toMatch(/This file writes missing values as "\?", which the default list lacks\./);
    expect(text).toMatch(/# WARNING: equals the target outcome in 100% of rows/);
    expect(text).toMatch(/# rows per class: lost 20 \(50\.0%\), won 20 \(50\.0%\)/);
  });

  it('continues a long list of categories over several lines that read back as the same values', () => {
    const labels = range(40, (i) => `a rather long category name number ${i}`);
    const inferredLong = inferColumns(
      { kind: range(120, (i) => labels[i % 40]), y: range(120, (i) => (i % 2 ? 'a' : 'b')) },
      { target: 'y' },
    );
    const text = renderSchemaText(inferredLong, { name: 'long', source: 'long.csv' });
    expect(Math.max(...text.split('\n').map((line) => line.length))).toBeLessThanOrEqual(100);
    const written = parse(text) as { fields: { kind: { observed: { categories: Record<string, number> } } } };
    expect(Object.keys(written.fields.kind.observed.categories)).toEqual([...labels].sort());
    expect(parseSchema(text).fields.find((f) => f.name === 'kind')!.values).toBeUndefined();
  });

  it('says it read only the first rows when the file has more', () => {
    expect(renderSchemaText(inferred(), { name: 'deals', source: 'deals.csv', truncated: true })).toMatch(
      /\(the first 40 rows; the file has more\)/,
    );
  });

  it('explains a missing key', () => {
    const text = renderSchemaText(inferColumns({ a: ['x', 'y', 'x', 'y'], b: ['1', '2', '1', '3'] }), {
      name: 'k',
      source: 'k.csv',
    });
    expect(text).toMatch(/# no key: .* push keys each row by\n\s+#\s+a hash of its values/);
  });

  it('quotes scalars that YAML would read as something else', () => {
    expect(yamlScalar('plain text')).toBe('plain text');
    expect(yamlScalar('yes')).toBe('"yes"');
    expect(yamlScalar('True')).toBe('"True"');
    expect(yamlScalar('1')).toBe('"1"');
    expect(yamlScalar('a: b')).toBe('"a: b"');
    expect(yamlScalar('#1')).toBe('"#1"');
    expect(yamlScalar("Master's")).toBe('"Master\'s"');
    expect(yamlScalar('')).toBe('""');
    expect(yamlScalar(1.5)).toBe('1.5');
    expect(yamlScalar(false)).toBe('false');
  });

  it('accepts every row of the file it was inferred from', async () => {
    const rows = range(30, (i) => [
      i + 1,
      i % 4 === 0 ? '' : String(i * 0.5),
      ['x', 'y', '?'][i % 3],
      i % 3 ? 'b' : 'a',
    ]);
    const file = writeFile('rows.csv', csv(['id', 'amount', 'kind', 'y'], rows));
    const { inferred: result } = await inferFile(file, { target: 'y' });
    const schema = parseSchema(renderSchemaText(result, { name: 'rows', source: 'rows.csv' }));
    const coerce = compileCoercer(schema);
    for (const row of rows) {
      const outcome = coerce({ id: String(row[0]), amount: row[1], kind: row[2], y: row[3] });
      expect(outcome.ok, JSON.stringify(outcome)).toBe(true);
    }
  });
});

describe('the rendered pipewright.yaml', () => {
  const binary = () =>
    inferColumns(
      {
        x: range(100, (i) => String(i % 7)),
        city: range(100, (i) => `c${i % 40}`),
        y: range(100, (i) => (i % 2 ? 'a' : 'b')),
      },
      { target: 'y' },
    );

  it('is a valid config with the metric, the transformers and the boosting settings the data implies', () => {
    const config = parseConfig(configFor(binary()));
    expect(config.evaluate).toMatchObject({ metric: 'roc_auc', expected_score: 0.55 });
    expect(config.preprocess.numeric).toEqual({ scaler: 'none', imputer: 'none' });
    expect(config.preprocess.categorical).toEqual({ encoder: 'onehot', imputer: 'none' });
    expect(config.preprocess.fields).toEqual({ city: { encoder: 'ordinal' } });
    expect(config.model.params).toMatchObject({
      loss: 'log_loss',
      max_iter: 100,
      early_stopping: 'auto',
      learning_rate: 0.1,
      max_leaf_nodes: 31,
    });
    expect(config.validation.min_rows).toBe(50);
  });

  it("keeps the template's comments and explains each changed setting", () => {
    const text = configFor(binary());
    expect(text).toMatch(/type: gbdt\s+# gbdt \| random_forest \| logistic/);
    expect(text).toMatch(/numeric: \{ scaler: none, imputer: none \}\s+# trees need no scaling/);
    expect(text).toMatch(
      /city: \{ encoder: ordinal \}\s+# 40 categories: one ordinal column instead of 40 one-hot columns/,
    );
    expect(text).toMatch(
      /# binary \(a 50%, b 50%; positive b\): ROC-AUC; the gate 0\.55 is what a model that cannot rank\s+#\s+scores \(0\.5\) plus a tenth of the way to a perfect 1\n\s+metric: roc_auc/,
    );
  });

  it('uses squared error for regression', () => {
    const inferred = inferColumns(
      { x: range(50, (i) => String(i % 4)), price: range(50, (i) => String(i * 1.25)) },
      { target: 'price' },
    );
    const config = parseConfig(configFor(inferred));
    expect(config.model.params.loss).toBe('squared_error');
    expect(config.evaluate.metric).toBe('r2');
    expect(config.preprocess.fields).toEqual({});
  });

  it('scaffolds a project whose config and schema load', () => {
    const inferred = binary();
    const settings = chooseSettings(inferred);
    const values = {
      ...TEMPLATE_VALUES,
      metric: settings.metric,
      expected_score: String(settings.expectedScore),
    };
    const dir = join(folder(), 'shop');
    scaffold(dir, {
      values,
      overrides: {
        'pipewright.yaml': renderProjectConfig(
          render(readFileSync(join(TEMPLATE_DIR, 'pipewright.yaml'), 'utf8'), values),
          settings,
        ),
        'schema.yaml': renderSchemaText(inferred, { name: 'shop', source: 'data/shop.csv' }),
      },
    });
    expect(loadConfig(join(dir, 'pipewright.yaml')).config.evaluate.metric).toBe('roc_auc');
    expect(loadSchema(join(dir, 'schema.yaml')).target?.name).toBe('y');
  });
});
