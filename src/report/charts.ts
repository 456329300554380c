// Charts for the reports: Vega-Lite specifications compiled to Vega and rendered to SVG in Node (no
// canvas, no browser), so a report is a static file. Vega loads on first use: it is large, and most
// commands never draw a chart.
import type { CalibrationBin } from '../ml/metrics.js';
import { escapeHtml, markup, raw, type SafeHtml } from './html.js';

type Spec = Record<string, unknown>;

export const SERIES_COLORS = ['#2563eb', '#f59e0b', '#10b981', '#ef4444'];
const REFERENCE_COLOR = '#9ca3af';

const CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
  background: '#ffffff',
  view: { stroke: '#e5e7eb' },
  axis: {
    labelColor: '#4b5563',
    titleColor: '#374151',
    titleFontWeight: 500,
    titleFontSize: 12,
    labelFontSize: 11,
    gridColor: '#eef0f3',
    domainColor: '#cbd5e1',
    tickColor: '#cbd5e1',
  },
  legend: {
    labelColor: '#374151',
    labelFontSize: 11,
    labelLimit: 420,
    titleFontSize: 11,
    orient: 'bottom',
    direction: 'vertical',
    symbolStrokeWidth: 3,
  },
};

const SILENT = {
  level: () => SILENT,
  error: () => SILENT,
  warn: () => SILENT,
  info: () => SILENT,
  debug: () => SILENT,
};

let vegaModules:
  Promise<{ vega: typeof import('vega'); compile: typeof import('vega-lite').compile }> | undefined;

function loadVega() {
  vegaModules ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vegaLite]) => ({
    vega,
    compile: vegaLite.compile,
  }));
  return vegaModules;
}

/** Renders a Vega-Lite specification to an SVG string labelled for assistive technology. */
export async function renderSvg(spec: Spec, label: string): Promise<string> {
  const { vega, compile } = await loadVega();
  // Vega-Lite's notes about a specification go nowhere: the specifications here are fixed and tested.
  const compiled = compile({ ...spec, config: CONFIG } as never, { logger: SILENT as never }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return svg.replace(/^<svg /, `<svg role="img" aria-label="${escapeHtml(label)}" `);
  } finally {
    view.finalize();
  }
}

/** A chart in a figure: heading, SVG and caption; `id` names it for links and tests. */
export async function chartFigure(
  id: string,
  title: string,
  spec: Spec,
  caption?: unknown,
): Promise<SafeHtml> {
  const svg = await renderSvg(spec, title);
  return markup`<figure class="chart" id="chart-${id}" aria-label="${title}"><h3>${title}</h3>${raw(svg)}${caption ? markup`<figcaption>${caption}</figcaption>` : ''}</figure>`;
}

export interface Curve {
  name: string;
  x: number[];
  y: number[];
}

function curveValues(curves: Curve[]): Record<string, unknown>[] {
  return curves.flatMap((curve) => curve.x.map((x, i) => ({ series: curve.name, x, y: curve.y[i], i })));
}

function unitAxis(title: string) {
  return { title, scale: { domain: [0, 1], nice: false }, axis: { tickCount: 5, format: '.1f' } };
}

/** Line chart of curves on the unit square, with an optional dashed reference line. */
function unitCurveSpec(options: {
  curves: Curve[];
  xTitle: string;
  yTitle: string;
  reference?: { x: number[]; y: number[]; name: string };
}): Spec {
  const names = options.curves.map((curve) => curve.name);
  const layers: Spec[] = [];
  if (options.reference) {
    layers.push({
      data: { values: options.reference.x.map((x, i) => ({ x, y: options.reference!.y[i] })) },
      mark: { type: 'line', strokeDash: [4, 4], color: REFERENCE_COLOR, strokeWidth: 1.2 },
      encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
    });
  }
  layers.push({
    data: { values: curveValues(options.curves) },
    mark: { type: 'line', strokeWidth: 2, interpolate: 'linear' },
    encoding: {
      x: { field: 'x', type: 'quantitative', ...unitAxis(options.xTitle) },
      y: { field: 'y', type: 'quantitative', ...unitAxis(options.yTitle) },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        scale: { domain: names, range: SERIES_COLORS.slice(0, names.length) },
        legend: { orient: 'bottom' },
      },
      order: { field: 'i', type: 'quantitative' },
    },
  });
  return { width: 360, height: 280, layer: layers, resolve: { scale: { x: 'shared', y: 'shared' } } };
}

export function rocSpec(curves: Curve[]): Spec {
  return unitCurveSpec({
    curves,
    xTitle: 'False positive rate',
    yTitle: 'True positive rate',
    reference: { name: 'chance', x: [0, 1], y: [0, 1] },
  });
}

