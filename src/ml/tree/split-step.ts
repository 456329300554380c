// A split's step shared by threads by columns, for wide tables (whose rows are not kept in segments): after
// a split, each thread takes a part of the active byte columns and, for them alone, sums the smaller
// child's histogram over its positions, takes the larger child's by subtraction and searches both
// children; the calling thread then keeps each child's best split over the parts. A
// column's histogram stays in one core's cache from its sums to its search. Used by gradient boosting
// with workers (threads.ts runs the parts, grower.ts sets each step up and takes its result).
import { partOf, sumGroups } from './histogram.js';
import { BIN_STRIDE, SCAN_RECORD, SEARCH_ENTRY, SEARCH_ENTRY_BYTES } from './kernels.js';
import { STEP_RECORD, type Workspace } from './workspace.js';

/** Where a split step's arguments sit among the workspace's stepArgs (see splitStepPart). */
const STEP = {
  smallSlot: 0,
  /** The smaller child's positions [start, end). */
  start: 1,
  end: 2,
  parentSlot: 4,
  minSamples: 5,
  minHessian: 6,
  l2: 7,
  /** Per child (the smaller, then the larger): search it (1/0), its rows, gradient and hessian sums, score. */
  children: 8,
} as const;
const CHILD_ARGS = 5;

/** The workspace's active groups (those a node's histogram sums). */
function activeGroups(workspace: Workspace): number {
  let active = 0;
  for (let g = 0; g < workspace.groupActive.length; g++) active += workspace.groupActive[g];
  return active;
}

/**
 * One part of a split's step, on thread `thread`: for its share of the active groups, the smaller child's
 * histogram over its positions, the larger child's as the parent's minus it (when the larger is to be
 * searched), then the search of the features of those groups in each child to be searched, the best
 * split of each into the part's records. A group's sums depend on the rows only and the parts' bests are
 * taken in feature order (TreeGrower.takeStep), so any number of parts gives the splits of the one-thread
 * path; a part keeps its groups' histograms in one thread's cache from their sums to the search.
 */
export function splitStepPart(workspace: Workspace, thread: number, part: number, parts: number): void {
  const { plan, data, groupActive, kernels, stepArgs: args } = workspace;
  const { layout } = data;
  const smallAt = workspace.slotAddress(args[STEP.smallSlot]);
  const parentSlot = args[STEP.parentSlot];
  const parentAt = parentSlot >= 0 ? workspace.slotAddress(parentSlot) : -1;
  const scratchAt = plan.kernelScratchAt[thread];
  sumGroups(workspace, thread, smallAt, args[STEP.start], args[STEP.end], false, part, parts);
  if (parentAt >= 0) {
    for (let g = 0, index = 0; g < groupActive.length; g++) {
      if (groupActive[g] === 0 || partOf(index++, parts) !== part) continue;
      const offset = layout.groupOffset[g] * BIN_STRIDE * 8;
      kernels.subtractDoubles(parentAt + offset, smallAt + offset, layout.groupBins[g] * BIN_STRIDE);
    }
  }
  const firstEntry = workspace.partEntries[2 * part];
  const entries = workspace.partEntries[2 * part + 1];
  for (let child = 0; child < 2; child++) {
    const at = STEP.children + child * CHILD_ARGS;
    if (args[at] !== 1) continue;
    const record = (part * 2 + child) * STEP_RECORD;
    workspace.partRecords[record + SCAN_RECORD.gain] = 0;
    workspace.partRecords[record + SCAN_RECORD_FEATURE] = kernels.searchFeatures(
      child === 0 ? smallAt : parentAt,
      plan.partSearchTableAt + firstEntry * SEARCH_ENTRY_BYTES,
      entries,
      args[at + 1],
      args[at + 2],
      args[at + 3],
      args[STEP.minSamples],
      args[STEP.minHessian],
      args[STEP.l2],
      args[at + 4],
      plan.partRecordsAt + record * 8,
      scratchAt,
    );
  }
}

