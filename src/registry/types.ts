// The model registry contract shared by the folder and S3 backends: immutable numbered versions,
// movable aliases and an append-only history. Bundles are opaque bytes here; their format lives in
// src/ml/bundle.ts.
import { errors } from '../core/errors.js';

/** What the caller knows about a bundle when publishing it; extra keys are kept as they are. */
export interface PublishMeta {
  runId: string;
  metrics: Record<string, number>;
  schemaFingerprint: string;
  task?: string;
  modelType?: string;
  dataHash?: string;
  [key: string]: unknown;
}

/** One published version, as its manifest records it. Never changes once written. */
export interface VersionInfo {
  /** `v1`, `v2`, … */
  version: string;
  number: number;
  createdAt: string;
  createdBy: string;
  /** Bundle size in bytes. */
  size: number;
  /** sha256 of the bundle bytes, hex. */
  sha256: string;
  runId: string;
  metrics: Record<string, number>;
  schemaFingerprint: string;
  task?: string;
  modelType?: string;
  dataHash?: string;
  /** The publish metadata beyond the fields above. */
  meta: Record<string, unknown>;
}

export interface ListedVersion extends VersionInfo {
  /** The aliases that point at this version now. */
  aliases: string[];
}

export interface AliasInfo {
  name: string;
  version: string;
  /** The version this alias pointed at before its last move; what `rollback` returns to. */
  previous: string | null;
  updatedAt: string;
  updatedBy: string;
}

export type HistoryAction = 'publish' | 'alias' | 'rollback';

export interface HistoryEvent {
  time: string;
  action: HistoryAction;
  /** The alias moved (absent for a publish). */
  alias?: string;
  /** The version the alias pointed at before (null when it was created). */
  from?: string | null;
  /** The version published, or the version the alias now points at. */
  to: string;
  who: string;
  reason?: string;
  runId?: string;
}

export interface LoadedBundle {
  info: VersionInfo;
  bytes: Uint8Array;
}

export interface AliasOptions {
  /** Why the alias moved; kept in the history. */
  reason?: string;
}

export interface RollbackResult {
  alias: string;
  from: string;
  to: string;
}

export interface ModelRegistry {
  /** Where the registry lives, for messages: a folder path or `s3://bucket/prefix`. */
  readonly location: string;
  /** Stores a new immutable version; concurrent publishers always get distinct versions. */
  publish(bundle: Uint8Array, meta: PublishMeta): Promise<VersionInfo>;
  /** Points `name` at a version (or at whatever another alias points at), atomically. */
  setAlias(name: string, versionOrAlias: string, options?: AliasOptions): Promise<AliasInfo>;
  /** The alias, or undefined when no alias has that name. */
  getAlias(name: string): Promise<AliasInfo | undefined>;
  /** The version an alias points at, read as cheaply as the backend allows (for hot-reload polling). */
  aliasVersion(name: string): Promise<string | undefined>;
  resolve(aliasOrVersion: string): Promise<VersionInfo>;
  /** The bundle bytes, checked against the manifest's size and sha256. */
  load(aliasOrVersion: string): Promise<LoadedBundle>;
  /** Every version, oldest first, with the aliases pointing at each. */
  list(): Promise<ListedVersion[]>;
  aliases(): Promise<AliasInfo[]>;
  /** Every publish and alias move, oldest first. */
  history(): Promise<HistoryEvent[]>;
  /** Moves `alias` back to the version it pointed at before its last move. */
  rollback(alias: string, options?: AliasOptions): Promise<RollbackResult>;
  /** Releases connections; the registry is unusable afterwards. */
  close(): Promise<void>;
}

export const VERSION_PATTERN = /^v([1-9][0-9]*)$/;
const ALIAS_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function versionName(number: number): string {
  return `v${number}`;
}

export function versionNumber(version: string): number | undefined {
  const match = VERSION_PATTERN.exec(version);
  return match ? Number(match[1]) : undefined;
}

export function isVersionName(value: string): boolean {
  return VERSION_PATTERN.test(value);
}

/** Alias names become file and object names, so they are kept to a safe alphabet. */
export function checkAliasName(name: string): void {
  if (!ALIAS_PATTERN.test(name) || isVersionName(name)) {
    throw new errors.PW_USAGE(`"${name}" is not a valid alias name`, {
      hint: 'An alias name is 1 to 64 letters, digits, ".", "_" or "-", starts with a letter or digit, and does not look like a version (v1, v2, …).',
    });
  }
}

export function currentUser(): string {
  return process.env.USER || process.env.USERNAME || 'unknown';
}

