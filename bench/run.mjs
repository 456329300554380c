// `npm run bench -- <name> [options]`: runs bench/<name>/run.mjs, which measures Pipewright and its
// baseline side by side in one run and prints the ratios.
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const [name, ...rest] = process.argv.slice(2);
const available = readdirSync(here, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(`${here}${entry.name}/run.mjs`))
  .map((entry) => entry.name);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join('|')}> [options]`);
  process.exit(2);
}
const result = spawnSync(process.execPath, [`${here}${name}/run.mjs`, ...rest], { stdio: 'inherit' });
process.exit(result.status ?? 1);
