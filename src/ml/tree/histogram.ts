// Node histograms: per byte column, sums of gradient, hessian and row count by bin, three numbers a bin,
// groups one after another (built, added and subtracted by the kernels in kernels.ts): the grids on which
// gradient boosting's sums are exact, a node's sums in each segment added up, the kernels' bundles of
// columns, and a packed feature's own histogram expanded from its group's.
import { BIN_STRIDE, BUNDLE_MAX, histogramGroupsKernel, KERNEL_SCRATCH_BYTES } from './kernels.js';
import type { Workspace } from './workspace.js';

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

/**
 * The grid (a power of two) on which sums of `rows` values of magnitude at most `bound` are exact: with
 * every value a multiple of it, each partial sum is a whole multiple of it below 2^53, so a node's
 * histogram is the same double whatever order, pieces or threads its rows are summed in, and a child's
 * taken by subtraction is the one summed directly. Gradient boosting rounds each row's gradient and
 * hessian to the grids of their bounds (about 2^-52 of the rows' total: 2^-33 of the largest gradient on
 * 300,000 rows, 2^-28 on ten million).
 */
export function exactGrid(bound: number, rows: number): number {
  // two rows at least: a value is then at most 2^51 grids (see Kernels.boostLogLoss)
  const total = Math.max(bound, 2 ** -900) * Math.max(rows, 2);
  let exponent = Math.ceil(Math.log2(total));
  // log2 rounds: a total just above a power of two can come out as that power's exponent
  if (2 ** exponent < total) exponent++;
  return 2 ** (Math.min(exponent, 1000) - 52);
}

/**
 * Sums the active groups (or part `part` of `parts` of them, see partOf) over positions [from, to) into
 * the histogram at `outAt`, by the histogramGroups kernels on thread `thread`'s scratch.
 */
export function sumGroups(
  workspace: Workspace,
  thread: number,
  outAt: number,
  from: number,
  to: number,
  identity: boolean,
  part = 0,
  parts = 1,
): void {
  const { plan, kernels } = workspace;
  forEachBundle(
    workspace,
    thread,
    outAt,
    (descriptorAt, count) =>
      histogramGroupsKernel(kernels, identity, count)(plan.rowsAt, from, to, plan.ghAt, descriptorAt),
    part,
    parts,
  );
}

/**
 * The part of `parts` that the active group of active index `index` falls in when a node's groups are
 * shared by threads (see split-step.ts): every parts-th one, so that each part gets groups of every size
 * (groups come widest first) and as much work as the others.
 */
export function partOf(index: number, parts: number): number {
  return index % parts;
}

/**
 * Calls `kernel` for the workspace's active groups (or part `part` of `parts` of them, see partOf) in
 * bundles of up to BUNDLE_MAX, each listed in thread `thread`'s descriptor (the group's byte column, its
 * histogram in the one at `outAt`, a scratch area of the thread's, its bin count): the kernel gets the
 * descriptor's address and the bundle's group count.
 */
export function forEachBundle(
  workspace: Workspace,
  thread: number,
  outAt: number,
  kernel: (descriptorAt: number, count: number) => void,
  part = 0,
  parts = 1,
): void {
  const { plan, data, groupActive } = workspace;
  const { layout, columns } = data;
  const scratchAt = plan.kernelScratchAt[thread];
  const descriptorAt = scratchAt + BUNDLE_MAX * KERNEL_SCRATCH_BYTES;
  const descriptor = workspace.descriptors[thread];
  let count = 0;
  for (let g = 0, index = 0; g < groupActive.length; g++) {
    if (groupActive[g] === 0 || partOf(index++, parts) !== part) continue;
    descriptor[4 * count] = columns[g].byteOffset;
    descriptor[4 * count + 1] = outAt + layout.groupOffset[g] * BIN_STRIDE * 8;
    descriptor[4 * count + 2] = scratchAt + count * KERNEL_SCRATCH_BYTES;
    descriptor[4 * count + 3] = layout.groupBins[g];
    if (++count === BUNDLE_MAX) {
      kernel(descriptorAt, count);
      count = 0;
    }
  }
  if (count > 0) kernel(descriptorAt, count);
}

/**
 * Adds the sums of segments 1 … segments - 1 of a node (each in its own area) to the first segment's, in
 * the node's slot (active groups only). Exact on the grids of gradient boosting (see exactGrid).
 */
export function addSegmentSums(workspace: Workspace, slot: number, segments: number): void {
  if (segments <= 1) return;
  const { kernels, groupActive, data } = workspace;
  const { layout } = data;
  const base = workspace.slotAddress(slot);
  for (let g = 0; g < groupActive.length; g++) {
    if (groupActive[g] === 0) continue;
    const from = layout.groupOffset[g] * BIN_STRIDE * 8;
    for (let segment = 1; segment < segments; segment++)
      kernels.addDoubles(
        base + from,
        workspace.segmentAddress(segment) + from,
        layout.groupBins[g] * BIN_STRIDE,
      );
  }
}
