// The tree engine's binning written plainly in JavaScript, loop by loop: the reference that the engine's
// binning (src/ml/tree/binning.ts, in the WebAssembly kernels, on any thread count) must match byte for byte.
import { Random } from '../../../src/core/random.js';
import {
  BINNING_SAMPLE_ROWS,
  binEdges,
  binOf,
  COUNTING_RANGE,
  type BinMapper,
  type BinnedData,
  type PackedLayout,
} from '../../../src/ml/tree/binning.js';
import type { Matrix } from '../../../src/ml/types.js';

/** The edges and missing flags of every feature, from the rows `random` samples (as SharedBinning draws them). */
export function fitBinMapper(X: Matrix, maxBins: number, random: Random): BinMapper {
  return mapperFromSample(X, binningSample(X.rows, random), maxBins);
}

function mapperFromSample(X: Matrix, sample: Int32Array | undefined, maxBins: number): BinMapper {
  const edges: Float64Array[] = [];
  const valueBins = new Int32Array(X.cols);
  const hasMissing = new Uint8Array(X.cols);
  const values = new Float64Array(sample ? sample.length : X.rows);
  for (let f = 0; f < X.cols; f++) {
    const found = featureEdges(X.columns[f], sample, maxBins, values);
    edges.push(found.edges);
    hasMissing[f] = found.hasMissing ? 1 : 0;
    valueBins[f] = found.edges.length + 1;
  }
  return { edges, valueBins, hasMissing };
}

/** The rows whose values set the bin edges (ascending), or undefined for every row. */
export function binningSample(rows: number, random: Random): Int32Array | undefined {
  if (rows <= BINNING_SAMPLE_ROWS) return undefined;
  // in ascending order by marking the drawn rows and listing them: the same rows as a sort, in one
  // pass (this runs before the threads can share any work)
  const drawn = new Uint8Array(rows);
  for (const row of random.sampleWithoutReplacement(rows, BINNING_SAMPLE_ROWS)) drawn[row] = 1;
  const sample = new Int32Array(BINNING_SAMPLE_ROWS);
  let next = 0;
  for (let row = 0; row < rows; row++) if (drawn[row] === 1) sample[next++] = row;
  return sample;
}

/** One feature's bin edges, from the sampled rows (or all), and whether its column holds missing values. */
function featureEdges(
  column: Float64Array,
  sample: Int32Array | undefined,
  maxBins: number,
  values: Float64Array,
): { edges: Float64Array; hasMissing: boolean } {
  let count = 0;
  let hasMissing = false;
  if (sample) {
    for (let i = 0; i < sample.length; i++) {
      const value = column[sample[i]];
      if (value === value) values[count++] = value;
    }
    // the sample may miss the rare missing values the full column holds
    for (let i = 0; i < column.length && !hasMissing; i++) if (column[i] !== column[i]) hasMissing = true;
  } else {
    for (let i = 0; i < column.length; i++) {
      const value = column[i];
      if (value === value) values[count++] = value;
      else hasMissing = true;
    }
  }
  return { edges: binEdges(values.subarray(0, count), maxBins, countValues, sortValues), hasMissing };
}

/** The built-in sort (ValueSorter). */
function sortValues(values: Float64Array): Float64Array {
  return values.sort();
}

/** Counts of whole values from the minimum (ValueCounter), in JavaScript. */
function countValues(values: Float64Array): { counts: Int32Array; min: number } | undefined {
  const n = values.length;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const value = values[i];
    if (value !== Math.floor(value)) return undefined;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  // no whole number at all (every value missing, as a block of a late-recorded field can be): search instead
  if (!(max - min < COUNTING_RANGE) || min > max) return undefined;
  const counts = new Int32Array(max - min + 1);
  for (let i = 0; i < n; i++) counts[values[i] - min]++;
  return { counts, min };
}

/** The byte columns of `X` under `mapper` and `layout`. */
export function binMatrix(X: Matrix, mapper: BinMapper, layout: PackedLayout): BinnedData {
  const rows = X.rows;
  const buffer = new ArrayBuffer(Math.max(1, rows * layout.groups));
  const columns: Uint8Array[] = [];
  for (let g = 0; g < layout.groups; g++) columns.push(new Uint8Array(buffer, g * rows, rows));
  const featureBins = new Uint8Array(rows);
  for (let g = 0; g < layout.groups; g++) binGroup(X.columns, mapper, layout, g, columns[g], featureBins);
  return { rows, mapper, layout, columns, buffer, segments: 1 };
}

/** Group `g`'s byte column: the mixed-radix code of its members' bins (`featureBins`: one row's worth of scratch). */
function binGroup(
  columns: Float64Array[],
  mapper: BinMapper,
  layout: PackedLayout,
  g: number,
  column: Uint8Array,
  featureBins: Uint8Array,
): void {
  const rows = column.length;
  let stride = 1;
  for (const f of layout.members[g]) {
    binColumn(columns[f], mapper.edges[f], mapper.hasMissing[f] === 1, featureBins);
    if (stride === 1) column.set(featureBins);
    else for (let i = 0; i < rows; i++) column[i] += featureBins[i] * stride;
    stride *= layout.featureBins[f];
  }
}

function binColumn(column: Float64Array, edges: Float64Array, hasMissing: boolean, out: Uint8Array): void {
  const missingBin = hasMissing ? edges.length + 1 : edges.length;
  const table = lookupTable(column, edges);
  if (table) {
    const { bins, min } = table;
    for (let i = 0; i < column.length; i++) {
      const value = column[i];
      out[i] = value === value ? bins[value - min] : missingBin;
    }
    return;
  }
  for (let i = 0; i < column.length; i++) out[i] = binOf(edges, column[i]);
  if (!hasMissing) return;
  for (let i = 0; i < column.length; i++) if (column[i] !== column[i]) out[i] = missingBin;
}

/** For a column of whole numbers in a small range: the bin of every value in it, to look up instead of search. */
function lookupTable(
  column: Float64Array,
  edges: Float64Array,
): { bins: Uint8Array; min: number } | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < column.length; i++) {
    const value = column[i];
    if (value !== value) continue;
    if (value !== Math.floor(value)) return undefined;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  // no whole number at all (every value missing, as a block of a late-recorded field can be): search instead
  if (!(max - min < COUNTING_RANGE) || min > max) return undefined;
  const bins = new Uint8Array(max - min + 1);
  for (let v = 0; v < bins.length; v++) bins[v] = binOf(edges, v + min);
  return { bins, min };
}
