/**
 * The locked run every changing command goes through (apply, destroy, rollback), as named
 * stages that each return what the next needs:
 *
 *   prepareRun       load and check everything, open the stores, say what the run is for
 *   provisionEngine  the Pulumi CLI (a build on a new machine), before the lock, only when the
 *                    plan as it stands has changes (run-engine.ts)
 *   lockRun          the locks, the state read under them, the plan made from it
 *   reviewRun        a saved plan's staleness, the plan shown, the confirmation, a no-op's summary
 *   executeRun       in-progress ledger rows, the plan through the executor, the automatic undo
 *   recordRun        the ledger's rollback events and finished deployments
 *   markRunEnd       the state version that ends the run (`lastRun`)
 *   summarizeRun     the summary every run ends with
 *
 * Everything that can reject the input happens in prepareRun, before anything is locked or written.
 */
import { randomUUID } from 'node:crypto';
import { stopLeftovers } from '../engine/index.js';
import { DeployerError, InvalidInputError, StalePlanError } from '../errors.js';
import { NOT_DONE, type ComponentReport, type RollbackSummary, type RunSummary } from '../executor/events.js';
import { execute, type ExecuteResult } from '../executor/execute.js';
import { exclusiveWriter, guardedWriter, sharedWriter, type StateWriter } from '../executor/state-writer.js';
import type { DependencyGraph } from '../graph/index.js';
import { openLedger, type DeploymentEvent, type LedgerStore } from '../ledger/index.js';
import { openLockManager, whoAmI, type Lease, type LockManager } from '../lock/index.js';
import type { DesiredStack } from '../model/desired.js';
import type { Plan } from '../model/plan.js';
import type { RunMark, StackState } from '../model/state.js';
import { stalePlanReasons } from '../plan/index.js';
import { emptyState, openStateStore, type StateStore } from '../state/index.js';
import { targetFor, type Target } from '../targets/index.js';
import type { Operation, RunContext, RunOutcome } from './context.js';
import { cleanUpDeadRuns, closeAbandoned } from './dead-runs.js';
import { changesMetadata, pendingChangesOf, shipChanges, type PendingChanges } from './changes.js';
import {
  desiredVersion,
  finishDeployments,
  lastDeployment,
  planVersions,
  recordRollbacks,
  startDeployments,
  versionInLedger,
} from './ledger-records.js';
import { loadStack, type LoadedStack } from './load-stack.js';
import { lockAndPlan, type LockedPlan } from './locking.js';
import { serviceVersion, whatToUndo } from './restore.js';
import { undoFailedRun } from './undo.js';
import { provisionEngine, sharesOperations, type EngineSlot } from './run-engine.js';
import { prepareRelease, stageRelease, type ReleasePrep } from './release.js';
import { summarize } from './run-summary.js';
import { auditRun } from './audit.js';
import { preflight, publishState } from './preflight.js';

/** A plan and what it was made from: the configuration, or (rollback) recorded states. */
export interface Prepared {
  plan: Plan;
  desired: DesiredStack;
  graph: DependencyGraph;
}

/** Makes a run's plan from the loaded stack and a stored state (called again under the locks). */
export type Prepare = (loaded: LoadedStack, state: StackState | undefined) => Prepared;

/** What a run is about, found before the lock is taken: why it runs, and for a rollback the serial it restores. */
export type Purpose = { why: string; restored?: number } | { nothing: string };

/** What the stages of one run share, fixed before the lock is taken. */
interface Run {
  ctx: RunContext;
  operation: Operation;
  runId: string;
  initiator: string;
  started: number;
  loaded: LoadedStack;
  store: StateStore;
  locks: LockManager;
  target: Target;
  why: string;
  restored?: number;
  leaseMetadata: Record<string, string>;
  release: ReleasePrep;
}

