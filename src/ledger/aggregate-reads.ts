/**
 * Metrics asked of the aggregates (aggregates.ts) in either SQL store: a window's whole months
 * are read from the counters, its ragged ends counted from the records, so the work is bounded
 * by the months in the window and two months' records, never by the ledger's size. Medians are
 * exact: the bins say which bin holds the median, and only that bin's samples are read.
 */
import { medianRanks, splitWindow, LEFT_OUT_BIN, NO_COMMITS_BIN, type WindowParts } from './aggregates.js';
import { placeholders, select, type SqlWork } from './sql-steps.js';
import type { CountFilter, SampleFilter, SampleSummary, StatusCount } from './store.js';

/** Conditions and their parameters, joined with AND. */
class Where {
  readonly terms: string[] = [];
  readonly params: unknown[] = [];

  add(term: string, ...params: unknown[]): this {
    this.terms.push(term);
    this.params.push(...params);
    return this;
  }

  /** `column IN (...)` for a list given, each value's regions too (`prod/eu-west-1` is in `prod`); an empty list matches nothing; nothing for none. */
  within(column: string, values: readonly string[] | undefined): this {
    if (values === undefined) return this;
    if (values.length === 0) return this.add('1 = 0');
    const regions = values.map(() => `${column} LIKE ?`).join(' OR ');
    return this.add(`(${column} IN (${placeholders(values.length)}) OR ${regions})`, ...values, ...values.map((v) => `${v}/%`));
  }

  /** A time range of a window's end: `from` included, `to` as the end says. */
  during(column: string, end: WindowParts['ends'][number]): this {
    return this.add(`${column} >= ?`, end.from).add(`${column} ${end.toIncluded ? '<=' : '<'} ?`, end.to);
  }

  get sql(): string {
    return this.terms.length ? this.terms.join(' AND ') : '1 = 1';
  }
}

const GROUP_COLUMNS = { type: 'type', service: 'service', environment: 'environment' } as const;

/** Deployments counted by status (and group) over a window, from the monthly counters and the records of its ends. */
export function* countFromAggregates(f: CountFilter): SqlWork<StatusCount[]> {
  const parts = splitWindow(f.since, f.until);
  // A column name from a closed list, never from the caller's text.
  const group = f.groupBy ? GROUP_COLUMNS[f.groupBy] : `'all'`;
  const sums = new Map<string, StatusCount>();
  const add = (rows: StatusCount[]): void => {
    for (const r of rows) {
      const key = `${r.group}\u0000${r.status}`;
      const had = sums.get(key);
      if (had) had.count += r.count;
      else sums.set(key, { ...r });
    }
  };
  if (parts.months) {
    const w = new Where().add('month >= ?', parts.months.first).add('month <= ?', parts.months.last).within('environment', f.environments);
    if (f.service) w.add('service = ?', f.service);
    add(
      yield* select<StatusCount>(
        `SELECT ${group} AS "group", status, CAST(SUM(count) AS INTEGER) AS count FROM metric_counts WHERE ${w.sql} GROUP BY 1, 2`,
        w.params,
      ),
    );
  }
  for (const end of parts.ends) {
    const w = new Where().during('started', end).add(`operation = 'deploy'`).within('environment', f.environments);
    if (f.service) w.add('service = ?', f.service);
    add(
      yield* select<StatusCount>(
        `SELECT ${group} AS "group", status, CAST(COUNT(*) AS INTEGER) AS count FROM deployments WHERE ${w.sql} GROUP BY 1, 2`,
        w.params,
      ),
    );
  }
  return [...sums.values()].filter((c) => c.count > 0);
}

/** The median of a window's samples, exact, and what it was taken over. */
export function* sampleSummary(f: SampleFilter): SqlWork<SampleSummary> {
  const parts = splitWindow(f.since, f.until);
  const bins = new Map<number, number>();
  const add = (rows: Array<{ bin: number; count: number }>): void => {
    for (const r of rows) bins.set(r.bin, (bins.get(r.bin) ?? 0) + r.count);
  };
  if (parts.months) {
    const w = new Where().add('metric = ?', f.metric);
    // One service's bins, or every service's in their own table (migration 14).
    if (f.service) w.add('service = ?', f.service);
    const table = f.service ? 'metric_bins' : 'metric_bins_all_services';
    w.within('environment', f.environments).add('month >= ?', parts.months.first).add('month <= ?', parts.months.last);
    add(yield* select(`SELECT bin, CAST(SUM(count) AS INTEGER) AS count FROM ${table} WHERE ${w.sql} GROUP BY bin`, w.params));
  }
  const samplesOf = (w: Where): Where => {
    w.add('metric = ?', f.metric).within('environment', f.environments);
    return f.service ? w.add('service = ?', f.service) : w;
  };
  for (const end of parts.ends) {
    const w = samplesOf(new Where()).during('started', end);
    // `bin + 0`: grouping by the bare column would lead SQLite to read every sample through the index by bin.
    add(yield* select(`SELECT bin + 0 AS bin, CAST(COUNT(*) AS INTEGER) AS count FROM metric_samples WHERE ${w.sql} GROUP BY 1`, w.params));
  }
  const { counted, wanted } = medianRanks(bins);
  const values: number[] = [];
  const binValues = new Map<number, number[]>();
  for (const { bin, rankInBin } of wanted) {
    let sorted = binValues.get(bin);
    if (!sorted) {
      const w = samplesOf(new Where().add('bin = ?', bin)).add('started >= ?', f.since).add('started <= ?', f.until);
      const rows = yield* select<{ seconds: number }>(`SELECT seconds FROM metric_samples WHERE ${w.sql}`, w.params);
      sorted = rows.map((r) => Number(r.seconds)).sort((a, b) => a - b);
      binValues.set(bin, sorted);
    }
    values.push(sorted[rankInBin]!);
  }
  const median = values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
  return { median, counted, leftOut: bins.get(LEFT_OUT_BIN) ?? 0, withoutCommits: bins.get(NO_COMMITS_BIN) ?? 0 };
}
