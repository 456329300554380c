// Batch scoring: streams a CSV or JSONL file through a published bundle and writes one CSV line per
// valid input (its key, then the probability and label, the class probabilities, or the value).
// Invalid rows are reported as push reports them, in `<output>.rejects.jsonl`; valid rows with values
// training never saw are scored and flagged in `<output>.warnings.jsonl`.
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { publishFile } from '../core/durable.js';
import { once } from 'node:events';
import { errors } from '../core/errors.js';
import { displayPath } from '../core/paths.js';
import { parseBundle, Predictor } from '../ml/bundle.js';
import { compileUnseenCheck, type UnseenReason, type UnseenValue } from '../ml/unseen.js';
import { explanationColumns, explanationRow } from '../ml/explain/columns.js';
import { createExplainer } from '../ml/explain/explainer.js';
import type { ModelRegistry } from '../registry/types.js';
import { compileCoercer, type TypedRecord } from '../schema/coerce.js';
import type { Schema } from '../schema/schema.js';
import type { DataFormat, ReadOptions } from '../data/records.js';
import { openReader } from '../data/reader.js';
import { describeFieldErrors, RejectsWriter, rejectsFileFor, type RejectedRow } from './push.js';

export interface PredictOptions {
  file: string;
  output: string;
  schema: Schema;
  registry: ModelRegistry;
  model?: string;
  format?: DataFormat;
  /** The CSV dialect or Excel sheet, as set by flags or pipewright.yaml (the rest is sniffed). */
  read?: ReadOptions;
  batchSize?: number;
  rejectsFile?: string;
  /** Where flags of values unseen in training go (default `<output>.warnings.jsonl`). */
  warningsFile?: string;
  /** Adds the SHAP columns: shap_base and one shap_<field> per feature field. */
  explain?: boolean;
}

export interface PredictSummary {
  file: string;
  output: string;
  model: string;
  read: number;
  predicted: number;
  rejected: number;
  seconds: number;
  rows_per_s: number;
  rejects_file: string | null;
  rejects_sample: RejectedRow[];
  /** Rows scored with at least one value unseen in training, and the flags by field and reason. */
  flagged: number;
  warnings: number;
  warnings_by_reason: Partial<Record<UnseenReason, number>>;
  warnings_file: string | null;
}

