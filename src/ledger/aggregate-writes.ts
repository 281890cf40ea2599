/**
 * Keeping the aggregates of aggregates.ts true as records are written: after a chunk of records
 * is upserted, in the same transaction, what each record contributed before is taken away and
 * what it contributes now is added (status counts, lead-time samples), and every failure whose
 * first restore may have moved (a new failure, or a restore added or taken away in its service
 * and environment) has its recovery time found again. Written once for both SQL stores
 * (sql-steps.ts); the tables are aggregate-schema.ts's.
 */
import {
  countKeyOf,
  failureOf,
  leadSamplesOf,
  monthOf,
  recoverySampleOf,
  restoreOf,
  rollbackRestoreOf,
  type AggregateInput,
  type Failure,
  type Sample,
} from './aggregates.js';
import { execute, insertRows, placeholders, select, type SqlColumn, type SqlWork } from './sql-steps.js';
import { durationBucketOf, durationMsOf } from './totals.js';
import type { RollbackEvent } from './store.js';

/** What one chunk of a write changed: each record as it was before (undefined: new) and as it is now; no id twice. */
export interface WrittenChunk {
  deployments: ReadonlyArray<{ before: AggregateInput | undefined; after: AggregateInput }>;
  rollbacks: ReadonlyArray<{ before: RollbackEvent | undefined; after: RollbackEvent }>;
}

const COUNT_COLUMNS: readonly SqlColumn[] = [
  ['environment', 'text'],
  ['month', 'text'],
  ['service', 'text'],
  ['type', 'text'],
  ['status', 'text'],
];
const DURATION_COLUMNS: readonly SqlColumn[] = [
  ['service', 'text'],
  ['environment', 'text'],
  ['type', 'text'],
  ['status', 'text'],
  ['bucket', 'integer'],
];
const BIN_COLUMNS: readonly SqlColumn[] = [
  ['metric', 'text'],
  ['service', 'text'],
  ['environment', 'text'],
  ['month', 'text'],
  ['bin', 'integer'],
];
const ALL_SERVICES_BIN_COLUMNS = BIN_COLUMNS.filter(([name]) => name !== 'service');

/** A table of counters: the columns of its key, then those it adds up (`count` first), in the order of a counter's `sums`. */
interface CounterTable {
  table: string;
  key: readonly SqlColumn[];
  sums: readonly SqlColumn[];
}
const COUNT_SUM: readonly SqlColumn[] = [['count', 'integer']];
const COUNTS: CounterTable = { table: 'metric_counts', key: COUNT_COLUMNS, sums: COUNT_SUM };
/** Each service's bins. */
const BINS: CounterTable = { table: 'metric_bins', key: BIN_COLUMNS, sums: COUNT_SUM };
/** The bins of every service (migration 14). */
const ALL_SERVICES_BINS: CounterTable = { table: 'metric_bins_all_services', key: ALL_SERVICES_BIN_COLUMNS, sums: COUNT_SUM };
/** The totals' counters (migration 11): a count and a sum of milliseconds per group and bucket. */
const DURATIONS: CounterTable = { table: 'deployment_durations', key: DURATION_COLUMNS, sums: [...COUNT_SUM, ['duration_ms', 'bigint']] };
/**
 * Every counter table a write adds to, in the order they are written: the same in every write,
 * so concurrent PostgreSQL writers lock their rows in one order.
 */
const COUNTER_TABLES = [COUNTS, BINS, ALL_SERVICES_BINS, DURATIONS];
const noCounters = (): Map<CounterTable, Counters> => new Map(COUNTER_TABLES.map((t) => [t, new Map()]));

/** Counters by key: the key's values, and what is added to the counter (its count, then any sums it keeps). */
type Counters = Map<string, { values: unknown[]; sums: number[] }>;

/** Rows per multi-row statement: well below either database's limit on parameters. */
export const ROWS_PER_STATEMENT = 400;

/**
 * The additions to the counters of a write, by key, gathered over all its chunks (a counter
 * many records touch is written once) and stored by `storeDeltas` before the write commits.
 */
export class AggregateDeltas {
  /** The additions to each counter table, by key: every table a write adds to is in COUNTER_TABLES. */
  private pending = noCounters();

  /** `keepsDurations: false`: a ledger below migration 11 (the backfill of migration 7) has no totals' counters to keep. */
  constructor(private readonly keepsDurations = true) {}

