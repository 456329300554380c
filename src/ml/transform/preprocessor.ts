// The column transformer: maps the schema's feature fields to a numeric matrix with named columns
// (`Age`, `Gender=Male`), each field through an imputer then a scaler or an encoder chosen by the
// `preprocess` section of pipewright.yaml. Fitted on training rows only; serving applies it to one record.
import type { Config } from '../../core/config.js';
import { errors } from '../../core/errors.js';
import type { TypedRecord } from '../../schema/coerce.js';
import type { CategoryValue, Field, FieldType, Schema } from '../../schema/schema.js';
import { FIELD_TYPES } from '../../schema/schema.js';
import { isNumericField, numericOf, type Frame } from '../frame.js';
import { definedOnly } from '../params.js';
import { allocateColumns, type Matrix, type Transformer } from '../types.js';
import {
  encoderFromJSON,
  OneHotEncoder,
  OrdinalEncoder,
  type Encoder,
  type EncoderJSON,
  type OneHotDrop,
} from './encoders.js';
import {
  CategoryImputer,
  NumericImputer,
  type CategoryImputerJSON,
  type CategoryImputerStrategy,
  type NumericImputerJSON,
  type NumericImputerStrategy,
} from './imputers.js';
import {
  DateFeatures,
  DEFAULT_DATE_PARTS,
  SCORING_TIME,
  type DateFeaturesJSON,
  type DatePart,
} from './dates.js';
import { createScaler, scalerFromJSON, type Scaler, type ScalerJSON, type ScalerKind } from './scalers.js';

export type PreprocessConfig = Config['preprocess'];
type ColumnSettings = PreprocessConfig['numeric'];

/**
 * What applies when pipewright.yaml says nothing: numbers are imputed with the median and left
 * unscaled (trees do not need scaling), categories are one-hot encoded and a missing one is all zeros.
 */
export const DEFAULT_NUMERIC: ColumnSettings = { scaler: 'none', imputer: 'median' };
export const DEFAULT_CATEGORICAL: ColumnSettings = { encoder: 'onehot', imputer: 'none' };

interface NumericStep {
  kind: 'numeric';
  field: Field;
  imputer: NumericImputer | undefined;
  scaler: Scaler | undefined;
}

interface CategoricalStep {
  kind: 'categorical';
  field: Field;
  /** A numeric field encoded as categories: values are looked up by number. */
  fromNumbers: boolean;
  imputer: CategoryImputer | undefined;
  encoder: Encoder;
}

/** A datetime field as calendar parts and elapsed days (one output per part). */
interface DateStep {
  kind: 'date';
  field: Field;
  features: DateFeatures;
}

type Step = NumericStep | CategoricalStep | DateStep;

export type PreprocessorStepJSON =
  | {
      kind: 'numeric';
      field: string;
      type: FieldType;
      imputer: NumericImputerJSON | null;
      scaler: ScalerJSON | null;
    }
  | {
      kind: 'categorical';
      field: string;
      type: FieldType;
      fromNumbers: boolean;
      imputer: CategoryImputerJSON | null;
      encoder: EncoderJSON;
    }
  | ({ kind: 'date'; field: string; type: FieldType } & DateFeaturesJSON);

export interface PreprocessorJSON {
  kind: 'preprocessor';
  version: 1;
  steps: PreprocessorStepJSON[];
}

export class Preprocessor implements Transformer<Frame, Matrix, Frame, PreprocessorJSON> {
  private fitted = false;
  private names: string[] = [];
  private offsets: number[] = [];
  /** Per step, the category index a missing value becomes (the imputed category, or -1). */
  private missingIndices: number[] = [];
  /** Scratch for one field's encoding, so a served record allocates nothing. */
  private scratch = new Float64Array(0);

  private constructor(private readonly steps: Step[]) {}