export function warningsFileFor(output: string): string {
  return `${output}.warnings.jsonl`;
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

async function write(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

export async function predictFile(options: PredictOptions): Promise<PredictSummary> {
  const started = performance.now();
  const { schema, registry } = options;
  const reference = options.model ?? 'production';
  const { bytes, info } = await registry.load(reference);
  const predictor = Predictor.fromBundle(
    parseBundle(bytes, schema, { source: `model ${reference} (${info.version})` }),
    {
      source: `model ${reference} (${info.version})`,
    },
  );
  const reader = await openReader(options.file, { ...options.read, format: options.format });
  const inputs = new Set(
    schema.fields.filter((f) => f.role === 'feature' || f.role === 'key').map((f) => f.name),
  );
  const missing = [...inputs].filter(
    (name) =>
      !reader.columns.includes(name) &&
      !schema.fields.find((f) => f.name === name)?.nullable &&
      name !== schema.key?.name,
  );
  if (missing.length > 0 && reader.format !== 'jsonl') {
    await reader.close();
    throw new errors.PW_FILE_INVALID(
      `${displayPath(options.file)}:${reader.columnsLine}: missing input column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
      {
        where: `${displayPath(options.file)}:${reader.columnsLine}`,
        hint: `The model needs every feature of the schema: ${[...inputs].join(', ')}.`,
      },
    );
  }
  const coerce = compileCoercer(schema, { fields: 'inputs' });
  const unseen = compileUnseenCheck(schema, predictor.bundle.metadata.referenceStats);
  const warningsFile = options.warningsFile ?? warningsFileFor(options.output);
  rmSync(warningsFile, { force: true });
  let warningsOut: WriteStream | undefined;
  let flagged = 0;
  let warningCount = 0;
  const byReason: Partial<Record<UnseenReason, number>> = {};
  const keyName = schema.key?.name;
  // Beside the output, not the input: the input's rejects file is push's, and scoring must not replace it.
  const rejectsFile = options.rejectsFile ?? rejectsFileFor(options.output);
  rmSync(rejectsFile, { force: true });
  const rejects = new RejectsWriter(rejectsFile, true);
  // Written under a temporary name and renamed at the end: a failed run leaves no half file.
  const temporary = `${options.output}.${process.pid}.tmp`;
  const out = createWriteStream(temporary);
  const header = [keyName ?? 'line'];
  if (predictor.task === 'binary') header.push('probability', 'label');
  else if (predictor.task === 'regression') header.push('prediction');
  else header.push('label', ...predictor.classes.map((label) => `probability_${String(label)}`));
  const explainer = options.explain ? createExplainer(predictor.bundle) : undefined;
  if (explainer) header.push(...explanationColumns(explainer, predictor.classes.map(String)));
  const contributions = explainer ? new Float64Array(explainer.outputs * explainer.fields.length) : undefined;
  let read = 0;
  let predicted = 0;
  try {
    await write(out, `${header.map(csvCell).join(',')}\n`);
    for await (const batch of reader.batches(options.batchSize ?? 5000)) {
      const records: TypedRecord[] = [];
      const ids: unknown[] = [];
      for (const raw of batch) {
        read++;
        if (raw.problem) {
          await rejects.add(raw, [{ field: null, reason: raw.problem }]);
          continue;
        }
        const result = coerce(raw.values);
        if (!result.ok) {
          await rejects.add(raw, describeFieldErrors(result.errors));
          continue;
        }
        records.push(result.record);
        ids.push(keyName ? (result.record[keyName] ?? raw.values[keyName]) : raw.line);
        const flags = unseen(result.record);
        if (flags) {
          flagged++;
          warningsOut ??= createWriteStream(warningsFile);
          await write(warningsOut, warningLines(raw.line, keyName, result.record, flags));
          warningCount += flags.length;
          for (const flag of flags) byReason[flag.reason] = (byReason[flag.reason] ?? 0) + 1;
        }
      }
      if (records.length === 0) continue;
      const outputs = predictor.predictRecords(records);
      const width = predictor.task === 'multiclass' ? predictor.classes.length : 1;
      const lines: string[] = [];
      for (let i = 0; i < records.length; i++) {
        const cells = [csvCell(ids[i])];
        if (predictor.task === 'binary') {
          const probability = outputs[i];
          cells.push(probability.toFixed(6), csvCell(predictor.labelFor(probability)));
        } else if (predictor.task === 'regression') {
          cells.push(String(outputs[i]));
        } else {
          const row = outputs.subarray(i * width, (i + 1) * width);
          let best = 0;
          for (let k = 1; k < width; k++) if (row[k] > row[best]) best = k;
          cells.push(csvCell(predictor.classes[best]), ...Array.from(row, (p) => p.toFixed(6)));
        }
        if (explainer && contributions) {
          explainer.explainRecordInto(records[i], contributions);
          for (const value of explanationRow(explainer, contributions)) cells.push(String(value));
        }
        lines.push(cells.join(','));
      }
      predicted += records.length;
      await write(out, `${lines.join('\n')}\n`);
    }
    out.end();
    await once(out, 'finish');
    await publishFile(temporary, options.output);
  } catch (error) {
    out.destroy();
    rmSync(temporary, { force: true });
    throw error;
  } finally {
    await rejects.close();
    await reader.close();
    if (warningsOut) {
      warningsOut.end();
      await once(warningsOut, 'close');
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    file: options.file,
    output: options.output,
    model: info.version,
    read,
    predicted,
    rejected: rejects.count,
    seconds: Math.round(seconds * 1000) / 1000,
    rows_per_s: Math.round(read / Math.max(seconds, 1e-9)),
    rejects_file: rejects.written ? rejectsFile : null,
    rejects_sample: rejects.sample,
    flagged,
    warnings: warningCount,
    warnings_by_reason: byReason,
    warnings_file: warningsOut ? warningsFile : null,
  };
}

/** One JSON line per flag: where the row is, which field, its value and what training held. */
function warningLines(
  line: number,
  keyName: string | undefined,
  record: TypedRecord,
  flags: UnseenValue[],
): string {
  let text = '';
  for (const flag of flags) {
    text += `${JSON.stringify({
      line,
      ...(keyName !== undefined ? { key: record[keyName] } : {}),
      field: flag.field,
      reason: flag.reason,
      value: flag.value,
      seen: flag.seen,
    })}\n`;
  }
  return text;
}
