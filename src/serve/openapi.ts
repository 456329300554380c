// The OpenAPI 3.1 description of the prediction server, generated from the schema: one property per
// input field with its type, range and allowed values, and the response shape of the schema's task.
import type { Schema } from '../schema/schema.js';
import {
  EXPLANATION_PROPERTY,
  errorResponse,
  errorSchema,
  explanationSchema,
  inputRecordSchema,
  predictionSchema,
} from './openapi-schemas.js';

export interface OpenApiOptions {
  title?: string;
  version?: string;
  maxBatch: number;
  /** Whether POST /train is enabled (a token is configured). */
  trainingEnabled: boolean;
}

/** The OpenAPI document for a schema. */
export function buildOpenApi(schema: Schema, options: OpenApiOptions): Record<string, unknown> {
  const target = schema.target?.name ?? 'the target';
  const csvColumns = [
    schema.key?.name,
    ...(schema.task === 'regression' ? ['value'] : ['probability', 'label']),
  ]
    .filter(Boolean)
    .join(',');
  const trainingNote = options.trainingEnabled
    ? 'Needs `Authorization: Bearer <PIPEWRIGHT_API_TOKEN>`.'
    : 'Disabled on this server (PIPEWRIGHT_API_TOKEN is not set): answers 404.';
  return {
    openapi: '3.1.0',
    info: {
      title: options.title ?? `${schema.name} prediction service`,
      version: options.version ?? '1',
      description: `${schema.description ?? `Predicts ${target}.`} Inputs are the raw fields of the \`${schema.name}\` schema; the server validates them and applies the model's own preprocessing.`,
    },
    paths: {
      '/predict': {
        post: {
          summary: `Predict ${target} for one record or a batch`,
          description: `Send one record as a JSON object, up to ${options.maxBatch} records as {"records": [...]}, or a CSV file with a header row (answered as CSV: ${csvColumns}). Invalid input is refused with 400 and one entry per invalid field.`,
          operationId: 'predict',
          parameters: [
            {
              name: 'explain',
              in: 'query',
              required: false,
              description:
                'true: every answer gains an `explanation` (exact SHAP values per field); CSV answers gain the columns shap_base and shap_<field>.',
              schema: { type: 'boolean', default: false },
            },
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  oneOf: [
                    { $ref: '#/components/schemas/Record' },
                    {
                      type: 'object',
                      properties: {
                        records: {
                          type: 'array',
                          items: { $ref: '#/components/schemas/Record' },
                          maxItems: options.maxBatch,
                        },
                      },
                      required: ['records'],
                    },
                  ],
                },
              },
              'text/csv': {
                schema: {
                  type: 'string',
                  description: `A header row naming the fields, then up to ${options.maxBatch} records.`,
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'The prediction (or one per record, in order, for a batch or CSV).',
              content: {
                'application/json': {
                  schema: {
                    oneOf: [
                      { $ref: '#/components/schemas/PredictionResponse' },
                      { $ref: '#/components/schemas/BatchResponse' },
                    ],
                  },
                },
                'text/csv': { schema: { type: 'string', description: `Columns: ${csvColumns}.` } },
              },
            },
            '400': errorResponse(
              'Invalid input (code PW_ROW_INVALID, with per-field reasons) or a body that is not JSON or CSV (PW_REQUEST_INVALID).',
            ),
            '413': errorResponse(
              `More than ${options.maxBatch} records, or a body over the size limit (PW_REQUEST_TOO_LARGE).`,
            ),
            '415': errorResponse('A content type other than JSON or CSV (PW_MEDIA_TYPE).'),
            '503': errorResponse('No model is loaded yet (PW_SERVE_NO_MODEL).'),
          },
        },
      },
      '/model': {
        get: {
          summary: 'The model being served: version, metrics, threshold and schema',
          operationId: 'model',
          responses: {
            '200': {
              description: 'Model details.',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
          },
        },
      },
      '/health': {
        get: {
          summary: 'Liveness: the process answers',
          operationId: 'health',
          responses: {
            '200': {
              description: 'Alive.',
              content: {
                'application/json': { schema: { type: 'object', properties: { status: { const: 'ok' } } } },
              },
            },
          },
        },
      },
      '/ready': {
        get: {
          summary: 'Readiness: a model is loaded',
          operationId: 'ready',
          responses: {
            '200': {
              description: 'Ready to predict.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { ready: { type: 'boolean' }, version: { type: 'string' } },
                  },
                },
              },
            },
            '503': {
              description: 'No model loaded yet.',
              content: {
                'application/json': { schema: { type: 'object', properties: { ready: { const: false } } } },
              },
            },
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics: requests, latency, predictions by label, model version, process',
          operationId: 'metrics',
          responses: {
            '200': {
              description: 'Prometheus text format.',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        },
      },
      '/monitor.json': {
        get: {
          summary:
            'Live drift: PSI per feature and of the predictions over the rolling window of recent requests',
          description:
            'Compares the last monitor.window scored records with the training data of the model being served. GET /monitor shows the same as a page.',
          operationId: 'monitor',
          responses: {
            '200': {
              description:
                'The window, the thresholds, and per feature its PSI, KS, drift flag and binned shares.',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
            '503': errorResponse('No model is loaded yet (PW_SERVE_NO_MODEL).'),
          },
        },
      },
      '/train': {
        post: {
          summary: 'Start a pipeline run in a separate process',
          description: `Runs \`pipewright run\` with this server's project in a child process and answers at once with the run id. ${trainingNote} When the run publishes a better model and moves the alias, this server reloads it.`,
          operationId: 'train',
          security: [{ bearer: [] }],
          responses: {
            '202': {
              description: 'Started.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      runId: { type: 'string' },
                      status: { type: 'string' },
                      statusUrl: { type: 'string' },
                    },
                  },
                },
              },
            },
            '401': errorResponse('Missing or wrong bearer token (PW_UNAUTHORIZED).'),
            '404': errorResponse('Training is disabled on this server (PW_TRAIN_DISABLED).'),
            '409': errorResponse('A run started by this server is still going (PW_TRAIN_BUSY).'),
          },
        },
      },
      '/runs/{id}': {
        get: {
          summary: 'The status of a pipeline run',
          operationId: 'run',
          security: [{ bearer: [] }],
          parameters: [
            {
              name: 'id',
              in: 'path',
              required: true,
              schema: { type: 'string', pattern: '^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$' },
            },
          ],
          responses: {
            '200': {
              description: 'Status, steps, metrics and outcome.',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
            '401': errorResponse('Missing or wrong bearer token (PW_UNAUTHORIZED).'),
            '404': errorResponse(
              'No such run (PW_RUN_NOT_FOUND), or training is disabled (PW_TRAIN_DISABLED).',
            ),
          },
        },
      },
    },
    components: {
      schemas: {
        Record: inputRecordSchema(schema),
        Prediction: predictionSchema(schema),
        Explanation: explanationSchema(schema),
        PredictionResponse: {
          allOf: [
            { $ref: '#/components/schemas/Prediction' },
            {
              type: 'object',
              properties: {
                version: { type: 'string', description: 'The model version that scored it, e.g. v3.' },
                requestId: { type: 'string' },
                explanation: EXPLANATION_PROPERTY,
              },
              required: ['version', 'requestId'],
            },
          ],
        },
        BatchResponse: {
          type: 'object',
          properties: {
            predictions: {
              type: 'array',
              items: {
                allOf: [
                  { $ref: '#/components/schemas/Prediction' },
                  { type: 'object', properties: { explanation: EXPLANATION_PROPERTY } },
                ],
              },
            },
            version: { type: 'string' },
            requestId: { type: 'string' },
          },
          required: ['predictions', 'version', 'requestId'],
        },
        Error: errorSchema,
      },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'The value of PIPEWRIGHT_API_TOKEN on the server.',
        },
      },
    },
  };
}
