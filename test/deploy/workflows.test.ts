// The CI/CD workflows, read as GitHub reads them (they cannot run here): Pipewright's own
// .github/workflows and the pipeline.yml `pipewright init` writes. Jobs, triggers, permissions, and
// that no secret is written into them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { scaffoldFiles } from '../../src/project/scaffold.js';
import { ROOT } from '../helpers/cli.js';

type Json = Record<string, any>;

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  if?: string;
}

const WORKFLOW_DIR = join(ROOT, '.github', 'workflows');
const SECRET_REFERENCE = /^\$\{\{\s*secrets\.[A-Z][A-Z0-9_]*\s*\}\}$/;
const SENSITIVE_KEY = /token|secret|password|passwd|key|credential|mongodb_url|auth/i;
const CREDENTIAL_TEXT = [
  /AKIA[0-9A-Z]{16}/,
  /mongodb(\+srv)?:\/\/[^\s/:@]+:[^\s/@]+@/,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /\bgh[pousr]_[A-Za-z0-9]{20,}/,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/,
];
/** Expressions that, pasted into a shell script, let an outsider's text run as code. */
const UNSAFE_IN_SCRIPT = /\$\{\{[^}]*\b(secrets\.|inputs\.|github\.event\.|github\.head_ref)/;

function* strings(value: unknown, path: string[] = []): Generator<[string[], string]> {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value))
    for (const [index, item] of value.entries()) yield* strings(item, [...path, String(index)]);
  else if (value && typeof value === 'object')
    for (const [key, item] of Object.entries(value)) yield* strings(item, [...path, key]);
}

function jobsOf(workflow: Json): [string, Json][] {
  return Object.entries(workflow.jobs as Record<string, Json>);
}

const steps = (job: Json): Step[] => (job.steps ?? []) as Step[];
const usesAction = (job: Json, action: string): Step | undefined =>
  steps(job).find((step) => step.uses?.startsWith(`${action}@`));

/** Everything that would put a credential into the workflow file or into a script's text. */
function secretProblems(workflow: Json): string[] {
  const problems: string[] = [];
  for (const [path, value] of strings(workflow)) {
    const where = path.join('.');
    for (const pattern of CREDENTIAL_TEXT)
      if (pattern.test(value)) problems.push(`${where}: looks like a credential`);
    // A secret is handed over whole, never spliced into other text.
    if (/secrets\./.test(value) && !SECRET_REFERENCE.test(value.trim()))
      problems.push(`${where}: secrets used inside "${value}"`);
    const key = path[path.length - 1];
    const parent = path[path.length - 2];
    if (
      (parent === 'env' || parent === 'with') &&
      SENSITIVE_KEY.test(key) &&
      !SECRET_REFERENCE.test(value.trim())
    ) {
      problems.push(`${where}: a sensitive setting that is not a secrets reference: "${value}"`);
    }
    if (key === 'run' && UNSAFE_IN_SCRIPT.test(value))
      problems.push(`${where}: an expression pasted into a script`);
  }
  return problems;
}

function secretNames(text: string): string[] {
  return [...new Set([...text.matchAll(/secrets\.([A-Z][A-Z0-9_]*)/g)].map((match) => match[1]))].filter(
    (name) => name !== 'GITHUB_TOKEN',
  );
}

/** The text of the comment lines at the top of a workflow file. */
function header(text: string): string {
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('#')) break;
    lines.push(line);
  }
  return lines.join('\n');
}

function checkCommon(workflow: Json, text: string): void {
  expect(workflow.name).toEqual(expect.any(String));
  expect(workflow.permissions, 'read-only by default').toEqual({ contents: 'read' });
  expect(secretProblems(workflow)).toEqual([]);
  for (const name of secretNames(text))
    expect(header(text), `secrets.${name} is documented in the header`).toContain(`secrets.${name}`);
  for (const [id, job] of jobsOf(workflow)) {
    expect(job['runs-on'], id).toMatch(/^ubuntu-/);
    expect(job['timeout-minutes'], `${id} has a time limit`).toEqual(expect.any(Number));
    for (const step of steps(job)) {
      if (step.uses)
        expect(step.uses, `${id}: actions are pinned to a release`).toMatch(/@(v\d+(\.\d+)*|[0-9a-f]{40})$/);
    }
    // Short-lived AWS credentials need the OIDC token; no other job gets to mint one.
    const assumesRole = usesAction(job, 'aws-actions/configure-aws-credentials');
    expect(
      job.permissions?.['id-token'] === 'write',
      `${id}: id-token: write exactly where a role is assumed`,
    ).toBe(Boolean(assumesRole));
    if (assumesRole) expect(String(assumesRole.with?.['role-to-assume'])).toMatch(SECRET_REFERENCE);
  }
}

