/** The regions a Stack lists (a light module: `plan` and `apply` ask it before loading anything else). */
import type { Settings } from '../config/index.js';
import type { RegionRollout } from '../model/desired.js';
import { loadStack, type LoadedStack } from './load-stack.js';

/**
 * The regions of the stack the settings name, in the order listed (none: it is not a
 * multi-region stack), and the stack as loaded to find them: a command that goes on with the same
 * settings hands it to its workflow rather than discovering the stack a second time.
 */
export async function stackRegions(settings: Settings): Promise<{ names: string[]; rollout?: RegionRollout; loaded: LoadedStack }> {
  const loaded = await loadStack(settings);
  const { desired } = loaded;
  return {
    names: (desired.regions ?? []).map((r) => r.name),
    ...(desired.regionRollout ? { rollout: desired.regionRollout } : {}),
    loaded,
  };
}
