import type { LockInfo } from './locker.js';

/** The command that breaks `lock` when its holder is dead (printed with LockHeldError). */
export function unlockCommand(lock: LockInfo): string {
  const m = /^stack:([^:]+):env:([^:]+)/.exec(lock.lockKey);
  const where = m ? ` --stack ${m[1]} -e ${m[2]}` : '';
  return `deployer lock unlock${where} --force ${lock.lockId}`;
}
