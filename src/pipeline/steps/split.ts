// Split: the training and test rows, seeded (and stratified by class when asked), saved as two int32
// files and reused while the data hash and the split settings stay the same.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../core/config.js';
import { sha256 } from '../../core/hash.js';
import type { Frame } from '../../ml/frame.js';
import { splitFrame, type SplitIndices } from '../../ml/split.js';
import type { Step } from '../runner.js';

export interface SplitInput {
  frame: Frame;
  dataHash: string;
  settings: Config['split'];
}

function int32Hash(values: Int32Array): string {
  return sha256(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

export function splitHash(split: SplitIndices): string {
  return sha256(`${int32Hash(split.train)}:${int32Hash(split.test)}`);
}

export const splitStep: Step<SplitInput, SplitIndices> = {
  name: 'split',
  key: ({ dataHash, settings }) => ({ dataHash, settings }),
  async run(_context, { frame, settings }) {
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
    return [train, test];
  },
  load(dir) {
    const read = (name: string) => {
      const bytes = readFileSync(join(dir, name));
      return new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    };
    return { train: read('train.i32'), test: read('test.i32') };
  },
  outputHash: splitHash,
  summary: (split) => ({
    train: split.train.length,
    test: split.test.length,
    text: `${split.train.length.toLocaleString('en')} train, ${split.test.length.toLocaleString('en')} test`,
  }),
};
