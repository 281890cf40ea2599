/**
 * apply and destroy of a Stack that lists regions: every region's run, each line of its
 * progress marked with its region, then each region's summary, the cross-region rollback if
 * one failed, and the lag of the traffic switch across regions against the Stack's bound.
 */
import type { RunEvent, RunListener } from '../../executor/events.js';
import { InvalidInputError } from '../../errors.js';
import type { Settings } from '../../config/index.js';
import type { RunContext, RunOutcome } from '../../workflows/context.js';
import { runRegions, type RegionsOutcome } from '../../workflows/regions.js';
import { auditLogFor, printJson, writeReportFile, type CommandContext } from '../context.js';
import { humanRenderer } from '../render.js';

export async function runRegionsCommand(
  ctx: CommandContext,
  o: { json?: boolean; yes?: boolean; report?: string },
  settings: Settings,
  operation: 'apply' | 'destroy',
  run: (rc: RunContext) => Promise<RunOutcome>,
  metadata: Record<string, string>,
): Promise<void> {
  const io = ctx.io;
  if (!o.yes) {
    throw new InvalidInputError(
      `a multi-region ${operation} needs --yes: review each region's plan first with \`deployer plan\` (nothing was changed)`,
      ['Or choose one region with --region <name>.'],
    );
  }
  const write = (t: string): unknown => (o.json ? io.stderr : io.stdout).write(t);
  const listenerFor = (region: string): RunListener => {
    if (o.json) return (e: RunEvent) => void io.stderr.write(JSON.stringify({ time: new Date().toISOString(), region, ...e }) + '\n');
    // Each line of the region's progress starts with its name.
    return humanRenderer((text) => write(text.replace(/^(?=.)/gm, `[${region}] `)), { showPlan: true });
  };
  const audit = auditLogFor(settings, io);
  const outcome = await runRegions(
    { settings, listener: () => undefined, correlationId: ctx.correlationId, metadata, ...(audit ? { audit } : {}) },
    operation,
    run,
    listenerFor,
  );
  if (o.report) writeReportFile(o.report, { format: 'deployer-regions-report/v1', ...outcome });
  if (o.json) printJson(io, outcome);
  else write(`\n${regionsText(outcome)}\n`);
  ctx.exitCode = outcome.ok ? 0 : 1;
}

export function regionsText(outcome: RegionsOutcome): string {
  const lines: string[] = [];
  for (const r of outcome.regions) {
    if (r.notStarted) lines.push(`[${r.region}] not started: an earlier region failed`);
    else if (r.error) lines.push(`[${r.region}] failed: ${r.error.message}`);
    else if (r.summary) {
      const failed = r.summary.components.filter((c) => c.result === 'failed').map((c) => c.id);
      lines.push(
        `[${r.region}] ${r.summary.ok ? 'succeeded' : `failed (${failed.join(', ') || 'see above'})`}, state serial ${r.summary.serial}`,
      );
    }
    if (r.rolledBack) lines.push(`[${r.region}] rolled back to the version it ran before: ${r.rolledBack.ok ? 'done' : 'FAILED'}`);
  }
  if (outcome.switch && Object.keys(outcome.switch.switchedAt).length > 0) {
    const s = outcome.switch;
    lines.push(
      `Traffic switch across regions: ${(s.lagMs / 1000).toFixed(2)}s between the first and the last region (bound ${(s.boundMs / 1000).toFixed(1)}s)${s.withinBound ? '' : ': OVER THE BOUND'}.`,
    );
  }
  lines.push(
    outcome.ok ? 'Every region succeeded.' : 'A region failed: every region that changed was rolled back to the version it ran before.',
  );
  return lines.join('\n');
}
