/**
 * A metric asked of a ledger (`ledger show-metrics`, later the server). Frequency, change
 * failure rate and success rate are functions of status counts, which the store counts over an
 * index without listing a deployment; lead time and recovery time read the records they need
 * (from the window's start on, so a recovery after the window's end is seen; one environment
 * pushed down to the store's index) and are computed by metrics.ts. Answers
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
  const envs = q.environments ?? 'production';
  const counts = await store.countDeployments({
    since: q.window.from,
    until: q.window.to,
    ...(q.service ? { service: q.service } : {}),
    ...(envs === 'all' ? {} : { environments: envs === 'production' ? PRODUCTION_ENVIRONMENTS : [envs.only] }),
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

async function computeFromStore(store: LedgerStore, q: MetricQuery): Promise<GroupResult[]> {
  const envs = q.environments ?? 'production';
  if (COUNTED_METRICS.has(q.metric) && q.groupBy !== 'week') return countedFromStore(store, q as CountedQuery);
  const environments = envs === 'all' ? {} : { environments: envs === 'production' ? PRODUCTION_ENVIRONMENTS : [envs.only] };
  const filter = { since: q.window.from, ...(q.service ? { service: q.service } : {}), ...environments };
  // Deployments only (a destroy or a restart is no deployment of any metric), each with what metrics read of its metadata.
  const deployments = await store.listForMetrics(filter);
  const wanted = (env: string): boolean =>
    envs === 'all' || (envs === 'production' ? PRODUCTION_ENVIRONMENTS.includes(env) : env === envs.only);
  const rollbacks = (await store.listRollbacks({ since: q.window.from, ...(q.service ? { service: q.service } : {}) })).filter((r) =>
    wanted(r.environment),
  );
  const options = { window: q.window, timeZone: q.timeZone };
  return q.groupBy
    ? metricByGroup(q.metric, deployments, rollbacks, options, q.groupBy)
    : [{ group: 'all', ...computeMetric(q.metric, deployments, rollbacks, options) }];
}
