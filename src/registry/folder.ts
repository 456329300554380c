// The folder registry (the default): versions/vN/{bundle.json,manifest.json}, aliases/<name>.json and
// history.jsonl under one folder. Every write is crash-safe: a version is prepared in staging/ and
// appears by one atomic rename, aliases move by temp file + rename, history lines are appended.
import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { syncFolder, writeDurably } from '../core/durable.js';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { errors, isPipewrightError } from '../core/errors.js';
import { acquireLock, processAlive, type Lock } from '../core/lock.js';
import { BaseRegistry, sameAlias } from './base.js';
import { buildVersionInfo, parseAlias, parseManifest, versionNumber } from './manifest.js';
import type { AliasInfo, HistoryEvent, PublishMeta, RegistryOptions, VersionInfo } from './types.js';

export const BUNDLE_FILE = 'bundle.json';
export const MANIFEST_FILE = 'manifest.json';
const HISTORY_FILE = 'history.jsonl';
/** Leftovers of a publisher on another machine are removed only when this old. */
const FOREIGN_LEFTOVER_AGE_MS = 24 * 60 * 60 * 1000;
const MAX_ALLOCATION_ATTEMPTS = 1000;
/** An alias move holds its lock for milliseconds: wait this long for one, polling. */
const ALIAS_LOCK_WAIT_MS = 10_000;
const ALIAS_LOCK_POLL_MS = 20;
/** A lock left on a shared folder by a process on another machine is taken over after this long. */
const ALIAS_LOCK_STALE_MS = 60_000;

export class FolderRegistry extends BaseRegistry {
  readonly location: string;
  private readonly versionsDir: string;
  private readonly aliasesDir: string;
  private readonly stagingDir: string;
  private readonly historyFile: string;

  constructor(
    readonly root: string,
    options: RegistryOptions = {},
  ) {
    super(options);
    this.location = root;
    this.versionsDir = join(root, 'versions');
    this.aliasesDir = join(root, 'aliases');
    this.stagingDir = join(root, 'staging');
    this.historyFile = join(root, HISTORY_FILE);
  }

  protected async storeVersion(
    bytes: Uint8Array,
    meta: PublishMeta,
    digest: { sha256: string; size: number },
  ): Promise<VersionInfo> {
    await this.guard('prepare the registry folder', async () => {
      await mkdir(this.versionsDir, { recursive: true });
      await mkdir(this.stagingDir, { recursive: true });
    });
    await this.removeLeftovers(this.stagingDir);
    // The version is assembled in a private folder, then renamed into place whole: a crash at any
    // point leaves either nothing under versions/ or a complete version.
    const stage = join(this.stagingDir, ownedName('publish'));
    let installed = false;
    try {
      await this.guard('write the bundle', async () => {
        await mkdir(stage);
        await writeDurably(join(stage, BUNDLE_FILE), bytes, 'wx');
      });
      await this.reached('bundle-written');
      let number = 0;
      for (let attempt = 0; attempt < MAX_ALLOCATION_ATTEMPTS; attempt++) {
        number = Math.max(number + 1, Math.max(0, ...(await this.versionNumbers())) + 1);
        const info = buildVersionInfo(number, digest, meta, this.user);
        await this.guard('write the manifest', async () => {
          await writeDurably(join(stage, MANIFEST_FILE), `${JSON.stringify(info, null, 2)}\n`, 'w');
          await syncFolder(stage);
        });
        await this.reached('manifest-written');
        try {
          // rename() onto a folder that is not empty fails, so two publishers never share a number.
          await rename(stage, join(this.versionsDir, info.version));
        } catch (error) {
          if (
            isCode(error, 'EEXIST', 'ENOTEMPTY', 'EPERM', 'EACCES') &&
            (await exists(join(this.versionsDir, info.version)))
          )
            continue;
          throw this.failure('install the new version', error);
        }
        installed = true;
        await this.guard('record the new version', () => syncFolder(this.versionsDir));
        await this.reached('version-installed');
        return info;
      }
      throw new errors.PW_REGISTRY_FAILED(
        `Could not allocate a version number in ${this.versionsDir} after ${MAX_ALLOCATION_ATTEMPTS} attempts`,
        {
          hint: 'Check that the folder is writable and that no other program keeps creating folders in it.',
        },
      );
    } finally {
      if (!installed) await rm(stage, { recursive: true, force: true }).catch(() => {});
    }
  }

