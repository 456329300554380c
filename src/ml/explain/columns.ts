// Explanations as flat columns, for CSV answers and prediction files: `shap_base` and one `shap_<field>`
// per feature field (multiclass: one set per class, `shap_base_<class>` and `shap_<field>_<class>`).
import type { BundleExplainer } from './explainer.js';

/** The column names, in the order `explanationRow` fills them. */
export function explanationColumns(explainer: BundleExplainer, classNames: readonly string[]): string[] {
  if (explainer.outputs === 1) return ['shap_base', ...explainer.fields.map((field) => `shap_${field}`)];
  const columns: string[] = [];
  for (let o = 0; o < explainer.outputs; o++) {
    const name = classNames[o] ?? String(o);
    columns.push(`shap_base_${name}`, ...explainer.fields.map((field) => `shap_${field}_${name}`));
  }
  return columns;
}

/** One record's values for `explanationColumns`, from explainRecordInto's output. */
export function explanationRow(explainer: BundleExplainer, values: Float64Array): number[] {
  const width = explainer.fields.length;
  const row: number[] = [];
  for (let o = 0; o < explainer.outputs; o++) {
    row.push(explainer.base[o]);
    for (let j = 0; j < width; j++) row.push(values[o * width + j]);
  }
  return row;
}
