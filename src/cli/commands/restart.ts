/** `deployer restart [component...]`. */
import type { Command } from 'commander';
import { restartComponents } from '../../workflows/restart.js';
import { allOptions, printJson, settingsFrom, type CommandContext } from '../context.js';

export function registerRestart(program: Command, ctx: CommandContext): void {
  program
    .command('restart [components...]')
    .description(
      'Rolling restart of deployed services (all MicroServices, or the ones named as <service>/<component>): one after another in dependency order, ' +
        'each replaced a process at a time and healthy before the next; nothing is redeployed and the state does not change',
    )
    .option('--lock-timeout <duration>', 'wait this long for a held lock, e.g. 5m (default: do not wait)')
    .action(async (ids: string[], _f, cmd: Command) => {
      const o = allOptions(cmd);
      const settings = settingsFrom(o, ctx.io);
      const results = await restartComponents(settings, ids, (line) => (o.json ? ctx.io.stderr : ctx.io.stdout).write(`${line}\n`));
      const failed = results.find((r) => !r.ok);
      if (o.json) printJson(ctx.io, { ok: !failed, results });
      else if (failed) ctx.io.stderr.write(`Restart of ${failed.id} failed: ${failed.message}\n`);
      else ctx.io.stdout.write(`Restarted ${results.length} service${results.length === 1 ? '' : 's'}.\n`);
      ctx.exitCode = failed ? 1 : 0;
    });
}