export async function runLocked(
  ctx: RunContext,
  operation: Operation,
  prepare: Prepare,
  purposeOf?: (loaded: LoadedStack, store: StateStore) => Promise<Purpose>,
): Promise<RunOutcome> {
  const run = await prepareRun(ctx, operation, purposeOf);
  if ('nothing' in run) return { status: 'nothing', reason: run.nothing };
  const engine = await provisionEngine({
    ...run,
    // The plan as it stands says whether Pulumi is needed at all.
    needsEngine: async () =>
      hasChanges(prepare(run.loaded, await run.store.read(run.loaded.desired.name, run.loaded.desired.environment)).plan),
  });
  const locked = await lockRun(run, prepare);
  const ledger = lazyLedger(run);
  try {
    if (locked.lease.locks.length > 0) run.ctx.listener({ type: 'lock-acquired', locks: [...locked.lease.locks] });
    await cleanUpDeadRuns({
      locks: locked.lease.locks,
      level: run.loaded.desired.lockLevel,
      stack: run.loaded.desired.name,
      environment: run.loaded.desired.environment,
      ledger: ledger.open,
      listener: run.ctx.listener,
    });
    const reviewed = await reviewRun(run, locked);
    if (reviewed) return reviewed;
    const executed = await executeRun(run, locked, ledger.open(), engine);
    await recordRun(run, executed.desired, ledger.open(), executed);
    const end = await markRunEnd(run, locked.lease, executed);
    await publishState(run.target, executed.desired, end.state, (message) => run.ctx.listener({ type: 'notice', message }));
    const summary = summarizeRun(run, executed.desired, executed, end.state, engine.current?.operations ?? 0);
    run.ctx.listener({ type: 'summary', summary });
    if (locked.lease.lost.aborted) throw locked.lease.lost.reason as DeployerError;
    // The run happened and is summed up; then the reason its end could not be recorded (a full disk) ends the command.
    if (end.failure !== undefined) throw end.failure;
    return { status: 'done', plan: locked.prepared.plan, summary };
  } finally {
    // Each step of the clean-up happens whatever the one before it did (a ledger that cannot close).
    try {
      await ledger.close();
    } finally {
      try {
        // Whatever the engine started and did not stop (an interrupted operation's plugins) goes with the run.
        if (engine.current) await stopLeftovers(run.runId);
      } finally {
        const released = await locked.lease.release().then(
          () => true,
          () => false,
        );
        if (released && locked.lease.locks.length > 0) run.ctx.listener({ type: 'lock-released', locks: [...locked.lease.locks] });
      }
    }
  }
}

async function prepareRun(
  ctx: RunContext,
  operation: Operation,
  purposeOf?: (loaded: LoadedStack, store: StateStore) => Promise<Purpose>,
): Promise<Run | { nothing: string }> {
  const { settings, listener } = ctx;
  const started = Date.now();
  const deps = ctx.dependencies ?? {};
  const released = await prepareRelease(ctx.loaded ?? (await loadStack(settings)), settings, {
    ...(deps.blobs ? { blobs: deps.blobs } : {}),
    keyBuilds: operation === 'apply',
  });
  const loaded = released.loaded;
  if (loaded.desired.warnings.length > 0) listener({ type: 'warnings', warnings: loaded.desired.warnings });
  // A bad --state-url or --lock-url is reported before anything else about the run.
  const store = deps.store ?? openStateStore(settings.stateUrl, settings.dir);
  const locks = deps.locks ?? openLockManager(settings.lockUrl, settings.dir);
  const target = deps.target ?? targetFor(loaded.desired.target);
  if (!target.canApply) {
    throw new InvalidInputError(`the ${loaded.desired.target} target can validate and plan this stack, but not ${operation} it yet`, [
      'Nothing was changed. Use `deployer plan` to see what would change.',
    ]);
  }
  if (!deps.engine && store.localRoot === undefined && process.env['PULUMI_CONFIG_PASSPHRASE'] === undefined) {
    // A generated passphrase lives on one machine; a shared state needs the same one everywhere.
    throw new InvalidInputError(
      `the state at ${store.url} is shared: set PULUMI_CONFIG_PASSPHRASE, the same for everyone who applies this stack`,
      ['It encrypts the secrets in the Pulumi checkpoints kept beside the state. Nothing was changed.'],
    );
  }
  const purpose = purposeOf ? await purposeOf(loaded, store) : { why: operation };
  if ('nothing' in purpose) return purpose;
  const runId = randomUUID();
  const initiator = ctx.initiator ?? whoAmI();
  return {
    // Every event of the run also goes to the audit trail, when there is one.
    ctx: ctx.audit ? { ...ctx, listener: auditRun(ctx, ctx.audit, { runId, initiator, operation, desired: loaded.desired }) } : ctx,
    operation,
    runId,
    initiator,
    started,
    loaded,
    store,
    locks,
    target,
    why: purpose.why,
    ...(purpose.restored !== undefined ? { restored: purpose.restored } : {}),
    leaseMetadata: { deployment_id: runId, operation, pid: String(process.pid), ...(ctx.metadata ?? {}) },
    release: released.prep,
  };
}

