/**
 * Saved plans: `deployer plan --out plan.json`, reviewed, then `deployer apply plan.json`. The
 * apply carries out exactly that plan, or refuses, naming why: the state moved on (another
 * lineage or serial) or the configuration changed since the plan was made.
 */
import type { DesiredStack } from '../model/desired.js';
import { hashOf } from '../model/hash.js';
import type { Plan, SavedPlan, SavedRegionsPlan } from '../model/plan.js';
import type { StackState } from '../model/state.js';

/** What a plan depends on in the configuration (comment and formatting changes do not count). */
export function configHashOf(desired: DesiredStack): string {
  const components = [...desired.components.values()]
    .map((c) => [c.id, c.kind, c.target, c.specHash, c.dependsOn, ...(c.build ? [c.build.key] : [])])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  return hashOf({ stack: desired.name, environment: desired.environment, target: desired.target, components });
}

export function savePlan(plan: Plan, desired: DesiredStack, now = new Date()): SavedPlan {
  return { format: 'deployer-plan/v1', createdAt: now.toISOString(), configHash: configHashOf(desired), plan };
}

/** Parses a saved plan file's content; a reason when it is not one. */
export function readSavedPlan(value: unknown): SavedPlan | string {
  const v = value as Partial<SavedPlan> | null;
  if (typeof v !== 'object' || v === null || v.format !== 'deployer-plan/v1')
    return 'it is not a plan saved by `deployer plan --out` (format deployer-plan/v1)';
  if (typeof v.configHash !== 'string' || typeof v.plan !== 'object' || v.plan === null || !Array.isArray(v.plan.actions))
    return 'the plan file is damaged';
  return v as SavedPlan;
}

/** Parses a saved plan file's content, of one region or of every region; a reason when it is neither. */
export function readSavedPlanFile(value: unknown): SavedPlan | SavedRegionsPlan | string {
  const v = value as Partial<SavedRegionsPlan> | null;
  if (typeof v !== 'object' || v === null || v.format !== 'deployer-regions-plan/v1') return readSavedPlan(value);
  if (!Array.isArray(v.regions) || v.regions.length === 0) return 'the plan file is damaged';
  for (const r of v.regions) {
    const one = readSavedPlan((r as { saved?: unknown } | null)?.saved);
    if (typeof one === 'string' || typeof r.region !== 'string') return `the plan file is damaged (region ${String(r?.region)})`;
  }
  return v as SavedRegionsPlan;
}

/** Why the saved plan can no longer be applied as it is (empty when it still can). */
export function stalePlanReasons(saved: SavedPlan, desired: DesiredStack, state: StackState | undefined): string[] {
  const reasons: string[] = [];
  const p = saved.plan;
  if (p.stack !== desired.name || p.environment !== desired.environment) {
    reasons.push(`it is a plan of ${p.stack}/${p.environment}, not of ${desired.name}/${desired.environment}`);
    return reasons;
  }
  const lineage = state?.lineage ?? null;
  const serial = state?.serial ?? 0;
  if (lineage !== p.lineage)
    reasons.push(`the state is another history now (lineage ${lineage ?? 'none'}, the plan was made on ${p.lineage ?? 'none'})`);
  else if (serial !== p.serial) reasons.push(`the state moved on: serial ${serial} now, ${p.serial} when the plan was made`);
  if (configHashOf(desired) !== saved.configHash) reasons.push('the configuration changed since the plan was made');
  return reasons;
}
