/**
 * `GET /metrics`: what `deployer serve` exports to Prometheus, from its own prom-client Registry
 * (never the global one, so two servers in one process, or a test, never share series).
 *
 * Two kinds of series live in it:
 * - computed at scrape from the ledger, the locks and the last drift reports: deployments and
 *   their durations, rollbacks, drifted components, held locks. The ledger is the one source of
 *   truth (a deployment recorded by a CLI run on a laptop counts as much as one the server ran),
 *   so these are totals read at each scrape, not counts this process kept;
 * - observed by this process: HTTP requests, and the process metrics of collectDefaultMetrics.
 *
 * Labels are bounded: services, environments, stacks, deployment types and statuses, route
 * patterns, methods and status classes. Never a version, a deployment or run id or an initiator:
 * each would make a new series per deployment, and Prometheus keeps every series it ever saw.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry, type Metric } from 'prom-client';
import type { DeploymentTotals, LedgerStore, RollbackTotals } from '../ledger/store.js';
import { DURATION_BOUNDS } from '../ledger/totals.js';

/** Whether a stack's environment is locked, as `deployer_lock_held` exports it. */
export interface LockStatus {
  stack: string;
  environment: string;
  held: boolean;
  /** seconds since it was taken, when held */
  ageSeconds?: number;
}

/** How far a stack's environment has drifted, as `deployer_drift_components` exports it. */
export interface DriftStatus {
  stack: string;
  environment: string;
  /** components drifted in the last drift report */
  components: number;
}

/** Where the computed series come from, read once per scrape. */
export interface MetricsSources {
  /** A LedgerStore: only its totals are read. */
  ledger: Pick<LedgerStore, 'deploymentTotals' | 'rollbackTotals'>;
  locks(): Promise<LockStatus[]>;
  drift(): Promise<DriftStatus[]>;
}

/** The server's metrics: rendered for `GET /metrics`, and told of every HTTP request. */
export interface ServerMetrics {
  /** The Content-Type of what `render` returns (Prometheus text format 0.0.4). */
  contentType: string;
  /**
   * Every series in Prometheus text format. Concurrent calls share one computation: a scrape
   * that arrives while another is being computed gets the same text.
   */
  render(): Promise<string>;
  /** count an HTTP request (route pattern, method, status class) */
  observeRequest(route: string, method: string, status: number, seconds: number): void;
}

/**
 * Deployment duration buckets, in seconds: from a quick no-op-ish deploy (5 s) to a long canary
 * bake (2 h); the default HTTP-style buckets (5 ms .. 10 s) would put every deployment in +Inf.
 */
export const DEPLOYMENT_DURATION_BUCKETS: readonly number[] = DURATION_BOUNDS;

/** HTTP request duration buckets, in seconds (a webhook is expected in milliseconds). */
const REQUEST_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The statuses a deployment ends in: only these are counted by `deployer_deployments_total`. */
const FINISHED = ['success', 'failed', 'rolled-back'] as const;

/** Methods kept as they are; any other becomes OTHER (a client may send anything). */
const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** What one scrape reads from its sources, once, shared by every series computed from it. */
interface Snapshot {
  deployments: DeploymentTotals[];
  rollbacks: RollbackTotals[];
  locks: LockStatus[];
  drift: DriftStatus[];
}

