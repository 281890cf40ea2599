/**
 * @vitest-environment jsdom
 *
 * What the dashboard draws from the API's answers: times, durations and metric values as
 * read, the timeline's rows, the tiles coloured by band, the stacks' locks and drift, and
 * records' text kept as text (a version holding markup stays a string).
 */
import { describe, expect, it } from 'vitest';
import type { Deployment, MetricsAnswer, StackAnswer } from './api.js';
import {
  driftedCount,
  fillSelect,
  formatDuration,
  formatMetric,
  formatTime,
  h,
  renderStacks,
  renderTiles,
  renderTimeline,
} from './view.js';

function deployment(over: Partial<Deployment>): Deployment {
  return {
    id: 'd1',
    stack: 'shop',
    service: 'api',
    version: 'v1',
    environment: 'prod',
    type: 'rolling',
    started: '2026-03-01T10:00:00.000Z',
    completed: '2026-03-01T10:05:00.000Z',
    status: 'success',
    initiator: 'ci',
    parentId: 'run-1',
    ...over,
  };
}

describe('formatting', () => {
  it('shows times in UTC, durations in the unit that reads best, and metrics with their units', () => {
    expect(formatTime('2026-03-01T10:00:07.123+01:00')).toBe('2026-03-01 09:00:07 UTC');
    expect(formatTime(null)).toBe('—');
    expect(formatTime('not a time')).toBe('not a time');
    expect([42, 720, 3 * 3600 + 1800, 3 * 86_400].map(formatDuration)).toEqual(['42 s', '12 min', '3.5 h', '3.0 d']);
    expect(formatMetric({ value: 1.25, unit: 'per-day' })).toBe('1.3 / day');
    expect(formatMetric({ value: 0.2, unit: 'per-day' })).toBe('1.4 / week');
    expect(formatMetric({ value: 7200, unit: 'seconds' })).toBe('2.0 h');
    expect(formatMetric({ value: 14.2857, unit: 'percent' })).toBe('14.3 %');
    expect(formatMetric({ value: null, unit: 'percent' })).toBe('n/a');
  });
});

describe('renderTimeline', () => {
  it('draws a row per deployment in the order given, with its status coloured, leaving drift checks out', () => {
    const tbody = h('tbody');
    renderTimeline(tbody, [
      deployment({ id: 'new', status: 'failed', type: 'canary', version: '<img src=x onerror=alert(1)>' }),
      deployment({ id: 'drift', type: 'drift', operation: 'drift' }),
      deployment({ id: 'gone', operation: 'destroy', status: 'in-progress', completed: null }),
    ]);
    const rows = [...tbody.querySelectorAll('tr')];
    expect(rows.map((r) => r.dataset['id'])).toEqual(['new', 'gone']);
    const cells = [...rows[0]!.querySelectorAll('td')].map((td) => td.textContent);
    expect(cells).toEqual(['2026-03-01 10:00:00 UTC', 'shop / api', 'prod', '<img src=x onerror=alert(1)>', 'canary', 'failed']);
    expect(tbody.querySelector('img')).toBeNull();
    expect(rows[0]!.querySelector('.status')!.className).toBe('status status-failed');
    expect(rows[1]!.querySelector('.type')!.textContent).toBe('rolling (destroy)');
    expect(rows[1]!.querySelector('.time')!.getAttribute('title')).toBe('not completed');
  });

  it('says when there is nothing to show', () => {
    const tbody = h('tbody');
    renderTimeline(tbody, []);
    expect(tbody.textContent).toBe('No deployments recorded yet.');
  });
});

describe('renderTiles', () => {
  it('draws the five DORA metrics with value, unit and band, coloured by band', () => {
    const answer: MetricsAnswer = {
      from: '2026-02-01T00:00:00.000Z',
      to: '2026-03-01T00:00:00.000Z',
      metrics: {
        frequency: [{ group: 'all', value: 0.2, unit: 'per-day', band: 'high', counted: 6, notes: ['29 day(s) in UTC'] }],
        'lead-time': [{ group: 'all', value: 7200, unit: 'seconds', band: 'elite', counted: 6, notes: [] }],
        'change-failure-rate': [{ group: 'all', value: 14.3, unit: 'percent', band: 'medium', counted: 7, notes: [] }],
        mttr: [{ group: 'all', value: null, unit: 'seconds', band: null, counted: 0, notes: ['1 failed deployment(s) not recovered yet'] }],
      },
    };
    const div = h('div');
    renderTiles(div, answer);
    const tiles = [...div.querySelectorAll<HTMLElement>('.tile')];
    expect(
      tiles.map((t) => [
        t.dataset['metric'],
        t.dataset['band'],
        t.querySelector('.value')!.textContent,
        t.querySelector('.band')!.textContent,
      ]),
    ).toEqual([
      ['frequency', 'high', '1.4 / week', 'high'],
      ['lead-time', 'elite', '2.0 h', 'elite'],
      ['change-failure-rate', 'medium', '14.3 %', 'medium'],
      ['mttr', 'none', 'n/a', 'no band'],
      ['success-rate', 'none', 'n/a', 'no band'],
    ]);
    expect(tiles[0]!.className).toBe('tile band-high');
    expect(tiles[0]!.title).toBe('29 day(s) in UTC');
    expect(tiles[2]!.querySelector('.counted')!.textContent).toBe('from 7');
  });
});

