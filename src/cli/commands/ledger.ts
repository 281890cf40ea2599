/** `deployer ledger record-deployment | record-rollback | list-deployments | list-rollbacks | show-metrics` (verify and recount: ledger-verify.ts; export and import: ledger-transfer.ts). */
import { Option, type Command } from 'commander';
import { InvalidInputError } from '../../errors.js';
import {
  DEPLOYMENT_STATUSES,
  DEPLOYMENT_TYPES,
  externalDeployment,
  externalRollback,
  type DeploymentEvent,
  type DeploymentFlags,
  type DeploymentFilter,
  isoTime,
  oneOf,
  type RollbackFlags,
} from '../../ledger/index.js';
import { BAND_YEAR, METRIC_NAMES, computeMetric, type GroupBy, type MetricName, type MetricResult } from '../../ledger/metrics.js';
import { csv } from '../../ledger/export.js';
import { queryMetric, type MetricQuery } from '../../ledger/metric-query.js';
import { whoAmI } from '../../lock/index.js';
import { registerLedgerHooks } from './ledger-hooks.js';
import { registerLedgerTransfer } from './ledger-transfer.js';
import { registerLedgerVisualize } from './ledger-visualize.js';
import { knownTypes, listFilter, withLedger, write, type ListFlags } from './ledger-store.js';
import { registerLedgerTypes } from './ledger-types.js';
import { registerLedgerVerify } from './ledger-verify.js';
import { allOptions, printJson, settingsFrom, type CommandContext } from '../context.js';

