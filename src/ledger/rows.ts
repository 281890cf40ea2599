/**
 * A ledger record as both SQL stores keep it (rows of `deployments` and `rollbacks`, the same
 * columns in SQLite and PostgreSQL) and the events they hand out.
 */
import type { CountFilter, DeploymentEvent, DeploymentTypeInfo, RollbackEvent } from './store.js';

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
  /** From migration 6 on. */
  operation?: string;
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
    // A deployment says nothing of it: so records written before the ledger kept it read as they were written.
    ...(r.operation && r.operation !== 'deploy' ? { operation: r.operation as NonNullable<DeploymentEvent['operation']> } : {}),
  };
}

/** The columns of `rollbacks` before migration 5, named as RollbackEvent's fields (quoted: PostgreSQL folds unquoted names to lower case). */
export const ROLLBACK_COLUMNS_V1 = 'id, stack, service, environment, from_version AS "fromVersion", to_version AS "toVersion", reason, at';
/** Every column of `rollbacks`; read rows through `rollbackOf`. */
export const ROLLBACK_COLUMNS = `${ROLLBACK_COLUMNS_V1}, deployment_id AS "deploymentId"`;

/** A `rollbacks` row as its event: a deployment it undid that is not known is left out, not null (so records written before it was kept read as they were written). */
export function rollbackOf(row: RollbackEvent | (Omit<RollbackEvent, 'deploymentId'> & { deploymentId?: string | null })): RollbackEvent {
  const { deploymentId, ...rest } = row;
  return deploymentId ? { ...rest, deploymentId } : rest;
}

/** The columns of `changes`, named as ChangeEvent's fields. */
export const CHANGE_COLUMNS =
  'repo, commit_sha AS "commit", committed_at AS "committedAt", recorded_at AS "recordedAt", shipped_by AS "shippedBy"';

/** A `deployment_types` row as its info; the order of the built-in ones is theirs, not the alphabet's. */
export function typeInfo(row: { name: string; description: string; builtin: number | boolean }): DeploymentTypeInfo {
  return { name: row.name, description: row.description, builtin: Boolean(row.builtin) };
}

/** A deployment row of `listForMetrics`: the columns of a deployment, and of its metadata only what metrics read. */
export interface MetricRow extends Omit<DeploymentRow, 'metadata'> {
  changes: unknown;
  commit_time: string | null;
}

/** The event of a `listForMetrics` row; `changes` arrives as JSON text (SQLite) or as data (PostgreSQL). */
export function metricDeploymentOf(r: MetricRow): DeploymentEvent {
  const changes = typeof r.changes === 'string' ? (JSON.parse(r.changes) as unknown) : r.changes;
  const metadata: Record<string, unknown> = {};
  if (changes !== null && changes !== undefined) metadata['changes'] = changes;
  if (r.commit_time !== null && r.commit_time !== undefined) metadata['commit_time'] = r.commit_time;
  return { ...deploymentOf({ ...r, metadata: '{}' }), metadata };
}

/** The query of `listForMetrics`; `metadataOf(field)` extracts one metadata field in the dialect. */
export function metricRowsQuery(
  f: Omit<CountFilter, 'until' | 'groupBy'>,
  param: (i: number) => string,
  metadataOf: { changes: string; commitTime: string },
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const p = (value: unknown): string => param(params.push(value) - 1);
  const where = [`started >= ${p(f.since)}`, `operation = 'deploy'`];
  if (f.service) where.push(`service = ${p(f.service)}`);
  if (f.environments) where.push(f.environments.length ? `environment IN (${f.environments.map(p).join(', ')})` : '1 = 0');
  return {
    sql: `SELECT id, stack, service, version, environment, type, started, completed, status, initiator, parent_id,
            ${metadataOf.changes} AS changes, ${metadataOf.commitTime} AS commit_time
          FROM deployments WHERE ${where.join(' AND ')}`,
    params,
  };
}

/** Records per chunk of a write: one upsert per chunk in PostgreSQL, the aggregates brought up to date after each. */
const CHUNK = 400;

/** Consecutive chunks of at most CHUNK records, none holding one id twice (one upsert cannot change a row twice). */
export function distinctChunks<T extends { id: string }>(records: readonly T[]): T[][] {
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let ids = new Set<string>();
  for (const r of records) {
    if (chunk.length === CHUNK || ids.has(r.id)) {
      chunks.push(chunk);
      chunk = [];
      ids = new Set();
    }
    chunk.push(r);
    ids.add(r.id);
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
