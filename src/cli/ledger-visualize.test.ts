/**
 * `deployer ledger visualize` as a user runs it, its output read back by Mermaid and rendered
 * by Graphviz: the timeline of a ledger, the services' graph from a stack (-C) annotated with
 * the ledger's last versions, the graph from what the ledger recorded alone, and refusals.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployer } from '../../test/helpers/cli.js';
import { ganttTasks, renderDot } from '../../test/helpers/render.js';
import { removeTestdirs, testdir } from '../../test/helpers/testdir.js';
import { deployment } from '../ledger/ledger.contract.js';

let dir: string;
let ledger: string;
const shop = path.resolve('examples/shop');

beforeAll(async () => {
  dir = testdir('ledger-export');
  ledger = path.join(dir, 'visual.db');
  const file = path.join(dir, 'shop.json');
  const deployments = [
    deployment('a1', {
      environment: 'production',
      service: 'api',
      version: '3.1.0',
      started: '2026-11-01T08:00:00.000Z',
      completed: '2026-11-01T08:03:00.000Z',
      metadata: { depends_on: ['data', 'jobs'] },
    }),
    deployment('d1', {
      environment: 'production',
      service: 'data',
      version: '15.4',
      started: '2026-11-01T07:00:00.000Z',
      completed: '2026-11-01T07:10:00.000Z',
      status: 'failed',
      metadata: {},
    }),
  ];
  writeFileSync(file, JSON.stringify({ format: 'deployer-ledger', version: 1, deployments, rollbacks: [] }));
  const r = await deployer(['ledger', 'import', file, '--ledger', ledger]);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => removeTestdirs());

describe('ledger visualize', () => {
  it('writes the timeline to a file, which Mermaid reads', async () => {
    const out = path.join(dir, 'timeline.mmd');
    const r = await deployer(['ledger', 'visualize', '--output', out, '--ledger', ledger]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Wrote the timeline \(mermaid\) to .*timeline\.mmd/);
    const tasks = await ganttTasks(readFileSync(out, 'utf8'));
    expect(tasks.map((t) => [t.section, t.task, t.start, t.end])).toEqual([
      ['api (production)', '3.1.0 big-bang success', '2026-11-01T08:00:00.000Z', '2026-11-01T08:03:00.000Z'],
      ['data (production)', '15.4 big-bang failed', '2026-11-01T07:00:00.000Z', '2026-11-01T07:10:00.000Z'],
    ]);
  });

  it("draws the stack's services (-C) with the ledger's last versions, which Graphviz renders", async () => {
    const r = await deployer([
      'ledger',
      'visualize',
      '--type',
      'dependencies',
      '--format',
      'dot',
      '-C',
      shop,
      '-e',
      'production',
      '--ledger',
      ledger,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const svg = await renderDot(r.stdout);
    for (const service of ['api', 'data', 'edge', 'jobs']) expect(svg).toContain(`<title>${service}</title>`);
    for (const edge of ['api&#45;&gt;data', 'jobs&#45;&gt;data', 'edge&#45;&gt;data']) expect(svg).toContain(`<title>${edge}</title>`);
    expect(svg).toContain('3.1.0 (success)');
    expect(svg).toContain('15.4 (failed)');
    expect(svg).toContain('never deployed'); // edge and jobs
    // The owner the stack's service.yaml names (spec.owner).
    expect(svg).toContain('3.1.0 (success), owner checkout&#45;team');
  });

  it('without -C, draws what the ledger recorded', async () => {
    const r = await deployer(['ledger', 'visualize', '--type', 'dependencies', '--format', 'dot', '--ledger', ledger]);
    const svg = await renderDot(r.stdout);
    expect(svg).toContain('<title>api&#45;&gt;jobs</title>');
    expect(svg).not.toContain('<title>edge</title>');
  });

  it('refuses a timeline in dot, and an unknown format or type, with exit 2', async () => {
    const dot = await deployer(['ledger', 'visualize', '--type', 'timeline', '--format', 'dot', '--ledger', ledger]);
    expect(dot.code).toBe(2);
    expect(dot.stderr).toMatch(/--type timeline is drawn as --format mermaid/);
    expect((await deployer(['ledger', 'visualize', '--format', 'png', '--ledger', ledger])).code).toBe(2);
    expect((await deployer(['ledger', 'visualize', '--type', 'pie', '--ledger', ledger])).code).toBe(2);
  });
});