  /** An unfitted preprocessor for the schema's features, as the config's `preprocess` section describes. */
  static fromConfig(schema: Schema, preprocess: Partial<PreprocessConfig> = {}): Preprocessor {
    const numericDefaults = { ...DEFAULT_NUMERIC, ...definedOnly(preprocess.numeric ?? {}) };
    const categoricalDefaults = { ...DEFAULT_CATEGORICAL, ...definedOnly(preprocess.categorical ?? {}) };
    const overrides = preprocess.fields ?? {};
    if (preprocess.numeric?.encoder !== undefined) {
      configError(
        'preprocess.numeric.encoder',
        'numeric fields are scaled, not encoded',
        'To encode one numeric field as categories, set `encoder` under preprocess.fields.<name>.',
      );
    }
    if (preprocess.categorical?.scaler !== undefined) {
      configError(
        'preprocess.categorical.scaler',
        'category fields are encoded, not scaled',
        'Remove `scaler` from preprocess.categorical.',
      );
    }
    const featureNames = new Set(schema.features.map((f) => f.name));
    for (const name of Object.keys(overrides)) {
      if (!featureNames.has(name)) {
        configError(
          `preprocess.fields.${name}`,
          `${name} is not a feature field of the schema`,
          `Known features: ${[...featureNames].join(', ')}.`,
        );
      }
    }
    const steps = schema.features.map((field): Step => {
      const override = definedOnly(overrides[field.name] ?? {});
      if (field.type === 'datetime' && override.encoder === undefined) {
        return dateStep(schema, field, preprocess.dates, override);
      }
      if (override.parts !== undefined || override.elapsed_to !== undefined) {
        configError(
          `preprocess.fields.${field.name}.${override.parts !== undefined ? 'parts' : 'elapsed_to'}`,
          `${field.name} is not a datetime field`,
          'Date parts and elapsed days apply to datetime fields only.',
        );
      }
      const categorical = !isNumericField(field) || override.encoder !== undefined;
      const path = `preprocess.fields.${field.name}`;
      if (categorical) {
        if (override.scaler !== undefined && override.scaler !== 'none') {
          configError(
            `${path}.scaler`,
            `${field.name} is encoded as categories and cannot be scaled`,
            'Remove `scaler`, or remove `encoder` to keep the field numeric.',
          );
        }
        const settings = { ...categoricalDefaults, ...override };
        const imputer = settings.imputer ?? 'none';
        if (imputer !== 'none' && imputer !== 'most_frequent' && imputer !== 'constant') {
          configError(
            `${override.imputer ? path : 'preprocess.categorical'}.imputer`,
            `${field.name} is a category field and cannot be imputed with ${imputer}`,
            'Use most_frequent, constant or none.',
          );
        }
        const fill = settings.fill_value;
        const fillValue: CategoryValue = fill ?? (isNumericField(field) ? 0 : 'missing');
        const drop: OneHotDrop = settings.drop ?? 'none';
        return {
          kind: 'categorical',
          field,
          fromNumbers: isNumericField(field),
          imputer:
            imputer === 'none'
              ? undefined
              : new CategoryImputer(imputer as CategoryImputerStrategy, fillValue),
          encoder:
            (settings.encoder ?? 'onehot') === 'onehot' ? new OneHotEncoder(drop) : new OrdinalEncoder(),
        };
      }
      const settings = { ...numericDefaults, ...override };
      if (settings.fill_value !== undefined && typeof settings.fill_value !== 'number') {
        configError(
          `${override.fill_value !== undefined ? path : 'preprocess.numeric'}.fill_value`,
          `${field.name} is numeric; its fill value must be a number`,
          'Use a number, e.g. fill_value: 0.',
        );
      }
      const imputer = settings.imputer ?? 'none';
      const scaler = settings.scaler ?? 'none';
      return {
        kind: 'numeric',
        field,
        imputer:
          imputer === 'none'
            ? undefined
            : new NumericImputer(
                imputer as NumericImputerStrategy,
                (settings.fill_value as number | undefined) ?? 0,
              ),
        scaler: scaler === 'none' ? undefined : createScaler(scaler as ScalerKind),
      };
    });
    return new Preprocessor(steps);
  }

