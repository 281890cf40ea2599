/**
 * ledger/: the record of every deployment and rollback (SQLite by default, at
 * DEPLOY_LEDGER_DB or `.deployer/ledger.db`; PostgreSQL when that is a postgres:// URL), from
 * which delivery metrics are computed.
 */
import path from 'node:path';
import { PostgresLedger } from './postgres.js';

export { redactedUrl } from './postgres.js';
import { SqliteLedger } from './sqlite.js';
import type { LedgerStore } from './store.js';

export type {
  LedgerStore,
  ChangeEvent,
  CountFilter,
  StatusCount,
  DeploymentEvent,
  RollbackEvent,
  DeploymentFilter,
  RollbackFilter,
  DeploymentType,
  DeploymentStatus,
} from './store.js';
export { DEPLOYMENT_STATUSES, DEPLOYMENT_TYPES, DRIFT_TYPE, type LedgerBatch } from './store.js';
export { externalDeployment, externalRollback, isoTime, oneOf, type DeploymentFlags, type RollbackFlags } from './external.js';

/** Whether `location` names a PostgreSQL ledger rather than an SQLite file. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//.test(location);
}

/**
 * The ledger at `location`: a `postgres://` (or `postgresql://`) URL, connected and migrated on
 * first use (an unreachable server rejects that use), or a file path, relative to the current
 * directory, opened at once (an unopenable file throws here). Close it when done.
 */
export function openLedger(location: string): LedgerStore {
  return isPostgresUrl(location) ? new PostgresLedger(location) : new SqliteLedger(path.resolve(location));
}
