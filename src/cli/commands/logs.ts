/** `deployer logs <service>/<component> [--follow] [--since 10m]`: the output of a service's processes. */
import { promises as fs } from 'node:fs';
import type { Command } from 'commander';
import { InvalidInputError } from '../../errors.js';
import { stampOf } from '../../targets/local/app-log.js';
import { parseDuration } from '../../util/duration.js';
import { logFileOf } from '../../workflows/logs.js';
import { allOptions, settingsFrom, type CommandContext } from '../context.js';
import { everyUntilInterrupted } from '../interrupts.js';

/** The lines of `text` written at or after `since` (ms since the epoch); unstamped ones only when there is no bound. */
export function linesSince(text: string, since: number | undefined): string {
  if (since === undefined) return text;
  return text
    .split('\n')
    .filter((line) => (stampOf(line) ?? -Infinity) >= since)
    .map((line) => `${line}\n`)
    .join('');
}

export function registerLogs(program: Command, ctx: CommandContext): void {
  program
    .command('logs <component>')
    .description("Print the output of a service's processes (<service>/<component>), each line stamped with its time and process")
    .option('-f, --follow', 'keep printing what they write, until Ctrl-C')
    .option('--since <duration>', 'only lines written in this last while, e.g. 10m')
    .action(async (id: string, _f, cmd: Command) => {
      const o = allOptions<{ follow?: boolean; since?: string }>(cmd);
      if (!/^[^/]+\/[^/]+$/.test(id)) throw new InvalidInputError(`name the component as <service>/<component> (got ${id})`);
      const since = o.since !== undefined ? Date.now() - parseDuration(o.since, '--since') : undefined;
      const file = await logFileOf(settingsFrom(o, ctx.io), id);
      const body = await fs.readFile(file).catch(() => Buffer.alloc(0));
      ctx.io.stdout.write(linesSince(body.toString('utf8'), since));
      if (o.follow) await follow(ctx, file, body.length);
    });
}

/** Prints what is appended to `file` from `offset` on, until Ctrl-C or SIGTERM. */
async function follow(ctx: CommandContext, file: string, offset: number): Promise<void> {
  let at = offset;
  await everyUntilInterrupted(200, async () => {
    const size = (await fs.stat(file).catch(() => undefined))?.size ?? 0;
    if (size < at) at = 0; // the file was started anew (the service redeployed from scratch)
    if (size <= at) return;
    const handle = await fs.open(file, 'r');
    try {
      const chunk = Buffer.alloc(size - at);
      await handle.read(chunk, 0, chunk.length, at);
      ctx.io.stdout.write(chunk.toString('utf8'));
      at = size;
    } finally {
      await handle.close();
    }
  });
}
