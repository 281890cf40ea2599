/**
 * The commands' workflows: plan (read only), apply, destroy and rollback (load and validate
 * everything first, then lock, read state, plan, confirm, execute, roll back automatically when
 * a component failed and its rollback mode is auto, record to the ledger, unlock).
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Settings } from '../config/index.js';
import { createEngine, ensurePulumiCli, resolvePassphrase, stopLeftovers, type ComponentEngine, type PulumiCli } from '../engine/index.js';
import { DeployerError, InvalidInputError, StalePlanError } from '../errors.js';
import type { DependencyGraph } from '../graph/index.js';
import { openLedger, type LedgerStore } from '../ledger/index.js';
import { openLockManager, whoAmI, type Lease, type LockManager } from '../lock/index.js';
import type { DesiredStack } from '../model/desired.js';
import type { Plan, SavedPlan } from '../model/plan.js';
import type { RunMark, StackState } from '../model/state.js';
import { computeDestroyPlan, computePlan, restrictPlan, stalePlanReasons } from '../plan/index.js';
import { emptyState, openStateStore, type StateStore } from '../state/index.js';
import { targetFor, type Target } from '../targets/index.js';
import { NOT_DONE, type ComponentReport, type ComponentResult, type RollbackSummary, type RunListener, type RunSummary } from './events.js';
import { execute, type ExecuteOptions } from './execute.js';
import { desiredVersion, finishDeployments, recordRollbacks, startDeployments, versionInLedger } from './ledger-events.js';
import { cleanUpDeadRuns, closeAbandoned } from './dead-runs.js';
import { loadStack, type LoadedStack } from './load.js';
import { lockAndPlan } from './locking.js';
import { autoRollbackTarget, desiredFromState, rollbackSource, serviceVersion } from './rollback.js';
import { exclusiveWriter, guardedWriter, sharedWriter } from './state-writer.js';

export interface RunContext {
  settings: Settings;
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
  /** deployment metadata: git_commit, ci_run_id ... */
  metadata?: Record<string, string>;
  /** What the run works with, instead of what the settings name (the executor's unit tests). */
  dependencies?: Partial<RunDependencies>;
}

/**
 * What a run works with. By default: the state store and lock manager the settings' URLs name,
 * the ledger they name, the stack's target, and the Pulumi engine (the CLI provisioned first).
 */
export interface RunDependencies {
  store: StateStore;
  locks: LockManager;
  openLedger: () => LedgerStore;
  target: Target;
  /** The engine of one run, created on first need (a no-op run never creates one). */
  engine: (run: { runId: string; desired: DesiredStack; store: StateStore; target: Target }) => Promise<ComponentEngine>;
}

export type RunOutcome =
  | { status: 'declined'; plan: Plan }
  | { status: 'done'; plan: Plan; summary: RunSummary }
  /** Nothing was to be done (a rollback with no earlier good version): nothing was locked or changed. */
  | { status: 'nothing'; reason: string };

/** What a run is about, found before the lock is taken: why it runs, and for a rollback the serial it restores. */
type Purpose = { why: string; restored?: number } | { nothing: string };

/** Plan only: reads the state without locking and changes nothing. */
export async function planStack(settings: Settings): Promise<{ plan: Plan; loaded: LoadedStack }> {
  const loaded = await loadStack(settings);
  const store = openStateStore(settings.stateUrl, settings.dir);
  const state = await store.read(loaded.desired.name, loaded.desired.environment);
  return { plan: computePlan(loaded.desired, state, loaded.graph), loaded };
}

/** A plan and what it was made from: the configuration, or (rollback) recorded states. */
interface Prepared {
  plan: Plan;
  desired: DesiredStack;
  graph: DependencyGraph;
}

type Operation = RunSummary['operation'];

export function applyStack(ctx: RunContext): Promise<RunOutcome> {
  return runLocked(ctx, 'apply', (loaded, state) => ({ plan: computePlan(loaded.desired, state, loaded.graph), desired: loaded.desired, graph: loaded.graph }));
}

export function destroyStack(ctx: RunContext): Promise<RunOutcome> {
  return runLocked(ctx, 'destroy', (loaded, state) => ({
    plan: computeDestroyPlan(loaded.desired.name, loaded.desired.environment, state),
    desired: loaded.desired,
    graph: loaded.graph,
  }));
}

/**
 * `deployer rollback`: makes the components of an earlier state version (`--to`, or the last
 * known good one) real again, through the same locked, planned, confirmed run as apply.
 */