/** One sample of a computed series: its labels, and for a histogram which of its lines. */
interface Sample {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

/*
 * Why the computed series are not prom-client's Counter and Histogram. Those can only be
 * incremented and observed: a Counter cannot be set to the ledger's total, nor a Histogram given
 * buckets the ledger already counted. Their `collect()` hook would have to `reset()` then
 * re-`inc()` shared state at every scrape, which double-counts when two scrapes interleave (one
 * resets while the other is still adding), and has no way at all to fill a histogram's buckets.
 * The Registry reads a metric through `get()` alone (name, help, type, aggregator and samples,
 * `_bucket`/`_sum`/`_count` lines named by `metricName`): a ComputedMetric answers `get()` with
 * samples computed from the scrape's snapshot, keeping no state, so any number of scrapes at once
 * see the same values. The Registry's TypeScript signature names only prom-client's own classes,
 * hence the one cast where it is registered.
 */
class ComputedMetric {
  /** How a Node.js cluster's workers' values would combine; one server process exports them. */
  readonly aggregator = 'first';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    private readonly compute: () => Promise<Sample[]>,
  ) {}

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: await this.compute() };
  }

  /** `Registry.resetMetrics()`: nothing is kept, so nothing to reset. */
  reset(): void {}
}

/** The server's metrics over `sources`, in a Registry of their own. */
export function createServerMetrics(sources: MetricsSources): ServerMetrics {
  const registry = new Registry();

  // One snapshot per scrape, taken on the first series' demand and dropped when the scrape ends.
  let snapshot: Promise<Snapshot> | undefined;
  const current = (): Promise<Snapshot> => (snapshot ??= takeSnapshot(sources));
  const computed = (name: string, help: string, type: ComputedMetric['type'], pick: (s: Snapshot) => Sample[]): void =>
    registry.registerMetric(new ComputedMetric(name, help, type, async () => pick(await current())) as unknown as Metric);

  computed(
    'deployer_deployments_total',
    'Finished deployments recorded in the ledger (one per service per run), by how they ended',
    'counter',
    (s) => deploymentCounts(s.deployments),
  );
  computed('deployer_deployments_unfinished', 'Deployments recorded in the ledger as pending or in progress', 'gauge', (s) =>
    unfinished(s.deployments),
  );
  computed('deployer_deployment_duration_seconds', 'How long completed deployments took, from start to completion', 'histogram', (s) =>
    durations(s.deployments),
  );
  computed('deployer_rollbacks_total', 'Rollbacks recorded in the ledger (automatic or by deployer rollback)', 'counter', (s) =>
    s.rollbacks.map((r) => ({ labels: { service: r.service, environment: r.environment }, value: r.count })),
  );
  computed(
    'deployer_drift_components',
    'Components found drifted by the last drift report of a stack environment',
    'gauge',
    // Several reports of one environment (one per region) add up.
    (s) => byStack(s.drift, (d) => d.components, sum),
  );
  computed('deployer_lock_held', 'Whether a lock on the stack environment is held (1) or not (0)', 'gauge', (s) =>
    byStack(s.locks, (l) => (l.held ? 1 : 0), Math.max),
  );
  computed(
    'deployer_lock_held_seconds',
    'How long the oldest held lock on the stack environment has been held (0 when none is)',
    'gauge',
    (s) => byStack(s.locks, (l) => (l.held ? (l.ageSeconds ?? 0) : 0), Math.max),
  );

  const requests = new Counter({
    name: 'deployer_http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status class',
    labelNames: ['route', 'method', 'code'],
    registers: [registry],
  });
  const requestDuration = new Histogram({
    name: 'deployer_http_request_duration_seconds',
    help: 'How long HTTP requests took to answer, by route pattern, method and status class',
    labelNames: ['route', 'method', 'code'],
    buckets: REQUEST_DURATION_BUCKETS,
    registers: [registry],
  });
  collectDefaultMetrics({ register: registry });

  let rendering: Promise<string> | undefined;
  return {
    contentType: registry.contentType,
    render: () =>
      (rendering ??= registry.metrics().finally(() => {
        rendering = undefined;
        snapshot = undefined;
      })),
    observeRequest(route, method, status, seconds) {
      const upper = method.toUpperCase();
      const labels = {
        // The caller passes the route pattern (`/api/v1/runs/:id`); a request no route matched has none.
        route: route === '' ? 'unmatched' : route,
        method: METHODS.has(upper) ? upper : 'OTHER',
        code: `${Math.floor(status / 100)}xx`,
      };
      requests.inc(labels);
      requestDuration.observe(labels, seconds);
    },
  };
}

