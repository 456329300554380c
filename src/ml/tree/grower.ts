// Grows one histogram tree over binned rows: leaf-wise (best gain first, up to max leaves) or depth-wise,
// with the larger child's histogram taken as parent minus the smaller child's. Shared by gradient
// boosting (Newton leaves) and random forests (impurity splits, mean leaves); all buffers are reused.
import type { Random } from '../../core/random.js';
import { resized } from '../types.js';
import { addSegmentSums, expandFeature, sumGroups } from './histogram.js';
import { BIN_STRIDE, SCAN_RECORD, SEARCH_ENTRY, SEARCH_ENTRY_BYTES, type Kernels } from './kernels.js';
import { phaseDone, phaseStart } from './profile.js';
import { bestOfParts, fillPartTable, setStepArguments } from './split-step.js';
import { segmentStart, type BinnedData } from './binning.js';
import type { Workspace } from './workspace.js';

export type Criterion = 'newton' | 'entropy';
export type Growth = 'leafwise' | 'depthwise';

export interface GrowerSettings {
  /** newton: gain G²/(H+λ) (also gini and variance reduction with λ = 0); entropy: information gain. */
  criterion: Criterion;
  /** newton: leaf = -G/(H+λ)·shrinkage (boosting); mean: leaf = G/H (forests). */
  leafOutput: 'newton' | 'mean';
  l2: number;
  shrinkage: number;
  /** 0 = no limit. */
  maxLeaves: number;
  /** 0 = no limit. */
  maxDepth: number;
  minSamplesLeaf: number;
  minSamplesSplit: number;
  minHessianLeaf: number;
  growth: Growth;
  /** Features drawn at each split (random forests); 0 = every allowed feature. */
  featuresPerSplit: number;
  /** Stop at nodes whose labels are all equal (classification forests: gradient = weight × label). */
  stopWhenPure: boolean;
  /**
   * The grown tree's leaves own their positions (boosting reads each row's leaf from them). Without, a
   * split whose children both stay leaves moves no rows: only their counts and sums are kept.
   */
  leafRows: boolean;
}

/** The heavy per-node steps, on the calling thread or spread over workers (with the same results). */
export interface NodeOperations {
  /** Fills a histogram slot for positions [start, end). */
  build(slot: number, start: number, end: number, identity: boolean): void;
  /**
   * Stable partition of positions [start, end) by the workspace's table on group column `column` (an
   * address); returns the first right position.
   */
  partition(column: number, start: number, end: number): number;
  /** Threads that share a split's step (see splitStepPart); absent or 1 when the calling thread is alone. */
  readonly stepThreads?: number;
  /** Runs parts 0 … parts - 1 of the split step whose arguments are in the workspace's step area. */
  step?(parts: number): void;
  /**
   * Segments a node's positions are kept in: 1, one range of positions (build and partition above), or
   * one a thread, each thread's rows staying in its own segment (the training rows dealt to them, see
   * dealRows in binning.ts) so that a split is one step on every thread: each segment partitioned,
   * then the histogram of one child's rows in it summed (splitSegments). A node's histogram is then the
   * sum of its segments', which gradient boosting's grids make exact (see exactGrid), so any count gives
   * the same trees.
   */
  readonly segments?: number;
  /**
   * segments > 1: the histogram of the node whose range in each segment is in the workspace's
   * segmentRanges, each segment's into slot `slot` (the first) or its own area (the others).
   */
  buildSegments?(slot: number, identity: boolean): void;
  /**
   * segments > 1: partitions each segment's range of a node (in the workspace's segmentRanges, where each
   * segment's first right position is written) by the table on group column `column`, then, for `side`
   * 0 (left) or 1 (right), sums that child's histogram as buildSegments does (-1: none).
   */
  splitSegments?(column: number, side: number, slot: number): void;
}

/** Histogram slots of a workspace: one per open node, a fixed number (the same on every thread count). */
export class HistogramPool {
  private readonly free: number[] = [];
  private used = 0;

  constructor(private readonly capacity: number) {}

  /** A free slot, or -1 when all are taken. */
  acquire(): number {
    if (this.free.length > 0) return this.free.pop() as number;
    return this.used < this.capacity ? this.used++ : -1;
  }

  release(slot: number): void {
    if (slot >= 0) this.free.push(slot);
  }

  reset(): void {
    this.free.length = 0;
    this.used = 0;
  }
}

/** The node steps on the calling thread. */
export class LocalNodeOperations implements NodeOperations {
  constructor(private readonly workspace: Workspace) {}

