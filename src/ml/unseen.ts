// Which values of a record the model never saw in training: a number beyond the range seen, a category
// never seen, a missing value where training had none. Such a record is valid under the contract, so it
// is scored, and these flags travel with its answer. Built once per model from its reference statistics.
import type { TypedRecord, Value } from '../schema/coerce.js';
import type { Schema } from '../schema/schema.js';
import type { ReferenceStats } from './stats.js';

export const UNSEEN_REASONS = ['above_range', 'below_range', 'unseen_category', 'unseen_missing'] as const;
export type UnseenReason = (typeof UNSEEN_REASONS)[number];

/** What training held for a field, for the person reading a flag. */
export type SeenSummary =
  { min: number; max: number } | { categories: number; examples: string[] } | { missing: 0 };

export interface UnseenValue {
  field: string;
  reason: UnseenReason;
  value: Value;
  seen: SeenSummary;
}

/** Flags of one record, or undefined when every value is within what training held (no allocation). */
export type UnseenCheck = (record: TypedRecord) => UnseenValue[] | undefined;

const EXAMPLES = 10;

interface FieldRule {
  name: string;
  /** Training had no missing value in this field. */
  missingUnseen: boolean;
  range?: { min: number; max: number };
  categories?: Set<string>;
  categoriesSeen?: SeenSummary;
}

/**
 * The check for a model's reference statistics. Numbers (integer, number) are compared with the range
 * seen; categories with the set seen; every feature's missing values with whether training had any.
 * Date-times are not range-checked (new rows come later by nature), nor free text (mostly new values).
 */
export function compileUnseenCheck(schema: Schema, reference: ReferenceStats | null): UnseenCheck {
  if (!reference) return () => undefined;
  const byName = new Map(schema.features.map((field) => [field.name, field]));
  const rules: FieldRule[] = [];
  for (const stats of reference.features) {
    const field = byName.get(stats.field);
    if (!field || stats.rows === 0) continue;
    const missingShare = stats.proportions[stats.proportions.length - 1];
    const rule: FieldRule = { name: field.name, missingUnseen: missingShare === 0 };
    if (stats.kind === 'numeric' && (field.type === 'integer' || field.type === 'number')) {
      if (stats.quantiles.length > 0) rule.range = { min: stats.min, max: stats.max };
    } else if (stats.kind === 'category' && field.type === 'category') {
      rule.categories = new Set(stats.categories.map(String));
      rule.categoriesSeen = {
        categories: stats.categories.length,
        examples: stats.categories.slice(0, EXAMPLES).map(String),
      };
    }
    if (rule.missingUnseen || rule.range || rule.categories) rules.push(rule);
  }
  return (record) => {
    let flags: UnseenValue[] | undefined;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      const value = record[rule.name];
      if (value === null || value === undefined) {
        if (rule.missingUnseen)
          (flags ??= []).push({
            field: rule.name,
            reason: 'unseen_missing',
            value: null,
            seen: { missing: 0 },
          });
        continue;
      }
      if (rule.range && typeof value === 'number') {
        if (value > rule.range.max)
          (flags ??= []).push({ field: rule.name, reason: 'above_range', value, seen: rule.range });
        else if (value < rule.range.min)
          (flags ??= []).push({ field: rule.name, reason: 'below_range', value, seen: rule.range });
      } else if (rule.categories && !rule.categories.has(String(value))) {
        (flags ??= []).push({
          field: rule.name,
          reason: 'unseen_category',
          value,
          seen: rule.categoriesSeen!,
        });
      }
    }
    return flags;
  };
}
