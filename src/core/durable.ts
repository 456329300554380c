// Files that readers must see whole, and that must survive a power loss once written: data and the
// folder entry are flushed to disk before the new name is published by an atomic rename.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes a whole file and flushes it to disk before returning. */
export async function writeDurably(
  file: string,
  data: string | Uint8Array,
  flags: 'w' | 'wx' = 'w',
): Promise<void> {
  const handle = await open(file, flags, 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes a rename or a new entry in `folder` survive a power loss. */
export async function syncFolder(folder: string): Promise<void> {
  let handle;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch (error) {
    if (!folderSyncUnsupported(error)) throw error;
  } finally {
    await handle?.close();
  }
}

/** Replaces `file` with `data`: readers see the old or the new file whole, never a part. */
export async function replaceFile(file: string, data: string | Uint8Array): Promise<void> {
  const temporary = temporaryName(file);
  try {
    await writeDurably(temporary, data);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncFolder(dirname(file));
}

/** `replaceFile` for callers that cannot wait: the run record is rewritten between steps. */
export function replaceFileSync(file: string, data: string | Uint8Array): void {
  const temporary = temporaryName(file);
  try {
    const descriptor = openSync(temporary, 'w', 0o644);
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      let written = 0;
      while (written < bytes.length) written += writeSync(descriptor, bytes, written);
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  syncFolderSync(dirname(file));
}

/** Publishes a finished temporary file (a stream the caller wrote and closed) under its final name. */
export async function publishFile(temporary: string, file: string): Promise<void> {
  const handle = await open(temporary, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
  await syncFolder(dirname(file));
}

function syncFolderSync(folder: string): void {
  let descriptor: number | undefined;
  try {
    descriptor = openSync(folder, 'r');
    fsyncSync(descriptor);
  } catch (error) {
    if (!folderSyncUnsupported(error)) throw error;
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}

function temporaryName(file: string): string {
  return `${file}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`;
}

// Some platforms cannot open or fsync a folder; the data files themselves are synced already.
function folderSyncUnsupported(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === 'EISDIR' || code === 'EPERM' || code === 'EINVAL' || code === 'EBADF';
}
