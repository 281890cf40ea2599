/** `deployer state list` and `deployer state show [component]`. */
import type { Command } from 'commander';
import { InvalidInputError } from '../../errors.js';
import { loadStack } from '../../executor/load.js';
import { openStateStore } from '../../state/index.js';
import { allOptions, printJson, settingsFrom, type CommandContext } from '../context.js';

export function registerState(program: Command, ctx: CommandContext): void {
  const state = program.command('state').description('Read the recorded state of a stack');
  const read = async (cmd: Command) => {
    const o = allOptions(cmd);
    const settings = settingsFrom(o, ctx.io);
    const { desired } = await loadStack(settings.dir, settings.environment);
    const store = openStateStore(settings.stateUrl, settings.dir);
    return { o, desired, stored: await store.read(desired.name, desired.environment) };
  };
  state
    .command('list')
    .description('List the components recorded in the state')
    .action(async (_f, cmd: Command) => {
      const { o, stored } = await read(cmd);
      const rows = Object.entries(stored?.components ?? {}).sort(([a], [b]) => a.localeCompare(b));
      if (o.json) printJson(ctx.io, { serial: stored?.serial ?? 0, lineage: stored?.lineage ?? null, components: rows.map(([id, c]) => ({ id, kind: c.kind, status: c.status, updatedAt: c.updatedAt })) });
      else if (rows.length === 0) ctx.io.stdout.write('No components recorded.\n');
      else ctx.io.stdout.write(rows.map(([id, c]) => `${id.padEnd(32)} ${c.kind.padEnd(14)} ${c.status.padEnd(9)} ${c.updatedAt}`).join('\n') + `\n\nserial ${stored!.serial}, lineage ${stored!.lineage}\n`);
    });
  state
    .command('show [component]')
    .description('Show the whole state, or one component of it')
    .action(async (component: string | undefined, _f, cmd: Command) => {
      const { stored } = await read(cmd);
      if (!component) return printJson(ctx.io, stored ?? null);
      const c = stored?.components[component];
      if (!c) throw new InvalidInputError(`no component ${component} in the state`, [`recorded: ${Object.keys(stored?.components ?? {}).join(', ') || '(none)'}`]);
      printJson(ctx.io, { id: component, ...c });
    });
}
