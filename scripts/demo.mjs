// `npm run demo`: the whole workflow on the embedded defaults, in a fresh project under a temporary
// folder (or the folder given as the first argument), using the built `pipewright` command.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/pipewright.js', import.meta.url));
const project = process.argv[2] ?? join(mkdtempSync(join(tmpdir(), 'pipewright-demo-')), 'vehicle-insurance');

function step(title, args, cwd = project) {
  process.stdout.write(`\n\x1b[1m$ pipewright ${args.join(' ')}\x1b[0m   # ${title}\n`);
  const result = spawnSync(process.execPath, [bin, ...args], { cwd, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`\ndemo failed at: pipewright ${args.join(' ')} (exit ${result.status})\n`);
    process.exit(result.status ?? 1);
  }
}

step('create a project', ['init', project], process.cwd());
step('validate its config and schema', ['check']);
process.stdout.write(`\nThe demo project is in ${project}\n`);