export function rollbackStack(ctx: RunContext, to: number | 'last-good'): Promise<RunOutcome> {
  let source: StackState | undefined;
  return runLocked(
    ctx,
    'rollback',
    (loaded, state) => {
      const { desired, graph } = desiredFromState(loaded.desired, source!.components);
      return { plan: computePlan(desired, state, graph), desired, graph };
    },
    async (loaded, store) => {
      // Stored versions never change, so the one to restore is found before the lock is taken.
      const found = await rollbackSource(store, await store.read(loaded.desired.name, loaded.desired.environment), to);
      if ('nothing' in found) return found;
      source = found;
      return { why: `rollback to serial ${found.serial}${to === 'last-good' ? ' (last known good)' : ''}`, restored: found.serial };
    },
  );
}

async function runLocked(
  ctx: RunContext,
  operation: Operation,
  prepare: (loaded: LoadedStack, state: StackState | undefined) => Prepared,
  before?: (loaded: LoadedStack, store: StateStore) => Promise<Purpose>,
): Promise<RunOutcome> {
  const started = Date.now();
  const { settings, listener } = ctx;
  // Everything that can reject the input happens before the lock is taken or a file is written.
  const loaded = await loadStack(settings);
  if (loaded.desired.warnings.length > 0) listener({ type: 'warnings', warnings: loaded.desired.warnings });
  const deps = ctx.dependencies ?? {};
  const store = deps.store ?? openStateStore(settings.stateUrl, settings.dir);
  const locks = deps.locks ?? openLockManager(settings.lockUrl, settings.dir);
  const target = deps.target ?? targetFor(loaded.desired.target);
  if (!target.canApply) {
    throw new InvalidInputError(`the ${loaded.desired.target} target can validate and plan this stack, but not ${operation} it yet`, ['Nothing was changed. Use `deployer plan` to see what would change.']);
  }
  const runId = randomUUID();
  const initiator = ctx.initiator ?? whoAmI();
  if (!deps.engine && store.localRoot === undefined && process.env['PULUMI_CONFIG_PASSPHRASE'] === undefined) {
    // A generated passphrase lives on one machine; a shared state needs the same one everywhere.
    throw new InvalidInputError(`the state at ${store.url} is shared: set PULUMI_CONFIG_PASSPHRASE, the same for everyone who applies this stack`, [
      'It encrypts the secrets in the Pulumi checkpoints kept beside the state. Nothing was changed.',
    ]);
  }
  const purpose = before ? await before(loaded, store) : { why: operation };
  if ('nothing' in purpose) return { status: 'nothing', reason: purpose.nothing };
  const why = purpose.why;

  // Provisioning the Pulumi CLI can take minutes (a build from source on a new machine): it
  // happens before the lock is taken and before anything is recorded, and only when the plan
  // as it stands has changes (a no-op run never needs Pulumi).
  let cli: PulumiCli | undefined;
  const provision = async (): Promise<PulumiCli> => (cli ??= await ensurePulumiCli({ onProgress: (message) => listener({ type: 'setup', message }) }));
  if (!deps.engine && hasChanges(prepare(loaded, await store.read(loaded.desired.name, loaded.desired.environment)).plan)) await provision();
  const newEngine =
    deps.engine ?? (async (run: { runId: string; desired: DesiredStack; store: StateStore; target: Target }) => startEngine({ settings, store: run.store, desired: run.desired, runId: run.runId, targetEnv: run.target.engineEnv(), cli: await provision() }));

  let prepared: Prepared | undefined;
  const leaseMetadata = { deployment_id: runId, operation, pid: String(process.pid), ...(ctx.metadata ?? {}) };
  const { lease, stored, plan } = await lockAndPlan({
    level: loaded.desired.lockLevel,
    stack: loaded.desired.name,
    environment: loaded.desired.environment,
    store,
    locks,
    makePlan: (state) => (prepared = prepare(loaded, state)).plan,
    lease: {
      ttlMs: settings.lockTtlMs,
      timeoutMs: settings.lockTimeoutMs,
      lockedBy: initiator,
      metadata: leaseMetadata,
      onWait: (holder) => listener({ type: 'lock-wait', holder }),
      ...(ctx.stop ? { signal: ctx.stop } : {}),
    },
  });
  const { desired, graph } = prepared!;
  let ledger: LedgerStore | undefined;
  const openRunLedger = (): LedgerStore => (ledger ??= (deps.openLedger ?? (() => openLedger(settings.ledger)))());
  let engine: ComponentEngine | undefined;
  try {
    if (lease.locks.length > 0) listener({ type: 'lock-acquired', locks: [...lease.locks] });
    await cleanUpDeadRuns({ locks: lease.locks, level: loaded.desired.lockLevel, stack: loaded.desired.name, environment: loaded.desired.environment, ledger: openRunLedger, listener });
    if (ctx.savedPlan) {
      const reasons = stalePlanReasons(ctx.savedPlan.saved, desired, stored);
      if (reasons.length > 0) throw new StalePlanError(ctx.savedPlan.file, reasons);
    }
    listener({ type: 'plan', plan });
    const changes = hasChanges(plan);
    // A saved plan was reviewed when it was made: it is not asked about again.
    if (changes && ctx.confirm && !ctx.savedPlan && !(await ctx.confirm(plan))) return { status: 'declined', plan };
    if (!changes) {
      const summary = summarize(runId, operation, desired, plan.actions.map((a) => ({ id: a.id, action: a.action, result: 'unchanged', engine: false })), 0, started, stored?.serial ?? 0);
      listener({ type: 'summary', summary });
      return { status: 'done', plan, summary };
    }

    ledger = openRunLedger();
    await closeAbandoned(ledger, { locks: lease.locks, level: desired.lockLevel, stack: desired.name, environment: desired.environment }, listener);
    const deployments = operation === 'rollback' ? [] : startDeployments(desired, plan, runId, initiator, operation, ctx.metadata ?? {});
    for (const d of deployments) await ledger.recordDeployment(d);

    const engineFactory = async (): Promise<ComponentEngine> => {
      engine ??= await newEngine({ runId, desired, store, target });
      return engine;
    };
    lease.lost.addEventListener('abort', () => listener({ type: 'lock-lost', reason: (lease.lost.reason as Error).message }), { once: true });
    const stop = anySignal([ctx.stop, lease.lost]);
    const base = stored ?? emptyState(desired.name, desired.environment);
    const writer = guardedWriter(
      desired.lockLevel === 'stack'
        ? exclusiveWriter(store, base)
        : sharedWriter({ store, base, locks, lockedBy: initiator, metadata: { ...leaseMetadata, operation: 'state-write' } }),
      lease.lost,
    );
    const common = { writer, engine: engineFactory, target, runId, concurrency: settings.concurrency, scheduling: settings.scheduling, listener, ...(ctx.cancel ? { cancel: ctx.cancel } : {}) };
    const result = await execute({
      ...common,
      rollback: operation === 'rollback',
      plan,
      desired,
      graph,
      state: base,
      failFast: settings.failFast,
      stop,
      recover: lease.locks.some((l) => l.takenOverFrom !== undefined),
    });
    const failed = result.reports.some((r) => NOT_DONE.has(r.result));
    const due = operation === 'apply' && !stop.aborted ? autoRollbackTarget(desired, base, result.state, result.reports) : undefined;
    const back = due ? await rollBack({ ...common, due, desired, base, after: result.state, reports: result.reports, lost: lease.lost }) : undefined;
    let rolledBack = new Set<string>();
    if (back) {
      rolledBack = await recordRollbacks(ledger, {
        stack: desired.name,
        environment: desired.environment,
        reports: back.rollback.components,
        reason: `automatic: ${back.rollback.reason}`,
        fromVersion: (service) => desiredVersion(desired, service),
        toVersion: (service) => serviceVersion(base.components, service),
      });
    }
    if (operation === 'rollback') {
      rolledBack = await recordRollbacks(ledger, {
        stack: desired.name,
        environment: desired.environment,
        reports: result.reports,
        reason: why,
        // What the ledger last says the service is at (a failed deployment left in place included),
        // else what the state records.
        fromVersion: async (service) => (await versionInLedger(ledger!, desired.name, desired.environment, service)) ?? serviceVersion(base.components, service),
        toVersion: (service) => desiredVersion(desired, service),
      });
    }
    await finishDeployments(ledger, deployments, result.reports, rolledBack);
    let finalState = back?.state ?? result.state;
    let markFailure: unknown;
    if (!lease.lost.aborted) {
      const mark: RunMark = {
        id: runId,
        operation,
        ok: !failed,
        ...(back ? { rolledBack: back.rollback.ok } : {}),
        ...(purpose.restored !== undefined ? { restored: purpose.restored } : {}),
        finishedAt: new Date().toISOString(),
      };
      try {
        finalState = await writer.commit((_components, next) => {
          // The store gives this version the next serial: the mark says which version ended the run.
          next.lastRun = { ...mark, serial: next.serial + 1 };
        });
      } catch (err) {
        // The run happened (its components are recorded or reported): it is summed up, then the
        // reason its end could not be recorded (a full disk) ends the command.
        markFailure = err;
      }
    }
    const summary: RunSummary = {
      ...summarize(runId, operation, desired, result.reports, engine?.operations ?? 0, started, finalState.serial),
      ...(back ? { rollback: back.rollback } : {}),
      ...(failed && !back && operation === 'apply' ? { advice: 'Nothing was rolled back. To return to the last version that worked: deployer rollback --last-good' } : {}),
    };
    listener({ type: 'summary', summary });
    if (lease.lost.aborted) throw lease.lost.reason as DeployerError;
    if (markFailure !== undefined) throw markFailure;
    return { status: 'done', plan, summary };
  } finally {
    await ledger?.close();
    // Whatever the engine started and did not stop (an interrupted operation's plugins) goes with the run.
    if (engine) await stopLeftovers(runId);
    await releaseQuietly(lease);
  }
}