  /** Adds `sums` (a count, then any sums the counter keeps) to `table`'s counter of `values`. */
  private add(table: CounterTable, values: unknown[], ...sums: number[]): void {
    const map = this.pending.get(table)!;
    const key = values.join('\u0000');
    const entry = map.get(key);
    if (entry) sums.forEach((v, i) => (entry.sums[i]! += v));
    else map.set(key, { values, sums });
  }

  /** How many counters it would write: stored before it grows large. */
  get size(): number {
    let size = 0;
    for (const counters of this.pending.values()) size += counters.size;
    return size;
  }

  /** Each table's gathered additions, forgotten here. */
  take(): Array<[CounterTable, Counters]> {
    const taken = [...this.pending];
    this.pending = noCounters();
    return taken;
  }

  /** A deployment counted (+1) or no longer counted (-1) by status, and in the totals by its duration. */
  count(d: AggregateInput | undefined, delta: number): void {
    const k = d && countKeyOf(d);
    if (!k) return;
    this.add(COUNTS, [k.environment, k.month, k.service, k.type, k.status], delta);
    if (this.keepsDurations) this.addDuration(d, delta);
  }

  /** A deployment counted (+1) or no longer counted (-1) in the totals, by its duration (migration 11's backfill). */
  duration(d: AggregateInput, delta: number): void {
    if (countKeyOf(d) !== undefined) this.addDuration(d, delta);
  }

  /** `d`, which the totals count, added to its group's bucket with its milliseconds. */
  private addDuration(d: AggregateInput, delta: number): void {
    const ms = durationMsOf(d);
    this.add(DURATIONS, [d.service, d.environment, d.type, d.status, durationBucketOf(ms)], delta, delta * (ms ?? 0));
  }

  /** A sample counted in its bin, for every service and for its own. */
  sample(s: Sample, delta: number): void {
    const month = monthOf(s.started);
    this.add(ALL_SERVICES_BINS, [s.metric, s.environment, month, s.bin], delta);
    this.add(BINS, [s.metric, s.service, s.environment, month, s.bin], delta);
  }
}

/** The counters of `deltas` added to `t`'s. A counter left unchanged is not written. */
function* upsertCounters(t: CounterTable, deltas: Counters): SqlWork<void> {
  const rows = [...deltas.values()].filter((d) => d.sums.some((v) => v !== 0)).map((d) => [...d.values, ...d.sums]);
  const key = t.key.map(([name]) => name).join(', ');
  const set = t.sums.map(([name]) => `${name} = ${t.table}.${name} + excluded.${name}`).join(', ');
  yield* insertRows(t.table, [...t.key, ...t.sums], rows, `ON CONFLICT (${key}) DO UPDATE SET ${set}`);
}

const SAMPLE_COLUMNS: readonly SqlColumn[] = [
  ['metric', 'text'],
  ['deployment_id', 'text'],
  ['n', 'integer'],
  ['started', 'text'],
  ['environment', 'text'],
  ['service', 'text'],
  ['bin', 'integer'],
  ['seconds', 'double precision'],
];

function* insertSamples(samples: readonly Sample[]): SqlWork<void> {
  const rows = samples.map((s) => [s.metric, s.deploymentId, s.n, s.started, s.environment, s.service, s.bin, s.seconds]);
  yield* insertRows('metric_samples', SAMPLE_COLUMNS, rows);
}

/** Each sample of `samples` taken away, found by its whole key (migration 12: the table is kept in that key's order). */
function* deleteSamples(samples: readonly Sample[]): SqlWork<void> {
  for (let i = 0; i < samples.length; i += ROWS_PER_STATEMENT) {
    const part = samples.slice(i, i + ROWS_PER_STATEMENT);
    // CAST: PostgreSQL types the VALUES of untyped parameters as text.
    const values = part.map(() => '(?, CAST(? AS INTEGER), ?, ?, ?, ?, CAST(? AS INTEGER))').join(', ');
    yield* execute(
      `DELETE FROM metric_samples WHERE (metric, bin, started, environment, service, deployment_id, n) IN (VALUES ${values})`,
      part.flatMap((s) => [s.metric, s.bin, s.started, s.environment, s.service, s.deploymentId, s.n]),
    );
  }
}

