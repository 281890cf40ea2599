/**
 * Multi-region runs (seed 002 "Multi-Region Consistency"): a Stack that lists `regions` is
 * applied to each of them, every region an environment of its own (`<env>/<region>`: its own
 * state, lock and Pulumi stacks). Regions run in parallel, or one after another, with a canary
 * region first when one is named. A failure in any region rolls every region that changed back
 * to the version it ran before (the failed one is undone by its own run, rollback: auto).
 * Regions applied in parallel switch together: a barrier (switch-barrier.ts) holds each region's
 * verified new version until every region is ready, and calls every switch off once one region
 * failed, so no region serves a version another refused. The consistency of the switch is
 * measured: the lag between the first and the last region's switch, against the Stack's bound.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { RunListener, RunSummary } from '../executor/events.js';
import type { RunContext, RunOutcome } from './context.js';
import { stackRegions } from './stack-regions.js';
import { rollbackToVersion } from './rollback.js';
import { SwitchBarrier } from './switch-barrier.js';

/** How one region's part of the run ended. */
export interface RegionResult {
  region: string;
  /** Its run: done (with its summary), or what stopped it (an invalid region, a held lock). */
  summary?: RunSummary;
  error?: { code: string; message: string };
  /** Not started: an earlier region (the canary) failed. */
  notStarted?: boolean;
  /** The rollback to the version it ran before, after another region failed. */
  rolledBack?: RunSummary;
}

/** The traffic switch across regions: when each region's last component switched, and the spread. */
export interface SwitchLag {
  /** Between the first and the last region's switch (the largest over the components switched in several regions). */
  lagMs: number;
  /** The regions measured: those switched together (a canary region goes first, alone, and is not counted). */
  regions: string[];
  /** Whether a barrier held their switch until all were ready (parallel regions); one after another, nothing does. */
  held: boolean;
  boundMs: number;
  withinBound: boolean;
  /** Per component, per region, when traffic went to the new version. */
  switchedAt: Record<string, Record<string, string>>;
}

export interface RegionsOutcome {
  ok: boolean;
  regions: RegionResult[];
  switch?: SwitchLag;
}

/**
 * Runs `run` (applyStack, destroyStack) in every region; `listenerFor` gives each region's
 * events their own listener. Only an apply is rolled back across regions.
 */
export async function runRegions(
  ctx: RunContext,
  operation: 'apply' | 'destroy',
  run: (ctx: RunContext) => Promise<RunOutcome>,
  listenerFor: (region: string) => RunListener,
  /** How a region is rolled back after another failed (the unit tests give their own). */
  rollback: (ctx: RunContext, to: { beforeRun: string }) => Promise<RunOutcome> = rollbackToVersion,
): Promise<RegionsOutcome> {
  const { names, rollout } = await stackRegions(ctx.settings);
  const order = rollout?.order ?? 'parallel';
  const canary = rollout?.canary;
  const results = new Map<string, RegionResult>(names.map((r) => [r, { region: r }]));
  const one = async (region: string, barrier?: SwitchBarrier): Promise<void> => {
    const result = results.get(region)!;
    const listener = barrier ? barrier.listener(region, listenerFor(region)) : listenerFor(region);
    try {
      const rctx = regionContext(ctx, region, listener);
      const outcome = await run(barrier ? { ...rctx, engineEnv: { ...rctx.engineEnv, ...barrier.engineEnv(region) } } : rctx);
      if (outcome.status === 'done') result.summary = outcome.summary;
    } catch (err) {
      const e = err as { code?: string; message?: string };
      result.error = { code: e.code ?? 'INTERNAL', message: e.message ?? String(err) };
    }
  };
  const failed = (r: RegionResult): boolean => r.error !== undefined || r.summary?.ok === false;
  const rest = names.filter((r) => r !== canary);
  if (canary !== undefined) await one(canary);
  if (canary !== undefined && failed(results.get(canary)!)) for (const r of rest) results.get(r)!.notStarted = true;
  else if (order === 'sequential') {
    for (const [i, r] of rest.entries()) {
      await one(r);
      if (failed(results.get(r)!)) {
        for (const later of rest.slice(i + 1)) results.get(later)!.notStarted = true;
        break;
      }
    }
  } else if (operation === 'apply' && rest.length > 1) {
    // Regions applied together switch together: each holds its switch until all are ready.
    const barrier = new SwitchBarrier({
      dir: path.join(ctx.settings.dir, '.deployer', 'switch', randomUUID()),
      regions: rest,
      timeoutMs: rollout?.switchTimeoutMs ?? 300_000,
    });
    barrier.start();
    try {
      await Promise.all(
        rest.map(async (r) => {
          await one(r, barrier);
          const result = results.get(r)!;
          barrier.regionEnded(r, failed(result) ? (result.error?.message ?? 'its run failed') : undefined);
        }),
      );
    } finally {
      await barrier.close();
    }
  } else await Promise.all(rest.map((r) => one(r)));

  const all = [...results.values()];
  const anyFailed = all.some(failed);
  if (anyFailed && operation === 'apply') await rollBackRegions(ctx, all, listenerFor, rollback);
  return {
    ok: !anyFailed,
    regions: all,
    ...(operation === 'apply'
      ? {
          switch: switchLag(
            all.filter((r) => r.region !== canary || rest.length === 0),
            rollout?.maxSwitchLagMs ?? 5000,
            order === 'parallel' && rest.length > 1,
          ),
        }
      : {}),
  };
}

