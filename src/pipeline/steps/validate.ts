// Validate: schema checks (columns, types, nulls, ranges, categories, duplicate keys, class balance,
// row count) and drift against the production model's training data, each graded pass, warn or
// fail by the config. The JSON report is written whatever the outcome; a failed check stops the run.
// Ranges and categories are graded against the contract only; values beyond what production's model
// saw in training are drift, reported as a warning (`outside_reference`), never a failure.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../core/config.js';
import { errors } from '../../core/errors.js';
import { driftAgainstReference, type FeatureDrift, type ReferenceStats } from '../../ml/stats.js';
import type { Frame } from '../../ml/frame.js';
import type { Step } from '../runner.js';
import type { IngestOutput, IssueTally } from './ingest.js';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'off';

export interface CheckResult {
  check: string;
  status: CheckStatus;
  count: number;
  message: string;
  examples?: unknown[];
  details?: unknown;
}

export interface DriftResult extends FeatureDrift {
  drifted: boolean;
}

export interface ValidationReport {
  status: 'pass' | 'warn' | 'fail';
  rows: number;
  checks: CheckResult[];
  drift: { reference: string | null; features: DriftResult[] };
}

export interface ValidateInput {
  ingest: IngestOutput;
  settings: Config['validation'];
  /** The production model's training statistics, and its version; absent for a first model. */
  reference?: { version: string; stats: ReferenceStats };
}

function grade(level: 'fail' | 'warn' | 'off', bad: boolean): CheckStatus {
  if (level === 'off') return 'off';
  return bad ? level : 'pass';
}

function tallyCheck(
  check: string,
  level: 'fail' | 'warn' | 'off',
  byField: Record<string, IssueTally>,
  noun: string,
): CheckResult {
  const fields = Object.entries(byField).filter(([, tally]) => tally.count > 0);
  const count = fields.reduce((sum, [, tally]) => sum + tally.count, 0);
  return {
    check,
    status: grade(level, count > 0),
    count,
    message:
      count === 0
        ? `no ${noun}`
        : `${count} ${noun} in ${fields.map(([name, tally]) => `${name} (${tally.count})`).join(', ')}`,
    ...(count > 0 ? { examples: fields.flatMap(([, tally]) => tally.examples).slice(0, 10) } : {}),
  };
}

/** Per feature, how many rows hold a number beyond the reference range, or a category it never had. */
export function outsideReference(
  reference: ReferenceStats,
  frame: Frame,
): { field: string; reason: 'outside_range' | 'unseen_category'; count: number }[] {
  const out: { field: string; reason: 'outside_range' | 'unseen_category'; count: number }[] = [];
  for (const feature of reference.features) {
    if (!frame.hasColumn(feature.field) || feature.rows === 0) continue;
    const column = frame.column(feature.field);
    let count = 0;
    const type = frame.schema.features.find((field) => field.name === feature.field)?.type;
    if (feature.kind === 'numeric' && column.kind === 'numeric') {
      // Date-times move on by nature: only quantities are compared with the range seen.
      if (feature.quantiles.length === 0 || (type !== 'integer' && type !== 'number')) continue;
      for (let row = 0; row < frame.rows; row++) {
        const value = column.values[row];
        if (value < feature.min || value > feature.max) count++;
      }
      if (count > 0) out.push({ field: feature.field, reason: 'outside_range', count });
    } else if (feature.kind === 'category' && column.kind === 'category') {
      const seen = new Set(feature.categories.map(String));
      const unseenCodes = new Uint8Array(column.dictionary.length);
      column.dictionary.forEach((value, code) => {
        if (!seen.has(String(value))) unseenCodes[code] = 1;
      });
      for (let row = 0; row < frame.rows; row++) {
        const code = column.codes[row];
        if (code >= 0 && unseenCodes[code] === 1) count++;
      }
      if (count > 0) out.push({ field: feature.field, reason: 'unseen_category', count });
    }
  }
  return out;
}