/**
 * Whether two facts of a record (its samples, its failure, its restore) are the same. Most
 * writes record something new, which had none: that is answered without serializing either.
 */
const sameSamples = (a: readonly Sample[], b: readonly Sample[]): boolean =>
  a.length === b.length && (a.length === 0 || JSON.stringify(a) === JSON.stringify(b));
const same = (a: object | undefined, b: object | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b));

/** A row of `failures`. */
interface FailureRow {
  deployment_id: string;
  service: string;
  environment: string;
  started: string;
  failed_at: string;
  restored_at: string | null;
}

const failureOfRow = (r: FailureRow): Failure => ({
  deploymentId: r.deployment_id,
  service: r.service,
  environment: r.environment,
  started: r.started,
  failedAt: r.failed_at,
});

/**
 * Updates the aggregates for a chunk just written. `recover: false` leaves finding restores to
 * a later `recomputeRecoveries` of every failure (the backfill of migration 7 does that once).
 */
export function* updateAggregates(chunk: WrittenChunk, deltas: AggregateDeltas, recover = true): SqlWork<void> {
  const samplesGone: Sample[] = [];
  const samplesNew: Sample[] = [];
  const failuresGone: string[] = [];
  const failuresNew: Failure[] = [];
  // The earliest restore added or taken away, per service and environment.
  const moved = new Map<string, { service: string; environment: string; at: string }>();
  const restoreMoved = (r: { service: string; environment: string; at: string } | undefined): void => {
    if (!r) return;
    const key = JSON.stringify([r.service, r.environment]);
    const was = moved.get(key);
    if (!was || r.at < was.at) moved.set(key, r);
  };

  for (const { before, after } of chunk.deployments) {
    deltas.count(before, -1);
    deltas.count(after, +1);
    const [was, now] = [before ? leadSamplesOf(before) : [], leadSamplesOf(after)];
    if (!sameSamples(was, now)) {
      samplesGone.push(...was);
      was.forEach((s) => deltas.sample(s, -1));
      now.forEach((s) => deltas.sample(s, +1));
      samplesNew.push(...now);
    }
    const [failedBefore, failedNow] = [before && failureOf(before), failureOf(after)];
    if (!same(failedBefore, failedNow)) {
      if (failedBefore) failuresGone.push(after.id);
      if (failedNow) failuresNew.push(failedNow);
    }
    const [restoredBefore, restoredNow] = [before && restoreOf(before), restoreOf(after)];
    if (!same(restoredBefore, restoredNow)) {
      restoreMoved(restoredBefore);
      restoreMoved(restoredNow);
    }
  }
  for (const { before, after } of chunk.rollbacks) {
    const [was, now] = [before && rollbackRestoreOf(before), rollbackRestoreOf(after)];
    if (!same(was, now)) {
      restoreMoved(was);
      restoreMoved(now);
    }
  }

  yield* deleteSamples(samplesGone);
  yield* insertSamples(samplesNew);
  yield* replaceFailures(failuresGone, failuresNew, deltas);
  if (recover) {
    const candidates = new Set([...failuresNew.map((f) => f.deploymentId), ...(yield* failuresAfter([...moved.values()]))]);
    yield* recomputeRecoveries([...candidates], deltas);
  }
  // A large import stores its counters as it goes (the transaction is still one).
  if (deltas.size > MAX_PENDING_COUNTERS) yield* storeDeltas(deltas);
}

/** Counters gathered before they are stored. */
const MAX_PENDING_COUNTERS = 50_000;

/**
 * Adds the gathered deltas to the counters. They are forgotten before they are written: a store
 * that fails leaves them empty, and its transaction is rolled back.
 */
export function* storeDeltas(deltas: AggregateDeltas): SqlWork<void> {
  for (const [table, counters] of deltas.take()) yield* upsertCounters(table, counters);
}

