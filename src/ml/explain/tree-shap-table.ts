// The precomputed tables of TreeSHAP's default method (after Fast TreeSHAP v2, Yang 2021): what every
// small subtree adds to each feature's SHAP value, for every way a row can relate to it, so a row costs
// one table row per subtree. Built once per explained model; read by TreeShap's table walk.
import { compileWasmTableWalk } from './table-walk-wasm.js';
import { gaussLegendre } from './tree-shap-path.js';

/** The trees a table may replace, as TreeShap holds them (children in pairs, the right one after the left). */
export interface TableTrees {
  trees: number;
  roots: Int32Array;
  feature: Int32Array;
  value: Float64Array;
  missingLeft: Uint8Array;
  left: Int32Array;
  /** Per internal node, the share of its training cover that goes left. */
  leftShare: Float64Array;
  features: number;
  outputs: number;
  scale: number;
}

/**
 * The table walk's arrays. Pass one visits every internal node of the tabled trees (parents before
 * children); node k reads its mask from slot k and writes its children's: slot splitRight[k] gets the
 * mask plus splitRightBit[k] if the row goes left, then slot splitLeft[k] gets it plus splitLeftBit[k] if
 * the row goes right. A node reads the row at splitColumn[k]: its feature with missing values as −∞, or,
 * `features` further, as +∞ (the side its missing values take). Pass two: unit u reads its mask from slot
 * firstUnitSlot + u and selects row mask of its table (unitWidth[u] numbers from unitTable[u] + mask ·
 * width); output column q (o · features + f) sums, for its entries e from entryStart[q], column
 * entries[e] & 15 of unit entries[e] >> 4's row. Index arrays are as narrow as their values allow: the
 * fewer bytes a row reads besides the table, the fewer cache misses for a request in a busy server.
 */
export interface TreeTables {
  /** Per tree, whether the tables cover it (the others are explained per row). */
  tabled: Uint8Array;
  splitColumn: IndexArray;
  splitThreshold: Float64Array;
  splitLeft: IndexArray;
  splitRight: IndexArray;
  splitLeftBit: Uint16Array;
  splitRightBit: Uint16Array;
  /** Slots for masks: the splits', then the units', and spare ones nobody reads. */
  slots: number;
  firstUnitSlot: number;
  units: number;
  unitTable: Int32Array;
  unitWidth: Uint8Array;
  entryStart: Int32Array;
  entries: IndexArray;
  table: Float64Array;
}

/** Indices, in the narrowest of these their largest value fits. */
export type IndexArray = Uint8Array | Uint16Array | Int32Array;

function narrowest(values: ArrayLike<number>, largest: number): IndexArray {
  if (largest <= 0xff) return Uint8Array.from(values);
  if (largest <= 0xffff) return Uint16Array.from(values);
  return Int32Array.from(values);
}

/** A unit's table has 2^bits rows: no more bits, and no more than this many columns, per unit. */
export const MOST_TABLE_BITS = 16;
/**
 * A subtree with at most this many splits becomes one unit: its table is indexed by the path features
 * above it and by the side the row takes at each of its splits, and adds up all its leaves. Fewer,
 * wider units mean fewer table reads per row; past 2 the tables grow faster than the reads shrink.
 */
export const MERGED_SPLITS = 3;

interface Unit {
  tree: number;
  root: number;
  /** Distinct path features above the unit's root, by bit position, with their share of covered rows. */
  above: number[];
  aboveZero: number[];
  /** The unit's internal nodes, depth-first, parents first: bit above.length + i is node i's side. */
  chain: number[];
  /** The features the unit's row adds to: `above`, then the ones first split on inside it. */
  columns: number[];
}

/**
 * Plans and fills the tables of `trees`, tree by tree while `budget` numbers last; a tree with a path of
 * more than MOST_TABLE_BITS distinct features, or a split on a non-finite threshold (the walk compares
 * ±∞ with it), is left out.
 */
