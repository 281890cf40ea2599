/**
 * The LedgerStore contract, its second half (ledger.contract.ts runs it on every store): the
 * ledger's revision, status counts that agree with its listed records, changes pending
 * deployment, registered deployment types, the pending status and the deployment a rollback undid.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seeded } from '../../test/helpers/seeded.mjs';
import { deployment, rollback, type LedgerUnderTest } from './ledger.contract.js';
import { queryMetric } from './metric-query.js';
import { computeMetric, metricByGroup } from './metrics.js';
import {
  DEPLOYMENT_STATUSES,
  DEPLOYMENT_TYPES,
  DRIFT_TYPE,
  type ChangeEvent,
  type DeploymentEvent,
  type DeploymentFilter,
  type LedgerStore,
  type StatusCount,
} from './store.js';

export function ledgerModelContract(name: string, make: () => Promise<LedgerUnderTest>): void {
  describe(`LedgerStore contract (records and counts): ${name}`, () => {
    let ledger: LedgerStore;
    let cleanup: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      ({ ledger, cleanup } = await make());
    });
    afterEach(async () => {
      await ledger.close();
      await cleanup?.();
    });

    const ids = async (f: DeploymentFilter): Promise<string[]> => (await ledger.listDeployments(f)).map((d) => d.id);

    it('its revision changes with every write, and only then', async () => {
      const empty = await ledger.revision();
      expect(await ledger.revision()).toBe(empty);
      await ledger.recordDeployment(deployment('d1'));
      const one = await ledger.revision();
      expect(one).not.toBe(empty);
      await ledger.listDeployments();
      await ledger.verify();
      expect(await ledger.revision()).toBe(one);
      // The same record written again is a new revision of it: the ledger changed.
      await ledger.recordDeployment(deployment('d1'));
      expect(await ledger.revision()).not.toBe(one);
      const before = await ledger.revision();
      await ledger.recordRollback(rollback('r1'));
      expect(await ledger.revision()).not.toBe(before);
    });

    it('counts deployments by status and group as its listed records say; counted metrics agree with listed ones', async () => {
      const random = seeded(7);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
      const all = Array.from({ length: 300 }, (_, i) =>
        deployment(`d${i}`, {
          service: pick(['api', 'worker', 'web']),
          environment: pick(['prod', 'production', 'staging']),
          type: pick(DEPLOYMENT_TYPES),
          status: pick(DEPLOYMENT_STATUSES),
          started: new Date(Date.UTC(2025, 2, 1) + Math.floor(random() * 40 * 86_400_000)).toISOString(),
        }),
      );
      await ledger.recordMany({ deployments: all });
      const window = { from: '2025-03-05T00:00:00.000Z', to: '2025-03-31T23:59:59.999Z' };
      const listed = await ledger.listDeployments();
      const inWindow = listed.filter((d) => d.started >= window.from && d.started <= window.to);
      const byHand = (keep: (d: DeploymentEvent) => boolean, key: (d: DeploymentEvent) => string) => {
        const out: Record<string, number> = {};
        for (const d of inWindow.filter(keep)) out[`${key(d)} ${d.status}`] = (out[`${key(d)} ${d.status}`] ?? 0) + 1;
        return out;
      };
      const asMap = (counts: StatusCount[]) => Object.fromEntries(counts.map((c) => [`${c.group} ${c.status}`, c.count]));
      const span = { since: window.from, until: window.to };
      expect(asMap(await ledger.countDeployments(span))).toEqual(
        byHand(
          () => true,
          () => 'all',
        ),
      );
      expect(asMap(await ledger.countDeployments({ ...span, groupBy: 'type' }))).toEqual(
        byHand(
          () => true,
          (d) => d.type,
        ),
      );
      expect(asMap(await ledger.countDeployments({ ...span, environments: ['prod', 'production'], groupBy: 'service' }))).toEqual(
        byHand(
          (d) => d.environment !== 'staging',
          (d) => d.service,
        ),
      );
      expect(asMap(await ledger.countDeployments({ ...span, service: 'api', groupBy: 'environment' }))).toEqual(
        byHand(
          (d) => d.service === 'api',
          (d) => d.environment,
        ),
      );
      expect(await ledger.countDeployments({ ...span, environments: [] })).toEqual([]);

      for (const metric of ['frequency', 'change-failure-rate', 'success-rate'] as const) {
        for (const groupBy of [undefined, 'type', 'service', 'environment'] as const) {
          const counted = await queryMetric(ledger, {
            metric,
            window,
            timeZone: 'Europe/Berlin',
            environments: 'all',
            ...(groupBy ? { groupBy } : {}),
          });
          const options = { window, timeZone: 'Europe/Berlin' };
          const fromList = groupBy
            ? metricByGroup(metric, listed, [], options, groupBy)
            : [{ group: 'all', ...computeMetric(metric, listed, [], options) }];
          expect(counted, `${metric} by ${groupBy ?? 'nothing'}`).toEqual(fromList);
        }
      }
    });

    it('keeps changes by repository and commit, pending until a run ships them', async () => {
      const change = (commit: string, committedAt: string, repo = 'git@example.com:shop.git'): ChangeEvent => ({
        repo,
        commit,
        committedAt,
        recordedAt: '2025-03-01T12:00:00.000Z',
        shippedBy: null,
      });
      expect(await ledger.recordChanges([])).toBe(0);
      expect(
        await ledger.recordChanges([
          change('bbb', '2025-03-01T10:00:00.000Z'),
          change('aaa', '2025-03-01T09:00:00.000Z'),
          change('ccc', '2025-03-01T09:00:00.000Z'),
          change('zzz', '2025-03-01T08:00:00.000Z', '/home/dev/other'),
        ]),
      ).toBe(4);
      // Recorded again (a post-merge hook after the post-commit one): kept as it was, not counted.
      expect(await ledger.recordChanges([{ ...change('aaa', '2025-03-05T00:00:00.000Z'), recordedAt: 'later' }])).toBe(0);
      const pending = async (repo = 'git@example.com:shop.git'): Promise<string[]> =>
        (await ledger.pendingChanges(repo)).map((c) => `${c.commit}@${c.committedAt.slice(11, 16)}`);
      expect(await pending()).toEqual(['aaa@09:00', 'ccc@09:00', 'bbb@10:00']);
      expect(await ledger.pendingChanges('/home/dev/other')).toEqual([change('zzz', '2025-03-01T08:00:00.000Z', '/home/dev/other')]);

      await ledger.shipChanges('git@example.com:shop.git', ['aaa', 'bbb', 'unknown'], 'run-1');
      expect(await pending()).toEqual(['ccc@09:00']);
      // Shipped already: a later run does not take it over.
      await ledger.shipChanges('git@example.com:shop.git', ['aaa', 'ccc'], 'run-2');
      expect(await pending()).toEqual([]);
      expect(await pending('/home/dev/other')).toEqual(['zzz@08:00']);
    });

    it('takes deployments of a registered type, refuses an unregistered one, and never re-registers a built-in one', async () => {
      expect((await ledger.deploymentTypes()).map((t) => [t.name, t.builtin])).toEqual(DEPLOYMENT_TYPES.map((n) => [n, true]));
      await expect(ledger.recordDeployment(deployment('d1', { type: 'shadow' }))).rejects.toThrow();
      await ledger.registerType('shadow', 'mirrored traffic, responses dropped');
      await ledger.registerType('feature-flag', 'switched on by a flag');
      await ledger.registerType('shadow', 'mirrored traffic');
      expect((await ledger.deploymentTypes()).slice(4)).toEqual([
        { name: 'feature-flag', description: 'switched on by a flag', builtin: false },
        { name: 'shadow', description: 'mirrored traffic', builtin: false },
      ]);
      await ledger.recordDeployment(deployment('d1', { type: 'shadow' }));
      expect(await ids({ type: 'shadow' })).toEqual(['d1']);
      await expect(ledger.registerType('canary', 'mine now')).rejects.toThrow(/built-in deployment type/);
      await expect(ledger.registerType('Not A Name', 'x')).rejects.toThrow(/is not a deployment type name/);
      expect((await ledger.deploymentTypes()).find((t) => t.name === 'canary')?.builtin).toBe(true);
    });

    it('keeps the pending status, and the deployment a rollback undid (absent when not known)', async () => {
      await ledger.recordDeployment(deployment('d1', { status: 'pending', completed: null }));
      expect(await ids({ status: 'pending' })).toEqual(['d1']);
      await ledger.recordRollback(rollback('r1', { deploymentId: 'd1' }));
      await ledger.recordRollback(rollback('r2', { at: '2025-03-01T12:00:00.000Z' }));
      expect(await ledger.listRollbacks()).toEqual([
        rollback('r2', { at: '2025-03-01T12:00:00.000Z' }),
        rollback('r1', { deploymentId: 'd1' }),
      ]);
      expect('deploymentId' in (await ledger.listRollbacks({ limit: 1 }))[0]!).toBe(false);
      expect(await ledger.verify()).toEqual({ ok: true, rows: 3, problems: [] });
    });

    it('keeps a destroy, a restart and a drift check, lists them, and counts them in no metric', async () => {
      await ledger.recordMany({
        deployments: [
          deployment('d1'),
          deployment('x1', { operation: 'destroy', started: '2025-03-01T11:00:00.000Z', version: 'v1 (destroyed)' }),
          deployment('x2', { operation: 'restart', started: '2025-03-01T12:00:00.000Z', status: 'failed' }),
          deployment('x3', {
            operation: 'drift',
            type: DRIFT_TYPE,
            started: '2025-03-01T13:00:00.000Z',
            metadata: { drift: { status: 'drifted' } },
          }),
        ],
      });
      expect((await ledger.listDeployments()).map((d) => [d.id, d.operation ?? 'deploy'])).toEqual([
        ['x3', 'drift'],
        ['x2', 'restart'],
        ['x1', 'destroy'],
        ['d1', 'deploy'],
      ]);
      // Recorded again, a destroy stays a destroy (what a run did is kept from its first record).
      await ledger.recordDeployment(deployment('x1', { version: 'v1 (destroyed)', started: '2025-03-01T11:00:00.000Z' }));
      expect((await ledger.listDeployments()).find((d) => d.id === 'x1')?.operation).toBe('destroy');
      expect(await ledger.countDeployments({ since: '2025-01-01T00:00:00.000Z', until: '2025-12-31T00:00:00.000Z' })).toEqual([
        { group: 'all', status: 'success', count: 1 },
      ]);
      const window = { from: '2025-03-01T00:00:00.000Z', to: '2025-03-31T00:00:00.000Z' };
      const [cfr] = await queryMetric(ledger, { metric: 'change-failure-rate', window, timeZone: 'UTC' });
      expect(cfr).toMatchObject({ value: 0, counted: 1 });
      const [mttr] = await queryMetric(ledger, { metric: 'mttr', window, timeZone: 'UTC' });
      expect(mttr).toMatchObject({ value: null, counted: 0, notes: [] });
      expect(await ledger.verify()).toEqual({ ok: true, rows: 5, problems: [] });
      // The drift type is no deployment type: not listed, never registered.
      expect((await ledger.deploymentTypes()).map((t) => t.name)).not.toContain(DRIFT_TYPE);
      await expect(ledger.registerType(DRIFT_TYPE, 'mine')).rejects.toThrow(/built-in deployment type/);
    });

    it('lead time and recovery time from what listForMetrics reads agree with the same metrics over every record whole', async () => {
      const random = seeded(11);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
      const base = Date.UTC(2025, 2, 1);
      const at = (hours: number): string => new Date(base + Math.floor(hours * 3_600_000)).toISOString();
      const all = Array.from({ length: 200 }, (_, i) => {
        const started = random() * 40 * 24;
        const commits = Array.from({ length: Math.floor(random() * 3) }, () => ({
          commit: `c${i}`,
          committedAt: at(started - random() * 48 + 1),
        }));
        return deployment(`d${i}`, {
          service: pick(['api', 'worker']),
          environment: pick(['prod', 'production', 'staging']),
          status: pick(DEPLOYMENT_STATUSES),
          started: at(started),
          completed: at(started + random()),
          metadata: i % 7 === 0 ? { commit_time: at(started - 2), note: 'x' } : { changes: commits, actions: { a: 'create' } },
          ...(i % 11 === 0 ? { operation: 'destroy' as const } : {}),
        });
      });
      const rollbacks = Array.from({ length: 20 }, (_, i) =>
        rollback(`r${i}`, { service: pick(['api', 'worker']), environment: pick(['prod', 'staging']), at: at(random() * 45 * 24) }),
      );
      await ledger.recordMany({ deployments: all, rollbacks });
      const window = { from: '2025-03-05T00:00:00.000Z', to: '2025-03-31T23:59:59.999Z' };
      const everything = (await ledger.listDeployments()).filter((d) => !d.operation);
      const everyRollback = await ledger.listRollbacks();
      for (const metric of ['lead-time', 'mttr'] as const) {
        for (const environments of ['all', 'production', { only: 'staging' }] as const) {
          const keep = (env: string): boolean =>
            environments === 'all' ? true : environments === 'production' ? env !== 'staging' : env === environments.only;
          const [fast] = await queryMetric(ledger, { metric, window, timeZone: 'UTC', environments });
          const whole = computeMetric(
            metric,
            everything.filter((d) => keep(d.environment)),
            everyRollback.filter((r) => keep(r.environment)),
            { window },
          );
          expect(fast, `${metric} over ${JSON.stringify(environments)}`).toEqual({ group: 'all', ...whole });
        }
      }
    });
  });
}