describe('renderStacks', () => {
  const stacks: StackAnswer[] = [
    {
      name: 'shop',
      environments: [
        { name: 'dev', lock: null, drift: null },
        {
          name: 'prod',
          lock: {
            lockKey: 'stack:shop:env:prod',
            lockId: 'L1',
            lockedBy: 'alice@runner',
            lockedAt: '2026-03-01T10:00:00.000Z',
            expiresAt: '2026-03-01T11:00:00.000Z',
            expired: false,
            metadata: { operation: 'apply' },
          },
          drift: {
            at: '2026-03-01T09:00:00.000Z',
            cycle: 'drifted',
            components: 4,
            findings: 3,
            critical: 1,
            services: [
              {
                service: 'api',
                drift: {
                  cycle: 'drifted',
                  findings: 3,
                  report: [{ component: 'api/web' }, { component: 'api/web' }, { component: 'api/queue' }],
                },
              },
              { service: 'db', drift: { cycle: 'drifted', findings: 0, report: [] } },
            ],
          },
        },
        {
          name: 'qa',
          lock: {
            lockKey: 'k',
            lockId: 'L2',
            lockedBy: 'bob@gone',
            lockedAt: '2026-03-01T08:00:00.000Z',
            expiresAt: '2026-03-01T09:00:00.000Z',
            expired: true,
          },
          drift: {
            at: '2026-03-01T09:00:00.000Z',
            cycle: 'failed',
            components: 0,
            findings: 0,
            critical: 0,
            services: [{ service: 'api', drift: { cycle: 'failed', reason: 'the engine is unavailable' } }],
          },
        },
      ],
    },
  ];

  it('shows each environment lock (free, held, expired) and its last drift check', () => {
    const tbody = h('tbody');
    renderStacks(tbody, stacks);
    const rows = [...tbody.querySelectorAll<HTMLElement>('tr')];
    expect(rows.map((r) => `${r.dataset['stack']}/${r.dataset['environment']}`)).toEqual(['shop/dev', 'shop/prod', 'shop/qa']);
    const [dev, prod, qa] = rows.map((r) => [r.querySelector<HTMLElement>('.lock')!, r.querySelector<HTMLElement>('.drift')!]);
    expect(dev![0]!.textContent).toBe('free');
    expect(dev![1]!.textContent).toBe('never checked');
    expect(prod![0]!.dataset['lock']).toBe('held');
    expect(prod![0]!.textContent).toBe('held by alice@runner since 2026-03-01 10:00:00 UTC (apply) until 2026-03-01 11:00:00 UTC');
    expect(prod![1]!.dataset['drift']).toBe('2');
    expect(prod![1]!.textContent).toBe('2026-03-01 09:00:00 UTC: 2 drifted of 4 (3 finding(s), 1 critical) · drifted');
    expect(qa![0]!.dataset['lock']).toBe('expired');
    expect(qa![0]!.textContent).toContain('expired 2026-03-01 09:00:00 UTC');
    expect(qa![1]!.textContent).toContain('no drift');
    expect(qa![1]!.textContent).toContain('check failed');
    expect(qa![1]!.title).toBe('the engine is unavailable');
  });

  it('counts drift from the findings count when the record keeps no findings, and says when nothing is served', () => {
    const summary = { at: 'x', cycle: 'drifted', components: 5, findings: 4, critical: 0 };
    expect(driftedCount({ ...summary, services: [{ service: 'api', drift: { findings: 4 } }] })).toBe(4);
    expect(driftedCount({ ...summary, findings: 0, services: [] })).toBe(0);
    const tbody = h('tbody');
    renderStacks(tbody, []);
    expect(tbody.textContent).toBe('No stacks are served.');
  });
});

describe('fillSelect', () => {
  it('offers the values given and keeps the choice while it is offered', () => {
    const select = h('select');
    fillSelect(select, ['a', 'b']);
    select.value = 'b';
    fillSelect(select, ['b', 'c']);
    expect(select.value).toBe('b');
    fillSelect(select, ['c']);
    expect(select.value).toBe('c');
  });
});
