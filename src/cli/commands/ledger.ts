/** `deployer ledger list-deployments`. */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { openLedger, type DeploymentEvent, type DeploymentStatus } from '../../ledger/index.js';
import { allOptions, printJson, settingsFrom, type CommandContext } from '../context.js';

export function registerLedger(program: Command, ctx: CommandContext): void {
  const ledger = program.command('ledger').description('The record of deployments and rollbacks (DEPLOY_LEDGER_DB, default .deployer/ledger.db)');
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
      const rows = readDeployments(settings.ledger, {
        ...(o.service ? { service: o.service } : {}),
        ...(o.environment ? { environment: o.environment } : {}),
        ...(o.status ? { status: o.status } : {}),
        ...(o.since ? { since: o.since } : {}),
        limit: Number(o.limit),
      });
      if (o.json) printJson(ctx.io, { deployments: rows });
      else ctx.io.stdout.write(renderDeployments(rows));
    });
}

function readDeployments(location: string, filter: Parameters<ReturnType<typeof openLedger>['listDeployments']>[0]): DeploymentEvent[] {
  if (!/^postgres/.test(location) && !existsSync(location)) return [];
  const store = openLedger(location);
  try {
    return store.listDeployments(filter);
  } finally {
    store.close();
  }
}

function renderDeployments(rows: DeploymentEvent[]): string {
  if (rows.length === 0) return 'No deployments recorded.\n';
  const header = ['STARTED', 'STACK', 'ENV', 'SERVICE', 'VERSION', 'TYPE', 'STATUS', 'DURATION', 'INITIATOR'];
  const body = rows.map((r) => [
    r.started,
    r.stack,
    r.environment,
    r.service,
    r.version,
    r.type,
    r.status,
    r.completed ? `${((Date.parse(r.completed) - Date.parse(r.started)) / 1000).toFixed(1)}s` : '-',
    r.initiator,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [header, ...body].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}
