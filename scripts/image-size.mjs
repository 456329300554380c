#!/usr/bin/env node
// Reports the expected size of the Dockerfile's runtime stage without a Docker engine: builds the same
// /opt/pipewright tree in a temporary folder (npm ci --omit=dev, the compiled better-sqlite3 addon,
// dist, bin, templates), checks that it runs, and measures it. Usage: node scripts/image-size.mjs [--json] [--keep]
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { Readable } from 'node:stream';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const ADDON = join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
const json = process.argv.includes('--json');
const keep = process.argv.includes('--keep');

function fail(message, hint) {
  process.stderr.write(`image-size: ${message}\n  ${hint}\n`);
  process.exit(1);
}

function run(command, args, cwd) {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  if (result.status !== 0) {
    fail(
      `\`${command} ${args.join(' ')}\` failed in ${cwd}:\n${result.stderr || result.stdout}`,
      'See the output above.',
    );
  }
  return result.stdout;
}

/** Files and bytes under `path`, counted as a layer holds them: regular files and links, no block rounding. */
function measure(path) {
  const stat = lstatSync(path);
  if (!stat.isDirectory()) return { files: 1, bytes: stat.isSymbolicLink() ? 0 : stat.size };
  let files = 0;
  let bytes = 0;
  for (const name of readdirSync(path)) {
    const inner = measure(join(path, name));
    files += inner.files;
    bytes += inner.bytes;
  }
  return { files, bytes };
}

/** The gzip size of a tar of `path`: roughly what a registry stores and a node pulls for the layer. */
async function compressedSize(path) {
  const tar = spawnSync('tar', ['-cf', '-', '-C', path, '.'], { maxBuffer: 2 ** 31 });
  if (tar.status !== 0) return null;
  let size = 0;
  await new Promise((resolve, reject) => {
    const gzip = createGzip({ level: 6 });
    gzip.on('data', (chunk) => (size += chunk.length));
    gzip.on('end', resolve);
    gzip.on('error', reject);
    Readable.from([tar.stdout]).pipe(gzip);
  });
  return size;
}

const megabytes = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
  fail('dist/ is missing', 'Build first: npm run build (or npx tsc -p tsconfig.build.json).');
}
if (!existsSync(join(ROOT, ADDON))) {
  fail(`${ADDON} is missing`, 'Install with npm ci (it compiles better-sqlite3), then run this again.');
}

const work = mkdtempSync(join(tmpdir(), 'pipewright-image-'));
const app = join(work, 'opt', 'pipewright');
mkdirSync(app, { recursive: true });
try {
  // The deps stage: production dependencies exactly as the lock file pins them. Install scripts are
  // skipped here because the stage compiles better-sqlite3 itself; its addon is taken from this
  // checkout, compiled for the same Node major version, and the sources are dropped as the stage does.
  cpSync(join(ROOT, 'package.json'), join(app, 'package.json'));
  cpSync(join(ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
  run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], app);
  rmSync(join(app, 'package-lock.json'));
  const sqlite = join(app, 'node_modules', 'better-sqlite3');
  for (const folder of ['build', 'deps', 'src'])
    rmSync(join(sqlite, folder), { recursive: true, force: true });
  mkdirSync(join(sqlite, 'build', 'Release'), { recursive: true });
  cpSync(join(ROOT, ADDON), join(app, ADDON));

  // The runtime stage's own files.
  for (const folder of ['dist', 'bin', 'templates'])
    cpSync(join(ROOT, folder), join(app, folder), { recursive: true });

  // The tree must work on its own: the CLI starts and the native module opens a database.
  const version = run(process.execPath, ['bin/pipewright.js', '--version'], app).trim();
  run(
    process.execPath,
    ['--input-type=module', '-e', "import Database from 'better-sqlite3'; new Database(':memory:').close();"],
    app,
  );

  const parts = ['node_modules', 'dist', 'templates', 'bin', 'package.json'].map((name) => ({
    name,
    ...measure(join(app, name)),
  }));
  const total = parts.reduce(
    (sum, part) => ({ files: sum.files + part.files, bytes: sum.bytes + part.bytes }),
    { files: 0, bytes: 0 },
  );
  const packages = [];
  const modules = join(app, 'node_modules');
  for (const name of readdirSync(modules)) {
    if (name.startsWith('.')) continue;
    const names = name.startsWith('@')
      ? readdirSync(join(modules, name)).map((inner) => `${name}/${inner}`)
      : [name];
    for (const packageName of names)
      packages.push({ name: packageName, ...measure(join(modules, packageName)) });
  }
  packages.sort((a, b) => b.bytes - a.bytes);
  const compressed = await compressedSize(app);
  // The baseline: one stage that copies a fresh clone whole and runs a full `npm ci` (dev
  // dependencies and better-sqlite3's build folder included); the compilers it needs are not counted.
  const tracked = spawnSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' });
  const checkout = { files: 0, bytes: 0 };
  const baselineParts = tracked.status === 0 ? tracked.stdout.split('\0').filter(Boolean) : [];
  for (const path of [...baselineParts, 'node_modules']) {
    if (!existsSync(join(ROOT, path))) continue;
    const part = measure(join(ROOT, path));
    checkout.files += part.files;
    checkout.bytes += part.bytes;
  }
  const report = {
    pipewright: version,
    node: process.version,
    runtime: { files: total.files, bytes: total.bytes, gzipBytes: compressed },
    parts,
    largestPackages: packages.slice(0, 8),
    packages: packages.length,
    singleStageBaseline: checkout,
    baseImage: 'node:20-bookworm-slim (not included: no Docker engine here to measure it)',
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const lines = [
      `Runtime stage of the Dockerfile, Pipewright ${version} (Node ${process.version}), on top of node:20-bookworm-slim:`,
      `  /opt/pipewright  ${megabytes(total.bytes)} in ${total.files} files${compressed ? `, ${megabytes(compressed)} gzipped` : ''}`,
      ...parts.map(
        (part) =>
          `    ${part.name.padEnd(13)} ${megabytes(part.bytes).padStart(9)}  ${String(part.files).padStart(6)} files`,
      ),
      `  largest of ${packages.length} packages:`,
      ...packages
        .slice(0, 8)
        .map((item) => `    ${item.name.padEnd(24)} ${megabytes(item.bytes).padStart(9)}`),
      `  baseline: one stage with a whole clone and a full npm ci adds ${megabytes(checkout.bytes)} in ${checkout.files} files,`,
      `    ${(checkout.bytes / total.bytes).toFixed(1)} times the runtime stage`,
      '  The base image is not included (no Docker engine here to measure it).',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
} finally {
  if (keep) process.stderr.write(`kept ${app}\n`);
  else rmSync(work, { recursive: true, force: true });
}
