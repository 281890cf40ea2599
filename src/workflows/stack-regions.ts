/** The regions a Stack lists (a light module: `plan` and `apply` ask it before loading anything else). */
import type { Settings } from '../config/index.js';
import type { RegionRollout } from '../model/desired.js';
import { loadStack } from './load-stack.js';

/** The regions of the stack the settings name, in the order listed (none: it is not a multi-region stack). */
export async function stackRegions(settings: Settings): Promise<{ names: string[]; rollout?: RegionRollout }> {
  const { desired } = await loadStack(settings);
  return { names: (desired.regions ?? []).map((r) => r.name), ...(desired.regionRollout ? { rollout: desired.regionRollout } : {}) };
}
