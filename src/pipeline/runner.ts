// Runs pipeline steps: each step gets its own artifact folder, its status and timing go into the run
// record, and a step whose inputs hash the same as in a finished earlier run is reused, not redone.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { replaceFileSync } from '../core/durable.js';
import { isPipewrightError } from '../core/errors.js';
import { canonicalJson, sha256 } from '../core/hash.js';
import type { Logger } from '../core/logger.js';
import { Progress } from './progress.js';
import { writeRunRecord, type RunRecord, type StepRecord } from './record.js';

export interface StepContext {
  runId: string;
  /** artifacts/<run-id>/<step>/ */
  dir: string;
  logger: Logger;
  /** Reports progress on a terminal: a fraction in [0, 1] (or undefined) and a short text. */
  progress(fraction: number | undefined, text?: string): void;
}

export interface Step<I, O> {
  name: string;
  /** What determines the output (upstream hashes and settings); no key means never reuse. */
  key?(input: I): unknown;
  run(context: StepContext, input: I): Promise<O>;
  /** Writes the output into the step folder for reuse by later runs; returns the files written. */
  save?(output: O, dir: string): Promise<string[]> | string[];
  /**
   * The steps after this one start while `save` writes (no later step of the run reads what it
   * writes). The run waits for the writing at `StepRunner.settle`, and fails there if it failed.
   */
  saveAside?: boolean;
  /** Reads an output saved by `save`. */
  load?(dir: string): Promise<O> | O;
  /** A content hash of the output, keying the steps after it. */
  outputHash?(output: O): string;
  summary?(output: O): Record<string, unknown>;
}

export interface RunnerOptions {
  artifactsRoot: string;
  record: RunRecord;
  logger: Logger;
  noCache?: boolean;
  progress?: Progress;
}

interface CacheEntry {
  runId: string;
  outputHash?: string;
  summary?: Record<string, unknown>;
}

export class StepRunner {
  readonly record: RunRecord;
  private readonly root: string;
  private readonly logger: Logger;
  private readonly noCache: boolean;
  private readonly progressDisplay: Progress;
  /** Saves of steps with `saveAside` still writing, each settled (its failure noted in `asideFailure`). */
  private readonly aside: Promise<void>[] = [];
  private asideFailure: { error: unknown } | undefined;

  constructor(options: RunnerOptions) {
    this.root = options.artifactsRoot;
    this.record = options.record;
    this.logger = options.logger;
    this.noCache = Boolean(options.noCache);
    this.progressDisplay = options.progress ?? new Progress(undefined);
    this.save();
  }

  save(): void {
    writeRunRecord(this.root, this.record);
  }

  /** Declares the steps up front so the record and the display show what is still to come. */
  plan(names: string[]): void {
    for (const name of names) {
      if (!this.record.steps.some((step) => step.name === name))
        this.record.steps.push({ name, status: 'pending' });
    }
    this.save();
  }

  stepRecord(name: string): StepRecord {
    let step = this.record.steps.find((s) => s.name === name);
    if (!step) {
      step = { name, status: 'pending' };
      this.record.steps.push(step);
    }
    return step;
  }

  skip(name: string, reason: string): void {
    const step = this.stepRecord(name);
    step.status = 'skipped';
    step.summary = { reason };
    this.progressDisplay.finish(name, 'skipped', reason);
    this.save();
  }

  async run<I, O>(step: Step<I, O>, input: I): Promise<O> {
    const entry = this.stepRecord(step.name);
    const dir = join(this.root, this.record.id, step.name);
    const logger = this.logger.child({ step: step.name });
    const started = performance.now();
    entry.startedAt = new Date().toISOString();
    entry.status = 'running';
    entry.inputHash = step.key ? sha256(canonicalJson({ step: step.name, key: step.key(input) })) : undefined;
    this.save();
    this.progressDisplay.start(step.name);
    try {
      const reused = await this.reuse(step, entry, logger);
      if (reused) return reused.output;
      mkdirSync(dir, { recursive: true });
      const context: StepContext = {
        runId: this.record.id,
        dir,
        logger,
        progress: (fraction, text) => this.progressDisplay.update(step.name, fraction, text),
      };
      const output = await step.run(context, input);
      entry.outputHash = step.outputHash?.(output);
      entry.summary = step.summary?.(output);
      if (step.save && step.saveAside) {
        this.saveAside(step, output, dir, entry, logger);
      } else {
        this.saved(step, entry, step.save ? await step.save(output, dir) : []);
      }
      entry.status = 'ok';
      return output;
    } catch (error) {
      entry.status = 'failed';
      entry.error = errorRecord(error);
      throw error;
    } finally {
      entry.endedAt = new Date().toISOString();
      entry.seconds = round((performance.now() - started) / 1000);
      entry.memory = {
        rssMb: Math.round(process.memoryUsage.rss() / 1048576),
        // maxRSS is in kilobytes and never falls, so a step that raises it is the one that set the peak.
        peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      };
      const detail = entry.status === 'failed' ? entry.error?.message : describeSummary(entry.summary);
      this.progressDisplay.finish(step.name, entry.status, detail, entry.seconds);
      // With the live display on, the console already shows this line.
      logger.info(
        {
          status: entry.status,
          seconds: entry.seconds,
          summary: entry.summary,
          cachedFrom: entry.cachedFrom,
          ...(this.progressDisplay.enabled ? { console: false } : {}),
        },
        `${step.name} ${entry.status} in ${entry.seconds} s${detail ? `: ${detail}` : ''}`,
      );
      this.save();
    }
  }

