// The WebAssembly encoder's instruction helpers: each value's own bytes, however often and in whatever
// order values are asked for (the helpers hand out shared arrays for common values).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { f64, get, i32, loadF64, signedLeb, unsignedLeb } from '../../src/ml/wasm.js';

/** The double an f64.const instruction holds. */
function constant(code: number[]): number {
  expect(code[0]).toBe(0x44);
  return new Float64Array(Uint8Array.from(code.slice(1)).buffer)[0];
}

describe('WebAssembly instruction helpers', () => {
  it('encode every value as its own bytes, asked once or many times, past the number of values they keep', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double(), fc.constantFrom(0, -0, Number.NaN, Infinity, -Infinity)), {
          minLength: 1,
          maxLength: 6000,
        }),
        fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 6000 }),
        fc.array(fc.nat({ max: 2 ** 20 }), { maxLength: 6000 }),
        (doubles, ints, indices) => {
          for (const value of [...doubles, ...doubles])
            expect(Object.is(constant(f64(value)), value)).toBe(true);
          for (const value of ints) expect(i32(value)).toEqual([0x41, ...signedLeb(value)]);
          for (const index of indices) {
            expect(get(index)).toEqual([0x20, ...unsignedLeb(index)]);
            expect(loadF64(index)).toEqual([0x2b, 3, ...unsignedLeb(index)]);
          }
        },
      ),
      { numRuns: 20 },
    );
  });

  it('hand out arrays that cannot be changed by one caller under another', () => {
    expect(() => (get(3) as number[]).push(1)).toThrow(TypeError);
    expect(get(3)).toEqual([0x20, 3]);
  });
});
