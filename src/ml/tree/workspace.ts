// The working memory of tree growing, in one shared WebAssembly memory that the kernels and worker
// threads see: binned columns, (gradient, hessian) pairs by row, row numbers by position (a node owns
// a range of positions), a forest node's one-byte codes gathered in position order, partition scratch,
// histogram slots, and a kernel scratch area per thread. Sized once per fit; it never grows.
import { errors } from '../../core/errors.js';
import type { BinMapper, BinnedData, PackedLayout } from './binning.js';
import {
  Arena,
  BIN_STRIDE,
  EXP_FRACTIONS,
  EXP_POWERS,
  BUNDLE_ENTRY_BYTES,
  BUNDLE_MAX,
  EXP_TABLE_BYTES,
  instantiateKernels,
  KERNEL_SCRATCH_BYTES,
  SEARCH_ENTRY_BYTES,
  type Kernels,
  type WasmMemory,
} from './kernels.js';

/** Addresses of every region, so that worker threads can make the same views. */
export interface WorkspacePlan {
  rows: number;
  groups: number;
  totalBins: number;
  /** Histogram slots (one per open node). */
  capacity: number;
  threads: number;
  /** Segments a node's rows are kept in (1, or one a thread: see NodeOperations.segments), the training rows dealt to them (dealRows). */
  segments: number;
  columnsAt: number;
  rowsAt: number;
  ghAt: number;
  /** Random forests: a node's one-byte codes in position order (gatherCodes); empty for boosting. */
  orderedAt: number;
  scratchRowsAt: number;
  tableAt: number;
  histogramsAt: number;
  /** A node's sums in each segment after the first (whose are summed into the node's slot; see addSegmentSums). */
  segmentHistogramsAt: number;
  groupActiveAt: number;
  /** The split search's feature table (SEARCH_ENTRY_BYTES a feature; see Kernels.searchFeatures). */
  searchTableAt: number;
  /** Per feature, 256 bytes: a packed feature's digit of each group code (see PackedLayout.digits). */
  digitsAt: number;
  controlAt: number;
  /** A split step's arguments (STEP_ARGS doubles; see splitStepPart in split-step.ts). */
  stepArgsAt: number;
  /** Per part of a split step (one a thread at most) and child: its search's best split (STEP_RECORD doubles). */
  partRecordsAt: number;
  /** Per part: its first entry in the parts' search table and its entry count (two Int32). */
  partEntriesAt: number;
  /** The search table again, the entries of each part together (empty on one thread). */
  partSearchTableAt: number;
  /** Per segment (see NodeOperations.segments): a node's first and end position in it, and its first right position after a split (three Int32). */
  segmentsAt: number;
  /** One per thread (THREAD_SCRATCH_BYTES); the calling thread uses the first. */
  kernelScratchAt: number[];
  /** Random forests: bootstrap draws by row (16-bit), labels by row (bytes) and the generator's state (16 bytes); 0 when absent. */
  forest: { drawsAt: number; labelsAt: number; randomAt: number } | null;
  /** Boosting with one output: scores, targets, weights, leaf of each row and the last tree's leaf values (0 when absent). */
  boosting: {
    rawAt: number;
    yAt: number;
    weightsAt: number;
    leafOfAt: number;
    leafValuesAt: number;
    maxNodes: number;
    expTablesAt: number;
    /** The gradient pass's grids (two doubles: gridG, gridH; see Kernels.boostLogLoss). */
    gridAt: number;
    /** Per segment, the last tree's leaves: first position, end position and leaf number (three Int32 a leaf, maxNodes a segment). */
    leafRangesAt: number;
  } | null;
}

/** Per thread: a kernel scratch area for each group of a histogramGroups call, then its descriptor. */
export const THREAD_SCRATCH_BYTES = BUNDLE_MAX * (KERNEL_SCRATCH_BYTES + BUNDLE_ENTRY_BYTES);

/** Doubles of a split step's arguments (see splitStepPart in split-step.ts). */
export const STEP_ARGS = 18;
/** Doubles of a part's search result: SCAN_RECORD's six, then the feature found (or -1). */
export const STEP_RECORD = 8;

/** Int32 slots in the control block that coordinates worker threads. */
export const CONTROL_SLOTS = 12;

export interface BoostingRegions {
  /** Nodes a tree can have (sizes the leaf values; leaf numbers are 16-bit, so at most 65,536). */
  maxNodes: number;
  weighted: boolean;
}

type PlannedLayout = Pick<PackedLayout, 'features' | 'groups' | 'totalBins'>;

/** The regions every thread of a forest reads and none writes once they are filled: kept once in its memory. */
interface SharedRegions {
  columnsAt: number;
  digitsAt: number;
  /** Random forests: each row's class as a byte (0 when absent). */
  labelsAt: number;
}

