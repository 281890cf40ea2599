/** renderPlanTable / summaryLine: the plan as people read it. */
import { describe, expect, it } from 'vitest';
import type { Plan, PlanAction } from '../model/plan.js';
import { renderPlanTable, summaryLine } from './render.js';

const action = (id: string, a: PlanAction['action'], kind: PlanAction['kind'], wave: number, reason: string): PlanAction => ({
  id,
  action: a,
  kind,
  reason,
  changes: [],
  wave,
});

/** One component of every action. */
const EVERY: Plan = {
  stack: 'shop',
  environment: 'dev',
  lineage: 'lineage-1',
  serial: 3,
  actions: [
    action('data/db', 'no-op', 'MicroService', 0, 'up to date'),
    action('data/files', 'replace', 'S3', 0, 'kind MicroService -> S3 (cannot change in place)'),
    action('web/api', 'update', 'MicroService', 1, 'spec changed: /port'),
    action('web/frontend', 'create', 'MicroService', 2, 'new component'),
    action('jobs/queue', 'delete', 'S3', 3, 'removed from configuration'),
  ],
  waves: [['data/files'], ['web/api'], ['web/frontend'], ['jobs/queue']],
  summary: { create: 1, update: 1, replace: 1, delete: 1, noop: 1 },
};

describe('renderPlanTable', () => {
  it('lists every change with its symbol, kind, wave and reason, and hides unchanged components', () => {
    expect(renderPlanTable(EVERY).split('\n')).toEqual([
      '   ACTION   COMPONENT     KIND          WAVE  REASON',
      '±  replace  data/files    S3            0     kind MicroService -> S3 (cannot change in place)',
      '~  update   web/api       MicroService  1     spec changed: /port',
      '+  create   web/frontend  MicroService  2     new component',
      '-  delete   jobs/queue    S3            3     removed from configuration',
      '',
      'Plan: 1 to create, 1 to update, 1 to replace, 1 to delete, 1 unchanged.',
    ]);
  });

  it('lists unchanged components too when asked', () => {
    const lines = renderPlanTable(EVERY, { showUnchanged: true }).split('\n');
    expect(lines).toHaveLength(8);
    expect(lines[1]).toBe('   no-op    data/db       MicroService  0     up to date');
  });

  it('says there is nothing to do when every component is up to date', () => {
    const upToDate: Plan = {
      ...EVERY,
      actions: [EVERY.actions[0]!],
      waves: [],
      summary: { create: 0, update: 0, replace: 0, delete: 0, noop: 1 },
    };
    expect(renderPlanTable(upToDate)).toBe(
      'No changes. The stack matches the configuration.\n\nPlan: 0 to create, 0 to update, 0 to replace, 0 to delete, 1 unchanged.',
    );
    expect(renderPlanTable(upToDate, { showUnchanged: true }).split('\n')[1]).toBe('   no-op   data/db    MicroService  0     up to date');
  });
});

describe('summaryLine', () => {
  it('counts each action', () => {
    expect(summaryLine({ ...EVERY, summary: { create: 3, update: 0, replace: 2, delete: 1, noop: 12 } })).toBe(
      'Plan: 3 to create, 0 to update, 2 to replace, 1 to delete, 12 unchanged.',
    );
  });
});
