/**
 * The plan workflow: reads the configuration and the state without locking and changes
 * nothing. Apart from apply.ts so that `deployer plan` loads neither the locks nor the engine.
 */
import type { Settings } from '../config/index.js';
import type { Plan } from '../model/plan.js';
import type { StackState } from '../model/state.js';
import { computePlan } from '../plan/index.js';
import { openStateStore } from '../state/index.js';
import { loadStack, type LoadedStack } from './load-stack.js';
import { prepareRelease, previewGates } from './release.js';

/**
 * Plan only: reads the state without locking and changes nothing. `preloaded`: the stack as the
 * command already loaded it for these very settings (stackRegions), not discovered again.
 */
export async function planStack(
  settings: Settings,
  preloaded?: LoadedStack,
): Promise<{ plan: Plan; loaded: LoadedStack; state: StackState | undefined }> {
  // Builds are keyed and looked up in the cache, so the plan says whether each would be built.
  const { loaded, prep } = await prepareRelease(preloaded ?? (await loadStack(settings)), settings, { keyBuilds: true });
  const store = openStateStore(settings.stateUrl, settings.dir);
  const state = await store.read(loaded.desired.name, loaded.desired.environment);
  // And what the release gates of each component it deploys would say now.
  const plan = await previewGates(prep, loaded.desired, computePlan(loaded.desired, state, loaded.graph), state);
  return { plan, loaded, state };
}
