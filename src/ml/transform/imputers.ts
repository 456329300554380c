// Fills missing values with a statistic of the training rows: mean, median, most frequent, or a
// constant. Numeric columns and category columns each have their own imputer.
import { errors } from '../../core/errors.js';
import type { CategoryValue } from '../../schema/schema.js';
import type { Transformer } from '../types.js';
import { expectNumber, meanOf, modeOfSorted, presentValues, quantileOf } from './column.js';

export const NUMERIC_IMPUTER_STRATEGIES = ['mean', 'median', 'most_frequent', 'constant'] as const;
export type NumericImputerStrategy = (typeof NUMERIC_IMPUTER_STRATEGIES)[number];
export const CATEGORY_IMPUTER_STRATEGIES = ['most_frequent', 'constant'] as const;
export type CategoryImputerStrategy = (typeof CATEGORY_IMPUTER_STRATEGIES)[number];

export interface NumericImputerJSON {
  strategy: NumericImputerStrategy;
  fillValue: number;
}

/** Replaces NaN with the learned fill value. A column with no training value falls back to the constant (0 by default). */
export class NumericImputer implements Transformer<
  Float64Array,
  Float64Array,
  Float64Array,
  NumericImputerJSON
> {
  private state: { fillValue: number } | undefined;

  constructor(
    readonly strategy: NumericImputerStrategy = 'mean',
    private readonly constant = 0,
  ) {
    if (!NUMERIC_IMPUTER_STRATEGIES.includes(strategy)) {
      throw new errors.PW_CONFIG_INVALID(`Unknown numeric imputer ${JSON.stringify(strategy)}`, {
        hint: `Use one of ${NUMERIC_IMPUTER_STRATEGIES.join(', ')} or none.`,
      });
    }
  }

  get isFitted(): boolean {
    return this.state !== undefined;
  }

  /** The value a missing one becomes. */
  get fillValue(): number {
    return this.requireState().fillValue;
  }

  fit(values: Float64Array, rows?: ArrayLike<number>): this {
    let fill = this.constant;
    if (this.strategy !== 'constant') {
      const present = presentValues(values, rows);
      if (present.length > 0) {
        if (this.strategy === 'mean') fill = meanOf(present);
        else if (this.strategy === 'median') fill = quantileOf(present, 0.5);
        else fill = modeOfSorted(present.sort());
      }
    }
    // + 0 turns -0 into 0, which is what JSON keeps: a saved imputer must fill as the fitted one
    this.state = { fillValue: fill + 0 };
    return this;
  }

  private requireState(): { fillValue: number } {
    if (!this.state) throw new errors.PW_MODEL_NOT_FITTED(`The ${this.strategy} imputer is not fitted`);
    return this.state;
  }

  apply(value: number): number {
    return value === value ? value : this.fillValue;
  }

  transform(values: Float64Array, rows?: ArrayLike<number>): Float64Array {
    const { fillValue } = this.requireState();
    const count = rows ? rows.length : values.length;
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const value = values[rows ? rows[i] : i];
      out[i] = value === value ? value : fillValue;
    }
    return out;
  }

  toJSON(): NumericImputerJSON {
    return { strategy: this.strategy, fillValue: this.fillValue };
  }

  static fromJSON(json: NumericImputerJSON): NumericImputer {
    const fail = (message: string): never => {
      throw new errors.PW_BUNDLE_INVALID(`Numeric imputer state: ${message}`);
    };
    if (!json || !NUMERIC_IMPUTER_STRATEGIES.includes(json.strategy))
      fail(`unknown strategy ${JSON.stringify(json?.strategy)}`);
    const imputer = new NumericImputer(json.strategy);
    imputer.state = { fillValue: expectNumber(json.fillValue, 'fillValue', fail) };
    return imputer;
  }
}

export interface CategoryImputerJSON {
  strategy: CategoryImputerStrategy;
  fillValue: CategoryValue;
}

/** The training rows' categories, in category order, with how many rows hold each. */
export interface CategoryCounts {
  categories: readonly CategoryValue[];
  counts: ArrayLike<number>;
}

/** Replaces a missing category with the most frequent training category, or with a constant (default "missing"). */
export class CategoryImputer implements Transformer<
  readonly (CategoryValue | null)[],
  CategoryValue[],
  CategoryCounts,
  CategoryImputerJSON
> {
  private state: { fillValue: CategoryValue } | undefined;

  constructor(
    readonly strategy: CategoryImputerStrategy = 'most_frequent',
    private readonly constant: CategoryValue = 'missing',
  ) {
    if (!CATEGORY_IMPUTER_STRATEGIES.includes(strategy)) {
      throw new errors.PW_CONFIG_INVALID(
        `A category column cannot be imputed with ${JSON.stringify(strategy)}`,
        {
          hint: `Use one of ${CATEGORY_IMPUTER_STRATEGIES.join(', ')} or none for category fields.`,
        },
      );
    }
  }

  get isFitted(): boolean {
    return this.state !== undefined;
  }

  /** The category a missing one becomes. */
  get fillValue(): CategoryValue {
    if (!this.state) throw new errors.PW_MODEL_NOT_FITTED(`The ${this.strategy} imputer is not fitted`);
    return this.state.fillValue;
  }

  /**
   * Learns from per-category counts of the training rows, in category order; the first of equally
   * frequent categories wins. With no present value, the constant is used.
   */
  fit({ categories, counts }: CategoryCounts): this {
    let fill = this.constant;
    if (this.strategy === 'most_frequent') {
      let best = 0;
      for (let i = 0; i < categories.length; i++) {
        if (counts[i] > best) {
          best = counts[i];
          fill = categories[i];
        }
      }
    }
    this.state = { fillValue: fill };
    return this;
  }

  apply(value: CategoryValue | null | undefined): CategoryValue {
    return value === null || value === undefined ? this.fillValue : value;
  }

  /** Rows `rows` of `values` (every row when absent) with missing ones filled. */
  transform(values: readonly (CategoryValue | null)[], rows?: ArrayLike<number>): CategoryValue[] {
    const fill = this.fillValue;
    const count = rows ? rows.length : values.length;
    const out = new Array<CategoryValue>(count);
    for (let i = 0; i < count; i++) {
      const value = values[rows ? rows[i] : i];
      out[i] = value === null || value === undefined ? fill : value;
    }
    return out;
  }

  toJSON(): CategoryImputerJSON {
    return { strategy: this.strategy, fillValue: this.fillValue };
  }

  static fromJSON(json: CategoryImputerJSON): CategoryImputer {
    if (!json || !CATEGORY_IMPUTER_STRATEGIES.includes(json.strategy)) {
      throw new errors.PW_BUNDLE_INVALID(
        `Category imputer state: unknown strategy ${JSON.stringify(json?.strategy)}`,
      );
    }
    if (!['string', 'number', 'boolean'].includes(typeof json.fillValue)) {
      throw new errors.PW_BUNDLE_INVALID(
        `Category imputer state: fillValue must be a string, number or boolean`,
      );
    }
    const imputer = new CategoryImputer(json.strategy);
    imputer.state = { fillValue: json.fillValue };
    return imputer;
  }
}
