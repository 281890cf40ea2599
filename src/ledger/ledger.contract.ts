/**
 * The LedgerStore contract (see store.ts), run against every implementation (sqlite.test.ts,
 * memory.test.ts): what is recorded is listed back as recorded, newest first, filtered; writes
 * are idempotent by id; what a store refuses leaves nothing behind; a closed store is not used.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ledgerMetricsContract } from './ledger-metrics.contract.js';
import { ledgerModelContract } from './ledger-model.contract.js';
import type { DeploymentEvent, DeploymentFilter, LedgerStore, RollbackEvent } from './store.js';

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

/**
 * A failure and its restore, and a deployment shipping one commit: d1 failed at 10:05 and the
 * rollback r1 restored it at 11:00 (recovery 3300 s); d2 shipped c1 two hours after its commit
 * (lead time 7200 s).
 */
export function failureRestoredAndCommitShipped(): { deployments: DeploymentEvent[]; rollbacks: RollbackEvent[] } {
  return {
    deployments: [
      deployment('d1', { status: 'failed', started: '2025-03-01T10:00:00.000Z', completed: '2025-03-01T10:05:00.000Z' }),
      deployment('d2', {
        started: '2025-03-01T12:00:00.000Z',
        completed: '2025-03-01T12:05:00.000Z',
        metadata: { changes: [{ commit: 'c1', committedAt: '2025-03-01T10:05:00.000Z' }] },
      }),
    ],
    rollbacks: [rollback('r1', { at: '2025-03-01T11:00:00.000Z' })],
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

    it('an environment takes in its regions (prod/eu-west-1 is in prod), and nothing that only starts like it', async () => {
      await ledger.recordDeployment(deployment('d1', { environment: 'prod' }));
      await ledger.recordDeployment(deployment('d2', { environment: 'prod/eu-west-1', started: '2025-03-02T00:00:00.000Z' }));
      await ledger.recordDeployment(deployment('d3', { environment: 'production', started: '2025-03-03T00:00:00.000Z' }));
      await ledger.recordDeployment(deployment('d4', { environment: 'prod-eu', started: '2025-03-04T00:00:00.000Z' }));
      await ledger.recordRollback(rollback('r1', { environment: 'prod/us-east-1' }));
      expect(await ids({ environment: 'prod' })).toEqual(['d2', 'd1']);
      expect(await ids({ environment: 'prod/eu-west-1' })).toEqual(['d2']);
      expect((await ledger.listRollbacks({ environment: 'prod' })).map((r) => r.id)).toEqual(['r1']);
      const counted = await ledger.countDeployments({
        since: '2025-01-01T00:00:00.000Z',
        until: '2025-12-31T00:00:00.000Z',
        environments: ['prod'],
      });
      expect(counted.reduce((n, c) => n + c.count, 0)).toBe(2);
    });

    it("finds a deployment by id, a run's deployments by the run, and the rollbacks that undid a deployment", async () => {
      await ledger.recordDeployment(deployment('d1', { parentId: 'run-a' }));
      await ledger.recordDeployment(deployment('d2', { parentId: 'run-a', service: 'worker', started: '2025-03-01T10:00:01.000Z' }));
      await ledger.recordDeployment(deployment('d3', { parentId: 'run-b' }));
      await ledger.recordRollback(rollback('r1', { deploymentId: 'd1' }));
      await ledger.recordRollback(rollback('r2', { deploymentId: 'd3' }));
      expect(await ids({ id: 'd2' })).toEqual(['d2']);
      expect(await ids({ id: 'nope' })).toEqual([]);
      expect(await ids({ parentId: 'run-a' })).toEqual(['d2', 'd1']);
      expect(await ids({ parentId: 'run-a', service: 'api' })).toEqual(['d1']);
      expect((await ledger.listRollbacks({ deploymentId: 'd1' })).map((r) => r.id)).toEqual(['r1']);
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
  ledgerModelContract(name, make);
  ledgerMetricsContract(name, make);
}
