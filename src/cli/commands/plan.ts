/** `deployer plan` and `deployer validate`: read-only. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadStack } from '../../workflows/load-stack.js';
import { planStack } from '../../workflows/plan-stack.js';
import { stackRegions } from '../../workflows/stack-regions.js';
import type { PlanResources } from '../../workflows/plan-resources.js';
import type { SavedRegionsPlan } from '../../model/plan.js';
import { renderPlanTable, savePlan } from '../../plan/index.js';
import { warningsText } from '../render.js';
import { allOptions, printJson, settingsFrom, type CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';

/** `plan --resources --json`: each changing component's resources, or why there are none to show. */
function resourcesJson(found: PlanResources): Record<string, unknown> {
  if ('unavailable' in found) return { unavailable: found.unavailable };
  return Object.fromEntries([...found.described].map(([id, d]) => [id, d.resources]));
}

export function registerPlan(program: Command, ctx: CommandContext): void {
  program
    .command('plan')
    .description('Show what apply would change, without changing anything (no lock is taken)')
    .option('--detailed-exitcode', 'exit 4 when there are changes, 0 when there are none')
    .option('--show-unchanged', 'list unchanged components too')
    .option('--out <file>', 'save the plan for `deployer apply <file>` (refused later if the state or the configuration changed)')
    .option(
      '--resources',
      'also list the resources each change would make, from a run of its program that makes nothing (aws: Pulumi mocks; no credentials needed)',
    )
    .action(async (_f, cmd: Command) => {
      const o = allOptions<{ detailedExitcode?: boolean; showUnchanged?: boolean; out?: string; resources?: boolean }>(cmd);
      const settings = settingsFrom(o, ctx.io);
      // A Stack that lists regions: each region's plan, unless --region chooses one.
      const asked = settings.region === undefined && !o.resources ? await stackRegions(settings) : undefined;
      const regions = asked?.names ?? [];
      if (regions.length > 0) {
        const { planRegions, planText } = await import('./regions.js');
        const plans = await planRegions(settings, regions);
        if (o.json) printJson(ctx.io, { regions: plans.map((p) => ({ region: p.region, plan: p.saved.plan })) });
        else for (const { saved } of plans) ctx.io.stdout.write(planText(saved.plan, o.showUnchanged ?? false) + '\n\n');
        if (o.out) {
          const file: SavedRegionsPlan = { format: 'deployer-regions-plan/v1', createdAt: new Date().toISOString(), regions: plans };
          writeFileSync(o.out, JSON.stringify(file, null, 2) + '\n');
          if (!o.json)
            ctx.io.stdout.write(
              `Saved the plan of ${regions.length} regions to ${o.out}. Apply exactly it with: deployer apply ${o.out}\n`,
            );
        }
        if (o.detailedExitcode && plans.some((p) => p.saved.plan.actions.some((a) => a.action !== 'no-op'))) ctx.exitCode = EXIT.changes;
        return;
      }
      const { plan, loaded, state } = await planStack(settings, asked?.loaded);
      ctx.io.stderr.write(warningsText(loaded.desired.warnings));
      const { describePlanResources, renderPlanResources } = o.resources ? await import('../../workflows/plan-resources.js') : {};
      const resources = describePlanResources ? await describePlanResources(loaded, state, plan) : undefined;
      if (o.json) printJson(ctx.io, resources ? { ...plan, resources: resourcesJson(resources) } : plan);
      else {
        ctx.io.stdout.write(`Stack ${plan.stack}, environment ${plan.environment}\n\n`);
        ctx.io.stdout.write(renderPlanTable(plan, { showUnchanged: o.showUnchanged ?? false }) + '\n');
        if (resources && renderPlanResources) ctx.io.stdout.write('\n' + renderPlanResources(plan, resources) + '\n');
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
