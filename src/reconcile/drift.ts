/**
 * `deployer drift`: the three-way comparison of every deployed component, read-only. The
 * configuration is loaded and checked as for any command (bad input is refused before anything
 * runs), the state is read without taking the stack lock, the plan says what the YAML changed,
 * and each component's Pulumi stack is refreshed in preview (nothing is written) to read what
 * is really there. Components are checked concurrently.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Settings } from '../config/index.js';
import { ensurePulumiCli, type Engine } from '../engine/index.js';
import { startEngine, workspacesRoot } from '../workflows/run-engine.js';
import { DeployerError, InvalidInputError } from '../errors.js';
import type { DesiredStack } from '../model/desired.js';
import type { ComponentState, StackState } from '../model/state.js';
import { computePlan } from '../plan/index.js';
import { resolveSpec } from '../plan/resolve.js';
import { openStateStore, type StateStore } from '../state/index.js';
import { targetFor, type Target } from '../targets/index.js';
import { loadStack, type LoadedStack } from '../workflows/load-stack.js';
import {
  applyIgnoreRules,
  configurationDrift,
  isSecretRef,
  pendingDrift,
  resourceDrift,
  valueAt,
  type DriftFinding,
  type ResourceReading,
} from './report.js';

/** What was found of one component. */
export interface ComponentDrift {
  id: string;
  kind: string;
  /** `in-sync`: nothing differs (or only what the ignore rules leave out); `error`: it could not be checked. */
  status: 'in-sync' | 'drifted' | 'error';
  findings: DriftFinding[];
  /** Findings the Stack's `spec.drift.ignore` left out. */
  ignored: number;
  error?: string;
  /** How long its check took (the refresh of its Pulumi stack), ms. */
  durationMs: number;
}

export interface DriftReport {
  stack: string;
  environment: string;
  checkedAt: string;
  /** The state serial the check compared against (0: nothing deployed). */
  serial: number;
  concurrency: number;
  components: ComponentDrift[];
  counts: { components: number; drifted: number; findings: number; critical: number; ignored: number; errors: number };
  durationMs: number;
}

/** Progress of a check, for a terminal or a log. */
export type DriftEvent =
  | { type: 'setup'; message: string }
  | { type: 'component-started'; id: string }
  | { type: 'component-done'; id: string; status: ComponentDrift['status']; findings: number; durationMs: number };

export interface DriftOptions {
  settings: Settings;
  /** The stack as the caller already loaded it from the settings (a reconcile cycle); loaded here when absent. */
  loaded?: LoadedStack;
  /** Only these components (ids as `svc/comp`); all when empty. */
  components?: string[];
  /** Components checked at once (default 4). */
  concurrency?: number;
  onEvent?: (e: DriftEvent) => void;
  signal?: AbortSignal;
}

export const DEFAULT_DRIFT_CONCURRENCY = 4;

/** Runs `work` over `items`, at most `limit` at a time, keeping their order in the result. */
async function mapConcurrent<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The components asked for, refused by name when the stack has no such component. */
function selected(desired: DesiredStack, state: StackState | undefined, asked: readonly string[]): string[] {
  const known = new Set([...desired.components.keys(), ...Object.keys(state?.components ?? {})]);
  const unknown = asked.filter((id) => !known.has(id));
  if (unknown.length > 0)
    throw new InvalidInputError(`no component ${unknown.join(', ')} in stack ${desired.name} (${desired.environment})`, [
      `Components: ${[...known].sort().join(', ') || '(none)'}`,
    ]);
  return [...known].filter((id) => asked.length === 0 || asked.includes(id)).sort();
}

