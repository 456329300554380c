// Transform: the preprocessor fitted on the training rows only, reused while the split and the
// preprocessing settings stay the same.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../core/config.js';
import { canonicalJson, sha256 } from '../../core/hash.js';
import type { Frame } from '../../ml/frame.js';
import type { SplitIndices } from '../../ml/split.js';
import { Preprocessor, type PreprocessorJSON } from '../../ml/transform/preprocessor.js';
import type { Step } from '../runner.js';

export interface TransformInput {
  frame: Frame;
  split: SplitIndices;
  splitHash: string;
  schemaFingerprint: string;
  settings: Config['preprocess'];
}

export const transformStep: Step<TransformInput, Preprocessor> = {
  name: 'transform',
  key: ({ splitHash: hash, schemaFingerprint, settings }) => ({
    splitHash: hash,
    schemaFingerprint,
    settings,
  }),
  async run(_context, { frame, split, settings }) {
    // Fitted on the training part only: the test part must stay unseen.
    return Preprocessor.fromConfig(frame.schema, settings).fit(frame, split.train);
  },
  save(preprocessor, dir) {
    const file = join(dir, 'preprocessor.json');
    writeFileSync(file, JSON.stringify(preprocessor.toJSON()));
    return [file];
  },
  load: (dir) =>
    Preprocessor.fromJSON(
      JSON.parse(readFileSync(join(dir, 'preprocessor.json'), 'utf8')) as PreprocessorJSON,
    ),
  outputHash: (preprocessor) => sha256(canonicalJson(preprocessor.toJSON())),
  summary: (preprocessor) => ({
    features: preprocessor.outputs,
    text: `${preprocessor.outputs} model features`,
  }),
};
