// The OpenAPI 3.1 description of the prediction server, generated from the schema: one property per
// input field with its type, range and allowed values, and the response shape of the schema's task.
import { classLabels, type Field, type Schema } from '../schema/schema.js';
import { UNSEEN_REASONS } from '../ml/unseen.js';

type JsonSchema = Record<string, unknown>;

export interface OpenApiOptions {
  title?: string;
  version?: string;
  maxBatch: number;
  /** Whether POST /train is enabled (a token is configured). */
  trainingEnabled: boolean;
}

/** The JSON Schema of one field's value as the API accepts it. */
export function fieldJsonSchema(field: Field): JsonSchema {
  const schema: JsonSchema = {};
  switch (field.type) {
    case 'integer':
      schema.type = 'integer';
      break;
    case 'number':
      schema.type = 'number';
      break;
    case 'boolean':
      schema.type = 'boolean';
      break;
    case 'datetime':
      schema.type = 'string';
      schema.format = 'date-time';
      break;
    case 'category': {
      if (!field.values) {
        // An open category: any text or number; one training never saw is scored and flagged.
        schema.type = ['string', 'number'];
        schema.description =
          'An open category: any value is accepted; a value the model never saw in training is scored as an unknown category and flagged in `warnings`.';
        break;
      }
      const kinds = new Set(
        (field.values ?? []).map((value) =>
          typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value,
        ),
      );
      schema.type = kinds.size === 1 ? [...kinds][0] : [...kinds];
      break;
    }
    default:
      schema.type = 'string';
  }
  if (field.values) schema.enum = [...field.values];
  if (field.min !== undefined && field.type !== 'datetime') schema.minimum = field.min;
  if (field.max !== undefined && field.type !== 'datetime') schema.maximum = field.max;
  if (field.description)
    schema.description = schema.description
      ? `${field.description} ${schema.description}`
      : field.description;
  if (field.nullable) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    schema.type = [...types, 'null'];
    if (schema.enum) schema.enum = [...(schema.enum as unknown[]), null];
  }
  return schema;
}

function inputRecordSchema(schema: Schema): JsonSchema {
  const fields = schema.fields.filter((field) => field.role === 'feature' || field.role === 'key');
  const properties: Record<string, JsonSchema> = {};
  for (const field of fields) {
    const property = fieldJsonSchema(field);
    if (field.role === 'key') {
      property.description = `${field.description ? `${field.description}. ` : ''}The record's key (optional); echoed in CSV output.`;
      if (!field.nullable)
        property.type = [...(Array.isArray(property.type) ? property.type : [property.type]), 'null'];
    }
    properties[field.name] = property;
  }
  return {
    type: 'object',
    description: `One ${schema.name} record. Values may also be given as text (as in a CSV file); other properties are ignored.`,
    properties,
    required: schema.features.filter((field) => !field.nullable).map((field) => field.name),
  };
}

/** Present only when a value of the record lies outside what the model saw in training. */
const WARNINGS_SCHEMA: JsonSchema = {
  type: 'array',
  description:
    'Values of the record the model never saw in training. The record is valid and scored; each entry names the field and the reason.',
  items: {
    type: 'object',
    properties: {
      field: { type: 'string' },
      reason: { enum: [...UNSEEN_REASONS] },
    },
    required: ['field', 'reason'],
  },
};

const EXPLANATION_PROPERTY: JsonSchema = {
  $ref: '#/components/schemas/Explanation',
  description: 'Only with `?explain=true`: why the model gave this answer.',
};

/** The `explanation` of an answer: exact SHAP values per feature field, in the model's raw output. */
function explanationSchema(schema: Schema): JsonSchema {
  const fields = schema.features.map((field) => field.name);
  const contributions: JsonSchema = {
    type: 'object',
    description:
      "Each feature field's share of the difference between this record's raw output and `base` (exact SHAP values; positive pushes the output up).",
    properties: Object.fromEntries(fields.map((name) => [name, { type: 'number' }])),
  };
  const oneOutput: JsonSchema = {
    type: 'object',
    properties: {
      base: { type: 'number', description: 'The expected raw output, knowing none of the fields.' },
      contributions,
    },
    required: ['base', 'contributions'],
  };
  return {
    type: 'object',
    description:
      'base + the sum of contributions equals the model’s raw output for the record (within 1e-6): log-odds of the positive class (space log_odds), the averaged probability of a random forest (probability), the predicted value (value), or, for multiclass, one set per class of its raw class score (class_scores, in per_class).',
    properties: {
      space: { enum: ['log_odds', 'probability', 'value', 'class_scores'] },
      base: { type: 'number' },
      contributions,
      per_class: { type: 'object', additionalProperties: oneOutput },
    },
    required: ['space'],
  };
}

function predictionSchema(schema: Schema): JsonSchema {
  if (schema.task === 'regression') {
    return {
      type: 'object',
      properties: {
        value: { type: 'number', description: `The predicted ${schema.target?.name ?? 'value'}.` },
        warnings: WARNINGS_SCHEMA,
      },
      required: ['value'],
    };
  }
  const labels = classLabels(schema);
  const properties: Record<string, JsonSchema> = {
    label: { enum: labels, description: `The predicted ${schema.target?.name ?? 'class'}.` },
    probability: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      description:
        schema.task === 'binary'
          ? `The probability of ${JSON.stringify(labels[1])}; the label is ${JSON.stringify(labels[1])} when it reaches the model's threshold.`
          : 'The probability of the predicted label.',
    },
  };
  if (schema.task === 'multiclass') {
    properties.probabilities = {
      type: 'object',
      description: 'The probability of every class.',
      additionalProperties: { type: 'number' },
    };
  }
  properties.warnings = WARNINGS_SCHEMA;
  return { type: 'object', properties, required: ['label', 'probability'] };
}

const errorSchema: JsonSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', description: 'A stable code, e.g. PW_ROW_INVALID.' },
        message: { type: 'string' },
        hint: { type: 'string', description: 'What to do about it.' },
        fields: {
          type: 'array',
          description: 'One entry per invalid field (and per record, for batches).',
          items: {
            type: 'object',
            properties: {
              field: { type: 'string' },
              reason: { type: 'string' },
              record: { type: 'integer', description: 'Index of the record in a batch, from 0.' },
              line: { type: 'integer', description: 'Line of the CSV body, from 1 (the header).' },
            },
            required: ['field', 'reason'],
          },
        },
      },
      required: ['code', 'message'],
    },
    requestId: { type: 'string' },
  },
  required: ['error'],
};

function errorResponse(description: string): JsonSchema {
  return { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
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
