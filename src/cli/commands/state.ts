/** `deployer state list | show | history | recover | rollback | rm | pull | push`. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidInputError } from '../../errors.js';
import { loadStack } from '../../workflows/load-stack.js';
import { planStack } from '../../workflows/plan-stack.js';
import {
  statePull,
  statePush,
  stateHistory,
  stateRecover,
  stateRemove,
  resetStateTo,
  type StateTarget,
} from '../../workflows/state-commands.js';
import type { Plan } from '../../model/plan.js';
import { renderPlanTable } from '../../plan/index.js';
import { allOptions, printJson, settingsFrom, type CommandContext, type GlobalOptions } from '../context.js';

/** A serial named on the command line. */
function serialOf(text: string): number {
  const serial = Number(text);
  if (!Number.isInteger(serial) || serial < 1)
    throw new InvalidInputError(`invalid --to ${text}: use a serial from \`deployer state history\``);
  return serial;
}

/**
 * The stack and environment to act on: --stack and -e when both are given (the directory is not
 * read: its configuration may be of another stack, or broken), else the configuration's.
 */
async function stateTarget(o: GlobalOptions, ctx: CommandContext): Promise<StateTarget & { fromDirectory: boolean }> {
  const settings = settingsFrom(o, ctx.io);
  if (o.stack && settings.environment) return { settings, stack: o.stack, environment: settings.environment, fromDirectory: false };
  const { desired } = await loadStack(settings);
  return { settings, stack: desired.name, environment: desired.environment, fromDirectory: true };
}

/** What apply would do from the restored state, when the directory holds the stack acted on. */
async function planAfter(t: StateTarget & { fromDirectory: boolean }): Promise<{ plan?: Plan; text: string }> {
  if (!t.fromDirectory) return { text: "Run `deployer plan` in the stack's directory to see what apply would now do." };
  const { plan } = await planStack(t.settings);
  return { plan, text: `What apply would now do:\n\n${renderPlanTable(plan)}` };
}

