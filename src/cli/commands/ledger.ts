/** `deployer ledger record-deployment | record-rollback | list-deployments | list-rollbacks | verify`. */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { LedgerTamperedError } from '../../errors.js';
import {
  DEPLOYMENT_STATUSES,
  DEPLOYMENT_TYPES,
  externalDeployment,
  externalRollback,
  openLedger,
  type DeploymentEvent,
  type DeploymentFlags,
  type DeploymentStatus,
  type LedgerStore,
  type RollbackFlags,
} from '../../ledger/index.js';
import { whoAmI } from '../../lock/index.js';
import { allOptions, printJson, settingsFrom, type CommandContext } from '../context.js';

export function registerLedger(program: Command, ctx: CommandContext): void {
  const ledger = program
    .command('ledger')
    .description('The record of deployments and rollbacks (DEPLOY_LEDGER_DB, default .deployer/ledger.db)');
  ledger
    .command('record-deployment')
    .description('Record a deployment made by another tool (or by hand); it counts in every list and metric like the ones deployer records')
    .option('--service <name>', 'the service deployed (required)')
    .option('--version <version>', 'the version deployed (required)')
    .option('--type <type>', `how: ${DEPLOYMENT_TYPES.join(', ')} (required)`)
    .option('--started <time>', 'when it started, ISO 8601 with a zone (required)')
    .option('--completed <time>', 'when it ended, ISO 8601 with a zone (required unless --status in-progress)')
    .option('--status <status>', `${DEPLOYMENT_STATUSES.join(', ')} (required)`)
    .option('--canary-percentage <n>', 'the share of traffic a canary took, 0 to 100')
    .option('--initiator <who>', 'who deployed (default: user@host)')
    .option(
      '--metadata <key=value>',
      'anything else to keep with it (git_commit=..., ci_run_id=...); repeatable',
      (v: string, all: string[] = []) => [...all, v],
    )
    .option('--id <id>', 'its id (default: a new one); recording an id again records its new outcome')
    .action(async (_f, cmd: Command) => {
      const o = allOptions<DeploymentFlags>(cmd);
      // Checked before the ledger is opened: refused input writes nothing, not even a new file.
      const event = externalDeployment(o, { initiator: whoAmI() });
      const settings = settingsFrom(o, ctx.io);
      await write(settings.ledger, (store) => store.recordDeployment(event));
      if (o.json) printJson(ctx.io, { deployment: event });
      else
        ctx.io.stdout.write(
          `Recorded deployment ${event.id}: ${event.service} ${event.version} to ${event.environment} (${event.type}, ${event.status}).\n`,
        );
    });
  ledger
    .command('record-rollback')
    .description('Record a rollback made by another tool (or by hand)')
    .option('--service <name>', 'the service rolled back (required)')
    .option('--from-version <version>', 'the version it was at (required)')
    .option('--to-version <version>', 'the version it went back to (required)')
    .option('--reason <text>', 'why (required)')
    .option('--timestamp <time>', 'when, ISO 8601 with a zone (required)')
    .option('--id <id>', 'its id (default: a new one)')
    .action(async (_f, cmd: Command) => {
      const o = allOptions<RollbackFlags>(cmd);
      const event = externalRollback(o);
      const settings = settingsFrom(o, ctx.io);
      await write(settings.ledger, (store) => store.recordRollback(event));
      if (o.json) printJson(ctx.io, { rollback: event });
      else
        ctx.io.stdout.write(
          `Recorded rollback ${event.id}: ${event.service} ${event.fromVersion} -> ${event.toVersion} in ${event.environment}.\n`,
        );
    });
  ledger
    .command('list-deployments')
    .description('List recorded deployments, newest first')
    .option('--service <name>', 'only this service')
    .option('--status <status>', 'in-progress, success, failed or rolled-back')
    .option('--since <time>', 'only deployments started at or after this ISO time')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (_f, cmd: Command) => {
      const o = allOptions<{ service?: string; status?: DeploymentStatus; since?: string; limit: string }>(cmd);
      const settings = settingsFrom(o, ctx.io);
      const rows = await readDeployments(settings.ledger, {
        ...(o.service ? { service: o.service } : {}),
        ...(o.environment ? { environment: o.environment } : {}),
        ...(o.status ? { status: o.status } : {}),
        ...(o.since ? { since: o.since } : {}),
        limit: Number(o.limit),
      });
      if (o.json) printJson(ctx.io, { deployments: rows });
      else ctx.io.stdout.write(renderDeployments(rows));
    });
  ledger
    .command('list-rollbacks')
    .description('List recorded rollbacks (automatic and `deployer rollback`), newest first')
    .option('--service <name>', 'only this service')
    .option('--since <time>', 'only rollbacks at or after this ISO time')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (_f, cmd: Command) => {
      const o = allOptions<{ service?: string; since?: string; limit: string }>(cmd);
      const settings = settingsFrom(o, ctx.io);
      const rows = await withLedger(settings.ledger, [], (store) =>
        store.listRollbacks({
          ...(o.service ? { service: o.service } : {}),
          ...(o.environment ? { environment: o.environment } : {}),
          ...(o.since ? { since: o.since } : {}),
          limit: Number(o.limit),
        }),
      );
      if (o.json) return printJson(ctx.io, { rollbacks: rows });
      if (rows.length === 0) return void ctx.io.stdout.write('No rollbacks recorded.\n');
      ctx.io.stdout.write(
        table(
          ['AT', 'STACK', 'ENV', 'SERVICE', 'FROM', 'TO', 'REASON'],
          rows.map((r) => [r.at, r.stack, r.environment, r.service, r.fromVersion, r.toVersion, r.reason]),
        ),
      );
    });
  ledger
    .command('verify')
    .description(
      "Check the ledger's audit history (every write is a row chained to the one before by its hash): name each row or record changed, removed or added behind the ledger's back; exit 1 if any",
    )
    .action(async (_f, cmd: Command) => {
      const o = allOptions(cmd);
      const settings = settingsFrom(o, ctx.io);
      const verified = await withLedger(settings.ledger, { ok: true, rows: 0, problems: [] }, (store) => store.verify());
      // One document with --json: the verification when intact, else the error naming each problem.
      if (verified.ok && o.json) return printJson(ctx.io, verified);
      if (verified.ok)
        return void ctx.io.stdout.write(`The ledger is intact: ${verified.rows} row(s) of history, each as it was written.\n`);
      throw new LedgerTamperedError(
        `the ledger ${settings.ledger} was changed behind its back: ${verified.problems.length} problem(s)`,
        verified.problems.map((p) => p.message),
      );
    });
}

