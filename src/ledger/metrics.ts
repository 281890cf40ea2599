/**
 * Delivery metrics from the ledger's records (DORA's four keys, and success rate by type), as
 * pure functions of the deployments and rollbacks in a window. docs/ledger.md defines each one;
 * the choices that peers got wrong are made here on purpose: a change failure rate is failed
 * deployments over distinct finished deployments (never incidents over deployments); a
 * rollback is not a deployment; an in-progress deployment counts nowhere; the median of
 * nothing is n/a, never 0; durations are in seconds; empty days count as days; lead times below
 * zero (clock skew) are reported, not dropped silently.
 */
import { commitTimesOf } from './aggregates.js';
import type { DeploymentEvent, DeploymentStatus, RollbackEvent, SampleSummary } from './store.js';

export type MetricName = 'frequency' | 'lead-time' | 'mttr' | 'change-failure-rate' | 'success-rate';
export const METRIC_NAMES: readonly MetricName[] = ['frequency', 'lead-time', 'mttr', 'change-failure-rate', 'success-rate'];
export type Band = 'elite' | 'high' | 'medium' | 'low';

const DAY_S = 86_400;

/**
 * The performance bands of the DORA report, by report year (2023: "Accelerate State of DevOps").
 * Each list is the upper (or, for frequency, lower) bound of elite, high and medium; the rest is low.
 */
export const DORA_BANDS = {
  2023: {
    /** Deployments per day at least: on demand (daily or more), weekly, monthly. */
    frequencyPerDay: [1, 1 / 7, 1 / 30],
    /** Seconds below: a day, a week, a month. */
    leadTimeS: [DAY_S, 7 * DAY_S, 30 * DAY_S],
    /** Failed deployment recovery time, seconds below: an hour, a day, a week. */
    recoveryS: [3_600, DAY_S, 7 * DAY_S],
    /** Percent at most. */
    changeFailurePct: [5, 10, 15],
  },
} as const;
export const BAND_YEAR = 2023;

/** What a metric is computed over: deployments started, and rollbacks made, within [from, to]. */
export interface MetricWindow {
  from: string;
  to: string;
}

export interface MetricResult {
  metric: MetricName;
  /** null: n/a (nothing to compute it from). */
  value: number | null;
  unit: 'per-day' | 'seconds' | 'percent';
  band: Band | null;
  /** How many events it was computed from, and what was left out and why. */
  counted: number;
  notes: string[];
}

const FAILED = new Set(['failed', 'rolled-back']);

const inWindow = (t: string, w: MetricWindow): boolean => t >= w.from && t <= w.to;
const seconds = (from: string, to: string): number => (Date.parse(to) - Date.parse(from)) / 1000;

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function bandBelow(value: number | null, bounds: readonly number[], inclusive = false): Band | null {
  if (value === null) return null;
  const names: Band[] = ['elite', 'high', 'medium'];
  for (let i = 0; i < bounds.length; i++) if (inclusive ? value <= bounds[i]! : value < bounds[i]!) return names[i]!;
  return 'low';
}

function bandAtLeast(value: number, bounds: readonly number[]): Band {
  const names: Band[] = ['elite', 'high', 'medium'];
  for (let i = 0; i < bounds.length; i++) if (value >= bounds[i]!) return names[i]!;
  return 'low';
}

/** Distinct deployments: the last record of an id wins. */
function distinct(deployments: DeploymentEvent[]): DeploymentEvent[] {
  return [...new Map(deployments.map((d) => [d.id, d] as const)).values()];
}

/** Distinct deployments started in the window. */
function deploymentsIn(deployments: DeploymentEvent[], w: MetricWindow): DeploymentEvent[] {
  return distinct(deployments).filter((d) => inWindow(d.started, w));
}

/** The calendar days of the window in `timeZone` (both ends included), as YYYY-MM-DD. */
export function daysOf(w: MetricWindow, timeZone: string): string[] {
  const label = (ms: number): string =>
    new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
  const first = label(Date.parse(w.from));
  const last = label(Date.parse(w.to));
  // Calendar arithmetic on the labels, not 24-hour steps (a day is 23 or 25 hours when clocks change).
  const days: string[] = [];
  const [y, m, d] = first.split('-').map(Number) as [number, number, number];
  for (let i = 0; ; i++) {
    const day = new Date(Date.UTC(y, m - 1, d + i)).toISOString().slice(0, 10);
    if (day > last) break;
    days.push(day);
  }
  return days;
}

