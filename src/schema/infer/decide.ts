// The decisions made from the evidence: each column's type, nullability, range and categories; the
// target's task and classes; and the key, given or proposed.
import { type CategoryValue, type Task, TASKS } from '../schema.js';
import { MAX_CLASSES, optionError } from './options.js';
import {
  ColumnProfile,
  compareValues,
  countText,
  DISTINCT_LIMIT,
  distinctText,
  isoDay,
  share,
  SLASH_DATE,
} from './profile.js';
import type { ClassCount, ColumnSummary, InferredField } from './types.js';

/** A class with fewer rows than this can hardly be learned, nor appear in the test part. */
const RARE_CLASS_ROWS = 5;
/** Unique text longer than this is free text (comments, descriptions), not a proposed key. */
const KEY_TEXT_LENGTH = 64;

/** Names that read as identifiers: id, ID, key, uuid, index, row_id, customer_id, userId, order-no... */
export function isIdLikeName(name: string): boolean {
  const trimmed = name.trim();
  if (
    /^(?:id|key|uuid|guid|index|idx|row|rowid|row_?num(?:ber)?|record|obs|#|no\.?|unnamed: ?0)$/i.test(
      trimmed,
    )
  )
    return true;
  if (/[_\-\s.](?:id|key|uuid|guid|idx|no|num|number)$/i.test(trimmed)) return true;
  return /[a-z0-9](?:Id|ID|Key|Uuid|UUID)$/.test(trimmed);
}

export function isRowNumber(summary: ColumnSummary, rows: number): boolean {
  return (
    summary.present === rows &&
    summary.unique &&
    (summary.min === 0 || summary.min === 1) &&
    summary.max === summary.min! + rows - 1
  );
}

/** The type from the values, and the role a column gets unless it is the key or the target. */
export function decideField(profile: ColumnProfile, rows: number, maxCategories: number): InferredField {
  const summary = profile.summary();
  const n = summary.present;
  const notes: string[] = [];
  const warnings: string[] = [];
  const field: InferredField = {
    name: profile.name,
    type: 'string',
    role: 'feature',
    nullable: summary.missing > 0,
    summary,
    notes,
    warnings,
    idLike: isIdLikeName(profile.name),
  };
  if (summary.missing > 0) {
    const markers = summary.markers.map((marker) => JSON.stringify(marker));
    notes.push(
      `${countText(summary.missing, 'missing value')} (${share(summary.missing, rows)}${markers.length ? `, written ${markers.join(', ')}` : ''}): nullable`,
    );
  }
  if (n === 0) {
    field.role = 'ignore';
    notes.push('every value is missing: nothing to learn from, ignored');
    return field;
  }
  if (profile.nested > 0) {
    field.role = 'ignore';
    warnings.push(
      'holds nested JSON objects or arrays, which a schema field cannot describe; push rejects such rows: flatten or remove the field',
    );
    return field;
  }
  if (profile.booleans === n) {
    field.type = 'boolean';
    notes.push(`true/false values`);
  } else if (profile.integers === n) {
    field.type = 'integer';
    field.min = profile.min;
    field.max = profile.max;
    notes.push(`whole numbers from ${profile.min} to ${profile.max} (${distinctText(summary)})`);
  } else if (profile.numbers === n) {
    field.type = 'number';
    field.min = profile.min;
    field.max = profile.max;
    notes.push(`numbers from ${profile.min} to ${profile.max} (${distinctText(summary)})`);
  } else if (
    profile.datetimes === n &&
    !(profile.dayFirst > 0 && profile.monthFirst > 0) &&
    (profile.partsDates === 0 || (profile.partsDates === n && profile.partsSeparators.size === 1))
  ) {
    field.type = 'datetime';
    notes.push(
      `dates from ${isoDay(profile.timeMin)} to ${isoDay(profile.timeMax)}; no min/max is written, since new rows come later`,
    );
    if (profile.partsDates > 0) {
      const [separator] = profile.partsSeparators;
      // Dotted and dashed dates are day first where they are written; slashes are settled by the data only.
      const dayFirst = profile.dayFirst > 0 || (profile.monthFirst === 0 && separator !== '/');
      const day = dayFirst ? ['DD', 'MM'] : ['MM', 'DD'];
      const time =
        profile.partsTimes === 'minutes' ? ' HH:mm' : profile.partsTimes === 'seconds' ? ' HH:mm:ss' : '';
      field.format = `${day[0]}${separator}${day[1]}${separator}YYYY${time}`;
      if (profile.dayFirst > 0 || profile.monthFirst > 0) {
        notes.push(
          `written ${field.format}: a ${dayFirst ? 'first' : 'second'} part above 12 settles that the day comes ${dayFirst ? 'first' : 'second'}`,
        );
      } else {
        warnings.push(
          `no day or month above 12 settles whether the dates are day or month first: read as ${field.format}; change \`format\` if that is wrong`,
        );
      }
    } else if ([...(summary.counts ?? [])].some(([text]) => SLASH_DATE.test(text))) {
      notes.push(
        'slash dates are read month first (MM/DD/YYYY); write them as YYYY-MM-DD if they are day first',
      );
    }
  } else {
    if (profile.dayFirst > 0 && profile.monthFirst > 0) {
      warnings.push(
        'holds dates written both day first and month first (a first part above 12 on some rows, a second on others): kept as text; write them as YYYY-MM-DD to use them as dates',
      );
    }
    if (profile.leadingZeros > 0 && profile.leadingZeros + profile.numbers === n) {
      notes.push('numbers with leading zeros (codes, not quantities): kept as text');
    }
    const distinct = summary.distinct;
    const category =
      !summary.distinctOverflow &&
      distinct <= maxCategories &&
      distinct < n &&
      distinct <= Math.max(2, n / 2);
    if (category) {
      field.type = 'category';
      field.values = (summary.counts ?? []).map(([text]) => text).sort(compareValues);
      notes.push(`text with ${countText(distinct, 'distinct value')}: a category`);
    } else {
      field.type = 'string';
      const mostlyUnique = summary.distinctOverflow || distinct > n / 2;
      if (mostlyUnique) {
        field.role = 'ignore';
        notes.push(
          `text with ${summary.distinctOverflow ? `more than ${DISTINCT_LIMIT.toLocaleString('en')}` : distinct.toLocaleString('en')} distinct values in ${n.toLocaleString('en')} rows (free text or an identifier): ignored`,
        );
      } else {
        notes.push(
          `text with ${distinct.toLocaleString('en')} distinct values (more than ${maxCategories} for a category): learned from as text; values not seen in training count as missing`,
        );
      }
    }
  }
  return field;
}

