// The model bundle: one versioned, checksummed JSON document with the schema, fitted preprocessor,
// model, threshold and metadata of a trained model, and the Predictor that scores records with it.
// Loading parses JSON and validates it; nothing in a bundle is ever executed.

/*
 * Format (formatVersion 1), keys in canonical (sorted) order when serialised:
 *   format            "pipewright-bundle"
 *   formatVersion     1 (a reader refuses any other version)
 *   schemaFingerprint sha256 of the schema contract (see src/schema/schema.ts)
 *   schema            the schema definition as in schema.yaml: {name, description?, task, missing_values, fields}
 *   task              "binary" | "multiclass" | "regression"
 *   classes           class labels in the order of the model's outputs ([] for regression)
 *   preprocessor      Preprocessor.toJSON(): {kind: "preprocessor", version: 1, steps: [...]}
 *   model             Estimator.toJSON(): {kind, params, state}; large arrays may be base64 typed arrays (codec.ts)
 *   threshold         binary: predict classes[1] when P(classes[1]) >= threshold; otherwise null
 *   metadata          {metrics, params, dataHash, codeVersion, createdAt, runId, referenceStats (stats.ts),
 *                      card (card.ts, optional),
 *                      golden: {inputs: typed records, outputs: the model's outputs for them, row after row}}
 *   checksum          sha256 (hex) of the canonical JSON (sorted keys) of every other key
 * The golden outputs are re-computed on load and must match within GOLDEN_TOLERANCE.
 */
import { z } from 'zod';
import { errors } from '../core/errors.js';
import { canonicalJson, sha256 } from '../core/hash.js';
import type { TypedRecord } from '../schema/coerce.js';
import {
  buildSchema,
  schemaFileSchema,
  type CategoryValue,
  type Schema,
  type SchemaFile,
  type Task,
} from '../schema/schema.js';
import type { ModelCard } from './card.js';
import type { Frame } from './frame.js';
import { predictOn, predictsOnThreads } from './models/estimator.js';
import { estimatorFromJSON } from './models/index.js';
import type { ReferenceStats } from './stats.js';
import { Preprocessor, type PreprocessorJSON } from './transform/preprocessor.js';
import type { Estimator, EstimatorJSON } from './types.js';

export const BUNDLE_FORMAT = 'pipewright-bundle';
export const BUNDLE_FORMAT_VERSION = 1;
/** How far a reloaded model may stray from the outputs stored at training time. */
export const GOLDEN_TOLERANCE = 1e-9;

export interface BundleMetadata {
  metrics: Record<string, unknown>;
  params: Record<string, unknown>;
  /** Hash of the training data (rows and split), for lineage. */
  dataHash: string;
  codeVersion: string;
  createdAt: string;
  runId: string;
  referenceStats: ReferenceStats | null;
  /** The model card (card.ts); absent in bundles published before cards existed. */
  card?: ModelCard;
  golden: {
    /** Typed records (as compileCoercer makes them). */
    inputs: TypedRecord[];
    /** The model's outputs for them, `outputs per row` values a row, row after row. */
    outputs: number[];
  };
}

export interface Bundle {
  format: typeof BUNDLE_FORMAT;
  formatVersion: typeof BUNDLE_FORMAT_VERSION;
  schemaFingerprint: string;
  schema: SchemaFile;
  task: Task;
  classes: CategoryValue[];
  preprocessor: PreprocessorJSON;
  model: EstimatorJSON;
  threshold: number | null;
  metadata: BundleMetadata;
  checksum: string;
}

export type BundleBody = Omit<Bundle, 'checksum'>;

/** The schema definition (as in schema.yaml) from which `buildSchema` rebuilds the same contract and fingerprint. */
export function schemaDefinition(schema: Schema): SchemaFile {
  const fields: SchemaFile['fields'] = {};
  for (const field of schema.fields) {
    fields[field.name] = {
      type: field.type,
      role: field.role,
      nullable: field.nullable,
      ...(field.min !== undefined ? { min: field.min } : {}),
      ...(field.max !== undefined ? { max: field.max } : {}),
      ...(field.values !== undefined ? { values: [...field.values] } : {}),
      ...(field.description !== undefined ? { description: field.description } : {}),
      ...(field.format !== undefined ? { format: field.format } : {}),
      ...(field.timezone !== undefined ? { timezone: field.timezone } : {}),
    };
  }
  return {
    name: schema.name,
    ...(schema.description !== undefined ? { description: schema.description } : {}),
    ...(schema.task !== undefined ? { task: schema.task } : {}),
    missing_values: [...schema.missingValues],
    fields,
  };
}

