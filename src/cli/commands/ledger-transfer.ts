/**
 * `deployer ledger export` and `deployer ledger import`: the ledger's records out to a file (or
 * standard output) in JSON, CSV, org-mode or S-expressions, redacted unless --no-redact; and a
 * JSON or CSV export read back in, all of it or, on any problem, none of it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { InvalidInputError, machineFault } from '../../errors.js';
import { EXPORT_FORMATS, exportLedger, type ExportFormat } from '../../ledger/export.js';
import { parseExport } from '../../ledger/import.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { allOptions, printJson, settingsFrom, type CommandContext } from '../context.js';
import { knownTypes, listFilter, shownLedger, withLedger, write, type ListFlags } from './ledger-store.js';

export function registerLedgerTransfer(ledger: Command, ctx: CommandContext): void {
  ledger
    .command('export')
    .description(
      'Write the recorded deployments and rollbacks, oldest first, as json (what `ledger import` reads), csv, org or sexp; e-mail addresses, URL passwords, tokens and secret-named metadata are redacted unless --no-redact',
    )
    .addOption(new Option('--format <format>', 'the format').choices([...EXPORT_FORMATS]).default('json'))
    .option('--output <file>', 'write to this file (all or nothing) instead of standard output')
    .option('--no-redact', 'keep personal data and credentials as recorded (the file then holds them)')
    .option('--service <name>', 'only this service')
    .option('--from <time>', 'only records at or after this ISO 8601 time (deployments by their start)')
    .option('--to <time>', 'only records at or before this ISO 8601 time')
    .action(async (_f, cmd: Command) => {
      const o = allOptions<ListFlags & { format: ExportFormat; output?: string; redact: boolean }>(cmd);
      const filter = listFilter(o);
      const settings = settingsFrom(o, ctx.io);
      const records = await withLedger(settings.ledger, { deployments: [], rollbacks: [] }, async (store) => ({
        deployments: await store.listDeployments(filter),
        rollbacks: await store.listRollbacks(filter),
      }));
      const text = exportLedger(records, o.format, { redact: o.redact });
      if (!o.output) return void ctx.io.stdout.write(text);
      const file = path.resolve(o.output);
      await writeFileAtomic(file, text).catch((err: unknown) => {
        throw machineFault(err, 'cannot write the export', file) ?? err;
      });
      const summary = {
        file,
        format: o.format,
        redacted: o.redact,
        deployments: records.deployments.length,
        rollbacks: records.rollbacks.length,
      };
      if (o.json) return printJson(ctx.io, summary);
      ctx.io.stdout.write(
        `Exported ${summary.deployments} deployment(s) and ${summary.rollbacks} rollback(s) to ${file} (${o.format}${o.redact ? ', redacted' : ', not redacted'}).\n`,
      );
    });
  ledger
    .command('import')
    .description(
      'Record the deployments and rollbacks of a `ledger export` file (json or csv): each checked as record-deployment checks its flags; a file with any problem imports nothing (exit 2). Records already in the ledger (by id) take what the file says',
    )
    .argument('<file>', 'the export to read')
    .action(async (fileArg: string, _f, cmd: Command) => {
      const o = allOptions(cmd);
      const file = path.resolve(fileArg);
      const text = await readFile(file, 'utf8').catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT')
          throw new InvalidInputError(`${fileArg}: no such file`, ['Nothing was imported.']);
        if ((err as NodeJS.ErrnoException).code === 'EISDIR') throw new InvalidInputError(`${fileArg} is a directory, not an export file`);
        throw machineFault(err, 'cannot read the file to import', file) ?? err;
      });
      // Checked whole before the ledger is opened: a refused file writes nothing, not even a new ledger.
      const settings = settingsFrom(o, ctx.io);
      const registered = await knownTypes(settings.ledger, '');
      const batch = parseExport(text, fileArg, registered);
      await write(settings.ledger, (store) => store.recordMany(batch));
      const summary = {
        file,
        ledger: shownLedger(settings.ledger),
        deployments: batch.deployments?.length ?? 0,
        rollbacks: batch.rollbacks?.length ?? 0,
      };
      if (o.json) return printJson(ctx.io, summary);
      ctx.io.stdout.write(
        `Imported ${summary.deployments} deployment(s) and ${summary.rollbacks} rollback(s) from ${fileArg} into ${summary.ledger}.\n`,
      );
    });
}
