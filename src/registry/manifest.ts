// The registry's records: version and alias names, the manifest written with each version (built
// from the publish metadata, checked when read back), alias records, and the not-found error.
import { errors } from '../core/errors.js';
import type { AliasInfo, PublishMeta, VersionInfo } from './types.js';

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
  createdBy: string,
  createdAt: Date = new Date(),
): VersionInfo {
  const { runId, metrics, schemaFingerprint, task, modelType, dataHash, ...rest } = meta;
  return {
    version: versionName(number),
    number,
    createdAt: createdAt.toISOString(),
    createdBy,
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