function reserveShared(arena: Arena, rows: number, layout: PlannedLayout, forest: boolean): SharedRegions {
  return {
    columnsAt: arena.reserve(rows * layout.groups),
    digitsAt: arena.reserve(layout.features * 256),
    labelsAt: forest ? arena.reserve(rows) : 0,
  };
}

export function planWorkspace(
  rows: number,
  layout: PlannedLayout,
  capacity: number,
  threads: number,
  boosting?: BoostingRegions,
  forest = false,
  segments = 1,
): { plan: WorkspacePlan; memory: WasmMemory } {
  const arena = new Arena();
  const shared = reserveShared(arena, rows, layout, forest);
  const plan = reservePlan(arena, rows, layout, capacity, threads, shared, boosting, forest, segments);
  const memory = arena.create();
  if (plan.boosting) {
    const tables = new Float64Array(memory.buffer, plan.boosting.expTablesAt, EXP_TABLE_BYTES / 8);
    tables.set(EXP_FRACTIONS);
    tables.set(EXP_POWERS, EXP_FRACTIONS.length);
  }
  return { plan, memory };
}

/**
 * One memory for the threads of a random forest, each growing whole trees: the binned columns, the
 * packed features' digit tables and the class codes once (filled by the first thread, see Workspace),
 * and every other region once a thread. A thread more costs its rows, draws and histograms, not
 * another copy of the data.
 */
export function planForestWorkspaces(
  rows: number,
  layout: PlannedLayout,
  capacity: number,
  threads: number,
): { plans: WorkspacePlan[]; memory: WasmMemory } {
  const arena = new Arena();
  const shared = reserveShared(arena, rows, layout, true);
  const plans = Array.from({ length: threads }, () =>
    reservePlan(arena, rows, layout, capacity, 1, shared, undefined, true, 1),
  );
  return { plans, memory: arena.create() };
}

/** Reserves one grower's regions beside the `shared` ones. */
function reservePlan(
  arena: Arena,
  rows: number,
  layout: PlannedLayout,
  capacity: number,
  threads: number,
  shared: SharedRegions,
  boosting: BoostingRegions | undefined,
  forest: boolean,
  segments: number,
): WorkspacePlan {
  const { features, groups, totalBins } = layout;
  return {
    rows,
    groups,
    totalBins,
    capacity,
    threads,
    segments,
    columnsAt: shared.columnsAt,
    rowsAt: arena.reserve(rows * 4),
    ghAt: arena.reserve(rows * 16),
    orderedAt: arena.reserve(forest ? rows : 0),
    scratchRowsAt: arena.reserve(rows * 4),
    tableAt: arena.reserve(256),
    histogramsAt: arena.reserve(capacity * totalBins * BIN_STRIDE * 8),
    segmentHistogramsAt: arena.reserve((segments - 1) * totalBins * BIN_STRIDE * 8),
    groupActiveAt: arena.reserve(groups),
    searchTableAt: arena.reserve(features * SEARCH_ENTRY_BYTES),
    digitsAt: shared.digitsAt,
    controlAt: arena.reserve(CONTROL_SLOTS * 4),
    stepArgsAt: arena.reserve(STEP_ARGS * 8),
    partRecordsAt: arena.reserve(threads * 2 * STEP_RECORD * 8),
    partEntriesAt: arena.reserve(threads * 2 * 4),
    partSearchTableAt: arena.reserve(threads > 1 ? features * SEARCH_ENTRY_BYTES : 0),
    segmentsAt: arena.reserve(segments * 3 * 4),
    kernelScratchAt: Array.from({ length: threads }, () => arena.reserve(THREAD_SCRATCH_BYTES)),
    forest: forest
      ? { drawsAt: arena.reserve(rows * 2), labelsAt: shared.labelsAt, randomAt: arena.reserve(16) }
      : null,
    boosting: boosting
      ? {
          rawAt: arena.reserve(rows * 8),
          yAt: arena.reserve(rows * 8),
          weightsAt: boosting.weighted ? arena.reserve(rows * 8) : 0,
          leafOfAt: arena.reserve(rows * 2),
          leafValuesAt: arena.reserve(boosting.maxNodes * 8),
          maxNodes: boosting.maxNodes,
          expTablesAt: arena.reserve(EXP_TABLE_BYTES),
          gridAt: arena.reserve(2 * 8),
          leafRangesAt: arena.reserve(boosting.maxNodes * segments * 3 * 4),
        }
      : null,
  };
}

