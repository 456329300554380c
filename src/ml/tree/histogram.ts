// Node histograms: per byte column, sums of gradient, hessian and row count by bin, three numbers a bin,
// groups one after another (built, added and subtracted by the kernels in kernels.ts); per-feature expansion.

/** Numbers stored per bin: gradient sum, hessian sum, row count. */
export const BIN_STRIDE = 3;

/** A feature's own histogram from its group's: sums the group codes that share the feature's bin. */
export function expandFeature(
  group: Float64Array,
  groupOffset: number,
  groupBins: number,
  digits: Uint8Array,
  featureBins: number,
  out: Float64Array,
  outOffset: number,
): void {
  out.fill(0, outOffset, outOffset + featureBins * BIN_STRIDE);
  for (let code = 0; code < groupBins; code++) {
    const from = groupOffset + code * 3;
    const count = group[from + 2];
    if (count === 0) continue;
    const to = outOffset + digits[code] * 3;
    out[to] += group[from];
    out[to + 1] += group[from + 1];
    out[to + 2] += count;
  }
}
