// Checks of tree-model hyperparameters, with errors that name the setting in pipewright.yaml and the
// values it accepts.
import { errors } from '../../core/errors.js';

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
export function rejectUnknown(params: Record<string, unknown>, known: string[], model: string): void {
  for (const name of Object.keys(params)) {
    if (!known.includes(name)) {
      throw new errors.PW_CONFIG_INVALID(`model.params.${name} is not a ${model} parameter`, {
        hint: `Known parameters: ${known.join(', ')}.`,
        details: { param: name },
      });
    }
  }
}

export function definedOnly<T extends object>(settings: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(settings).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

export function checkInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    paramError(
      name,
      value,
      max === Number.MAX_SAFE_INTEGER ? `a whole number >= ${min}` : `a whole number from ${min} to ${max}`,
    );
  }
}

export function checkOptionalInteger(name: string, value: unknown, min: number): void {
  if (value !== null) checkInteger(name, value, min);
}

/** A number in (low, high] (or [low, high] with `inclusiveLow`). */
export function checkNumber(
  name: string,
  value: unknown,
  low: number,
  high: number,
  inclusiveLow = false,
): void {
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

export function checkChoice(name: string, value: unknown, choices: readonly unknown[]): void {
  if (!choices.includes(value))
    paramError(name, value, `one of ${choices.map((choice) => JSON.stringify(choice)).join(', ')}`);
}

export type ClassWeightParam = 'balanced' | Record<string, number> | null;

/** A copy of a class_weight parameter that shares no object with the original. */
export function cloneClassWeight(value: ClassWeightParam): ClassWeightParam {
  return value !== null && typeof value === 'object' ? { ...value } : value;
}

export function checkClassWeight(value: unknown): void {
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
      'class_weight',
      value,
      '"balanced", null, or a map from class index to a weight >= 0, e.g. {0: 1, 1: 5}',
    );
}

export function checkThreads(value: unknown): void {
  if (value !== null) checkInteger('threads', value, 1, 256);
}