  protected async versionNumbers(): Promise<number[]> {
    const names = await this.readFolder(this.versionsDir);
    return names.map(versionNumber).filter((number): number is number => number !== undefined);
  }

  protected async readManifest(version: string): Promise<VersionInfo | undefined> {
    const file = join(this.versionsDir, version, MANIFEST_FILE);
    const text = await this.readOptional(file);
    if (text === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new errors.PW_BUNDLE_INVALID(`${file} is not valid JSON`, {
        where: file,
        cause: error,
        hint: 'The manifest was damaged: restore it from a backup, or remove this version folder.',
      });
    }
    const info = parseManifest(parsed, file);
    if (info.version !== version) {
      throw new errors.PW_BUNDLE_INVALID(`${file} describes ${info.version}, not ${version}`, {
        where: file,
        hint: 'A version folder was renamed by hand: give it back its name.',
      });
    }
    return info;
  }

  protected async readBundle(info: VersionInfo): Promise<Uint8Array> {
    const file = join(this.versionsDir, info.version, BUNDLE_FILE);
    const bytes = await this.readOptional(file, 'binary');
    if (bytes === undefined) {
      throw new errors.PW_BUNDLE_INVALID(`The bundle of ${info.version} is missing: ${file}`, {
        where: file,
        hint: 'Restore the file from a backup, or promote another version with `pipewright models promote <version>`.',
      });
    }
    return bytes;
  }

  protected async readAlias(name: string): Promise<AliasInfo | undefined> {
    const file = join(this.aliasesDir, `${name}.json`);
    const text = await this.readOptional(file);
    if (text === undefined) return undefined;
    try {
      return parseAlias(JSON.parse(text), file);
    } catch (error) {
      if (error instanceof SyntaxError) {
        throw new errors.PW_REGISTRY_FAILED(`${file} is not valid JSON`, {
          where: file,
          cause: error,
          hint: `Set the alias again with \`pipewright models promote <version> --alias ${name}\`.`,
        });
      }
      throw error;
    }
  }

  protected async replaceAlias(alias: AliasInfo, expected: AliasInfo | undefined): Promise<boolean> {
    await this.guard('create the aliases folder', () => mkdir(this.aliasesDir, { recursive: true }));
    // The lock makes read-compare-rename one step for every process that shares this folder.
    const lock = await this.lockAlias(alias.name);
    try {
      if (!sameAlias(await this.readAlias(alias.name), expected)) return false;
      await this.writeAlias(alias);
      return true;
    } finally {
      lock.release();
    }
  }

