// A wide synthetic table for the train bench's --wide option: many numeric columns of a few kinds (normal,
// whole numbers, heavy-tailed, some missing), the class drawn from a sparse mix of linear and threshold
// effects with noise, so that trees have many features to search and a few that matter.
import { join } from 'node:path';
import { root } from '../common.mjs';

const { Random } = await import(join(root, 'dist', 'core', 'random.js'));

/** `rows` rows of `cols` columns ({ names, columns, y }), the same for the same seed. */
export function wideTable(rows, cols, seed = 7) {
  const random = new Random(seed);
  const names = Array.from({ length: cols }, (_, f) => `x${f}`);
  const columns = names.map(() => new Float64Array(rows));
  // one column in eight carries weight, the rest are noise the search must rule out
  const weights = names.map((_, f) => (f % 8 === 0 ? random.nextNormal() : 0));
  const cuts = names.map(() => random.nextNormal());
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let score = 0;
    for (let f = 0; f < cols; f++) {
      const kind = f % 4;
      const value =
        kind === 0
          ? random.nextNormal()
          : kind === 1
            ? random.nextInt(50)
            : kind === 2
              ? Math.exp(random.nextNormal())
              : random.next() < 0.05
                ? NaN
                : random.nextNormal();
      columns[f][i] = value;
      if (weights[f] === 0 || value !== value) continue;
      const centred = kind === 1 ? (value - 25) / 14 : kind === 2 ? Math.log(value) : value;
      score += weights[f] * centred + (centred > cuts[f] ? 0.5 : -0.5);
    }
    y[i] = score + 1.5 * random.nextNormal() > 0.5 * Math.sqrt(cols / 8) ? 1 : 0;
  }
  return { names, columns, y };
}
