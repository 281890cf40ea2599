/**
 * apply and destroy of a Stack that lists regions: asked once for every region (or carrying out
 * a plan saved for every region), every region's run with each line of its progress marked with
 * its region, Ctrl-C as in a single run, then each region's summary, the cross-region rollback
 * if one failed, and the lag of the traffic switch across regions against the Stack's bound.
 */
import type { RunEvent, RunListener } from '../../executor/events.js';
import { StalePlanError } from '../../errors.js';
import type { Settings } from '../../config/index.js';
import type { Plan, SavedPlan, SavedRegionsPlan } from '../../model/plan.js';
import { renderPlanTable, savePlan } from '../../plan/index.js';
import { planStack } from '../../workflows/plan-stack.js';
import { stackRegions } from '../../workflows/stack-regions.js';
import type { RunContext, RunOutcome } from '../../workflows/context.js';
import { runRegions, type RegionsOutcome } from '../../workflows/regions.js';
import { auditLogFor, printJson, writeReportFile, type CommandContext } from '../context.js';
import { confirmYes } from '../io.js';
import { EXIT, exitCodeFor, isErrorCode } from '../exit-codes.js';
import { listenForInterrupts } from '../interrupts.js';
import { humanRenderer } from '../render.js';

/** What a multi-region command runs, and the plans it carries out when they were reviewed. */
export interface RegionsRun {
  operation: 'apply' | 'destroy';
  run: (rc: RunContext) => Promise<RunOutcome>;
  metadata: Record<string, string>;
  /** `apply <file>` of a plan saved for every region. */
  saved?: { file: string; plan: SavedRegionsPlan };
}

export async function runRegionsCommand(
  ctx: CommandContext,
  o: { json?: boolean; yes?: boolean; report?: string; ignoreCapacity?: boolean },
  settings: Settings,
  r: RegionsRun,
): Promise<void> {
  const io = ctx.io;
  const { names } = await stackRegions(settings);
  const write = (t: string): unknown => (o.json ? io.stderr : io.stdout).write(t);
  let reviewed = r.saved ? savedByRegion(r.saved.file, r.saved.plan, names) : undefined;
  if (!reviewed && !o.yes) {
    // Asked once for every region; each region then carries out exactly the plan shown.
    const asked = await askOnce(io, settings, r.operation, names, write);
    if (asked === 'declined') {
      write(`\n${r.operation === 'apply' ? 'Apply' : 'Destroy'} cancelled: nothing was changed.\n`);
      if (o.json) printJson(io, { ok: false, declined: true });
      ctx.exitCode = 1;
      return;
    }
    reviewed = asked;
  }
  const listenerFor = (region: string): RunListener => {
    if (o.json) return (e: RunEvent) => void io.stderr.write(JSON.stringify({ time: new Date().toISOString(), region, ...e }) + '\n');
    // Each line of the region's progress starts with its name.
    return humanRenderer((text) => write(text.replace(/^(?=.)/gm, `[${region}] `)), { showPlan: !reviewed });
  };
  const run = reviewed ? (rc: RunContext) => r.run({ ...rc, savedPlan: reviewed.get(rc.settings.region!)! }) : r.run;
  const audit = auditLogFor(settings, io);
  const interrupts = listenForInterrupts((text) => void write(text));
  let outcome: RegionsOutcome;
  try {
    outcome = await runRegions(
      {
        settings,
        listener: () => undefined,
        correlationId: ctx.correlationId,
        metadata: r.metadata,
        stop: interrupts.stop,
        cancel: interrupts.cancel,
        ...(o.ignoreCapacity ? { ignoreCapacity: true } : {}),
        ...(audit ? { audit } : {}),
      },
      r.operation,
      run,
      listenerFor,
    );
  } finally {
    interrupts.dispose();
  }
  if (o.report) writeReportFile(o.report, { format: 'deployer-regions-report/v1', ...outcome });
  if (o.json) printJson(io, outcome);
  else write(`\n${regionsText(outcome)}\n`);
  ctx.exitCode = exitCodeOf(outcome);
}

/**
 * 0 when every region succeeded. When no region ran at all and all were refused for the same
 * reason (a stale saved plan, a held lock), that reason's exit code, as a single run gives it;
 * otherwise 1.
 */
function exitCodeOf(outcome: RegionsOutcome): number {
  if (outcome.ok) return EXIT.ok;
  const codes = new Set(outcome.regions.map((r) => (r.summary || !r.error ? undefined : r.error.code)));
  const [only] = [...codes];
  return codes.size === 1 && only !== undefined && isErrorCode(only) ? exitCodeFor(only) : EXIT.failed;
}

type Reviewed = Map<string, { file: string; saved: SavedPlan }>;

/** A saved plan of every region, checked against the regions the Stack lists now. */
function savedByRegion(file: string, plan: SavedRegionsPlan, names: string[]): Reviewed {
  const inFile = plan.regions.map((x) => x.region);
  if (inFile.length !== names.length || !names.every((n) => inFile.includes(n)))
    throw new StalePlanError(file, [`it is a plan of the regions ${inFile.join(', ')}; the Stack lists ${names.join(', ')} now`]);
  return new Map(plan.regions.map((x) => [x.region, { file, saved: x.saved }]));
}

/**
 * In a terminal, without --yes: every region's plan is made and shown (an apply), or the
 * regions named (a destroy), and the user is asked once. An apply's regions then carry out the
 * plans shown, each refused if its state or configuration moved on meanwhile.
 */
async function askOnce(
  io: CommandContext['io'],
  settings: Settings,
  operation: 'apply' | 'destroy',
  names: string[],
  write: (t: string) => unknown,
): Promise<Reviewed | undefined | 'declined'> {
  if (operation === 'destroy') {
    const ok = await confirmYes(io, `Destroy every component of this environment in ${names.length} regions (${names.join(', ')})?`);
    return ok ? undefined : 'declined';
  }
  const plans = await planRegions(settings, names);
  for (const { saved } of plans) write(planText(saved.plan, false) + '\n\n');
  const shown: Reviewed = new Map(plans.map((p) => [p.region, { file: `reviewed above (${p.region})`, saved: p.saved }]));
  // Nothing to change: nothing to ask, and a region whose plan changed meanwhile is refused, not applied unasked.
  if (plans.every(({ saved }) => !saved.plan.actions.some((a) => a.action !== 'no-op'))) return shown;
  return (await confirmYes(io, `Do you want to apply these changes to ${names.length} regions?`)) ? shown : 'declined';
}

/** Every region's plan, made one after another, each savable. */
export async function planRegions(settings: Settings, names: string[]): Promise<Array<{ region: string; saved: SavedPlan }>> {
  const plans: Array<{ region: string; saved: SavedPlan }> = [];
  for (const region of names) {
    const { plan, loaded } = await planStack({ ...settings, region });
    plans.push({ region, saved: savePlan(plan, loaded.desired) });
  }
  return plans;
}

export function planText(plan: Plan, showUnchanged: boolean): string {
  return `Stack ${plan.stack}, environment ${plan.environment}\n\n${renderPlanTable(plan, { showUnchanged })}`;
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
  const changedAny = outcome.regions.some((r) => r.summary?.components.some((c) => c.engine));
  lines.push(
    outcome.ok
      ? 'Every region succeeded.'
      : changedAny
        ? 'A region failed: every region that changed was rolled back to the version it ran before.'
        : 'A region failed: nothing was changed in any region.',
  );
  return lines.join('\n');
}
