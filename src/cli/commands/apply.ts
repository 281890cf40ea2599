/** `deployer apply`, `deployer destroy` and `deployer rollback`. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Plan, SavedPlan, SavedRegionsPlan } from '../../model/plan.js';
import { readSavedPlanFile } from '../../plan/index.js';
import type { Log } from '../logger.js';
import type { RunEvent, RunSummary } from '../../executor/events.js';
import type { SettingFlags } from '../../config/index.js';
import { InvalidInputError } from '../../errors.js';
import { applyStack, destroyStack } from '../../workflows/apply.js';
import type { RunContext, RunOutcome } from '../../workflows/context.js';
import { rollbackToVersion } from '../../workflows/rollback.js';
import { traceRun } from '../../workflows/tracing.js';
import { deployerVersion } from '../../package-info.js';
import { startTracing } from '../../util/tracing.js';
import { allOptions, auditLogFor, printJson, settingsFrom, writeReportFile, type CommandContext } from '../context.js';
import { confirmYes } from '../io.js';
import { listenForInterrupts } from '../interrupts.js';
import { progressRenderer } from '../progress.js';
import { stackRegions } from '../../workflows/stack-regions.js';

interface RunFlags extends SettingFlags {
  json?: boolean;
  ignoreCapacity?: boolean;
  yes?: boolean;
  report?: string;
}

export function registerApply(program: Command, ctx: CommandContext): void {
  for (const operation of ['apply', 'destroy'] as const) {
    program
      .command(operation === 'apply' ? 'apply [planFile]' : operation)
      .description(
        operation === 'apply'
          ? 'Bring the stack to what the configuration describes: plan, confirm, then deploy changed components in dependency order; with a plan file (plan --out), carry out exactly that plan'
          : 'Destroy every component of the stack in this environment, dependents first',
      )
      .option('-y, --yes', 'do not ask for confirmation (required when not run from a terminal)')
      .option(
        '--concurrency <n>',
        'components deployed at the same time (default 256; components ready together share one Pulumi operation; 1 deploys one after another)',
      )
      .option(
        '--strategy <strategy>',
        'graph (default): start each component as soon as what it needs is done; waves: barrier layers, as the plan shows them',
      )
      .option('--fail-fast', 'start no new component after the first failure')
      .option('--ignore-capacity', 'local: deploy even what this machine has too little memory, CPU or disk for (told, not refused)')
      .option(
        '--report <file>',
        "write a JSON report of the run: per component when it started and ended, the result and its cause, Pulumi's summary, outputs (secrets redacted)",
      )
      .option('--lock-timeout <duration>', 'wait this long for a held lock, e.g. 5m (default: do not wait)')
      .option('--lock-ttl <duration>', 'lease length of the lock, renewed while running (default 1h)')
      .action(async (...args: unknown[]) => {
        const cmd = args.at(-1) as Command;
        const planFile = operation === 'apply' && typeof args[0] === 'string' ? args[0] : undefined;
        const saved = planFile ? readPlanFile(planFile) : undefined;
        const run = operation === 'apply' ? applyStack : destroyStack;
        if (saved?.format === 'deployer-regions-plan/v1') {
          // Every region's plan, reviewed: each region's run carries out its own.
          return runCommand(ctx, allOptions<RunFlags>(cmd), operation, run, { file: planFile!, regions: saved });
        }
        const savedPlan = saved ? { file: planFile!, saved } : undefined;
        await runCommand(
          ctx,
          allOptions<RunFlags>(cmd),
          operation,
          (rc) => run({ ...rc, ...(savedPlan ? { savedPlan } : {}) }),
          savedPlan ? { file: savedPlan.file } : undefined,
        );
      });
  }

  program
    .command('rollback')
    .description(
      'Return the stack to an earlier recorded version: the previous good release (default), or --to <serial> (see `state history`). ' +
        'Components created since are destroyed, changed ones go back to their earlier spec (a version that still serves is kept, not redeployed; ' +
        'anything else is deployed the fastest safe way, without canary bakes), deleted ones recreated; each rollback is recorded in the ledger. ' +
        'With no earlier good version, it says so and changes nothing. The configuration is not changed: the next apply deploys it again.',
    )
    .option('--to <serial>', 'the state version to return to')
    .option('--last-good', 'the newest version before the current one whose run succeeded and that no rollback undid (the default)')
    .option('-y, --yes', 'do not ask for confirmation (required when not run from a terminal)')
    .option('--concurrency <n>', 'components rolled back at the same time (default 256)')
    .option('--report <file>', 'write a JSON report of the run')
    .option('--lock-timeout <duration>', 'wait this long for a held lock, e.g. 5m (default: do not wait)')
    .option('--lock-ttl <duration>', 'lease length of the lock, renewed while running (default 1h)')
    .action(async (_f, cmd: Command) => {
      const o = allOptions<RunFlags & { to?: string; lastGood?: boolean }>(cmd);
      if (o.to !== undefined && o.lastGood) throw new InvalidInputError('use either --to <serial> or --last-good, not both');
      const to = o.to === undefined ? 'last-good' : Number(o.to);
      if (to !== 'last-good' && (!Number.isInteger(to) || to < 1))
        throw new InvalidInputError(`invalid --to ${o.to}: use a serial from \`deployer state history\``);
      await runCommand(ctx, o, 'rollback', (rc) => rollbackToVersion(rc, to));
    });
}

/** The part of apply, destroy and rollback that talks to the user: confirmation, Ctrl-C, progress, report, exit code. */
async function runCommand(
  ctx: CommandContext,
  o: RunFlags,
  operation: 'apply' | 'destroy' | 'rollback',
  run: (rc: RunContext) => Promise<RunOutcome>,
  /** The saved plan the run carries out (`apply <file>`), every region's when the file holds them. */
  reviewed?: { file: string; regions?: SavedRegionsPlan },
): Promise<void> {
  const io = ctx.io;
  if (!o.yes && !io.interactive && !reviewed) {
    throw new InvalidInputError(`${operation} needs --yes when it does not run in a terminal (nothing was changed)`);
  }
  const settings = settingsFrom(o, io);
  // A Stack that lists regions: every region, unless --region chooses one.
  const asked = reviewed ? undefined : await stackRegions(settings);
  const inRegions = reviewed ? reviewed.regions !== undefined : asked!.names.length > 0;
  if (operation !== 'rollback' && settings.region === undefined && inRegions) {
    const { runRegionsCommand } = await import('./regions.js');
    return runRegionsCommand(ctx, o, settings, {
      operation,
      run,
      metadata: ciMetadata(io.env),
      ...(reviewed?.regions ? { saved: { file: reviewed.file, plan: reviewed.regions } } : {}),
    });
  }
  const write = (t: string): unknown => (o.json ? io.stderr : io.stdout).write(t);
  const progress = progressRenderer(io, o.json === true, write);
  // Spans of the run (OTEL_EXPORTER_OTLP_ENDPOINT): the OpenTelemetry modules are loaded only then.
  const tracing = await startTracing('deployer', { env: io.env, serviceVersion: deployerVersion });
  const listener = withLog(ctx.log, progress.render);
  const traced = tracing ? traceRun(tracing, operation, listener) : undefined;
  const interrupts = listenForInterrupts((text) => progress.note(text));
  let outcome: RunOutcome;
  try {
    const audit = auditLogFor(settings, io);
    outcome = await run({
      settings,
      listener: traced?.listener ?? listener,
      correlationId: ctx.correlationId,
      ...(audit ? { audit } : {}),
      ...(o.yes
        ? {}
        : {
            confirm: async (plan) => (
              progress.pause(),
              confirmYes(
                io,
                `Do you want to ${operation === 'rollback' ? 'roll back' : operation} ${plan.actions.some((a) => a.action !== 'no-op') ? 'these changes' : ''}?`,
              )
            ),
          }),
      stop: interrupts.stop,
      cancel: interrupts.cancel,
      metadata: ciMetadata(io.env),
      ...(o.ignoreCapacity ? { ignoreCapacity: true } : {}),
      // The stack as loaded to ask its regions: the run does not discover it again.
      ...(asked ? { loaded: asked.loaded } : {}),
    });
    traced?.end({ outcome });
  } catch (error) {
    traced?.end({ error });
    throw error;
  } finally {
    progress.close();
    interrupts.dispose();
    // The spans are sent before the command ends: a CLI process does not live on to send them later.
    await tracing?.shutdown();
  }
  if (outcome.status === 'nothing') {
    write(`${outcome.reason}\nNothing was changed.\n`);
    if (o.json) printJson(io, { ok: true, changed: false, reason: outcome.reason });
    ctx.exitCode = 0;
    return;
  }
  if (outcome.status === 'declined') {
    write(`\n${operation[0]!.toUpperCase()}${operation.slice(1)} cancelled: nothing was changed.\n`);
    ctx.exitCode = 1;
    if (o.json) printJson(io, { ok: false, declined: true, plan: outcome.plan });
    return;
  }
  if (o.report) writeReport(o.report, outcome.plan, outcome.summary);
  if (o.json) printJson(io, { ok: outcome.summary.ok, plan: outcome.plan, summary: outcome.summary });
  ctx.exitCode = outcome.summary.ok ? 0 : 1;
}