/** How many distinct deployments started in a window ended (or are) in each status. */
export type StatusCounts = Partial<Record<DeploymentStatus, number>>;

/** The metrics that are a function of status counts alone (a store can count them without listing). */
export type CountedMetric = 'frequency' | 'change-failure-rate' | 'success-rate';
export const COUNTED_METRICS: ReadonlySet<MetricName> = new Set<CountedMetric>(['frequency', 'change-failure-rate', 'success-rate']);

/** The status counts of the distinct deployments started in the window. */
export function statusCounts(deployments: DeploymentEvent[], w: MetricWindow): StatusCounts {
  const counts: StatusCounts = {};
  for (const d of deploymentsIn(deployments, w)) counts[d.status] = (counts[d.status] ?? 0) + 1;
  return counts;
}

/** A counted metric from the status counts of its window (what a store's countDeployments gives). */
export function metricFromCounts(metric: CountedMetric, counts: StatusCounts, w: MetricWindow, timeZone = 'UTC'): MetricResult {
  const ok = counts.success ?? 0;
  const failed = (counts.failed ?? 0) + (counts['rolled-back'] ?? 0);
  const finished = ok + failed;
  if (metric === 'frequency') {
    const days = daysOf(w, timeZone).length;
    const value = ok / days;
    const band = bandAtLeast(value, DORA_BANDS[BAND_YEAR].frequencyPerDay);
    return { metric, value, unit: 'per-day', band, counted: ok, notes: [`${days} day(s) in ${timeZone}`] };
  }
  if (metric === 'change-failure-rate') {
    const value = finished === 0 ? null : (100 * failed) / finished;
    const band = bandBelow(value, DORA_BANDS[BAND_YEAR].changeFailurePct, true);
    return { metric, value, unit: 'percent', band, counted: finished, notes: [] };
  }
  return { metric, value: finished === 0 ? null : (100 * ok) / finished, unit: 'percent', band: null, counted: finished, notes: [] };
}

/** Successful deployments per day of the window (empty days count); the band by that average. */
export function deploymentFrequency(deployments: DeploymentEvent[], w: MetricWindow, timeZone = 'UTC'): MetricResult {
  return metricFromCounts('frequency', statusCounts(deployments, w), w, timeZone);
}

/** The commit times a deployment shipped (metadata `changes: [{committedAt}]`, or `commit_time`). */
export function commitTimes(d: DeploymentEvent): string[] {
  return commitTimesOf(d.metadata);
}

/** What a lead time is taken over: every change shipped by a successful deployment of the window. */
export function leadTimeSummary(deployments: DeploymentEvent[], w: MetricWindow): SampleSummary {
  const times: number[] = [];
  let leftOut = 0;
  let withoutCommits = 0;
  for (const d of deploymentsIn(deployments, w).filter((x) => x.status === 'success' && x.completed)) {
    const commits = commitTimes(d);
    if (commits.length === 0) withoutCommits++;
    for (const c of commits) {
      const s = seconds(c, d.completed!);
      if (s < 0) leftOut++;
      else times.push(s);
    }
  }
  return { median: median(times), counted: times.length, leftOut, withoutCommits };
}

/** The lead time a summary (computed here or by a store) says: median seconds from each change's commit to the end of the deployment that shipped it. */
export function leadTimeResult(s: SampleSummary): MetricResult {
  const notes = [];
  if (s.leftOut > 0) notes.push(`${s.leftOut} change(s) committed after their deployment ended (clock skew?): left out`);
  if (s.withoutCommits > 0) notes.push(`${s.withoutCommits} successful deployment(s) carry no commit times`);
  const band = bandBelow(s.median, DORA_BANDS[BAND_YEAR].leadTimeS);
  return { metric: 'lead-time', value: s.median, unit: 'seconds', band, counted: s.counted, notes };
}

/** Median seconds from each change's commit to the end of the successful deployment that shipped it. */
export function leadTime(deployments: DeploymentEvent[], w: MetricWindow): MetricResult {
  return leadTimeResult(leadTimeSummary(deployments, w));
}

/** Failed over finished distinct deployments, in percent (a rollback is no deployment; in-progress counts nowhere). */
export function changeFailureRate(deployments: DeploymentEvent[], w: MetricWindow): MetricResult {
  return metricFromCounts('change-failure-rate', statusCounts(deployments, w), w);
}

/**
 * What a recovery time is taken over: for each failed deployment in the window, seconds from
 * its end to the first restore of its service in its environment after it (a successful
 * deployment, or a rollback). Failures not yet recovered are left out (counted), not taken as zero.
 */