export function registerLedger(program: Command, ctx: CommandContext): void {
  const ledger = program
    .command('ledger')
    .description(
      'The record of deployments and rollbacks (DEPLOY_LEDGER_DB or --ledger: an SQLite file, default .deployer/ledger.db, or a postgres:// URL)',
    );
  ledger
    .command('record-deployment')
    .description('Record a deployment made by another tool (or by hand); it counts in every list and metric like the ones deployer records')
    .option('--service <name>', 'the service deployed (required)')
    .option('--version <version>', 'the version deployed (required)')
    .option('--type <type>', `how: ${DEPLOYMENT_TYPES.join(', ')}, or a type registered with register-type (required)`)
    .option('--started <time>', 'when it started, ISO 8601 with a zone (required)')
    .option('--completed <time>', 'when it ended, ISO 8601 with a zone (required unless --status is pending or in-progress)')
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
      const settings = settingsFrom(o, ctx.io);
      // Checked before the ledger is written: refused input writes nothing, not even a new file.
      const event = externalDeployment(o, { initiator: whoAmI(), types: await knownTypes(settings.ledger, o.type) });
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
    .option('--deployment <id>', 'the id of the deployment it undid')
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
    .description('List recorded deployments, newest first (-e for one environment)')
    .option('--service <name>', 'only this service')
    .option('--type <type>', `only this type: ${DEPLOYMENT_TYPES.join(', ')}, or a registered one`)
    .option('--status <status>', `only this status: ${DEPLOYMENT_STATUSES.join(', ')}`)
    .option('--from <time>', 'only deployments started at or after this ISO 8601 time')
    .option('--to <time>', 'only deployments started at or before this ISO 8601 time')
    .addOption(new Option('--since <time>', 'the old name of --from').hideHelp())
    .addOption(new Option('--format <format>', 'table or csv (--json for JSON)').choices(['table', 'csv']).default('table'))
    .option('--limit <n>', 'at most this many (0: all)', '50')
    .action(async (_f, cmd: Command) => {
      const o = allOptions<ListFlags & { type?: string; status?: string }>(cmd);
      const types = o.type ? await knownTypes(settingsFrom(o, ctx.io).ledger, o.type) : [];
      const filter: DeploymentFilter = {
        ...listFilter(o),
        ...(o.type ? { type: oneOf('--type', o.type, types, []) } : {}),
        ...(o.status ? { status: oneOf('--status', o.status, DEPLOYMENT_STATUSES, []) } : {}),
      };
      const settings = settingsFrom(o, ctx.io);
      const rows = await withLedger(settings.ledger, [], (store) => store.listDeployments(filter));
      if (o.json) return printJson(ctx.io, { deployments: rows });
      if (o.format === 'csv') return void ctx.io.stdout.write(csv(DEPLOYMENT_CSV, rows.map(deploymentCells)));
      ctx.io.stdout.write(renderDeployments(rows));
    });
  ledger
    .command('list-rollbacks')
    .description('List recorded rollbacks (automatic, `deployer rollback`, or recorded), newest first (-e for one environment)')
    .option('--service <name>', 'only this service')
    .option('--from <time>', 'only rollbacks at or after this ISO 8601 time')
    .option('--to <time>', 'only rollbacks at or before this ISO 8601 time')
    .addOption(new Option('--since <time>', 'the old name of --from').hideHelp())
    .addOption(new Option('--format <format>', 'table or csv (--json for JSON)').choices(['table', 'csv']).default('table'))
    .option('--limit <n>', 'at most this many (0: all)', '50')
    .action(async (_f, cmd: Command) => {
      const o = allOptions<ListFlags>(cmd);
      const filter = listFilter(o);
      const settings = settingsFrom(o, ctx.io);
      const rows = await withLedger(settings.ledger, [], (store) => store.listRollbacks(filter));
      if (o.json) return printJson(ctx.io, { rollbacks: rows });
      const cells = rows.map((r) => [r.at, r.stack, r.environment, r.service, r.fromVersion, r.toVersion, r.reason]);
      if (o.format === 'csv')
        return void ctx.io.stdout.write(csv(['at', 'stack', 'environment', 'service', 'from_version', 'to_version', 'reason'], cells));
      if (rows.length === 0) return void ctx.io.stdout.write('No rollbacks recorded.\n');
      ctx.io.stdout.write(table(['AT', 'STACK', 'ENV', 'SERVICE', 'FROM', 'TO', 'REASON'], cells));
    });
  ledger
    .command('show-metrics')
    .description(
      'Delivery metrics (DORA 2023 bands; definitions in docs/ledger.md) over production deployments, the last 30 days by default',
    )
    .addOption(new Option('--metric <metric>', 'which metric').choices([...METRIC_NAMES]).makeOptionMandatory())
    .option('--service <name>', 'only this service')
    .option('--from <time>', 'the window starts at this ISO 8601 time (default: 30 days before --to)')
    .option('--to <time>', 'the window ends at this ISO 8601 time (default: now)')
    .option('--all-environments', 'every environment (default: only prod and production, or the one -e names)')
    .addOption(new Option('--group-by <what>', 'one figure per group').choices(['type', 'service', 'environment', 'week']))
    .option('--time-zone <zone>', 'days are counted in this IANA time zone', 'UTC')
    .action(async (_f, cmd: Command) => {
      const o = allOptions<{
        metric: MetricName;
        service?: string;
        from?: string;
        to?: string;
        allEnvironments?: boolean;
        groupBy?: GroupBy;
        timeZone: string;
      }>(cmd);
      const to = o.to ? isoTime('--to', o.to) : new Date().toISOString();
      const from = o.from ? isoTime('--from', o.from) : new Date(Date.parse(to) - 30 * 86_400_000).toISOString();
      if (from > to) throw new InvalidInputError(`--from ${o.from ?? from} is after --to ${o.to ?? to}`);
      if (!validTimeZone(o.timeZone))
        throw new InvalidInputError(`--time-zone ${JSON.stringify(o.timeZone)} is not an IANA time zone (for example UTC, Europe/Berlin)`);
      const settings = settingsFrom(o, ctx.io);
      const query: MetricQuery = {
        metric: o.metric,
        window: { from, to },
        timeZone: o.timeZone,
        environments: o.environment ? { only: o.environment } : o.allEnvironments ? 'all' : 'production',
        ...(o.service ? { service: o.service } : {}),
        ...(o.groupBy ? { groupBy: o.groupBy } : {}),
      };
      const empty = o.groupBy ? [] : [{ group: 'all', ...computeMetric(o.metric, [], [], { window: { from, to }, timeZone: o.timeZone }) }];
      const results = await withLedger(settings.ledger, empty, (store) => queryMetric(store, query));
      if (o.json) return printJson(ctx.io, { metric: o.metric, from, to, timeZone: o.timeZone, bands: `DORA ${BAND_YEAR}`, results });
      ctx.io.stdout.write(`${o.metric} from ${from} to ${to} (bands: DORA ${BAND_YEAR})\n`);
      for (const r of results) ctx.io.stdout.write(`  ${o.groupBy ? `${r.group}: ` : ''}${metricLine(r)}\n`);
    });
  registerLedgerVerify(ledger, ctx);
  registerLedgerTransfer(ledger, ctx);
  registerLedgerVisualize(ledger, ctx);
  registerLedgerHooks(ledger, ctx);
  registerLedgerTypes(ledger, ctx);
}

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** `40.0 % (low) over 5 deployments`; n/a for nothing to compute from. */
function metricLine(r: MetricResult): string {
  const value =
    r.value === null
      ? 'n/a'
      : r.unit === 'percent'
        ? `${r.value.toFixed(1)} %`
        : r.unit === 'per-day'
          ? `${r.value.toFixed(2)} per day`
          : duration(r.value);
  const band = r.band ? ` (${r.band})` : '';
  const notes = r.notes.length > 0 ? `; ${r.notes.join('; ')}` : '';
  return `${value}${band} from ${r.counted} ${r.unit === 'seconds' ? 'measurement(s)' : 'deployment(s)'}${notes}`;
}

/** Seconds as the largest units that say them: 12h 30m, 45s. */
function duration(totalS: number): string {
  const s = Math.round(totalS);
  const parts = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor((s % 86_400) / 3_600), 'h'],
    [Math.floor((s % 3_600) / 60), 'm'],
    [s % 60, 's'],
  ] as const;
  const shown = parts.filter(([n]) => n > 0).slice(0, 2);
  return shown.length === 0 ? '0s' : shown.map(([n, u]) => `${n}${u}`).join(' ') + ` (${s} s)`;
}

/** The flags every list shares. */
const DEPLOYMENT_CSV = [
  'id',
  'started',
  'completed',
  'stack',
  'environment',
  'service',
  'version',
  'type',
  'status',
  'initiator',
  'parent_id',
  'metadata',
];

function deploymentCells(d: DeploymentEvent): string[] {
  return [
    d.id,
    d.started,
    d.completed ?? '',
    d.stack,
    d.environment,
    d.service,
    d.version,
    d.type,
    d.status,
    d.initiator,
    d.parentId ?? '',
    JSON.stringify(d.metadata),
  ];
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
