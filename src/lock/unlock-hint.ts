/** What a blocked run is told about the lock in its way: who holds it, whether that holder looks dead, how to break it. */
import os from 'node:os';
import { LockHeldError } from '../errors.js';
import { isAlive } from '../util/process.js';
import { isExpired, type LockInfo } from './locker.js';

/**
 * The command that breaks `lock` when its holder is dead (printed with LockHeldError);
 * `cliFlags` (e.g. `-C ../shop`) make it find the same locks from where the user is.
 */
export function unlockCommand(lock: LockInfo, cliFlags = ''): string {
  const m = /^stack:([^:]+):env:([^:]+)/.exec(lock.lockKey);
  const where = m ? ` --stack ${m[1]} -e ${m[2]}` : '';
  return `deployer lock unlock${cliFlags ? ` ${cliFlags}` : ''}${where} --force ${lock.lockId}`;
}

/**
 * Why a lock looks abandoned, if it does: its lease expired, or its holder ran on this host
 * and that process is gone. A holder on another host is never judged from here.
 */
export function staleReason(lock: LockInfo, now = new Date(), host = os.hostname()): string | undefined {
  if (isExpired(lock, now)) return `its lease expired at ${lock.expiresAt.toISOString()}; the next run takes it over`;
  if (holderIsDead(lock, host)) return `its holder (pid ${lock.metadata['pid']} on this host) is no longer running`;
  return undefined;
}

/** The holder ran on this host and its process is gone: nobody can be renewing this lease. */
export function holderIsDead(lock: LockInfo, host = os.hostname()): boolean {
  const holderHost = lock.lockedBy.slice(lock.lockedBy.lastIndexOf('@') + 1);
  const pid = Number(lock.metadata['pid']);
  return holderHost === host && Number.isInteger(pid) && pid > 0 && !isAlive(pid);
}

export function lockHeldError(holder: LockInfo, cliFlags = ''): LockHeldError {
  return new LockHeldError(holder, unlockCommand(holder, cliFlags), staleReason(holder));
}
