// How a file is named to the user: relative to the working folder when it is inside it, so messages
// stay short and can be pasted back into a command.
import { relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The file relative to the working folder when it lies inside it, else as given. */
export function displayPath(file: string): string {
  const shown = relative(process.cwd(), file);
  return shown && !shown.startsWith('..') ? shown : file;
}

/**
 * The compiled script `file` next to the module at `moduleUrl` (its import.meta.url), for a worker
 * thread to run; when that module runs from the TypeScript sources (tests), its twin under dist/.
 */
export function compiledScript(moduleUrl: string, file: string): URL {
  if (!moduleUrl.endsWith('.ts')) return new URL(`./${file}`, moduleUrl);
  const path = fileURLToPath(new URL(`./${file}`, moduleUrl));
  const marker = `${sep}src${sep}`;
  const at = path.lastIndexOf(marker);
  return pathToFileURL(`${path.slice(0, at)}${sep}dist${sep}${path.slice(at + marker.length)}`);
}
