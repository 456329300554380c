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