export function bundleChecksum(body: BundleBody): string {
  return sha256(canonicalJson(body));
}

export interface CreateBundleInput {
  schema: Schema;
  preprocessor: Preprocessor;
  model: Estimator;
  /** Binary tasks: the decision threshold (default 0.5). */
  threshold?: number;
  metadata: Omit<BundleMetadata, 'golden'>;
  /** A few typed records whose outputs are stored and re-checked on every load. */
  goldenInputs: TypedRecord[];
}

/** Assembles and seals a bundle; the golden outputs are computed here with the fitted parts. */
export function createBundle(input: CreateBundleInput): Bundle {
  const { schema } = input;
  if (!schema.target || !schema.task) {
    throw new errors.PW_SCHEMA_INVALID(
      `The schema ${schema.name} has no target field, so no model can be bundled`,
      {
        hint: 'Give one field role: target in schema.yaml.',
      },
    );
  }
  const classes = classesOf(schema);
  const threshold = schema.task === 'binary' ? (input.threshold ?? 0.5) : null;
  const scorer = new Scorer(input.preprocessor, input.model);
  const outputs: number[] = [];
  for (const record of input.goldenInputs) outputs.push(...scorer.outputs(record));
  const body: BundleBody = {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    schemaFingerprint: schema.fingerprint,
    schema: schemaDefinition(schema),
    task: schema.task,
    classes,
    preprocessor: input.preprocessor.toJSON(),
    model: input.model.toJSON(),
    threshold,
    metadata: {
      ...input.metadata,
      golden: { inputs: input.goldenInputs.map((record) => ({ ...record })), outputs },
    },
  };
  // Seal the JSON form, so the checksum is the one a reader recomputes after JSON.parse.
  const sealed = JSON.parse(JSON.stringify(body)) as BundleBody;
  return { ...sealed, checksum: bundleChecksum(sealed) };
}

function classesOf(schema: Schema): CategoryValue[] {
  if (schema.task === 'regression') return [];
  if (schema.target!.type === 'boolean') return [false, true];
  return [...(schema.target!.values ?? [])];
}

/** The bundle as bytes (canonical JSON, UTF-8), as the registry stores them. */
export function serializeBundle(bundle: Bundle): Uint8Array {
  return new TextEncoder().encode(canonicalJson(bundle));
}

const bundleEnvelope = z
  .object({
    format: z.literal(BUNDLE_FORMAT),
    formatVersion: z.number(),
    schemaFingerprint: z.string().regex(/^[0-9a-f]{64}$/),
    schema: z.unknown(),
    task: z.enum(['binary', 'multiclass', 'regression']),
    classes: z.array(z.union([z.string(), z.number(), z.boolean()])),
    preprocessor: z.object({ kind: z.literal('preprocessor') }).passthrough(),
    model: z
      .object({ kind: z.string(), params: z.record(z.string(), z.unknown()), state: z.unknown() })
      .passthrough(),
    // A chosen threshold may lie above every score (never predict the positive class), so it is not capped at 1.
    threshold: z.number().nullable(),
    metadata: z
      .object({
        metrics: z.record(z.string(), z.unknown()),
        params: z.record(z.string(), z.unknown()),
        dataHash: z.string(),
        codeVersion: z.string(),
        createdAt: z.string(),
        runId: z.string(),
        referenceStats: z.unknown(),
        golden: z.object({
          inputs: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))),
          outputs: z.array(z.number()),
        }),
      })
      .passthrough(),
    checksum: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

export interface ParseOptions {
  /** Names the bundle in messages (e.g. `registry production (v3)`). */
  source?: string;
}

/**
 * Reads bundle bytes: JSON.parse and validation only. Refuses a damaged or altered bundle
 * (PW_BUNDLE_INVALID) and, when `expected` is given, a bundle trained on another schema
 * (PW_MODEL_SCHEMA_MISMATCH).
 */
