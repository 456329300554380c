// The table walk of tree-shap-table.ts as a WebAssembly module assembled here for one model: the same
// passes, the same float64 additions in the same order (so the same values, bit for bit), without the
// bounds checks of typed arrays. The model's splits, units, indices and tables are copied into the
// module's own memory once, when the explainer is made.
import type { TableWalk, TreeTables } from './tree-shap-table.js';
import {
  F64,
  I32,
  add,
  and,
  append,
  block,
  branchIf,
  call,
  encodeModule,
  end,
  f64,
  f64Add,
  f64Eq,
  f64Gt,
  geU,
  get,
  i32,
  load16,
  load32,
  loadF64,
  loop,
  ltU,
  mul,
  or,
  select,
  set,
  shl,
  shrU,
  store16,
  store32,
  storeF64,
  sub,
  tee,
  webAssembly,
  type Code,
  type ModuleFunction,
  type WasmApi,
} from '../wasm.js';

/** Bytes of one split's record: threshold (f64), then the addresses of its column, left and right mask slots, then its two bits. */
const SPLIT_BYTES = 24;
/** Bytes of one unit's record: its table's address, and its row's width in bytes. */
const UNIT_BYTES = 8;

/**
 * The walk's memory, regions 8-byte aligned and reserved in order: the row, its routed values (missing
 * as −∞, then as +∞) and the output first, in both forms of the walk.
 */
class WalkLayout {
  size = 0;
  readonly rowAt: number;
  readonly routedAt: number;
  readonly phiAt: number;

  constructor(features: number, columns: number) {
    this.rowAt = this.reserve(8 * Math.max(1, features));
    this.routedAt = this.reserve(16 * Math.max(1, features));
    this.phiAt = this.reserve(8 * columns);
  }

  /** The address of a new region of `bytes`. */
  reserve(bytes: number): number {
    const at = this.size;
    this.size += Math.ceil(bytes / 8) * 8;
    return at;
  }
}

/** How the walk is written: one loop per pass over arrays of the model, or the model's own straight-line code. */
export type WasmWalkForm = 'unrolled' | 'looped';

/**
 * The walk over `tables` in WebAssembly, or undefined where WebAssembly is missing or refuses the
 * module (the caller then walks in JavaScript). `unrolled` (tried first) writes the model into the code:
 * every split, unit and table read with its numbers as constants; `looped` (taken when the unrolled
 * module is refused, or `form` asks for it) reads them from memory.
 */
export function compileWasmTableWalk(
  tables: TreeTables,
  features: number,
  outputs: number,
  form?: WasmWalkForm,
): TableWalk | undefined {
  const wasm = webAssembly;
  if (!wasm) return undefined;
  const unrolled = form === 'looped' ? undefined : unrolledWalk(wasm, tables, features, outputs);
  return unrolled ?? (form === 'unrolled' ? undefined : loopedWalk(wasm, tables, features, outputs));
}

/** Copies the row and the output into the module's memory, walks, and copies the output back. */
function wrap(
  buffer: ArrayBuffer,
  rowAt: number,
  phiAt: number,
  features: number,
  columns: number,
  walk: () => void,
): TableWalk {
  const row = new Float64Array(buffer, rowAt, Math.max(1, features));
  const phi = new Float64Array(buffer, phiAt, columns);
  return (input, output) => {
    for (let f = 0; f < features; f++) row[f] = input[f];
    for (let q = 0; q < columns; q++) phi[q] = output[q];
    walk();
    for (let q = 0; q < columns; q++) output[q] = phi[q];
  };
}

/** The row's values with missing ones as −∞ (at routedAt), then as +∞ (features further). */
function routeCode(features: number, rowAt: number, routedAt: number, pointer: number, value: number): Code {
  if (features === 0) return [];
  // prettier-ignore
  return [
    i32(0), set(pointer),
    loop,
    get(pointer), loadF64(rowAt), set(value),
    get(pointer), get(value), f64(-Infinity), get(value), get(value), f64Eq, select, storeF64(routedAt),
    get(pointer), get(value), f64(Infinity), get(value), get(value), f64Eq, select, storeF64(routedAt + 8 * features),
    get(pointer), i32(8), add, tee(pointer), i32(8 * features), ltU, branchIf(0),
    end,
  ].flat();
}

/** Splits per function of the unrolled walk, and table reads per function: small functions compile fast. */
const SPLITS_PER_FUNCTION = 1000;
const READS_PER_FUNCTION = 2000;
/** The most code the unrolled walk may take; a larger model walks in loops. */
const MOST_UNROLLED_BYTES = 8 << 20;

