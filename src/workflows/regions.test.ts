/** Multi-region runs over a fake per-region run: the order of regions, the canary, the rollback of every region after a failure, the switch lag. */
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';
import { resolveSettings } from '../config/index.js';
import type { ComponentReport, RunSummary } from '../executor/events.js';
import type { RunContext, RunOutcome } from './context.js';
import { barrierFromEnv, type SwitchBarrierRef } from '../targets/switch-barrier.js';
import { runRegions, switchLag, type RegionResult } from './regions.js';

afterAll(() => removeTestdirs());

function stackDir(rollout: string): string {
  return writeStackDir({
    'stack.yaml': `apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: multi\nspec:\n  environments: [prod]\n  regions: [eu, us, ap]\n${rollout}`,
    'services/web/service.yaml': 'apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: web\nspec: {}\n',
    'services/web/files.yaml': 'apiVersion: components.deployer.io/v1\nkind: S3\nmetadata:\n  name: files\nspec: {}\n',
  });
}

const summary = (region: string, ok: boolean, switchedAt?: string): RunSummary => ({
  runId: `run-${region}`,
  operation: 'apply',
  stack: 'multi',
  environment: `prod/${region}`,
  ok,
  counts: {} as RunSummary['counts'],
  engineOperations: 1,
  durationMs: 1,
  serial: 2,
  components: [
    {
      id: 'web/files',
      action: 'update',
      result: ok ? 'updated' : 'failed',
      engine: true,
      ...(switchedAt ? { rollout: { generation: 2, strategy: 'rolling', startedAt: switchedAt, switchedAt, finishedAt: switchedAt } } : {}),
    } satisfies ComponentReport,
  ],
});

/** A run per region that fails in `failing`, recording the order regions started and ended in. */
function fakeRun(
  failing: string[],
  log: string[],
  barriers: Array<SwitchBarrierRef | undefined> = [],
): (ctx: RunContext) => Promise<RunOutcome> {
  return async (ctx) => {
    const region = ctx.settings.region!;
    barriers.push(barrierFromEnv(ctx.engineEnv ?? {}));
    log.push(`start ${region}`);
    await new Promise((resolve) => setImmediate(resolve));
    log.push(`end ${region}`);
    return { status: 'done', plan: {} as never, summary: summary(region, !failing.includes(region)) };
  };
}

async function run(dir: string, failing: string[]) {
  const log: string[] = [];
  const barriers: Array<SwitchBarrierRef | undefined> = [];
  const rolledBack: string[] = [];
  const outcome = await runRegions(
    { settings: resolveSettings({ dir, environment: 'prod' }, {}), listener: () => undefined },
    'apply',
    fakeRun(failing, log, barriers),
    () => () => undefined,
    async (ctx, to) => {
      expect(ctx.engineEnv, 'a rollback is never held at the barrier').toBeUndefined();
      rolledBack.push(`${ctx.settings.region} before ${to.beforeRun}`);
      return { status: 'done', plan: {} as never, summary: summary(ctx.settings.region!, true) };
    },
  );
  return { outcome, log, rolledBack, barriers };
}

describe('multi-region runs', () => {
  it('parallel: every region starts before any ends; all succeed, nothing is rolled back', async () => {
    const { outcome, log, rolledBack, barriers } = await run(stackDir(''), []);
    expect(log.slice(0, 3).sort()).toEqual(['start ap', 'start eu', 'start us']);
    expect(outcome.ok).toBe(true);
    expect(rolledBack).toEqual([]);
    // Each region's engine is handed one barrier, naming its region; it is gone after the run.
    expect(barriers.map((b) => b?.region).sort()).toEqual(['ap', 'eu', 'us']);
    expect(new Set(barriers.map((b) => b?.dir)).size).toBe(1);
    expect(existsSync(barriers[0]!.dir)).toBe(false);
    expect(outcome.switch).toMatchObject({ held: true, regions: ['eu', 'us', 'ap'] });
  });

  it('a failed region rolls back every region that changed, to the version its run started from', async () => {
    const { outcome, rolledBack } = await run(stackDir(''), ['us']);
    expect(outcome.ok).toBe(false);
    // us itself failed without an automatic undo in this fake: it is rolled back too.
    expect(rolledBack.sort()).toEqual(['ap before run-ap', 'eu before run-eu', 'us before run-us']);
    expect(outcome.regions.find((r) => r.region === 'eu')?.rolledBack?.ok).toBe(true);
  });

  it('sequential with a canary: the canary alone first; a failure stops the regions after it', async () => {
    const dir = stackDir('  regionRollout:\n    order: sequential\n    canary: us\n');
    const ok = await run(dir, []);
    expect(ok.log).toEqual(['start us', 'end us', 'start eu', 'end eu', 'start ap', 'end ap']);
    // One after another, nothing holds a switch: the lag is measured, not bounded by a barrier.
    expect(ok.barriers).toEqual([undefined, undefined, undefined]);
    expect(ok.outcome.switch).toMatchObject({ held: false, regions: ['eu', 'ap'] });
    const canaryFails = await run(dir, ['us']);
    expect(canaryFails.log).toEqual(['start us', 'end us']);
    expect(canaryFails.outcome.regions.filter((r) => r.notStarted).map((r) => r.region)).toEqual(['eu', 'ap']);
    const secondFails = await run(dir, ['eu']);
    expect(secondFails.log).toEqual(['start us', 'end us', 'start eu', 'end eu']);
    expect(secondFails.rolledBack.sort()).toEqual(['eu before run-eu', 'us before run-us']);
  });

  it('the switch lag is the spread of one component’s switch times across regions, against the bound', () => {
    const regions: RegionResult[] = [
      { region: 'eu', summary: summary('eu', true, '2026-12-06T10:00:00.000Z') },
      { region: 'us', summary: summary('us', true, '2026-12-06T10:00:01.250Z') },
      { region: 'ap', summary: summary('ap', true, '2026-12-06T10:00:00.500Z') },
    ];
    expect(switchLag(regions, 5000, true)).toMatchObject({ lagMs: 1250, withinBound: true });
    expect(switchLag(regions, 1000, true)).toMatchObject({ lagMs: 1250, withinBound: false });
    expect(switchLag([{ region: 'eu', error: { code: 'LOCK_HELD', message: 'held' } }], 5000, false).lagMs).toBe(0);
  });
});
