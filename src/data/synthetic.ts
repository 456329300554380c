// Seeded synthetic tables shaped like the public Health Insurance Cross Sell table (Kaggle), for benchmarks,
// tests and `pipewright sample`: the same columns, value formats and the shapes that matter when
// modelling it. Every result carries `synthetic: true` in its metadata so output never passes as real.

import { errors } from '../core/errors.js';
import { Random } from '../core/random.js';

export const VEHICLE_INSURANCE_COLUMNS = [
  'id',
  'Gender',
  'Age',
  'Driving_License',
  'Region_Code',
  'Previously_Insured',
  'Vehicle_Age',
  'Vehicle_Damage',
  'Annual_Premium',
  'Policy_Sales_Channel',
  'Vintage',
  'Response',
] as const;

export type VehicleAge = '< 1 Year' | '1-2 Year' | '> 2 Years';

/** One row with the reference columns, values as the CSV holds them (categories as their text). */
export interface VehicleInsuranceRecord {
  id: number;
  Gender: 'Male' | 'Female';
  Age: number;
  Driving_License: 0 | 1;
  Region_Code: number;
  Previously_Insured: 0 | 1;
  Vehicle_Age: VehicleAge;
  Vehicle_Damage: 'Yes' | 'No';
  Annual_Premium: number;
  Policy_Sales_Channel: number;
  Vintage: number;
  Response: 0 | 1;
}

export interface SyntheticOptions {
  /** Rows to generate (default 381,109, the size of the full reference table). */
  rows?: number;
  /** The same seed always gives the same rows (default 42). */
  seed?: number;
}

export interface SyntheticMetadata {
  dataset: 'vehicle-insurance';
  /** Always true: callers print it so the data is never taken for real customers. */
  synthetic: true;
  rows: number;
  seed: number;
  columns: string[];
  target: 'Response';
  description: string;
}

export interface SyntheticTable<T> extends Iterable<T> {
  readonly metadata: SyntheticMetadata;
}

export const FULL_TABLE_ROWS = 381_109;
const PREMIUM_FLOOR = 2630;
const PREMIUM_CEILING = 540_165;

/** Rows as records; iterating again yields the same rows. */
export function syntheticVehicleInsurance(
  options: SyntheticOptions = {},
): SyntheticTable<VehicleInsuranceRecord> {
  const metadata = metadataFor(options);
  return {
    metadata,
    [Symbol.iterator]: () => generateRecords(metadata.rows, metadata.seed),
  };
}

export interface SyntheticCsvOptions extends SyntheticOptions {
  /** Rows per yielded text chunk (default 10,000). */
  chunkRows?: number;
}

/** The same rows as CSV text in chunks, header first (the reference file's format: `,` and `\n`). */
export function syntheticCsv(options: SyntheticCsvOptions = {}): SyntheticTable<string> {
  const metadata = metadataFor(options);
  const chunkRows = Math.max(1, Math.floor(options.chunkRows ?? 10_000));
  return {
    metadata,
    [Symbol.iterator]: function* () {
      yield `${VEHICLE_INSURANCE_COLUMNS.join(',')}\n`;
      let chunk: string[] = [];
      for (const record of generateRecords(metadata.rows, metadata.seed)) {
        chunk.push(csvLine(record));
        if (chunk.length === chunkRows) {
          yield chunk.join('');
          chunk = [];
        }
      }
      if (chunk.length > 0) yield chunk.join('');
    },
  };
}

function metadataFor(options: SyntheticOptions): SyntheticMetadata {
  const rows = options.rows ?? FULL_TABLE_ROWS;
  const seed = options.seed ?? 42;
  if (!Number.isInteger(rows) || rows < 0) {
    throw new errors.PW_USAGE(`rows ${rows}: not a whole number of rows`, {
      hint: 'Ask for a whole number of rows, 0 or more.',
      details: { option: 'rows', value: rows },
    });
  }
  if (!Number.isInteger(seed)) {
    throw new errors.PW_USAGE(`seed ${seed}: not a whole number`, {
      hint: 'Use a whole number as the seed; the same seed always gives the same rows.',
      details: { option: 'seed', value: seed },
    });
  }
  return {
    dataset: 'vehicle-insurance',
    synthetic: true,
    rows,
    seed,
    columns: [...VEHICLE_INSURANCE_COLUMNS],
    target: 'Response',
    description:
      'Synthetic rows shaped like the public Health Insurance Cross Sell table (class balance, premium spike, skewed codes); no real customers.',
  };
}

