// Standard, min-max and robust scaling of one numeric column. All three are affine, stored as
// (x - center) / scale, so applying one to a served row is a subtraction and a division.
import { errors } from '../../core/errors.js';
import type { Transformer } from '../types.js';
import { expectNumber, meanOf, presentValues, quantileOf } from './column.js';

export const SCALER_KINDS = ['standard', 'minmax', 'robust'] as const;
export type ScalerKind = (typeof SCALER_KINDS)[number];

export interface ScalerJSON {
  kind: ScalerKind;
  center: number;
  scale: number;
}

/** What a scaler learns: x becomes (x - center) / scale. */
export interface ScalerState {
  center: number;
  scale: number;
}

/** Fitted on the present (non-NaN) training values; NaN passes through unchanged. */
export abstract class Scaler implements Transformer<Float64Array, Float64Array, Float64Array, ScalerJSON> {
  abstract readonly kind: ScalerKind;
  private state: ScalerState | undefined;

  get isFitted(): boolean {
    return this.state !== undefined;
  }

  get center(): number {
    return this.requireState().center;
  }

  get scale(): number {
    return this.requireState().scale;
  }

  /** Learns from rows `rows` of `values` (every row when absent), ignoring NaN. */
  fit(values: Float64Array, rows?: ArrayLike<number>): this {
    const present = presentValues(values, rows);
    const { center, scale } = this.learn(present);
    this.state = {
      // + 0 turns -0 into 0, which is what JSON keeps: a saved scaler must transform as the fitted one
      center: Number.isFinite(center) ? center + 0 : 0,
      // A constant (or empty) column is left unscaled, as scikit-learn does.
      scale: Number.isFinite(scale) && scale > 0 ? scale : 1,
    };
    return this;
  }

  protected abstract learn(present: Float64Array): ScalerState;

  private requireState(): ScalerState {
    if (!this.state) throw new errors.PW_MODEL_NOT_FITTED(`The ${this.kind} scaler is not fitted`);
    return this.state;
  }

  apply(value: number): number {
    const { center, scale } = this.requireState();
    return (value - center) / scale;
  }

  transform(values: Float64Array, rows?: ArrayLike<number>): Float64Array {
    const { center, scale } = this.requireState();
    const count = rows ? rows.length : values.length;
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = (values[rows ? rows[i] : i] - center) / scale;
    return out;
  }

  toJSON(): ScalerJSON {
    const { center, scale } = this.requireState();
    return { kind: this.kind, center, scale };
  }

  /** A fitted scaler of the kind the JSON names. */
  static fromJSON(json: ScalerJSON): Scaler {
    const fail = (message: string): never => {
      throw new errors.PW_BUNDLE_INVALID(`Scaler state: ${message}`);
    };
    if (!json || typeof json !== 'object' || !SCALER_KINDS.includes(json.kind))
      fail(`unknown kind ${JSON.stringify(json?.kind)}`);
    const scaler = createScaler(json.kind);
    const center = expectNumber(json.center, 'center', fail);
    const scale = expectNumber(json.scale, 'scale', fail);
    if (scale <= 0) fail(`scale must be positive, got ${scale}`);
    scaler.state = { center, scale };
    return scaler;
  }
}

/** Zero mean, unit (population) standard deviation. */
export class StandardScaler extends Scaler {
  readonly kind = 'standard' as const;

  protected learn(present: Float64Array): ScalerState {
    const mean = meanOf(present);
    let squares = 0;
    for (let i = 0; i < present.length; i++) squares += (present[i] - mean) ** 2;
    return { center: mean, scale: Math.sqrt(squares / present.length) };
  }
}

/** Maps the training range onto [0, 1]. */
export class MinMaxScaler extends Scaler {
  readonly kind = 'minmax' as const;

  protected learn(present: Float64Array): ScalerState {
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < present.length; i++) {
      if (present[i] < min) min = present[i];
      if (present[i] > max) max = present[i];
    }
    return { center: min, scale: max - min };
  }
}

/** Centres on the median and divides by the interquartile range: insensitive to outliers. */
export class RobustScaler extends Scaler {
  readonly kind = 'robust' as const;

  protected learn(present: Float64Array): ScalerState {
    // each selection reorders the values, which leaves them the same values
    return {
      center: quantileOf(present, 0.5),
      scale: quantileOf(present, 0.75) - quantileOf(present, 0.25),
    };
  }
}

export function createScaler(kind: ScalerKind): Scaler {
  switch (kind) {
    case 'standard':
      return new StandardScaler();
    case 'minmax':
      return new MinMaxScaler();
    case 'robust':
      return new RobustScaler();
    default:
      throw new errors.PW_CONFIG_INVALID(`Unknown scaler ${JSON.stringify(kind)}`, {
        hint: `Use one of ${SCALER_KINDS.join(', ')} or none.`,
      });
  }
}

export function scalerFromJSON(json: ScalerJSON): Scaler {
  return Scaler.fromJSON(json);
}