export function buildTables(trees: TableTrees, budget: number): TreeTables {
  const { feature, left, value } = trees;
  const splits: number[] = [];
  /** Per split: its children's slots (a unit's slot as −(unit + 1) until the split count is known) and bits. */
  const toLeft: number[] = [];
  const toRight: number[] = [];
  const leftBits: number[] = [];
  const rightBits: number[] = [];
  const units: Unit[] = [];
  const tabled = new Uint8Array(trees.trees);
  let numbers = 0;

  const internalsOf = (node: number): number =>
    left[node] < 0 ? 0 : 1 + internalsOf(left[node]) + internalsOf(left[node] + 1);
  const featuresBelow = (node: number, into: number[]): void => {
    if (left[node] < 0) return;
    if (!into.includes(feature[node])) into.push(feature[node]);
    featuresBelow(left[node], into);
    featuresBelow(left[node] + 1, into);
  };
  const finite = (node: number): boolean =>
    left[node] < 0 || (Number.isFinite(value[node]) && finite(left[node]) && finite(left[node] + 1));

  for (let t = 0; t < trees.trees && budget >= 0; t++) {
    const root = trees.roots[t];
    if (!finite(root)) continue;
    const planned = { splits: splits.length, units: units.length };
    let size = 0;
    /** Plans the subtree at `node`; returns the slot its parent writes (−(unit + 1) for a unit of no split). */
    const plan = (node: number, above: number[], zeros: number[]): number | undefined => {
      const inside = internalsOf(node);
      if (inside <= MERGED_SPLITS && above.length + inside <= MOST_TABLE_BITS) {
        const columns = [...above];
        featuresBelow(node, columns);
        if (columns.length <= MOST_TABLE_BITS) {
          const chain: number[] = [];
          const collect = (at: number): void => {
            if (left[at] < 0) return;
            chain.push(at);
            collect(left[at]);
            collect(left[at] + 1);
          };
          collect(node);
          const unit = units.length;
          units.push({ tree: t, root: node, above: [...above], aboveZero: [...zeros], chain, columns });
          if (columns.length > 0) size += 2 ** (above.length + chain.length) * columns.length;
          // the chain's splits hand the mask down one to the next, the last one to the unit
          chain.forEach((at, i) => {
            splits.push(at);
            const next = i + 1 < chain.length ? splits.length : -(unit + 1);
            toLeft.push(next);
            toRight.push(next);
            leftBits.push(1 << (above.length + i));
            rightBits.push(0);
          });
          return chain.length > 0 ? splits.length - chain.length : -(unit + 1);
        }
      }
      if (left[node] < 0) return undefined;
      const split = feature[node];
      let position = above.indexOf(split);
      const fresh = position < 0;
      if (fresh) {
        position = above.length;
        above.push(split);
        zeros.push(1);
      }
      if (position >= MOST_TABLE_BITS) return undefined;
      const k = splits.length;
      splits.push(node);
      toLeft.push(0);
      toRight.push(0);
      leftBits.push(1 << position);
      rightBits.push(1 << position);
      const zero = zeros[position];
      zeros[position] = zero * trees.leftShare[node];
      const leftSlot = plan(left[node], above, zeros);
      zeros[position] = zero * (1 - trees.leftShare[node]);
      const rightSlot = leftSlot === undefined ? undefined : plan(left[node] + 1, above, zeros);
      zeros[position] = zero;
      if (fresh) {
        above.pop();
        zeros.pop();
      }
      if (leftSlot === undefined || rightSlot === undefined) return undefined;
      toLeft[k] = leftSlot;
      toRight[k] = rightSlot;
      return k;
    };
    const fits = plan(root, [], []) !== undefined && numbers + size <= budget;
    if (!fits) {
      splits.length = toLeft.length = toRight.length = leftBits.length = rightBits.length = planned.splits;
      units.length = planned.units;
      continue;
    }
    tabled[t] = 1;
    numbers += size;
  }

  const internals = splits.length;
  const slotOf = (slot: number): number => (slot < 0 ? internals - slot - 1 : slot);
  const features = trees.features;
  const unitTable = new Int32Array(units.length);
  const unitWidth = new Uint8Array(units.length);
  const table = new Float64Array(numbers);
  let at = 0;
  units.forEach((unit, u) => {
    unitTable[u] = at;
    unitWidth[u] = unit.columns.length;
    if (unit.columns.length > 0) at = fillUnit(trees, unit, table, at);
  });
  const columns = trees.outputs * features;
  const entryStart = new Int32Array(columns + 1);
  for (const unit of units)
    for (const f of unit.columns) entryStart[(unit.tree % trees.outputs) * features + f + 1]++;
  for (let q = 0; q < columns; q++) entryStart[q + 1] += entryStart[q];
  const packed = new Int32Array(entryStart[columns]);
  const filled = entryStart.slice(0, columns);
  units.forEach((unit, u) => {
    unit.columns.forEach((f, j) => {
      packed[filled[(unit.tree % trees.outputs) * features + f]++] = (u << 4) | j;
    });
  });
  const slots = internals + units.length;
  return {
    tabled,
    splitColumn: narrowest(
      splits.map((node) => feature[node] + (trees.missingLeft[node] === 1 ? 0 : features)),
      2 * features,
    ),
    splitThreshold: Float64Array.from(splits, (node) => value[node]),
    splitLeft: narrowest(toLeft.map(slotOf), slots),
    splitRight: narrowest(toRight.map(slotOf), slots),
    splitLeftBit: Uint16Array.from(leftBits),
    splitRightBit: Uint16Array.from(rightBits),
    slots,
    firstUnitSlot: internals,
    units: units.length,
    unitTable,
    unitWidth,
    entryStart,
    entries: narrowest(packed, units.length << 4),
    table,
  };
}

