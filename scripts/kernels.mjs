// Part of `npm run build`: writes the tree-learning kernels' WebAssembly module next to their compiled code
// (dist/ml/tree/kernels.wasm) with a fingerprint of the code it came from (kernels.wasm.json), so that a
// process that trains compiles those bytes instead of assembling them (about 10 ms at its first fit); a
// process whose code no longer matches the fingerprint assembles its own.
import { writeFileSync } from 'node:fs';

const here = new URL('../dist/ml/tree/', import.meta.url);
const { assembleKernels, kernelSourcesFingerprint } = await import(new URL('kernels.js', here).href);
writeFileSync(new URL('kernels.wasm', here), assembleKernels());
writeFileSync(
  new URL('kernels.wasm.json', here),
  `${JSON.stringify({ sources: kernelSourcesFingerprint() })}\n`,
);
