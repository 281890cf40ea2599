/**
 * Around a run, the target's part. Before the run deploys anything, its check that the machine
 * can take what the plan creates or changes (local: their ports are free or already theirs; a
 * cpu or memory limit it cannot apply is told). It runs under the lock, before the user is
 * asked: a refusal leaves state, locks and the ledger as they were. After the run, its
 * publication of what the run left.
 */
import type { DesiredStack } from '../model/desired.js';
import type { Plan } from '../model/plan.js';
import type { StackState } from '../model/state.js';
import type { Target } from '../targets/index.js';

export async function preflight(
  target: Target,
  prepared: { plan: Plan; desired: DesiredStack },
  stored: StackState | undefined,
  notice: (message: string) => void,
  ignoreCapacity = false,
): Promise<void> {
  if (!target.preflight) return;
  const { plan, desired } = prepared;
  const changing = plan.actions
    .filter((a) => a.action === 'create' || a.action === 'update' || a.action === 'replace')
    .map((a) => {
      const recorded = stored?.components[a.id]?.outputs;
      return { component: desired.components.get(a.id)!, ...(recorded ? { recorded } : {}) };
    });
  if (changing.length === 0) return;
  const warnings = await target.preflight(
    changing,
    { stack: desired.name, environment: desired.environment, stackDir: desired.dir },
    { all: [...desired.components.values()], ignoreCapacity },
  );
  for (const w of warnings) notice(w);
}

/** The target's publication of what the run left (local: the registry); a failure to write it is told, not fatal. */
export async function publishState(
  target: Target,
  desired: DesiredStack,
  state: StackState,
  notice: (message: string) => void,
): Promise<void> {
  if (!target.publish) return;
  await target.publish(state, { stack: desired.name, environment: desired.environment, stackDir: desired.dir }).catch((err: unknown) => {
    notice(`the service registry could not be written: ${(err as Error).message}`);
  });
}
