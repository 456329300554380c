// The image definitions, checked instruction by instruction (no Docker engine runs here): Pipewright's
// own Dockerfile and the one `pipewright init` writes, each with its .dockerignore.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scaffold, scaffoldFiles } from '../../src/project/scaffold.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import {
  copyParts,
  dockerStages,
  parseDockerfile,
  parseDockerIgnore,
  type Instruction,
  type Stage,
} from './docker.js';

const BASE_IMAGE = 'node:24-bookworm-slim';
const SENSITIVE_NAME = /SECRET|TOKEN|PASSWORD|PASSWD|ACCESS_KEY|API_KEY|PRIVATE|CREDENTIAL|MONGODB_URL|AUTH/i;
const CREDENTIAL_TEXT = [
  /AKIA[0-9A-Z]{16}/,
  /mongodb(\+srv)?:\/\/[^\s/:@]+:[^\s/@]+@/,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /\bgh[pousr]_[A-Za-z0-9]{20,}/,
  /aws_secret_access_key\s*=/i,
];
const TEMPLATE_VALUES = {
  name: 'insurance',
  collection: 'rows',
  metric: 'roc_auc',
  expected_score: '0.6',
  version: '1.2.3',
};

interface ImageDefinition {
  label: string;
  dockerfile: string;
  dockerignore: string;
  /** Every file the build context would offer, relative to it, before .dockerignore. */
  contextFiles: string[];
  /** Files that exist next to a real checkout and must never reach the builder. */
  privateFiles: string[];
}

function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = prefix ? `${prefix}/${name}` : name;
    if (statSync(join(dir, name)).isDirectory()) out.push(...walk(join(dir, name), path));
    else out.push(path);
  }
  return out;
}

function rootDefinition(): ImageDefinition {
  // What a clone holds: tracked files and new files that are not git-ignored.
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return {
    label: "Pipewright's Dockerfile",
    dockerfile: readFileSync(join(ROOT, 'Dockerfile'), 'utf8'),
    dockerignore: readFileSync(join(ROOT, '.dockerignore'), 'utf8'),
    contextFiles: listed.split('\0').filter(Boolean),
    privateFiles: [
      '.env',
      '.env.production',
      'src/.env',
      '.git/config',
      'node_modules/fastify/package.json',
      'dist/cli/main.js',
      '.pipewright/store.db',
      '.pipewright/registry/aliases/production.json',
      'logs/20240101-000000-serve-abcdef.log',
      'artifacts/20240101-000000-abcdef/run.json',
      'test/deploy/dockerfile.test.ts',
      'bench/serve/run.mjs',
      'coverage/index.html',
      'data.rejects.jsonl',
    ],
  };
}

