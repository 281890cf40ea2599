/** `deployer graph`: the dependency graph as mermaid, dot or JSON. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidInputError } from '../../errors.js';
import { loadStack } from '../../workflows/load-stack.js';
import type { DependencyGraph } from '../../graph/index.js';
import type { DesiredStack } from '../../model/desired.js';
import { allOptions, settingsFrom, type CommandContext } from '../context.js';

const FORMATS = ['mermaid', 'dot', 'json'] as const;
type Format = (typeof FORMATS)[number];

export function registerGraph(program: Command, ctx: CommandContext): void {
  program
    .command('graph')
    .description(
      'Print the dependency graph: nodes grouped by service, explicit (dependsOn, solid) and implicit (valueFrom, dashed) edges, and the waves',
    )
    .option('--format <format>', `one of ${FORMATS.join(', ')}`, 'mermaid')
    .option('--output <file>', 'write to a file instead of stdout')
    .action(async (_f, cmd: Command) => {
      const o = allOptions<{ format: string; output?: string }>(cmd);
      if (!(FORMATS as readonly string[]).includes(o.format))
        throw new InvalidInputError(`unknown --format ${o.format}: use ${FORMATS.join(', ')}`);
      const settings = settingsFrom(o, ctx.io);
      const { desired, graph } = await loadStack(settings);
      const text = renderGraph(desired, graph, o.format as Format);
      if (o.output) writeFileSync(o.output, text);
      else ctx.io.stdout.write(text);
    });
}

export function renderGraph(desired: DesiredStack, graph: DependencyGraph, format: Format): string {
  const byService = new Map<string, string[]>();
  for (const id of graph.order) {
    const s = desired.components.get(id)!.service;
    byService.set(s, [...(byService.get(s) ?? []), id]);
  }
  const key = (id: string): string => id.replace(/[^A-Za-z0-9_]/g, '_');
  if (format === 'json') {
    return (
      JSON.stringify(
        {
          nodes: graph.order.map((id) => ({ id, service: desired.components.get(id)!.service, kind: desired.components.get(id)!.kind })),
          edges: graph.edges(),
          waves: graph.waves,
        },
        null,
        2,
      ) + '\n'
    );
  }
  if (format === 'dot') {
    const lines = ['digraph deployer {', '  rankdir=LR;'];
    for (const [s, ids] of byService) {
      lines.push(`  subgraph "cluster_${s}" {`, `    label="${s}";`);
      for (const id of ids) lines.push(`    "${id}" [label="${id}\\n${desired.components.get(id)!.kind}"];`);
      lines.push('  }');
    }
    for (const e of graph.edges()) lines.push(`  "${e.from}" -> "${e.to}"${e.kind === 'implicit' ? ' [style=dashed]' : ''};`);
    graph.waves.forEach((w, i) => lines.push(`  // wave ${i}: ${w.join(', ')}`));
    lines.push('}');
    return lines.join('\n') + '\n';
  }
  const lines = ['flowchart LR'];
  for (const [s, ids] of byService) {
    lines.push(`  subgraph ${key(s)}[${s}]`);
    for (const id of ids) lines.push(`    ${key(id)}["${id} (${desired.components.get(id)!.kind})"]`);
    lines.push('  end');
  }
  for (const e of graph.edges()) lines.push(`  ${key(e.from)} ${e.kind === 'implicit' ? '-.->' : '-->'} ${key(e.to)}`);
  graph.waves.forEach((w, i) => lines.push(`  %% wave ${i}: ${w.join(', ')}`));
  return lines.join('\n') + '\n';
}