  partition(column: number, start: number, end: number): number {
    const { kernels, plan } = this.workspace;
    return kernels.partition(column, plan.tableAt, plan.rowsAt, start, end, plan.scratchRowsAt);
  }

  build(slot: number, start: number, end: number, identity: boolean): void {
    sumGroups(this.workspace, 0, this.workspace.slotAddress(slot), start, end, identity);
  }
}

const NO_SPLIT = -1;

// The root's sums are added up by these two rather than in growRoot: a function with a loop is soon
// compiled by V8's optimising compiler, with what it calls inlined, while growRoot, which runs once a
// tree, is then left in its baseline code. A fresh one-thread forest fit then compiles about 10 ms less
// (medians of 52 against 62 ms), which on two threads would share the cores with the training.

/** The root's sums over the `count` bins of the histogram at `from` (in `histograms`), in bin order. */
function sumPairs(
  histograms: Float64Array,
  from: number,
  count: number,
  tree: GrownTree,
  root: number,
): void {
  let sumGradient = 0;
  let sumHessian = 0;
  for (let b = 0; b < count; b++) {
    sumGradient += histograms[from + b * BIN_STRIDE];
    sumHessian += histograms[from + b * BIN_STRIDE + 1];
  }
  tree.sumGradient[root] = sumGradient;
  tree.sumHessian[root] = sumHessian;
}

/** The root's sums over the pairs of the rows at positions [0, count), in order (no histogram to read). */
function rowSums(workspace: Workspace, count: number, tree: GrownTree, root: number): void {
  const { gh, rows } = workspace;
  let sumGradient = 0;
  let sumHessian = 0;
  for (let i = 0; i < count; i++) {
    const row = rows[i];
    sumGradient += gh[2 * row];
    sumHessian += gh[2 * row + 1];
  }
  tree.sumGradient[root] = sumGradient;
  tree.sumHessian[root] = sumHessian;
}

type Scan = Kernels['scanBins'];

/** Node records of the tree being grown (children are allocated in pairs: right = left + 1). */
export class GrownTree {
  count = 0;
  /** Node k's positions in segment s (see NodeOperations.segments) are [start[k·segments + s], end[k·segments + s]). */
  start: Int32Array;
  end: Int32Array;
  /** Rows in the node, over every segment. */
  size = new Int32Array(64);
  depth = new Int32Array(64);
  slot = new Int32Array(64);
  sumGradient = new Float64Array(64);
  sumHessian = new Float64Array(64);
  /** Split feature, or -1 for a leaf. */
  feature = new Int32Array(64);
  /** Rows whose bin is at most this go left. */
  bin = new Int32Array(64);
  missingLeft = new Uint8Array(64);
  gain = new Float64Array(64);
  leftGradient = new Float64Array(64);
  leftHessian = new Float64Array(64);
  leftCount = new Float64Array(64);
  left = new Int32Array(64);
  /** Split threshold on raw values (x <= threshold goes left), or the output of a leaf. */
  value = new Float64Array(64);

  constructor(readonly segments = 1) {
    this.start = new Int32Array(64 * segments);
    this.end = new Int32Array(64 * segments);
  }

  /** A node of `size` rows (its ranges of positions are set by the caller). */
  add(size: number, depth: number, sumGradient: number, sumHessian: number): number {
    if (this.count === this.size.length) this.grow();
    const k = this.count++;
    this.size[k] = size;
    this.depth[k] = depth;
    this.slot[k] = -1;
    this.sumGradient[k] = sumGradient;
    this.sumHessian[k] = sumHessian;
    this.feature[k] = NO_SPLIT;
    this.bin[k] = 0;
    this.missingLeft[k] = 0;
    this.gain[k] = 0;
    this.left[k] = -1;
    this.value[k] = 0;
    return k;
  }

  private grow(): void {
    const size = this.size.length * 2;
    this.start = resized(this.start, size * this.segments);
    this.end = resized(this.end, size * this.segments);
    this.size = resized(this.size, size);
    this.depth = resized(this.depth, size);
    this.slot = resized(this.slot, size);
    this.sumGradient = resized(this.sumGradient, size);
    this.sumHessian = resized(this.sumHessian, size);
    this.feature = resized(this.feature, size);
    this.bin = resized(this.bin, size);
    this.missingLeft = resized(this.missingLeft, size);
    this.gain = resized(this.gain, size);
    this.leftGradient = resized(this.leftGradient, size);
    this.leftHessian = resized(this.leftHessian, size);
    this.leftCount = resized(this.leftCount, size);
    this.left = resized(this.left, size);
    this.value = resized(this.value, size);
  }

