import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { lockHeldError, staleReason, unlockCommand } from './unlock-hint.js';
import type { LockInfo } from './locker.js';

const lock = (over: Partial<LockInfo> = {}): LockInfo => ({
  lockKey: 'stack:shop:env:prod',
  lockId: '0b1c2d3e-0000-4000-8000-000000000001',
  lockedBy: `ana@${os.hostname()}`,
  lockedAt: new Date('2026-01-01T10:00:00Z'),
  expiresAt: new Date(Date.now() + 60_000),
  metadata: { operation: 'apply', pid: String(process.pid) },
  ...over,
});

describe('stale locks', () => {
  it('a live holder on this host, or any holder elsewhere, is not judged stale', () => {
    expect(staleReason(lock())).toBeUndefined();
    expect(staleReason(lock({ lockedBy: 'ci@another-runner', metadata: { pid: '1' } }))).toBeUndefined();
  });

  it('an expired lease, or a dead process on this host, is', () => {
    expect(staleReason(lock({ expiresAt: new Date(Date.now() - 1000) }))).toMatch(/its lease expired at .*; the next run takes it over/);
    const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid!;
    expect(staleReason(lock({ metadata: { pid: String(dead) } }))).toBe(`its holder (pid ${dead} on this host) is no longer running`);
  });

  it('the error of a blocked run says so, and how to break the lock', () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const err = lockHeldError(lock({ metadata: { operation: 'apply', pid: String(dead) } }));
    expect(err.details).toEqual([
      'operation: apply',
      `It looks abandoned: its holder (pid ${dead} on this host) is no longer running.`,
      'If that run is dead, release the lock with: deployer lock unlock --stack shop -e prod --force 0b1c2d3e-0000-4000-8000-000000000001',
    ]);
    expect(unlockCommand(lock({ lockKey: 'other' }))).toBe('deployer lock unlock --force 0b1c2d3e-0000-4000-8000-000000000001');
  });
});

describe('the unlock command works where the user is', () => {
  it('points at the stack directory and at a lock backend outside it', async () => {
    const { openLockManager } = await import('./index.js');
    expect(openLockManager('file://.deployer', '/srv/shop', '/srv/shop').cliFlags).toBe('');
    expect(openLockManager('file://.deployer', '/srv/shop', '/home/ana').cliFlags).toBe('-C ../../srv/shop');
    expect(openLockManager('file:///var/locks', '/srv/shop', '/srv/shop').cliFlags).toBe('--lock-url file:///var/locks');
    const url = 'dynamodb://locks?region=us-east-1&endpoint=http://127.0.0.1:4567';
    const manager = openLockManager(url, '/srv/shop', '/srv');
    expect(manager.cliFlags).toBe(`-C shop --lock-url '${url}'`);
    expect(unlockCommand(lock(), manager.cliFlags)).toBe(
      `deployer lock unlock -C shop --lock-url '${url}' --stack shop -e prod --force 0b1c2d3e-0000-4000-8000-000000000001`,
    );
  });
});
