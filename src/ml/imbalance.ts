// Class imbalance on the training part only: SMOTE (synthetic minority rows), ENN (edited nearest
// neighbours), SMOTEENN, and balanced class weights. Neighbours are exact, found with a k-d tree on
// standardised features (see neighbors.ts), so columns in large units do not dominate the distance.
import { errors } from '../core/errors.js';
import { KdTree } from './neighbors.js';
import { Random } from '../core/random.js';
import type { Matrix } from './types.js';

export interface Resampled {
  X: Matrix;
  y: Float64Array;
  /** For each output row the input row it is, or -1 for a synthetic row. */
  origin: Int32Array;
}

export interface SmoteOptions {
  /** Neighbours among the class's rows to interpolate towards (imbalanced-learn's default: 5). */
  k?: number;
  seed: number;
  /** `auto`: every class grows to the majority's count; a number r: the minority of a binary problem grows to r × the majority. */
  samplingStrategy?: 'auto' | number;
}

export interface EnnOptions {
  /** Neighbours consulted (imbalanced-learn's default: 3). */
  k?: number;
  /** `all` (imbalanced-learn's default): a row stays only if every neighbour shares its class; `mode`: if most do. */
  selection?: 'all' | 'mode';
  /** Which classes are cleaned: all but the minority (ENN's default), or all (as SMOTEENN does). */
  classes?: 'not_minority' | 'all';
}

/** Per-column centre and scale used for distances only; the rows themselves are never rescaled. */
interface DistanceScaling {
  center: Float64Array;
  scale: Float64Array;
}

function classCounts(y: Float64Array): number[] {
  const counts: number[] = [];
  for (let i = 0; i < y.length; i++) {
    const label = y[i];
    if (!Number.isInteger(label) || label < 0) {
      throw new errors.PW_USAGE(`Resampling needs class indices; row ${i} has ${label}`, {
        hint: 'Class imbalance strategies apply to classification targets only.',
      });
    }
    while (counts.length <= label) counts.push(0);
    counts[label]++;
  }
  return counts;
}

function distanceScaling(X: Matrix): DistanceScaling {
  const center = new Float64Array(X.cols);
  const scale = new Float64Array(X.cols);
  for (let j = 0; j < X.cols; j++) {
    const column = X.columns[j];
    let sum = 0;
    let present = 0;
    for (let i = 0; i < X.rows; i++) {
      if (column[i] === column[i]) {
        sum += column[i];
        present++;
      }
    }
    const mean = present > 0 ? sum / present : 0;
    let squares = 0;
    for (let i = 0; i < X.rows; i++) if (column[i] === column[i]) squares += (column[i] - mean) ** 2;
    const deviation = present > 0 ? Math.sqrt(squares / present) : 0;
    center[j] = mean;
    scale[j] = deviation > 0 ? deviation : 1;
  }
  return { center, scale };
}

/** Rows `rows` of X, standardised, row-major; a missing value sits at the column mean (0). */
function standardisedPoints(
  X: Matrix,
  rows: ArrayLike<number> | undefined,
  scaling: DistanceScaling,
): Float64Array {
  const count = rows ? rows.length : X.rows;
  const d = X.cols;
  const points = new Float64Array(count * d);
  for (let j = 0; j < d; j++) {
    const column = X.columns[j];
    const center = scaling.center[j];
    const scale = scaling.scale[j];
    for (let i = 0; i < count; i++) {
      const value = column[rows ? rows[i] : i];
      points[i * d + j] = value === value ? (value - center) / scale : 0;
    }
  }
  return points;
}

/**
 * SMOTE (Chawla et al., as imbalanced-learn implements it): for each synthetic row, pick a random row
 * of the class, one of its k nearest neighbours within the class, and a random point on the segment
 * between them. Original rows come first and unchanged; synthetic rows follow.
 */
export function smote(X: Matrix, y: Float64Array, options: SmoteOptions): Resampled {
  return smoteWith(X, y, options, distanceScaling(X));
}

