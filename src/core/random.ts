// The one seeded pseudo-random generator (xoshiro128**, seeded through splitmix32), so that every
// split, resample, subsample and synthetic table repeats exactly for a given seed.
import { errors } from './errors.js';

/** A seeded generator; the same seed gives the same sequence on every platform. */
export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number = 0) {
    // splitmix32 spreads any integer seed (including 0) over the 128-bit state, which must not be all zero.
    let state = seedToUint32(seed);
    const next = (): number => {
      state = (state + 0x9e3779b9) | 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotateLeft(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotateLeft(this.s3, 11);
    return result;
  }

  /**
   * Copies the 128-bit state into `words` (four 32-bit words), for a loop elsewhere (a WebAssembly kernel)
   * to go on with the same sequence and hand it back through `restoreState`.
   */
  saveState(words: Uint32Array): void {
    words[0] = this.s0;
    words[1] = this.s1;
    words[2] = this.s2;
    words[3] = this.s3;
  }

  /** Continues from a state saved by `saveState` and advanced elsewhere. */
  restoreState(words: Uint32Array): void {
    this.s0 = words[0] | 0;
    this.s1 = words[1] | 0;
    this.s2 = words[2] | 0;
    this.s3 = words[3] | 0;
  }

  /** A float in [0, 1) with 53 random bits. */
  next(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** An integer in [0, bound), without modulo bias; bound must be at most 2^32. */
  nextInt(bound: number): number {
    if (!(bound > 0) || bound > 4294967296)
      throw new errors.PW_INTERNAL(`nextInt bound must be in (0, 2^32], got ${bound}`);
    if (bound === 4294967296) return this.nextUint32();
    // Rejection keeps every value equally likely.
    const limit = 4294967296 - (4294967296 % bound);
    for (;;) {
      const value = this.nextUint32();
      if (value < limit) return value % bound;
    }
  }

  /** A standard normal variate (Box-Muller; one of the pair is discarded to keep the state simple). */
  nextNormal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles `values` in place (Fisher-Yates) and returns it. */
  shuffle<T extends { length: number; [index: number]: any }>(values: T): T {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const swap = values[i];
      values[i] = values[j];
      values[j] = swap;
    }
    return values;
  }

  /** `count` distinct integers from [0, bound), in random order (partial Fisher-Yates). */
  sampleWithoutReplacement(bound: number, count: number): Int32Array {
    if (count > bound) throw new errors.PW_INTERNAL(`cannot draw ${count} distinct values from ${bound}`);
    const pool = new Int32Array(bound);
    for (let i = 0; i < bound; i++) pool[i] = i;
    for (let i = 0; i < count; i++) {
      const j = i + this.nextInt(bound - i);
      const swap = pool[i];
      pool[i] = pool[j];
      pool[j] = swap;
    }
    return pool.slice(0, count);
  }

  /** An independent generator for sub-stream `stream` (e.g. one per tree), derived from this seed's state. */
  fork(stream: number): Random {
    return new Random(deriveSeed(this.nextUint32(), stream));
  }
}

/** A seed for sub-stream `stream` of `seed`, independent of how many numbers other streams drew. */
export function deriveSeed(seed: number, stream: number): number {
  let z = (seedToUint32(seed) ^ Math.imul(seedToUint32(stream) + 0x632be5ab, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d);
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotateLeft(value: number, shift: number): number {
  return (value << shift) | (value >>> (32 - shift));
}

/** Any finite number maps to 32 bits; seeds beyond 2^32 keep their high bits by folding them in. */
function seedToUint32(seed: number): number {
  if (!Number.isFinite(seed)) throw new errors.PW_USAGE(`seed must be a finite number, got ${seed}`);
  const integer = Math.trunc(seed);
  const low = integer >>> 0;
  const high = Math.floor(integer / 4294967296) >>> 0;
  return (low ^ Math.imul(high, 0x9e3779b1)) >>> 0;
}
