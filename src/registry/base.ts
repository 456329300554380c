// The registry behaviour both backends share (resolving, verifying, aliases, rollback, history
// records), written once over a few storage primitives that each backend implements.
import { errors } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { currentUser } from '../core/user.js';
import { checkAliasName, checkPublishMeta, isVersionName, notFound, versionName } from './manifest.js';
import type {
  AliasInfo,
  AliasOptions,
  HistoryEvent,
  ListedVersion,
  LoadedBundle,
  ModelRegistry,
  PublishMeta,
  PublishStep,
  RegistryOptions,
  RollbackResult,
  VersionInfo,
} from './types.js';

/** Longest reason kept in the history; a reason is a note, not a document. */
const MAX_REASON_LENGTH = 500;
/** How often a promotion re-reads an alias that others keep moving before it gives up. */
const ALIAS_ATTEMPTS = 8;

function aliasConflict(name: string): Error {
  return new errors.PW_REGISTRY_CONFLICT(`Alias "${name}" was moved by another process at the same time`, {
    hint: `Check \`pipewright models history\`, then run the command again if it is still wanted.`,
  });
}

/** Whether two reads of an alias are the same record (a compare-and-swap compares whole records). */
export function sameAlias(a: AliasInfo | undefined, b: AliasInfo | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.version === b.version &&
    a.previous === b.previous &&
    a.updatedAt === b.updatedAt &&
    a.updatedBy === b.updatedBy
  );
}

export abstract class BaseRegistry implements ModelRegistry {
  abstract readonly location: string;
  /** Manifests never change once written, so each is read from storage at most once. */
  private readonly manifests = new Map<string, VersionInfo>();
  /** Recorded as the author of publishes and alias moves. */
  protected readonly user: string;
  private readonly onStep: RegistryOptions['onStep'];
  private readonly signer: RegistryOptions['signer'];
  private readonly verifier: RegistryOptions['verifier'];

  constructor(options: RegistryOptions = {}) {
    this.user = options.user ?? currentUser();
    this.onStep = options.onStep;
    this.signer = options.signer;
    this.verifier = options.verifier;
  }

  /** Marks a durable step of a publish, for whoever watches it (see RegistryOptions.onStep). */
  protected async reached(step: PublishStep): Promise<void> {
    await this.onStep?.(step);
  }

  /** Stores the bundle and its manifest under a version number no other publisher holds. */
  protected abstract storeVersion(
    bytes: Uint8Array,
    meta: PublishMeta,
    digest: { sha256: string; size: number },
  ): Promise<VersionInfo>;
  /** The numbers of the versions present (including any without a manifest). */
  protected abstract versionNumbers(): Promise<number[]>;
  /** The manifest, or undefined when the version does not exist or has no manifest. */
  protected abstract readManifest(version: string): Promise<VersionInfo | undefined>;
  protected abstract readBundle(info: VersionInfo): Promise<Uint8Array>;
  protected abstract readAlias(name: string): Promise<AliasInfo | undefined>;
  /**
   * Writes `alias` only if the alias still is `expected` (undefined: still absent), as one
   * compare-and-swap; false when another writer moved it first.
   */
  protected abstract replaceAlias(alias: AliasInfo, expected: AliasInfo | undefined): Promise<boolean>;
  protected abstract aliasNames(): Promise<string[]>;
  protected abstract appendHistory(event: HistoryEvent): Promise<void>;
  abstract history(): Promise<HistoryEvent[]>;
  abstract close(): Promise<void>;

  async publish(bundle: Uint8Array, meta: PublishMeta): Promise<VersionInfo> {
    checkPublishMeta(meta);
    if (!(bundle instanceof Uint8Array) || bundle.byteLength === 0) {
      throw new errors.PW_BUNDLE_INVALID('Cannot publish an empty bundle', {
        hint: 'Pass publish() the serialized bundle bytes.',
      });
    }
    const digest = { sha256: sha256(bundle), size: bundle.byteLength };
    const signed = this.signer ? { ...meta, signature: this.signer.sign(digest.sha256) } : meta;
    const info = await this.storeVersion(bundle, signed, digest);
    this.manifests.set(info.version, info);
    await this.appendHistory({
      time: info.createdAt,
      action: 'publish',
      to: info.version,
      who: info.createdBy,
      runId: info.runId,
    });
    return info;
  }

  async resolve(aliasOrVersion: string): Promise<VersionInfo> {
    const requested = String(aliasOrVersion ?? '').trim();
    let version = requested;
    let alias: AliasInfo | undefined;
    if (!isVersionName(requested)) {
      checkAliasName(requested);
      alias = await this.readAlias(requested);
      if (!alias) throw await this.notFoundError(requested);
      version = alias.version;
    }
    const info = await this.manifest(version);
    if (info) return info;
    if (alias) {
      throw new errors.PW_REGISTRY_NOT_FOUND(
        `Alias "${alias.name}" in the registry at ${this.location} points at ${alias.version}, which does not exist`,
        {
          hint: `Point it at an existing version with \`pipewright models promote <version> --alias ${alias.name}\`.`,
        },
      );
    }
    throw await this.notFoundError(requested);
  }