  /** The feature fields read from a record, in order. */
  get inputFields(): string[] {
    return this.steps.map((step) => step.field.name);
  }

  get outputNames(): string[] {
    this.requireFitted();
    return [...this.names];
  }

  get outputs(): number {
    this.requireFitted();
    return this.names.length;
  }

  /** The feature field each output column comes from, in column order (one-hot columns share their field). */
  get outputFields(): string[] {
    this.requireFitted();
    return this.names.map((_, column) => {
      let s = 0;
      while (s + 1 < this.offsets.length && this.offsets[s + 1] <= column) s++;
      return this.steps[s].field.name;
    });
  }

  /** A datetime field's derived columns' training means, or undefined when the field is not derived into parts. */
  dateMeans(field: string): readonly number[] | undefined {
    this.requireFitted();
    const step = this.steps.find((candidate) => candidate.field.name === field);
    return step?.kind === 'date' ? step.features.trainingMeans : undefined;
  }

  get isFitted(): boolean {
    return this.fitted;
  }

  /** Learns imputation values, scales and categories from rows `rows` of `frame` (every row when absent). */
  fit(frame: Frame, rows?: ArrayLike<number>): this {
    const now = Date.now();
    for (const step of this.steps) {
      const column = frame.column(step.field.name);
      if (step.kind === 'date') {
        const times = selectedTimes(frame, step.field.name, rows);
        const reference = step.features.reference;
        step.features.fit(
          times,
          reference !== undefined && reference !== SCORING_TIME
            ? selectedTimes(frame, reference, rows)
            : undefined,
          now,
        );
        continue;
      }
      if (step.kind === 'numeric') {
        if (column.kind !== 'numeric')
          throw new errors.PW_INTERNAL(`Column ${step.field.name} is not numeric in the frame`);
        step.imputer?.fit(column.values, rows);
        if (step.scaler) {
          // As in a scikit-learn pipeline, the scaler learns from the imputed values.
          step.scaler.fit(
            step.imputer ? step.imputer.transform(column.values, rows) : column.values,
            step.imputer ? undefined : rows,
          );
        }
        continue;
      }
      const { categories, counts, missing } = countCategories(step, frame, rows);
      if (step.imputer) {
        step.imputer.fit({ categories, counts });
        if (missing > 0 && !categories.some((c) => String(c) === String(step.imputer!.fillValue))) {
          categories.push(step.imputer.fillValue);
        }
      }
      step.encoder.fit(categories);
    }
    this.finishFit();
    return this;
  }

  private finishFit(): void {
    this.names = [];
    this.offsets = [];
    this.missingIndices = [];
    let widest = 1;
    for (const step of this.steps) {
      this.offsets.push(this.names.length);
      this.missingIndices.push(step.kind === 'categorical' ? missingIndexOf(step) : -1);
      if (step.kind === 'numeric') this.names.push(step.field.name);
      else if (step.kind === 'date') this.names.push(...step.features.outputNames(step.field.name));
      else {
        this.names.push(...step.encoder.outputNames(step.field.name));
        widest = Math.max(widest, step.encoder.outputs);
      }
    }
    this.scratch = new Float64Array(widest);
    this.fitted = true;
  }

  fitTransform(frame: Frame, rows?: ArrayLike<number>): Matrix {
    return this.fit(frame, rows).transform(frame, rows);
  }

