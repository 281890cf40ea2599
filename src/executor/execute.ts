/**
 * Carrying out a plan: each component as soon as its dependencies succeeded (scheduler.ts),
 * `valueFrom` resolved from the outputs produced so far, its Pulumi stack brought up (or
 * destroyed), and the state written after every component — so a crashed run loses nothing
 * and a rerun finds finished components unchanged by hash.
 */
import { pulumiStackName, type ComponentEngine } from '../engine/index.js';
import { DeployerError, DestroyBlockedError, machineFault } from '../errors.js';
import type { DependencyGraph } from '../graph/index.js';
import type { DesiredComponent, DesiredStack } from '../model/desired.js';
import type { Plan, PlanAction } from '../model/plan.js';
import type { BreakerState, ComponentState, StackState } from '../model/state.js';
import { inputsHash, resolveSpec } from '../plan/index.js';
import type { GateVerdict, ReleaseStage } from '../pipeline/index.js';
import type { RolloutReport, Target, TargetContext } from '../targets/index.js';
import type { ComponentReport, ComponentResult, RunListener } from './events.js';
import { afterFailure, afterSuccess, position, refusal } from './breaker.js';
import { hooksOf, runHooks } from './hooks.js';
import { schedule, UpstreamFailed, type NodeOutcome } from './scheduler.js';
import type { ComponentsChange, StateWriter } from './state-writer.js';

export interface ExecuteOptions {
  plan: Plan;
  desired: DesiredStack;
  graph: DependencyGraph;
  /** The state the plan was made from. */
  state: StackState;
  /** Records each finished component (exclusive under a stack lock, merging otherwise). */
  writer: StateWriter;
  /** The engine, created on first need (a no-op run never provisions Pulumi). */
  engine: () => Promise<ComponentEngine>;
  target: Target;
  runId: string;
  concurrency: number;
  scheduling?: 'graph' | 'waves';
  failFast: boolean;
  /** Aborted: start no new component. */
  stop?: AbortSignal;
  /** Aborted: cancel the running Pulumi operations too. */
  cancel?: AbortSignal;
  /** The run took over the lock of one that died: its Pulumi operations may be left pending. */
  recover?: boolean;
  /** Components whose stacks are refreshed against what really exists before they deploy (drift remediation). */
  refresh?: ReadonlySet<string>;
  /** A rollback: no hooks, no gates, and the circuit breakers keep counting the failures that caused it. */
  rollback?: boolean;
  /** Artifacts and release gates before each component deploys (absent: components deploy as they are). */
  release?: ReleaseStage;
  /**
   * The engine shares destroys in operations (both follow the workflows' sharesOperations): a
   * delete is handed over as soon as the deletes it must follow have started, naming them
   * (`after`), so that one operation deletes them all in order instead of one per level.
   */
  destroysTogether?: boolean;
  listener: RunListener;
}

export interface ExecuteResult {
  reports: ComponentReport[];
  state: StackState;
}

const DONE: Record<PlanAction['action'], ComponentResult> = {
  create: 'created',
  update: 'updated',
  replace: 'replaced',
  delete: 'deleted',
  'no-op': 'unchanged',
};

