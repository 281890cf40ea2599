/** Human rendering of a run's events: the plan, one line per component step, a summary. */
import { NOT_DONE, type ComponentReport, type RollbackSummary, type RunEvent, type RunSummary } from '../executor/events.js';
import { formatProblem, type ValidationProblem } from '../errors.js';
import type { Plan } from '../model/plan.js';
import { renderPlanTable } from '../plan/index.js';

export interface Renderer {
  (event: RunEvent): void;
}

const PAST: Record<string, string> = {
  created: 'created',
  updated: 'updated',
  replaced: 'replaced',
  deleted: 'deleted',
  unchanged: 'unchanged',
};

export function humanRenderer(write: (text: string) => void, options: { showPlan: boolean }): Renderer {
  const start = Date.now();
  const stamp = (): string => `[${((Date.now() - start) / 1000).toFixed(1).padStart(6)}s]`;
  let width = 20;
  return (e: RunEvent): void => {
    switch (e.type) {
      case 'warnings':
        write(warningsText(e.warnings));
        break;
      case 'lock-wait':
        write(
          `${stamp()} waiting for the lock ${e.holder.lockKey}, held by ${e.holder.lockedBy} since ${e.holder.lockedAt.toISOString()} (lock id ${e.holder.lockId})\n`,
        );
        break;
      case 'lock-acquired':
        write(`Lock ${e.locks.map((l) => `${l.lockKey} (id ${l.lockId})`).join(', ')} acquired.\n`);
        for (const l of e.locks.filter((x) => x.takenOverFrom)) {
          const old = l.takenOverFrom!;
          write(
            `Took over the lock of ${old.lockedBy} (lock id ${old.lockId}, ${old.metadata['operation'] ?? 'run'} since ${old.lockedAt.toISOString()}): that run died; resuming where it stopped.\n`,
          );
        }
        break;
      case 'lock-lost':
        write(
          `${stamp()} ${e.reason}: starting no new component and recording nothing more (another run may hold the lock now); what is running finishes unrecorded, and the next run checks it again.\n`,
        );
        break;
      case 'plan':
        width = Math.max(width, ...e.plan.actions.map((a) => a.id.length));
        if (options.showPlan) write(`\n${renderPlanTable(e.plan)}\n\n`);
        break;
      case 'setup':
        write(`${stamp()} setup: ${e.message}\n`);
        break;
      case 'notice':
        write(`${stamp()} ${e.message}\n`);
        break;
      case 'build-start':
        write(`${stamp()} ${e.id.padEnd(width)}  build started\n`);
        break;
      case 'build-done': {
        const b = e.build;
        const took = `(${(b.durationMs / 1000).toFixed(1)}s)`;
        if (b.error) write(`${stamp()} ${e.id.padEnd(width)}  build FAILED ${took}: ${b.error}\n`);
        else write(`${stamp()} ${e.id.padEnd(width)}  build ${b.cache === 'hit' ? 'cache hit' : 'built'} ${b.digest ?? ''} ${took}\n`);
        break;
      }
      case 'gate':
        write(`${stamp()} ${e.id.padEnd(width)}  gate ${e.verdict.gate} ${e.verdict.status}: ${e.verdict.summary}\n`);
        break;
      case 'component-rollout': {
        const r = e.rollout;
        const verified = r.verifiedAt
          ? ` verified healthy in ${((Date.parse(r.verifiedAt) - Date.parse(r.startedAt)) / 1000).toFixed(1)}s,`
          : '';
        write(`${stamp()} ${e.id.padEnd(width)} ${verified} traffic switched to generation ${r.generation} (${r.strategy})\n`);
        break;
      }
      case 'component-start':
        if (e.action !== 'no-op') write(`${stamp()} ${e.id.padEnd(width)}  ${e.action} started\n`);
        break;
      case 'component-progress': {
        const p = e.progress;
        if (p.phase === 'started' && p.op !== 'same' && p.op !== 'read') {
          write(`${stamp()} ${e.id.padEnd(width)}  ${p.op} ${p.resourceType} ${p.resourceName}\n`);
        }
        break;
      }
      case 'component-notice':
        write(`${stamp()} ${e.id.padEnd(width)}  ${e.message}\n`);
        break;
      case 'component-done':
        writeDone(write, stamp(), e.report, width);
        break;
      case 'rollback-start':
        write(`\n${stamp()} Rolling back: ${e.reason}\n${stamp()} ${summaryOf(e.plan)}\n`);
        break;
      case 'rollback-done': {
        const r = e.rollback;
        write(
          `${stamp()} Rollback ${r.ok ? 'complete' : 'FAILED'} in ${(r.durationMs / 1000).toFixed(1)}s (${(r.sinceFailureMs / 1000).toFixed(1)}s after the failure): ${r.components.map((c) => `${c.id} ${c.result}`).join(', ') || 'nothing to undo'}\n`,
        );
        break;
      }
      case 'summary':
        write(`\n${summaryText(e.summary)}\n`);
        break;
    }
  };
}

