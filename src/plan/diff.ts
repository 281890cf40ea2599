/**
 * The plan: a pure function of (desired stack, stored state, graph). No I/O — golden tests
 * pin its output. A component whose spec hash matches the state is a no-op and never
 * reaches Pulumi.
 */
import { dependencyDepths, type DependencyGraph } from '../graph/index.js';
import type { DesiredComponent, DesiredStack } from '../model/desired.js';
import { canonicalJson } from '../model/hash.js';
import type { Plan, PlanAction, PlanSummary } from '../model/plan.js';
import type { ComponentState, StackState } from '../model/state.js';
import { escapePointer } from '../model/pointer.js';
import { inputsHash, resolveSpec } from './resolve.js';

/**
 * `force`: components deployed even when nothing in their configuration changed, with the
 * reason given (drift remediation: what is really there differs from what was recorded).
 */
export function computePlan(
  desired: DesiredStack,
  state: StackState | undefined,
  graph: DependencyGraph,
  force: ReadonlyMap<string, string> = new Map(),
): Plan {
  const stored = state?.components ?? {};
  const waveOf = new Map<string, number>();
  graph.waves.forEach((w, i) => w.forEach((id) => waveOf.set(id, i)));
  const actions: PlanAction[] = [];

  for (const id of graph.order) {
    const c = desired.components.get(id)!;
    const decided = decide(c, stored[id], stored);
    const forced = decided.action === 'no-op' ? force.get(id) : undefined;
    const action = { ...decided, ...(forced ? { action: 'update' as const, reason: forced } : {}), wave: waveOf.get(id) ?? 0 };
    actions.push(c.build && action.action !== 'no-op' ? { ...action, build: plannedBuildOf(c.build) } : action);
  }

  // Components gone from the configuration are deleted, dependents before their dependencies.
  const deleted = Object.keys(stored)
    .filter((id) => !desired.components.has(id))
    .sort();
  actions.push(...deleteActions(deleted, stored, graph.waves.length, 'removed from configuration'));
  return assemble(desired.name, desired.environment, state, actions);
}

/** The plan of `destroy`: every recorded component, dependents first. */
export function computeDestroyPlan(stack: string, environment: string, state: StackState | undefined): Plan {
  const stored = state?.components ?? {};
  return assemble(stack, environment, state, deleteActions(Object.keys(stored).sort(), stored, 0, 'destroy'));
}

/**
 * `plan` narrowed to the components `ids` (and the no-ops, whose inputs may still move): what a
 * partial rollback carries out, leaving everything else as it is.
 */
export function restrictPlan(plan: Plan, ids: Iterable<string>): Plan {
  const keep = new Set(ids);
  const actions = plan.actions.filter((a) => a.action === 'no-op' || keep.has(a.id));
  const waves = plan.waves.map((w) => w.filter((id) => keep.has(id))).filter((w) => w.length > 0);
  const waveOf = new Map(waves.flatMap((w, i) => w.map((id) => [id, i] as const)));
  const summary: PlanSummary = { create: 0, update: 0, replace: 0, delete: 0, noop: 0 };
  for (const a of actions) summary[a.action === 'no-op' ? 'noop' : a.action]++;
  return { ...plan, actions: actions.map((a) => ({ ...a, wave: waveOf.get(a.id) ?? null })), waves, summary };
}

function deleteActions(ids: string[], stored: Record<string, ComponentState>, firstWave: number, reason: string): PlanAction[] {
  return reverseLayers(ids, stored).flatMap((layer, i) =>
    layer.map((id): PlanAction => ({ id, kind: stored[id]!.kind, action: 'delete', reason, changes: [], wave: firstWave + i })),
  );
}

function assemble(stack: string, environment: string, state: StackState | undefined, actions: PlanAction[]): Plan {
  const summary: PlanSummary = { create: 0, update: 0, replace: 0, delete: 0, noop: 0 };
  for (const a of actions) summary[a.action === 'no-op' ? 'noop' : a.action]++;
  // Waves count only the components that change: a wave of no-ops is no step at all.
  const used = [...new Set(actions.filter((a) => a.action !== 'no-op').map((a) => a.wave!))].sort((x, y) => x - y);
  const waves: string[][] = used.map(() => []);
  const numbered = actions.map((a): PlanAction => {
    if (a.action === 'no-op') return { ...a, wave: null };
    const wave = used.indexOf(a.wave!);
    waves[wave]!.push(a.id);
    return { ...a, wave };
  });
  return {
    stack,
    environment,
    lineage: state?.lineage ?? null,
    serial: state?.serial ?? 0,
    actions: numbered,
    waves,
    summary,
  };
}

function decide(c: DesiredComponent, s: ComponentState | undefined, stored: Record<string, ComponentState>): Omit<PlanAction, 'wave'> {
  const base = { id: c.id, kind: c.kind };
  if (!s) return { ...base, action: 'create', reason: 'new component', changes: [] };
  if (s.kind !== c.kind || s.target !== c.target) {
    const what = s.kind !== c.kind ? `kind ${s.kind} -> ${c.kind}` : `target ${s.target} -> ${c.target}`;
    return { ...base, action: 'replace', reason: `${what} (cannot change in place)`, changes: [] };
  }
  if (s.status === 'create-failed') return { ...base, action: 'create', reason: 'new component (the previous create failed)', changes: [] };
  if (s.status === 'failed') return { ...base, action: 'update', reason: 'the last apply of this component failed', changes: [] };
  if (s.specHash !== c.specHash) {
    const changes = changedPaths(s.spec, c.spec);
    return { ...base, action: 'update', reason: changes.length ? `spec changed: ${changes.join(', ')}` : 'spec changed', changes };
  }
  if (c.build && s.artifact?.key !== c.build.key) {
    return { ...base, action: 'update', reason: 'build inputs changed', changes: ['/build'] };
  }
  // Same spec: still an update if an upstream output it consumes has changed since.
  if (c.references.length > 0) {
    const resolved = resolveSpec(c.spec, (id) => stored[id]?.outputs);
    if (resolved.missing.length === 0 && inputsHash(resolved.spec) !== s.inputsHash) {
      const from = [...new Set(c.references.map((r) => r.component))].join(', ');
      return { ...base, action: 'update', reason: `an output it uses changed (${from})`, changes: c.references.map((r) => r.path) };
    }
  }
  return { ...base, action: 'no-op', reason: 'up to date', changes: [] };
}

function plannedBuildOf(b: NonNullable<DesiredComponent['build']>): NonNullable<PlanAction['build']> {
  return {
    cache: b.cache,
    key: b.key,
    ...(b.digest ? { digest: b.digest } : {}),
    ...(b.changed && b.cache === 'miss' ? { changed: b.changed } : {}),
  };
}

/** JSON pointers at which two specs differ (leaves and added/removed keys). */
export function changedPaths(before: unknown, after: unknown, pointer = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => changedPaths(before[k], after[k], `${pointer}/${escapePointer(k)}`));
  }
  return canonicalJson(before) === canonicalJson(after) ? [] : [pointer || '/'];
}

/** Layers of deleted components such that a component comes after everything that depended on it. */
function reverseLayers(ids: string[], stored: Record<string, ComponentState>): string[][] {
  const dependents = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const id of ids) for (const d of stored[id]!.dependsOn) dependents.get(d)?.push(id);
  // Reversed edges: the depth along "is needed by" is how many dependents must go first.
  const depth = dependencyDepths(ids, (id) => dependents.get(id)!);
  const layers: string[][] = [];
  for (const id of ids) (layers[depth.get(id)!] ??= []).push(id);
  return layers.filter(Boolean).map((l) => l.sort());
}