function templateDefinition(): ImageDefinition {
  const dir = join(tempDir(), 'insurance');
  scaffold(dir, { values: TEMPLATE_VALUES });
  // What a project holds once it is in use: the lock file `npm install` writes, and local state.
  const local: Record<string, string> = {
    'package-lock.json': '{"lockfileVersion": 3}',
    '.env': 'MONGODB_URL=mongodb+srv://trainer:hunter2@cluster0.example.net/',
    'data/train.csv': 'id,Age\n1,44\n',
    '.pipewright/store.db': '',
    '.pipewright/registry/aliases/production.json': '{}',
    'logs/20240101-000000-run-abcdef.log': '',
    'artifacts/20240101-000000-abcdef/run.json': '{}',
    'node_modules/pipewright/package.json': '{}',
  };
  for (const [path, content] of Object.entries(local)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return {
    label: 'the Dockerfile `init` writes',
    dockerfile: readFileSync(join(dir, 'Dockerfile'), 'utf8'),
    dockerignore: readFileSync(join(dir, '.dockerignore'), 'utf8'),
    contextFiles: walk(dir),
    privateFiles: Object.keys(local)
      .filter((path) => path !== 'package-lock.json')
      .concat(['.env.example', '.git/config']),
  };
}

const runs = (stage: Stage) =>
  stage.instructions
    .filter((instruction) => instruction.keyword === 'RUN')
    .map((instruction) => instruction.text);
const last = (stage: Stage, keyword: string): Instruction | undefined =>
  stage.instructions.filter((instruction) => instruction.keyword === keyword).at(-1);

/** The stage that installs the production dependencies, and the runtime stage. */
function keyStages(stages: Stage[]): { deps: Stage; runtime: Stage } {
  const runtime = stages[stages.length - 1];
  const deps = stages.find(
    (stage) => stage !== runtime && runs(stage).some((text) => /\bnpm ci\b[^&;]*--omit=dev/.test(text)),
  );
  if (!deps) throw new Error('no build stage runs `npm ci --omit=dev`');
  return { deps, runtime };
}

describe('.dockerignore rules as the builder applies them', () => {
  it('lets the last matching pattern decide, covering the files inside a matched folder', () => {
    const ignore = parseDockerIgnore('# comment\n*\n!src/\n!package.json\nsrc/**/*.secret\n');
    expect(ignore.ignores('README.md')).toBe(true);
    expect(ignore.ignores('node_modules/a/index.js')).toBe(true);
    expect(ignore.ignores('package.json')).toBe(false);
    expect(ignore.ignores('src/cli/main.ts')).toBe(false);
    expect(ignore.ignores('src/key.secret')).toBe(true);
    expect(ignore.ignores('src/deep/er/key.secret')).toBe(true);
  });

  it('matches * within one folder and ** across any number, and a pattern at any depth only with **', () => {
    const ignore = parseDockerIgnore('*.log\n**/.env\n');
    expect(ignore.ignores('serve.log')).toBe(true);
    expect(ignore.ignores('logs/serve.log')).toBe(false);
    expect(ignore.ignores('.env')).toBe(true);
    expect(ignore.ignores('a/b/.env')).toBe(true);
    expect(ignore.ignores('a/b/.env.example')).toBe(false);
  });
});

describe('the Dockerfile template', () => {
  it('is filled in completely by init, and pins the Pipewright version that made the project', () => {
    const files = scaffoldFiles({ values: TEMPLATE_VALUES });
    for (const path of ['Dockerfile', '.dockerignore', 'package.json', '.github/workflows/pipeline.yml']) {
      const file = files.find((candidate) => candidate.path === path);
      expect(file, path).toBeDefined();
      expect(file!.content, path).not.toMatch(/%%[a-z_]+%%/);
    }
    const manifest = JSON.parse(files.find((file) => file.path === 'package.json')!.content);
    expect(manifest).toMatchObject({ private: true, dependencies: { pipewright: '1.2.3' } });
  });
});

for (const define of [rootDefinition, templateDefinition]) {
  const definition = define();
  const stages = dockerStages(definition.dockerfile);
  const ignore = parseDockerIgnore(definition.dockerignore);

  describe(definition.label, () => {
    it(`builds in stages, each on ${BASE_IMAGE} or an earlier stage`, () => {
      expect(stages.length).toBeGreaterThanOrEqual(2);
      const names = new Set<string>();
      for (const stage of stages) {
        expect(stage.image === BASE_IMAGE || names.has(stage.image), `FROM ${stage.image}`).toBe(true);
        if (stage.name) names.add(stage.name);
      }
      expect(stages.at(-1)!.image).toBe(BASE_IMAGE);
    });

    it('runs npm ci --omit=dev in a build stage that compiles better-sqlite3 from source, and no compiler at run time', () => {
      const { deps, runtime } = keyStages(stages);
      const install = runs(deps).find((text) => /\bnpm ci\b[^&;]*--omit=dev/.test(text))!;
      expect(install).not.toContain('--ignore-scripts');
      // The native module is compiled and loaded once in the stage, so a broken build fails the image.
      expect(install).toMatch(/require\('better-sqlite3'\)/);
      const toolchain = runs(deps).find((text) => text.includes('apt-get install'));
      for (const tool of ['python3', 'make', 'g++']) expect(toolchain, tool).toContain(` ${tool}`);
      const env = deps.instructions
        .filter((instruction) => instruction.keyword === 'ENV')
        .map((instruction) => instruction.text)
        .join(' ');
      expect(env).toMatch(/npm_config_build_from_source=true/);

      for (const text of runs(runtime)) {
        expect(text).not.toMatch(/apt-get install|\bnpm (ci|install|i)\b|node-gyp/);
      }
      const copies = runtime.instructions
        .filter((instruction) => instruction.keyword === 'COPY')
        .map(copyParts);
      const modules = copies.find((copy) => copy.sources.some((source) => source.endsWith('/node_modules')));
      expect(modules?.from, 'node_modules come from the build stage').toBe(deps.name);
    });

    it('runs as an unprivileged user', () => {
      const runtime = stages.at(-1)!;
      const user = last(runtime, 'USER');
      expect(user, 'the runtime stage sets USER').toBeDefined();
      expect(user!.args[0].split(':')[0]).not.toMatch(/^(root|0)$/);
      // Nothing runs as root after the switch.
      const userIndex = runtime.instructions.indexOf(user!);
      expect(
        runtime.instructions.slice(userIndex).filter((instruction) => instruction.keyword === 'RUN'),
      ).toEqual([]);
    });

    it('serves on 0.0.0.0 at the exposed port, with a health check on /health that needs no curl', () => {
      const runtime = stages.at(-1)!;
      const expose = last(runtime, 'EXPOSE');
      expect(expose).toBeDefined();
      const port = expose!.args[0].replace(/\/tcp$/, '');
      expect(port).toMatch(/^\d+$/);

      const command = last(runtime, 'CMD')!;
      expect(command.execForm).toBe(true);
      expect(command.args).toEqual(['pipewright', 'serve', '--host', '0.0.0.0', '--port', port]);
      const entrypoint = last(runtime, 'ENTRYPOINT');
      expect(entrypoint?.args).toEqual(['/usr/bin/tini', '--']);
      expect(
        runtime.instructions.some(
          (instruction) => instruction.keyword === 'COPY' && instruction.text.includes('/usr/bin/tini'),
        ),
      ).toBe(true);

      const health = last(runtime, 'HEALTHCHECK')!;
      expect(health, 'the runtime stage has a HEALTHCHECK').toBeDefined();
      const [options, probe] = health.text.split(/\s+CMD\s+/);
      expect(options).toMatch(/--interval=\d+s/);
      expect(options).toMatch(/--timeout=\d+s/);
      const probeArgs = parseDockerfile(`CMD ${probe}`)[0].args;
      expect(probeArgs[0]).toBe('node');
      expect(probeArgs.join(' ')).toContain(`http://127.0.0.1:${port}/health`);
    });

    it('puts the pipewright command on the PATH of the runtime user', () => {
      const runtime = stages.at(-1)!;
      const text = runtime.instructions
        .map((instruction) => `${instruction.keyword} ${instruction.text}`)
        .join('\n');
      if (definition.label.startsWith('Pipewright')) {
        expect(text).toContain('ln -s /opt/pipewright/bin/pipewright.js /usr/local/bin/pipewright');
        expect(text).toMatch(/COPY bin \.\/bin/);
        expect(
          statSync(join(ROOT, 'bin', 'pipewright.js')).mode & 0o111,
          'bin/pipewright.js is executable',
        ).not.toBe(0);
      } else {
        expect(last(runtime, 'WORKDIR')?.args[0]).toBe('/app');
        expect(text).toMatch(/ENV [^\n]*PATH=\/app\/node_modules\/\.bin:\$PATH/);
      }
    });

    it('holds no secret: no credential in ENV or ARG, none written anywhere in the file', () => {
      for (const instruction of parseDockerfile(definition.dockerfile)) {
        if (instruction.keyword !== 'ENV' && instruction.keyword !== 'ARG') continue;
        const names = instruction.args.map((arg) => arg.split('=')[0]);
        for (const name of names) expect(name, `line ${instruction.line}`).not.toMatch(SENSITIVE_NAME);
      }
      for (const pattern of CREDENTIAL_TEXT) expect(definition.dockerfile).not.toMatch(pattern);
      expect(
        parseDockerfile(definition.dockerfile).filter((instruction) => instruction.keyword === 'ADD'),
      ).toEqual([]);
    });

    it('copies only named paths, each present and let into the build context by .dockerignore', () => {
      const copies = stages.flatMap((stage) =>
        stage.instructions.filter((instruction) => instruction.keyword === 'COPY').map(copyParts),
      );
      const fromContext = copies.filter((copy) => copy.from === undefined);
      expect(fromContext.length).toBeGreaterThan(0);
      for (const copy of fromContext) {
        for (const source of copy.sources) {
          const path = source.replace(/^\.\//, '').replace(/\/$/, '');
          expect(path, `line ${copy.line}: COPY of the whole context`).not.toMatch(/^(\.|\*|)$/);
          expect(path, `line ${copy.line}: wildcards hide what is copied`).not.toMatch(/[*?[]/);
          const files = definition.contextFiles.filter(
            (file) => file === path || file.startsWith(`${path}/`),
          );
          expect(files.length, `line ${copy.line}: COPY ${source} has nothing to copy`).toBeGreaterThan(0);
          const ignored = files.filter((file) => ignore.ignores(file));
          expect(
            ignored,
            `line ${copy.line}: COPY ${source} needs files that .dockerignore leaves out`,
          ).toEqual([]);
        }
      }
    });

    it('keeps secrets, local state, data and the git folder out of the build context', () => {
      for (const path of definition.privateFiles) expect(ignore.ignores(path), path).toBe(true);
    });
  });
}
