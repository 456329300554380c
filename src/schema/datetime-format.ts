// Reads date-times written in a stated format: `DD/MM/YYYY`, `MM/DD/YYYY HH:mm`, strftime patterns
// (`%d.%m.%Y %H:%M`), `epoch_s` or `epoch_ms`, in UTC or in the time zone the schema names.

export const EPOCH_FORMATS = ['epoch_s', 'epoch_ms'] as const;

/** Parses one value to epoch milliseconds, or NaN when it does not follow the format. */
export type DatetimeParser = (raw: string | number) => number;

const TOKENS: Record<string, { pattern: string; part: Part }> = {
  YYYY: { pattern: '(\\d{4})', part: 'year' },
  '%Y': { pattern: '(\\d{4})', part: 'year' },
  YY: { pattern: '(\\d{2})', part: 'shortYear' },
  '%y': { pattern: '(\\d{2})', part: 'shortYear' },
  MM: { pattern: '(\\d{1,2})', part: 'month' },
  '%m': { pattern: '(\\d{1,2})', part: 'month' },
  DD: { pattern: '(\\d{1,2})', part: 'day' },
  '%d': { pattern: '(\\d{1,2})', part: 'day' },
  HH: { pattern: '(\\d{1,2})', part: 'hour' },
  '%H': { pattern: '(\\d{1,2})', part: 'hour' },
  mm: { pattern: '(\\d{2})', part: 'minute' },
  '%M': { pattern: '(\\d{2})', part: 'minute' },
  ss: { pattern: '(\\d{2}(?:\\.\\d+)?)', part: 'second' },
  '%S': { pattern: '(\\d{2}(?:\\.\\d+)?)', part: 'second' },
};
const TOKEN = /YYYY|YY|MM|DD|HH|mm|ss|%[YymdHMS]/g;

type Part = 'year' | 'shortYear' | 'month' | 'day' | 'hour' | 'minute' | 'second';

/** Why a format cannot be read, or undefined when it can. */
export function formatProblem(format: string, timezone?: string): string | undefined {
  if (timezone !== undefined && !Number.isFinite(zoneOffsetMs(timezone, 0)))
    return `the time zone "${timezone}" is not known (use an IANA name such as Europe/Paris, or an offset such as +01:00)`;
  if ((EPOCH_FORMATS as readonly string[]).includes(format)) return undefined;
  const parts = new Set((format.match(TOKEN) ?? []).map((token) => TOKENS[token].part));
  if (!(parts.has('year') || parts.has('shortYear')) || !parts.has('month') || !parts.has('day'))
    return `the format "${format}" needs a year, a month and a day (e.g. DD/MM/YYYY, %d.%m.%Y), or is epoch_s or epoch_ms`;
  return undefined;
}

/** The offset of `timezone` from UTC at `time`, in milliseconds (NaN for an unknown zone). */
export function zoneOffsetMs(timezone: string, time: number): number {
  const fixed = /^([+-])(\d{2}):?(\d{2})$/.exec(timezone);
  if (fixed) return (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 60 + Number(fixed[3])) * 60_000;
  if (timezone === 'UTC' || timezone === 'Z') return 0;
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    }).formatToParts(new Date(time));
  } catch {
    return NaN;
  }
  const value = (type: string) => Number(parts.find((part) => part.type === type)?.value);
  const local = Date.UTC(
    value('year'),
    value('month') - 1,
    value('day'),
    value('hour'),
    value('minute'),
    value('second'),
  );
  return local - Math.floor(time / 1000) * 1000;
}

/** A parser for `format` (checked with formatProblem first); wall-clock times are in `timezone` (default UTC). */
export function compileDatetimeFormat(format: string, timezone?: string): DatetimeParser {
  if (format === 'epoch_s' || format === 'epoch_ms') {
    const scale = format === 'epoch_s' ? 1000 : 1;
    return (raw) => {
      const number =
        typeof raw === 'number' ? raw : /^\s*[+-]?\d+(?:\.\d+)?\s*$/.test(raw) ? Number(raw) : NaN;
      return number * scale;
    };
  }
  const order: Part[] = [];
  let source = '';
  let last = 0;
  for (const match of format.matchAll(TOKEN)) {
    source += escape(format.slice(last, match.index));
    source += TOKENS[match[0]].pattern;
    order.push(TOKENS[match[0]].part);
    last = match.index + match[0].length;
  }
  source += escape(format.slice(last));
  const pattern = new RegExp(`^\\s*${source}\\s*$`);
  return (raw) => {
    if (typeof raw !== 'string') return NaN;
    const match = pattern.exec(raw);
    if (!match) return NaN;
    const parts: Record<Part, number> = {
      year: 1970,
      shortYear: NaN,
      month: 1,
      day: 1,
      hour: 0,
      minute: 0,
      second: 0,
    };
    for (let i = 0; i < order.length; i++) parts[order[i]] = Number(match[i + 1]);
    if (!Number.isNaN(parts.shortYear))
      parts.year = parts.shortYear < 70 ? 2000 + parts.shortYear : 1900 + parts.shortYear;
    const { year, month, day, hour, minute, second } = parts;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second >= 61)
      return NaN;
    const wall = Date.UTC(year, month - 1, day, hour, minute, 0) + second * 1000;
    // 31/02 rolls over into March in Date.UTC: such a day does not exist.
    if (new Date(wall).getUTCDate() !== day) return NaN;
    if (timezone === undefined) return wall;
    // The zone's offset at the wall-clock time, corrected once for a change of offset in between.
    const guess = wall - zoneOffsetMs(timezone, wall);
    return wall - zoneOffsetMs(timezone, guess);
  };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
