// What one push has seen, in bounded memory: for each key (or, in a table without a key, each row's
// content) the line it first appeared on and how often it came. About 40 bytes a distinct row, so ten
// million rows fit in 400 MB without holding a single key string.

/** A 53-bit and a 32-bit hash of a text: together 85 bits, so ten million keys collide with odds of 1e-12. */
export function hashText(text: string): { high: number; low: number } {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  let h3 = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
    h3 = Math.imul(h3 ^ code, 16777619);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  h3 = Math.imul(h3 ^ (h3 >>> 15), 2246822507);
  h3 ^= h3 >>> 13;
  return { high: 4294967296 * (2097151 & h2) + (h1 >>> 0), low: h3 >>> 0 };
}

export interface LedgerEntry {
  /** The line the row was first seen on. */
  firstLine: number;
  /** How many times it was seen before this one. */
  seen: number;
}

const EMPTY = -1;

export class RowLedger {
  private high: Float64Array;
  private low: Uint32Array;
  private lines: Float64Array;
  private counts: Uint32Array;
  private size = 0;

  constructor(capacity = 1 << 12) {
    this.high = new Float64Array(capacity).fill(EMPTY);
    this.low = new Uint32Array(capacity);
    this.lines = new Float64Array(capacity);
    this.counts = new Uint32Array(capacity);
  }

  get distinct(): number {
    return this.size;
  }

  /** Records one more sighting of `text` on `line`; says whether and where it was seen before. */
  see(text: string, line: number): LedgerEntry {
    const { high, low } = hashText(text);
    if ((this.size + 1) * 2 > this.high.length) this.grow();
    const slot = this.find(high, low);
    if (this.high[slot] === EMPTY) {
      this.high[slot] = high;
      this.low[slot] = low;
      this.lines[slot] = line;
      this.counts[slot] = 1;
      this.size++;
      return { firstLine: line, seen: 0 };
    }
    const seen = this.counts[slot];
    if (seen < 0xffffffff) this.counts[slot] = seen + 1;
    return { firstLine: this.lines[slot], seen };
  }

  private find(high: number, low: number): number {
    const mask = this.high.length - 1;
    let slot = (low ^ (high >>> 0)) & mask;
    while (this.high[slot] !== EMPTY && !(this.high[slot] === high && this.low[slot] === low)) {
      slot = (slot + 1) & mask;
    }
    return slot;
  }

  private grow(): void {
    const { high, low, lines, counts } = this;
    const capacity = high.length * 2;
    this.high = new Float64Array(capacity).fill(EMPTY);
    this.low = new Uint32Array(capacity);
    this.lines = new Float64Array(capacity);
    this.counts = new Uint32Array(capacity);
    for (let i = 0; i < high.length; i++) {
      if (high[i] === EMPTY) continue;
      const slot = this.find(high[i], low[i]);
      this.high[slot] = high[i];
      this.low[slot] = low[i];
      this.lines[slot] = lines[i];
      this.counts[slot] = counts[i];
    }
  }
}