export async function execute(o: ExecuteOptions): Promise<ExecuteResult> {
  const actions = new Map(o.plan.actions.map((a) => [a.id, a]));
  const outputs = new Map<string, Record<string, unknown>>(Object.entries(o.state.components).map(([id, c]) => [id, c.outputs]));
  const reports = new Map<string, ComponentReport>();
  const usedEngine = new Set<string>();
  const pulumiChanges = new Map<string, Record<string, number>>();
  const shownOutputs = new Map<string, Record<string, unknown>>();
  const artifacts = new Map<string, string>();
  const gateVerdicts = new Map<string, GateVerdict[]>();
  const rollouts = new Map<string, RolloutReport>();
  const commit = (change: ComponentsChange): Promise<StackState> => o.writer.commit(change);

  // What used to depend on each component, as recorded: a deleted component goes after all of it.
  const recordedDependents = new Map<string, string[]>();
  for (const x of actions.keys())
    for (const d of new Set(o.state.components[x]?.dependsOn ?? [])) {
      if (d === x) continue;
      const list = recordedDependents.get(d);
      if (list) list.push(x);
      else recordedDependents.set(d, [x]);
    }
  const dependenciesOf = (id: string): string[] =>
    actions.get(id)!.action === 'delete' ? (recordedDependents.get(id) ?? []) : o.graph.dependenciesOf(id);

  // A delete whose dependencies (the components it must outlive) are all deletes goes with them.
  // Asked by the scheduler at every start and end of a dependency: decided once per component.
  const together = new Map<string, boolean>();
  const goesWithDeletes = (id: string): boolean => {
    let v = together.get(id);
    if (v === undefined) {
      v =
        o.destroysTogether === true &&
        actions.get(id)!.action === 'delete' &&
        dependenciesOf(id).every((d) => actions.get(d)!.action === 'delete');
      together.set(id, v);
    }
    return v;
  };

  const runOne = async (id: string): Promise<void> => {
    const action = actions.get(id)!;
    if (action.action === 'delete') return destroyOne(id);
    const c = o.desired.components.get(id)!;
    const resolved = resolveSpec(c.spec, (dep) => outputs.get(dep));
    if (resolved.missing.length > 0) {
      const m = resolved.missing[0]!;
      const available = Object.keys(outputs.get(m.component) ?? {});
      throw new DeployerError('APPLY_FAILED', `${id}: ${m.component} has no output "${m.output}"`, {
        details: [available.length ? `its outputs: ${available.join(', ')}` : `${m.component} has produced no outputs`],
      });
    }
    const hash = inputsHash(resolved.spec);
    const recorded = o.state.components[id];
    if (action.action === 'no-op' && recorded && recorded.inputsHash === hash) return; // never reaches Pulumi
    const breaker = o.writer.current.breakers?.[id];
    if (!o.rollback && position(breaker, o.desired.circuitBreaker, Date.now()) === 'open') {
      throw new DeployerError('APPLY_FAILED', `${id}: ${refusal(breaker!, o.desired.circuitBreaker)}`);
    }
    const stackName = pulumiStackName(o.desired.name, o.desired.environment, c.service, c.name);
    const hookContext = {
      stack: o.desired.name,
      environment: o.desired.environment,
      component: id,
      action: action.action,
      baseDir: c.baseDir,
      say: (message: string) => o.listener({ type: 'component-notice', id, message }),
      ...(o.cancel ? { signal: o.cancel } : {}),
    };
    const hooks = o.rollback ? { pre: [], post: [] } : { pre: hooksOf(c.spec, 'pre'), post: hooksOf(c.spec, 'post') };
    const started = Date.now();
    try {
      await runHooks(hooks.pre, 'pre', hookContext);
      const release = o.release
        ? await o.release.prepare(c, resolved.spec, {
            rollback: o.rollback ?? false,
            onArtifact: (digest) => artifacts.set(id, digest),
            onVerdict: (verdict) => {
              gateVerdicts.set(id, [...(gateVerdicts.get(id) ?? []), verdict]);
              o.listener({ type: 'gate', id, verdict });
            },
            ...(o.cancel ? { signal: o.cancel } : {}),
          })
        : undefined;
      const artifact = release?.artifact;
      const targetContext: TargetContext = {
        stack: o.desired.name,
        environment: o.desired.environment,
        stackDir: o.desired.dir,
        rollback: o.rollback ?? false,
        ...(artifact ? { artifact: { digest: artifact.digest, dir: artifact.dir } } : {}),
        ...(recorded?.outputs ? { recorded: recorded.outputs } : {}),
        dependencies: Object.fromEntries(o.graph.dependenciesOf(id).map((d) => [d, outputs.get(d) ?? {}])),
        ...(o.desired.local ? { portRange: o.desired.local.portRange } : {}),
        ...(o.desired.circuitBreaker.enabled
          ? {
              crashBreaker: {
                failureThreshold: o.desired.circuitBreaker.failureThreshold,
                recoveryTimeoutMs: o.desired.circuitBreaker.recoveryTimeoutMs,
              },
            }
          : {}),
      };
      // Built first: a target that cannot build the program (a missing secret) fails before Pulumi runs.
      const program = o.target.program(c, resolved.spec, targetContext);
      const engine = await o.engine();
      usedEngine.add(id);
      const result = await engine.up({
        stackName,
        program,
        onProgress: (progress) => o.listener({ type: 'component-progress', id, progress }),
        onNotice: (message) => o.listener({ type: 'component-notice', id, message }),
        recover: o.recover ?? false,
        ...(o.refresh?.has(id) ? { refresh: true } : {}),
        ...(o.cancel ? { signal: o.cancel } : {}),
      });
      await reportRollout(id, c, targetContext, started);
      // Dependents in this run get the values; the state and the report never see the secret ones.
      const visible = redact(result.outputs, result.secretOutputs);
      shownOutputs.set(id, visible);
      pulumiChanges.set(id, result.changes);
      await runHooks(hooks.post, 'post', { ...hookContext, outputs: visible });
      outputs.set(id, result.outputs);
      await commit((components, next) => {
        components[id] = {
          ...componentStateOf(c, hash, visible, stackName, 'deployed', o),
          ...(artifact ? { artifact: { key: artifact.key, digest: artifact.digest } } : {}),
          lastDurationMs: Date.now() - started,
        };
        if (!o.rollback) setBreaker(next, id, afterSuccess(next.breakers?.[id], o.desired.circuitBreaker, Date.now()));
      });
    } catch (err) {
      await commit((components, next) => {
        const previous = components[id];
        components[id] =
          previous && previous.status !== 'create-failed'
            ? { ...previous, status: 'failed', updatedAt: new Date().toISOString() }
            : componentStateOf(c, hash, {}, stackName, 'create-failed', o);
        if (!o.rollback) setBreaker(next, id, afterFailure(next.breakers?.[id], o.desired.circuitBreaker, Date.now()));
      });
      throw err;
    }
  };

  /** The target's account of the rollout this operation made (verified, switched), when it made one. */
  const reportRollout = async (id: string, c: DesiredComponent, ctx: TargetContext, since: number): Promise<void> => {
    const rollout = await o.target.lastRollout?.(c, ctx).catch(() => undefined);
    if (!rollout || Date.parse(rollout.finishedAt) < since) return;
    rollouts.set(id, rollout);
    o.listener({ type: 'component-rollout', id, rollout });
  };

  const destroyOne = async (id: string): Promise<void> => {
    const recorded = o.state.components[id]!;
    const engine = await o.engine();
    usedEngine.add(id);
    const after = goesWithDeletes(id) ? dependenciesOf(id).map((d) => o.state.components[d]!.pulumiStack) : [];
    const changes = await engine
      .destroy({
        stackName: recorded.pulumiStack,
        program: async () => ({}),
        after,
        ...(o.stop ? { stop: o.stop } : {}),
        onProgress: (progress) => o.listener({ type: 'component-progress', id, progress }),
        onNotice: (message) => o.listener({ type: 'component-notice', id, message }),
        recover: o.recover ?? false,
        ...(o.cancel ? { signal: o.cancel } : {}),
      })
      .catch((err: unknown) => {
        throw err instanceof DestroyBlockedError ? new UpstreamFailed(id) : err;
      });
    pulumiChanges.set(id, changes);
    outputs.delete(id);
    await commit((components) => {
      delete components[id];
    });
  };

  const onFinish = (n: NodeOutcome): void => {
    const action = actions.get(n.id)!;
    const engine = usedEngine.has(n.id);
    const result: ComponentResult =
      n.status === 'succeeded' ? (action.action === 'no-op' && engine ? 'updated' : DONE[action.action]) : n.status;
    const report: ComponentReport = {
      id: n.id,
      action: action.action,
      result,
      engine,
      ...(n.startedAt ? { startedAt: new Date(n.startedAt).toISOString() } : {}),
      ...(n.endedAt ? { endedAt: new Date(n.endedAt).toISOString(), durationMs: n.endedAt - (n.startedAt ?? n.endedAt) } : {}),
      ...(n.status === 'failed' ? { reason: describe(n.error) } : {}),
      ...(n.status === 'skipped' ? { reason: `upstream failed: ${(n.causes ?? []).join(', ')}`, causes: n.causes ?? [] } : {}),
      ...(n.status === 'cancelled' ? { reason: 'cancelled before it started' } : {}),
      ...(pulumiChanges.has(n.id) ? { changes: pulumiChanges.get(n.id)! } : {}),
      ...(shownOutputs.has(n.id) ? { outputs: shownOutputs.get(n.id)! } : {}),
      ...(artifacts.has(n.id) ? { artifact: artifacts.get(n.id)! } : {}),
      ...(gateVerdicts.has(n.id) ? { gates: gateVerdicts.get(n.id)! } : {}),
      ...(rollouts.has(n.id) ? { rollout: rollouts.get(n.id)! } : {}),
    };
    reports.set(n.id, report);
    o.listener({ type: 'component-done', report });
  };

  // Expected durations: the last deployment of each component, else the median of those known.
  const known = Object.values(o.state.components)
    .map((c) => c.lastDurationMs)
    .filter((d): d is number => d !== undefined)
    .sort((a, b) => a - b);
  const typical = known[Math.floor(known.length / 2)] ?? 1;
  await schedule({
    nodes: o.plan.actions.map((a) => a.id),
    dependenciesOf,
    weight: (id) => o.state.components[id]?.lastDurationMs ?? typical,
    run: runOne,
    concurrency: o.concurrency,
    mode: o.scheduling ?? 'graph',
    failFast: o.failFast,
    startsEarly: goesWithDeletes,
    ...(o.stop ? { stop: o.stop } : {}),
    onStart: (id) => o.listener({ type: 'component-start', id, action: actions.get(id)!.action }),
    onFinish,
  });
  return { reports: o.plan.actions.map((a) => reports.get(a.id)!), state: await o.writer.flush() };
}

