/**
 * The commands' workflows: plan (read only), apply and destroy (load and validate everything
 * first, then lock, read state, plan, confirm, execute, record to the ledger, unlock).
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Settings } from '../config/index.js';
import { createEngine, ensurePulumiCli, resolvePassphrase, type Engine, type PulumiCli } from '../engine/index.js';
import { DeployerError, InvalidInputError, StalePlanError } from '../errors.js';
import { openLedger, type DeploymentEvent, type DeploymentType, type LedgerStore } from '../ledger/index.js';
import { openLockManager, whoAmI, type Lease } from '../lock/index.js';
import type { DesiredStack } from '../model/desired.js';
import { hashOf } from '../model/hash.js';
import type { Plan, SavedPlan } from '../model/plan.js';
import type { StackState } from '../model/state.js';
import { computeDestroyPlan, computePlan, stalePlanReasons } from '../plan/index.js';
import { emptyState, openStateStore, type StateStore } from '../state/index.js';
import { targetFor } from '../targets/index.js';
import type { ComponentReport, ComponentResult, RunListener, RunSummary } from './events.js';
import { execute } from './execute.js';
import { loadStack, type LoadedStack } from './load.js';
import { lockAndPlan } from './locking.js';
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
}

export type RunOutcome = { status: 'declined'; plan: Plan } | { status: 'done'; plan: Plan; summary: RunSummary };

/** Plan only: reads the state without locking and changes nothing. */
export async function planStack(settings: Settings): Promise<{ plan: Plan; loaded: LoadedStack }> {
  const loaded = await loadStack(settings);
  const store = openStateStore(settings.stateUrl, settings.dir);
  const state = await store.read(loaded.desired.name, loaded.desired.environment);
  return { plan: computePlan(loaded.desired, state, loaded.graph), loaded };
}

export function applyStack(ctx: RunContext): Promise<RunOutcome> {
  return runLocked(ctx, 'apply', (loaded, state) => computePlan(loaded.desired, state, loaded.graph));
}

export function destroyStack(ctx: RunContext): Promise<RunOutcome> {
  return runLocked(ctx, 'destroy', (loaded, state) => computeDestroyPlan(loaded.desired.name, loaded.desired.environment, state));
}

async function runLocked(
  ctx: RunContext,
  operation: 'apply' | 'destroy',
  makePlan: (loaded: LoadedStack, state: StackState | undefined) => Plan,
): Promise<RunOutcome> {
  const started = Date.now();
  const { settings, listener } = ctx;
  // Everything that can reject the input happens before the lock is taken or a file is written.
  const loaded = await loadStack(settings);
  const { desired } = loaded;
  if (desired.warnings.length > 0) listener({ type: 'warnings', warnings: desired.warnings });
  const store = openStateStore(settings.stateUrl, settings.dir);
  const locks = openLockManager(settings.lockUrl, settings.dir);
  const target = targetFor(desired.target);
  if (!target.canApply) {
    throw new InvalidInputError(`the ${desired.target} target can validate and plan this stack, but not ${operation} it yet`, ['Nothing was changed. Use `deployer plan` to see what would change.']);
  }
  const runId = randomUUID();
  const initiator = ctx.initiator ?? whoAmI();
  if (store.localRoot === undefined && process.env['PULUMI_CONFIG_PASSPHRASE'] === undefined) {
    // A generated passphrase lives on one machine; a shared state needs the same one everywhere.
    throw new InvalidInputError(`the state at ${store.url} is shared: set PULUMI_CONFIG_PASSPHRASE, the same for everyone who applies this stack`, [
      'It encrypts the secrets in the Pulumi checkpoints kept beside the state. Nothing was changed.',
    ]);
  }

  const leaseMetadata = { deployment_id: runId, operation, pid: String(process.pid), ...(ctx.metadata ?? {}) };
  const { lease, stored, plan } = await lockAndPlan({
    level: desired.lockLevel,
    stack: desired.name,
    environment: desired.environment,
    store,
    locks,
    makePlan: (state) => makePlan(loaded, state),
    lease: {
      ttlMs: settings.lockTtlMs,
      timeoutMs: settings.lockTimeoutMs,
      lockedBy: initiator,
      metadata: leaseMetadata,
      onWait: (holder) => listener({ type: 'lock-wait', holder }),
      ...(ctx.stop ? { signal: ctx.stop } : {}),
    },
  });
  let ledger: LedgerStore | undefined;
  try {
    if (lease.locks.length > 0) listener({ type: 'lock-acquired', locks: [...lease.locks] });
    if (ctx.savedPlan) {
      const reasons = stalePlanReasons(ctx.savedPlan.saved, desired, stored);
      if (reasons.length > 0) throw new StalePlanError(ctx.savedPlan.file, reasons);
    }
    listener({ type: 'plan', plan });
    const changes = plan.actions.some((a) => a.action !== 'no-op');
    // A saved plan was reviewed when it was made: it is not asked about again.
    if (changes && ctx.confirm && !ctx.savedPlan && !(await ctx.confirm(plan))) return { status: 'declined', plan };
    if (!changes) {
      const summary = summarize(runId, operation, desired, plan.actions.map((a) => ({ id: a.id, action: a.action, result: 'unchanged', engine: false })), 0, started, stored?.serial ?? 0);
      listener({ type: 'summary', summary });
      return { status: 'done', plan, summary };
    }

    ledger = openLedger(settings.ledger);
    const deployments = ledgerEvents(desired, plan, runId, initiator, operation, ctx.metadata ?? {});
    for (const d of deployments) ledger.recordDeployment(d);

    let engine: Engine | undefined;
    const engineFactory = async (): Promise<Engine> => {
      engine ??= await startEngine(settings, store, desired, target.engineEnv(), (message) => listener({ type: 'setup', message }));
      return engine;
    };
    lease.lost.addEventListener('abort', () => listener({ type: 'lock-lost', reason: (lease.lost.reason as Error).message }), { once: true });
    const stop = anySignal([ctx.stop, lease.lost]);
    const base = stored ?? emptyState(desired.name, desired.environment);
    const result = await execute({
      plan,
      desired,
      graph: loaded.graph,
      state: base,
      writer: guardedWriter(
        desired.lockLevel === 'stack'
          ? exclusiveWriter(store, base)
          : sharedWriter({ store, base, locks, lockedBy: initiator, metadata: { ...leaseMetadata, operation: 'state-write' } }),
        lease.lost,
      ),
      engine: engineFactory,
      target,
      runId,
      concurrency: settings.concurrency,
      scheduling: settings.scheduling,
      failFast: settings.failFast,
      stop,
      ...(ctx.cancel ? { cancel: ctx.cancel } : {}),
      recover: lease.locks.some((l) => l.takenOverFrom !== undefined),
      listener,
    });
    const summary = summarize(runId, operation, desired, result.reports, engine?.operations ?? 0, started, result.state.serial);
    const completed = new Date().toISOString();
    for (const d of deployments) {
      const mine = result.reports.filter((r) => serviceOf(r.id) === d.service);
      const ok = mine.every((r) => !['failed', 'skipped', 'cancelled'].includes(r.result));
      ledger.recordDeployment({ ...d, completed, status: ok ? 'success' : 'failed', metadata: { ...d.metadata, results: Object.fromEntries(mine.map((r) => [r.id, r.result])) } });
    }
    listener({ type: 'summary', summary });
    if (lease.lost.aborted) throw lease.lost.reason as DeployerError;
    return { status: 'done', plan, summary };
  } finally {
    ledger?.close();
    await releaseQuietly(lease);
  }
}

