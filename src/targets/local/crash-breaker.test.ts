/** The crash breaker's counting: early deaths in a row open it, a trial half-opens it, a trial that lives closes it. */
import { describe, expect, it } from 'vitest';
import { CrashBreaker } from './crash-breaker.js';

const policy = { failureThreshold: 3, recoveryTimeoutMs: 60_000 };
const t0 = Date.parse('2026-12-07T03:00:00.000Z');

describe('CrashBreaker', () => {
  it('lets every process restart when no policy is given (the Stack disabled its circuit breaker)', () => {
    const b = new CrashBreaker(undefined);
    for (let i = 0; i < 10; i++) expect(b.crashed(10, true, t0)).toBe('restart');
    expect(b.holds(t0)).toBe(false);
  });

  it('opens at the threshold of early deaths in a row, names the kills for memory, and says until when', () => {
    const b = new CrashBreaker(policy);
    expect(b.crashed(1_000, true, t0)).toBe('restart');
    expect(b.status()).toMatchObject({ position: 'closed', failures: 1, oomKills: 1 });
    expect(b.crashed(1_000, false, t0 + 1)).toBe('restart');
    expect(b.crashed(1_000, true, t0 + 2)).toBe('hold');
    expect(b.holds(t0 + 2)).toBe(true);
    expect(b.status()).toEqual({
      position: 'open',
      failures: 3,
      oomKills: 2,
      openedAt: '2026-12-07T03:00:00.002Z',
      retryAt: '2026-12-07T03:01:00.002Z',
      reason:
        'circuit breaker open: 3 process(es) died in a row (2 killed by the kernel for going over the memory limit); not restarted until 2026-12-07T03:01:00.002Z',
    });
    expect(b.holds(t0 + 60_002)).toBe(false);
  });

  it('starts the count again after a process that lived the recovery time', () => {
    const b = new CrashBreaker(policy);
    b.crashed(1_000, false, t0);
    b.crashed(1_000, false, t0);
    expect(b.crashed(60_000, false, t0)).toBe('restart');
    expect(b.status()).toMatchObject({ failures: 1 });
  });

  it('half-open: a trial that dies opens it again at once; one that lives the recovery time closes it', () => {
    const b = new CrashBreaker({ failureThreshold: 1, recoveryTimeoutMs: 1_000 });
    expect(b.crashed(10, false, t0)).toBe('hold');
    b.trial();
    expect(b.status()?.position).toBe('half-open');
    expect(b.crashed(5_000, false, t0 + 1_000)).toBe('hold');
    expect(b.status()).toMatchObject({ position: 'open', failures: 2 });
    b.trial();
    b.settle(999);
    expect(b.status()?.position).toBe('half-open');
    b.settle(1_000);
    expect(b.status()).toBeUndefined();
  });
});
