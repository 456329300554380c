// The table walk of tree-shap-table.ts as a WebAssembly module assembled here for one model: the same
// passes, the same float64 additions in the same order (so the same values, bit for bit), without the
// bounds checks of typed arrays. The model's splits, units, indices and tables are copied into the
// module's own memory once, when the explainer is made.
import type { TableWalk, TreeTables } from './tree-shap-table.js';

/** The parts of the WebAssembly API used here (the project's TypeScript settings carry no WebAssembly types). */
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number }) => { readonly buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (
    module: object,
    imports: Record<string, Record<string, unknown>>,
  ) => { exports: Record<string, unknown> };
}

// ---- a minimal WebAssembly encoder: just what the walk uses
const I32 = 0x7f;
const F64 = 0x7c;
type Code = number[];

function unsignedLeb(value: number): Code {
  const out: Code = [];
  let rest = value >>> 0;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    out.push(byte);
  } while (rest !== 0);
  return out;
}

function signedLeb(value: number): Code {
  const out: Code = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    if ((rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const vector = (items: Code[]): Code => [...unsignedLeb(items.length), ...items.flat()];
const section = (id: number, content: Code): Code => [id, ...unsignedLeb(content.length), ...content];
const name = (text: string): Code => vector([...Buffer.from(text, 'utf8')].map((byte) => [byte]));

const get = (local: number): Code => [0x20, ...unsignedLeb(local)];
const set = (local: number): Code => [0x21, ...unsignedLeb(local)];
const tee = (local: number): Code => [0x22, ...unsignedLeb(local)];
const i32 = (value: number): Code => [0x41, ...signedLeb(value)];
const f64 = (value: number): Code => [0x44, ...new Uint8Array(new Float64Array([value]).buffer)];
const add = [0x6a];
const sub = [0x6b];
const mul = [0x6c];
const and = [0x71];
const or = [0x72];
const shl = [0x74];
const shrU = [0x76];
const ltU = [0x49];
const geU = [0x4f];
const f64Eq = [0x61];
const f64Gt = [0x64];
const f64Add = [0xa0];
const select = [0x1b];
const load32 = (offset = 0): Code => [0x28, 2, ...unsignedLeb(offset)];
const load16 = (offset = 0): Code => [0x2f, 1, ...unsignedLeb(offset)];
const store32 = (offset = 0): Code => [0x36, 2, ...unsignedLeb(offset)];
const store16 = (offset = 0): Code => [0x3b, 1, ...unsignedLeb(offset)];
const loadF64 = (offset = 0): Code => [0x2b, 3, ...unsignedLeb(offset)];
const storeF64 = (offset = 0): Code => [0x39, 3, ...unsignedLeb(offset)];
const block = [0x02, 0x40];
const loop = [0x03, 0x40];
const end = [0x0b];
const branchIf = (depth: number): Code => [0x0d, ...unsignedLeb(depth)];

/** A module importing env.memory (not shared) and exporting one function `walk` of no arguments. */
function encodeModule(locals: number[], body: Code[]): Uint8Array {
  const localCode = vector(locals.map((type) => [1, type]));
  const code = [...localCode, ...body.flat(), ...end];
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector([[0x60, 0x00, 0x00]])),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, ...unsignedLeb(1)]])),
    ...section(3, vector([unsignedLeb(0)])),
    ...section(7, vector([[...name('walk'), 0x00, 0x00]])),
    ...section(10, vector([[...unsignedLeb(code.length), ...code]])),
  ];
  return Uint8Array.from(bytes);
}

/** Bytes of one split's record: threshold (f64), then the addresses of its column, left and right mask slots, then its two bits. */
const SPLIT_BYTES = 24;
/** Bytes of one unit's record: its table's address, and its row's width in bytes. */
const UNIT_BYTES = 8;

/**
 * The walk over `tables` in WebAssembly, or undefined where WebAssembly is missing or refuses the
 * module (the caller then walks in JavaScript). The layout of its memory, every region 8-byte aligned:
 * the row, the routed row (missing as −∞, then as +∞), the output, the split records, the units'
 * records, the mask slots, the units' selected rows (addresses), the columns' entry ranges (addresses),
 * the entries ((unit · 4) << 7 | column · 8: the unit's selected row's address offset and the number's
 * byte offset in it), and the table.
 */
