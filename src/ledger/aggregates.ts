/**
 * The ledger's maintained aggregates (migration 7; seed 000 "Caching strategy", issue 13: a
 * metric over a million events in under 100 ms): what each deployment contributes to the
 * metrics, as facts the SQL stores keep beside the records and change in the transaction of
 * every write. Pure; aggregate-writes.ts applies them and aggregate-reads.ts reads them.
 *
 * - Status counts per UTC month, environment, service, type and status: the counted metrics
 *   add a window's whole months from these and count its ragged ends from the records.
 * - Samples: a lead time per change shipped by a successful deployment, a recovery time per
 *   failed one, each in a bin (binOf). Their counts per month and bin, for every service (a table
 *   of their own) and for each one, tell which bin holds the median; only that bin's samples are
 *   read to find it. So the median is exact, as metrics.ts computes it from the records.
 */
import { InternalError } from '../errors.js';
import type { DeploymentEvent, DeploymentStatus, RollbackEvent } from './store.js';

/** The metrics whose median is read from samples. */
export type SampledMetric = 'lead-time' | 'mttr';

/** A bin for what is left out of a median: a lead time below zero (clock skew), a failure not recovered yet. */
export const LEFT_OUT_BIN = -1;
/** A bin counting successful deployments that carry no commit times (lead time's note). */
export const NO_COMMITS_BIN = -2;

/** Each bin is 2 % wider than the one below it: the median's bin holds about 2 % of a window's samples. */
const BIN_RATIO = Math.log(1.02);

/** The bin of a duration in seconds: ordered as the durations are (every value of a bin is below every value of the next). */
export function binOf(seconds: number): number {
  if (seconds < 0) return LEFT_OUT_BIN;
  return seconds < 1 ? 0 : 1 + Math.floor(Math.log(seconds) / BIN_RATIO);
}

/** The UTC month of an ISO time (the ledger stores UTC ISO times): 2026-12. */
export const monthOf = (iso: string): string => iso.slice(0, 7);

/** The start of the month after `month`, as an ISO time. */
function nextMonthStart(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 1)).toISOString();
}

const monthStart = (month: string): string => `${month}-01T00:00:00.000Z`;

/** A window [from, to] as whole months (answered from the aggregates) and the ragged ends around them (counted from the records). */
export interface WindowParts {
  /** The first and last whole month, or none. */
  months?: { first: string; last: string };
  /** Time ranges outside the whole months: `from` included, `to` included when `toIncluded`. */
  ends: Array<{ from: string; to: string; toIncluded: boolean }>;
}

/** Splits a window (both ends included) into the whole UTC months inside it and what is left at each end. */
export function splitWindow(from: string, to: string): WindowParts {
  if (to < from) return { ends: [] };
  let first = monthOf(from);
  if (monthStart(first) < from) first = monthOf(nextMonthStart(first));
  // The last month whose every instant is at or before `to`.
  let last = monthOf(to);
  if (nextMonthStart(last) > addMs(to, 1)) last = previousMonth(last);
  if (first > last) return { ends: [{ from, to, toIncluded: true }] };
  const ends: WindowParts['ends'] = [];
  if (from < monthStart(first)) ends.push({ from, to: monthStart(first), toIncluded: false });
  const after = nextMonthStart(last);
  if (after <= to) ends.push({ from: after, to, toIncluded: true });
  return { months: { first, last }, ends };
}

const addMs = (iso: string, ms: number): string => new Date(Date.parse(iso) + ms).toISOString();

function previousMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 2, 1)).toISOString().slice(0, 7);
}

/** The fields of a deployment the aggregates are computed from (a row of the store, or an event). */
export type AggregateInput = Pick<
  DeploymentEvent,
  'id' | 'service' | 'environment' | 'type' | 'started' | 'completed' | 'status' | 'metadata' | 'operation'
>;

/** A deployment's place in the status counts; none for a destroy or a restart (no metric counts them). */
export interface CountKey {
  month: string;
  environment: string;
  service: string;
  type: string;
  status: DeploymentStatus;
}

export function countKeyOf(d: AggregateInput): CountKey | undefined {
  if (d.operation) return undefined;
  return { month: monthOf(d.started), environment: d.environment, service: d.service, type: d.type, status: d.status };
}

/** One value a median is taken over (or a count in a special bin), placed by the deployment's start. */
export interface Sample {
  metric: SampledMetric;
  deploymentId: string;
  /** Which of the deployment's samples (one per change for lead time); part of its key. */
  n: number;
  started: string;
  environment: string;
  service: string;
  bin: number;
  /** null in the special bins. */
  seconds: number | null;
}

