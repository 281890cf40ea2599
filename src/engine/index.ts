/**
 * engine/: the Pulumi Automation API — finding or building the Pulumi CLI, the secrets
 * passphrase, and running one component's stack (up, destroy) with its events streamed.
 */
export { Engine, EngineError, PULUMI_PROJECT, type EngineConfig, type EngineProgress, type UpResult, type ResourceChanges } from './engine.js';
export { ensurePulumiCli, goModFile, type EnsureOptions } from './build-cli.js';
export { findPulumiCli, cachedCliRoot, deployerCacheDir, isCompatible, type PulumiCli } from './pulumi-cli.js';
export { resolvePassphrase } from './passphrase.js';

/** Pulumi stack names allow letters, digits, `-`, `_` and `.`: one stack per component. */
export function pulumiStackName(stack: string, env: string, service: string, component: string): string {
  return `${stack}.${env}.${service}.${component}`;
}
