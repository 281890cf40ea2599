/**
 * `cpu` and `memory` of a local service, enforced on each of its processes (seed 003's
 * resource manager). The best this machine allows, in order:
 *
 * - cgroup v2: a cgroup per process below the supervisor's own (`memory.max`, `cpu.max`), when
 *   the memory and cpu controllers can be enabled there (a delegated subtree);
 * - cgroup v1: the same in the `memory` and `cpu` hierarchies (`memory.limit_in_bytes`,
 *   `cpu.cfs_quota_us`);
 * - prlimit: the process's data segment (RLIMIT_DATA) for memory, nothing for CPU.
 *
 * What could not be applied is said, with why, in `warnings`. A process joins its cgroups
 * before it runs (a shell writes its own pid, then execs the command), so nothing it allocates
 * escapes the limit. Each limit is per process: a replica gets what the spec asks, as an ECS
 * task does.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findOnPath } from '../../util/process.js';

/** What the spec asks: memory in MiB, CPU in units (1024 = one CPU). */
export interface ResourceRequest {
  memoryMiB?: number;
  cpuUnits?: number;
}

/** The `memory` (MiB) and `cpu` (units) a component's spec asks for; undefined when it asks for neither. */
export function resourceRequestOf(spec: Record<string, unknown>): ResourceRequest | undefined {
  const memory = spec['memory'] as number | undefined;
  const cpu = spec['cpu'] as number | undefined;
  if (memory === undefined && cpu === undefined) return undefined;
  return { ...(memory !== undefined ? { memoryMiB: memory } : {}), ...(cpu !== undefined ? { cpuUnits: cpu } : {}) };
}

export type LimitMechanism = 'cgroup-v2' | 'cgroup-v1' | 'prlimit' | 'none';

/** How the limits of a component are applied on this machine, for status and `deployer services`. */
export interface AppliedLimits {
  mechanism: LimitMechanism;
  /** e.g. "memory.max 268435456 (cgroup v2)" */
  memory?: string;
  cpu?: string;
  /** Each limit that could not be applied, and why. */
  warnings: string[];
}

/** One process's limits: the command that runs it inside them, and how to tell whether the kernel killed it for memory. */
export interface ProcessLimits {
  applied: AppliedLimits;
  command(command: string[]): string[];
  /** Times the kernel killed a process of this cgroup for exceeding its memory (cgroups only). */
  oomKills(): number;
  /** Removes what was made for the process (once it has exited). */
  release(): void;
}

/** Where the cgroup hierarchies are mounted (tests give a directory of their own). */
const CGROUP_ROOT = '/sys/fs/cgroup';
const CPU_PERIOD_US = 100_000;

/** The supervisor's own cgroup path in each hierarchy (/proc/self/cgroup: "id:controllers:path"). */
function ownCgroups(): Map<string, string> {
  const out = new Map<string, string>();
  let text = '';
  try {
    text = readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.trim().split('\n')) {
    const [, controllers, where] = line.split(':');
    if (where === undefined) continue;
    for (const c of controllers === '' ? ['(v2)'] : controllers!.split(',')) out.set(c, where);
  }
  return out;
}

const write = (file: string, value: string): void => writeFileSync(file, value);
const why = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

/**
 * cgroup v2: a directory for the process below ours, the memory and cpu controllers enabled at
 * each level on the way. The kernel allows that only where the cgroup holds no process of its
 * own ("no internal processes"): a delegated subtree, or the root. Anything refused on the way
 * is the reason to fall back, and nothing made is left behind.
 */