/** Writes through the ledger at `location` (created when missing), closed afterwards. */
async function write(location: string, work: (store: LedgerStore) => Promise<void>): Promise<void> {
  const store = openLedger(location);
  try {
    await work(store);
  } finally {
    await store.close();
  }
}

/** What `read` reads from the ledger at `location`, closed afterwards; `empty` when there is no ledger file. */
async function withLedger<T>(location: string, empty: T, read: (store: LedgerStore) => Promise<T>): Promise<T> {
  if (!/^postgres/.test(location) && !existsSync(location)) return empty;
  const store = openLedger(location);
  try {
    return await read(store);
  } finally {
    await store.close();
  }
}

function readDeployments(location: string, filter: Parameters<LedgerStore['listDeployments']>[0]): Promise<DeploymentEvent[]> {
  return withLedger(location, [], (store) => store.listDeployments(filter));
}

function renderDeployments(rows: DeploymentEvent[]): string {
  if (rows.length === 0) return 'No deployments recorded.\n';
  const header = ['STARTED', 'STACK', 'ENV', 'SERVICE', 'VERSION', 'TYPE', 'STATUS', 'DURATION', 'INITIATOR'];
  return table(
    header,
    rows.map((r) => [
      r.started,
      r.stack,
      r.environment,
      r.service,
      r.version,
      r.type,
      r.status,
      r.completed ? `${((Date.parse(r.completed) - Date.parse(r.started)) / 1000).toFixed(1)}s` : '-',
      r.initiator,
    ]),
  );
}

function table(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return (
    [header, ...body]
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