function writeDone(write: (t: string) => void, stamp: string, r: ComponentReport, width: number): void {
  if (r.result === 'unchanged' && !r.engine) return;
  const took = r.durationMs !== undefined ? ` (${(r.durationMs / 1000).toFixed(1)}s)` : '';
  if (r.result === 'failed') {
    write(`${stamp} ${r.id.padEnd(width)}  FAILED${took}\n`);
    for (const line of (r.reason ?? '').split('\n')) write(`           ${line}\n`);
  } else if (r.result === 'skipped' || r.result === 'cancelled') {
    write(`${stamp} ${r.id.padEnd(width)}  ${r.result}: ${r.reason ?? ''}\n`);
  } else {
    write(`${stamp} ${r.id.padEnd(width)}  ${PAST[r.result] ?? r.result}${took}\n`);
  }
}

export function summaryText(s: RunSummary): string {
  const c = s.counts;
  const verb = { apply: 'Apply', destroy: 'Destroy', rollback: 'Rollback' }[s.operation];
  const head = s.ok ? `${verb} complete` : `${verb} failed`;
  const parts = [
    `${c.created} created`,
    `${c.updated} updated`,
    `${c.replaced} replaced`,
    `${c.deleted} deleted`,
    `${c.unchanged} unchanged`,
  ];
  const bad = [c.failed && `${c.failed} failed`, c.skipped && `${c.skipped} skipped`, c.cancelled && `${c.cancelled} cancelled`].filter(
    Boolean,
  );
  const failedIds = s.components.filter((r) => r.result === 'failed').map((r) => r.id);
  return (
    `${head}: ${parts.join(', ')}${bad.length ? `; ${bad.join(', ')}` : ''} in ${(s.durationMs / 1000).toFixed(1)}s ` +
    `(${s.engineOperations} Pulumi operation${s.engineOperations === 1 ? '' : 's'}, state serial ${s.serial}).` +
    (failedIds.length ? `\nFailed: ${failedIds.join(', ')}` : '') +
    (s.rollback ? `\n${rollbackLine(s.rollback)}` : '') +
    (s.advice ? `\n${s.advice}` : '')
  );
}

/** What the rollback achieved, counted from its components' results (a failed rollback never claims success). */
function rollbackLine(r: RollbackSummary): string {
  const back = r.components.filter((c) => !NOT_DONE.has(c.result));
  const notBack = r.components.filter((c) => NOT_DONE.has(c.result)).map((c) => `${c.id} ${c.result}`);
  const after = `(${(r.sinceFailureMs / 1000).toFixed(1)}s after the failure)`;
  if (r.ok) return `Rolled back: ${back.length} component(s) returned to the previous version ${after}.`;
  return `The rollback failed ${after}: ${back.length} of ${r.components.length} component(s) returned to the previous version; not returned: ${notBack.join(', ') || 'none'}.`;
}

function summaryOf(plan: Plan): string {
  const p = plan.summary;
  return `undo: ${p.create} to recreate, ${p.update + p.replace} to redeploy at their previous version, ${p.delete} to destroy`;
}

/** Advisory policy findings: printed, never fatal. */
export function warningsText(warnings: ValidationProblem[]): string {
  if (warnings.length === 0) return '';
  return `${warnings.length} warning${warnings.length === 1 ? '' : 's'}:\n${warnings.map((w) => `  warning: ${formatProblem(w)}\n`).join('')}`;
}