/** The commit times a deployment shipped (metadata `changes: [{committedAt}]`, or `commit_time`). */
export function commitTimesOf(metadata: Record<string, unknown>): string[] {
  const changes = metadata['changes'];
  if (Array.isArray(changes))
    return changes.map((c) => (c as { committedAt?: unknown } | null)?.committedAt).filter((t): t is string => typeof t === 'string');
  const one = metadata['commit_time'];
  return typeof one === 'string' ? [one] : [];
}

const seconds = (from: string, to: string): number => (Date.parse(to) - Date.parse(from)) / 1000;

/** The lead-time samples of a deployment: one per change of a successful one, or a count of its having none. */
export function leadSamplesOf(d: AggregateInput): Sample[] {
  if (countKeyOf(d) === undefined || d.status !== 'success' || !d.completed) return [];
  const base = { metric: 'lead-time' as const, deploymentId: d.id, started: d.started, environment: d.environment, service: d.service };
  const commits = commitTimesOf(d.metadata);
  if (commits.length === 0) return [{ ...base, n: 0, bin: NO_COMMITS_BIN, seconds: null }];
  return commits.map((committed, n) => {
    const s = seconds(committed, d.completed!);
    return { ...base, n, bin: binOf(s), seconds: s < 0 ? null : s };
  });
}

const FAILED: ReadonlySet<DeploymentStatus> = new Set(['failed', 'rolled-back']);

/** A failed (or rolled-back) deployment: recovery time runs from its end to the next restore of its service there. */
export interface Failure {
  deploymentId: string;
  service: string;
  environment: string;
  started: string;
  failedAt: string;
}

export function failureOf(d: AggregateInput): Failure | undefined {
  if (countKeyOf(d) === undefined || !FAILED.has(d.status)) return undefined;
  return { deploymentId: d.id, service: d.service, environment: d.environment, started: d.started, failedAt: d.completed ?? d.started };
}

/** When a deployment restores its service in its environment: a successful deployment's end. */
export function restoreOf(d: AggregateInput): { service: string; environment: string; at: string } | undefined {
  if (countKeyOf(d) === undefined || d.status !== 'success' || !d.completed) return undefined;
  return { service: d.service, environment: d.environment, at: d.completed };
}

/** A rollback restores its service in its environment when it is made. */
export function rollbackRestoreOf(r: Pick<RollbackEvent, 'service' | 'environment' | 'at'>): {
  service: string;
  environment: string;
  at: string;
} {
  return { service: r.service, environment: r.environment, at: r.at };
}

/** The recovery sample of a failure, given the first restore at or after it (if any). */
export function recoverySampleOf(f: Failure, restoredAt: string | null): Sample {
  const base = {
    metric: 'mttr' as const,
    deploymentId: f.deploymentId,
    n: 0,
    started: f.started,
    environment: f.environment,
    service: f.service,
  };
  if (restoredAt === null) return { ...base, bin: LEFT_OUT_BIN, seconds: null };
  const s = seconds(f.failedAt, restoredAt);
  return { ...base, bin: binOf(s), seconds: s };
}

/** Counts per bin, and where in them the median's values are. */
export interface MedianRanks {
  /** How many values the median is taken over. */
  counted: number;
  /** The (0-based) ranks of the median's one or two values, each with its bin and its rank inside it. */
  wanted: Array<{ bin: number; rankInBin: number }>;
}

/** Where the median of the values counted by `bins` (bin → count; special bins ignored) is. */
export function medianRanks(bins: ReadonlyMap<number, number>): MedianRanks {
  const ordered = [...bins.entries()].filter(([bin, count]) => bin >= 0 && count > 0).sort((a, b) => a[0] - b[0]);
  const counted = ordered.reduce((n, [, c]) => n + c, 0);
  if (counted === 0) return { counted, wanted: [] };
  const ranks = counted % 2 === 1 ? [(counted - 1) / 2] : [counted / 2 - 1, counted / 2];
  const wanted = ranks.map((rank) => {
    let below = 0;
    for (const [bin, count] of ordered) {
      if (rank < below + count) return { bin, rankInBin: rank - below };
      below += count;
    }
    throw new InternalError(`median rank ${rank} is beyond the ${counted} values counted`);
  });
  return { counted, wanted };
}
