/** `deployer services`: what runs for each deployed component now (read-only, no lock). */
import type { Command } from 'commander';
import type { ServiceStatus } from '../../targets/index.js';
import { parseDuration } from '../../util/duration.js';
import { listServices, type ServicesReport } from '../../workflows/services.js';
import { allOptions, printJson, settingsFrom, type CommandContext } from '../context.js';
import { InvalidInputError } from '../../errors.js';
import { everyUntilInterrupted } from '../interrupts.js';

const HELP = `
For each deployed component that runs something (local target: MicroServices): its state
(running, starting, restarting, stopped, failed), replicas, the generation serving, its port and
the processes' pids and private ports, restarts after crashes, a health check made now, the
supervisor's last periodic check (LAST-CHECK: its result / how long ago), CPU time and resident
memory of each process, and uptime; under the table, what is wrong: why it stopped or failed,
limits that could not be applied, processes killed for memory, the circuit breaker. --watch redraws it until Ctrl-C (with --json:
one JSON document per line, each a snapshot).`;

const mib = (bytes: number | undefined): string => (bytes === undefined ? '-' : `${(bytes / 1048576).toFixed(1)}M`);

function uptime(ms: number | undefined): string {
  if (ms === undefined) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

/** The supervisor's last periodic health check: its result and how long ago, as of `takenAt`. */
function lastCheck(s: ServiceStatus, takenAt: string): string {
  const c = s.lastHealthCheck;
  if (!c) return '-';
  const ago = Math.max(0, Date.parse(takenAt) - Date.parse(c.at));
  return `${c.status}/${Number.isNaN(ago) ? '?' : uptime(ago)}`;
}

/** A CronJob's schedule in words: when it runs next, and its last run. */
function cronLine(c: NonNullable<ServiceStatus['cron']>): string {
  const next = c.suspended ? 'suspended' : c.nextRunAt ? `next run ${c.nextRunAt}` : 'not scheduled';
  const last = c.lastRun
    ? `; last run ${c.lastRun.startedAt} (${c.lastRun.trigger}): ${c.lastRun.status}${c.lastRun.detail ? `, ${c.lastRun.detail}` : ''}`
    : '';
  return next + last;
}

function row(s: ServiceStatus, takenAt: string): string[] {
  const cpu = s.replicas.reduce((t, r) => t + (r.cpuSeconds ?? 0), 0);
  const rss = s.replicas.reduce((t, r) => t + (r.rssBytes ?? 0), 0);
  return [
    s.id,
    s.state,
    String(s.replicas.length),
    s.generation !== undefined ? String(s.generation) : '-',
    s.port !== undefined ? String(s.port) : '-',
    s.replicas.map((r) => `${r.pid ?? '?'}:${r.port}`).join(',') || '-',
    String(s.restarts),
    s.health?.status ?? '-',
    lastCheck(s, takenAt),
    s.replicas.length ? `${cpu.toFixed(1)}s` : '-',
    s.replicas.length ? mib(rss) : '-',
    uptime(s.uptimeMs),
  ];
}

export function servicesTable(report: ServicesReport): string {
  const head = ['COMPONENT', 'STATE', 'REPLICAS', 'GEN', 'PORT', 'PID:PORT', 'RESTARTS', 'HEALTH', 'LAST-CHECK', 'CPU', 'RSS', 'UPTIME'];
  const rows = [head, ...report.services.map((s) => row(s, report.takenAt))];
  const widths = head.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  const details = report.services.flatMap((s) => [
    ...(s.detail ? [`  ${s.id}: ${s.detail}`] : []),
    ...(s.limits ? [`  ${s.id}: limits ${[s.limits.memory, s.limits.cpu].filter(Boolean).join(', ') || 'none applied'}`] : []),
    ...(s.limits?.warnings ?? []).map((w) => `  ${s.id}: ${w}`),
    ...(s.oomKills ? [`  ${s.id}: ${s.oomKills} process(es) killed by the kernel for going over the memory limit`] : []),
    ...(s.lastExit ? [`  ${s.id}: last exit ${s.lastExit.at}: ${s.lastExit.reason}`] : []),
    ...(s.breaker?.reason && !s.detail?.includes(s.breaker.reason) ? [`  ${s.id}: ${s.breaker.reason}`] : []),
    ...(s.cron ? [`  ${s.id}: ${cronLine(s.cron)}`] : []),
  ]);
  const title = `Stack ${report.stack}, environment ${report.environment}: ${report.services.length} service(s), at ${report.takenAt}`;
  if (report.services.length === 0) return `${title}\n(nothing deployed runs a process)`;
  return [title, '', ...lines, ...(details.length ? ['', ...details] : [])].join('\n');
}

export function registerServices(program: Command, ctx: CommandContext): void {
  program
    .command('services')
    .description(
      'Show what runs for each deployed component: state, replicas, generation, ports, pids, restarts, health, CPU, memory, uptime',
    )
    .option('--watch [interval]', 'redraw every interval (default 2s) until Ctrl-C')
    .addHelpText('after', HELP)
    .action(async (_f, cmd: Command) => {
      const o = allOptions<{ watch?: string | boolean }>(cmd);
      const settings = settingsFrom(o, ctx.io);
      const show = (report: ServicesReport): void => {
        if (o.json) {
          if (o.watch) ctx.io.stdout.write(JSON.stringify(report) + '\n');
          else printJson(ctx.io, report);
        } else ctx.io.stdout.write(`${o.watch && ctx.io.interactive ? '\x1b[H\x1b[2J' : ''}${servicesTable(report)}\n`);
      };
      if (!o.watch) return show(await listServices(settings));
      const everyMs = typeof o.watch === 'string' ? parseDuration(o.watch, '--watch') : 2000;
      if (everyMs < 200) throw new InvalidInputError(`--watch must be at least 200ms (got ${String(o.watch)})`);
      await everyUntilInterrupted(everyMs, async () => show(await listServices(settings)));
    });
}
