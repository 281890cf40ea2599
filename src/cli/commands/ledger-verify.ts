/**
 * `deployer ledger verify [--aggregates]` and `deployer ledger recount`: the audit history checked
 * (a row or record changed behind the ledger's back is named), and the metrics' aggregates
 * counted again from the records, as a check or kept (aggregate-recount.ts: a writer that did
 * not know them, an older deployer, leaves them behind its records).
 */
import type { Command } from 'commander';
import { LedgerTamperedError } from '../../errors.js';
import type { AggregateDifference } from '../../ledger/store.js';
import { allOptions, printJson, settingsFrom, type CommandContext } from '../context.js';
import { shownLedger, withLedger } from './ledger-store.js';

/** `metric_counts: 3 row(s) ...` for each table a recount found different. */
const differing = (differences: readonly AggregateDifference[]): string[] =>
  differences.filter((d) => d.differingRows > 0).map((d) => `${d.table}: ${d.differingRows} row(s) differ from a recount of the records`);

const RECOUNTING = "Counting the metrics' aggregates again from every record (other writers of the ledger wait)...\n";

export function registerLedgerVerify(ledger: Command, ctx: CommandContext): void {
  ledger
    .command('verify')
    .description(
      "Check the ledger's audit history (every write is a row chained to the one before by its hash): name each row or record changed, removed or added behind the ledger's back; exit 1 if any",
    )
    .option(
      '--aggregates',
      "also count the metrics' aggregates again from the records (changing nothing) and name each table that differs; `ledger recount` mends them",
    )
    .action(async (_f, cmd: Command) => {
      const o = allOptions<{ aggregates?: boolean }>(cmd);
      const settings = settingsFrom(o, ctx.io);
      // A recount reads every record: on a large ledger, a minute or more.
      if (o.aggregates) ctx.io.stderr.write(RECOUNTING);
      const verified = await withLedger(
        settings.ledger,
        { ok: true, rows: 0, problems: [], aggregates: [] as AggregateDifference[] },
        async (store) => ({
          ...(await store.verify()),
          aggregates: o.aggregates ? await store.recountAggregates({ keep: false }) : [],
        }),
      );
      const { aggregates, ...chain } = verified;
      const stale = differing(aggregates);
      // One document with --json: the verification when intact, else the error naming each problem.
      if (chain.ok && stale.length === 0) {
        if (o.json) return printJson(ctx.io, o.aggregates ? verified : chain);
        const counted = o.aggregates ? ", and the metrics' aggregates agree with a recount of the records" : '';
        return void ctx.io.stdout.write(`The ledger is intact: ${chain.rows} row(s) of history, each as it was written${counted}.\n`);
      }
      if (!chain.ok)
        throw new LedgerTamperedError(
          `the ledger ${shownLedger(settings.ledger)} was changed behind its back: ${chain.problems.length} problem(s)`,
          [...chain.problems.map((p) => p.message), ...stale],
        );
      throw new LedgerTamperedError(
        `the metrics' aggregates of the ledger ${shownLedger(settings.ledger)} differ from its records (a writer did not keep them, such as an older deployer): \`deployer ledger recount\` counts them again`,
        stale,
      );
    });
  ledger
    .command('recount')
    .description(
      "Count the metrics' aggregates (status counts, lead-time and recovery samples, the totals of GET /metrics) again from the records, in one transaction (other writers wait), and say what changed",
    )
    .action(async (_f, cmd: Command) => {
      const o = allOptions(cmd);
      const settings = settingsFrom(o, ctx.io);
      ctx.io.stderr.write(RECOUNTING);
      const differences = await withLedger(settings.ledger, [] as AggregateDifference[], (store) =>
        store.recountAggregates({ keep: true }),
      );
      if (o.json) return printJson(ctx.io, { recounted: differences });
      const changed = differing(differences);
      if (changed.length === 0) return void ctx.io.stdout.write("Counted the metrics' aggregates again: every table was as kept.\n");
      ctx.io.stdout.write(`Counted the metrics' aggregates again; they now agree with the records. Before:\n`);
      for (const line of changed) ctx.io.stdout.write(`  ${line}\n`);
    });
}
