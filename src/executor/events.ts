import type { EngineProgress } from '../engine/index.js';
import type { ValidationProblem } from '../errors.js';
import type { AcquiredLock, LockInfo } from '../lock/index.js';
import type { Plan, PlanActionType } from '../model/plan.js';
import type { BuildReport, GateVerdict } from '../pipeline/index.js';
import type { RolloutReport } from '../targets/index.js';

/** How one component ended in a run. */
export type ComponentResult = 'created' | 'updated' | 'replaced' | 'deleted' | 'unchanged' | 'failed' | 'skipped' | 'cancelled';

/** Results that leave a component short of what the run wanted. */
export const NOT_DONE: ReadonlySet<ComponentResult> = new Set<ComponentResult>(['failed', 'skipped', 'cancelled']);

export interface ComponentReport {
  id: string;
  action: PlanActionType;
  result: ComponentResult;
  /** Why it failed, or why it was skipped ("upstream failed: svc/comp"). */
  reason?: string;
  /** Root causes of a skip. */
  causes?: string[];
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
  /** True when Pulumi was invoked for this component. */
  engine: boolean;
  /** Pulumi's summary of the operation: resources created, updated, deleted, same. */
  changes?: Record<string, number>;
  /** The component's outputs after the run, secret ones as "[secret]". */
  outputs?: Record<string, unknown>;
  /** The artifact it deployed (`spec.build`): its digest, the component's version. */
  artifact?: string;
  /** The release gates' verdicts, in the order they ran. */
  gates?: GateVerdict[];
  /** The target's rollout of it (local MicroService): verified and switched when. */
  rollout?: RolloutReport;
}

/** What an automatic rollback did after a failed run. */
export interface RollbackSummary {
  /** The failed components that set it off (their rollback mode is auto). */
  triggers: string[];
  reason: string;
  /** Every component it touched went back. */
  ok: boolean;
  components: ComponentReport[];
  startedAt: string;
  durationMs: number;
  /** From the end of the first failure to the end of the rollback. */
  sinceFailureMs: number;
}

export interface RunSummary {
  runId: string;
  operation: 'apply' | 'destroy' | 'rollback';
  stack: string;
  environment: string;
  ok: boolean;
  counts: Record<ComponentResult, number>;
  /** Pulumi operations run (0 for a no-op apply: unchanged components never reach Pulumi). */
  engineOperations: number;
  durationMs: number;
  components: ComponentReport[];
  /** State serial after the run. */
  serial: number;
  /** Set when the run failed and was rolled back automatically. */
  rollback?: RollbackSummary;
  /** Set when the run failed, nothing was rolled back, and `deployer rollback` can do it. */
  advice?: string;
}

/** Everything a run tells its caller, in order; the CLI renders these for people or as JSON. */
export type RunEvent =
  | { type: 'warnings'; warnings: ValidationProblem[] }
  /**
   * `versions`: the version each service the plan changes is deployed at by this run (what the
   * ledger records, workflows/ledger-records.ts), for those who show or trace the run.
   */
  | { type: 'plan'; plan: Plan; versions?: Record<string, string> }
  | { type: 'lock-wait'; holder: LockInfo }
  | { type: 'lock-acquired'; locks: AcquiredLock[] }
  | { type: 'lock-lost'; reason: string }
  /** The run's locks were renewed (every TTL/3), and released at its end. */
  | { type: 'lock-renewed'; locks: AcquiredLock[] }
  | { type: 'lock-released'; locks: AcquiredLock[] }
  | { type: 'setup'; message: string }
  /** Something the run did on its own that the user should know (recovery after a dead run). */
  | { type: 'notice'; message: string }
  /** The release stage: a component's build starts, and ends (from the cache, built, or failed). */
  | { type: 'build-start'; id: string }
  | { type: 'build-done'; id: string; build: BuildReport }
  /** A release gate's verdict on a component, just before it deploys. */
  | { type: 'gate'; id: string; verdict: GateVerdict }
  | { type: 'component-start'; id: string; action: PlanActionType }
  | { type: 'component-progress'; id: string; progress: EngineProgress }
  | { type: 'component-notice'; id: string; message: string }
  /** How the target rolled the component out: when the new version was verified healthy and traffic switched to it. */
  | { type: 'component-rollout'; id: string; rollout: RolloutReport }
  | { type: 'component-done'; report: ComponentReport }
  | { type: 'rollback-start'; reason: string; plan: Plan }
  | { type: 'rollback-done'; rollback: RollbackSummary }
  | { type: 'summary'; summary: RunSummary };

export type RunListener = (event: RunEvent) => void;