function csvLine(r: VehicleInsuranceRecord): string {
  return `${r.id},${r.Gender},${r.Age},${r.Driving_License},${r.Region_Code},${r.Previously_Insured},${r.Vehicle_Age},${r.Vehicle_Damage},${r.Annual_Premium},${r.Policy_Sales_Channel},${r.Vintage},${r.Response}\n`;
}

/** Code → share of rows, as in the reference table: a few codes hold most rows. */
// prettier-ignore
const REGION_SHARES: Array<[number, number]> = [
  [28, 0.279], [8, 0.089], [46, 0.052], [41, 0.048], [15, 0.035], [30, 0.032], [29, 0.029], [50, 0.027],
  [3, 0.024], [11, 0.024], [36, 0.023], [33, 0.02], [47, 0.02], [35, 0.018], [6, 0.017], [45, 0.015],
  [37, 0.014], [18, 0.014], [39, 0.012], [14, 0.012], [48, 0.012], [21, 0.011], [10, 0.011], [2, 0.011],
  [13, 0.011], [7, 0.009], [12, 0.008], [9, 0.008], [27, 0.007], [32, 0.007], [43, 0.007], [17, 0.007],
  [26, 0.007], [25, 0.007], [24, 0.006], [38, 0.005], [0, 0.005], [16, 0.005], [31, 0.005], [23, 0.005],
  [20, 0.005], [49, 0.005], [4, 0.005], [34, 0.004], [19, 0.004], [22, 0.003], [40, 0.003], [5, 0.003],
  [1, 0.003], [44, 0.002], [42, 0.002], [52, 0.001], [51, 0.0005],
];

/** Sales channels: young customers are mostly reached through two channels that rarely convert. */
// prettier-ignore
const YOUNG_CHANNEL_SHARES: Array<[number, number]> = [
  [152, 0.72], [160, 0.13], [26, 0.04], [124, 0.05], [156, 0.01], [163, 0.008], [151, 0.008], [157, 0.005],
];
// prettier-ignore
const OLDER_CHANNEL_SHARES: Array<[number, number]> = [
  [26, 0.31], [124, 0.29], [152, 0.1], [122, 0.04], [156, 0.035], [154, 0.025], [157, 0.025], [151, 0.015],
  [163, 0.01], [160, 0.02], [13, 0.007], [30, 0.006], [55, 0.005], [7, 0.005], [31, 0.004], [25, 0.004],
];
/** Share of rows whose channel comes from the long tail of rarely used codes. */
const CHANNEL_TAIL_SHARE = 0.05;

// prettier-ignore
const CHANNEL_EFFECT = new Map<number, number>([
  [152, -1.1], [160, -1.6], [26, 0.1], [124, 0.05], [156, 0.25], [154, 0.2], [157, 0.3], [122, -0.1], [151, -0.5],
  [163, 0.35],
]);

/**
 * The table's draws from the shared generator: a uniform takes one 32-bit step (fewer steps per row
 * than the 53-bit `next`), and normals come in Box-Muller pairs, the second kept for the next call.
 */
class TableRandom {
  private readonly random: Random;
  private spare = Number.NaN;

  constructor(seed: number) {
    this.random = new Random(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.random.nextUint32() / 4294967296;
  }

  integer(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }

  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const value = this.spare;
      this.spare = Number.NaN;
      return value;
    }
    const u = 1 - this.next();
    const v = this.next();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }
}

interface Choice {
  codes: Int32Array;
  cumulative: Float64Array;
}

function choice(shares: Array<[number, number]>): Choice {
  const total = shares.reduce((sum, [, share]) => sum + share, 0);
  const cumulative = new Float64Array(shares.length);
  let running = 0;
  shares.forEach(([, share], i) => {
    running += share / total;
    cumulative[i] = running;
  });
  cumulative[shares.length - 1] = 1;
  return { codes: Int32Array.from(shares.map(([code]) => code)), cumulative };
}

function pick(random: TableRandom, from: Choice): number {
  const u = random.next();
  let i = 0;
  while (u >= from.cumulative[i]) i++;
  return from.codes[i];
}

/** A fixed pseudo-random effect per code, so rare codes differ from each other the same way in every table. */
function codeEffect(code: number, salt: number, scale: number): number {
  let z = Math.imul(code + 1, 0x9e3779b1) ^ salt;
  z = Math.imul(z ^ (z >>> 15), 0x85ebca6b);
  z ^= z >>> 13;
  return (((z >>> 0) / 4294967296) * 2 - 1) * scale;
}

