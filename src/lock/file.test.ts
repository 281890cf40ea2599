import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { LockHeldError } from '../errors.js';
import { FileLockManager } from './file.js';
import { openLockManager } from './index.js';
import { lockManagerContract, rejection, request } from './locker.contract.js';
import { stackLockKey } from './locker.js';
import { useTempDirs } from '../../test/helpers/tmp.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
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
  const compiled = ['lock/file', 'lock/locker', 'lock/unlock-hint', 'util/atomic-write', 'errors'];

  beforeAll(() => {
    // The racers run the compiled code (`npm run build`); refuse to test a stale copy of it.
    for (const m of compiled) {
      const js = path.join(repoRoot, 'dist', `${m}.js`);
      const ts = path.join(repoRoot, 'src', `${m}.ts`);
      if (!existsSync(js) || statSync(js).mtimeMs < statSync(ts).mtimeMs) {
        throw new Error(`dist/${m}.js is missing or older than src/${m}.ts: run \`npm run build\` first`);
      }
    }
  });

  it('never lets two of 4 processes hold the lock at once over 500 acquisitions', async () => {
    const root = tempDir();
    const journal = path.join(root, 'journal.ndjson');
    const processes = 4;
    const each = 125;
    const racer = path.join(repoRoot, 'test', 'helpers', 'lock-racer.mjs');
    const children = Array.from({ length: processes }, () =>
      spawn(process.execPath, [racer, root, journal, String(each), '1000'], { stdio: ['pipe', 'pipe', 'pipe'] }),
    );
    const stderr: string[] = [];
    const exits = children.map(
      (child) =>
        new Promise<number | null>((resolve) => {
          child.stderr.on('data', (d: Buffer) => stderr.push(d.toString()));
          child.on('exit', (code) => resolve(code));
        }),
    );
    // Start them together, once every one has loaded.
    await Promise.all(children.map((child) => new Promise((resolve) => child.stdout.once('data', resolve))));
    for (const child of children) child.stdin.end('go\n');
    const codes = await Promise.all(exits);
    expect(stderr.join('')).toBe('');
    expect(codes).toEqual(Array(processes).fill(0));

    const entries = readFileSync(journal, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { pid: number; lockId: string; start: string; end: string; expired: boolean; released: boolean })
      .map((e) => ({ ...e, start: BigInt(e.start), end: BigInt(e.end) }))
      .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    expect(entries).toHaveLength(processes * each);
    expect(new Set(entries.map((e) => e.pid)).size).toBe(processes);
    expect(new Set(entries.map((e) => e.lockId)).size).toBe(processes * each);
    // The test is only meaningful if no hold outlived its lease.
    expect(entries.filter((e) => e.expired)).toEqual([]);
    const overlaps: string[] = [];
    for (let i = 1; i < entries.length; i++) {
      const prev = entries[i - 1]!;
      const cur = entries[i]!;
      if (cur.start < prev.end) overlaps.push(`${prev.pid}/${prev.lockId} and ${cur.pid}/${cur.lockId}`);
    }
    expect(overlaps).toEqual([]);
    // Nobody removed a lock they did not hold: every holder released its own.
    expect(entries.filter((e) => !e.released)).toEqual([]);
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
