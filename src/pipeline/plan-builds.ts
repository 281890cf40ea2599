/**
 * Before a plan: every component that builds is keyed (its inputs hashed) and looked up in the
 * cache, so the plan can say "build (cache hit)" or "miss: src/app.js changed" and a changed
 * input makes the component an update. Reads files and the cache; changes nothing.
 */
import type { DesiredComponent, DesiredStack, PlannedBuild } from '../model/desired.js';
import { buildConfigOf, type BuildConfig } from './build-config.js';
import type { BuildCache } from './cache.js';
import { keyOf, whatChanged, type KeyedBuild } from './keys.js';

/** What keying found for one component: its config and key, for the build stage. */
export interface KeyedComponent {
  config: BuildConfig;
  keyed: KeyedBuild;
}

/** `desired` with each building component's `build` set, and what was keyed. */
export async function keyBuilds(
  desired: DesiredStack,
  cache: BuildCache,
): Promise<{ desired: DesiredStack; keyed: Map<string, KeyedComponent> }> {
  const keyed = new Map<string, KeyedComponent>();
  const components = new Map(desired.components);
  await Promise.all(
    [...desired.components.values()].map(async (c) => {
      const config = buildConfigOf(c);
      if (!config) return;
      const k = await keyOf(config);
      keyed.set(c.id, { config, keyed: k });
      components.set(c.id, { ...c, build: await plannedBuild(c, k, cache, desired.name) });
    }),
  );
  return { desired: keyed.size === 0 ? desired : { ...desired, components }, keyed };
}

async function plannedBuild(c: DesiredComponent, k: KeyedBuild, cache: BuildCache, stack: string): Promise<PlannedBuild> {
  const manifest = await cache.manifest(k.key);
  if (manifest) return { key: k.key, cache: 'hit', digest: manifest.digest };
  const last = await cache.lastBuild(stack, c.id);
  return { key: k.key, cache: 'miss', changed: whatChanged(k.inputs, last?.inputs) };
}
