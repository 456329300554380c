// The kernels' module as `npm run build` stores it (dist/ml/tree/kernels.wasm and its fingerprint): the same
// bytes as assembling them, taken by a process only while they come from its own code, and a process whose
// stored bytes are stale, missing or broken assembles its own. Runs against dist/ (`npm test` builds it).
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../../../dist/', import.meta.url));

/** In a fresh process: where the module of the kernels at `kernelsFile` came from, and whether it runs. */
function loadIn(kernelsFile: string): { origin: string; sum: number } {
  const script = `
    const k = await import(${JSON.stringify(pathToFileURL(kernelsFile).href)});
    const arena = new k.Arena();
    const a = arena.reserve(24), b = arena.reserve(24);
    const memory = arena.create();
    const kernels = k.instantiateKernels(memory, k.kernelModule());
    new Float64Array(memory.buffer, a, 3).set([1, 2, 3]);
    new Float64Array(memory.buffer, b, 3).set([10, 20, 30]);
    kernels.addDoubles(a, b, 3);
    const sum = new Float64Array(memory.buffer, a, 3).reduce((s, v) => s + v, 0);
    console.log(JSON.stringify({ origin: k.kernelModuleOrigin(), sum }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout.trim()) as { origin: string; sum: number };
}

/** A copy of the compiled kernels and what they import, with the stored module, in a new directory. */
function copyOfBuild(): { root: string; kernels: string } {
  const root = mkdtempSync(join(tmpdir(), 'pipewright-kernels-'));
  for (const file of [
    'ml/tree/kernels.js',
    'ml/tree/kernels.wasm',
    'ml/tree/kernels.wasm.json',
    'ml/wasm.js',
    'core/errors.js',
    'core/redact.js',
  ]) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    copyFileSync(join(dist, file), join(root, file));
  }
  return { root, kernels: join(root, 'ml/tree/kernels.js') };
}

describe('the built kernels module', () => {
  it('holds the bytes assembling gives, under the fingerprint of the code they come from', async () => {
    const compiled = (await import(pathToFileURL(join(dist, 'ml/tree/kernels.js')).href)) as {
      assembleKernels: () => Uint8Array;
      kernelSourcesFingerprint: () => string | undefined;
    };
    const stored = readFileSync(join(dist, 'ml/tree/kernels.wasm'));
    expect(Buffer.from(compiled.assembleKernels()).equals(stored)).toBe(true);
    const { sources } = JSON.parse(readFileSync(join(dist, 'ml/tree/kernels.wasm.json'), 'utf8')) as {
      sources: string;
    };
    expect(sources).toMatch(/^[0-9a-f]{64}$/);
    expect(sources).toBe(compiled.kernelSourcesFingerprint());
  });

  it('is what a process takes while its code matches, and a process assembles its own otherwise', () => {
    const expected = 1 + 2 + 3 + 10 + 20 + 30;
    const copies: string[] = [];
    try {
      const intact = copyOfBuild();
      copies.push(intact.root);
      expect(loadIn(intact.kernels)).toEqual({ origin: 'built', sum: expected });

      // the code changed since the build: the stored bytes may be another module's
      const changed = copyOfBuild();
      copies.push(changed.root);
      appendFileSync(changed.kernels, '\n// changed\n');
      expect(loadIn(changed.kernels)).toEqual({ origin: 'assembled', sum: expected });

      // no fingerprint, or bytes that are not a module under the right one
      const missing = copyOfBuild();
      copies.push(missing.root);
      rmSync(join(missing.root, 'ml/tree/kernels.wasm.json'));
      expect(loadIn(missing.kernels)).toEqual({ origin: 'assembled', sum: expected });
      const broken = copyOfBuild();
      copies.push(broken.root);
      writeFileSync(join(broken.root, 'ml/tree/kernels.wasm'), Buffer.from('not a module'));
      expect(loadIn(broken.kernels)).toEqual({ origin: 'assembled', sum: expected });
    } finally {
      for (const root of copies) rmSync(root, { recursive: true, force: true });
    }
  });
});
