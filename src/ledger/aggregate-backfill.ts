/**
 * The backfills of the aggregates of aggregate-writes.ts, computed for every record written
 * before them a few hundred records at a time, by the same code as every write: migration 7's
 * (counts, samples, failures, then the first restore of every failure found) and migration 11's
 * (the totals' counters).
 */
import {
  AggregateDeltas,
  recomputeRecoveries,
  ROWS_PER_STATEMENT,
  storeDeltas,
  updateAggregates,
  type WrittenChunk,
} from './aggregate-writes.js';
import { deploymentOf, rollbackOf, ROLLBACK_COLUMNS, type DeploymentRow } from './rows.js';
import { pageAfter, select, type SqlWork } from './sql-steps.js';
import type { RollbackEvent } from './store.js';

/** Finds the first restore of every failure again (after a backfill that wrote records with `recover: false`), a few hundred at a time. */
export function* recoverAll(): SqlWork<void> {
  let after: string | null = null;
  for (;;) {
    const page = pageAfter('deployment_id', after);
    const rows: Array<{ deployment_id: string }> = yield* select(
      `SELECT deployment_id FROM failures WHERE ${page.where} ORDER BY deployment_id LIMIT ${ROWS_PER_STATEMENT}`,
      page.params,
    );
    if (rows.length === 0) return;
    const deltas = new AggregateDeltas();
    yield* recomputeRecoveries(
      rows.map((r) => r.deployment_id),
      deltas,
    );
    yield* storeDeltas(deltas);
    after = rows.at(-1)!.deployment_id;
  }
}

/** Migration 7's backfill: the aggregates of every record written before it, a few hundred records at a time (the totals' counters come with migration 11, which counts them itself). */
export function* backfillAggregates(): SqlWork<void> {
  const deltas = new AggregateDeltas(false);
  for (const table of ['deployments', 'rollbacks'] as const) {
    let after: string | null = null;
    for (;;) {
      const columns = table === 'deployments' ? '*' : ROLLBACK_COLUMNS;
      const page = pageAfter('id', after);
      const rows: Array<DeploymentRow & RollbackEvent> = yield* select(
        `SELECT ${columns} FROM ${table} WHERE ${page.where} ORDER BY id LIMIT ${ROWS_PER_STATEMENT}`,
        page.params,
      );
      if (rows.length === 0) break;
      const chunk: WrittenChunk =
        table === 'deployments'
          ? { deployments: rows.map((r) => ({ before: undefined, after: deploymentOf(r) })), rollbacks: [] }
          : { deployments: [], rollbacks: rows.map((r) => ({ before: undefined, after: rollbackOf(r) })) };
      yield* updateAggregates(chunk, deltas, false);
      after = rows.at(-1)!.id;
    }
  }
  yield* storeDeltas(deltas);
  yield* recoverAll();
}

/** Migration 11's backfill: every deployment recorded before it counted in the totals' counters. */
export function* backfillDurations(): SqlWork<void> {
  const deltas = new AggregateDeltas();
  let after: string | null = null;
  for (;;) {
    const page = pageAfter('id', after);
    const rows: DeploymentRow[] = yield* select(
      `SELECT id, service, environment, type, status, started, completed, operation FROM deployments
       WHERE ${page.where} AND operation = 'deploy' ORDER BY id LIMIT ${ROWS_PER_STATEMENT}`,
      page.params,
    );
    if (rows.length === 0) break;
    for (const r of rows) deltas.duration(deploymentOf({ ...r, metadata: '{}' }), +1);
    after = rows.at(-1)!.id;
  }
  yield* storeDeltas(deltas);
}
