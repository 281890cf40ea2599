/**
 * What a command's workflow is given (RunContext), what it works with (RunDependencies: the
 * settings' stores and the Pulumi engine by default, memory stores and a scripted engine in
 * the unit tests), and how it ends (RunOutcome).
 */
import type { Settings } from '../config/index.js';
import type { ComponentEngine } from '../engine/index.js';
import type { RunListener, RunSummary } from '../executor/events.js';
import type { LedgerStore } from '../ledger/index.js';
import type { LockManager } from '../lock/index.js';
import type { DesiredStack } from '../model/desired.js';
import type { Plan, SavedPlan } from '../model/plan.js';
import type { BlobStore, StateStore } from '../state/index.js';
import type { Target } from '../targets/index.js';
import type { AuditLog } from '../util/audit-log.js';
import type { LoadedStack } from './load-stack.js';

export interface RunContext {
  settings: Settings;
  /** The stack as the command already loaded it for these very settings (to ask its regions): not discovered again. */
  loaded?: LoadedStack;
  listener: RunListener;
  /** Asked once the plan is known and has changes; false aborts without touching anything. */
  confirm?: (plan: Plan) => Promise<boolean>;
  /** Aborted: start no new component. */
  stop?: AbortSignal;
  /** Aborted: also cancel running Pulumi operations. */
  cancel?: AbortSignal;
  /** `apply plan.json`: carry out this saved plan, or refuse if it is stale. */
  savedPlan?: { file: string; saved: SavedPlan };
  /** Who started the run, for locks and the ledger (default `user@host`). */
  initiator?: string;
  /** The audit trail every action of the run is written to (`--audit-log`), if any. */
  audit?: AuditLog;
  /** The id shared by the logs and audit records of the command or request that started the run. */
  correlationId?: string;
  /** deployment metadata: git_commit, ci_run_id ... */
  metadata?: Record<string, string>;
  /**
   * Components to deploy even though their spec did not change, their Pulumi stacks refreshed
   * first (drift remediation, reconcile/): id -> why, shown as the plan's reason.
   */
  remediate?: ReadonlyMap<string, string>;
  /** `--ignore-capacity`: components the machine cannot take are deployed anyway (told, not refused). */
  ignoreCapacity?: boolean;
  /** Variables the run's engine hands its provider processes, beside the target's (a multi-region run's switch barrier). */
  engineEnv?: Record<string, string>;
  /** What the run works with, instead of what the settings name (the executor's unit tests). */
  dependencies?: Partial<RunDependencies>;
}

/** What the engine of one run is made for. */
export interface EngineRequest {
  runId: string;
  desired: DesiredStack;
  store: StateStore;
  target: Target;
}

/**
 * What a run works with. By default: the state store and lock manager the settings' URLs name,
 * the ledger they name, the stack's target, and the Pulumi engine (the CLI provisioned first).
 */
export interface RunDependencies {
  store: StateStore;
  /** The objects of the state backend, where the build cache is (default: those of the settings' state URL). */
  blobs: BlobStore;
  locks: LockManager;
  openLedger: () => LedgerStore;
  target: Target;
  /** The engine of one run, created on first need (a no-op run never creates one). */
  engine: (run: EngineRequest) => Promise<ComponentEngine>;
}

export type RunOutcome =
  | { status: 'declined'; plan: Plan }
  | { status: 'done'; plan: Plan; summary: RunSummary }
  /** Nothing was to be done (a rollback with no earlier good version): nothing was locked or changed. */
  | { status: 'nothing'; reason: string };

export type Operation = RunSummary['operation'];
