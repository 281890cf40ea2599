/**
 * Holding locks for the length of a run: take every key in sorted order (no deadlock
 * between runs that need overlapping sets), all or none; wait with backoff and jitter up to a
 * timeout; renew every TTL/3; and signal `lost` the moment a renewal fails, so the run stops
 * starting new work before somebody else could take over.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LockHeldError, LockLostError } from '../errors.js';
import type { AcquiredLock, AcquireRequest, LockInfo, LockManager } from './locker.js';
import { holderIsDead } from './unlock-hint.js';

export interface LeaseOptions {
  manager: LockManager;
  lockKeys: string[];
  ttlMs: number;
  lockedBy: string;
  metadata: Record<string, string>;
  /** How long to wait for a held lock (0: fail at once). */
  timeoutMs?: number;
  /** Called each time a wait starts on a holder. */
  onWait?: (holder: LockInfo) => void;
  /** Called after each renewal of every lock succeeded (the audit trail records it). */
  onRenew?: (locks: readonly AcquiredLock[]) => void;
  signal?: AbortSignal;
}

export interface Lease {
  readonly locks: readonly AcquiredLock[];
  /** Aborted (with a LockLostError reason) when a renewal fails. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

export async function acquireLease(options: LeaseOptions): Promise<Lease> {
  const keys = [...new Set(options.lockKeys)].sort();
  const deadline = Date.now() + (options.timeoutMs ?? 0);
  let lastHolder: string | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      return start(options, await acquireAll(options.manager, keys, options));
    } catch (err) {
      if (!(err instanceof LockHeldError) || Date.now() >= deadline || options.signal?.aborted) throw err;
      // Said once per holder, not once per attempt.
      if (err.holder.lockId !== lastHolder) options.onWait?.(err.holder);
      lastHolder = err.holder.lockId;
      const backoff = Math.min(10_000, 200 * 2 ** Math.min(attempt, 6));
      const wait = Math.min(backoff * (0.5 + Math.random()), Math.max(0, deadline - Date.now()));
      await sleep(wait);
    }
  }
}

/**
 * Acquire; when the holder is a process of this host that no longer runs (a run killed with
 * kill -9, a laptop's Ctrl-C'd terminal), break its lock at once (by its lock id, so a lock
 * that changed hands is left alone) instead of waiting out its lease.
 */
async function acquireOrReclaim(manager: LockManager, req: AcquireRequest): Promise<AcquiredLock> {
  try {
    return await manager.acquire(req);
  } catch (err) {
    if (!(err instanceof LockHeldError) || !holderIsDead(err.holder)) throw err;
    if (!(await manager.forceUnlock(req.lockKey, err.holder.lockId))) throw err;
    const lock = await manager.acquire(req);
    return { ...lock, takenOverFrom: err.holder };
  }
}

async function acquireAll(manager: LockManager, keys: string[], o: LeaseOptions): Promise<AcquiredLock[]> {
  const taken: AcquiredLock[] = [];
  try {
    for (const lockKey of keys) {
      const req: AcquireRequest = { lockKey, ttlMs: o.ttlMs, lockedBy: o.lockedBy, metadata: o.metadata };
      taken.push(await acquireOrReclaim(manager, req));
    }
    return taken;
  } catch (err) {
    await Promise.all(taken.map((l) => manager.release(l.lockKey, l.lockId).catch(() => false)));
    throw err;
  }
}

/**
 * Renewal is strictly sequential: the next one is scheduled only when the last has finished, so
 * however short the TTL or slow the backend, there is never more than one renewal in flight (and
 * never a queue of them outliving the run). Release waits for the one in flight, so a renewal can
 * never recreate what release removed. A renewal that has not answered shortly before the lease
 * would expire (another run could then take the lock) counts as failed: the lease is lost,
 * whatever the hung request does later.
 */
function start(o: LeaseOptions, locks: AcquiredLock[]): Lease {
  const lost = new AbortController();
  const period = Math.max(10, Math.floor(o.ttlMs / 3));
  let released = false;
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  // From the renewal's start (a period after the last success) to a margin before expiry.
  const answerWithinMs = Math.max(10, o.ttlMs - period - Math.min(period, 5000));
  const renewAll = async (): Promise<void> => {
    let timeout: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timeout = setTimeout(
        () =>
          reject(new LockLostError(locks[0]!.lockKey, `renewal did not answer within ${answerWithinMs} ms; another run may take the lock`)),
        answerWithinMs,
      );
      timeout.unref();
    });
    try {
      await Promise.race([Promise.all(locks.map((l) => o.manager.renew(l.lockKey, l.lockId, o.ttlMs))), hung]);
      if (!released) {
        o.onRenew?.(locks);
        schedule();
      }
    } catch (err) {
      if (released) return;
      lost.abort(err instanceof LockLostError ? err : new LockLostError(locks[0]!.lockKey, `renewal failed: ${String(err)}`));
    } finally {
      clearTimeout(timeout);
    }
  };
  const schedule = (): void => {
    timer = setTimeout(() => {
      inFlight = renewAll().finally(() => (inFlight = undefined));
    }, period);
    timer.unref();
  };
  schedule();
  return {
    locks,
    lost: lost.signal,
    async release() {
      if (released) return;
      released = true;
      clearTimeout(timer);
      await inFlight;
      await Promise.all(locks.map((l) => o.manager.release(l.lockKey, l.lockId).catch(() => false)));
    },
  };
}