  isLeaf(k: number): boolean {
    return this.left[k] < 0;
  }
}

export class TreeGrower {
  readonly tree: GrownTree;
  /** Per feature: may it be used in the current tree (column subsampling). */
  readonly featureAllowed: Uint8Array;
  private readonly data: BinnedData;
  private readonly pool: HistogramPool;
  /** A packed feature's own histogram while it is searched (in the calling thread's kernel scratch). */
  private readonly expanded: Float64Array;
  /** The best split of the search so far (SCAN_RECORD, in the kernel scratch after `expanded`). */
  private readonly best: Float64Array;
  private readonly candidates: Int32Array;
  /** The allowed features in the workspace's search table (see Kernels.searchFeatures). */
  private searchCount = 0;
  /** Per allowed feature, its place in the search table. */
  private readonly searchEntry: Int32Array;
  private readonly open: OpenNodes;
  /** Parts a split's step is shared in (see splitStepPart): the builder's threads, at most the active groups; 1 for none. */
  private stepParts = 1;

  constructor(
    private readonly workspace: Workspace,
    private readonly builder: NodeOperations,
    private readonly settings: GrowerSettings,
  ) {
    this.data = workspace.data;
    this.tree = new GrownTree(builder.segments ?? 1);
    const { layout } = this.data;
    this.pool = new HistogramPool(workspace.plan.capacity);
    this.featureAllowed = new Uint8Array(layout.features).fill(1);
    workspace.groupActive.fill(1);
    // the split search runs between the calling thread's histogram passes, so their scratch is free
    const scratchAt = workspace.plan.kernelScratchAt[0];
    this.expanded = new Float64Array(workspace.memory.buffer, scratchAt, 256 * BIN_STRIDE);
    this.best = new Float64Array(workspace.memory.buffer, scratchAt + 256 * BIN_STRIDE * 8, 6);
    this.candidates = new Int32Array(layout.features);
    this.searchEntry = new Int32Array(layout.features);
    this.open = new OpenNodes(
      settings.growth === 'leafwise' ? 'best' : settings.maxLeaves > 0 ? 'fifo' : 'lifo',
    );
    this.fillSearchTable();
  }

  /** Restricts the next trees to `allowed` features (1 = allowed); groups with no allowed member are skipped. */
  allowFeatures(allowed: Uint8Array | undefined): void {
    const { layout } = this.data;
    const groupActive = this.workspace.groupActive;
    if (allowed) this.featureAllowed.set(allowed);
    else this.featureAllowed.fill(1);
    groupActive.fill(0);
    for (let f = 0; f < layout.features; f++) {
      if (this.featureAllowed[f] === 1 && layout.featureGroup[f] >= 0)
        groupActive[layout.featureGroup[f]] = 1;
    }
    this.fillSearchTable();
  }

  /** The allowed features, in order, as Kernels.searchFeatures reads them. */
  private fillSearchTable(): void {
    const { layout, mapper } = this.data;
    const { plan, searchTable: table } = this.workspace;
    const stride = SEARCH_ENTRY_BYTES / 4;
    let count = 0;
    for (let f = 0; f < layout.features; f++) {
      const g = layout.featureGroup[f];
      if (this.featureAllowed[f] === 0 || g < 0) continue;
      this.searchEntry[f] = count;
      const at = count++ * stride;
      table[at + SEARCH_ENTRY.offset / 4] = layout.groupOffset[g] * BIN_STRIDE * 8;
      table[at + SEARCH_ENTRY.valueBins / 4] = mapper.valueBins[f];
      table[at + SEARCH_ENTRY.missing / 4] = mapper.hasMissing[f];
      table[at + SEARCH_ENTRY.digits / 4] = layout.packed[f] === 1 ? plan.digitsAt + f * 256 : 0;
      table[at + SEARCH_ENTRY.groupBins / 4] = layout.groupBins[g];
      table[at + SEARCH_ENTRY.feature / 4] = f;
    }
    this.searchCount = count;
    this.fillPartTable();
  }

  /**
   * The search table again for a split step's parts (the entries of each part's groups together, each
   * part's in feature order), when the builder shares steps between threads and gradient boosting
   * searches every allowed feature (no features drawn, the Newton criterion).
   */
  private fillPartTable(): void {
    const { settings } = this;
    const threads = this.builder.stepThreads ?? 1;
    this.stepParts =
      threads > 1 && settings.criterion === 'newton' && settings.featuresPerSplit === 0
        ? fillPartTable(this.workspace, threads, this.searchCount)
        : 1;
  }

