/**
 * The delivery metrics over datasets computed by hand (docs/ledger.md defines each): one week of
 * production with a failure recovered by a rollback, one by a later deployment, a change whose
 * commit time is after its deployment, an in-progress deployment, a deployment recorded twice,
 * and one outside the window; then the empty and single-event cases and the traps.
 */
import { describe, expect, it } from 'vitest';
import { deployment, rollback } from './ledger.contract.js';
import {
  changeFailureRate,
  computeMetric,
  daysOf,
  deploymentFrequency,
  isoWeek,
  leadTime,
  median,
  metricByGroup,
  recoveryTime,
  successRate,
} from './metrics.js';
import type { DeploymentEvent } from './store.js';

const week = { from: '2026-11-02T00:00:00.000Z', to: '2026-11-08T23:59:59.999Z' };
const at = (day: number, hh: number, mm = 0): string =>
  `2026-11-${String(day).padStart(2, '0')}T${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}:00.000Z`;
const d = (id: string, over: Partial<DeploymentEvent>): DeploymentEvent =>
  deployment(id, { environment: 'prod', service: 'web', type: 'rolling', ...over });

const deployments: DeploymentEvent[] = [
  d('d1', {
    started: at(2, 10),
    completed: at(2, 10, 10),
    metadata: { changes: [{ committedAt: '2026-11-01T10:10:00.000Z' }, { committedAt: at(2, 9, 10) }] },
  }),
  d('d2', { started: at(3, 10), completed: null, status: 'in-progress' }),
  d('d2', { started: at(3, 10), completed: at(3, 10, 5), status: 'failed' }),
  d('d3', { started: at(4, 12), completed: at(4, 12, 10), status: 'rolled-back' }),
  d('d4', { started: at(5, 12), completed: at(5, 12, 10), metadata: { commit_time: at(5, 13) } }),
  d('d5', { started: at(6, 8), completed: at(6, 8, 20), service: 'api', type: 'canary', metadata: {} }),
  d('d6', { started: at(7, 9), completed: null, status: 'in-progress', service: 'api' }),
  d('d7', { started: '2026-10-30T10:00:00.000Z', completed: '2026-10-30T10:05:00.000Z' }),
];
const rollbacks = [rollback('r1', { service: 'web', environment: 'prod', at: at(3, 10, 35) })];

describe('delivery metrics over a hand-computed week', () => {
  it('deployment frequency: 3 successful deployments over 7 days, empty days included: high', () => {
    expect(deploymentFrequency(deployments, week)).toMatchObject({ value: 3 / 7, unit: 'per-day', band: 'high', counted: 3 });
  });

  it('lead time: the median of 86,400 s and 3,600 s; the change committed after its deployment is reported, not counted', () => {
    const r = leadTime(deployments, week);
    expect(r).toMatchObject({ value: 45_000, unit: 'seconds', band: 'elite', counted: 2 });
    expect(r.notes).toEqual([
      '1 change(s) committed after their deployment ended (clock skew?): left out',
      '1 successful deployment(s) carry no commit times',
    ]);
  });

  it('change failure rate: 2 failed (one rolled back) of 5 finished distinct deployments; the in-progress one and the rollback event count nowhere', () => {
    expect(changeFailureRate(deployments, week)).toMatchObject({ value: 40, unit: 'percent', band: 'low', counted: 5 });
  });

  it('failed deployment recovery time: 1,800 s (a rollback) and 86,400 s (the next good deployment): median 44,100 s, high', () => {
    expect(recoveryTime(deployments, rollbacks, week)).toMatchObject({
      value: 44_100,
      unit: 'seconds',
      band: 'high',
      counted: 2,
      notes: [],
    });
  });

  it('success rate: 3 of 5; by type, canary 1 of 1 and rolling 2 of 4', () => {
    expect(successRate(deployments, week)).toMatchObject({ value: 60, band: null });
    expect(metricByGroup('success-rate', deployments, rollbacks, { window: week }, 'type').map((g) => [g.group, g.value])).toEqual([
      ['canary', 100],
      ['rolling', 50],
    ]);
    expect(
      metricByGroup('change-failure-rate', deployments, rollbacks, { window: week }, 'service').map((g) => [g.group, g.value]),
    ).toEqual([
      ['api', 0],
      ['web', 50],
    ]);
  });
});

describe('empty and single-event ledgers', () => {
  it('nothing recorded: frequency 0 per day (low); every median and rate n/a, never 0', () => {
    expect(deploymentFrequency([], week)).toMatchObject({ value: 0, band: 'low', counted: 0 });
    for (const metric of ['lead-time', 'mttr', 'change-failure-rate', 'success-rate'] as const) {
      expect(computeMetric(metric, [], [], { window: week })).toMatchObject({ value: null, band: null, counted: 0 });
    }
  });

  it('one successful deployment: change failure rate 0 % (elite), no recovery to measure, one per week (high)', () => {
    const one = [d('only', { started: at(4, 9), completed: at(4, 9, 1) })];
    expect(changeFailureRate(one, week)).toMatchObject({ value: 0, band: 'elite' });
    expect(recoveryTime(one, [], week)).toMatchObject({ value: null, band: null });
    expect(deploymentFrequency(one, week)).toMatchObject({ value: 1 / 7, band: 'high' });
  });

  it('a failure never recovered is said so, and not counted as a recovery of 0 s', () => {
    const r = recoveryTime([d('f', { started: at(4, 9), completed: at(4, 9, 1), status: 'failed' })], [], week);
    expect(r).toMatchObject({ value: null, counted: 0, notes: ['1 failed deployment(s) not recovered yet'] });
  });

  it('a redeploy of the same version is a deployment, and a rollback is not one: it changes no count but the recovery', () => {
    const same = [
      d('a', { started: at(2, 9), completed: at(2, 9, 1), version: 'v1' }),
      d('b', { started: at(3, 9), completed: at(3, 9, 1), version: 'v1' }),
    ];
    expect(deploymentFrequency(same, week).counted).toBe(2);
    expect(changeFailureRate(same, week).counted).toBe(2);
  });
});

describe('time', () => {
  it('counts calendar days in the chosen time zone, also across a change of clocks', () => {
    expect(daysOf(week, 'UTC')).toHaveLength(7);
    // In Los Angeles the same instants span 1 to 8 November: 8 days (the clocks went back on the 1st).
    expect(daysOf(week, 'America/Los_Angeles')).toEqual([
      '2026-11-01',
      '2026-11-02',
      '2026-11-03',
      '2026-11-04',
      '2026-11-05',
      '2026-11-06',
      '2026-11-07',
      '2026-11-08',
    ]);
    expect(deploymentFrequency(deployments, week, 'America/Los_Angeles').value).toBe(3 / 8);
  });

  it('ISO weeks start on Monday; the first holds the first Thursday of the year', () => {
    expect(isoWeek('2026-11-02T00:00:00Z')).toBe('2026-W45');
    expect(isoWeek('2026-11-01T23:59:59Z')).toBe('2026-W44');
    expect(isoWeek('2027-01-01T12:00:00Z')).toBe('2026-W53');
    expect(isoWeek('2025-12-29T00:00:00Z')).toBe('2026-W01');
  });

  it('the median of an even count is the mean of the middle two; of nothing, n/a', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });
});