function smoteWith(X: Matrix, y: Float64Array, options: SmoteOptions, scaling: DistanceScaling): Resampled {
  const k = options.k ?? 5;
  if (!Number.isInteger(k) || k < 1)
    throw new errors.PW_CONFIG_INVALID(`imbalance.k_neighbors must be a positive integer, got ${k}`);
  const counts = classCounts(y);
  const majority = Math.max(...counts);
  const targets = counts.map((count) => {
    if (count === 0) return 0;
    const strategy = options.samplingStrategy ?? 'auto';
    if (strategy === 'auto') return majority;
    if (counts.filter((c) => c > 0).length !== 2 || !(strategy > 0 && strategy <= 1)) {
      throw new errors.PW_CONFIG_INVALID(
        `SMOTE sampling ratio ${strategy} needs a binary problem and a ratio in (0, 1]`,
      );
    }
    return count === majority ? count : Math.max(count, Math.floor(strategy * majority));
  });
  const random = new Random(options.seed);
  const d = X.cols;
  const syntheticLabels: number[] = [];
  const chunks: Float64Array[] = [];
  let syntheticCount = 0;
  for (let label = 0; label < counts.length; label++) {
    const needed = targets[label] - counts[label];
    if (needed <= 0) continue;
    const members = new Int32Array(counts[label]);
    for (let i = 0, m = 0; i < y.length; i++) if (y[i] === label) members[m++] = i;
    if (members.length < 2) {
      throw new errors.PW_VALIDATION_FAILED(
        `SMOTE needs at least 2 rows of class ${label} in the training part; it has ${members.length}`,
        {
          hint: 'Use imbalance.strategy: class_weight, or add rows of that class.',
        },
      );
    }
    const neighbours = Math.min(k, members.length - 1);
    const points = standardisedPoints(X, members, scaling);
    const tree = new KdTree(points, members.length, d);
    const table = new Int32Array(members.length * neighbours);
    const found = new Int32Array(neighbours);
    for (let m = 0; m < members.length; m++) {
      tree.nearest(points, m * d, neighbours, found, m);
      table.set(found, m * neighbours);
    }
    const rows = new Float64Array(needed * d);
    for (let s = 0; s < needed; s++) {
      const m = random.nextInt(members.length);
      const neighbour = table[m * neighbours + random.nextInt(neighbours)];
      const gap = random.next();
      const from = members[m];
      const to = members[neighbour];
      for (let j = 0; j < d; j++) {
        const a = X.columns[j][from];
        const b = X.columns[j][to];
        rows[s * d + j] = b === b && a === a ? a + gap * (b - a) : a;
      }
      syntheticLabels.push(label);
    }
    chunks.push(rows);
    syntheticCount += needed;
  }
  const total = X.rows + syntheticCount;
  const columns = X.columns.map((column) => {
    const out = new Float64Array(total);
    out.set(column);
    return out;
  });
  let row = X.rows;
  for (const rows of chunks) {
    for (let s = 0; s < rows.length / d; s++, row++)
      for (let j = 0; j < d; j++) columns[j][row] = rows[s * d + j];
  }
  const labels = new Float64Array(total);
  labels.set(y);
  labels.set(syntheticLabels, X.rows);
  const origin = new Int32Array(total).fill(-1);
  for (let i = 0; i < X.rows; i++) origin[i] = i;
  return { X: { rows: total, cols: d, columns, names: X.names }, y: labels, origin };
}

/**
 * Edited nearest neighbours (Wilson): drops a row of a cleaned class when its k nearest neighbours
 * (among all rows) disagree with its class. Returns the kept rows in their original order.
 */
export function editedNearestNeighbours(X: Matrix, y: Float64Array, options: EnnOptions = {}): Resampled {
  return ennWith(X, y, options, distanceScaling(X));
}