/** Takes away the failures (and their recovery samples) of `gone`, and adds `added` as not recovered yet. */
function* replaceFailures(gone: readonly string[], added: readonly Failure[], deltas: AggregateDeltas): SqlWork<void> {
  const samplesGone: Sample[] = [];
  for (let i = 0; i < gone.length; i += ROWS_PER_STATEMENT) {
    const ids = gone.slice(i, i + ROWS_PER_STATEMENT);
    const rows = yield* select<FailureRow>(`SELECT * FROM failures WHERE deployment_id IN (${placeholders(ids.length)})`, ids);
    for (const r of rows) samplesGone.push(recoverySampleOf(failureOfRow(r), r.restored_at));
    yield* execute(`DELETE FROM failures WHERE deployment_id IN (${placeholders(ids.length)})`, ids);
  }
  samplesGone.forEach((s) => deltas.sample(s, -1));
  yield* deleteSamples(samplesGone);
  const failureColumns: SqlColumn[] = ['deployment_id', 'service', 'environment', 'started', 'failed_at'].map(
    (name) => [name, 'text'] as const,
  );
  yield* insertRows(
    'failures',
    failureColumns,
    added.map((f) => [f.deploymentId, f.service, f.environment, f.started, f.failedAt]),
  );
  const open = added.map((f) => recoverySampleOf(f, null));
  open.forEach((s) => deltas.sample(s, +1));
  yield* insertSamples(open);
}

/** The failures whose first restore may be `moved`'s (in its service and environment, not recovered before it). */
function* failuresAfter(moved: ReadonlyArray<{ service: string; environment: string; at: string }>): SqlWork<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < moved.length; i += ROWS_PER_STATEMENT) {
    const part = moved.slice(i, i + ROWS_PER_STATEMENT);
    const values = `(VALUES ${part.map(() => '(?, ?, ?)').join(', ')}) AS m`;
    const params = part.flatMap((m) => [m.service, m.environment, m.at]);
    // Two searches of the index, not one OR (which would read every failure of the service).
    const rows = yield* select<{ deployment_id: string }>(
      `SELECT f.deployment_id FROM failures f JOIN ${values} ON f.service = m.column1 AND f.environment = m.column2 AND f.restored_at IS NULL
       UNION ALL
       SELECT f.deployment_id FROM failures f JOIN ${values} ON f.service = m.column1 AND f.environment = m.column2 AND f.restored_at >= m.column3`,
      [...params, ...params],
    );
    ids.push(...rows.map((r) => r.deployment_id));
  }
  return ids;
}

/** The first restore at or after each failure of `ids`, found again; its recovery sample changed where it moved. */
export function* recomputeRecoveries(ids: readonly string[], deltas: AggregateDeltas): SqlWork<void> {
  const changed: Array<{ id: string; restoredAt: string | null }> = [];
  const samples: Sample[] = [];
  const samplesGone: Sample[] = [];
  for (let i = 0; i < ids.length; i += ROWS_PER_STATEMENT) {
    const part = ids.slice(i, i + ROWS_PER_STATEMENT);
    const rows = yield* select<FailureRow & { by_deployment: string | null; by_rollback: string | null }>(
      `SELECT f.*,
         (SELECT MIN(d.completed) FROM deployments d WHERE d.service = f.service AND d.environment = f.environment
            AND d.status = 'success' AND d.operation = 'deploy' AND d.completed >= f.failed_at) AS by_deployment,
         (SELECT MIN(r.at) FROM rollbacks r WHERE r.service = f.service AND r.environment = f.environment AND r.at >= f.failed_at) AS by_rollback
       FROM failures f WHERE f.deployment_id IN (${placeholders(part.length)})`,
      part,
    );
    for (const r of rows) {
      const found = [r.by_deployment, r.by_rollback].filter((t): t is string => t !== null).sort()[0] ?? null;
      if (found === r.restored_at) continue;
      const failure = failureOfRow(r);
      const was = recoverySampleOf(failure, r.restored_at);
      deltas.sample(was, -1);
      samplesGone.push(was);
      const now = recoverySampleOf(failure, found);
      deltas.sample(now, +1);
      samples.push(now);
      changed.push({ id: r.deployment_id, restoredAt: found });
    }
  }
  for (let i = 0; i < changed.length; i += ROWS_PER_STATEMENT) {
    const part = changed.slice(i, i + ROWS_PER_STATEMENT);
    yield* execute(
      `UPDATE failures SET restored_at = m.column2 FROM (VALUES ${part.map(() => '(?, ?)').join(', ')}) AS m WHERE failures.deployment_id = m.column1`,
      part.flatMap((c) => [c.id, c.restoredAt]),
    );
  }
  yield* deleteSamples(samplesGone);
  yield* insertSamples(samples);
}
