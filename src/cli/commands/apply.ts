/** `deployer apply`, `deployer destroy` and `deployer rollback`. */
import { readFileSync } from 'node:fs';
import { setMaxListeners } from 'node:events';
import type { Command } from 'commander';
import type { Plan, SavedPlan } from '../../model/plan.js';
import { readSavedPlan } from '../../plan/index.js';
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
import { progressRenderer } from '../progress.js';
import { stackRegions } from '../../workflows/stack-regions.js';

interface RunFlags extends SettingFlags {
  json?: boolean;
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
      .option(
        '--report <file>',
        "write a JSON report of the run: per component when it started and ended, the result and its cause, Pulumi's summary, outputs (secrets redacted)",
      )
      .option('--lock-timeout <duration>', 'wait this long for a held lock, e.g. 5m (default: do not wait)')
      .option('--lock-ttl <duration>', 'lease length of the lock, renewed while running (default 1h)')
      .action(async (...args: unknown[]) => {
        const cmd = args.at(-1) as Command;
        const planFile = operation === 'apply' && typeof args[0] === 'string' ? args[0] : undefined;
        const savedPlan = planFile ? { file: planFile, saved: readPlanFile(planFile) } : undefined;
        const run = operation === 'apply' ? applyStack : destroyStack;
        await runCommand(
          ctx,
          allOptions<RunFlags>(cmd),
          operation,
          (rc) => run({ ...rc, ...(savedPlan ? { savedPlan } : {}) }),
          savedPlan !== undefined,
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
  reviewed = false,
): Promise<void> {
  const io = ctx.io;
  if (!o.yes && !io.interactive && !reviewed) {
    throw new InvalidInputError(`${operation} needs --yes when it does not run in a terminal (nothing was changed)`);
  }
  const settings = settingsFrom(o, io);
  // A Stack that lists regions: every region, unless --region chooses one.
  if (operation !== 'rollback' && settings.region === undefined && !reviewed && (await stackRegions(settings)).names.length > 0) {
    const { runRegionsCommand } = await import('./regions.js');
    return runRegionsCommand(ctx, o, settings, operation, run, ciMetadata(io.env));
  }
  const write = (t: string): unknown => (o.json ? io.stderr : io.stdout).write(t);
  const progress = progressRenderer(io, o.json === true, write);
  const stop = new AbortController();
  const cancel = new AbortController();
  // Every running component's Pulumi operation listens for a cancel: more than Node's default of 10.
  setMaxListeners(0, stop.signal, cancel.signal);
  const onInterrupt = (): void => {
    if (!stop.signal.aborted) {
      stop.abort();
      progress.note('\nInterrupted: finishing the components that are running, starting no more. Press Ctrl-C again to cancel them.\n');
    } else cancel.abort();
  };
  // Pulumi runs in a session of its own (engine/session.ts), so a SIGTERM (a CI job cancelled,
  // `timeout`) or a SIGHUP (the terminal closed) reaches deployer alone: it cancels the running
  // operations itself, as a second Ctrl-C does, rather than dying and leaving them to run on.
  const onTerminate = (signal: NodeJS.Signals): void => {
    progress.note(
      `\n${signal === 'SIGHUP' ? 'The terminal closed' : 'Terminated'}: cancelling the running components, starting no more.\n`,
    );
    stop.abort();
    cancel.abort();
  };
  // Spans of the run (OTEL_EXPORTER_OTLP_ENDPOINT): the OpenTelemetry modules are loaded only then.
  const tracing = await startTracing('deployer', { env: io.env, serviceVersion: deployerVersion });
  const listener = withLog(ctx.log, progress.render);
  const traced = tracing ? traceRun(tracing, operation, listener) : undefined;
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onTerminate);
  process.on('SIGHUP', onTerminate);
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
      stop: stop.signal,
      cancel: cancel.signal,
      metadata: ciMetadata(io.env),
    });
    traced?.end({ outcome });
  } catch (error) {
    traced?.end({ error });
    throw error;
  } finally {
    progress.close();
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onTerminate);
    process.off('SIGHUP', onTerminate);
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

function readPlanFile(file: string): SavedPlan {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InvalidInputError(`cannot read the plan ${file}: ${(err as Error).message}`);
  }
  const saved = readSavedPlan(value);
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