export type TableWalk = (row: Float64Array, phi: Float64Array) => void;

/**
 * The table walk over `tables` as one function: writes the tabled trees' SHAP values of `row` (missing
 * values as NaN) into `phi`, adding to what is there. In WebAssembly where it can be had (see
 * table-walk-wasm.ts: no bounds checks, the same values bit for bit), else in JavaScript.
 */
export function compileTableWalk(tables: TreeTables, features: number, outputs: number): TableWalk {
  return (
    compileWasmTableWalk(tables, features, outputs) ?? compileJavaScriptTableWalk(tables, features, outputs)
  );
}

/**
 * The walk in JavaScript. Its arrays are constants of the closure, and the compiler folds them in (about
 * half the time per row) only while a function's code has made a single closure. So every model gets
 * its own copy of the walk's code, compiled from the source of `tableWalkOf`: a second model (a hot
 * reload) walks as fast as the first. Where code cannot be made from text, the shared closure does the
 * same walk, slower.
 */
export function compileJavaScriptTableWalk(tables: TreeTables, features: number, outputs: number): TableWalk {
  let walk: TableWalk | undefined;
  try {
    const ownCopy = new Function(`return ${tableWalkOf.toString()}`)() as typeof tableWalkOf;
    walk = ownCopy(tables, features, outputs);
    // a source transform (coverage counters, name helpers) may leave the copy without what it refers to
    walk(new Float64Array(Math.max(1, features)), new Float64Array(outputs * features));
  } catch {
    walk = undefined;
  }
  return walk ?? tableWalkOf(tables, features, outputs);
}

/**
 * The walk's code: it must refer to nothing outside itself but globals, since compileTableWalk compiles
 * it again from its text.
 */