describe('secret checks on a workflow', () => {
  it('flags a credential in an env value, a secret spliced into text and an input pasted into a script', () => {
    const workflow = {
      jobs: {
        leak: {
          env: { MONGODB_URL: 'mongodb+srv://trainer:hunter2@cluster0.example.net/', API_TOKEN: 'plain' },
          steps: [
            { run: 'echo ${{ secrets.MONGODB_URL }}' },
            { run: 'git checkout ${{ github.event.pull_request.head.ref }}' },
            { with: { url: 'https://user:${{ secrets.PASSWORD }}@example.net' } },
          ],
        },
      },
    };
    const problems = secretProblems(workflow).join('\n');
    expect(problems).toContain('jobs.leak.env.MONGODB_URL: looks like a credential');
    expect(problems).toContain(
      'jobs.leak.env.API_TOKEN: a sensitive setting that is not a secrets reference',
    );
    expect(problems).toContain('jobs.leak.steps.0.run: an expression pasted into a script');
    expect(problems).toContain('jobs.leak.steps.1.run: an expression pasted into a script');
    expect(problems).toContain('jobs.leak.steps.2.with.url: secrets used inside');
  });

  it('accepts secrets handed over whole through env and with', () => {
    expect(
      secretProblems({
        jobs: { ok: { env: { MONGODB_URL: '${{ secrets.MONGODB_URL }}' }, steps: [{ run: 'npm test' }] } },
      }),
    ).toEqual([]);
  });
});

