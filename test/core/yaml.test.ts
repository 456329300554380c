import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { editDistance, nearest } from '../../src/core/suggest.js';
import { PipewrightError } from '../../src/core/errors.js';

function configError(text: string): PipewrightError {
  try {
    parseConfig(text, 'pipewright.yaml');
  } catch (error) {
    return error as PipewrightError;
  }
  throw new Error('expected the config to be refused');
}

describe('pipewright.yaml validation', () => {
  it('accepts a minimal config and fills in the defaults', () => {
    const config = parseConfig('project: demo\n');
    expect(config.split.test_size).toBe(0.2);
    expect(config.store.path).toBe('.pipewright/store.db');
    expect(config.registry.type).toBe('folder');
  });

  it('names line, column and the nearest valid key for a misspelt key', () => {
    const error = configError('project: demo\nsplit:\n  seed: 3\n  test_sise: 0.3\n');
    expect(error.code).toBe('PW_CONFIG_INVALID');
    expect(error.where).toBe('pipewright.yaml:4:3');
    expect(error.message).toContain('split.test_sise');
    expect(error.message).toContain('did you mean "test_size"');
  });

  it('reports an out-of-range value at the value with its key path', () => {
    const error = configError('project: demo\n\nsplit:\n    test_size: 1.5\n');
    expect(error.where).toBe('pipewright.yaml:4:5');
    expect(error.message).toBe('pipewright.yaml:4:5 split.test_size: must be between 0 and 1');
    expect(error.exitCode).toBe(2);
  });

  it('reports a missing required key at its parent', () => {
    const error = configError('store:\n  collection: x\n');
    expect(error.message).toContain('project: is required');
  });

  it('reports broken YAML with the line of the problem', () => {
    const error = configError('project: demo\nsplit:\n  test_size: [0.2\n');
    expect(error.code).toBe('PW_CONFIG_INVALID');
    expect(error.where).toMatch(/^pipewright\.yaml:\d+:\d+$/);
  });

  it('refuses a connection string with a password in the config', () => {
    const error = configError(
      'project: demo\nstore:\n  database: "mongodb://admin:hunter22@db.example.com/x"\n',
    );
    expect(error.code).toBe('PW_CONFIG_SECRET');
    expect(error.where).toBe('pipewright.yaml:3:3');
    expect(error.message).not.toContain('hunter22');
  });

  it('refuses a password in any URL of the config, such as a registry endpoint', () => {
    const error = configError(
      'project: demo\nregistry:\n  type: s3\n  bucket: models\n  endpoint: "https://key:pa55-example@s3.example.com"\n',
    );
    expect(error.code).toBe('PW_CONFIG_SECRET');
    expect(error.where).toBe('pipewright.yaml:5:3');
    expect(error.message).not.toContain('pa55-example');
    expect(
      parseConfig(
        'project: demo\nregistry:\n  type: s3\n  bucket: models\n  endpoint: "https://s3.example.com"\n',
      ).registry,
    ).toMatchObject({ endpoint: 'https://s3.example.com' });
  });

  it('counts edits and suggests only close candidates', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(nearest('colection', ['collection', 'path'])).toBe('collection');
    expect(nearest('zzzzzz', ['collection', 'path'])).toBeUndefined();
  });
});
