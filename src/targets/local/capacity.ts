/**
 * Whether this machine can take what a run is about to start (seed 003's resource manager:
 * "availability checked before a deployment"). Memory: the new processes of the changing
 * MicroServices and Workers (`memory` × replicas) against what the kernel says is available now
 * (MemAvailable: the processes they replace still hold theirs until they stop), counted as if
 * every replica started at once (a blue-green rollout does). CPU: a process asking for more than
 * the machine has is refused; the stack's caps adding up to more are told. Disk: a bucket
 * writes into the stack's `.deployer/`; a filesystem with less than 256 MiB free takes none.
 */
import { PROCESS_KINDS as RUNS } from '../../model/stack-infra.js';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import type { DesiredComponent } from '../../model/desired.js';

/** What the machine has now, as far as the checks need it. */
export interface MachineCapacity {
  memoryAvailableMiB: number;
  cpus: number;
  /** Free space of the filesystem holding the stack's `.deployer/`, MiB (undefined: not known). */
  diskFreeMiB?: number;
}

export const MIN_FREE_DISK_MIB = 256;

/** MemAvailable of /proc/meminfo (free memory where the kernel does not say), the CPUs, the free disk under `dir`. */
export async function machineCapacity(dir: string): Promise<MachineCapacity> {
  const meminfo = await fs.readFile('/proc/meminfo', 'utf8').catch(() => '');
  const available = /^MemAvailable:\s+(\d+) kB/m.exec(meminfo);
  const memoryAvailableMiB = available ? Number(available[1]) / 1024 : os.freemem() / 1048576;
  const stat = await fs.statfs(dir).catch(() => undefined);
  return {
    memoryAvailableMiB: Math.floor(memoryAvailableMiB),
    cpus: os.cpus().length,
    ...(stat ? { diskFreeMiB: Math.floor((stat.bavail * stat.bsize) / 1048576) } : {}),
  };
}

const replicasOf = (c: DesiredComponent): number => (c.spec['replicas'] as number | undefined) ?? 1;

/**
 * Why the changing components do not fit this machine, one line per component that does not
 * (empty: they all fit). `all` is every component of the stack as it will be (for CPU).
 */
export function capacityProblems(
  changing: readonly DesiredComponent[],
  all: readonly DesiredComponent[],
  machine: MachineCapacity,
): string[] {
  const problems: string[] = [];
  let memoryLeft = machine.memoryAvailableMiB;
  for (const c of changing) {
    const memory = c.spec['memory'] as number | undefined;
    if (!RUNS.has(c.kind) || memory === undefined) continue;
    const need = memory * replicasOf(c);
    if (need > memoryLeft)
      problems.push(
        `${c.id} asks for ${need} MiB of memory (${memory} MiB × ${replicasOf(c)} replica(s)); ${Math.max(0, memoryLeft)} MiB is available${memoryLeft < machine.memoryAvailableMiB ? ` after the components before it (of ${machine.memoryAvailableMiB} MiB)` : ''}`,
      );
    memoryLeft -= need;
  }
  for (const c of changing) {
    const cpu = c.spec['cpu'] as number | undefined;
    if (RUNS.has(c.kind) && cpu !== undefined && cpu > machine.cpus * 1024)
      problems.push(`${c.id} asks for ${cpu} CPU units per process (${(cpu / 1024).toFixed(2)} CPUs); this machine has ${machine.cpus}`);
  }
  const buckets = changing.filter((c) => c.kind === 'S3');
  if (buckets.length > 0 && machine.diskFreeMiB !== undefined && machine.diskFreeMiB < MIN_FREE_DISK_MIB)
    problems.push(
      `${buckets.map((b) => b.id).join(', ')}: ${machine.diskFreeMiB} MiB free on the filesystem of .deployer/, below the ${MIN_FREE_DISK_MIB} MiB a bucket needs`,
    );
  return problems;
}

/**
 * CPU is a cap per process, not a reservation: shares of the whole stack that add up to more
 * than the machine are told (they cannot all be had at once), not refused.
 */
export function capacityNotes(changing: readonly DesiredComponent[], all: readonly DesiredComponent[], machine: MachineCapacity): string[] {
  const asked = all.filter((c) => RUNS.has(c.kind) && c.spec['cpu'] !== undefined);
  const total = asked.reduce((t, c) => t + (c.spec['cpu'] as number) * replicasOf(c), 0);
  const changed = new Set(changing.map((c) => c.id));
  if (total <= machine.cpus * 1024 || !asked.some((c) => changed.has(c.id))) return [];
  return [
    `the stack's processes may use up to ${total} CPU units in all (${(total / 1024).toFixed(2)} CPUs); this machine has ${machine.cpus}: they cannot all have their share at once`,
  ];
}