  /**
   * Grows a tree over positions [0, count) of the workspace: rows in ascending order (`identity` when
   * position i holds row i), their gradient pairs in `gh` by row. `random` draws the features tried at
   * each split when featuresPerSplit > 0.
   */
  grow(count: number, identity: boolean, random: Random | undefined): GrownTree {
    const tree = this.tree;
    const settings = this.settings;
    tree.count = 0;
    this.pool.reset();
    this.open.clear();
    this.growRoot(count, identity, random);
    // the best open node split a call, until none is left or the leaves are all made
    for (let leaves = 1; this.open.size > 0 && (settings.maxLeaves === 0 || leaves < settings.maxLeaves);)
      this.splitNext(++leaves, random);
    this.open.clear();
    this.finishLeaves();
    return tree;
  }

  /** The root over positions [0, count): its sums (from its histogram when it has one), and its best split. */
  private growRoot(count: number, identity: boolean, random: Random | undefined): void {
    const tree = this.tree;
    const segments = tree.segments;
    const root = tree.add(count, 0, 0, 0);
    // the root's positions cut as the rows are dealt to the segments (see dealRows)
    for (let s = 0; s < segments; s++) {
      tree.start[s] = segmentStart(s, count, segments);
      tree.end[s] = segmentStart(s + 1, count, segments);
    }
    const firstGroup = this.workspace.groupActive.indexOf(1);
    let rootSlot = -1;
    if (firstGroup >= 0 && this.largeEnough(count, 0)) {
      rootSlot = this.pool.acquire();
      const started = phaseStart();
      if (segments > 1) {
        this.shareRanges(root);
        this.builder.buildSegments?.(rootSlot, identity);
        addSegmentSums(this.workspace, rootSlot, segments);
      } else {
        this.builder.build(rootSlot, 0, count, identity);
      }
      phaseDone('histograms', started, count);
      // the sums come from one column's histogram: summed in one fixed order, whichever thread built it
      const { layout } = this.data;
      const from = rootSlot * this.workspace.slotLength + layout.groupOffset[firstGroup] * BIN_STRIDE;
      sumPairs(this.workspace.histograms, from, layout.groupBins[firstGroup], tree, root);
    } else {
      rowSums(this.workspace, count, tree, root);
    }
    if (rootSlot >= 0 && this.splittable(root)) {
      tree.slot[root] = rootSlot;
      if (this.findSplit(root, random)) this.open.push(root, tree.gain[root]);
      else this.releaseSlot(root);
    } else {
      this.pool.release(rootSlot);
    }
  }

  /**
   * Splits the best open node (the `leaves`-th leaf is made by this split): its rows moved, and each child
   * either opened with its histogram and best split, or made a leaf.
   */
  private splitNext(leaves: number, random: Random | undefined): void {
    const tree = this.tree;
    const settings = this.settings;
    const node = this.open.pop();
    const lastSplit = settings.maxLeaves > 0 && leaves >= settings.maxLeaves;
    // the children's counts and sums come with the split, before any row moves
    const depth = tree.depth[node] + 1;
    const leftCount = tree.leftCount[node];
    const rightCount = tree.size[node] - leftCount;
    const leftGradient = tree.leftGradient[node];
    const leftHessian = tree.leftHessian[node];
    const splitLeft = !lastSplit && this.splittableAs(leftCount, depth, leftGradient, leftHessian);
    const splitRight =
      !lastSplit &&
      this.splittableAs(
        rightCount,
        depth,
        tree.sumGradient[node] - leftGradient,
        tree.sumHessian[node] - leftHessian,
      );
    // the smaller child's histogram is summed (of equal ones, the left), the larger's taken by subtraction
    const smallIsLeft = leftCount <= rightCount;
    // in segments the smaller child's histogram is summed in the partition's step: its slot is taken first
    const segmented = tree.segments > 1;
    const early = segmented && (splitLeft || splitRight) ? this.pool.acquire() : -1;
    const left = this.applySplit(
      node,
      settings.leafRows || splitLeft || splitRight,
      early >= 0 ? (smallIsLeft ? 0 : 1) : -1,
      early,
    );
    const right = left + 1;
    if (!splitLeft && !splitRight) {
      this.releaseSlot(node);
      return;
    }
    const small = smallIsLeft ? left : right;
    const large = small === left ? right : left;
    const smallSlot = segmented ? early : this.pool.acquire();
    if (smallSlot < 0) {
      this.releaseSlot(node);
      return;
    }
    tree.slot[small] = smallSlot;
    const parentSlot = tree.slot[node];
    tree.slot[node] = -1;
    const largeSplittable = small === left ? splitRight : splitLeft;
    const smallSplittable = small === left ? splitLeft : splitRight;
    if (this.stepParts > 1 && random === undefined) {
      this.step(small, large, smallSplittable, largeSplittable, parentSlot);
      return;
    }
    let started = phaseStart();
    // in segments, the segments' sums of the smaller child added up
    if (segmented) addSegmentSums(this.workspace, smallSlot, tree.segments);
    else this.builder.build(smallSlot, tree.start[small], tree.end[small], false);
    phaseDone('histograms', started, tree.size[small]);
    if (largeSplittable) {
      started = phaseStart();
      const { kernels, slotLength } = this.workspace;
      kernels.subtractDoubles(
        this.workspace.slotAddress(parentSlot),
        this.workspace.slotAddress(smallSlot),
        slotLength,
      );
      tree.slot[large] = parentSlot;
      phaseDone('subtraction', started);
    } else {
      this.pool.release(parentSlot);
    }
    // the smaller child first, so that ties in the open set resolve the same way every time
    for (const child of small === left ? [left, right] : [right, left]) {
      const canSplit = child === small ? smallSplittable : largeSplittable;
      if (canSplit && this.findSplit(child, random)) this.open.push(child, tree.gain[child]);
      else this.releaseSlot(child);
    }
  }

