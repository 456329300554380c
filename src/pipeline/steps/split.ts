// Split: the training and test rows, seeded (and stratified by class when asked), or for small data the
// cross-validation folds over every row; saved as int32 files and reused while the data hash, the split
// settings and the cross-validation settings stay the same.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../core/config.js';
import { sha256 } from '../../core/hash.js';
import type { Frame } from '../../ml/frame.js';
import { kFoldFrame, splitFrame, type SplitIndices } from '../../ml/split.js';
import type { Step } from '../runner.js';

export interface SplitInput {
  frame: Frame;
  dataHash: string;
  settings: Config['split'];
  crossValidation: Config['evaluate']['cross_validation'];
}

/**
 * Under `auto`, cross-validation replaces the hold-out below this many rows times ten when the rarest
 * class is short of `min_class_rows`: past it, a hold-out's rare rows are many enough in absolute terms.
 */
const RARE_CLASS_ROW_FACTOR = 10;

/** Whether the frame is small enough that one hold-out would be noise; the reason, for the record. */
export function crossValidationReason(
  frame: Frame,
  settings: Config['evaluate']['cross_validation'],
): string | undefined {
  if (settings.use === 'never') return undefined;
  if (settings.use === 'always') return 'evaluate.cross_validation.use is always';
  if (frame.rows < settings.max_rows)
    return `${frame.rows} rows, under ${settings.max_rows} (evaluate.cross_validation.max_rows)`;
  if (
    frame.target &&
    frame.schema.task !== 'regression' &&
    frame.rows < RARE_CLASS_ROW_FACTOR * settings.max_rows
  ) {
    const counts = new Map<number, number>();
    for (const label of frame.target) counts.set(label, (counts.get(label) ?? 0) + 1);
    const rarest = Math.min(...counts.values());
    if (rarest < settings.min_class_rows)
      return `the rarest class has ${rarest} rows, under ${settings.min_class_rows} (evaluate.cross_validation.min_class_rows)`;
  }
  return undefined;
}

/** Folds, held-out rows per repeat: as many folds as asked, but no more than the rarest class has rows. */
function foldCount(
  frame: Frame,
  settings: Config['evaluate']['cross_validation'],
  stratify: boolean,
): number {
  let folds = Math.min(settings.folds, frame.rows);
  if (stratify && frame.target && frame.schema.task !== 'regression') {
    const counts = new Map<number, number>();
    for (const label of frame.target) counts.set(label, (counts.get(label) ?? 0) + 1);
    folds = Math.min(folds, Math.max(2, Math.min(...counts.values())));
  }
  return Math.max(2, folds);
}

function int32Hash(values: Int32Array): string {
  return sha256(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

export function splitHash(split: SplitIndices): string {
  const folds = split.folds
    ? `:${split.folds.folds}x${split.folds.repeats}:${int32Hash(split.folds.assignment)}`
    : '';
  return sha256(`${int32Hash(split.train)}:${int32Hash(split.test)}${folds}`);
}

export const splitStep: Step<SplitInput, SplitIndices> = {
  name: 'split',
  key: ({ dataHash, settings, crossValidation }) => ({ dataHash, settings, crossValidation }),
  async run(context, { frame, settings, crossValidation }) {
    const reason = crossValidationReason(frame, crossValidation);
    if (reason !== undefined) {
      const folds = kFoldFrame(frame, {
        folds: foldCount(frame, crossValidation, settings.stratify),
        repeats: crossValidation.repeats,
        seed: settings.seed,
        stratify: settings.stratify,
      });
      context.logger.info({ folds: folds.folds, repeats: folds.repeats }, `cross-validating: ${reason}`);
      const every = new Int32Array(frame.rows);
      for (let i = 0; i < every.length; i++) every[i] = i;
      return { train: every, test: new Int32Array(0), folds };
    }
    return splitFrame(frame, {
      testSize: settings.test_size,
      seed: settings.seed,
      stratify: settings.stratify,
    });
  },
  save(split, dir) {
    const train = join(dir, 'train.i32');
    const test = join(dir, 'test.i32');
    writeFileSync(train, new Uint8Array(split.train.buffer, split.train.byteOffset, split.train.byteLength));
    writeFileSync(test, new Uint8Array(split.test.buffer, split.test.byteOffset, split.test.byteLength));
    if (!split.folds) return [train, test];
    const folds = join(dir, 'folds.i32');
    const header = Int32Array.of(split.folds.folds, split.folds.repeats);
    const all = new Int32Array(2 + split.folds.assignment.length);
    all.set(header);
    all.set(split.folds.assignment, 2);
    writeFileSync(folds, new Uint8Array(all.buffer, all.byteOffset, all.byteLength));
    return [train, test, folds];
  },
  load(dir) {
    const read = (name: string) => {
      const bytes = readFileSync(join(dir, name));
      return new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    };
    const split: SplitIndices = { train: read('train.i32'), test: read('test.i32') };
    if (existsSync(join(dir, 'folds.i32'))) {
      const all = read('folds.i32');
      split.folds = { folds: all[0], repeats: all[1], assignment: all.slice(2) };
    }
    return split;
  },
  outputHash: splitHash,
  summary: (split) =>
    split.folds
      ? {
          train: split.train.length,
          folds: split.folds.folds,
          repeats: split.folds.repeats,
          text: `${split.train.length.toLocaleString('en')} rows, ${split.folds.repeats} × ${split.folds.folds}-fold cross-validation`,
        }
      : {
          train: split.train.length,
          test: split.test.length,
          text: `${split.train.length.toLocaleString('en')} train, ${split.test.length.toLocaleString('en')} test`,
        },
};
