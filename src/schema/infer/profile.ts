// One column's evidence, gathered as the rows stream by: type counts, range, distinct values up to a
// limit, uniqueness with the first repeat, missing markers, and its pairing with the target for the
// leakage check. Memory stays bounded whatever the number of rows.
import type { CategoryValue } from '../schema.js';
import type { ColumnSummary } from './types.js';

/** Distinct values counted per column; past it a column only knows that it has "many". */
export const DISTINCT_LIMIT = 1000;
/** Distinct values of a feature tracked against the target for the leakage check. */
const LEAKAGE_LEVELS = 200;
/** Distinct target values beyond which the feature-to-target tables are dropped (a quantity, not classes). */
export const LEAKAGE_TARGET_LEVELS = 100;
export const EXAMPLES = 3;

const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGRAL_TEXT = /^[+-]?\d+(?:\.0+)?$/;
const LEADING_ZERO = /^[+-]?0\d/;
const BOOLEAN_TEXT = /^(?:true|false)$/i;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const YEAR_FIRST_SLASH = /^\d{4}\/\d{1,2}\/\d{1,2}$/;
export const SLASH_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
/** A date written with its day and month first in some order (`12/05/2021`, `12.05.2021 14:30`). */
const PARTS_DATE = /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?:[ T](\d{1,2}):(\d{2})(:\d{2})?)?$/;
const TEXT_MONTH_DATE = /^(?:\d{1,2} [A-Za-z]{3,9},? \d{4}|[A-Za-z]{3,9} \d{1,2},? \d{4})$/;

