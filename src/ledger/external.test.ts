/**
 * Deployments and rollbacks recorded by other tools: the flags checked one by one, each refusal
 * naming its flag, and what is kept (UTC times, metadata pairs, the canary's share).
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import { externalDeployment, externalRollback, isoTime, metadataPairs, type DeploymentFlags } from './external.js';

const good: DeploymentFlags = {
  service: 'web',
  version: '1.2.3',
  environment: 'prod',
  type: 'canary',
  started: '2026-12-01T10:00:00Z',
  completed: '2026-12-01T10:05:00+00:00',
  status: 'success',
};
const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    return (err as Error).message;
  }
  throw new Error('accepted');
};

describe('externalDeployment', () => {
  it('keeps times in UTC, the metadata pairs, the canary share, and says where it came from', () => {
    const d = externalDeployment(
      { ...good, canaryPercentage: '12.5', metadata: ['git_commit=abc', 'note=a=b'], started: '2026-12-01T11:00:00+01:00' },
      { initiator: 'ci@runner' },
    );
    expect(d).toMatchObject({
      service: 'web',
      version: '1.2.3',
      environment: 'prod',
      type: 'canary',
      started: '2026-12-01T10:00:00.000Z',
      completed: '2026-12-01T10:05:00.000Z',
      status: 'success',
      initiator: 'ci@runner',
      parentId: null,
      metadata: { git_commit: 'abc', note: 'a=b', canary_percentage: 12.5, source: 'external' },
    });
    expect(d.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(externalDeployment({ ...good, id: 'mine', initiator: 'ana' }, { initiator: 'x' })).toMatchObject({
      id: 'mine',
      initiator: 'ana',
    });
  });

  it('an in-progress deployment needs no completion; any other does', () => {
    expect(externalDeployment({ ...good, status: 'in-progress', completed: undefined }, { initiator: 'x' }).completed).toBeNull();
    expect(refusal(() => externalDeployment({ ...good, completed: undefined }, { initiator: 'x' }))).toBe(
      '--completed is required for a deployment whose status is success',
    );
  });

  it('refuses each bad flag by its name', () => {
    const d = (over: Partial<DeploymentFlags>) => () => externalDeployment({ ...good, ...over }, { initiator: 'x' });
    expect(refusal(d({ type: 'blue' }))).toBe('--type "blue" is not one of blue-green, canary, rolling, big-bang');
    expect(refusal(d({ status: 'ok' }))).toBe('--status "ok" is not one of pending, in-progress, success, failed, rolled-back');
    expect(refusal(d({ started: '2026-12-01' }))).toMatch(/^--started "2026-12-01" is not an ISO 8601 time with a zone/);
    expect(refusal(d({ started: '2026-12-01T10:00:00' }))).toMatch(/^--started .* is not an ISO 8601 time with a zone/);
    expect(refusal(d({ completed: '2026-13-01T10:00:00Z' }))).toMatch(/^--completed /);
    expect(refusal(d({ completed: '2026-12-01T09:59:59Z' }))).toBe(
      '--completed 2026-12-01T09:59:59Z is before --started 2026-12-01T10:00:00Z',
    );
    expect(refusal(d({ service: undefined }))).toBe('--service is required');
    expect(refusal(d({ version: ' ' }))).toBe('--version is required');
    expect(refusal(d({ environment: undefined }))).toBe('--environment is required');
    expect(refusal(d({ canaryPercentage: '150' }))).toBe('--canary-percentage 150 is not a number from 0 to 100');
    expect(refusal(d({ metadata: ['novalue'] }))).toBe('--metadata "novalue" is not key=value');
  });
});

describe('externalRollback', () => {
  it('checks every flag and keeps the time in UTC', () => {
    const r = externalRollback({
      service: 'web',
      environment: 'prod',
      fromVersion: '2',
      toVersion: '1',
      reason: '5xx',
      timestamp: '2026-12-01T12:00:00+02:00',
    });
    expect(r).toMatchObject({
      service: 'web',
      environment: 'prod',
      fromVersion: '2',
      toVersion: '1',
      reason: '5xx',
      at: '2026-12-01T10:00:00.000Z',
    });
    expect(refusal(() => externalRollback({ service: 'web', environment: 'prod', fromVersion: '2', toVersion: '1', reason: '5xx' }))).toBe(
      '--timestamp is required',
    );
    expect(
      refusal(() =>
        externalRollback({ service: 'web', environment: 'prod', toVersion: '1', reason: 'r', timestamp: '2026-12-01T12:00:00Z' }),
      ),
    ).toBe('--from-version is required');
  });
});

describe('isoTime and metadataPairs', () => {
  it('reads the ISO 8601 forms with a zone', () => {
    expect(isoTime('--t', '2026-12-01T10:00Z')).toBe('2026-12-01T10:00:00.000Z');
    expect(isoTime('--t', '2026-12-01T10:00:00.123456-0130')).toBe('2026-12-01T11:30:00.123Z');
    expect(metadataPairs([])).toEqual({});
  });
});
