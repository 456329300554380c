// docs/production.md: it covers each part of a production setup, and its policies and manifests are
// valid and safe as written (private bucket, least privilege, no credential, non-root replicas).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

type Json = Record<string, any>;

const guide = readFileSync(join(ROOT, 'docs', 'production.md'), 'utf8');

function codeBlocks(language: string): string[] {
  return [...guide.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map(
    (match) => match[1],
  );
}

function section(title: RegExp): string {
  const parts = guide.split(/^## /m);
  const found = parts.find((part) => title.test(part.split('\n')[0]));
  if (!found) throw new Error(`docs/production.md has no section matching ${title}`);
  return found;
}

const asList = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];

describe('the production guide', () => {
  it('covers Atlas, the S3 registry, orchestration, replicas, backups and upgrades', () => {
    for (const title of [
      /MongoDB Atlas/,
      /S3 registry/,
      /orchestrator/,
      /replicas behind a load balancer/,
      /Backups and restore/,
      /Upgrading Pipewright without retraining/,
    ]) {
      expect(section(title).length, String(title)).toBeGreaterThan(400);
    }
  });

  it('keeps the database private: secret connection string, TLS, no open access list, a read-only training user', () => {
    const atlas = section(/MongoDB Atlas/);
    expect(atlas).toMatch(/MONGODB_URL/);
    expect(atlas).toMatch(/TLS/);
    for (const line of atlas.split('\n').filter((text) => text.includes('0.0.0.0/0')))
      expect(line).toMatch(/\bNever\b|\bnot\b/i);
    expect(atlas).toMatch(/atlas accessLists create \d+\.\d+\.\d+\.\d+ /);
    expect(atlas).toMatch(/--username pipewright-train --role read@pipewright\b/);
    // No password is ever typed into the guide's commands.
    expect(atlas).not.toMatch(/--password ['"]?[A-Za-z0-9]/);
  });

  it('gives IAM policies that are valid JSON, scoped to the bucket, and never allow public or wildcard access', () => {
    const policies = codeBlocks('json')
      .map((text) => JSON.parse(text) as Json)
      .filter((document) => document.Statement);
    expect(policies.length).toBeGreaterThanOrEqual(4);
    for (const policy of policies) {
      expect(policy.Version).toBe('2012-10-17');
      for (const statement of policy.Statement as Json[]) {
        if (statement.Effect !== 'Allow') continue;
        const actions = asList(statement.Action) as string[];
        for (const action of actions) expect(action).not.toMatch(/^\*$|:\*$/);
        expect(statement.Principal ?? {}).not.toBe('*');
        if (actions.includes('sts:AssumeRoleWithWebIdentity')) {
          const conditions = statement.Condition.StringEquals;
          expect(conditions['token.actions.githubusercontent.com:aud']).toBe('sts.amazonaws.com');
          expect(conditions['token.actions.githubusercontent.com:sub']).toMatch(
            /^repo:[^*]+:environment:[^*]+$/,
          );
          continue;
        }
        for (const resource of asList(statement.Resource) as string[]) {
          expect(resource).toMatch(/^arn:aws:s3:::acme-pipewright-models(\/insurance\/.*)?$/);
        }
        if (actions.includes('s3:ListBucket'))
          expect(statement.Condition.StringLike['s3:prefix']).toEqual(['insurance/*']);
        if (actions.includes('s3:DeleteObject')) {
          for (const resource of asList(statement.Resource) as string[])
            expect(resource).toMatch(/\/(claims|probes)\/\*$/);
        }
      }
    }
    const serving = policies.find((policy) =>
      (policy.Statement as Json[]).some((statement) => statement.Sid === 'ReadModels'),
    )!;
    const servingActions = (serving.Statement as Json[]).flatMap((statement) => asList(statement.Action));
    expect(servingActions.sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
    const bucketPolicy = policies.find((policy) =>
      (policy.Statement as Json[]).some((statement) => statement.Effect === 'Deny'),
    )!;
    expect(bucketPolicy.Statement[0].Condition.Bool['aws:SecureTransport']).toBe('false');
  });

  it('sets the bucket private and versioned', () => {
    const registry = section(/S3 registry/);
    expect(registry).toContain(
      'BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true',
    );
    expect(registry).toContain('--versioning-configuration Status=Enabled');
    expect(registry).toContain('ObjectOwnership=BucketOwnerEnforced');
  });

  it('gives Kubernetes manifests that parse, run as non-root, probe /ready and /health, and take secrets from Secrets', () => {
    const documents = codeBlocks('yaml')
      .flatMap((text) => parseAllDocuments(text).map((document) => document.toJSON() as Json))
      .filter((document) => document?.kind);
    const deployment = documents.find((document) => document.kind === 'Deployment')!;
    const cronJob = documents.find((document) => document.kind === 'CronJob')!;
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    expect(container.name).toBe('serve');
    expect(container.readinessProbe.httpGet.path).toBe('/ready');
    expect(container.livenessProbe.httpGet.path).toBe('/health');
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
    });
    for (const spec of [pod, cronJob.spec.jobTemplate.spec.template.spec]) {
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      for (const each of spec.containers as Json[]) {
        expect(each.envFrom[0].secretRef.name).toMatch(/^pipewright/);
        for (const variable of (each.env ?? []) as Json[])
          expect(variable.name).not.toMatch(/MONGODB_URL|SECRET|TOKEN|KEY/);
      }
    }
    // The replicas are told apart from the training job by what they may do: the job publishes.
    expect(pod.serviceAccountName).toBe('pipewright-serve');
    expect(cronJob.spec.jobTemplate.spec.template.spec.serviceAccountName).toBe('pipewright-train');
    expect(
      documents.find((document) => document.kind === 'PodDisruptionBudget')?.spec.minAvailable,
    ).toBeGreaterThanOrEqual(1);
  });

  it('names the bundle format version that decides whether an upgrade needs retraining', () => {
    const upgrading = section(/Upgrading/);
    const bundleSource = readFileSync(join(ROOT, 'src', 'ml', 'bundle.ts'), 'utf8');
    const version = /BUNDLE_FORMAT_VERSION = (\d+)/.exec(bundleSource)![1];
    expect(upgrading).toContain(`\`formatVersion\`, ${version} today`);
    expect(upgrading).toContain('PW_BUNDLE_INVALID');
  });
});

describe('the README', () => {
  it('states the image size in a Deployment section, with the command that measures it', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const deployment = readme.split(/^## /m).find((part) => part.startsWith('Deployment'));
    expect(deployment, 'README.md has a "## Deployment" section').toBeDefined();
    expect(deployment).toContain('node scripts/image-size.mjs');
    expect(deployment).toMatch(/\d+(\.\d+)? MB/);
    expect(deployment).toContain('docs/production.md');
  });
});
