/**
 * engine/: the Pulumi Automation API — finding or building the Pulumi CLI, the secrets
 * passphrase, and running one component's stack (up, destroy) with its events streamed.
 */
import type { Engine, EngineConfig } from './engine.js';

export type { Engine, EngineConfig } from './engine.js';
export type { ComponentEngine, EngineProgress, OperationOptions, UpResult, ResourceChanges } from './component-engine.js';

/** The engine module loads the Automation API (most of a second): only when a run needs Pulumi. */
export async function createEngine(config: EngineConfig): Promise<Engine> {
  const { Engine } = await import('./engine.js');
  return new Engine(config);
}

/**
 * Starts loading the engine module now, for a run that will need it: the load (~0.9 s) then
 * overlaps taking the lock and reading the state instead of delaying the first operation.
 */
export function preloadEngine(): void {
  import('./engine.js').catch(() => undefined); // createEngine reports a failure to load
}
export { ensurePulumiCli, goModFile, type EnsureOptions } from './build-cli.js';
export { findPulumiCli, cachedCliRoot, deployerCacheDir, isCompatible, type PulumiCli } from './pulumi-cli.js';
export { resolvePassphrase } from './passphrase.js';
export { installCommand, missingPlugins, type PluginNeed } from './plugins.js';
export { stopLeftovers } from './leftovers.js';

/** Pulumi stack names allow letters, digits, `-`, `_` and `.`: one stack per component. */
export function pulumiStackName(stack: string, env: string, service: string, component: string): string {
  // A region's environment is `<env>/<region>`: Pulumi reads a `/` in a stack name as an organization.
  return `${stack}.${env.replace(/\//g, '.')}.${service}.${component}`;
}
