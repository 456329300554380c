import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { registerSecret } from '../../src/core/redact.js';
import { writeRunRecord, type RunRecord } from '../../src/pipeline/record.js';
import { tempDir } from '../helpers/cli.js';

describe('run record', () => {
  it('redacts credentials and registered secrets in every error it records, from any library', () => {
    const secret = 'example-secret-value-0123456789';
    registerSecret(secret);
    const record: RunRecord = {
      id: 'run-1',
      project: 'p',
      status: 'failed',
      startedAt: new Date(0).toISOString(),
      config: { registry: { type: 'folder' } },
      schemaFingerprint: 'f',
      code: { pipewright: '0', node: process.version },
      seed: 1,
      model: { type: 'gbdt', params: {} },
      steps: [
        {
          name: 'ingest',
          status: 'failed',
          error: {
            code: 'PW_INTERNAL',
            message: `connect failed: mongodb://reader:pa55word-example@db.example.com/x (key ${secret})`,
          },
        } as RunRecord['steps'][number],
      ],
      artifacts: {},
    };
    const text = readFileSync(writeRunRecord(tempDir(), record), 'utf8');
    expect(text).not.toContain('pa55word-example');
    expect(text).not.toContain(secret);
    expect(JSON.parse(text).steps[0].error.code).toBe('PW_INTERNAL');
  });
});
