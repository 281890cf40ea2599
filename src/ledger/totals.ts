/**
 * The totals `GET /metrics` exports (LedgerStore.deploymentTotals and rollbackTotals): the SQL
 * of both SQL stores, written once (sql-steps.ts), that groups and sums in the database, so a
 * ledger of a million records is counted without one of them read out; and the same totals
 * computed from the memory store's records. A duration is `completed - started` in seconds, to
 * the millisecond, computed by each database from the ISO times kept as text.
 */
import { InvalidInputError } from '../errors.js';
import { select, type SqlWork } from './sql-steps.js';
import type { DeploymentEvent, DeploymentTotals, RollbackEvent, RollbackTotals } from './store.js';

/** Which dialect a duration is computed in. */
export type TotalsDialect = 'sqlite' | 'postgres';

/**
 * Migration 9: the deployments' groups and times in an index of their own, so that the totals
 * read it alone, in their groups' order (SQLite then groups without sorting), never the table
 * and its metadata. Only deployments are in it: what no metric counts is not kept twice.
 */
export const TOTALS_INDEX = `CREATE INDEX IF NOT EXISTS deployments_totals ON deployments (service, environment, type, status, started, completed)
  WHERE operation = 'deploy';`;

/**
 * Migration 11: the totals index dropped, and the index the counted metrics read
 * (`deployments_by_environment`) made again with each deployment's completion in it, so that the
 * totals read that index alone. Every write kept the totals index up for the rare read of
 * `GET /metrics` (which the server caches until the ledger changes); priced at 1M events, that
 * index alone was a tenth of an ingest's time (docs/ledger.md, "Size and speed").
 */
export const TOTALS_FROM_COUNT_INDEX = `DROP INDEX deployments_totals;
DROP INDEX deployments_by_environment;
CREATE INDEX deployments_by_environment ON deployments (environment, started, operation, status, service, type, completed);
`;

/**
 * How each dialect computes a deployment's duration in seconds (NULL while it has no
 * completion), and the clause that makes the rows with it a subquery of their own: otherwise
 * both databases fold the subquery into the totals' and compute the duration again for each
 * aggregate that reads it (12 times a row with 10 buckets: 15 s for a million in PostgreSQL).
 * SQLite: julianday's difference in days, rounded to the millisecond (a double of days is off
 * by microseconds); `LIMIT -1` keeps the subquery apart.
 * PostgreSQL: the text parsed as timestamptz, the interval between them exact until cast.
 */
const DIALECT: Record<TotalsDialect, { seconds: string; apart: string }> = {
  sqlite: {
    seconds: 'ROUND((julianday(completed) - julianday(started)) * 86400000) / 1000.0',
    apart: 'LIMIT -1',
  },
  postgres: {
    seconds: 'CAST(EXTRACT(EPOCH FROM CAST(completed AS timestamptz) - CAST(started AS timestamptz)) AS DOUBLE PRECISION)',
    apart: 'OFFSET 0',
  },
};

/** Refuses a bucket bound that is not a number (Infinity is one: it counts every duration). */
export function refuseBuckets(bucketsSeconds: readonly number[]): void {
  for (const bound of bucketsSeconds) {
    if (typeof bound !== 'number' || Number.isNaN(bound))
      throw new InvalidInputError(`the duration bucket ${String(bound)} is not a number of seconds`, [
        'Give each bucket its upper bound in seconds, e.g. 30, 60, 300.',
      ]);
  }
}

/**
 * Byte order of the group's names, the same in every store (the SQL ones sort by their
 * collations otherwise); joined by NUL, which sorts before every character a name holds.
 */
function byGroup<T>(key: (t: T) => string[]): (a: T, b: T) => number {
  return (a, b) => {
    const ka = key(a).join('\u0000');
    const kb = key(b).join('\u0000');
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };
}
const deploymentOrder = byGroup<DeploymentTotals>((t) => [t.service, t.environment, t.type, t.status]);
const rollbackOrder = byGroup<RollbackTotals>((t) => [t.service, t.environment]);