/** Where a part's record keeps the feature its search found (after SCAN_RECORD's six). */
const SCAN_RECORD_FEATURE = 6;

/**
 * Fills the search table again for a step's parts (the entries of each part's groups together, each part's
 * in feature order) from the first `searchCount` entries of the workspace's search table; returns the
 * parts: one a thread, at most one an active group.
 */
export function fillPartTable(workspace: Workspace, threads: number, searchCount: number): number {
  const parts = Math.min(threads, activeGroups(workspace));
  if (parts <= 1) return parts;
  const { layout } = workspace.data;
  const { searchTable, partSearchTable, partEntries, groupActive } = workspace;
  const stride = SEARCH_ENTRY_BYTES / 4;
  const partOfGroup = new Int32Array(layout.groups).fill(-1);
  for (let g = 0, index = 0; g < layout.groups; g++)
    if (groupActive[g] === 1) partOfGroup[g] = partOf(index++, parts);
  let placed = 0;
  for (let part = 0; part < parts; part++) {
    partEntries[2 * part] = placed;
    for (let entry = 0; entry < searchCount; entry++) {
      const feature = searchTable[entry * stride + SEARCH_ENTRY.feature / 4];
      if (partOfGroup[layout.featureGroup[feature]] !== part) continue;
      partSearchTable.set(searchTable.subarray(entry * stride, (entry + 1) * stride), placed * stride);
      placed++;
    }
    partEntries[2 * part + 1] = placed - partEntries[2 * part];
  }
  return parts;
}

/** One child of a step: whether to search it, its rows, sums and score. */
export interface StepChild {
  search: boolean;
  rows: number;
  sumGradient: number;
  sumHessian: number;
  score: number;
}

/** Writes a step's arguments where every thread reads them (the smaller child first in `children`). */
export function setStepArguments(
  workspace: Workspace,
  step: {
    smallSlot: number;
    /** The smaller child's positions (one range: the rows are not in segments). */
    start: number;
    end: number;
    /** The parent's slot, which becomes the larger child's, or -1 when the larger is not searched. */
    parentSlot: number;
    settings: { minSamplesLeaf: number; minHessianLeaf: number; l2: number };
    children: StepChild[];
  },
): void {
  const args = workspace.stepArgs;
  args[STEP.smallSlot] = step.smallSlot;
  args[STEP.start] = step.start;
  args[STEP.end] = step.end;
  args[STEP.parentSlot] = step.parentSlot;
  args[STEP.minSamples] = step.settings.minSamplesLeaf;
  args[STEP.minHessian] = step.settings.minHessianLeaf;
  args[STEP.l2] = step.settings.l2;
  step.children.forEach((child, c) => {
    const at = STEP.children + c * CHILD_ARGS;
    args[at] = child.search ? 1 : 0;
    args[at + 1] = child.rows;
    args[at + 2] = child.sumGradient;
    args[at + 3] = child.sumHessian;
    args[at + 4] = child.score;
  });
}

/**
 * The best of the parts' splits of child `child` (0 the smaller): its feature (-1 for none) and its record's
 * place among the workspace's partRecords. The highest gain, and of equal gains the lowest feature, which
 * is the one a search in feature order keeps (it replaces its best only on a higher gain).
 */
export function bestOfParts(
  workspace: Workspace,
  parts: number,
  child: number,
): { feature: number; at: number } {
  const records = workspace.partRecords;
  let feature = -1;
  let at = -1;
  for (let part = 0; part < parts; part++) {
    const record = (part * 2 + child) * STEP_RECORD;
    const found = records[record + SCAN_RECORD_FEATURE];
    if (found < 0) continue;
    const gain = records[record + SCAN_RECORD.gain];
    const bestGain = at >= 0 ? records[at + SCAN_RECORD.gain] : 0;
    if (at < 0 || gain > bestGain || (gain === bestGain && found < feature)) {
      feature = found;
      at = record;
    }
  }
  return { feature, at };
}
