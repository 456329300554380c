// A project inferred from a data file (`init --from`): the schema, the pipeline settings the data
// implies and the README, and whether the data file must be copied into the project's data/ folder.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { Logger } from '../core/logger.js';
import { inputSectionText } from '../data/dialect.js';
import { renderSchemaText } from '../schema/infer/index.js';
import { renderProjectConfig, renderReadme } from './config-text.js';
import { runInference, type InferFileOptions, type InferredFile } from './infer-file.js';
import { render, TEMPLATE_DIR } from './scaffold.js';
import { chooseSettings, type ProjectSettings } from './settings.js';

function isInside(file: string, dir: string): boolean {
  const path = relative(dir, file);
  return path !== '' && !path.startsWith('..') && !path.startsWith(sep) && !/^[A-Za-z]:/.test(path);
}

export interface InferredProject {
  result: InferredFile;
  settings: ProjectSettings;
  /** The data file's path inside the project, as the README and schema.yaml name it. */
  dataFile: string;
  /** The data file as given. */
  source: string;
  /** The data file lies outside the project and is copied into data/. */
  copy: boolean;
  /** The files that replace the template's: pipewright.yaml, schema.yaml, README.md. */
  overrides: Record<string, string>;
}

/** The project's files inferred from the data file `from`, and where that file goes (or already is) in it. */
export async function inferredProject(
  logger: Logger,
  target: string,
  name: string,
  values: Record<string, string>,
  from: string,
  options: InferFileOptions,
): Promise<InferredProject> {
  const source = resolve(from);
  const result = await runInference(logger, source, options);
  const { inferred } = result;
  const realTarget = existsSync(target) ? realpathSync(target) : target;
  const realSource = existsSync(source) ? realpathSync(source) : source;
  // A file already inside the project is used where it is; any other is copied into data/.
  const dataFile = isInside(realSource, realTarget)
    ? relative(realTarget, realSource).split(sep).join('/')
    : `data/${basename(source)}`;
  const settings = chooseSettings(inferred);
  const filled = { ...values, metric: settings.metric, expected_score: String(settings.expectedScore) };
  const config =
    renderProjectConfig(
      render(readFileSync(join(TEMPLATE_DIR, 'pipewright.yaml'), 'utf8'), filled),
      settings,
    ) + inputSectionText(result.dialect, result.sheet);
  const schema = renderSchemaText(inferred, {
    name,
    description: `Rows of ${basename(source)}: predict ${inferred.target}`,
    source: dataFile,
    truncated: result.truncated,
  });
  const readme = renderReadme(
    render(readFileSync(join(TEMPLATE_DIR, 'README.md'), 'utf8'), filled),
    dataFile,
  );
  return {
    result,
    settings,
    dataFile,
    source,
    copy: !isInside(realSource, realTarget),
    overrides: { 'pipewright.yaml': config, 'schema.yaml': schema, 'README.md': readme },
  };
}
