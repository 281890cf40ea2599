/**
 * The aggregates counted again from the records (`ledger verify --aggregates`, `ledger recount`).
 * Every write keeps them true in its own transaction, but a writer that does not know them (a
 * deployer older than the migration that added them, which had the ledger open while another
 * process migrated it) writes records and leaves them as they were; nothing else finds that.
 * The recount empties them and runs the backfills every migration runs (the same code as every
 * write), then says, table by table, how many rows differ from what was kept. Written once for
 * both SQL stores; the store decides whether the recount is kept or rolled back.
 */
import { backfillAggregates, backfillDurations } from './aggregate-backfill.js';
import { execute, select, type SqlWork } from './sql-steps.js';
import type { AggregateDifference } from './store.js';

/**
 * The aggregate tables, each with what makes one of its rows count: a counter at zero (a record
 * counted, then no longer) is the same as no row, so it never reads as a difference.
 */
const AGGREGATE_TABLES: ReadonlyArray<{ table: AggregateDifference['table']; key: string; live: string }> = [
  { table: 'metric_counts', key: 'environment, month, service, type, status', live: 'count <> 0' },
  { table: 'metric_bins', key: 'metric, service, environment, month, bin', live: 'count <> 0' },
  { table: 'metric_bins_all_services', key: 'metric, environment, month, bin', live: 'count <> 0' },
  // A sample is the deployment's n-th of its metric: one whose bin or time changed is one row that differs.
  { table: 'metric_samples', key: 'metric, deployment_id, n', live: '1 = 1' },
  { table: 'failures', key: 'deployment_id', live: '1 = 1' },
  { table: 'deployment_durations', key: 'service, environment, type, status, bucket', live: 'count <> 0 OR duration_ms <> 0' },
];

/** The kept copy of `table` while it is counted again. */
const keptCopy = (table: string): string => `kept_${table}`;

/**
 * Counts every aggregate again from the records, in the caller's write transaction, and returns
 * how many rows of each table differ from what was kept: keys only one side has, or has with
 * other values (a counter that should read 2 and read 1 is one row).
 */
export function* recountAggregates(): SqlWork<AggregateDifference[]> {
  for (const { table, live } of AGGREGATE_TABLES) {
    yield* execute(`CREATE TEMP TABLE ${keptCopy(table)} AS SELECT * FROM ${table} WHERE ${live}`);
    yield* execute(`DELETE FROM ${table}`);
  }
  yield* backfillAggregates();
  yield* backfillDurations();
  const differences: AggregateDifference[] = [];
  for (const { table, key, live } of AGGREGATE_TABLES) {
    const now = `SELECT * FROM ${table} WHERE ${live}`;
    const kept = `SELECT * FROM ${keptCopy(table)}`;
    // UNION, not UNION ALL: a key on both sides with other values is one row that differs.
    const [row] = yield* select<{ rows: number | string }>(
      `SELECT COUNT(*) AS rows FROM (SELECT ${key} FROM (${now} EXCEPT ${kept}) AS added UNION SELECT ${key} FROM (${kept} EXCEPT ${now}) AS gone) AS differing`,
    );
    differences.push({ table, differingRows: Number(row?.rows ?? 0) });
    yield* execute(`DROP TABLE ${keptCopy(table)}`);
  }
  // Kept, the recount changes what metrics read: the ledger's revision says so (cached answers are not reused).
  yield* execute('UPDATE ledger_head SET recounts = recounts + 1 WHERE id = 1');
  return differences;
}

/** What the ledger is at (LedgerStore.revision): its chain's head, and how many recounts were kept. */
export const revisionOf = (head: { rows: number; hash: string; recounts: number }): string => `${head.rows}:${head.hash}:${head.recounts}`;