export function recoverySummary(deployments: DeploymentEvent[], rollbacks: RollbackEvent[], w: MetricWindow): SampleSummary {
  // A failure in the window may be recovered after it: restores are looked for in all that is given.
  // Each service's restores (successful completions, rollbacks) in time order, searched by halving.
  const restores = new Map<string, string[]>();
  const add = (service: string, environment: string, at: string): void => {
    const key = `${service}\u0000${environment}`;
    const list = restores.get(key);
    if (list) list.push(at);
    else restores.set(key, [at]);
  };
  for (const d of distinct(deployments)) if (d.status === 'success' && d.completed) add(d.service, d.environment, d.completed);
  for (const r of rollbacks) add(r.service, r.environment, r.at);
  for (const list of restores.values()) list.sort();
  const times: number[] = [];
  let open = 0;
  for (const f of deploymentsIn(deployments, w).filter((d) => FAILED.has(d.status))) {
    const failedAt = f.completed ?? f.started;
    const restore = firstAtOrAfter(restores.get(`${f.service}\u0000${f.environment}`) ?? [], failedAt);
    if (restore !== undefined) times.push(seconds(failedAt, restore));
    else open++;
  }
  return { median: median(times), counted: times.length, leftOut: open, withoutCommits: 0 };
}

/** The failed deployment recovery time a summary (computed here or by a store) says. */
export function recoveryResult(s: SampleSummary): MetricResult {
  const notes = s.leftOut > 0 ? [`${s.leftOut} failed deployment(s) not recovered yet`] : [];
  const band = bandBelow(s.median, DORA_BANDS[BAND_YEAR].recoveryS);
  return { metric: 'mttr', value: s.median, unit: 'seconds', band, counted: s.counted, notes };
}

/** Failed deployment recovery time: the median of recoverySummary's durations. */
export function recoveryTime(deployments: DeploymentEvent[], rollbacks: RollbackEvent[], w: MetricWindow): MetricResult {
  return recoveryResult(recoverySummary(deployments, rollbacks, w));
}

/** The first of the sorted `times` at or after `t`. */
function firstAtOrAfter(times: readonly string[], t: string): string | undefined {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return times[lo];
}

/** Successful over finished distinct deployments, in percent (no band: DORA has none). */
export function successRate(deployments: DeploymentEvent[], w: MetricWindow): MetricResult {
  return metricFromCounts('success-rate', statusCounts(deployments, w), w);
}

export interface MetricOptions {
  window: MetricWindow;
  timeZone?: string;
}

export function computeMetric(
  metric: MetricName,
  deployments: DeploymentEvent[],
  rollbacks: RollbackEvent[],
  o: MetricOptions,
): MetricResult {
  switch (metric) {
    case 'frequency':
      return deploymentFrequency(deployments, o.window, o.timeZone);
    case 'lead-time':
      return leadTime(deployments, o.window);
    case 'mttr':
      return recoveryTime(deployments, rollbacks, o.window);
    case 'change-failure-rate':
      return changeFailureRate(deployments, o.window);
    case 'success-rate':
      return successRate(deployments, o.window);
  }
}

export type GroupBy = 'type' | 'service' | 'environment' | 'week';

/** The metric for each group (by a deployment's type, service or environment, or the UTC ISO week it started in). */
export function metricByGroup(
  metric: MetricName,
  deployments: DeploymentEvent[],
  rollbacks: RollbackEvent[],
  o: MetricOptions,
  by: GroupBy,
): Array<{ group: string } & MetricResult> {
  const keyOf = (d: DeploymentEvent): string => (by === 'week' ? isoWeek(d.started) : d[by]);
  const groups = [...new Set(deploymentsIn(deployments, o.window).map(keyOf))].sort();
  return groups.map((group) => {
    const mine = deployments.filter((d) => keyOf(d) === group);
    const theirRollbacks = by === 'service' || by === 'environment' ? rollbacks.filter((r) => r[by] === group) : rollbacks;
    return { group, ...computeMetric(metric, mine, theirRollbacks, o) };
  });
}

/** ISO 8601 week of a UTC time: 2026-W49 (weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeek(t: string): string {
  const d = new Date(Date.parse(t));
  const mondayBased = (d.getUTCDay() + 6) % 7;
  const thursday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - mondayBased + 3);
  const year = new Date(thursday).getUTCFullYear();
  const week = 1 + Math.floor((thursday - Date.UTC(year, 0, 1)) / (7 * DAY_S * 1000));
  return `${year}-W${String(week).padStart(2, '0')}`;
}