function* generateRecords(rows: number, seed: number): Generator<VehicleInsuranceRecord> {
  const random = new TableRandom(seed);
  const regions = choice(REGION_SHARES);
  const youngChannels = choice(YOUNG_CHANNEL_SHARES);
  const olderChannels = choice(OLDER_CHANNEL_SHARES);
  const regionEffect = new Float64Array(53);
  for (let code = 0; code < 53; code++) regionEffect[code] = codeEffect(code, 0x5bd1e995, 0.35);
  regionEffect[28] = 0.3;
  regionEffect[8] = -0.15;
  for (let row = 0; row < rows; row++) {
    const male = random.next() < 0.54;
    const young = random.next() < (male ? 0.38 : 0.47);
    let age: number;
    if (young) {
      age = random.next() < 0.035 ? 20 : 21 + Math.floor(Math.pow(random.next(), 1.35) * 10);
    } else if (random.next() < 0.12) {
      age = random.integer(55, 85);
    } else {
      age = Math.round(46 + 11.5 * random.normal());
      if (age < 31 || age > 85) age = random.integer(31, 60);
    }

    const vehicleDraw = random.next();
    let vehicleAge: VehicleAge;
    if (age <= 25) vehicleAge = vehicleDraw < 0.975 ? '< 1 Year' : '1-2 Year';
    else if (age <= 30) vehicleAge = vehicleDraw < 0.88 ? '< 1 Year' : '1-2 Year';
    else if (age <= 40)
      vehicleAge = vehicleDraw < 0.2 ? '< 1 Year' : vehicleDraw < 0.97 ? '1-2 Year' : '> 2 Years';
    else if (age <= 50)
      vehicleAge = vehicleDraw < 0.01 ? '< 1 Year' : vehicleDraw < 0.93 ? '1-2 Year' : '> 2 Years';
    else vehicleAge = vehicleDraw < 0.01 ? '< 1 Year' : vehicleDraw < 0.87 ? '1-2 Year' : '> 2 Years';

    const damageRate = vehicleAge === '< 1 Year' ? 0.3 : vehicleAge === '1-2 Year' ? 0.65 : 0.99;
    const damaged = random.next() < damageRate;
    const insuredRate = damaged ? 0.05 : young ? 0.9 : 0.82;
    const insured = random.next() < insuredRate;
    const license = random.next() < (age > 70 ? 0.985 : 0.999) ? 1 : 0;

    const region = pick(random, regions);
    let channel: number;
    if (random.next() < CHANNEL_TAIL_SHARE) {
      channel = random.integer(1, 163);
      // a handful of codes are never used, as in the reference table
      if (channel % 17 === 5) channel += 1;
    } else {
      channel = pick(random, age <= 30 ? youngChannels : olderChannels);
    }

    const spikeRate = region === 28 ? 0.08 : 0.19;
    let premium: number;
    const spike = random.next() < spikeRate;
    if (spike) {
      premium = PREMIUM_FLOOR;
    } else {
      const spread = random.next() < 0.012 ? 0.85 : 0.28;
      const center = Math.log(33_000) + (region === 28 ? 0.12 : 0) + codeEffect(region, 0x27d4eb2f, 0.06);
      premium = Math.round(Math.exp(center + spread * random.normal()));
      if (premium < 7000) premium = 7000 + random.integer(0, 5000);
      if (premium > PREMIUM_CEILING) premium = PREMIUM_CEILING - random.integer(0, 200_000);
    }
    const vintage = random.integer(10, 299);

    let probability: number;
    if (insured) {
      probability = 0.0009;
    } else {
      const ageTerm = (age - 44) / 15;
      let logit =
        -3.4 +
        (damaged ? 2.3 : 0) +
        (vehicleAge === '< 1 Year' ? -0.55 : vehicleAge === '> 2 Years' ? 0.35 : 0) -
        (age < 44 ? 0.75 : 0.5) * ageTerm * ageTerm +
        (CHANNEL_EFFECT.get(channel) ?? codeEffect(channel, 0x165667b1, 0.5)) +
        regionEffect[region] +
        (male ? 0.1 : 0) +
        (spike ? 0.08 : 0.12 * Math.log(premium / 33_000)) +
        (license === 0 ? -2 : 0);
      // customers differ in ways the table does not record: this keeps the best ROC-AUC near the real one
      logit += 1.8 * random.normal();
      probability = 1 / (1 + Math.exp(-logit));
    }
    const response = random.next() < probability ? 1 : 0;

    yield {
      id: row + 1,
      Gender: male ? 'Male' : 'Female',
      Age: age,
      Driving_License: license,
      Region_Code: region,
      Previously_Insured: insured ? 1 : 0,
      Vehicle_Age: vehicleAge,
      Vehicle_Damage: damaged ? 'Yes' : 'No',
      Annual_Premium: premium,
      Policy_Sales_Channel: channel,
      Vintage: vintage,
      Response: response,
    };
  }
}