function cgroupV2(root: string, name: string, r: ResourceRequest): { dir: string; applied: AppliedLimits } | string {
  const mount = existsSync(path.join(root, 'cgroup.controllers')) ? root : path.join(root, 'unified');
  const own = ownCgroups().get('(v2)');
  if (own === undefined || !existsSync(path.join(mount, 'cgroup.controllers'))) return 'cgroup v2 is not mounted';
  const base = path.join(mount, own);
  let available: string[];
  try {
    available = readFileSync(path.join(base, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
  } catch (err) {
    return `cgroup v2: this process's cgroup ${base} cannot be read (${why(err)})`;
  }
  const missing = ['memory', 'cpu'].filter((c) => !available.includes(c));
  if (missing.length > 0)
    return `cgroup v2 offers no ${missing.join(' or ')} controller in ${base} (it has: ${available.join(' ') || 'none'})`;
  const dir = path.join(base, name);
  const made: string[] = [];
  try {
    // Enabled in ours, then in each directory between it and the process's own.
    let level = base;
    for (const part of name.split('/')) {
      write(path.join(level, 'cgroup.subtree_control'), '+memory +cpu');
      level = path.join(level, part);
      if (!existsSync(level)) {
        mkdirSync(level);
        made.push(level);
      }
    }
    const applied: AppliedLimits = { mechanism: 'cgroup-v2', warnings: [] };
    if (r.memoryMiB !== undefined) {
      write(path.join(dir, 'memory.max'), String(r.memoryMiB * 1048576));
      applied.memory = `memory.max ${r.memoryMiB} MiB (cgroup v2)`;
    }
    if (r.cpuUnits !== undefined) {
      write(path.join(dir, 'cpu.max'), `${Math.round((r.cpuUnits / 1024) * CPU_PERIOD_US)} ${CPU_PERIOD_US}`);
      applied.cpu = `cpu.max ${(r.cpuUnits / 1024).toFixed(2)} CPU (cgroup v2)`;
    }
    return { dir, applied };
  } catch (err) {
    for (const d of made.reverse()) removeDirs([d]);
    return `cgroup v2: the memory and cpu controllers cannot be used below ${base} (${why(err)}; the kernel allows them only in a cgroup with no process of its own, e.g. one delegated to deployer)`;
  }
}

/** cgroup v1: a directory for the process in the memory and cpu hierarchies, below ours. */
function cgroupV1(root: string, name: string, r: ResourceRequest): { dirs: string[]; memoryDir?: string; applied: AppliedLimits } | string {
  const own = ownCgroups();
  const hierarchy = (controller: string): string | undefined => {
    const where = own.get(controller);
    const mounts = controller === 'cpu' ? ['cpu', 'cpu,cpuacct'] : [controller];
    const mount = mounts.map((m) => path.join(root, m)).find((m) => existsSync(path.join(m, 'cgroup.procs')));
    return where !== undefined && mount ? path.join(mount, where) : undefined;
  };
  const memoryBase = r.memoryMiB !== undefined ? hierarchy('memory') : undefined;
  const cpuBase = r.cpuUnits !== undefined ? hierarchy('cpu') : undefined;
  if (r.memoryMiB !== undefined && !memoryBase) return 'no cgroup v1 memory hierarchy is mounted';
  if (!memoryBase && !cpuBase) return 'no cgroup v1 cpu hierarchy is mounted';
  const applied: AppliedLimits = { mechanism: 'cgroup-v1', warnings: [] };
  const dirs: string[] = [];
  try {
    if (memoryBase) {
      const dir = path.join(memoryBase, name);
      mkdirSync(dir, { recursive: true });
      dirs.push(dir);
      write(path.join(dir, 'memory.limit_in_bytes'), String(r.memoryMiB! * 1048576));
      applied.memory = `memory.limit_in_bytes ${r.memoryMiB} MiB (cgroup v1)`;
    }
    if (r.cpuUnits !== undefined) {
      if (!cpuBase) applied.warnings.push(`cpu ${r.cpuUnits} units not applied: no cgroup v1 cpu hierarchy is mounted`);
      else {
        const dir = path.join(cpuBase, name);
        mkdirSync(dir, { recursive: true });
        dirs.push(dir);
        write(path.join(dir, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
        write(path.join(dir, 'cpu.cfs_quota_us'), String(Math.round((r.cpuUnits / 1024) * CPU_PERIOD_US)));
        applied.cpu = `cpu.cfs_quota_us ${(r.cpuUnits / 1024).toFixed(2)} CPU (cgroup v1)`;
      }
    }
  } catch (err) {
    removeDirs(dirs);
    return `cgroup v1: cannot make a cgroup below ${memoryBase ?? cpuBase} (${why(err)})`;
  }
  return { dirs, ...(memoryBase ? { memoryDir: dirs[0]! } : {}), applied };
}

/** Removes each directory, then the parents made for its name (`levels` of them) once they are empty. */
function removeDirs(dirs: string[], levels = 0): void {
  for (const d of [...dirs].reverse()) {
    for (let dir = d, i = 0; i <= levels; i++, dir = path.dirname(dir)) {
      try {
        rmdirSync(dir);
      } catch {
        break; // still has a process (being killed) or another replica: it stays
      }
    }
  }
}

/** How many directories above the process's own its name made (`deployer/<component>/<replica>`: 2). */
const depth = (name: string): number => name.split('/').length - 1;

/** `sh -c` that writes its own pid into each cgroup, then becomes the command. */
function joining(procsFiles: string[], command: string[]): string[] {
  const script = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@"';
  return ['/bin/sh', '-c', script, 'deployer-limits', String(procsFiles.length), ...procsFiles, ...command];
}

/** A counter counted from now: a cgroup left from an earlier process (its directory reused) does not count its kills. */
function since(count: () => number): () => number {
  const start = count();
  return () => count() - start;
}

/** A count out of `memory.events` (v2) or `memory.oom_control` (v1): the kernel's OOM kills in that cgroup. */
function oomKillsIn(file: string): number {
  try {
    const m = /oom_kill (\d+)/.exec(readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * The limits of one process named `name` (unique on this machine: component and replica), the
 * best way this machine allows. Nothing asked: no limits, no warnings.
 */
export function limitsFor(name: string, r: ResourceRequest, o: { cgroupRoot?: string; prlimit?: string | null } = {}): ProcessLimits {
  try {
    return bestLimits(name, r, o);
  } catch (err) {
    // Whatever the machine refused unforeseen, the process still starts: with what a process limit can do.
    return processLimits(
      r,
      [`the cgroups could not be used (${why(err)})`],
      o.prlimit === undefined ? findOnPath('prlimit') : (o.prlimit ?? undefined),
    );
  }
}

function bestLimits(name: string, r: ResourceRequest, o: { cgroupRoot?: string; prlimit?: string | null }): ProcessLimits {
  if (r.memoryMiB === undefined && r.cpuUnits === undefined)
    return { applied: { mechanism: 'none', warnings: [] }, command: (c) => c, oomKills: () => 0, release: () => undefined };
  const root = o.cgroupRoot ?? CGROUP_ROOT;
  const v2 = cgroupV2(root, name, r);
  if (typeof v2 !== 'string') {
    const procs = [path.join(v2.dir, 'cgroup.procs')];
    return {
      applied: v2.applied,
      command: (c) => joining(procs, c),
      oomKills: since(() => oomKillsIn(path.join(v2.dir, 'memory.events'))),
      release: () => removeDirs([v2.dir], depth(name)),
    };
  }
  const v1 = cgroupV1(root, name, r);
  if (typeof v1 !== 'string') {
    return {
      applied: v1.applied,
      command: (c) =>
        joining(
          v1.dirs.map((d) => path.join(d, 'cgroup.procs')),
          c,
        ),
      oomKills: since(() => (v1.memoryDir ? oomKillsIn(path.join(v1.memoryDir, 'memory.oom_control')) : 0)),
      release: () => removeDirs(v1.dirs, depth(name)),
    };
  }
  return processLimits(r, [v2, v1], o.prlimit === undefined ? findOnPath('prlimit') : (o.prlimit ?? undefined));
}

/** Without cgroups: the data segment for memory (prlimit), and a warning for each limit left out. */
function processLimits(r: ResourceRequest, reasons: string[], prlimit: string | undefined): ProcessLimits {
  const warnings: string[] = [];
  const applied: AppliedLimits = { mechanism: 'prlimit', warnings };
  const because = reasons.join('; ');
  if (r.cpuUnits !== undefined)
    warnings.push(`cpu ${r.cpuUnits} units not applied: no cgroup can be made (${because}); a process limit cannot share CPU`);
  if (r.memoryMiB !== undefined && !prlimit) {
    warnings.push(`memory ${r.memoryMiB} MiB not applied: no cgroup can be made (${because}) and prlimit is not on PATH`);
    return { applied: { ...applied, mechanism: 'none' }, command: (c) => c, oomKills: () => 0, release: () => undefined };
  }
  if (r.memoryMiB !== undefined) {
    applied.memory = `RLIMIT_DATA ${r.memoryMiB} MiB (prlimit)`;
    warnings.push(
      `memory ${r.memoryMiB} MiB applied as a process limit (RLIMIT_DATA), not a cgroup (${because}): an allocation over it fails instead of the kernel killing the process`,
    );
  }
  const bytes = (r.memoryMiB ?? 0) * 1048576;
  return {
    applied,
    command: (c) => (r.memoryMiB !== undefined && prlimit ? [prlimit, `--data=${bytes}`, '--', ...c] : c),
    oomKills: () => 0,
    release: () => undefined,
  };
}
