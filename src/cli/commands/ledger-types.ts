/** `deployer ledger register-type` and `list-types`: deployment types of a team's own beside the built-in strategies. */
import type { Command } from 'commander';
import { InvalidInputError } from '../../errors.js';
import { DEPLOYMENT_TYPES } from '../../ledger/index.js';
import { allOptions, printJson, settingsFrom, type CommandContext } from '../context.js';
import { withLedger, write } from './ledger-store.js';

export function registerLedgerTypes(ledger: Command, ctx: CommandContext): void {
  ledger
    .command('register-type')
    .description(
      'Register a deployment type of your own (lower-case words joined by hyphens, e.g. feature-flag) for deployments recorded with --type; registering it again changes its description',
    )
    .argument('<name>', 'the type')
    .option('--description <text>', 'what it means (required)')
    .action(async (name: string, _f, cmd: Command) => {
      const o = allOptions<{ description?: string }>(cmd);
      if (!o.description?.trim()) throw new InvalidInputError('--description is required', ['Nothing was registered.']);
      const settings = settingsFrom(o, ctx.io);
      await write(settings.ledger, (store) => store.registerType(name, o.description!.trim()));
      if (o.json) return printJson(ctx.io, { registered: { name, description: o.description.trim() } });
      ctx.io.stdout.write(`Registered deployment type ${name}.\n`);
    });
  ledger
    .command('list-types')
    .description('List the deployment types the ledger knows: the built-in ones, then the registered ones')
    .action(async (_f, cmd: Command) => {
      const o = allOptions(cmd);
      const settings = settingsFrom(o, ctx.io);
      const builtin = DEPLOYMENT_TYPES.map((name) => ({ name, description: '', builtin: true }));
      const types = await withLedger(settings.ledger, builtin, (store) => store.deploymentTypes());
      if (o.json) return printJson(ctx.io, { types });
      const width = Math.max(...types.map((t) => t.name.length));
      for (const t of types)
        ctx.io.stdout.write(`${t.name.padEnd(width)}  ${t.builtin ? 'built-in' : 'registered'}  ${t.description}\n`.trimEnd() + '\n');
    });
}
