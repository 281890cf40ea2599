/** A run's events as audit records: every action, in order, with the seed's fields, and nothing of the configuration. */
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../executor/events.js';
import type { AuditRecord } from '../util/audit-log.js';
import { auditing } from './audit.js';

const lock = {
  lockKey: 'stack:shop:env:prod',
  lockId: 'l-1',
  lockedBy: 'ci@runner',
  lockedAt: new Date(),
  expiresAt: new Date(),
  metadata: {},
};
const plan = {
  stack: 'shop',
  environment: 'prod',
  lineage: null,
  serial: 4,
  actions: [],
  waves: [],
  summary: { create: 0, update: 1, replace: 0, delete: 0, noop: 0 },
};

function audited(events: RunEvent[], rollback = false): AuditRecord[] {
  const records: AuditRecord[] = [];
  const seen: RunEvent[] = [];
  const listener = auditing(
    {
      log: { write: (r) => records.push(r) },
      runId: 'run-1',
      user: 'ci@runner',
      correlationId: 'corr-1',
      stack: 'shop',
      environment: 'prod',
      rollback,
    },
    (e) => seen.push(e),
  );
  for (const e of events) listener(e);
  expect(seen).toEqual(events); // the run's own listener still gets everything
  return records;
}

describe('the audit trail of a run', () => {
  it('records every action of an apply, in order, each with the seed fields', () => {
    const records = audited([
      { type: 'lock-acquired', locks: [lock] },
      { type: 'plan', plan },
      { type: 'build-done', id: 'web/api', build: { cache: 'miss', key: 'k1', digest: 'sha256:aa', durationMs: 120 } },
      { type: 'gate', id: 'web/api', verdict: { gate: 'security-scan', status: 'passed', summary: 'trivy report: no findings' } },
      { type: 'lock-renewed', locks: [lock] },
      {
        type: 'component-rollout',
        id: 'web/api',
        rollout: {
          generation: 2,
          strategy: 'rolling',
          startedAt: '2026-12-06T10:00:00.000Z',
          verifiedAt: '2026-12-06T10:00:01.500Z',
          switchedAt: '2026-12-06T10:00:02.000Z',
          finishedAt: '2026-12-06T10:00:02.100Z',
        },
      },
      {
        type: 'component-done',
        report: {
          id: 'web/api',
          action: 'update',
          result: 'updated',
          engine: true,
          durationMs: 2400,
          artifact: 'sha256:aa',
          outputs: { password: 'hunter2hunter2' },
        },
      },
      { type: 'component-done', report: { id: 'web/assets', action: 'no-op', result: 'unchanged', engine: false } },
      {
        type: 'summary',
        summary: {
          runId: 'run-1',
          operation: 'apply',
          stack: 'shop',
          environment: 'prod',
          ok: true,
          counts: {} as never,
          engineOperations: 1,
          durationMs: 4000,
          components: [],
          serial: 5,
        },
      },
      { type: 'lock-released', locks: [lock] },
    ]);
    expect(records.map((r) => `${r.event_type} ${r.status}${r.component ? ` ${r.component}` : ''}`)).toEqual([
      'lock-acquire ok',
      'plan made',
      'build built web/api',
      'gate passed web/api',
      'lock-renew ok',
      'verify healthy web/api',
      'switch switched web/api',
      'deploy updated web/api',
      'apply success',
      'lock-release ok',
    ]);
    for (const r of records) {
      expect(r).toMatchObject({
        deployment_id: 'run-1',
        user: 'ci@runner',
        correlation_id: 'corr-1',
        stack: 'shop',
        environment: 'prod',
        region: null,
      });
      expect(Object.keys(r)).toEqual(
        expect.arrayContaining(['timestamp', 'event_type', 'deployment_id', 'service', 'region', 'user', 'status', 'duration_ms']),
      );
    }
    expect(records[5]).toMatchObject({ service: 'web', duration_ms: 1500 });
    expect(records[6]).toMatchObject({ timestamp: '2026-12-06T10:00:02.000Z' });
    expect(records[7]).toMatchObject({ duration_ms: 2400, details: { action: 'update', artifact: 'sha256:aa' } });
    expect(JSON.stringify(records)).not.toContain('hunter2');
  });

  it("an automatic rollback's components are rollbacks; a deployer rollback's all are; a lost lease is a failed renewal", () => {
    const undo = audited([
      {
        type: 'component-done',
        report: { id: 'web/api', action: 'update', result: 'failed', engine: true, reason: 'health check failed\nline two' },
      },
      { type: 'rollback-start', reason: 'web/api failed', plan },
      { type: 'component-done', report: { id: 'web/api', action: 'update', result: 'updated', engine: true } },
      {
        type: 'rollback-done',
        rollback: {
          triggers: ['web/api'],
          reason: 'web/api failed',
          ok: true,
          components: [],
          startedAt: '',
          durationMs: 900,
          sinceFailureMs: 1000,
        },
      },
      { type: 'lock-lost', reason: 'renewal failed' },
    ]);
    expect(undo.map((r) => `${r.event_type} ${r.status}`)).toEqual([
      'deploy failed',
      'rollback started',
      'rollback updated',
      'rollback success',
      'lock-renew failed',
    ]);
    expect(undo[0]!.details).toMatchObject({ reason: 'health check failed' });
    const manual = audited(
      [{ type: 'component-done', report: { id: 'web/api', action: 'update', result: 'updated', engine: true } }],
      true,
    );
    expect(manual[0]!.event_type).toBe('rollback');
  });
});
