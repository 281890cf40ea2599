/** The table `deployer services` prints: one row per service, what is wrong said under it. */
import { describe, expect, it } from 'vitest';
import { servicesTable } from './services.js';

describe('deployer services table', () => {
  it('lists each service with its processes, health and use; a stopped one says why', () => {
    const text = servicesTable({
      stack: 'shop',
      environment: 'dev',
      takenAt: '2026-12-06T10:00:00.000Z',
      services: [
        {
          id: 'web/api',
          kind: 'MicroService',
          state: 'running',
          port: 20417,
          generation: 3,
          supervisorPid: 10,
          replicas: [
            { pid: 11, port: 40001, generation: 3, cpuSeconds: 1.25, rssBytes: 52428800 },
            { pid: 12, port: 40002, generation: 3, cpuSeconds: 0.75, rssBytes: 52428800 },
          ],
          restarts: 2,
          health: { status: 'healthy', checkedAt: '2026-12-06T10:00:00.000Z' },
          lastHealthCheck: { at: '2026-12-06T09:59:58.500Z', status: 'healthy', failing: 0 },
          uptimeMs: 3_723_000,
        },
        {
          id: 'web/worker',
          kind: 'MicroService',
          state: 'stopped',
          port: 20418,
          replicas: [],
          restarts: 0,
          detail: 'no supervisor runs for it',
        },
      ],
    });
    const lines = text.split('\n');
    expect(lines[0]).toBe('Stack shop, environment dev: 2 service(s), at 2026-12-06T10:00:00.000Z');
    expect(lines[2]!.split(/\s+/)).toEqual([
      'COMPONENT',
      'STATE',
      'REPLICAS',
      'GEN',
      'PORT',
      'PID:PORT',
      'RESTARTS',
      'HEALTH',
      'LAST-CHECK',
      'CPU',
      'RSS',
      'UPTIME',
    ]);
    expect(lines[3]!.split(/\s+/)).toEqual([
      'web/api',
      'running',
      '2',
      '3',
      '20417',
      '11:40001,12:40002',
      '2',
      'healthy',
      'healthy/1s',
      '2.0s',
      '100.0M',
      '1h2m',
    ]);
    expect(lines[4]!.split(/\s+/)).toEqual(['web/worker', 'stopped', '0', '-', '20418', '-', '0', '-', '-', '-', '-', '-']);
    expect(lines.at(-1)).toBe('  web/worker: no supervisor runs for it');
    expect(servicesTable({ stack: 's', environment: 'e', takenAt: 't', services: [] })).toMatch(/nothing deployed runs a process/);
  });
});
