/** `deployer reconcile`: drift on a schedule, alerts, opt-in remediation. */
import { type Command } from 'commander';
import { InvalidInputError } from '../../errors.js';
import { DEFAULT_DRIFT_CONCURRENCY } from '../../reconcile/drift.js';
import { reconcileLoop, type CycleResult } from '../../reconcile/loop.js';
import { driftSummaryLine } from '../../reconcile/render.js';
import { parseDuration } from '../../util/duration.js';
import { allOptions, settingsFrom, type CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { progressRenderer } from '../progress.js';
import { stackRegions } from '../../workflows/stack-regions.js';

interface ReconcileFlags {
  every: string;
  once?: boolean;
  autoRemediate?: boolean;
  allowDestructive?: boolean;
  applyConfigDrift?: boolean;
  alertWebhook?: string;
  concurrency: string;
}

const HELP = `
Each cycle: skip if a deploy holds the stack's lock; check for drift (as \`deployer drift\`); POST
each critical finding to --alert-webhook (signed with HMAC-SHA256 in X-Deployer-Signature-256
when DEPLOYER_ALERT_SECRET is set); with --auto-remediate, bring drifted components back through
a normal locked apply (their Pulumi stacks refreshed first). Never deletes, replaces or recreates
a stateful kind (RDS, DynamoDB, DocumentDB, S3, EFS, EBS, MSK, Kafka) without --allow-destructive;
configuration drift (YAML not applied) is reported, not applied, without --apply-config-drift.
Cycles never overlap; the pause is the interval ±10 %, doubled after a failed cycle (at most 8
intervals). SIGTERM or Ctrl-C finishes the running cycle and exits 0.

A Stack that lists regions runs a loop per region (--region: one); each line names its region.

With --once, exit codes: 0 in sync, remediated or skipped · 4 drift left · 1 the cycle failed · 2 invalid input.
With --json, one JSON line per cycle on stdout.`;

function cycleLine(r: CycleResult): string {
  const took = `${(r.durationMs / 1000).toFixed(1)}s`;
  const what =
    r.status === 'skipped' || r.status === 'failed'
      ? `${r.status}: ${r.reason}`
      : r.status === 'remediated'
        ? `remediated ${r.remediation!.components.join(', ')}`
        : r.report
          ? driftSummaryLine(r.report)
          : r.status;
  const left = r.remediation?.left.map((l) => `\n  left as reported: ${l.id}: ${l.reason}`).join('') ?? '';
  const alerts = r.alerts
    ? `\n  alerts: ${r.alerts.sent} sent${r.alerts.failed.map((f) => `; not sent for ${f.component}: ${f.error}`).join('')}`
    : '';
  const ledger = r.ledgerError ? `\n  not recorded in the ledger: ${r.ledgerError}` : '';
  return `[${r.startedAt}] cycle ${r.cycle} (${took}): ${what}${left}${alerts}${ledger}\n`;
}

const SEVERITY: Record<CycleResult['status'], number> = { failed: 3, drifted: 2, skipped: 1, remediated: 1, clean: 0 };

/** The cycles ordered so that the last one is the worst (the one the exit code reports). */
function worstLast(cycles: CycleResult[]): CycleResult[] {
  return [...cycles].sort((a, b) => SEVERITY[a.status] - SEVERITY[b.status]);
}

export function registerReconcile(program: Command, ctx: CommandContext): void {
  program
    .command('reconcile')
    .description('Check for drift on a schedule (or --once), alert on critical drift, and optionally remediate it')
    .option('--every <duration>', 'the interval between cycles, e.g. 5m', '5m')
    .option('--once', 'run one cycle and exit (cron, CI)')
    .option('--auto-remediate', 'bring drifted components back to the configuration through a locked apply')
    .option('--allow-destructive', 'let remediation delete, replace or recreate stateful kinds')
    .option('--apply-config-drift', 'let remediation apply YAML changes that were not applied')
    .option('--alert-webhook <url>', 'POST each critical finding here as JSON (secret for signing: env DEPLOYER_ALERT_SECRET)')
    .option('--concurrency <n>', 'components checked at once', String(DEFAULT_DRIFT_CONCURRENCY))
    .addHelpText('after', HELP)
    .action(async (_f, cmd: Command) => {
      const o = allOptions<ReconcileFlags>(cmd);
      const everyMs = parseDuration(o.every, '--every');
      if (everyMs < 1000) throw new InvalidInputError(`--every must be at least 1s (got ${o.every})`);
      if (o.alertWebhook !== undefined && !/^https?:\/\/[^\s]+$/.test(o.alertWebhook))
        throw new InvalidInputError(`--alert-webhook must be an http(s) URL (got ${o.alertWebhook})`);
      const settings = settingsFrom(o, ctx.io);
      const secret = ctx.io.env['DEPLOYER_ALERT_SECRET'];
      const stop = new AbortController();
      const write = (t: string): unknown => (o.json ? ctx.io.stderr : ctx.io.stdout).write(t);
      const onSignal = (): void => {
        if (!stop.signal.aborted) write('Stopping: the running cycle finishes, no other starts.\n');
        stop.abort();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      const progress = progressRenderer(ctx.io, o.json === true, write);
      // A Stack that lists regions: a loop per region, side by side, unless --region chooses one.
      const regions = settings.region === undefined ? (await stackRegions(settings)).names : [];
      let results: CycleResult[];
      try {
        const loop = (region: string | undefined): Promise<CycleResult[]> =>
          reconcileLoop({
            settings: region ? { ...settings, region } : settings,
            everyMs,
            once: o.once === true,
            ...(o.autoRemediate
              ? { remediation: { allowDestructive: o.allowDestructive === true, applyConfigDrift: o.applyConfigDrift === true } }
              : {}),
            ...(o.alertWebhook ? { alert: { url: o.alertWebhook, ...(secret ? { secret } : {}) } } : {}),
            concurrency: settings.concurrency,
            signal: stop.signal,
            listener: progress.render,
            onCycle: (r) => {
              if (o.json) ctx.io.stdout.write(JSON.stringify(region ? { region, ...r } : r) + '\n');
              else write(`${region ? `[${region}] ` : ''}${cycleLine(r)}`);
            },
          });
        // With --once, the worst region's last cycle decides the exit code.
        results = regions.length > 0 ? worstLast((await Promise.all(regions.map(loop))).map((r) => r.at(-1)!)) : await loop(undefined);
      } finally {
        progress.close();
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
      const last = results.at(-1);
      if (o.once && last) ctx.exitCode = last.status === 'failed' ? EXIT.failed : last.status === 'drifted' ? EXIT.changes : EXIT.ok;
    });
}
