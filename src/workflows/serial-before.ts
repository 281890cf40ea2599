/**
 * The state version a run started from: the serial below the first version that run wrote.
 * A component's state records the run that last deployed it (`deploymentId`), so the first
 * version carrying the run's id is the first it wrote. What rolling back one deployment
 * (`POST /api/v1/rollback/{id}` of `deployer serve`) returns to.
 */
import { InvalidInputError } from '../errors.js';
import type { StackState } from '../model/state.js';
import type { StateStore } from '../state/index.js';

export async function serialBeforeRun(store: StateStore, current: StackState, runId: string): Promise<number> {
  const { stack, environment } = current;
  const serials = [...new Set([...(await store.history(stack, environment)).map((h) => h.serial), current.serial])].sort((a, b) => a - b);
  for (const serial of serials) {
    const version = serial === current.serial ? current : await store.readVersion(stack, environment, serial);
    if (version && Object.values(version.components).some((c) => c.deploymentId === runId)) {
      if (serial > 1) return serial - 1;
      break;
    }
  }
  throw new InvalidInputError(`the state of ${stack}/${environment} keeps no version from before run ${runId}`, [
    'The run may have made the first version, its history may have been pruned, or it changed nothing. See `deployer state history`, and `deployer rollback --to <serial>`.',
  ]);
}
