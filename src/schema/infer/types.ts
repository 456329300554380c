// What schema inference reports: a summary per column, the field it proposes for it, and the
// schema as a whole (key, target, task, classes, missing markers, warnings).
import type { CategoryValue, FieldRole, FieldType, Task } from '../schema.js';

export interface ColumnSummary {
  /** Rows that held a value (not a missing marker, not absent). */
  present: number;
  missing: number;
  /** Distinct values among the present ones; a lower bound when `distinctOverflow`. */
  distinct: number;
  distinctOverflow: boolean;
  /** Every present value differs from every other (known only for whole numbers and text). */
  unique: boolean;
  /** The first repeated value and the lines it is on, when not unique. */
  duplicate?: { value: string; lines: [number, number] };
  /** The first line where the value is missing. */
  firstMissingLine?: number;
  /** Observed range: numbers, or epoch milliseconds for date-times. */
  min?: number;
  max?: number;
  /** Missing markers seen in this column, e.g. ['', '?']. */
  markers: string[];
  examples: string[];
  /** Length of the longest value, in characters. */
  longest: number;
  /** Value counts, most frequent first, when the column has at most 1000 distinct values. */
  counts?: [string, number][];
}

export interface InferredField {
  name: string;
  type: FieldType;
  role: FieldRole;
  nullable: boolean;
  /** The range seen (numbers); information, never written as a limit. */
  min?: number;
  max?: number;
  /** The categories seen (a target's classes); the contract lists them only for a target or a closed category. */
  values?: CategoryValue[];
  /** The user declared this category's list closed: its `values` are the contract. */
  closed?: boolean;
  /** How a datetime is written, when it is not ISO 8601 (DD/MM/YYYY...). */
  format?: string;
  summary: ColumnSummary;
  /** Why the type, role and limits are what they are: a comment above the field. */
  notes: string[];
  /** Likely problems (leakage, identifiers used as features): in the comment and on stderr. */
  warnings: string[];
  /** The name reads like an identifier (id, customer_id, userId, uuid...). */
  idLike: boolean;
}

export interface ClassCount {
  label: CategoryValue;
  count: number;
}

export interface InferredSchema {
  /** Data rows read (the header is not a row). */
  rows: number;
  fields: InferredField[];
  key: string | undefined;
  /** Why this key, or why none. */
  keyNote: string;
  target: string | undefined;
  task: Task | undefined;
  taskNote: string | undefined;
  /** Classification: rows per class, in the schema's class order. */
  classes: ClassCount[] | undefined;
  /** The markers the schema must list (`missing_values`), or undefined when the defaults do. */
  missingValues: string[] | undefined;
  /** Missing markers seen anywhere in the file. */
  markersSeen: string[];
  /** Rows that repeat an earlier row exactly. */
  duplicateRows: number;
  /** Lines the reader could not read as a record (push rejects them too). */
  unreadable: { count: number; examples: { line: number; problem: string }[] };
  /** Everything worth a warning on stderr, each naming its column. */
  warnings: string[];
}
