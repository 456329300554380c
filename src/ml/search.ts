// Binary search over sorted bin edges, shared by feature binning, reference statistics and the
// serving monitor, so that all three put a value in the same bin.

/** The number of edges strictly below `value`: its bin among right-closed bins (-∞, e0], (e0, e1], …. */
export function edgesBelow(edges: ArrayLike<number>, value: number): number {
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (edges[middle] < value) low = middle + 1;
    else high = middle;
  }
  return low;
}
