/**
 * The engine the executor drives: one component's stack brought up or destroyed, with its
 * progress streamed and an AbortSignal to cancel it. The Pulumi engine (engine.ts) implements
 * it for real; the executor's unit tests drive a scripted fake, so that its failure paths
 * (skips, deletes, breakers, lost leases, cancellation, rollback) run without Pulumi.
 */
import type { PulumiFn } from '@pulumi/pulumi/automation/index.js';

/** What one engine operation changed, from Pulumi's summary. */
export type ResourceChanges = Record<string, number>;

/** A progress event we pass on (a subset of Pulumi's engine events, already simplified). */
export interface EngineProgress {
  stack: string;
  /** `create`, `update`, `delete`, `same`, `refresh`, `read`, `replace` ... */
  op: string;
  resourceType: string;
  resourceName: string;
  phase: 'started' | 'done' | 'failed';
}

/** One operation on one component's stack. */
export interface OperationOptions {
  stackName: string;
  program: PulumiFn;
  onProgress?: (p: EngineProgress) => void;
  /** Things worth a line that are not resource steps ("waiting for an earlier pulumi to finish"). */
  onNotice?: (message: string) => void;
  /**
   * An earlier run may have died during an operation on this stack: refresh it first, dropping
   * pending creates Pulumi cannot know the outcome of, so the operation is not stuck on them.
   */
  recover?: boolean;
  /**
   * Refresh the stack against what really exists first, always (drift remediation): the
   * operation then brings what is there, not what the checkpoint recorded, to the program.
   */
  refresh?: boolean;
  signal?: AbortSignal;
}

/** A destroy of one component's stack. */
export interface DestroyOptions extends OperationOptions {
  /**
   * The stacks, destroyed by this engine in the same run, that must be gone first (the components
   * that depended on this one): this stack's resources are deleted only after theirs (in a shared
   * operation Pulumi orders the deletes), and not at all when one of their destroys fails
   * (DestroyBlockedError).
   */
  after?: string[];
  /** Aborted before the destroys of `after` have ended: this one does not start (DestroyBlockedError). */
  stop?: AbortSignal;
}

/** What an `up` produced. */
export interface UpResult {
  outputs: Record<string, unknown>;
  /** Names of the outputs Pulumi marks secret: their values are never written to state or reports. */
  secretOutputs: string[];
  changes: ResourceChanges;
}

/** What the executor needs of an engine. */
export interface ComponentEngine {
  /** How many operations it ran (a no-op apply must run none). */
  readonly operations: number;
  /** Brings the component's stack to its program; resolves to its outputs. */
  up(o: OperationOptions): Promise<UpResult>;
  /** Destroys the component's stack and forgets it, after the stacks of `o.after`. */
  destroy(o: DestroyOptions): Promise<ResourceChanges>;
}