async function releaseQuietly(lease: Lease): Promise<void> {
  await lease.release().catch(() => undefined);
}

async function startEngine(settings: Settings, store: StateStore, desired: DesiredStack, targetEnv: Record<string, string>, say: (m: string) => void): Promise<Engine> {
  const cli: PulumiCli = await ensurePulumiCli({ onProgress: say });
  return createEngine({
    cli,
    backendUrl: store.pulumiBackend(desired.name, desired.environment),
    workRoot: path.join(settings.dir, '.deployer', 'workspaces', desired.name, desired.environment),
    passphrase: await resolvePassphrase(store.localRoot ?? path.join(settings.dir, '.deployer')),
    env: targetEnv,
  });
}

function serviceOf(componentId: string): string {
  return componentId.split('/')[0]!;
}

/** One in-progress ledger event per service this run changes. */
function ledgerEvents(desired: DesiredStack, plan: Plan, runId: string, initiator: string, operation: string, metadata: Record<string, string>): DeploymentEvent[] {
  const services = [...new Set(plan.actions.filter((a) => a.action !== 'no-op').map((a) => serviceOf(a.id)))].sort();
  const now = new Date().toISOString();
  return services.map((service) => {
    const components = [...desired.components.values()].filter((c) => c.service === service);
    const strategy = components.find((c) => c.kind === 'MicroService')?.spec['strategy'] as { type?: DeploymentType } | undefined;
    const type: DeploymentType = strategy?.type ?? (components.some((c) => c.kind === 'MicroService') ? 'rolling' : 'big-bang');
    const version = desired.services.get(service)?.version ?? hashOf(components.map((c) => c.specHash)).slice(0, 12);
    return {
      id: randomUUID(),
      stack: desired.name,
      service,
      version: operation === 'destroy' ? `${version} (destroyed)` : version,
      environment: desired.environment,
      type,
      started: now,
      completed: null,
      status: 'in-progress',
      initiator,
      metadata: { operation, ...metadata, actions: Object.fromEntries(plan.actions.filter((a) => serviceOf(a.id) === service && a.action !== 'no-op').map((a) => [a.id, a.action])) },
      parentId: runId,
    };
  });
}

function summarize(runId: string, operation: 'apply' | 'destroy', desired: DesiredStack, reports: ComponentReport[], engineOperations: number, started: number, serial: number): RunSummary {
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
