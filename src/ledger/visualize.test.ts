/**
 * What `ledger visualize` draws, read back by the real tools: the gantt timeline by Mermaid's
 * parser and gantt database (each bar and milestone at the recorded times, in its section),
 * the dependency graph rendered by Graphviz dot and parsed by Mermaid as a flowchart.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ganttTasks, mermaidDiagramType, renderDot } from '../../test/helpers/render.js';
import { repoRoot } from '../../test/helpers/testdir.js';
import { deployment } from './ledger.contract.js';
import type { LedgerRecords } from './export.js';
import { annotate, dependenciesDot, dependenciesMermaid, servicesFromLedger, timelineMermaid } from './visualize.js';

const records = JSON.parse(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'ledger-export', 'records.json'), 'utf8')) as LedgerRecords;
const NOW = '2026-11-03T12:30:00.000Z';

describe('the timeline, as Mermaid reads it', () => {
  it('a bar per deployment from its start to its end, a milestone per rollback, a section per service and environment', async () => {
    const text = timelineMermaid(records, NOW);
    expect(await mermaidDiagramType(text)).toBe('gantt');
    const tasks = await ganttTasks(text);
    expect(tasks.map((t) => [t.section, t.task, t.start, t.end, t.milestone])).toEqual([
      ['checkout (prod)', '2.0.0 blue-green success', '2026-11-01T10:00:00.000Z', '2026-11-01T10:04:30.000Z', false],
      ['checkout (prod)', '2.1.0 canary rolled-back', '2026-11-02T09:00:00.000Z', '2026-11-02T09:20:00.000Z', false],
      ['checkout (prod)', 'rollback 2.1.0 to 2.0.0', '2026-11-02T09:20:00.000Z', '2026-11-02T09:20:00.000Z', true],
      // In progress: its bar runs to now.
      ['search (staging)', '0.9.1 rolling in-progress', '2026-11-03T12:00:00.000Z', NOW, false],
    ]);
  });

  it('names with the characters of its syntax in them, and an empty ledger, still parse', async () => {
    const odd = deployment('x', { service: 'a:b#c', version: '1,2;3', environment: 'prod' });
    const tasks = await ganttTasks(timelineMermaid({ deployments: [odd], rollbacks: [] }, NOW));
    expect(tasks.map((t) => [t.section, t.task])).toEqual([['a b c (prod)', '1 2 3 big-bang success']]);
    expect(await mermaidDiagramType(timelineMermaid({ deployments: [], rollbacks: [] }, NOW))).toBe('gantt');
  });
});

describe('the dependency graph, as Graphviz and Mermaid read it', () => {
  const ledger = [
    deployment('a1', { service: 'api', version: 'v1', started: '2026-01-01T00:00:00.000Z', metadata: { depends_on: ['db'] } }),
    deployment('a2', {
      service: 'api',
      version: 'v2',
      status: 'failed',
      started: '2026-01-02T00:00:00.000Z',
      metadata: { depends_on: ['db', 'cache'] },
    }),
    deployment('d1', { service: 'db', version: '15.4', started: '2026-01-01T00:00:00.000Z', metadata: { owner: 'data-team' } }),
  ];

  it('from the ledger: each service with its last version and status, and the dependencies its last deployment recorded', async () => {
    const services = servicesFromLedger(ledger);
    expect(services).toEqual([
      { name: 'api', dependsOn: ['db', 'cache'], lastVersion: 'v2', lastStatus: 'failed' },
      { name: 'db', dependsOn: [], owner: 'data-team', lastVersion: '15.4', lastStatus: 'success' },
    ]);
    const svg = await renderDot(dependenciesDot(services));
    for (const title of ['api', 'db', 'cache', 'api&#45;&gt;db', 'api&#45;&gt;cache']) expect(svg).toContain(`<title>${title}</title>`);
    expect(svg).toContain('v2 (failed)');
    expect(svg).toContain('never deployed');
    expect(await mermaidDiagramType(dependenciesMermaid(services))).toBe('flowchart-v2');
  });

  it('from the stack: its services and edges, annotated with what the ledger says', async () => {
    const fromStack = [
      { name: 'api', dependsOn: ['db'] },
      { name: 'db', dependsOn: [] },
      { name: 'worker', dependsOn: ['api', 'db'] },
    ];
    const services = annotate(fromStack, servicesFromLedger(ledger));
    expect(services.map((s) => [s.name, s.dependsOn, s.lastVersion ?? null])).toEqual([
      ['api', ['db'], 'v2'],
      ['db', [], '15.4'],
      ['worker', ['api', 'db'], null],
    ]);
    const dot = dependenciesDot(services);
    const svg = await renderDot(dot);
    expect(svg.match(/<g id="edge\d+" class="edge">/g)).toHaveLength(3);
    expect(svg).not.toContain('cache');
  });

  it('a name with quotes or backslashes is quoted for dot, and dot refuses what is not a graph', async () => {
    const svg = await renderDot(dependenciesDot([{ name: 'we"ird\\svc', dependsOn: [] }]));
    expect(svg).toContain('<title>we&quot;ird\\svc</title>');
    await expect(renderDot('digraph {')).rejects.toThrow(/dot refused the graph/);
  });
});