/**
 * The unrolled walk. Memory: the row, the routed row, the output, two sums per output column, the
 * table. Each function takes whole trees: it compares the routed row with each split's threshold (a
 * constant) and sets the children's masks, locals of the function, as the looped walk sets its slots;
 * then it adds each of those trees' units' selected rows to the sums of its columns, also locals,
 * unit after unit. Each column's sums get their numbers in the looped walk's order (its entries
 * alternate between the two sums, units in order), so the values are the same, bit for bit.
 */
function unrolledWalk(
  wasm: WasmApi,
  tables: TreeTables,
  features: number,
  outputs: number,
): TableWalk | undefined {
  const columns = outputs * features;
  const splits = tables.splitColumn.length;
  const units = tables.units;
  const layout = new WalkLayout(features, columns);
  const { rowAt, routedAt, phiAt } = layout;
  const reserve = (bytes: number): number => layout.reserve(bytes);
  const sumsAt = reserve(16 * columns);
  const tableAt = reserve(8 * tables.table.length);
  if (layout.size > 2 ** 31) return undefined;

  // the sum each number of a unit's row goes to: 2q for column q's even entries, 2q + 1 for its odd ones
  const firstRead = new Int32Array(units + 1);
  for (let u = 0; u < units; u++) firstRead[u + 1] = firstRead[u] + tables.unitWidth[u];
  const sumOf = new Int32Array(firstRead[units]);
  for (let q = 0; q < columns; q++) {
    for (let e = tables.entryStart[q]; e < tables.entryStart[q + 1]; e++) {
      const entry = tables.entries[e];
      sumOf[firstRead[entry >> 4] + (entry & 15)] = 2 * q + ((e - tables.entryStart[q]) & 1);
    }
  }
  const shiftOf = (bit: number): number => (bit === 0 ? -1 : Math.log2(bit));

  // the split that writes each slot; a split whose slot nobody writes is a tree's root
  const writer = new Int32Array(tables.slots).fill(-1);
  for (let k = 0; k < splits; k++) {
    writer[tables.splitRight[k]] = k;
    writer[tables.splitLeft[k]] = k;
  }
  const functions: ModuleFunction[] = [];
  let bytes = 0;
  // locals: the side, a unit's row address, the sums, then one mask per slot of the function's trees
  const [right, address] = [0, 1];
  const sumLocal = (sum: number): number => 2 + sum;
  const firstMaskLocal = 2 + 2 * columns;
  let k = 0;
  let u = 0;
  while (k < splits || u < units) {
    const body: Code = [];
    const used = new Uint8Array(2 * columns);
    const maskLocal = new Map<number, number>();
    const maskOf = (slot: number): number => {
      let local = maskLocal.get(slot);
      if (local === undefined) {
        local = firstMaskLocal + maskLocal.size;
        maskLocal.set(slot, local);
      }
      return local;
    };
    let reads = 0;
    const firstSplit = k;
    // whole trees: their splits, then the units their splits write, until the function is long enough
    while ((k < splits || u < units) && k - firstSplit < SPLITS_PER_FUNCTION && reads < READS_PER_FUNCTION) {
      const treeEnd = k < splits ? nextRoot(writer, k, splits) : splits;
      for (; k < treeEnd; k++) {
        const leftShift = shiftOf(tables.splitLeftBit[k]);
        const rightShift = shiftOf(tables.splitRightBit[k]);
        if (!Number.isInteger(leftShift) || !Number.isInteger(rightShift)) return undefined;
        const leftSlot = tables.splitLeft[k];
        const rightSlot = tables.splitRight[k];
        const mask = maskOf(k);
        append(body, [0x41, 0, ...loadF64(routedAt + 8 * tables.splitColumn[k])]);
        append(body, f64(tables.splitThreshold[k]));
        append(body, [...f64Gt, ...set(right)]);
        // the right child's mask, then the left one's (one slot for both: the left one's is kept)
        if (rightSlot !== leftSlot) {
          append(body, get(mask));
          if (rightShift >= 0)
            append(body, [...get(right), 0x41, 1, 0x73, ...i32(rightShift), ...shl, ...or]);
          append(body, set(maskOf(rightSlot)));
        }
        append(body, get(mask));
        if (leftShift >= 0) append(body, [...get(right), ...i32(leftShift), ...shl, ...or]);
        append(body, set(maskOf(leftSlot)));
      }
      for (; u < units; u++) {
        const slot = tables.firstUnitSlot + u;
        const width = tables.unitWidth[u];
        if (width === 0) continue;
        // a unit written by a later tree's split waits for that tree
        if (writer[slot] >= treeEnd) break;
        reads += width;
        append(body, [...get(maskOf(slot)), ...i32(8 * width), ...mul, ...set(address)]);
        for (let j = 0; j < width; j++) {
          const sum = sumOf[firstRead[u] + j];
          used[sum] = 1;
          append(body, [...get(sumLocal(sum)), ...get(address)]);
          append(body, loadF64(tableAt + 8 * (tables.unitTable[u] + j)));
          append(body, [...f64Add, ...set(sumLocal(sum))]);
        }
      }
    }
    // the sums come in from memory and go back to it around the function's reads
    const code: Code = [];
    for (let sum = 0; sum < 2 * columns; sum++)
      if (used[sum] === 1) append(code, [0x41, 0, ...loadF64(sumsAt + 8 * sum), ...set(sumLocal(sum))]);
    append(code, body);
    for (let sum = 0; sum < 2 * columns; sum++)
      if (used[sum] === 1) append(code, [0x41, 0, ...get(sumLocal(sum)), ...storeF64(sumsAt + 8 * sum)]);
    bytes += code.length;
    if (bytes > MOST_UNROLLED_BYTES) return undefined;
    functions.push({
      params: [],
      results: [],
      locals: [
        I32,
        I32,
        ...new Array<number>(2 * columns).fill(F64),
        ...new Array<number>(maskLocal.size).fill(I32),
      ],
      body: code,
    });
  }
  // the walk: sums to 0, the routed row, every function in order, then output += even + odd
  const walk: Code = [];
  for (let sum = 0; sum < 2 * columns; sum++)
    append(walk, [0x41, 0, ...f64(0), ...storeF64(sumsAt + 8 * sum)]);
  append(walk, routeCode(features, rowAt, routedAt, 0, 1));
  for (let index = 0; index < functions.length; index++) append(walk, call(index));
  for (let q = 0; q < columns; q++) {
    append(walk, [0x41, 0, 0x41, 0, ...loadF64(phiAt + 8 * q)]);
    append(walk, [0x41, 0, ...loadF64(sumsAt + 16 * q), 0x41, 0, ...loadF64(sumsAt + 16 * q + 8)]);
    append(walk, [...f64Add, ...f64Add, ...storeF64(phiAt + 8 * q)]);
  }
  functions.push({ name: 'walk', params: [], results: [], locals: [I32, F64], body: walk });

  let memory: { readonly buffer: ArrayBuffer };
  let run: () => void;
  try {
    const pages = Math.max(1, Math.ceil(layout.size / 65536));
    memory = new wasm.Memory({ initial: pages, maximum: pages });
    const module = new wasm.Module(encodeModule(functions, { shared: false }));
    run = new wasm.Instance(module, { env: { memory } }).exports.walk as () => void;
  } catch {
    return undefined;
  }
  new Float64Array(memory.buffer, tableAt, tables.table.length).set(tables.table);
  return wrap(memory.buffer, rowAt, phiAt, features, columns, run);
}