  /**
   * Rows `rows` of `frame` (every row when absent) as a column-major matrix; `shared` puts its columns
   * in shared memory, for a fit on several threads to read in place.
   */
  transform(frame: Frame, rows?: ArrayLike<number>, options: { shared?: boolean } = {}): Matrix {
    this.requireFitted();
    const count = rows ? rows.length : frame.rows;
    const columns = allocateColumns(count, this.names.length, options.shared);
    const now = Date.now();
    this.steps.forEach((step, s) => {
      const offset = this.offsets[s];
      const column = frame.column(step.field.name);
      if (step.kind === 'date') {
        const times = selectedTimes(frame, step.field.name, rows);
        const reference = step.features.reference;
        const references =
          reference !== undefined && reference !== SCORING_TIME
            ? selectedTimes(frame, reference, rows)
            : undefined;
        const width = step.features.outputs;
        const row = new Float64Array(width);
        for (let i = 0; i < count; i++) {
          step.features.encode(times[i], references ? references[i] : now, row, 0);
          for (let c = 0; c < width; c++) columns[offset + c][i] = row[c];
        }
        return;
      }
      if (step.kind === 'numeric') {
        if (column.kind !== 'numeric')
          throw new errors.PW_INTERNAL(`Column ${step.field.name} is not numeric in the frame`);
        const values = column.values;
        const out = columns[offset];
        const fill = step.imputer ? step.imputer.fillValue : NaN;
        const center = step.scaler ? step.scaler.center : 0;
        const scale = step.scaler ? step.scaler.scale : 1;
        for (let i = 0; i < count; i++) {
          let value = values[rows ? rows[i] : i];
          if (value !== value) value = fill;
          out[i] = (value - center) / scale;
        }
        return;
      }
      const indices = this.categoryIndices(step, frame, rows);
      const width = step.encoder.outputs;
      const row = this.scratch;
      for (let i = 0; i < count; i++) {
        step.encoder.encodeIndex(indices[i], row, 0);
        for (let c = 0; c < width; c++) columns[offset + c][i] = row[c];
      }
    });
    return { rows: count, cols: this.names.length, columns, names: [...this.names] };
  }

  /** The encoder's category index of each selected row, after imputation (-1 = unseen or missing). */
  private categoryIndices(step: CategoricalStep, frame: Frame, rows?: ArrayLike<number>): Int32Array {
    const count = rows ? rows.length : frame.rows;
    const column = frame.column(step.field.name);
    const missingIndex = missingIndexOf(step);
    const out = new Int32Array(count);
    if (column.kind === 'category') {
      const byCode = Int32Array.from(column.dictionary, (value) => step.encoder.indexOf(value));
      for (let i = 0; i < count; i++) {
        const code = column.codes[rows ? rows[i] : i];
        out[i] = code < 0 ? missingIndex : byCode[code];
      }
    } else {
      for (let i = 0; i < count; i++) {
        const value = column.values[rows ? rows[i] : i];
        out[i] = value !== value ? missingIndex : step.encoder.indexOf(value);
      }
    }
    return out;
  }

  /**
   * One typed record (as compileCoercer makes it) into `out` (length `outputs`); allocates nothing
   * beyond what a lookup by text needs. An absent field counts as missing.
   */
  transformRecord(record: TypedRecord, out: Float64Array): Float64Array {
    this.requireFitted();
    const steps = this.steps;
    for (let s = 0; s < steps.length; s++) {
      const step = steps[s];
      const offset = this.offsets[s];
      const value = record[step.field.name];
      if (step.kind === 'date') {
        const reference = step.features.reference;
        const referenceTime =
          reference === undefined || reference === SCORING_TIME ? Date.now() : timeOf(record[reference]);
        step.features.encode(timeOf(value), referenceTime, out, offset);
        continue;
      }
      if (step.kind === 'numeric') {
        let number = numericOf(step.field, value);
        if (number !== number && step.imputer) number = step.imputer.fillValue;
        out[offset] = step.scaler ? (number - step.scaler.center) / step.scaler.scale : number;
        continue;
      }
      let missing: boolean;
      let index: number;
      if (step.fromNumbers) {
        const number = numericOf(step.field, value);
        missing = number !== number;
        index = missing ? -1 : step.encoder.indexOf(number);
      } else {
        missing = value === null || value === undefined;
        index = missing ? -1 : step.encoder.indexOf(value);
      }
      step.encoder.encodeIndex(missing ? this.missingIndices[s] : index, out, offset);
    }
    return out;
  }

