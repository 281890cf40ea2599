import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LockHeldError, LockLostError } from '../errors.js';
import { FileLockManager } from './file.js';
import { acquireLease, type Lease } from './lease.js';
import { rejection, request } from './locker.contract.js';
import type { AcquireRequest, LockInfo, LockManager } from './locker.js';
import { MemoryLockManager } from './memory.js';

/** A MemoryLockManager that records what was asked of it, in order. */
class RecordingManager extends MemoryLockManager {
  readonly calls: string[] = [];
  override async acquire(req: AcquireRequest): Promise<LockInfo> {
    this.calls.push(`acquire ${req.lockKey}`);
    return super.acquire(req);
  }
  override async release(lockKey: string, lockId: string): Promise<boolean> {
    this.calls.push(`release ${lockKey}`);
    return super.release(lockKey, lockId);
  }
  override async renew(lockKey: string, lockId: string, ttlMs: number): Promise<LockInfo> {
    this.calls.push(`renew ${lockKey}`);
    return super.renew(lockKey, lockId, ttlMs);
  }
}

/** A FileLockManager that says when it has renewed a lock `count` times. */
class CountingFileManager extends FileLockManager {
  private renewals = 0;
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];
  override async renew(lockKey: string, lockId: string, ttlMs: number): Promise<LockInfo> {
    const renewed = await super.renew(lockKey, lockId, ttlMs);
    this.renewals++;
    for (const w of this.waiters.filter((x) => x.count <= this.renewals)) w.resolve();
    return renewed;
  }
  renewed(count: number): Promise<void> {
    return new Promise((resolve) => (count <= this.renewals ? resolve() : this.waiters.push({ count, resolve })));
  }
}

const leases: Lease[] = [];
async function lease(manager: LockManager, lockKeys: string[], over: Partial<Parameters<typeof acquireLease>[0]> = {}): Promise<Lease> {
  const l = await acquireLease({ manager, lockKeys, ttlMs: 60_000, lockedBy: 'alice@laptop', metadata: { operation: 'apply' }, ...over });
  leases.push(l);
  return l;
}
afterEach(async () => {
  for (const l of leases.splice(0)) await l.release();
});