  /**
   * Waits for every save still writing aside, then throws the first one's failure, if any: a run calls it
   * before it publishes or reports success, so that nothing is published from a run whose artifacts
   * could not be written.
   */
  async settle(): Promise<void> {
    await Promise.all(this.aside);
    if (this.asideFailure) throw this.asideFailure.error;
  }

  /** Starts `step`'s save without waiting for it; its files are recorded (and cached) once written. */
  private saveAside<I, O>(step: Step<I, O>, output: O, dir: string, entry: StepRecord, logger: Logger): void {
    const started = performance.now();
    const save = step.save as NonNullable<typeof step.save>;
    this.aside.push(
      (async () => save(output, dir))().then(
        (files) => {
          this.saved(step, entry, files);
          logger.debug(
            { seconds: round((performance.now() - started) / 1000), artifacts: entry.artifacts },
            `${step.name} artifacts written`,
          );
          this.save();
        },
        (error: unknown) => {
          this.asideFailure ??= { error };
          entry.status = 'failed';
          entry.error = errorRecord(error);
          logger.error({ err: error }, `${step.name} artifacts could not be written`);
          this.save();
        },
      ),
    );
  }

  /** Records a step's written files and, for a step that can be reused, its cache entry. */
  private saved<I, O>(step: Step<I, O>, entry: StepRecord, files: string[]): void {
    entry.artifacts = files.map((file) => relative(this.root, file));
    if (entry.inputHash && step.load)
      this.remember(step.name, entry.inputHash, {
        runId: this.record.id,
        outputHash: entry.outputHash,
        summary: entry.summary,
      });
  }

  private cacheFile(stepName: string, inputHash: string): string {
    return join(this.root, '.cache', `${stepName}-${inputHash}.json`);
  }

  private remember(stepName: string, inputHash: string, entry: CacheEntry): void {
    const file = this.cacheFile(stepName, inputHash);
    mkdirSync(join(this.root, '.cache'), { recursive: true });
    replaceFileSync(file, JSON.stringify(entry));
  }

  private async reuse<I, O>(
    step: Step<I, O>,
    entry: StepRecord,
    logger: Logger,
  ): Promise<{ output: O } | undefined> {
    if (this.noCache || !entry.inputHash || !step.load) return undefined;
    const file = this.cacheFile(step.name, entry.inputHash);
    if (!existsSync(file)) return undefined;
    try {
      const cached = JSON.parse(readFileSync(file, 'utf8')) as CacheEntry;
      const dir = join(this.root, cached.runId, step.name);
      const output = await step.load(dir);
      entry.status = 'cached';
      entry.cachedFrom = cached.runId;
      entry.outputHash = cached.outputHash ?? step.outputHash?.(output);
      entry.summary = cached.summary ?? step.summary?.(output);
      entry.artifacts = [relative(this.root, dir)];
      return { output };
    } catch (error) {
      // A cache entry whose artifacts were deleted or damaged is ignored: the step runs again.
      logger.debug({ err: error }, `cached ${step.name} output unusable; running the step`);
      return undefined;
    }
  }
}

/** A failure as the run record keeps it. */
function errorRecord(error: unknown): NonNullable<StepRecord['error']> {
  return isPipewrightError(error)
    ? { code: error.code, message: error.message, hint: error.hint }
    : { code: 'PW_INTERNAL', message: String((error as Error)?.message ?? error) };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function describeSummary(summary: Record<string, unknown> | undefined): string | undefined {
  if (!summary) return undefined;
  if (typeof summary.text === 'string') return summary.text;
  return Object.entries(summary)
    .filter(
      ([, value]) => typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean',
    )
    .slice(0, 4)
    .map(
      ([key, value]) =>
        `${key} ${typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(4) : value}`,
    )
    .join(', ');
}
