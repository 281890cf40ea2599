import { describe, expect, it } from 'vitest';
import { STACK_POLICY_DEFAULTS } from '../model/desired.js';
import { afterFailure, afterSuccess, position, refusal } from './breaker.js';

const policy = { ...STACK_POLICY_DEFAULTS.circuitBreaker, failureThreshold: 2, recoveryTimeoutMs: 60_000, halfOpenCalls: 2 };
const t0 = Date.parse('2026-01-01T00:00:00.000Z');

describe('circuit breaker', () => {
  it('closed -> open at the threshold -> half-open after the recovery timeout -> closed after the trials', () => {
    let b = afterFailure(undefined, policy, t0);
    expect(position(b, policy, t0)).toBe('closed');
    b = afterFailure(b, policy, t0 + 1000);
    expect(b).toEqual({ failures: 2, openedAt: '2026-01-01T00:00:01.000Z' });
    expect(position(b, policy, t0 + 30_000)).toBe('open');
    expect(refusal(b, policy)).toMatch(/2 failed deployments in a row .* allowed from 2026-01-01T00:01:01.000Z/);
    expect(position(b, policy, t0 + 61_000)).toBe('half-open');
    // Half-open: the first trial succeeds, one more is due; the second closes it.
    const one = afterSuccess(b, policy, t0 + 61_000);
    expect(one).toMatchObject({ failures: 2, trials: 1 });
    expect(afterSuccess(one, policy, t0 + 62_000)).toBeUndefined();
  });

  it('a failed trial opens it again for a whole recovery timeout; a success while closed resets the count', () => {
    const open = { failures: 2, openedAt: new Date(t0).toISOString() };
    const again = afterFailure(open, policy, t0 + 61_000);
    expect(again).toEqual({ failures: 3, openedAt: new Date(t0 + 61_000).toISOString() });
    expect(position(again, policy, t0 + 62_000)).toBe('open');
    expect(afterSuccess({ failures: 1 }, policy, t0)).toBeUndefined();
    expect(position(open, { ...policy, enabled: false }, t0)).toBe('closed');
  });
});
