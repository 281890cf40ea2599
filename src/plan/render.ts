/** Plans for people (a table) and for machines (JSON). */
import type { Plan, PlanAction, PlanActionType } from '../model/plan.js';

const SYMBOL: Record<PlanActionType, string> = { create: '+', update: '~', replace: '±', delete: '-', 'no-op': ' ' };

export function summaryLine(plan: Plan): string {
  const s = plan.summary;
  return `Plan: ${s.create} to create, ${s.update} to update, ${s.replace} to replace, ${s.delete} to delete, ${s.noop} unchanged.`;
}

/** The reason column: why, and what its build will do ("build (cache hit)", "build (miss: src/app.js changed)"). */
function reasonOf(a: PlanAction): string {
  if (!a.build) return a.reason;
  const build = a.build.cache === 'hit' ? 'build (cache hit)' : `build (miss: ${a.build.changed ?? 'not in the cache'})`;
  return `${a.reason}; ${build}`;
}

/** A table of the changes; unchanged components are counted, not listed, unless asked. */
export function renderPlanTable(plan: Plan, options: { showUnchanged?: boolean } = {}): string {
  const rows = plan.actions.filter((a) => options.showUnchanged || a.action !== 'no-op');
  const lines: string[] = [];
  if (rows.length === 0) {
    lines.push('No changes. The stack matches the configuration.');
  } else {
    const header = ['', 'ACTION', 'COMPONENT', 'KIND', 'WAVE', 'REASON'];
    const body = rows.map((a) => [SYMBOL[a.action], a.action, a.id, a.kind, a.wave === null ? '-' : String(a.wave), reasonOf(a)]);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
    const fmt = (r: string[]): string =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd();
    lines.push(fmt(header), ...body.map(fmt));
  }
  const gated = rows.filter((a) => a.gates?.length);
  if (gated.length > 0) {
    lines.push('', 'Release gates, as they would decide now (checked again just before each component deploys):');
    for (const a of gated) for (const g of a.gates!) lines.push(`  ${a.id}  ${g.gate} ${g.status}: ${g.summary}`);
  }
  lines.push('', summaryLine(plan));
  return lines.join('\n');
}
