/**
 * A ledger record as both SQL stores keep it (rows of `deployments` and `rollbacks`, the same
 * columns in SQLite and PostgreSQL) and the events they hand out.
 */
import type { DeploymentEvent } from './store.js';

/** A row of `deployments`: metadata as JSON text. */
export interface DeploymentRow {
  id: string;
  stack: string;
  service: string;
  version: string;
  environment: string;
  type: DeploymentEvent['type'];
  started: string;
  completed: string | null;
  status: DeploymentEvent['status'];
  initiator: string;
  metadata: string;
  parent_id: string | null;
}

/** The event a `deployments` row holds. */
export function deploymentOf(r: DeploymentRow): DeploymentEvent {
  return {
    id: r.id,
    stack: r.stack,
    service: r.service,
    version: r.version,
    environment: r.environment,
    type: r.type,
    started: r.started,
    completed: r.completed,
    status: r.status,
    initiator: r.initiator,
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
    parentId: r.parent_id,
  };
}

/** The columns of `rollbacks`, named as RollbackEvent's fields (quoted: PostgreSQL folds unquoted names to lower case). */
export const ROLLBACK_COLUMNS = 'id, stack, service, environment, from_version AS "fromVersion", to_version AS "toVersion", reason, at';
