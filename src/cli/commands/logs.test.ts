/** `deployer logs --since`: only the stamped lines written within the while asked for. */
import { describe, expect, it } from 'vitest';
import { linesSince } from './logs.js';

describe('deployer logs --since', () => {
  it('keeps the lines stamped at or after the bound; without a bound, everything', () => {
    const text = ['old unstamped line', '2026-12-06T10:00:00.000Z [1] before', '2026-12-06T10:05:00.000Z [2] after', ''].join('\n');
    expect(linesSince(text, Date.parse('2026-12-06T10:01:00Z'))).toBe('2026-12-06T10:05:00.000Z [2] after\n');
    expect(linesSince(text, Date.parse('2026-12-06T10:00:00Z'))).toBe(
      '2026-12-06T10:00:00.000Z [1] before\n2026-12-06T10:05:00.000Z [2] after\n',
    );
    expect(linesSince(text, undefined)).toBe(text);
  });
});