async function lockRun(run: Run, prepare: Prepare): Promise<LockedPlan<Prepared>> {
  const { ctx, loaded, store, locks } = run;
  const locked = await lockAndPlan({
    level: loaded.desired.lockLevel,
    stack: loaded.desired.name,
    environment: loaded.desired.environment,
    store,
    locks,
    prepare: (state) => prepare(loaded, state),
    lease: {
      ttlMs: ctx.settings.lockTtlMs,
      timeoutMs: ctx.settings.lockTimeoutMs,
      lockedBy: run.initiator,
      metadata: run.leaseMetadata,
      onWait: (holder) => ctx.listener({ type: 'lock-wait', holder }),
      onRenew: (held) => ctx.listener({ type: 'lock-renewed', locks: [...held] }),
      ...(ctx.stop ? { signal: ctx.stop } : {}),
    },
  });
  return locked;
}

/** The ledger of a run, opened on first use (a no-op run never opens it). */
function lazyLedger(run: Run): { open: () => LedgerStore; close: () => Promise<void> } {
  let ledger: LedgerStore | undefined;
  const open = (): LedgerStore => (ledger ??= (run.ctx.dependencies?.openLedger ?? (() => openLedger(run.ctx.settings.ledger)))());
  return { open, close: async () => ledger?.close() };
}

/** Ends the run here (declined, or nothing to change) or lets it go on (undefined). */
async function reviewRun(run: Run, locked: LockedPlan<Prepared>): Promise<RunOutcome | undefined> {
  const { ctx } = run;
  const { plan, desired } = locked.prepared;
  if (ctx.savedPlan) {
    const reasons = stalePlanReasons(ctx.savedPlan.saved, desired, locked.stored);
    if (reasons.length > 0) throw new StalePlanError(ctx.savedPlan.file, reasons);
  }
  ctx.listener({ type: 'plan', plan, versions: planVersions(desired, plan) });
  if (!hasChanges(plan)) {
    const reports = plan.actions.map((a): ComponentReport => ({ id: a.id, action: a.action, result: 'unchanged', engine: false }));
    const summary = summarize(run, desired, reports, 0, locked.stored?.serial ?? 0);
    ctx.listener({ type: 'summary', summary });
    return { status: 'done', plan, summary };
  }
  // What the machine must have for the changes is checked before the user is asked: nothing has started yet.
  await preflight(run.target, locked.prepared, locked.stored, (message) => ctx.listener({ type: 'notice', message }), ctx.ignoreCapacity);
  // A saved plan was reviewed when it was made: it is not asked about again.
  if (ctx.confirm && !ctx.savedPlan && !(await ctx.confirm(plan))) return { status: 'declined', plan };
  return undefined;
}

/** What execution left for the records: the reports, the states before and after, the undo if there was one. */
interface Executed {
  /** The desired stack as it deployed: with the digests of what the release stage built. */
  desired: DesiredStack;
  deployments: DeploymentEvent[];
  base: StackState;
  result: ExecuteResult;
  failed: boolean;
  undo?: { rollback: RollbackSummary; state: StackState };
  /** The changes the run's deployments ship. */
  pending?: PendingChanges;
  writer: StateWriter;
}

async function executeRun(run: Run, locked: LockedPlan<Prepared>, ledger: LedgerStore, engine: EngineSlot): Promise<Executed> {
  const { ctx, operation, store, runId } = run;
  const { plan, graph } = locked.prepared;
  const { lease } = locked;
  // The release stage: what the plan deploys is built (or found in the cache) before anything deploys.
  const { desired, release } = await stageRelease(run.release, {
    plan,
    desired: locked.prepared.desired,
    concurrency: ctx.settings.concurrency,
    listener: ctx.listener,
    ...(ctx.cancel ? { signal: ctx.cancel } : {}),
  });
  await closeAbandoned(
    ledger,
    { locks: lease.locks, level: desired.lockLevel, stack: desired.name, environment: desired.environment },
    ctx.listener,
  );
  // The commits the git hooks recorded that this apply ships (lead time for changes).
  const pending = operation === 'apply' ? await pendingChangesOf(ledger, desired.dir) : undefined;
  const metadata = { ...ctx.metadata, ...changesMetadata(pending) };
  const deployments = operation === 'rollback' ? [] : startDeployments(desired, plan, runId, run.initiator, operation, metadata);
  for (const d of deployments) await ledger.recordDeployment(d);

  lease.lost.addEventListener('abort', () => ctx.listener({ type: 'lock-lost', reason: (lease.lost.reason as Error).message }), {
    once: true,
  });
  const stop = AbortSignal.any([ctx.stop, lease.lost].filter((s): s is AbortSignal => s !== undefined));
  const base = locked.stored ?? emptyState(desired.name, desired.environment);
  const writer = guardedWriter(
    desired.lockLevel === 'stack'
      ? exclusiveWriter(store, base)
      : sharedWriter({
          store,
          base,
          locks: run.locks,
          lockedBy: run.initiator,
          metadata: { ...run.leaseMetadata, operation: 'state-write' },
        }),
    lease.lost,
  );
  const { settings } = ctx;
  const machinery = {
    writer,
    engine: () => engine.get(desired),
    target: run.target,
    runId,
    concurrency: settings.concurrency,
    scheduling: settings.scheduling,
    destroysTogether: sharesOperations(desired),
    release,
    listener: ctx.listener,
    ...(ctx.cancel ? { cancel: ctx.cancel } : {}),
  };
  const recover = lease.locks.some((l) => l.takenOverFrom !== undefined);
  const result = await execute({
    ...machinery,
    rollback: operation === 'rollback',
    plan,
    desired,
    graph,
    state: base,
    failFast: settings.failFast,
    stop,
    recover,
    ...(ctx.remediate ? { refresh: new Set(ctx.remediate.keys()) } : {}),
  });
  const failed = result.reports.some((r) => NOT_DONE.has(r.result));
  const due = operation === 'apply' && !stop.aborted ? whatToUndo(desired, base, result.state, result.reports) : undefined;
  const undo = due
    ? await undoFailedRun({ ...machinery, due, desired, after: result.state, reports: result.reports, lost: lease.lost })
    : undefined;
  return { desired, deployments, base, result, failed, ...(undo ? { undo } : {}), ...(pending ? { pending } : {}), writer };
}

