// Turns a MongoDB filter into SQL over JSON documents for the embedded store. The parts with an exact
// SQL equivalent (MongoDB's null, missing and type rules included) are pushed down, where expression
// indexes can serve them; whatever remains is evaluated in JavaScript by mingo.
import type { Query } from 'mingo';
import { errors } from '../core/errors.js';
import type { Document, Filter } from './types.js';

export interface CompiledFilter {
  /** A SQL condition over the columns `_id` and `doc`; `1` when nothing was pushed down. */
  where: string;
  params: (string | number)[];
  /** Tests a document against the part of the filter SQL does not cover; undefined when SQL covers it all. */
  residual: ((document: Document) => boolean) | undefined;
}

export interface CompileOptions {
  /**
   * The collection may hold arrays or objects, whose MongoDB semantics (matching any element) SQL does
   * not reproduce: only `_id` conditions are pushed down then.
   */
  nested?: boolean;
}

const SIMPLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NUMERIC = `('integer','real')`;

/** The JSON path literal of a top-level field, or undefined when the name cannot be addressed exactly. */
export function jsonPath(field: string): string | undefined {
  if (SIMPLE_NAME.test(field)) return `'$.${field}'`;
  // Dotted names are nested paths in MongoDB; `"` cannot be escaped inside an SQLite JSON path label.
  if (field.length === 0 || field.startsWith('$') || field.includes('\0') || /["\\.]/.test(field))
    return undefined;
  return `'$."${field.replace(/'/g, "''")}"'`;
}

/** The SQL expression for a top-level field's value; createIndex builds its index on the same text. */
export function fieldExpression(field: string): string | undefined {
  const path = jsonPath(field);
  return path === undefined ? undefined : `json_extract(doc, ${path})`;
}

interface Target {
  value: string;
  /** SQL for the JSON type of the value (`integer`, `real`, `text`, `true`, `false`, `null`; NULL when missing). */
  type: string;
  isId: boolean;
}

function targetOf(field: string): Target | undefined {
  if (field === '_id') return { value: '_id', type: `typeof(_id)`, isId: true };
  const path = jsonPath(field);
  if (path === undefined) return undefined;
  return { value: `json_extract(doc, ${path})`, type: `json_type(doc, ${path})`, isId: false };
}

type Sql = { sql: string; params: (string | number)[] };

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Equality as MongoDB means it, never NULL (so that it can be negated). */
function equals(target: Target, value: unknown): Sql | undefined {
  if (value === null) return { sql: target.isId ? '0' : `${target.value} IS NULL`, params: [] };
  if (typeof value === 'string') {
    // typeof(_id) guards against the INTEGER key column's affinity turning '5' into 5.
    return target.isId
      ? { sql: `(_id = ? AND typeof(_id) = 'text')`, params: [value] }
      : { sql: `${target.value} IS ?`, params: [value] };
  }
  if (isFiniteNumber(value)) {
    // JSON true and false read back as 1 and 0: the type check keeps them apart from numbers.
    return target.isId
      ? { sql: `(_id = ? AND typeof(_id) IN ${NUMERIC})`, params: [value] }
      : { sql: `(${target.value} IS ? AND ${target.type} IN ${NUMERIC})`, params: [value] };
  }
  if (typeof value === 'boolean') {
    if (target.isId) return { sql: '0', params: [] };
    return { sql: `(${target.value} IS ? AND ${target.type} IS '${value}')`, params: [value ? 1 : 0] };
  }
  return undefined;
}

function compare(target: Target, operator: string, value: unknown): Sql | undefined {
  const sqlOperator = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' }[operator];
  if (!sqlOperator) return undefined;
  // MongoDB compares within a type only: numbers with numbers, strings with strings.
  let typeCheck: string;
  if (isFiniteNumber(value)) typeCheck = `${target.type} IN ${NUMERIC}`;
  else if (typeof value === 'string') typeCheck = `${target.type} = 'text'`;
  else return undefined;
  return { sql: `(${target.value} ${sqlOperator} ? AND ${typeCheck})`, params: [value] };
}

function anyOf(target: Target, values: unknown): Sql | undefined {
  if (!Array.isArray(values)) return undefined;
  if (values.length === 0) return { sql: '0', params: [] };
  if (!target.isId && values.every((value) => typeof value === 'string')) {
    // An IN list on the bare expression lets an expression index serve it.
    return { sql: `${target.value} IN (${values.map(() => '?').join(', ')})`, params: values as string[] };
  }
  const parts: Sql[] = [];
  for (const value of values) {
    const part = equals(target, value);
    if (!part) return undefined;
    parts.push(part);
  }
  return join(parts, 'OR');
}

function noneOf(target: Target, values: unknown): Sql | undefined {
  if (!Array.isArray(values)) return undefined;
  if (values.length === 0) return { sql: '1', params: [] };
  const parts: Sql[] = [];
  for (const value of values) {
    const part = equals(target, value);
    if (!part) return undefined;
    parts.push(part);
  }
  const any = join(parts, 'OR');
  return { sql: `NOT ${any.sql}`, params: any.params };
}

function join(parts: Sql[], operator: 'AND' | 'OR'): Sql {
  if (parts.length === 1) return parts[0];
  return {
    sql: `(${parts.map((part) => part.sql).join(` ${operator} `)})`,
    params: parts.flatMap((part) => part.params),
  };
}

function isOperatorObject(value: unknown): value is Record<string, unknown> {
  if (
    value === null ||
    typeof value !== 'object' ||
    Array.isArray(value) ||
    value instanceof Date ||
    value instanceof RegExp
  )
    return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => key.startsWith('$'));
}

/** SQL for `{ field: condition }`, or undefined when it has no exact SQL form. */
function fieldCondition(field: string, condition: unknown, options: CompileOptions): Sql | undefined {
  if (options.nested && field !== '_id') return undefined;
  const target = targetOf(field);
  if (!target) return undefined;
  if (!isOperatorObject(condition)) return equals(target, condition);
  const parts: Sql[] = [];
  for (const [operator, value] of Object.entries(condition)) {
    let part: Sql | undefined;
    switch (operator) {
      case '$eq':
        part = equals(target, value);
        break;
      case '$ne': {
        const equal = equals(target, value);
        part = equal && { sql: `NOT ${equal.sql}`, params: equal.params };
        break;
      }
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        part = compare(target, operator, value);
        break;
      case '$in':
        part = anyOf(target, value);
        break;
      case '$nin':
        part = noneOf(target, value);
        break;
      case '$exists':
        part = target.isId
          ? { sql: value ? '1' : '0', params: [] }
          : { sql: `${target.type} IS ${value ? 'NOT ' : ''}NULL`, params: [] };
        break;
      default:
        part = undefined;
    }
    if (!part) return undefined;
    parts.push(part);
  }
  return join(parts, 'AND');
}

interface Split {
  sql: Sql[];
  residual: Filter[];
}

function split(filter: Filter, options: CompileOptions, into: Split): void {
  for (const [key, condition] of Object.entries(filter)) {
    if (key === '$and' && Array.isArray(condition)) {
      for (const part of condition) {
        if (part === null || typeof part !== 'object') throw invalid(filter, '$and takes a list of filters');
        split(part as Filter, options, into);
      }
      continue;
    }
    if (key === '$or' && Array.isArray(condition)) {
      const branches: Sql[] = [];
      for (const branch of condition) {
        if (branch === null || typeof branch !== 'object')
          throw invalid(filter, '$or takes a list of filters');
        const inner: Split = { sql: [], residual: [] };
        split(branch as Filter, options, inner);
        if (inner.residual.length > 0) break;
        branches.push(inner.sql.length === 0 ? { sql: '1', params: [] } : join(inner.sql, 'AND'));
      }
      if (branches.length === condition.length && branches.length > 0) into.sql.push(join(branches, 'OR'));
      else into.residual.push({ [key]: condition });
      continue;
    }
    const pushed = key.startsWith('$') ? undefined : fieldCondition(key, condition, options);
    if (pushed) into.sql.push(pushed);
    else into.residual.push({ [key]: condition });
  }
}

function invalid(filter: Filter, reason: string): Error {
  return new errors.PW_STORE_FAILED(`Invalid filter ${safeJson(filter)}: ${reason}`, {
    hint: 'Filters use MongoDB query syntax, e.g. { "Age": { "$gte": 30 } }.',
  });
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

let QueryEngine: typeof Query | undefined;

/**
 * Loads mingo, which only filters that SQL cannot answer need: commands that never filter (push) do
 * not pay its memory. Call before compiling a non-empty filter.
 */
export async function loadQueryEngine(): Promise<void> {
  QueryEngine ??= (await import('mingo')).Query;
}

/** Compiles a mingo query, reporting an unknown operator as a Pipewright error. */
export function compileQuery(filter: Filter): (document: Document) => boolean {
  if (!QueryEngine)
    throw new errors.PW_INTERNAL('The query engine is not loaded: await loadQueryEngine() first');
  let query: Query;
  try {
    query = new QueryEngine(filter, {});
  } catch (cause) {
    throw new errors.PW_STORE_FAILED(`Invalid filter ${safeJson(filter)}: ${(cause as Error).message}`, {
      cause,
      hint: 'Filters use MongoDB query syntax with $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists, $and, $or and the other query operators.',
    });
  }
  return (document) => query.test(document);
}

export function compileFilter(filter: Filter | undefined, options: CompileOptions = {}): CompiledFilter {
  if (filter === undefined || filter === null) return { where: '1', params: [], residual: undefined };
  if (typeof filter !== 'object' || Array.isArray(filter))
    throw invalid(filter as Filter, 'a filter is an object');
  const parts: Split = { sql: [], residual: [] };
  split(filter, options, parts);
  const where = parts.sql.length === 0 ? { sql: '1', params: [] } : join(parts.sql, 'AND');
  const residual =
    parts.residual.length === 0
      ? undefined
      : compileQuery(parts.residual.length === 1 ? parts.residual[0] : { $and: parts.residual });
  return { where: where.sql, params: where.params, residual };
}