function componentStateOf(
  c: DesiredComponent,
  hash: string,
  outputs: Record<string, unknown>,
  stackName: string,
  status: ComponentState['status'],
  o: ExecuteOptions,
): ComponentState {
  const serviceVersion = o.desired.services.get(c.service)?.version;
  return {
    kind: c.kind,
    target: c.target,
    specHash: c.specHash,
    inputsHash: hash,
    spec: c.spec,
    outputs,
    // Implicit dependencies too: deletes and rollbacks order by what is recorded here.
    dependsOn: [...new Set([...c.dependsOn, ...c.references.map((r) => r.component)])].sort(),
    pulumiStack: stackName,
    status,
    deploymentId: o.runId,
    ...(serviceVersion !== undefined ? { serviceVersion } : {}),
    updatedAt: new Date().toISOString(),
  };
}

function setBreaker(state: StackState, id: string, b: BreakerState | undefined): void {
  const { [id]: _old, ...others } = state.breakers ?? {};
  if (b) state.breakers = { ...others, [id]: b };
  else if (Object.keys(others).length > 0) state.breakers = others;
  else delete state.breakers;
}

function redact(outputs: Record<string, unknown>, secret: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, secret.includes(k) ? '[secret]' : v]));
}

function describe(err: unknown): string {
  const known = err instanceof DeployerError ? err : machineFault(err, 'the machine refused');
  if (known) return [known.message, ...known.details].join('\n');
  return err instanceof Error ? err.message : String(err);
}