/** Labels that name the positive outcome of a yes/no question, compared without case. */
export const POSITIVE_LABELS = ['1', 'yes', 'y', 'true', 't', 'positive', 'pos', 'on'];

/**
 * A binary target's classes, negative first and positive second (scores are P(second)): the class the
 * user named; else the one label that reads as a positive answer (`yes`, `true`, `1`, ...); else the
 * rarer class, since the rare outcome is the one a model is asked to find (ties keep sort order).
 */
export function orderBinaryClasses(
  classes: ClassCount[],
  positiveClass?: string,
): { classes: ClassCount[]; why: string } {
  const [first, second] = classes;
  const positiveFirst = (why: string) => ({ classes: [second, first], why });
  const positiveSecond = (why: string) => ({ classes: [first, second], why });
  if (positiveClass !== undefined) {
    const named = classes.findIndex((entry) => String(entry.label) === positiveClass);
    if (named < 0)
      throw optionError(
        'positiveClass',
        positiveClass,
        `the positive class ${JSON.stringify(positiveClass)} is not one of the target's values ${classes.map((entry) => JSON.stringify(String(entry.label))).join(', ')}`,
        'Name one of the two values as the positive class.',
      );
    return named === 0
      ? positiveFirst('named as the positive class')
      : positiveSecond('named as the positive class');
  }
  const reads = classes.map((entry) => POSITIVE_LABELS.includes(String(entry.label).trim().toLowerCase()));
  if (reads[0] !== reads[1])
    return reads[0]
      ? positiveFirst('reads as a positive answer')
      : positiveSecond('reads as a positive answer');
  if (first.count < second.count) return positiveFirst('the rarer class');
  if (second.count < first.count) return positiveSecond('the rarer class');
  return positiveSecond('the second in sort order (the classes are the same size)');
}

