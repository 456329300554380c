// POST /predict: one JSON record, a batch as {"records": [...]}, or a CSV body with a header row.
// Refusals are thrown as catalogue errors; the hygiene plugin's error handler answers them.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../../core/errors.js';
import { compileCoercer, type TypedRecord } from '../../schema/coerce.js';
import { CsvBody, formatCsv, parseCsvRecords } from '../csv.js';
import { explanationColumns, explanationRow } from '../../ml/explain/columns.js';
import { explainerOf, wantsExplanation, type ServedExplainer } from '../explanation.js';
import type { ServedModel } from '../model.js';
import { definePlugin } from '../plugin.js';
import {
  coerceAll,
  coerceOne,
  explainedAnswerJson,
  formatPrediction,
  predictionColumns,
  rowInvalid,
  scoreAll,
  scoreOne,
} from '../scoring.js';
import { TurnBatch } from '../turn-batch.js';

interface ExplainedRequest {
  model: ServedModel;
  explainer: ServedExplainer;
  record: TypedRecord;
  request: FastifyRequest;
  reply: FastifyReply;
}

export const predictionPlugin = definePlugin(
  (app, _options, done) => {
    const runtime = app.pipewright;
    const { schema, settings } = runtime;
    const coerce = compileCoercer(schema, { fields: 'inputs' });
    const keyName = schema.key?.name;
    // A schema may name a field `records`; then a body is always one record.
    const batchKey = schema.fields.some((field) => field.name === 'records') ? undefined : 'records';

    /** `,"version":…,"requestId":…`: the last keys of a JSON answer. */
    function identity(model: ServedModel, request: FastifyRequest): string {
      return `,"version":${JSON.stringify(model.version)},"requestId":${JSON.stringify(request.id)}`;
    }

    /** An answer already written as JSON text (an explained one: see explainedAnswerJson). */
    function sendJson(reply: FastifyReply, text: string): FastifyReply {
      return reply.type('application/json; charset=utf-8').send(text);
    }

    /**
     * Explained one-record requests of a turn: every record is scored and explained first, then every
     * answer is sent (see TurnBatch for why). A record that fails is answered with its error alone.
     */
    const explained = new TurnBatch<ExplainedRequest>((items) => {
      const answers: (string | Error)[] = new Array(items.length);
      for (let index = 0; index < items.length; index++) {
        const { model, explainer, record, request } = items[index];
        try {
          const scored = scoreOne(runtime, model, record, request.id, explainer);
          answers[index] = explainedAnswerJson(model.task, scored, identity(model, request));
        } catch (error) {
          answers[index] = error as Error;
        }
      }
      for (let index = 0; index < items.length; index++) {
        const answer = answers[index];
        const reply = items[index].reply;
        if (typeof answer === 'string') sendJson(reply, answer);
        else reply.send(answer);
      }
    });

    function refuseTooMany(count: number): void {
      if (count <= settings.max_batch) return;
      throw new errors.PW_REQUEST_TOO_LARGE(
        `${count} records is more than the limit of ${settings.max_batch} a request`,
        { details: { limit: settings.max_batch, unit: 'records' } },
      );
    }

    function predictBatch(
      model: ServedModel,
      records: unknown[],
      request: FastifyRequest,
      reply: FastifyReply,
    ) {
      refuseTooMany(records.length);
      const typed = coerceAll(coerce, records);
      const explainer = wantsExplanation(request.query) ? explainerOf(model) : undefined;
      const scored = scoreAll(runtime, model, typed, request.id, explainer);
      if (explainer) {
        const predictions = scored.map((result) => explainedAnswerJson(model.task, result));
        return sendJson(reply, `{"predictions":[${predictions.join(',')}]${identity(model, request)}}`);
      }
      const predictions = scored.map((result) => formatPrediction(model.task, result));
      return reply.send({ predictions, version: model.version, requestId: request.id });
    }

    function predictCsv(model: ServedModel, text: string, request: FastifyRequest, reply: FastifyReply) {
      const parsed = parseCsvRecords(text, settings.max_batch);
      refuseTooMany(parsed.records.length);
      const columns = new Set(parsed.columns);
      if (parsed.records.length > 0) {
        const absent = schema.features.filter((field) => !field.nullable && !columns.has(field.name));
        if (absent.length > 0) {
          const fields = absent.map((field) => ({
            field: field.name,
            reason: 'is not a column of the CSV header',
            line: 1,
          }));
          throw rowInvalid(fields, fields.length);
        }
      }
      const typed = coerceAll(coerce, parsed.records, parsed.lines);
      const explainer = wantsExplanation(request.query) ? explainerOf(model).explainer : undefined;
      const scored = scoreAll(runtime, model, typed, request.id);
      const withKey = keyName !== undefined && columns.has(keyName);
      const outputs = predictionColumns(model.task);
      const explained = explainer ? explanationColumns(explainer, model.classNames) : [];
      const header = [...(withKey ? [keyName, ...outputs] : outputs), ...explained];
      const contributions = explainer
        ? new Float64Array(explainer.outputs * explainer.fields.length)
        : undefined;
      const rows = scored.map((result, index) => {
        const answer = formatPrediction(model.task, result) as Record<string, unknown>;
        const values: unknown[] = outputs.map((column) => answer[column]);
        if (explainer && contributions) {
          explainer.explainRecordInto(typed[index], contributions);
          values.push(...explanationRow(explainer, contributions));
        }
        return withKey ? [parsed.records[index][keyName], ...values] : values;
      });
      reply.header('content-type', 'text/csv; charset=utf-8');
      reply.header('x-model-version', model.version);
      return reply.send(formatCsv(header, rows));
    }

    app.post('/predict', (request, reply) => {
      const model = runtime.requireModel();
      const body = request.body;
      if (body instanceof CsvBody) return predictCsv(model, body.text, request, reply);
      if (body === undefined || body === null) throw new errors.PW_REQUEST_INVALID('The body is empty');
      if (typeof body === 'string')
        throw new errors.PW_REQUEST_INVALID(
          'The body is a JSON string, not an object; send CSV with Content-Type: text/csv',
        );
      if (typeof body !== 'object')
        throw new errors.PW_REQUEST_INVALID(`The body is a JSON ${typeof body}, not an object`);
      if (Array.isArray(body))
        throw new errors.PW_REQUEST_INVALID(
          'The body is a JSON array; send several records as {"records": [...]}',
        );
      if (batchKey !== undefined && Object.prototype.hasOwnProperty.call(body, batchKey)) {
        const records = (body as Record<string, unknown>)[batchKey];
        if (!Array.isArray(records))
          throw new errors.PW_REQUEST_INVALID('"records" must be an array of records');
        return predictBatch(model, records, request, reply);
      }
      const record = coerceOne(coerce, body as Record<string, unknown>);
      if (wantsExplanation(request.query)) {
        explained.add({ model, explainer: explainerOf(model), record, request, reply });
        return reply;
      }
      const scored = scoreOne(runtime, model, record, request.id);
      return reply.send({
        ...formatPrediction(model.task, scored),
        version: model.version,
        requestId: request.id,
      });
    });
    done();
  },
  {
    name: 'pipewright-prediction',
    encapsulate: true,
    dependencies: ['pipewright-hygiene'],
    decorators: { fastify: ['pipewright'] },
  },
);