  async load(aliasOrVersion: string): Promise<LoadedBundle> {
    const info = await this.resolve(aliasOrVersion);
    const bytes = await this.readBundle(info);
    const actual = bytes.byteLength === info.size ? sha256(bytes) : undefined;
    if (actual !== info.sha256) {
      throw new errors.PW_BUNDLE_INVALID(
        `The bundle of ${info.version} in the registry at ${this.location} is damaged: expected ${info.size} bytes with sha256 ${info.sha256.slice(0, 12)}…, found ${bytes.byteLength} bytes${actual ? ` with sha256 ${actual.slice(0, 12)}…` : ''}`,
        {
          hint: `Do not use this version: promote another one with \`pipewright models promote <version>\`, or publish again with \`pipewright run\`.`,
          details: {
            version: info.version,
            expectedSize: info.size,
            actualSize: bytes.byteLength,
            expectedSha256: info.sha256,
          },
        },
      );
    }
    this.verifier?.check(info, this.location);
    return { info, bytes };
  }

  async list(): Promise<ListedVersion[]> {
    const numbers = [...new Set(await this.versionNumbers())].sort((a, b) => a - b);
    const [infos, aliases] = await Promise.all([
      mapWithLimit(numbers, 16, (number) => this.manifest(versionName(number))),
      this.aliases(),
    ]);
    return infos
      .filter((info): info is VersionInfo => info !== undefined)
      .map((info) => ({
        ...info,
        aliases: aliases.filter((alias) => alias.version === info.version).map((alias) => alias.name),
      }));
  }

  async aliases(): Promise<AliasInfo[]> {
    const names = (await this.aliasNames()).sort();
    const found = await mapWithLimit(names, 16, (name) => this.readAlias(name));
    return found.filter((alias): alias is AliasInfo => alias !== undefined);
  }

  async getAlias(name: string): Promise<AliasInfo | undefined> {
    checkAliasName(name);
    return this.readAlias(name);
  }

  async aliasVersion(name: string): Promise<string | undefined> {
    return (await this.getAlias(name))?.version;
  }

  async setAlias(name: string, versionOrAlias: string, options: AliasOptions = {}): Promise<AliasInfo> {
    checkAliasName(name);
    const target = await this.resolve(versionOrAlias);
    // Two promotions at once: each reads the alias and swaps it only if nobody moved it since, so the
    // loser reads again and records the winner's version as `previous`; no move is lost.
    for (let attempt = 0; attempt < ALIAS_ATTEMPTS; attempt++) {
      const current = await this.readAlias(name);
      // Re-pointing at the same version is not a move: it would make rollback a no-op.
      if (current?.version === target.version) return current;
      const moved = await this.move(name, current, target.version, 'alias', options.reason);
      if (moved) return moved;
    }
    throw aliasConflict(name);
  }

  async rollback(name: string, options: AliasOptions = {}): Promise<RollbackResult> {
    checkAliasName(name);
    const current = await this.readAlias(name);
    if (!current) {
      const names = (await this.aliases()).map((alias) => alias.name);
      throw new errors.PW_REGISTRY_NOT_FOUND(`No alias "${name}" in the registry at ${this.location}`, {
        hint:
          names.length > 0
            ? `Existing aliases: ${names.join(', ')}.`
            : 'No alias is set yet: promote a version with `pipewright models promote <version>`.',
      });
    }
    if (!current.previous) {
      throw new errors.PW_REGISTRY_NOT_FOUND(
        `Alias "${name}" has pointed at ${current.version} only; there is no earlier version to roll back to`,
        {
          hint: `Point it at another version with \`pipewright models promote <version> --alias ${name}\`.`,
        },
      );
    }
    if (!(await this.manifest(current.previous))) {
      throw new errors.PW_REGISTRY_NOT_FOUND(
        `Alias "${name}" would roll back to ${current.previous}, which no longer exists`,
        {
          hint: `Point it at an existing version with \`pipewright models promote <version> --alias ${name}\`.`,
        },
      );
    }
    // A rollback undoes the move it read; if the alias moved meanwhile, that is no longer the last move.
    if (!(await this.move(name, current, current.previous, 'rollback', options.reason)))
      throw aliasConflict(name);
    return { alias: name, from: current.version, to: current.previous };
  }

  /** Moves the alias from `current` to `to`; undefined when another writer moved it first. */
  private async move(
    name: string,
    current: AliasInfo | undefined,
    to: string,
    action: 'alias' | 'rollback',
    reason: string | undefined,
  ): Promise<AliasInfo | undefined> {
    const from = current?.version ?? null;
    const alias: AliasInfo = {
      name,
      version: to,
      previous: from,
      updatedAt: new Date().toISOString(),
      updatedBy: this.user,
    };
    if (!(await this.replaceAlias(alias, current))) return undefined;
    const note = reason?.trim().slice(0, MAX_REASON_LENGTH);
    await this.appendHistory({
      time: alias.updatedAt,
      action,
      alias: name,
      from,
      to,
      who: alias.updatedBy,
      ...(note ? { reason: note } : {}),
    });
    return alias;
  }

  private async manifest(version: string): Promise<VersionInfo | undefined> {
    const cached = this.manifests.get(version);
    if (cached) return cached;
    const info = await this.readManifest(version);
    if (info) this.manifests.set(version, info);
    return info;
  }

  private async notFoundError(requested: string): Promise<Error> {
    const [versions, aliases] = await Promise.all([this.list(), this.aliases()]).catch(
      () => [[], []] as [ListedVersion[], AliasInfo[]],
    );
    return notFound(
      requested,
      versions.map((info) => info.version),
      aliases.map((alias) => `${alias.name} -> ${alias.version}`),
      this.location,
    );
  }
}

/** Maps over `items` with at most `limit` calls in flight, keeping the order. */
export async function mapWithLimit<T, R>(
  items: readonly T[],
  limit: number,
  map: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await map(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
