// The pages people open: the prediction form at GET / with its script at /form.js, the API docs at
// /docs and the drift monitor at /monitor. Each page sends the Content-Security-Policy that allows
// exactly its own style and scripts.
import { existsSync, readFileSync } from 'node:fs';
import type { FastifyReply } from 'fastify';
import { fileURLToPath } from 'node:url';
import { errors } from '../../core/errors.js';
import { renderDocsPage } from '../docs.js';
import { FORM_SCRIPT_PATH, renderFormPage, type RenderedPage } from '../form.js';
import { renderMonitorPage } from '../monitor-page.js';
import { definePlugin } from '../plugin.js';
import type { ServedModel } from '../model.js';

/**
 * The compiled form script (form-script.ts): next to this module once built; when this module runs
 * from its `.ts` source (the tests), from the build output in dist/.
 */
function readFormScript(): string {
  const built = new URL('../form-script.js', import.meta.url);
  const file = fileURLToPath(
    import.meta.url.endsWith('.ts') ? new URL('../../../dist/serve/form-script.js', import.meta.url) : built,
  );
  if (!existsSync(file))
    throw new errors.PW_FILE_NOT_FOUND(`The form script ${file} is missing`, {
      hint: 'Build the package with `npm run build`.',
    });
  // The source map is not served, so the browser is not told to look for it.
  return readFileSync(file, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
}

function sendPage(reply: FastifyReply, page: RenderedPage): FastifyReply {
  return reply
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', page.policy)
    .header('cache-control', 'no-cache')
    .send(page.html);
}

export const pagesPlugin = definePlugin(
  (app, _options, done) => {
    const runtime = app.pipewright;
    const { schema } = runtime;
    const formScript = readFormScript();
    const docsPage = renderDocsPage(runtime.openapi);
    let formPage: { version: string; page: RenderedPage } | undefined;

    app.get('/', (_request, reply) => {
      const model = runtime.requireModel();
      if (!formPage || formPage.version !== model.version) {
        formPage = {
          version: model.version,
          page: renderFormPage(schema, {
            version: model.version,
            task: model.task,
            classes: model.classes,
            seenCategories: seenCategories(model),
            ...(model.task === 'binary' ? { threshold: model.predictor.threshold } : {}),
          }),
        };
      }
      return sendPage(reply, formPage.page);
    });

    app.get(`/${FORM_SCRIPT_PATH}`, (_request, reply) =>
      reply
        .header('content-type', 'text/javascript; charset=utf-8')
        .header('cache-control', 'no-cache')
        .send(formScript),
    );

    app.get('/docs', (_request, reply) => sendPage(reply, docsPage));

    app.get('/monitor', (_request, reply) => {
      const monitor = runtime.monitor();
      if (!monitor) throw new errors.PW_SERVE_NO_MODEL('No model is loaded yet');
      return sendPage(reply, renderMonitorPage(schema, monitor.snapshot()));
    });

    app.get('/favicon.ico', (_request, reply) =>
      reply.code(204).header('cache-control', 'max-age=86400').send(),
    );
    done();
  },
  {
    name: 'pipewright-pages',
    encapsulate: true,
    dependencies: ['pipewright-hygiene'],
    decorators: { fastify: ['pipewright'] },
  },
);

/** The categories each category feature held in training, from the served bundle's reference statistics. */
function seenCategories(model: ServedModel): Record<string, string[]> {
  const seen: Record<string, string[]> = {};
  for (const feature of model.predictor.bundle.metadata.referenceStats?.features ?? [])
    if (feature.kind === 'category') seen[feature.field] = feature.categories.map(String);
  return seen;
}
