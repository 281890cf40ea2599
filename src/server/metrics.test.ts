/**
 * The server's Prometheus metrics: the exposition for seeded totals, line by line; labels that
 * never carry a version, an id or an initiator; HTTP requests by route pattern; process metrics;
 * and concurrent scrapes that share one read of the sources.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLedger } from '../ledger/memory.js';
import { DRIFT_TYPE, type DeploymentEvent, type DeploymentTotals, type RollbackTotals } from '../ledger/store.js';
import { parseExposition } from '../../test/helpers/exposition.js';
import { createServerMetrics, DEPLOYMENT_DURATION_BUCKETS, type DriftStatus, type LockStatus, type MetricsSources } from './metrics.js';

/** Totals of one group, with durations put in the metrics' buckets. */
function group(
  service: string,
  environment: string,
  type: string,
  status: DeploymentTotals['status'],
  count: number,
  seconds: number[] = [],
): DeploymentTotals {
  return {
    service,
    environment,
    type,
    status,
    count,
    buckets: DEPLOYMENT_DURATION_BUCKETS.map((le) => seconds.filter((s) => s <= le).length),
    durationCount: seconds.length,
    durationSum: seconds.reduce((a, b) => a + b, 0),
  };
}

interface Seed {
  deployments?: DeploymentTotals[];
  rollbacks?: RollbackTotals[];
  locks?: LockStatus[];
  drift?: DriftStatus[];
}

/** Sources that answer `seed`, count how often each is read, and may hold their answer until released. */
function stubSources(seed: Seed) {
  const calls = { deploymentTotals: 0, rollbackTotals: 0, locks: 0, drift: 0 };
  let gate: Promise<void> = Promise.resolve();
  let fail: Error | undefined;
  const answer = async <T>(what: keyof typeof calls, value: T): Promise<T> => {
    calls[what]++;
    await gate;
    if (fail) throw fail;
    return value;
  };
  const sources: MetricsSources = {
    ledger: {
      deploymentTotals: (buckets) => {
        expect(buckets).toEqual(DEPLOYMENT_DURATION_BUCKETS);
        return answer('deploymentTotals', seed.deployments ?? []);
      },
      rollbackTotals: () => answer('rollbackTotals', seed.rollbacks ?? []),
    },
    locks: () => answer('locks', seed.locks ?? []),
    drift: () => answer('drift', seed.drift ?? []),
  };
  return {
    sources,
    calls,
    /** Holds every answer until the returned function is called. */
    hold(): () => void {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return release;
    },
    failWith(err: Error | undefined): void {
      fail = err;
    },
  };
}

const SEED: Seed = {
  deployments: [
    group('api', 'prod', 'rolling', 'success', 3, [4, 50, 700]),
    group('api', 'prod', 'rolling', 'failed', 1, [20]),
    group('api', 'prod', 'rolling', 'in-progress', 1),
    group('db', 'staging', 'big-bang', 'rolled-back', 2, [8000, 100]),
  ],
  rollbacks: [{ service: 'db', environment: 'staging', count: 2 }],
  locks: [
    { stack: 'shop', environment: 'prod', held: true, ageSeconds: 42 },
    // Service-level locks of one environment: one series, the oldest held.
    { stack: 'shop', environment: 'staging', held: true, ageSeconds: 10 },
    { stack: 'shop', environment: 'staging', held: true, ageSeconds: 4000 },
    { stack: 'shop', environment: 'dev', held: false },
  ],
  drift: [
    { stack: 'shop', environment: 'prod', components: 0 },
    { stack: 'shop', environment: 'staging', components: 3 },
  ],
};

