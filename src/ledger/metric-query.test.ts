/**
 * A metric asked of a store: the records chosen as show-metrics chooses them (production by
 * default, one environment, every one, a service); counted metrics from the store's counts
 * agree with the same metrics computed from the listed deployments; and the cache: the same
 * question answered without reading the store until a write changes the ledger.
 */
import { describe, expect, it, vi } from 'vitest';
import { deployment, rollback } from './ledger.contract.js';
import { MemoryLedger } from './memory.js';
import { queryMetric, type MetricQuery } from './metric-query.js';

const window = { from: '2025-03-01T00:00:00.000Z', to: '2025-03-31T23:59:59.999Z' };
const q = (over: Partial<MetricQuery> = {}): MetricQuery => ({ metric: 'success-rate', window, timeZone: 'UTC', ...over });

async function ledgerWith(): Promise<MemoryLedger> {
  const l = new MemoryLedger();
  await l.recordMany({
    deployments: [
      deployment('p1', { environment: 'prod' }),
      deployment('p2', {
        environment: 'production',
        status: 'failed',
        started: '2025-03-02T10:00:00.000Z',
        completed: '2025-03-02T10:05:00.000Z',
      }),
      deployment('s1', { environment: 'staging', status: 'failed' }),
      deployment('w1', { environment: 'prod', service: 'worker', started: '2025-03-03T10:00:00.000Z' }),
      deployment('old', {
        environment: 'prod',
        status: 'failed',
        started: '2025-02-01T10:00:00.000Z',
        completed: '2025-02-01T10:05:00.000Z',
      }),
    ],
    rollbacks: [rollback('r1', { environment: 'production', at: '2025-04-01T10:05:00.000Z' })],
  });
  return l;
}

describe('queryMetric', () => {
  it('production by default; one environment, every one, or a service when asked', async () => {
    const l = await ledgerWith();
    const rate = async (over: Partial<MetricQuery>): Promise<[number | null, number]> => {
      const [r] = await queryMetric(l, q(over));
      return [r!.value, r!.counted];
    };
    expect(await rate({})).toEqual([200 / 3, 3]);
    expect(await rate({ environments: { only: 'staging' } })).toEqual([0, 1]);
    expect(await rate({ environments: 'all' })).toEqual([50, 4]);
    expect(await rate({ service: 'worker' })).toEqual([100, 1]);
    const grouped = await queryMetric(l, q({ groupBy: 'service' }));
    expect(grouped.map((g) => [g.group, g.value])).toEqual([
      ['api', 50],
      ['worker', 100],
    ]);
  });

  it('a recovery after the window is still seen; a failure before it is not counted', async () => {
    const l = await ledgerWith();
    const [mttr] = await queryMetric(l, q({ metric: 'mttr' }));
    // p2 failed on 2 March at 10:05 and the rollback 30 days later restored it; "old" started before the window.
    expect(mttr).toMatchObject({ value: 30 * 86_400, counted: 1 });
  });

  it('answers the same question from its cache until a write changes the ledger', async () => {
    const l = await ledgerWith();
    const reads = vi.spyOn(l, 'countDeployments');
    const first = await queryMetric(l, q());
    first[0]!.value = -1; // what it hands out is a copy
    const again = await queryMetric(l, q());
    expect(reads).toHaveBeenCalledTimes(1);
    expect(again[0]!.value).toBe(200 / 3);
    await queryMetric(l, q({ metric: 'change-failure-rate' }));
    expect(reads).toHaveBeenCalledTimes(2);
    // Lead time asks the store for its median, listing nothing; asked again, it does not ask.
    const medians = vi.spyOn(l, 'sampleMedian');
    const lists = vi.spyOn(l, 'listForMetrics');
    await queryMetric(l, q({ metric: 'lead-time' }));
    await queryMetric(l, q({ metric: 'lead-time' }));
    expect(medians).toHaveBeenCalledTimes(1);
    expect(lists).not.toHaveBeenCalled();

    await l.recordDeployment(deployment('p3', { environment: 'prod', started: '2025-03-04T10:00:00.000Z' }));
    const after = await queryMetric(l, q());
    expect(reads).toHaveBeenCalledTimes(3);
    expect(after[0]).toMatchObject({ value: 75, counted: 4 });
  });

  it('keeps at most 64 answers, dropping the least recently asked', async () => {
    const l = await ledgerWith();
    const reads = vi.spyOn(l, 'countDeployments');
    const zones = Array.from({ length: 65 }, (_, i) => `Etc/GMT${i % 2 ? '+' : '-'}${(i % 12) + 1}-${i}`);
    for (const timeZone of zones) await queryMetric(l, q({ timeZone }));
    expect(reads).toHaveBeenCalledTimes(65);
    await queryMetric(l, q({ timeZone: zones[64]! }));
    expect(reads).toHaveBeenCalledTimes(65);
    await queryMetric(l, q({ timeZone: zones[0]! }));
    expect(reads).toHaveBeenCalledTimes(66);
  });
});
