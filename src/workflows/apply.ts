/**
 * The plan, apply and destroy workflows: `plan` reads the state without locking and changes
 * nothing; `apply` and `destroy` are locked runs (locked-run.ts) whose plan is made from the
 * configuration, or from the recorded state alone.
 */
import type { Settings } from '../config/index.js';
import type { Plan } from '../model/plan.js';
import { computeDestroyPlan, computePlan } from '../plan/index.js';
import { openStateStore } from '../state/index.js';
import type { RunContext, RunOutcome } from './context.js';
import { loadStack, type LoadedStack } from './load-stack.js';
import { runLocked } from './locked-run.js';

/** Plan only: reads the state without locking and changes nothing. */
export async function planStack(settings: Settings): Promise<{ plan: Plan; loaded: LoadedStack }> {
  const loaded = await loadStack(settings);
  const store = openStateStore(settings.stateUrl, settings.dir);
  const state = await store.read(loaded.desired.name, loaded.desired.environment);
  return { plan: computePlan(loaded.desired, state, loaded.graph), loaded };
}

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