export function validate(input: ValidateInput): ValidationReport {
  const { ingest, settings } = input;
  const { frame } = ingest;
  const checks: CheckResult[] = [];
  checks.push({
    check: 'missing_columns',
    status: grade(settings.missing_columns, ingest.missingColumns.length > 0),
    count: ingest.missingColumns.length,
    message: ingest.missingColumns.length
      ? `no document has ${ingest.missingColumns.join(', ')}`
      : 'every schema field is present',
  });
  checks.push({
    check: 'extra_columns',
    status: grade(settings.extra_columns, ingest.extraColumns.length > 0),
    count: ingest.extraColumns.length,
    message: ingest.extraColumns.length
      ? `fields not in the schema: ${ingest.extraColumns.join(', ')}`
      : 'no fields outside the schema',
  });
  checks.push(
    tallyCheck('type_errors', settings.type_errors, ingest.issues.type, 'values of the wrong type'),
  );
  checks.push(
    tallyCheck('nulls', settings.nulls, ingest.issues.missing, 'missing values in non-nullable fields'),
  );
  checks.push(tallyCheck('out_of_range', settings.out_of_range, ingest.issues.range, 'values out of range'));
  checks.push(
    tallyCheck(
      'unknown_categories',
      settings.unknown_categories,
      ingest.issues.category,
      'values outside the allowed categories',
    ),
  );
  checks.push({
    check: 'duplicate_keys',
    status: grade(settings.duplicate_keys, ingest.duplicateKeys.count > 0),
    count: ingest.duplicateKeys.count,
    message: ingest.duplicateKeys.count
      ? `${ingest.duplicateKeys.count} rows repeat a key`
      : 'keys are unique',
    ...(ingest.duplicateKeys.count ? { examples: ingest.duplicateKeys.examples } : {}),
  });
  checks.push({
    check: 'min_rows',
    status: frame.rows < settings.min_rows ? 'fail' : 'pass',
    count: frame.rows,
    message: `${frame.rows} usable rows (at least ${settings.min_rows} needed)`,
  });
  if (frame.target && frame.schema.task !== 'regression') {
    const classes = frame.classes;
    const counts = new Array<number>(classes.length).fill(0);
    for (let i = 0; i < frame.rows; i++) counts[frame.target[i]]++;
    const shares = counts.map((count) => (frame.rows ? count / frame.rows : 0));
    const minority = Math.min(...shares);
    const balance = Object.fromEntries(classes.map((label, index) => [String(label), counts[index]]));
    checks.push({
      check: 'class_balance',
      status: grade(settings.class_balance, minority < settings.min_minority_share),
      count: Math.min(...counts),
      message: `classes ${classes.map((label, index) => `${String(label)}: ${counts[index]} (${(shares[index] * 100).toFixed(1)}%)`).join(', ')}`,
      details: balance,
    });
  }
  let driftFeatures: DriftResult[] = [];
  if (input.reference && settings.drift.level !== 'off') {
    const { psi_threshold: psiThreshold, ks_threshold: ksThreshold } = settings.drift;
    driftFeatures = driftAgainstReference(input.reference.stats, frame).features.map((feature) => ({
      ...feature,
      drifted: feature.psi > psiThreshold || (feature.ks !== undefined && feature.ks > ksThreshold),
    }));
    const outside = outsideReference(input.reference.stats, frame);
    const total = outside.reduce((sum, entry) => sum + entry.count, 0);
    checks.push({
      check: 'outside_reference',
      status: total > 0 ? 'warn' : 'pass',
      count: total,
      message:
        total > 0
          ? `values ${input.reference.version} never saw in training (learned from now, scored and flagged when served): ${outside.map((entry) => `${entry.field} (${entry.count} ${entry.reason})`).join(', ')}`
          : `every value within what ${input.reference.version} saw in training`,
      ...(total > 0 ? { details: outside } : {}),
    });
    const drifted = driftFeatures.filter((feature) => feature.drifted);
    checks.push({
      check: 'drift',
      status: grade(settings.drift.level, drifted.length > 0),
      count: drifted.length,
      message: drifted.length
        ? `drift against ${input.reference.version} in ${drifted.map((f) => `${f.field} (PSI ${f.psi.toFixed(3)}${f.ks !== undefined ? `, KS ${f.ks.toFixed(3)}` : ''})`).join(', ')}`
        : `no drift against ${input.reference.version}`,
    });
  } else {
    checks.push({
      check: 'drift',
      status: 'off',
      count: 0,
      message: input.reference ? 'drift checks are off' : 'no production model to compare with yet',
    });
  }
  const status = checks.some((c) => c.status === 'fail')
    ? 'fail'
    : checks.some((c) => c.status === 'warn')
      ? 'warn'
      : 'pass';
  return {
    status,
    rows: frame.rows,
    checks,
    drift: { reference: input.reference?.version ?? null, features: driftFeatures },
  };
}

export const validateStep: Step<ValidateInput, ValidationReport> = {
  name: 'validate',
  async run(context, input) {
    const report = validate(input);
    const file = join(context.dir, 'report.json');
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    for (const check of report.checks) {
      if (check.status === 'warn' || check.status === 'fail') {
        context.logger[check.status === 'fail' ? 'error' : 'warn'](
          { check: check.check, count: check.count, examples: check.examples },
          `${check.check}: ${check.message}`,
        );
      }
    }
    if (report.status === 'fail') {
      const failed = report.checks.filter((c) => c.status === 'fail');
      throw new errors.PW_VALIDATION_FAILED(
        `Data validation failed: ${failed.map((c) => `${c.check} (${c.message})`).join('; ')}`,
        {
          where: file,
          details: { failed: failed.map((c) => c.check) },
          hint: `Read ${file}; fix the data and push it again, or set validation.${failed[0].check === 'drift' ? 'drift.level' : failed[0].check} to warn in pipewright.yaml.`,
        },
      );
    }
    return report;
  },
  summary: (report) => ({
    status: report.status,
    text: `${report.status}: ${
      report.checks
        .filter((c) => c.status === 'warn' || c.status === 'fail')
        .map((c) => c.check)
        .join(', ') || 'all checks passed'
    }`,
  }),
};
