// One-hot and ordinal encoding of a category column. Categories are learned from the training rows;
// at prediction time an unseen category becomes all zeros (one-hot) or NaN (ordinal: trees treat it as missing).
import { errors } from '../../core/errors.js';
import type { CategoryValue } from '../../schema/schema.js';
import type { Transformer } from '../types.js';

export const ONE_HOT_DROPS = ['none', 'first', 'if_binary'] as const;
export type OneHotDrop = (typeof ONE_HOT_DROPS)[number];

/** Categories compare as text, as the coercer compares them, so 3 and "3" are one category. */
function categoryLookup(categories: readonly CategoryValue[]): Map<string, number> {
  const lookup = new Map<string, number>();
  categories.forEach((category, index) => {
    if (!lookup.has(String(category))) lookup.set(String(category), index);
  });
  return lookup;
}

function checkCategories(categories: unknown, what: string): CategoryValue[] {
  if (
    !Array.isArray(categories) ||
    categories.some((c) => !['string', 'number', 'boolean'].includes(typeof c))
  ) {
    throw new errors.PW_BUNDLE_INVALID(
      `${what} state: categories must be a list of strings, numbers or booleans`,
    );
  }
  return categories as CategoryValue[];
}

/** What an encoder learns: the training categories, and a lookup from their text to their index. */
interface EncoderState {
  categories: CategoryValue[];
  lookup: Map<string, number>;
}

abstract class CategoryEncoder<JSON> implements Transformer<
  readonly (CategoryValue | null)[],
  Float64Array[],
  readonly CategoryValue[],
  JSON
> {
  private state: EncoderState | undefined;

  get isFitted(): boolean {
    return this.state !== undefined;
  }

  /** The learned categories, in encoding order. */
  get categories(): CategoryValue[] {
    return this.requireState().categories;
  }

  /** Learns the categories: those given, in the order given (the caller orders them). */
  fit(categories: readonly CategoryValue[]): this {
    const copy = [...categories];
    this.state = { categories: copy, lookup: categoryLookup(copy) };
    this.afterFit();
    return this;
  }

  protected afterFit(): void {}

  /** The category's index, or -1 when missing or not seen in training. */
  indexOf(value: CategoryValue | null | undefined): number {
    if (value === null || value === undefined) return -1;
    return this.requireState().lookup.get(typeof value === 'string' ? value : String(value)) ?? -1;
  }

  abstract get outputs(): number;
  abstract outputNames(prefix: string): string[];
  /** Writes the encoding of category index `index` (-1 = unseen or missing) at out[offset...]. */
  abstract encodeIndex(index: number, out: Float64Array, offset: number): void;

  protected requireState(): EncoderState {
    if (!this.state) throw new errors.PW_MODEL_NOT_FITTED(`The ${this.constructor.name} is not fitted`);
    return this.state;
  }

  abstract toJSON(): JSON;

  /** Encodes a list of values into new columns. */
  transform(values: readonly (CategoryValue | null)[], rows?: ArrayLike<number>): Float64Array[] {
    this.requireState();
    const count = rows ? rows.length : values.length;
    const columns = Array.from({ length: this.outputs }, () => new Float64Array(count));
    const row = new Float64Array(this.outputs);
    for (let i = 0; i < count; i++) {
      this.encodeIndex(this.indexOf(values[rows ? rows[i] : i]), row, 0);
      for (let c = 0; c < row.length; c++) columns[c][i] = row[c];
    }
    return columns;
  }
}

export interface OneHotEncoderJSON {
  kind: 'onehot';
  drop: OneHotDrop;
  categories: CategoryValue[];
}

/** One 0/1 column per category; `drop` removes the first category's column (always, or only for two categories). */
export class OneHotEncoder extends CategoryEncoder<OneHotEncoderJSON> {
  readonly kind = 'onehot' as const;
  /** The category whose column is dropped, or -1. */
  droppedIndex = -1;

  constructor(readonly drop: OneHotDrop = 'none') {
    super();
    if (!ONE_HOT_DROPS.includes(drop)) {
      throw new errors.PW_CONFIG_INVALID(`Unknown one-hot drop ${JSON.stringify(drop)}`, {
        hint: `Use one of ${ONE_HOT_DROPS.join(', ')}.`,
      });
    }
  }

  protected override afterFit(): void {
    const dropFirst = this.drop === 'first' || (this.drop === 'if_binary' && this.categories.length === 2);
    this.droppedIndex = dropFirst && this.categories.length > 0 ? 0 : -1;
  }

  get outputs(): number {
    return this.categories.length - (this.droppedIndex >= 0 ? 1 : 0);
  }

  outputNames(prefix: string): string[] {
    return this.categories
      .filter((_, index) => index !== this.droppedIndex)
      .map((category) => `${prefix}=${String(category)}`);
  }

  encodeIndex(index: number, out: Float64Array, offset: number): void {
    const outputs = this.outputs;
    for (let c = 0; c < outputs; c++) out[offset + c] = 0;
    if (index < 0 || index === this.droppedIndex) return;
    out[offset + (this.droppedIndex >= 0 && index > this.droppedIndex ? index - 1 : index)] = 1;
  }

  toJSON(): OneHotEncoderJSON {
    return { kind: 'onehot', drop: this.drop, categories: [...this.categories] };
  }

  static fromJSON(json: OneHotEncoderJSON): OneHotEncoder {
    if (!json || json.kind !== 'onehot' || !ONE_HOT_DROPS.includes(json.drop)) {
      throw new errors.PW_BUNDLE_INVALID(`One-hot encoder state: expected kind onehot with a known drop`);
    }
    return new OneHotEncoder(json.drop).fit(checkCategories(json.categories, 'One-hot encoder'));
  }
}

export interface OrdinalEncoderJSON {
  kind: 'ordinal';
  categories: CategoryValue[];
}

/** One column holding the category's index; missing and unseen categories are NaN. */
export class OrdinalEncoder extends CategoryEncoder<OrdinalEncoderJSON> {
  readonly kind = 'ordinal' as const;

  get outputs(): number {
    return 1;
  }

  outputNames(prefix: string): string[] {
    return [prefix];
  }

  encodeIndex(index: number, out: Float64Array, offset: number): void {
    out[offset] = index < 0 ? NaN : index;
  }

  toJSON(): OrdinalEncoderJSON {
    return { kind: 'ordinal', categories: [...this.categories] };
  }

  static fromJSON(json: OrdinalEncoderJSON): OrdinalEncoder {
    if (!json || json.kind !== 'ordinal')
      throw new errors.PW_BUNDLE_INVALID(`Ordinal encoder state: expected kind ordinal`);
    return new OrdinalEncoder().fit(checkCategories(json.categories, 'Ordinal encoder'));
  }
}

export type Encoder = OneHotEncoder | OrdinalEncoder;
export type EncoderJSON = OneHotEncoderJSON | OrdinalEncoderJSON;

export function encoderFromJSON(json: EncoderJSON): Encoder {
  if (json?.kind === 'onehot') return OneHotEncoder.fromJSON(json);
  if (json?.kind === 'ordinal') return OrdinalEncoder.fromJSON(json);
  throw new errors.PW_BUNDLE_INVALID(
    `Encoder state: unknown kind ${JSON.stringify((json as { kind?: unknown })?.kind)}`,
  );
}
