/**
 * The audit trail of a run: its events (executor/events.ts) become audit records — the plan,
 * each lock acquired, renewed and released, each component's build, gates, deployment,
 * verification and traffic switch, each rollback, and the run's end — all with the run's id,
 * the user and the correlation id of the command or request that started it.
 */
import type { RunEvent, RunListener } from '../executor/events.js';
import type { DesiredStack } from '../model/desired.js';
import type { RunContext } from './context.js';
import type { AuditEventType, AuditLog, AuditRecord } from '../util/audit-log.js';

/** The listener of a run (`ctx.listener`) that also writes its audit trail. */
export function auditRun(
  ctx: RunContext,
  log: AuditLog,
  run: { runId: string; initiator: string; operation: string; desired: DesiredStack },
): RunListener {
  return auditing(
    {
      log,
      runId: run.runId,
      user: run.initiator,
      correlationId: ctx.correlationId ?? run.runId,
      stack: run.desired.name,
      environment: run.desired.environment,
      ...(run.desired.region ? { region: run.desired.region } : {}),
      rollback: run.operation === 'rollback',
    },
    ctx.listener,
  );
}

export interface AuditContext {
  log: AuditLog;
  runId: string;
  user: string;
  correlationId: string;
  stack: string;
  environment: string;
  region?: string;
  /** The whole run is a rollback (`deployer rollback`): its deployments are rollbacks. */
  rollback?: boolean;
}

/** `inner`, and every event it is given also written to the audit trail. */
export function auditing(a: AuditContext, inner: RunListener): RunListener {
  let rollingBack = a.rollback ?? false;
  const record = (type: AuditEventType, status: string, more: Partial<AuditRecord> = {}): void =>
    a.log.write({
      timestamp: new Date().toISOString(),
      event_type: type,
      deployment_id: a.runId,
      service: null,
      region: a.region ?? null,
      user: a.user,
      status,
      duration_ms: null,
      correlation_id: a.correlationId,
      stack: a.stack,
      environment: a.environment,
      ...more,
    });
  const of = (id: string): Partial<AuditRecord> => ({ service: id.split('/')[0]!, component: id });
  return (e: RunEvent) => {
    inner(e);
    for (const r of recordsOf(e, rollingBack)) record(r.type, r.status, { ...(r.id ? of(r.id) : {}), ...r.more });
    if (e.type === 'rollback-start') rollingBack = true;
    if (e.type === 'rollback-done') rollingBack = a.rollback ?? false;
  };
}

interface Pending {
  type: AuditEventType;
  status: string;
  id?: string;
  more?: Partial<AuditRecord>;
}

function recordsOf(e: RunEvent, rollingBack: boolean): Pending[] {
  switch (e.type) {
    case 'plan':
      return [{ type: 'plan', status: 'made', more: { details: { ...e.plan.summary, serial: e.plan.serial } } }];
    case 'lock-acquired':
    case 'lock-renewed':
    case 'lock-released': {
      const type = ({ 'lock-acquired': 'lock-acquire', 'lock-renewed': 'lock-renew', 'lock-released': 'lock-release' } as const)[e.type];
      return e.locks.map((l) => ({ type, status: 'ok', more: { details: { lockKey: l.lockKey, lockId: l.lockId } } }));
    }
    case 'lock-lost':
      return [{ type: 'lock-renew', status: 'failed', more: { details: { reason: e.reason } } }];
    case 'build-done':
      return [
        {
          type: 'build',
          id: e.id,
          status: e.build.error ? 'failed' : e.build.cache === 'hit' ? 'cache-hit' : 'built',
          more: { duration_ms: e.build.durationMs, details: { key: e.build.key, ...(e.build.digest ? { digest: e.build.digest } : {}) } },
        },
      ];
    case 'gate':
      return [
        { type: 'gate', id: e.id, status: e.verdict.status, more: { details: { gate: e.verdict.gate, summary: e.verdict.summary } } },
      ];
    case 'component-rollout': {
      const r = e.rollout;
      const ms = (from: string, to: string | undefined) => (to ? Date.parse(to) - Date.parse(from) : null);
      return [
        {
          type: 'verify',
          id: e.id,
          status: r.verifiedAt ? 'healthy' : 'not-verified',
          more: { duration_ms: ms(r.startedAt, r.verifiedAt), details: { generation: r.generation } },
        },
        {
          type: 'switch',
          id: e.id,
          status: 'switched',
          more: { ...(r.switchedAt ? { timestamp: r.switchedAt } : {}), details: { generation: r.generation, strategy: r.strategy } },
        },
      ];
    }
    case 'component-done': {
      const r = e.report;
      if (r.result === 'unchanged' && !r.engine) return [];
      return [
        {
          type: rollingBack ? 'rollback' : 'deploy',
          id: r.id,
          status: r.result,
          more: {
            duration_ms: r.durationMs ?? null,
            details: {
              action: r.action,
              ...(r.artifact ? { artifact: r.artifact } : {}),
              ...(r.reason ? { reason: r.reason.split('\n')[0] } : {}),
            },
          },
        },
      ];
    }
    case 'rollback-start':
      return [{ type: 'rollback', status: 'started', more: { details: { reason: e.reason.split('\n')[0] } } }];
    case 'rollback-done':
      return [{ type: 'rollback', status: e.rollback.ok ? 'success' : 'failed', more: { duration_ms: e.rollback.durationMs } }];
    case 'summary': {
      const s = e.summary;
      const type = s.operation === 'destroy' ? 'destroy' : s.operation === 'rollback' ? 'rollback' : 'apply';
      return [
        { type, status: s.ok ? 'success' : 'failed', more: { duration_ms: s.durationMs, details: { counts: s.counts, serial: s.serial } } },
      ];
    }
    default:
      return [];
  }
}
