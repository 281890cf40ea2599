/** The drift report as a table and as Markdown. */
import { describe, expect, it } from 'vitest';
import type { DriftReport } from './drift.js';
import { driftSummaryLine, renderDriftMarkdown, renderDriftTable } from './render.js';

const clean: DriftReport = {
  stack: 'shop',
  environment: 'dev',
  checkedAt: '2026-12-03T06:00:00.000Z',
  serial: 7,
  concurrency: 4,
  components: [{ id: 'web/api', kind: 'MicroService', status: 'in-sync', findings: [], ignored: 0, durationMs: 900 }],
  counts: { components: 1, drifted: 0, findings: 0, critical: 0, ignored: 0, errors: 0 },
  durationMs: 1234,
};

const drifted: DriftReport = {
  ...clean,
  components: [
    {
      id: 'web/api',
      kind: 'MicroService',
      status: 'drifted',
      findings: [
        {
          component: 'web/api',
          kind: 'resource',
          path: 'env.GREETING',
          expected: 'hi',
          recorded: 'hi',
          actual: 'a|b',
          severity: 'warning',
          message: 'env.GREETING was changed',
        },
      ],
      ignored: 1,
      durationMs: 900,
    },
    {
      id: 'web/assets',
      kind: 'S3',
      status: 'drifted',
      findings: [{ component: 'web/assets', kind: 'missing', path: '', severity: 'critical', message: 'S3 assets is gone' }],
      ignored: 0,
      durationMs: 800,
    },
    { id: 'web/db', kind: 'S3', status: 'error', findings: [], ignored: 0, error: 'pulumi refresh failed', durationMs: 10 },
  ],
  counts: { components: 3, drifted: 2, findings: 2, critical: 1, ignored: 1, errors: 1 },
};

describe('drift report rendering', () => {
  it('says plainly that nothing drifted', () => {
    expect(driftSummaryLine(clean)).toBe('No drift: every component is as configured and as deployed.');
    expect(renderDriftTable(clean)).toBe(
      'Drift of stack shop, environment dev (state serial 7): 1 component(s) checked in 1.2s, 4 at a time\n\nNo drift: every component is as configured and as deployed.',
    );
  });

  it('a table: a row per finding, the components it could not check, the counts', () => {
    const lines = renderDriftTable(drifted).split('\n');
    expect(lines[2]).toMatch(/^COMPONENT\s+DRIFT\s+PROPERTY\s+EXPECTED\s+RECORDED\s+ACTUAL\s+SEVERITY\s+WHAT$/);
    expect(lines[3]).toMatch(/^web\/api\s+resource\s+env\.GREETING\s+hi\s+hi\s+a\|b\s+warning\s+env\.GREETING was changed$/);
    expect(lines[4]).toMatch(/^web\/assets\s+missing\s+-\s+-\s+-\s+-\s+critical\s+S3 assets is gone$/);
    expect(lines).toContain('web/db: could not be checked: pulumi refresh failed');
    expect(lines.at(-1)).toBe(
      'Drift: 2 finding(s) (1 critical) in 2 component(s); 1 component(s) could not be checked; 1 difference(s) left out by spec.drift.ignore.',
    );
  });

  it('Markdown for a pull request: one table row per finding, pipes escaped, critical in bold', () => {
    const text = renderDriftMarkdown(drifted);
    expect(text).toContain('### Drift of `shop` (dev)');
    expect(text).toContain('| `web/api` | resource | `env.GREETING` | `hi` | `hi` | `a\\|b` | warning | env.GREETING was changed |');
    expect(text).toContain('| `web/assets` | missing | – | – | – | – | **critical** | S3 assets is gone |');
    expect(text).toContain('- `web/db` could not be checked: pulumi refresh failed');
  });
});