export function decideTarget(
  field: InferredField,
  profile: ColumnProfile,
  rows: number,
  options: { task: Task | undefined; maxCategories: number; positiveClass?: string },
): { task: Task; note: string; classes: ClassCount[] | undefined } {
  const summary = field.summary;
  const name = field.name;
  const forced = options.task;
  const fail = (message: string, hint: string): never => {
    throw optionError('target', name, message, hint);
  };
  if (forced !== undefined && !TASKS.includes(forced)) {
    throw optionError('task', forced, 'not a task', `Use one of ${TASKS.join(', ')}.`);
  }
  if (summary.present === 0)
    fail('every value is missing', 'Choose a column that holds the value to predict.');
  if (summary.distinct < 2)
    fail(
      `holds a single value (${summary.examples[0]}): there is nothing to predict`,
      'Choose a column whose values vary.',
    );
  field.role = 'target';
  field.nullable = false;
  field.warnings.length = 0;
  if (summary.missing > 0) {
    field.warnings.push(
      `${countText(summary.missing, 'row')} (${share(summary.missing, rows)}, the first on line ${summary.firstMissingLine}) have no target value; push rejects them, since a row without its answer cannot be learned from`,
    );
  }
  const counts = summary.counts ?? [];
  const n = summary.present;
  const classLimit = Math.min(MAX_CLASSES, Math.max(3, Math.floor(n * 0.05)));
  const numeric = field.type === 'integer' || field.type === 'number';
  const wholeNumbers = numeric && profile.integrals === n;

  if (field.type === 'boolean') {
    if (forced !== undefined && forced !== 'binary')
      fail(
        `holds true/false values, which make a binary task, not ${forced}`,
        'Leave the task out: it is decided from the values.',
      );
    field.notes.length = 0;
    const countOf = new Map(counts.map(([text, count]) => [text.toLowerCase(), count] as [string, number]));
    return {
      task: 'binary',
      note: 'binary: true/false; predictions give the probability of true',
      classes: [
        { label: false, count: countOf.get('false') ?? 0 },
        { label: true, count: countOf.get('true') ?? 0 },
      ],
    };
  }
  if (field.type === 'datetime')
    fail('holds dates, which cannot be predicted', 'Choose a column with classes or quantities.');

  let labels: CategoryValue[];
  let classes: ClassCount[];
  if (numeric) {
    // "1" and "1.0" are the same class once read as whole numbers.
    const byLabel = new Map<number, number>();
    if (wholeNumbers)
      for (const [text, count] of counts) byLabel.set(Number(text), (byLabel.get(Number(text)) ?? 0) + count);
    const distinct = summary.distinctOverflow ? Infinity : wholeNumbers ? byLabel.size : summary.distinct;
    const task =
      forced ??
      (wholeNumbers && distinct <= Math.max(2, classLimit)
        ? distinct === 2
          ? 'binary'
          : 'multiclass'
        : 'regression');
    if (task === 'regression') {
      const why =
        wholeNumbers && forced === undefined
          ? ` (more than ${classLimit} for classes; pass --task multiclass to treat them as classes)`
          : '';
      return {
        task,
        note: `regression: ${field.type === 'integer' ? 'whole numbers' : 'numbers'} with ${distinctText(summary)}${why}`,
        classes: undefined,
      };
    }
    if (!wholeNumbers)
      fail(
        `holds numbers with decimals, which make a regression task, not ${task}`,
        'Ask for a regression task, or leave the task out.',
      );
    if (distinct > options.maxCategories)
      fail(
        `has ${distinctText(summary)}, too many to be classes`,
        'Ask for a regression task, or leave the task out.',
      );
    field.type = 'integer';
    labels = [...byLabel.keys()].sort(compareValues);
    classes = labels.map((label) => ({ label, count: byLabel.get(label as number) ?? 0 }));
  } else {
    if (forced === 'regression')
      fail(
        'holds text, which cannot be a regression target',
        'Leave the task out, or choose a numeric column.',
      );
    if (summary.distinctOverflow || summary.distinct > options.maxCategories) {
      fail(
        `holds text with ${distinctText(summary)}, too many to be classes`,
        'Choose a column with classes or numbers to predict.',
      );
    }
    field.type = 'category';
    const countOf = new Map(counts);
    labels = counts.map(([text]) => text).sort(compareValues);
    classes = labels.map((label) => ({ label, count: countOf.get(label as string) ?? 0 }));
  }
  const task: Task = forced ?? (labels.length === 2 ? 'binary' : 'multiclass');
  if (task === 'binary' && labels.length !== 2)
    fail(
      `the binary task needs two classes; the column has ${labels.length}`,
      'Ask for a multiclass task, or leave the task out.',
    );
  if (task === 'multiclass' && labels.length < 3)
    fail(
      'the multiclass task needs three classes or more; the column has two',
      'Ask for a binary task, or leave the task out.',
    );
  let positiveWhy = '';
  if (task === 'binary') {
    const ordered = orderBinaryClasses(classes, options.positiveClass);
    classes = ordered.classes;
    labels = classes.map((entry) => entry.label);
    positiveWhy = ordered.why;
  }
  delete field.min;
  delete field.max;
  field.values = labels;
  field.notes.length = 0;
  const rare = classes.filter((entry) => entry.count < RARE_CLASS_ROWS);
  if (rare.length > 0) {
    field.warnings.push(
      `${rare.map((entry) => `class ${JSON.stringify(entry.label)} has ${countText(entry.count, 'row')}`).join(', ')}: too few to learn from and to test on; collect more rows of ${rare.length > 1 ? 'these classes' : 'this class'} or merge ${rare.length > 1 ? 'them' : 'it'} into another`,
    );
  }
  const note =
    task === 'binary'
      ? `binary: two classes; predictions give the probability of ${JSON.stringify(labels[1])} (the second value: ${positiveWhy})`
      : `multiclass: ${labels.length} classes; predictions give a probability per class`;
  return { task, note, classes };
}