describe('acquireLease', () => {
  it('takes every key, once each, in sorted order', async () => {
    const manager = new RecordingManager();
    const l = await lease(manager, ['stack:web:env:prod', 'component:web/db', 'service:web/api', 'component:web/db']);
    expect(manager.calls).toEqual(['acquire component:web/db', 'acquire service:web/api', 'acquire stack:web:env:prod']);
    expect(l.locks.map((x) => x.lockKey)).toEqual(['component:web/db', 'service:web/api', 'stack:web:env:prod']);
    for (const lock of l.locks) expect((await manager.status(lock.lockKey))?.lockId).toBe(lock.lockId);
    expect(l.lost.aborted).toBe(false);

    await l.release();
    expect(await manager.list('')).toEqual([]);
  });

  it('takes all keys or none: when the second key is held, the first is released again', async () => {
    const manager = new RecordingManager();
    const other = await manager.acquire(request('b', { lockedBy: 'bob@ci' }));
    manager.calls.length = 0;

    const err = await rejection(() => lease(manager, ['c', 'b', 'a']));
    expect(err).toBeInstanceOf(LockHeldError);
    expect((err as LockHeldError).holder.lockId).toBe(other.lockId);
    expect(manager.calls).toEqual(['acquire a', 'acquire b', 'release a']);
    expect(await manager.status('a')).toBeUndefined();
    expect(await manager.status('c')).toBeUndefined();
    expect(await manager.status('b')).toEqual(other);
  });

  it('waits for a held key until its holder releases it', async () => {
    const manager = new MemoryLockManager();
    const other = await manager.acquire(request('stack:web:env:prod', { lockedBy: 'bob@ci' }));
    const waitedOn: LockInfo[] = [];
    const l = await lease(manager, ['stack:web:env:prod'], {
      timeoutMs: 30_000,
      onWait: (holder) => {
        waitedOn.push(holder);
        // The other run finishes while we wait.
        if (waitedOn.length === 1) setTimeout(() => void manager.release(other.lockKey, other.lockId), 20);
      },
    });
    expect(waitedOn.length).toBeGreaterThanOrEqual(1);
    expect(waitedOn[0]).toMatchObject({ lockId: other.lockId, lockedBy: 'bob@ci' });
    expect(l.locks[0]!.lockId).not.toBe(other.lockId);
    expect((await manager.status('stack:web:env:prod'))?.lockedBy).toBe('alice@laptop');
  });

  it('fails with LockHeldError once the timeout has passed', async () => {
    const manager = new MemoryLockManager();
    const other = await manager.acquire(request('stack:web:env:prod', { lockedBy: 'bob@ci' }));
    const waits: LockInfo[] = [];
    const err = await rejection(() => lease(manager, ['stack:web:env:prod'], { timeoutMs: 300, onWait: (h) => waits.push(h) }));
    expect(err).toBeInstanceOf(LockHeldError);
    expect((err as LockHeldError).holder.lockId).toBe(other.lockId);
    expect(waits.length).toBeGreaterThanOrEqual(1);
    expect(waits.every((h) => h.lockId === other.lockId)).toBe(true);
    expect(await manager.status('stack:web:env:prod')).toEqual(other);
  });

  it('fails at once without a timeout, and does not wait', async () => {
    const manager = new MemoryLockManager();
    await manager.acquire(request('k'));
    const waits: LockInfo[] = [];
    await expect(lease(manager, ['k'], { onWait: (h) => waits.push(h) })).rejects.toBeInstanceOf(LockHeldError);
    expect(waits).toEqual([]);
  });

  it('keeps a short-TTL lock alive past its TTL by renewing it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-lease-'));
    const manager = new CountingFileManager(dir);
    try {
      const ttlMs = 300;
      const l = await lease(manager, ['stack:web:env:prod'], { ttlMs });
      const first = l.locks[0]!;
      // Renewals come every TTL/3 at most: six of them span two TTLs, well past the first expiry.
      await manager.renewed(6);
      expect(l.lost.aborted).toBe(false);
      const status = await manager.status('stack:web:env:prod');
      expect(status?.lockId).toBe(first.lockId);
      expect(status!.expiresAt.getTime()).toBeGreaterThan(first.expiresAt.getTime());
      const err = await rejection(() => manager.acquire(request('stack:web:env:prod', { lockedBy: 'bob@ci' })));
      expect(err).toBeInstanceOf(LockHeldError);
      expect((err as LockHeldError).holder.lockId).toBe(first.lockId);
      await l.release();
      expect(await manager.status('stack:web:env:prod')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('aborts `lost` with LockLostError when somebody force-unlocks the lock', async () => {
    const manager = new MemoryLockManager();
    const l = await lease(manager, ['stack:web:env:prod'], { ttlMs: 150 });
    const lostNow = new Promise<unknown>((resolve) => l.lost.addEventListener('abort', () => resolve(l.lost.reason), { once: true }));

    expect(await manager.forceUnlock('stack:web:env:prod', l.locks[0]!.lockId)).toBe(true);
    const next = await manager.acquire(request('stack:web:env:prod', { lockedBy: 'bob@ci' }));

    const reason = await lostNow;
    expect(l.lost.aborted).toBe(true);
    expect(reason).toBeInstanceOf(LockLostError);
    expect((reason as LockLostError).message).toContain('stack:web:env:prod');
    // Releasing the lost lease leaves the new holder's lock alone.
    await l.release();
    expect(await manager.status('stack:web:env:prod')).toEqual(next);
  });

  it('stops renewing once released', async () => {
    vi.useFakeTimers();
    try {
      const manager = new RecordingManager();
      const l = await lease(manager, ['k'], { ttlMs: 60 });
      await l.release();
      await l.release();
      expect(manager.calls.filter((c) => c === 'release k')).toHaveLength(1);
      // Ten TTLs later: no renewal was attempted, nothing was lost.
      await vi.advanceTimersByTimeAsync(600);
      expect(manager.calls.filter((c) => c.startsWith('renew'))).toEqual([]);
      expect(l.lost.aborted).toBe(false);
      expect(await manager.status('k')).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });
});

/** A MemoryLockManager whose renewals hang until the test lets them finish, counting how many run at once. */
class SlowRenewals extends MemoryLockManager {
  started = 0;
  inFlight = 0;
  maxInFlight = 0;
  private readonly waiting: Array<() => void> = [];
  override async renew(lockKey: string, lockId: string, ttlMs: number): Promise<LockInfo> {
    this.started++;
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight--;
    return super.renew(lockKey, lockId, ttlMs);
  }
  /** Lets every hanging renewal finish. */
  finishRenewals(): void {
    for (const r of this.waiting.splice(0)) r();
  }
}

describe('acquireLease: renewal', () => {
  it('never has two renewals in flight, however short the TTL and slow the backend', async () => {
    vi.useFakeTimers();
    try {
      const manager = new SlowRenewals();
      const l = await lease(manager, ['k'], { ttlMs: 60_000 });
      // Renewals every 20 s; the first hangs past the time the second would start: none starts.
      await vi.advanceTimersByTimeAsync(50_000);
      expect(manager.started).toBe(1);
      expect(l.lost.aborted).toBe(false);
      manager.finishRenewals();
      await vi.advanceTimersByTimeAsync(20_000);
      expect(manager.started).toBe(2);
      expect(manager.maxInFlight).toBe(1);
      // Release waits for the renewal in flight; none starts after it.
      const released = l.release();
      manager.finishRenewals();
      await released;
      await vi.advanceTimersByTimeAsync(60_000);
      expect(manager.started).toBe(2);
      expect(await manager.status('k')).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('acquireLease: a renewal that never answers', () => {
  it('loses the lease by the time another run could take the lock', async () => {
    vi.useFakeTimers();
    try {
      const manager = new SlowRenewals();
      const l = await lease(manager, ['k'], { ttlMs: 30_000 });
      await vi.advanceTimersByTimeAsync(10_000); // the first renewal starts, and hangs
      expect(manager.started).toBe(1);
      await vi.advanceTimersByTimeAsync(14_000);
      expect(l.lost.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1_000); // 5 s before the lease would expire: it counts as failed
      expect(l.lost.aborted).toBe(true);
      expect((l.lost.reason as Error).message).toMatch(/renewal did not answer within 15000 ms/);
      manager.finishRenewals();
      const released = l.release();
      await vi.advanceTimersByTimeAsync(0);
      await released;
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('acquireLease: a holder that died on this host', () => {
  it('breaks the lock of a dead local process at once, and not that of a live one or of another host', async () => {
    const { spawnSync } = await import('node:child_process');
    const dead = String(spawnSync(process.execPath, ['-e', '0']).pid);
    const manager = new MemoryLockManager();
    const key = 'stack:web:env:prod';
    const here = `ana@${os.hostname()}`;
    const crashed = await manager.acquire({ lockKey: key, ttlMs: 3_600_000, lockedBy: here, metadata: { pid: dead } });
    const lease = await acquireLease({ manager, lockKeys: [key], ttlMs: 60_000, lockedBy: here, metadata: { pid: String(process.pid) } });
    expect(lease.locks[0]!.takenOverFrom).toMatchObject({ lockId: crashed.lockId });
    await lease.release();

    await manager.acquire({ lockKey: key, ttlMs: 3_600_000, lockedBy: here, metadata: { pid: String(process.pid) } });
    await expect(acquireLease({ manager, lockKeys: [key], ttlMs: 60_000, lockedBy: here, metadata: {} })).rejects.toBeInstanceOf(
      LockHeldError,
    );
    const other = new MemoryLockManager();
    await other.acquire({ lockKey: key, ttlMs: 3_600_000, lockedBy: 'ci@another-runner', metadata: { pid: dead } });
    await expect(acquireLease({ manager: other, lockKeys: [key], ttlMs: 60_000, lockedBy: here, metadata: {} })).rejects.toBeInstanceOf(
      LockHeldError,
    );
  });
});

describe('lease renewals are told', () => {
  it('onRenew is called with the locks after every renewal that succeeded, and never after release', async () => {
    const manager = new MemoryLockManager();
    const told: string[][] = [];
    let second: () => void = () => undefined;
    const twice = new Promise<void>((resolve) => (second = resolve));
    const l = await lease(manager, ['stack:s:env:e'], {
      ttlMs: 300,
      onRenew: (locks) => {
        told.push(locks.map((x) => x.lockKey));
        if (told.length === 2) second();
      },
    });
    await twice;
    await l.release();
    const after = told.length;
    // Released: a renewal timer that fires later does nothing, so nothing more is told.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(told.slice(0, 2)).toEqual([['stack:s:env:e'], ['stack:s:env:e']]);
    expect(told.length).toBe(after);
  });
});