/** The context of one region's run: its settings name the region; everything else is the run's. */
function regionContext(ctx: RunContext, region: string, listener: RunListener): RunContext {
  const { confirm: _asked, ...rest } = ctx;
  return { ...rest, settings: { ...ctx.settings, region }, listener, metadata: { ...ctx.metadata, region } };
}

/**
 * After a failed region: every region whose run changed something and was not undone by its
 * own automatic rollback goes back to the state version that run started from.
 */
async function rollBackRegions(
  ctx: RunContext,
  all: RegionResult[],
  listenerFor: (region: string) => RunListener,
  rollback: (ctx: RunContext, to: { beforeRun: string }) => Promise<RunOutcome>,
): Promise<void> {
  const changed = (s: RunSummary): boolean => s.components.some((c) => c.engine);
  const due = all.filter((r) => r.summary && changed(r.summary) && !r.summary.rollback);
  await Promise.all(
    due.map(async (r) => {
      const failedElsewhere = all.filter((x) => x !== r && (x.error || x.summary?.ok === false)).map((x) => x.region);
      const rctx: RunContext = {
        ...regionContext(ctx, r.region, listenerFor(r.region)),
        metadata: { ...ctx.metadata, region: r.region, reason: `region ${failedElsewhere.join(', ')} failed` },
      };
      try {
        const outcome = await rollback(rctx, { beforeRun: r.summary!.runId });
        if (outcome.status === 'done') r.rolledBack = outcome.summary;
      } catch (err) {
        r.error = { code: (err as { code?: string }).code ?? 'INTERNAL', message: `the rollback failed: ${(err as Error).message}` };
      }
    }),
  );
}

/** The spread of the switch times of each component deployed in several regions, and the largest. */
export function switchLag(all: RegionResult[], boundMs: number, held: boolean): SwitchLag {
  const switchedAt: Record<string, Record<string, string>> = {};
  for (const r of all)
    for (const c of r.summary?.components ?? []) if (c.rollout?.switchedAt) (switchedAt[c.id] ??= {})[r.region] = c.rollout.switchedAt;
  let lagMs = 0;
  for (const byRegion of Object.values(switchedAt)) {
    const times = Object.values(byRegion).map((t) => Date.parse(t));
    if (times.length > 1) lagMs = Math.max(lagMs, Math.max(...times) - Math.min(...times));
  }
  return { lagMs, regions: all.map((r) => r.region), held, boundMs, withinBound: lagMs <= boundMs, switchedAt };
}