describe("Pipewright's workflows", () => {
  const files = readdirSync(WORKFLOW_DIR).filter((name) => /\.ya?ml$/.test(name));
  const texts = Object.fromEntries(
    files.map((name) => [name, readFileSync(join(WORKFLOW_DIR, name), 'utf8')]),
  );
  const workflows = Object.fromEntries(files.map((name) => [name, parse(texts[name]) as Json]));
  const ci = workflows['ci.yml'];
  const jobs = ci.jobs as Record<string, Json>;

  it('parse, and each is read-only by default, pins its actions and writes no secret', () => {
    expect(files).toContain('ci.yml');
    for (const name of files) checkCommon(workflows[name], texts[name]);
  });

  it('test every push and pull request on Node 20, 22 and 24 on Linux, with the npm cache', () => {
    expect(Object.keys(ci.on)).toEqual(expect.arrayContaining(['push', 'pull_request']));
    // No branch filter: every branch and every pull request is tested.
    expect(ci.on.push?.branches).toBeUndefined();
    const test = jobs.test;
    expect(test.strategy.matrix.node).toEqual([20, 22, 24]);
    const setup = usesAction(test, 'actions/setup-node')!;
    expect(setup, 'setup-node').toBeDefined();
    expect(setup.with).toMatchObject({ 'node-version': '${{ matrix.node }}', cache: 'npm' });
    expect(steps(test).some((step) => /\bbash \.ci\/run\b|\bnpm test\b/.test(step.run ?? ''))).toBe(true);
  });

  it('build and push the image only for pushes to main, once the tests pass', () => {
    const image = jobs.image;
    expect(image.needs).toBe('test');
    expect(image.if).toContain("github.event_name == 'push'");
    expect(image.if).toContain("github.ref == 'refs/heads/main'");
    expect(image.permissions).toEqual({ contents: 'read', packages: 'write' });
    const build = usesAction(image, 'docker/build-push-action')!;
    expect(build.with).toMatchObject({ context: '.', push: true });
    expect(usesAction(image, 'docker/login-action')!.with!.password).toBe('${{ secrets.GITHUB_TOKEN }}');
    expect(image.outputs.digest).toContain('steps.push.outputs.digest');
  });

  it('deploy the pushed image by digest, in a protected environment, with a short-lived OIDC role', () => {
    const deploy = jobs.deploy;
    expect(deploy.needs).toBe('image');
    expect(deploy.if).toContain("github.ref == 'refs/heads/main'");
    expect(deploy.environment).toBe('production');
    expect(deploy.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    expect(deploy.concurrency['cancel-in-progress']).toBe(false);
    expect(deploy.env.IMAGE).toBe('${{ needs.image.outputs.image }}@${{ needs.image.outputs.digest }}');
    const aws = usesAction(deploy, 'aws-actions/configure-aws-credentials')!;
    expect(aws.with!['role-to-assume']).toBe('${{ secrets.AWS_DEPLOY_ROLE_ARN }}');
    const scripts = steps(deploy)
      .map((step) => step.run ?? '')
      .join('\n');
    expect(scripts).toContain('kubectl -n "$NAMESPACE" set image deployment/pipewright serve="$IMAGE"');
    expect(scripts).toContain('rollout status');
    // The connection string reaches the cluster through a file, not a command line.
    expect(scripts).toContain('--from-env-file=');
    expect(scripts).not.toMatch(/--from-literal/);
  });

  it('document every secret they use in docs/production.md', () => {
    const guide = readFileSync(join(ROOT, 'docs', 'production.md'), 'utf8');
    const names = files.flatMap((name) => secretNames(texts[name]));
    expect(names).toEqual(expect.arrayContaining(['MONGODB_URL', 'AWS_DEPLOY_ROLE_ARN']));
    for (const name of names) expect(guide, name).toContain(`\`${name}\``);
  });
});

describe('the pipeline workflow `init` writes', () => {
  const text = scaffoldFiles({
    values: {
      name: 'insurance',
      collection: 'rows',
      metric: 'roc_auc',
      expected_score: '0.6',
      version: '1.2.3',
    },
  }).find((file) => file.path === '.github/workflows/pipeline.yml')!.content;
  const workflow = parse(text) as Json;
  const jobs = workflow.jobs as Record<string, Json>;

  it('is read-only by default, pins its actions and writes no secret', () => {
    checkCommon(workflow, text);
  });

  it('checks every push to main and every pull request with the locked Pipewright version', () => {
    expect(Object.keys(workflow.on)).toEqual(
      expect.arrayContaining(['push', 'pull_request', 'schedule', 'workflow_dispatch']),
    );
    expect(workflow.on.push.branches).toEqual(['main']);
    const check = jobs.check;
    expect(check.if).toBeUndefined();
    expect(usesAction(check, 'actions/setup-node')!.with).toMatchObject({ cache: 'npm' });
    const scripts = steps(check).map((step) => step.run ?? '');
    expect(scripts).toEqual(
      expect.arrayContaining([expect.stringMatching(/^npm ci\b/), 'npx pipewright check']),
    );
  });

  it('trains on the schedule or on demand only, reading the database through a secret and the registry through OIDC', () => {
    const train = jobs.train;
    expect(train.needs).toBe('check');
    expect(train.if).toContain("github.event_name == 'schedule'");
    expect(train.if).not.toContain("'push'");
    expect(train.env.MONGODB_URL).toBe('${{ secrets.MONGODB_URL }}');
    expect(usesAction(train, 'aws-actions/configure-aws-credentials')!.with!['role-to-assume']).toBe(
      '${{ secrets.AWS_ROLE_ARN }}',
    );
    expect(steps(train).some((step) => step.run === 'npx pipewright run')).toBe(true);
  });

  it('promotes or rolls back on demand only, behind the production environment, with inputs passed as variables', () => {
    const promote = jobs.promote;
    expect(promote.if).toContain("github.event_name == 'workflow_dispatch'");
    expect(promote.environment).toBe('production');
    expect(promote.env).toMatchObject({ ACTION: '${{ inputs.action }}', VERSION: '${{ inputs.version }}' });
    const script = steps(promote)
      .map((step) => step.run ?? '')
      .join('\n');
    expect(script).toContain('npx pipewright models promote "$VERSION"');
    expect(script).toContain('npx pipewright models rollback');
    expect(workflow.on.workflow_dispatch.inputs.action.options).toEqual(['train', 'promote', 'rollback']);
  });

  it('builds the serving image on pushes to main only', () => {
    const image = jobs.image;
    expect(image.if).toContain("github.ref == 'refs/heads/main'");
    expect(image.permissions).toEqual({ contents: 'read', packages: 'write' });
    expect(usesAction(image, 'docker/build-push-action')!.with).toMatchObject({ context: '.', push: true });
  });
});