  /**
   * A split's children in one step shared by threads by columns (see splitStepPart; rows in one range):
   * the smaller child's histogram, the larger's by subtraction, and the search of each child to be split,
   * part by part; then each child's best split over the parts. Counted as the smaller child's histogram
   * in the profile.
   */
  private step(
    small: number,
    large: number,
    smallSplittable: boolean,
    largeSplittable: boolean,
    parentSlot: number,
  ): void {
    const tree = this.tree;
    const settings = this.settings;
    const started = phaseStart();
    const children = [small, large];
    const splittable = [smallSplittable, largeSplittable];
    const scores = children.map((node) => this.score(tree.sumGradient[node], tree.sumHessian[node]));
    setStepArguments(this.workspace, {
      smallSlot: tree.slot[small],
      start: tree.start[small],
      end: tree.end[small],
      parentSlot: largeSplittable ? parentSlot : -1,
      settings,
      children: children.map((node, c) => ({
        search: splittable[c],
        rows: tree.size[node],
        sumGradient: tree.sumGradient[node],
        sumHessian: tree.sumHessian[node],
        score: scores[c],
      })),
    });
    this.builder.step?.(this.stepParts);
    if (largeSplittable) tree.slot[large] = parentSlot;
    else this.pool.release(parentSlot);
    phaseDone('histograms', started, tree.size[small]);
    // the smaller child first, so that ties in the open set resolve the same way every time
    for (let c = 0; c < 2; c++) {
      const node = children[c];
      if (splittable[c] && this.takeStep(node, c, scores[c])) this.open.push(node, tree.gain[node]);
      else this.releaseSlot(node);
    }
  }

  /**
   * The best of the parts' splits of child `child` (0 the smaller) made the node's, as takeSplit does with
   * one search: the highest gain, and of equal gains the lowest feature, which is the one a search in
   * feature order keeps (it replaces its best only on a higher gain).
   */
  private takeStep(node: number, child: number, parentScore: number): boolean {
    const best = bestOfParts(this.workspace, this.stepParts, child);
    if (best.at >= 0) this.best.set(this.workspace.partRecords.subarray(best.at, best.at + 6));
    else this.best[SCAN_RECORD.gain] = 0;
    return this.takeSplit(node, best.feature, parentScore);
  }

  private releaseSlot(node: number): void {
    this.pool.release(this.tree.slot[node]);
    this.tree.slot[node] = -1;
  }

  /** Depth and row count allow a split (the sums are not needed yet). */
  private largeEnough(count: number, depth: number): boolean {
    const settings = this.settings;
    if (settings.maxDepth > 0 && depth >= settings.maxDepth) return false;
    return count >= 2 * settings.minSamplesLeaf && count >= settings.minSamplesSplit;
  }

  private splittable(node: number): boolean {
    const tree = this.tree;
    return this.splittableAs(
      tree.size[node],
      tree.depth[node],
      tree.sumGradient[node],
      tree.sumHessian[node],
    );
  }

  /** Whether a node of `count` rows at `depth` with sums (g, h) may be split. */
  private splittableAs(count: number, depth: number, g: number, h: number): boolean {
    const settings = this.settings;
    if (!this.largeEnough(count, depth)) return false;
    if (h < 2 * settings.minHessianLeaf) return false;
    if (settings.stopWhenPure && (g === 0 || g === h)) return false;
    return true;
  }

