/**
 * `deployer rollback`: makes the components of an earlier state version (`--to`, or the last
 * known good one) real again, through the same locked, planned, confirmed run as apply. Not
 * to be confused with the automatic undo of a failed apply (undo.ts), nor with `deployer state
 * reset`, which moves the recorded state alone and touches no resource.
 */
import { InternalError } from '../errors.js';
import type { StackState } from '../model/state.js';
import { computePlan } from '../plan/index.js';
import type { RunContext, RunOutcome } from './context.js';
import { runLocked, type Purpose } from './locked-run.js';
import { desiredFromRecorded, versionToRestore, type RollbackTarget } from './restore.js';

export function rollbackToVersion(ctx: RunContext, to: RollbackTarget): Promise<RunOutcome> {
  let source: StackState | undefined;
  return runLocked(
    ctx,
    'rollback',
    (loaded, state) => {
      // The source is found (below) before the first plan is made; a plan without it would delete everything.
      if (!source) throw new InternalError('rollback: a plan was asked for before the version to restore was found');
      const { desired, graph } = desiredFromRecorded(loaded.desired, source.components);
      return { plan: computePlan(desired, state, graph), desired, graph };
    },
    async (loaded, store): Promise<Purpose> => {
      // Stored versions never change, so the one to restore is found before the lock is taken.
      const found = await versionToRestore(store, await store.read(loaded.desired.name, loaded.desired.environment), to);
      if ('nothing' in found) return found;
      source = found;
      const which = to === 'last-good' ? ' (last known good)' : typeof to === 'object' ? ` (before run ${to.beforeRun})` : '';
      // Why it was asked for, when the caller says (a multi-region run: another region failed).
      const cause = ctx.metadata?.['reason'] ? `: ${ctx.metadata['reason']}` : '';
      return { why: `rollback to serial ${found.serial}${which}${cause}`, restored: found.serial };
    },
  );
}
