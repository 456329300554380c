// `pipewright.yaml`: the pipeline settings of one project, validated with zod. Secrets are never
// read from it; they come from the environment (see env.ts).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { errors } from './errors.js';
import { loadYaml, parseYaml, type LoadedYaml } from './yaml.js';

export const CONFIG_FILE = 'pipewright.yaml';

const level = z.enum(['fail', 'warn', 'off']);
const logLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

const scalerName = z.enum(['standard', 'minmax', 'robust', 'none']);
const encoderName = z.enum(['onehot', 'ordinal']);
const imputerName = z.enum(['mean', 'median', 'most_frequent', 'constant', 'none']);

/** The features a datetime field becomes (see ml/transform/dates.ts); `epoch` is the raw time. */
const datePart = z.enum(['year', 'month', 'day', 'weekday', 'hour', 'day_of_year', 'epoch']);

const columnTransform = z
  .object({
    /** Datetime fields: the calendar parts derived (default: preprocess.dates.parts). */
    parts: z.array(datePart).min(1).optional(),
    /** Datetime fields: add the days elapsed from this date to `scoring_time`, or to another datetime field of the row. */
    elapsed_to: z.string().min(1).optional(),
    scaler: scalerName.optional(),
    encoder: encoderName.optional(),
    imputer: imputerName.optional(),
    fill_value: z.union([z.number(), z.string()]).optional(),
    /** One-hot only: drop the first category's column (`first`), or only for two categories (`if_binary`). */
    drop: z.enum(['none', 'first', 'if_binary']).optional(),
  })
  .strict();

