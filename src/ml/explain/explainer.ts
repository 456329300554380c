// Explanations of a bundle's predictions by schema field: the model's SHAP values per encoded column
// (one-hot columns included) summed back to the field they come from, so base + Σ contributions is the
// model's raw output for the record. The integration point for serving, prediction files and reports.
import type { TreeShapAlgorithm } from './tree-shap.js';
import type { Bundle } from '../bundle.js';
import type { CategoryValue } from '../../schema/schema.js';
import type { TypedRecord } from '../../schema/coerce.js';
import type { FeatureReference, ReferenceStats } from '../stats.js';
import { Preprocessor } from '../transform/preprocessor.js';
import { createModelExplainer, type ExplanationSpace, type ModelExplainer } from './estimator.js';

export type { ExplanationSpace } from './estimator.js';

export interface FieldContributions {
  /** The expected raw output, knowing none of the fields. */
  base: number;
  /** Each feature field's share of the difference between the record's raw output and `base`. */
  contributions: Record<string, number>;
}

export type RecordExplanation =
  | ({ space: Exclude<ExplanationSpace, 'class_scores'> } & FieldContributions)
  | { space: 'class_scores'; per_class: Record<string, FieldContributions> };

/** What an explanation's values stand for: enough to shape them as a RecordExplanation. */
export interface ExplanationShape {
  readonly space: ExplanationSpace;
  /** The feature fields, in the order of `explainRecordInto`'s values. */
  readonly fields: readonly string[];
  /** Per output, the expected raw output. */
  readonly base: ArrayLike<number>;
  /** Per output, its key in `per_class` (multiclass: the class as text; unused with one output). */
  readonly outputNames: readonly string[];
}

export interface BundleExplainer extends ExplanationShape {
  readonly base: Float64Array;
  /** The class each set of values explains (multiclass), else one entry: the positive class or the target. */
  readonly outputs: number;
  /**
   * Writes output o's contribution of field j at o · fields.length + j for one typed record (as
   * compileCoercer makes it), allocating nothing.
   */
  explainRecordInto(record: TypedRecord, out: Float64Array): void;
  explainRecord(record: TypedRecord): RecordExplanation;
  /**
   * The record as the model's columns (what the bundle's predictor scores), in a buffer the explainer
   * reuses: valid until its next call. A server scores and explains this one row.
   */
  encodeRecord(record: TypedRecord): Float64Array;
  /** As explainRecord, for a record already encoded by encodeRecord. */
  explainEncoded(row: Float64Array): RecordExplanation;
  /** As explainRecordInto, for a record already encoded by encodeRecord. */
  explainEncodedInto(row: Float64Array, out: Float64Array): void;
}

/**
 * The explanation object of values laid out as explainRecordInto writes them (output o's field j at
 * o · fields.length + j): the one place its shape and key order are made.
 */
export function explanationOf(shape: ExplanationShape, values: ArrayLike<number>): RecordExplanation {
  const { fields, base } = shape;
  const contributionsOf = (o: number): FieldContributions => {
    const contributions: Record<string, number> = {};
    fields.forEach((field, j) => (contributions[field] = values[o * fields.length + j]));
    return { base: base[o], contributions };
  };
  if (shape.space === 'class_scores') {
    const perClass: Record<string, FieldContributions> = {};
    for (let o = 0; o < base.length; o++) perClass[shape.outputNames[o]] = contributionsOf(o);
    return { space: 'class_scores', per_class: perClass };
  }
  return { space: shape.space, ...contributionsOf(0) };
}

/**
 * An explainer for a loaded bundle (see parseBundle). `algorithm` picks the tree method: the default
 * precomputes per-leaf tables (fastest per row, built on first use), `quadrature` builds nothing.
 */
