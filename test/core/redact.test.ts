import { describe, expect, it } from 'vitest';
import { redact, redactDeep, registerSecret } from '../../src/core/redact.js';
import { errors } from '../../src/core/errors.js';

describe('redaction', () => {
  it('hides the password of any connection string in text', () => {
    expect(redact('cannot reach mongodb+srv://app:p%40ss@cluster0.example.net/db?retryWrites=true')).toBe(
      'cannot reach mongodb+srv://app:***@cluster0.example.net/db?retryWrites=true',
    );
    expect(redact('postgres://u:pw@h:5432/x and http://a:b@c')).toBe(
      'postgres://u:***@h:5432/x and http://a:***@c',
    );
  });

  it('hides a registered secret wherever it appears, also decoded', () => {
    registerSecret('mongodb://svc:Tr0ub4dor%26x@10.0.0.1:27017/');
    expect(redact('auth failed for password Tr0ub4dor&x')).toBe('auth failed for password ***');
    registerSecret('tok-1234567890');
    expect(redactDeep({ nested: ['Bearer tok-1234567890'], token: 'anything', other: 1 })).toEqual({
      nested: ['Bearer ***'],
      token: '***',
      other: 1,
    });
  });

  it('redacts the message and hint of a Pipewright error', () => {
    const error = new errors.PW_STORE_UNREACHABLE('no server at mongodb://root:sekrit99@localhost:1', {
      hint: 'check mongodb://root:sekrit99@localhost:1',
    });
    expect(error.message).not.toContain('sekrit99');
    expect(error.hint).not.toContain('sekrit99');
  });
});
