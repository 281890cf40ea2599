/**
 * A metric asked of a ledger (`ledger show-metrics`, later the server): the records it needs
 * read from the store (from the window's start on, so a recovery after the window's end is
 * seen; one environment pushed down to the store's index), then computed by metrics.ts. Answers
 * are cached per store (seed 000 "Caching strategy": event-based invalidation, LRU eviction): an
 * answer is reused while the ledger's revision, which every write changes, is the one it was
 * computed at.
 */
import { canonicalJson } from '../model/hash.js';
import { computeMetric, metricByGroup, type GroupBy, type MetricName, type MetricResult, type MetricWindow } from './metrics.js';
import type { DeploymentFilter, LedgerStore } from './store.js';

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
  const filter: DeploymentFilter = {
    since: q.window.from,
    ...(q.service ? { service: q.service } : {}),
    ...(typeof envs === 'object' ? { environment: envs.only } : {}),
  };
  const wanted = (env: string): boolean => envs !== 'production' || PRODUCTION_ENVIRONMENTS.includes(env);
  const deployments = (await store.listDeployments(filter)).filter((d) => wanted(d.environment));
  const rollbacks = (await store.listRollbacks(filter)).filter((r) => wanted(r.environment));
  const options = { window: q.window, timeZone: q.timeZone };
  return q.groupBy
    ? metricByGroup(q.metric, deployments, rollbacks, options, q.groupBy)
    : [{ group: 'all', ...computeMetric(q.metric, deployments, rollbacks, options) }];
}