  private score(g: number, h: number): number {
    if (this.settings.criterion === 'newton') return (g * g) / (h + this.settings.l2);
    // weighted negative entropy: g is the weight of class 1, h the total weight
    const other = h - g;
    return (
      (g > 0 ? g * Math.log(g) : 0) +
      (other > 0 ? other * Math.log(other) : 0) -
      (h > 0 ? h * Math.log(h) : 0)
    );
  }

  /** Finds the node's best split over the allowed (or drawn) features; false when none improves. */
  private findSplit(node: number, random: Random | undefined): boolean {
    const started = phaseStart();
    const found = this.searchSplit(node, random);
    phaseDone('split search', started, this.tree.size[node]);
    return found;
  }

  private searchSplit(node: number, random: Random | undefined): boolean {
    const tree = this.tree;
    const { layout, mapper } = this.data;
    const settings = this.settings;
    const histograms = this.workspace.histograms;
    const slotAt = this.workspace.slotAddress(tree.slot[node]);
    const total = tree.size[node];
    const sumGradient = tree.sumGradient[node];
    const sumHessian = tree.sumHessian[node];
    const parentScore = this.score(sumGradient, sumHessian);
    const best = this.best;
    const bestAt = best.byteOffset;

    best[SCAN_RECORD.gain] = 0;
    const newton = settings.criterion === 'newton';
    const draws = settings.featuresPerSplit > 0 && random !== undefined;
    /** Kernels.searchFeatures over `count` entries of the search table from entry `first`. */
    const searchEntries = (first: number, count: number): number =>
      this.workspace.kernels.searchFeatures(
        slotAt,
        this.workspace.plan.searchTableAt + first * SEARCH_ENTRY_BYTES,
        count,
        total,
        sumGradient,
        sumHessian,
        settings.minSamplesLeaf,
        settings.minHessianLeaf,
        settings.l2,
        parentScore,
        bestAt,
        this.expanded.byteOffset,
      );
    // every allowed feature in order: one kernel call
    if (newton && !draws) return this.takeSplit(node, searchEntries(0, this.searchCount), parentScore);
    let candidateCount = 0;
    for (let f = 0; f < layout.features; f++) {
      if (this.featureAllowed[f] === 1 && layout.featureGroup[f] >= 0) this.candidates[candidateCount++] = f;
    }
    const drawn = draws ? Math.min(settings.featuresPerSplit, candidateCount) : candidateCount;

    let bestFeature = NO_SPLIT;
    for (let c = 0; c < candidateCount; c++) {
      // forests: draw features one at a time; keep drawing past the quota until one gives a valid split
      if (drawn < candidateCount) {
        if (c >= drawn && bestFeature !== NO_SPLIT) break;
        const j = c + (random as Random).nextInt(candidateCount - c);
        const swap = this.candidates[c];
        this.candidates[c] = this.candidates[j];
        this.candidates[j] = swap;
      }
      const f = this.candidates[c];
      if (newton) {
        // the drawn feature's entry of the search table, its expansion included
        if (searchEntries(this.searchEntry[f], 1) >= 0) bestFeature = f;
        continue;
      }
      const g = layout.featureGroup[f];
      let histogramAt = slotAt + layout.groupOffset[g] * BIN_STRIDE * 8;
      if (layout.packed[f] === 1) {
        expandFeature(
          histograms,
          (histogramAt - histograms.byteOffset) / 8,
          layout.groupBins[g],
          layout.digits[f],
          layout.featureBins[f],
          this.expanded,
          0,
        );
        histogramAt = this.expanded.byteOffset;
      }
      // information gain: the same scan in JavaScript (scanEntropy)
      const improved = this.scanEntropy(
        histogramAt,
        mapper.valueBins[f],
        mapper.hasMissing[f],
        total,
        sumGradient,
        sumHessian,
        settings.minSamplesLeaf,
        settings.minHessianLeaf,
        settings.l2,
        parentScore,
        bestAt,
      );
      if (improved === 1) bestFeature = f;
    }
    return this.takeSplit(node, bestFeature, parentScore);
  }