export function precisionRecallSpec(curves: Curve[], positiveShare?: number): Spec {
  return unitCurveSpec({
    curves,
    xTitle: 'Recall',
    yTitle: 'Precision',
    ...(positiveShare !== undefined
      ? { reference: { name: 'chance', x: [0, 1], y: [positiveShare, positiveShare] } }
      : {}),
  });
}

export function calibrationSpec(bins: CalibrationBin[]): Spec {
  return {
    width: 360,
    height: 280,
    layer: [
      {
        data: {
          values: [
            { x: 0, y: 0 },
            { x: 1, y: 1 },
          ],
        },
        mark: { type: 'line', strokeDash: [4, 4], color: REFERENCE_COLOR, strokeWidth: 1.2 },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
      },
      {
        data: { values: bins },
        mark: {
          type: 'line',
          color: SERIES_COLORS[0],
          strokeWidth: 2,
          point: { filled: true, size: 50, color: SERIES_COLORS[0] },
        },
        encoding: {
          x: { field: 'meanPredicted', type: 'quantitative', ...unitAxis('Mean predicted probability') },
          y: { field: 'fractionPositive', type: 'quantitative', ...unitAxis('Observed share of positives') },
        },
      },
    ],
  };
}

export function featureImportanceSpec(items: { feature: string; importance: number }[]): Spec {
  return {
    width: 640,
    height: Math.max(60, items.length * 20),
    data: { values: items },
    encoding: {
      // Listed most important first, as given.
      y: {
        field: 'feature',
        type: 'nominal',
        sort: null,
        title: null,
        axis: { labelLimit: 220, labelFontSize: 11 },
      },
      x: {
        field: 'importance',
        type: 'quantitative',
        title: 'Importance (normalised to sum to 1)',
        axis: { format: '.2f', tickCount: 5 },
      },
    },
    layer: [
      { mark: { type: 'bar', color: SERIES_COLORS[0], cornerRadiusEnd: 2, height: { band: 0.7 } } },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 10, color: '#4b5563' },
        encoding: { text: { field: 'importance', type: 'quantitative', format: '.3f' } },
      },
    ],
  };
}

/** Mean |SHAP| per field (bars) beside nothing else: the explanation-based importance, in raw-output units. */
export function shapImportanceSpec(items: { field: string; meanAbsShap: number }[], unit: string): Spec {
  return {
    width: 640,
    height: Math.max(60, items.length * 20),
    data: { values: items },
    encoding: {
      y: { field: 'field', type: 'nominal', sort: null, title: null, axis: { labelLimit: 220 } },
      x: {
        field: 'meanAbsShap',
        type: 'quantitative',
        title: `Mean |SHAP value| (${unit})`,
        axis: { tickCount: 5 },
      },
    },
    layer: [
      { mark: { type: 'bar', color: SERIES_COLORS[0], cornerRadiusEnd: 2, height: { band: 0.7 } } },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 10, color: '#4b5563' },
        encoding: { text: { field: 'meanAbsShap', type: 'quantitative', format: '.3f' } },
      },
    ],
  };
}

/**
 * The summary plot: one dot per row and field at its SHAP value, coloured by the row's value of the field
 * (blue low, red high; grey for categories and missing values), fields ordered by mean |SHAP|.
 */
export function shapSummarySpec(
  points: { field: string; shap: number; level: number | null; value: string }[],
  order: string[],
  unit: string,
): Spec {
  return {
    width: 640,
    height: Math.max(80, order.length * 28),
    data: { values: points },
    transform: [{ calculate: 'random() - 0.5', as: 'jitter' }],
    layer: [
      {
        mark: { type: 'rule', color: REFERENCE_COLOR, strokeDash: [4, 3] },
        encoding: { x: { datum: 0, type: 'quantitative' } },
      },
      {
        // categories and missing values have no level: kept, and drawn grey
        mark: { type: 'circle', size: 14, opacity: 0.7, invalid: null },
        encoding: {
          y: { field: 'field', type: 'nominal', sort: order, title: null, axis: { labelLimit: 220 } },
          yOffset: { field: 'jitter', type: 'quantitative', scale: { domain: [-0.6, 0.6] } },
          x: {
            field: 'shap',
            type: 'quantitative',
            title: `SHAP value (${unit}): left lowers, right raises`,
          },
          color: {
            condition: { test: 'datum.level === null', value: REFERENCE_COLOR },
            field: 'level',
            type: 'quantitative',
            title: 'Field value (percentile)',
            scale: { domain: [0, 1], range: ['#1565c0', '#c62828'] },
            legend: { format: '.0%' },
          },
          tooltip: [
            { field: 'field', type: 'nominal' },
            { field: 'value', type: 'nominal', title: 'value' },
            { field: 'shap', type: 'quantitative', format: '.4f' },
          ],
        },
      },
    ],
  };
}