export function createExplainer(
  bundle: Bundle,
  options: { algorithm?: TreeShapAlgorithm } = {},
): BundleExplainer {
  const preprocessor = Preprocessor.fromJSON(bundle.preprocessor);
  const fields = preprocessor.inputFields;
  const fieldOfColumn = Int32Array.from(preprocessor.outputFields, (name) => fields.indexOf(name));
  const columnMeans =
    bundle.model.kind === 'logistic' ? columnMeansOf(bundle, preprocessor, fields) : undefined;
  const model: ModelExplainer = createModelExplainer(bundle.model, {
    columnMeans,
    ...(options.algorithm ? { algorithm: options.algorithm } : {}),
  });
  const columns = model.features;
  const outputs = model.outputs;
  const row = new Float64Array(columns);
  const phi = new Float64Array(outputs * columns);
  const values = new Float64Array(outputs * fields.length);
  const classLabels = bundle.classes.map((label: CategoryValue) => String(label));

  /** The record as the model's columns, in `row` (reused). */
  function encodeRecord(record: TypedRecord): Float64Array {
    preprocessor.transformRecord(record, row);
    return row;
  }

  function explainRecordInto(record: TypedRecord, out: Float64Array): void {
    explainEncodedInto(encodeRecord(record), out);
  }

  function explainEncodedInto(encoded: Float64Array, out: Float64Array): void {
    model.explainRow(encoded, phi);
    const width = fields.length;
    out.fill(0, 0, outputs * width);
    for (let o = 0; o < outputs; o++) {
      for (let c = 0; c < columns; c++) out[o * width + fieldOfColumn[c]] += phi[o * columns + c];
    }
  }

  const explainer: BundleExplainer = {
    space: model.space,
    fields,
    outputs,
    base: model.base,
    outputNames: Array.from({ length: outputs }, (_, o) => classLabels[o] ?? String(o)),
    explainRecordInto,
    explainEncodedInto,
    explainRecord(record) {
      return explainer.explainEncoded(encodeRecord(record));
    },
    encodeRecord,
    explainEncoded(encoded) {
      explainEncodedInto(encoded, values);
      return explanationOf(explainer, values);
    },
  };
  return explainer;
}

/**
 * The training mean of every encoded column as the model sees it (a missing value as 0), from the
 * bundle's reference statistics of the training rows: each field's distribution pushed through the
 * preprocessor. Undefined when the bundle has no statistics (then the means are taken as 0).
 */
function columnMeansOf(
  bundle: Bundle,
  preprocessor: Preprocessor,
  fields: readonly string[],
): Float64Array | undefined {
  const stats = bundle.metadata.referenceStats as ReferenceStats | null;
  if (!stats || !Array.isArray(stats.features)) return undefined;
  const byField = new Map<string, FeatureReference>(
    stats.features.map((reference) => [reference.field, reference]),
  );
  const fieldOfColumn = preprocessor.outputFields;
  const encoded = new Float64Array(fieldOfColumn.length);
  const means = new Float64Array(fieldOfColumn.length);
  for (const field of fields) {
    // A date's parts are not a function of its mean: their training means are kept with them.
    const dateMeans = preprocessor.dateMeans(field);
    if (dateMeans && dateMeans.length > 0) {
      let part = 0;
      for (let c = 0; c < fieldOfColumn.length; c++)
        if (fieldOfColumn[c] === field) means[c] = dateMeans[part++];
      continue;
    }
    const reference = byField.get(field);
    if (!reference) return undefined;
    // the field's columns after encoding `value`, the others' missing (they are not read here)
    const add = (value: CategoryValue | null, share: number): void => {
      if (share === 0) return;
      preprocessor.transformRecord({ [field]: value }, encoded);
      for (let c = 0; c < fieldOfColumn.length; c++) {
        if (fieldOfColumn[c] !== field) continue;
        const x = encoded[c];
        means[c] += share * (x === x ? x : 0);
      }
    };
    const proportions = reference.proportions;
    const missing = proportions[proportions.length - 1];
    add(null, missing);
    if (reference.kind === 'category') {
      reference.categories.forEach((value, index) => add(value, proportions[index]));
      continue;
    }
    const step = bundle.preprocessor.steps.find((candidate) => candidate.field === field);
    if (step?.kind === 'numeric') {
      // scaling is affine, so the scaled mean is the scaled mean value
      add(reference.mean, 1 - missing);
    } else if (reference.discrete) {
      // numbers encoded as categories, with few distinct values: one bin each, the last one being the maximum
      [...reference.edges, reference.max].forEach((value, index) => add(value, proportions[index]));
    } else {
      // numbers encoded as categories, with many distinct values: the stored percentiles stand for them
      const quantiles = reference.quantiles;
      for (const value of quantiles) add(value, (1 - missing) / quantiles.length);
    }
  }
  return means;
}
