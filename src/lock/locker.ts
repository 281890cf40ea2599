import { randomUUID } from 'node:crypto';
import type { LockHolder } from '../errors.js';

/** A lock record as stored (the same fields in every backend; DynamoDB keeps times in epoch seconds). */
export type LockInfo = LockHolder;

/** What `acquire` returns: the new lock, and the expired one it replaced, if it took one over. */
export type AcquiredLock = LockInfo & { takenOverFrom?: LockInfo };

export interface AcquireRequest {
  lockKey: string;
  /** How long the lease lasts without renewal. */
  ttlMs: number;
  /** `user@host` of the taker. */
  lockedBy: string;
  /** deployment_id, git_commit, ci_run_id, operation, pid ... */
  metadata: Record<string, string>;
}

/**
 * A lease-based lock on a key such as `stack:{s}:env:{e}`.
 *
 * Contract (checked by `locker.contract.ts` against every implementation):
 * - `acquire` is atomic: it takes the key when it is free or when the stored lock has
 *   expired (an expired lock is taken over in the same step), with a fresh `lockId`.
 *   Otherwise it throws LockHeldError carrying the current holder. It never waits. After a
 *   takeover, the result names the expired lock in `takenOverFrom` (its holder likely died).
 * - `renew` and `release` act only when the stored `lockId` is the caller's: renewing a lock
 *   that is gone or was taken over throws LockLostError; releasing it returns false.
 * - `forceUnlock(lockKey, lockId)` removes the lock only if it still has that `lockId`
 *   (so an operator never breaks a lock that changed hands meanwhile); it returns false otherwise.
 * - `status` and `list` read without changing anything; expired locks are still listed.
 */
export interface LockManager {
  /** Where the locks are, for messages. */
  readonly url: string;
  /**
   * The flags that point a deployer command, run where the user is, at these locks (e.g.
   * `-C ../shop`): the unlock command printed with LockHeldError must work as printed.
   */
  cliFlags: string;
  acquire(request: AcquireRequest): Promise<AcquiredLock>;
  renew(lockKey: string, lockId: string, ttlMs: number): Promise<LockInfo>;
  release(lockKey: string, lockId: string): Promise<boolean>;
  forceUnlock(lockKey: string, lockId: string): Promise<boolean>;
  status(lockKey: string): Promise<LockInfo | undefined>;
  /** Locks whose key starts with `prefix`. */
  list(prefix: string): Promise<LockInfo[]>;
}

/** Lock keys as DESIGN.md defines them: stack level (the default)... */
export function stackLockKey(stack: string, env: string): string {
  return `stack:${stack}:env:${env}`;
}

/** ...service level... */
export function serviceLockKey(stack: string, env: string, service: string): string {
  return `${stackLockKey(stack, env)}:service:${service}`;
}

/** ...and component level (`id` is `<service>/<component>`). */
export function componentLockKey(stack: string, env: string, id: string): string {
  return `${stackLockKey(stack, env)}:component:${id}`;
}

/** Held only while one state write re-reads and merges, when runs lock services or components. */
export function stateLockKey(stack: string, env: string): string {
  return `${stackLockKey(stack, env)}:state`;
}

export function isExpired(lock: LockInfo, now: Date): boolean {
  return lock.expiresAt.getTime() <= now.getTime();
}

/** The record a successful `acquire` stores: a fresh lock id, leased for `ttlMs` from `now`. */
export function newLock(req: AcquireRequest, now: Date): LockInfo {
  return {
    lockKey: req.lockKey,
    lockId: randomUUID(),
    lockedBy: req.lockedBy,
    lockedAt: now,
    expiresAt: new Date(now.getTime() + req.ttlMs),
    metadata: { ...req.metadata },
  };
}
