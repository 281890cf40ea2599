/**
 * A metric asked of a ledger (`ledger show-metrics`, later the server). Frequency, change
 * failure rate and success rate are functions of status counts (`countDeployments`); lead time
 * and recovery time of a median the store takes (`sampleMedian`); both stores' answers come from
 * the aggregates they keep (aggregate-reads.ts) and agree with metrics.ts over the records.
 * Grouped lead and recovery times, and anything by week, are computed by metrics.ts from the
 * records the store lists (from the window's start on, so a recovery after its end is seen). Answers
 * are cached per store (seed 000 "Caching strategy": event-based invalidation, LRU eviction): an
 * answer is reused while the ledger's revision, which every write changes, is the one it was
 * computed at.
 */
import { canonicalJson } from '../model/hash.js';
import {
  COUNTED_METRICS,
  computeMetric,
  metricByGroup,
  metricFromCounts,
  leadTimeResult,
  recoveryResult,
  type CountedMetric,
  type GroupBy,
  type MetricName,
  type MetricResult,
  type MetricWindow,
  type StatusCounts,
} from './metrics.js';
import type { LedgerStore } from './store.js';

/** The environments DORA's figures are about when none is named. */
export const PRODUCTION_ENVIRONMENTS: readonly string[] = ['prod', 'production'];

export interface MetricQuery {
  metric: MetricName;
  window: MetricWindow;
  timeZone: string;
  service?: string;
  /** One environment, every one ('all'), or the production ones (the default). */
  environments?: 'production' | 'all' | { only: string };
  groupBy?: GroupBy;
}

export type GroupResult = { group: string } & MetricResult;

type CountedQuery = MetricQuery & { metric: CountedMetric; groupBy?: Exclude<GroupBy, 'week'> };

/** A counted metric from the store's status counts: no deployment is listed. */
async function countedFromStore(
  store: LedgerStore,
  q: MetricQuery & { metric: CountedMetric; groupBy?: Exclude<GroupBy, 'week'> },
): Promise<GroupResult[]> {
  const counts = await store.countDeployments({
    since: q.window.from,
    until: q.window.to,
    ...(q.service ? { service: q.service } : {}),
    ...environmentsOf(q),
    ...(q.groupBy ? { groupBy: q.groupBy } : {}),
  });
  const groups = new Map<string, StatusCounts>(q.groupBy ? [] : [['all', {}]]);
  for (const c of counts) {
    const g = groups.get(c.group) ?? {};
    g[c.status] = (g[c.status] ?? 0) + c.count;
    groups.set(c.group, g);
  }
  return [...groups.keys()].sort().map((group) => ({ group, ...metricFromCounts(q.metric, groups.get(group)!, q.window, q.timeZone) }));
}

/** Answers kept per store: at most this many, the least recently asked dropped first. */
const CACHE_SIZE = 64;
const caches = new WeakMap<LedgerStore, Map<string, { revision: string; results: GroupResult[] }>>();

/** The metric `q` asks for, over the records of `store`; a copy of a cached answer when the ledger has not changed since. */
export async function queryMetric(store: LedgerStore, q: MetricQuery): Promise<GroupResult[]> {
  const key = canonicalJson(q);
  const revision = await store.revision();
  let cache = caches.get(store);
  if (!cache) caches.set(store, (cache = new Map()));
  const hit = cache.get(key);
  if (hit && hit.revision === revision) {
    // Most recently used last.
    cache.delete(key);
    cache.set(key, hit);
    return structuredClone(hit.results);
  }
  const results = await computeFromStore(store, q);
  cache.delete(key);
  cache.set(key, { revision, results });
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return structuredClone(results);
}

/** The environments a query names, as a store's filter takes them (none: every one). */
function environmentsOf(q: MetricQuery): { environments?: readonly string[] } {
  const envs = q.environments ?? 'production';
  return envs === 'all' ? {} : { environments: envs === 'production' ? PRODUCTION_ENVIRONMENTS : [envs.only] };
}

async function computeFromStore(store: LedgerStore, q: MetricQuery): Promise<GroupResult[]> {
  const envs = q.environments ?? 'production';
  if (COUNTED_METRICS.has(q.metric) && q.groupBy !== 'week') return countedFromStore(store, q as CountedQuery);
  const environments = environmentsOf(q);
  if ((q.metric === 'lead-time' || q.metric === 'mttr') && !q.groupBy) {
    // The store's median over its aggregates: nothing listed.
    const summary = await store.sampleMedian({
      metric: q.metric,
      since: q.window.from,
      until: q.window.to,
      ...(q.service ? { service: q.service } : {}),
      ...environments,
    });
    return [{ group: 'all', ...(q.metric === 'lead-time' ? leadTimeResult(summary) : recoveryResult(summary)) }];
  }
  // Grouped lead and recovery times, and counted metrics by week, from the records: from the
  // window's start on, but for recovery time, whose restores are looked for in the whole ledger
  // (as the store's median does).
  const since = q.metric === 'mttr' ? '' : q.window.from;
  const filter = { since, ...(q.service ? { service: q.service } : {}), ...environments };
  // Deployments only (a destroy or a restart is no deployment of any metric), each with what metrics read of its metadata.
  const deployments = await store.listForMetrics(filter);
  const wanted = (env: string): boolean =>
    envs === 'all' || (envs === 'production' ? PRODUCTION_ENVIRONMENTS.includes(env) : env === envs.only);
  const rollbacks = (await store.listRollbacks({ since, ...(q.service ? { service: q.service } : {}) })).filter((r) =>
    wanted(r.environment),
  );
  const options = { window: q.window, timeZone: q.timeZone };
  return q.groupBy
    ? metricByGroup(q.metric, deployments, rollbacks, options, q.groupBy)
    : [{ group: 'all', ...computeMetric(q.metric, deployments, rollbacks, options) }];
}
