import { describe, expect, it } from 'vitest';
import { lockManagerContract, request } from './locker.contract.js';
import { stackLockKey } from './locker.js';
import { MemoryLockManager } from './memory.js';

lockManagerContract('memory', async () => ({ manager: new MemoryLockManager() }));

describe('MemoryLockManager', () => {
  it('hands out copies: changing a returned record does not change the lock', async () => {
    const manager = new MemoryLockManager();
    const lock = await manager.acquire(request(stackLockKey('web', 'prod')));
    const copy = { ...lock };
    lock.expiresAt = new Date(0);
    lock.lockId = 'tampered';
    expect(await manager.status(lock.lockKey)).toEqual(copy);
  });
});
