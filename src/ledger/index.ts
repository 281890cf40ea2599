/**
 * ledger/: the record of every deployment and rollback (SQLite by default, at
 * DEPLOY_LEDGER_DB or `.deployer/ledger.db`), from which delivery metrics are computed.
 */
import path from 'node:path';
import { InvalidInputError } from '../errors.js';
import { SqliteLedger } from './sqlite.js';
import type { LedgerStore } from './store.js';

export type {
  LedgerStore,
  DeploymentEvent,
  RollbackEvent,
  DeploymentFilter,
  RollbackFilter,
  DeploymentType,
  DeploymentStatus,
} from './store.js';
export { DEPLOYMENT_STATUSES, DEPLOYMENT_TYPES } from './store.js';
export { externalDeployment, externalRollback, isoTime, oneOf, type DeploymentFlags, type RollbackFlags } from './external.js';

/**
 * The ledger at `location` (a file path, relative to the current directory), opened at once:
 * an unopenable file throws here. Its methods are asynchronous; close it when done.
 */
export function openLedger(location: string): LedgerStore {
  if (/^postgres(ql)?:\/\//.test(location)) {
    throw new InvalidInputError('a PostgreSQL ledger is not available yet in this version of deployer', [
      'unset DEPLOY_LEDGER_DB to use the SQLite ledger',
    ]);
  }
  return new SqliteLedger(path.resolve(location));
}
