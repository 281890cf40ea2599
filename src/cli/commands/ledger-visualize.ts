/**
 * `deployer ledger visualize`: a Mermaid gantt timeline of the recorded deployments and
 * rollbacks, or the services' dependency graph (Graphviz dot or a Mermaid flowchart) annotated
 * with each service's last version and status. The graph's edges come from the stack when -C is
 * given, else from what deployer's runs recorded with each deployment (`depends_on`).
 */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { InvalidInputError, machineFault } from '../../errors.js';
import { serviceDependencies } from '../../graph/index.js';
import {
  annotate,
  dependenciesDot,
  dependenciesMermaid,
  servicesFromLedger,
  timelineMermaid,
  type ServiceNode,
} from '../../ledger/visualize.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { loadStack } from '../../workflows/load-stack.js';
import { allOptions, settingsFrom, type CommandContext } from '../context.js';
import { listFilter, withLedger, type ListFlags } from './ledger-store.js';

type VisualizeFlags = ListFlags & { format: 'mermaid' | 'dot'; type: 'timeline' | 'dependencies'; output?: string; dir?: string };

export function registerLedgerVisualize(ledger: Command, ctx: CommandContext): void {
  ledger
    .command('visualize')
    .description(
      "Draw the ledger: --type timeline, a Mermaid gantt chart of deployments (bars) and rollbacks (milestones) by service and environment; --type dependencies, the services' dependency graph (from the stack with -C, else as deployer's runs recorded it) with each service's last version and status, as dot (Graphviz) or mermaid",
    )
    .addOption(new Option('--format <format>', 'mermaid, or dot (dependencies only)').choices(['mermaid', 'dot']).default('mermaid'))
    .addOption(new Option('--type <type>', 'what to draw').choices(['timeline', 'dependencies']).default('timeline'))
    .option('--output <file>', 'write to this file (all or nothing) instead of standard output')
    .option('--service <name>', 'only this service')
    .option('--from <time>', 'only records at or after this ISO 8601 time')
    .option('--to <time>', 'only records at or before this ISO 8601 time')
    .action(async (_f, cmd: Command) => {
      const o = allOptions<VisualizeFlags>(cmd);
      if (o.type === 'timeline' && o.format === 'dot')
        throw new InvalidInputError('--type timeline is drawn as --format mermaid (a gantt chart); dot draws --type dependencies');
      const filter = listFilter(o);
      const settings = settingsFrom(o, ctx.io);
      const records = await withLedger(settings.ledger, { deployments: [], rollbacks: [] }, async (store) => ({
        deployments: await store.listDeployments(filter),
        rollbacks: o.type === 'timeline' ? await store.listRollbacks(filter) : [],
      }));
      let text: string;
      if (o.type === 'timeline') text = timelineMermaid(records, new Date().toISOString());
      else {
        const recorded = servicesFromLedger(records.deployments);
        // -C names a stack: its services and their dependencies as it says them now.
        const services = o.dir === undefined ? recorded : annotate(await stackServices(settings), recorded);
        text = o.format === 'dot' ? dependenciesDot(services) : dependenciesMermaid(services);
      }
      if (!o.output) return void ctx.io.stdout.write(text);
      const file = path.resolve(o.output);
      await writeFileAtomic(file, text).catch((err: unknown) => {
        throw machineFault(err, 'cannot write the drawing', file) ?? err;
      });
      ctx.io.stdout.write(`Wrote the ${o.type} (${o.format}) to ${file}.\n`);
    });
}

async function stackServices(settings: Parameters<typeof loadStack>[0]): Promise<ServiceNode[]> {
  const { desired } = await loadStack(settings);
  const deps = serviceDependencies(desired.components.values());
  return [...desired.services.values()]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((s) => ({ name: s.name, dependsOn: deps.get(s.name) ?? [], ...(s.owner ? { owner: s.owner } : {}) }));
}