  /**
   * Makes the search's best split (feature `feature`, the record in `best`) the node's, unless there is
   * none or its gain is rounding noise on a node that cannot improve.
   */
  private takeSplit(node: number, feature: number, parentScore: number): boolean {
    const best = this.best;
    if (feature === NO_SPLIT || !(best[SCAN_RECORD.gain] > 1e-12 * Math.abs(parentScore))) return false;
    const tree = this.tree;
    tree.feature[node] = feature;
    tree.bin[node] = best[SCAN_RECORD.bin];
    tree.missingLeft[node] = best[SCAN_RECORD.missingLeft];
    tree.gain[node] = best[SCAN_RECORD.gain];
    tree.leftGradient[node] = best[SCAN_RECORD.leftGradient];
    tree.leftHessian[node] = best[SCAN_RECORD.leftHessian];
    tree.leftCount[node] = best[SCAN_RECORD.leftCount];
    return true;
  }

  /**
   * Kernels.scanBins for the entropy criterion (information gain needs logarithms, which WebAssembly
   * lacks): the same scan of one feature's histogram at `histogramAt`, into the same record.
   */
  private readonly scanEntropy: Scan = (
    histogramAt,
    valueBins,
    hasMissing,
    total,
    sumGradient,
    sumHessian,
    minSamples,
    minHessian,
    _l2,
    parentScore,
  ) => {
    const memory = new Float64Array(this.workspace.memory.buffer);
    const offset = histogramAt / 8;
    const best = this.best;
    let improved = 0;
    let missingGradient = 0;
    let missingHessian = 0;
    let missingCount = 0;
    if (hasMissing === 1) {
      const m = offset + valueBins * BIN_STRIDE;
      missingGradient = memory[m];
      missingHessian = memory[m + 1];
      missingCount = memory[m + 2];
    }
    for (let pass = 0; pass < 2; pass++) {
      if (pass === 1 && missingCount === 0) break;
      let leftGradient = pass === 1 ? missingGradient : 0;
      let leftHessian = pass === 1 ? missingHessian : 0;
      let leftCount = pass === 1 ? missingCount : 0;
      const lastBin = pass === 0 && missingCount > 0 ? valueBins - 1 : valueBins - 2;
      for (let b = 0; b <= lastBin; b++) {
        const k = offset + b * BIN_STRIDE;
        leftGradient += memory[k];
        leftHessian += memory[k + 1];
        leftCount += memory[k + 2];
        if (leftCount < minSamples || leftHessian < minHessian) continue;
        const rightCount = total - leftCount;
        const rightHessian = sumHessian - leftHessian;
        if (rightCount < minSamples || rightHessian < minHessian) break;
        const gain =
          this.score(leftGradient, leftHessian) +
          this.score(sumGradient - leftGradient, rightHessian) -
          parentScore;
        if (gain > best[SCAN_RECORD.gain] && gain < Infinity) {
          best[SCAN_RECORD.gain] = gain;
          best[SCAN_RECORD.bin] = b;
          best[SCAN_RECORD.missingLeft] = missingCount > 0 ? pass : leftCount >= rightCount ? 1 : 0;
          best[SCAN_RECORD.leftGradient] = leftGradient;
          best[SCAN_RECORD.leftHessian] = leftHessian;
          best[SCAN_RECORD.leftCount] = leftCount;
          improved = 1;
        }
      }
    }
    return improved;
  };

  /**
   * Partitions the node's positions (stable: each side keeps ascending row order) and adds its two
   * children; with `moveRows` false (children that stay leaves, see leafRows; never in segments) the rows
   * stay where they are and the children only get their counts. In segments, `side` 0 or 1 also sums
   * that child's histogram into slot `slot` and the segments' areas (see NodeOperations.splitSegments).
   */
  private applySplit(node: number, moveRows: boolean, side: number, slot: number): number {
    const tree = this.tree;
    const { layout, mapper, columns } = this.data;
    const f = tree.feature[node];
    const g = layout.featureGroup[f];
    const digits = layout.digits[f];
    const bin = tree.bin[node];
    const missingBin = mapper.hasMissing[f] === 1 ? mapper.valueBins[f] : -1;
    const missingLeft = tree.missingLeft[node] === 1;
    const segments = tree.segments;
    const start = tree.start[node];
    const end = tree.end[node];
    const size = tree.size[node];
    let leftEnd = start + tree.leftCount[node];
    if (moveRows || segments > 1) {
      const table = this.workspace.table;
      for (let code = 0; code < layout.groupBins[g]; code++) {
        const digit = digits[code];
        table[code] = digit <= bin || (digit === missingBin && missingLeft) ? 1 : 0;
      }
      const started = phaseStart();
      if (segments > 1) {
        this.shareRanges(node);
        this.builder.splitSegments?.(columns[g].byteOffset, side, slot);
      } else {
        leftEnd = this.builder.partition(columns[g].byteOffset, start, end);
      }
      phaseDone('partition', started, size);
    }

    const edges = mapper.edges[f];
    tree.value[node] = bin < edges.length ? edges[bin] : Infinity;
    const depth = tree.depth[node] + 1;
    const leftGradient = tree.leftGradient[node];
    const leftHessian = tree.leftHessian[node];
    const leftCount = tree.leftCount[node];
    const left = tree.add(leftCount, depth, leftGradient, leftHessian);
    tree.add(
      size - leftCount,
      depth,
      tree.sumGradient[node] - leftGradient,
      tree.sumHessian[node] - leftHessian,
    );
    tree.left[node] = left;
    if (segments > 1) {
      const ranges = this.workspace.segmentRanges;
      for (let s = 0; s < segments; s++) {
        const split = ranges[3 * s + 2];
        tree.start[left * segments + s] = ranges[3 * s];
        tree.end[left * segments + s] = split;
        tree.start[(left + 1) * segments + s] = split;
        tree.end[(left + 1) * segments + s] = ranges[3 * s + 1];
      }
    } else {
      tree.start[left] = start;
      tree.end[left] = leftEnd;
      tree.start[left + 1] = leftEnd;
      tree.end[left + 1] = end;
    }
    return left;
  }

