/** `deployer setup`: make sure the Pulumi CLI is there, building it from Go modules if needed. */
import type { Command } from 'commander';
import { ensurePulumiCli } from '../../engine/index.js';
import { allOptions, printJson, type CommandContext } from '../context.js';

export function registerSetup(program: Command, ctx: CommandContext): void {
  program
    .command('setup')
    .description('Provision the Pulumi CLI: PULUMI_PATH, else pulumi on PATH, else the cached build, else build it (several minutes, once)')
    .action(async (_f, cmd: Command) => {
      const o = allOptions(cmd);
      const started = Date.now();
      const cli = await ensurePulumiCli({ onProgress: (m) => ctx.io.stderr.write(`setup: ${m}\n`), env: ctx.io.env });
      const seconds = (Date.now() - started) / 1000;
      if (o.json) printJson(ctx.io, { ...cli, seconds });
      else
        ctx.io.stdout.write(
          `Pulumi CLI ${cli.version} ready: ${cli.binary} (${cli.built ? 'built now' : `from ${cli.source}`}, ${seconds.toFixed(1)}s)\n`,
        );
    });
}
