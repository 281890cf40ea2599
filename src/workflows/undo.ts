/**
 * The automatic rollback of a failed apply: what `whatToUndo` says the run changed is put back
 * as it was before the run, as one more plan through the same executor (no hooks; the circuit
 * breakers keep counting the failures that caused it), and summed up for the run's summary.
 */
import { NOT_DONE, type ComponentReport, type RollbackSummary } from '../executor/events.js';
import { execute, type ExecuteOptions } from '../executor/execute.js';
import type { DesiredStack } from '../model/desired.js';
import type { StackState } from '../model/state.js';
import { computePlan, restrictPlan } from '../plan/index.js';
import { desiredFromRecorded, type whatToUndo } from './restore.js';

export interface UndoOptions extends Omit<ExecuteOptions, 'plan' | 'desired' | 'graph' | 'state' | 'failFast' | 'stop' | 'rollback'> {
  /** What to put back, and which failures call for it. */
  due: NonNullable<ReturnType<typeof whatToUndo>>;
  desired: DesiredStack;
  /** The state after the failed run, and its reports. */
  after: StackState;
  reports: ComponentReport[];
  /** Aborted (the lock was lost): start nothing more. */
  lost: AbortSignal;
}

export async function undoFailedRun(o: UndoOptions): Promise<{ rollback: RollbackSummary; state: StackState }> {
  const { due, desired, after, reports, lost, ...machinery } = o;
  const reason = `${due.triggers.join(', ')} failed: ${reports.find((r) => r.id === due.triggers[0])?.reason?.split('\n')[0] ?? 'failed'}`;
  const firstFailure = Math.min(...reports.filter((r) => r.result === 'failed' && r.endedAt).map((r) => Date.parse(r.endedAt!)));
  const restoring = desiredFromRecorded(desired, due.components);
  const undo = restrictPlan(computePlan(restoring.desired, after, restoring.graph), due.ids);
  o.listener({ type: 'rollback-start', reason, plan: undo });
  const started = Date.now();
  const back = await execute({
    ...machinery,
    plan: undo,
    desired: restoring.desired,
    graph: restoring.graph,
    state: after,
    failFast: false,
    stop: lost,
    rollback: true,
  });
  const changed = back.reports.filter((r) => r.result !== 'unchanged');
  const rollback: RollbackSummary = {
    triggers: due.triggers,
    reason,
    ok: changed.every((r) => !NOT_DONE.has(r.result)),
    components: changed,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    sinceFailureMs: Date.now() - (Number.isFinite(firstFailure) ? firstFailure : started),
  };
  o.listener({ type: 'rollback-done', rollback });
  return { rollback, state: back.state };
}
