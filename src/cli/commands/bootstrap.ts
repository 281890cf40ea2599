/** `deployer bootstrap`: create the state bucket and the lock table a team shares. */
import type { Command } from 'commander';
import { bootstrap, type BootstrapEngine } from '../../bootstrap/index.js';
import { InvalidInputError } from '../../errors.js';
import { allOptions, printJson, settingsFrom, type CommandContext } from '../context.js';

export function registerBootstrap(program: Command, ctx: CommandContext): void {
  program
    .command('bootstrap')
    .description(
      'Create the S3 bucket (versioned, encrypted, private) and the DynamoDB lock table (on demand, TTL) named by --state-url and --lock-url',
    )
    .option('--engine <engine>', 'pulumi (AWS, with @pulumi/aws) or sdk (S3 clones and emulators); default: sdk when a URL has an endpoint')
    .action(async (_f, cmd: Command) => {
      const o = allOptions<{ engine?: string }>(cmd);
      if (o.engine !== undefined && o.engine !== 'pulumi' && o.engine !== 'sdk')
        throw new InvalidInputError(`unknown --engine ${o.engine}: use pulumi or sdk`);
      const settings = settingsFrom(o, ctx.io);
      const result = await bootstrap({
        stateUrl: settings.stateUrl,
        lockUrl: settings.lockUrl,
        ...(o.engine ? { engine: o.engine as BootstrapEngine } : {}),
        workDir: settings.dir,
        onProgress: (m) => ctx.io.stderr.write(`bootstrap: ${m}\n`),
      });
      if (o.json) return printJson(ctx.io, result);
      const lines = result.steps.map((s) => `  ${s.step.padEnd(32)} ${s.status}${s.detail ? ` (${s.detail})` : ''}`);
      ctx.io.stdout.write(`Bootstrapped with ${result.engine}:\n${lines.join('\n')}\n`);
    });
}
