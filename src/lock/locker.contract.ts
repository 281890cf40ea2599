/**
 * The LockManager contract (see locker.ts), run against every implementation, in the manner
 * of Terraform's shared backend test suite.
 */
import { setTimeout as wait } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockHeldError, LockLostError } from '../errors.js';
import { stackLockKey, type AcquireRequest, type LockInfo, type LockManager } from './locker.js';

export interface LockManagerUnderTest {
  manager: LockManager;
  cleanup?: () => Promise<void>;
}

export const sleep = (ms: number): Promise<void> => wait(ms);

export function request(lockKey: string, over: Partial<AcquireRequest> = {}): AcquireRequest {
  return {
    lockKey,
    ttlMs: 60_000,
    lockedBy: 'alice@laptop',
    metadata: { operation: 'apply', deployment_id: 'dep-1', pid: '4242' },
    ...over,
  };
}

/** Runs `fn` expecting it to reject, and returns the rejection. */
export async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, but it resolved');
}

export interface ContractOptions {
  /** How precisely the backend stores expiry (DynamoDB keeps epoch seconds, rounded up). */
  expiryResolutionMs?: number;
}

export function lockManagerContract(name: string, make: () => Promise<LockManagerUnderTest>, options: ContractOptions = {}): void {
  const resolution = options.expiryResolutionMs ?? 1;
  const SHORT_TTL = Math.max(50, resolution);
  /** Comfortably past SHORT_TTL (and its rounding), so the lock has expired whatever the timer resolution. */
  const PAST_SHORT_TTL = resolution > 1 ? SHORT_TTL + 2 * resolution + 100 : 120;
  describe(`LockManager contract: ${name}`, () => {
    let manager: LockManager;
    let cleanup: (() => Promise<void>) | undefined;
    const key = stackLockKey('web', 'prod');

    beforeEach(async () => {
      ({ manager, cleanup } = await make());
    });
    afterEach(async () => {
      await cleanup?.();
    });

    it('acquires a free key and records the holder', async () => {
      const before = Date.now();
      const lock = await manager.acquire(request(key));
      expect(lock).toMatchObject({
        lockKey: key,
        lockedBy: 'alice@laptop',
        metadata: { operation: 'apply', deployment_id: 'dep-1', pid: '4242' },
      });
      expect(lock.lockId).toMatch(/\S{8,}/);
      expect(lock.lockedAt.getTime()).toBeGreaterThanOrEqual(before);
      const lease = lock.expiresAt.getTime() - lock.lockedAt.getTime();
      expect(lease).toBeGreaterThanOrEqual(60_000);
      expect(lease).toBeLessThan(60_000 + resolution + 1);
      const status = await manager.status(key);
      expect(status).toEqual(lock);
    });

    it('refuses a second acquire with LockHeldError naming the holder and the unlock command', async () => {
      const held = await manager.acquire(request(key));
      const err = await rejection(() => manager.acquire(request(key, { lockedBy: 'bob@ci', metadata: { operation: 'plan' } })));
      expect(err).toBeInstanceOf(LockHeldError);
      const e = err as LockHeldError;
      expect(e.code).toBe('LOCK_HELD');
      expect(e.holder).toEqual(held);
      expect(e.holder.lockedBy).toBe('alice@laptop');
      expect(e.holder.lockId).toBe(held.lockId);
      expect(e.holder.lockedAt).toEqual(held.lockedAt);
      expect(e.holder.expiresAt).toEqual(held.expiresAt);
      expect(e.holder.metadata).toEqual({ operation: 'apply', deployment_id: 'dep-1', pid: '4242' });
      expect(e.message).toContain('alice@laptop');
      expect(e.message).toContain(held.lockId);
      expect(e.details).toContain('operation: apply');
      expect(e.details.join('\n')).toContain(`deployer lock unlock --stack web -e prod --force ${held.lockId}`);
      // The refused acquire changed nothing.
      expect(await manager.status(key)).toEqual(held);
    });

    it('gives a key that is not a stack key an unlock command without --stack', async () => {
      const held = await manager.acquire(request('service:api'));
      const err = (await rejection(() => manager.acquire(request('service:api')))) as LockHeldError;
      expect(err.details.join('\n')).toContain(`deployer lock unlock --force ${held.lockId}`);
    });

    it('treats different keys independently', async () => {
      const a = await manager.acquire(request(stackLockKey('web', 'prod')));
      const b = await manager.acquire(request(stackLockKey('web', 'staging')));
      expect(a.lockId).not.toBe(b.lockId);
      expect(await manager.release(a.lockKey, a.lockId)).toBe(true);
      expect(await manager.status(b.lockKey)).toEqual(b);
    });

    it('takes over an expired lock with a new lock id', async () => {
      const old = await manager.acquire(request(key, { ttlMs: SHORT_TTL }));
      await sleep(PAST_SHORT_TTL);
      const fresh = await manager.acquire(request(key, { lockedBy: 'bob@ci' }));
      expect(fresh.lockId).not.toBe(old.lockId);
      expect(fresh.lockedBy).toBe('bob@ci');
      // It says whose expired lock it replaced (that holder probably died).
      expect(fresh.takenOverFrom).toMatchObject({ lockId: old.lockId, lockedBy: 'alice@laptop' });
      const { takenOverFrom: _gone, ...record } = fresh;
      expect(await manager.status(key)).toEqual(record);
      // The old holder has lost it: it can neither renew nor release.
      const err = await rejection(() => manager.renew(key, old.lockId, 60_000));
      expect(err).toBeInstanceOf(LockLostError);
      expect((err as LockLostError).code).toBe('LOCK_LOST');
      expect(await manager.release(key, old.lockId)).toBe(false);
      expect(await manager.status(key)).toEqual(record);
    });

    it('renews a held lock, extending its expiry past the original TTL', async () => {
      const lock = await manager.acquire(request(key, { ttlMs: SHORT_TTL }));
      const renewed = await manager.renew(key, lock.lockId, 60_000);
      expect(renewed.lockId).toBe(lock.lockId);
      expect(renewed.lockedAt).toEqual(lock.lockedAt);
      expect(renewed.expiresAt.getTime()).toBeGreaterThan(lock.expiresAt.getTime());
      expect((await manager.status(key))?.expiresAt).toEqual(renewed.expiresAt);
      await sleep(PAST_SHORT_TTL);
      // Still held: the renewal, not the original TTL, counts.
      const err = await rejection(() => manager.acquire(request(key, { lockedBy: 'bob@ci' })));
      expect(err).toBeInstanceOf(LockHeldError);
      expect((err as LockHeldError).holder.lockId).toBe(lock.lockId);
    });

    it('refuses to renew with a wrong lock id, and leaves the lock as it was', async () => {
      const lock = await manager.acquire(request(key));
      await expect(manager.renew(key, 'not-the-id', 60_000)).rejects.toBeInstanceOf(LockLostError);
      expect(await manager.status(key)).toEqual(lock);
    });

    it('refuses to renew a lock that was released', async () => {
      const lock = await manager.acquire(request(key));
      expect(await manager.release(key, lock.lockId)).toBe(true);
      await expect(manager.renew(key, lock.lockId, 60_000)).rejects.toBeInstanceOf(LockLostError);
      expect(await manager.status(key)).toBeUndefined();
    });

    it('releases only with the right lock id', async () => {
      const lock = await manager.acquire(request(key));
      expect(await manager.release(key, 'not-the-id')).toBe(false);
      expect(await manager.status(key)).toEqual(lock);
      expect(await manager.release(key, lock.lockId)).toBe(true);
      expect(await manager.status(key)).toBeUndefined();
      expect(await manager.release(key, lock.lockId)).toBe(false);
      // Free again for the next run.
      const next = await manager.acquire(request(key, { lockedBy: 'bob@ci' }));
      expect(next.lockId).not.toBe(lock.lockId);
    });

    it('force-unlocks only with the lock id the holder has now', async () => {
      const lock = await manager.acquire(request(key));
      expect(await manager.forceUnlock(key, 'stale-id-from-an-old-message')).toBe(false);
      expect(await manager.status(key)).toEqual(lock);
      expect(await manager.forceUnlock(key, lock.lockId)).toBe(true);
      expect(await manager.status(key)).toBeUndefined();
      expect(await manager.forceUnlock(key, lock.lockId)).toBe(false);
      await expect(manager.renew(key, lock.lockId, 60_000)).rejects.toBeInstanceOf(LockLostError);
    });

    it('reports status without changing anything, expired locks included', async () => {
      expect(await manager.status(key)).toBeUndefined();
      const lock = await manager.acquire(request(key, { ttlMs: SHORT_TTL }));
      await sleep(PAST_SHORT_TTL);
      expect(await manager.status(key)).toEqual(lock);
      expect(await manager.status(key)).toEqual(lock);
    });

    it('lists the locks whose key starts with a prefix, expired ones included', async () => {
      const prod = await manager.acquire(request(stackLockKey('web', 'prod')));
      const staging = await manager.acquire(request(stackLockKey('web', 'staging'), { ttlMs: SHORT_TTL }));
      const billing = await manager.acquire(request(stackLockKey('billing', 'prod')));
      const svc = await manager.acquire(request('service:web:api'));
      await sleep(PAST_SHORT_TTL);

      const byKey = (locks: LockInfo[]): LockInfo[] => [...locks].sort((a, b) => a.lockKey.localeCompare(b.lockKey));
      expect(byKey(await manager.list('stack:web:'))).toEqual(byKey([prod, staging]));
      expect(byKey(await manager.list('stack:'))).toEqual(byKey([prod, staging, billing]));
      expect(byKey(await manager.list(''))).toEqual(byKey([prod, staging, billing, svc]));
      expect(await manager.list('stack:nothing:')).toEqual([]);

      await manager.release(prod.lockKey, prod.lockId);
      expect(await manager.list('stack:web:')).toEqual([staging]);
    });
  });
}