describe('server metrics', () => {
  it('exports the seeded totals, line by line', async () => {
    const text = await createServerMetrics(stubSources(SEED).sources).render();
    const lines = text.split('\n');
    const expected = [
      '# TYPE deployer_deployments_total counter',
      'deployer_deployments_total{service="api",environment="prod",type="rolling",status="success"} 3',
      'deployer_deployments_total{service="api",environment="prod",type="rolling",status="failed"} 1',
      'deployer_deployments_total{service="api",environment="prod",type="rolling",status="rolled-back"} 0',
      'deployer_deployments_total{service="db",environment="staging",type="big-bang",status="success"} 0',
      'deployer_deployments_total{service="db",environment="staging",type="big-bang",status="failed"} 0',
      'deployer_deployments_total{service="db",environment="staging",type="big-bang",status="rolled-back"} 2',
      '# TYPE deployer_deployments_unfinished gauge',
      'deployer_deployments_unfinished{service="api",environment="prod",type="rolling",status="in-progress"} 1',
      '# TYPE deployer_deployment_duration_seconds histogram',
      // api: 4, 50, 700 (success) and 20 (failed) seconds, added up across statuses.
      'deployer_deployment_duration_seconds_bucket{service="api",environment="prod",type="rolling",le="5"} 1',
      'deployer_deployment_duration_seconds_bucket{service="api",environment="prod",type="rolling",le="30"} 2',
      'deployer_deployment_duration_seconds_bucket{service="api",environment="prod",type="rolling",le="60"} 3',
      'deployer_deployment_duration_seconds_bucket{service="api",environment="prod",type="rolling",le="600"} 3',
      'deployer_deployment_duration_seconds_bucket{service="api",environment="prod",type="rolling",le="900"} 4',
      'deployer_deployment_duration_seconds_bucket{service="api",environment="prod",type="rolling",le="7200"} 4',
      'deployer_deployment_duration_seconds_bucket{service="api",environment="prod",type="rolling",le="+Inf"} 4',
      'deployer_deployment_duration_seconds_sum{service="api",environment="prod",type="rolling"} 774',
      'deployer_deployment_duration_seconds_count{service="api",environment="prod",type="rolling"} 4',
      // db: 100 s and 8000 s, longer than the last bucket.
      'deployer_deployment_duration_seconds_bucket{service="db",environment="staging",type="big-bang",le="60"} 0',
      'deployer_deployment_duration_seconds_bucket{service="db",environment="staging",type="big-bang",le="120"} 1',
      'deployer_deployment_duration_seconds_bucket{service="db",environment="staging",type="big-bang",le="7200"} 1',
      'deployer_deployment_duration_seconds_bucket{service="db",environment="staging",type="big-bang",le="+Inf"} 2',
      'deployer_deployment_duration_seconds_sum{service="db",environment="staging",type="big-bang"} 8100',
      'deployer_deployment_duration_seconds_count{service="db",environment="staging",type="big-bang"} 2',
      '# TYPE deployer_rollbacks_total counter',
      'deployer_rollbacks_total{service="db",environment="staging"} 2',
      '# TYPE deployer_drift_components gauge',
      'deployer_drift_components{stack="shop",environment="prod"} 0',
      'deployer_drift_components{stack="shop",environment="staging"} 3',
      '# TYPE deployer_lock_held gauge',
      'deployer_lock_held{stack="shop",environment="prod"} 1',
      'deployer_lock_held{stack="shop",environment="staging"} 1',
      'deployer_lock_held{stack="shop",environment="dev"} 0',
      '# TYPE deployer_lock_held_seconds gauge',
      'deployer_lock_held_seconds{stack="shop",environment="prod"} 42',
      'deployer_lock_held_seconds{stack="shop",environment="staging"} 4000',
      'deployer_lock_held_seconds{stack="shop",environment="dev"} 0',
    ];
    expect(expected.filter((line) => !lines.includes(line))).toEqual([]);
    // Nothing more of these families than the lines above (and the histogram's other buckets).
    const { samples } = parseExposition(text);
    const count = (name: string): number => samples.filter((s) => s.name === name).length;
    expect(count('deployer_deployments_total')).toBe(6);
    expect(count('deployer_deployments_unfinished')).toBe(1);
    expect(count('deployer_deployment_duration_seconds_bucket')).toBe(2 * (DEPLOYMENT_DURATION_BUCKETS.length + 1));
    expect(count('deployer_rollbacks_total')).toBe(1);
    expect(count('deployer_lock_held')).toBe(3);
  });

  it('exports what a ledger records: each deployment counted once, none of its version, ids or initiator', async () => {
    const ledger = new MemoryLedger();
    const at = (s: number): string => new Date(Date.UTC(2026, 0, 5, 12, 0, s)).toISOString();
    const deployment = (n: number, o: Partial<DeploymentEvent>): DeploymentEvent => ({
      id: `dep-${n}`,
      stack: 'shop',
      service: 'api',
      version: `1.2.${n}`,
      environment: 'prod',
      type: 'rolling',
      started: at(0),
      completed: null,
      status: 'in-progress',
      initiator: `alice-${n}@laptop`,
      metadata: {},
      parentId: `run-${n}`,
      ...o,
    });
    await ledger.recordMany({
      deployments: [
        deployment(1, { status: 'success', completed: at(40) }),
        deployment(2, { status: 'failed', completed: at(10) }),
        deployment(3, {}),
        deployment(4, { service: 'worker', type: 'big-bang', status: 'success', completed: at(200) }),
        // Neither a destroy nor a reconcile cycle is a deployment.
        deployment(5, { status: 'success', completed: at(5), operation: 'destroy' }),
        deployment(6, { type: DRIFT_TYPE, status: 'success', completed: at(5), operation: 'drift' }),
      ],
      rollbacks: [
        {
          id: 'rb-1',
          stack: 'shop',
          service: 'api',
          environment: 'prod',
          fromVersion: '1.2.2',
          toVersion: '1.2.1',
          reason: 'manual',
          at: at(300),
        },
      ],
    });
    const text = await createServerMetrics({ ledger, locks: async () => [], drift: async () => [] }).render();
    const lines = text.split('\n');
    const expected = [
      'deployer_deployments_total{service="api",environment="prod",type="rolling",status="success"} 1',
      'deployer_deployments_total{service="api",environment="prod",type="rolling",status="failed"} 1',
      'deployer_deployments_total{service="api",environment="prod",type="rolling",status="rolled-back"} 0',
      'deployer_deployments_total{service="worker",environment="prod",type="big-bang",status="success"} 1',
      'deployer_deployments_unfinished{service="api",environment="prod",type="rolling",status="in-progress"} 1',
      'deployer_deployment_duration_seconds_bucket{service="api",environment="prod",type="rolling",le="5"} 0',
      'deployer_deployment_duration_seconds_bucket{service="api",environment="prod",type="rolling",le="15"} 1',
      'deployer_deployment_duration_seconds_bucket{service="api",environment="prod",type="rolling",le="60"} 2',
      'deployer_deployment_duration_seconds_bucket{service="api",environment="prod",type="rolling",le="+Inf"} 2',
      'deployer_deployment_duration_seconds_sum{service="api",environment="prod",type="rolling"} 50',
      'deployer_deployment_duration_seconds_count{service="api",environment="prod",type="rolling"} 2',
      'deployer_deployment_duration_seconds_bucket{service="worker",environment="prod",type="big-bang",le="120"} 0',
      'deployer_deployment_duration_seconds_bucket{service="worker",environment="prod",type="big-bang",le="300"} 1',
      'deployer_rollbacks_total{service="api",environment="prod"} 1',
    ];
    expect(expected.filter((line) => !lines.includes(line))).toEqual([]);
    expect(text).not.toContain('type="drift"');
    expect(parseExposition(text).samples.filter((s) => s.name === 'deployer_deployments_total')).toHaveLength(6);
    for (const personal of ['1.2.', 'alice', 'dep-', 'run-', 'rb-1', 'manual']) expect(text).not.toContain(personal);
  });

  it('labels only bounded things: never a version, an id, a run or an initiator', async () => {
    const metrics = createServerMetrics(stubSources(SEED).sources);
    metrics.observeRequest('/api/v1/deployments/:id', 'get', 200, 0.01);
    const { samples } = parseExposition(await metrics.render());
    const labelNames = new Set(samples.filter((s) => s.name.startsWith('deployer_')).flatMap((s) => Object.keys(s.labels)));
    expect([...labelNames].sort()).toEqual(['code', 'environment', 'le', 'method', 'route', 'service', 'stack', 'status', 'type']);
    for (const forbidden of ['version', 'id', 'deployment_id', 'run_id', 'initiator', 'url', 'path'])
      expect(labelNames).not.toContain(forbidden);
  });

  it('counts HTTP requests by route pattern, method and status class', async () => {
    const metrics = createServerMetrics(stubSources({}).sources);
    metrics.observeRequest('/api/v1/runs/:id', 'GET', 200, 0.002);
    metrics.observeRequest('/api/v1/runs/:id', 'get', 204, 0.004);
    metrics.observeRequest('/webhooks/github', 'POST', 401, 0.001);
    metrics.observeRequest('', 'BREW', 404, 0.001);
    const lines = (await metrics.render()).split('\n');
    expect(lines).toContain('deployer_http_requests_total{route="/api/v1/runs/:id",method="GET",code="2xx"} 2');
    expect(lines).toContain('deployer_http_requests_total{route="/webhooks/github",method="POST",code="4xx"} 1');
    expect(lines).toContain('deployer_http_requests_total{route="unmatched",method="OTHER",code="4xx"} 1');
    expect(lines).toContain('deployer_http_request_duration_seconds_bucket{le="0.005",route="/api/v1/runs/:id",method="GET",code="2xx"} 2');
    expect(lines).toContain('deployer_http_request_duration_seconds_count{route="/api/v1/runs/:id",method="GET",code="2xx"} 2');
  });

  it('exports the process metrics, without a prefix, from a registry of its own', async () => {
    const { types } = parseExposition(await createServerMetrics(stubSources({}).sources).render());
    expect(types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(types.get('process_resident_memory_bytes')).toBe('gauge');
    expect(types.get('nodejs_heap_size_used_bytes')).toBe('gauge');
    // A second server in the same process has its own series, not a clash in a global registry.
    expect((await createServerMetrics(stubSources({}).sources).render()).length).toBeGreaterThan(0);
  });

  it('concurrent scrapes share one read of the sources', async () => {
    const stub = stubSources(SEED);
    const metrics = createServerMetrics(stub.sources);
    const release = stub.hold();
    // Eight scrapes at once, the sources' answers held until all of them have asked.
    const scrapes = Array.from({ length: 8 }, () => metrics.render());
    release();
    const texts = await Promise.all(scrapes);
    expect(new Set(texts).size).toBe(1);
    expect(stub.calls).toEqual({ deploymentTotals: 1, rollbackTotals: 1, locks: 1, drift: 1 });
    // A scrape after those reads again: the values are the ledger's now, not kept from before.
    await metrics.render();
    expect(stub.calls).toEqual({ deploymentTotals: 2, rollbackTotals: 2, locks: 2, drift: 2 });
  });

  it('a source that fails fails the scrape, and the next scrape reads again', async () => {
    const stub = stubSources(SEED);
    const metrics = createServerMetrics(stub.sources);
    stub.failWith(new Error('database is locked'));
    await expect(metrics.render()).rejects.toThrow('database is locked');
    stub.failWith(undefined);
    expect(await metrics.render()).toContain('deployer_rollbacks_total{service="db",environment="staging"} 2');
    expect(metrics.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });
});
