/**
 * `deployer plan --resources`: what each component the plan changes would make, by a run of its
 * program that makes nothing (the aws target runs it under Pulumi's runtime mocks), so a
 * reviewer sees "ECS service, task definition, target group ..." before anyone has credentials.
 * Components are run in dependency order: each sees the outputs of what it references — those
 * recorded for a component that does not change, those a run gave for one that does.
 */
import type { Plan } from '../model/plan.js';
import type { StackState } from '../model/state.js';
import { resolveSpec } from '../plan/resolve.js';
import { targetFor, type DescribedResources } from '../targets/index.js';
import type { LoadedStack } from './load-stack.js';

/** What `plan --resources` found: each changing component's resources, or why the target cannot say. */
export type PlanResources = { described: Map<string, DescribedResources> } | { unavailable: string };

export async function describePlanResources(loaded: LoadedStack, state: StackState | undefined, plan: Plan): Promise<PlanResources> {
  const { desired, graph } = loaded;
  const target = targetFor(desired.target);
  if (!target.describe)
    return { unavailable: `the ${desired.target} target makes one resource per component: there is nothing more to show` };
  const changing = new Set(
    plan.actions.filter((a) => a.action === 'create' || a.action === 'update' || a.action === 'replace').map((a) => a.id),
  );
  const outputs = new Map(Object.entries(state?.components ?? {}).map(([id, c]) => [id, c.outputs]));
  const described = new Map<string, DescribedResources>();
  for (const id of graph.order) {
    if (!changing.has(id)) continue;
    const c = desired.components.get(id)!;
    // An output nothing recorded (a state written before it existed) reads as a placeholder that says so.
    const resolved = resolveSpec(c.spec, (dep) => {
      const known = outputs.get(dep);
      return new Proxy(known ?? {}, { get: (o, k: string) => (k in o ? o[k] : `(${dep} ${k}, known after apply)`), has: () => true });
    });
    const result = await target.describe(c, resolved.spec, {
      stack: desired.name,
      environment: desired.environment,
      stackDir: desired.dir,
    });
    described.set(id, result);
    outputs.set(id, result.outputs);
  }
  return { described };
}

/** The resources under each changing component, for people. */
export function renderPlanResources(plan: Plan, found: PlanResources): string {
  if ('unavailable' in found) return `Resources: ${found.unavailable}.`;
  const lines = ['Resources each change would make (a run of its program that makes nothing):'];
  for (const a of plan.actions) {
    const d = found.described.get(a.id);
    if (!d) continue;
    lines.push('', `  ${a.id} (${a.kind}, ${a.action}): ${d.resources.length} resources`);
    const rows = [...d.resources].sort((x, y) => x.type.localeCompare(y.type) || x.name.localeCompare(y.name));
    const width = Math.max(...rows.map((r) => r.type.length));
    for (const r of rows) lines.push(`    ${r.type.padEnd(width)}  ${r.name}`);
  }
  return lines.join('\n');
}