export const configSchema = z
  .object({
    project: z.string().min(1),
    schema: z.string().default('schema.yaml'),
    store: z
      .object({
        collection: z.string().min(1).default('records'),
        /** Embedded store file, relative to the project. */
        path: z.string().default('.pipewright/store.db'),
        /** MongoDB database name, used when MONGODB_URL is set. */
        database: z.string().min(1).default('pipewright'),
        timeout_ms: z.number().int().positive().default(5000),
        /** How long a MongoDB request may wait for the server's reply before the operation fails. */
        reply_timeout_ms: z.number().int().positive().default(60_000),
        batch_size: z.number().int().positive().default(5000),
      })
      .strict()
      .prefault({}),
    /** How data files are read; what is unset is sniffed from the file (CSV) or defaults (Excel: the first sheet). */
    input: z
      .object({
        delimiter: z.string().min(1).optional(),
        quote: z.string().length(1).optional(),
        decimal: z.enum(['.', ',']).optional(),
        encoding: z.string().min(1).optional(),
        header: z.boolean().optional(),
        sheet: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
    registry: z
      .object({
        type: z.enum(['folder', 's3']).default('folder'),
        path: z.string().default('.pipewright/registry'),
        bucket: z.string().optional(),
        prefix: z.string().default('pipewright/'),
        region: z.string().optional(),
        endpoint: z.string().url().optional(),
        force_path_style: z.boolean().default(false),
        /** An S3 request that moves no byte for this long is abandoned and tried again (3 tries in all). */
        timeout_ms: z.number().int().positive().default(30_000),
        /** A PEM file with the Ed25519 public key that signs bundles (relative to the project). */
        public_key: z.string().optional(),
        /** Refuse bundles without a valid signature (serve, predict, monitor, run's comparison). */
        require_signature: z.boolean().default(false),
      })
      .strict()
      .prefault({})
      .superRefine((registry, context) => {
        if (registry.type === 's3' && !registry.bucket) {
          context.addIssue({ code: 'custom', path: ['bucket'], message: 'an s3 registry needs a bucket' });
        }
      }),
    artifacts: z
      .object({
        path: z.string().default('artifacts'),
        /** Runs whose data snapshot (ingest/frame.arrow) is kept, newest first; 0 keeps every one. */
        keep_data: z.number().int().min(0).default(10),
      })
      .strict()
      .prefault({}),
    logging: z
      .object({
        level: logLevel.default('info'),
        dir: z.string().default('logs'),
        /** How many files to keep in the log folder (logs, rotated parts, training output). */
        retention: z.number().int().positive().default(100),
        /** A log file past this size is set aside and a new one begun. */
        max_file_mb: z.number().positive().default(50),
      })
      .strict()
      .prefault({}),
    split: z
      .object({
        test_size: z.number().gt(0, 'must be between 0 and 1').lt(1, 'must be between 0 and 1').default(0.2),
        stratify: z.boolean().default(true),
        seed: z.number().int().default(42),
      })
      .strict()
      .prefault({}),
    validation: z
      .object({
        missing_columns: level.default('fail'),
        extra_columns: level.default('warn'),
        type_errors: level.default('fail'),
        nulls: level.default('fail'),
        out_of_range: level.default('fail'),
        unknown_categories: level.default('fail'),
        duplicate_keys: level.default('fail'),
        class_balance: level.default('warn'),
        min_minority_share: z.number().min(0).max(0.5).default(0.01),
        min_rows: z.number().int().nonnegative().default(100),
        drift: z
          .object({
            level: level.default('warn'),
            psi_threshold: z.number().positive().default(0.2),
            ks_threshold: z.number().positive().max(1).default(0.1),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    preprocess: z
      .object({
        numeric: columnTransform.prefault({}),
        categorical: columnTransform.prefault({}),
        /** Every datetime feature: its calendar parts and, when named, the days to a reference. */
        dates: z
          .object({
            parts: z.array(datePart).min(1).default(['month', 'weekday', 'hour']),
            elapsed_to: z.string().min(1).optional(),
          })
          .strict()
          .prefault({}),
        /** Per-field overrides, by field name. */
        fields: z.record(z.string(), columnTransform).default({}),
      })
      .strict()
      .prefault({}),
    imbalance: z
      .object({
        strategy: z.enum(['none', 'class_weight', 'smote', 'enn', 'smoteenn']).default('none'),
        k_neighbors: z.number().int().positive().default(5),
      })
      .strict()
      .prefault({}),
    model: z
      .object({
        type: z.enum(['gbdt', 'random_forest', 'logistic']).default('gbdt'),
        params: z.record(z.string(), z.unknown()).default({}),
        threads: z.number().int().positive().optional(),
      })
      .strict()
      .prefault({}),
    evaluate: z
      .object({
        metric: z
          .enum(['roc_auc', 'pr_auc', 'f1', 'accuracy', 'log_loss', 'macro_f1', 'rmse', 'mae', 'r2'])
          .default('roc_auc'),
        expected_score: z.number().default(0.6),
        min_improvement: z.number().default(0),
        threshold: z.union([z.literal('f1'), z.number().min(0).max(1)]).default('f1'),
        bootstrap: z.number().int().nonnegative().default(200),
        /**
         * Small data is estimated by repeated stratified k-fold over every row instead of one hold-out
         * (auto: below `max_rows` rows, or when the rarest class has fewer than `min_class_rows`).
         */
        cross_validation: z
          .object({
            use: z.enum(['auto', 'always', 'never']).default('auto'),
            folds: z.number().int().min(2).max(20).default(5),
            repeats: z.number().int().min(1).max(20).default(3),
            max_rows: z.number().int().nonnegative().default(1000),
            min_class_rows: z.number().int().nonnegative().default(50),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    serve: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        model: z.string().default('production'),
        max_batch: z.number().int().positive().default(1000),
        body_limit_bytes: z.number().int().positive().default(1_048_576),
        request_timeout_ms: z.number().int().positive().default(10_000),
        reload_interval_ms: z.number().int().positive().default(5000),
        cors_origins: z.array(z.string()).default([]),
        log_predictions: z.number().min(0).max(1).default(1),
        predictions_collection: z.string().default('predictions'),
        /** How long a SIGTERM waits for requests in flight and the prediction log before exiting 0. */
        shutdown_timeout_ms: z.number().int().positive().default(10_000),
        /** Bounds on the prediction log, so that a slow or locked store cannot exhaust memory or delay exit. */
        prediction_log: z
          .object({
            /** Records queued plus being written; beyond it the oldest queued are dropped (and counted). */
            max_pending: z.number().int().positive().default(10_000),
            /** A write that takes longer is abandoned and its records counted as dropped. */
            write_timeout_ms: z.number().int().positive().default(5000),
            /** Logged predictions older than this are deleted (0 keeps them forever). */
            retention_days: z.number().min(0).default(30),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    /** Drift monitoring of live traffic (`serve` windows, `pipewright monitor`); thresholds are validation.drift's. */
    monitor: z
      .object({
        /** The server's rolling window: the last this many scored records. */
        window: z.number().int().positive().max(1_000_000).default(10_000),
        /** Records needed before drift is flagged, in the window or among logged predictions. */
        min_count: z.number().int().positive().default(1000),
        /** The share of the server's time that explaining a sample of live requests may take. */
        explain_time_share: z.number().positive().max(1).default(0.005),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

export interface LoadedConfig {
  config: Config;
  file: string;
  /** The project folder: the folder that holds pipewright.yaml. */
  dir: string;
  locate: LoadedYaml<Config>['locate'];
}

/** Finds pipewright.yaml in `start` or the nearest folder above it. */
export function findConfigFile(start: string = process.cwd()): string | undefined {
  let current = resolve(start);
  for (;;) {
    const candidate = join(current, CONFIG_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

export function loadConfig(explicit?: string, start?: string): LoadedConfig {
  const file = explicit ? resolve(explicit) : findConfigFile(start);
  if (!file) {
    throw new errors.PW_CONFIG_NOT_FOUND(
      `No ${CONFIG_FILE} in ${resolve(start ?? process.cwd())} or any folder above it`,
    );
  }
  if (!existsSync(file)) throw new errors.PW_CONFIG_NOT_FOUND(`Config file ${file} does not exist`);
  const loaded = loadYaml(file, configSchema);
  rejectSecrets(loaded.value, loaded.locate);
  return { config: loaded.value, file, dir: dirname(file), locate: loaded.locate };
}

export function parseConfig(text: string, file = CONFIG_FILE): Config {
  const loaded = parseYaml(text, file, configSchema);
  rejectSecrets(loaded.value, loaded.locate);
  return loaded.value;
}

// A password in any URL (`scheme://user:password@host`, a registry endpoint as much as a database), or
// an AWS access key id.
const SECRET_LOOKING = /^([a-z][a-z0-9+.-]*:\/\/[^/@\s:]*:[^@/\s]*@|AKIA[0-9A-Z]{16}$)/i;

/** Secrets belong in the environment; a URL with a password, or a key, in YAML is refused. */
function rejectSecrets(
  value: unknown,
  locate: (path: (string | number)[]) => string,
  path: (string | number)[] = [],
): void {
  if (typeof value === 'string' && SECRET_LOOKING.test(value)) {
    throw new errors.PW_CONFIG_SECRET(`${locate(path)} ${path.join('.')}: holds a credential`, {
      where: locate(path),
    });
  }
  if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) rejectSecrets(item, locate, [...path, key]);
  }
}
