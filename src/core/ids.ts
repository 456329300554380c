// Identifiers that sort by time: `20261126-054512-3fa9c1` for runs and invocations.
import { randomBytes } from 'node:crypto';

export function timestampId(date: Date = new Date()): string {
  const iso = date.toISOString();
  const stamp = `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}`;
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}