function tableWalkOf(tables: TreeTables, features: number, outputs: number): TableWalk {
  const routed = new Float64Array(2 * Math.max(1, features));
  // the roots' slots are never written: their masks stay 0
  // a mask has at most MOST_TABLE_BITS (16) bits
  const masks = new Uint16Array(tables.slots);
  const unitRow = new Int32Array(tables.units);
  const column = tables.splitColumn;
  const threshold = tables.splitThreshold;
  const leftOf = tables.splitLeft;
  const rightOf = tables.splitRight;
  const leftBit = tables.splitLeftBit;
  const rightBit = tables.splitRightBit;
  const splits = column.length;
  const firstUnitSlot = tables.firstUnitSlot;
  const unitTable = tables.unitTable;
  const unitWidth = tables.unitWidth;
  const units = tables.units;
  const table = tables.table;
  const entries = tables.entries;
  const entryStart = tables.entryStart;
  const columns = outputs * features;
  return (row, phi) => {
    for (let f = 0; f < features; f++) {
      const x = row[f];
      routed[f] = x === x ? x : -Infinity;
      routed[features + f] = x === x ? x : Infinity;
    }
    for (let k = 0; k < splits; k++) {
      // 1 when the row goes right, as a number (the sides are unpredictable: no branch)
      const right = ((routed[column[k]] > threshold[k]) as unknown as number) | 0;
      const mask = masks[k];
      masks[rightOf[k]] = mask | (rightBit[k] & (right - 1));
      masks[leftOf[k]] = mask | (leftBit[k] & -right);
    }
    for (let u = 0; u < units; u++) unitRow[u] = unitTable[u] + masks[firstUnitSlot + u] * unitWidth[u];
    for (let q = 0; q < columns; q++) {
      // two sums, so consecutive additions do not wait on each other
      let even = 0;
      let odd = 0;
      let e = entryStart[q];
      const end = entryStart[q + 1];
      for (; e + 1 < end; e += 2) {
        const first = entries[e];
        const second = entries[e + 1];
        even += table[unitRow[first >> 4] + (first & 15)];
        odd += table[unitRow[second >> 4] + (second & 15)];
      }
      if (e < end) {
        const last = entries[e];
        even += table[unitRow[last >> 4] + (last & 15)];
      }
      phi[q] += even + odd;
    }
  };
}

/**
 * Fills a unit's table from `at`: row r (low bits: which features above the unit the row disagrees
 * with; then the side, 1 for right, the row takes at each of the unit's splits) holds, per column, the
 * sum over the unit's leaves of what the leaf adds to that feature. Returns where the table ends.
 */
function fillUnit(trees: TableTrees, unit: Unit, table: Float64Array, at: number): number {
  const { feature, left, leftShare } = trees;
  const width = unit.columns.length;
  const above = unit.above.length;
  const columnOf = new Map(unit.columns.map((f, j) => [f, j]));
  const chainIndex = new Map(unit.chain.map((node, i) => [node, i]));
  // every leaf of the unit: its value, and per column on its path its share of covered rows and the
  // sides (chain index, 1 for right) it must agree with
  const leaves: { value: number; zeros: Float64Array; onPath: Uint8Array; sides: number[][] }[] = [];
  const walk = (node: number, zeros: Float64Array, onPath: Uint8Array, sides: number[][]): void => {
    if (left[node] < 0) {
      leaves.push({
        value: trees.value[node] * trees.scale,
        zeros: zeros.slice(),
        onPath: onPath.slice(),
        sides: sides.map((list) => [...list]),
      });
      return;
    }
    const j = columnOf.get(feature[node])!;
    const i = chainIndex.get(node)!;
    const zero = zeros[j];
    const was = onPath[j];
    onPath[j] = 1;
    for (const [side, share] of [
      [0, leftShare[node]],
      [1, 1 - leftShare[node]],
    ] as const) {
      zeros[j] = zero * share;
      sides[j].push((i << 1) | side);
      walk(left[node] + side, zeros, onPath, sides);
      sides[j].pop();
    }
    zeros[j] = zero;
    onPath[j] = was;
  };
  const zeros = new Float64Array(width).fill(1);
  const onPath = new Uint8Array(width);
  for (let j = 0; j < above; j++) {
    zeros[j] = unit.aboveZero[j];
    onPath[j] = 1;
  }
  walk(
    unit.root,
    zeros,
    onPath,
    unit.columns.map(() => []),
  );

  // per leaf and path column: the row agrees with the leaf on that feature when row & need === wanted
  const plans = leaves.map((leaf) => {
    const columns: number[] = [];
    const need: number[] = [];
    const wanted: number[] = [];
    for (let j = 0; j < width; j++) {
      if (leaf.onPath[j] === 0) continue;
      let mask = j < above ? 1 << j : 0;
      let bits = 0;
      for (const side of leaf.sides[j]) {
        const bit = 1 << (above + (side >> 1));
        mask |= bit;
        if ((side & 1) === 1) bits |= bit;
      }
      columns.push(j);
      need.push(mask);
      wanted.push(bits);
    }
    const count = columns.length;
    const cached = count <= MOST_CACHED_COLUMNS;
    return {
      value: leaf.value,
      columns: Int32Array.from(columns),
      need: Int32Array.from(need),
      wanted: Int32Array.from(wanted),
      zeros: Float64Array.from(columns, (j) => leaf.zeros[j]),
      // the leaf's shares depend on which of its columns a row agrees with, not on the rest of the row:
      // worked out once for each such pattern (many table rows share one), then added from here
      shares: cached ? new Float64Array(count << count) : undefined,
      known: cached ? new Uint8Array(1 << count) : undefined,
    };
  });
  const rows = 2 ** (above + unit.chain.length);
  const agrees = new Uint8Array(width);
  const shares = new Float64Array(width);
  for (let row = 0; row < rows; row++, at += width) {
    for (const leaf of plans) {
      const count = leaf.columns.length;
      let pattern = 0;
      for (let p = 0; p < count; p++) {
        agrees[p] = (row & leaf.need[p]) === leaf.wanted[p] ? 1 : 0;
        pattern |= agrees[p] << p;
      }
      let from: Float64Array = shares;
      let offset = 0;
      if (leaf.shares && leaf.known) {
        from = leaf.shares;
        offset = pattern * count;
        if (leaf.known[pattern] === 0) {
          leafShares(leaf.value, leaf.zeros, agrees, count, shares);
          from.set(shares.subarray(0, count), offset);
          leaf.known[pattern] = 1;
        }
      } else {
        leafShares(leaf.value, leaf.zeros, agrees, count, shares);
      }
      for (let p = 0; p < count; p++) table[at + leaf.columns[p]] += from[offset + p];
    }
  }
  return at;
}

