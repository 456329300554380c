import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';

// The whole workflow through the real binary: init, sample, push, run, runs, models, predict.
describe('pipewright workflow commands', () => {
  let project: string;
  let firstRun: {
    id: string;
    outcome: { published: boolean; version: string };
    metrics: Record<string, number>;
  };

  beforeAll(async () => {
    project = join(tempDir(), 'workflow');
    expect((await runCli(['init', project])).code).toBe(0);
    const config = join(project, 'pipewright.yaml');
    writeFileSync(
      config,
      readFileSync(config, 'utf8')
        .replace('max_iter: 200', 'max_iter: 40')
        .replace('bootstrap: 200', 'bootstrap: 20'),
    );
    expect(
      (
        await runCli(
          ['sample', 'vehicle-insurance', '--rows', '3000', '--seed', '5', '-o', 'data/train.csv'],
          { cwd: project },
        )
      ).code,
    ).toBe(0);
    expect((await runCli(['push', 'data/train.csv', '-q'], { cwd: project })).code).toBe(0);
    const run = await runCli(['run', '--json'], { cwd: project });
    expect(run.code, run.stderr).toBe(0);
    firstRun = JSON.parse(run.stdout);
  }, 120_000);

  it('prints the run record as JSON and publishes the first model', () => {
    expect(firstRun.outcome).toMatchObject({ published: true, version: 'v1' });
    expect(firstRun.metrics.roc_auc).toBeGreaterThan(0.7);
  });

  it('lists, shows and compares runs', async () => {
    const second = await runCli(['run', '--json', '--no-cache'], { cwd: project });
    const secondRun = JSON.parse(second.stdout);
    expect(secondRun.outcome.published).toBe(false);
    const list = JSON.parse((await runCli(['runs', 'list', '--json'], { cwd: project })).stdout);
    expect(list.map((r: { id: string }) => r.id)).toEqual([firstRun.id, secondRun.id]);
    const shown = await runCli(['runs', 'show', firstRun.id], { cwd: project });
    expect(shown.stdout).toContain(`run ${firstRun.id}  succeeded`);
    expect(shown.stdout).toMatch(/train\s+ok/);
    const compared = JSON.parse(
      (await runCli(['runs', 'compare', firstRun.id, secondRun.id, '--json'], { cwd: project })).stdout,
    );
    const byKey = Object.fromEntries(compared.rows.map((row: { key: string }) => [row.key, row]));
    expect(byKey.dataHash.changed).toBe(false);
    expect(byKey['metrics.roc_auc'].changed).toBe(false);
    expect(byKey.outcome).toMatchObject({ a: 'published v1', b: 'not published', changed: true });
    const missing = await runCli(['runs', 'show', 'nope'], { cwd: project });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('PW_RUN_NOT_FOUND');
  });

  it('scores a file with predict, reporting invalid rows the way push does', async () => {
    writeFileSync(
      join(project, 'data', 'score.csv'),
      'id,Gender,Age,Driving_License,Region_Code,Previously_Insured,Vehicle_Age,Vehicle_Damage,Annual_Premium,Policy_Sales_Channel,Vintage\n' +
        '11,Male,44,1,28,0,> 2 Years,Yes,40454,26,217\n12,Female,abc,1,28,0,< 1 Year,No,2630,152,20\n13,Female,25,1,8,1,< 1 Year,No,2630,152,20\n',
    );
    const result = await runCli(['predict', 'data/score.csv', '-o', 'data/out.csv', '--json'], {
      cwd: project,
    });
    expect(result.code).toBe(1);
    const summary = JSON.parse(result.stdout.slice(0, result.stdout.indexOf('\n}\n') + 2));
    expect(summary).toMatchObject({ read: 3, predicted: 2, rejected: 1, model: 'v1' });
    const lines = readFileSync(join(project, 'data', 'out.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(lines[0]).toBe('id,probability,label');
    expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual(['11', '13']);
    const [, probability, label] = lines[1].split(',');
    expect(Number(probability)).toBeGreaterThan(0);
    expect(['0', '1']).toContain(label);
    const rejects = readFileSync(join(project, 'data', 'out.csv.rejects.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rejects).toEqual([expect.objectContaining({ line: 3, field: 'Age' })]);
  });

  it('promotes a version to another alias and refuses a rollback with nothing to return to', async () => {
    const promote = await runCli(['models', 'promote', 'v1', '--alias', 'staging'], { cwd: project });
    expect(promote.code, promote.stderr).toBe(0);
    const rollback = await runCli(['models', 'rollback', '--alias', 'staging'], { cwd: project });
    expect(rollback.code).toBe(1); // staging has no earlier version to return to
    const { events } = JSON.parse((await runCli(['models', 'history', '--json'], { cwd: project })).stdout);
    expect(
      events.map((event: { action: string; alias?: string }) => `${event.action}:${event.alias ?? ''}`),
    ).toEqual(['publish:', 'alias:production', 'alias:staging']);
  });
});
