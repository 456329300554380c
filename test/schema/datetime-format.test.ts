// Date-times in a stated format: day-first and month-first patterns, strftime, epoch seconds and
// milliseconds, and wall-clock times in a named time zone, read back to the instant they name.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PipewrightError } from '../../src/core/errors.js';
import { compileDatetimeFormat, formatProblem } from '../../src/schema/datetime-format.js';
import { compileCoercer } from '../../src/schema/coerce.js';
import { parseSchema } from '../../src/schema/schema.js';

const two = (n: number) => String(n).padStart(2, '0');

describe('datetime formats', () => {
  it('reads any minute written day first, month first or strftime-style back to the same instant', () => {
    const dayFirst = compileDatetimeFormat('DD/MM/YYYY HH:mm');
    const monthFirst = compileDatetimeFormat('MM-DD-YYYY HH:mm');
    const strftime = compileDatetimeFormat('%d.%m.%Y %H:%M');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 66_666_666 }), (minutes) => {
        const time = minutes * 60_000;
        const d = new Date(time);
        const [day, month, year] = [two(d.getUTCDate()), two(d.getUTCMonth() + 1), d.getUTCFullYear()];
        const clock = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
        expect(dayFirst(`${day}/${month}/${year} ${clock}`)).toBe(time);
        expect(monthFirst(`${month}-${day}-${year} ${clock}`)).toBe(time);
        expect(strftime(`${day}.${month}.${year} ${clock}`)).toBe(time);
      }),
    );
  });

  it('reads epoch seconds and milliseconds, and refuses days that do not exist', () => {
    expect(compileDatetimeFormat('epoch_s')('1620777600')).toBe(1_620_777_600_000);
    expect(compileDatetimeFormat('epoch_ms')(1_620_777_600_000)).toBe(1_620_777_600_000);
    expect(compileDatetimeFormat('DD/MM/YYYY')('31/02/2021')).toBeNaN();
    expect(compileDatetimeFormat('DD/MM/YYYY')('2021-05-12')).toBeNaN();
  });

  it('reads wall-clock times in a named time zone or at a fixed offset', () => {
    // 12 May 2021 was in summer time in Paris (UTC+2), 12 January in winter time (UTC+1).
    const paris = compileDatetimeFormat('DD/MM/YYYY HH:mm', 'Europe/Paris');
    expect(new Date(paris('12/05/2021 14:30')).toISOString()).toBe('2021-05-12T12:30:00.000Z');
    expect(new Date(paris('12/01/2021 14:30')).toISOString()).toBe('2021-01-12T13:30:00.000Z');
    const offset = compileDatetimeFormat('DD/MM/YYYY HH:mm', '-05:00');
    expect(new Date(offset('12/05/2021 14:30')).toISOString()).toBe('2021-05-12T19:30:00.000Z');
    expect(formatProblem('DD/MM/YYYY', 'Mars/Olympus')).toMatch(/time zone/);
    expect(formatProblem('MM/YYYY')).toMatch(/year, a month and a day/);
  });

  it('coerces a formatted field, keeps ISO values and spreadsheet dates, and rejects the rest', () => {
    const schema = parseSchema(`
name: t
fields:
  id: { type: integer, role: key }
  day: { type: datetime, format: DD/MM/YYYY }
`);
    const coerce = compileCoercer(schema);
    expect(coerce({ id: '1', day: '12/05/2021' })).toMatchObject({
      ok: true,
      record: { day: '2021-05-12T00:00:00.000Z' },
    });
    expect(coerce({ id: '1', day: new Date(Date.UTC(2021, 4, 12)) }).record.day).toBe(
      '2021-05-12T00:00:00.000Z',
    );
    expect(coerce({ id: '1', day: '2021-05-12' }).record.day).toBe('2021-05-12T00:00:00.000Z');
    const bad = coerce({ id: '1', day: '05/13/2021' });
    expect(bad.ok).toBe(false);
  });

  it('refuses a format on a field that is not a datetime, and a format it cannot read', () => {
    for (const field of ['{ type: integer, format: DD/MM/YYYY }', '{ type: datetime, format: "HH:mm" }']) {
      let error: PipewrightError | undefined;
      try {
        parseSchema(`name: t\nfields:\n  id: { type: integer, role: key }\n  x: ${field}\n`);
      } catch (caught) {
        error = caught as PipewrightError;
      }
      expect(error?.code).toBe('PW_SCHEMA_INVALID');
    }
  });
});
