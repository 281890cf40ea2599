/** The capacity check before a local deployment, on a machine described by the test. */
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import type { DesiredComponent } from '../../model/desired.js';
import { capacityNotes, capacityProblems, machineCapacity } from './capacity.js';

const c = (id: string, kind: string, spec: Record<string, unknown>): DesiredComponent =>
  ({ id, kind, spec }) as unknown as DesiredComponent;
const machine = { memoryAvailableMiB: 1000, cpus: 2, diskFreeMiB: 10_000 };

describe('capacity before a local deployment', () => {
  it('memory: the new processes of the changing services, in plan order, against what is available', () => {
    const api = c('web/api', 'MicroService', { memory: 256, replicas: 2 });
    const big = c('web/big', 'MicroService', { memory: 600 });
    const none = c('web/plain', 'MicroService', {});
    expect(capacityProblems([api, none], [api, none], machine)).toEqual([]);
    expect(capacityProblems([api, big], [api, big], machine)).toEqual([
      'web/big asks for 600 MiB of memory (600 MiB × 1 replica(s)); 488 MiB is available after the components before it (of 1000 MiB)',
    ]);
    expect(capacityProblems([big], [big], { ...machine, memoryAvailableMiB: 100 })).toEqual([
      'web/big asks for 600 MiB of memory (600 MiB × 1 replica(s)); 100 MiB is available',
    ]);
  });

  it('cpu: a process asking for more than the machine is refused; the stack’s caps adding up to more are told', () => {
    const a = c('web/a', 'MicroService', { cpu: 1024 });
    const b = c('web/b', 'MicroService', { cpu: 768, replicas: 2 });
    const huge = c('web/huge', 'MicroService', { cpu: 4096 });
    expect(capacityProblems([a, b], [a, b], machine)).toEqual([]);
    expect(capacityProblems([huge], [huge], machine)).toEqual([
      'web/huge asks for 4096 CPU units per process (4.00 CPUs); this machine has 2',
    ]);
    expect(capacityNotes([b], [a, b], machine)).toEqual([
      "the stack's processes may use up to 2560 CPU units in all (2.50 CPUs); this machine has 2: they cannot all have their share at once",
    ]);
    expect(capacityNotes([a], [a, c('web/x', 'MicroService', { cpu: 1024 })], machine)).toEqual([]);
  });

  it('disk: a bucket needs some free space under .deployer/', () => {
    const files = c('data/files', 'S3', {});
    expect(capacityProblems([files], [files], machine)).toEqual([]);
    expect(capacityProblems([files], [files], { ...machine, diskFreeMiB: 12 })).toEqual([
      'data/files: 12 MiB free on the filesystem of .deployer/, below the 256 MiB a bucket needs',
    ]);
  });

  it('reads this machine: its CPUs, some available memory, the free disk of a directory', async () => {
    const m = await machineCapacity(os.tmpdir());
    expect(m.cpus).toBe(os.cpus().length);
    expect(m.memoryAvailableMiB).toBeGreaterThan(0);
    expect(m.diskFreeMiB).toBeGreaterThan(0);
  });
});
