/**
 * The LedgerStore contract (see store.ts), run against every implementation (sqlite.test.ts,
 * memory.test.ts): what is recorded is listed back as recorded, newest first, filtered; writes
 * are idempotent by id; what a store refuses leaves nothing behind; a closed store is not used.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seeded } from '../../test/helpers/seeded.mjs';
import { queryMetric } from './metric-query.js';
import { computeMetric, metricByGroup } from './metrics.js';
import {
  DEPLOYMENT_STATUSES,
  DEPLOYMENT_TYPES,
  type ChangeEvent,
  type DeploymentEvent,
  type DeploymentFilter,
  type LedgerStore,
  type RollbackEvent,
  type StatusCount,
} from './store.js';

/** A store under test, and what removes it afterwards (the store is closed before). */
export interface LedgerUnderTest {
  ledger: LedgerStore;
  cleanup?: () => Promise<void>;
}

/** A completed deployment of web/api in prod, with `over` changed. */
export function deployment(id: string, over: Partial<DeploymentEvent> = {}): DeploymentEvent {
  return {
    id,
    stack: 'web',
    service: 'api',
    version: 'v1',
    environment: 'prod',
    type: 'big-bang',
    started: '2025-03-01T10:00:00.000Z',
    completed: '2025-03-01T10:05:00.000Z',
    status: 'success',
    initiator: 'alice@laptop',
    metadata: { gitCommit: 'abc123' },
    parentId: 'run-1',
    ...over,
  };
}

/** A rollback of web/api in prod from v2 to v1, with `over` changed. */
export function rollback(id: string, over: Partial<RollbackEvent> = {}): RollbackEvent {
  return {
    id,
    stack: 'web',
    service: 'api',
    environment: 'prod',
    fromVersion: 'v2',
    toVersion: 'v1',
    reason: 'error rate above 5%',
    at: '2025-03-01T11:00:00.000Z',
    ...over,
  };
}