async function takeSnapshot(sources: MetricsSources): Promise<Snapshot> {
  const [deployments, rollbacks, locks, drift] = await Promise.all([
    sources.ledger.deploymentTotals(DEPLOYMENT_DURATION_BUCKETS),
    sources.ledger.rollbackTotals(),
    sources.locks(),
    sources.drift(),
  ]);
  return { deployments, rollbacks, locks, drift };
}

/** `service|environment|type`: the groups of the histogram and of the zero-filled counter. */
function groupKey(t: Pick<DeploymentTotals, 'service' | 'environment' | 'type'>): string {
  return JSON.stringify([t.service, t.environment, t.type]);
}

/**
 * Finished deployments by status. Every status of a group that has any deployment is exported,
 * 0 when none ended so: a series that first appears at 1 shows no `increase()` in Prometheus, so
 * a group's first failure would not count toward the failure-rate alert. Pending and in-progress
 * deployments are left out: they become success or failed, and a counter must never go down.
 */
function deploymentCounts(totals: DeploymentTotals[]): Sample[] {
  const groups = new Map<string, { t: DeploymentTotals; counts: Map<string, number> }>();
  for (const t of totals) {
    const g = groups.get(groupKey(t)) ?? { t, counts: new Map<string, number>() };
    g.counts.set(t.status, (g.counts.get(t.status) ?? 0) + t.count);
    groups.set(groupKey(t), g);
  }
  return [...groups.values()].flatMap(({ t, counts }) =>
    FINISHED.map((status) => ({
      labels: { service: t.service, environment: t.environment, type: t.type, status },
      value: counts.get(status) ?? 0,
    })),
  );
}

function unfinished(totals: DeploymentTotals[]): Sample[] {
  return totals
    .filter((t) => !(FINISHED as readonly string[]).includes(t.status))
    .map((t) => ({ labels: { service: t.service, environment: t.environment, type: t.type, status: t.status }, value: t.count }));
}

/** The duration histogram: the ledger's cumulative buckets of every status of a group, added up. */
function durations(totals: DeploymentTotals[]): Sample[] {
  const groups = new Map<string, { t: DeploymentTotals; buckets: number[]; count: number; sum: number }>();
  for (const t of totals) {
    const g = groups.get(groupKey(t)) ?? { t, buckets: DEPLOYMENT_DURATION_BUCKETS.map(() => 0), count: 0, sum: 0 };
    t.buckets.forEach((n, i) => (g.buckets[i] = (g.buckets[i] ?? 0) + n));
    g.count += t.durationCount;
    g.sum += t.durationSum;
    groups.set(groupKey(t), g);
  }
  const name = 'deployer_deployment_duration_seconds';
  return [...groups.values()].flatMap(({ t, buckets, count, sum }) => {
    const labels = { service: t.service, environment: t.environment, type: t.type };
    return [
      ...DEPLOYMENT_DURATION_BUCKETS.map((le, i) => ({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: buckets[i]! })),
      { metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: count },
      { metricName: `${name}_sum`, labels, value: sum },
      { metricName: `${name}_count`, labels, value: count },
    ];
  });
}

const sum = (a: number, b: number): number => a + b;

/**
 * One sample per stack environment: a source may report several entries for one (locks taken
 * per service or per component), and a series may appear only once in an exposition.
 */
function byStack<T extends { stack: string; environment: string }>(
  items: T[],
  value: (item: T) => number,
  combine: (a: number, b: number) => number,
): Sample[] {
  const out = new Map<string, Sample>();
  for (const item of items) {
    const key = JSON.stringify([item.stack, item.environment]);
    const seen = out.get(key);
    if (seen) seen.value = combine(seen.value, value(item));
    else out.set(key, { labels: { stack: item.stack, environment: item.environment }, value: value(item) });
  }
  return [...out.values()];
}