/** Every run event also becomes a structured log line (ids, actions and results; never specs). */
function withLog(log: Log, render: (e: RunEvent) => void): (e: RunEvent) => void {
  return (e) => {
    render(e);
    switch (e.type) {
      case 'plan':
        log.info({ event: e.type, summary: e.plan.summary, serial: e.plan.serial }, 'plan');
        break;
      case 'component-done':
        log.info({ event: e.type, ...e.report }, `${e.report.id} ${e.report.result}`);
        break;
      case 'gate':
        log.info({ event: e.type, id: e.id, ...e.verdict }, `${e.id} gate ${e.verdict.gate} ${e.verdict.status}`);
        break;
      case 'build-done':
        log.info({ event: e.type, id: e.id, ...e.build }, `${e.id} build ${e.build.error ? 'failed' : e.build.cache}`);
        break;
      case 'component-progress':
        log.debug({ event: e.type, id: e.id, ...e.progress }, 'engine event');
        break;
      case 'summary':
        log.info(
          {
            event: e.type,
            runId: e.summary.runId,
            ok: e.summary.ok,
            counts: e.summary.counts,
            engineOperations: e.summary.engineOperations,
          },
          'run finished',
        );
        break;
      default:
        log.info({ event: e.type }, e.type);
    }
  };
}

/** The run as data, for CI artifacts: written atomically, whatever the outcome of the run. */
function writeReport(file: string, plan: Plan, summary: RunSummary): void {
  writeReportFile(file, { format: 'deployer-report/v1', ...summary, plan: { summary: plan.summary, waves: plan.waves } });
}

function readPlanFile(file: string): SavedPlan | SavedRegionsPlan {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InvalidInputError(`cannot read the plan ${file}: ${(err as Error).message}`);
  }
  const saved = readSavedPlanFile(value);
  if (typeof saved === 'string') throw new InvalidInputError(`${file}: ${saved}`);
  return saved;
}

/** What CI systems say about the run, recorded with the lock and in the ledger. */
function ciMetadata(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  const commit = env['DEPLOYER_GIT_COMMIT'] ?? env['GITHUB_SHA'] ?? env['CI_COMMIT_SHA'];
  const run = env['DEPLOYER_CI_RUN_ID'] ?? env['GITHUB_RUN_ID'] ?? env['CI_PIPELINE_ID'];
  if (commit) out['git_commit'] = commit;
  if (run) out['ci_run_id'] = run;
  return out;
}