export function ledgerStoreContract(name: string, make: () => Promise<LedgerUnderTest>): void {
  describe(`LedgerStore contract: ${name}`, () => {
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

    it('records deployments and lists them back, newest first, as recorded', async () => {
      const a = deployment('d1', { started: '2025-03-01T10:00:00.000Z' });
      const b = deployment('d2', { started: '2025-03-03T10:00:00.000Z', version: 'v2', metadata: { nested: { n: 1, list: [1, 'x'] } } });
      const c = deployment('d3', { started: '2025-03-02T10:00:00.000Z', completed: null, status: 'in-progress', parentId: null });
      for (const d of [a, b, c]) await ledger.recordDeployment(d);
      expect(await ledger.listDeployments()).toEqual([b, c, a]);
    });

    it('lists deployments started at the same time by id', async () => {
      for (const id of ['d3', 'd1', 'd2']) await ledger.recordDeployment(deployment(id));
      await ledger.recordDeployment(deployment('d0', { started: '2025-03-01T09:00:00.000Z' }));
      expect(await ids({})).toEqual(['d1', 'd2', 'd3', 'd0']);
    });

    it('filters deployments by stack, service, environment, status, type, since, until and limit', async () => {
      const all = [
        deployment('d1', { started: '2025-03-01T00:00:00.000Z' }),
        deployment('d2', { started: '2025-03-02T00:00:00.000Z', service: 'worker' }),
        deployment('d3', { started: '2025-03-03T00:00:00.000Z', environment: 'staging' }),
        deployment('d4', { started: '2025-03-04T00:00:00.000Z', status: 'failed' }),
        deployment('d5', { started: '2025-03-05T00:00:00.000Z', stack: 'billing', type: 'canary' }),
        deployment('d6', { started: '2025-03-06T00:00:00.000Z', status: 'rolled-back', service: 'worker' }),
      ];
      for (const d of all) await ledger.recordDeployment(d);

      expect(await ids({})).toEqual(['d6', 'd5', 'd4', 'd3', 'd2', 'd1']);
      expect(await ids({ stack: 'web' })).toEqual(['d6', 'd4', 'd3', 'd2', 'd1']);
      expect(await ids({ stack: 'billing' })).toEqual(['d5']);
      expect(await ids({ service: 'worker' })).toEqual(['d6', 'd2']);
      expect(await ids({ environment: 'staging' })).toEqual(['d3']);
      expect(await ids({ status: 'failed' })).toEqual(['d4']);
      expect(await ids({ status: 'in-progress' })).toEqual([]);
      expect(await ids({ since: '2025-03-04T00:00:00.000Z' })).toEqual(['d6', 'd5', 'd4']);
      expect(await ids({ limit: 2 })).toEqual(['d6', 'd5']);
      expect(await ids({ type: 'canary' })).toEqual(['d5']);
      // Both bounds are inclusive.
      expect(await ids({ since: '2025-03-02T00:00:00.000Z', until: '2025-03-04T00:00:00.000Z' })).toEqual(['d4', 'd3', 'd2']);
      expect(await ids({ until: '2025-03-01T00:00:00.000Z' })).toEqual(['d1']);
      expect(await ids({ stack: 'web', environment: 'prod', service: 'api', since: '2025-03-02T00:00:00.000Z' })).toEqual(['d4']);
      expect(await ids({ service: 'worker', status: 'success' })).toEqual(['d2']);
      expect(await ids({ stack: 'web', limit: 1 })).toEqual(['d6']);
    });

    it('keeps one row per deployment id: recorded in progress, then completed', async () => {
      const started = deployment('d1', { completed: null, status: 'in-progress', metadata: { step: 'started' } });
      await ledger.recordDeployment(started);
      expect(await ids({ status: 'in-progress' })).toEqual(['d1']);

      const done = {
        ...started,
        completed: '2025-03-01T10:07:00.000Z',
        status: 'success' as const,
        metadata: { step: 'done', results: { 'web/api': 'created' } },
      };
      await ledger.recordDeployment(done);
      await ledger.recordDeployment(done);
      expect(await ledger.listDeployments()).toEqual([done]);
      expect(await ledger.listDeployments({ status: 'in-progress' })).toEqual([]);
    });

    it('a deployment recorded again keeps where, when and by whom it started, and takes its new version and outcome', async () => {
      await ledger.recordDeployment(deployment('d1', { completed: null, status: 'in-progress' }));
      const again = deployment('d1', {
        stack: 'other',
        service: 'worker',
        environment: 'staging',
        type: 'canary',
        started: '2025-04-01T00:00:00.000Z',
        initiator: 'bob@ci',
        parentId: 'run-2',
        version: 'v9',
        status: 'failed',
        metadata: { reason: 'died' },
      });
      await ledger.recordDeployment(again);
      expect(await ledger.listDeployments()).toEqual([deployment('d1', { version: 'v9', status: 'failed', metadata: { reason: 'died' } })]);
    });

    it('records rollbacks, idempotent by id, and filters them', async () => {
      const r1 = rollback('r1', { at: '2025-03-01T11:00:00.000Z' });
      const r2 = rollback('r2', { at: '2025-03-02T11:00:00.000Z', service: 'worker' });
      const r3 = rollback('r3', { at: '2025-03-03T11:00:00.000Z', environment: 'staging' });
      for (const r of [r1, r2, r3, r1]) await ledger.recordRollback(r);
      expect(await ledger.listRollbacks()).toEqual([r3, r2, r1]);
      expect(await ledger.listRollbacks({ service: 'worker' })).toEqual([r2]);
      expect(await ledger.listRollbacks({ environment: 'prod' })).toEqual([r2, r1]);
      expect(await ledger.listRollbacks({ stack: 'billing' })).toEqual([]);
      expect(await ledger.listRollbacks({ since: '2025-03-02T00:00:00.000Z' })).toEqual([r3, r2]);
      expect(await ledger.listRollbacks({ until: '2025-03-02T11:00:00.000Z' })).toEqual([r2, r1]);
      expect(await ledger.listRollbacks({ limit: 1 })).toEqual([r3]);
      // Rollbacks are not deployments.
      expect(await ledger.listDeployments()).toEqual([]);
    });

    it('a rollback recorded again replaces it; rollbacks at the same time are listed by id', async () => {
      await ledger.recordRollback(rollback('r2'));
      await ledger.recordRollback(rollback('r1', { reason: 'first' }));
      await ledger.recordRollback(rollback('r1', { reason: 'second', toVersion: 'v0' }));
      expect(await ledger.listRollbacks()).toEqual([rollback('r1', { reason: 'second', toVersion: 'v0' }), rollback('r2')]);
    });

    it('refuses a deployment of no known type or status, and records nothing for it', async () => {
      await expect(ledger.recordDeployment(deployment('d1', { status: 'exploded' as DeploymentEvent['status'] }))).rejects.toThrow();
      await expect(ledger.recordDeployment(deployment('d2', { type: 'yolo' as DeploymentEvent['type'] }))).rejects.toThrow();
      expect(await ledger.listDeployments()).toEqual([]);
    });

    it('hands out copies: changing a recorded or a listed event changes nothing recorded', async () => {
      const recorded = deployment('d1', { metadata: { results: { 'web/api': 'created' } } });
      const r = rollback('r1');
      await ledger.recordDeployment(recorded);
      await ledger.recordRollback(r);
      recorded.status = 'failed';
      (recorded.metadata['results'] as Record<string, string>)['web/api'] = 'failed';
      r.reason = 'tampered';
      const [listed] = await ledger.listDeployments();
      listed!.version = 'v9';
      listed!.metadata['extra'] = true;
      (await ledger.listRollbacks())[0]!.toVersion = 'v9';
      expect(await ledger.listDeployments()).toEqual([deployment('d1', { metadata: { results: { 'web/api': 'created' } } })]);
      expect(await ledger.listRollbacks()).toEqual([rollback('r1')]);
    });

    it('keeps every write in its audit history, a status change as a new revision, and verifies it', async () => {
      expect(await ledger.verify()).toEqual({ ok: true, rows: 0, problems: [] });
      await ledger.recordDeployment(deployment('d1', { status: 'in-progress', completed: null }));
      await ledger.recordRollback(rollback('r1'));
      await ledger.recordDeployment(deployment('d1', { status: 'success' }));
      await ledger.recordDeployment(deployment('d2'));
      // Three deployments written (one of them twice) and a rollback: four rows, all intact.
      expect(await ledger.verify()).toEqual({ ok: true, rows: 4, problems: [] });
      expect((await ledger.listDeployments()).map((d) => [d.id, d.status])).toEqual(
        expect.arrayContaining([
          ['d1', 'success'],
          ['d2', 'success'],
        ]),
      );
    });

    it('records a batch as the writes one by one would, a record written twice in it included', async () => {
      const batch = {
        deployments: [
          deployment('d1', { status: 'in-progress', completed: null }),
          deployment('d2', { started: '2025-03-02T10:00:00.000Z' }),
          deployment('d1', { status: 'failed', metadata: { why: 'health' } }),
        ],
        rollbacks: [rollback('r1'), rollback('r1', { reason: 'again' })],
      };
      await ledger.recordMany(batch);
      expect(await ledger.listDeployments()).toEqual([
        deployment('d2', { started: '2025-03-02T10:00:00.000Z' }),
        deployment('d1', { status: 'failed', metadata: { why: 'health' } }),
      ]);
      expect(await ledger.listRollbacks()).toEqual([rollback('r1', { reason: 'again' })]);
      expect(await ledger.verify()).toEqual({ ok: true, rows: 5, problems: [] });
      await ledger.recordMany({});
      expect(await ledger.verify()).toEqual({ ok: true, rows: 5, problems: [] });
    });

    it('a batch with one record refused writes nothing of it', async () => {
      await ledger.recordDeployment(deployment('d0'));
      const bad = deployment('d3', { status: 'exploded' as DeploymentEvent['status'] });
      await expect(
        ledger.recordMany({ deployments: [deployment('d1'), deployment('d2'), bad], rollbacks: [rollback('r1')] }),
      ).rejects.toThrow();
      expect(await ids({})).toEqual(['d0']);
      expect(await ledger.listRollbacks()).toEqual([]);
      expect(await ledger.verify()).toEqual({ ok: true, rows: 1, problems: [] });
    });

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

    it('once closed, refuses to be used', async () => {
      await ledger.recordDeployment(deployment('d1'));
      await ledger.close();
      await expect(ledger.recordDeployment(deployment('d2'))).rejects.toThrow();
      await expect(ledger.recordRollback(rollback('r1'))).rejects.toThrow();
      await expect(ledger.listDeployments()).rejects.toThrow();
      await expect(ledger.listRollbacks()).rejects.toThrow();
      await expect(ledger.recordMany({ deployments: [deployment('d3')] })).rejects.toThrow();
    });
  });
}