/** Checks the stack the settings name for drift; changes nothing and takes no lock. */
export async function detectDrift(o: DriftOptions): Promise<DriftReport> {
  const started = Date.now();
  const concurrency = o.concurrency ?? DEFAULT_DRIFT_CONCURRENCY;
  const { desired, graph } = o.loaded ?? (await loadStack(o.settings));
  const store = openStateStore(o.settings.stateUrl, o.settings.dir);
  const state = await store.read(desired.name, desired.environment);
  const ids = selected(desired, state, o.components ?? []);
  const actions = new Map(computePlan(desired, state, graph).actions.map((a) => [a.id, a]));
  const target = targetFor(desired.target);
  const deployed = ids.filter((id) => state?.components[id] && state.components[id].status !== 'create-failed');
  const probe = deployed.length > 0 ? await startProbe(o, store, desired, target) : undefined;
  try {
    const components = await mapConcurrent(ids, concurrency, async (id) => {
      o.onEvent?.({ type: 'component-started', id });
      const t0 = Date.now();
      const checked = await checkComponent(id, { desired, state, target, probe, action: actions.get(id), signal: o.signal });
      const rules = desired.drift?.ignore ?? [];
      const { kept, ignored } = applyIgnoreRules(checked.findings, rules);
      const result: ComponentDrift = {
        id,
        kind: desired.components.get(id)?.kind ?? state?.components[id]?.kind ?? 'unknown',
        status: checked.error ? 'error' : kept.length > 0 ? 'drifted' : 'in-sync',
        findings: kept,
        ignored,
        ...(checked.error ? { error: checked.error } : {}),
        durationMs: Date.now() - t0,
      };
      o.onEvent?.({ type: 'component-done', id, status: result.status, findings: kept.length, durationMs: result.durationMs });
      return result;
    });
    return report(desired, state, components, concurrency, started);
  } finally {
    await probe?.close();
  }
}

function report(
  desired: DesiredStack,
  state: StackState | undefined,
  components: ComponentDrift[],
  concurrency: number,
  started: number,
): DriftReport {
  const all = components.flatMap((c) => c.findings);
  return {
    stack: desired.name,
    environment: desired.environment,
    checkedAt: new Date(started).toISOString(),
    serial: state?.serial ?? 0,
    concurrency,
    components,
    counts: {
      components: components.length,
      drifted: components.filter((c) => c.status === 'drifted').length,
      findings: all.length,
      critical: all.filter((f) => f.severity === 'critical').length,
      ignored: components.reduce((n, c) => n + c.ignored, 0),
      errors: components.filter((c) => c.status === 'error').length,
    },
    durationMs: Date.now() - started,
  };
}

/** The engine a check reads through: its own workspaces (an apply running beside it keeps its own), removed after. */
interface Probe {
  engine: Engine;
  close(): Promise<void>;
}

async function startProbe(o: DriftOptions, store: StateStore, desired: DesiredStack, target: Target): Promise<Probe> {
  const cli = await ensurePulumiCli({ onProgress: (message) => o.onEvent?.({ type: 'setup', message }) });
  const workspaces = `.drift-${process.pid}-${Date.now()}`;
  const engine = await startEngine({ settings: o.settings, store, desired, targetEnv: target.engineEnv(), cli, workspaces });
  const workRoot = path.join(workspacesRoot(o.settings, desired), workspaces);
  return { engine, close: () => fs.rm(workRoot, { recursive: true, force: true }) };
}

interface CheckInput {
  desired: DesiredStack;
  state: StackState | undefined;
  target: Target;
  probe: Probe | undefined;
  action: Parameters<typeof configurationDrift>[0] | undefined;
  signal: AbortSignal | undefined;
}

async function checkComponent(id: string, i: CheckInput): Promise<{ findings: DriftFinding[]; error?: string }> {
  const wanted = i.desired.components.get(id);
  const recorded: ComponentState | undefined = i.state?.components[id];
  const findings = i.action ? configurationDrift(i.action, wanted?.spec, recorded?.spec) : [];
  if (!recorded || recorded.status === 'create-failed' || !i.probe) return { findings };
  try {
    const preview = await i.probe.engine.previewRefresh({ stackName: recorded.pulumiStack, ...(i.signal ? { signal: i.signal } : {}) });
    const resolved = wanted ? resolveSpec(wanted.spec, (c) => i.state?.components[c]?.outputs).spec : undefined;
    const secret = (p: string): boolean => isSecretRef(valueAt(wanted?.spec, p)) || isSecretRef(valueAt(recorded.spec, p));
    const readings: ResourceReading[] = preview.resources;
    // What is there now, beside what the YAML asks and what was deployed, for a property both name alike.
    const actualNow = readings.length === 1 ? readings[0]!.actual : undefined;
    for (const f of findings) {
      const now = f.path.startsWith('spec.') ? valueAt(actualNow, f.path.slice('spec.'.length)) : undefined;
      if (now !== undefined && !secret(f.path.slice('spec.'.length))) f.actual = now;
    }
    findings.push(...pendingDrift({ id, kind: recorded.kind }, preview.pending));
    findings.push(
      ...resourceDrift({ id, kind: recorded.kind }, readings, {
        ...(resolved ? { resolvedSpec: resolved } : {}),
        volatile: new Set(i.target.volatileOutputs),
        secret,
      }),
    );
    return { findings };
  } catch (err) {
    if (!(err instanceof DeployerError)) throw err;
    return { findings, error: err.message };
  }
}