export function compileWasmTableWalk(
  tables: TreeTables,
  features: number,
  outputs: number,
): TableWalk | undefined {
  const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (!wasm) return undefined;
  const columns = outputs * features;
  const splits = tables.splitColumn.length;
  const units = tables.units;
  const entryCount = tables.entryStart[columns];
  // entries pack a unit as (unit · 4) << 7 into 32 bits
  if (units >= 1 << 23) return undefined;
  let size = 0;
  const reserve = (bytes: number): number => {
    const at = size;
    size += Math.ceil(bytes / 8) * 8;
    return at;
  };
  const rowAt = reserve(8 * Math.max(1, features));
  const routedAt = reserve(16 * Math.max(1, features));
  const phiAt = reserve(8 * columns);
  const splitsAt = reserve(SPLIT_BYTES * splits);
  const unitsAt = reserve(UNIT_BYTES * units);
  const masksAt = reserve(2 * tables.slots);
  const unitRowAt = reserve(4 * units);
  const entryStartAt = reserve(4 * (columns + 1));
  const entriesAt = reserve(4 * entryCount);
  const tableAt = reserve(8 * tables.table.length);
  if (size > 2 ** 31) return undefined;

  let memory: { readonly buffer: ArrayBuffer };
  let walk: () => void;
  try {
    const pages = Math.max(1, Math.ceil(size / 65536));
    memory = new wasm.Memory({ initial: pages, maximum: pages });
    const module = new wasm.Module(
      walkCode(
        { features, columns, splits, units, firstUnitSlot: tables.firstUnitSlot },
        { rowAt, routedAt, phiAt, splitsAt, unitsAt, masksAt, unitRowAt, entryStartAt, entriesAt },
      ),
    );
    walk = new wasm.Instance(module, { env: { memory } }).exports.walk as () => void;
  } catch {
    return undefined;
  }
  const buffer = memory.buffer;
  const view = new DataView(buffer);
  for (let k = 0; k < splits; k++) {
    const at = splitsAt + k * SPLIT_BYTES;
    view.setFloat64(at, tables.splitThreshold[k], true);
    view.setInt32(at + 8, routedAt + 8 * tables.splitColumn[k], true);
    view.setInt32(at + 12, masksAt + 2 * tables.splitLeft[k], true);
    view.setInt32(at + 16, masksAt + 2 * tables.splitRight[k], true);
    view.setUint16(at + 20, tables.splitLeftBit[k], true);
    view.setUint16(at + 22, tables.splitRightBit[k], true);
  }
  for (let u = 0; u < units; u++) {
    const at = unitsAt + u * UNIT_BYTES;
    view.setInt32(at, tableAt + 8 * tables.unitTable[u], true);
    view.setInt32(at + 4, 8 * tables.unitWidth[u], true);
  }
  const entryStart = new Int32Array(buffer, entryStartAt, columns + 1);
  for (let q = 0; q <= columns; q++) entryStart[q] = entriesAt + 4 * tables.entryStart[q];
  const entries = new Int32Array(buffer, entriesAt, entryCount);
  for (let e = 0; e < entryCount; e++) {
    const entry = tables.entries[e];
    entries[e] = (((entry >> 4) * 4) << 7) | ((entry & 15) * 8);
  }
  new Float64Array(buffer, tableAt, tables.table.length).set(tables.table);

  const row = new Float64Array(buffer, rowAt, Math.max(1, features));
  const phi = new Float64Array(buffer, phiAt, columns);
  return (input, output) => {
    for (let f = 0; f < features; f++) row[f] = input[f];
    for (let q = 0; q < columns; q++) phi[q] = output[q];
    walk();
    for (let q = 0; q < columns; q++) output[q] = phi[q];
  };
}

interface Sizes {
  features: number;
  columns: number;
  splits: number;
  units: number;
  firstUnitSlot: number;
}

interface Addresses {
  rowAt: number;
  routedAt: number;
  phiAt: number;
  splitsAt: number;
  unitsAt: number;
  masksAt: number;
  unitRowAt: number;
  entryStartAt: number;
  entriesAt: number;
}