export function decideKey(
  fields: InferredField[],
  rows: number,
  requested: string | undefined,
): { key: string | undefined; keyNote: string } {
  if (requested !== undefined) {
    const field = fields.find((f) => f.name === requested)!;
    const summary = field.summary;
    const fail = (message: string, hint: string): never => {
      throw optionError('key', requested, message, hint);
    };
    if (summary.missing > 0)
      fail(
        `the value is missing on line ${summary.firstMissingLine} (${countText(summary.missing, 'row')} in all)`,
        'A key needs a value in every row: fill it in, or leave the key out to have a row key generated.',
      );
    if (summary.duplicate)
      fail(
        `the value ${JSON.stringify(summary.duplicate.value)} appears on lines ${summary.duplicate.lines[0]} and ${summary.duplicate.lines[1]}`,
        'A key identifies one row: choose a column whose values are all different, or leave the key out.',
      );
    if (field.type !== 'integer' && field.type !== 'string' && field.type !== 'category') {
      fail(
        `holds ${field.type === 'number' ? 'numbers with decimals' : `${field.type} values`}; a key is a whole number or text`,
        'Choose an identifier column, or leave the key out.',
      );
    }
    if (!summary.unique)
      fail(
        'its values are not all different',
        'Choose a column whose values are all different, or leave the key out.',
      );
    makeKey(field);
    return { key: field.name, keyNote: 'key: given with --key; every value is different' };
  }
  let best: { field: InferredField; score: number; why: string } | undefined;
  for (const field of fields) {
    if (field.role === 'target') continue;
    const summary = field.summary;
    if (summary.missing > 0 || !summary.unique || (field.type !== 'integer' && field.type !== 'string'))
      continue;
    let score = 0;
    let why = '';
    if (field.idLike) [score, why] = [3, 'its name reads as an identifier and every value is different'];
    else if (field.type === 'integer' && isRowNumber(summary, rows))
      [score, why] = [2, `it numbers the rows (${summary.min} to ${summary.max}, each once)`];
    else if (field.type === 'string' && summary.longest <= KEY_TEXT_LENGTH)
      [score, why] = [1, 'every value is different (short) text'];
    if (score > (best?.score ?? 0)) best = { field, score, why };
  }
  if (!best) {
    return {
      key: undefined,
      keyNote:
        'no key: no column is a whole number or text that differs in every row, so push keys each row by a hash of its values (pushing the same file again adds nothing; identical rows are stored once)',
    };
  }
  makeKey(best.field);
  return { key: best.field.name, keyNote: `key: ${best.why}` };
}

function makeKey(field: InferredField): void {
  field.role = 'key';
  field.nullable = false;
  if (field.type === 'category') field.type = 'string';
  delete field.values;
  // New rows bring new identifiers: a range would reject them.
  delete field.min;
  delete field.max;
  field.notes.length = 0;
  field.warnings.length = 0;
}
