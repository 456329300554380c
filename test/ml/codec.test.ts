// Base64 typed-array codec: exact bit round trips, little-endian layout, refusal of bad text.
import { describe, expect, it } from 'vitest';
import {
  decodeFloat64,
  decodeInt32,
  decodeUint8,
  encodeFloat64,
  encodeInt32,
  encodeUint8,
} from '../../src/ml/codec.js';

describe('typed array codec', () => {
  it('round-trips float64 values bit for bit, including NaN, infinities, -0 and subnormals', () => {
    const values = Float64Array.from([0, -0, 1 / 3, -1e308, 5e-324, NaN, Infinity, -Infinity, Math.PI]);
    const decoded = decodeFloat64(encodeFloat64(values));
    expect(new Uint8Array(decoded.buffer)).toEqual(new Uint8Array(values.buffer));
  });

  it('encodes little-endian bytes and decodes views at any offset', () => {
    expect(encodeInt32(Int32Array.from([1]))).toBe(Buffer.from([1, 0, 0, 0]).toString('base64'));
    const backing = Int32Array.from([7, -2, 3, 9]);
    expect(Array.from(decodeInt32(encodeInt32(backing.subarray(1, 3))))).toEqual([-2, 3]);
    expect(Array.from(decodeUint8(encodeUint8(Uint8Array.from([0, 255, 17]))))).toEqual([0, 255, 17]);
  });

  it('refuses text that is not base64 or not a whole number of values', () => {
    expect(() => decodeFloat64('not base64!')).toThrow(
      expect.objectContaining({ code: 'PW_BUNDLE_INVALID' }),
    );
    expect(() => decodeFloat64(Buffer.from([1, 2, 3]).toString('base64'))).toThrow(/whole number/);
  });
});