/** The walk's code, with the model's sizes and addresses as constants. */
function walkCode(sizes: Sizes, at: Addresses): Uint8Array {
  const { features, columns, splits, units } = sizes;
  const [pointer, stop, mask, right, slot, entry, address, last] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [value, even, odd] = [8, 9, 10];
  // the number an entry selects: f64 at unitRow[entry >> 7 / 4] + (entry & 127)
  const selected = (local: number): Code[] => [
    get(local),
    i32(7),
    shrU,
    load32(at.unitRowAt),
    get(local),
    i32(127),
    and,
    add,
    loadF64(),
  ];
  // prettier-ignore
  const route: Code[] = features === 0 ? [] : [
    i32(0), set(pointer),
    loop,
    get(pointer), loadF64(at.rowAt), set(value),
    get(pointer), get(value), f64(-Infinity), get(value), get(value), f64Eq, select, storeF64(at.routedAt),
    get(pointer), get(value), f64(Infinity), get(value), get(value), f64Eq, select, storeF64(at.routedAt + 8 * features),
    get(pointer), i32(8), add, tee(pointer), i32(8 * features), ltU, branchIf(0),
    end,
  ];
  // per split: right = routed[column] > threshold; masks[right slot] = mask | (rightBit & (right − 1)),
  // then masks[left slot] = mask | (leftBit & −right), as the JavaScript walk, in the same order
  // prettier-ignore
  const passSplits: Code[] = splits === 0 ? [] : [
    i32(at.splitsAt), set(pointer),
    i32(at.masksAt), set(slot),
    i32(at.splitsAt + SPLIT_BYTES * splits), set(stop),
    loop,
    get(pointer), load32(8), loadF64(), get(pointer), loadF64(), f64Gt, set(right),
    get(slot), load16(), set(mask),
    get(pointer), load32(16), get(mask), get(pointer), load16(22), get(right), i32(1), sub, and, or, store16(),
    get(pointer), load32(12), get(mask), get(pointer), load16(20), i32(0), get(right), sub, and, or, store16(),
    get(slot), i32(2), add, set(slot),
    get(pointer), i32(SPLIT_BYTES), add, tee(pointer), get(stop), ltU, branchIf(0),
    end,
  ];
  // per unit: its selected row's address, table + mask · width
  // prettier-ignore
  const passUnits: Code[] = units === 0 ? [] : [
    i32(0), set(pointer),
    loop,
    get(pointer), i32(2), shl,
    get(pointer), i32(3), shl, tee(address), load32(at.unitsAt),
    get(pointer), i32(1), shl, load16(at.masksAt + 2 * sizes.firstUnitSlot),
    get(address), load32(at.unitsAt + 4), mul, add,
    store32(at.unitRowAt),
    get(pointer), i32(1), add, tee(pointer), i32(units), ltU, branchIf(0),
    end,
  ];
  // per output column: its entries summed in two alternating sums, added to the output
  // prettier-ignore
  const passColumns: Code[] = columns === 0 ? [] : [
    i32(0), set(slot),
    loop,
    f64(0), set(even),
    f64(0), set(odd),
    get(slot), i32(2), shl, tee(address), load32(at.entryStartAt), set(pointer),
    get(address), load32(at.entryStartAt + 4), set(stop),
    block,
    get(pointer), i32(4), add, get(stop), geU, branchIf(0),
    loop,
    get(pointer), load32(), set(entry),
    get(pointer), load32(4), set(last),
    get(even), ...selected(entry), f64Add, set(even),
    get(odd), ...selected(last), f64Add, set(odd),
    get(pointer), i32(8), add, tee(pointer), i32(4), add, get(stop), ltU, branchIf(0),
    end,
    end,
    block,
    get(pointer), get(stop), geU, branchIf(0),
    get(pointer), load32(), set(entry),
    get(even), ...selected(entry), f64Add, set(even),
    end,
    get(slot), i32(3), shl, tee(address),
    get(address), loadF64(at.phiAt), get(even), get(odd), f64Add, f64Add,
    storeF64(at.phiAt),
    get(slot), i32(1), add, tee(slot), i32(columns), ltU, branchIf(0),
    end,
  ];
  return encodeModule(
    [I32, I32, I32, I32, I32, I32, I32, I32, F64, F64, F64],
    [...route, ...passSplits, ...passUnits, ...passColumns],
  );
}