/** Refuses metadata that would not survive a JSON round trip or that misses required fields. */
export function checkPublishMeta(meta: PublishMeta): void {
  const problems: string[] = [];
  if (typeof meta.runId !== 'string' || meta.runId === '') problems.push('runId must be a non-empty string');
  if (typeof meta.schemaFingerprint !== 'string' || meta.schemaFingerprint === '') {
    problems.push('schemaFingerprint must be a non-empty string');
  }
  if (meta.metrics === null || typeof meta.metrics !== 'object') problems.push('metrics must be an object');
  else {
    for (const [name, value] of Object.entries(meta.metrics)) {
      if (typeof value !== 'number' || !Number.isFinite(value))
        problems.push(`metric ${name} is ${String(value)}, not a finite number`);
    }
  }
  for (const key of ['task', 'modelType', 'dataHash'] as const) {
    if (meta[key] !== undefined && typeof meta[key] !== 'string') problems.push(`${key} must be a string`);
  }
  if (problems.length > 0) {
    throw new errors.PW_REGISTRY_FAILED(`Cannot publish: ${problems.join('; ')}`, {
      hint: 'Pass publish() the run id, finite metric values and the schema fingerprint of the bundle.',
      details: { problems },
    });
  }
}

/** The manifest of a new version, from the publish metadata and the stored bundle. */
export function buildVersionInfo(
  number: number,
  bundle: { size: number; sha256: string },
  meta: PublishMeta,
  createdAt: Date = new Date(),
): VersionInfo {
  const { runId, metrics, schemaFingerprint, task, modelType, dataHash, ...rest } = meta;
  return {
    version: versionName(number),
    number,
    createdAt: createdAt.toISOString(),
    createdBy: currentUser(),
    size: bundle.size,
    sha256: bundle.sha256,
    runId,
    metrics: { ...metrics },
    schemaFingerprint,
    ...(task !== undefined ? { task } : {}),
    ...(modelType !== undefined ? { modelType } : {}),
    ...(dataHash !== undefined ? { dataHash } : {}),
    meta: JSON.parse(JSON.stringify(rest)) as Record<string, unknown>,
  };
}

/** Reads a manifest parsed from storage, refusing anything that is not one. */
export function parseManifest(value: unknown, where: string): VersionInfo {
  const manifest = value as Partial<VersionInfo> | null;
  if (
    !manifest ||
    typeof manifest !== 'object' ||
    typeof manifest.version !== 'string' ||
    !isVersionName(manifest.version) ||
    typeof manifest.sha256 !== 'string' ||
    typeof manifest.size !== 'number' ||
    typeof manifest.runId !== 'string'
  ) {
    throw new errors.PW_BUNDLE_INVALID(`${where} is not a registry manifest`, {
      where,
      hint: 'The registry was changed by hand or damaged: restore the file from a backup, or remove the version folder.',
    });
  }
  return {
    ...manifest,
    number: versionNumber(manifest.version)!,
    metrics: manifest.metrics ?? {},
    meta: manifest.meta ?? {},
  } as VersionInfo;
}

export function parseAlias(value: unknown, where: string): AliasInfo {
  const alias = value as Partial<AliasInfo> | null;
  if (
    !alias ||
    typeof alias !== 'object' ||
    typeof alias.name !== 'string' ||
    typeof alias.version !== 'string'
  ) {
    throw new errors.PW_REGISTRY_FAILED(`${where} is not a registry alias`, {
      where,
      hint: 'Move the alias again with `pipewright models promote <version> --alias <name>`.',
    });
  }
  return {
    name: alias.name,
    version: alias.version,
    previous: alias.previous ?? null,
    updatedAt: alias.updatedAt ?? '',
    updatedBy: alias.updatedBy ?? 'unknown',
  };
}

/** The error for an unknown version or alias; its hint names what does exist. */
export function notFound(requested: string, versions: string[], aliases: string[], location: string): Error {
  const known =
    versions.length === 0
      ? 'The registry has no versions yet: publish one with `pipewright run`.'
      : `Existing versions: ${versions.length > 20 ? `…, ${versions.slice(-20).join(', ')}` : versions.join(', ')}${
          aliases.length > 0 ? `; aliases: ${aliases.join(', ')}` : ''
        }.`;
  return new errors.PW_REGISTRY_NOT_FOUND(
    `No version or alias "${requested}" in the registry at ${location}`,
    {
      hint: `${known} Run \`pipewright models list\` for details.`,
      details: { requested, versions, aliases },
    },
  );
}