  /** Several typed records as a matrix (batch requests). */
  transformRecords(records: readonly TypedRecord[]): Matrix {
    this.requireFitted();
    const columns = this.names.map(() => new Float64Array(records.length));
    const row = new Float64Array(this.names.length);
    for (let i = 0; i < records.length; i++) {
      this.transformRecord(records[i], row);
      for (let c = 0; c < row.length; c++) columns[c][i] = row[c];
    }
    return { rows: records.length, cols: this.names.length, columns, names: [...this.names] };
  }

  private requireFitted(): void {
    if (!this.fitted)
      throw new errors.PW_MODEL_NOT_FITTED('The preprocessor is not fitted', {
        hint: 'Call fit() on the training rows first.',
      });
  }

  toJSON(): PreprocessorJSON {
    this.requireFitted();
    return {
      kind: 'preprocessor',
      version: 1,
      steps: this.steps.map((step): PreprocessorStepJSON =>
        step.kind === 'date'
          ? { kind: 'date', field: step.field.name, type: step.field.type, ...step.features.toJSON() }
          : step.kind === 'numeric'
            ? {
                kind: 'numeric',
                field: step.field.name,
                type: step.field.type,
                imputer: step.imputer ? step.imputer.toJSON() : null,
                scaler: step.scaler ? step.scaler.toJSON() : null,
              }
            : {
                kind: 'categorical',
                field: step.field.name,
                type: step.field.type,
                fromNumbers: step.fromNumbers,
                imputer: step.imputer ? step.imputer.toJSON() : null,
                encoder: step.encoder.toJSON(),
              },
      ),
    };
  }

  static fromJSON(json: PreprocessorJSON): Preprocessor {
    if (!json || json.kind !== 'preprocessor' || json.version !== 1 || !Array.isArray(json.steps)) {
      throw new errors.PW_BUNDLE_INVALID(
        'Preprocessor state: expected {kind: "preprocessor", version: 1, steps: [...]}',
      );
    }
    const steps = json.steps.map((step, index): Step => {
      if (!step || typeof step.field !== 'string' || !FIELD_TYPES.includes(step.type)) {
        throw new errors.PW_BUNDLE_INVALID(
          `Preprocessor state: step ${index} needs a field name and a known type`,
        );
      }
      const field: Field = { name: step.field, type: step.type, role: 'feature', nullable: true };
      if (step.kind === 'date') return { kind: 'date', field, features: DateFeatures.fromJSON(step) };
      if (step.kind === 'numeric') {
        return {
          kind: 'numeric',
          field,
          imputer: step.imputer ? NumericImputer.fromJSON(step.imputer) : undefined,
          scaler: step.scaler ? scalerFromJSON(step.scaler) : undefined,
        };
      }
      if (step.kind === 'categorical') {
        return {
          kind: 'categorical',
          field,
          fromNumbers: step.fromNumbers === true,
          imputer: step.imputer ? CategoryImputer.fromJSON(step.imputer) : undefined,
          encoder: encoderFromJSON(step.encoder),
        };
      }
      throw new errors.PW_BUNDLE_INVALID(
        `Preprocessor state: step ${index} has unknown kind ${JSON.stringify((step as { kind?: unknown }).kind)}`,
      );
    });
    const preprocessor = new Preprocessor(steps);
    preprocessor.finishFit();
    return preprocessor;
  }
}

