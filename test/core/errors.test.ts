import { describe, expect, it } from 'vitest';
import { errors, isPipewrightError, originOf } from '../../src/core/errors.js';

describe('error catalogue', () => {
  it('gives every error a code, a hint, an exit code and a status', () => {
    for (const [code, ErrorType] of Object.entries(errors)) {
      const error = new ErrorType('something happened');
      expect(error.code).toBe(code);
      expect(error.hint.length).toBeGreaterThan(10);
      expect([1, 2]).toContain(error.exitCode);
      expect(error.statusCode).toBeGreaterThanOrEqual(400);
      expect(isPipewrightError(error)).toBe(true);
    }
  });

  it('records the TypeScript file and line that raised it', () => {
    const error = new errors.PW_DATA_EMPTY('no rows'); // this line is the origin
    expect(error.origin).toMatch(/^test\/core\/errors\.test\.ts:\d+:\d+$/);
  });

  it('keeps the cause and serialises code, message, where and hint', () => {
    const cause = new Error('disk full');
    const error = new errors.PW_FILE_INVALID('bad row', { where: 'data.csv:3:7', cause });
    expect(error.cause).toBe(cause);
    expect(error.toJSON()).toMatchObject({
      code: 'PW_FILE_INVALID',
      message: 'bad row',
      where: 'data.csv:3:7',
    });
  });

  it('skips frames of node internals and dependencies when locating an origin', () => {
    const stack =
      'Error: x\n    at f (node:internal/x.js:1:1)\n    at g (/a/node_modules/b/c.js:2:2)\n    at h (/a/src/y.ts:3:4)';
    expect(originOf(stack)).toBe('/a/src/y.ts:3:4');
  });
});