function hasChanges(plan: Plan): boolean {
  return plan.actions.some((a) => a.action !== 'no-op');
}

interface RollBackOptions extends Omit<ExecuteOptions, 'plan' | 'desired' | 'graph' | 'state' | 'failFast' | 'stop' | 'rollback'> {
  due: NonNullable<ReturnType<typeof autoRollbackTarget>>;
  desired: DesiredStack;
  /** The state before the run, and after it. */
  base: StackState;
  after: StackState;
  reports: ComponentReport[];
  lost: AbortSignal;
}

/** Undoes what a failed run changed (autoRollbackTarget says what), through the executor. */
async function rollBack(o: RollBackOptions): Promise<{ rollback: RollbackSummary; state: StackState }> {
  const { due, listener } = o;
  const reason = `${due.triggers.join(', ')} failed: ${o.reports.find((r) => r.id === due.triggers[0])?.reason?.split('\n')[0] ?? 'failed'}`;
  const firstFailure = Math.min(...o.reports.filter((r) => r.result === 'failed' && r.endedAt).map((r) => Date.parse(r.endedAt!)));
  const restoring = desiredFromState(o.desired, due.components);
  const undo = restrictPlan(computePlan(restoring.desired, o.after, restoring.graph), due.ids);
  listener({ type: 'rollback-start', reason, plan: undo });
  const started = Date.now();
  const { due: _due, base: _base, after: _after, reports: _reports, lost, ...common } = o;
  const back = await execute({ ...common, plan: undo, desired: restoring.desired, graph: restoring.graph, state: o.after, failFast: false, stop: lost, rollback: true });
  const changed = back.reports.filter((r) => r.result !== 'unchanged');
  const rollback: RollbackSummary = {
    triggers: due.triggers,
    reason,
    ok: changed.every((r) => !NOT_DONE.has(r.result)),
    components: changed,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    sinceFailureMs: Date.now() - (Number.isFinite(firstFailure) ? firstFailure : started),
  };
  listener({ type: 'rollback-done', rollback });
  return { rollback, state: back.state };
}

