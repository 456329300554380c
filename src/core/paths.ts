// How a file is named to the user: relative to the working folder when it is inside it, so messages
// stay short and can be pasted back into a command.
import { relative } from 'node:path';

/** The file relative to the working folder when it lies inside it, else as given. */
export function displayPath(file: string): string {
  const shown = relative(process.cwd(), file);
  return shown && !shown.startsWith('..') ? shown : file;
}
