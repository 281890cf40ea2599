/**
 * The apply and destroy workflows: locked runs (locked-run.ts) whose plan is made from the
 * configuration, or from the recorded state alone (plan-stack.ts plans without a lock).
 */
import { computeDestroyPlan, computePlan } from '../plan/index.js';
import type { RunContext, RunOutcome } from './context.js';
import { runLocked } from './locked-run.js';

export function applyStack(ctx: RunContext): Promise<RunOutcome> {
  return runLocked(ctx, 'apply', (loaded, state) => ({
    plan: computePlan(loaded.desired, state, loaded.graph),
    desired: loaded.desired,
    graph: loaded.graph,
  }));
}

export function destroyStack(ctx: RunContext): Promise<RunOutcome> {
  return runLocked(ctx, 'destroy', (loaded, state) => ({
    plan: computeDestroyPlan(loaded.desired.name, loaded.desired.environment, state),
    desired: loaded.desired,
    graph: loaded.graph,
  }));
}
