/** What export redacts: e-mail addresses, URL passwords, tokens, secret-named metadata; and what it keeps. */
import { describe, expect, it } from 'vitest';
import { redactText, redactValue } from './redact.js';

describe('redaction', () => {
  it.each([
    ['deployed by alice.smith+ci@example.co.uk', 'deployed by [redacted e-mail]'],
    ['https://ci:hunter2@git.example.com/repo.git', 'https://[redacted]@git.example.com/repo.git'],
    ['push with ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'push with [redacted token]'],
    ['key AKIAIOSFODNN7EXAMPLE used', 'key [redacted token] used'],
    ['xoxb-1234567890-abcdefghij', '[redacted token]'],
    ['Authorization: Bearer abc.def-ghi_jkl~123', 'Authorization: Bearer [redacted token]'],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.SflKxwRJSMeKKF2QT4fwpM', 'jwt [redacted token]'],
  ])('%s', (text, redacted) => {
    expect(redactText(text)).toBe(redacted);
  });

  it('keeps what is not personal: user@host initiators, commit hashes, versions, times', () => {
    for (const kept of [
      'alice@laptop',
      'ci@runner-7',
      'a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2',
      'v1.2.3',
      '2026-12-01T10:00:00.000Z',
      'error rate 5%',
    ]) {
      expect(redactText(kept)).toBe(kept);
    }
  });

  it('metadata: every string, nested, and the whole value of a secret-named key', () => {
    const metadata = {
      git_commit: 'abc123',
      author: 'bob@example.com',
      api_token: 'plain-looking-value',
      nested: { dbPassword: 42, changes: [{ commit: 'abc', by: 'carol@example.org' }] },
      canary_percentage: 25,
      kmsKeyId: 'alias/deployer',
    };
    expect(redactValue(metadata)).toEqual({
      git_commit: 'abc123',
      author: '[redacted e-mail]',
      api_token: '[redacted]',
      nested: { dbPassword: '[redacted]', changes: [{ commit: 'abc', by: '[redacted e-mail]' }] },
      canary_percentage: 25,
      kmsKeyId: 'alias/deployer',
    });
    // The original is not changed.
    expect(metadata.author).toBe('bob@example.com');
  });
});
