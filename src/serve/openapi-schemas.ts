// The JSON Schemas of what the prediction server reads and answers, generated from the schema: one
// property per input field, the answer of the schema's task (with warnings and explanations), errors.
import { classLabels, type Field, type Schema } from '../schema/schema.js';
import { UNSEEN_REASONS } from '../ml/unseen.js';

export type JsonSchema = Record<string, unknown>;

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

export function inputRecordSchema(schema: Schema): JsonSchema {
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
export const WARNINGS_SCHEMA: JsonSchema = {
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

export const EXPLANATION_PROPERTY: JsonSchema = {
  $ref: '#/components/schemas/Explanation',
  description: 'Only with `?explain=true`: why the model gave this answer.',
};

/** The `explanation` of an answer: exact SHAP values per feature field, in the model's raw output. */
export function explanationSchema(schema: Schema): JsonSchema {
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

export function predictionSchema(schema: Schema): JsonSchema {
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

export const errorSchema: JsonSchema = {
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

export function errorResponse(description: string): JsonSchema {
  return { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
}