  private async lockAlias(name: string): Promise<Lock> {
    const file = join(this.aliasesDir, `${name}.lock`);
    for (let waited = 0; ; waited += ALIAS_LOCK_POLL_MS) {
      try {
        return acquireLock(file, { purpose: `moving alias ${name}`, staleAfterMs: ALIAS_LOCK_STALE_MS });
      } catch (error) {
        if (!(isPipewrightError(error) && error.code === 'PW_LOCKED') || waited >= ALIAS_LOCK_WAIT_MS)
          throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, ALIAS_LOCK_POLL_MS));
    }
  }

  private async writeAlias(alias: AliasInfo): Promise<void> {
    await this.removeLeftovers(this.aliasesDir);
    const temporary = join(this.aliasesDir, `${ownedName(alias.name)}.tmp`);
    try {
      await this.guard(`write alias ${alias.name}`, async () => {
        await writeDurably(temporary, `${JSON.stringify(alias, null, 2)}\n`, 'wx');
      });
      await this.reached('alias-written');
      await this.guard(`move alias ${alias.name}`, async () => {
        await rename(temporary, join(this.aliasesDir, `${alias.name}.json`));
        await syncFolder(this.aliasesDir);
      });
    } finally {
      await rm(temporary, { force: true }).catch(() => {});
    }
  }

  protected async aliasNames(): Promise<string[]> {
    const names = await this.readFolder(this.aliasesDir);
    return names
      .filter((name) => name.endsWith('.json') && !name.startsWith('.'))
      .map((name) => name.slice(0, -'.json'.length));
  }

  protected async appendHistory(event: HistoryEvent): Promise<void> {
    await this.guard('append to the history', async () => {
      await mkdir(this.root, { recursive: true });
      const handle = await open(
        this.historyFile,
        constants.O_RDWR | constants.O_APPEND | constants.O_CREAT,
        0o644,
      );
      try {
        // A crash mid-append can leave a line without its newline; start on a fresh line so that
        // only the torn line is lost, not this one too.
        const { size } = await handle.stat();
        let prefix = '';
        if (size > 0) {
          const last = Buffer.alloc(1);
          await handle.read(last, 0, 1, size - 1);
          if (last[0] !== 0x0a) prefix = '\n';
        }
        // One write with O_APPEND: concurrent writers never interleave within a line.
        await handle.write(`${prefix}${JSON.stringify(event)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
  }

  async history(): Promise<HistoryEvent[]> {
    const text = await this.readOptional(this.historyFile);
    if (text === undefined) return [];
    const events: HistoryEvent[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        events.push(JSON.parse(line) as HistoryEvent);
      } catch {
        // a line torn by a crash while it was appended: the rest of the history stands
      }
    }
    return events;
  }

  async close(): Promise<void> {}

  /** Removes what crashed publishers left: their staging folders and alias temp files. */
  private async removeLeftovers(folder: string): Promise<void> {
    const names = await this.readFolder(folder).catch(() => [] as string[]);
    for (const name of names) {
      const owner = ownerOf(name);
      if (!owner) continue;
      const path = join(folder, name);
      let info: Stats;
      try {
        info = await stat(path);
      } catch {
        continue;
      }
      const abandoned =
        owner.host === hostname()
          ? !processAlive(owner.pid)
          : Date.now() - info.mtimeMs > FOREIGN_LEFTOVER_AGE_MS;
      if (abandoned) await rm(path, { recursive: true, force: true }).catch(() => {});
    }
  }

  private async readFolder(folder: string): Promise<string[]> {
    try {
      return await readdir(folder);
    } catch (error) {
      if (isCode(error, 'ENOENT')) return [];
      throw this.failure(`read ${folder}`, error);
    }
  }

  private async readOptional(file: string): Promise<string | undefined>;
  private async readOptional(file: string, encoding: 'binary'): Promise<Uint8Array | undefined>;
  private async readOptional(file: string, encoding?: 'binary'): Promise<string | Uint8Array | undefined> {
    try {
      return encoding === 'binary' ? new Uint8Array(await readFile(file)) : await readFile(file, 'utf8');
    } catch (error) {
      if (isCode(error, 'ENOENT', 'ENOTDIR')) return undefined;
      throw this.failure(`read ${file}`, error);
    }
  }

  private async guard<T>(action: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.failure(action, error);
    }
  }

  private failure(action: string, error: unknown): Error {
    if (
      error instanceof Error &&
      'code' in error &&
      typeof error.code === 'string' &&
      error.code.startsWith('PW_')
    )
      return error;
    const code = (error as NodeJS.ErrnoException)?.code;
    const hint =
      code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? `Make ${this.root} writable by this user, or set registry.path in pipewright.yaml to a writable folder.`
        : code === 'ENOSPC'
          ? `The disk holding ${this.root} is full: free some space and publish again.`
          : `Check the folder ${this.root} (registry.path in pipewright.yaml).`;
    return new errors.PW_REGISTRY_FAILED(
      `Could not ${action} in the registry at ${this.root}: ${(error as Error)?.message ?? String(error)}`,
      {
        cause: error,
        hint,
      },
    );
  }
}

/** A name that says which process made it, so that leftovers of dead processes can be removed. */
function ownedName(label: string): string {
  return `.${label}~${process.pid}~${randomBytes(4).toString('hex')}~${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}`;
}

function ownerOf(name: string): { pid: number; host: string } | undefined {
  const match = /^\.[^~]*~(\d+)~[0-9a-f]+~([^~]+?)(\.tmp)?$/.exec(name);
  if (!match) return undefined;
  return { pid: Number(match[1]), host: match[2] };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function isCode(error: unknown, ...codes: string[]): boolean {
  return codes.includes((error as NodeJS.ErrnoException)?.code ?? '');
}
