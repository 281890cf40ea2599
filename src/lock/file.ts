/**
 * LockManager on a local directory, with the DynamoDB lock's semantics. A lock is one file per
 * key, created with link(2) from a fully written temporary file, so creation is atomic and a
 * reader never sees half a record. Takeover of an expired lock, renewal and release happen
 * under a short-lived guard file (O_EXCL) so that they too are compare-and-swap operations.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LockLostError } from '../errors.js';
import { readFileIfExists, withPath, writeFileAtomic } from '../util/atomic-write.js';
import { isExpired, newLock, type AcquiredLock, type AcquireRequest, type LockInfo, type LockManager } from './locker.js';
import { lockHeldError } from './unlock-hint.js';

/** A guard older than this belongs to a process that died inside a guarded step. */
const STALE_GUARD_MS = 10_000;

interface StoredLock {
  lockKey: string;
  lockId: string;
  lockedBy: string;
  lockedAt: string;
  expiresAt: string;
  metadata: Record<string, string>;
}

export class FileLockManager implements LockManager {
  readonly url: string;
  cliFlags = '';
  private readonly dir: string;

  constructor(root: string) {
    this.dir = path.join(root, 'locks');
    this.url = pathToFileURL(root).href;
  }

  private file(lockKey: string): string {
    return path.join(this.dir, `${encodeURIComponent(lockKey)}.json`);
  }

  async acquire(req: AcquireRequest): Promise<AcquiredLock> {
    await fs.mkdir(this.dir, { recursive: true });
    const lock = newLock(req, new Date());
    const file = this.file(req.lockKey);
    const tmp = `${file}.${randomBytes(6).toString('hex')}.new`;
    await fs.writeFile(tmp, serialize(lock), { flag: 'wx' }).catch(async (err: unknown) => {
      // A full disk leaves the temporary record half written: removed, and the error names the file.
      await fs.rm(tmp, { force: true });
      throw withPath(err, file);
    });
    try {
      if (await linkIfAbsent(tmp, file)) return lock;
      const outcome = await this.guarded(file, async (): Promise<{ held: LockInfo } | { expired: LockInfo | undefined }> => {
        const current = await this.read(file);
        if (current && !isExpired(current, new Date())) return { held: current };
        // Remove only the expired record just read: with no record, a fast-path acquirer may
        // have linked a fresh lock since, and removing that would let two holders in.
        if (current) await fs.rm(file, { force: true });
        if (await linkIfAbsent(tmp, file)) return { expired: current };
        return { held: (await this.read(file))! };
      });
      if ('held' in outcome) throw lockHeldError(outcome.held, this.cliFlags);
      return outcome.expired ? { ...lock, takenOverFrom: outcome.expired } : lock;
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  async renew(lockKey: string, lockId: string, ttlMs: number): Promise<LockInfo> {
    const file = this.file(lockKey);
    return this.guarded(file, async () => {
      const current = await this.read(file);
      if (!current) throw new LockLostError(lockKey, 'the lock was released or force-unlocked');
      if (current.lockId !== lockId) throw new LockLostError(lockKey, `it is now held by ${current.lockedBy} (lock id ${current.lockId})`);
      const renewed = { ...current, expiresAt: new Date(Date.now() + ttlMs) };
      await writeFileAtomic(file, serialize(renewed));
      return renewed;
    });
  }

  async release(lockKey: string, lockId: string): Promise<boolean> {
    return this.removeIf(lockKey, lockId);
  }

  async forceUnlock(lockKey: string, lockId: string): Promise<boolean> {
    return this.removeIf(lockKey, lockId);
  }

  async status(lockKey: string): Promise<LockInfo | undefined> {
    return this.read(this.file(lockKey));
  }

  async list(prefix: string): Promise<LockInfo[]> {
    const names = await fs.readdir(this.dir).catch(() => [] as string[]);
    const out: LockInfo[] = [];
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const key = decodeURIComponent(name.slice(0, -'.json'.length));
      if (!key.startsWith(prefix)) continue;
      const lock = await this.read(path.join(this.dir, name));
      if (lock) out.push(lock);
    }
    return out.sort((a, b) => a.lockKey.localeCompare(b.lockKey));
  }

  private async removeIf(lockKey: string, lockId: string): Promise<boolean> {
    const file = this.file(lockKey);
    return this.guarded(file, async () => {
      const current = await this.read(file);
      if (!current || current.lockId !== lockId) return false;
      await fs.rm(file, { force: true });
      return true;
    });
  }

  private async read(file: string): Promise<LockInfo | undefined> {
    const body = await readFileIfExists(file);
    if (body === undefined) return undefined;
    const s = JSON.parse(body.toString('utf8')) as StoredLock;
    return { ...s, lockedAt: new Date(s.lockedAt), expiresAt: new Date(s.expiresAt) };
  }

  /** Runs `fn` while holding `<file>.guard`, created exclusively; waits briefly for another holder. */
  private async guarded<T>(file: string, fn: () => Promise<T>): Promise<T> {
    const guard = `${file}.guard`;
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await fs.open(guard, 'wx');
        await handle.close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const st = await fs.stat(guard).catch(() => undefined);
        if (st && Date.now() - st.mtimeMs > STALE_GUARD_MS) await fs.rm(guard, { force: true });
        await sleep(Math.min(50, 2 + attempt) * (0.5 + Math.random()));
      }
    }
    try {
      return await fn();
    } finally {
      await fs.rm(guard, { force: true });
    }
  }
}

async function linkIfAbsent(from: string, to: string): Promise<boolean> {
  try {
    await fs.link(from, to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function serialize(lock: LockInfo): string {
  const stored: StoredLock = { ...lock, lockedAt: lock.lockedAt.toISOString(), expiresAt: lock.expiresAt.toISOString() };
  return JSON.stringify(stored, null, 2) + '\n';
}