export function parseBundle(
  bytes: Uint8Array | string,
  expected?: string | Schema,
  options: ParseOptions = {},
): Bundle {
  const source = options.source ?? 'the bundle';
  let parsed: unknown;
  try {
    parsed = JSON.parse(
      typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: true }).decode(bytes),
    );
  } catch (cause) {
    throw new errors.PW_BUNDLE_INVALID(`${source} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  const format = (parsed as { format?: unknown; formatVersion?: unknown } | null) ?? {};
  if (format.format !== BUNDLE_FORMAT) {
    throw new errors.PW_BUNDLE_INVALID(
      `${source} is not a Pipewright bundle (format is ${JSON.stringify(format.format)})`,
    );
  }
  if (format.formatVersion !== BUNDLE_FORMAT_VERSION) {
    throw new errors.PW_BUNDLE_INVALID(
      `${source} has bundle format version ${JSON.stringify(format.formatVersion)}; this Pipewright reads version ${BUNDLE_FORMAT_VERSION}`,
      {
        hint:
          typeof format.formatVersion === 'number' && format.formatVersion > BUNDLE_FORMAT_VERSION
            ? 'Upgrade Pipewright to load it.'
            : 'Retrain and publish it again with `pipewright run`.',
      },
    );
  }
  const checked = bundleEnvelope.safeParse(parsed);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new errors.PW_BUNDLE_INVALID(
      `${source} is malformed at ${issue.path.join('.') || '(top)'}: ${issue.message}`,
      {
        details: { path: issue.path.map(String) },
      },
    );
  }
  const bundle = parsed as Bundle;
  const { checksum, ...body } = bundle;
  const actual = bundleChecksum(body);
  if (actual !== checksum) {
    throw new errors.PW_BUNDLE_INVALID(
      `${source} fails its checksum: it was altered or damaged after it was written (stored ${checksum.slice(0, 12)}…, computed ${actual.slice(0, 12)}…)`,
      { details: { stored: checksum, computed: actual } },
    );
  }
  const schema = bundleSchema(bundle, source);
  if (expected !== undefined) {
    const expectedFingerprint = typeof expected === 'string' ? expected : expected.fingerprint;
    if (expectedFingerprint !== bundle.schemaFingerprint) {
      const differences = typeof expected === 'string' ? [] : schemaDifferences(schema, expected);
      throw new errors.PW_MODEL_SCHEMA_MISMATCH(
        `${source} was trained on schema ${schema.name} with fingerprint ${bundle.schemaFingerprint.slice(0, 12)}…, but the current schema has ${expectedFingerprint.slice(0, 12)}…` +
          (differences.length > 0 ? `: ${differences.join('; ')}` : ''),
        { details: { bundleFingerprint: bundle.schemaFingerprint, expectedFingerprint, differences } },
      );
    }
  }
  return bundle;
}

/** The schema stored in a bundle, rebuilt; its fingerprint must match the one recorded. */
export function bundleSchema(bundle: Bundle, source = 'the bundle'): Schema {
  const definition = schemaFileSchema.safeParse(bundle.schema);
  if (!definition.success) {
    throw new errors.PW_BUNDLE_INVALID(
      `${source} holds an invalid schema: ${definition.error.issues[0].message}`,
    );
  }
  let schema: Schema;
  try {
    schema = buildSchema(definition.data);
  } catch (cause) {
    throw new errors.PW_BUNDLE_INVALID(`${source} holds an invalid schema: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (schema.fingerprint !== bundle.schemaFingerprint) {
    throw new errors.PW_BUNDLE_INVALID(`${source}: its schema does not match its recorded fingerprint`);
  }
  return schema;
}

/** Human-readable differences between the schema a model was trained on and another one. */
export function schemaDifferences(trained: Schema, current: Schema): string[] {
  const out: string[] = [];
  const currentFields = new Map(current.fields.map((f) => [f.name, f]));
  const trainedFields = new Map(trained.fields.map((f) => [f.name, f]));
  for (const field of trained.fields) {
    const other = currentFields.get(field.name);
    if (!other) {
      out.push(`${field.name} is missing from the current schema`);
      continue;
    }
    for (const property of ['type', 'role', 'nullable', 'min', 'max'] as const) {
      if (field[property] !== other[property]) {
        out.push(
          `${field.name}.${property} was ${JSON.stringify(field[property])} and is now ${JSON.stringify(other[property])}`,
        );
      }
    }
    if (JSON.stringify(field.values) !== JSON.stringify(other.values)) {
      out.push(
        `${field.name}.values was ${JSON.stringify(field.values)} and is now ${JSON.stringify(other.values)}`,
      );
    }
  }
  for (const field of current.fields)
    if (!trainedFields.has(field.name)) out.push(`${field.name} is new in the current schema`);
  if (trained.task !== current.task) out.push(`the task was ${trained.task} and is now ${current.task}`);
  if (JSON.stringify(trained.missingValues) !== JSON.stringify(current.missingValues))
    out.push('missing_values changed');
  return out;
}

/** Scores one record through a preprocessor and a model, reusing one feature row and one output row. */
class Scorer {
  readonly row: Float64Array;
  readonly out: Float64Array;

  constructor(
    readonly preprocessor: Preprocessor,
    readonly model: Estimator,
  ) {
    this.row = new Float64Array(preprocessor.outputs);
    this.out = new Float64Array(Math.max(1, model.outputs));
  }

  /** Binary: P(class 1); regression: the value; multiclass: the likeliest class (probabilities in `out`). */
  score(record: TypedRecord): number {
    this.preprocessor.transformRecord(record, this.row);
    return this.scoreEncoded(this.row);
  }

  /** As score, for a row the preprocessor has already made. */
  scoreEncoded(row: Float64Array): number {
    return this.model.predictRow(row, this.out);
  }

  /** The model's raw outputs for one record, as stored in the golden sample. */
  outputs(record: TypedRecord): number[] {
    const value = this.score(record);
    return this.model.outputs > 1 ? Array.from(this.out.subarray(0, this.model.outputs)) : [value];
  }
}

export type Prediction =
  | { label: CategoryValue; probability: number }
  | { label: CategoryValue; probabilities: number[] }
  | { value: number };

/** Scores typed records or frames with a loaded bundle. One instance serves one thread of requests. */
export class Predictor {
  readonly schema: Schema;
  readonly task: Task;
  readonly classes: CategoryValue[];
  readonly threshold: number;
  readonly preprocessor: Preprocessor;
  readonly model: Estimator;
  private readonly scorer: Scorer;

  private constructor(
    readonly bundle: Bundle,
    schema: Schema,
  ) {
    this.schema = schema;
    this.task = bundle.task;
    this.classes = bundle.classes;
    this.threshold = bundle.threshold ?? 0.5;
    this.preprocessor = Preprocessor.fromJSON(bundle.preprocessor);
    this.model = estimatorFromJSON(bundle.model);
    this.scorer = new Scorer(this.preprocessor, this.model);
  }

  /**
   * A predictor for a parsed bundle. Unless told otherwise it re-scores the golden sample and refuses
   * the bundle when a stored output is not reproduced within GOLDEN_TOLERANCE.
   */
  static fromBundle(bundle: Bundle, options: { verifyGolden?: boolean; source?: string } = {}): Predictor {
    const source = options.source ?? 'the bundle';
    const predictor = new Predictor(bundle, bundleSchema(bundle, source));
    predictor.checkFeatures(source);
    if (options.verifyGolden ?? true) predictor.verifyGolden(source);
    return predictor;
  }

  /** Parses bytes and builds the predictor in one step. */
  static load(
    bytes: Uint8Array | string,
    expected?: string | Schema,
    options: { source?: string } = {},
  ): Predictor {
    return Predictor.fromBundle(parseBundle(bytes, expected, options), options);
  }

  /** The preprocessor must make exactly the columns the model was fitted on, in the same order. */
  private checkFeatures(source: string): void {
    const state = this.bundle.model.state as { features?: unknown; featureNames?: unknown } | null;
    const made = this.preprocessor.outputNames;
    if (typeof state?.features === 'number' && state.features !== made.length) {
      throw new errors.PW_BUNDLE_INVALID(
        `${source}: the preprocessor makes ${made.length} features but the model expects ${state.features}`,
      );
    }
    if (Array.isArray(state?.featureNames) && state.featureNames.join('\u0000') !== made.join('\u0000')) {
      throw new errors.PW_BUNDLE_INVALID(
        `${source}: the preprocessor's columns (${made.join(', ')}) are not the model's (${state.featureNames.join(', ')})`,
      );
    }
  }

  private verifyGolden(source: string): void {
    const { inputs, outputs } = this.bundle.metadata.golden;
    const width = Math.max(1, this.model.outputs);
    if (outputs.length !== inputs.length * width) {
      throw new errors.PW_BUNDLE_INVALID(
        `${source}: the golden sample has ${outputs.length} outputs for ${inputs.length} inputs of ${width} output(s) each`,
      );
    }
    inputs.forEach((record, index) => {
      const actual = this.scorer.outputs(record);
      for (let k = 0; k < width; k++) {
        const stored = outputs[index * width + k];
        if (!(Math.abs(actual[k] - stored) <= GOLDEN_TOLERANCE * Math.max(1, Math.abs(stored)))) {
          throw new errors.PW_BUNDLE_INVALID(
            `${source}: golden row ${index + 1} scores ${actual[k]} instead of the stored ${stored}; the model does not reproduce its training-time outputs`,
            {
              hint: 'The bundle or this Pipewright version is incompatible with the one that trained it; retrain with `pipewright run`.',
              details: { row: index + 1 },
            },
          );
        }
      }
    });
  }

  /** Binary: P(classes[1]); regression: the value; multiclass: the likeliest class index. Allocates nothing. */
  score(record: TypedRecord): number {
    return this.scorer.score(record);
  }

  /** The label for a binary probability, at the bundle's threshold. */
  labelFor(probability: number): CategoryValue {
    return this.classes[probability >= this.threshold ? 1 : 0];
  }

  /** As score, for a row the preprocessor has already made (`preprocessor.outputs` columns). Allocates nothing. */
  scoreEncoded(row: Float64Array): number {
    return this.scorer.scoreEncoded(row);
  }

  /** One typed record (as compileCoercer makes it with fields: 'inputs'). */
  predictRecord(record: TypedRecord): Prediction {
    this.preprocessor.transformRecord(record, this.scorer.row);
    return this.predictEncoded(this.scorer.row);
  }

  /** As predictRecord, for a row the preprocessor has already made. */
  predictEncoded(row: Float64Array): Prediction {
    const value = this.scorer.scoreEncoded(row);
    if (this.task === 'binary') return { label: this.labelFor(value), probability: value };
    if (this.task === 'regression') return { value };
    return {
      label: this.classes[value],
      probabilities: Array.from(this.scorer.out.subarray(0, this.model.outputs)),
    };
  }

  /** Model outputs for rows `rows` of a frame (every row when absent): as Estimator.predict. */
  predictFrame(frame: Frame, rows?: ArrayLike<number>): Float64Array {
    return this.model.predict(this.preprocessor.transform(frame, rows));
  }

  /** predictFrame's outputs, on up to `threads` threads for a batch large enough to share (scoreFrame). */
  predictFrameOn(
    frame: Frame,
    rows: ArrayLike<number> | undefined,
    threads: number,
  ): Promise<Float64Array> | Float64Array {
    return scoreFrame(this.model, this.preprocessor, frame, rows, threads);
  }

  /** Model outputs for several typed records (batch requests): as Estimator.predict. */
  predictRecords(records: readonly TypedRecord[]): Float64Array {
    return this.model.predict(this.preprocessor.transformRecords(records));
  }
}

/**
 * The model's outputs for rows `rows` of a frame (every row when absent) through `preprocessor`, as
 * Estimator.predict: on up to `threads` threads for a batch large enough to share (predictOn), its
 * rows then transformed into shared memory for the threads to read in place.
 */
export function scoreFrame(
  model: Estimator,
  preprocessor: Preprocessor,
  frame: Frame,
  rows: ArrayLike<number> | undefined,
  threads: number,
): Promise<Float64Array> | Float64Array {
  const shared = predictsOnThreads(model, rows ? rows.length : frame.rows, threads);
  return predictOn(model, preprocessor.transform(frame, rows, { shared }), threads);
}
