/** LockManager in memory (one process), for tests of the layers above. Same contract. */
import { LockLostError } from '../errors.js';
import { isExpired, newLock, type AcquiredLock, type AcquireRequest, type LockInfo, type LockManager } from './locker.js';
import { lockHeldError } from './unlock-hint.js';

export class MemoryLockManager implements LockManager {
  readonly url = 'memory://';
  cliFlags = '';
  private readonly locks = new Map<string, LockInfo>();

  async acquire(req: AcquireRequest): Promise<AcquiredLock> {
    const now = new Date();
    const current = this.locks.get(req.lockKey);
    if (current && !isExpired(current, now)) throw lockHeldError(current, this.cliFlags);
    const lock = newLock(req, now);
    this.locks.set(req.lockKey, lock);
    return current ? { ...copy(lock), takenOverFrom: copy(current) } : copy(lock);
  }

  async renew(lockKey: string, lockId: string, ttlMs: number): Promise<LockInfo> {
    const current = this.locks.get(lockKey);
    if (!current) throw new LockLostError(lockKey, 'the lock was released or force-unlocked');
    if (current.lockId !== lockId) throw new LockLostError(lockKey, `it is now held by ${current.lockedBy} (lock id ${current.lockId})`);
    current.expiresAt = new Date(Date.now() + ttlMs);
    return copy(current);
  }

  async release(lockKey: string, lockId: string): Promise<boolean> {
    if (this.locks.get(lockKey)?.lockId !== lockId) return false;
    this.locks.delete(lockKey);
    return true;
  }

  async forceUnlock(lockKey: string, lockId: string): Promise<boolean> {
    return this.release(lockKey, lockId);
  }

  async status(lockKey: string): Promise<LockInfo | undefined> {
    const l = this.locks.get(lockKey);
    return l ? copy(l) : undefined;
  }

  async list(prefix: string): Promise<LockInfo[]> {
    return [...this.locks.values()].filter((l) => l.lockKey.startsWith(prefix)).map(copy);
  }
}

/** Callers get copies: changing a returned record never changes the stored lock. */
function copy(l: LockInfo): LockInfo {
  return { ...l, metadata: { ...l.metadata } };
}