/** The first split from `k + 1` on that starts a tree (nobody writes its slot), or `splits`. */
function nextRoot(writer: Int32Array, k: number, splits: number): number {
  let next = k + 1;
  while (next < splits && writer[next] >= 0) next++;
  return next;
}

/**
 * The looped walk. The layout of its memory, every region 8-byte aligned: the row, the routed row
 * (missing as −∞, then as +∞), the output, the split records, the units' records, the mask slots, the
 * units' selected rows (addresses), the columns' entry ranges (addresses), the entries ((unit · 4) << 7 |
 * column · 8: the unit's selected row's address offset and the number's byte offset in it), and the
 * table.
 */
function loopedWalk(
  wasm: WasmApi,
  tables: TreeTables,
  features: number,
  outputs: number,
): TableWalk | undefined {
  const columns = outputs * features;
  const splits = tables.splitColumn.length;
  const units = tables.units;
  const entryCount = tables.entryStart[columns];
  // entries pack a unit as (unit · 4) << 7 into 32 bits
  if (units >= 1 << 23) return undefined;
  const layout = new WalkLayout(features, columns);
  const { rowAt, routedAt, phiAt } = layout;
  const reserve = (bytes: number): number => layout.reserve(bytes);
  const splitsAt = reserve(SPLIT_BYTES * splits);
  const unitsAt = reserve(UNIT_BYTES * units);
  const masksAt = reserve(2 * tables.slots);
  const unitRowAt = reserve(4 * units);
  const entryStartAt = reserve(4 * (columns + 1));
  const entriesAt = reserve(4 * entryCount);
  const tableAt = reserve(8 * tables.table.length);
  if (layout.size > 2 ** 31) return undefined;

  let memory: { readonly buffer: ArrayBuffer };
  let walk: () => void;
  try {
    const pages = Math.max(1, Math.ceil(layout.size / 65536));
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

  return wrap(buffer, rowAt, phiAt, features, columns, walk);
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
  const route = routeCode(features, at.rowAt, at.routedAt, pointer, value);
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
    [
      {
        name: 'walk',
        params: [],
        results: [],
        locals: [I32, I32, I32, I32, I32, I32, I32, I32, F64, F64, F64],
        body: [...route, ...[...passSplits, ...passUnits, ...passColumns].flat()],
      },
    ],
    { shared: false },
  );
}
