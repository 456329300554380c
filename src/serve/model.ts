// The model being served and its hot reload: loads a bundle from the registry (checksum, schema
// fingerprint and golden sample verified), polls the alias, and swaps in a new model with one reference
// assignment, so a request keeps the model it started with. An unusable bundle is refused for good; a
// registry that fails to answer (network, timeouts, 5xx) is retried with backoff until the version loads.
import { errors, isPipewrightError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { Predictor } from '../ml/bundle.js';
import { compileUnseenCheck, type UnseenCheck } from '../ml/unseen.js';
import { isVersionName } from '../registry/manifest.js';
import type { ModelRegistry, VersionInfo } from '../registry/types.js';
import type { CategoryValue, Schema } from '../schema/schema.js';

export interface ServedModel {
  /** The registry version, e.g. `v3`. */
  version: string;
  /** What the server was asked to serve: an alias (`production`) or a version. */
  reference: string;
  info: VersionInfo;
  predictor: Predictor;
  task: Predictor['task'];
  classes: CategoryValue[];
  /** The class labels as text, for metrics and CSV. */
  classNames: string[];
  /** Flags a valid record's values that training never saw (from the bundle's reference statistics). */
  unseen: UnseenCheck;
  loadedAt: string;
}

/** Loads and verifies one version; throws PW_BUNDLE_INVALID or PW_MODEL_SCHEMA_MISMATCH when it is unusable. */
export async function loadServedModel(
  registry: ModelRegistry,
  version: string,
  reference: string,
  schema: Schema,
): Promise<ServedModel> {
  const { info, bytes } = await registry.load(version);
  const predictor = Predictor.load(bytes, schema, {
    source: `model ${info.version} in the registry at ${registry.location}`,
  });
  return {
    version: info.version,
    reference,
    info,
    predictor,
    task: predictor.task,
    classes: predictor.classes,
    classNames: predictor.classes.map(String),
    unseen: compileUnseenCheck(schema, predictor.bundle.metadata.referenceStats),
    loadedAt: new Date().toISOString(),
  };
}

/** The version an alias or version names; PW_SERVE_NO_MODEL, with what to do, when there is none. */
export async function resolveServedVersion(registry: ModelRegistry, reference: string): Promise<string> {
  try {
    return (await registry.resolve(reference)).version;
  } catch (error) {
    if (isPipewrightError(error) && error.code === 'PW_REGISTRY_NOT_FOUND') {
      throw new errors.PW_SERVE_NO_MODEL(`No model to serve: ${error.message}`, {
        hint:
          `Train and publish one with \`pipewright run\` (it moves the alias when the model passes the gates), ` +
          `or point the alias at an existing version with \`pipewright models promote <version> --alias ${isVersionName(reference) ? 'production' : reference}\`.`,
        cause: error,
        details: error.details,
      });
    }
    throw error;
  }
}

export interface ModelHolderOptions {
  registry: ModelRegistry;
  schema: Schema;
  /** An alias (followed as it moves) or a fixed version. */
  reference: string;
  /** How often to ask the registry where the alias points. */
  intervalMs: number;
  logger: Logger;
  /** Told about every swap and every refused bundle (metrics). */
  onLoad?: (model: ServedModel) => void;
  onRefuse?: (version: string, error: unknown) => void;
}

/** Errors that say the bundle itself is unusable: no later attempt can load it. */
const PERMANENT_LOAD_ERRORS = new Set([
  'PW_BUNDLE_INVALID',
  'PW_MODEL_SCHEMA_MISMATCH',
  'PW_SIGNATURE_INVALID',
]);

/** The longest wait between two attempts at a version the registry failed to deliver. */
const MAX_RETRY_DELAY_MS = 30_000;

/** Whether a load failure is the bundle's fault (refused for good) rather than the registry's (retried). */
export function isPermanentLoadError(error: unknown): boolean {
  return isPipewrightError(error) && PERMANENT_LOAD_ERRORS.has(error.code);
}

export interface ReloadState {
  /** The last version whose bundle is unusable, and why; cleared when a later one loads. */
  refused?: { version: string; code: string; message: string; at: string };
  /**
   * A version the registry failed to deliver (network, timeout, 5xx): tried again after `retryAt`, and
   * at once when the registry answers again after failing to.
   */
  retrying?: { version: string; code: string; message: string; attempts: number; retryAt: string };
  lastCheck?: string;
}

export class ModelHolder {
  /** Read once per request: the swap is this one assignment. */
  current: ServedModel | undefined;
  readonly state: ReloadState = {};
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private stopped = false;
  private pollFailures = 0;
  /** When the version in `state.retrying` may be tried again (ms since the epoch). */
  private retryAt = 0;

  constructor(private readonly options: ModelHolderOptions) {}

  get reference(): string {
    return this.options.reference;
  }

  /** Whether the reference is an alias that can move (a version never changes). */
  get follows(): boolean {
    return !isVersionName(this.options.reference);
  }

  /**
   * Loads the first model. Refuses with PW_SERVE_NO_MODEL when the alias or version does not exist,
   * and with the loading error when its bundle is unusable.
   */
  async loadInitial(): Promise<ServedModel> {
    return this.loadFirst(await resolveServedVersion(this.options.registry, this.options.reference));
  }

  /**
   * Loads `version` as the first model; a failure is remembered like a failed reload (refused, or
   * retried by the polls when the registry was at fault), then thrown.
   */
  async loadFirst(version: string): Promise<ServedModel> {
    const { registry, reference } = this.options;
    try {
      const model = await loadServedModel(registry, version, reference, this.options.schema);
      this.swap(model);
      return model;
    } catch (error) {
      this.fail(version, error);
      throw error;
    }
  }

  /** Records a failed load: refused for good when the bundle is unusable, else retried with backoff. */
  private fail(version: string, error: unknown): void {
    const code = isPipewrightError(error) ? error.code : 'PW_INTERNAL';
    const message = error instanceof Error ? error.message : String(error);
    if (isPermanentLoadError(error)) {
      delete this.state.retrying;
      this.state.refused = { version, code, message, at: new Date().toISOString() };
      this.options.onRefuse?.(version, error);
      return;
    }
    const attempts = this.state.retrying?.version === version ? this.state.retrying.attempts + 1 : 1;
    const delay = Math.min(
      this.options.intervalMs * 2 ** (attempts - 1),
      Math.max(MAX_RETRY_DELAY_MS, this.options.intervalMs),
    );
    this.retryAt = Date.now() + delay;
    this.state.retrying = { version, code, message, attempts, retryAt: new Date(this.retryAt).toISOString() };
  }

  private swap(model: ServedModel): void {
    this.current = model;
    delete this.state.refused;
    delete this.state.retrying;
    this.options.onLoad?.(model);
  }

  /** Starts polling the alias (nothing to poll for a fixed version). */
  start(): void {
    if (!this.follows || this.timer || this.stopped) return;
    const tick = () => {
      this.timer = undefined;
      this.check().finally(() => {
        if (!this.stopped) {
          this.timer = setTimeout(tick, this.options.intervalMs);
          this.timer.unref();
        }
      });
    };
    this.timer = setTimeout(tick, this.options.intervalMs);
    this.timer.unref();
  }

  /** Asks the registry where the alias points and loads the version when it moved. */
  check(): Promise<void> {
    this.checking ??= this.checkOnce().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    const { registry, reference, logger } = this.options;
    let version: string | undefined;
    try {
      version = await registry.aliasVersion(reference);
      this.state.lastCheck = new Date().toISOString();
      // The registry answers again after failing to: a version it failed to deliver is tried at once.
      if (this.pollFailures > 0) this.retryAt = 0;
      this.pollFailures = 0;
    } catch (error) {
      // The registry being briefly unreachable must not take the served model down; say so now and then.
      if (this.pollFailures++ % 20 === 0)
        logger.warn(
          { err: error, alias: reference },
          `could not read alias ${reference} from the registry; serving ${this.current?.version ?? 'nothing'} still`,
        );
      return;
    }
    if (version === undefined) {
      if (this.current)
        logger.debug(
          { alias: reference },
          `alias ${reference} no longer exists; keeping ${this.current.version}`,
        );
      return;
    }
    if (version === this.current?.version || version === this.state.refused?.version) return;
    if (version === this.state.retrying?.version && Date.now() < this.retryAt) return;
    const previous = this.current?.version;
    try {
      const model = await loadServedModel(registry, version, reference, this.options.schema);
      if (this.stopped) return;
      this.swap(model);
      logger.info(
        { alias: reference, from: previous ?? null, to: model.version },
        `alias ${reference} moved: now serving ${model.version}${previous ? ` (was ${previous})` : ''}`,
      );
    } catch (error) {
      if (this.stopped) return;
      this.fail(version, error);
      const failed = this.state.refused?.version === version ? this.state.refused : this.state.retrying!;
      if (failed === this.state.refused) {
        logger.error(
          { err: error, alias: reference, refused: version, serving: previous ?? null, code: failed.code },
          `refused ${version} (alias ${reference}): ${failed.message}; still serving ${previous ?? 'nothing'}`,
        );
      } else if (this.state.retrying!.attempts === 1 || this.state.retrying!.attempts % 10 === 0) {
        // The registry, not the bundle, failed: said on the first failure and then now and then.
        logger.warn(
          {
            err: error,
            alias: reference,
            retrying: version,
            attempts: this.state.retrying!.attempts,
            serving: previous ?? null,
            code: failed.code,
          },
          `could not load ${version} (alias ${reference}): ${failed.message}; trying again, still serving ${previous ?? 'nothing'}`,
        );
      }
    }
  }

  /** Stops polling and waits for a check in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.checking;
  }
}
