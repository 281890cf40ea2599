/**
 * The state version a run started from: the serial below the first version that run wrote.
 * A component's state records the run that last deployed it (`deploymentId`), so the first
 * version carrying the run's id is the first it wrote. What `POST /api/v1/rollback/{id}` returns to.
 */
import type { Settings } from '../config/index.js';
import { InvalidInputError } from '../errors.js';
import { openStateStore } from '../state/index.js';

export async function serialBefore(settings: Settings, stack: string, environment: string, runId: string): Promise<number> {
  const store = openStateStore(settings.stateUrl, settings.dir);
  const serials = [...(await store.history(stack, environment)).map((h) => h.serial), (await store.read(stack, environment))?.serial ?? 0]
    .filter((s) => s > 0)
    .sort((a, b) => a - b);
  for (const serial of serials) {
    const version = await store.readVersion(stack, environment, serial);
    if (version && Object.values(version.components).some((c) => c.deploymentId === runId)) {
      if (serial <= 1) break;
      return serial - 1;
    }
  }
  throw new InvalidInputError(`the state of ${stack}/${environment} keeps no version from before run ${runId}`, [
    'Its history may have been pruned, or the run changed nothing. See `deployer state history` and use `deployer rollback --to <serial>`.',
  ]);
}
