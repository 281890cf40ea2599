/**
 * The totals `GET /metrics` exports (LedgerStore.deploymentTotals and rollbackTotals). The SQL
 * stores keep the deployments' totals as counters that every write brings up to date in its
 * transaction (aggregate-writes.ts): per service, environment, type and status, how many
 * deployments have a duration in each of the ledger's buckets (DURATION_BOUNDS) and the sum of
 * their durations in milliseconds. So a ledger of a million records is totalled by reading a few
 * thousand counters, and no index is kept up for it on every write. The memory store computes
 * the same totals from its records. A duration is `completed - started`, to the millisecond.
 */
import { InvalidInputError } from '../errors.js';
import { collation, select, type Dialect, type SqlWork } from './sql-steps.js';
import type { DeploymentEvent, DeploymentTotals, RollbackEvent, RollbackTotals } from './store.js';

/**
 * Migration 9: the deployments' groups and times in an index of their own, so that the totals
 * read it alone, never the table and its metadata (dropped by migration 11).
 */
export const TOTALS_INDEX = `CREATE INDEX IF NOT EXISTS deployments_totals ON deployments (service, environment, type, status, started, completed)
  WHERE operation = 'deploy';`;

/** The bounds, in seconds, of the buckets the ledger counts durations in: what `GET /metrics` exports. */
export const DURATION_BOUNDS: readonly number[] = [5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];

/** The bucket of a deployment without a duration (not completed). */
const NO_DURATION = -1;

/**
 * A deployment's duration in whole milliseconds, or null while it has no completion (or a time
 * that is not one: counted as the SQL of old counted it, without a duration). Every write and
 * migration 11's backfill compute it here, so a record is taken out of the bucket it was put in.
 */
export function durationMsOf(d: Pick<DeploymentEvent, 'started' | 'completed'>): number | null {
  if (d.completed === null || d.completed === undefined) return null;
  const ms = Date.parse(d.completed) - Date.parse(d.started);
  return Number.isFinite(ms) ? ms : null;
}

/** The bucket a duration is counted in: the first bound at or above it, one past the last bound above them all. */
export function durationBucketOf(ms: number | null): number {
  if (ms === null) return NO_DURATION;
  const i = DURATION_BOUNDS.findIndex((bound) => ms <= bound * 1000);
  return i === -1 ? DURATION_BOUNDS.length : i;
}

/**
 * Migration 11: the totals kept as counters (`deployment_durations`; `backfillDurations` counts
 * every deployment recorded before it), and the totals index dropped: every write kept that index up for
 * the rare read of `GET /metrics`, and it was a tenth of the time of a large import (docs/ledger.md).
 */
export function durationCountersSchema(dialect: Dialect): string {
  const c = collation(dialect);
  return `
CREATE TABLE deployment_durations (
  service TEXT${c} NOT NULL, environment TEXT${c} NOT NULL, type TEXT${c} NOT NULL, status TEXT${c} NOT NULL, bucket INTEGER NOT NULL,
  count INTEGER NOT NULL, duration_ms BIGINT NOT NULL,
  PRIMARY KEY (service, environment, type, status, bucket)
);
DROP INDEX deployments_totals;
`;
}

/**
 * Refuses a bound the ledger does not count at: a number of seconds that is not one of
 * DURATION_BOUNDS (Infinity counts every duration, so it is one too).
 */
export function refuseBuckets(bucketsSeconds: readonly number[]): void {
  for (const bound of bucketsSeconds) {
    if (typeof bound !== 'number' || Number.isNaN(bound))
      throw new InvalidInputError(`the duration bucket ${String(bound)} is not a number of seconds`, [
        `Give each bucket its upper bound in seconds, one of ${DURATION_BOUNDS.join(', ')} or Infinity.`,
      ]);
    if (bound !== Infinity && !DURATION_BOUNDS.includes(bound))
      throw new InvalidInputError(`the ledger does not count durations at ${bound} s`, [
        `It counts them at ${DURATION_BOUNDS.join(', ')} s and Infinity: ask for those.`,
      ]);
  }
}

/** The cumulative count of each bound from counts per bucket (the one of each deployment's duration). */
function cumulative(perBucket: ReadonlyMap<number, number>, bucketsSeconds: readonly number[]): number[] {
  return bucketsSeconds.map((bound) => {
    const last = bound === Infinity ? DURATION_BOUNDS.length : DURATION_BOUNDS.indexOf(bound);
    let n = 0;
    for (const [bucket, count] of perBucket) if (bucket !== NO_DURATION && bucket <= last) n += count;
    return n;
  });
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

/** A group being totalled: its counts per bucket and the sum of its durations. */
interface Group {
  service: string;
  environment: string;
  type: DeploymentTotals['type'];
  status: DeploymentTotals['status'];
  perBucket: Map<number, number>;
  durationMs: number;
}

/** The groups as DeploymentTotals (those left with no deployment dropped), in their byte order. */
function totalsOf(groups: Iterable<Group>, bucketsSeconds: readonly number[]): DeploymentTotals[] {
  const totals: DeploymentTotals[] = [];
  for (const g of groups) {
    const counts = [...g.perBucket.entries()];
    const count = counts.reduce((n, [, c]) => n + c, 0);
    if (count === 0) continue;
    totals.push({
      service: g.service,
      environment: g.environment,
      type: g.type,
      status: g.status,
      count,
      buckets: cumulative(g.perBucket, bucketsSeconds),
      durationCount: count - (g.perBucket.get(NO_DURATION) ?? 0),
      durationSum: g.durationMs / 1000,
    });
  }
  return totals.sort(deploymentOrder);
}

/** Adds `count` deployments of `bucket`, and `ms` to the durations, to the group `names` are in. */
function addToGroup(
  groups: Map<string, Group>,
  names: Pick<Group, 'service' | 'environment' | 'type' | 'status'>,
  bucket: number,
  count: number,
  ms: number,
): void {
  const { service, environment, type, status } = names;
  const key = [service, environment, type, status].join('\u0000');
  let g = groups.get(key);
  if (!g) groups.set(key, (g = { service, environment, type, status, perBucket: new Map(), durationMs: 0 }));
  g.perBucket.set(bucket, (g.perBucket.get(bucket) ?? 0) + count);
  g.durationMs += ms;
}

/**
 * The deployments (operation deploy) counted by service, environment, type and status, with
 * their durations in `bucketsSeconds` (cumulative: each counts the durations at or below it),
 * ordered by those four (byte order), from the counters alone.
 */
export function* deploymentTotalsSql(bucketsSeconds: readonly number[]): SqlWork<DeploymentTotals[]> {
  refuseBuckets(bucketsSeconds);
  type Row = Omit<Group, 'perBucket' | 'durationMs'> & { bucket: number; count: number; duration_ms: number | string };
  const rows = yield* select<Row>(
    'SELECT service, environment, type, status, bucket, count, duration_ms FROM deployment_durations WHERE count <> 0',
  );
  const groups = new Map<string, Group>();
  // PostgreSQL hands a BIGINT back as text.
  for (const r of rows) addToGroup(groups, r, r.bucket, Number(r.count), Number(r.duration_ms));
  return totalsOf(groups.values(), bucketsSeconds);
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
  const groups = new Map<string, Group>();
  for (const d of deployments) {
    if (d.operation) continue; // only deployments: no destroy, restart or drift
    const ms = durationMsOf(d);
    addToGroup(groups, d, durationBucketOf(ms), 1, ms ?? 0);
  }
  return totalsOf(groups.values(), bucketsSeconds);
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
