// The JSON text of an explanation, written straight from the explainer's values: the escaped keys, in the
// order JSON.stringify lists them, and the bases are made once per model, so an explained answer builds
// no object per record. Byte for byte JSON.stringify(explanationOf(shape, values)).
import type { ExplanationShape } from '../ml/explain/explainer.js';

/** Values laid out as explainRecordInto writes them, to the text of their `explanation`. */
export type ExplanationJson = (values: ArrayLike<number>) => string;

/** A number as JSON.stringify writes it: NaN and ±Infinity are null. */
function numberJson(value: number): string {
  return value - value === 0 ? String(value) : 'null';
}

/**
 * The keys an object gets when `names` are assigned to it in order, as JSON.stringify lists them (integer
 * names first, ascending; a repeated name keeps its first place and its last value; `__proto__` is no
 * key), each with the position of the value it holds.
 */
function keyOrder(names: readonly string[]): { keys: string[]; positions: number[] } {
  const probe: Record<string, number> = {};
  names.forEach((name, position) => (probe[name] = position));
  const keys = Object.keys(probe);
  return { keys, positions: keys.map((key) => probe[key]) };
}

/** Output o's `"base":…,"contributions":{…}}` after `lead` (which opens the object). */
function contributionsJson(shape: ExplanationShape, o: number, lead: string): ExplanationJson {
  const { keys, positions } = keyOrder(shape.fields);
  const offset = o * shape.fields.length;
  const from = Int32Array.from(positions, (position) => offset + position);
  const fragments = keys.map((key, k) => `${k === 0 ? '' : ','}${JSON.stringify(key)}:`);
  const head = `${lead}"base":${numberJson(shape.base[o])},"contributions":{`;
  const count = fragments.length;
  return (values) => {
    let text = head;
    for (let k = 0; k < count; k++) text += fragments[k] + numberJson(values[from[k]]);
    return `${text}}}`;
  };
}

/** The writer of `shape`'s explanations (see explanationOf for the object it spells). */
export function compileExplanationJson(shape: ExplanationShape): ExplanationJson {
  if (shape.space !== 'class_scores') {
    return contributionsJson(shape, 0, `{"space":${JSON.stringify(shape.space)},`);
  }
  const { keys, positions } = keyOrder(shape.outputNames.slice(0, shape.base.length));
  const classes = positions.map((o) => contributionsJson(shape, o, '{'));
  const fragments = keys.map((key, k) => `${k === 0 ? '' : ','}${JSON.stringify(key)}:`);
  return (values) => {
    let text = '{"space":"class_scores","per_class":{';
    for (let k = 0; k < classes.length; k++) text += fragments[k] + classes[k](values);
    return `${text}}}`;
  };
}
