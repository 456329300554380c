// Small helpers the column transformers share: gathering the training rows of a column and the
// order statistics (quantiles as numpy computes them, the mode) they are fitted with.

/** The values of `rows` (all rows when absent), NaN dropped, as a new array. */
export function presentValues(values: Float64Array, rows?: ArrayLike<number>): Float64Array {
  const count = rows ? rows.length : values.length;
  const out = new Float64Array(count);
  let kept = 0;
  for (let i = 0; i < count; i++) {
    const value = values[rows ? rows[i] : i];
    if (value === value) out[kept++] = value;
  }
  return kept === count ? out : out.slice(0, kept);
}

/** The q-quantile of ascending `sorted`, interpolating linearly between order statistics (numpy's default). */
export function quantileOfSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const position = q * (n - 1);
  const low = Math.floor(position);
  const high = Math.min(n - 1, low + 1);
  const fraction = position - low;
  return fraction === 0 ? sorted[low] : sorted[low] + (sorted[high] - sorted[low]) * fraction;
}

/**
 * quantileOfSorted of `values` sorted, found by selection instead of a sort: `values` (no NaN) is
 * reordered in place. A median of millions of training values takes a sixth of the sort's time.
 */
export function quantileOf(values: Float64Array, q: number): number {
  const n = values.length;
  if (n === 0) return NaN;
  const position = q * (n - 1);
  const low = Math.floor(position);
  const fraction = position - low;
  const lowValue = orderStatistic(values, low);
  if (fraction === 0 || low === n - 1) return lowValue;
  // the next order statistic: the least of the values above it
  let next = values[low + 1];
  for (let i = low + 2; i < n; i++) if (values[i] < next) next = values[i];
  const highValue = signedAsSorted(values, low + 1, next);
  return lowValue + (highValue - lowValue) * fraction;
}

/**
 * The k-th smallest of `values` as a sort gives it (-0 before 0), the rest reordered around it: a
 * quickselect on medians of three, finishing with a sort of what is left after too many rounds, so
 * that no order of the values makes it quadratic.
 */
function orderStatistic(values: Float64Array, k: number): number {
  let left = 0;
  let right = values.length - 1;
  let rounds = 2 * Math.ceil(Math.log2(values.length + 1)) + 8;
  while (right > left) {
    if (rounds-- === 0) {
      values.subarray(left, right + 1).sort();
      break;
    }
    const middle = (left + right) >>> 1;
    // the median of the first, middle and last values, which also stops both scans below
    if (values[middle] < values[left]) swap(values, middle, left);
    if (values[right] < values[left]) swap(values, right, left);
    if (values[right] < values[middle]) swap(values, right, middle);
    const pivot = values[middle];
    let i = left;
    let j = right;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) swap(values, i++, j--);
    }
    // [left, j] at most the pivot, [i, right] at least, and any place between them holds the pivot
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return signedAsSorted(values, k, values[k]);
}

/**
 * `value`, the k-th smallest of `values`, with the sign of zero a sort gives it: comparisons do not
 * tell -0 from 0, and a sort puts every -0 first.
 */
function signedAsSorted(values: Float64Array, k: number, value: number): number {
  if (value !== 0) return value;
  let belowZero = 0;
  for (let i = 0; i < values.length; i++) if (values[i] < 0 || Object.is(values[i], -0)) belowZero++;
  return k < belowZero ? -0 : 0;
}

function swap(values: Float64Array, a: number, b: number): void {
  const kept = values[a];
  values[a] = values[b];
  values[b] = kept;
}

/** The most frequent value of ascending `sorted`; the smallest one on a tie (as scikit-learn). */
export function modeOfSorted(sorted: Float64Array): number {
  let best = NaN;
  let bestCount = 0;
  for (let i = 0; i < sorted.length;) {
    let j = i + 1;
    while (j < sorted.length && sorted[j] === sorted[i]) j++;
    if (j - i > bestCount) {
      bestCount = j - i;
      best = sorted[i];
    }
    i = j;
  }
  return best;
}

export function meanOf(values: Float64Array): number {
  if (values.length === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

export function expectNumber(value: unknown, what: string, fail: (message: string) => never): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    fail(`${what} must be a finite number, got ${JSON.stringify(value)}`);
  return value as number;
}
