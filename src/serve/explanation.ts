// Explanations for the prediction routes: one explainer per loaded model, made on first use (a model
// swapped in by hot reload gets its own), and the `explain` query parameter.
import { errors } from '../core/errors.js';
import type { Predictor } from '../ml/bundle.js';
import { createExplainer, type BundleExplainer } from '../ml/explain/explainer.js';
import type { ServedModel } from './model.js';

const explainers = new WeakMap<Predictor, BundleExplainer>();

/** The served model's explainer; PW_EXPLAIN_UNAVAILABLE when the model cannot be explained. */
export function explainerOf(model: ServedModel): BundleExplainer {
  let explainer = explainers.get(model.predictor);
  if (!explainer) {
    explainer = createExplainer(model.predictor.bundle);
    explainers.set(model.predictor, explainer);
  }
  return explainer;
}

/** Whether the request asks for explanations: `?explain=true` (or 1); false, 0 or absent do not. */
export function wantsExplanation(query: unknown): boolean {
  const value = (query as Record<string, unknown> | undefined)?.explain;
  if (value === undefined || value === 'false' || value === '0' || value === '') return false;
  if (value === 'true' || value === '1') return true;
  throw new errors.PW_REQUEST_INVALID(
    `The query parameter explain is ${JSON.stringify(value)}; it takes true or false`,
  );
}
