import type { DeployedKind } from './documents.js';
import type { TargetName } from './desired.js';

export const STATE_VERSION = 1;

/** `create-failed`: never deployed; a create was attempted and failed (Pulumi may hold part of it). */
export type ComponentStatus = 'deployed' | 'failed' | 'create-failed';

/** What deployer recorded about one component after it last touched it. */
export interface ComponentState {
  kind: DeployedKind;
  target: TargetName;
  specHash: string;
  /** Hash of the spec with references resolved: a changed upstream output changes it. */
  inputsHash: string;
  /** The spec as deployed, secrets redacted. */
  spec: Record<string, unknown>;
  outputs: Record<string, unknown>;
  /** Component ids this one depended on when deployed: deletes run in reverse of these. */
  dependsOn: string[];
  pulumiStack: string;
  status: ComponentStatus;
  deploymentId: string;
  /** How long its last deployment took (hooks and Pulumi): the scheduler starts long chains first. */
  lastDurationMs?: number;
  /** The Service's `version` when it was deployed, if it names one. */
  serviceVersion?: string;
  /** The artifact it runs (`spec.build`): its cache key and digest, which is the component's version. */
  artifact?: { key: string; digest: string };
  updatedAt: string;
}

export interface BreakerState {
  failures: number;
  /** When the failures reached the threshold (the breaker opened). */
  openedAt?: string;
  /** Successful trial deployments while half-open. */
  trials?: number;
}

/** How the run that wrote a version ended: `deployer rollback --last-good` looks for `ok`. */
export interface RunMark {
  id: string;
  operation: 'apply' | 'destroy' | 'rollback';
  /** Every component succeeded and passed its checks. */
  ok: boolean;
  /** The run failed and was rolled back. */
  rolledBack?: boolean;
  /** A rollback run: the serial of the version it restored (the runs since it were undone). */
  restored?: number;
  /** The serial of the version the run ended with (the one this mark was written in). */
  serial?: number;
  finishedAt: string;
}

/** `stacks/{stack}/{env}/state.json` */
export interface StackState {
  version: number;
  /** Fixed at creation: two states with different lineages are different histories. */
  lineage: string;
  /** Incremented on every write. */
  serial: number;
  stack: string;
  environment: string;
  components: Record<string, ComponentState>;
  /** Set by the last write of a run. */
  lastRun?: RunMark;
  /**
   * Circuit breakers that are not closed, by component id (executor/breaker.ts). Kept apart
   * from the components so that a component destroyed by a rollback keeps its count.
   */
  breakers?: Record<string, BreakerState>;
}
