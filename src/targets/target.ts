import type { PulumiFn } from '@pulumi/pulumi/automation/index.js';
import type { ValidationProblem } from '../errors.js';
import type { DesiredComponent, TargetName } from '../model/desired.js';

export interface TargetContext {
  stack: string;
  environment: string;
  /** The stack directory (local resources live under its `.deployer/`). */
  stackDir: string;
}

/**
 * Translates components into Pulumi resources for one platform (`local`, `aws`).
 * A target never runs Pulumi itself: it returns the program, the engine runs it.
 */
export interface Target {
  readonly name: TargetName;
  /** What this target needs beyond the schema (e.g. `local` runs `command`, `aws` pulls `image`). */
  check(component: DesiredComponent): ValidationProblem[];
  /** The inline Pulumi program deploying `component` with its references already resolved. */
  program(component: DesiredComponent, resolvedSpec: Record<string, unknown>, context: TargetContext): PulumiFn;
  /** Environment the engine (and the provider processes it starts) needs for this target. */
  engineEnv(): Record<string, string>;
}
