/** `deployer drift`: read-only, takes no lock; exit 4 when drift is found. */
import { Option, type Command } from 'commander';
import { DEFAULT_DRIFT_CONCURRENCY, detectDrift, type DriftEvent, type DriftReport } from '../../reconcile/drift.js';
import { stackRegions } from '../../workflows/stack-regions.js';
import { renderDriftMarkdown, renderDriftTable } from '../../reconcile/render.js';
import { allOptions, printJson, settingsFrom, type CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';

interface DriftFlags {
  component: string[];
  format: 'table' | 'markdown';
  concurrency: string;
}

const HELP = `
Compares, for every deployed component: desired (the YAML now), recorded (deployer's state and
the Pulumi checkpoint) and actual (what is really there, read by a refresh of its Pulumi stack in
preview: nothing is written). Finds configuration drift (YAML changed, not applied), resource
drift (the real thing was changed), missing resources (deleted out of band) and operations a
killed run left pending. Critical: stateful kinds, security-relevant properties (public access,
encryption), deleted resources. The Stack's spec.drift.ignore leaves differences out.
A Stack that lists regions is checked in every region (--region: one), each reported apart.

Exit codes: 0 no drift · 4 drift found · 1 a component could not be checked, or another failure · 2 invalid input`;

export function registerDrift(program: Command, ctx: CommandContext): void {
  program
    .command('drift')
    .description('Find drift between the configuration, what deployer recorded and what is really there (read-only, no lock)')
    .option('--component <svc/comp>', 'check only this component (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .addOption(
      new Option('--format <format>', 'the report for people: a table, or Markdown for a pull-request comment')
        .choices(['table', 'markdown'])
        .default('table'),
    )
    .option('--concurrency <n>', 'components checked at once', String(DEFAULT_DRIFT_CONCURRENCY))
    .addHelpText('after', HELP)
    .action(async (_f, cmd: Command) => {
      const o = allOptions<DriftFlags>(cmd);
      const settings = settingsFrom(o, ctx.io);
      const progress = (e: DriftEvent): void => {
        if (e.type === 'setup') ctx.io.stderr.write(`${e.message}\n`);
        else if (e.type === 'component-done')
          ctx.io.stderr.write(
            `${e.id}: ${e.status === 'drifted' ? `${e.findings} finding(s)` : e.status} (${(e.durationMs / 1000).toFixed(1)}s)\n`,
          );
      };
      const render = (report: DriftReport): string => (o.format === 'markdown' ? renderDriftMarkdown(report) : renderDriftTable(report));
      // A Stack that lists regions: every region, one after another, unless --region chooses one.
      const regions = settings.region === undefined ? (await stackRegions(settings)).names : [];
      if (regions.length > 0) {
        const reports: Array<{ region: string } & DriftReport> = [];
        for (const region of regions) {
          ctx.io.stderr.write(`[${region}]\n`);
          reports.push({
            region,
            ...(await detectDrift({
              settings: { ...settings, region },
              components: o.component,
              concurrency: settings.concurrency,
              onEvent: progress,
            })),
          });
        }
        const errors = reports.some((r) => r.counts.errors > 0);
        const drifted = reports.some((r) => r.counts.findings > 0);
        if (o.json) printJson(ctx.io, { ok: !errors, drifted, regions: reports });
        else for (const r of reports) ctx.io.stdout.write(`Region ${r.region}:\n${render(r)}\n\n`);
        ctx.exitCode = errors ? EXIT.failed : drifted ? EXIT.changes : EXIT.ok;
        return;
      }
      const report = await detectDrift({ settings, components: o.component, concurrency: settings.concurrency, onEvent: progress });
      if (o.json) printJson(ctx.io, { ok: report.counts.errors === 0, drifted: report.counts.findings > 0, ...report });
      else ctx.io.stdout.write(render(report) + '\n');
      ctx.exitCode = report.counts.errors > 0 ? EXIT.failed : report.counts.findings > 0 ? EXIT.changes : EXIT.ok;
    });
}