function ennWith(X: Matrix, y: Float64Array, options: EnnOptions, scaling: DistanceScaling): Resampled {
  const k = options.k ?? 3;
  if (!Number.isInteger(k) || k < 1)
    throw new errors.PW_CONFIG_INVALID(`ENN neighbours must be a positive integer, got ${k}`);
  const selection = options.selection ?? 'all';
  const counts = classCounts(y);
  let minority = -1;
  for (let c = 0; c < counts.length; c++)
    if (counts[c] > 0 && (minority < 0 || counts[c] < counts[minority])) minority = c;
  const cleaned = counts.map((_, c) => (options.classes ?? 'not_minority') === 'all' || c !== minority);
  const d = X.cols;
  const points = standardisedPoints(X, undefined, scaling);
  const tree = new KdTree(points, X.rows, d);
  const neighbours = Math.min(k, X.rows - 1);
  const found = new Int32Array(Math.max(1, neighbours));
  const votes = new Int32Array(counts.length);
  const keep = new Uint8Array(X.rows);
  let kept = 0;
  for (let i = 0; i < X.rows; i++) {
    const label = y[i];
    let stays = true;
    if (cleaned[label] && neighbours > 0) {
      const count = tree.nearest(points, i * d, neighbours, found, i);
      if (selection === 'all') {
        for (let n = 0; n < count; n++) if (y[found[n]] !== label) stays = false;
      } else {
        votes.fill(0);
        for (let n = 0; n < count; n++) votes[y[found[n]]]++;
        // The most common neighbour class, the smallest on a tie (as scipy's mode).
        let mode = 0;
        for (let c = 1; c < votes.length; c++) if (votes[c] > votes[mode]) mode = c;
        stays = mode === label;
      }
    }
    if (stays) {
      keep[i] = 1;
      kept++;
    }
  }
  const rows = new Int32Array(kept);
  for (let i = 0, r = 0; i < X.rows; i++) if (keep[i]) rows[r++] = i;
  const columns = X.columns.map((column) => {
    const out = new Float64Array(kept);
    for (let r = 0; r < kept; r++) out[r] = column[rows[r]];
    return out;
  });
  const labels = new Float64Array(kept);
  for (let r = 0; r < kept; r++) labels[r] = y[rows[r]];
  return { X: { rows: kept, cols: d, columns, names: X.names }, y: labels, origin: rows };
}

/**
 * SMOTE, then ENN over all classes on the result (imbalanced-learn's SMOTEENN). Distances use the
 * standardisation of the input rows in both stages.
 */
export function smoteEnn(
  X: Matrix,
  y: Float64Array,
  options: SmoteOptions & { enn?: EnnOptions },
): Resampled {
  const scaling = distanceScaling(X);
  const oversampled = smoteWith(X, y, options, scaling);
  const cleaned = ennWith(oversampled.X, oversampled.y, { classes: 'all', ...options.enn }, scaling);
  const origin = new Int32Array(cleaned.origin.length);
  for (let r = 0; r < origin.length; r++) origin[r] = oversampled.origin[cleaned.origin[r]];
  return { X: cleaned.X, y: cleaned.y, origin };
}

/**
 * One weight per row from its class: `balanced` gives n / (classes × class count) as scikit-learn,
 * so every class carries the same total weight; or explicit weights by class index.
 */
export function classWeights(y: Float64Array, weights: 'balanced' | Record<number, number>): Float64Array {
  const counts = classCounts(y);
  const present = counts.filter((count) => count > 0).length;
  const byClass = counts.map((count, label) => {
    if (weights === 'balanced') return count > 0 ? y.length / (present * count) : 0;
    const weight = weights[label] ?? 1;
    if (!(weight >= 0))
      throw new errors.PW_CONFIG_INVALID(
        `Class weight for class ${label} must be a non-negative number, got ${weight}`,
      );
    return weight;
  });
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = byClass[y[i]];
  return out;
}

export type ImbalanceStrategy = 'none' | 'class_weight' | 'smote' | 'enn' | 'smoteenn';

/** Applies the configured strategy to the training part: resampled rows, or weights, or the rows as they are. */
export function balanceTrainingSet(
  X: Matrix,
  y: Float64Array,
  settings: { strategy: ImbalanceStrategy; k_neighbors?: number },
  seed: number,
): { X: Matrix; y: Float64Array; sampleWeight?: Float64Array; origin?: Int32Array } {
  switch (settings.strategy) {
    case 'none':
      return { X, y };
    case 'class_weight':
      return { X, y, sampleWeight: classWeights(y, 'balanced') };
    case 'smote':
      return smote(X, y, { k: settings.k_neighbors, seed });
    case 'enn':
      return editedNearestNeighbours(X, y);
    case 'smoteenn':
      return smoteEnn(X, y, { k: settings.k_neighbors, seed });
    default:
      throw new errors.PW_CONFIG_INVALID(`Unknown imbalance strategy ${JSON.stringify(settings.strategy)}`, {
        hint: 'Use none, class_weight, smote, enn or smoteenn.',
      });
  }
}