/** A row of the totals' SELECT: a column per bucket (b0, b1 ...). */
type TotalsRow = Omit<DeploymentTotals, 'buckets'> & Record<`b${number}`, number>;

/**
 * The deployments (operation deploy) counted by service, environment, type and status, with
 * their durations in `bucketsSeconds` (cumulative: each counts the durations at or below it),
 * ordered by those four (byte order).
 */
export function* deploymentTotalsSql(bucketsSeconds: readonly number[], dialect: TotalsDialect): SqlWork<DeploymentTotals[]> {
  refuseBuckets(bucketsSeconds);
  const { seconds, apart } = DIALECT[dialect];
  const buckets = bucketsSeconds.map((_, i) => `, CAST(SUM(CASE WHEN seconds <= ? THEN 1 ELSE 0 END) AS INTEGER) AS b${i}`).join('');
  const rows = yield* select<TotalsRow>(
    `SELECT service, environment, type, status, CAST(COUNT(*) AS INTEGER) AS count,
       CAST(COUNT(seconds) AS INTEGER) AS "durationCount", CAST(COALESCE(SUM(seconds), 0) AS DOUBLE PRECISION) AS "durationSum"${buckets}
     FROM (SELECT service, environment, type, status, ${seconds} AS seconds FROM deployments WHERE operation = 'deploy' ${apart}) AS d
     GROUP BY service, environment, type, status`,
    bucketsSeconds,
  );
  return rows
    .map((r) => ({
      service: r.service,
      environment: r.environment,
      type: r.type,
      status: r.status,
      count: r.count,
      buckets: bucketsSeconds.map((_, i) => Number(r[`b${i}`])),
      durationCount: r.durationCount,
      durationSum: r.durationSum,
    }))
    .sort(deploymentOrder);
}

/** The rollbacks counted by service and environment, in that order (byte order). */
export function* rollbackTotalsSql(): SqlWork<RollbackTotals[]> {
  const rows = yield* select<RollbackTotals>(
    'SELECT service, environment, CAST(COUNT(*) AS INTEGER) AS count FROM rollbacks GROUP BY service, environment',
  );
  return rows.sort(rollbackOrder);
}

/** deploymentTotalsSql over the memory store's records: the same groups, counts and sums. */
export function deploymentTotalsOf(deployments: Iterable<DeploymentEvent>, bucketsSeconds: readonly number[]): DeploymentTotals[] {
  refuseBuckets(bucketsSeconds);
  const groups = new Map<string, DeploymentTotals>();
  for (const d of deployments) {
    if (d.operation) continue; // only deployments: no destroy, restart or drift
    const key = JSON.stringify([d.service, d.environment, d.type, d.status]);
    const g = groups.get(key) ?? {
      service: d.service,
      environment: d.environment,
      type: d.type,
      status: d.status,
      count: 0,
      buckets: bucketsSeconds.map(() => 0),
      durationCount: 0,
      durationSum: 0,
    };
    groups.set(key, g);
    g.count++;
    if (d.completed === null) continue;
    const seconds = (Date.parse(d.completed) - Date.parse(d.started)) / 1000;
    g.durationCount++;
    g.durationSum += seconds;
    bucketsSeconds.forEach((bound, i) => {
      if (seconds <= bound) g.buckets[i]!++;
    });
  }
  return [...groups.values()].sort(deploymentOrder);
}

/** rollbackTotalsSql over the memory store's records. */
export function rollbackTotalsOf(rollbacks: Iterable<RollbackEvent>): RollbackTotals[] {
  const groups = new Map<string, RollbackTotals>();
  for (const r of rollbacks) {
    const key = JSON.stringify([r.service, r.environment]);
    const g = groups.get(key) ?? { service: r.service, environment: r.environment, count: 0 };
    g.count++;
    groups.set(key, g);
  }
  return [...groups.values()].sort(rollbackOrder);
}