/** Compares category values the way they are listed: numbers by value, text by code point. */
export function compareValues(a: CategoryValue, b: CategoryValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const left = String(a);
  const right = String(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

export function countText(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString('en')} ${count === 1 ? one : many}`;
}

export function share(part: number, whole: number): string {
  const percent = whole > 0 ? (100 * part) / whole : 0;
  return `${percent >= 10 || percent === 0 ? percent.toFixed(0) : percent.toFixed(1)}%`;
}

export function distinctText(summary: ColumnSummary): string {
  return summary.distinctOverflow
    ? `more than ${DISTINCT_LIMIT.toLocaleString('en')} distinct values`
    : countText(summary.distinct, 'distinct value');
}

export function isoDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** One column's running observations. */
export class ColumnProfile {
  present = 0;
  missing = 0;
  firstMissingLine: number | undefined;
  markers = new Set<string>();
  booleans = 0;
  integers = 0;
  integrals = 0;
  numbers = 0;
  datetimes = 0;
  nested = 0;
  leadingZeros = 0;
  /** Slash dates whose first part is above 12 (day first) and whose second part is (month first). */
  dayFirst = 0;
  monthFirst = 0;
  /** Dates written with day and month first (either order): their separators, and whether times follow. */
  partsDates = 0;
  partsSeparators = new Set<string>();
  partsTimes: 'none' | 'minutes' | 'seconds' | 'mixed' | undefined;
  min = Infinity;
  max = -Infinity;
  timeMin = Infinity;
  timeMax = -Infinity;
  counts: Map<string, number> | undefined = new Map();
  distinctOverflow = false;
  /** First line of each value, kept while the column could still be a key (unique whole numbers or text). */
  lines: Map<string, number> | undefined = new Map();
  unique = true;
  duplicate: { value: string; lines: [number, number] } | undefined;
  examples: string[] = [];
  /** Length of the longest value, in characters. */
  longest = 0;
  // Against the target, for the leakage check.
  pairs = 0;
  equalToTarget = 0;
  joint: Map<string, Map<string, number>> | undefined = new Map();
  // Running means and co-moments (Welford's update: no cancellation with large values such as epochs).
  numericPairs = 0;
  meanX = 0;
  meanY = 0;
  squaresX = 0;
  squaresY = 0;
  coMoment = 0;

  constructor(readonly name: string) {}

  addMissing(marker: string | undefined, line: number): void {
    this.missing++;
    this.firstMissingLine ??= line;
    if (marker !== undefined) this.markers.add(marker);
  }

  /** A present value as text, with what its JSON form already says about it. */
  addValue(text: string, json: 'string' | 'number' | 'boolean', line: number): void {
    this.present++;
    if (text.length > this.longest) this.longest = text.length;
    if (json === 'boolean' || (json === 'string' && BOOLEAN_TEXT.test(text))) this.booleans++;
    let numeric = NaN;
    if (json === 'number') {
      numeric = Number(text);
    } else if (json === 'string' && NUMBER_TEXT.test(text)) {
      if (LEADING_ZERO.test(text)) this.leadingZeros++;
      else numeric = Number(text);
    }
    if (Number.isFinite(numeric)) {
      this.numbers++;
      if (numeric < this.min) this.min = numeric;
      if (numeric > this.max) this.max = numeric;
      if (Number.isSafeInteger(numeric)) {
        this.integrals += json === 'number' || INTEGRAL_TEXT.test(text) ? 1 : 0;
        if (json === 'number' || INTEGER_TEXT.test(text)) this.integers++;
        else this.lines = undefined; // "3.0": a number column, never a key
      } else {
        this.lines = undefined;
      }
    } else if (json === 'string') {
      this.checkDatetime(text);
    }
    this.countDistinct(text, line);
  }

  addNested(line: number): void {
    this.present++;
    this.nested++;
    this.lines = undefined;
    this.countDistinct('[nested]', line);
  }

  private checkDatetime(text: string): void {
    let time = NaN;
    if (ISO_DATE.test(text) || YEAR_FIRST_SLASH.test(text) || TEXT_MONTH_DATE.test(text)) {
      time = Date.parse(text);
    } else {
      const parts = PARTS_DATE.exec(text);
      if (parts) {
        const first = Number(parts[1]);
        const second = Number(parts[3]);
        if (first > 12) this.dayFirst++;
        if (second > 12) this.monthFirst++;
        this.partsDates++;
        this.partsSeparators.add(parts[2]);
        const times = parts[5] === undefined ? 'none' : parts[7] === undefined ? 'minutes' : 'seconds';
        this.partsTimes = this.partsTimes === undefined || this.partsTimes === times ? times : 'mixed';
        // Read in the order the data allow: a first part above 12 is a day.
        const [day, month] = first > 12 ? [first, second] : [second, first];
        time = Date.UTC(
          Number(parts[4]),
          month - 1,
          day,
          Number(parts[5] ?? 0),
          Number(parts[6] ?? 0),
          Number((parts[7] ?? ':0').slice(1)),
        );
        if (month > 12 || day > 31) time = NaN;
      }
    }
    if (Number.isFinite(time)) {
      this.datetimes++;
      if (time < this.timeMin) this.timeMin = time;
      if (time > this.timeMax) this.timeMax = time;
    }
  }

  private countDistinct(text: string, line: number): void {
    if (this.examples.length < EXAMPLES && !this.examples.includes(text)) this.examples.push(text);
    if (this.counts) {
      const count = this.counts.get(text);
      if (count !== undefined) this.counts.set(text, count + 1);
      else if (this.counts.size < DISTINCT_LIMIT) this.counts.set(text, 1);
      else {
        this.counts = undefined;
        this.distinctOverflow = true;
      }
    }
    if (this.unique && this.lines) {
      const first = this.lines.get(text);
      if (first !== undefined) {
        this.unique = false;
        this.duplicate = { value: text, lines: [first, line] };
        this.lines = undefined;
      } else {
        this.lines.set(text, line);
      }
    } else if (this.unique && this.counts && (this.counts.get(text) ?? 0) > 1) {
      this.unique = false;
    }
  }

  /** Records the target's value for this row, for the leakage check. */
  pairWithTarget(text: string | undefined, targetText: string | undefined, targetLevels: number): void {
    if (text === undefined || targetText === undefined) return;
    this.pairs++;
    if (text === targetText) this.equalToTarget++;
    if (this.joint) {
      if (targetLevels > LEAKAGE_TARGET_LEVELS) {
        this.joint = undefined;
      } else {
        let byTarget = this.joint.get(text);
        if (!byTarget) {
          if (this.joint.size >= LEAKAGE_LEVELS) {
            this.joint = undefined;
            return this.pairNumbers(text, targetText);
          }
          byTarget = new Map();
          this.joint.set(text, byTarget);
        }
        byTarget.set(targetText, (byTarget.get(targetText) ?? 0) + 1);
      }
    }
    this.pairNumbers(text, targetText);
  }

  private pairNumbers(text: string, targetText: string): void {
    if (!NUMBER_TEXT.test(text) || !NUMBER_TEXT.test(targetText)) return;
    const x = Number(text);
    const y = Number(targetText);
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    const n = ++this.numericPairs;
    const dx = x - this.meanX;
    const dy = y - this.meanY;
    this.meanX += dx / n;
    this.meanY += dy / n;
    this.squaresX += dx * (x - this.meanX);
    this.squaresY += dy * (y - this.meanY);
    this.coMoment += dx * (y - this.meanY);
  }

  get distinct(): number {
    return this.counts ? this.counts.size : DISTINCT_LIMIT + 1;
  }

  /** Pearson correlation of the numeric pairs with the target. */
  correlation(): number {
    if (this.numericPairs < 3 || this.squaresX <= 0 || this.squaresY <= 0) return NaN;
    return this.coMoment / Math.sqrt(this.squaresX * this.squaresY);
  }

  summary(): ColumnSummary {
    const hasNumbers = this.numbers > 0 && this.numbers === this.present;
    const hasTimes = !hasNumbers && this.datetimes > 0 && this.datetimes === this.present;
    return {
      present: this.present,
      missing: this.missing,
      distinct: this.distinct,
      distinctOverflow: this.distinctOverflow,
      unique: this.unique && this.lines !== undefined,
      ...(this.duplicate ? { duplicate: this.duplicate } : {}),
      ...(this.firstMissingLine !== undefined ? { firstMissingLine: this.firstMissingLine } : {}),
      ...(hasNumbers ? { min: this.min, max: this.max } : {}),
      ...(hasTimes ? { min: this.timeMin, max: this.timeMax } : {}),
      markers: [...this.markers].sort(),
      examples: this.examples,
      longest: this.longest,
      ...(this.counts
        ? { counts: [...this.counts.entries()].sort((a, b) => b[1] - a[1] || compareValues(a[0], b[0])) }
        : {}),
    };
  }
}
