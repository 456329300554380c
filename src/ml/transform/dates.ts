// Date features that generalise to later rows: calendar parts (month, weekday, hour...) and the days
// elapsed to a reference (another date of the row, or the scoring time) instead of a raw epoch, which a
// tree can only split as "later than everything seen". Fitted parts and fills are kept in the bundle.
import { errors } from '../../core/errors.js';
import { zoneOffsetMs } from '../../schema/datetime-format.js';

export const DATE_PARTS = ['year', 'month', 'day', 'weekday', 'hour', 'day_of_year', 'epoch'] as const;
export type DatePart = (typeof DATE_PARTS)[number];

/** What applies when pipewright.yaml says nothing: month, weekday and (when the data have times) hour. */
export const DEFAULT_DATE_PARTS: DatePart[] = ['month', 'weekday', 'hour'];

/** `elapsed_to: scoring_time` measures up to the moment of scoring; any other value names a date field of the row. */
export const SCORING_TIME = 'scoring_time';

const DAY_MS = 86_400_000;

export interface DateFeaturesJSON {
  parts: DatePart[];
  reference: string | null;
  timezone: string | null;
  /** The value a missing date gives each output, in output order (medians for epoch and elapsed days). */
  fills: number[];
  /** Each output's mean over the training rows (explanations start from them). */
  means?: number[];
}

export class DateFeatures {
  private parts: DatePart[];
  private fills: number[] = [];
  private means: number[] = [];

  constructor(
    parts: readonly DatePart[],
    readonly reference: string | undefined,
    readonly timezone: string | undefined,
  ) {
    this.parts = [...new Set(parts)];
  }

  /** Output names: `signup.month`, `signup.days_to_scoring_time`... */
  outputNames(field: string): string[] {
    return [
      ...this.parts.map((part) => `${field}.${part}`),
      ...(this.reference !== undefined ? [`${field}.days_to_${this.reference}`] : []),
    ];
  }

  get outputs(): number {
    return this.parts.length + (this.reference !== undefined ? 1 : 0);
  }

  /** Learns which parts the data carry (no hour when every time is midnight) and the fills for missing dates. */
  fit(times: ArrayLike<number>, references: ArrayLike<number> | undefined, now: number): void {
    let withHours = false;
    for (let i = 0; i < times.length && !withHours; i++) {
      const time = times[i];
      if (time === time && this.local(time) % DAY_MS !== 0) withHours = true;
    }
    if (!withHours) this.parts = this.parts.filter((part) => part !== 'hour');
    const fills = this.parts.map((part) => (part === 'epoch' ? median(times) : -1));
    if (this.reference !== undefined) {
      const elapsed = new Float64Array(times.length);
      for (let i = 0; i < times.length; i++)
        elapsed[i] = this.elapsed(times[i], references ? references[i] : now);
      fills.push(median(elapsed));
    }
    this.fills = fills;
    const sums = new Float64Array(this.outputs);
    const row = new Float64Array(this.outputs);
    for (let i = 0; i < times.length; i++) {
      this.encode(times[i], references ? references[i] : now, row, 0);
      for (let c = 0; c < row.length; c++) sums[c] += row[c];
    }
    this.means = Array.from(sums, (sum) => (times.length > 0 ? sum / times.length : 0));
  }

  /** Each output's mean over the training rows. */
  get trainingMeans(): readonly number[] {
    return this.means;
  }

  /** Writes the features of one time (epoch ms, NaN when missing) into `out` from `offset`. */
  encode(time: number, reference: number, out: Float64Array | number[], offset: number): void {
    const parts = this.parts;
    if (time !== time) {
      for (let p = 0; p < this.fills.length; p++) out[offset + p] = this.fills[p];
      return;
    }
    const local = this.local(time);
    const date = new Date(local);
    for (let p = 0; p < parts.length; p++) out[offset + p] = partOf(parts[p], date, time);
    if (this.reference !== undefined) {
      const elapsed = this.elapsed(time, reference);
      out[offset + parts.length] = elapsed === elapsed ? elapsed : this.fills[parts.length];
    }
  }

  private elapsed(time: number, reference: number): number {
    return (reference - time) / DAY_MS;
  }

  /** The wall-clock time in the field's time zone, as if it were UTC. */
  private local(time: number): number {
    return this.timezone === undefined ? time : time + zoneOffsetMs(this.timezone, time);
  }

  toJSON(): DateFeaturesJSON {
    return {
      parts: [...this.parts],
      reference: this.reference ?? null,
      timezone: this.timezone ?? null,
      fills: [...this.fills],
      means: [...this.means],
    };
  }

  static fromJSON(json: DateFeaturesJSON): DateFeatures {
    if (
      !json ||
      !Array.isArray(json.parts) ||
      !json.parts.every((part) => (DATE_PARTS as readonly string[]).includes(part)) ||
      !Array.isArray(json.fills)
    ) {
      throw new errors.PW_BUNDLE_INVALID('Date features state: expected {parts, reference, timezone, fills}');
    }
    const features = new DateFeatures(json.parts, json.reference ?? undefined, json.timezone ?? undefined);
    features.fills = json.fills.map(Number);
    features.means = Array.isArray(json.means) ? json.means.map(Number) : [];
    if (features.fills.length !== features.outputs)
      throw new errors.PW_BUNDLE_INVALID('Date features state: one fill is needed for each output');
    return features;
  }
}

function partOf(part: DatePart, date: Date, time: number): number {
  switch (part) {
    case 'year':
      return date.getUTCFullYear();
    case 'month':
      return date.getUTCMonth() + 1;
    case 'day':
      return date.getUTCDate();
    case 'weekday':
      // Monday 0 ... Sunday 6 (ISO order).
      return (date.getUTCDay() + 6) % 7;
    case 'hour':
      return date.getUTCHours() + date.getUTCMinutes() / 60;
    case 'day_of_year':
      return Math.floor((date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 1)) / DAY_MS) + 1;
    case 'epoch':
      return time;
  }
}

function median(values: ArrayLike<number>): number {
  const present: number[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] === values[i]) present.push(values[i]);
  if (present.length === 0) return 0;
  present.sort((a, b) => a - b);
  const middle = present.length >> 1;
  return present.length % 2 ? present[middle] : (present[middle - 1] + present[middle]) / 2;
}
