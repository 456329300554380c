// The path arithmetic of TreeSHAP: the EXTEND / UNWIND steps of Lundberg, Erion & Lee's Algorithm 2 over
// a flat path of (feature, zero share, one share, weight) entries, and the Gauss-Legendre rules the
// quadrature method sums a leaf's Shapley weights with.

/** Numbers per path entry, and their places in it. */
export const ENTRY = 4;
export const FEATURE = 0;
export const ZERO = 1;
export const ONE = 2;
export const WEIGHT = 3;

/** EXTEND: adds an entry for `feature` at index `depth` of the path at `at0` and updates the subset-size weights. */
export function extendPath(
  path: Float64Array,
  at0: number,
  depth: number,
  zeroFraction: number,
  oneFraction: number,
  feature: number,
): void {
  const entry = at0 + depth * ENTRY;
  path[entry + FEATURE] = feature;
  path[entry + ZERO] = zeroFraction;
  path[entry + ONE] = oneFraction;
  path[entry + WEIGHT] = depth === 0 ? 1 : 0;
  const size = depth + 1;
  for (let i = depth - 1; i >= 0; i--) {
    const weight = path[at0 + i * ENTRY + WEIGHT];
    path[at0 + (i + 1) * ENTRY + WEIGHT] += (oneFraction * weight * (i + 1)) / size;
    path[at0 + i * ENTRY + WEIGHT] = (zeroFraction * weight * (depth - i)) / size;
  }
}

/** UNWIND: removes the entry at `index`, undoing its EXTEND, and closes the gap. */
export function unwindPath(path: Float64Array, at0: number, depth: number, index: number): void {
  const oneFraction = path[at0 + index * ENTRY + ONE];
  const zeroFraction = path[at0 + index * ENTRY + ZERO];
  let nextOnePortion = path[at0 + depth * ENTRY + WEIGHT];
  const size = depth + 1;
  for (let i = depth - 1; i >= 0; i--) {
    const at = at0 + i * ENTRY + WEIGHT;
    if (oneFraction !== 0) {
      const kept = path[at];
      path[at] = (nextOnePortion * size) / ((i + 1) * oneFraction);
      nextOnePortion = kept - (path[at] * zeroFraction * (depth - i)) / size;
    } else {
      path[at] = (path[at] * size) / (zeroFraction * (depth - i));
    }
  }
  for (let i = index; i < depth; i++) {
    const at = at0 + i * ENTRY;
    path[at + FEATURE] = path[at + ENTRY + FEATURE];
    path[at + ZERO] = path[at + ENTRY + ZERO];
    path[at + ONE] = path[at + ENTRY + ONE];
  }
}

/**
 * The n-node Gauss-Legendre rule moved to [0, 1], into nodes / weights from `at`: exact for polynomials
 * of degree up to 2n − 1. Roots of the Legendre polynomial P_n by Newton's method from Chebyshev guesses.
 */
export function gaussLegendre(n: number, nodes: Float64Array, weights: Float64Array, at: number): void {
  for (let i = 0; i < n; i++) {
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let derivative = 1;
    for (let iteration = 0; iteration < 100; iteration++) {
      // P_n(x) and P_n'(x) by the three-term recurrence
      let previous = 1;
      let current = x;
      if (n === 1) current = x;
      else {
        for (let k = 2; k <= n; k++) {
          const next = ((2 * k - 1) * x * current - (k - 1) * previous) / k;
          previous = current;
          current = next;
        }
      }
      derivative = (n * (x * current - previous)) / (x * x - 1);
      const step = current / derivative;
      x -= step;
      if (Math.abs(step) < 1e-16) break;
    }
    nodes[at + i] = (1 - x) / 2;
    weights[at + i] = 1 / ((1 - x * x) * derivative * derivative);
  }
}
