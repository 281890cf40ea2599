/** The summary every run ends with: its components' results counted, and what the run was. */
import type { ComponentReport, ComponentResult, RunSummary } from '../executor/events.js';
import type { DesiredStack } from '../model/desired.js';

export function summarize(
  run: { runId: string; operation: RunSummary['operation']; started: number },
  desired: DesiredStack,
  reports: ComponentReport[],
  engineOperations: number,
  serial: number,
): RunSummary {
  const counts = { created: 0, updated: 0, replaced: 0, deleted: 0, unchanged: 0, failed: 0, skipped: 0, cancelled: 0 } satisfies Record<
    ComponentResult,
    number
  >;
  for (const r of reports) counts[r.result]++;
  return {
    runId: run.runId,
    operation: run.operation,
    stack: desired.name,
    environment: desired.environment,
    ok: counts.failed + counts.skipped + counts.cancelled === 0,
    counts,
    engineOperations,
    durationMs: Date.now() - run.started,
    components: reports,
    serial,
  };
}