/** Rollback events (of the automatic undo, or of `deployer rollback` itself), then the deployments finished. */
async function recordRun(run: Run, desired: DesiredStack, ledger: LedgerStore, executed: Executed): Promise<void> {
  const { base, result, undo } = executed;
  const where = { stack: desired.name, environment: desired.environment };
  let rolledBack = new Set<string>();
  if (undo) {
    rolledBack = await recordRollbacks(ledger, {
      ...where,
      reports: undo.rollback.components,
      reason: `automatic: ${undo.rollback.reason}`,
      fromVersion: (service) => desiredVersion(desired, service),
      toVersion: (service) => serviceVersion(base.components, service),
      undid: (service) => executed.deployments.find((d) => d.service === service)?.id,
    });
  }
  if (run.operation === 'rollback') {
    rolledBack = await recordRollbacks(ledger, {
      ...where,
      reports: result.reports,
      reason: run.why,
      // What the ledger last says the service is at (a failed deployment left in place included), else what the state records.
      fromVersion: async (service) =>
        (await versionInLedger(ledger, desired.name, desired.environment, service)) ?? serviceVersion(base.components, service),
      toVersion: (service) => desiredVersion(desired, service),
      undid: (service) => lastDeployment(ledger, desired.name, desired.environment, service),
    });
  }
  const finished = await finishDeployments(ledger, executed.deployments, result.reports, rolledBack);
  await shipChanges(ledger, executed.pending, finished, run.runId);
}

/** Writes the mark of the run's end; a failure to write it (a full disk) is returned, to be thrown after the summary. */
async function markRunEnd(run: Run, lease: Lease, executed: Executed): Promise<{ state: StackState; failure?: unknown }> {
  const state = executed.undo?.state ?? executed.result.state;
  if (lease.lost.aborted) return { state };
  const mark: RunMark = {
    id: run.runId,
    operation: run.operation,
    ok: !executed.failed,
    ...(executed.undo ? { rolledBack: executed.undo.rollback.ok } : {}),
    ...(run.restored !== undefined ? { restored: run.restored } : {}),
    finishedAt: new Date().toISOString(),
  };
  try {
    return {
      state: await executed.writer.commit((_components, next) => {
        // The store gives this version the next serial: the mark says which version ended the run.
        next.lastRun = { ...mark, serial: next.serial + 1 };
      }),
    };
  } catch (failure) {
    return { state, failure };
  }
}

function summarizeRun(run: Run, desired: DesiredStack, executed: Executed, finalState: StackState, engineOperations: number): RunSummary {
  const { undo, failed } = executed;
  return {
    ...summarize(run, desired, executed.result.reports, engineOperations, finalState.serial),
    ...(undo ? { rollback: undo.rollback } : {}),
    ...(failed && !undo && run.operation === 'apply'
      ? { advice: 'Nothing was rolled back. To return to the last version that worked: deployer rollback --last-good' }
      : {}),
  };
}

export function hasChanges(plan: Plan): boolean {
  return plan.actions.some((a) => a.action !== 'no-op');
}