  /** The node's range in each segment, into the workspace's segmentRanges for the node operations. */
  private shareRanges(node: number): void {
    const tree = this.tree;
    const segments = tree.segments;
    const ranges = this.workspace.segmentRanges;
    for (let s = 0; s < segments; s++) {
      ranges[3 * s] = tree.start[node * segments + s];
      ranges[3 * s + 1] = tree.end[node * segments + s];
    }
  }

  private finishLeaves(): void {
    const tree = this.tree;
    const { l2, shrinkage, leafOutput } = this.settings;
    for (let k = 0; k < tree.count; k++) {
      if (tree.left[k] >= 0) continue;
      tree.feature[k] = NO_SPLIT;
      tree.gain[k] = 0;
      tree.slot[k] = -1;
      const g = tree.sumGradient[k];
      const h = tree.sumHessian[k];
      const weight = leafOutput === 'newton' ? h + l2 : h;
      tree.value[k] = weight > 0 ? (leafOutput === 'newton' ? (-g / weight) * shrinkage : g / weight) : 0;
    }
  }

  /** The leaf a training row (by row number) falls in, following the binned splits. */
  leafOfRow(row: number): number {
    const tree = this.tree;
    const { layout, mapper, columns } = this.data;
    let node = 0;
    while (tree.left[node] >= 0) {
      const f = tree.feature[node];
      const digit = layout.digits[f][columns[layout.featureGroup[f]][row]];
      const missing = mapper.hasMissing[f] === 1 && digit === mapper.valueBins[f];
      const toLeft = missing ? tree.missingLeft[node] === 1 : digit <= tree.bin[node];
      node = toLeft ? tree.left[node] : tree.left[node] + 1;
    }
    return node;
  }
}

/**
 * The nodes waiting to be split: by best gain (leaf-wise), in order (breadth-first) or last first (depth-first).
 * Kept in typed arrays: numbers of one kind whatever the gains are, so compiled code meets one shape.
 */
class OpenNodes {
  private nodes = new Int32Array(64);
  private gains = new Float64Array(64);
  /** Entries [head, end) are open. */
  private head = 0;
  private end = 0;

  constructor(private readonly order: 'best' | 'fifo' | 'lifo') {}

  get size(): number {
    return this.end - this.head;
  }

  clear(): void {
    this.head = 0;
    this.end = 0;
  }

  push(node: number, gain: number): void {
    if (this.end === this.nodes.length) {
      this.nodes = resized(this.nodes, this.end * 2);
      this.gains = resized(this.gains, this.end * 2);
    }
    this.nodes[this.end] = node;
    this.gains[this.end++] = gain;
  }

  pop(): number {
    if (this.order === 'fifo') return this.nodes[this.head++];
    if (this.order === 'lifo') return this.nodes[--this.end];
    // few open nodes (at most max leaves): a scan is cheaper than keeping a heap; the lowest node wins ties
    const { nodes, gains } = this;
    let best = 0;
    for (let i = 1; i < this.end; i++) {
      if (gains[i] > gains[best] || (gains[i] === gains[best] && nodes[i] < nodes[best])) best = i;
    }
    const node = nodes[best];
    const last = --this.end;
    nodes[best] = nodes[last];
    gains[best] = gains[last];
    return node;
  }
}
