// `npm run demo`: the whole workflow on the embedded defaults, in a fresh project under a temporary
// folder (or the folder given as the first argument), using the built `pipewright` command.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
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
step('write 50,000 synthetic rows shaped like the reference data', [
  'sample',
  'vehicle-insurance',
  '--rows',
  '50000',
  '--seed',
  '42',
  '-o',
  'data/train.csv',
]);
step('load them into the embedded store, validated row by row', ['push', 'data/train.csv']);
step('what the store holds', ['data', 'stats']);
step('train, evaluate and publish the first model', ['run']);
step('run again: unchanged steps are reused and an equal model is not published', ['run']);
step('the registry', ['models', 'list']);
step('a few new rows to score', [
  'sample',
  'vehicle-insurance',
  '--rows',
  '5',
  '--seed',
  '7',
  '-o',
  'data/new.csv',
]);
step('score them with the production model', ['predict', 'data/new.csv', '-o', 'data/predictions.csv']);
process.stdout.write(`\n${readFileSync(join(project, 'data', 'predictions.csv'), 'utf8')}`);
process.stdout.write(
  [
    '',
    `The demo project is in ${project}. To serve its production model:`,
    `  cd ${project}`,
    `  node ${bin} serve   # or \`pipewright serve\` after \`npm link\`; web form on http://127.0.0.1:8080/`,
    '',
  ].join('\n'),
);
