import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { LockHeldError } from '../errors.js';
import { FileLockManager } from './file.js';
import { openLockManager } from './index.js';
import { lockManagerContract, rejection, request } from './locker.contract.js';
import { stackLockKey } from './locker.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { lockRace, overlaps, requireFreshBuild } from '../../test/helpers/lock-race.js';

const tempDir = useTempDirs('lock');

lockManagerContract('file', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-lock-contract-'));
  return { manager: new FileLockManager(dir), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

describe('FileLockManager on disk', () => {
  it('keeps one file per key under locks/ and nothing else once the operations are done', async () => {
    const root = tempDir();
    const manager = new FileLockManager(root);
    const lock = await manager.acquire(request(stackLockKey('web', 'prod')));
    await rejection(() => manager.acquire(request(stackLockKey('web', 'prod'))));
    await manager.renew(lock.lockKey, lock.lockId, 60_000);
    expect(readdirSync(path.join(root, 'locks'))).toEqual([`${encodeURIComponent('stack:web:env:prod')}.json`]);
    await manager.release(lock.lockKey, lock.lockId);
    expect(readdirSync(path.join(root, 'locks'))).toEqual([]);
    expect(manager.url).toBe(pathToFileURL(root).href);
  });

  it('lists nothing, and reports no lock, before any lock was taken', async () => {
    const manager = new FileLockManager(tempDir());
    expect(await manager.list('')).toEqual([]);
    expect(await manager.status(stackLockKey('web', 'prod'))).toBeUndefined();
  });

  it('sees a lock taken through another manager on the same directory', async () => {
    const root = tempDir();
    const held = await new FileLockManager(root).acquire(request(stackLockKey('web', 'prod')));
    const err = await rejection(() => new FileLockManager(root).acquire(request(stackLockKey('web', 'prod'))));
    expect((err as LockHeldError).holder).toEqual(held);
  });

  it('breaks a guard left behind by a process that died inside a guarded step', async () => {
    const root = tempDir();
    const manager = new FileLockManager(root);
    const lock = await manager.acquire(request(stackLockKey('web', 'prod')));
    const guard = path.join(root, 'locks', `${encodeURIComponent(lock.lockKey)}.json.guard`);
    writeFileSync(guard, '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(guard, old, old);
    expect(await manager.release(lock.lockKey, lock.lockId)).toBe(true);
    expect(existsSync(guard)).toBe(false);
  });

  it('lets exactly one of 50 concurrent acquirers in this process win', async () => {
    const manager = new FileLockManager(tempDir());
    const key = stackLockKey('web', 'prod');
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => manager.acquire(request(key, { lockedBy: `runner-${i}` }))),
    );
    const winners = results.filter((r) => r.status === 'fulfilled');
    const losers = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(49);
    const winner = (winners[0] as PromiseFulfilledResult<Awaited<ReturnType<FileLockManager['acquire']>>>).value;
    for (const l of losers) {
      expect(l.reason).toBeInstanceOf(LockHeldError);
      expect((l.reason as LockHeldError).holder.lockId).toBe(winner.lockId);
    }
    expect((await manager.status(key))?.lockId).toBe(winner.lockId);
  });
});

describe('FileLockManager across processes', () => {
  beforeAll(() => requireFreshBuild());

  it('never lets two of 4 processes hold the lock at once over 500 acquisitions', async () => {
    const root = tempDir();
    const { holds, stderr, codes } = await lockRace({
      url: pathToFileURL(root).href,
      journal: path.join(root, 'journal.ndjson'),
      processes: 4,
      each: 125,
      ttlMs: 1000,
    });
    expect(stderr).toBe('');
    expect(codes).toEqual([0, 0, 0, 0]);
    expect(holds).toHaveLength(500);
    expect(new Set(holds.map((e) => e.pid)).size).toBe(4);
    expect(new Set(holds.map((e) => e.lockId)).size).toBe(500);
    // The test is only meaningful if no hold outlived its lease.
    expect(holds.filter((e) => e.expired)).toEqual([]);
    expect(overlaps(holds)).toEqual([]);
    // Nobody removed a lock they did not hold: every holder released its own.
    expect(holds.filter((e) => !e.released)).toEqual([]);
    expect(readdirSync(path.join(root, 'locks'))).toEqual([]);
  });
});

describe('openLockManager', () => {
  it('opens a file lock manager on a directory relative to the base', async () => {
    const base = tempDir();
    const manager = openLockManager('file://.deployer', base);
    expect(manager.url).toBe(pathToFileURL(path.join(base, '.deployer')).href);
    await manager.acquire(request(stackLockKey('web', 'prod')));
    expect(readdirSync(path.join(base, '.deployer', 'locks'))).toHaveLength(1);
  });

  it('refuses a backend it does not support', () => {
    expect(() => openLockManager('consul://host/locks', tempDir())).toThrow(/unsupported lock backend URL: consul:\/\/host\/locks/);
  });
});
