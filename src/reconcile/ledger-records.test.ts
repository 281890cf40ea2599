/** A reconcile cycle as the ledger keeps it: a drift record per service. */
import { describe, expect, it } from 'vitest';
import { DRIFT_TYPE } from '../ledger/index.js';
import { driftRecords } from './ledger-records.js';
import type { CycleResult } from './loop.js';

const desired = {
  name: 'shop',
  environment: 'prod',
  services: new Map([
    ['web', {}],
    ['data', {}],
  ]),
} as never;

describe('driftRecords', () => {
  it('one record per service, with its findings, counts and what remediation did; counted in no metric', () => {
    const result: CycleResult = {
      cycle: 3,
      status: 'remediated',
      startedAt: '2026-12-03T06:00:00.000Z',
      durationMs: 4000,
      report: {
        components: [
          {
            id: 'web/api',
            kind: 'MicroService',
            status: 'drifted',
            ignored: 1,
            durationMs: 1,
            findings: [{ component: 'web/api', kind: 'resource', path: 'port', severity: 'warning', message: 'x' }],
          },
          {
            id: 'data/files',
            kind: 'S3',
            status: 'drifted',
            ignored: 0,
            durationMs: 1,
            findings: [{ component: 'data/files', kind: 'missing', path: '', severity: 'critical', message: 'y' }],
          },
        ],
      } as never,
      remediation: { components: ['web/api'], left: [{ id: 'data/files', reason: 'holds data' }], ok: true },
    };
    const [data, web] = driftRecords(desired, (s) => `${s}-v1`, result, 'me@host', 'run-1');
    expect(web).toMatchObject({
      stack: 'shop',
      service: 'web',
      version: 'web-v1',
      environment: 'prod',
      type: DRIFT_TYPE,
      operation: 'drift',
      started: '2026-12-03T06:00:00.000Z',
      completed: '2026-12-03T06:00:04.000Z',
      status: 'success',
      initiator: 'me@host',
      parentId: 'run-1',
      metadata: {
        drift: { cycle: 'remediated', components: 1, drifted: 1, findings: 1, critical: 0, ignored: 1, remediated: ['web/api'] },
      },
    });
    expect(data!.metadata['drift']).toMatchObject({ findings: 1, critical: 1, left: [{ id: 'data/files', reason: 'holds data' }] });
  });

  it('a failed or skipped cycle is recorded too, with why', () => {
    const failed = driftRecords(
      desired,
      () => 'v',
      { cycle: 1, status: 'failed', reason: 'boom', startedAt: '2026-12-03T06:00:00.000Z', durationMs: 1 },
      'me',
      'r',
    );
    expect(failed.map((r) => [r.service, r.status, (r.metadata['drift'] as { reason: string }).reason])).toEqual([
      ['data', 'failed', 'boom'],
      ['web', 'failed', 'boom'],
    ]);
    const skipped = driftRecords(
      desired,
      () => 'v',
      { cycle: 1, status: 'skipped', reason: 'busy', startedAt: '2026-12-03T06:00:00.000Z', durationMs: 1 },
      'me',
      'r',
    );
    expect(skipped[0]).toMatchObject({ status: 'success', metadata: { drift: { cycle: 'skipped', findings: 0 } } });
  });
});
