// Typed arrays as base64 text for JSON documents (bundles): little-endian bytes whatever the platform,
// so a bundle written on one machine decodes identically on another.
import { errors } from '../core/errors.js';

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type Typed = Float64Array | Float32Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;

function encode(array: Typed): string {
  if (littleEndian || array.BYTES_PER_ELEMENT === 1) {
    return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
  }
  const bytes = Buffer.alloc(array.byteLength);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = array.BYTES_PER_ELEMENT;
  for (let i = 0; i < array.length; i++) writeLittle(view, i * size, array, i);
  return bytes.toString('base64');
}

function writeLittle(view: DataView, offset: number, array: Typed, i: number): void {
  if (array instanceof Float64Array) view.setFloat64(offset, array[i], true);
  else if (array instanceof Float32Array) view.setFloat32(offset, array[i], true);
  else if (array instanceof Int32Array) view.setInt32(offset, array[i], true);
  else if (array instanceof Uint32Array) view.setUint32(offset, array[i], true);
  else if (array instanceof Uint16Array) view.setUint16(offset, array[i], true);
}

function decodeBytes(text: string, size: number, what: string): Buffer {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new errors.PW_BUNDLE_INVALID(`${what}: not base64 text`);
  }
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength % size !== 0) {
    throw new errors.PW_BUNDLE_INVALID(
      `${what}: ${bytes.byteLength} bytes is not a whole number of ${size}-byte values`,
    );
  }
  return bytes;
}

function decode<T extends Typed>(text: string, make: (length: number) => T, size: number, what: string): T {
  const bytes = decodeBytes(text, size, what);
  const out = make(bytes.byteLength / size);
  // Copy into a fresh, aligned buffer: the decoded bytes may sit at any offset of a pooled buffer.
  const target = new Uint8Array(out.buffer);
  target.set(bytes);
  if (!littleEndian && size > 1) {
    for (let i = 0; i < target.length; i += size) target.subarray(i, i + size).reverse();
  }
  return out;
}

export const encodeFloat64 = (array: Float64Array): string => encode(array);
export const encodeInt32 = (array: Int32Array): string => encode(array);
export const encodeUint8 = (array: Uint8Array): string => encode(array);

export const decodeFloat64 = (text: string, what = 'Float64 array'): Float64Array =>
  decode(text, (n) => new Float64Array(n), 8, what);
export const decodeInt32 = (text: string, what = 'Int32 array'): Int32Array =>
  decode(text, (n) => new Int32Array(n), 4, what);
export const decodeUint8 = (text: string, what = 'Uint8 array'): Uint8Array =>
  decode(text, (n) => new Uint8Array(n), 1, what);
