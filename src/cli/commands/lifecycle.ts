/** `deployer stop <component...>` and `deployer start <component...>`: a deployed service's processes taken down on purpose, or brought back. */
import type { Command } from 'commander';
import { changeLifecycle, runJob } from '../../workflows/lifecycle.js';
import type { LifecycleAction } from '../../targets/target.js';
import { allOptions, printJson, settingsFrom, type CommandContext } from '../context.js';

const DESCRIPTIONS: Record<LifecycleAction, string> = {
  stop:
    'Stop deployed services (<service>/<component>: a MicroService, Worker or CronJob on the local target): their processes are drained and ended, dependents first (a CronJob: no run on schedule). ' +
    'Recorded in the ledger; drift does not report a service stopped this way. Nothing is undeployed: `deployer start`, or an apply that changes it, starts it again',
  start:
    'Start services stopped with `deployer stop` (or whose processes died) as they were deployed, in dependency order, each serving before the next. ' +
    'Recorded in the ledger; the state does not change',
};

export function registerRun(program: Command, ctx: CommandContext): void {
  program
    .command('run <component>')
    .description(
      'Run a deployed CronJob (<service>/<component>) now, outside its schedule, under its own rules (limits, timeout, retries, concurrency), ' +
        'and wait until it ends. Exit code 0 when it succeeded, 1 when it failed, timed out or was skipped (concurrency: forbid)',
    )
    .action(async (id: string, _f, cmd: Command) => {
      const o = allOptions(cmd);
      const run = await runJob(settingsFrom(o, ctx.io), id);
      if (o.json) printJson(ctx.io, { ok: run.status === 'succeeded', run });
      else
        (run.status === 'succeeded' ? ctx.io.stdout : ctx.io.stderr).write(
          `${id}: run ${run.id} ${run.status} after ${run.attempts} attempt(s)${run.detail ? ` (${run.detail})` : ''}; its output: deployer logs ${id}\n`,
        );
      ctx.exitCode = run.status === 'succeeded' ? 0 : 1;
    });
}

export function registerLifecycle(program: Command, ctx: CommandContext): void {
  for (const action of ['stop', 'start'] as const) {
    program
      .command(`${action} <components...>`)
      .description(DESCRIPTIONS[action])
      .option('--lock-timeout <duration>', 'wait this long for a held lock, e.g. 5m (default: do not wait)')
      .action(async (ids: string[], _f, cmd: Command) => {
        const o = allOptions(cmd);
        const settings = settingsFrom(o, ctx.io);
        const progress = (line: string): void => void (o.json ? ctx.io.stderr : ctx.io.stdout).write(`${line}\n`);
        const results = await changeLifecycle(settings, action, ids, progress);
        const failed = results.find((r) => !r.ok);
        const done = action === 'stop' ? 'Stopped' : 'Started';
        if (o.json) printJson(ctx.io, { ok: !failed, results });
        else if (failed) ctx.io.stderr.write(`${action === 'stop' ? 'Stop' : 'Start'} of ${failed.id} failed: ${failed.message}\n`);
        else ctx.io.stdout.write(`${done} ${results.length} service${results.length === 1 ? '' : 's'}.\n`);
        ctx.exitCode = failed ? 1 : 0;
      });
  }
}
