/** `deployer plan` and `deployer validate`: read-only. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadStack } from '../../workflows/load-stack.js';
import { planStack } from '../../workflows/plan-stack.js';
import { renderPlanTable, savePlan } from '../../plan/index.js';
import { warningsText } from '../render.js';
import { allOptions, printJson, settingsFrom, type CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';

export function registerPlan(program: Command, ctx: CommandContext): void {
  program
    .command('plan')
    .description('Show what apply would change, without changing anything (no lock is taken)')
    .option('--detailed-exitcode', 'exit 4 when there are changes, 0 when there are none')
    .option('--show-unchanged', 'list unchanged components too')
    .option('--out <file>', 'save the plan for `deployer apply <file>` (refused later if the state or the configuration changed)')
    .action(async (_f, cmd: Command) => {
      const o = allOptions<{ detailedExitcode?: boolean; showUnchanged?: boolean; out?: string }>(cmd);
      const settings = settingsFrom(o, ctx.io);
      const { plan, loaded } = await planStack(settings);
      ctx.io.stderr.write(warningsText(loaded.desired.warnings));
      if (o.json) printJson(ctx.io, plan);
      else {
        ctx.io.stdout.write(`Stack ${plan.stack}, environment ${plan.environment}\n\n`);
        ctx.io.stdout.write(renderPlanTable(plan, { showUnchanged: o.showUnchanged ?? false }) + '\n');
      }
      if (o.out) {
        writeFileSync(o.out, JSON.stringify(savePlan(plan, loaded.desired), null, 2) + '\n');
        if (!o.json)
          ctx.io.stdout.write(
            `\nSaved the plan to ${o.out}. Apply exactly this plan with: deployer apply ${o.out}${o.environment ? ` -e ${o.environment}` : ''}\n`,
          );
      }
      const changes = plan.actions.some((a) => a.action !== 'no-op');
      if (o.detailedExitcode && changes) ctx.exitCode = EXIT.changes;
    });

  program
    .command('validate')
    .description('Check the configuration (schemas, references, cycles, target requirements) and report every problem at once')
    .action(async (_f, cmd: Command) => {
      const o = allOptions(cmd);
      const settings = settingsFrom(o, ctx.io);
      const { desired, graph } = await loadStack(settings);
      const result = {
        valid: true,
        stack: desired.name,
        environment: desired.environment,
        services: desired.services.size,
        components: desired.components.size,
        waves: graph.waves.length,
        warnings: desired.warnings,
      };
      if (o.json) printJson(ctx.io, result);
      else {
        ctx.io.stdout.write(warningsText(desired.warnings));
        ctx.io.stdout.write(
          `Configuration is valid: stack ${result.stack}, environment ${result.environment}: ` +
            `${result.services} service(s), ${result.components} component(s) in ${result.waves} wave(s).\n`,
        );
      }
    });
}
