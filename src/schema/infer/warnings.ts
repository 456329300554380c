// Warnings about columns that would mislead a model: identifiers learned from as features, and
// features that give the target away (equal to it, a near copy of it, or determining its class).
import type { Task } from '../schema.js';
import { isRowNumber } from './decide.js';
import { distinctText, share, type ColumnProfile } from './profile.js';
import type { InferredField } from './types.js';

/** An identifier used as a feature: ignored when it names each row, a warning when it repeats. */
export function checkIdentifier(field: InferredField, rows: number): void {
  const summary = field.summary;
  const rowNumber =
    field.type === 'integer' && summary.unique && summary.missing === 0 && isRowNumber(summary, rows);
  if (
    (field.idLike && summary.unique && (field.type === 'integer' || field.type === 'string')) ||
    rowNumber
  ) {
    field.role = 'ignore';
    delete field.values;
    field.warnings.push(
      `${rowNumber ? 'numbers the rows' : 'looks like an identifier'} (every value different): ignored, since a model that learns row identifiers memorises rows instead of generalising; set role: feature only if it carries meaning`,
    );
    return;
  }
  if (field.idLike) {
    field.warnings.push(
      `looks like an identifier but is learned from as a feature (${distinctText(summary)}): likely leakage or memorisation; set role: ignore unless its values mean something at prediction time`,
    );
  }
}

export function checkLeakage(
  field: InferredField,
  profile: ColumnProfile,
  target: InferredField,
  task: Task,
): void {
  const pairs = profile.pairs;
  if (pairs < 10) return;
  if (profile.equalToTarget >= 0.99 * pairs) {
    field.role = 'ignore';
    field.warnings.push(
      `equals the target ${target.name} in ${share(profile.equalToTarget, pairs)} of rows: likely leakage (the answer copied into a feature), ignored; set role: feature only if it is known before the target is`,
    );
    return;
  }
  if (task === 'regression') {
    const r = profile.correlation();
    if (Math.abs(r) >= 0.99 && profile.numericPairs >= 10) {
      field.warnings.push(
        `is almost a copy of the target ${target.name} (correlation ${r.toFixed(3)}): likely leakage; make sure it is known before the target is, or set role: ignore`,
      );
    }
    return;
  }
  if (!profile.joint || profile.joint.size > Math.max(2, pairs / 10)) return;
  let explained = 0;
  for (const byTarget of profile.joint.values()) {
    let best = 0;
    for (const count of byTarget.values()) if (count > best) best = count;
    explained += best;
  }
  const majority =
    Math.max(...(target.summary.counts ?? []).map(([, count]) => count)) / target.summary.present;
  const purity = explained / pairs;
  if (purity < 1 - 0.02 * (1 - majority) || majority >= 0.999) return;
  field.warnings.push(
    `determines the target ${target.name} in ${share(explained, pairs)} of rows (each of its ${profile.joint.size} values goes with one class): likely leakage; make sure it is known before the target is, or set role: ignore`,
  );
}