/** A leaf's shares are kept per agreement pattern when it has at most this many columns (2^n patterns). */
const MOST_CACHED_COLUMNS = 10;

/**
 * A leaf's share for each of its `count` distinct path features, given which the row agrees with: for
 * entry p, value · (agree_p − zero_p) · ∫₀¹ P(t) / factor_p(t) dt, where P is the product of all the
 * factors, zero + (1 − zero) t if the row agrees and zero (1 − t) if not (Linear TreeSHAP's form of the
 * Shapley weights), integrated exactly by the Gauss-Legendre rule of ⌈count / 2⌉ nodes. A disagreeing
 * entry's share, −value · ∫ P / (1 − t), is the same for all of them.
 */
function leafShares(
  value: number,
  zeros: Float64Array,
  agrees: Uint8Array,
  count: number,
  out: Float64Array,
): void {
  const size = Math.max(1, Math.ceil(count / 2));
  const { nodes, weights } = ruleOf(size);
  let cold = 0;
  for (let q = 0; q < size; q++) {
    const t = nodes[q];
    let product = 1;
    for (let i = 0; i < count; i++)
      product *= agrees[i] === 1 ? zeros[i] + (1 - zeros[i]) * t : zeros[i] * (1 - t);
    products[q] = product;
    cold += (weights[q] * product) / (1 - t);
  }
  for (let p = 0; p < count; p++) {
    if (agrees[p] === 0) {
      out[p] = -value * cold;
      continue;
    }
    const zero = zeros[p];
    let integral = 0;
    for (let q = 0; q < size; q++) integral += (weights[q] * products[q]) / (zero + (1 - zero) * nodes[q]);
    out[p] = value * (1 - zero) * integral;
  }
}

/** The product of a leaf's factors at each node of its rule. */
const products = new Float64Array(MOST_TABLE_BITS);

/** Gauss-Legendre rules by node count, made once. */
const rules: { nodes: Float64Array; weights: Float64Array }[] = [];

function ruleOf(size: number): { nodes: Float64Array; weights: Float64Array } {
  let rule = rules[size];
  if (!rule) {
    rule = { nodes: new Float64Array(size), weights: new Float64Array(size) };
    gaussLegendre(size, rule.nodes, rule.weights, 0);
    rules[size] = rule;
  }
  return rule;
}
