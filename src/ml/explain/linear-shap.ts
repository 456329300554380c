// Exact SHAP values of a linear score (logistic regression's log-odds or class scores) with features taken
// as independent: a column's value is its coefficient times how far the row is from the column's mean.
export class LinearShap {
  readonly features: number;
  readonly outputs: number;
  /** The score of the mean row, per output: the value SHAP values start from. */
  readonly base: Float64Array;

  /**
   * `weights` holds `outputs` rows of `features` coefficients; `means` the columns' training means as
   * the model sees them (a missing value counts as 0, as in the model's own scoring).
   */
  constructor(
    private readonly weights: Float64Array,
    intercepts: ArrayLike<number>,
    private readonly means: Float64Array,
  ) {
    this.outputs = intercepts.length;
    this.features = means.length;
    this.base = new Float64Array(this.outputs);
    for (let o = 0; o < this.outputs; o++) {
      let score = intercepts[o];
      for (let f = 0; f < this.features; f++) score += weights[o * this.features + f] * means[f];
      this.base[o] = score;
    }
  }

  /** Writes output o's value for column f at o · features + f. */
  explainRow(row: ArrayLike<number>, phi: Float64Array): void {
    const features = this.features;
    for (let o = 0; o < this.outputs; o++) {
      for (let f = 0; f < features; f++) {
        const value = row[f];
        const present = value === value ? value : 0;
        phi[o * features + f] = this.weights[o * features + f] * (present - this.means[f]);
      }
    }
  }
}
