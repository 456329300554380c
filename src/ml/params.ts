// The one hyperparameter checker of the learning core: every model declares its defaults, aliases and
// a rule per parameter, and `readParams` merges what pipewright.yaml gives with them, refusing unknown
// names and bad values with errors that name the setting (`model.params.<name>`) and what it accepts.
import { errors } from '../core/errors.js';
import { classWeights } from './imbalance.js';
import type { EstimatorOptions, Task } from './types.js';

export function paramError(name: string, value: unknown, expected: string): never {
  throw new errors.PW_CONFIG_INVALID(
    `model.params.${name} is ${JSON.stringify(value)}; it must be ${expected}`,
    {
      hint: `Fix model.params.${name} in pipewright.yaml.`,
      details: { param: name },
    },
  );
}

/** Refuses names the model does not know (a typo would otherwise be silently ignored). */
function rejectUnknown(params: Record<string, unknown>, known: string[], model: string): void {
  for (const name of Object.keys(params)) {
    if (!known.includes(name)) {
      throw new errors.PW_CONFIG_INVALID(`model.params.${name} is not a ${model} parameter`, {
        hint: `Known parameters: ${known.join(', ')}.`,
        details: { param: name },
      });
    }
  }
}

/** The entries that are set: `undefined` means "use the default", never "set to undefined". */
export function definedOnly<T extends object>(settings: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(settings).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

function checkInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    paramError(
      name,
      value,
      max === Number.MAX_SAFE_INTEGER ? `a whole number >= ${min}` : `a whole number from ${min} to ${max}`,
    );
  }
}

function checkOptionalInteger(name: string, value: unknown, min: number): void {
  if (value !== null) checkInteger(name, value, min);
}

/** A number in (low, high] (or [low, high] with `inclusiveLow`). */
function checkNumber(name: string, value: unknown, low: number, high: number, inclusiveLow = false): void {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (inclusiveLow ? value >= low : value > low) &&
    value <= high;
  if (!ok)
    paramError(
      name,
      value,
      `a number in ${inclusiveLow ? '[' : '('}${low}, ${high === Infinity ? '∞)' : `${high}]`}`,
    );
}

function checkChoice(name: string, value: unknown, choices: readonly unknown[]): void {
  if (!choices.includes(value))
    paramError(name, value, `one of ${choices.map((choice) => JSON.stringify(choice)).join(', ')}`);
}

export type ClassWeightParam = 'balanced' | Record<string, number> | null;

/** A copy of a class_weight parameter that shares no object with the original. */
export function cloneClassWeight(value: ClassWeightParam): ClassWeightParam {
  return value !== null && typeof value === 'object' ? { ...value } : value;
}

function checkClassWeight(name: string, value: unknown): void {
  if (value === null || value === 'balanced') return;
  const ok =
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.entries(value as Record<string, unknown>).every(
      ([label, weight]) =>
        /^\d+$/.test(label) && typeof weight === 'number' && Number.isFinite(weight) && weight >= 0,
    );
  if (!ok)
    paramError(
      name,
      value,
      '"balanced", null, or a map from class index to a weight >= 0, e.g. {0: 1, 1: 5}',
    );
}

/** One weight per row from a (checked, non-null) class_weight parameter. */
export function classWeightsOf(
  y: Float64Array,
  classWeight: 'balanced' | Record<string, number>,
): Float64Array {
  if (classWeight === 'balanced') return classWeights(y, 'balanced');
  const byIndex: Record<number, number> = {};
  for (const [label, weight] of Object.entries(classWeight)) byIndex[Number(label)] = weight;
  return classWeights(y, byIndex);
}

/** A rule checks one parameter's merged value; it throws through paramError. */
export type ParamRule = (name: string, value: unknown) => void;

/** Rules for the kinds of parameter the models share. */
export const rule = {
  integer:
    (min: number, max?: number): ParamRule =>
    (name, value) =>
      checkInteger(name, value, min, max),
  optionalInteger:
    (min: number): ParamRule =>
    (name, value) =>
      checkOptionalInteger(name, value, min),
  number:
    (low: number, high: number, inclusiveLow = false): ParamRule =>
    (name, value) =>
      checkNumber(name, value, low, high, inclusiveLow),
  choice:
    (choices: readonly unknown[]): ParamRule =>
    (name, value) =>
      checkChoice(name, value, choices),
  classWeight: (): ParamRule => checkClassWeight,
  wholeNumber: (): ParamRule => (name, value) => {
    if (typeof value !== 'number' || !Number.isInteger(value)) paramError(name, value, 'a whole number');
  },
  threads: (): ParamRule => (name, value) => {
    if (value !== null) checkInteger(name, value, 1, 256);
  },
};

/** What a model declares about its hyperparameters. */
export interface ParamsSpec<P extends object> {
  /** The model's name in messages, e.g. "gradient boosting". */
  model: string;
  defaults: P;
  /** Other libraries' names accepted for the same settings. */
  aliases?: Record<string, keyof P>;
  /** One rule per parameter, checked in this order. */
  rules: { [K in keyof P]: ParamRule };
  /** Checks between parameters, after each one passed its rule. */
  check?: (params: P) => void;
  /** The tasks the model learns, and the parameters each task implies (applied when not given). */
  tasks: Partial<Record<Task, Partial<P>>>;
  /** The parameter that takes the run's seed when none is given (models with randomness only). */
  seedParam?: keyof P;
  /** The parameter that takes the run's thread count (models that fit on several threads only). */
  threadsParam?: keyof P;
}

/**
 * The full, checked parameters: defaults, then what the task implies, the run's seed and threads, then
 * what was given. A given value that contradicts the task is refused (a regression target read with a
 * classification loss would make one class per distinct value).
 */
export function readParams<P extends object>(
  spec: ParamsSpec<P>,
  given: Record<string, unknown>,
  options: EstimatorOptions = {},
): P {
  const aliases = (spec.aliases ?? {}) as Record<string, string>;
  // No prototype: a name such as `__proto__` is then an own key (and refused), not a prototype change.
  const named: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  // own keys only: a name such as `toString` must not resolve through the object's prototype
  for (const [name, value] of Object.entries(given))
    named[Object.hasOwn(aliases, name) ? aliases[name] : name] = value;
  rejectUnknown(named, [...Object.keys(spec.defaults), ...Object.keys(aliases)], spec.model);
  const set = definedOnly(named);
  const implied: Record<string, unknown> = {};
  if (options.task !== undefined) {
    const forTask = spec.tasks[options.task];
    if (!forTask) {
      throw new errors.PW_CONFIG_INVALID(`A ${spec.model} model cannot learn a ${options.task} target`, {
        hint: `Set model.type in pipewright.yaml to a model for ${options.task} targets (gbdt learns every task).`,
        details: { task: options.task },
      });
    }
    for (const [name, value] of Object.entries(forTask)) {
      if (set[name] === undefined) implied[name] = value;
      else if (set[name] !== value)
        paramError(name, set[name], `${JSON.stringify(value)} for a ${options.task} target`);
    }
  }
  if (
    spec.seedParam !== undefined &&
    options.seed !== undefined &&
    set[spec.seedParam as string] === undefined
  )
    implied[spec.seedParam as string] = options.seed;
  // the config's model.threads wins over model.params.threads: it is the setting meant for the machine
  if (spec.threadsParam !== undefined && options.threads !== undefined)
    set[spec.threadsParam as string] = options.threads;
  const merged = { ...spec.defaults, ...implied, ...set } as P;
  for (const name of Object.keys(spec.rules) as (keyof P & string)[]) spec.rules[name](name, merged[name]);
  spec.check?.(merged);
  return merged;
}
