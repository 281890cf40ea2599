/** What a reconcile cycle remediates of a drift report, and the plan it carries out. */
import { describe, expect, it } from 'vitest';
import type { Plan } from '../model/plan.js';
import type { ComponentDrift, DriftReport } from './drift.js';
import type { DriftFinding } from './report.js';
import { chooseRemediation, remediationPlan } from './remediate.js';

const finding = (
  component: string,
  kind: DriftFinding['kind'],
  path = '',
  message = '',
  action?: DriftFinding['action'],
): DriftFinding => ({
  component,
  kind,
  path,
  severity: 'warning',
  message,
  ...(action ? { action } : {}),
});
const component = (id: string, kind: string, findings: DriftFinding[]): ComponentDrift => ({
  id,
  kind,
  status: findings.length ? 'drifted' : 'in-sync',
  findings,
  ignored: 0,
  durationMs: 1,
});
const report = (...components: ComponentDrift[]): DriftReport => ({
  stack: 's',
  environment: 'e',
  checkedAt: '',
  serial: 1,
  concurrency: 1,
  components,
  counts: { components: components.length, drifted: 0, findings: 0, critical: 0, ignored: 0, errors: 0 },
  durationMs: 1,
});
const careful = { allowDestructive: false, applyConfigDrift: false };

describe('chooseRemediation', () => {
  it("forces what was changed behind deployer's back, and says why in the plan", () => {
    const c = chooseRemediation(
      report(
        component('web/api', 'MicroService', [finding('web/api', 'resource', 'env.A'), finding('web/api', 'resource', 'port')]),
        component('web/ok', 'MicroService', []),
        component('web/gone', 'MicroService', [finding('web/gone', 'missing')]),
      ),
      careful,
    );
    expect([...c.forced]).toEqual([
      ['web/api', 'drift: env.A, port'],
      ['web/gone', 'drift: missing'],
    ]);
    expect(c.left).toEqual([]);
  });

  it('leaves a lost stateful kind as reported unless allowed to recreate it; a changed setting is brought back', () => {
    const r = report(
      component('data/files', 'S3', [finding('data/files', 'missing')]),
      component('data/other', 'S3', [finding('data/other', 'resource', 'versioning')]),
    );
    const c = chooseRemediation(r, careful);
    expect([...c.forced.keys()]).toEqual(['data/other']);
    expect(c.left).toEqual([
      { id: 'data/files', reason: 'a S3 holds data: it is not deleted, replaced or recreated without --allow-destructive' },
    ]);
    expect([...chooseRemediation(r, { ...careful, allowDestructive: true }).forced.keys()]).toEqual(['data/files', 'data/other']);
  });

  it('leaves configuration drift, and a component that also has it, unless told to apply it', () => {
    const r = report(
      component('web/a', 'MicroService', [finding('web/a', 'configuration', 'spec.port')]),
      component('web/b', 'MicroService', [finding('web/b', 'configuration', 'spec.port'), finding('web/b', 'resource', 'port')]),
      component('data/db', 'RDS', [
        finding('data/db', 'configuration', '', 'deployed, but removed from configuration: `deployer apply` deletes it', 'delete'),
      ]),
      component('data/cache', 'EFS', [
        finding('data/cache', 'configuration', '', 'target local -> aws: `deployer apply` replaces it', 'replace'),
      ]),
    );
    const c = chooseRemediation(r, careful);
    expect(c.forced.size + c.applied.size).toBe(0);
    expect(c.left.map((l) => l.id)).toEqual(['web/a', 'web/b', 'data/db', 'data/cache']);
    expect(c.left[1]!.reason).toMatch(/its configuration changed too/);
    const applying = chooseRemediation(r, { ...careful, applyConfigDrift: true });
    expect([...applying.applied]).toEqual(['web/a']);
    expect([...applying.forced.keys()]).toEqual(['web/b']);
    expect(applying.left).toEqual([
      { id: 'data/db', reason: expect.stringMatching(/RDS holds data/) },
      { id: 'data/cache', reason: expect.stringMatching(/EFS holds data/) },
    ]);
  });
});

describe('remediationPlan', () => {
  it('carries out only what was chosen', () => {
    const plan: Plan = {
      stack: 's',
      environment: 'e',
      lineage: 'l',
      serial: 1,
      actions: [
        { id: 'web/a', kind: 'MicroService', action: 'update', reason: 'drift: port', changes: [], wave: 0 },
        { id: 'web/b', kind: 'MicroService', action: 'update', reason: 'spec changed', changes: ['/port'], wave: 0 },
        { id: 'web/c', kind: 'MicroService', action: 'no-op', reason: 'up to date', changes: [], wave: null },
      ],
      waves: [['web/a', 'web/b']],
      summary: { create: 0, update: 2, replace: 0, delete: 0, noop: 1 },
    };
    const p = remediationPlan(plan, { forced: new Map([['web/a', 'drift: port']]), applied: new Set(), left: [] });
    expect(p.actions.map((a) => `${a.id} ${a.action}`)).toEqual(['web/a update', 'web/c no-op']);
    expect(p.waves).toEqual([['web/a']]);
  });
});
