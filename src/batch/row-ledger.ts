// What one push has seen, in bounded memory: for each key (or, in a table without a key, each row's
// content) the line it first appeared on and how often it came. About 22 bytes a distinct row (17 in
// fixed-size blocks that never move, 4 to 8 in the hash index), so ten million rows fit in about 250 MB.

/** Three 32-bit hashes of a text, 96 bits together: ten million keys collide with odds of 1e-15. */
export function hashText(text: string): [number, number, number] {
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
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0];
}

export interface LedgerEntry {
  /** The line the row was first seen on. */
  firstLine: number;
  /** How many times it was seen before this one. */
  seen: number;
}

/** Entries per block: blocks are allocated as the ledger fills and never copied. */
const BLOCK_BITS = 16;
const BLOCK_SIZE = 1 << BLOCK_BITS;
const BLOCK_MASK = BLOCK_SIZE - 1;
/** Sightings counted in a byte; a row seen more often keeps its count in a small map. */
const COUNT_SATURATED = 0xff;

/** One block of entries, in the order the rows first appeared. */
interface Block {
  /** Three words of hash per entry. */
  hashes: Uint32Array;
  lines: Uint32Array;
  /** Sightings so far, up to COUNT_SATURATED (then in `RowLedger.manySightings`). */
  counts: Uint8Array;
}

export class RowLedger {
  /** Open addressing with linear probing: entry number + 1, or 0 for an empty slot. */
  private index: Uint32Array;
  private readonly blocks: Block[] = [];
  private readonly manySightings = new Map<number, number>();
  private size = 0;

  constructor(capacity = 1 << 12) {
    let slots = 16;
    while (slots < capacity) slots *= 2;
    this.index = new Uint32Array(slots);
  }

  get distinct(): number {
    return this.size;
  }

  /** Records one more sighting of `text` on `line`; says whether and where it was seen before. */
  see(text: string, line: number): LedgerEntry {
    const [h1, h2, h3] = hashText(text);
    // Grown at three quarters full: linear probing stays short, the index stays 4 to 8 bytes a row.
    if ((this.size + 1) * 4 > this.index.length * 3) this.grow();
    const mask = this.index.length - 1;
    let slot = (h1 ^ h3) & mask;
    for (;;) {
      const held = this.index[slot];
      if (held === 0) break;
      const entry = held - 1;
      const block = this.blocks[entry >>> BLOCK_BITS];
      const offset = entry & BLOCK_MASK;
      const at = offset * 3;
      if (block.hashes[at] === h1 && block.hashes[at + 1] === h2 && block.hashes[at + 2] === h3) {
        const firstLine = block.lines[offset];
        let seen = block.counts[offset];
        if (seen < COUNT_SATURATED - 1) block.counts[offset] = seen + 1;
        else {
          block.counts[offset] = COUNT_SATURATED;
          seen = this.manySightings.get(entry) ?? seen;
          if (seen < 0xffffffff) this.manySightings.set(entry, seen + 1);
        }
        return { firstLine, seen };
      }
      slot = (slot + 1) & mask;
    }
    const entry = this.size++;
    if ((entry & BLOCK_MASK) === 0) {
      this.blocks.push({
        hashes: new Uint32Array(BLOCK_SIZE * 3),
        lines: new Uint32Array(BLOCK_SIZE),
        counts: new Uint8Array(BLOCK_SIZE),
      });
    }
    const block = this.blocks[entry >>> BLOCK_BITS];
    const offset = entry & BLOCK_MASK;
    block.hashes[offset * 3] = h1;
    block.hashes[offset * 3 + 1] = h2;
    block.hashes[offset * 3 + 2] = h3;
    // Line numbers beyond 2^32 - 1 (a file of some 400 GB) are remembered as that number.
    block.lines[offset] = Math.min(line, 0xffffffff);
    block.counts[offset] = 1;
    this.index[slot] = entry + 1;
    return { firstLine: line, seen: 0 };
  }

  /** Doubles the index; only the slots move, the entries stay where they are. */
  private grow(): void {
    const index = new Uint32Array(this.index.length * 2);
    const mask = index.length - 1;
    for (let entry = 0; entry < this.size; entry++) {
      const at = (entry & BLOCK_MASK) * 3;
      const hashes = this.blocks[entry >>> BLOCK_BITS].hashes;
      let slot = (hashes[at] ^ hashes[at + 2]) & mask;
      while (index[slot] !== 0) slot = (slot + 1) & mask;
      index[slot] = entry + 1;
    }
    this.index = index;
  }
}

/** Notes per block of a KeyLedger's rising keys (2^NOTE_BITS). */
const NOTE_BITS = 16;
const NOTE_MASK = (1 << NOTE_BITS) - 1;

/**
 * A RowLedger for a table's keys, which often come as rising numbers (an export sorted by its key): while
 * each key is a number above every one before it, none can be a repeat, so it is only noted (its number
 * and line, 12 bytes, in blocks that never move) instead of hashed into the index; the first key out of
 * that order builds the index from the notes, and every key after it goes through the index. The same
 * answers as a RowLedger that saw each key's text (`String(key)` for a number).
 */
export class KeyLedger {
  private ledger: RowLedger | undefined;
  private last = -Infinity;
  private readonly keys: Float64Array[] = [];
  private readonly lines: Uint32Array[] = [];
  private noted = 0;

  /** Records one more sighting of `key` (its text `text`) on `line`; says whether and where it was seen before. */
  see(key: unknown, text: string, line: number): LedgerEntry {
    if (this.ledger) return this.ledger.see(text, line);
    if (typeof key === 'number' && key > this.last) {
      this.last = key;
      const offset = this.noted & NOTE_MASK;
      if (offset === 0) {
        this.keys.push(new Float64Array(NOTE_MASK + 1));
        this.lines.push(new Uint32Array(NOTE_MASK + 1));
      }
      const block = this.noted >>> NOTE_BITS;
      this.keys[block][offset] = key;
      // as RowLedger remembers lines: beyond 2^32 - 1, that number
      this.lines[block][offset] = Math.min(line, 0xffffffff);
      this.noted++;
      return { firstLine: line, seen: 0 };
    }
    const ledger = new RowLedger(this.noted + 1);
    for (let i = 0; i < this.noted; i++)
      ledger.see(
        String(this.keys[i >>> NOTE_BITS][i & NOTE_MASK]),
        this.lines[i >>> NOTE_BITS][i & NOTE_MASK],
      );
    this.keys.length = 0;
    this.lines.length = 0;
    this.ledger = ledger;
    return ledger.see(text, line);
  }
}
