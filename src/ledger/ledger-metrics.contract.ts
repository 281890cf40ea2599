/**
 * The LedgerStore contract, its metrics (ledger.contract.ts runs it on every store): whatever a
 * store keeps to answer quickly (the SQL stores' aggregates, migration 7), every metric it gives
 * is the one metrics.ts computes from the records it lists. Records are written out of time
 * order, then rewritten (statuses, completions, commits, rollbacks moved), and asked over whole
 * months, ragged windows and one day, by service and environment.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seeded } from '../../test/helpers/seeded.mjs';
import { deployment, rollback, type LedgerUnderTest } from './ledger.contract.js';
import { queryMetric, type MetricQuery } from './metric-query.js';
import { computeMetric, metricByGroup, METRIC_NAMES, type GroupBy, type MetricWindow } from './metrics.js';
import { DEPLOYMENT_STATUSES, type DeploymentEvent, type DeploymentStatus, type LedgerStore, type RollbackEvent } from './store.js';

const DAY = 86_400_000;
const START = Date.UTC(2025, 0, 1);
const iso = (ms: number): string => new Date(ms).toISOString();

/** A history of several services and environments over five months, with what a metric must handle. */
function history(seed: number): { deployments: DeploymentEvent[]; rollbacks: RollbackEvent[] } {
  const random = seeded(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const deployments = Array.from({ length: 400 }, (_, i) => {
    const started = START + Math.floor(random() * 150 * DAY);
    const status = pick<DeploymentStatus>([...DEPLOYMENT_STATUSES, 'success', 'success', 'failed']);
    const unfinished = status === 'pending' || status === 'in-progress';
    // Some failures have no completion: a failure then ends at its start.
    const completed = unfinished || (status === 'failed' && random() < 0.1) ? null : iso(started + Math.floor(random() * 7200_000));
    const commits = Array.from({ length: Math.floor(random() * 4) }, (_, n) => ({
      commit: `c${i}-${n}`,
      // A few after the deployment's end (clock skew), and some exactly at it.
      committedAt: iso(started - Math.floor(random() * 3 * DAY) + (random() < 0.05 ? 3 * DAY : 0)),
    }));
    const metadata: Record<string, unknown> =
      random() < 0.15 ? { commit_time: iso(started - 3600_000) } : commits.length ? { changes: commits } : { gitCommit: 'abc' };
    const operation = random() < 0.05 ? { operation: pick(['destroy', 'restart'] as const) } : {};
    return deployment(`d${i}`, {
      service: pick(['api', 'worker', 'web']),
      environment: pick(['prod', 'production', 'staging']),
      started: iso(started),
      completed,
      status,
      metadata,
      ...operation,
    });
  });
  const rollbacks = Array.from({ length: 50 }, (_, i) =>
    rollback(`r${i}`, {
      service: pick(['api', 'worker', 'web']),
      environment: pick(['prod', 'production', 'staging']),
      at: iso(START + Math.floor(random() * 150 * DAY)),
    }),
  );
  return { deployments, rollbacks };
}

/** Windows the aggregates split differently: whole months, ragged ends, one day, exactly one month, nothing. */
const WINDOWS: MetricWindow[] = [
  { from: iso(START), to: iso(START + 200 * DAY) },
  { from: '2025-01-17T03:00:00.000Z', to: '2025-04-09T12:00:00.000Z' },
  { from: '2025-02-03T00:00:00.000Z', to: '2025-02-20T00:00:00.000Z' },
  { from: '2025-03-01T00:00:00.000Z', to: '2025-03-31T23:59:59.999Z' },
  { from: '2025-02-10T00:00:00.000Z', to: '2025-02-10T23:59:59.999Z' },
  { from: '2026-01-01T00:00:00.000Z', to: '2026-03-01T00:00:00.000Z' },
];

const FILTERS: Array<Pick<MetricQuery, 'service' | 'environments'>> = [
  {},
  { environments: 'all' },
  { environments: { only: 'staging' } },
  { service: 'api' },
  { service: 'web', environments: 'all' },
];

/** What metrics.ts computes from the records the store lists, for the query's service and environments (and groups). */
async function fromListed(ledger: LedgerStore, q: MetricQuery): Promise<unknown> {
  const envs = q.environments ?? 'production';
  const asked = (e: { service: string; environment: string }): boolean =>
    (!q.service || e.service === q.service) &&
    (envs === 'all' || (envs === 'production' ? ['prod', 'production'].includes(e.environment) : e.environment === envs.only));
  const deployments = (await ledger.listDeployments()).filter((d) => !d.operation && asked(d));
  const rollbacks = (await ledger.listRollbacks()).filter(asked);
  const options = { window: q.window, timeZone: q.timeZone };
  if (q.groupBy) return metricByGroup(q.metric, deployments, rollbacks, options, q.groupBy);
  return [{ group: 'all', ...computeMetric(q.metric, deployments, rollbacks, options) }];
}

export function ledgerMetricsContract(name: string, make: () => Promise<LedgerUnderTest>): void {
  describe(`LedgerStore contract (metrics): ${name}`, () => {
    let ledger: LedgerStore;
    let cleanup: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      ({ ledger, cleanup } = await make());
    });
    afterEach(async () => {
      await ledger.close();
      await cleanup?.();
    });

    const expectAgreement = async (when: string): Promise<void> => {
      for (const window of WINDOWS)
        for (const filter of FILTERS)
          for (const metric of METRIC_NAMES) {
            const q: MetricQuery = { metric, window, timeZone: 'UTC', ...filter };
            expect(await queryMetric(ledger, q), `${when}: ${metric} ${JSON.stringify({ window, ...filter })}`).toEqual(
              await fromListed(ledger, q),
            );
          }
      // By group: lead and recovery times from the listed records, counted ones by week too.
      for (const window of WINDOWS.slice(0, 3))
        for (const filter of FILTERS.slice(0, 4))
          for (const groupBy of ['type', 'service', 'environment', 'week'] as const satisfies readonly GroupBy[])
            for (const metric of ['lead-time', 'mttr', 'frequency'] as const) {
              const q: MetricQuery = { metric, window, timeZone: 'UTC', groupBy, ...filter };
              expect(await queryMetric(ledger, q), `${when}: ${metric} by ${groupBy} ${JSON.stringify({ window, ...filter })}`).toEqual(
                await fromListed(ledger, q),
              );
            }
    };

    it('every metric is what the listed records say, written out of order and rewritten', async () => {
      const { deployments, rollbacks } = history(13);
      const random = seeded(14);
      const shuffled = [...deployments].sort(() => random() - 0.5);
      // In several writes, rollbacks between them: restores arrive before and after the failures they end.
      await ledger.recordMany({ deployments: shuffled.slice(0, 150), rollbacks: rollbacks.slice(0, 20) });
      await ledger.recordMany({ deployments: shuffled.slice(150) });
      for (const r of rollbacks.slice(20)) await ledger.recordRollback(r);
      await expectAgreement('as written');

      // Rewritten: statuses change both ways, completions and commits move, rollbacks move in time.
      const rewritten = shuffled.slice(0, 120).map((d, i) => ({
        ...d,
        status: (['success', 'rolled-back', 'failed'] as const)[i % 3]!,
        completed: iso(Date.parse(d.started) + (i + 1) * 60_000),
        metadata: i % 4 === 0 ? {} : { changes: [{ commit: `x${i}`, committedAt: iso(Date.parse(d.started) - i * 1000) }] },
      }));
      await ledger.recordMany({
        deployments: rewritten,
        rollbacks: rollbacks.slice(0, 15).map((r, i) => ({ ...r, at: iso(Date.parse(r.at) + (i - 7) * DAY) })),
      });
      await expectAgreement('rewritten');
    });

    it('a median is exact however many values share its neighbourhood', async () => {
      // 302 lead times a millisecond apart just above an hour, and one far away: the median is the 152nd value.
      const close = Array.from({ length: 302 }, (_, i) =>
        deployment(`m${i}`, {
          started: '2025-02-10T10:00:00.000Z',
          completed: '2025-02-10T11:00:00.000Z',
          metadata: { changes: [{ commit: `c${i}`, committedAt: iso(Date.parse('2025-02-10T10:00:00.000Z') - i) }] },
        }),
      );
      await ledger.recordMany({ deployments: [...close, deployment('far', { metadata: { commit_time: '2024-01-01T00:00:00.000Z' } })] });
      const window = { from: '2025-01-01T00:00:00.000Z', to: '2025-03-31T23:59:59.999Z' };
      const [lead] = await queryMetric(ledger, { metric: 'lead-time', window, timeZone: 'UTC' });
      expect(lead).toMatchObject({ value: 3600.151, counted: 303 });
    });
  });
}