async function releaseQuietly(lease: Lease): Promise<void> {
  await lease.release().catch(() => undefined);
}

interface EngineStart {
  settings: Settings;
  store: StateStore;
  desired: DesiredStack;
  runId: string;
  targetEnv: Record<string, string>;
  cli: PulumiCli;
}

async function startEngine(o: EngineStart): Promise<ComponentEngine> {
  return createEngine({
    cli: o.cli,
    backendUrl: o.store.pulumiBackend(o.desired.name, o.desired.environment),
    workRoot: path.join(o.settings.dir, '.deployer', 'workspaces', o.desired.name, o.desired.environment),
    passphrase: await resolvePassphrase(o.store.localRoot ?? path.join(o.settings.dir, '.deployer')),
    env: o.targetEnv,
    runId: o.runId,
  });
}

function summarize(runId: string, operation: Operation, desired: DesiredStack, reports: ComponentReport[], engineOperations: number, started: number, serial: number): RunSummary {
  const counts = { created: 0, updated: 0, replaced: 0, deleted: 0, unchanged: 0, failed: 0, skipped: 0, cancelled: 0 } satisfies Record<ComponentResult, number>;
  for (const r of reports) counts[r.result]++;
  return {
    runId,
    operation,
    stack: desired.name,
    environment: desired.environment,
    ok: counts.failed + counts.skipped + counts.cancelled === 0,
    counts,
    engineOperations,
    durationMs: Date.now() - started,
    components: reports,
    serial,
  };
}

function anySignal(signals: Array<AbortSignal | undefined>): AbortSignal {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return AbortSignal.any(present);
}