export function registerState(program: Command, ctx: CommandContext): void {
  const state = program.command('state').description('Read, restore and repair the recorded state of a stack');

  state
    .command('list')
    .description('List the components recorded in the state')
    .action(async (_f, cmd: Command) => {
      const o = allOptions(cmd);
      const stored = await statePull(await stateTarget(o, ctx));
      const rows = Object.entries(stored?.components ?? {}).sort(([a], [b]) => a.localeCompare(b));
      if (o.json)
        printJson(ctx.io, {
          serial: stored?.serial ?? 0,
          lineage: stored?.lineage ?? null,
          components: rows.map(([id, c]) => ({ id, kind: c.kind, status: c.status, updatedAt: c.updatedAt })),
        });
      else if (rows.length === 0) ctx.io.stdout.write('No components recorded.\n');
      else
        ctx.io.stdout.write(
          rows.map(([id, c]) => `${id.padEnd(32)} ${c.kind.padEnd(14)} ${c.status.padEnd(13)} ${c.updatedAt}`).join('\n') +
            `\n\nserial ${stored!.serial}, lineage ${stored!.lineage}\n`,
        );
    });

  state
    .command('show [component]')
    .description('Show the whole state, or one component of it, as JSON')
    .action(async (component: string | undefined, _f, cmd: Command) => {
      const stored = await statePull(await stateTarget(allOptions(cmd), ctx));
      if (!component) return printJson(ctx.io, stored ?? null);
      const c = stored?.components[component];
      if (!c)
        throw new InvalidInputError(`no component ${component} in the state`, [
          `recorded: ${Object.keys(stored?.components ?? {}).join(', ') || '(none)'}`,
        ]);
      printJson(ctx.io, { id: component, ...c });
    });

  state
    .command('history')
    .description('List the stored versions of the state, newest first')
    .option('--limit <n>', 'at most this many older versions', '20')
    .action(async (_f, cmd: Command) => {
      const o = allOptions<{ limit: string }>(cmd);
      const versions = await stateHistory(await stateTarget(o, ctx), Number(o.limit));
      if (o.json) return printJson(ctx.io, { versions });
      if (versions.length === 0) return void ctx.io.stdout.write('No state recorded.\n');
      const lines = versions.map((v) => {
        const head = `${String(v.serial ?? '?').padStart(6)}  ${(v.current ? 'current' : `replaced ${v.savedAt}`).padEnd(34)}`;
        if (v.damaged) return `${head}  DAMAGED: ${v.damaged}`;
        return `${head}  ${String(v.components).padStart(4)} component(s)  runs ${v.deployments.map((d) => d.slice(0, 8)).join(', ') || '-'}`;
      });
      ctx.io.stdout.write(`SERIAL  VERSION                             COMPONENTS      WRITTEN BY\n${lines.join('\n')}\n`);
      if (versions.some((v) => v.current && v.damaged))
        ctx.io.stdout.write(
          '\nThe current state is damaged. Restore the newest intact version with: deployer state recover (or --to <serial>)\n',
        );
    });

  state
    .command('recover')
    .description(
      'Repair a damaged state (its digest does not match: a write cut short, a hand edit): make the newest intact version of its history current again, ' +
        'or --to <serial>. The damaged state is set aside under damaged/, not deleted. Nothing is deployed; the plan from there is shown.',
    )
    .option('--to <serial>', 'the history version to restore (see `state history`)')
    .action(async (_f, cmd: Command) => {
      const o = allOptions<{ to?: string }>(cmd);
      const t = await stateTarget(o, ctx);
      const r = await stateRecover(t, o.to === undefined ? undefined : serialOf(o.to));
      const after = await planAfter(t);
      if (o.json) return printJson(ctx.io, { ...r, plan: after.plan ?? null });
      const aside = r.damagedKeptAt ? ` The damaged state was kept as ${r.damagedKeptAt}.` : '';
      ctx.io.stdout.write(`Restored version ${r.restored} of the state as serial ${r.serial}.${aside} ${after.text}\n`);
    });

  const reset = (deprecatedName?: string) => async (_f: unknown, cmd: Command) => {
    if (deprecatedName)
      ctx.io.stderr.write(
        `warning: \`deployer state ${deprecatedName}\` is now \`deployer state reset\` (the old name goes in a later release; \`deployer rollback\` is what redeploys a version)\n`,
      );
    const o = allOptions<{ to: string; force?: boolean }>(cmd);
    const serial = serialOf(o.to);
    const t = await stateTarget(o, ctx);
    const stored = await resetStateTo(t, serial, o.force ?? false);
    const after = await planAfter(t);
    if (o.json) return printJson(ctx.io, { restored: serial, serial: stored.serial, plan: after.plan ?? null });
    ctx.io.stdout.write(
      `Restored the state of serial ${serial} as serial ${stored.serial}. Nothing was deployed or destroyed. ${after.text}\n`,
    );
  };
  for (const [name, hidden] of [
    ['reset', false],
    ['rollback', true],
  ] as const) {
    state
      .command(name, { hidden })
      .description(
        'Make an earlier recorded version of the state current again (as a new version), touching no resource, then show the plan from there (`deployer rollback` redeploys a version)',
      )
      .requiredOption('--to <serial>', 'the version to restore (see `state history`)')
      .option('--force', 'also when the current state is damaged (as `state recover --to` does)')
      .action(reset(hidden ? name : undefined));
  }

  state
    .command('rm <component>')
    .description('Forget a component without destroying it (the next apply adopts its Pulumi stack again)')
    .action(async (id: string, _f, cmd: Command) => {
      const o = allOptions(cmd);
      const { removed, state: stored } = await stateRemove(await stateTarget(o, ctx), id);
      if (o.json) return printJson(ctx.io, { removed: id, serial: stored.serial, pulumiStack: removed.pulumiStack });
      ctx.io.stdout.write(
        `Removed ${id} from the state (now serial ${stored.serial}). Nothing was destroyed: its resources stay in the Pulumi stack ${removed.pulumiStack}.\n`,
      );
    });

  state
    .command('pull')
    .description('Print the current state (or write it to a file)')
    .option('--out <file>', 'write to this file')
    .action(async (_f, cmd: Command) => {
      const o = allOptions<{ out?: string }>(cmd);
      const stored = await statePull(await stateTarget(o, ctx));
      if (!stored) throw new InvalidInputError('no state is recorded for this stack and environment');
      const text = JSON.stringify(stored, null, 2) + '\n';
      if (o.out) writeFileSync(o.out, text);
      else ctx.io.stdout.write(text);
    });

  state
    .command('push <file>')
    .description('Replace the state with a file (same lineage, not older than the stored state, unless --force)')
    .option('--force', 'replace even a state of another lineage or a newer serial, or a damaged one')
    .action(async (file: string, _f, cmd: Command) => {
      const o = allOptions<{ force?: boolean }>(cmd);
      let pushed: unknown;
      try {
        pushed = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new InvalidInputError(`cannot read ${file}: ${(err as Error).message}`);
      }
      const stored = await statePush(await stateTarget(o, ctx), pushed, o.force ?? false);
      if (o.json) return printJson(ctx.io, { serial: stored.serial, lineage: stored.lineage });
      ctx.io.stdout.write(`Pushed ${file}: the state is now serial ${stored.serial}.\n`);
    });
}
