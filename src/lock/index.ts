/**
 * lock/: leased locks on stack/service/component keys (LockManager), chosen by URL.
 * `file://` is the default; `dynamodb://` for teams.
 */
import os from 'node:os';
import { InvalidInputError } from '../errors.js';
import { backendFlags } from '../util/cli-flags.js';
import { fileUrlToDir } from '../util/file-url.js';
import { DynamoDbLockManager, parseDynamoDbUrl } from './dynamodb.js';
import { FileLockManager } from './file.js';
import type { LockManager } from './locker.js';

export type { LockManager, LockInfo, AcquiredLock, AcquireRequest } from './locker.js';
export { stackLockKey, serviceLockKey, componentLockKey, stateLockKey, isExpired } from './locker.js';
export { acquireLease, type Lease, type LeaseOptions } from './lease.js';
export { unlockCommand, staleReason } from './unlock-hint.js';

/** `baseDir` is the stack directory: relative `file://` URLs are inside it. */
export function openLockManager(url: string, baseDir: string, cwd = process.cwd()): LockManager {
  const manager = openManager(url, baseDir);
  manager.cliFlags = backendFlags('--lock-url', url, baseDir, cwd);
  return manager;
}

function openManager(url: string, baseDir: string): LockManager {
  if (url.startsWith('file://') || !url.includes('://')) {
    return new FileLockManager(fileUrlToDir(url, baseDir));
  }
  if (url.startsWith('dynamodb://')) return new DynamoDbLockManager(parseDynamoDbUrl(url));
  throw new InvalidInputError(`unsupported lock backend URL: ${url}`, [
    'supported: file://<dir> (relative to the stack directory), dynamodb://<table>?region=<region>[&endpoint=<url>]',
  ]);
}

/** `user@host`, as lock records and the ledger name who ran something (DEPLOYER_INITIATOR overrides). */
export function whoAmI(): string {
  // CI systems can name the runner (e.g. DEPLOYER_INITIATOR=ci@runner-7).
  const named = process.env['DEPLOYER_INITIATOR'];
  if (named) return named;
  let user = process.env['USER'] ?? process.env['LOGNAME'];
  if (!user) {
    try {
      user = os.userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  return `${user}@${os.hostname()}`;
}