export class Workspace {
  readonly kernels: Kernels;
  /** The binned columns, inside this memory. */
  readonly data: BinnedData;
  /** Row number at each position; a node owns a range of positions. */
  readonly rows: Uint32Array;
  /** (gradient, hessian) of each row, by row number. */
  readonly gh: Float64Array;
  /** Partition lookup: group code → 1 when the row goes left. */
  readonly table: Uint8Array;
  readonly histograms: Float64Array;
  readonly groupActive: Uint8Array;
  /** See WorkspacePlan.searchTableAt: SEARCH_ENTRY_BYTES / 4 Int32 a feature. */
  readonly searchTable: Int32Array;
  readonly control: Int32Array;
  /** See WorkspacePlan.stepArgsAt. */
  readonly stepArgs: Float64Array;
  /** See WorkspacePlan.partRecordsAt. */
  readonly partRecords: Float64Array;
  /** See WorkspacePlan.partEntriesAt. */
  readonly partEntries: Int32Array;
  /** See WorkspacePlan.partSearchTableAt. */
  readonly partSearchTable: Int32Array;
  /** Doubles per histogram slot. */
  readonly slotLength: number;
  /** Per thread: its histogramGroups descriptor (four Int32 a group). */
  readonly descriptors: Int32Array[];
  /** See WorkspacePlan.segmentsAt: three Int32 a segment. */
  readonly segmentRanges: Int32Array;
  /** Boosting: the gradient pass's grids (see WorkspacePlan.boosting.gridAt); empty otherwise. */
  readonly grid: Float64Array;

  /**
   * Views over `memory`; with `source`, its binned columns and the packed features' digit tables are copied
   * in (otherwise, a worker's view of another thread's memory, they are already there).
   */
  constructor(
    readonly memory: WasmMemory,
    readonly plan: WorkspacePlan,
    mapper: BinMapper,
    layout: PackedLayout,
    source?: BinnedData,
    module?: object,
  ) {
    const buffer = memory.buffer;
    const n = plan.rows;
    const columns = Array.from(
      { length: plan.groups },
      (_, g) => new Uint8Array(buffer, plan.columnsAt + g * n, n),
    );
    if (source) {
      // the binning wrote the rows in the workspace's order (dealt to its segments)
      if (source.segments !== plan.segments)
        throw new errors.PW_INTERNAL(
          `a workspace of ${plan.segments} segments given rows binned for ${source.segments}`,
        );
      columns.forEach((column, g) => column.set(source.columns[g]));
      for (let f = 0; f < layout.features; f++)
        if (layout.packed[f] === 1)
          new Uint8Array(buffer, plan.digitsAt + f * 256, 256).set(layout.digits[f]);
    }
    this.data = { rows: n, mapper, layout, columns, buffer, segments: plan.segments };
    this.kernels = instantiateKernels(memory, module);
    this.rows = new Uint32Array(buffer, plan.rowsAt, n);
    this.gh = new Float64Array(buffer, plan.ghAt, 2 * n);
    this.table = new Uint8Array(buffer, plan.tableAt, 256);
    this.slotLength = plan.totalBins * BIN_STRIDE;
    this.histograms = new Float64Array(buffer, plan.histogramsAt, plan.capacity * this.slotLength);
    this.groupActive = new Uint8Array(buffer, plan.groupActiveAt, plan.groups);
    this.searchTable = new Int32Array(buffer, plan.searchTableAt, (layout.features * SEARCH_ENTRY_BYTES) / 4);
    this.control = new Int32Array(buffer, plan.controlAt, CONTROL_SLOTS);
    this.stepArgs = new Float64Array(buffer, plan.stepArgsAt, STEP_ARGS);
    this.partRecords = new Float64Array(buffer, plan.partRecordsAt, plan.threads * 2 * STEP_RECORD);
    this.partEntries = new Int32Array(buffer, plan.partEntriesAt, plan.threads * 2);
    this.partSearchTable = new Int32Array(
      buffer,
      plan.partSearchTableAt,
      plan.threads > 1 ? (layout.features * SEARCH_ENTRY_BYTES) / 4 : 0,
    );
    this.segmentRanges = new Int32Array(buffer, plan.segmentsAt, plan.segments * 3);
    this.grid = plan.boosting ? new Float64Array(buffer, plan.boosting.gridAt, 2) : new Float64Array(0);
    this.descriptors = plan.kernelScratchAt.map(
      (at) =>
        new Int32Array(buffer, at + BUNDLE_MAX * KERNEL_SCRATCH_BYTES, (BUNDLE_MAX * BUNDLE_ENTRY_BYTES) / 4),
    );
  }

  /** Address of a node's sums in segment `segment` (1 or more; see addSegmentSums). */
  segmentAddress(segment: number): number {
    return this.plan.segmentHistogramsAt + (segment - 1) * this.slotLength * 8;
  }

  /** Address of histogram slot `slot`. */
  slotAddress(slot: number): number {
    return this.plan.histogramsAt + slot * this.slotLength * 8;
  }
}
