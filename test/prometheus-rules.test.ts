/**
 * The Prometheus alerting rules shipped in deploy/prometheus/: promtool (Debian's `prometheus`
 * package, which .ci/run installs) checks them and runs their unit tests (alerts.test.yaml), and
 * every series they read is one `GET /metrics` exports, so renaming a metric breaks this test
 * rather than silently every alert built on it. promtool also lints what /metrics renders.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createServerMetrics } from '../src/server/metrics.js';
import { parseExposition } from './helpers/exposition.js';
import { repoRoot } from './helpers/testdir.js';

const rulesDir = path.join(repoRoot, 'deploy', 'prometheus');

/** promtool's answer; a missing promtool fails the test, saying how to install it (never a skip). */
async function promtool(args: string[], input?: string): Promise<{ exitCode: number; output: string }> {
  const r = await execa('promtool', args, { cwd: rulesDir, reject: false, all: true, ...(input !== undefined ? { input } : {}) });
  // No exit code: promtool never ran (ENOENT when it is not installed).
  if (r.exitCode === undefined)
    throw new Error(`promtool could not run (${r.message}): install it with \`apt-get install prometheus\` (Debian; .ci/run does)`);
  return { exitCode: r.exitCode, output: r.all };
}

/** Every metric name an alerting rule's expression reads. */
function seriesTheRulesRead(): Map<string, string[]> {
  const doc = parse(readFileSync(path.join(rulesDir, 'alerts.yaml'), 'utf8')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  const read = new Map<string, string[]>();
  for (const rule of doc.groups.flatMap((g) => g.rules)) {
    read.set(rule.alert, [...new Set(rule.expr.match(/\bdeployer_[a-z_]+\b/g) ?? [])]);
  }
  return read;
}

/** What /metrics renders with one of everything in its sources. */
async function rendered(): Promise<string> {
  const metrics = createServerMetrics({
    ledger: {
      deploymentTotals: async (buckets) => [
        {
          service: 'api',
          environment: 'prod',
          type: 'rolling',
          status: 'success',
          count: 1,
          buckets: buckets.map(() => 1),
          durationCount: 1,
          durationSum: 3,
        },
      ],
      rollbackTotals: async () => [{ service: 'api', environment: 'prod', count: 1 }],
    },
    locks: async () => [{ stack: 'shop', environment: 'prod', held: true, ageSeconds: 5 }],
    drift: async () => [{ stack: 'shop', environment: 'prod', components: 1 }],
  });
  metrics.observeRequest('/metrics', 'GET', 200, 0.01);
  return metrics.render();
}

describe('Prometheus alerting rules', () => {
  it('pass promtool check rules', async () => {
    const r = await promtool(['check', 'rules', 'alerts.yaml']);
    expect(r.output).toContain('SUCCESS: 4 rules found');
    expect(r.exitCode).toBe(0);
  });

  it('pass their unit tests: each alert fires when it should, and only then', async () => {
    const r = await promtool(['test', 'rules', 'alerts.test.yaml']);
    expect(r.output).toContain('SUCCESS');
    expect(r.exitCode).toBe(0);
  });

  it('read only series that /metrics exports', async () => {
    const read = seriesTheRulesRead();
    expect([...read.keys()].sort()).toEqual([
      'DeployerDriftDetected',
      'DeployerHighDeploymentFailureRate',
      'DeployerLockStuck',
      'DeployerRollbackSpike',
    ]);
    const exported = new Set(parseExposition(await rendered()).samples.map((s) => s.name));
    for (const [alert, names] of read) {
      expect(names.length, alert).toBeGreaterThan(0);
      for (const name of names) expect(exported, `${alert} reads ${name}`).toContain(name);
    }
  });

  it('/metrics renders an exposition promtool reads, with no problem in deployer series', async () => {
    const r = await promtool(['check', 'metrics'], await rendered());
    // Exit 3: lint problems only (1 would be a parse error); prom-client's own default Node.js
    // gauges are named *_total, which promtool frowns on. None of the problems may be deployer's.
    expect([0, 3]).toContain(r.exitCode);
    const problems = r.output.split('\n').filter((l) => l.trim() !== '');
    expect(problems.filter((l) => !/^nodejs_\w+ /.test(l))).toEqual([]);
  });
});