/** The categories present in the selected rows, ordered (schema order for category fields, sorted otherwise), their counts and the missing count. */
function countCategories(
  step: CategoricalStep,
  frame: Frame,
  rows: ArrayLike<number> | undefined,
): { categories: CategoryValue[]; counts: number[]; missing: number } {
  const column = frame.column(step.field.name);
  const count = rows ? rows.length : frame.rows;
  let missing = 0;
  let entries: { value: CategoryValue; count: number }[];
  if (column.kind === 'category') {
    const byCode = new Float64Array(column.dictionary.length);
    for (let i = 0; i < count; i++) {
      const code = column.codes[rows ? rows[i] : i];
      if (code < 0) missing++;
      else byCode[code]++;
    }
    entries = column.dictionary
      .map((value, code) => ({ value, count: byCode[code] }))
      .filter((entry) => entry.count > 0);
    // Declared categories keep the schema's order; open ones and text are sorted, so the encoding does
    // not depend on the order rows arrived in.
    if (step.field.type !== 'category' || !step.field.values)
      entries.sort((a, b) => compareText(String(a.value), String(b.value)));
  } else {
    const byValue = new Map<number, number>();
    for (let i = 0; i < count; i++) {
      const value = column.values[rows ? rows[i] : i];
      if (value !== value) missing++;
      else byValue.set(value, (byValue.get(value) ?? 0) + 1);
    }
    entries = [...byValue]
      .map(([value, count]) => ({ value, count }))
      .sort((a, b) => (a.value as number) - (b.value as number));
  }
  return { categories: entries.map((e) => e.value), counts: entries.map((e) => e.count), missing };
}

/** The date step of a datetime feature, from the field's settings over `preprocess.dates`. */
function dateStep(
  schema: Schema,
  field: Field,
  dates: Partial<PreprocessConfig['dates']> | undefined,
  override: Partial<ColumnSettings>,
): DateStep {
  const path = `preprocess.fields.${field.name}`;
  for (const key of ['scaler', 'imputer', 'fill_value', 'drop'] as const) {
    if (override[key] !== undefined)
      configError(
        `${path}.${key}`,
        `${field.name} is a datetime: it becomes date parts, which are not ${key === 'scaler' ? 'scaled' : 'imputed'}`,
        'Choose its features with `parts` (and `elapsed_to`), or set `encoder` to treat it as categories.',
      );
  }
  const parts: DatePart[] = override.parts ?? dates?.parts ?? DEFAULT_DATE_PARTS;
  const reference = override.elapsed_to ?? dates?.elapsed_to;
  if (reference !== undefined && reference !== SCORING_TIME) {
    const other = schema.features.find((candidate) => candidate.name === reference);
    if (!other || other.type !== 'datetime' || other.name === field.name) {
      configError(
        `${override.elapsed_to !== undefined ? path : 'preprocess.dates'}.elapsed_to`,
        `${reference} is not another datetime feature of the schema`,
        `Use scoring_time, or a datetime feature: ${
          schema.features
            .filter((candidate) => candidate.type === 'datetime' && candidate.name !== field.name)
            .map((candidate) => candidate.name)
            .join(', ') || '(none)'
        }.`,
      );
    }
  }
  return {
    kind: 'date',
    field,
    features: new DateFeatures(parts, reference, field.timezone),
  };
}

/** A datetime column's epoch milliseconds for the selected rows (NaN where missing). */
function selectedTimes(frame: Frame, name: string, rows: ArrayLike<number> | undefined): Float64Array {
  const column = frame.column(name);
  if (column.kind !== 'numeric') throw new errors.PW_INTERNAL(`Column ${name} is not numeric in the frame`);
  const count = rows ? rows.length : frame.rows;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = column.values[rows ? rows[i] : i];
  return out;
}

function timeOf(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Date.parse(value);
  return NaN;
}

function missingIndexOf(step: CategoricalStep): number {
  return step.imputer ? step.encoder.indexOf(step.imputer.fillValue) : -1;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function configError(path: string, message: string, hint: string): never {
  throw new errors.PW_CONFIG_INVALID(`pipewright.yaml ${path}: ${message}`, { hint, details: { path } });
}
